"""Check a design by simulation: simulate SECR data for a layout, refit with amurlink's SECR.

As secrdesign's ``run.scenarios`` (with ``fit = TRUE``): each replicate draws a Poisson
number of activity centres uniformly in the detectors' bounding box widened by ``xsigma``
sigma, simulates detections (proximity: Bernoulli per detector and occasion with
``1 - exp(-h)``; count: Poisson with mean ``h``; multi: at most one detector per occasion),
and fits the hazard half-normal model by maximum likelihood
(:func:`amurlink.analysis.secr.fit_secr`, full likelihood, Poisson N) on a ``trapbuffer``
mask. Replicates run through :func:`amurlink.parallel.map_replicates` (Dask when available).

The summary gives, for D: relative bias RB with its Monte Carlo SE, mean RSE, rRMSE, coverage
of the 95% interval, SD(D-hat)/D, and beside them the expected counts and rule-of-thumb RSE of
the design. With detector countries it also counts transboundary animals (detected in both
countries) against their expectation (:func:`expected_transboundary`).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from amurlink.analysis.secr.mask import Mask, make_mask
from amurlink.design.expectations import (
    cast_to_hazard,
    expected_counts,
    hazard_matrix,
    traps_and_usage,
)
from amurlink.exceptions import AmurlinkWarning, DataError

__all__ = [
    "expected_transboundary",
    "simulate_capthist",
    "simulate_counts",
    "simulate_design",
    "summarise_simulation",
]


def expected_transboundary(
    traps: Any,
    country: Sequence[str],
    mask: Mask,
    *,
    D: float | np.ndarray,
    detectpar: Mapping[str, float],
    noccasions: int,
    detectfn: str = "HHN",
    usage: np.ndarray | None = None,
) -> dict[str, float]:
    """Expected animals detected in each country and in both (transboundary), proximity or
    count detectors: ``sum_x D a (1 - e^-Lambda_A(x)) (1 - e^-Lambda_B(x))`` (detections at
    different detectors are independent given the activity centre)."""
    fn, lam0, sigma = cast_to_hazard(detectfn, detectpar)
    xy, use, S = traps_and_usage(traps, noccasions, usage)
    country = np.asarray(country).astype(str)
    if country.shape != (len(xy),):
        raise DataError("country needs one code per detector")
    h = hazard_matrix(mask.xy, xy, fn, lam0, sigma)
    h = h * (S if use is None else use.sum(axis=1)[None, :])
    Dc = np.broadcast_to(np.asarray(D, float), (mask.n_points,)) * mask.cell_area_ha
    codes = sorted(set(country))
    p = {c: -np.expm1(-h[:, country == c].sum(axis=1)) for c in codes}
    out = {f"En_{c}": float(Dc @ p[c]) for c in codes}
    both = np.zeros(mask.n_points)
    if len(codes) >= 2:
        # detected in at least two countries
        none = np.ones(mask.n_points)
        one = np.zeros(mask.n_points)
        for c in codes:
            q = 1.0 - p[c]
            one = one * q + none * p[c]
            none = none * q
        both = 1.0 - none - one
    out["En_transboundary"] = float(Dc @ both)
    return out


def simulate_counts(
    rng: np.random.Generator,
    traps: np.ndarray,
    *,
    D: float,
    detectpar: Mapping[str, float],
    noccasions: int,
    detector: str = "proximity",
    detectfn: str = "HHN",
    xsigma: float = 4.0,
    usage: np.ndarray | None = None,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Simulated population and detections (population in the trap box + ``xsigma`` sigma).

    Returns the centres (n, 2) of the animals detected at least once and their detections
    as index arrays ``(animal, occasion, detector)`` (one entry per detection, 0-based).
    Count and proximity detectors are simulated per (animal, detector) pair: the number of
    detections (Poisson with mean ``h sum_s u_s``; binomial over the occasions a detector
    worked for 0/1 usage) and then their occasions, so long surveys stay cheap.
    """
    fn, lam0, sigma = cast_to_hazard(detectfn, detectpar)
    traps = np.asarray(traps, float)
    S = int(noccasions)
    K = traps.shape[0]
    lo = traps.min(axis=0) - xsigma * sigma
    hi = traps.max(axis=0) + xsigma * sigma
    area_ha = float(np.prod(hi - lo)) / 1e4
    N = rng.poisson(D * area_ha)
    centres = lo + (hi - lo) * rng.random((N, 2))
    h = hazard_matrix(centres, traps, fn, lam0, sigma)  # (N, K)
    use = np.ones((K, S)) if usage is None else np.asarray(usage, float)
    if use.shape != (K, S):
        raise DataError(f"usage must have shape ({K}, {S}), got {use.shape}")
    if detector == "count":
        tot = rng.poisson(h * use.sum(axis=1)[None, :])
        a, k = np.nonzero(tot)
        reps = tot[a, k]
        a, k = np.repeat(a, reps), np.repeat(k, reps)
        # occasion of each detection: in proportion to the detector's usage
        cf = np.cumsum(use.ravel())
        start = np.where(k > 0, cf[np.maximum(k * S - 1, 0)], 0.0)
        target = start + (1.0 - rng.random(len(k))) * use[k].sum(axis=1)
        s = np.clip(np.searchsorted(cf, target, side="left") - k * S, 0, S - 1)
    elif detector == "proximity":
        binary = np.all((use == 0) | (use == 1))
        if binary:
            nused = use.sum(axis=1).astype(int)
            tot = rng.binomial(np.broadcast_to(nused, h.shape), -np.expm1(-h))
            a, k = np.nonzero(tot)
            reps = tot[a, k]
            s_list = []
            for kk, r in zip(k, reps, strict=True):
                occ = np.flatnonzero(use[kk] > 0)
                s_list.append(rng.choice(occ, size=r, replace=False))
            a, k = np.repeat(a, reps), np.repeat(k, reps)
            s = np.concatenate(s_list) if s_list else np.zeros(0, int)
        else:
            a0, k0 = np.nonzero(h > 1e-14)
            p = -np.expm1(-h[a0, k0][:, None] * use[k0])
            hit = rng.random(p.shape) < p
            r, s = np.nonzero(hit)
            a, k = a0[r], k0[r]
    elif detector == "multi":
        lam = h[:, None, :] * use.T[None, :, :]  # (N, S, K)
        tot = lam.sum(axis=2)
        caught = rng.random((N, S)) < -np.expm1(-tot)
        a, s = np.nonzero(caught)
        share = np.cumsum(lam[a, s], axis=1) / tot[a, s][:, None]
        k = np.minimum((rng.random(len(a))[:, None] > share).sum(axis=1), K - 1)
    else:
        raise DataError(f"detector {detector!r}: expected proximity, count or multi")
    seen, a = np.unique(a, return_inverse=True)
    return centres[seen], (a.astype(int), np.asarray(s, int), np.asarray(k, int))


