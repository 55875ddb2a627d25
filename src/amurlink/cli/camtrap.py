"""``amurlink camtrap``: effort, records, detection histories, activity and exports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer

from amurlink.cli import app
from amurlink.cli._common import (
    FORMAT_OPTION,
    OutputFormat,
    emit_json,
    handle_errors,
    table_text,
    usage_error,
)

camtrap_app = typer.Typer(help="Camera-trap analyses with camtrapR's semantics.",
                          no_args_is_help=True)
app.add_typer(camtrap_app, name="camtrap")

PACKAGE = typer.Argument(..., help="Camtrap DP package (folder, datapackage.json or zip).")
THRESHOLD = typer.Option(30.0, "--threshold-min", help="Independence threshold in minutes.")


def _load(package: Path):
    from amurlink.analysis.camtrap import camera_operation, record_table, station_table
    from amurlink.analysis.quality import analysis_dataset
    from amurlink.io import read_camtrap_dp

    # records flagged as outside their deployment (a clock a year off), before set-up, after
    # retrieval or duplicated are left out, as in every analysis (docs/harmonise.md)
    ds = analysis_dataset(read_camtrap_dp(package))
    st = station_table(ds)
    problems = any(c.startswith("Problem") for c in st.columns)
    camop = camera_operation(st, station_col="Camera", has_problems=problems,
                             date_format="ymd HMS")
    return ds, st, camop, record_table


def _frame_out(frame, fmt: OutputFormat, *, index: bool = True) -> None:
    if fmt is OutputFormat.json:
        f = frame.reset_index() if index else frame
        f = f.astype(object).where(f.notna(), None)
        emit_json(f.to_dict(orient="records"))
    else:
        typer.echo(table_text(frame))


@camtrap_app.command("effort")
def effort_command(package: Path = PACKAGE, fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Camera operation matrix (deployment x local day; NaN = not set up, 0 = not working)."""
    with handle_errors():
        _, _, camop, _ = _load(package)
    _frame_out(camop, fmt)


@camtrap_app.command("records")
def records_command(package: Path = PACKAGE, threshold_min: float = THRESHOLD,
                    fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Independent records as a camtrapR record table (local clock times)."""
    with handle_errors():
        ds, _, _, record_table = _load(package)
        rec = record_table(ds, threshold_min=threshold_min).drop(columns=["eventStart"])
    _frame_out(rec, fmt, index=False)


@camtrap_app.command("history")
def history_command(package: Path = PACKAGE,
                    species: str = typer.Option(..., "--species", help="Scientific name."),
                    occasion_length: int = typer.Option(7, "--occasion-length", min=1),
                    day1: str = typer.Option("station", "--day1"),
                    threshold_min: float = THRESHOLD,
                    fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Detection history and effort for one species (NaN where there was no effort)."""
    from amurlink.analysis.camtrap import detection_history

    with handle_errors():
        ds, _, camop, record_table = _load(package)
        rec = record_table(ds, threshold_min=threshold_min)
        rec = rec.assign(Station=rec["Camera"])
        if species not in set(rec["Species"]):
            raise usage_error(f"species {species!r} has no records in {package}")
        dh = detection_history(rec, camop, species=species, occasion_length=occasion_length,
                               day1=day1)
    if fmt is OutputFormat.json:
        def plain(f):
            return {str(i): [None if np.isnan(v) else float(v) for v in row]
                    for i, row in zip(f.index, f.to_numpy(dtype=float), strict=True)}
        emit_json({"occasions": list(dh.detection_history.columns),
                   "detection_history": plain(dh.detection_history),
                   "effort": plain(dh.effort)})
    else:
        typer.echo(table_text(dh.detection_history))
        typer.echo("\neffort (days):")
        typer.echo(table_text(dh.effort))


@camtrap_app.command("activity")
def activity_command(package: Path = PACKAGE,
                     species: list[str] = typer.Option(..., "--species",  # noqa: B008
                                                       help="Give two for the overlap."),
                     threshold_min: float = THRESHOLD,
                     fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Hourly activity of one species, or the overlap (Dhat1/4/5) of two."""
    from amurlink.analysis.camtrap import activity_radial, overlap_estimates, to_radians

    with handle_errors():
        ds, _, _, record_table = _load(package)
        rec = record_table(ds, threshold_min=threshold_min)
        times = {s: rec.loc[rec["Species"] == s, "DateTimeOriginal"] for s in species}
        if len(species) == 1:
            out = activity_radial(times[species[0]])
            _frame_out(out, fmt, index=False)
            return
        if len(species) != 2:
            raise usage_error("give --species once (activity) or twice (overlap)")
        est = overlap_estimates(to_radians(times[species[0]]), to_radians(times[species[1]]))
    payload = {"species": species, "n": [len(times[s]) for s in species], **est}
    if fmt is OutputFormat.json:
        emit_json(payload)
    else:
        typer.echo("  ".join(f"{k}={v}" for k, v in payload.items()))


@camtrap_app.command("export")
def export_command(package: Path = PACKAGE,
                   to: str = typer.Option(..., "--to", help="dwc, camtrapr, gpkg or xlsx."),
                   out: Path = typer.Option(..., "-o", "--out", help="Output folder."),  # noqa: B008
                   threshold_min: float = THRESHOLD,
                   incidents: Path = typer.Option(  # noqa: B008
                       None, "--incidents",
                       help="dwc: also the occurrences of a folder of incident tables "
                            "(claimants are never read)."),
                   fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Export the package for its owner (through the protection gate)."""
    from amurlink.io import read_camtrap_dp
    from amurlink.io.export import write_camtrapr, write_dwc, write_geopackage, write_xlsx

    if to not in ("dwc", "camtrapr", "gpkg", "xlsx"):
        raise usage_error(f"--to must be dwc, camtrapr, gpkg or xlsx, got {to!r}")
    if incidents is not None and to != "dwc":
        raise usage_error("--incidents goes with --to dwc only")
    with handle_errors():
        ds = read_camtrap_dp(package)
        out.mkdir(parents=True, exist_ok=True)
        if to == "dwc":
            books = None
            if incidents is not None:
                from amurlink.incidents.imports import read_incident_folder

                books = read_incident_folder(incidents)  # claimants.csv is not read
            paths = write_dwc(ds, out, incidents=books)
        elif to == "camtrapr":
            paths = write_camtrapr(ds, out, threshold_min=threshold_min)
        elif to == "gpkg":
            paths = {"gpkg": write_geopackage(ds, out / "stations.gpkg",
                                              threshold_min=threshold_min)}
        else:
            from amurlink.analysis.camtrap import record_table, station_table
            from amurlink.core.protection import Audience, ProtectionPolicy
            from amurlink.release import release

            safe = release(ds, audience=Audience.owner(), policy=ProtectionPolicy()).dataset
            tabs = {"stations": station_table(safe),
                    "records": record_table(safe, threshold_min=threshold_min)
                    .drop(columns=["eventStart"])}
            try:
                paths = {"xlsx": write_xlsx(tabs, out / "camtrap.xlsx")}
            except ImportError as exc:
                typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
                raise typer.Exit(1) from None
    files = {k: str(v) for k, v in paths.items()}
    if fmt is OutputFormat.json:
        emit_json(files)
    else:
        for k, v in files.items():
            typer.echo(f"{k}: {v}")
