"""Cost distance and least-cost corridors against closed-form answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from amurlink.exceptions import DataError
from amurlink.landscape.costdist import cost_distance, least_cost_corridor, rasterize_polygons
from amurlink.landscape.grid import Grid


def _octile(dr: np.ndarray, dc: np.ndarray) -> np.ndarray:
    lo, hi = np.minimum(dr, dc), np.maximum(dr, dc)
    return lo * math.sqrt(2) + (hi - lo)


def test_uniform_grid_gives_octile_distance_times_resistance():
    r = np.full((21, 31), 3.0)
    src = np.zeros_like(r, dtype=bool)
    src[10, 5] = True
    d = cost_distance(r, src, cellsize=30.0)
    rr, cc = np.indices(r.shape)
    expect = _octile(np.abs(rr - 10), np.abs(cc - 5)) * 3.0 * 30.0
    assert np.allclose(d, expect)
    d4 = cost_distance(r, src, eight_neighbors=False)
    assert np.allclose(d4, (np.abs(rr - 10) + np.abs(cc - 5)) * 3.0)


def test_barrier_forces_detour_and_unreachable_is_inf():
    r = np.ones((5, 5))
    r[:, 2] = np.nan  # full wall
    src = np.zeros_like(r, dtype=bool)
    src[2, 0] = True
    d = cost_distance(r, src)
    assert np.isinf(d[:, 3:]).all() and np.isfinite(d[:, :2]).all()
    r[4, 2] = 1.0  # gap at the bottom
    d = cost_distance(r, src)
    # (2,0) -> (3,1) -> (4,2) -> (3,3): three diagonal steps
    assert d[3, 3] == pytest.approx(3 * math.sqrt(2))


def test_mean_resistance_step_cost():
    r = np.array([[1.0, 9.0]])
    src = np.array([[True, False]])
    assert cost_distance(r, src)[0, 1] == pytest.approx(5.0)


def test_corridor_path_cost_and_width():
    r = np.full((30, 40), 10.0)
    r[12:18, :] = 1.0  # a cheap valley between the cores
    a = np.zeros_like(r, dtype=bool)
    b = np.zeros_like(r, dtype=bool)
    a[14, 0:3] = True
    b[14, 37:40] = True
    cor = least_cost_corridor(r, a, b)
    # straight along the valley: 35 unit steps (column 2 to 37) of cost 1
    assert cor.least_cost == pytest.approx(35.0)
    assert cor.path[0] == (14, 2) and cor.path[-1] == (14, 37)
    steps = np.abs(np.diff(np.array(cor.path), axis=0)).max(axis=1)
    assert (steps == 1).all()  # a connected chain of neighbours
    assert np.nanmin(cor.normalized) == pytest.approx(0.0)
    w5, w20 = cor.width_mask(5), cor.width_mask(20)
    assert w5.sum() < w20.sum()
    assert w20[12:18].mean() > w20[:12].mean()  # the corridor follows the valley
    with pytest.raises(DataError):
        cor.width_mask(0)


def test_disconnected_cores_have_infinite_cost():
    r = np.ones((4, 6))
    r[:, 3] = 0.0
    a = np.zeros_like(r, dtype=bool)
    b = np.zeros_like(r, dtype=bool)
    a[0, 0] = b[0, 5] = True
    cor = least_cost_corridor(r, a, b)
    assert math.isinf(cor.least_cost) and cor.path == []


def test_sources_must_be_on_habitat():
    r = np.ones((3, 3))
    r[1, 1] = np.nan
    src = np.zeros_like(r, dtype=bool)
    src[1, 1] = True
    with pytest.raises(DataError, match="passable"):
        cost_distance(r, src)


def test_rasterize_polygons_cell_centres():
    grid = Grid(np.zeros((4, 4)), xllcorner=0.0, yllcorner=0.0, cellsize=10.0)
    poly = shapely.box(0, 0, 20, 20)  # lower-left quarter
    out = rasterize_polygons([poly, shapely.box(30, 30, 40, 40)], grid, values=[5, 7])
    expect = np.zeros((4, 4), dtype=int)
    expect[2:, :2] = 5
    expect[0, 3] = 7
    assert np.array_equal(out, expect)
