"""``amurlink incidents``: conflict, disease and patrol records: import, warnings, summaries."""

from __future__ import annotations

from pathlib import Path

import typer

from amurlink.cli import app
from amurlink.cli._common import FORMAT_OPTION, OutputFormat, emit_json, handle_errors, usage_error

incidents_app = typer.Typer(
    help="Human-animal conflict, disease and patrol records (SMART, EarthRanger, CSV).",
    no_args_is_help=True,
)
app.add_typer(incidents_app, name="incidents")
import_app = typer.Typer(help="Import field teams' exports into incident tables.",
                         no_args_is_help=True)
incidents_app.add_typer(import_app, name="import")

COUNTRY = typer.Option(..., "--country", help="ISO code of the country whose records these are.")
OUT = typer.Option(..., "--output", "-o", help="Folder to write the incident tables (CSV) into.")
CATEGORIES = typer.Option(None, "--categories",
                          help="TOML category map ([categories.incidents], "
                               "[categories.findings], [species], [attributes]).")


def _records(frame) -> list[dict]:
    f = frame.astype(object).where(frame.notna(), None)
    return f.to_dict(orient="records")


def _write(result, out: Path, fmt: OutputFormat) -> None:
    from amurlink.incidents.imports import write_incident_tables

    write_incident_tables(result.tables, out)
    counts = {name: len(frame) for name, frame in result.tables.items()}
    if fmt is OutputFormat.json:
        emit_json({"source": result.source, "tables": counts, "skipped": dict(result.skipped)})
        return
    for name, n in counts.items():
        typer.echo(f"{name}: {n} rows -> {out.name}/{name}.csv")
    for key, n in sorted(result.skipped.items()):
        typer.echo(f"not imported: {n} record(s) of category {key!r} (add it to a "
                   "--categories map to import it)")


def _categories(path: Path | None):
    from amurlink.incidents.imports import DEFAULT_CATEGORY_MAP, CategoryMap

    return DEFAULT_CATEGORY_MAP if path is None else CategoryMap.from_toml(path)


@import_app.command("smart")
def import_smart(bundle: Path = typer.Argument(..., help="SMART smart-able bundle folder."),
                 country: str = COUNTRY, output: Path = OUT,
                 categories: Path | None = CATEGORIES,
                 fmt: OutputFormat = FORMAT_OPTION) -> None:
    """SMART patrols and observations (smart-able bundle: patrols.json, tracks.json)."""
    from amurlink.incidents.imports import import_smart_bundle

    with handle_errors():
        result = import_smart_bundle(bundle, country=country.upper(),
                                     categories=_categories(categories))
        _write(result, output, fmt)


@import_app.command("earthranger")
def import_earthranger(events: Path = typer.Argument(..., help="EarthRanger events (JSON)."),
                       country: str = COUNTRY, output: Path = OUT,
                       categories: Path | None = CATEGORIES,
                       fmt: OutputFormat = FORMAT_OPTION) -> None:
    """EarthRanger events (a JSON list or an API page with 'results')."""
    from amurlink.incidents.imports import import_earthranger_events

    with handle_errors():
        result = import_earthranger_events(events, country=country.upper(),
                                           categories=_categories(categories))
        _write(result, output, fmt)


def _read_all(folders: list[Path]):
    import pandas as pd

    from amurlink.incidents.imports import read_incident_folder

    parts: dict[str, list] = {}
    for folder in folders:
        for name, frame in read_incident_folder(folder).items():
            parts.setdefault(name, []).append(frame)
    return {name: pd.concat(frames, ignore_index=True) for name, frames in parts.items()}


