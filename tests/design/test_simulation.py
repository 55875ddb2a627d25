"""Design check by simulation: counts against expectations; secrdesign's Monte Carlo (slow)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from amurlink.analysis.secr import Mask
from amurlink.design.simulation import (
    simulate_capthist,
    simulate_design,
    summarise_simulation,
)

GRID = np.array([(x, y) for y in range(0, 14000, 2000) for x in range(0, 14000, 2000)], float)


@pytest.mark.parametrize("detector", ["proximity", "count", "multi"])
def test_simulated_counts_match_expected_counts(detector):
    country = np.where(GRID[:, 0] < 7000, "CN", "RU")
    df = simulate_design(GRID, D=4e-4, detectpar={"lambda0": 0.1, "sigma": 2000},
                         noccasions=10, detector=detector, nrepl=300, fit=False,
                         country=country, scheduler="serial", seed=7)
    s = summarise_simulation(df)
    for col, key in (("n", "En"), ("r", "Er"), ("transboundary", "En_transboundary")):
        assert abs(s[f"mean_{col}"] - s[key]) < 4 * s[f"mcse_{col}"], (col, s)
    if detector != "multi":
        assert abs(s["mean_n2"] - s["En2"]) < 4 * s["mcse_n2"]


def test_replicates_reproducible_and_fitted():
    kw = {"D": 4e-4, "detectpar": {"lambda0": 0.1, "sigma": 2000}, "noccasions": 10,
          "nrepl": 3, "seed": 3}
    a = simulate_design(GRID, scheduler="serial", **kw)
    b = simulate_design(GRID, scheduler="threads", **kw)
    pd.testing.assert_frame_equal(a.drop(columns="seconds"), b.drop(columns="seconds"))
    assert a["ok"].all() and (a["D_lcl"] < a["D_estimate"]).all()
    ch = simulate_capthist(np.random.default_rng(1), GRID, D=4e-4, noccasions=5,
                           detectpar={"lambda0": 0.1, "sigma": 2000}, detector="count")
    assert ch.n > 0 and ch.n_occasions == 5


@pytest.mark.slow
def test_monte_carlo_matches_secrdesign(reference_dir):
    """run.scenarios (50 replicates, secr.fit) against our simulate-and-fit (50 replicates):
    every summary within 3 combined Monte Carlo SEs."""
    folder = reference_dir / "secrdesign" / "montecarlo"
    summ = pd.read_csv(folder / "montecarlo_summary.csv")
    reps = pd.read_csv(folder / "montecarlo_replicates.csv")
    counts = json.loads((folder / "montecarlo.json").read_text())["countSummary_verbose"]
    lay = reference_dir / "secrdesign" / "design"
    for row in summ.itertuples():
        traps = pd.read_csv(lay / f"traps_{row.layout}.csv")[["x", "y"]].to_numpy()
        m = pd.read_csv(folder / f"mask_scenario{row.scenario}.csv")
        mask = Mask.from_points(m[["x", "y"]].to_numpy())
        df = simulate_design(traps, D=row.D_true, noccasions=row.noccasions,
                             detectpar={"lambda0": row.lambda0_true, "sigma": row.sigma_true},
                             detector=row.detector, nrepl=50, mask=mask, seed=2026)
        s = summarise_simulation(df)
        assert s["nvalid"] == 50
        r = reps[reps.scenario == row.scenario]
        rse_r = r["D_RSE"].to_numpy()
        est_r = r["D_est"].to_numpy() / row.D_true
        se_sd_r = est_r.std(ddof=1) / math.sqrt(2 * 49)
        cov_p = (s["coverage"] + row.D_COV) / 2
        cov_se = math.sqrt(cov_p * (1 - cov_p) / 50)
        se = {str(k): v for k, v in
              next(x for x in counts[str(row.scenario)] if x["stat"] == "se").items()}
        checks = [
            ("n", s["mean_n"], row.mean_n, s["mcse_n"], se["n"]),
            ("r", s["mean_r"], row.mean_r, s["mcse_r"], se["r"]),
            ("dpa", s["mean_dpa"], row.mean_dpa, s["mcse_dpa"], se["dpa"]),
            ("RB", s["RB"], row.D_RB, s["RB_se"], row.D_seRB),
            ("RSE", s["mean_RSE"], row.D_mean_RSE, s["mean_RSE_se"],
             rse_r.std(ddof=1) / math.sqrt(50)),
            ("coverage", s["coverage"], row.D_COV, cov_se, cov_se),
            ("sd/D", s["sd_over_true"], row.D_sd_est_over_true, s["sd_over_true_se"],
             se_sd_r),
        ]
        for name, ours, theirs, se1, se2 in checks:
            assert abs(ours - theirs) <= 3 * math.hypot(se1, se2), (row.layout, name, ours,
                                                                   theirs)
        # the expected counts of the reference (rectangle population region)
        assert s["En"] == pytest.approx(row.En, rel=1e-3)
        assert s["Er"] == pytest.approx(row.Er, rel=1e-3)
        assert s["rule_of_thumb_rse"] == pytest.approx(row.rotRSE_expected, abs=1e-4)


@pytest.mark.parametrize("detector", ["proximity", "count"])
def test_simulation_with_usage_matches_expected_counts(detector):
    rng = np.random.default_rng(0)
    usage = (rng.random((len(GRID), 12)) < 0.7).astype(float)
    if detector == "count":
        usage *= rng.uniform(0.3, 1.0, usage.shape)
    df = simulate_design(GRID, D=4e-4, detectpar={"lambda0": 0.1, "sigma": 2000},
                         noccasions=12, detector=detector, usage=usage, nrepl=300, fit=False,
                         scheduler="serial", seed=11)
    s = summarise_simulation(df)
    for col, key in (("n", "En"), ("r", "Er"), ("n2", "En2")):
        assert abs(s[f"mean_{col}"] - s[key]) < 4 * s[f"mcse_{col}"], (col, s)
    # occasions of detections only where the detector worked
    ch = simulate_capthist(np.random.default_rng(2), GRID, D=4e-4, noccasions=12,
                           detectpar={"lambda0": 0.1, "sigma": 2000}, detector=detector,
                           usage=usage)
    i, occ, k = np.nonzero(ch.counts)
    assert len(i) > 0 and (usage[k, occ] > 0).all()


def test_collapsed_count_fit_equals_full_history():
    rng = np.random.default_rng(0)
    usage = (rng.random((len(GRID), 20)) < 0.8) * rng.uniform(0.3, 1, (len(GRID), 20))
    kw = {"D": 4e-4, "detectpar": {"lambda0": 0.1, "sigma": 2000}, "noccasions": 20,
          "detector": "count", "usage": usage, "nrepl": 2, "scheduler": "serial", "seed": 5}
    a = simulate_design(GRID, collapse_counts=True, **kw)
    b = simulate_design(GRID, collapse_counts=False, **kw)
    for col in ("D_estimate", "D_se", "sigma_estimate", "lambda0_se"):
        np.testing.assert_allclose(a[col], b[col], rtol=1e-5)
