"""Expected counts of an SECR survey design and the rule-of-thumb RSE(D).

Reproduces R secrdesign 2.10.1 ``Lambda``, ``Enrm``, ``En2`` and ``minnrRSE`` (Efford &
Boulanger 2019) for ``proximity``, ``count`` and ``multi`` detectors. Non-hazard detection
functions are first cast to their hazard form as secrdesign does (HN -> HHN, EX -> HEX: the
probability of detection in one occasion at ``d = sigma`` is kept).

Units: coordinates and sigma in metres, density in animals per hectare, areas in hectares.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from amurlink.analysis.secr.mask import Mask
from amurlink.exceptions import DataError

__all__ = [
    "DETECTFNS",
    "DETECTOR_TYPES",
    "DesignExpectations",
    "HazardSurfaces",
    "array_summary",
    "cast_to_hazard",
    "expected_counts",
    "hazard_matrix",
    "hazard_surfaces",
    "rule_of_thumb_rse",
    "traps_and_usage",
]

#: Detector types with expected counts.
DETECTOR_TYPES = ("proximity", "count", "multi")
#: Detection functions accepted (HN and EX are cast to HHN and HEX).
DETECTFNS = ("HHN", "HEX", "HN", "EX")


def cast_to_hazard(detectfn: str, detectpar: Mapping[str, float]) -> tuple[str, float, float]:
    """Hazard form of a detection function, as secrdesign's ``dfcast``.

    HN (``g0, sigma``) becomes HHN with ``lambda0 = -log(1 - g0)`` and the sigma for which
    both curves give the same detection probability at ``d = sigma`` (``g0 exp(-1/2)``); EX
    becomes HEX matched at ``d = sigma`` (``g0 exp(-1)``). Hazard functions pass unchanged.
    secrdesign solves for sigma with ``uniroot``; the closed form here agrees to 1e-9.

    Parameters
    ----------
    detectfn : {"HHN", "HEX", "HN", "EX"}
    detectpar : mapping
        ``lambda0`` (hazard forms) or ``g0`` (HN, EX), and ``sigma`` in metres.

    Returns
    -------
    (detectfn_used, lambda0_used, sigma_used)
    """
    fn = str(detectfn).upper()
    if fn not in DETECTFNS:
        raise DataError(f"detection function {detectfn!r} not supported; expected one of "
                        f"{', '.join(DETECTFNS)}")
    sigma = _positive(detectpar.get("sigma"), "sigma")
    if fn in ("HHN", "HEX"):
        lam0 = _positive(detectpar.get("lambda0"), "lambda0")
        return fn, lam0, sigma
    g0 = detectpar.get("g0")
    if g0 is None or not (0.0 < float(g0) < 1.0):
        raise DataError(f"{fn} needs g0 strictly between 0 and 1, got {g0!r}")
    g0 = float(g0)
    lam0 = -math.log1p(-g0)
    if fn == "HN":
        ratio = lam0 / (-math.log1p(-g0 * math.exp(-0.5)))
        return "HHN", lam0, sigma / math.sqrt(2.0 * math.log(ratio))
    ratio = lam0 / (-math.log1p(-g0 * math.exp(-1.0)))
    return "HEX", lam0, sigma / math.log(ratio)


def _positive(value: Any, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise DataError(
            f"detection parameter {name} is missing or not a number: {value!r}"
        ) from None
    if not (math.isfinite(v) and v > 0):
        raise DataError(f"detection parameter {name} must be a positive number, got {value!r}")
    return v


def traps_and_usage(
    traps: Any, noccasions: int | None = None, usage: ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Detector coordinates (K, 2), usage (K, S) or None, and the number of occasions.

    ``traps`` may be an array (K, 2) or a frame from :func:`amurlink.analysis.secr.read_traps`
    (columns ``x, y`` and optional ``usage_1..usage_S``).
    """
    if isinstance(traps, pd.DataFrame):
        if not {"x", "y"} <= set(traps.columns):
            raise DataError("detector table needs columns x and y (metres)")
        xy = traps[["x", "y"]].to_numpy(dtype=float)
        ucols = [c for c in traps.columns if str(c).startswith("usage_")]
        if usage is None and ucols:
            usage = traps[ucols].to_numpy(dtype=float)
    else:
        xy = np.asarray(traps, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2 or xy.shape[0] < 1:
        raise DataError(f"detectors must have shape (K, 2) with K >= 1, got {xy.shape}")
    if not np.all(np.isfinite(xy)):
        raise DataError("detector coordinates contain missing or infinite values")
    if usage is not None:
        usage = np.asarray(usage, dtype=float)
        if usage.ndim == 1:
            usage = usage[:, None]
        if usage.shape[0] != xy.shape[0]:
            raise DataError(f"usage needs one row per detector ({xy.shape[0]}), "
                            f"got {usage.shape[0]}")
        if not np.all(np.isfinite(usage)) or np.any(usage < 0):
            raise DataError("usage must be finite and >= 0 (fraction of each occasion worked)")
        if noccasions is not None and usage.shape[1] != int(noccasions):
            raise DataError(f"usage has {usage.shape[1]} occasions but noccasions is "
                            f"{noccasions}")
        noccasions = usage.shape[1]
        if np.all(usage == 1.0):
            usage = None
    if noccasions is None or int(noccasions) < 1:
        raise DataError(f"noccasions must be a positive integer, got {noccasions!r}")
    return xy, usage, int(noccasions)


def _mask_xy_area(mask: Any) -> tuple[np.ndarray, float]:
    if isinstance(mask, Mask):
        return mask.xy, mask.cell_area_ha
    raise DataError("mask must be an amurlink.analysis.secr.Mask (see make_mask, read_mask)")


def hazard_matrix(
    mask_xy: np.ndarray, traps_xy: np.ndarray, detectfn: str, lambda0: float, sigma: float
) -> np.ndarray:
    """Per-occasion hazard ``h[m, k]`` at mask point m from detector k (hazard forms only).

    For HHN on a grid mask (few distinct x and y values) the halfnormal factorises,
    ``exp(-dx^2/2s^2) exp(-dy^2/2s^2)``, so only small tables are exponentiated.
    """
    mask_xy = np.asarray(mask_xy, dtype=float)
    traps_xy = np.asarray(traps_xy, dtype=float)
    M = mask_xy.shape[0]
    if detectfn == "HHN":
        ux, ix = np.unique(mask_xy[:, 0], return_inverse=True)
        uy, iy = np.unique(mask_xy[:, 1], return_inverse=True)
        if len(ux) + len(uy) < M:
            c = -0.5 / (sigma * sigma)
            ex = np.subtract.outer(ux, traps_xy[:, 0])
            ex = np.exp(c * ex * ex)
            ex *= lambda0
            ey = np.subtract.outer(uy, traps_xy[:, 1])
            ey = np.exp(c * ey * ey)
            h = ex[ix]
            h *= ey[iy]
            return h
    dx = np.subtract.outer(mask_xy[:, 0], traps_xy[:, 0])
    d2 = np.multiply(dx, dx, out=dx)
    dy = np.subtract.outer(mask_xy[:, 1], traps_xy[:, 1])
    dy *= dy
    d2 += dy
    del dy
    if detectfn == "HHN":
        d2 *= -0.5 / (sigma * sigma)
    else:  # HEX
        np.sqrt(d2, out=d2)
        d2 *= -1.0 / sigma
    np.exp(d2, out=d2)
    d2 *= lambda0
    return d2


@dataclass(frozen=True)
class HazardSurfaces:
    """Per-mask-point sums over detectors (secrdesign ``Lambda``'s covariates).

    ``Lambda``: total expected detections of an animal centred there over all occasions
    (hazard summed over detectors and occasions); ``sumpk``: expected number of detections
    (proximity: detector-occasions with a detection; multi: occasions with a capture; count:
    equal to Lambda); ``sumq2``: the sum of squared detector shares of the hazard (movement
    term); ``p_le1``: probability of being detected at no more than one detector (for E(n2)).
    """

    Lambda: np.ndarray
    sumpk: np.ndarray
    sumq2: np.ndarray
    p_le1: np.ndarray | None


def hazard_surfaces(
    traps: Any,
    mask: Mask,
    *,
    detectfn: str = "HHN",
    detectpar: Mapping[str, float],
    noccasions: int | None = None,
    detector: str = "proximity",
    usage: ArrayLike | None = None,
    en2: bool = True,
) -> HazardSurfaces:
    """The per-point surfaces behind the expected counts (see :class:`HazardSurfaces`)."""
    if detector not in DETECTOR_TYPES:
        raise DataError(f"detector type {detector!r} has no expected counts; expected one of "
                        f"{', '.join(DETECTOR_TYPES)}")
    fn, lam0, sigma = cast_to_hazard(detectfn, detectpar)
    xy, use, S = traps_and_usage(traps, noccasions, usage)
    mxy, _ = _mask_xy_area(mask)
    # blocks of mask points keep the working arrays in cache
    rows = max(1, _BLOCK_ELEMENTS // max(1, xy.shape[0]))
    block = _hazard_blocks(mxy, xy, fn, lam0, sigma)
    if mxy.shape[0] <= rows:
        return _surfaces(block(0, mxy.shape[0]), use, S, detector, en2)
    parts = [_surfaces(block(i, min(i + rows, mxy.shape[0])), use, S, detector, en2)
             for i in range(0, mxy.shape[0], rows)]
    return HazardSurfaces(
        Lambda=np.concatenate([q.Lambda for q in parts]),
        sumpk=np.concatenate([q.sumpk for q in parts]),
        sumq2=np.concatenate([q.sumq2 for q in parts]),
        p_le1=None if not en2 else np.concatenate([q.p_le1 for q in parts]))


def _hazard_blocks(mask_xy: np.ndarray, traps_xy: np.ndarray, detectfn: str, lambda0: float,
                   sigma: float):
    """``block(i0, i1)`` -> hazards of mask points i0..i1 (the HHN grid tables made once)."""
    M = mask_xy.shape[0]
    if detectfn == "HHN":
        ux, ix = np.unique(mask_xy[:, 0], return_inverse=True)
        uy, iy = np.unique(mask_xy[:, 1], return_inverse=True)
        if len(ux) + len(uy) < M:
            c = -0.5 / (sigma * sigma)
            ex = np.subtract.outer(ux, traps_xy[:, 0])
            ex = np.exp(c * ex * ex) * lambda0
            ey = np.subtract.outer(uy, traps_xy[:, 1])
            ey = np.exp(c * ey * ey)

            def grid(i0: int, i1: int) -> np.ndarray:
                h = ex[ix[i0:i1]]
                h *= ey[iy[i0:i1]]
                return h
            return grid
    return lambda i0, i1: hazard_matrix(mask_xy[i0:i1], traps_xy, detectfn, lambda0, sigma)


_BLOCK_ELEMENTS = 1 << 17


def _surfaces(h: np.ndarray, use: np.ndarray | None, S: int, detector: str,
              en2: bool) -> HazardSurfaces:
    if use is None:
        uk = None
        hs = h.sum(axis=1)
        Lam = S * hs
        sumq2 = np.einsum("mk,mk->m", h, h)
    else:
        uk = use.sum(axis=1)
        hu = h * uk[None, :]
        Lam = hu.sum(axis=1)
        sumq2 = np.einsum("mk,mk->m", hu, hu)
    with np.errstate(invalid="ignore", divide="ignore"):
        sumq2 = np.where(Lam > 0, sumq2 / (Lam / (S if use is None else 1.0)) ** 2, 1.0)
    if detector == "count":
        sumpk = Lam
    elif detector == "proximity":
        if use is None:
            sumpk = S * _sum_expm1(h, -1.0)
        else:
            sumpk = np.zeros(h.shape[0])
            for value in np.unique(use[use > 0]):
                nk = (use == value).sum(axis=1).astype(float)
                sel = nk > 0
                sumpk += (-np.expm1(-value * h[:, sel])) @ nk[sel]
    else:  # multi: one capture at most per occasion, per-occasion total hazard
        if use is None:
            sumpk = S * (-np.expm1(-hs))
        else:
            cols, counts = np.unique(use, axis=1, return_counts=True)
            sumpk = (-np.expm1(-(h @ cols))) @ counts.astype(float)
    p_le1 = None
    if en2:
        p0 = np.exp(-Lam)
        if detector == "multi":
            # P(all captures at one detector k or none) = prod_s (e^-lam_s + q_ks)
            if use is None:
                lam_s = hs
                with np.errstate(invalid="ignore", divide="ignore"):
                    q = np.where(lam_s[:, None] > 0,
                                 h * (-np.expm1(-lam_s) / lam_s)[:, None], 0.0)
                only_k = (np.exp(-lam_s)[:, None] + q) ** S
            else:
                only_k = np.ones_like(h)
                cols, counts = np.unique(use, axis=1, return_counts=True)
                for c, n in zip(cols.T, counts, strict=True):
                    hc = h * c[None, :]
                    lam_s = hc.sum(axis=1)
                    with np.errstate(invalid="ignore", divide="ignore"):
                        q = np.where(lam_s[:, None] > 0,
                                     hc * (-np.expm1(-lam_s) / lam_s)[:, None], 0.0)
                    only_k *= (np.exp(-lam_s)[:, None] + q) ** n
            p1 = (only_k - p0[:, None]).sum(axis=1)
        else:
            # p_k / (1 - p_k) with p_k = 1 - exp(-hk)  ->  expm1(hk)
            if uk is None:
                p1 = p0 * _sum_expm1(h, float(S))
            else:
                p1 = p0 * np.expm1(h * uk[None, :]).sum(axis=1)
        p_le1 = p0 + p1
    return HazardSurfaces(Lambda=Lam, sumpk=sumpk, sumq2=sumq2, p_le1=p_le1)


def _sum_expm1(h: np.ndarray, scale: float) -> np.ndarray:
    """``sum_k |expm1(scale h[m, k])|`` per row, in float64 (float32 exponentials were 3-4
    times faster but E(r) = sum(sumpk) - E(n) amplifies their 1e-7 rounding several times
    where E(r) is small; exactness wins)."""
    t = np.multiply(h, scale)
    np.expm1(t, out=t)
    return np.abs(t.sum(axis=1))


def rule_of_thumb_rse(
    En: float,
    Er: float,
    *,
    CF: float = 1.0,
    distribution: str = "poisson",
    D: float | ArrayLike | None = None,
    mask_area_ha: float | None = None,
) -> float:
    """Rule-of-thumb RSE(D-hat) = sqrt(CF / min(E(n), E(r))) (Efford & Boulanger 2019).

    With ``distribution="binomial"`` (N fixed in the mask), ``sqrt(RSE**2 - 1/(D A))`` with
    ``D`` the mean density and ``A`` the mask area (secrdesign ``minnrRSE``). NaN when the
    binomial correction exceeds the Poisson variance or min(E(n), E(r)) is not positive.
    """
    if CF <= 0:
        raise DataError(f"correction factor CF must be positive, got {CF}")
    m = min(En, Er)
    if not m > 0:
        return float("nan")
    rse2 = CF / m
    if distribution == "binomial":
        if D is None or mask_area_ha is None:
            raise DataError("the binomial RSE needs the density D and the mask area")
        rse2 -= 1.0 / (float(np.mean(D)) * mask_area_ha)
    elif distribution != "poisson":
        raise DataError(f"distribution must be 'poisson' or 'binomial', got {distribution!r}")
    return math.sqrt(rse2) if rse2 > 0 else float("nan")


@dataclass(frozen=True)
class DesignExpectations:
    """Expected counts of one design setting (secrdesign ``Enrm``, ``En2``, ``minnrRSE``).

    ``En`` animals detected, ``Er`` recaptures (detections minus animals), ``Em`` movements
    (recaptures at a detector other than the previous one), ``En2`` animals detected at two
    or more detectors, ``esa_ha`` effective sampling area (E(n)/D for constant D; with the
    hazard form, as secrdesign's ``scenarioSummary``), ``esa_native_ha`` the same from the
    native HN/EX detection function (``1 - prod_k (1 - g_k)^(S u_k)``; equal to ``esa_ha``
    for hazard functions), ``rse``
    rule-of-thumb RSE(D) with correction factor ``CF`` under ``distribution``,
    ``rse_poisson`` / ``rse_binomial`` both forms with the same CF.
    """

    En: float
    Er: float
    Em: float
    En2: float | None
    esa_ha: float
    esa_native_ha: float
    rse: float
    rse_poisson: float
    rse_binomial: float
    CF: float
    distribution: str
    detector: str
    detectfn: str
    detectfn_used: str
    lambda0_used: float
    sigma_used: float
    noccasions: int
    n_detectors: int
    mask_points: int
    mask_area_ha: float
    D_mean: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (NaN as None)."""
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in asdict(self).items()}


def expected_counts(
    traps: Any,
    mask: Mask,
    *,
    D: float | ArrayLike,
    detectfn: str = "HHN",
    detectpar: Mapping[str, float],
    noccasions: int | None = None,
    detector: str = "proximity",
    usage: ArrayLike | None = None,
    CF: float = 1.0,
    distribution: str = "poisson",
    en2: bool = True,
) -> DesignExpectations:
    """Expected E(n), E(r), E(m), E(n2), esa and rule-of-thumb RSE(D) of a design.

    Parameters
    ----------
    traps : array (K, 2) or DataFrame
        Detector coordinates in metres; a frame from ``read_traps`` may carry
        ``usage_1..usage_S`` (fraction of each occasion worked).
    mask : Mask
        Habitat mask (cell centres and spacing); density applies per cell.
    D : float or array (M,)
        Density in animals per hectare, constant or per mask point.
    detectfn : {"HHN", "HEX", "HN", "EX"}
        HN/EX are cast to hazard forms first (:func:`cast_to_hazard`), as secrdesign does.
    detectpar : mapping
        ``lambda0`` or ``g0``, and ``sigma`` (metres).
    noccasions : int
        Number of occasions (taken from usage when given).
    detector : {"proximity", "count", "multi"}
    usage : array (K, S), optional
        Effort per detector and occasion; secrdesign ignores usage (all ones), this scales
        each detector's hazard on each occasion.
    CF : float, default 1
        Correction factor of the rule of thumb (about 1 for a well-spaced grid).
    distribution : {"poisson", "binomial"}
        Distribution of N for the reported ``rse``.
    en2 : bool, default True
        Also compute E(n2).

    Returns
    -------
    DesignExpectations

    References
    ----------
    Efford, M. G. & Boulanger, J. (2019). Fast evaluation of study designs for spatially
    explicit capture-recapture. Methods in Ecology and Evolution 10, 1529-1535.
    """
    mxy, cell = _mask_xy_area(mask)
    Dv = np.asarray(D, dtype=float)
    if Dv.ndim not in (0, 1) or (Dv.ndim == 1 and Dv.shape[0] != mxy.shape[0]):
        raise DataError(f"D must be a number or one value per mask point ({mxy.shape[0]})")
    if not np.all(np.isfinite(Dv)) or np.any(Dv < 0):
        raise DataError("density D must be finite and >= 0 animals per hectare")
    fn, lam0, sigma = cast_to_hazard(detectfn, detectpar)
    xy, use, S = traps_and_usage(traps, noccasions, usage)
    surf = hazard_surfaces(xy, mask, detectfn=fn, detectpar={"lambda0": lam0, "sigma": sigma},
                           noccasions=S, detector=detector, usage=use, en2=en2)
    Dc = Dv * cell
    pn = -np.expm1(-surf.Lambda)
    En = float(np.sum(Dc * pn))
    Er = float(np.sum(Dc * surf.sumpk)) - En
    Em = float(np.sum(Dc * (surf.sumpk - pn) * (1.0 - surf.sumq2)))
    En2 = None if surf.p_le1 is None else float(np.sum(Dc * (1.0 - surf.p_le1)))
    area = mxy.shape[0] * cell
    esa = float(np.sum(pn) * cell)
    esa_native = esa
    fn_in = str(detectfn).upper()
    if fn_in in ("HN", "EX"):
        g0 = float(detectpar["g0"])
        sig = float(detectpar["sigma"])
        log_q = np.zeros(mxy.shape[0])
        uk = np.full(xy.shape[0], float(S)) if use is None else use.sum(axis=1)
        for i in range(0, mxy.shape[0], max(1, _BLOCK_ELEMENTS // xy.shape[0])):
            blk = mxy[i:i + max(1, _BLOCK_ELEMENTS // xy.shape[0])]
            d2 = (np.subtract.outer(blk[:, 0], xy[:, 0]) ** 2
                  + np.subtract.outer(blk[:, 1], xy[:, 1]) ** 2)
            g = g0 * (np.exp(-d2 / (2 * sig * sig)) if fn_in == "HN" else np.exp(-np.sqrt(d2)
                                                                                   / sig))
            log_q[i:i + len(blk)] = np.log1p(-g) @ uk
        esa_native = float(np.sum(-np.expm1(log_q)) * cell)
    Dmean = float(np.mean(Dv))
    rse_p = rule_of_thumb_rse(En, Er, CF=CF)
    rse_b = rule_of_thumb_rse(En, Er, CF=CF, distribution="binomial", D=Dmean,
                              mask_area_ha=area) if Dmean > 0 else float("nan")
    if distribution not in ("poisson", "binomial"):
        raise DataError(f"distribution must be 'poisson' or 'binomial', got {distribution!r}")
    return DesignExpectations(
        En=En, Er=Er, Em=Em, En2=En2, esa_ha=esa, esa_native_ha=esa_native,
        rse=rse_p if distribution == "poisson" else rse_b,
        rse_poisson=rse_p, rse_binomial=rse_b, CF=float(CF), distribution=distribution,
        detector=detector, detectfn=str(detectfn).upper(), detectfn_used=fn,
        lambda0_used=lam0, sigma_used=sigma, noccasions=S, n_detectors=xy.shape[0],
        mask_points=mxy.shape[0], mask_area_ha=area, D_mean=Dmean,
    )


def array_summary(
    traps: Any,
    mask: Mask,
    *,
    D: float | ArrayLike,
    detectpar: Mapping[str, float],
    noccasions: int | None = None,
    detectfn: str = "HHN",
) -> dict[str, float]:
    """Descriptors of an array for a setting, as secrdesign's ``scenarioSummary``.

    ``arrayspace``: detector spacing (mean nearest-neighbour distance) / sigma;
    ``arrayspan``: largest distance between two detectors / sigma; ``saturation``: expected
    proportion of detectors with at least one detection on an occasion
    (``mean_k 1 - exp(-sum_x D a h_k(x))``); ``k``: ``sigma sqrt(D) / 100`` (the density-
    spacing constant of Efford & Boulanger 2019). Sigma is the given one (before any cast).
    """
    from scipy.spatial import cKDTree
    from scipy.spatial.distance import pdist

    fn, lam0, sigma_used = cast_to_hazard(detectfn, detectpar)
    xy, _, _ = traps_and_usage(traps, noccasions if noccasions else 1)
    sigma = float(detectpar["sigma"])
    mxy, cell = _mask_xy_area(mask)
    Dc = np.broadcast_to(np.asarray(D, float), (mxy.shape[0],)) * cell
    h = hazard_matrix(mxy, xy, fn, lam0, sigma_used)
    sat = float(np.mean(-np.expm1(-(Dc @ h))))
    if len(xy) >= 2:
        nn, _ = cKDTree(xy).query(xy, k=2)
        space = float(nn[:, 1].mean()) / sigma
        span = float(pdist(xy).max()) / sigma
    else:
        space = span = float("nan")
    return {"arrayspace": space, "arrayspan": span, "saturation": sat,
            "k": sigma * math.sqrt(float(np.mean(D))) / 100.0}
