"""optimalSpacing against R secrdesign 2.10.1: RSE at R's spacings (1e-6), optimum (1e-3)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from amurlink.design.spacing import _crossing, detector_spacing, optimal_spacing


@pytest.fixture(scope="module")
def ref(reference_dir):
    folder = reference_dir / "secrdesign"
    spec = json.loads((folder / "optimal_spacing.json").read_text())
    curve = pd.read_csv(folder / "optimal_spacing_curve.csv")
    return folder, spec, curve


def test_curves_and_optima_match_secrdesign(ref):
    folder, spec, curve = ref
    assert len(spec["settings"]) == 4
    for name, s in spec["settings"].items():
        traps = pd.read_csv(folder / "design" / f"traps_{s['layout']}.csv")
        detector = "count" if "count" in s["layout"] else "proximity"
        assert detector_spacing(traps[["x", "y"]]) == pytest.approx(s["trap_spacing_m"])
        res = optimal_spacing(traps[["x", "y"]].to_numpy(), D=s["D_per_ha"],
                              detectpar=s["detectpar"], noccasions=s["noccasions"],
                              detectfn=s["detectfn"], detector=detector, R=s["R_grid"],
                              xsigma=s["xsigma"], CF=s["CF"], distribution=s["distribution"])
        want = curve[curve.setting == name].reset_index(drop=True)
        assert len(want) == len(res.curve) == 20
        for col in ("R", "spacing_m", "En", "Er", "Em", "RSE"):
            np.testing.assert_allclose(res.curve[col], want[col], rtol=1e-6, err_msg=name + col)
        if s["optimum_R"] is None:
            assert res.optimum_R is None and res.minimum_RSE is None
            assert "no optimum" in res.note
        else:
            assert res.optimum_R == pytest.approx(s["optimum_R"], rel=1e-3)
            assert res.optimum_spacing_m == pytest.approx(s["optimum_spacing_m"], rel=1e-3)
            assert res.minimum_RSE == pytest.approx(s["minimum_RSE"], rel=1e-3)


def test_crossing_of_linear_interpolants():
    R = np.array([1.0, 2.0, 3.0])
    assert _crossing(R, np.array([-2.0, -1.0, 1.0])) == pytest.approx(2.5)
    assert _crossing(R, np.array([-2.0, -1.0, -0.5])) is None
    assert _crossing(R, np.array([0.0, 1.0, 2.0])) == 1.0
