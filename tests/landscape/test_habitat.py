"""Landscape layers, resistance surfaces and transboundary answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from amurlink.exceptions import DataError
from amurlink.landscape import habitat as hb
from amurlink.landscape.grid import Grid, read_grid, write_grid


def test_expert_resistance_formula_and_class_table():
    layers = {"forest": np.array([[0.0, 1.0]]), "landuse": np.array([[1.0, 2.0]])}
    r = hb.expert_resistance(
        layers, {"forest": -1.0}, intercept=3.0, class_tables={"landuse": {1: 1.0, 2: 10.0}}
    )
    assert np.allclose(r, [[np.exp(3.0), np.exp(2.0) * 10.0]])
    with pytest.raises(DataError, match=r"class codes \[2\]"):
        hb.expert_resistance(layers, {}, class_tables={"landuse": {1: 1.0}})
    with pytest.raises(DataError, match="roads"):
        hb.expert_resistance(layers, {"roads": 1.0})


@pytest.mark.parametrize("method", ["linear", "negexp", "inverse"])
def test_suitability_transforms_are_decreasing_with_documented_ends(method):
    s = np.linspace(0, 1, 101)
    r = hb.suitability_to_resistance(s, method=method, r_max=1000.0)
    assert np.all(np.diff(r) <= 0)
    assert r[0] == pytest.approx(1000.0) and r[-1] == pytest.approx(1.0)
    if method == "negexp":  # concave: drops fast at low suitability (Keeley et al. 2016)
        assert r[10] < hb.suitability_to_resistance(np.array([0.1]), method="linear")[0]


def test_glm_recovers_known_coefficients():
    rng = np.random.default_rng(3)
    n = 400
    x = pd.DataFrame({"forest": rng.uniform(0, 1, n), "road_km": rng.uniform(0, 20, n)})
    effort = rng.uniform(50, 300, n)
    zf = (x.forest - x.forest.mean()) / x.forest.std(ddof=0)
    zr = (x.road_km - x.road_km.mean()) / x.road_km.std(ddof=0)
    lam = effort * np.exp(-4.0 + 0.8 * zf + 0.5 * zr)
    y = rng.poisson(lam)
    m = hb.fit_habitat_glm(y, effort, x)
    assert m.params["forest"] == pytest.approx(0.8, abs=0.12)
    assert m.params["road_km"] == pytest.approx(0.5, abs=0.12)
    assert m.params["const"] == pytest.approx(-4.0, abs=0.12)
    s = hb.predict_suitability(
        m, {"forest": np.array([[0.0, 1.0]]), "road_km": np.array([[5.0, 5.0]])}
    )
    assert 0 <= s[0, 0] < s[0, 1] <= 1
    with pytest.raises(DataError, match="row 2"):
        hb.fit_habitat_glm(np.array([1, -1, 2]), np.ones(3), x.iloc[:3])


def test_effective_resistance_series_and_parallel():
    r = np.ones((1, 10))
    a = np.zeros_like(r, bool)
    b = np.zeros_like(r, bool)
    a[0, 0] = b[0, 9] = True
    R, cur = hb.effective_resistance(r, a, b, four_neighbors=True)
    assert R == pytest.approx(9.0)
    assert np.allclose(cur[0], 1.0)
    r2 = np.ones((2, 10))  # two parallel strips, cores span both rows
    a2 = np.zeros_like(r2, bool)
    b2 = np.zeros_like(r2, bool)
    a2[:, 0] = b2[:, 9] = True
    R2, _ = hb.effective_resistance(r2, a2, b2, four_neighbors=True)
    assert R2 == pytest.approx(4.5)


def _walled():
    r = np.ones((20, 20))
    r[:, 10] = 1000.0  # a fence
    a = np.zeros_like(r, bool)
    b = np.zeros_like(r, bool)
    a[:, 0] = True
    b[:, 19] = True
    return r, a, b


def test_barrier_improvement_ranks_the_blocking_stretch_first():
    r, a, b = _walled()
    fence_gap = np.zeros_like(r, bool)
    fence_gap[8:12, 10] = True
    far = np.zeros_like(r, bool)
    far[5, 3:6] = True  # already cheap habitat
    df = hb.barrier_improvement(r, a, b, {"gap": fence_gap, "far": far})
    assert df.loc[0, "candidate"] == "gap" and df.loc[0, "improvement_pct"] > 20
    assert df.set_index("candidate").loc["far", "improvement_pct"] == pytest.approx(0, abs=1e-6)


def test_pinch_points_find_the_neck():
    r = np.full((21, 21), 1.0)
    r[:, 10] = np.nan
    r[10, 10] = 1.0  # one-cell gap
    a = np.zeros_like(r, bool)
    b = np.zeros_like(r, bool)
    a[:, 0] = b[:, 20] = True
    _, cur = hb.effective_resistance(r, a, b)
    pp = hb.pinch_points(cur, quantile=0.99, exclude=a | b)
    assert (pp.loc[0, "row"], pp.loc[0, "col"]) == (10, 10)


def test_border_current_and_crossing_correlation():
    grid = Grid(np.zeros((10, 10)), 0.0, 0.0, 1.0)
    cur = np.zeros((10, 10))
    cur[:, 5] = np.arange(10.0)  # current rising towards the south (last rows)
    border = shapely.LineString([(5.5, 10), (5.5, 0)])
    segs = hb.border_segments(border, 2.0)
    assert len(segs) == 5
    df = hb.border_current(grid.with_values(cur), segs)
    assert df["current"].sum() == pytest.approx(cur.sum())
    assert list(df["current"]) == sorted(df["current"])  # north to south: rising
    stats = hb.compare_crossings(df["current"], [0, 1, 1, 3, 7])
    assert stats["spearman"] > 0.9 and stats["segments"] == 5
    with pytest.raises(DataError):
        hb.compare_crossings([1, 2], [1, 2])


def test_align_raster_and_distance_layers(tmp_path):
    src = Grid(
        np.add.outer(np.zeros(40), np.arange(40.0)),
        500000.0,
        4800000.0,
        10.0,
        -9999.0,
        "EPSG:32652",
    )
    path = write_grid(src, tmp_path / "ramp.tif")
    back = read_grid(path)
    assert np.array_equal(back.values, src.values) and back.crs is not None
    study = hb.study_grid((500000.0, 4800000.0, 500400.0, 4800400.0), 20.0, "EPSG:32652")
    out = hb.align_raster(path, study)
    # 20 m cells average two 10 m columns: value 2k + 0.5 in column k (bilinear at centres)
    assert np.allclose(out.values[5, 3:15], 2 * np.arange(3, 15) + 0.5, atol=1e-6)
    d = hb.distance_to([shapely.LineString([(500000, 4800210), (500400, 4800210)])], study)
    assert d.min() == 0 and d[0, 0] == pytest.approx(9 * 20.0)
    assert np.all(
        hb.cell_values_at(out, np.array([500005.0]), np.array([4800395.0])) == out.values[0, 0]
    )
