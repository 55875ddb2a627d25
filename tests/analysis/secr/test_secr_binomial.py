"""Binomial counts (secr's ``binomN``, issue #20).

secr's ``pski``: ``binomN = 1``: count ~ Binomial(round(usage), g); ``binomN > 1``:
count ~ Binomial(binomN, 1 - (1 - g)^usage). No R fit of binomial counts is in ../shared
(secr's own test uses data from R's random numbers), so the references are an independent
implementation of that definition written out here (loops, scipy's binomial pmf; 1e-10) and
secr's own identity: usage 5 with ``binomN = 1`` equals usage 1 with ``binomN = 5``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.special import gammaln
from scipy.stats import binom

from amurlink.analysis.secr import SECR, CaptureHistory, LogLikelihood, Mask
from amurlink.exceptions import DataError


def _data(binomN: int, usage: np.ndarray | None, seed: int = 4):
    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(6) * 25.0, np.arange(5) * 25.0)
    traps = np.column_stack([gx.ravel(), gy.ravel()])
    K, S = len(traps), 3
    u = np.ones((K, S)) if usage is None else usage
    cen = rng.uniform(-80, 205, size=(60, 2))
    d2 = ((cen[:, None, :] - traps[None]) ** 2).sum(axis=2)
    g = 0.25 * np.exp(-d2 / (2 * 25.0**2))
    size = np.round(u) if binomN == 1 else np.where(u > 0, binomN, 0)
    p = g[:, None, :] if binomN == 1 else 1 - (1 - g[:, None, :]) ** u.T[None]
    y = rng.binomial(size.T[None].astype(int), np.broadcast_to(p, (len(cen), S, K)))
    y = y[y.reshape(len(y), -1).sum(axis=1) > 0]
    ch = CaptureHistory(traps=traps, counts=y, detector="count",
                        usage=None if usage is None else u)
    xs, ys = np.meshgrid(np.arange(-80, 210, 20.0), np.arange(-80, 185, 20.0))
    mask = Mask.from_points(np.column_stack([xs.ravel(), ys.ravel()]), spacing=20.0)
    return ch, mask


def _independent(ch, mask, binomN, D, g0, sigma):
    """log L = sum_i log(D a sum_m Pr(w_i | x_m)) - D a sum_m p.(x_m) - sum_w log n_w!"""
    u = ch.usage_or_ones
    n, S, K = ch.counts.shape
    a = mask.cell_area_ha
    tot = np.zeros(n)
    pdot = 0.0
    for x in mask.xy:
        g = g0 * np.exp(-((ch.traps - x) ** 2).sum(axis=1) / (2 * sigma**2))  # (K,)
        size = np.round(u) if binomN == 1 else np.where(u > 0, binomN, 0)
        p = np.broadcast_to(g[:, None], (K, S)) if binomN == 1 else 1 - (1 - g[:, None]) ** u
        none = np.prod((1 - p) ** size)
        pdot += 1 - none
        for i in range(n):
            tot[i] += np.prod(binom.pmf(ch.counts[i].T, size, p))
    _, cnt = np.unique(ch.counts.reshape(n, -1), axis=0, return_counts=True)
    return float(np.sum(np.log(D * a * tot)) - D * a * pdot - gammaln(cnt + 1).sum())


def _independent_general(ch, mask, binomN, D, g0_s, sigma, g0_after=None, bk=False):
    """As :func:`_independent` with g0 per occasion (``g0_s``, time effects) and, after an
    animal's first detection (``bk``: at that detector), ``g0_after`` per occasion (learned
    response b or bk); p. is the naive animal's."""
    u = ch.usage_or_ones
    n, S, K = ch.counts.shape
    a = mask.cell_area_ha
    size = np.round(u) if binomN == 1 else np.where(u > 0, binomN, 0)
    seen = ch.counts > 0
    if bk:  # caught at k before s
        before = np.concatenate([np.zeros((n, 1, K), bool),
                                 np.cumsum(seen, axis=1)[:, :-1] > 0], axis=1)
    else:
        any_s = seen.any(axis=2)
        before = np.concatenate([np.zeros((n, 1), bool), np.cumsum(any_s, axis=1)[:, :-1] > 0],
                                axis=1)[:, :, None].repeat(K, axis=2)
    tot = np.zeros(n)
    pdot = 0.0

    def prob(g):  # (K, S) per-occasion g -> binomial p
        return g if binomN == 1 else 1 - (1 - g) ** u

    for x in mask.xy:
        core = np.exp(-((ch.traps - x) ** 2).sum(axis=1) / (2 * sigma**2))  # (K,)
        p0 = prob(core[:, None] * np.asarray(g0_s)[None, :])
        pdot += 1 - np.prod((1 - p0) ** size)
        p1 = p0 if g0_after is None else prob(core[:, None] * np.asarray(g0_after)[None, :])
        for i in range(n):
            p = np.where(before[i].T, p1, p0)  # (K, S)
            tot[i] += np.prod(binom.pmf(ch.counts[i].T, size, p))
    _, cnt = np.unique(ch.counts.reshape(n, -1), axis=0, return_counts=True)
    return float(np.sum(np.log(D * a * tot)) - D * a * pdot - gammaln(cnt + 1).sum())


