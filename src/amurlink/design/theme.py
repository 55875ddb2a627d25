"""A joint layout for the theme study of a simulated scenario, against the study's own layout.

:func:`theme_study_design` takes the simulator's landscape and camera layout for a scenario
(``neaspec`` by default), lays candidate sites on a regular grid over Chinese and Russian land
with habitat within the scenario's camera zone of the border (optionally only near roads and
tracks), keeps each country's number of cameras (a Chinese station is a pair), and searches
the layout maximising min(E(n), E(r)). It reports RSE(D), E(n), E(r) and the expected number
of transboundary animals detected (in both countries) for the study's own layout and the
proposal, and joint against national RSE(D). Figures only: no positions leave this function
except through ``result["proposed_xy"]`` (for a protected map; see the module docstring of
:mod:`amurlink.release`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from amurlink.analysis.secr.mask import make_mask
from amurlink.design.expectations import expected_counts
from amurlink.design.national import joint_vs_national
from amurlink.design.search import near_lines, search_layout
from amurlink.design.simulation import expected_transboundary

__all__ = ["theme_study_design", "theme_tables"]


def _land_survey(scale: str, seed: int):
    from amurlink.analysis.secr.study import STUDY_SPECIES, study_scenario
    from amurlink.simulate import design_survey, make_landscape

    sc = study_scenario(scale)
    ss = np.random.SeedSequence(int(seed))
    g_land, _, _, g_cam = (np.random.default_rng(s) for s in ss.spawn(4))
    land = make_landscape(bbox=sc.bbox, cell_m=sc.cell_m, rng=g_land)
    sv = design_survey(land, sc, rng=g_cam)
    p = sc.species[STUDY_SPECIES]
    sigma = float(p.sigma_m[0])
    par = {"lambda0": float(p.lambda0[0]) * p.sigma_day_m**2 / sigma**2, "sigma": sigma}
    return sc, land, sv, par, float(p.density) / 1e4


def _candidates(land, sc, spacing: float) -> pd.DataFrame:
    x0, y0, x1, y1 = land.extent
    gx = np.arange(x0 + spacing / 2, x1, spacing)
    gy = np.arange(y0 + spacing / 2, y1, spacing)
    xx, yy = (a.ravel() for a in np.meshgrid(gx, gy))
    ix = np.clip(((xx - x0) // land.cell_m).astype(int), 0, land.x.size - 1)
    iy = np.clip(((yy - y0) // land.cell_m).astype(int), 0, land.y.size - 1)
    ok = np.isin(land.country[iy, ix], (1, 2)) & (land.habitat[iy, ix] > 0.2)
    xx, yy = xx[ok], yy[ok]
    ok = land.distance_to_border(xx, yy) <= sc.camera_zone_km * 1000
    xx, yy = xx[ok], yy[ok]
    country = np.asarray(land.country_of(xx, yy), dtype=str)
    keep = np.isin(country, ("CN", "RU"))
    return pd.DataFrame({"x": xx[keep], "y": yy[keep], "country": country[keep],
                         "cameras": np.where(country[keep] == "CN", 2, 1), "current": 0})


def theme_study_design(
    scale: str = "neaspec",
    *,
    seed: int = 7,
    candidate_spacing_m: float | None = None,
    road_distance_m: float | None = None,
    min_distance_m: float | None = None,
    time_limit: float | None = 30.0,
    restarts: int | None = None,
    max_swaps: int | None = None,
    nx: int = 48,
    transboundary_weight: float = 1.0,
) -> dict[str, Any]:
    """Propose a joint layout for the scenario's theme study and compare it with its own.

    Parameters
    ----------
    scale : str
        Simulator scenario (``small``, ``neaspec``, ``large``).
    seed : int
        Seed of the landscape and camera layout (as :func:`amurlink.design.neaspec_layout`).
    candidate_spacing_m : float, optional
        Spacing of the candidate grid; default half the Russian camera spacing.
    road_distance_m : float, optional
        Only candidates within this distance of the landscape's roads and tracks.
    min_distance_m : float, optional
        Least distance between chosen sites; default the candidate spacing.
    time_limit : float or None
        Seconds for the layout search (None: ``restarts`` and ``max_swaps`` decide,
        reproducibly).
    restarts, max_swaps : int, optional
        Most perturbed restarts and improving swaps of the layout search
        (:func:`search_layout`); with ``time_limit=None`` the result does not depend on the
        machine's speed.
    nx : int
        Mask cells across (buffer 4 sigma).
    transboundary_weight : float, default 1
        Maximise ``min(E(n), E(r)) + w x E(animals detected in both countries)``: with 0 the
        search spreads cameras for precision alone and may detect fewer transboundary
        animals than a border-hugging layout.

    Returns
    -------
    dict
        ``settings``; ``current`` and ``proposed``: stations and cameras per country, E(n),
        E(r), rule-of-thumb RSE(D), expected transboundary animals detected; ``gain``
        (relative gain in min(E(n), E(r))); ``joint_vs_national`` (rows for the proposal);
        ``proposed_xy`` (array, positions: protect before showing).
    """
    sc, land, sv, par, D = _land_survey(scale, seed)
    st = sv.stations
    cur = pd.DataFrame({"x": st["x"].astype(float), "y": st["y"].astype(float),
                        "country": st["country"].astype(str),
                        "cameras": 1 + (st["cam_b"].to_numpy() >= 0).astype(int),
                        "current": 1})
    spacing = candidate_spacing_m or sc.ru_spacing_m / 2
    cand = pd.concat([cur, _candidates(land, sc, spacing)], ignore_index=True)
    eligible = None
    if road_distance_m is not None and land.roads:
        eligible = near_lines(cand[["x", "y"]].to_numpy(), land.roads, road_distance_m)
        eligible |= cand["current"].to_numpy() == 1
    S = int(sv.n_days)
    sigma = par["sigma"]
    mask = make_mask(cand[["x", "y"]].to_numpy(), buffer=4 * sigma, nx=nx)
    budgets = cur.groupby("country")["cameras"].sum().astype(float).to_dict()
    k = len(cur)
    current_idx = np.arange(k)
    res = search_layout(cand, mask, k, D=D, detectpar=par, noccasions=S, detector="count",
                        budgets=budgets, min_distance=min_distance_m or spacing * 0.999,
                        eligible=eligible, baseline=current_idx, time_limit=time_limit,
                        restarts=restarts, max_swaps=max_swaps,
                        transboundary_weight=transboundary_weight)

    def describe(idx: np.ndarray) -> dict[str, Any]:
        sub = cand.iloc[idx]
        xy = sub[["x", "y"]].to_numpy()
        e = expected_counts(xy, mask, D=D, detectpar=par, noccasions=S, detector="count",
                            en2=False)
        tb = expected_transboundary(xy, sub["country"].to_numpy(), mask, D=D, detectpar=par,
                                    noccasions=S)
        return {"stations": sub.groupby("country").size().astype(int).to_dict(),
                "cameras": sub.groupby("country")["cameras"].sum().astype(float).to_dict(),
                "En": e.En, "Er": e.Er, "rse": e.rse,
                "transboundary_detected": tb["En_transboundary"],
                "detected_by_country": {c[3:]: v for c, v in tb.items()
                                        if c.startswith("En_") and c != "En_transboundary"}}

    current = describe(current_idx)
    # the study's own layout with its real effort (gaps, stolen cameras), for reference
    e_use = expected_counts(cur[["x", "y"]].to_numpy(), mask, D=D, detectpar=par,
                            noccasions=S, detector="count", usage=np.asarray(sv.usage, float),
                            en2=False)
    current["rse_with_recorded_usage"] = e_use.rse
    proposed = describe(res.chosen)
    jvn = joint_vs_national(cand.iloc[res.chosen], D=D, detectpar=par, noccasions=S,
                            detector="count", mask=mask)
    return {
        "settings": {"scale": scale, "seed": seed, "D_per_ha": D, "detectfn": "HHN", **par,
                     "noccasions": S, "detector": "count", "candidates": len(cand),
                     "candidate_spacing_m": spacing, "road_distance_m": road_distance_m,
                     "budgets_cameras": budgets, "mask_points": mask.n_points,
                     "criterion": res.criterion_name,
                     "search_time_limit_s": time_limit, "search_swaps": res.swaps,
                     "search_restarts": res.restarts, "search_seconds": res.seconds},
        "current": current,
        "proposed": proposed,
        "gain": res.gain,
        "joint_vs_national": jvn.to_dict(orient="records"),
        "proposed_xy": cand.iloc[res.chosen][["x", "y"]].to_numpy(),
    }


def theme_tables(result: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """Report-ready tables of :func:`theme_study_design` (no positions): ``layouts`` (one row
    per layout: cameras and stations per country, E(n), E(r), RSE(D), transboundary animals
    detected) and ``joint_vs_national`` (RSE(D) of the joint survey and each country alone
    with the proposed cameras)."""
    rows = []
    for label in ("current", "proposed"):
        d = result[label]
        row: dict[str, Any] = {"layout": label}
        for c, v in sorted(d["stations"].items()):
            row[f"stations_{c}"] = int(v)
        for c, v in sorted(d["cameras"].items()):
            row[f"cameras_{c}"] = float(v)
        row.update(En=d["En"], Er=d["Er"], rse=d["rse"],
                   transboundary_detected=d["transboundary_detected"])
        rows.append(row)
    jvn = pd.DataFrame(result["joint_vs_national"])[["survey", "stations", "cameras", "En",
                                                     "Er", "rse"]]
    return {"layouts": pd.DataFrame(rows), "joint_vs_national": jvn}
