"""SEs of density covariates do not depend on the covariate's units (issue #20).

The review's case: count detectors, a lake cut out of the mask, D ~ x. R secr standardises
the mask x and y (``meanSD``), so ``D.x`` is per SD of x and R's forward-difference Hessian is
taken on that scale; amurlink does the same, and maximises and differentiates any numeric
covariate in large units per SD of the covariate (then transforms back), so the same
covariate in metres or kilometres gives the same SE per unit.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from amurlink.analysis.secr import LogLikelihood, Mask, fit_secr, read_capthist, read_mask

pytestmark = pytest.mark.reference


@pytest.fixture(scope="module")
def lake_case(reference_dir):
    folder = reference_dir / "secr" / "amur-count-usage-hhn"
    exp = json.loads((folder / "expected.json").read_text())
    ch = read_capthist(folder / "traps.csv", folder / "captures.csv", detector="count",
                       n_occasions=exp["noccasions"])
    m = read_mask(folder / "mask.csv", spacing=exp["mask_spacing"])
    xy = m.xy
    c = xy.mean(axis=0)
    lake = np.hypot(xy[:, 0] - c[0] - 8000, xy[:, 1] - c[1]) < 6000
    keep = ~lake
    assert 0 < lake.sum() < 100
    cov = pd.DataFrame({"xm": xy[keep, 0], "xkm": xy[keep, 0] / 1000})
    return ch, Mask(xy=xy[keep], spacing=m.spacing, covariates=cov)


def test_density_covariate_se_does_not_depend_on_units(lake_case):
    ch, mask = lake_case
    fx = fit_secr(ch, mask, detectfn="HHN", model={"D": "~x"})
    fm = fit_secr(ch, mask, detectfn="HHN", model={"D": "~xm"})
    fk = fit_secr(ch, mask, detectfn="HHN", model={"D": "~xkm"})
    sd = mask.xy[:, 0].std(ddof=1)
    # the same model in three parameterisations: same maximum
    assert fm.loglik == pytest.approx(fx.loglik, abs=1e-6)
    assert fk.loglik == pytest.approx(fx.loglik, abs=1e-6)
    # slope per metre, per km and per SD of x agree
    assert fm.params["D.xm"] * sd == pytest.approx(fx.params["D.x"], rel=1e-4)
    assert fk.params["D.xkm"] / 1000 == pytest.approx(fm.params["D.xm"], rel=1e-4)
    # ... and so do their SEs (the bug: the per-metre SE was ~10x too small)
    assert fm.se["D.xm"] * sd == pytest.approx(fx.se["D.x"], rel=1e-3)
    assert fk.se["D.xkm"] / 1000 == pytest.approx(fm.se["D.xm"], rel=1e-3)
    assert fm.se["D.xm"] / fm.params["D.xm"] == pytest.approx(
        fx.se["D.x"] / fx.params["D.x"], rel=1e-3)


def test_density_covariate_se_matches_exact_hessian(lake_case):
    ch, mask = lake_case
    fit = fit_secr(ch, mask, detectfn="HHN", model={"D": "~xm"})
    ll = LogLikelihood(ch, mask, detectfn="HHN", model={"D": "~xm"})
    b = fit.params.to_numpy()
    # exact Hessian: central differences of the analytic gradient, steps relative to |beta|
    p = b.size
    H = np.empty((p, p))
    for i in range(p):
        e = np.zeros(p)
        e[i] = 1e-5 * max(abs(b[i]), 1e-3 if i == 1 else 1.0)
        H[i] = (ll.value_and_grad(b + e)[1] - ll.value_and_grad(b - e)[1]) / (2 * e[i])
    se_exact = np.sqrt(np.diag(np.linalg.inv(-(H + H.T) / 2)))
    np.testing.assert_allclose(fit.se.to_numpy(), se_exact, rtol=2e-3)


def test_density_reported_at_mask_mean(lake_case):
    # secr's predict() puts x at 0 (the mask mean) and a covariate at its mean value
    ch, mask = lake_case
    fx = fit_secr(ch, mask, detectfn="HHN", model={"D": "~x"})
    pred = fx.predict()
    drows = [r for r in pred.index if r.startswith("D")]
    assert drows == ["D[x=0]"]
    assert pred.loc["D[x=0]", "estimate"] == pytest.approx(np.exp(fx.params["D"]), rel=1e-12)
    fm = fit_secr(ch, mask, detectfn="HHN", model={"D": "~xm"})
    (row,) = [r for r in fm.predict().index if r.startswith("D")]
    xbar = float(np.mean(np.unique(mask.covariates["xm"])))
    assert fm.predict().loc[row, "estimate"] == pytest.approx(
        np.exp(fm.params["D"] + fm.params["D.xm"] * xbar), rel=1e-9)