@pytest.mark.parametrize("binomN", [1, 4])
@pytest.mark.parametrize("resp", [None, "b", "bk"])
def test_time_effects_and_responses_equal_the_definition(binomN, resp):
    rng = np.random.default_rng(1)
    usage = rng.choice([0.0, 1.0, 2.0, 3.0], size=(30, 3), p=[0.1, 0.3, 0.3, 0.3])
    ch, mask = _data(binomN, usage)
    D, sigma = 40.0, 27.0
    g0 = np.array([0.2, 0.3, 0.15])  # g0 ~ t
    lo = np.log(g0 / (1 - g0))
    model = {"g0": "~t" if resp is None else f"~t + {resp}"}
    ll = LogLikelihood(ch, mask, detectfn="HN", binomN=binomN, model=model)
    b = [np.log(D), lo[0], *([] if resp is None else [0.6]), lo[1] - lo[0], lo[2] - lo[0],
         np.log(sigma)]
    assert len(b) == ll.npar, ll.design.beta_names
    after = None
    if resp is not None:
        after = 1 / (1 + np.exp(-(lo + 0.6)))
    ref = _independent_general(ch, mask, binomN, D, g0, sigma, after, bk=resp == "bk")
    assert ll(b) == pytest.approx(ref, rel=1e-10)


@pytest.mark.parametrize("binomN", [1, 4])
def test_loglik_equals_the_binomial_definition(binomN):
    rng = np.random.default_rng(0)
    usage = rng.choice([0.0, 1.0, 2.0, 3.0], size=(30, 3), p=[0.1, 0.3, 0.3, 0.3])
    ch, mask = _data(binomN, usage)
    D, g0, sigma = 40.0, 0.2, 27.0
    ll = LogLikelihood(ch, mask, detectfn="HN", binomN=binomN)
    b = [np.log(D), np.log(g0 / (1 - g0)), np.log(sigma)]
    assert ll(b) == pytest.approx(_independent(ch, mask, binomN, D, g0, sigma), rel=1e-10)


def test_usage_as_size_equals_a_given_size():
    """secr's test-countdetectors identity: usage 5 with binomN = 1 is binomN = 5."""
    ch, mask = _data(5, None)
    five = dataclasses.replace(ch, usage=np.full((ch.n_detectors, ch.n_occasions), 5.0))
    b = [np.log(40.0), np.log(0.2 / 0.8), np.log(27.0)]
    assert LogLikelihood(five, mask, detectfn="HN", binomN=1)(b) == pytest.approx(
        LogLikelihood(ch, mask, detectfn="HN", binomN=5)(b), rel=1e-12)
    fit = SECR(detectfn="HN", binomN=5).fit(ch, mask).results_
    assert np.isfinite(fit.loglik)
    assert fit.predict().loc["g0", "lcl"] < 0.25 < fit.predict().loc["g0", "ucl"]


def test_counts_above_the_size_and_other_detectors_are_refused():
    ch, mask = _data(2, None)
    with pytest.raises(DataError, match="more than the binomial size 1"):
        LogLikelihood(dataclasses.replace(ch, counts=ch.counts * 2), mask, detectfn="HN",
                      binomN=1)
    prox = dataclasses.replace(ch, detector="proximity", counts=np.minimum(ch.counts, 1))
    with pytest.raises(ValueError, match="count detectors"):
        LogLikelihood(prox, mask, detectfn="HN", binomN=2)
    with pytest.raises(NotImplementedError, match="binomial counts with removals"):
        LogLikelihood(dataclasses.replace(ch, dead=np.where(np.arange(ch.n) == 0, 2, -1)),
                      mask, detectfn="HN", binomN=2)
