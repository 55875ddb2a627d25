"""Per-class likelihood terms shared by every kind of session: log-sum-exp over mask points,
the multinomial constant, and the small cache of the per-class terms."""

from __future__ import annotations

from collections import Counter

import numpy as np
from scipy.special import gammaln

__all__ = ["ClassLoglikCache"]


def _lse_rows(a: np.ndarray) -> np.ndarray:
    """log(sum(exp(a), axis=1)) for a 2-D array, stable (faster than scipy for our shapes)."""
    return _lse_rows_exp(a)[0]


def _lse_rows_exp(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_lse_rows` and its intermediates ``E = exp(a - max_m a)`` and ``E.sum(1)``
    (``E / E.sum(1)`` are the normalised weights ``exp(a - lse)``); ``a`` is not modified."""
    m = a.max(axis=1, keepdims=True)
    m[~np.isfinite(m)] = 0.0
    e = a - m
    np.exp(e, out=e)
    out = e.sum(axis=1)
    with np.errstate(divide="ignore"):
        return np.log(out) + m[:, 0], e, out


def _logmult(keys: np.ndarray) -> float:
    """log(n! / prod n_w!) over identical rows of ``keys``."""
    n = keys.shape[0]
    if n == 0:
        return 0.0
    rows = np.ascontiguousarray(keys)
    cnt = np.array(list(Counter(r.tobytes() for r in rows).values()), dtype=float)
    return float(gammaln(n + 1) - gammaln(cnt + 1).sum())


class ClassLoglikCache:
    """The cache of :meth:`class_loglik` (a session's per-class terms) on the exact parameter
    values; a session class defines ``class_loglik(pars) -> (LL, pdot)`` and ``_memo``."""

    def _plain_session(self) -> None:
        """The state the likelihood and the results read of a session kind that computes
        everything in its own :meth:`class_loglik`: no collapse over occasions, no learned
        response, no distance table, p.(x) from ``class_loglik`` (``general``)."""
        self.fast = False
        self.general = True
        self.adjust = None
        self.learned = None
        self.n_states = 1
        self.inv = None
        self._memo = {}

    def class_loglik_cached(
        self, pars: list[tuple[float, float]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`class_loglik` through a small cache keyed by the exact parameter values.

        Finite-difference steps in density (gradients, nlm's Hessian) leave the detection
        parameters unchanged; the per-class terms do not depend on D, so they are reused
        (returned as a fresh copy: bitwise the same as recomputing them).
        """
        key = tuple(pars)
        hit = self._memo.get(key)
        if hit is not None:
            return hit[0].copy(), hit[1]
        LL, pdot = self.class_loglik(pars)
        if LL.nbytes <= 16_000_000:
            if len(self._memo) >= 4:
                self._memo.pop(next(iter(self._memo)))
            self._memo[key] = [LL.copy(), pdot, None]
        return LL, pdot

    def class_lse_cached(self, pars: list[tuple[float, float]], weights: bool = False) -> tuple:
        """``log sum_m exp(LL[i, m])`` per animal (uniform density) and p.(x_m), through the
        cache of :meth:`class_loglik_cached` (steps in D then cost almost nothing).

        With ``weights=True`` also ``E = exp(LL - max_m LL)`` (a new array) and ``E.sum(1)``,
        from the same computation as the lse (for the analytic gradient).
        """
        key = tuple(pars)
        hit = self._memo.get(key)
        if hit is None:
            LL, pdot = self.class_loglik(pars)
            hit = [LL, pdot, None]
            if LL.nbytes <= 16_000_000:
                if len(self._memo) >= 4:
                    self._memo.pop(next(iter(self._memo)))
                self._memo[key] = hit
        if weights:
            lse, e, esum = _lse_rows_exp(hit[0])
            hit[2] = lse
            return lse, hit[1], e, esum
        if hit[2] is None:
            hit[2] = _lse_rows(hit[0])
        return hit[2], hit[1]
