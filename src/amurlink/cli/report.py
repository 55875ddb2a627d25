"""``amurlink report``: the joint transboundary report of a joint folder."""

from __future__ import annotations

import enum
from pathlib import Path

import typer

from amurlink.cli import app
from amurlink.cli._common import FORMAT_OPTION, OutputFormat, emit_json, handle_errors
from amurlink.exceptions import AmurlinkError
from amurlink.report.inputs import ReportInputs


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
    agreement: Path | None = typer.Option(
        None, "--agreement",
        help="Sharing agreement (TOML) the report is for: a partner report cut to its species, "
             "tables, level and embargo (implies --audience partner)."),
    camtrap: bool = typer.Option(
        True, "--camtrap/--no-camtrap",
        help="Compute the camera-trap section (effort, relative abundance, activity)."),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Write DIR/report.html (self-contained), tables as CSV, results as GeoPackage, PDF."""
    from amurlink.report import load_report_inputs, prepare_inputs, write_report
    from amurlink.report.render import find_chromium

    with handle_errors():
        if pdf:
            find_chromium()
        # the records every analysis uses, so the camera-trap tables count what the rest does
        inputs = prepare_inputs(load_report_inputs(joint_dir))
        if camtrap:
            inputs = _with_camtrap(inputs)
        terms = None
        who: object = audience.value
        if agreement is not None:
            from amurlink.exchange import Agreement

            terms = Agreement.from_toml(agreement)
            terms.check_in_force()
            who = terms.audience
            audience = AudienceKind.partner
        files = write_report(inputs, out, lang=lang.value, audience=who, pdf=pdf,
                             agreement=terms)
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


def _with_camtrap(inputs: ReportInputs) -> ReportInputs:
    """The inputs with camera-trap results; a failure is stated in the report, not fatal."""
    import dataclasses
    import logging

    from amurlink.report.demo import camtrap_tables

    try:
        tables = camtrap_tables(inputs.dataset)
    except AmurlinkError as exc:
        logging.getLogger(__name__).warning(
            "the camera-trap section is left empty because its analyses failed (%s); correct "
            "the data named there, or pass --no-camtrap to leave the section out", exc)
        missing = {**inputs.missing, "camtrap": f"camera-trap analyses failed: {exc}"}
        return dataclasses.replace(inputs, missing=missing)
    return dataclasses.replace(inputs, camtrap=tables)
