"""Interactions in the density formula (``D ~ forest*session``): the same design as the hand-made
product covariate, so the same likelihood and fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from amurlink.analysis.secr import LogLikelihood, Mask, fit_secr, read_capthist, read_mask
from amurlink.analysis.secr._design import parse_formula

pytestmark = pytest.mark.reference


def test_parse_interactions():
    assert parse_formula("~forest*session") == ("forest", "session", "forest:session")
    assert parse_formula("~ a + b + a : b") == ("a", "b", "a:b")
    with pytest.raises(ValueError, match="two terms"):
        parse_formula("~a*b*c")


def test_interaction_equals_product_covariate(reference_dir):
    d = reference_dir / "secrdesign" / "fits" / "A_CN_RU"
    ch = read_capthist(d / "traps.csv", d / "captures.csv", detector="proximity",
                       n_occasions=30)
    masks = [read_mask(d / f"mask_{c.session}.csv", spacing=1000) for c in ch]
    hand = []
    for c, m in zip(ch, masks, strict=True):
        cov = m.covariates.copy()
        cov["forestRU"] = cov["forest"] * (c.session == "RU")
        hand.append(Mask(xy=m.xy, spacing=m.spacing, covariates=cov))
    ll_i = LogLikelihood(ch, masks, detectfn="HHN", model={"D": "~forest*session"})
    assert ll_i.design.beta_names == ["D", "D.forest", "D.sessionRU", "D.forest:sessionRU",
                                      "lambda0", "sigma"]
    ll_h = LogLikelihood(ch, hand, detectfn="HHN", model={"D": "~forest+session+forestRU"})
    beta = np.array([-7.0, 0.4, -0.3, -0.2, -2.3, 7.8])
    assert ll_i(beta) == pytest.approx(ll_h(beta), rel=1e-13)
    fi = fit_secr(ch, masks, detectfn="HHN", model={"D": "~forest*session"})
    fh = fit_secr(ch, hand, detectfn="HHN", model={"D": "~forest+session+forestRU"})
    assert fi.loglik == pytest.approx(fh.loglik, abs=1e-8)
    np.testing.assert_allclose(fi.params.to_numpy(), fh.params.to_numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fi.se.to_numpy(), fh.se.to_numpy(), rtol=1e-3)
    # predict: D per session at that session's mean forest, the interaction included
    nd = pd.DataFrame({"session": ["CN", "RU"], "forest": [0.3, 0.3]})
    p = fi.predict(newdata=nd)
    d_ru = p[(p.session == "RU") & (p.parameter == "D")].estimate.iloc[0]
    b = fi.params
    assert d_ru == pytest.approx(np.exp(b["D"] + 0.3 * b["D.forest"] + b["D.sessionRU"]
                                        + 0.3 * b["D.forest:sessionRU"]), rel=1e-12)
