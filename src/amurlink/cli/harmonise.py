"""``amurlink harmonise``: national packages and mappings into one joint Camtrap DP package."""

from __future__ import annotations

from pathlib import Path

import typer

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


@app.command("harmonise")
def harmonise_command(
    paths: list[Path] = typer.Argument(
        ..., help="Camtrap DP packages (folder, datapackage.json, zip), *.mapping.toml files "
        "or folders holding one mapping TOML."),
    config: Path = typer.Option(..., "--config", "-c", help="The study's amurlink.toml."),
    links: Path | None = typer.Option(
        None, "--links", help="Expert crosswalk CSV: <cc>_id columns, method, reviewer, date; "
        "stored as confirmed expert links."),
    output: Path = typer.Option(..., "--output", "-o", help="Folder of the joint package."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output."),
    fmt: OutputFormat = FORMAT_OPTION,
    limit: int = typer.Option(50, "--limit", min=0, help="Issues shown (text format)."),
) -> None:
    """Harmonise national datasets into one Camtrap DP package with a manifest.

    Writes DIR/datapackage.json with its CSVs, DIR/manifest.json (input hashes, software
    versions, config, link-set version) and DIR/record-flags.csv, and copies the study's
    amurlink.toml and border beside them, so `amurlink crossborder`, `report` and `links`
    work on DIR alone. Nothing is written when any input has errors. Exit code 0 on success,
    1 on invalid data, 2 on usage errors.
    """
    from amurlink.config import load_config
    from amurlink.harmonise import harmonise, write_harmonised
    from amurlink.study import resolve_source
    from amurlink.study.stages import place_beside

    if not paths:
        raise usage_error("give at least one package or mapping")
    if output.exists() and not overwrite:
        raise usage_error(f"{output} exists; pass --overwrite to replace it")
    with handle_errors():
        cfg = load_config(config)
        sources = [resolve_source(p) for p in paths]
        result = harmonise(*sources, config=cfg, links=links)
        written = None
        if result.report.valid:
            written = write_harmonised(result, output, overwrite=overwrite)
            border = cfg.inputs.path(cfg.inputs.border) if cfg.inputs.border else \
                cfg.border.file
            place_beside(written, config, border)
    report = result.report
    if fmt is OutputFormat.json:
        emit_json({**report.to_dict(), "output": str(written) if written else None,
                   "rows": result.manifest.get("rows", {}),
                   "independentEvents": result.manifest.get("independentEvents"),
                   "flags": result.manifest.get("flags")})
    else:
        typer.echo(report.to_text(limit=limit or None))
        if written is not None:
            rows = ", ".join(f"{k} {v}" for k, v in result.manifest.get("rows", {}).items())
            typer.echo(f"wrote {written} ({rows})")
        else:
            typer.echo("nothing written: fix the errors above", err=True)
    raise typer.Exit(EXIT_OK if written is not None else EXIT_INVALID_DATA)
