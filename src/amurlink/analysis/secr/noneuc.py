"""Non-Euclidean (ecological) distance: least-cost distances over the mask (secr's ``noneuc``).

secr lets a ``userdist`` function replace the Euclidean detector-to-mask distance; with a
model for the real parameter ``noneuc`` (e.g. ``noneuc ~ res - 1``, log link) the landscape's
resistance to movement is estimated from the detections (Sutherland et al. 2015; secr book
appendix *Non-Euclidean distances*). This module reproduces the book's least-cost example,
which the reference fit uses (``gdistance``):

* the mask is a raster of cells with friction ``noneuc`` (one value per mask point);
* two cells are joined when they are neighbours in 16 directions (the 8 queen moves and the
  8 knight moves), with conductance ``1 / mean(friction of the two cells)``, divided by the
  distance between the cell centres (``geoCorrection``): the cost of a step is its length
  times the mean friction of its two cells;
* the distance from a detector to a mask point is the least total cost (Dijkstra) from the
  cell holding the detector to the cell of the mask point (``costDistance``). A detector on
  a cell boundary is in the cell to its right (larger x) and below it (smaller y), as the
  raster package assigns points to cells.

With friction 1 everywhere the distance is the length of the shortest 16-direction path
between the cell centres (close to, but not exactly, the Euclidean distance).

References
----------
Sutherland, C., Fuller, A. K. & Royle, J. A. (2015). Modelling non-Euclidean movement and
landscape connectivity in highly structured ecological networks. Methods Ecol. Evol. 6,
169-177.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

__all__ = ["LeastCostDistance"]

_MOVES16 = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1),
            (-2, -1), (-2, 1), (-1, -2), (-1, 2), (1, -2), (1, 2), (2, -1), (2, 1)]


class LeastCostDistance:
    """Prepared least-cost distances from fixed points (detectors) to the cells of a mask.

    Parameters
    ----------
    mask_xy : ndarray, shape (M, 2)
        Mask cell centres on a regular grid.
    spacing : float
        Cell side (metres).
    from_xy : ndarray, shape (K, 2)
        Detector coordinates.
    directions : {16, 8, 4}
        Neighbourhood of the graph (16: secr book's example).
    """

    def __init__(self, mask_xy: np.ndarray, spacing: float, from_xy: np.ndarray, *,
                 directions: int = 16) -> None:
        xy = np.asarray(mask_xy, dtype=float)
        s = float(spacing)
        x0 = xy[:, 0].min() - s / 2  # raster extent: mask bbox +- half a cell
        y1 = xy[:, 1].max() + s / 2
        col = np.rint((xy[:, 0] - x0) / s - 0.5).astype(np.int64)
        row = np.rint((y1 - xy[:, 1]) / s - 0.5).astype(np.int64)
        ncol = int(col.max()) + 1
        nrow = int(row.max()) + 1
        cell = np.full((nrow, ncol), -1, dtype=np.int64)
        cell[row, col] = np.arange(len(xy))
        moves = {16: _MOVES16, 8: _MOVES16[:8], 4: [(-1, 0), (0, -1), (0, 1), (1, 0)]}
        if directions not in moves:
            raise ValueError(f"directions must be 4, 8 or 16, got {directions}")
        ii, jj, ll = [], [], []
        for dr, dc in moves[directions]:
            r2, c2 = row + dr, col + dc
            ok = (r2 >= 0) & (r2 < nrow) & (c2 >= 0) & (c2 < ncol)
            src = np.flatnonzero(ok)
            dst = cell[r2[ok], c2[ok]]
            keep = dst >= 0
            ii.append(src[keep])
            jj.append(dst[keep])
            ll.append(np.full(keep.sum(), s * np.hypot(dr, dc)))
        self.xy = xy
        self.i = np.concatenate(ii)
        self.j = np.concatenate(jj)
        self.length = np.concatenate(ll)
        self.M = len(xy)
        # detector cells (raster convention: boundary points go right and down)
        fx = np.asarray(from_xy, dtype=float)
        fcol = np.floor((fx[:, 0] - x0) / s + 1e-9).astype(np.int64)
        frow = np.floor((y1 - fx[:, 1]) / s + 1e-9).astype(np.int64)
        inside = (fcol >= 0) & (fcol < ncol) & (frow >= 0) & (frow < nrow)
        fcell = np.full(len(fx), -1, dtype=np.int64)
        fcell[inside] = cell[frow[inside], fcol[inside]]
        if np.any(fcell < 0):
            bad = np.flatnonzero(fcell < 0)
            raise ValueError(
                f"{bad.size} detector(s) (first at {tuple(fx[bad[0]])}) lie outside the mask "
                "cells; non-Euclidean distances need every detector inside the mask"
            )
        self.from_cells, self.from_inv = np.unique(fcell, return_inverse=True)

    def distances(self, friction: np.ndarray, *, tree: bool = False):
        """(K, M) least-cost distances for a friction per mask point (> 0).

        With ``tree=True`` also the shortest-path tree (distances and predecessors from each
        distinct detector cell) for :meth:`derivative`.
        """
        f = np.asarray(friction, dtype=float)
        w = self.length * 0.5 * (f[self.i] + f[self.j])
        G = sp.csr_matrix((w, (self.i, self.j)), shape=(self.M, self.M))
        if not tree:
            d = dijkstra(G, directed=True, indices=self.from_cells)
            return d[self.from_inv.reshape(-1)]
        d, pred = dijkstra(G, directed=True, indices=self.from_cells,
                           return_predecessors=True)
        return d[self.from_inv.reshape(-1)], (d, pred)

    def derivative(self, tree: tuple[np.ndarray, np.ndarray], dfriction: np.ndarray
                   ) -> np.ndarray:
        """(K, M) derivative of the least-cost distances when the friction moves by
        ``dfriction`` per mask point (the paths held fixed: exact wherever the shortest path
        is unique). Each path's cost is the sum over its steps of length x mean friction of
        the two cells, so its derivative is the same sum with ``dfriction``."""
        d, pred = tree
        fp = np.asarray(dfriction, dtype=float)
        xy = self.xy
        P = pred.astype(np.int64)
        valid = P >= 0
        v = np.broadcast_to(np.arange(self.M), P.shape)
        pv = np.where(valid, P, 0)
        # derivative of each tree edge (pred -> v); 0 at the sources
        out = np.where(valid, np.hypot(xy[v, 0] - xy[pv, 0], xy[v, 1] - xy[pv, 1])
                       * 0.5 * (fp[pv] + fp[v]), 0.0)
        # pointer jumping: after k rounds each node holds the sum over 2^k steps up its path
        rows = np.arange(P.shape[0])[:, None]
        Q = np.where(valid, P, -1)
        while True:
            has = Q >= 0
            if not has.any():
                break
            qv = np.where(has, Q, 0)
            out = out + np.where(has, out[rows, qv], 0.0)
            Q = np.where(has, Q[rows, qv], -1)
        return out[self.from_inv.reshape(-1)]
