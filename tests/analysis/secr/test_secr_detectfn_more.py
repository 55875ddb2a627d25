"""Detection functions UN (4), WEX (5), CLN (7), CG (8), HCG (18) and HPX (20), in secr's
meaning.

No R fit with these functions is in ../shared. References: their definitions in secr
(``?detectfn``; the C++ ``gunr``, ``ghfr``, ``gclnr``, ``gcgr``, HCG as ``makegk.cpp`` and
``prwipolygon.cpp`` compute it, HPX as ``ghpxs``: probability ``1 - exp(-lambda0)`` within
sigma, 0 beyond) computed here with scipy.stats distributions (1e-12), the limits that tie
them to the functions checked against R (WEX with w = 0 is EX; HCG with z = 1 is HEX), and
fits of simulated data that reach a log-likelihood no lower than at the truth.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from amurlink.analysis.secr import SECR, CaptureHistory, LogLikelihood, make_mask
from amurlink.analysis.secr.detectfn import detection_arrays, get_detectfn

D = np.array([0.0, 5.0, 19.999, 20.0, 35.0, 80.0, 400.0])


def test_definitions_against_scipy_distributions():
    g0, sigma = 0.4, 20.0
    g, _ = detection_arrays(D, "UN", g0, sigma)
    np.testing.assert_array_equal(g, np.where(D < sigma, g0, 0.0))
    w = 15.0
    g, _ = detection_arrays(D, "WEX", g0, sigma, z=w)
    np.testing.assert_allclose(g, np.where(D < w, g0, g0 * np.exp(-(D - w) / sigma)),
                               rtol=1e-14)
    z = 12.0  # CLN: a lognormal of mean sigma and standard deviation z
    cv2 = (z / sigma) ** 2
    ln = stats.lognorm(s=np.sqrt(np.log1p(cv2)), scale=np.exp(np.log(sigma) - np.log1p(cv2) / 2))
    assert ln.mean() == pytest.approx(sigma) and ln.std() == pytest.approx(z)
    g, _ = detection_arrays(D, "CLN", g0, sigma, z=z)
    np.testing.assert_allclose(g, g0 * ln.sf(D), rtol=1e-12)
    k = 3.0  # CG and HCG: a gamma of shape z and mean sigma (scale sigma / z)
    ga = stats.gamma(a=k, scale=sigma / k)
    g, h = detection_arrays(D, "CG", g0, sigma, z=k)
    np.testing.assert_allclose(g, g0 * ga.sf(D), rtol=1e-12)
    np.testing.assert_allclose(h, -np.log1p(-g), rtol=1e-12)
    lam0 = 0.7
    g, h = detection_arrays(D, "HCG", lam0, sigma, z=k)
    np.testing.assert_allclose(h, lam0 * ga.sf(D), rtol=1e-12)
    np.testing.assert_allclose(g, -np.expm1(-h), rtol=1e-12)
    g, h = detection_arrays(D, "HPX", lam0, sigma)  # hazard lambda0 within sigma
    np.testing.assert_allclose(g, np.where(D < sigma, -np.expm1(-lam0), 0.0), rtol=1e-14)
    np.testing.assert_allclose(h, np.where(D < sigma, lam0, 0.0), rtol=1e-14)
    for name, code in (("UN", 4), ("WEX", 5), ("CLN", 7), ("CG", 8), ("HCG", 18),
                       ("HPX", 20)):
        assert get_detectfn(code).name == name
        assert get_detectfn(name.lower()).code == code
    assert get_detectfn("hazard cumulative gamma").name == "HCG"
    assert get_detectfn("hazard pixelar").name == "HPX"
    for code in (12, 13):  # signal-noise: not fitted by secr.fit either
        with pytest.raises(ValueError, match="signal-noise"):
            get_detectfn(code)


def test_limits_equal_the_functions_checked_against_r():
    g, _ = detection_arrays(D, "WEX", 0.3, 20.0, z=0.0)
    np.testing.assert_allclose(g, detection_arrays(D, "EX", 0.3, 20.0)[0], rtol=1e-14)
    _, h = detection_arrays(D, "HCG", 0.3, 20.0, z=1.0)
    np.testing.assert_allclose(h, detection_arrays(D, "HEX", 0.3, 20.0)[1], rtol=1e-12)


def _simulated(fn: str, intercept: float, sigma: float, z: float, seed: int):
    """Proximity detectors, 8 x 8 grid of 20 m, 5 occasions, Poisson animals."""
    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(8) * 20.0, np.arange(8) * 20.0)
    traps = np.column_stack([gx.ravel(), gy.ravel()])
    buf = 100.0
    lo, hi = -buf, 140.0 + buf
    N = rng.poisson(0.6 * (hi - lo) ** 2 / 1e4 * 10)
    cen = rng.uniform(lo, hi, size=(N, 2))
    d = np.hypot(cen[:, None, 0] - traps[None, :, 0], cen[:, None, 1] - traps[None, :, 1])
    g, _ = detection_arrays(d, fn, intercept, sigma, z=z)
    det = rng.uniform(size=(N, 5, len(traps))) < g[:, None, :]
    keep = det.reshape(N, -1).any(axis=1)
    i, s, k = np.nonzero(det[keep])
    ch = CaptureHistory.from_arrays(traps, i, s, k, detector="proximity", n_occasions=5)
    mask = make_mask(traps, buffer=buf, spacing=5.0)
    return ch, mask


@pytest.mark.parametrize(("fn", "icpt", "sigma", "z"), [
    ("CG", 0.3, 25.0, 4.0), ("HCG", 0.4, 25.0, 4.0), ("WEX", 0.3, 15.0, 10.0),
    ("CLN", 0.3, 30.0, 15.0),
])
def test_fit_of_simulated_data_reaches_at_least_the_truth(fn, icpt, sigma, z):
    ch, mask = _simulated(fn, icpt, sigma, z, seed=7)
    fit = SECR(detectfn=fn).fit(ch, mask).results_
    ll = LogLikelihood(ch, mask, detectfn=fn)
    D_true = 6.0  # per ha
    truth = ll([np.log(D_true), np.log(icpt) if fn == "HCG" else np.log(icpt / (1 - icpt)),
                np.log(sigma), np.log(z)])
    assert np.isfinite(fit.loglik)
    assert fit.loglik >= truth - 1e-6
    est = fit.predict()
    assert est.loc["sigma", "lcl"] < sigma * 1.6 and est.loc["sigma", "ucl"] > sigma / 1.6
    assert est.loc["D", "lcl"] < D_true < est.loc["D", "ucl"] * 1.3
