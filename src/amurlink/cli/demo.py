"""``amurlink demo``: simulate a study into a study folder, then ``amurlink run`` it."""

from __future__ import annotations

from pathlib import Path

import typer

import amurlink.cli.report  # noqa: F401 - registers `amurlink report` (not in _COMMAND_MODULES yet)
from amurlink.cli import app
from amurlink.cli._common import handle_errors, usage_error

_SCENARIOS = ("neaspec", "small", "large")


_OUT = typer.Option(Path("amurlink-demo"), "--out", "-o",
                    help="Folder for sim/ (the study), joint/, report/ and run-record.json.")
_SCENARIO = typer.Option("neaspec", "--scenario",
                         help="Simulated scenario: neaspec (the joint study's scale), small "
                              "(quick) or large.")
_SEED = typer.Option(None, "--seed", help="Simulation seed (default fixed).")
_TIMINGS = typer.Option(None, "--timings-json", help="Write per-stage timings to this JSON file.")
_SERIAL = typer.Option(False, "--serial",
                       help="Run every stage in this process (no child processes).")
_SCHEDULER = typer.Option(None, "--scheduler", help="Dask scheduler address for the heavy "
                          "stages (photo features, SECR fits).")
_SKIP = typer.Option([], "--skip", help="Leave out this stage (repeatable; written into the "
                     "study's amurlink.toml as run.skip), e.g. --skip design --skip "
                     "'secr models'.")


@app.command("demo")
def demo_command(
    out: Path = _OUT,
    scenario: str = _SCENARIO,
    seed: int | None = _SEED,
    timings_json: Path | None = _TIMINGS,
    serial: bool = _SERIAL,
    scheduler: str | None = _SCHEDULER,
    skip: list[str] = _SKIP,
) -> None:
    """Simulate the neaspec study into OUT/sim and run it (`amurlink run OUT/sim -o OUT`).

    OUT/sim is a study folder: the national data and an amurlink.toml whose \\[inputs] names
    them. The run writes OUT/joint (the harmonised Camtrap DP package with its manifest and
    link log), OUT/report/{en,zh,ru,public-en}/report.html and OUT/run-record.json, and
    prints per species: photographed, recorded in both countries, crossings and the
    farthest distance from the border, beside the simulator's truth. A stage that fails is
    listed; the others still run. Exit code 0 when every stage ran, 1 when one failed.
    """
    from rich.console import Console

    from amurlink.cli.run import Progress, print_summary
    from amurlink.study.analyses import DEFAULT_SEED
    from amurlink.study.demo import run_demo, write_timings

    if scenario not in _SCENARIOS:
        raise usage_error(f"--scenario must be one of {', '.join(_SCENARIOS)}, got {scenario!r}")
    console = Console()
    with handle_errors(), Progress(console) as prog:
        res = run_demo(out, scenario=scenario, seed=DEFAULT_SEED if seed is None else seed,
                       parallel=not serial, scheduler=scheduler, skip=tuple(skip),
                       progress=prog)
    console.print(f"\n[bold]amurlink demo[/bold]: scenario {res.scenario}, seed {res.seed} "
                  f"(study folder {out / 'sim'})", highlight=False)
    print_summary(console, res)
    for name, path in res.reports.items():
        console.print(f"report {name}: {path}", highlight=False)
    if timings_json is not None:
        write_timings(res, timings_json)
        console.print(f"timings: {timings_json}", highlight=False)
    raise typer.Exit(1 if res.failed else 0)