def _capthist(traps: np.ndarray, det: tuple, detector: str, S: int,
              usage: np.ndarray | None = None):
    from amurlink.analysis.secr import CaptureHistory

    a, s, k = det
    return CaptureHistory.from_arrays(traps, a, s, k, detector=detector, n_occasions=S,
                                      usage=usage)


def simulate_capthist(rng: np.random.Generator, traps: np.ndarray, **kwargs: Any):
    """One simulated :class:`~amurlink.analysis.secr.CaptureHistory` (see
    :func:`simulate_counts`)."""
    _, det = simulate_counts(rng, traps, **kwargs)
    return _capthist(np.asarray(traps, float), det, kwargs.get("detector", "proximity"),
                     int(kwargs["noccasions"]), kwargs.get("usage"))


def _replicate(rng: np.random.Generator, *, traps: np.ndarray, country: np.ndarray | None,
               D: float, detectpar: dict, noccasions: int, detector: str, detectfn: str,
               xsigma: float, mask: Mask, fit: bool,
               usage: np.ndarray | None = None,
               collapse_counts: bool = True) -> dict[str, Any]:
    from amurlink.analysis.secr import fit_secr

    t0 = time.perf_counter()
    _, det = simulate_counts(rng, traps, D=D, detectpar=detectpar, noccasions=noccasions,
                             detector=detector, detectfn=detectfn, xsigma=xsigma, usage=usage)
    a, _, k = det
    n = int(a.max()) + 1 if len(a) else 0
    per_k = np.zeros((n, traps.shape[0]), int)
    np.add.at(per_k, (a, k), 1)
    out: dict[str, Any] = {"n": n, "r": int(len(a)) - n,
                           "n2": int(((per_k > 0).sum(axis=1) >= 2).sum()),
                           "dpa": float((per_k > 0).sum(axis=1).mean()) if n else 0.0}
    if country is not None:
        seen = np.stack([(per_k[:, country == c].sum(axis=1) > 0)
                         for c in sorted(set(country))], axis=1)
        out["transboundary"] = int((seen.sum(axis=1) >= 2).sum())
    if fit and n > 0:
        if detector == "count" and collapse_counts:
            # Poisson counts: only totals per (animal, detector) and summed usage enter the
            # likelihood (secr's fastproximity collapse), so fit one occasion
            su = (np.full((traps.shape[0], 1), float(noccasions)) if usage is None
                  else usage.sum(axis=1, keepdims=True))
            ch = _capthist(traps, (det[0], np.zeros_like(det[1]), det[2]), detector, 1, su)
        else:
            ch = _capthist(traps, det, detector, noccasions, usage)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AmurlinkWarning)
            try:
                res = fit_secr(ch, mask, detectfn="HHN")
                pred = res.predict()
                for name in ("D", "lambda0", "sigma"):
                    for col in ("estimate", "se", "lcl", "ucl"):
                        out[f"{name}_{col}"] = float(pred.loc[name, col])
                out["ok"] = bool(np.isfinite(out["D_se"]))
            except Exception as exc:  # a failed fit is a result of the study, not a crash
                out.update(ok=False, error=f"{type(exc).__name__}: {exc}")
    out["seconds"] = time.perf_counter() - t0
    return out


