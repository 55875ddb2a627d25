"""Power to detect a change in density: two surveys, and a trend over annual surveys.

* :func:`power_two_surveys` follows secrdesign's ``power``/``plotpower`` and ``powerCI``
  (Efford & Boulanger 2019): a z-test on log(D2-hat / D1-hat) where each estimate is
  log-normal with ``var(log D-hat) = log(1 + RSE**2)``; with ``adjust_rse`` the second
  survey's RSE is ``RSE / sqrt(D2/D1)`` (the rule of thumb scales as 1/sqrt(D)) and the
  effect is bias-corrected as secrdesign does.
* :func:`trend_power` and :func:`years_to_detect`: annual surveys, a constant annual change
  ``r`` (``D_t = D_0 (1 + r)^t``), estimates log-normal with CV equal to the design's RSE;
  the trend is tested by ordinary least squares of log(D-hat) on year (t-test on the slope,
  ``n - 2`` degrees of freedom); power from the noncentral t distribution.
  :func:`simulate_trend_power` checks it by simulation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from amurlink.exceptions import DataError

__all__ = [
    "TrendPower",
    "annual_change_for",
    "power_two_surveys",
    "ratio_interval",
    "simulate_trend_power",
    "simulate_two_survey_power",
    "trend_power",
    "years_to_detect",
]

_TESTS = ("two.sided", "increase", "decrease")


def _check(rse: float, alpha: float) -> None:
    if not (np.all(np.asarray(rse) > 0) and np.all(np.isfinite(rse))):
        raise DataError(f"RSE must be positive, got {rse}")
    if not (0 < alpha < 1):
        raise DataError(f"alpha must be between 0 and 1, got {alpha}")


def _effect(ratio, rse, adjust_rse):
    ratio = np.asarray(ratio, dtype=float)
    if np.any(ratio <= 0):
        raise DataError("the density ratio D2/D1 must be positive")
    v1 = np.log1p(rse**2)
    if adjust_rse:
        v2 = np.log1p(rse**2 / ratio)
        effect = np.log(ratio) - 0.5 * v2 + 0.5 * v1
    else:
        v2 = v1
        effect = np.log(ratio)
    return effect, np.sqrt(v1 + v2)


def power_two_surveys(
    ratio: float | np.ndarray,
    rse: float | np.ndarray,
    *,
    alpha: float = 0.05,
    test: str = "two.sided",
    adjust_rse: bool = False,
) -> np.ndarray | float:
    """Power of a z-test for a change in density between two surveys (secrdesign ``power``).

    Parameters
    ----------
    ratio : float or array
        D2/D1, the true change (e.g. 0.7 for a 30 % decline).
    rse : float or array
        RSE of the first survey's density estimate (e.g. the design's rule-of-thumb RSE).
    alpha : float, default 0.05
    test : {"two.sided", "increase", "decrease"}
    adjust_rse : bool, default False
        Scale the second survey's RSE by ``1/sqrt(D2/D1)``.

    Returns
    -------
    float or ndarray
    """
    _check(rse, alpha)
    if test not in _TESTS:
        raise DataError(f"test must be one of {', '.join(_TESTS)}, got {test!r}")
    rse = np.asarray(rse, dtype=float)
    eff, sd = _effect(ratio, rse, adjust_rse)
    z = eff / sd
    if test == "two.sided":
        za = stats.norm.ppf(1 - alpha / 2)
        out = stats.norm.cdf(z - za) + stats.norm.cdf(-z - za)
    elif test == "decrease":
        out = stats.norm.cdf(-z - stats.norm.ppf(1 - alpha))
    else:
        out = stats.norm.cdf(z - stats.norm.ppf(1 - alpha))
    return float(out) if np.ndim(out) == 0 else out


def ratio_interval(ratio: float, rse: float, *, alpha: float = 0.05,
                   adjust_rse: bool = False) -> tuple[float, float]:
    """Expected back-transformed Wald interval of D2-hat/D1-hat (secrdesign ``powerCI``)."""
    _check(rse, alpha)
    eff, sd = _effect(ratio, np.asarray(rse, float), adjust_rse)
    z = stats.norm.ppf(1 - alpha / 2)
    return float(np.exp(eff - z * sd)), float(np.exp(eff + z * sd))


def simulate_two_survey_power(ratio: float, rse: float, *, alpha: float = 0.05,
                              test: str = "two.sided", adjust_rse: bool = False,
                              nrepl: int = 100_000, seed: int = 0) -> float:
    """Simulated power of the same test: log-normal estimates with the given RSEs."""
    rng = np.random.default_rng(seed)
    v1 = math.log1p(rse**2)
    v2 = math.log1p(rse**2 / ratio) if adjust_rse else v1
    # unbiased log-normal estimates: E(D-hat) = D
    d1 = rng.normal(-v1 / 2, math.sqrt(v1), nrepl)
    d2 = math.log(ratio) + rng.normal(-v2 / 2, math.sqrt(v2), nrepl)
    z = (d2 - d1) / math.sqrt(v1 + v2)
    if test == "two.sided":
        return float(np.mean(np.abs(z) > stats.norm.ppf(1 - alpha / 2)))
    za = stats.norm.ppf(1 - alpha)
    return float(np.mean(z < -za) if test == "decrease" else np.mean(z > za))


@dataclass(frozen=True)
class TrendPower:
    """Power of the log-linear trend test for ``years`` annual surveys."""

    years: int
    annual_change: float
    cv: float
    alpha: float
    power: float
    slope: float
    slope_se: float
    test: str

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def trend_power(years: int, annual_change: float, cv: float, *, alpha: float = 0.05,
                test: str = "two.sided") -> TrendPower:
    """Power to detect ``D_t = D_0 (1 + annual_change)^t`` from ``years`` annual estimates
    with coefficient of variation ``cv`` (log-linear OLS, t-test on the slope, df n - 2).

    For the Global Tiger Recovery Program's doubling in 12 years use
    ``annual_change = annual_change_for(2.0, 12)`` (5.9 % a year).
    """
    _check(cv, alpha)
    if int(years) < 3:
        raise DataError(f"a trend needs at least 3 annual surveys, got {years}")
    if test not in _TESTS:
        raise DataError(f"test must be one of {', '.join(_TESTS)}, got {test!r}")
    if not annual_change > -1:
        raise DataError(f"annual change must be above -100 %, got {annual_change}")
    n = int(years)
    t = np.arange(n, dtype=float)
    sxx = float(np.sum((t - t.mean()) ** 2))
    s = math.sqrt(math.log1p(cv**2))
    b = math.log1p(annual_change)
    se = s / math.sqrt(sxx)
    df = n - 2
    nc = b / se
    if test == "two.sided":
        tc = stats.t.ppf(1 - alpha / 2, df)
        p = stats.nct.sf(tc, df, nc) + stats.nct.cdf(-tc, df, nc)
    elif test == "increase":
        p = stats.nct.sf(stats.t.ppf(1 - alpha, df), df, nc)
    else:
        p = stats.nct.cdf(-stats.t.ppf(1 - alpha, df), df, nc)
    return TrendPower(years=n, annual_change=float(annual_change), cv=float(cv),
                      alpha=float(alpha), power=float(p), slope=b, slope_se=se, test=test)


def years_to_detect(annual_change: float, cv: float, *, alpha: float = 0.05,
                    power: float = 0.8, test: str = "two.sided",
                    max_years: int = 100) -> int | None:
    """Fewest annual surveys (>= 3) whose trend test reaches ``power``; None beyond
    ``max_years``."""
    if not (0 < power < 1):
        raise DataError(f"power must be between 0 and 1, got {power}")
    for n in range(3, int(max_years) + 1):
        if trend_power(n, annual_change, cv, alpha=alpha, test=test).power >= power:
            return n
    return None


def annual_change_for(total_ratio: float, years: float) -> float:
    """Constant annual change that multiplies density by ``total_ratio`` over ``years``."""
    if not (total_ratio > 0 and years > 0):
        raise DataError("total ratio and years must be positive")
    return total_ratio ** (1.0 / years) - 1.0


def simulate_trend_power(years: int, annual_change: float, cv: float, *, alpha: float = 0.05,
                         test: str = "two.sided", nrepl: int = 20_000,
                         seed: int = 0) -> float:
    """Simulated power: log-normal annual estimates (mean D_t, CV ``cv``), OLS of log D-hat
    on year, t-test on the slope."""
    rng = np.random.default_rng(seed)
    n = int(years)
    t = np.arange(n, dtype=float)
    s2 = math.log1p(cv**2)
    y = t * math.log1p(annual_change) + rng.normal(-s2 / 2, math.sqrt(s2), (nrepl, n))
    tc = t - t.mean()
    sxx = float(tc @ tc)
    b = (y - y.mean(axis=1, keepdims=True)) @ tc / sxx
    resid = y - y.mean(axis=1, keepdims=True) - b[:, None] * tc[None, :]
    se = np.sqrt((resid**2).sum(axis=1) / (n - 2) / sxx)
    tstat = b / se
    df = n - 2
    if test == "two.sided":
        return float(np.mean(np.abs(tstat) > stats.t.ppf(1 - alpha / 2, df)))
    crit = stats.t.ppf(1 - alpha, df)
    return float(np.mean(tstat > crit) if test == "increase" else np.mean(tstat < -crit))
