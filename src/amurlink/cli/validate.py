"""``amurlink validate``: check Camtrap DP packages and print a report."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress

from amurlink.cli import app
from amurlink.cli._common import (
    EXIT_INVALID_DATA,
    EXIT_OK,
    FORMAT_OPTION,
    OutputFormat,
    emit_json,
    handle_errors,
    usage_error,
)
from amurlink.io import DEFAULT_MAX_BYTES, validate_camtrap_dp


@app.command("validate")
def validate_command(
    paths: list[Path] = typer.Argument(
        ..., help="Package folders, datapackage.json files or zips."
    ),
    fmt: OutputFormat = FORMAT_OPTION,
    max_file_size: int = typer.Option(
        DEFAULT_MAX_BYTES, "--max-file-size", min=1, help="Largest file inside a package, in bytes."
    ),
    limit: int = typer.Option(50, "--limit", min=0, help="Issues shown per package (text format)."),
) -> None:
    """Validate Camtrap DP packages (with amurlink's extension tables).

    Exit code 0 when every package is valid, 1 when any has errors, 2 on usage errors.
    """
    if not paths:
        raise usage_error("give at least one package path")
    reports = []
    with handle_errors():
        console = Console(stderr=True)
        show = fmt is OutputFormat.text and console.is_terminal
        with Progress(console=console, transient=True, disable=not show) as bar:
            for path in paths:
                task = bar.add_task(f"validating {path}", total=None)

                def _tick(done: int, total: int, _task=task) -> None:
                    bar.update(_task, completed=done, total=total)

                reports.append(validate_camtrap_dp(path, max_bytes=max_file_size, progress=_tick))
    ok = all(r.valid for r in reports)
    if fmt is OutputFormat.json:
        payload = [r.to_dict() for r in reports]
        emit_json(payload[0] if len(payload) == 1 else {"valid": ok, "packages": payload})
    else:
        for r in reports:
            typer.echo(r.to_text(limit=limit or None))
    raise typer.Exit(EXIT_OK if ok else EXIT_INVALID_DATA)
