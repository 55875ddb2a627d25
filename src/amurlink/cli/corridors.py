"""``amurlink corridors JOB.ini``: run a Circuitscape job unchanged (raster or network mode)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import typer

from amurlink.cli import app
from amurlink.cli._common import (
    EXIT_OK,
    FORMAT_OPTION,
    OutputFormat,
    emit_json,
    handle_errors,
    usage_error,
)


@app.command("corridors")
def corridors_command(
    job_file: Path = typer.Argument(..., help="Circuitscape .ini job file."),
    output_dir: Path | None = typer.Option(
        None, "--output-dir", "-o", help="Write the outputs here instead of output_file's folder."
    ),
    set_options: list[str] = typer.Option(
        [], "--set", help="Override a job option, e.g. --set solver=cholmod (repeatable)."
    ),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Run a Circuitscape .ini job: pairwise, one-to-all, all-to-one, advanced, network.

    Writes Circuitscape's files (<name>_resistances.out, <name>_cum_curmap.asc, voltage maps,
    branch and node currents). An option amurlink does not implement is refused by name.
    All outputs appear together or not at all. Exit 0 ok, 1 invalid job or data, 2 usage.
    """
    from amurlink.landscape.csjob import read_job, run_job

    overrides: dict[str, str] = {}
    for item in set_options:
        if "=" not in item:
            raise usage_error(f"--set {item!r}: expected KEY=VALUE")
        key, val = item.split("=", 1)
        overrides[key.strip().lower()] = val.strip()
    if not job_file.exists():
        raise usage_error(f"{job_file}: job file not found")
    with handle_errors():
        job = read_job(job_file, overrides)
        prefix = job.output_prefix
        target = output_dir.resolve() if output_dir else prefix.parent
        target.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target, prefix=".corridors-"))
        try:
            job.options["output_file"] = str(staging / (prefix.name + ".out"))
            result = run_job(job)
            moved = []
            for path in sorted(staging.iterdir()):
                dest = target / path.name
                os.replace(path, dest)
                moved.append(dest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    summary = {
        "job": str(job_file),
        "data_type": job.data_type,
        "scenario": job.scenario,
        "focal_points": len(result.ids),
        "connected_pairs": int((result.resistances > 0).sum() // 2)
        if result.resistances.ndim == 2
        else int((result.resistances >= 0).sum()),
        "files": [str(p) for p in moved],
    }
    if fmt is OutputFormat.json:
        emit_json(summary)
    else:
        typer.echo(
            f"{job.data_type} {job.scenario}: {summary['focal_points']} focal points, "
            f"{len(moved)} files written to {target}"
        )
    raise typer.Exit(EXIT_OK)
