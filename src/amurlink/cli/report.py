"""``amurlink report``: the joint transboundary report of a joint folder."""

from __future__ import annotations

import enum
from pathlib import Path

import typer

from amurlink.cli import app
from amurlink.cli._common import FORMAT_OPTION, OutputFormat, emit_json, handle_errors


class Lang(enum.StrEnum):
    en = "en"
    zh = "zh"
    ru = "ru"


class AudienceKind(enum.StrEnum):
    owner = "owner"
    partner = "partner"
    public = "public"


@app.command("report")
def report_command(
    joint_dir: Path = typer.Argument(..., help="Joint folder: a Camtrap DP package, with "
                                     "amurlink.toml, border.geojson and manifest.json beside it "
                                     "where available."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write the report into."),
    lang: Lang = typer.Option(Lang.en, "--lang", help="Report language."),
    audience: AudienceKind = typer.Option(
        AudienceKind.owner, "--audience",
        help="Who reads it: every location is protected for this audience first."),
    pdf: bool = typer.Option(False, "--pdf", help="Also print a dated A4 PDF (needs chromium)."),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Write DIR/report.html (self-contained), tables as CSV, results as GeoPackage, PDF."""
    from amurlink.report import load_report_inputs, write_report
    from amurlink.report.render import find_chromium

    with handle_errors():
        if pdf:
            find_chromium()
        inputs = load_report_inputs(joint_dir)
        files = write_report(inputs, out, lang=lang.value, audience=audience.value, pdf=pdf)
    payload = {"html": str(files.html), "csv": [str(p) for p in files.csv],
               "gpkg": str(files.gpkg) if files.gpkg else None,
               "pdf": str(files.pdf) if files.pdf else None,
               "lang": lang.value, "audience": audience.value}
    if fmt is OutputFormat.json:
        emit_json(payload)
        return
    typer.echo(f"report: {files.html}")
    typer.echo(f"tables: {len(files.csv)} CSV files in {files.html.parent / 'tables'}")
    typer.echo(f"results: {files.gpkg}")
    if files.pdf:
        typer.echo(f"pdf: {files.pdf}")
