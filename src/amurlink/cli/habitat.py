"""``amurlink habitat``: resistance surfaces and transboundary corridors on the study grid."""

from __future__ import annotations

import json
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

habitat_app = typer.Typer(
    help="Habitat layers, resistance surfaces and transboundary corridors.",
    no_args_is_help=True,
)
app.add_typer(habitat_app, name="habitat")


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            raise usage_error(f"{what} {item!r}: expected NAME=VALUE")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


@habitat_app.command("resistance")
def resistance_command(
    layers: list[str] = typer.Option(
        ..., "--layer", help="NAME=RASTER (GeoTIFF or ASCII grid); repeatable."
    ),
    weights: list[str] = typer.Option([], "--weight", help="NAME=WEIGHT (log-linear); repeatable."),
    classes: list[str] = typer.Option(
        [], "--classes", help="NAME=CSV of code,resistance for a categorical layer; repeatable."
    ),
    intercept: float = typer.Option(0.0, "--intercept", help="b0 of exp(b0 + sum w x)."),
    r_min: float = typer.Option(1.0, "--min", help="Lowest resistance."),
    r_max: float = typer.Option(1000.0, "--max", help="Highest resistance."),
    out: Path = typer.Option(..., "--out", "-o", help="Resistance raster to write (.tif or .asc)."),
) -> None:
    """Expert-weight resistance: exp(b0 + sum w_k x_k) x class multipliers, clipped.

    Every layer must share the first layer's grid (align them with the study grid first).
    """
    named = _pairs(layers, "--layer")
    w = {k: float(v) for k, v in _pairs(weights, "--weight").items()}
    tables = _pairs(classes, "--classes")
    with handle_errors():
        import numpy as np
        import pandas as pd

        from amurlink.exceptions import DataError
        from amurlink.landscape.grid import read_grid, write_grid
        from amurlink.landscape.habitat import expert_resistance

        grids = {k: read_grid(v) for k, v in named.items()}
        first = next(iter(grids.values()))
        arrays = {}
        for k, g in grids.items():
            if not g.same_frame(first):
                raise DataError(f"layer {k} ({named[k]}) is not on the grid of the first layer")
            arrays[k] = np.where(g.valid, g.values, np.nan)
        class_tables = {}
        for k, path in tables.items():
            df = pd.read_csv(path)
            if list(df.columns[:2]) != ["code", "resistance"]:
                raise DataError(f"{path}: expected columns code,resistance")
            class_tables[k] = dict(zip(df["code"].astype(int), df["resistance"], strict=True))
        r = expert_resistance(
            arrays, w, intercept=intercept, class_tables=class_tables, r_min=r_min, r_max=r_max
        )
        written = write_grid(first.with_values(np.where(np.isfinite(r), r, first.nodata)), out)
    typer.echo(f"resistance {np.nanmin(r):.3g}-{np.nanmax(r):.3g} written to {written}")
    raise typer.Exit(EXIT_OK)


