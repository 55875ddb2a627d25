"""Link functions (log, logit, identity, neglog) and back-transformed standard errors and
intervals."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit, logit

__all__ = ["LINKS", "transform", "untransform", "se_untransform", "back_transformed_interval"]

LINKS = ("log", "logit", "identity", "neglog")  # neglog: x = -exp(beta), secr's link of
# the attenuation parameters b1 and beta1 (negative by nature)


def _check(link: str) -> str:
    if link not in LINKS:
        raise ValueError(f"unknown link {link!r}; expected one of {', '.join(LINKS)}")
    return link


def transform(x: ArrayLike, link: str) -> np.ndarray:
    """Real scale to link scale (``log``, ``logit``, ``identity`` or ``neglog``)."""
    x = np.asarray(x, dtype=float)
    link = _check(link)
    if link == "log":
        return np.log(x)
    if link == "neglog":
        return np.log(-x)
    if link == "logit":
        return logit(x)
    return x.copy()


def untransform(beta: ArrayLike, link: str) -> np.ndarray:
    """Link scale to real scale (inverse of :func:`transform`)."""
    beta = np.asarray(beta, dtype=float)
    link = _check(link)
    if link in ("log", "neglog"):
        with np.errstate(over="ignore"):  # inf: a value the likelihood refuses
            return np.exp(beta) if link == "log" else -np.exp(beta)
    if link == "logit":
        return expit(beta)
    return beta.copy()


def se_untransform(beta: ArrayLike, se_beta: ArrayLike, link: str) -> np.ndarray:
    """Delta-method SE on the real scale, as secr's ``se.untransform``.

    For the log link ``exp(beta) * sqrt(exp(se**2) - 1)`` (the log-normal SE); for logit
    ``p (1 - p) se``; for identity ``se``; for neglog the log-normal SE of ``-x``.
    """
    beta = np.asarray(beta, dtype=float)
    se_beta = np.asarray(se_beta, dtype=float)
    link = _check(link)
    if link in ("log", "neglog"):
        return np.exp(beta) * np.sqrt(np.expm1(se_beta**2))
    if link == "logit":
        p = expit(beta)
        return p * (1 - p) * se_beta
    return se_beta.copy()


def back_transformed_interval(
    beta: ArrayLike, se_beta: ArrayLike, link: str, *, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Wald interval on the link scale, back-transformed: ``untransform(beta -/+ z se)``
    (ordered lower, upper: the neglog link reverses them)."""
    from scipy.stats import norm

    z = norm.ppf(1 - alpha / 2)
    beta = np.asarray(beta, dtype=float)
    se_beta = np.asarray(se_beta, dtype=float)
    lo, hi = untransform(beta - z * se_beta, link), untransform(beta + z * se_beta, link)
    return np.minimum(lo, hi), np.maximum(lo, hi)
