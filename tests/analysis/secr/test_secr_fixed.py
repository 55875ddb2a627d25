"""secr's ``fixed``: a real parameter held at a value (hand check on captdata)."""

from __future__ import annotations

import json

import pytest

from amurlink.analysis.secr import fit_secr, read_capthist, read_mask

pytestmark = pytest.mark.reference


@pytest.fixture(scope="module")
def captdata(reference_dir):
    d = reference_dir / "secr" / "captdata"
    meta = json.loads((d / "meta.json").read_text())
    ch = read_capthist(d / "traps.csv", d / "captures.csv", detector="multi",
                       n_occasions=meta["n_occasions"])
    return ch, read_mask(d / "mask.csv", spacing=meta["reference_mask"]["spacing"])


def test_fixing_a_parameter_at_its_mle_keeps_the_others(captdata):
    ch, mask = captdata
    full = fit_secr(ch, mask)
    g0 = full.predict().loc["g0", "estimate"]
    fx = fit_secr(ch, mask, fixed={"g0": g0})
    assert fx.npar == full.npar - 1
    assert fx.loglik == pytest.approx(full.loglik, abs=1e-8)
    assert fx.aic == pytest.approx(full.aic - 2, abs=1e-6)
    for p in ("D", "sigma"):
        assert fx.params[p] == pytest.approx(full.params[p], rel=1e-5)
    assert fx.se["g0"] == 0.0
    assert fx.predict().loc["g0", "estimate"] == pytest.approx(g0, rel=1e-12)
    # with g0 known, D and sigma are estimated more precisely
    assert fx.se["D"] < full.se["D"] and fx.se["sigma"] < full.se["sigma"]


def test_fixing_elsewhere_lowers_the_likelihood(captdata):
    ch, mask = captdata
    full = fit_secr(ch, mask)
    fx = fit_secr(ch, mask, fixed={"sigma": 20.0})
    assert fx.predict().loc["sigma", "estimate"] == pytest.approx(20.0)
    assert fx.loglik < full.loglik - 1
    with pytest.raises(ValueError, match="not a parameter"):
        fit_secr(ch, mask, fixed={"lambda0": 0.1})
