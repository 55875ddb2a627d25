"""Slow study: the rule-of-thumb RSE(D) with CF = 1 against the simulated RSE (SD(D-hat)/D)
on two designs, the simulator's neaspec layout and a 10 x 10 grid at 2 sigma; within 20 %.
Figures in docs/design.md."""

from __future__ import annotations

import pytest

from amurlink.analysis.secr import make_mask
from amurlink.design import grid_layout, neaspec_layout, rule_of_thumb_check


@pytest.mark.slow
def test_rule_of_thumb_within_20_percent_of_simulated_rse():
    lay = neaspec_layout()
    st = lay["stations"]
    sigma = lay["detectpar"]["sigma"]
    grid = grid_layout(10, 10, 2 * 3000.0)
    designs = {
        "neaspec": {"traps": st, "D": lay["D"], "detectpar": lay["detectpar"],
                    "noccasions": lay["noccasions"], "detector": "count",
                    "usage": lay["usage"],
                    "mask": make_mask(st[["x", "y"]].to_numpy(), buffer=4 * sigma, nx=32)},
        "grid 2 sigma": {"traps": grid, "D": 2e-4, "detectpar": {"lambda0": 0.05,
                                                                 "sigma": 3000.0},
                         "noccasions": 30, "detector": "proximity"},
    }
    tab = rule_of_thumb_check(designs, nrepl=100, seed=2026).set_index("design")
    for name in designs:
        row = tab.loc[name]
        assert row["nvalid"] >= 98
        assert 0.8 <= row["ratio"] <= 1.2, (name, row.to_dict())
        assert abs(row["RB"]) < 3 * row["RB_se"] + 0.02
