"""Time effects together with detector covariates (``lambda0 ~ t + trail``, issue #20).

Reference: for hazard detection functions the likelihood depends on usage and lambda0 only
through their product ``u_ks lambda0_ks`` (count, proximity and multi-catch detectors), so
the model ``lambda0 ~ t + trail`` at a beta equals the null model ``lambda0 ~ 1`` fitted to
the same detections with usage scaled by ``exp(b_t[s] + b_trail trail_k)`` (uncollapsed
likelihood); 1e-10 relative. Fits nest: the combined model's maximum is no lower than
either part's.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from amurlink.analysis.secr import SECR, CaptureHistory, LogLikelihood, make_mask


def _data(detector: str, seed: int = 3):
    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(6) * 300.0, np.arange(6) * 300.0)
    traps = np.column_stack([gx.ravel(), gy.ravel()])
    K, S = len(traps), 4
    trail = (np.arange(K) % 3 == 0).astype(float)
    cen = rng.uniform(-800, 2300, size=(rng.poisson(70), 2))
    d2 = ((cen[:, None, :] - traps[None, :, :]) ** 2).sum(axis=2)
    lam = 0.15 * np.exp(0.8 * trail)[None, :] * np.exp(-d2 / (2 * 350.0**2))
    occ = np.array([1.0, 0.6, 1.4, 1.0])
    rate = lam[:, None, :] * occ[None, :, None]  # (N, S, K)
    if detector == "count":
        y = rng.poisson(rate)
    elif detector == "proximity":
        y = (rng.uniform(size=rate.shape) < -np.expm1(-rate)).astype(int)
    else:  # multi: at most one detector per occasion, by competing hazards
        H = rate.sum(axis=2)
        caught = rng.uniform(size=H.shape) < -np.expm1(-H)
        y = np.zeros_like(rate, dtype=int)
        for i, s in zip(*np.nonzero(caught), strict=True):
            y[i, s, rng.choice(K, p=rate[i, s] / H[i, s])] = 1
    y = y[y.reshape(len(y), -1).sum(axis=1) > 0]
    usage = rng.choice([0.5, 1.0, 2.0], size=(K, S))
    y[:, :, :] *= (usage.T[None] > 0)
    ch = CaptureHistory(traps=traps, counts=y, detector=detector, usage=usage,
                        trap_covariates=pd.DataFrame({"trail": trail}))
    mask = make_mask(traps, buffer=1200, spacing=100)
    return ch, mask


@pytest.mark.parametrize("detector", ["count", "proximity", "multi"])
def test_time_and_detector_covariate_equal_the_scaled_usage_model(detector):
    ch, mask = _data(detector)
    ll = LogLikelihood(ch, mask, detectfn="HHN", model={"lambda0": "~t + trail"},
                       fastproximity=False)
    assert ll.design.beta_names == ["D", "lambda0", "lambda0.t2", "lambda0.t3", "lambda0.t4",
                                    "lambda0.trail", "sigma"]
    bt = np.array([0.0, -0.4, 0.3, 0.1])
    btrail = 0.7
    beta = np.array([np.log(0.05), np.log(0.12), *bt[1:], btrail, np.log(330.0)])
    trail = ch.trap_covariates["trail"].to_numpy()
    scaled = ch.usage * np.exp(bt[None, :] + btrail * trail[:, None])
    null = LogLikelihood(dataclasses.replace(ch, usage=scaled), mask, detectfn="HHN",
                         fastproximity=False)
    ref = null([beta[0], beta[1], beta[-1]])
    # every term holds u and lambda0 as their product (count: y log(u h) - u h; multi:
    # log(u h) and the competing hazards; proximity: log(1 - exp(-u h)))
    assert ll(beta) == pytest.approx(ref, rel=1e-10)
    assert ll(beta) != pytest.approx(null([beta[0], beta[1] + 0.1, beta[-1]]), rel=1e-6)


def test_combined_fit_nests_its_parts_and_reports():
    ch, mask = _data("count")
    fits = {m: SECR(detectfn="HHN", model={"lambda0": m}, fastproximity=False).fit(ch, mask)
            .results_ for m in ("~t", "~trail", "~t + trail")}
    both = fits["~t + trail"]
    assert both.loglik >= max(fits["~t"].loglik, fits["~trail"].loglik) - 1e-6
    assert both.params["lambda0.trail"] == pytest.approx(0.8, abs=0.5)  # simulated 0.8
    # derived quantities run through the per-group, per-detector hazards
    assert np.isfinite(both.esa.iloc[0]) and both.esa.iloc[0] > 0
    rn = both.region_N()
    assert rn.loc["E.N", "estimate"] > ch.n - 1e-9
