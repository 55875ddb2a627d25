"""``amurlink demo``: the main job (data in, every available analysis, the joint report out)."""

from __future__ import annotations

import time
from pathlib import Path

import typer

import amurlink.cli.report  # noqa: F401 - registers `amurlink report` (not in _COMMAND_MODULES yet)
from amurlink.cli import app
from amurlink.cli._common import handle_errors


@app.command("demo")
def demo_command(
    out: Path = typer.Option(Path("amurlink-demo"), "--out", "-o",
                             help="Folder to write the demo's reports into."),
) -> None:
    """Run the main job and write the joint report (English, Chinese, Russian)."""
    from rich.console import Console
    from rich.table import Table

    from amurlink.report.demo import run_demo

    console = Console()
    t0 = time.perf_counter()
    with handle_errors():
        res = run_demo(out, progress=lambda m: console.print(f"[dim]… {m}[/dim]"))
    total = time.perf_counter() - t0
    if res.source == "toy":
        console.print(
            "[yellow]The simulate -> import -> harmonise pipeline is not wired into the demo "
            "yet[/yellow] (not available: " + (", ".join(res.missing) or "none") + "). The demo "
            "ran on the bundled toy package (3 + 3 cameras) with a hand-made border instead of "
            "the simulated neaspec scenario; SECR, DNA and camera-trap sections say so.")
    table = Table(title="Per species (joint identities, adults)")
    for col in ("species", "photographed", "in both countries", "crossings",
                "farthest from border (km)"):
        table.add_column(col, justify="left" if col == "species" else "right")
    for r in res.summary.itertuples(index=False):
        far = "–" if r.farthest_km != r.farthest_km else f"{r.farthest_km:.1f}"
        table.add_row(str(r.scientificName), str(r.photographed), str(r.both_countries),
                      str(r.crossings), far)
    console.print(table)
    if res.links is not None and len(res.links):
        counts = res.links.groupby(["method", "status"]).size()
        parts = [f"{m} {s}: {n}" for (m, s), n in counts.items()]
        console.print("Links came from: " + "; ".join(parts))
    else:
        console.print("Links came from: none (no identity links in the data)")
    for name, path in res.reports.items():
        console.print(f"report {name}: {path}")
    stages = ", ".join(f"{k} {v:.2f} s" for k, v in res.timings.items())
    console.print(f"[dim]stages: {stages}; total {total:.1f} s[/dim]")
