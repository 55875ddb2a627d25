"""Benchmark: Circuitscape-style pairwise run and cost distance on 1,000,000 cells.

Synthetic landscape (stated so it can be rebuilt): a 1000 x 1000 grid of 30 m cells whose
log10-resistance is a Gaussian random field (white noise smoothed by a Gaussian kernel of
sigma 15 cells, standardised), ``R = 10 ** (1.5 + 0.75 z)`` clipped to 1-1000: log-normal,
spatially correlated, 1-1000. 20 focal points drawn uniformly (seed 7). Circuitscape's
defaults: 8 neighbours, average resistance.

1. pairwise, cumulative current map only, as ``amurlink corridors`` runs it from an .ini job
   (reading the ASCII grids, 190 pairs, writing the resistance matrix and the cumulative map);
   the solve alone is timed too;
2. cost distance with 8 neighbours from two "parks" (two discs of 60-cell radius) on the same
   grid, and the least-cost corridor between them.

Sizes: ``AMURLINK_BENCH_CELLS`` (default 1,000,000; a square grid). Run:
``.venv/bin/python benchmarks/bench_corridors.py``.

``AMURLINK_BENCH_CASE=parks`` runs the issue's large case instead: the same synthetic
resistance on ``AMURLINK_BENCH_CELLS`` cells (20,000,000: both parks at 30 m) with two parks
as focal polygons (discs of radius 8 % of the side, centred as the cost-distance parks),
pairwise (one solve: each polygon short-circuited to one node), cumulative current map; then
cost distance from both parks with 8 neighbours on the same grid. Run it under
``/usr/bin/time -v`` for the peak memory of the whole process. Circuitscape's published figures for
1 M cells pairwise (16 processes): Julia 106 s, Julia + CHOLMOD 90 s, Python 4.0 538 s.
"""

from __future__ import annotations

import math
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

from amurlink.landscape import circuit
from amurlink.landscape.costdist import cost_distance, least_cost_corridor
from amurlink.landscape.csjob import job_from_options, run_job
from amurlink.landscape.grid import Grid, write_grid


def synthetic_resistance(n: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z = ndimage.gaussian_filter(rng.standard_normal((n, n)), sigma=15, mode="wrap")
    z = (z - z.mean()) / z.std()
    return np.clip(10 ** (1.5 + 0.75 * z), 1.0, 1000.0)


def parks_case(n: int) -> None:
    """Two parks as focal polygons, pairwise, cumulative map; cost distance from both."""
    t0 = time.perf_counter()
    res = synthetic_resistance(n)
    rr, cc = np.ogrid[:n, :n]
    radius = 0.08 * n
    park_a = (rr - n * 0.3) ** 2 + (cc - n * 0.25) ** 2 <= radius**2
    park_b = (rr - n * 0.7) ** 2 + (cc - n * 0.75) ** 2 <= radius**2
    polygons = np.zeros((n, n), np.int32)
    polygons[park_a] = 1
    polygons[park_b] = 2
    print(f"grid {n} x {n} = {n * n:,} cells, parks {park_a.sum():,} and {park_b.sum():,} "
          f"cells (built in {time.perf_counter() - t0:.1f} s)", flush=True)
    t = time.perf_counter()
    graph = circuit.raster_graph(1.0 / res, polygons=polygons, four_neighbors=False,
                                 average_resistances=True)
    t_graph = time.perf_counter() - t
    print(f"graph: {graph.n:,} nodes, {len(graph.c):,} edges, {t_graph:.1f} s", flush=True)
    focal = [int(graph.nodemap[park_a][0]), int(graph.nodemap[park_b][0])]
    t = time.perf_counter()
    rmat, sols = circuit.pairwise(graph, focal)
    cum = np.zeros(graph.n)
    for sol in sols:
        cum += sol.node_currents()
    t_solve = time.perf_counter() - t
    print(f"pairwise between the two parks: effective resistance {rmat[0, 1]:.6g}; solve and "
          f"cumulative current {t_solve:.1f} s; total with the graph {t_graph + t_solve:.1f} s",
          flush=True)
    del graph, sols, cum
    t = time.perf_counter()
    d = cost_distance(res, park_a | park_b, cellsize=30.0, eight_neighbors=True)
    print(f"cost distance from both parks, 8 neighbours: {time.perf_counter() - t:.1f} s "
          f"(max finite {np.nanmax(d[np.isfinite(d)]):.3g})")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"peak memory {peak:.2f} GiB; load average {os.getloadavg()[0]:.1f}; "
          f"all {time.perf_counter() - t0:.1f} s")


