"""Detector types that vary across occasions (camera counts and DNA proximity occasions in one
model, as secr allows): shared density and movement, ``lambda0 ~ dettype`` for separate
detection. Checked against the single-type likelihoods and a direct computation of
log Pr(history | x) from the definitions."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.special import gammaln

from amurlink.analysis.secr import LogLikelihood, fit_secr, read_capthist, read_mask

pytestmark = pytest.mark.reference


@pytest.fixture(scope="module")
def hab(reference_dir):
    d = reference_dir / "secrdesign" / "fits" / "HAB"
    cc = read_capthist(d / "traps.csv", d / "captures.csv", detector="count", n_occasions=30)
    return cc, read_mask(d / "mask.csv", spacing=1000)


def test_one_type_everywhere_is_the_plain_model(hab):
    cc, mask = hab
    beta = [-7.3, -2.9, 7.8]
    for kind in ("count", "proximity"):
        mixed = dataclasses.replace(cc, occasion_detectors=(kind,) * 30)
        plain = dataclasses.replace(cc, detector=kind)
        assert LogLikelihood(mixed, mask, detectfn="HHN")(beta) == pytest.approx(
            LogLikelihood(plain, mask, detectfn="HHN", fastproximity=False)(beta), abs=1e-8)


def test_mixed_history_probability_from_the_definitions(hab):
    cc, mask = hab
    od = ("count",) * 20 + ("proximity",) * 10
    mixed = dataclasses.replace(cc, occasion_detectors=od)
    ll = LogLikelihood(mixed, mask, detectfn="HHN", model={"lambda0": "~dettype"})
    assert ll.design.beta_names == ["D", "lambda0", "lambda0.dettypeproximity", "sigma"]
    lam = {"count": 0.05, "proximity": 0.08}
    sig = 2400.0
    beta = np.array([-7.3, np.log(0.05), np.log(0.08 / 0.05), np.log(sig)])
    ses = ll.sessions[0]
    LL, pdot = ses.class_loglik(ll.session_pars(beta, 0)[0])
    d2 = ((cc.traps[:, None, :] - mask.xy[None, :, :]) ** 2).sum(-1)
    core = np.exp(-d2 / (2 * sig**2))
    y = cc.counts.astype(float)
    direct = np.zeros_like(LL)
    H = np.zeros(mask.n_points)
    for s, kind in enumerate(od):
        h = lam[kind] * core  # (K, M), usage 1
        H += h.sum(0)
        if kind == "count":
            direct += y[:, s] @ np.log(h) - gammaln(y[:, s] + 1).sum(1)[:, None] - h.sum(0)
        else:
            direct += y[:, s] @ np.log(-np.expm1(-h)) + (1 - y[:, s]) @ (-h)
    np.testing.assert_allclose(LL, direct, rtol=1e-10, atol=1e-8)
    np.testing.assert_allclose(pdot, -np.expm1(-H), rtol=1e-12)


def test_mixed_model_fits(hab):
    cc, mask = hab
    mixed = dataclasses.replace(cc, occasion_detectors=("count",) * 20 + ("proximity",) * 10)
    fit = fit_secr(mixed, mask, detectfn="HHN", model={"lambda0": "~dettype"})
    assert fit.code == 1 and np.all(np.isfinite(fit.se))
    same = fit_secr(mixed, mask, detectfn="HHN")
    assert fit.loglik >= same.loglik - 1e-6
