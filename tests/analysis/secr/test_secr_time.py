"""Time effects ``t`` (occasion factor) and ``T`` (trend) in detection models: exact checks.

A hazard intercept that varies by occasion, ``lambda0_s = lambda0 exp(b_s)``, multiplies every
detector's hazard on that occasion, which is what usage ``exp(b_s)`` does (for count and
multi-catch detectors the likelihoods are equal, secr's ``log(usage)`` terms included).
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from amurlink.analysis.secr import LogLikelihood, fit_secr, read_capthist, read_mask

pytestmark = pytest.mark.reference


@pytest.fixture(scope="module")
def captdata(reference_dir):
    d = reference_dir / "secr" / "captdata"
    meta = json.loads((d / "meta.json").read_text())
    ch = read_capthist(d / "traps.csv", d / "captures.csv", detector="multi",
                       n_occasions=meta["n_occasions"])
    return ch, read_mask(d / "mask.csv", spacing=meta["reference_mask"]["spacing"])


def test_time_effects_equal_occasion_usage(captdata, reference_dir):
    ch, mask = captdata
    S = ch.counts.shape[1]
    bt = np.array([0.0, -0.3, 0.2, 0.1, -0.15])
    ll_t = LogLikelihood(ch, mask, detectfn="HHN", model={"lambda0": "~t"})
    assert ll_t.design.beta_names == ["D", "lambda0"] + [f"lambda0.t{s}" for s in range(2, 6)] \
        + ["sigma"]
    usage = np.repeat(np.exp(bt)[None, :], ch.traps.shape[0], axis=0)
    ll_u = LogLikelihood(dataclasses.replace(ch, usage=usage), mask, detectfn="HHN")
    beta = [1.7, -1.2, 3.38]
    assert ll_t([beta[0], beta[1], *bt[1:], beta[2]]) == pytest.approx(ll_u(beta), abs=1e-9)
    # trend T: lambda0 exp(b (s - 1))
    ll_T = LogLikelihood(ch, mask, detectfn="HHN", model={"lambda0": "~T"})
    usage = np.repeat(np.exp(0.1 * np.arange(S))[None, :], ch.traps.shape[0], axis=0)
    ll_u = LogLikelihood(dataclasses.replace(ch, usage=usage), mask, detectfn="HHN")
    assert ll_T([beta[0], beta[1], 0.1, beta[2]]) == pytest.approx(ll_u(beta), abs=1e-9)
    # counts (HAB as count detectors), through the general state likelihood
    d = reference_dir / "secrdesign" / "fits" / "HAB"
    cc = read_capthist(d / "traps.csv", d / "captures.csv", detector="count", n_occasions=30)
    mh = read_mask(d / "mask.csv", spacing=1000)
    ll_T = LogLikelihood(cc, mh, detectfn="HHN", model={"lambda0": "~T"})
    usage = np.repeat(np.exp(-0.02 * np.arange(30))[None, :], cc.traps.shape[0], axis=0)
    ll_u = LogLikelihood(dataclasses.replace(cc, usage=usage), mh, detectfn="HHN",
                         fastproximity=False)
    beta = [-7.3, -2.9, 7.8]
    assert ll_T([beta[0], beta[1], -0.02, beta[2]]) == pytest.approx(ll_u(beta), abs=1e-8)


def test_zero_time_effect_is_the_null_model_and_fits(captdata):
    ch, mask = captdata
    null = fit_secr(ch, mask)
    ll = LogLikelihood(ch, mask, model={"g0": "~T", "sigma": "~T"})
    b = null.params
    assert ll([b["D"], b["g0"], 0.0, b["sigma"], 0.0]) == pytest.approx(null.loglik, abs=1e-9)
    fit = fit_secr(ch, mask, model={"g0": "~T"})
    assert fit.loglik >= null.loglik - 1e-6
    assert fit.predict().loc["D", "estimate"] > 0
    assert np.isfinite(fit.se["g0.T"])


def test_time_covariate_equals_occasion_usage(captdata):
    ch, mask = captdata
    effort = np.array([0.5, 1.0, 1.5, 0.2, 0.8])
    ll = LogLikelihood(ch, mask, detectfn="HHN", model={"lambda0": "~effort"},
                       timecov={"effort": effort})
    assert ll.design.beta_names == ["D", "lambda0", "lambda0.effort", "sigma"]
    usage = np.repeat(np.exp(0.4 * effort)[None, :], ch.traps.shape[0], axis=0)
    ll_u = LogLikelihood(dataclasses.replace(ch, usage=usage), mask, detectfn="HHN")
    assert ll([1.7, -1.2, 0.4, 3.38]) == pytest.approx(ll_u([1.7, -1.2, 3.38]), abs=1e-9)
    with pytest.raises(ValueError, match="one row per occasion"):
        LogLikelihood(ch, mask, model={"g0": "~effort"}, timecov={"effort": [1.0, 2.0]})