def simulate_design(
    traps: Any,
    *,
    D: float,
    detectpar: Mapping[str, float],
    noccasions: int,
    detector: str = "proximity",
    detectfn: str = "HHN",
    nrepl: int = 50,
    seed: int = 12345,
    xsigma: float = 4.0,
    mask: Mask | None = None,
    nx: int = 32,
    country: Sequence[str] | None = None,
    usage: np.ndarray | None = None,
    fit: bool = True,
    collapse_counts: bool = True,
    scheduler: str | None = None,
    client: Any = None,
) -> pd.DataFrame:
    """Simulate ``nrepl`` surveys with the layout and refit each (one row per replicate).

    Parameters
    ----------
    traps : array (K, 2) or DataFrame
        Detector layout (metres); a ``country`` column is used when ``country`` is None.
    D, detectpar, noccasions, detector, detectfn
        The true state and design (HN/EX are cast to hazard forms; fits use HHN).
    nrepl : int
        Replicates.
    seed : int
        Parent seed (replicate seeds are its spawned children).
    xsigma : float
        Population region: trap box + ``xsigma`` sigma; also the mask buffer.
    mask : Mask, optional
        Fitting mask; default ``trapbuffer``, buffer ``xsigma`` sigma, ``nx`` cells across.
    country : sequence of str, optional
        Country of each detector (counts transboundary animals).
    usage : array (K, S), optional
        Effort of each detector on each occasion (also from ``usage_*`` columns of traps).
    fit : bool
        Fit each replicate (False: counts only, fast).
    collapse_counts : bool
        Fit count data as one occasion with summed usage (the same estimates as the full
        history under secr's ``fastproximity`` collapse, much faster to build).
    scheduler, client
        Passed to :func:`amurlink.parallel.map_replicates`.

    Returns
    -------
    DataFrame
        Columns ``n, r, n2, dpa, [transboundary], D_estimate, D_se, D_lcl, D_ucl, ...,
        ok, seconds``; attributes ``settings``.
    """
    from amurlink.parallel import map_replicates

    if isinstance(traps, pd.DataFrame) and country is None and "country" in traps:
        country = traps["country"].astype(str).to_numpy()
    xy, use, S = traps_and_usage(traps, noccasions, usage)
    fn, lam0, sigma = cast_to_hazard(detectfn, detectpar)
    if int(nrepl) < 1:
        raise DataError(f"nrepl must be at least 1, got {nrepl}")
    if mask is None:
        mask = make_mask(xy, buffer=xsigma * sigma, nx=nx, type="trapbuffer")
    ctry = None if country is None else np.asarray(country).astype(str)
    rows = map_replicates(_replicate, int(nrepl), seed=seed, scheduler=scheduler,
                          client=client, traps=xy, country=ctry, D=float(D),
                          detectpar=dict(detectpar), noccasions=S, detector=detector,
                          detectfn=detectfn, xsigma=xsigma, mask=mask, fit=fit, usage=use,
                          collapse_counts=collapse_counts)
    df = pd.DataFrame(rows)
    df.insert(0, "replicate", np.arange(1, len(df) + 1))
    df.attrs["settings"] = {"D": float(D), "detectfn": fn, "lambda0": lam0, "sigma": sigma,
                            "noccasions": S, "detector": detector, "xsigma": xsigma,
                            "mask_points": mask.n_points, "mask_spacing": mask.spacing,
                            "nrepl": int(nrepl), "seed": seed}
    df.attrs["mask"] = mask
    df.attrs["traps"] = xy
    df.attrs["country"] = ctry
    df.attrs["usage"] = use
    return df


