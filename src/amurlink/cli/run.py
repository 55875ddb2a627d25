"""``amurlink run [STUDY]``: the main job on a study folder (import, harmonise, link, analyse,
report), rerunning only what changed."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import typer

from amurlink.cli import app
from amurlink.cli._common import (
    FORMAT_OPTION,
    OutputFormat,
    emit_json,
    handle_errors,
)

_STUDY = typer.Argument(Path("."), help="Study folder (holding amurlink.toml with \\[inputs]), "
                        "or the amurlink.toml itself. Default: the current folder.")
_OUT = typer.Option(None, "--out", "-o", help="Output folder (default STUDY/output): joint/, "
                    "report/<name>/, run-record.json.")
_SCHEDULER = typer.Option(None, "--scheduler", help="Address of a Dask distributed scheduler "
                          "(tcp://host:8786): photo features and SECR fits run on its workers.")
_SERIAL = typer.Option(False, "--serial", help="Run every stage in this process.")
_FORCE = typer.Option(False, "--force", help="Run every stage even when nothing changed.")
_ONLY = typer.Option(None, "--only", help="Run only this stage (and what it needs); repeat.")


class Progress:
    """Live progress: one line per finished stage, a spinner naming the running ones."""

    def __init__(self, console: Any, quiet: bool = False) -> None:
        self.console = console
        self.quiet = quiet
        self.running: dict[str, float] = {}
        self.status: Any = None

    def __enter__(self) -> Progress:
        if not self.quiet:
            self.status = self.console.status("starting", spinner="dots")
            self.status.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.status is not None:
            self.status.__exit__(*exc)

    def __call__(self, stage: str, status: str) -> None:
        if self.quiet:
            return
        if status == "running":
            self.running[stage] = time.perf_counter()
        else:
            t0 = self.running.pop(stage, None)
            took = f" {time.perf_counter() - t0:.1f} s" if t0 is not None else ""
            mark = {"ok": "[green]✓[/green]", "cached": "[dim]=[/dim]"}.get(
                status, "[red]✗[/red]" if status.startswith("failed") else "[dim]-[/dim]")
            text = status if status not in ("ok", "cached") else \
                ("unchanged" if status == "cached" else "done")
            from rich.markup import escape

            self.console.print(f"{mark} {escape(f'{stage}: {text}{took}')}", markup=True,
                               highlight=False)
        if self.status is not None:
            names = ", ".join(self.running) or "checking"
            self.status.update(f"running: {names}")


def print_summary(console: Any, result: Any, *, truth_columns: bool = True) -> None:
    """The closing summary of a run (or the demo): answer first, then stages and files."""
    from rich.markup import escape
    from rich.table import Table

    summaries = result.summaries
    cb = summaries.get("crossborder", {}).get("species", [])
    if cb:
        table = Table(title="Per species: joint adult identities", title_justify="left")
        truth = truth_columns and any("true_crossers" in r for r in cb)
        cols = ["species", "photographed", "both countries", "crossings", "farthest km"]
        if truth:
            cols.append("truth: photo / both / crossers")
        for col in cols:
            table.add_column(col, justify="left" if col == "species" else "right")
        for r in cb:
            far = r.get("farthest_km")
            far_s = "–" if far is None or not math.isfinite(far) else f"{far:.1f}"
            row = [str(r["scientificName"]).replace("Panthera", "P."), str(r["photographed"]),
                   str(r["both_countries"]), str(r["crossings"]), far_s]
            if truth:
                row.append(f"{r.get('true_photographed')} / {r.get('true_both_countries')} / "
                           f"{r.get('true_crossers')}")
            table.add_row(*row)
        console.print(table)
    h = summaries.get("harmonise", {})
    ls = h.get("linkSources", [])
    if ls:
        console.print("Links came from: " + "; ".join(
            f"{r['method']} {r['status']}: {r['links']}" for r in ls))
    elif h:
        console.print("Links came from: none (no identity links in the joint data)")
    cw = h.get("crosswalk") or {}
    if cw:
        console.print(f"Expert crosswalk: {cw.get('rows', 0)} rows, {cw.get('stored', 0)} "
                      f"stored as confirmed links, {len(cw.get('refused', []))} refused")
        for msg in cw.get("refused", []):
            console.print(f"  [yellow]refused[/yellow] {escape(msg)}", highlight=False)
    if h.get("carriedOver"):
        console.print(f"Link decisions carried over from the previous joint package: "
                      f"{h['carriedOver']} events")
    for r in summaries.get("photo comparison", {}).get("species", []):
        line = (f"Photo links {r['scientificName']}: {r['agreements']} agree with the "
                f"crosswalk, {r['false_proposals']} not in it, {r['misses']} crosswalk links "
                "not found")
        if r.get("photo_precision_truth") is not None:
            line += (f"; against the truth precision {r['photo_precision_truth']:.2f}, "
                     f"recall {r['photo_recall_truth']:.2f}")
        console.print(line)
    secr = summaries.get("secr", {})
    for s in secr.get("fitted", []):
        parts = [f"{f['fit']} {f['D_per_100km2']:.2f} ({f['lcl']:.2f}-{f['ucl']:.2f})"
                 for f in s.get("fits", [])]
        console.print(f"SECR {s['species']}: animals per 100 km²: " + "; ".join(parts))
    for s in secr.get("not_fitted", []):
        console.print(f"SECR {s['species']}: not fitted ({s['reason']}; {s['animals']} "
                      f"animals, {s['recaptures']} recaptures)")
    dna = summaries.get("dna", {})
    if dna:
        console.print(f"DNA: {dna.get('samples')} field samples, {dna.get('individuals')} "
                      "individuals")
    lp = summaries.get("link proposals", {})
    if lp:
        console.print(f"Link proposals stored for review: {lp.get('photo', 0)} by photo, "
                      f"{lp.get('dna', 0)} by DNA (amurlink links list JOINT --status "
                      "proposed)")
    stages = Table(title="Stages", title_justify="left")
    for col in ("stage", "status", "seconds"):
        stages.add_column(col, justify="right" if col == "seconds" else "left",
                          overflow="fold")
    for name, status in result.stages.items():
        sec = result.timings.get(name)
        where = " (in parallel)" if name in result.background else ""
        stages.add_row(escape(name + where), escape(status),
                       "" if sec is None else f"{sec:.2f}")
    stages.add_row("total", "", f"{result.total_s:.2f}")
    console.print(stages)
    if result.warnings:
        # each says which stage, what happened and what to do (no class names)
        console.print(f"[yellow]Warnings ({len(result.warnings)})[/yellow]", highlight=False)
        for w in result.warnings:
            console.print(f"  [yellow]![/yellow] {escape(w)}", highlight=False)


@app.command("run")
def run_command(
    study: Path = _STUDY,
    out: Path | None = _OUT,
    scheduler: str | None = _SCHEDULER,
    serial: bool = _SERIAL,
    force: bool = _FORCE,
    only: list[str] | None = _ONLY,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Run a study: import, harmonise, link, analyse (cross-border, SECR, DNA, camera-trap),
    report.

    Reads STUDY/amurlink.toml and the files its \\[inputs] names (docs/study.md); writes
    OUT/joint (the joint package and its link log), OUT/report/<name>/ per report wanted and
    OUT/run-record.json (per stage: input hashes, versions, timing, status). A rerun does
    only what changed; link decisions made in OUT/joint are kept when it is rebuilt. A stage
    that fails is listed and the stages that do not need it still run. Exit code 0 when
    every stage ran or was unchanged, 1 when one failed, 2 on usage errors.
    """
    from rich.console import Console

    from amurlink.study import run_study

    console = Console(stderr=fmt is OutputFormat.json)
    with handle_errors(), Progress(console, quiet=fmt is OutputFormat.json) as prog:
        result = run_study(study, out_dir=out, scheduler=scheduler, parallel=not serial,
                           force=force, only=tuple(only) if only else None, progress=prog)
    if fmt is OutputFormat.json:
        emit_json({"study": str(result.study.folder), "output": str(result.study.out_dir),
                   "record": str(result.record), "stages": result.stages,
                   "timings": {k: round(v, 3) for k, v in result.timings.items()},
                   "cpu": {k: round(v, 3) for k, v in result.cpu.items()},
                   "summaries": result.summaries, "total": round(result.total_s, 3)})
    else:
        console.print(f"\n[bold]amurlink run[/bold]: {result.study.folder} -> "
                      f"{result.study.out_dir}", highlight=False)
        print_summary(console, result)
        console.print(f"run record: {result.record}", highlight=False)
    raise typer.Exit(1 if result.failed else 0)
