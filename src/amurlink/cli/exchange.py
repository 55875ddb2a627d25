"""``amurlink exchange``: write a partner's exchange package, verify and import one."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import typer

from amurlink.cli import app
from amurlink.cli._common import (
    EXIT_OK,
    FORMAT_OPTION,
    OutputFormat,
    emit_json,
    handle_errors,
    usage_error,
)
from amurlink.config import load_config
from amurlink.exchange import MANIFEST_NAME, Agreement, export_exchange, import_exchange
from amurlink.io import DEFAULT_MAX_BYTES, read_camtrap_dp

__all__ = ["exchange_app"]

exchange_app = typer.Typer(
    name="exchange",
    help="Exchange packages for a partner: apply a sharing agreement and write a Camtrap DP "
    "package with a checksum manifest (export), or verify and import one (import).",
    no_args_is_help=True,
)
app.add_typer(exchange_app, name="exchange")


def _parse_day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise usage_error(f"--today must be a date like 2025-01-31, got {value!r}") from None


@exchange_app.command("export")
def export_command(
    package: Path = typer.Argument(..., help="The provider's Camtrap DP package (folder, "
                                   "datapackage.json or zip), with exact locations."),
    agreement_file: Path = typer.Option(..., "--agreement", "-a", help="Agreement TOML file "
                                        "([agreement]: species, tables, level, embargo_date)."),
    out: Path = typer.Option(..., "--output", "-o", help="Exchange package to write: a folder, "
                             "or a file ending in .zip."),
    config: Path | None = typer.Option(None, "--config", "-c", help="amurlink.toml whose "
                                       "[protection] rules apply (defaults otherwise)."),
    today: str | None = typer.Option(None, "--today", help="Date the agreement is applied on "
                                     "(YYYY-MM-DD; expiry and rolling embargo). Default: today."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing OUT."),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Apply an agreement to PACKAGE and write the partner's exchange package.

    Exit code 0 when written, 1 for invalid data or agreement, 2 on usage errors.
    """
    day = _parse_day(today)
    if out.exists() and not overwrite:
        raise usage_error(f"{out} exists; pass --overwrite to replace it")
    with handle_errors():
        agreement = Agreement.from_toml(agreement_file)
        policy = load_config(config).protection if config is not None else None
        dataset = read_camtrap_dp(package)
        written = export_exchange(dataset, agreement, out, today=day, policy=policy,
                                  overwrite=overwrite)
        result = import_exchange(written)  # read back: what the partner will receive
    summary = {"package": str(written), "manifest": MANIFEST_NAME, **{
        k: v for k, v in result.summary().items() if k not in ("source", "written")}}
    if fmt is OutputFormat.json:
        emit_json(summary)
    else:
        rows = ", ".join(f"{k} {v}" for k, v in summary["rowCounts"].items() if v)
        typer.echo(f"wrote {written} for {agreement.recipient or 'the recipient'} at level "
                   f"{agreement.level} ({summary['verifiedFiles']} files with SHA-256 in "
                   f"{MANIFEST_NAME}): {rows or 'no rows'}")
    raise typer.Exit(EXIT_OK)


@exchange_app.command("import")
def import_command(
    path: Path = typer.Argument(..., help="Exchange package folder or .zip."),
    out: Path | None = typer.Option(None, "--output", "-o", help="Folder to copy the verified "
                                    "package into (leave out to verify only)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a different package "
                                   "already in OUT."),
    max_file_size: int = typer.Option(DEFAULT_MAX_BYTES, "--max-file-size", min=1,
                                      help="Largest file inside the package, in bytes."),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Verify every checksum of an exchange package and the Camtrap DP package, then import it.

    A tampered or incomplete package is refused (exit code 1) and nothing is written.
    Importing the same package into the same folder again changes nothing.
    """
    with handle_errors():
        result = import_exchange(path, out, overwrite=overwrite, max_bytes=max_file_size)
    summary = result.summary()
    if fmt is OutputFormat.json:
        emit_json(summary)
    else:
        a = result.agreement
        created = summary.get("created") or "?"
        try:
            created = datetime.fromisoformat(str(created).replace("Z", "+00:00")) \
                .strftime("%Y-%m-%d %H:%M UTC")
        except ValueError:
            pass
        typer.echo(f"verified {summary['verifiedFiles']} files of {path} (created {created} "
                   f"by amurlink {(summary.get('software') or {}).get('version', '?')}; "
                   f"{a.provider or '?'} -> {a.recipient or '?'} at level {a.level})")
        if result.written is not None:
            typer.echo(f"imported into {result.written}")
    raise typer.Exit(EXIT_OK)
