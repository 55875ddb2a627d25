"""``amurlink demo``: the main job (simulate, import, harmonise, analyse, report)."""

from __future__ import annotations

import math
from pathlib import Path

import typer

import amurlink.cli.report  # noqa: F401 - registers `amurlink report` (not in _COMMAND_MODULES yet)
from amurlink.cli import app
from amurlink.cli._common import handle_errors, usage_error

_SCENARIOS = ("neaspec", "small", "large")


_OUT = typer.Option(Path("amurlink-demo"), "--out", "-o",
                    help="Folder for sim/, joint/ and report/ (replaced if present).")
_SCENARIO = typer.Option("neaspec", "--scenario",
                         help="Simulated scenario: neaspec (the joint study's scale), small "
                              "(quick) or large.")
_SEED = typer.Option(None, "--seed", help="Simulation seed (default fixed).")
_TIMINGS = typer.Option(None, "--timings-json", help="Write per-stage timings to this JSON file.")
_SERIAL = typer.Option(False, "--serial",
                       help="Run every stage in this process (no child processes).")


@app.command("demo")
def demo_command(
    out: Path = _OUT,
    scenario: str = _SCENARIO,
    seed: int | None = _SEED,
    timings_json: Path | None = _TIMINGS,
    serial: bool = _SERIAL,
) -> None:
    """Simulate the neaspec study, harmonise China and Russia, run every analysis, report.

    Writes OUT/sim (the simulated national data), OUT/joint (the harmonised Camtrap DP
    package with its manifest) and OUT/report/{en,zh,ru,public-en}/report.html, and prints
    per species: photographed, recorded in both countries, crossings and the farthest
    distance from the border, beside the simulator's truth. A stage that fails is listed;
    the others still run. Exit code 0 when every stage ran, 1 when one failed.
    """
    from rich.console import Console
    from rich.table import Table

    from amurlink.report.demo import DEFAULT_SEED, run_demo, write_timings

    if scenario not in _SCENARIOS:
        raise usage_error(f"--scenario must be one of {', '.join(_SCENARIOS)}, got {scenario!r}")
    console = Console()
    with handle_errors():
        res = run_demo(out, scenario=scenario, seed=DEFAULT_SEED if seed is None else seed,
                       parallel=not serial,
                       progress=lambda m: console.print(f"[dim]… {m}[/dim]"))
    console.print(f"\n[bold]amurlink demo[/bold]: scenario {res.scenario}, seed {res.seed}")
    if res.summary is not None:
        table = Table(title="Per species: joint adult identities (truth: the simulator's)")
        for col in ("species", "photographed", "both countries", "crossings", "farthest km",
                    "truth: photo / both / crossers"):
            table.add_column(col, justify="left" if col == "species" else "right")
        for r in res.summary.to_dict("records"):
            far = "–" if not math.isfinite(r["farthest_km"]) else f"{r['farthest_km']:.1f}"
            truth = (f"{r['true_photographed']} / {r['true_both_countries']} / "
                     f"{r['true_crossers']}" if "true_crossers" in r else "–")
            table.add_row(str(r["scientificName"]).replace("Panthera", "P."),
                          str(r["photographed"]),
                          str(r["both_countries"]), str(r["crossings"]), far, truth)
        console.print(table)
    if res.link_sources is not None and len(res.link_sources):
        parts = [f"{r.method} {r.status}: {r.links}" for r in res.link_sources.itertuples()]
        console.print("Links came from: " + "; ".join(parts))
    else:
        console.print("Links came from: none (no identity links in the joint data)")
    cw = res.crosswalk
    if cw:
        console.print(f"Expert crosswalk: {cw.get('rows', 0)} rows, {cw.get('stored', 0)} "
                      f"stored as confirmed links, {len(cw.get('refused', []))} refused")
        for msg in cw.get("refused", []):
            console.print(f"  [yellow]refused[/yellow] {msg}")
    summary = (res.photo_links or {}).get("species")
    if summary is not None and len(summary):
        t = summary if "scientificName" in summary else \
            summary.rename_axis("scientificName").reset_index()
        for r in t.itertuples():
            line = (f"Photo links {r.scientificName}: {r.agreements} agree with the crosswalk, "
                    f"{r.false_proposals} not in it, {r.misses} crosswalk links not found")
            if r.photo_precision_truth == r.photo_precision_truth:  # not NaN: truth known
                line += (f"; against the truth precision {r.photo_precision_truth:.2f}, "
                         f"recall {r.photo_recall_truth:.2f}")
            console.print(line)
    for label, fit in res.secr.items():
        try:
            parts = []
            for name, r in {"joint": fit.joint, **dict(fit.national)}.items():
                d = r.predict().loc["D"]
                parts.append(f"{name} {d['estimate'] * 1e4:.2f} "
                             f"({d['lcl'] * 1e4:.2f}-{d['ucl'] * 1e4:.2f})")
            console.print(f"SECR {label}: D per 100 km²: " + "; ".join(parts))
        except Exception:  # noqa: BLE001 - the report shows the fit anyway
            console.print(f"SECR {label}: fitted (see the report)")
    skipped = res.secr_not_fitted
    if skipped is not None:
        for r in skipped.itertuples():
            console.print(f"SECR {r.scientificName}: not fitted ({r.reason}; "
                          f"{r.animals} animals, {r.recaptures} recaptures)")
    for name, path in res.reports.items():
        console.print(f"report {name}: {path}")
    if res.failed:
        for name, why in res.failed.items():
            console.print(f"[red]stage {name} {why}[/red]")
    if res.warnings:
        console.print(f"[yellow]{len(res.warnings)} kind(s) of warning while running[/yellow]"
                      " (first: " + res.warnings[0] + ")")
    stages = Table(title="Stage timings (s)")
    stages.add_column("stage")
    stages.add_column("seconds", justify="right")
    stages.add_column("status")
    for name, sec in res.timings.items():
        where = " (in parallel)" if name in res.background else ""
        stages.add_row(name + where, f"{sec:.2f}", res.stages.get(name, "ok"))
    stages.add_row("total", f"{res.total_s:.2f}", "")
    console.print(stages)
    if timings_json is not None:
        write_timings(res, timings_json)
        console.print(f"timings: {timings_json}")
    raise typer.Exit(1 if res.failed else 0)
