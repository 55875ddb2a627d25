"""Joint against national designs, cameras each country would need alone, and costing.

* :func:`joint_vs_national`: the rule-of-thumb RSE(D) of one joint survey (all cameras, one
  mask over both countries) against each country's survey with its own cameras on a mask
  around them only (what each would run alone), plus the two national estimates combined
  (inverse-variance, ignoring that transboundary animals are counted twice).
* :func:`cameras_needed_alone`: for each country, how many of its candidate sites (greedy
  additions to its current cameras, maximising min(E(n), E(r))) it needs to reach a target
  RSE(D), e.g. the joint survey's.
* :func:`costing`: cameras, station visits, camera-days and costs per country (after
  secrdesign's ``costing``: per array, per detector, per visit, per km of route, per
  detection), detections split by each country's share of the expected detections.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from amurlink.analysis.secr.mask import Mask, make_mask
from amurlink.design.expectations import (
    cast_to_hazard,
    expected_counts,
    hazard_matrix,
)
from amurlink.design.search import (
    _add_scores,
    _counts,
    _feasible_add,
    _used,
    prepare_problem,
)
from amurlink.exceptions import DataError

__all__ = ["cameras_needed_alone", "costing", "joint_vs_national"]


def _split(layout: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not isinstance(layout, pd.DataFrame) or not {"x", "y", "country"} <= set(layout):
        raise DataError("the layout needs columns x, y (metres) and country")
    xy = layout[["x", "y"]].to_numpy(float)
    country = layout["country"].astype(str).to_numpy()
    cams = (layout["cameras"].to_numpy(float) if "cameras" in layout
            else np.ones(len(layout)))
    return xy, country, cams


def joint_vs_national(
    layout: pd.DataFrame,
    *,
    D: float,
    detectpar: Mapping[str, float],
    noccasions: int,
    detectfn: str = "HHN",
    detector: str = "proximity",
    buffer: float | None = None,
    nx: int = 64,
    mask: Mask | None = None,
    CF: float = 1.0,
) -> pd.DataFrame:
    """RSE(D) of the joint survey and of each national survey with the same cameras.

    Parameters
    ----------
    layout : DataFrame
        ``x, y, country`` [``cameras``] of every station.
    D, detectpar, noccasions, detectfn, detector, CF
        The design setting (see :func:`amurlink.design.expected_counts`).
    buffer : float, optional
        Mask buffer (default 4 sigma) around the joint layout and around each national one.
    mask : Mask, optional
        The joint mask (default: ``trapbuffer`` around all stations); each national mask is
        the ``trapbuffer`` mask around that country's stations with the same cell size.

    Returns
    -------
    DataFrame
        One row per survey (``joint``, each country, ``national combined``): stations,
        cameras, E(n), E(r), RSE(D).
    """
    xy, country, cams = _split(layout)
    _, _, sigma = cast_to_hazard(detectfn, detectpar)
    buf = 4.0 * sigma if buffer is None else float(buffer)
    if mask is None:
        mask = make_mask(xy, buffer=buf, nx=nx)
    kw = {"D": D, "detectpar": detectpar, "noccasions": noccasions, "detectfn": detectfn,
          "detector": detector, "CF": CF, "en2": False}
    joint = expected_counts(xy, mask, **kw)
    rows = [{"survey": "joint", "stations": len(xy), "cameras": float(cams.sum()),
             "En": joint.En, "Er": joint.Er, "rse": joint.rse}]
    inv = 0.0
    for c in sorted(set(country)):
        sel = country == c
        m = make_mask(xy[sel], buffer=buf, spacing=mask.spacing)
        e = expected_counts(xy[sel], m, **kw)
        rows.append({"survey": c, "stations": int(sel.sum()), "cameras": float(cams[sel].sum()),
                     "En": e.En, "Er": e.Er, "rse": e.rse})
        inv += 1.0 / e.rse**2 if e.rse and math.isfinite(e.rse) else 0.0
    rows.append({"survey": "national combined", "stations": len(xy),
                 "cameras": float(cams.sum()), "En": float("nan"), "Er": float("nan"),
                 "rse": 1.0 / math.sqrt(inv) if inv > 0 else float("nan")})
    return pd.DataFrame(rows)


def cameras_needed_alone(
    candidates: pd.DataFrame,
    *,
    target_rse: float,
    D: float,
    detectpar: Mapping[str, float],
    noccasions: int,
    detectfn: str = "HHN",
    detector: str = "proximity",
    buffer: float | None = None,
    spacing: float | None = None,
    nx: int = 64,
    min_distance: float = 0.0,
    CF: float = 1.0,
) -> pd.DataFrame:
    """Stations and cameras each country needs on its own to reach ``target_rse``.

    ``candidates``: ``x, y, country`` [``cameras``, ``current``]; the sites with
    ``current = 1`` are kept and the country's other sites are added greedily (each step the
    one that raises min(E(n), E(r)) most) until ``sqrt(CF / min(E(n), E(r))) <= target_rse``.
    ``stations``/``cameras`` are None when all the country's candidates are not enough.
    """
    xy, country, cams = _split(candidates)
    if not target_rse > 0:
        raise DataError(f"target RSE must be positive, got {target_rse}")
    _, _, sigma = cast_to_hazard(detectfn, detectpar)
    buf = 4.0 * sigma if buffer is None else float(buffer)
    need = CF / target_rse**2
    rows = []
    for c in sorted(set(country)):
        sub = candidates[country == c].reset_index(drop=True)
        sxy = sub[["x", "y"]].to_numpy(float)
        if len(sub) < 2:
            rows.append({"country": c, "stations": None, "cameras": None,
                         "reached_rse": float("nan"), "candidates": len(sub)})
            continue
        mask = make_mask(sxy, buffer=buf, nx=nx) if spacing is None else \
            make_mask(sxy, buffer=buf, spacing=spacing)
        cur = (np.flatnonzero(sub["current"].fillna(0).astype(float) > 0)
               if "current" in sub else np.zeros(0, int))
        p = prepare_problem(sub, mask, D=D, detectpar=detectpar, noccasions=noccasions,
                            detectfn=detectfn, detector=detector, min_distance=min_distance,
                            fixed=cur)
        chosen = list(cur)
        chosen_mask = np.zeros(len(sub), bool)
        chosen_mask[chosen] = True
        A = p.Sh[:, chosen].sum(axis=1) if chosen else np.zeros(mask.n_points)
        found = None
        best = 0.0
        while True:
            if chosen:
                best = _counts(p, np.array(chosen, int))["min_nr"]
                if best >= need:
                    found = len(chosen)
                    break
            ok = _feasible_add(p, chosen_mask, _used(p, np.array(chosen, int)))
            if not ok.any():
                break
            s = np.where(ok, _add_scores(p, A, None, float(p.Cb[chosen].sum())), -np.inf)
            j = int(np.argmax(s))
            chosen.append(j)
            chosen_mask[j] = True
            A += p.Sh[:, j]
        sc = sub["cameras"].to_numpy(float) if "cameras" in sub else np.ones(len(sub))
        rows.append({
            "country": c, "stations": found,
            "cameras": None if found is None else float(sc[chosen].sum()),
            "reached_rse": math.sqrt(CF / best) if best > 0 else float("nan"),
            "candidates": len(sub)})
    return pd.DataFrame(rows)


def costing(
    layout: pd.DataFrame,
    *,
    D: float,
    detectpar: Mapping[str, float],
    noccasions: int,
    detectfn: str = "HHN",
    detector: str = "proximity",
    mask: Mask | None = None,
    unitcost: Mapping[str, float] | None = None,
    visits: int | None = None,
    occasion_days: float = 1.0,
    routelength_km: Mapping[str, float] | None = None,
    nrepeats: int = 1,
) -> pd.DataFrame:
    """Cameras, visits, camera-days and costs per country.

    Parameters
    ----------
    layout : DataFrame
        ``x, y, country`` [``cameras``] of the stations.
    unitcost : mapping
        Any of ``perarray`` (per country survey), ``perdetector`` (per camera),
        ``pervisit`` (per station visit), ``perkm`` (per km of route per visit round),
        ``perdetection`` (per expected detection, e.g. image processing).
    visits : int, optional
        Station visits (set-up, checks, retrieval); default ``noccasions + 1`` as
        secrdesign (a visit every occasion plus set-up).
    occasion_days : float
        Days per occasion (camera-days = cameras x occasions x days).
    routelength_km : mapping country -> km, optional
        Length of one round of the country's stations.
    nrepeats : int
        Repeated surveys.

    Returns
    -------
    DataFrame
        One row per country and a ``total`` row.
    """
    xy, country, cams = _split(layout)
    uc = {"perarray": 0.0, "perdetector": 0.0, "pervisit": 0.0, "perkm": 0.0,
          "perdetection": 0.0, **{k: float(v) for k, v in (unitcost or {}).items()}}
    unknown = set(uc) - {"perarray", "perdetector", "pervisit", "perkm", "perdetection"}
    if unknown:
        raise DataError(f"unknown unit cost(s) {sorted(unknown)}; expected perarray, "
                        "perdetector, pervisit, perkm, perdetection")
    fn, lam0, sigma = cast_to_hazard(detectfn, detectpar)
    if mask is None:
        mask = make_mask(xy, buffer=4 * sigma, nx=64)
    nv = int(noccasions) + 1 if visits is None else int(visits)
    e = expected_counts(xy, mask, D=D, detectpar=detectpar, noccasions=noccasions,
                        detectfn=detectfn, detector=detector, en2=False)
    h = hazard_matrix(mask.xy, xy, fn, lam0, sigma)
    per_k = (-np.expm1(-h) if detector == "proximity" else h).T @ (
        np.full(mask.n_points, D * mask.cell_area_ha)) * noccasions
    share = per_k / per_k.sum() if per_k.sum() > 0 else np.full(len(xy), 1 / len(xy))
    total_det = e.En + e.Er
    rows = []
    for c in sorted(set(country)):
        sel = country == c
        k = int(sel.sum())
        ncam = float(cams[sel].sum())
        det = total_det * float(share[sel].sum())
        route = float((routelength_km or {}).get(c, 0.0))
        row = {"country": c, "stations": k, "cameras": ncam, "visits": k * nv * nrepeats,
               "camera_days": ncam * noccasions * occasion_days * nrepeats,
               "expected_detections": det * nrepeats,
               "arrays": uc["perarray"] * nrepeats, "detectors": uc["perdetector"] * ncam
               * nrepeats, "visit_cost": uc["pervisit"] * k * nv * nrepeats,
               "travel": uc["perkm"] * route * nv * nrepeats,
               "detection_cost": uc["perdetection"] * det * nrepeats}
        row["total"] = (row["arrays"] + row["detectors"] + row["visit_cost"] + row["travel"]
                        + row["detection_cost"])
        rows.append(row)
    out = pd.DataFrame(rows)
    tot = out.drop(columns="country").sum(numeric_only=True)
    tot["country"] = "total"
    return pd.concat([out, tot.to_frame().T], ignore_index=True)
