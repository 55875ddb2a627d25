"""Three latent classes (``h3``, multinomial-logit pmix): nesting checks against ``h2``."""

from __future__ import annotations

import numpy as np
import pytest

from amurlink.analysis.secr import LogLikelihood, fit_secr, read_capthist, read_mask

pytestmark = pytest.mark.reference


def test_h3_nests_h2(reference_dir):
    d = reference_dir / "secrdesign" / "fits" / "BK"
    ch = read_capthist(d / "traps.csv", d / "captures.csv", detector="proximity",
                       n_occasions=20)
    mask = read_mask(d / "mask.csv", spacing=1000)
    h2 = fit_secr(ch, mask, detectfn="HHN", model={"sigma": "~h2"})
    ll3 = LogLikelihood(ch, mask, detectfn="HHN", model={"sigma": "~h3"})
    assert ll3.design.beta_names == ["D", "lambda0", "sigma", "sigma.h32", "sigma.h33",
                                     "pmix.h32", "pmix.h33"]
    b = h2.params
    # class 3 with proportion exp(-60): the 2-class likelihood, to rounding
    beta = np.array([b["D"], b["lambda0"], b["sigma"], b["sigma.h22"], 0.0, b["pmix.h22"],
                     -60.0])
    assert ll3(beta) == pytest.approx(h2.loglik, abs=1e-9)
    # two equal classes 2 and 3 sharing class 2's proportion: the same likelihood again
    beta2 = np.array([b["D"], b["lambda0"], b["sigma"], b["sigma.h22"], b["sigma.h22"],
                      b["pmix.h22"] - np.log(2), b["pmix.h22"] - np.log(2)])
    assert ll3(beta2) == pytest.approx(h2.loglik, abs=1e-9)
    h3 = fit_secr(ch, mask, detectfn="HHN", model={"sigma": "~h3"})
    assert h3.loglik >= h2.loglik - 1e-6
    pred = h3.predict()
    pm = pred[pred.index.str.startswith("pmix")]
    assert len(pm) == 3 and pm.estimate.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="h2 or h3"):
        LogLikelihood(ch, mask, model={"sigma": "~h2", "g0": "~h3"})
