"""Report section: transboundary corridors between the two parks (issue #17).

The cumulative current map (a landscape raster: no station is drawn on it), the current
crossing each border segment against the crossings the cameras observed (Spearman), and the
pinch points (by size and current only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from amurlink.report._i18n import N_
from amurlink.report._sections_themes import GridMapDisplay, border_xy, theme_missing, theme_part
from amurlink.report.tables import Summary

__all__ = ["corridors_section"]

_MAX_CELLS = 400  # cells across the drawn map (coarser grids are block-averaged)


def _file(value: dict[str, Any], name: str) -> Path | None:
    for f in value.get("files", ()):
        if Path(f).name == name and Path(f).is_file():
            return Path(f)
    return None


def _current_map(path: Path) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    from amurlink.landscape.grid import read_grid

    g = read_grid(path)
    v = np.where(g.valid, g.values, np.nan).astype(float)
    top = np.nanmax(v) if np.isfinite(v).any() else np.nan
    if np.isfinite(top) and top > 0:  # the two cores carry the whole current: left blank
        v = np.where(v >= 0.999 * top, np.nan, v)
    step = max(1, int(np.ceil(max(v.shape) / _MAX_CELLS)))
    if step > 1:
        h, w = (v.shape[0] // step) * step, (v.shape[1] // step) * step
        v = np.nanmean(v[:h, :w].reshape(h // step, step, w // step, step), axis=(1, 3))
    ny, nx = g.shape
    extent = (g.xllcorner, g.yllcorner, g.xllcorner + nx * g.cellsize,
              g.yllcorner + ny * g.cellsize)
    return v, extent


def corridors_section(view: Any):
    from amurlink.report._sections import Section

    sec = Section("corridors", N_("Transboundary corridors"),
                  N_("Circuit theory between the two parks on the study's resistance "
                     "surface: the cumulative current map (where movement concentrates), "
                     "the current crossing each border segment against the crossings the "
                     "cameras observed, and pinch points. The map is a landscape product "
                     "(the two parks left blank): no camera is drawn on it."))
    value = theme_part(view, "corridors")
    if not value:
        sec.missing = theme_missing(view, "corridors")
        return sec
    stats = {"cores": " – ".join(map(str, value.get("cores", ()))),
             "effective_resistance": value.get("effective_resistance"),
             "corridor_cells": value.get("corridor_cells"),
             "spearman": value.get("spearman", np.nan),
             "spearman_p": value.get("spearman_p", np.nan)}
    sec.tables.append(Summary("corridors_summary", pd.DataFrame([stats]), {
        "cores": N_("Core areas"), "effective_resistance": N_("Effective resistance"),
        "corridor_cells": N_("Least-cost corridor cells"),
        "spearman": N_("Spearman: current against observed crossings"),
        "spearman_p": N_("p-value")}))
    seg_file = _file(value, "border_segments.csv")
    if seg_file is not None:
        seg = pd.read_csv(seg_file)
        seg["length_km"] = seg["length"] / 1000.0
        cols = [c for c in ("segment", "length_km", "current", "share", "crossings")
                if c in seg]
        sec.tables.append(Summary("corridors_border_segments", seg[cols], {
            "segment": N_("Border segment"), "length_km": N_("Length (km)"),
            "current": N_("Current crossing"), "share": N_("Share of the current"),
            "crossings": N_("Crossings observed by cameras")}))
    pin_file = _file(value, "pinch_points.csv")
    if pin_file is not None:
        pin = pd.read_csv(pin_file)
        cols = [c for c in ("cluster", "cells", "peak", "total") if c in pin]
        sec.tables.append(Summary("corridors_pinch_points", pin[cols].head(20), {
            "cluster": N_("Pinch point"), "cells": N_("Cells"), "peak": N_("Peak current"),
            "total": N_("Total current")}))
    cur = _file(value, "current.tif")
    if cur is not None:
        grid, extent = _current_map(cur)
        sec.figures.append(GridMapDisplay(grid, extent, title=N_("Cumulative current"),
                                          label=N_("Current"), line=border_xy(view)))
    return sec
