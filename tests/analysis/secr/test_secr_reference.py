"""SECR vs R secr: log-likelihood at fixed parameters and refitted models (../shared reference).

Tolerances per quantity (relative):

* log-likelihood at given betas: 1e-6 (we reach ~1e-12);
* converged stored fits (secr code 1): real estimates, SEs and E(N) in the mask 1e-4, except
  two possum ``model.0`` SEs: g0 5e-4 (we differ by 3.9e-4) and sigma 2e-4 (1.1e-4). The
  cause is on secr's side: the g0 diagonal of its stored Hessian (the inverse of the stored
  vcv) is 5.5e-4 away from what nlm's own forward-difference formula gives for this
  likelihood without rounding noise, while ours matches that to 1e-9
  (``test_possum_se_gap_is_in_secr_stored_hessian``; docs/secr.md);
* amur-* fits (secr's nlm stopped with code 3): estimates 1e-3, SEs 1e-2, log-likelihood no
  lower than secr's minus 1e-3, region N 1e-3.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from amurlink.analysis.secr import (
    SECR,
    LogLikelihood,
    fit_secr,
    make_mask,
    read_capthist,
    read_mask,
    secr_loglik,
    transform,
)

pytestmark = pytest.mark.reference

AMUR = {
    "amur-proximity-hn": ("proximity", "HN"),
    "amur-proximity-hhn": ("proximity", "HHN"),
    "amur-count-usage-hhn": ("count", "HHN"),
}

# (dataset, fit name, detector as fitted)
FITS = [
    ("captdata", "secrdemo.0", "multi"),
    ("captdata", "secrdemo.CL", "multi"),
    ("captdata", "secrdemo.b", "multi"),
    ("stoat", "stoat.model.HN", "multi"),
    ("stoat", "stoat.model.EX", "multi"),
    ("blackbear", "blackbear.0", "proximity"),
    ("blackbear", "blackbear.h2bk", "proximity"),
    ("ovenbird", "ovenbird.model.1", "multi"),
    ("ovenbird", "ovenbird.model.D", "multi"),
    ("possum", "possum.model.0", "multi"),
]
# (fit, parameter) -> relative tolerance of the SE where secr's stored SE is off (see
# test_possum_se_gap_is_in_secr_stored_hessian); 1e-4 otherwise
SE_RTOL = {("possum.model.0", "g0"): 5e-4, ("possum.model.0", "sigma"): 2e-4}


def _secr(reference_dir: Path) -> Path:
    return reference_dir / "secr"


def load_dataset(folder: Path, detector: str):
    meta = json.loads((folder / "meta.json").read_text())
    animals = folder / "animals.csv"
    ch = read_capthist(
        folder / "traps.csv",
        folder / "captures.csv",
        detector=detector,
        animals=animals if animals.exists() else None,
        n_occasions=meta["n_occasions"],
    )
    mask = read_mask(folder / "mask.csv", spacing=meta["reference_mask"]["spacing"])
    return ch, mask


def load_amur(folder: Path, detector: str):
    exp = json.loads((folder / "expected.json").read_text())
    ch = read_capthist(folder / "traps.csv", folder / "captures.csv", detector=detector,
                       n_occasions=exp["noccasions"])
    mask = read_mask(folder / "mask.csv", spacing=exp["mask_spacing"])
    return ch, mask, exp


def _fit_kwargs(fit: dict) -> dict:
    return {
        "detectfn": fit["detectfn"]["code"],
        "conditional": fit["likelihood"] != "full",
        "model": fit["model"],
        "link": fit["link"],
        "hcov": fit["hcov"],
        "fastproximity": fit["details"]["fastproximity"],
    }


# ----------------------------------------------------------------------------- log-likelihood
@pytest.mark.parametrize("case", sorted(AMUR))
def test_amur_loglik_at_fixed_params(reference_dir, case):
    folder = _secr(reference_dir) / case
    detector, fn = AMUR[case]
    ch, mask, _ = load_amur(folder, detector)
    ll = LogLikelihood(ch, mask, detectfn=fn)
    for entry in json.loads((folder / "loglik_at_fixed_params.json").read_text()):
        value = ll(entry["beta_link_scale"])
        assert value == pytest.approx(entry["loglik"], rel=1e-6)


@pytest.mark.parametrize("case", sorted(AMUR))
def test_amur_loglik_at_secr_estimates(reference_dir, case):
    folder = _secr(reference_dir) / case
    detector, fn = AMUR[case]
    ch, mask, exp = load_amur(folder, detector)
    est = exp["estimates"]
    icpt = "lambda0" if "lambda0" in est else "g0"
    beta = [
        transform(est["D"]["estimate"], "log"),
        transform(est[icpt]["estimate"], est[icpt]["link"]),
        transform(est["sigma"]["estimate"], "log"),
    ]
    value = secr_loglik(beta, ch, mask, detectfn=fn)
    assert value == pytest.approx(exp["loglik"], rel=1e-6)


@pytest.mark.parametrize(("dataset", "name", "detector"), FITS)
def test_stored_fit_loglik_at_its_estimates(reference_dir, dataset, name, detector):
    folder = _secr(reference_dir) / dataset
    fit = json.loads((folder / "fits" / f"{name}.json").read_text())
    ch, mask = load_dataset(folder, detector)
    ll = LogLikelihood(ch, mask, **_fit_kwargs(fit))
    assert ll.design.beta_names == [b["name"] for b in fit["beta"]]
    beta = [b["estimate"] for b in fit["beta"]]
    assert ll(beta) == pytest.approx(fit["logLik"], rel=1e-6)


def test_conditional_is_full_minus_poisson_term(reference_dir):
    # captdata: full minus CL at the same detection parameters = log dpois(76; 76)
    folder = _secr(reference_dir) / "captdata"
    ch, mask = load_dataset(folder, "multi")
    g0, sig = -0.978494143655482, 3.379831898920274
    full = secr_loglik([1.7010691499857131, g0, sig], ch, mask)
    cl = secr_loglik([g0, sig], ch, mask, conditional=True)
    from scipy.stats import poisson

    # at the MLE of D, N * pbar = n
    assert full - cl == pytest.approx(poisson.logpmf(76, 76), abs=1e-4)


# ----------------------------------------------------------------------------- masks
def test_make_mask_reproduces_reference_masks(reference_dir):
    for dataset, buffer in (("captdata", 100.0), ("stoat", 1000.0)):
        folder = _secr(reference_dir) / dataset
        ch, ref = load_dataset(folder, "multi")
        mask = make_mask(ch, buffer=buffer)
        assert mask.n_points == ref.n_points
        assert mask.spacing == pytest.approx(ref.spacing)
        np.testing.assert_allclose(np.sort(mask.xy, axis=0), np.sort(ref.xy, axis=0))


def test_make_mask_clipped_to_polygon_with_holes(reference_dir):
    import pandas as pd
    import shapely

    folder = _secr(reference_dir) / "blackbear"
    ch, ref = load_dataset(folder, "proximity")
    b = pd.read_csv(folder / "gsm_boundary.csv")
    outer = b[b["ring"] == "outer"][["x", "y"]].to_numpy()
    holes = [g[["x", "y"]].to_numpy() for _, g in b[b["ring"] == "hole"].groupby("part")]
    park = shapely.Polygon(outer, holes)
    mask = make_mask(ch, buffer=6000, spacing=500, poly=park)
    assert mask.n_points == ref.n_points == 1743
    # possum: land polygon
    folder = _secr(reference_dir) / "possum"
    ch, ref = load_dataset(folder, "multi")
    land = shapely.Polygon(pd.read_csv(folder / "possumarea.csv")[["x", "y"]].to_numpy())
    mask = make_mask(ch, buffer=400, spacing=20, poly=land)
    assert mask.n_points == ref.n_points == 5120


# ----------------------------------------------------------------------------- fits
def _compare_real(res, fit):
    pred = res.predict()
    rows = [r for r in fit["real"] if "lcl" in r]
    assert len(rows) == len(pred)
    for (_, ours), ref in zip(pred.iterrows(), rows, strict=True):
        se_rtol = SE_RTOL.get((fit["name"], ref["parameter"]), 1e-4)
        assert ours["estimate"] == pytest.approx(ref["estimate"], rel=1e-4), ref["parameter"]
        assert ours["se"] == pytest.approx(ref["SE"], rel=se_rtol), ref["parameter"]
        assert ours["lcl"] == pytest.approx(ref["lcl"], rel=max(1e-4, se_rtol / 10))
        assert ours["ucl"] == pytest.approx(ref["ucl"], rel=max(1e-4, se_rtol / 10))
        assert ours["link"] == ref["link"]


@pytest.mark.parametrize(("dataset", "name", "detector"), FITS)
def test_refit_matches_stored_fit(reference_dir, dataset, name, detector):
    folder = _secr(reference_dir) / dataset
    fit = json.loads((folder / "fits" / f"{name}.json").read_text())
    ch, mask = load_dataset(folder, detector)
    res = fit_secr(ch, mask, **_fit_kwargs(fit))
    assert res.code == 1
    assert res.loglik == pytest.approx(fit["logLik"], abs=1e-6 * abs(fit["logLik"]))
    assert res.loglik >= fit["logLik"] - 1e-6
    assert res.npar == fit["npar"]
    assert res.aic == pytest.approx(fit["AIC"], rel=1e-7)
    assert res.aicc == pytest.approx(fit["AICc"], rel=1e-7)
    _compare_real(res, fit)
    # betas on the link scale (absolute tolerance: some betas are near zero)
    ref_beta = np.array([b["estimate"] for b in fit["beta"]])
    np.testing.assert_allclose(res.params.to_numpy(), ref_beta, rtol=1e-4, atol=1e-4)
    for en in fit.get("derived_EN_in_mask") or []:
        if len(en["design_row"]) > 1:
            session = int(en["design_row"][1])  # D ~ Session: row = trend value
            table = res.region_N(session=session)
        else:
            table = res.region_N(session=0 if len(res._ll.sessions) > 1 else None)
        assert table.loc["E.N", "estimate"] == pytest.approx(en["EN"], rel=1e-4)
        if len(en["design_row"]) > 1:
            # the stored SE is "SE(D) * area" (its note), i.e. the log-normal SE of D; secr's
            # region.N itself takes the delta-method SE when D has a model (checked against
            # region.N output in test_secr_fits_reference.py)
            pred = res.predict()
            drow = [i for i in pred.index if i.startswith("D")][session]
            assert pred.loc[drow, "se"] * en["mask_area_ha"] == pytest.approx(en["SE"],
                                                                              rel=1e-4)
        else:
            assert table.loc["E.N", "se"] == pytest.approx(en["SE"], rel=1e-4)


def test_possum_se_gap_is_in_secr_stored_hessian(reference_dir):
    """Why two possum SEs miss 1e-4: secr's stored Hessian, not ours.

    secr's vcv is the inverse of R nlm's forward-difference Hessian, whose diagonal is
    (f(x) - 2 f(x + h) + f(x + 2h)) / h^2 = f'' + h f''' + 7/12 h^2 f'''' + the rounding noise
    of f amplified by 4 / h^2 = 4e8 (h = 1e-4). f'', f''' and f'''' from the analytic
    gradient give that formula's value without the noise. At secr's own betas ours matches it
    on every diagonal; secr's matches it on D and sigma but is 5.5e-4 too large on g0: noise
    of ~1e-10 in secr's log-likelihood (which differs from ours by 2e-10 at the MLE) times 4e8.
    """
    from amurlink.analysis.secr._optim import nlm_hessian

    folder = _secr(reference_dir) / "possum"
    fit = json.loads((folder / "fits" / "possum.model.0.json").read_text())
    ch, mask = load_dataset(folder, "multi")
    ll = LogLikelihood(ch, mask)
    beta = np.array([b["estimate"] for b in fit["beta"]])
    ours = nlm_hessian(lambda b: -ll(b), beta)
    secr = np.linalg.inv(np.array(fit["beta_vcv"]))

    def curvature(x, i, d=1e-5):  # -d2 loglik / d beta_i^2, central difference of the gradient
        e = np.zeros(x.size)
        e[i] = d
        return -(ll.value_and_grad(x + e)[1][i] - ll.value_and_grad(x - e)[1][i]) / (2 * d)

    for i in range(beta.size):
        h = 1e-4 * max(beta[i], 1.0)  # nlm's step (ndigit 12, typsize 1)
        e = np.zeros(beta.size)
        e[i] = 1e-3
        c0, cp, cm = curvature(beta, i), curvature(beta + e, i), curvature(beta - e, i)
        f3, f4 = (cp - cm) / 2e-3, (cp - 2 * c0 + cm) / 1e-6
        exact_formula = c0 + h * f3 + 7 / 12 * h * h * f4
        assert ours[i, i] == pytest.approx(exact_formula, rel=1e-6)
        gap = abs(secr[i, i] / exact_formula - 1)
        if fit["beta"][i]["name"] == "g0":
            assert 3e-4 < gap < 1e-3
        else:
            assert gap < 1e-5


def test_cl_derived_density(reference_dir):
    # tests/testthat/test-derived.R: D = 5.4798074, SE 0.6445541, CVn 0.11470787, CVa 0.02602675
    folder = _secr(reference_dir) / "captdata"
    ch, mask = load_dataset(folder, "multi")
    res = fit_secr(ch, mask, conditional=True)
    d = res.derived_density().iloc[0]
    assert d["estimate"] == pytest.approx(5.4798074, rel=1e-5)
    assert d["se"] == pytest.approx(0.6445541, rel=1e-4)
    assert d["CVn"] == pytest.approx(0.11470787, rel=1e-5)
    assert d["CVa"] == pytest.approx(0.02602675, rel=1e-3)
    assert d["lcl"] == pytest.approx(4.3549957, rel=1e-4)
    assert d["ucl"] == pytest.approx(6.8951365, rel=1e-4)


@pytest.mark.parametrize("case", sorted(AMUR))
def test_amur_fit(reference_dir, case):
    folder = _secr(reference_dir) / case
    detector, fn = AMUR[case]
    ch, mask, exp = load_amur(folder, detector)
    est = SECR(detectfn=fn).fit(ch, mask)
    res = est.results_
    assert res.loglik >= exp["loglik"] - 1e-3
    assert res.aic == pytest.approx(exp["aic"], abs=1e-2)
    pred = res.predict()
    for par, ref in exp["estimates"].items():
        assert pred.loc[par, "link"] == ref["link"]
        assert pred.loc[par, "estimate"] == pytest.approx(ref["estimate"], rel=1e-3)
        assert pred.loc[par, "se"] == pytest.approx(ref["SE.estimate"], rel=1e-2)
        assert pred.loc[par, "lcl"] == pytest.approx(ref["lcl"], rel=1e-3)
        assert pred.loc[par, "ucl"] == pytest.approx(ref["ucl"], rel=1e-3)
    table = res.region_N()
    for q in ("E.N", "R.N"):
        ref = exp["region_N"][q]
        assert table.loc[q, "estimate"] == pytest.approx(ref["estimate"], rel=1e-3)
        assert table.loc[q, "se"] == pytest.approx(ref["SE.estimate"], rel=1e-2)
        assert table.loc[q, "lcl"] == pytest.approx(ref["lcl"], rel=1e-2)
        assert table.loc[q, "ucl"] == pytest.approx(ref["ucl"], rel=1e-2)
        assert table.loc[q, "n"] == ref["n"]
