"""Report section: SECR model selection (AICc) and the best model's density map.

The density surface is a mask product (no station position is drawn); densities in animals
per 100 km².
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from amurlink.report._i18n import N_
from amurlink.report._sections_themes import GridMapDisplay, border_xy, theme_missing, theme_part
from amurlink.report.displays import country_name
from amurlink.report.tables import Summary

__all__ = ["models_section", "density_grid"]

_HA_PER_100KM2 = 1e4
_FITS = {"joint": N_("Joint")}


def _fit_label(v: Any, _: Any) -> str:
    base, plus, dna = str(v).partition("+")
    if plus and dna == "DNA":  # camera + DNA models (``[secr] dna``): "Joint + DNA"
        return f"{_fit_label(base, _)} + {_(N_('DNA'))}"
    return _(_FITS[v]) if v in _FITS else country_name(v, _)


def density_grid(surface: pd.DataFrame) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Mask points (``x, y, D``) as a north-up grid of animals per 100 km² and its extent."""
    xs, ys = np.unique(surface["x"].to_numpy()), np.unique(surface["y"].to_numpy())
    dx = float(np.min(np.diff(xs))) if len(xs) > 1 else 1000.0
    dy = float(np.min(np.diff(ys))) if len(ys) > 1 else 1000.0
    nx = int(round((xs[-1] - xs[0]) / dx)) + 1
    ny = int(round((ys[-1] - ys[0]) / dy)) + 1
    grid = np.full((ny, nx), np.nan)
    col = np.rint((surface["x"].to_numpy() - xs[0]) / dx).astype(int)
    row = ny - 1 - np.rint((surface["y"].to_numpy() - ys[0]) / dy).astype(int)
    grid[row, col] = surface["D"].to_numpy(dtype=float) * _HA_PER_100KM2
    extent = (xs[0] - dx / 2, ys[0] - dy / 2, xs[-1] + dx / 2, ys[-1] + dy / 2)
    return grid, extent


def models_section(view: Any):
    from amurlink.report._sections import Section

    sec = Section("secr_models", N_("SECR model selection"),
                  N_("The study's list of SECR models fitted per species to the joint data "
                     "and to each country's data alone, ranked by AICc with Akaike weights; "
                     "density of the best model (mean over its mask) in animals per 100 km². "
                     "The density map is the best joint model's surface over its mask (no "
                     "camera is drawn)."))
    value = theme_part(view, "secr_models")
    if not value or not value.get("tables"):
        sec.missing = theme_missing(view, "secr_models")
        return sec
    key = "secr_models"
    if key not in view.cache:
        rows, maps = [], []
        for species, per in value["tables"].items():
            for fit_name, mt in per.items():
                best = mt.best
                surf = mt.best_fit.density_map()
                d_best = float(surf["D"].mean()) * _HA_PER_100KM2  # at the mask mean
                for label, r in mt.table.iterrows():
                    d = d_best if label == best else np.nan
                    rows.append({"scientificName": species, "fit": fit_name,
                                 "model": str(r["model"]), "npar": int(r["npar"]),
                                 "logLik": float(r["logLik"]), "AICc": float(r["AICc"]),
                                 "dAICc": float(r["dAICc"]), "weight": float(r["AICcwt"]),
                                 "D_best": d})
                if fit_name == "joint":
                    grid, extent = density_grid(surf)
                    maps.append((species, best, grid, extent))
        view.cache[key] = (pd.DataFrame(rows), maps)
    frame, maps = view.cache[key]
    sec.tables.append(Summary("secr_model_selection", frame, {
        "scientificName": N_("Species"), "fit": N_("Fit"), "model": N_("Model"),
        "npar": N_("Parameters"), "logLik": N_("Log-likelihood"), "AICc": N_("AICc"),
        "dAICc": N_("ΔAICc"), "weight": N_("AICc weight"),
        "D_best": N_("Density per 100 km² (best model)")},
        kinds={"scientificName": "latin", "model": "id"}, values={"fit": _fit_label}))
    line = border_xy(view)
    for species, best, grid, extent in maps:
        sec.figures.append(GridMapDisplay(
            grid, extent, title=f"{species}: {best}", label=N_("Animals per 100 km²"),
            line=line, cmap="viridis"))
    if value.get("errors"):
        sec.note = N_("Some models could not be fitted; the run's summary names them.")
    return sec
