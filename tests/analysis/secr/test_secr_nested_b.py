"""Learned-response models next to the null model (issue #20 follow-up).

``lambda0~b`` and ``lambda0~bk`` on weekly count occasions used to show a log-likelihood far
below ``D~1`` although they nest it: the null model was fitted with secr's collapse over
occasions (``fastproximity``), whose log-likelihood lacks the data's constant (the split of
each count over the occasions), and the response models cannot be collapsed. ``fit_models``
now fits a list that mixes the two kinds uncollapsed. The response itself follows secr: for
count detectors it applies from the occasion after the first detection (anywhere for ``b``,
at that detector for ``bk``).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import poisson

from amurlink.analysis.secr import (
    CaptureHistory,
    LogLikelihood,
    fit_secr,
    make_mask,
    read_capthist,
    read_mask,
)
from amurlink.analysis.secr.likelihood import collapses_over_occasions
from amurlink.analysis.secr.selection import fit_models

pytestmark = pytest.mark.reference


@pytest.fixture(scope="module")
def weekly(reference_dir):
    """amur-count-usage-hhn (count detectors, 40 daily occasions, usage 0/1) pooled into 8
    occasions of 5 days (counts and usage summed), as the demo pools days into weeks."""
    folder = reference_dir / "secr" / "amur-count-usage-hhn"
    exp = json.loads((folder / "expected.json").read_text())
    ch = read_capthist(folder / "traps.csv", folder / "captures.csv", detector="count",
                       n_occasions=exp["noccasions"])
    n, S, K = ch.counts.shape
    counts = ch.counts.reshape(n, S // 5, 5, K).sum(axis=2)
    usage = ch.usage_or_ones.reshape(K, S // 5, 5).sum(axis=2)
    wk = CaptureHistory(traps=ch.traps, counts=counts, detector="count", usage=usage)
    mask = read_mask(folder / "mask.csv", spacing=exp["mask_spacing"])
    return wk, mask


def test_nested_response_models_are_at_least_as_likely_as_the_null(weekly):
    ch, mask = weekly
    assert collapses_over_occasions(ch, mask, detectfn="HHN")
    assert not collapses_over_occasions(ch, mask, detectfn="HHN", model={"lambda0": "~b"})
    mt = fit_models(ch, mask, ["D~1", "lambda0~b", "lambda0~bk"], detectfn="HHN")
    assert not mt.errors and mt.fastproximity is False
    ll = mt.table.set_index("model")["logLik"]
    null = ll["D~1 lambda0~1 sigma~1"]
    assert ll["D~1 lambda0~b sigma~1"] >= null - 1e-6
    assert ll["D~1 lambda0~bk sigma~1"] >= null - 1e-6
    # the collapsed null fit has the same estimates (Poisson counts: the collapse drops only
    # a constant) but a log-likelihood that is not comparable: far above the response models
    collapsed = fit_secr(ch, mask, detectfn="HHN")
    full = mt.fits["D~1 lambda0~1 sigma~1"]
    np.testing.assert_allclose(collapsed.params.to_numpy(), full.params.to_numpy(),
                               rtol=1e-4, atol=1e-6)
    assert collapsed.loglik > ll["D~1 lambda0~b sigma~1"] + 10
    # a list of density models only keeps secr's collapse (and secr's log-likelihood)
    only_d = fit_models(ch, mask, ["D~1", "D~x"], detectfn="HHN")
    assert only_d.fastproximity is True
    assert only_d.fits["D~1 lambda0~1 sigma~1"].loglik == pytest.approx(collapsed.loglik,
                                                                         abs=1e-6)


@pytest.mark.parametrize("kind", ["b", "bk"])
def test_count_response_starts_on_the_next_occasion(kind):
    """log Pr(counts of animal i | x) equals the product of Poisson terms in which lambda0
    switches to the learned value on the occasions after the first detection (anywhere for
    b, at the detector for bk), never within the occasion of the first detection."""
    traps = np.array([[0.0, 0.0], [1000.0, 0.0], [0.0, 1000.0]])
    counts = np.zeros((3, 4, 3), int)
    counts[0, 1, 0], counts[0, 1, 1], counts[0, 3, 2] = 2, 1, 1
    counts[1, 0, 2], counts[1, 2, 2] = 1, 3
    counts[2, 3, 1] = 1
    usage = np.array([[1, 0.5, 1, 1], [1, 1, 0, 1], [0.7, 1, 1, 1]])
    ch = CaptureHistory(traps=traps, counts=counts, detector="count", usage=usage)
    mask = make_mask(traps, buffer=1500, spacing=500)
    ll = LogLikelihood(ch, mask, detectfn="HHN", model={"lambda0": f"~{kind}"},
                       fastproximity=False)
    lam0, lam1, sig = 0.3, 0.6, 700.0
    beta = np.array([np.log(0.01), np.log(lam0), np.log(lam1 / lam0), np.log(sig)])
    LL, pdot = ll.sessions[0].class_loglik(ll.session_pars(beta, 0)[0])
    g = np.exp(-((traps[:, None, :] - mask.xy[None]) ** 2).sum(-1) / (2 * sig**2))
    brute = np.zeros((3, mask.n_points))
    for i in range(3):
        for s in range(4):
            for k in range(3):
                seen = counts[i, :s].sum() if kind == "b" else counts[i, :s, k].sum()
                mu = (lam1 if seen else lam0) * g[k] * usage[k, s]
                brute[i] += poisson.logpmf(counts[i, s, k], mu)
    np.testing.assert_allclose(LL, brute, rtol=0, atol=1e-12)
    np.testing.assert_allclose(pdot, 1 - np.exp(-(lam0 * g * usage.sum(1)[:, None]).sum(0)),
                               atol=1e-14)


def test_bk_table_against_secr(reference_dir):
    """secr 5.5.0's lambda0~bk fit of fits/BK (proximity, fastproximity = FALSE) in a table
    with the null model: the bk row is secr's (logLik 1e-6, AICc 1e-3) and the null row,
    fitted uncollapsed too, lies below it."""
    root = reference_dir / "secrdesign"
    ref = json.loads((root / "fits.json").read_text())["fits"]["c2_lambda0_bk"]
    d = root / "fits" / "BK"
    ch = read_capthist(d / "traps.csv", d / "captures.csv", detector="proximity",
                       n_occasions=20)
    mask = read_mask(d / "mask.csv", spacing=1000)
    mt = fit_models(ch, mask, ["D~1", "lambda0~bk"], detectfn="HHN")
    assert mt.fastproximity is False
    row = mt.table.set_index("model").loc["D~1 lambda0~bk sigma~1"]
    assert row["logLik"] == pytest.approx(ref["logLik_fullprecision"], abs=1e-6)
    assert row["AICc"] == pytest.approx(ref["AICc"], abs=1e-3)
    null = mt.table.set_index("model").loc["D~1 lambda0~1 sigma~1", "logLik"]
    assert null <= row["logLik"]
    assert mt.best == "D~1 lambda0~bk sigma~1"
