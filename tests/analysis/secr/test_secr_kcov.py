"""Detector covariates in detection models (``lambda0 ~ trail``): exact checks.

For Poisson count detectors a detector's usage multiplies its hazard, so a hazard intercept
``lambda0 exp(b trail_k)`` gives the same likelihood as usage ``exp(b trail_k)`` on every
occasion (secr includes ``y log(usage)`` in the count likelihood, which is the ``y b trail``
term of the covariate model).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from amurlink.analysis.secr import LogLikelihood, fit_secr, read_capthist, read_mask

pytestmark = pytest.mark.reference


@pytest.fixture(scope="module")
def hab(reference_dir):
    d = reference_dir / "secrdesign" / "fits" / "HAB"
    ch = read_capthist(d / "traps.csv", d / "captures.csv", detector="count", n_occasions=30)
    return ch, read_mask(d / "mask.csv", spacing=1000)


def test_detector_covariate_equals_usage_for_counts(hab):
    ch, mask = hab
    trail = ch.trap_covariates["trail"].to_numpy(dtype=float)
    assert set(trail) == {0.0, 1.0}
    b = 0.3
    ll_k = LogLikelihood(ch, mask, detectfn="HHN", model={"lambda0": "~trail"},
                         fastproximity=False)
    assert ll_k.design.beta_names == ["D", "lambda0", "lambda0.trail", "sigma"]
    usage = np.repeat(np.exp(b * trail)[:, None], ch.counts.shape[1], axis=1)
    ch_u = dataclasses.replace(ch, usage=usage, trap_covariates=None)
    ll_u = LogLikelihood(ch_u, mask, detectfn="HHN", fastproximity=False)
    for beta in ([-7.5, -3.0, 7.8], [-7.2, -2.5, 7.9]):
        full = [beta[0], beta[1], b, beta[2]]
        assert ll_k(full) == pytest.approx(ll_u(beta), rel=1e-12)


def test_detector_covariate_as_factor_equals_numeric(hab):
    ch, mask = hab
    tc = ch.trap_covariates
    ch_f = dataclasses.replace(ch, trap_covariates=pd.DataFrame(
        {"trail": np.where(tc["trail"] == 1, "yes", "no")}))
    num = fit_secr(ch, mask, detectfn="HHN", model={"lambda0": "~trail"})
    fac = fit_secr(ch_f, mask, detectfn="HHN", model={"lambda0": "~trail"})
    assert list(fac.params.index) == ["D", "lambda0", "lambda0.trailyes", "sigma"]
    assert fac.loglik == pytest.approx(num.loglik, abs=1e-6)
    np.testing.assert_allclose(fac.params.to_numpy(), num.params.to_numpy(), rtol=1e-4)
    np.testing.assert_allclose(fac.se.to_numpy(), num.se.to_numpy(), rtol=1e-3)
    # zero effect: the model without the covariate at the same parameters
    ll0 = LogLikelihood(ch, mask, detectfn="HHN")
    llk = LogLikelihood(ch, mask, detectfn="HHN", model={"lambda0": "~trail"})
    assert llk([-7.5, -3.0, 0.0, 7.8]) == pytest.approx(ll0([-7.5, -3.0, 7.8]), rel=1e-12)
    # predict at a detector-covariate value
    pred = num.predict(newdata=pd.DataFrame({"trail": [0, 1]}))
    lam = pred[pred.parameter == "lambda0"].estimate.to_numpy()
    assert lam[1] / lam[0] == pytest.approx(np.exp(num.params["lambda0.trail"]), rel=1e-9)


def test_unknown_detection_term_is_explained(hab):
    ch, mask = hab
    with pytest.raises(ValueError, match="nor a detector covariate"):
        LogLikelihood(ch, mask, detectfn="HHN", model={"sigma": "~road"})
