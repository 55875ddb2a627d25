"""Optimal detector spacing: rule-of-thumb RSE(D) against spacing in units of sigma.

A port of R secrdesign's ``optimalSpacing`` with the rule-of-thumb RSE (no simulation):
the detector array is held fixed and sigma varies, ``sigma' = spacing / R``, with the density
rescaled so that ``k = sigma sqrt(D)`` stays constant, a mask of buffer ``xsigma sigma'`` and
cell side ``s1 / R`` (``s1`` the cell of the ``R = 1`` mask with 64 cells across). The optimum
is where the linear interpolants of E(n)(R) and E(r)(R) cross.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from amurlink.analysis.secr.mask import make_mask
from amurlink.design.expectations import cast_to_hazard, expected_counts, traps_and_usage
from amurlink.exceptions import DataError

__all__ = ["SpacingResult", "detector_spacing", "optimal_spacing"]

DEFAULT_R = tuple(np.round(np.arange(1, 21) * 0.2, 10))


def detector_spacing(xy: Any) -> float:
    """Mean distance from each detector to its nearest neighbour (secr ``spacing``), metres."""
    xy = np.asarray(xy, dtype=float)
    if xy.ndim != 2 or xy.shape[0] < 2:
        raise DataError("the spacing of a layout needs at least two detectors")
    dist, _ = cKDTree(xy).query(xy, k=2)
    return float(dist[:, 1].mean())


@dataclass(frozen=True)
class SpacingResult:
    """RSE against relative spacing R (spacing / sigma), with the optimum if there is one.

    ``curve``: frame with ``R, spacing_m, sigma_m, D, En, Er, Em, RSE``; ``optimum_R``,
    ``optimum_spacing_m`` (``R * sigma``) and ``minimum_RSE`` are None when E(n) - E(r) does
    not change sign over the R range (secrdesign returns NA there); ``note`` says why.
    """

    curve: pd.DataFrame
    optimum_R: float | None
    optimum_spacing_m: float | None
    minimum_RSE: float | None
    sigma: float
    trap_spacing_m: float
    note: str | None = None
    settings: dict = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "optimum_R": self.optimum_R,
            "optimum_spacing_m": self.optimum_spacing_m,
            "minimum_RSE": self.minimum_RSE,
            "sigma_m": self.sigma,
            "trap_spacing_m": self.trap_spacing_m,
            "note": self.note,
            "settings": self.settings,
            "curve": self.curve.to_dict(orient="records"),
        }


def _crossing(R: np.ndarray, diff: np.ndarray) -> float | None:
    """First R where the piecewise-linear ``diff`` reaches zero (None without a sign change)."""
    if not (np.nanmin(diff) <= 0 <= np.nanmax(diff)) or diff[0] * diff[-1] > 0:
        return None
    for i in range(len(R) - 1):
        a, b = diff[i], diff[i + 1]
        if a == 0:
            return float(R[i])
        if a * b < 0:
            return float(R[i] + (R[i + 1] - R[i]) * a / (a - b))
    return float(R[-1]) if diff[-1] == 0 else None


def optimal_spacing(
    traps: Any,
    *,
    D: float,
    detectpar: Mapping[str, float],
    noccasions: int,
    detectfn: str = "HHN",
    detector: str = "proximity",
    R: Sequence[float] = DEFAULT_R,
    xsigma: float = 4.0,
    nx: int = 64,
    CF: float = 1.0,
    distribution: str = "poisson",
    nrepeats: int = 1,
) -> SpacingResult:
    """Rule-of-thumb RSE(D) against detector spacing in sigma units (secrdesign
    ``optimalSpacing(..., fit.function = "none")``).

    Parameters
    ----------
    traps : array (K, 2) or DataFrame
        The layout whose shape is kept; only its scale relative to sigma varies.
    D : float
        Density (animals per hectare) at the given sigma; ``sigma sqrt(D)`` is held fixed.
    detectpar, detectfn, noccasions, detector, CF, distribution
        As :func:`amurlink.design.expected_counts`; HN/EX are cast to hazard forms.
    R : sequence of float
        Relative spacings (detector spacing / sigma); default 0.2, 0.4, ..., 4.
    xsigma : float, default 4
        Mask buffer in units of sigma.
    nx : int, default 64
        Cells across the ``R = 1`` mask.
    nrepeats : int, default 1
        Number of identical, independent arrays (multiplies D).

    Returns
    -------
    SpacingResult
    """
    xy, _, S = traps_and_usage(traps, noccasions)
    fn, lam0, sigma = cast_to_hazard(detectfn, detectpar)
    Rv = np.asarray(list(R), dtype=float)
    if Rv.ndim != 1 or len(Rv) < 2 or np.any(Rv <= 0) or np.any(np.diff(Rv) <= 0):
        raise DataError("R must be at least two increasing positive relative spacings")
    if not (D > 0):
        raise DataError(f"density D must be positive, got {D}")
    sp = detector_spacing(xy)
    k = sigma * math.sqrt(D)
    s1 = make_mask(xy, buffer=xsigma * sp, nx=nx, type="trapbuffer").spacing
    rows = []
    for r in Rv:
        sig_r = sp / r
        D_r = (k / sig_r) ** 2
        mask = make_mask(xy, buffer=xsigma * sig_r, spacing=s1 / r, type="trapbuffer")
        e = expected_counts(xy, mask, D=D_r * nrepeats, detectfn=fn,
                            detectpar={"lambda0": lam0, "sigma": sig_r}, noccasions=S,
                            detector=detector, CF=CF, distribution=distribution, en2=False)
        rows.append({"R": r, "spacing_m": r * sigma, "sigma_m": sig_r, "D": D_r, "En": e.En,
                     "Er": e.Er, "Em": e.Em, "RSE": e.rse, "mask_points": mask.n_points})
    curve = pd.DataFrame(rows)
    opt = _crossing(Rv, (curve["En"] - curve["Er"]).to_numpy())
    note = None
    if opt is None:
        note = ("no optimum: E(n) - E(r) does not change sign over the range of R "
                f"({Rv[0]:g} to {Rv[-1]:g})")
        min_rse = None
    else:
        min_rse = float(np.interp(opt, Rv, curve["RSE"].to_numpy()))
    return SpacingResult(
        curve=curve, optimum_R=opt, optimum_spacing_m=None if opt is None else opt * sigma,
        minimum_RSE=min_rse, sigma=sigma, trap_spacing_m=sp, note=note,
        settings={"D": D, "detectfn": fn, "lambda0": lam0, "sigma": sigma, "noccasions": S,
                  "detector": detector, "xsigma": xsigma, "nx": nx, "CF": CF,
                  "distribution": distribution, "nrepeats": nrepeats},
    )
