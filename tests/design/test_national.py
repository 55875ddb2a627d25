"""Joint against national RSE(D), cameras needed alone, costing per country."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from amurlink.analysis.secr import make_mask
from amurlink.design import expected_counts
from amurlink.design.national import cameras_needed_alone, costing, joint_vs_national
from amurlink.exceptions import DataError

PAR = {"lambda0": 0.1, "sigma": 2500.0}


def _layout(spacing=2500.0, gap=2500.0):
    """Two 5x5 blocks either side of a border at x = 0 (CN west with paired stations)."""
    rows = []
    for c, x0, cams in (("CN", -gap / 2 - 4 * spacing, 2), ("RU", gap / 2, 1)):
        for i in range(5):
            for j in range(5):
                rows.append({"x": x0 + i * spacing, "y": j * spacing, "country": c,
                             "cameras": cams})
    return pd.DataFrame(rows)


def test_joint_beats_each_national_survey():
    lay = _layout()
    tab = joint_vs_national(lay, D=5e-4, detectpar=PAR, noccasions=30).set_index("survey")
    assert tab.loc["joint", "stations"] == 50 and tab.loc["CN", "cameras"] == 50
    assert tab.loc["joint", "rse"] < tab.loc["CN", "rse"]
    assert tab.loc["joint", "rse"] < tab.loc["RU", "rse"]
    # a national survey is the joint machinery on its own cameras and own mask
    cn = lay[lay.country == "CN"][["x", "y"]].to_numpy()
    m = make_mask(lay[["x", "y"]].to_numpy(), buffer=10000, nx=64)
    e = expected_counts(cn, make_mask(cn, buffer=10000, spacing=m.spacing), D=5e-4,
                        detectpar=PAR, noccasions=30)
    assert tab.loc["CN", "rse"] == pytest.approx(e.rse)
    comb = 1 / np.sqrt(1 / tab.loc["CN", "rse"] ** 2 + 1 / tab.loc["RU", "rse"] ** 2)
    assert tab.loc["national combined", "rse"] == pytest.approx(comb)


def test_cameras_needed_alone_reach_the_target():
    lay = _layout()
    lay["current"] = 0
    # each country's current cameras: its inner 3x3; the rest are candidates
    inner = lay.groupby("country").cumcount().map(lambda i: 1 <= i // 5 <= 3 and
                                                  1 <= i % 5 <= 3)
    lay.loc[inner.to_numpy(), "current"] = 1
    joint = joint_vs_national(lay[lay.current == 1], D=5e-4, detectpar=PAR,
                              noccasions=30).set_index("survey").loc["joint", "rse"]
    need = cameras_needed_alone(lay, target_rse=joint, D=5e-4, detectpar=PAR,
                                noccasions=30).set_index("country")
    for c in ("CN", "RU"):
        k = need.loc[c, "stations"]
        assert 9 < k <= 25 and need.loc[c, "reached_rse"] <= joint + 1e-12
    assert need.loc["CN", "cameras"] == 2 * need.loc["CN", "stations"]
    # a target beyond reach: no answer, and the best RSE reached is reported
    far = cameras_needed_alone(lay, target_rse=0.5 * joint, D=5e-4, detectpar=PAR,
                               noccasions=30)
    assert far["stations"].isna().all() and (far["reached_rse"] > 0.5 * joint).all()
    easy = cameras_needed_alone(lay, target_rse=1.0, D=5e-4, detectpar=PAR, noccasions=30)
    assert (easy["stations"] == 9).all()  # the current cameras already do


def test_costing_per_country():
    lay = _layout()
    tab = costing(lay, D=5e-4, detectpar=PAR, noccasions=30, visits=4, occasion_days=1,
                  unitcost={"perdetector": 300, "pervisit": 20, "perdetection": 0.5,
                            "perarray": 1000}).set_index("country")
    assert tab.loc["CN", "cameras"] == 50 and tab.loc["RU", "cameras"] == 25
    assert tab.loc["CN", "visits"] == 25 * 4
    assert tab.loc["CN", "camera_days"] == 50 * 30
    assert tab.loc["CN", "detectors"] == 15000
    e = expected_counts(lay[["x", "y"]].to_numpy(),
                        make_mask(lay[["x", "y"]].to_numpy(), buffer=10000, nx=64), D=5e-4,
                        detectpar=PAR, noccasions=30)
    assert tab.loc["total", "expected_detections"] == pytest.approx(e.En + e.Er)
    assert tab.loc["total", "total"] == pytest.approx(tab.loc[["CN", "RU"], "total"].sum())
    with pytest.raises(DataError, match="unknown unit cost"):
        costing(lay, D=5e-4, detectpar=PAR, noccasions=30, unitcost={"perphoto": 1})
