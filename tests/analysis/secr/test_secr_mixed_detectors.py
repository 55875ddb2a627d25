"""Detector types that vary across occasions (camera counts, DNA proximity and live-trap
multi-catch occasions in one model, as secr allows): shared density and movement,
``lambda0 ~ dettype`` for separate detection. Checked against the single-type likelihoods and
a direct computation of log Pr(history | x) from the definitions."""

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


# ------------------------------------------------- multi-catch occasions among the others
def _three_types(seed: int = 4):
    """A 5 x 5 grid (30 m), 6 occasions: live traps (multi-catch) on 1-2, cameras (count)
    on 3-4, hair snares (proximity) on 5-6; one trap closed on occasion 2."""
    from amurlink.analysis.secr import CaptureHistory, make_mask

    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(5) * 30.0, np.arange(5) * 30.0)
    traps = np.column_stack([gx.ravel(), gy.ravel()])
    K, S = len(traps), 6
    od = ("multi", "multi", "count", "count", "proximity", "proximity")
    usage = np.ones((K, S))
    usage[7, 1] = 0.0
    cen = rng.uniform(-60, 180, size=(rng.poisson(40), 2))
    d2 = ((cen[:, None, :] - traps[None]) ** 2).sum(-1)
    lam = {"multi": 0.15, "count": 0.1, "proximity": 0.2}
    h_all = {k: v * np.exp(-d2 / (2 * 25.0**2)) for k, v in lam.items()}
    counts = np.zeros((len(cen), S, K), dtype=int)
    for s, kind in enumerate(od):
        h = h_all[kind] * usage[:, s][None, :]
        if kind == "multi":
            H = h.sum(1)
            caught = rng.uniform(size=len(cen)) < -np.expm1(-H)
            for i in np.flatnonzero(caught):
                counts[i, s, rng.choice(K, p=h[i] / H[i])] = 1
        elif kind == "count":
            counts[:, s] = rng.poisson(h)
        else:
            counts[:, s] = rng.uniform(size=h.shape) < -np.expm1(-h)
    keep = counts.reshape(len(cen), -1).sum(1) > 0
    ch = CaptureHistory(traps=traps, counts=counts[keep], detector="count", usage=usage,
                        occasion_detectors=od)
    return ch, make_mask(traps, buffer=100.0, spacing=10.0), lam


def _direct(ch, mask, lam, sig, mult):
    """log Pr(w_i | x) (n, M) and p.(x) from secr's definitions, occasion by occasion;
    ``mult``: per-occasion factor of lambda0 (time effects)."""
    d2 = ((ch.traps[:, None, :] - mask.xy[None, :, :]) ** 2).sum(-1)
    core = np.exp(-d2 / (2 * sig**2))
    y = ch.counts.astype(float)
    direct = np.zeros((ch.n, mask.n_points))
    Htot = np.zeros(mask.n_points)
    for s, kind in enumerate(ch.occasion_detectors):
        h = lam[kind] * mult[s] * core * ch.usage[:, s][:, None]  # (K, M): usage x hazard
        H = h.sum(0)
        Htot += H
        for i in range(ch.n):
            k = np.flatnonzero(y[i, s])
            if kind == "multi":
                direct[i] += (np.log(-np.expm1(-H)) + np.log(h[k[0]]) - np.log(H) if k.size
                              else -H)
            elif kind == "count":
                direct[i] += y[i, s] @ np.log(np.where(h > 0, h, 1)) - gammaln(
                    y[i, s] + 1).sum() - H
            else:
                direct[i] += y[i, s] @ np.log(-np.expm1(-h) + (h == 0)) - (1 - y[i, s]) @ h
    return direct, -np.expm1(-Htot)


def test_multi_catch_occasions_from_the_definitions():
    ch, mask, lam = _three_types()
    assert ch.n > 10
    sig = 25.0
    ll = LogLikelihood(ch, mask, detectfn="HHN", model={"lambda0": "~dettype"})
    assert ll.design.beta_names == ["D", "lambda0", "lambda0.dettypemulti",
                                    "lambda0.dettypeproximity", "sigma"]
    beta = np.array([np.log(3.0), np.log(lam["count"]), np.log(lam["multi"] / lam["count"]),
                     np.log(lam["proximity"] / lam["count"]), np.log(sig)])
    LL, pdot = ll.sessions[0].class_loglik(ll.session_pars(beta, 0)[0])
    direct, pd_ = _direct(ch, mask, lam, sig, np.ones(6))
    np.testing.assert_allclose(LL, direct, rtol=1e-10, atol=1e-8)
    np.testing.assert_allclose(pdot, pd_, rtol=1e-12)
    # time effects beside it: lambda0 ~ dettype + t, each occasion its own factor
    tb = np.array([0.3, -0.4, 0.2, 0.5, -0.1])  # occasions 2..6
    llt = LogLikelihood(ch, mask, detectfn="HHN", model={"lambda0": "~dettype + t"})
    bt = np.concatenate([beta[:4], tb, beta[4:]])
    LL, pdot = llt.sessions[0].class_loglik(llt.session_pars(bt, 0)[0])
    direct, pd_ = _direct(ch, mask, lam, sig, np.exp(np.concatenate([[0.0], tb])))
    np.testing.assert_allclose(LL, direct, rtol=1e-10, atol=1e-8)
    np.testing.assert_allclose(pdot, pd_, rtol=1e-12)
    # a fit reaches at least the truth
    fit = fit_secr(ch, mask, detectfn="HHN", model={"lambda0": "~dettype"})
    assert fit.loglik >= ll(beta) - 1e-6 and np.all(np.isfinite(fit.se))


def test_multi_catch_everywhere_is_the_plain_multi_model():
    from amurlink.analysis.secr import CaptureHistory

    ch, mask, _ = _three_types()
    multi_only = ch.counts[:, :2, :]
    seen = multi_only.reshape(ch.n, -1).sum(1) > 0
    plain = CaptureHistory(traps=ch.traps, counts=multi_only[seen], detector="multi",
                           usage=ch.usage[:, :2])
    mixed = dataclasses.replace(plain, occasion_detectors=("multi", "single"))
    beta = [np.log(3.0), np.log(0.15), np.log(25.0)]
    assert LogLikelihood(mixed, mask, detectfn="HHN")(beta) == pytest.approx(
        LogLikelihood(plain, mask, detectfn="HHN")(beta), abs=1e-9)


def test_multi_catch_occasion_refusals():
    from amurlink.analysis.secr import CaptureHistory
    from amurlink.exceptions import DataError

    ch, mask, _ = _three_types()
    twice = ch.counts.copy()
    i = int(np.flatnonzero(twice[:, 0].sum(1) == 1)[0])
    twice[i, 0, (np.flatnonzero(twice[i, 0])[0] + 1) % ch.n_detectors] = 1
    with pytest.raises(DataError, match=f"animal {i + 1} has more than one detection on "
                                        "multi-catch occasion 1"):
        CaptureHistory(traps=ch.traps, counts=twice, detector="count",
                       occasion_detectors=ch.occasion_detectors)
    with pytest.raises(NotImplementedError, match="behavioural responses with multi-catch"):
        LogLikelihood(ch, mask, detectfn="HHN", model={"lambda0": "~b"})
    with pytest.raises(DataError, match="proximity, count and multi"):
        dataclasses.replace(ch, occasion_detectors=("polygon",) * 6)