def main() -> None:
    cells = int(os.environ.get("AMURLINK_BENCH_CELLS", "1000000"))
    if os.environ.get("AMURLINK_BENCH_CASE", "") == "parks":
        return parks_case(int(round(math.sqrt(cells))))
    n = int(round(math.sqrt(cells)))
    rng = np.random.default_rng(7)
    t0 = time.perf_counter()
    res = synthetic_resistance(n)
    print(
        f"grid {n} x {n} = {n * n:,} cells; resistance {res.min():.1f}-{res.max():.1f}, "
        f"median {np.median(res):.1f} (built in {time.perf_counter() - t0:.1f} s)"
    )
    flat = rng.choice(n * n, 20, replace=False)
    pts = np.full((n, n), -9999.0)
    pts.ravel()[flat] = np.arange(1, 21)

    # -- solve only -------------------------------------------------------------------------
    t = time.perf_counter()
    graph = circuit.raster_graph(1.0 / res, four_neighbors=False, average_resistances=True)
    t_graph = time.perf_counter() - t
    t = time.perf_counter()
    rmat, sols = circuit.pairwise(graph, [int(graph.nodemap.ravel()[k]) for k in flat])
    t_solve = time.perf_counter() - t
    t = time.perf_counter()
    cum = np.zeros(graph.n)
    pairs = 0
    for sol in sols:
        cum += sol.node_currents()
        pairs += 1
    t_cur = time.perf_counter() - t
    print(
        f"pairwise solve only: graph {t_graph:.1f} s, 19 solves {t_solve:.1f} s, "
        f"{pairs} pair current maps {t_cur:.1f} s, total {t_graph + t_solve + t_cur:.1f} s"
    )

    # -- as a job -----------------------------------------------------------------------------
    with tempfile.TemporaryDirectory() as td:
        tdp = Path(td)
        write_grid(Grid(res, 0.0, 0.0, 30.0), tdp / "resistance.asc")
        write_grid(Grid(pts, 0.0, 0.0, 30.0), tdp / "points.asc")
        job = job_from_options(
            {
                "data_type": "raster",
                "scenario": "pairwise",
                "habitat_file": str(tdp / "resistance.asc"),
                "habitat_map_is_resistances": "True",
                "point_file": str(tdp / "points.asc"),
                "output_file": str(tdp / "bench.out"),
                "connect_four_neighbors_only": "False",
                "connect_using_avg_resistances": "True",
                "write_cur_maps": "True",
                "write_cum_cur_map_only": "True",
                "solver": "cg+amg",
            }
        )
        t = time.perf_counter()
        result = run_job(job)
        t_job = time.perf_counter() - t
    assert np.allclose(result.resistances, rmat, rtol=1e-6), "job and solve disagree"
    print(
        f"pairwise job (read grids, solve, write matrix + cumulative map): {t_job:.1f} s; "
        f"{(result.resistances > 0).sum() // 2} connected pairs"
    )

    # -- cost distance --------------------------------------------------------------------------
    rr, cc = np.indices((n, n))
    park_a = (rr - n * 0.3) ** 2 + (cc - n * 0.25) ** 2 <= 60**2
    park_b = (rr - n * 0.7) ** 2 + (cc - n * 0.75) ** 2 <= 60**2
    t = time.perf_counter()
    d = cost_distance(res, park_a | park_b, cellsize=30.0, eight_neighbors=True)
    t_cd = time.perf_counter() - t
    t = time.perf_counter()
    cor = least_cost_corridor(res, park_a, park_b, cellsize=30.0)
    t_cor = time.perf_counter() - t
    print(
        f"cost distance from both parks, 8 neighbours: {t_cd:.1f} s "
        f"(max finite {np.nanmax(d[np.isfinite(d)]):.3g}); least-cost corridor A-B "
        f"(two cost surfaces + path): {t_cor:.1f} s, path {cor.path_length_cells} cells"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"peak memory {peak:.2f} GiB; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
