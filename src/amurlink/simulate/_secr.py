"""SECR inputs from a simulated study: capture history of station detections and a mask."""

from __future__ import annotations

import numpy as np
import pandas as pd

from amurlink.simulate._study import SimulatedStudy

__all__ = ["secr_inputs", "expected_detections"]


def secr_inputs(study: SimulatedStudy, species: str, /, *, sex: str | None = None,
                buffer_m: float | None = None, spacing_m: float | None = None):
    """Capture history (Poisson ``count`` detectors, one occasion per day) and mask.

    Detections are the station events of independent animals of ``species`` (and ``sex``),
    before any camera failed to record them, so in ``secr-exact`` mode they follow exactly
    the SECR hazard half-normal model with ``lambda0 * sigmaDay**2 / sigma**2`` and
    ``sigma`` and usage = the share of each day a station worked.

    Returns
    -------
    capthist : amurlink.analysis.secr.CaptureHistory
    mask : amurlink.analysis.secr.Mask
        Around all stations, buffer ``4 sigma`` by default, spacing ``sigma / 2``.
    """
    from amurlink.analysis.secr import CaptureHistory, make_mask

    a = study.animals
    sv = study.survey
    ok = (a["scientificName"] == species) & (a["lifeStage"] != "juvenile")
    if sex is not None:
        ok &= a["sex"] == sex
    ev = study.records.events
    ev = ev[(ev["kind"] == "cat") & ev["animalIdx"].isin(np.flatnonzero(ok.to_numpy()))]
    animal_codes, animal_ids = pd.factorize(a["animalID"].to_numpy()[ev["animalIdx"].to_numpy()],
                                            sort=True)
    traps = sv.stations[["x", "y"]].to_numpy(float)
    ch = CaptureHistory.from_arrays(
        traps, animal_codes, ev["day"].to_numpy(), ev["stationIdx"].to_numpy(),
        detector="count", n_occasions=sv.n_days, usage=sv.usage,
        trap_ids=list(sv.stations["stationID"]), animal_ids=list(animal_ids),
        crs=study.landscape.crs)
    sigma = float(a.loc[ok, "sigma"].max()) if ok.any() else 5000.0
    mask = make_mask(traps, buffer=buffer_m or 4 * sigma, spacing=spacing_m or sigma / 2,
                     crs=study.landscape.crs)
    return ch, mask


def expected_detections(study: SimulatedStudy, species: str, /) -> float:
    """Expected number of station detections of ``species`` in ``secr-exact`` mode."""
    a = study.animals
    sv = study.survey
    st = sv.stations[["x", "y"]].to_numpy(float)
    total = 0.0
    days = np.arange(sv.n_days)
    for i in np.flatnonzero(((a["scientificName"] == species)
                             & (a["lifeStage"] != "juvenile")).to_numpy()):
        r = a.iloc[i]
        lam0 = r["lambda0"] * r["sigmaDay"] ** 2 / r["sigma"] ** 2
        centre = np.where(((r["disperseDay"] >= 0) & (days >= r["disperseDay"]))[:, None],
                          [r["x2"], r["y2"]], [r["x"], r["y"]])
        d2 = ((centre[:, None, :] - st[None]) ** 2).sum(-1)
        total += float((lam0 * np.exp(-d2 / (2 * r["sigma"] ** 2)) * sv.usage.T).sum())
    return total