@incidents_app.command("summary")
def summary_command(
    folders: list[Path] = typer.Argument(..., help="Folders of incident tables (one per "
                                                    "country)."),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Incidents per country and year, compensation per currency, disease prevalence, patrols.

    Personal data (claimants) is never read.
    """
    from amurlink.incidents import compensation_summary, incident_counts, patrol_effort, prevalence

    with handle_errors():
        tables = _read_all(folders)
        out: dict[str, object] = {}
        unmatched = 0
        if "incidents" in tables:
            inc = tables["incidents"]
            out["incidents"] = incident_counts(inc, by=("countryCode", "year", "category"))
            out["compensation"] = compensation_summary(inc)
        if "diseaseTests" in tables:
            out["prevalence"] = prevalence(tables["diseaseTests"])
        if "patrols" in tables:
            import pandas as pd

            findings = tables.get("patrolFindings", pd.DataFrame(
                {"findingID": [], "patrolID": [], "category": [], "count": []}))
            known = findings["patrolID"].isin(tables["patrols"]["patrolID"])
            unmatched = int((~known).sum())
            out["patrols"] = patrol_effort(tables["patrols"], findings.loc[known])
        elif "patrolFindings" in tables:
            unmatched = len(tables["patrolFindings"])
    if fmt is OutputFormat.json:
        emit_json({**{k: _records(v) for k, v in out.items()},
                   "findings_without_patrol": unmatched})
        return
    titles = {"incidents": "Incidents per country, year and category",
              "compensation": "Compensation paid (per currency; never added across currencies)",
              "prevalence": "Disease prevalence (exact 95% interval)",
              "patrols": "Patrol effort and snares found per 100 km"}
    for key, frame in out.items():
        typer.echo(f"\n{titles[key]}")
        typer.echo(frame.to_string(index=False) if len(frame) else "  (none)")
    if unmatched:
        typer.echo(f"\n{unmatched} patrol finding(s) name a patrol that is not in the patrols "
                   "table, so they count in no effort figure; import the patrols too")


@incidents_app.command("warnings")
def warnings_command(
    package: Path = typer.Argument(..., help="Camtrap DP package (folder, datapackage.json or "
                                             "zip) with the camera detections."),
    settlements: Path = typer.Option(..., "--settlements",
                                     help="CSV of villages: name, longitude, latitude."),
    levels_km: str = typer.Option("0,1;1,2;3,5", "--levels-km",
                                  help="Warning bands in km, level 1 first: 'low,high;...'. "
                                       "The last band includes its upper edge."),
    species: list[str] = typer.Option(["Panthera tigris", "Panthera pardus"], "--species"),
    crs: str = typer.Option("EPSG:32652", "--crs", help="Projected CRS for distances."),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Village warnings per month from independent camera detections of tigers and leopards.

    Prints counts only: no station position or distance leaves this command.
    """
    import pandas as pd

    from amurlink.analysis.events import independent_events
    from amurlink.incidents import parse_warning_levels, village_warnings, warnings_per_month
    from amurlink.io import read_camtrap_dp

    try:
        edges = [[float(v) for v in band.split(",")] for band in levels_km.split(";")]
    except ValueError:
        raise usage_error(f"--levels-km {levels_km!r}: expected 'low,high;low,high;...' in km"
                          ) from None
    with handle_errors():
        levels = parse_warning_levels(edges)
        try:
            villages = pd.read_csv(settlements)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise usage_error(f"{settlements.name}: cannot read the villages CSV ({exc})"
                              ) from None
        ds = read_camtrap_dp(package)
        obs = ds.observations
        obs = obs.loc[obs["scientificName"].isin(species)]
        ev = independent_events(obs, per_individual=False)
        ev = ev.loc[ev["independent"]]
        dep = ds.deployments.set_index("deploymentID")[["longitude", "latitude"]]
        det = pd.DataFrame({
            "timestamp": ev["eventStart"].to_numpy(),
            "scientificName": ev["scientificName"].astype(object).to_numpy(),
            "longitude": ev["deploymentID"].map(dep["longitude"]).to_numpy(dtype=float),
            "latitude": ev["deploymentID"].map(dep["latitude"]).to_numpy(dtype=float),
        })
        monthly = warnings_per_month(village_warnings(det, villages, levels=levels, crs=crs))
    if fmt is OutputFormat.json:
        emit_json(_records(monthly))
        return
    typer.echo(monthly.to_string(index=False) if len(monthly) else "no warnings")
