"""Designs of the simulated theme study and the rule-of-thumb check by simulation.

:func:`neaspec_layout` gives the camera layout the simulator draws for a scenario (the
``neaspec`` joint study by default: Chinese paired stations on a grid, Russian single
cameras), with each station's usage per day and the SECR parameters of the scenario's
leopards in ``secr-exact`` mode. :func:`rule_of_thumb_check` simulates and refits designs
(:func:`amurlink.design.simulate_design`) and sets the rule-of-thumb RSE(D) (CF = 1) beside
the simulated RSE, SD(D-hat)/D.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from amurlink.design.simulation import simulate_design, summarise_simulation

__all__ = ["grid_layout", "neaspec_layout", "rule_of_thumb_check"]


def neaspec_layout(scale: str = "neaspec", *, seed: int = 7) -> dict[str, Any]:
    """Stations of the simulator's ``scale`` scenario and its leopard SECR parameters.

    Returns
    -------
    dict
        ``stations`` (DataFrame ``site_id, x, y, country, cameras``), ``usage`` (stations x
        days, share of each day a station worked), ``noccasions`` (days), ``detectpar``
        (HHN ``lambda0`` per day and ``sigma`` in metres), ``D`` (animals per hectare),
        ``crs``.
    """
    from amurlink.analysis.secr.study import STUDY_SPECIES, study_scenario
    from amurlink.simulate import design_survey, make_landscape

    sc = study_scenario(scale)
    ss = np.random.SeedSequence(int(seed))
    g_land, _, _, g_cam = (np.random.default_rng(s) for s in ss.spawn(4))
    land = make_landscape(bbox=sc.bbox, cell_m=sc.cell_m, rng=g_land)
    sv = design_survey(land, sc, rng=g_cam)
    st = sv.stations
    stations = pd.DataFrame({"site_id": st["stationID"].astype(str), "x": st["x"].astype(float),
                             "y": st["y"].astype(float), "country": st["country"].astype(str),
                             "cameras": 1 + (st["cam_b"].to_numpy() >= 0).astype(int)})
    p = sc.species[STUDY_SPECIES]
    sigma = float(p.sigma_m[0])
    lam = float(p.lambda0[0]) * p.sigma_day_m**2 / sigma**2
    return {"stations": stations, "usage": np.asarray(sv.usage, float),
            "noccasions": int(sv.n_days), "detectpar": {"lambda0": lam, "sigma": sigma},
            "D": float(p.density) / 1e4, "crs": str(land.crs)}


def grid_layout(nx: int, ny: int, spacing: float) -> pd.DataFrame:
    """A regular grid of ``nx`` x ``ny`` detectors (secr ``make.grid``), lower left at 0."""
    xs, ys = np.meshgrid(np.arange(nx) * spacing, np.arange(ny) * spacing)
    return pd.DataFrame({"x": xs.ravel(), "y": ys.ravel()})


def rule_of_thumb_check(designs: dict[str, dict[str, Any]], *, nrepl: int = 100,
                        seed: int = 2026, **kwargs: Any) -> pd.DataFrame:
    """Simulate and refit each design; rule-of-thumb RSE against the simulated RSE.

    ``designs``: name -> keyword arguments of :func:`simulate_design` (``traps``, ``D``,
    ``detectpar``, ``noccasions``, ``detector``, [``usage``, ``country``]).
    Returns one row per design: ``rot_rse`` (CF = 1), ``sim_rse`` (SD(D-hat)/D) and its MC
    SE, ``ratio`` (rot / sim), mean estimated RSE, RB, coverage, transboundary animals
    (simulated mean and expected) and the seconds taken.
    """
    import time

    rows = []
    for name, spec in designs.items():
        t0 = time.perf_counter()
        df = simulate_design(nrepl=nrepl, seed=seed, **spec, **kwargs)
        s = summarise_simulation(df)
        rows.append({"design": name, "detectors": len(df.attrs["traps"]),
                     "nvalid": s.get("nvalid"), "mean_n": s["mean_n"], "En": s["En"],
                     "mean_r": s["mean_r"], "Er": s["Er"], "rot_rse": s["rule_of_thumb_rse"],
                     "sim_rse": s.get("sd_over_true"), "sim_rse_se": s.get("sd_over_true_se"),
                     "ratio": s.get("rot_over_simulated"), "mean_RSE": s.get("mean_RSE"),
                     "RB": s.get("RB"), "RB_se": s.get("RB_se"), "coverage": s.get("coverage"),
                     "mean_transboundary": s.get("mean_transboundary"),
                     "En_transboundary": s.get("En_transboundary"),
                     "seconds": time.perf_counter() - t0})
    return pd.DataFrame(rows)
