"""Cost distance and least-cost corridors between core areas (8 or 4 neighbours).

The cost of moving between two neighbouring cells is the mean of their resistances times the
distance between their centres (one cell size, or ``sqrt(2)`` cell sizes diagonally), the
convention of ArcGIS *Cost Distance*, gdistance and Linkage Mapper. Cells with no data
(NaN, or resistance <= 0) are impassable. Accumulated costs come from Dijkstra's algorithm
(:func:`scipy.sparse.csgraph.dijkstra`, all core cells at once).

A least-cost corridor between cores A and B is ``cd_A + cd_B``: the cost of the cheapest
route from A to B forced through each cell. Its minimum is the least-cost distance; the
*normalised* corridor subtracts it (0 along the least-cost path). The corridor of width
``p`` percent keeps the cells whose normalised cost is within the ``p``-th percentile of all
reachable cells' normalised costs (Linkage Mapper's "cost-weighted width" by percentile).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from amurlink.exceptions import DataError
from amurlink.landscape.grid import Grid

__all__ = [
    "cost_graph",
    "cost_distance",
    "Corridor",
    "least_cost_corridor",
    "rasterize_polygons",
]


def _passable(resistance: np.ndarray) -> np.ndarray:
    r = np.asarray(resistance, dtype=float)
    return np.isfinite(r) & (r > 0)


def cost_graph(
    resistance: np.ndarray, *, cellsize: float = 1.0, eight_neighbors: bool = True
) -> sp.csr_matrix:
    """Directed-symmetric sparse graph of movement costs between neighbouring cells."""
    r = np.asarray(resistance, dtype=float)
    if r.ndim != 2:
        raise DataError(f"resistance must be a 2-D grid, got shape {r.shape}")
    ok = _passable(r)
    nrows, ncols = r.shape
    n = r.size
    # 32-bit cell indices where they fit, and each step's links written straight into the
    # matrix's arrays (at 20 M cells the int64 lists, their concatenation and a doubled copy
    # of each were the benchmark's memory peak)
    itype = np.int32 if n < np.iinfo(np.int32).max else np.int64
    idx = np.arange(n, dtype=itype).reshape(r.shape)
    steps = [((0, 1), 1.0), ((1, 0), 1.0)]
    if eight_neighbors:
        steps += [((1, 1), math.sqrt(2.0)), ((1, -1), math.sqrt(2.0))]
    frames = []
    for (dr, dc), length in steps:
        r0 = slice(0, nrows - dr)
        r1 = slice(dr, nrows)
        c0 = slice(max(0, -dc), ncols - max(0, dc))
        c1 = slice(max(0, dc), ncols - max(0, -dc))
        frames.append((r0, c0, r1, c1, ok[r0, c0] & ok[r1, c1], length))
    e = sum(int(f[4].sum()) for f in frames)
    rows = np.empty(2 * e, dtype=itype)
    cols = np.empty(2 * e, dtype=itype)
    data = np.empty(2 * e)
    at = 0
    while frames:
        r0, c0, r1, c1, both, length = frames.pop(0)
        k = int(both.sum())
        a, b = slice(at, at + k), slice(e + at, e + at + k)
        rows[a] = cols[b] = idx[r0, c0][both]
        cols[a] = rows[b] = idx[r1, c1][both]
        data[a] = (r[r0, c0][both] + r[r1, c1][both]) * 0.5 * length * cellsize
        data[b] = data[a]
        at += k
        del both
    return sp.coo_matrix((data, (rows, cols)), shape=(n, n)).tocsr()


def cost_distance(
    resistance: np.ndarray,
    sources: np.ndarray,
    *,
    cellsize: float = 1.0,
    eight_neighbors: bool = True,
    graph: sp.csr_matrix | None = None,
    return_predecessors: bool = False,
):
    """Accumulated cost from the nearest source cell (``inf`` where unreachable).

    ``sources`` is a boolean grid; source cells on impassable cells are ignored (an error if
    none is left). With ``return_predecessors`` also returns the predecessor grid (-9999 at
    sources and unreachable cells) and the source each cell is reached from.
    """
    r = np.asarray(resistance, dtype=float)
    src = np.asarray(sources, dtype=bool)
    if src.shape != r.shape:
        raise DataError(f"sources grid {src.shape} differs from resistance grid {r.shape}")
    start = np.flatnonzero((src & _passable(r)).ravel())
    if start.size == 0:
        raise DataError("no source cell lies on passable (resistance > 0) habitat")
    g = (
        graph
        if graph is not None
        else cost_graph(r, cellsize=cellsize, eight_neighbors=eight_neighbors)
    )
    out = dijkstra(
        g, directed=True, indices=start, min_only=True, return_predecessors=return_predecessors
    )
    if return_predecessors:
        dist, pred, origin = out
        return dist.reshape(r.shape), pred.reshape(r.shape), origin.reshape(r.shape)
    return out.reshape(r.shape)


@dataclass
class Corridor:
    """A least-cost corridor between two core areas."""

    cost_a: np.ndarray
    cost_b: np.ndarray
    least_cost: float
    normalized: np.ndarray  # cost_a + cost_b - least_cost (inf where unreachable)
    path: list[tuple[int, int]]  # cells of one least-cost path, from core A to core B

    def width_mask(self, percentile: float) -> np.ndarray:
        """Cells whose normalised cost is within the ``percentile`` of reachable cells."""
        if not 0 < percentile <= 100:
            raise DataError(f"corridor percentile {percentile}; expected in (0, 100]")
        finite = self.normalized[np.isfinite(self.normalized)]
        if finite.size == 0:
            return np.zeros(self.normalized.shape, dtype=bool)
        cut = np.percentile(finite, percentile)
        return np.isfinite(self.normalized) & (self.normalized <= cut)

    @property
    def path_length_cells(self) -> int:
        return len(self.path)


def least_cost_corridor(
    resistance: np.ndarray,
    core_a: np.ndarray,
    core_b: np.ndarray,
    *,
    cellsize: float = 1.0,
    eight_neighbors: bool = True,
) -> Corridor:
    """Least-cost corridor between two cores (boolean grids); ``inf`` costs if disconnected."""
    r = np.asarray(resistance, dtype=float)
    g = cost_graph(r, cellsize=cellsize, eight_neighbors=eight_neighbors)
    da, pred_a, _ = cost_distance(r, core_a, graph=g, return_predecessors=True)
    db = cost_distance(r, core_b, graph=g)
    total = da + db
    b_cells = np.asarray(core_b, dtype=bool) & np.isfinite(da)
    if not b_cells.any():
        return Corridor(da, db, math.inf, np.full(r.shape, np.inf), [])
    least = float(np.min(total[np.isfinite(total)]))
    # path: from the core-B cell nearest (in cost) to A, walk predecessors back to A
    end = int(
        np.flatnonzero(
            np.where(b_cells, da, np.inf).ravel() == np.min(np.where(b_cells, da, np.inf))
        )[0]
    )
    path = []
    flat_pred = pred_a.ravel()
    cell = end
    while cell >= 0:
        path.append(divmod(cell, r.shape[1]))
        cell = int(flat_pred[cell])
    path.reverse()
    return Corridor(da, db, least, total - least, [(int(a), int(b)) for a, b in path])


def rasterize_polygons(
    polygons: Sequence, grid: Grid, *, values: Sequence[int] | None = None
) -> np.ndarray:
    """Integer grid: ``values[k]`` (default k+1) where a cell centre lies in polygon k, else 0.

    Shapely geometries in the grid's CRS; later polygons win where they overlap.
    """
    import shapely

    nrows, ncols = grid.shape
    xs = grid.xllcorner + (np.arange(ncols) + 0.5) * grid.cellsize
    ys = grid.yllcorner + (nrows - np.arange(nrows) - 0.5) * grid.cellsize
    xx, yy = np.meshgrid(xs, ys)
    out = np.zeros(grid.shape, dtype=np.int64)
    for k, poly in enumerate(polygons):
        val = (k + 1) if values is None else int(values[k])
        minx, miny, maxx, maxy = poly.bounds
        box = (xx >= minx) & (xx <= maxx) & (yy >= miny) & (yy <= maxy)
        if not box.any():
            continue
        inside = shapely.contains_xy(poly, xx[box], yy[box])
        sub = out[box]
        sub[inside] = val
        out[box] = sub
    return out
