"""One call for the transboundary corridor answers between two parks (CLI and run stage).

:func:`border_corridors` takes a resistance grid and a :class:`amurlink.core.border.Border`
whose first two ``park`` features are the core areas, and writes into ``out_dir`` (all files
together or none): ``corridor_cost.tif`` (normalised least-cost corridor), ``corridor_mask.tif``
(width by cost percentile), ``current.tif`` (circuit current between the parks),
``cores.tif`` (1 and 2: the two core areas the circuit used, the parks beyond the core
setback), ``border_segments.csv``, ``pinch_points.csv``, ``corridors.gpkg`` (segments as
lines, pinch points as points) and ``summary.json``. No output holds a station position.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from amurlink.exceptions import DataError
from amurlink.landscape import habitat as hb
from amurlink.landscape.costdist import least_cost_corridor, rasterize_polygons
from amurlink.landscape.grid import Grid, write_grid

__all__ = ["border_corridors", "observed_crossings", "CORRIDOR_FILES", "CORE_SETBACK_KM"]

#: Default distance (km) between the border and the core areas of the current: about a
#: leopard's home-range radius and half a border segment; see :func:`border_corridors`.
CORE_SETBACK_KM = 5.0

CORRIDOR_FILES = (
    "corridor_cost.tif",
    "corridor_mask.tif",
    "current.tif",
    "cores.tif",
    "border_segments.csv",
    "pinch_points.csv",
    "corridors.gpkg",
    "summary.json",
)


def border_corridors(
    grid: Grid,
    border: Any,
    out_dir: str | os.PathLike[str],
    *,
    segment_km: float = 10.0,
    percentile: float = 5.0,
    crossings: pd.DataFrame | None = None,
    encounters: pd.DataFrame | None = None,
    barriers: Sequence[tuple[str, Any]] = (),
    restore_to: float = 1.0,
    source: str = "border",
    core_setback_km: float = CORE_SETBACK_KM,
    truth: Grid | None = None,
    about: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Corridor, current, border segments and pinch points between the border's two parks.

    The core areas are each park's cells more than ``core_setback_km`` from the border (the
    cells the border line crosses are never in a core). Parks that reach the border would
    otherwise touch: the current would jump from one core to the other at the line, carried
    by no landscape cell, and the current per border segment would only count the segment's
    cells. With the setback it crosses a border zone whose resistance decides where.

    ``crossings`` (columns ``segment``, ``crossings``) adds observed crossings per segment and
    the Spearman correlation with the predicted border current; ``encounters`` (of the
    cross-border analysis) gives them from the cameras instead (:func:`observed_crossings`).
    ``barriers`` (name, shapely
    geometry in the grid's CRS: a road stretch, a fence segment) are ranked by the drop in
    effective resistance between the parks when their cells take resistance ``restore_to``
    (``barrier_ranking.csv``). ``truth`` (a simulated study's true resistance, on the grid's
    frame) adds ``recovery``: the Spearman correlation, over the landscape cells outside the
    cores, of the current on ``grid`` with the true current between the same cores, beside
    that of the uniform-resistance current (the baseline a resistance surface must beat), and
    the mean of ``grid``'s resistance over the cells of each true resistance value (an
    estimated surface should rank them in the true order). ``about`` is added to the
    summary as given (where the resistance came from). Returns the summary.
    """
    from amurlink.report._gpkg import write_gpkg

    parks = list(border.extras.get("park", ()))
    if len(parks) < 2:
        raise DataError(f"{source}: needs two 'park' features as core areas, found {len(parks)}")
    (name_a, geom_a), (name_b, geom_b) = parks[:2]
    if not core_setback_km >= 0:
        raise DataError(f"{source}: the core setback must be 0 km or more, got {core_setback_km}")
    r = np.where(grid.valid & (grid.values > 0), grid.values, np.nan)
    core_a = rasterize_polygons([geom_a], grid) > 0
    core_b = rasterize_polygons([geom_b], grid) > 0
    if not core_a.any() or not core_b.any():
        raise DataError(f"{source}: a park lies outside the resistance grid")
    from scipy import ndimage

    on_line = hb.rasterize_vector([border.line], grid) > 0
    away = (ndimage.distance_transform_edt(~on_line) * grid.cellsize > core_setback_km * 1000.0
            if on_line.any() else np.ones(grid.shape, bool))
    for name, core in ((name_a or "park 1", core_a), (name_b or "park 2", core_b)):
        if not (core & away).any():
            raise DataError(f"{source}: park {name!r} has no cell more than {core_setback_km:g} "
                            "km from the border; give a smaller core setback")
    core_a, core_b = core_a & away, core_b & away
    cor = least_cost_corridor(r, core_a, core_b, cellsize=grid.cellsize)
    reff, current = hb.effective_resistance(r, core_a, core_b)
    segs = hb.border_segments(border.line, segment_km * 1000.0)
    table = hb.border_current(grid.with_values(current), segs)
    if encounters is not None and crossings is None:
        crossings = observed_crossings(encounters, border, segs)
    summary: dict[str, Any] = {
        "cores": [name_a or "park 1", name_b or "park 2"],
        "least_cost": cor.least_cost,
        "effective_resistance": reff,
        "segments": len(segs),
        "corridor_cells": int(cor.width_mask(percentile).sum()),
        "percentile": percentile,
        "segment_km": segment_km,
        "core_setback_km": core_setback_km,
    }
    if crossings is not None:
        if not {"segment", "crossings"} <= set(crossings.columns):
            raise DataError(f"{source}: observed crossings need columns segment,crossings")
        table = table.merge(crossings[["segment", "crossings"]], on="segment", how="left")
        table["crossings"] = table["crossings"].fillna(0)
        stats = hb.compare_crossings(table["current"], table["crossings"])
        summary.update(spearman=stats["spearman"], spearman_p=stats["p_value"])
    if truth is not None:
        summary["recovery"] = _recovery(grid, current, truth, core_a, core_b, source)
    summary.update(about or {})
    pinch = hb.pinch_points(current, exclude=core_a | core_b, cellsize=grid.cellsize)
    ranking = None
    if barriers:
        masks = {}
        for name, geom in barriers:
            m = (hb.rasterize_vector([geom], grid) > 0) & np.isfinite(r)
            if not m.any():
                raise DataError(f"{source}: barrier {name!r} covers no habitat cell of the grid")
            masks[str(name)] = m
        ranking = hb.barrier_improvement(r, core_a, core_b, masks, restored=restore_to)
        summary["best_barrier"] = str(ranking.loc[0, "candidate"])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out, prefix=".corridors-"))

    def frame(v: np.ndarray) -> Grid:
        return Grid(v, grid.xllcorner, grid.yllcorner, grid.cellsize, grid.nodata, grid.crs)

    try:
        norm = np.where(np.isfinite(cor.normalized), cor.normalized, grid.nodata)
        write_grid(frame(norm), staging / "corridor_cost.tif")
        write_grid(frame(cor.width_mask(percentile).astype(float)), staging / "corridor_mask.tif")
        write_grid(frame(current), staging / "current.tif")
        write_grid(frame(core_a.astype(float) + 2.0 * core_b), staging / "cores.tif")
        table.to_csv(staging / "border_segments.csv", index=False)
        pinch.to_csv(staging / "pinch_points.csv", index=False)
        if ranking is not None:
            ranking.to_csv(staging / "barrier_ranking.csv", index=False)
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
            os.replace(p, out / p.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    names = CORRIDOR_FILES + (("barrier_ranking.csv",) if ranking is not None else ())
    summary["files"] = [str(out / n) for n in names]
    return summary


def _recovery(grid: Grid, current: np.ndarray, truth: Grid, core_a: np.ndarray,
              core_b: np.ndarray, source: str) -> dict[str, Any]:
    """Spearman of ``current`` and of the uniform-resistance current with the true current."""
    from scipy.stats import spearmanr

    r = np.where(grid.valid & (grid.values > 0), grid.values, np.nan)
    if not truth.same_frame(grid):
        raise DataError(f"{source}: the true resistance is not on the resistance grid")
    r_true = np.where(truth.valid & (truth.values > 0), truth.values, np.nan)
    _, cur_true = hb.effective_resistance(r_true, core_a, core_b)
    _, cur_uni = hb.effective_resistance(np.where(np.isfinite(r), 1.0, np.nan), core_a, core_b)
    cells = np.isfinite(r) & np.isfinite(r_true) & ~core_a & ~core_b
    cells &= np.isfinite(current) & np.isfinite(cur_true) & np.isfinite(cur_uni)
    if cells.sum() < 3:
        raise DataError(f"{source}: fewer than 3 landscape cells to compare with the truth")
    both = np.isfinite(r) & np.isfinite(r_true)
    levels = np.unique(r_true[both])
    means = [float(np.mean(r[both & (r_true == v)])) for v in levels]
    return {
        "spearman_estimated": float(spearmanr(current[cells], cur_true[cells])[0]),
        "spearman_uniform": float(spearmanr(cur_uni[cells], cur_true[cells])[0]),
        "cells": int(cells.sum()),
        "class_means": {f"{v:g}": m for v, m in zip(levels, means, strict=True)},
        "classes_in_order": bool(all(a < b for a, b in zip(means, means[1:], strict=False))),
    }


def observed_crossings(
    encounters: pd.DataFrame, border: Any, segments: Sequence[Any]
) -> pd.DataFrame:
    """Border crossings seen by the cameras, counted per border segment.

    ``encounters`` is :func:`amurlink.analysis.crossborder.encounters` output (``jointID``,
    ``time``, ``x``, ``y``, ``country``). Each change of country (``CN``/``RU``) between two
    consecutive encounters of one individual is a crossing, placed where the straight line
    between the two encounters meets the border (the border point nearest its midpoint when it
    does not), and counted in the nearest segment. Returns ``segment, crossings`` for every
    segment (1-based, the order of :func:`amurlink.landscape.habitat.border_segments`).
    """
    import shapely
    from shapely.ops import nearest_points

    counts = np.zeros(len(segments), dtype=np.int64)
    need = {"jointID", "time", "x", "y", "country"}
    if not need <= set(encounters.columns):
        raise DataError(f"encounters lack {sorted(need - set(encounters.columns))}")
    enc = encounters[encounters["country"].isin(["CN", "RU"])].sort_values(["jointID", "time"])
    line = border.line
    seg_geoms = np.array(segments, dtype=object)
    for _, g in enc.groupby("jointID", sort=False, observed=True):
        c = g["country"].to_numpy()
        x = g["x"].to_numpy(float)
        y = g["y"].to_numpy(float)
        for k in np.flatnonzero(c[1:] != c[:-1]):
            path = shapely.LineString([(x[k], y[k]), (x[k + 1], y[k + 1])])
            hit = path.intersection(line)
            if hit.is_empty:
                pt = nearest_points(line, path.interpolate(0.5, normalized=True))[0]
            else:
                pt = shapely.get_point(hit, 0) if hit.geom_type != "Point" else hit
                if pt is None or pt.is_empty:
                    pt = hit.representative_point()
            d = shapely.distance(seg_geoms, pt)
            counts[int(np.argmin(d))] += 1
    return pd.DataFrame({"segment": np.arange(1, len(segments) + 1), "crossings": counts})
