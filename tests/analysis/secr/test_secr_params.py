"""SECR's parameter plumbing (shared base ``amurlink._estimator.ParamsEstimator``)."""

from __future__ import annotations

import numpy as np
import pytest

from amurlink.analysis.secr import SECR


def test_get_set_params_round_trip_and_repr():
    est = SECR(detectfn="HHN", model={"D": "~x"})
    params = est.get_params()
    assert list(params) == ["detectfn", "model", "link", "conditional", "hcov",
                            "fastproximity", "distribution", "start", "method", "fixed",
                            "timecov", "linked", "binomN"]
    assert SECR(**params).get_params() == params
    assert repr(est) == "SECR(detectfn='HHN', model={'D': '~x'})"  # defaults left out
    assert est.set_params(method="bfgs", conditional=True) is est
    assert est.method == "bfgs" and est.conditional is True
    assert repr(SECR()) == "SECR()"


def test_set_params_rejects_unknown_names_without_setting_any():
    est = SECR()
    with pytest.raises(ValueError, match="unknown parameter 'buffer'"):
        est.set_params(method="bfgs", buffer=100)
    assert est.method == "newton"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"conditional": 1}, "invalid conditional=1; expected True or False"),
        ({"fastproximity": "yes"}, "invalid fastproximity='yes'"),
        ({"distribution": "negbin"}, "expected one of poisson, binomial"),
        ({"method": "lbfgs"}, "invalid method='lbfgs'; expected one of newton"),
        ({"distribution": np.array(["poisson", "binomial"])}, "invalid distribution"),
    ],
)
def test_invalid_parameters_are_named_at_fit(params, message):
    with pytest.raises(ValueError, match=message):
        SECR(**params)._validate()


def test_numpy_bool_and_str_are_accepted():
    SECR(conditional=np.bool_(True), distribution=np.str_("binomial"))._validate()
