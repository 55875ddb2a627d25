"""Circuit graph construction and solves against hand-computed circuits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from amurlink.exceptions import ConfigError, DataError
from amurlink.landscape import circuit
from amurlink.landscape.csjob import job_from_options, run_job
from amurlink.landscape.grid import Grid, read_grid, write_grid


def test_link_conductances_follow_circuitscape_rules():
    g = np.array([[1.0, 3.0], [0.0, 2.0]])
    avg_r = circuit.raster_graph(g, four_neighbors=False, average_resistances=True)
    links = {(int(a), int(b)): c for a, b, c in zip(avg_r.u, avg_r.w, avg_r.c, strict=True)}
    # nodes in row-major order of habitat cells: (0,0)=0, (0,1)=1, (1,1)=2
    assert links[(0, 1)] == pytest.approx(2 / (1 / 1 + 1 / 3))
    assert links[(1, 2)] == pytest.approx(2 / (1 / 3 + 1 / 2))
    assert links[(0, 2)] == pytest.approx(2 / (1 / 1 + 1 / 2) / math.sqrt(2))
    avg_g = circuit.raster_graph(g, four_neighbors=True, average_resistances=False)
    links = {(int(a), int(b)): c for a, b, c in zip(avg_g.u, avg_g.w, avg_g.c, strict=True)}
    assert links == {(0, 1): 2.0, (1, 2): 2.5}


def test_polygon_merges_cells_and_parallel_links_add():
    g = np.ones((2, 3))
    poly = np.array([[0, 0, 7], [0, 0, 7]])
    gr = circuit.raster_graph(g, polygons=poly, four_neighbors=True)
    assert gr.n == 5 and gr.nodemap[0, 2] == gr.nodemap[1, 2]
    # two unit links from the middle column into the polygon node, none inside it
    into = [c for a, b, c in zip(gr.u, gr.w, gr.c, strict=True) if gr.nodemap[0, 2] in (a, b)]
    assert sorted(into) == [1.0, 1.0]


def test_pairwise_resistances_series_parallel_and_components():
    g = np.array([[1.0, 1.0, 1.0, 0.0, 1.0]])
    gr = circuit.raster_graph(g, four_neighbors=True)
    res, sols = circuit.pairwise(gr, [0, 2, 3])
    assert res[0, 1] == pytest.approx(2.0)
    assert res[0, 2] == -1 and res[1, 2] == -1
    sol = next(iter(sols))
    assert sol.voltages[0] == pytest.approx(0.0) and sol.voltages[2] == pytest.approx(2.0)
    assert np.allclose(sol.node_currents()[:3], 1.0)
    square = circuit.raster_graph(np.ones((2, 2)), four_neighbors=True)
    res, _ = circuit.pairwise(square, [0, 3])  # two parallel paths of 2 ohm
    assert res[0, 1] == pytest.approx(1.0)


def test_amg_and_direct_agree():
    rng = np.random.default_rng(5)
    g = np.exp(rng.normal(0, 1, (60, 60)))
    gr = circuit.raster_graph(g)
    lap = gr.laplacian()[1:, 1:]
    b = np.zeros(lap.shape[0])
    b[-1] = 1.0
    x_direct = circuit.Factor(lap, "direct").solve(b)
    amg = circuit.Factor(lap, "cg+amg")
    amg.kind = "amg"
    amg._solve = circuit._amg(amg.a)
    assert np.allclose(amg.solve(b), x_direct, rtol=1e-8, atol=1e-9)


def test_advanced_finite_and_direct_grounds():
    gr = circuit.raster_graph(np.ones((1, 3)), four_neighbors=True)
    src = np.array([1.0, 0.0, 0.0])
    gnd = np.array([0.0, 0.0, 0.5])  # 2 ohm to ground at the far end
    sol = circuit.advanced(gr, src, gnd)
    assert sol.voltages == pytest.approx([4.0, 3.0, 2.0])
    assert sol.node_currents(gr) == pytest.approx([1.0, 1.0, 1.0])
    sol = circuit.advanced(gr, src, np.array([0.0, np.inf, 0.0]))
    assert sol.voltages == pytest.approx([1.0, 0.0, 0.0])


def test_ascii_grid_round_trip_and_errors(tmp_path):
    grid = Grid(np.array([[1.5, -9999.0], [2.0, 3.0]]), 10.0, 20.0, 5.0)
    p = write_grid(grid, tmp_path / "a.asc")
    back = read_grid(p)
    assert np.array_equal(back.values, grid.values) and back.cellsize == 5.0
    assert back.valid.tolist() == [[True, False], [True, True]]
    pz = write_grid(grid, tmp_path / "b.asc", compress=True)
    assert pz.name == "b.asc.gz" and np.array_equal(read_grid(pz).values, grid.values)
    (tmp_path / "bad.asc").write_text("ncols 2\nnrows 2\ncellsize 1\n1 2\n3 x\n")
    with pytest.raises(DataError, match="not a number"):
        read_grid(tmp_path / "bad.asc")
    with pytest.raises(DataError, match="not found"):
        read_grid(tmp_path / "missing.asc")


def test_job_errors_name_the_file_and_cell(tmp_path):
    write_grid(Grid(np.array([[1.0, 0.0], [1.0, 1.0]])), tmp_path / "r.asc")
    write_grid(Grid(np.array([[1.0, -9999], [-9999, 2.0]])), tmp_path / "p.asc")
    job = job_from_options(
        {
            "data_type": "raster",
            "scenario": "pairwise",
            "habitat_file": str(tmp_path / "r.asc"),
            "habitat_map_is_resistances": "True",
            "point_file": str(tmp_path / "p.asc"),
            "output_file": str(tmp_path / "o.out"),
        }
    )
    with pytest.raises(DataError, match=r"r\.asc: row 1, column 2: resistance 0"):
        run_job(job)
    with pytest.raises(ConfigError, match="connect_four_neighbors_only"):
        job_from_options(
            {"data_type": "raster", "scenario": "pairwise", "connect_four_neighbors_only": "maybe"}
        ).flag("connect_four_neighbors_only")


def test_reclass_table_changes_habitat_values(tmp_path):
    write_grid(Grid(np.array([[1.0, 7.0, 1.0]])), tmp_path / "r.asc")
    write_grid(Grid(np.array([[1.0, -9999, 2.0]])), tmp_path / "p.asc")
    (tmp_path / "reclass.txt").write_text("7 3\n")
    opts = {
        "data_type": "raster",
        "scenario": "pairwise",
        "habitat_file": str(tmp_path / "r.asc"),
        "habitat_map_is_resistances": "True",
        "point_file": str(tmp_path / "p.asc"),
        "connect_four_neighbors_only": "True",
        "output_file": str(tmp_path / "o.out"),
    }
    plain = run_job(job_from_options(opts)).resistances[0, 1]
    assert plain == pytest.approx((1 + 7) / 2 + (7 + 1) / 2)  # mean resistances in series
    opts.update(use_reclass_table="True", reclass_file=str(tmp_path / "reclass.txt"))
    assert run_job(job_from_options(opts)).resistances[0, 1] == pytest.approx(4.0)
