"""Expected counts against R secrdesign 2.10.1 (design_expectations.csv), 1e-6 relative."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from amurlink.analysis.secr import Mask, make_mask
from amurlink.design import cast_to_hazard, expected_counts

RTOL = 1e-6


@pytest.fixture(scope="module")
def ref(reference_dir):
    folder = reference_dir / "secrdesign"
    table = pd.read_csv(folder / "design_expectations.csv")
    masks = pd.read_csv(folder / "design" / "design_masks.csv")
    traps = {lay: pd.read_csv(folder / "design" / f"traps_{lay}.csv")
             for lay in table["layout"].unique()}
    return table, masks, traps


def _params(row):
    if row.detectfn == "HN":
        return {"g0": row.g0, "sigma": row.sigma_m}
    return {"lambda0": row.lambda0, "sigma": row.sigma_m}


def _mask(row, masks):
    pts = masks[(masks.layout == row.layout) & (masks.sigma == row.sigma_m)]
    return Mask.from_points(pts[["x", "y"]].to_numpy(), spacing=row.mask_spacing_m)


def test_every_row_matches_secrdesign(ref):
    table, masks, traps = ref
    assert len(table) == 15
    for row in table.itertuples():
        mask = _mask(row, masks)
        assert mask.n_points == row.mask_npoints
        e = expected_counts(traps[row.layout][["x", "y"]].to_numpy(), mask, D=row.D_per_ha,
                            detectfn=row.detectfn, detectpar=_params(row),
                            noccasions=row.noccasions, detector=row.detector)
        got = {"En": e.En, "Er": e.Er, "Em": e.Em, "En2": e.En2, "En2_En": e.En,
               "esa_ha": e.esa_ha, "esa_native_ha": e.esa_native_ha,
               "minnrRSE": e.rse_poisson, "rotRSE": e.rse,
               "minnrRSE_binomial": e.rse_binomial, "mask_area_ha": e.mask_area_ha,
               "lambda0_used": e.lambda0_used, "sigma_used_m": e.sigma_used}
        for key, value in got.items():
            assert value == pytest.approx(getattr(row, key), rel=RTOL), (row.layout,
                                                                         row.paramset, key)


def test_hn_cast_matches_secrdesign_dfcast(ref):
    table, _, _ = ref
    for row in table[table.detectfn == "HN"].itertuples():
        fn, lam0, sig = cast_to_hazard("HN", {"g0": row.g0, "sigma": row.sigma_m})
        assert fn == "HHN"
        assert lam0 == pytest.approx(row.lambda0_used, rel=1e-12)
        # at d = sigma both curves give g0 exp(-1/2)
        p = 1 - np.exp(-lam0 * np.exp(-row.sigma_m**2 / (2 * sig**2)))
        assert p == pytest.approx(row.g0 * np.exp(-0.5), rel=1e-12)


def test_make_mask_reproduces_secr_mask(ref):
    table, masks, traps = ref
    for row in table.drop_duplicates(["layout", "sigma_m"]).itertuples():
        mask = make_mask(traps[row.layout][["x", "y"]].to_numpy(), buffer=row.mask_buffer_m,
                         nx=64, type="trapbuffer")
        want = _mask(row, masks)
        assert mask.spacing == pytest.approx(row.mask_spacing_m, rel=1e-12)
        np.testing.assert_allclose(np.sort(mask.xy, axis=0), np.sort(want.xy, axis=0),
                                   rtol=0, atol=1e-6)


def test_array_summary_matches_scenario_summary(ref):
    from amurlink.design import array_summary

    table, masks, traps = ref
    for row in table.itertuples():
        s = array_summary(traps[row.layout][["x", "y"]].to_numpy(), _mask(row, masks),
                          D=row.D_per_ha, detectfn=row.detectfn, detectpar=_params(row),
                          noccasions=row.noccasions)
        assert s["saturation"] == pytest.approx(row.ss_saturation, rel=RTOL)
        assert s["k"] == pytest.approx(row.ss_k, rel=1e-12)
        # secrdesign rounds these two to 4 decimals
        assert s["arrayspace"] == pytest.approx(row.ss_arrayspace, abs=5e-5)
        assert s["arrayspan"] == pytest.approx(row.ss_arrayspan, abs=5e-5)
