"""Report section: transboundary corridors between the two parks (issue #17).

The cumulative current map and the least-cost corridor map (landscape rasters on a log scale,
the parks outlined: no station is drawn on them), the current
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
#: Said when the parks touch (no cell outside them carries current).
TOUCHING_NOTE = N_("The two parks touch along the border, so the current flows straight from "
                   "one into the other and no other cell carries any: the current map and the "
                   "pinch points (rounding noise) are left out, and the current per border "
                   "segment counts the border cells. The least-cost corridor map shows where "
                   "crossing costs least.")


#: Where the resistance surface came from (the summary's ``resistance``).
RESISTANCE_SOURCES = {
    "cameras": N_("estimated from the cameras (habitat model)"),
    "file": N_("given (landscape/resistance.tif)"),
}


def _source(v: Any, _: Any) -> str:
    return _(RESISTANCE_SOURCES[v]) if v in RESISTANCE_SOURCES else str(v)


def _yes_no(v: Any, _: Any) -> str:
    return _("yes") if bool(v) else _("no")


def _file(value: dict[str, Any], name: str) -> Path | None:
    for f in value.get("files", ()):
        if Path(f).name == name and Path(f).is_file():
            return Path(f)
    return None


def park_outlines(view: Any) -> list[np.ndarray]:
    """Exterior rings of the border's first two parks (the core areas), working CRS."""
    import shapely

    from amurlink.landscape.display import border_parks

    rings = []
    for geom in border_parks(view.inputs.border):
        for poly in getattr(geom, "geoms", [geom]):
            if poly.geom_type == "Polygon":
                rings.append(shapely.get_coordinates(poly.exterior))
    return rings


def corridor_maps(value: dict[str, Any], view: Any) -> tuple[list[GridMapDisplay], str | None]:
    """The corridor maps (current where the landscape carries it; the least-cost corridor)
    and a note (msgid) when the current map is left out.

    Only the drawing changes with the data (a logarithmic scale from the landscape's own
    cells, the parks outlined): the rasters and the figures in the tables are as computed.
    """
    from amurlink.landscape.display import (
        border_parks,
        core_cells,
        current_display,
        display_range,
        landscape_carries_current,
        raster_display,
    )
    from amurlink.landscape.grid import read_grid

    figures: list[GridMapDisplay] = []
    note = None
    line, parks = border_xy(view), park_outlines(view)
    cur = _file(value, "current.tif")
    if cur is not None:
        g = read_grid(cur)
        cores = core_cells(g, border_parks(view.inputs.border), beside=cur)
        if landscape_carries_current(g, cores=cores):
            v, extent = current_display(g, cores=cores, max_cells=_MAX_CELLS)
            lo, hi = display_range(v)
            figures.append(GridMapDisplay(
                v, extent, title=N_("Cumulative current"), label=N_("Current (log scale)"),
                line=line, log=True, vmin=lo, vmax=hi, outlines=parks,
                outlines_label=N_("Parks")))
        else:
            note = TOUCHING_NOTE
    cost = _file(value, "corridor_cost.tif")
    if cost is not None:
        g = read_grid(cost)
        v, extent = raster_display(g, max_cells=_MAX_CELLS)
        v = v / 1000.0  # resistance x metres -> resistance x km
        lo, hi = display_range(v)
        figures.append(GridMapDisplay(
            v, extent, title=N_("Least-cost corridor"),
            label=N_("Extra cost (resistance x km)"),
            line=line, cmap="YlGn_r", log=True, vmin=lo, vmax=hi, outlines=parks,
            outlines_label=N_("Parks")))
    return figures, note


def corridors_section(view: Any):
    from amurlink.report._sections import Section

    sec = Section("corridors", N_("Transboundary corridors"),
                  N_("Circuit theory between the two parks on the study's resistance "
                     "surface, from each park's core (its part farther than the core setback "
                     "from the border) across the border zone: the cumulative current map "
                     "(where movement concentrates), the current crossing each border segment "
                     "against the crossings the cameras observed, and pinch points. The map is "
                     "a landscape product (the cores left blank): no camera is drawn on it. "
                     "Without a given resistance surface, a Poisson model of the big cats' "
                     "detections per deployment (effort as offset) on the study's covariate "
                     "layers gives suitability, and resistance is 1 / suitability. On a "
                     "simulated study whose animals moved by a known resistance, the section "
                     "also says how well this current matches the true one, beside a uniform "
                     "resistance."))
    value = theme_part(view, "corridors")
    if not value:
        sec.missing = theme_missing(view, "corridors")
        return sec
    stats = {"cores": " – ".join(map(str, value.get("cores", ()))),
             "resistance": value.get("resistance", "file"),
             "effective_resistance": value.get("effective_resistance"),
             "corridor_cells": value.get("corridor_cells"),
             "spearman": value.get("spearman", np.nan),
             "spearman_p": value.get("spearman_p", np.nan)}
    sec.tables.append(Summary("corridors_summary", pd.DataFrame([stats]), {
        "cores": N_("Core areas"), "resistance": N_("Resistance surface"),
        "effective_resistance": N_("Effective resistance"),
        "corridor_cells": N_("Least-cost corridor cells"),
        "spearman": N_("Spearman: current against observed crossings"),
        "spearman_p": N_("p-value")}, values={"resistance": _source}))
    model = value.get("habitat_model")
    if model:
        coef = pd.DataFrame({"term": list(model["coefficients"]),
                             "coefficient": list(model["coefficients"].values())})
        sec.tables.append(Summary("corridors_habitat_model", coef, {
            "term": N_("Term (standardised layer)"), "coefficient": N_("Coefficient")},
            kinds={"term": "id"}))
    rec = value.get("recovery")
    if rec:
        sec.tables.append(Summary("corridors_recovery", pd.DataFrame([{
            "spearman_estimated": rec["spearman_estimated"],
            "spearman_uniform": rec["spearman_uniform"],
            "classes_in_order": rec["classes_in_order"]}]), {
            "spearman_estimated": N_("Spearman with the true current: this surface"),
            "spearman_uniform": N_("Spearman with the true current: uniform resistance"),
            "classes_in_order": N_("True resistance classes in order")},
            values={"classes_in_order": _yes_no}))
        means = rec.get("class_means", {})
        sec.tables.append(Summary("corridors_recovery_classes", pd.DataFrame({
            "true_resistance": [float(k) for k in means],
            "mean_resistance": list(means.values())}), {
            "true_resistance": N_("True resistance"),
            "mean_resistance": N_("Mean resistance of this surface")}))
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
    figures, note = corridor_maps(value, view)
    pin_file = _file(value, "pinch_points.csv")
    if pin_file is not None and note is None:
        pin = pd.read_csv(pin_file)
        cols = [c for c in ("cluster", "cells", "peak", "total") if c in pin]
        sec.tables.append(Summary("corridors_pinch_points", pin[cols].head(20), {
            "cluster": N_("Pinch point"), "cells": N_("Cells"), "peak": N_("Peak current"),
            "total": N_("Total current")}))
    sec.figures.extend(figures)
    if note is not None:
        sec.note = note
    return sec