@habitat_app.command("corridors")
def corridors_command(
    resistance: Path = typer.Argument(..., help="Resistance raster in the working CRS."),
    border: Path = typer.Option(..., "--border", help="border.geojson with two park features."),
    out_dir: Path = typer.Option(..., "--out-dir", "-o", help="Folder for the outputs."),
    segment_km: float = typer.Option(10.0, "--segment-km", help="Border segment length, km."),
    percentile: float = typer.Option(5.0, "--percentile", help="Corridor width: cost percentile."),
    crossings: Path | None = typer.Option(
        None, "--crossings", help="CSV segment,crossings of observed crossings per segment."
    ),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Least-cost corridor, circuit current, border current, pinch points between two parks.

    Writes corridor_cost.tif, corridor_mask.tif, current.tif, border_segments.csv,
    pinch_points.csv, corridors.gpkg (segments and pinch points) and summary.json
    (all together or none).
    """
    if not 0 < percentile <= 100:
        raise usage_error("--percentile must be in (0, 100]")
    if segment_km <= 0:
        raise usage_error("--segment-km must be > 0")
    with handle_errors():
        summary = _run_corridors(resistance, border, out_dir, segment_km, percentile, crossings)
    if fmt is OutputFormat.json:
        emit_json(summary)
    else:
        typer.echo(
            f"corridor {summary['cores'][0]}-{summary['cores'][1]}: least cost "
            f"{summary['least_cost']:.4g}, effective resistance "
            f"{summary['effective_resistance']:.4g}; {summary['segments']} border segments"
            + (
                f", Spearman vs crossings {summary['spearman']:.3f}"
                if "spearman" in summary
                else ""
            )
        )
    raise typer.Exit(EXIT_OK)


def _run_corridors(resistance, border_path, out_dir, segment_km, percentile, crossings):
    import numpy as np
    import pandas as pd

    from amurlink.core.border import load_border
    from amurlink.exceptions import DataError
    from amurlink.landscape import habitat as hb
    from amurlink.landscape.costdist import least_cost_corridor, rasterize_polygons
    from amurlink.landscape.grid import Grid, read_grid, write_grid
    from amurlink.report._gpkg import write_gpkg

    grid = read_grid(resistance)
    border = load_border(border_path, crs=grid.crs or "EPSG:32652")
    parks = list(border.extras.get("park", ()))
    if len(parks) < 2:
        raise DataError(
            f"{border_path}: needs two 'park' features as core areas, found {len(parks)}"
        )
    (name_a, geom_a), (name_b, geom_b) = parks[:2]
    r = np.where(grid.valid & (grid.values > 0), grid.values, np.nan)
    core_a = rasterize_polygons([geom_a], grid) > 0
    core_b = rasterize_polygons([geom_b], grid) > 0
    if not core_a.any() or not core_b.any():
        raise DataError(f"{border_path}: a park lies outside the resistance grid")
    cor = least_cost_corridor(r, core_a, core_b, cellsize=grid.cellsize)
    reff, current = hb.effective_resistance(r, core_a, core_b)
    segs = hb.border_segments(border.line, segment_km * 1000.0)
    cur_grid = grid.with_values(current)
    table = hb.border_current(cur_grid, segs)
    summary = {
        "cores": [name_a or "park 1", name_b or "park 2"],
        "least_cost": cor.least_cost,
        "effective_resistance": reff,
        "segments": len(segs),
        "corridor_cells": int(cor.width_mask(percentile).sum()),
    }
    if crossings is not None:
        obs = pd.read_csv(crossings)
        if not {"segment", "crossings"} <= set(obs.columns):
            raise DataError(f"{crossings}: expected columns segment,crossings")
        merged = table.merge(obs[["segment", "crossings"]], on="segment", how="left")
        merged["crossings"] = merged["crossings"].fillna(0)
        table = merged
        stats = hb.compare_crossings(table["current"], table["crossings"])
        summary.update(spearman=stats["spearman"], spearman_p=stats["p_value"])
    pinch = hb.pinch_points(current, exclude=core_a | core_b, cellsize=grid.cellsize)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out_dir, prefix=".habitat-"))
    try:
        norm = np.where(np.isfinite(cor.normalized), cor.normalized, grid.nodata)

        def frame(v):
            return Grid(v, grid.xllcorner, grid.yllcorner, grid.cellsize, grid.nodata, grid.crs)

        write_grid(frame(norm), staging / "corridor_cost.tif")
        write_grid(frame(cor.width_mask(percentile).astype(float)), staging / "corridor_mask.tif")
        write_grid(frame(current), staging / "current.tif")
        table.to_csv(staging / "border_segments.csv", index=False)
        pinch.to_csv(staging / "pinch_points.csv", index=False)
        xs = grid.xllcorner + (pinch["col"].to_numpy(float) + 0.5) * grid.cellsize
        ys = grid.yllcorner + (grid.shape[0] - pinch["row"].to_numpy(float) - 0.5) * grid.cellsize
        write_gpkg(
            staging / "corridors.gpkg",
            {
                "border_segments": (
                    table,
                    [("LINESTRING", [tuple(c) for c in seg.coords]) for seg in segs],
                    "LINESTRING",
                ),
                "pinch_points": (
                    pinch,
                    [("POINT", [(float(x), float(y))]) for x, y in zip(xs, ys, strict=True)],
                    "POINT",
                ),
            },
            crs=grid.crs or "EPSG:32652",
        )
        (staging / "summary.json").write_text(json.dumps(summary, indent=2))
        for p in sorted(staging.iterdir()):
            os.replace(p, out_dir / p.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    summary["files"] = sorted(
        str(out_dir / n)
        for n in (
            "corridor_cost.tif",
            "corridor_mask.tif",
            "current.tif",
            "border_segments.csv",
            "pinch_points.csv",
            "summary.json",
        )
    )
    return summary
