"""Behavioural responses B, Bk, k, K and bk for multi-catch traps (issue #20).

The general likelihood (states of every animal, occasion and detector) is checked against the
specialised paths where both apply (bk for proximity detectors, b for multi-catch traps) and,
in the slow test, against the SECR book's deermouse fits (secr 5.2, ``10-detection-model``):
log-likelihood g0~B -651.62, g0~Bk -621.02, g0~bk -597.57 (multi-catch, printed to 2 decimals),
D 15.726, 13.883, 13.884 animals/ha.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from amurlink.analysis.secr import LogLikelihood, fit_secr, make_mask, read_capthist, read_mask

pytestmark = pytest.mark.reference


def _general(ll):
    for ses in ll.sessions:
        ses.general = True
        ses._prepare_states()
        ses._memo.clear()
    return ll


def test_general_path_equals_bk_proximity(reference_dir):
    d = reference_dir / "secrdesign" / "fits" / "BK"
    ch = read_capthist(d / "traps.csv", d / "captures.csv", detector="proximity",
                       n_occasions=20)
    mask = read_mask(d / "mask.csv", spacing=1000)
    ll = LogLikelihood(ch, mask, detectfn="HHN", model={"lambda0": "~bk"},
                       fastproximity=False)
    beta = np.array([-6.84, -2.6, 0.69, 7.87])
    v = ll(beta)
    assert _general(ll)(beta) == pytest.approx(v, abs=1e-9)


@pytest.fixture(scope="module")
def deermouse(reference_dir):
    d = reference_dir / "secr" / "deermouse_WSG"
    meta = json.loads((d / "meta.json").read_text())
    nocc = meta["n_occasions"]
    nocc = nocc if isinstance(nocc, int) else next(iter(nocc.values()))
    ch = read_capthist(d / "traps.csv", d / "captures.csv", detector="multi", n_occasions=nocc)
    return ch, make_mask(ch, buffer=80)


def test_general_path_equals_b_multi(deermouse):
    ch, mask = deermouse
    ll = LogLikelihood(ch, mask, model={"g0": "~b"})
    beta = np.array([2.9, -2.9, 1.4, 3.2])
    v = ll(beta)
    assert _general(ll)(beta) == pytest.approx(v, abs=1e-9)


def test_site_responses_are_naive_before_any_capture(deermouse):
    # k/K with no effect (beta 0) equal the null model; states differ from b/bk
    ch, mask = deermouse
    null = LogLikelihood(ch, mask)([2.6, -2.3, 3.2])
    for r in ("k", "K", "B", "Bk", "bk"):
        ll = LogLikelihood(ch, mask, model={"g0": f"~{r}"})
        assert ll.design.beta_names == ["D", "g0", f"g0.{r}TRUE", "sigma"]
        assert ll([2.6, -2.3, 0.0, 3.2]) == pytest.approx(null, abs=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize(("resp", "loglik", "D"), [("B", -651.62, 15.726),
                                                   ("Bk", -621.02, 13.883),
                                                   ("bk", -597.57, 13.884)])
def test_deermouse_responses_match_the_secr_book(deermouse, resp, loglik, D):
    ch, mask = deermouse
    res = fit_secr(ch, mask, model={"g0": f"~{resp}"})
    assert res.npar == 4
    assert res.loglik == pytest.approx(loglik, abs=0.005)
    assert res.predict().loc["D", "estimate"] == pytest.approx(D, abs=0.0005)
