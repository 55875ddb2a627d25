"""Individual covariates in detection models (CL, as secr): ``lambda0 ~ sex, sigma ~ sex`` is
the two sexes fitted apart (same estimates; the log-likelihoods differ only by the
multinomial constant of pooling the histories); derived D is the Horvitz-Thompson sum."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from amurlink.analysis.secr import LogLikelihood, fit_secr, read_capthist, read_mask

pytestmark = pytest.mark.reference


def test_individual_covariate_equals_separate_fits(reference_dir):
    d = reference_dir / "secrdesign" / "fits" / "BK"
    ch = read_capthist(d / "traps.csv", d / "captures.csv", detector="proximity",
                       n_occasions=20, animals=d / "animals.csv")
    mask = read_mask(d / "mask.csv", spacing=1000)
    model = {"lambda0": "~sex", "sigma": "~sex"}
    fit = fit_secr(ch, mask, detectfn="HHN", model=model, conditional=True)
    assert list(fit.params.index) == ["lambda0", "lambda0.sexM", "sigma", "sigma.sexM"]
    subs, total, const = {}, 0.0, 0.0
    for sex in ("F", "M"):
        sel = (ch.covariates["sex"] == sex).to_numpy()
        sub = dataclasses.replace(ch, counts=ch.counts[sel], dead=ch.dead[sel],
                                  covariates=ch.covariates[sel].reset_index(drop=True),
                                  animal_ids=tuple(np.array(ch.animal_ids)[sel]))
        subs[sex] = fit_secr(sub, mask, detectfn="HHN", conditional=True)
        total += subs[sex].loglik
        const += LogLikelihood(sub, mask, detectfn="HHN", conditional=True).sessions[0].logmult
    b = fit.params
    assert b["lambda0"] == pytest.approx(subs["F"].params["lambda0"], rel=1e-4)
    assert b["sigma"] == pytest.approx(subs["F"].params["sigma"], rel=1e-4)
    assert b["lambda0"] + b["lambda0.sexM"] == pytest.approx(subs["M"].params["lambda0"],
                                                             rel=1e-4)
    assert b["sigma"] + b["sigma.sexM"] == pytest.approx(subs["M"].params["sigma"], rel=1e-4)
    pooled = LogLikelihood(ch, mask, detectfn="HHN", model=model,
                           conditional=True).sessions[0].logmult
    assert fit.loglik - pooled == pytest.approx(total - const, abs=1e-6)
    # derived: D = sum over sexes of n_x / esa_x
    der = fit.derived()
    dsum = sum(float(subs[s].derived().xs("D", level="quantity")["estimate"].iloc[0])
               for s in ("F", "M"))
    assert der.xs("D", level="quantity")["estimate"].iloc[0] == pytest.approx(dsum, rel=1e-4)
    with pytest.raises(ValueError, match="conditional likelihood"):
        LogLikelihood(ch, mask, detectfn="HHN", model=model)


def test_numeric_individual_covariate_is_linear(reference_dir):
    # sex coded 0/1 as a number: the same model as the factor (one slope = one contrast);
    # a covariate with three values is linear in it (two classes would not fit it exactly)
    d = reference_dir / "secrdesign" / "fits" / "BK"
    ch = read_capthist(d / "traps.csv", d / "captures.csv", detector="proximity",
                       n_occasions=20, animals=d / "animals.csv")
    mask = read_mask(d / "mask.csv", spacing=1000)
    num = dataclasses.replace(ch, covariates=ch.covariates.assign(
        male=(ch.covariates["sex"] == "M").astype(float)))
    ll_f = LogLikelihood(ch, mask, detectfn="HHN", model={"sigma": "~sex"}, conditional=True)
    ll_n = LogLikelihood(num, mask, detectfn="HHN", model={"sigma": "~male"},
                         conditional=True)
    assert ll_n.design.beta_names == ["lambda0", "sigma", "sigma.male"]
    beta = [-2.2, 7.6, 0.3]
    assert ll_n(beta) == pytest.approx(ll_f(beta), abs=1e-9)
    three = dataclasses.replace(ch, covariates=ch.covariates.assign(
        w=np.arange(ch.n) % 3 * 0.5))
    ll3 = LogLikelihood(three, mask, detectfn="HHN", model={"sigma": "~w"}, conditional=True)
    assert ll3.design.nmix == 3
    rows = ll3.design.Xdet["sigma"][0, :, 0]
    np.testing.assert_allclose(rows, [[1, 0.0], [1, 0.5], [1, 1.0]])


def test_numeric_covariate_with_many_values_is_the_sum_of_one_animal_likelihoods():
    """More than 50 distinct values (a warning: each is a class): the CL log-likelihood of
    ``g0 ~ size`` is the sum over animals of each one's CL log-likelihood at its own g0, plus
    the multinomial constant of pooling the histories (exact)."""
    import pandas as pd
    from scipy.special import gammaln

    from amurlink.analysis.secr import CaptureHistory, make_mask
    from amurlink.exceptions import AmurlinkWarning

    rng = np.random.default_rng(3)
    gx, gy = np.meshgrid(np.arange(6) * 30.0, np.arange(6) * 30.0)
    traps = np.column_stack([gx.ravel(), gy.ravel()])
    N = 160
    cen = rng.uniform(-90, 240, size=(N, 2))
    size = rng.normal(0, 1, N)
    g0 = 1 / (1 + np.exp(-(-1.2 + 0.6 * size)))
    d2 = ((cen[:, None, :] - traps[None]) ** 2).sum(axis=2)
    y = (rng.uniform(size=(N, 4, len(traps)))
         < (g0[:, None] * np.exp(-d2 / (2 * 30.0**2)))[:, None, :]).astype(int)
    keep = y.reshape(N, -1).sum(axis=1) > 0
    ch = CaptureHistory(traps=traps, counts=y[keep], detector="proximity",
                        covariates=pd.DataFrame({"size": np.round(size[keep], 4)}))
    assert ch.covariates["size"].nunique() > 50
    mask = make_mask(traps, buffer=90, spacing=15)
    with pytest.warns(AmurlinkWarning, match="distinct values"):
        ll = LogLikelihood(ch, mask, detectfn="HN", model={"g0": "~size"}, conditional=True)
    b = np.array([-1.1, 0.5, np.log(28.0)])
    total = 0.0
    for i in range(ch.n):
        one = dataclasses.replace(ch, counts=ch.counts[i:i + 1], dead=ch.dead[i:i + 1],
                                  covariates=ch.covariates.iloc[i:i + 1].reset_index(drop=True),
                                  animal_ids=(ch.animal_ids[i],))
        li = LogLikelihood(one, mask, detectfn="HN", conditional=True)
        total += li([b[0] + b[1] * ch.covariates["size"].iloc[i], b[2]])
    Y = ch.counts.sum(axis=1)
    _, cnt = np.unique(Y, axis=0, return_counts=True)
    logmult = float(gammaln(ch.n + 1) - gammaln(cnt + 1).sum())
    assert ll(b) == pytest.approx(total + logmult, rel=1e-10)
