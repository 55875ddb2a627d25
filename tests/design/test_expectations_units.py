"""Expected counts: detector types, usage and input checks (exact identities and simulation)."""

from __future__ import annotations

import numpy as np
import pytest

from amurlink.analysis.secr import Mask, make_mask
from amurlink.design import expected_counts, hazard_surfaces, rule_of_thumb_rse
from amurlink.exceptions import DataError

TRAPS = np.array([[0.0, 0.0], [1500.0, 0.0], [0.0, 1500.0], [3000.0, 2000.0]])
PAR = {"lambda0": 0.3, "sigma": 1200.0}


def _one_point(x=700.0, y=400.0):
    return Mask.from_points(np.array([[x, y]]), spacing=100.0)


def _simulate(detector, usage, h, rng, n=200_000):
    """Simulated detections of n animals at one point: (detected, detections, >=2 detectors)."""
    K, S = usage.shape
    counts = np.zeros((n, K))
    for s in range(S):
        lam = h * usage[:, s]
        if detector == "proximity":
            counts += rng.random((n, K)) < -np.expm1(-lam)
        elif detector == "count":
            counts += rng.poisson(lam, size=(n, K))
        else:  # multi: caught with prob 1-exp(-sum lam), at k with share lam_k/sum
            caught = rng.random(n) < -np.expm1(-lam.sum())
            k = rng.choice(K, size=n, p=lam / lam.sum())
            counts[np.flatnonzero(caught), k[caught]] += 1
    det = counts.sum(1)
    return (det > 0).mean(), det.mean(), ((counts > 0).sum(1) >= 2).mean()


@pytest.mark.parametrize("detector", ["proximity", "count", "multi"])
def test_surfaces_agree_with_simulation(detector):
    rng = np.random.default_rng(11)
    usage = np.array([[1, 1, 0.5, 0], [1, 0, 1, 1], [0.2, 1, 1, 1], [1, 1, 1, 1.0]])
    mask = _one_point()
    surf = hazard_surfaces(TRAPS, mask, detectpar=PAR, detector=detector, usage=usage)
    d = np.hypot(*(TRAPS - mask.xy[0]).T)
    h = PAR["lambda0"] * np.exp(-d**2 / (2 * PAR["sigma"] ** 2))
    p_det, mean_det, p2 = _simulate(detector, usage, h, rng)
    se = lambda p: np.sqrt(p * (1 - p) / 200_000)  # noqa: E731
    assert -np.expm1(-surf.Lambda[0]) == pytest.approx(p_det, abs=4 * se(p_det))
    assert surf.sumpk[0] == pytest.approx(mean_det, rel=0.01)
    assert 1 - surf.p_le1[0] == pytest.approx(p2, abs=4 * se(p2))


@pytest.mark.parametrize("detector", ["proximity", "count", "multi"])
def test_usage_of_ones_and_dropped_occasions(detector):
    mask = make_mask(TRAPS, buffer=4000, nx=32)
    base = expected_counts(TRAPS, mask, D=1e-3, detectpar=PAR, noccasions=6,
                           detector=detector)
    ones = expected_counts(TRAPS, mask, D=1e-3, detectpar=PAR, detector=detector,
                           usage=np.ones((4, 6)))
    assert ones.En == pytest.approx(base.En, rel=1e-12)
    assert ones.Er == pytest.approx(base.Er, rel=1e-12)
    # occasions nobody worked change nothing
    half = np.hstack([np.ones((4, 6)), np.zeros((4, 3))])
    more = expected_counts(TRAPS, mask, D=1e-3, detectpar=PAR, detector=detector, usage=half)
    for key in ("En", "Er", "Em", "En2"):
        assert getattr(more, key) == pytest.approx(getattr(base, key), rel=1e-10)


def test_identities_between_detector_types():
    mask = make_mask(TRAPS, buffer=4000, nx=32)
    kw = {"D": 2e-3, "detectpar": PAR, "noccasions": 8}
    prox = expected_counts(TRAPS, mask, detector="proximity", **kw)
    cnt = expected_counts(TRAPS, mask, detector="count", **kw)
    multi = expected_counts(TRAPS, mask, detector="multi", **kw)
    assert prox.En == pytest.approx(cnt.En) == pytest.approx(multi.En)
    # a count detector records every encounter: most recaptures; multi the fewest
    assert cnt.Er > prox.Er > multi.Er > 0
    # one occasion of a multi-catch trap: nobody is recaptured
    one = expected_counts(TRAPS, mask, D=2e-3, detectpar=PAR, noccasions=1, detector="multi")
    assert one.Er == pytest.approx(0, abs=1e-12) and one.En2 == pytest.approx(0, abs=1e-12)
    # a single detector: no movements, nobody at two detectors
    single = expected_counts(TRAPS[:1], mask, detector="proximity", **kw)
    assert single.Em == pytest.approx(0, abs=1e-12)
    assert single.En2 == pytest.approx(0, abs=1e-12)
    # E(n) is linear in D, RSE scales as 1/sqrt(D)
    double = expected_counts(TRAPS, mask, detector="proximity", **{**kw, "D": 4e-3})
    assert double.En == pytest.approx(2 * prox.En)
    assert double.rse == pytest.approx(prox.rse / np.sqrt(2))


def test_density_surface_and_grid_shortcut():
    mask = make_mask(TRAPS, buffer=4000, nx=32)
    Dsurf = np.linspace(1e-3, 3e-3, mask.n_points)
    e = expected_counts(TRAPS, mask, D=Dsurf, detectpar=PAR, noccasions=5)
    # the same points shuffled off the grid path give the same answer
    jitter = Mask.from_points(mask.xy + np.random.default_rng(0).normal(0, 1e-9, mask.xy.shape),
                              spacing=mask.spacing)
    f = expected_counts(TRAPS, jitter, D=Dsurf, detectpar=PAR, noccasions=5)
    assert f.En == pytest.approx(e.En, rel=1e-9) and f.Em == pytest.approx(e.Em, rel=1e-9)


def test_rule_of_thumb_and_correction_factor():
    assert rule_of_thumb_rse(25, 100) == pytest.approx(0.2)
    assert rule_of_thumb_rse(25, 100, CF=1.21) == pytest.approx(0.22)
    b = rule_of_thumb_rse(25, 100, distribution="binomial", D=0.01, mask_area_ha=10_000)
    assert b == pytest.approx(np.sqrt(0.04 - 0.01))
    assert np.isnan(rule_of_thumb_rse(0, 10))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"detector": "single"}, "detector type"),
     ({"detectfn": "HR"}, "detection function"),
     ({"detectpar": {"sigma": 100}}, "lambda0"),
     ({"detectfn": "HN", "detectpar": {"g0": 1.2, "sigma": 100}}, "g0"),
     ({"D": -1.0}, "density"),
     ({"noccasions": 0}, "noccasions"),
     ({"usage": np.ones((3, 5))}, "one row per detector")],
)
def test_bad_input_is_a_clear_error(kwargs, match):
    mask = make_mask(TRAPS, buffer=2000, nx=16)
    args = {"D": 1e-3, "detectpar": PAR, "noccasions": 5, **kwargs}
    with pytest.raises(DataError, match=match):
        expected_counts(TRAPS, mask, **args)
