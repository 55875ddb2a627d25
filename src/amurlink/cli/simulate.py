"""``amurlink simulate``: generate a two-country study (national data, mapping, truth)."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from amurlink.cli import app
from amurlink.cli._common import (
    FORMAT_OPTION,
    OutputFormat,
    emit_json,
    handle_errors,
    stdout_is_terminal,
    usage_error,
)

_SCENARIO = typer.Option("small", "--scenario", "-s",
                         help="Preset: small (tests), neaspec (2013-2015 joint study), large.")
_SEED = typer.Option(0, "--seed", help="Random seed; the same seed gives the same files.")
_OUT = typer.Option(..., "--output", "-o", help="Output folder.")
_MODE = typer.Option(None, "--mode", help="path (default) or secr-exact.")
_MOVEMENT = typer.Option(None, "--movement",
                         help="home-range (default) or resistance: the animals walk by the "
                              "landscape's known resistance (the corridor scenario; covariate "
                              "rasters in landscape/covariates/, the truth in truth/).")
_IMAGES = typer.Option(None, "--images", help="Flank photos: all, first (per burst) or none.")
_MAX_IMAGES = typer.Option(None, "--max-images", help="Render at most this many photos.")
_BORDER = typer.Option(None, "--border",
                       help="Real geometry: a border.geojson or a countries GeoJSON.")
_BORDER_LINE = typer.Option(None, "--border-line",
                            help="Border line file to go with a countries-only --border.")
_OVERWRITE = typer.Option(False, "--overwrite", help="Replace an existing output folder.")


@app.command("simulate")
def simulate(
    scenario: str = _SCENARIO,
    seed: int = _SEED,
    output: Path = _OUT,
    mode: str = _MODE,
    movement: str = _MOVEMENT,
    images: str = _IMAGES,
    max_images: int = _MAX_IMAGES,
    border: Path = _BORDER,
    border_line: Path = _BORDER_LINE,
    overwrite: bool = _OVERWRITE,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Simulate Chinese and Russian camera-trap and DNA data of tigers and leopards."""
    from amurlink.simulate import SCENARIOS, STEPS, simulate_study, write_study

    if scenario not in SCENARIOS:
        raise usage_error(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    if mode is not None and mode not in ("path", "secr-exact"):
        raise usage_error(f"--mode must be 'path' or 'secr-exact', got {mode!r}")
    if movement is not None and movement not in ("home-range", "resistance"):
        raise usage_error(f"--movement must be 'home-range' or 'resistance', got {movement!r}")
    if images is not None and images not in ("all", "first", "none"):
        raise usage_error(f"--images must be 'all', 'first' or 'none', got {images!r}")
    for f in (border, border_line):
        if f is not None and not f.is_file():
            raise usage_error(f"file not found: {f}")
    if output.exists() and output.is_dir() and any(output.iterdir()) and not overwrite:
        raise usage_error(f"{output} exists and is not empty; pass --overwrite to replace it")
    changes = {k: v for k, v in (("mode", mode), ("movement", movement), ("images", images),
                                 ("max_images", max_images)) if v is not None}
    with handle_errors():
        t0 = time.perf_counter()
        show = fmt == OutputFormat.text and stdout_is_terminal()
        if show:
            from rich.progress import Progress

            with Progress(transient=True) as bar:
                task = bar.add_task(f"simulating {scenario}", total=len(STEPS) + 1)

                def hook(done: int, total: int) -> None:
                    label = STEPS[done] if done < len(STEPS) else "writing files"
                    bar.update(task, completed=done, description=label)

                study = simulate_study(scenario, seed=seed, border_file=border,
                                       border_line_file=border_line, progress=hook, **changes)
                write_study(study, output, overwrite=overwrite)
                bar.update(task, completed=len(STEPS) + 1)
        else:
            study = simulate_study(scenario, seed=seed, border_file=border,
                                   border_line_file=border_line, **changes)
            write_study(study, output, overwrite=overwrite)
        # the incident books come after, from their own child seed: no study file changes
        from amurlink.simulate._incidents import write_simulated_incidents

        write_simulated_incidents(study, output)
        # the corridor scenario's true resistance on this landscape, from its own child seed
        # too: `amurlink run` then has a raster for its corridors stage
        from amurlink.study.themes import write_theme_inputs

        layers = write_theme_inputs(study, output, incidents=False, corridors=True)
        elapsed = time.perf_counter() - t0
        import json

        import pandas as pd

        summary = json.loads((output / "summary.json").read_text(encoding="utf-8"))
        incidents = {c: len(pd.read_csv(output / "incidents" / c.lower() / "incidents.csv"))
                     for c in ("CN", "RU")}
        if fmt == OutputFormat.json:
            emit_json({**summary, "incidents": incidents, "output": str(output),
                       "landscape": [str(p.relative_to(output)) for p in layers],
                       "seconds": round(elapsed, 2)})
            return
        cams = summary["cameras"]
        typer.echo(f"{scenario} (seed {seed}, {summary['mode']}) -> {output} in {elapsed:.1f} s")
        typer.echo(f"  period {summary['period'][0]} .. {summary['period'][1]}")
        for c in ("CN", "RU"):
            typer.echo(f"  {c}: {cams[c]['stations']} stations, {cams[c]['cameras']} cameras, "
                       f"{cams[c]['trap_days']:.0f} trap-days")
        for sp, p in summary["photographed"].items():
            typer.echo(f"  {sp}: {p['individuals']} photographed ({p['adults']} adults), "
                       f"{p['both_countries']} in both countries")
        typer.echo(f"  observations CN {summary['observations']['cn']}, RU records "
                   f"{summary['observations']['ru']}; photos written {summary['images']['files']}"
                   f"; DNA samples CN {summary['samples']['CN']}, RU {summary['samples']['RU']}")
        typer.echo(f"  incidents CN {incidents['CN']}, RU {incidents['RU']} (incidents/cn, "
                   "incidents/ru; claimants are the owner's personal data)")
        if study.resistance is not None:
            typer.echo("  animals moved by the landscape's resistance: landscape/covariates/ "
                       "for the corridors stage's habitat model, the true resistance in "
                       "truth/resistance_true.tif")
        elif layers:
            typer.echo("  landscape/resistance.tif: the corridor scenario's true resistance "
                       "(for the corridors stage)")