def summarise_simulation(df: pd.DataFrame, *, level: float = 0.95) -> dict[str, Any]:
    """Summary of :func:`simulate_design` beside the design's expectations.

    Counts: mean (and Monte Carlo SE) of n, r, n2 and transboundary animals, with E(n),
    E(r), E(n2) and the expected transboundary animals on the population region. D (over
    valid fits): mean estimate, RB = mean(D-hat - D)/D with SE, mean RSE = mean(SE/D-hat),
    rRMSE, coverage of the interval with its SE, SD(D-hat)/D; the rule-of-thumb RSE (CF = 1)
    on the fitting mask and its ratio to the simulated SD(D-hat)/D.
    """
    st = df.attrs["settings"]
    D = st["D"]
    traps = df.attrs["traps"]
    mask = df.attrs["mask"]
    par = {"lambda0": st["lambda0"], "sigma": st["sigma"]}
    nrep = len(df)

    def ms(col):
        v = df[col].to_numpy(float)
        return float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else 0.0

    # expectations over the population region (rectangle), as the simulation draws it
    lo = traps.min(axis=0) - st["xsigma"] * st["sigma"]
    hi = traps.max(axis=0) + st["xsigma"] * st["sigma"]
    step = st["sigma"] / 4
    gx = np.arange(lo[0] + step / 2, hi[0], step)
    gy = np.arange(lo[1] + step / 2, hi[1], step)
    rect = Mask.from_points(np.array([(a, b) for b in gy for a in gx]), spacing=step)
    use = df.attrs.get("usage")
    e_rect = expected_counts(traps, rect, D=D, detectpar=par, noccasions=st["noccasions"],
                             detector=st["detector"], usage=use)
    e_mask = expected_counts(traps, mask, D=D, detectpar=par, noccasions=st["noccasions"],
                             detector=st["detector"], usage=use)
    out: dict[str, Any] = {"settings": st, "nrepl": nrep}
    for col, key in (("n", "En"), ("r", "Er"), ("n2", "En2")):
        m, se = ms(col)
        out[f"mean_{col}"], out[f"mcse_{col}"] = m, se
        out[key] = getattr(e_rect, key)
    out["mean_dpa"], out["mcse_dpa"] = ms("dpa")
    out["rule_of_thumb_rse"] = e_mask.rse
    if "transboundary" in df and df.attrs.get("country") is not None:
        m, se = ms("transboundary")
        out["mean_transboundary"], out["mcse_transboundary"] = m, se
        out.update(expected_transboundary(traps, df.attrs["country"], rect, D=D, detectpar=par,
                                          noccasions=st["noccasions"], usage=use))
    if "D_estimate" in df:
        ok = df["ok"].fillna(False).astype(bool) if "ok" in df else np.ones(nrep, bool)
        est = df.loc[ok, "D_estimate"].to_numpy(float)
        se = df.loc[ok, "D_se"].to_numpy(float)
        k = len(est)
        out["nvalid"] = int(k)
        if k >= 2:
            rel = (est - D) / D
            cover = (df.loc[ok, "D_lcl"] <= D) & (df.loc[ok, "D_ucl"] >= D)
            cov = float(cover.mean())
            out.update(
                D_mean=float(est.mean()), RB=float(rel.mean()),
                RB_se=float(rel.std(ddof=1) / math.sqrt(k)),
                mean_RSE=float(np.mean(se / est)),
                mean_RSE_se=float(np.std(se / est, ddof=1) / math.sqrt(k)),
                rRMSE=float(math.sqrt(np.mean(rel**2))),
                coverage=cov, coverage_se=float(math.sqrt(max(cov * (1 - cov), 1e-12) / k)),
                sd_over_true=float(est.std(ddof=1) / D),
            )
            # SE of an SD estimate: SD / sqrt(2 (k - 1))
            out["sd_over_true_se"] = out["sd_over_true"] / math.sqrt(2 * (k - 1))
            out["rot_over_simulated"] = e_mask.rse / out["sd_over_true"]
    return out
