"""Circuit-theory connectivity (the model of Circuitscape) on rasters and networks.

A landscape is an electrical network: each habitat cell is a node, neighbouring cells are
joined by a conductance, short-circuit regions (polygons) merge cells into one node. The
functions here build that graph exactly as Circuitscape documents it and solve the
Laplacian systems of its modes:

* **pairwise**: for every pair of focal nodes, 1 A injected at one and the other grounded;
  effective resistance, voltage and current maps. Solved with one grounded focal node per
  connected component and one solve per other focal node; every pair follows by
  superposition (so k focal nodes cost k-1 solves, not k(k-1)/2).
* **one-to-all / all-to-one**: one focal node is the source and all others grounds (or the
  reverse), with unit or variable source strengths.
* **advanced**: arbitrary current sources and grounds (finite resistances to ground or
  direct grounds).

Graph construction (Circuitscape's documented rules): a cell with conductance ``g > 0`` is a
node; horizontal and vertical neighbours are joined by the mean of their resistances
(``2 / (1/g1 + 1/g2)``, "average resistance") or the mean of their conductances
(``(g1 + g2) / 2``); with eight neighbours the diagonal links get the same mean divided by
``sqrt(2)``. Cells of one polygon (or one focal region) share a node; links inside a polygon
are dropped; parallel links between two nodes add. Each connected component is solved alone;
focal nodes in different components have no resistance between them (``-1``).

Solvers: sparse Cholesky (CHOLMOD, if scikit-sparse is installed) or SuperLU for
``direct``; conjugate gradients preconditioned by smoothed-aggregation algebraic multigrid
(pyamg) for ``cg+amg``. Components of up to ``DIRECT_LIMIT`` nodes (4 million) are solved
directly whatever the job asks: on two cores a sparse factorisation of a 1-million-node grid
takes about 30 s and each further solve 0.6 s, while one AMG-preconditioned CG solve takes
several seconds, so with many focal points the direct route wins; beyond the limit, memory
(about 3 GB per million nodes) decides for AMG.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
import scipy.sparse.linalg as spla

from amurlink.exceptions import DataError, FitError

__all__ = [
    "CircuitGraph",
    "raster_graph",
    "network_graph",
    "node_currents",
    "branch_flows",
    "pairwise",
    "PairSolution",
    "one_to_all",
    "all_to_one",
    "advanced",
    "Factor",
    "DIRECT_LIMIT",
]

log = logging.getLogger(__name__)

DIRECT_LIMIT = 4_000_000
CG_RTOL = 1e-11


# --------------------------------------------------------------------------- graph


@dataclass
class CircuitGraph:
    """An undirected weighted graph: edges ``u[k] < w[k]`` with conductance ``c[k] > 0``."""

    n: int
    u: np.ndarray
    w: np.ndarray
    c: np.ndarray
    nodemap: np.ndarray | None = None  # raster: node index per cell, -1 for none
    _labels: np.ndarray | None = field(default=None, repr=False)

    def laplacian(self) -> sp.csr_matrix:
        """The graph Laplacian (CSR), built in one pass with 32-bit indices where they fit
        (it used to be two matrices and their sum, from 64-bit temporaries: part of the
        20 M-cell run's memory peak)."""
        n, e = self.n, self.c.size
        idx = np.int32 if max(n, 2 * e + n) < np.iinfo(np.int32).max else np.int64
        rows = np.empty(2 * e + n, dtype=idx)
        cols = np.empty(2 * e + n, dtype=idx)
        data = np.empty(2 * e + n)
        rows[:e], rows[e : 2 * e], rows[2 * e :] = self.u, self.w, np.arange(n)
        cols[:e], cols[e : 2 * e], cols[2 * e :] = self.w, self.u, np.arange(n)
        np.negative(self.c, out=data[:e])
        data[e : 2 * e] = data[:e]
        data[2 * e :] = np.bincount(self.u, self.c, n) + np.bincount(self.w, self.c, n)
        out = sp.coo_matrix((data, (rows, cols)), shape=(n, n)).tocsr()
        out.sum_duplicates()
        return out

    def node_coords(self) -> np.ndarray | None:
        """(row, column) of one cell of each node (raster graphs), else None."""
        if self.nodemap is None:
            return None
        rr, cc = np.nonzero(self.nodemap >= 0)
        out = np.zeros((self.n, 2), dtype=np.int64)
        out[self.nodemap[rr, cc]] = np.column_stack([rr, cc])
        return out

    @property
    def labels(self) -> np.ndarray:
        """Connected-component label of every node."""
        if self._labels is None:
            adj = sp.coo_matrix((np.ones_like(self.c), (self.u, self.w)), shape=(self.n, self.n))
            _, self._labels = csgraph.connected_components(adj, directed=False)
        return self._labels


def _merge_edges(n: int, u: np.ndarray, w: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, ...]:
    keep = (u != w) & (c > 0)
    u, w, c = u[keep], w[keep], c[keep]
    a = np.minimum(u, w)
    b = np.maximum(u, w)
    m = sp.coo_matrix((c, (a, b)), shape=(n, n)).tocsr()  # sums parallel links
    m.sum_duplicates()
    coo = m.tocoo()
    # node indices in 32 bits where they fit: the edge arrays are the graph's largest part
    idx = np.int32 if n < np.iinfo(np.int32).max else np.int64
    return coo.row.astype(idx), coo.col.astype(idx), coo.data.astype(float)


def raster_graph(
    conductance: np.ndarray,
    *,
    polygons: np.ndarray | None = None,
    four_neighbors: bool = False,
    average_resistances: bool = True,
) -> CircuitGraph:
    """Graph of a conductance raster (0 or NaN = no node); ``polygons`` > 0 short-circuit cells.

    Cells of one polygon value share one node (also polygon cells without habitat, which take
    that node's voltage and current in maps, as in Circuitscape). A polygon with no habitat
    cell makes no node.
    """
    g = np.where(np.isfinite(conductance), conductance, 0.0).astype(float)
    if (g < 0).any():
        raise DataError("conductance raster holds negative values; expected >= 0 (0 = no habitat)")
    habitat = g > 0
    nodemap = np.full(g.shape, -1, dtype=np.int64)
    flat = np.flatnonzero(habitat.ravel())
    nodemap.ravel()[flat] = np.arange(flat.size)
    if polygons is not None:
        poly = np.where(np.isfinite(polygons), polygons, 0).astype(np.int64)
        poly[poly < 0] = 0
        if poly.shape != g.shape:
            raise DataError(f"polygon raster is {poly.shape}, habitat raster {g.shape}")
        ids = poly.ravel()
        in_poly = ids > 0
        if in_poly.any():
            # node of each polygon = node of its first habitat cell
            cells = np.flatnonzero(in_poly & habitat.ravel())
            first: dict[int, int] = {}
            for cell in cells[::-1]:
                first[int(ids[cell])] = int(nodemap.ravel()[cell])
            allcells = np.flatnonzero(in_poly)
            target = np.array([first.get(int(ids[k]), -1) for k in allcells], dtype=np.int64)
            has = target >= 0
            nodemap.ravel()[allcells[has]] = target[has]
            # relabel to consecutive numbers
            used = np.unique(nodemap[nodemap >= 0])
            remap = np.full(flat.size, -1, dtype=np.int64)
            remap[used] = np.arange(used.size)
            nodemap[nodemap >= 0] = remap[nodemap[nodemap >= 0]]
    n = int(nodemap.max()) + 1 if (nodemap >= 0).any() else 0

    us, ws, cs = [], [], []
    mean = _res_mean if average_resistances else _cond_mean

    def link(a_sl, b_sl, factor: float) -> None:
        ga, gb = g[a_sl], g[b_sl]
        ok = (ga > 0) & (gb > 0)
        na, nb = nodemap[a_sl][ok], nodemap[b_sl][ok]
        us.append(na)
        ws.append(nb)
        cs.append(mean(ga[ok], gb[ok]) * factor)

    link((slice(None), slice(None, -1)), (slice(None), slice(1, None)), 1.0)
    link((slice(None, -1), slice(None)), (slice(1, None), slice(None)), 1.0)
    if not four_neighbors:
        d = 1.0 / math.sqrt(2.0)
        link((slice(None, -1), slice(None, -1)), (slice(1, None), slice(1, None)), d)
        link((slice(1, None), slice(None, -1)), (slice(None, -1), slice(1, None)), d)
    u = np.concatenate(us) if us else np.zeros(0, np.int64)
    w = np.concatenate(ws) if ws else np.zeros(0, np.int64)
    c = np.concatenate(cs) if cs else np.zeros(0)
    u, w, c = _merge_edges(n, u, w, c)
    return CircuitGraph(n, u, w, c, nodemap)


def _res_mean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return 2.0 / (1.0 / a + 1.0 / b)


def _cond_mean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a + b) / 2.0


def network_graph(n: int, u: np.ndarray, w: np.ndarray, c: np.ndarray) -> CircuitGraph:
    """Graph from an edge list of node indices ``0..n-1`` and conductances."""
    if (c < 0).any() or not np.isfinite(c).all():
        raise DataError("network graph holds negative or non-finite conductances")
    u, w, c = _merge_edges(
        n, np.asarray(u, np.int64), np.asarray(w, np.int64), np.asarray(c, float)
    )
    return CircuitGraph(n, u, w, c, None)


# --------------------------------------------------------------------------- currents


def branch_flows(graph: CircuitGraph, v: np.ndarray) -> np.ndarray:
    """Signed current on each edge, positive from ``u`` to ``w``."""
    return graph.c * (v[graph.u] - v[graph.w])


def node_currents(
    graph: CircuitGraph, v: np.ndarray, ground_conductance: np.ndarray | None = None
) -> np.ndarray:
    """Current through each node: the larger of its total inflow and total outflow.

    Flows to or from finite grounds count with the branches; injected source currents do not
    (a source node's current is what leaves it through its branches).
    """
    f = branch_flows(graph, v)
    fp = np.where(f > 0, f, 0.0)
    fn = np.where(f < 0, -f, 0.0)
    n = graph.n
    inflow = np.bincount(graph.w, fp, n) + np.bincount(graph.u, fn, n)
    outflow = np.bincount(graph.u, fp, n) + np.bincount(graph.w, fn, n)
    if ground_conductance is not None:
        gf = np.where(np.isfinite(ground_conductance), ground_conductance, 0.0) * v
        outflow = outflow + np.where(gf > 0, gf, 0.0)
        inflow = inflow + np.where(gf < 0, -gf, 0.0)
    return np.maximum(inflow, outflow)


# --------------------------------------------------------------------------- solvers


class Factor:
    """Solves ``A x = b`` for one SPD matrix and many right-hand sides."""

    def __init__(self, a: sp.spmatrix, solver: str = "cg+amg") -> None:
        self.a = sp.csr_matrix(a)
        self.kind = "direct" if solver != "cg+amg" or a.shape[0] <= DIRECT_LIMIT else "amg"
        self._solve: Callable[[np.ndarray], np.ndarray]
        self._many: Callable[[np.ndarray], np.ndarray] | None = None
        if a.shape[0] == 0:
            self._solve = lambda b: np.zeros(0)
            return
        if self.kind == "direct":
            self._solve = self._many = _direct(self.a)
        else:
            self._solve = _amg(self.a)

    def solve(self, b: np.ndarray) -> np.ndarray:
        return self._solve(np.asarray(b, dtype=float))

    def solve_many(self, b: np.ndarray) -> np.ndarray:
        """Solve for each column of ``b`` (one blocked triangular solve when direct)."""
        b = np.asarray(b, dtype=float)
        if self.kind == "direct" and self.a.shape[0] > 0 and self._many is not None:
            return np.asarray(self._many(b)).reshape(b.shape)
        return np.column_stack([self.solve(b[:, k]) for k in range(b.shape[1])])


def _direct(a: sp.csr_matrix) -> Callable[[np.ndarray], np.ndarray]:
    """Sparse direct solve: CHOLMOD when installed, else SuperLU (minimum-degree ordering).

    A geometric nested-dissection ordering was tried on 1 M-cell grids: more fill than
    minimum degree and no faster overall, so it is not used.
    """
    try:  # optional CHOLMOD
        from sksparse.cholmod import cholesky  # type: ignore[import-not-found]

        fac = cholesky(sp.csc_matrix(a))
        return lambda b: np.asarray(fac(b)).reshape(np.shape(b))
    except ImportError:
        pass
    lu = spla.splu(sp.csc_matrix(a), permc_spec="MMD_AT_PLUS_A")
    return lambda b: lu.solve(b)


def _amg(a: sp.csr_matrix) -> Callable[[np.ndarray], np.ndarray]:
    try:
        import pyamg
    except ImportError:  # pragma: no cover - depends on install
        log.warning("pyamg not installed: solving with a direct factorisation")
        return _direct(a)
    # pyamg draws its spectral-radius start vectors from numpy's global generator: seed it
    # for reproducible hierarchies and give the caller's state back untouched
    saved = np.random.get_state()  # noqa: NPY002
    try:
        np.random.seed(20_170_101)  # noqa: NPY002
        ml = pyamg.smoothed_aggregation_solver(
            a, symmetry="symmetric", smooth=("jacobi", {"weighting": "local"}), max_coarse=500
        )
    finally:
        np.random.set_state(saved)  # noqa: NPY002
    m = ml.aspreconditioner(cycle="V")

    def solve(b: np.ndarray) -> np.ndarray:
        nb = np.linalg.norm(b)
        if nb == 0:
            return np.zeros_like(b)
        x, info = spla.cg(a, b, rtol=CG_RTOL, atol=0.0, M=m, maxiter=2000)
        if info != 0:
            raise FitError(f"conjugate gradients did not converge in {info} iterations")
        return x

    return solve


# --------------------------------------------------------------------------- modes


@dataclass
class _CompEdges:
    """Edges of one component in its local numbering, and per-focal edge voltage drops."""

    nodes: np.ndarray
    u: np.ndarray
    w: np.ndarray
    c: np.ndarray
    drops: dict[int, np.ndarray] = field(default_factory=dict)
    cache: bool = True

    def buffer(self) -> np.ndarray:
        buf = self.drops.get(-1)
        if buf is None:
            buf = np.empty(self.c.size)
            self.drops[-1] = buf
        return buf

    def drop(self, key: int, x: np.ndarray) -> np.ndarray:
        d = self.drops.get(key)
        if d is None:
            d = x[self.u] - x[self.w]
            if self.cache:
                self.drops[key] = d
        return d


@dataclass
class PairSolution:
    """One solved pair ``(i, j)``: 1 A from focal ``j`` to focal ``i`` (grounded)."""

    i: int
    j: int
    resistance: float
    voltages: np.ndarray  # full length n; 0 outside the component
    graph: CircuitGraph
    component: np.ndarray  # node indices of the component
    _edges: _CompEdges | None = field(default=None, repr=False)
    _xi: tuple[int, np.ndarray] | None = field(default=None, repr=False)
    _xj: tuple[int, np.ndarray] | None = field(default=None, repr=False)
    _ends: tuple[int, int] = (-1, -1)  # local node of focal i and j

    def node_currents(self) -> np.ndarray:
        """Node currents (Circuitscape's definition), full length ``n``.

        Inside the component Kirchhoff's law makes inflow equal outflow except at the two
        focal nodes, so the current through a node is half the absolute current on its links,
        and at the source and the sink the whole of it.
        """
        e = self._edges
        if e is None or self._xi is None or self._xj is None:
            return node_currents(self.graph, self.voltages)
        out = np.zeros(self.graph.n)
        li, lj = self._ends
        if li == lj:
            return out
        f = e.buffer()  # reused: no 4-million-element allocations per pair
        np.subtract(e.drop(*self._xj), e.drop(*self._xi), out=f)
        np.multiply(f, e.c, out=f)
        np.abs(f, out=f)
        m = e.nodes.size
        total = np.bincount(e.u, f, m)
        total += np.bincount(e.w, f, m)
        cur = 0.5 * total
        cur[li] = total[li]
        cur[lj] = total[lj]
        out[e.nodes] = cur
        return out


def _sub_laplacian(lap: sp.csr_matrix, nodes: np.ndarray) -> sp.csr_matrix:
    if nodes.size == lap.shape[0]:
        return lap
    return lap[nodes][:, nodes].tocsr()


def _drop(a: sp.csr_matrix, keep: np.ndarray) -> sp.csr_matrix:
    if keep.all():
        return a
    return a[keep][:, keep].tocsr()


def pairwise(
    graph: CircuitGraph,
    focal_nodes: Sequence[int],
    *,
    include: np.ndarray | None = None,
    solver: str = "cg+amg",
) -> tuple[np.ndarray, Iterator[PairSolution]]:
    """Effective resistances between focal nodes (``-1`` where not connected).

    ``focal_nodes[k]`` is a node index or -1 (no node). ``include[a, b]`` (bool) limits the
    solved pairs. Returns the resistance matrix and a generator of :class:`PairSolution` for
    every solved pair (``a < b`` in focal order), to build current and voltage maps from.
    """
    k = len(focal_nodes)
    res = np.full((k, k), -1.0)
    np.fill_diagonal(res, 0.0)
    if include is None:
        include = np.ones((k, k), dtype=bool)
    labels = graph.labels
    focal = np.asarray(focal_nodes, dtype=np.int64)
    groups: dict[int, list[int]] = {}
    for a, node in enumerate(focal):
        if node >= 0:
            groups.setdefault(int(labels[node]), []).append(a)
    lap: sp.csr_matrix | None = graph.laplacian()
    solved: list[tuple] = []  # (a, b, comp, local a, local b)
    plans = []
    for lab, members in groups.items():
        pairs = [(a, b) for x, a in enumerate(members) for b in members[x + 1 :] if include[a, b]]
        if not pairs:
            continue
        comp = np.flatnonzero(labels == lab)
        plans.append((comp, members, pairs))

    potentials: dict[int, np.ndarray] = {}
    edges_of: dict[int, _CompEdges] = {}
    comp_of: dict[int, int] = {}
    for ci, (comp, members, pairs) in enumerate(plans):
        local = np.full(graph.n, -1, dtype=np.int64)
        local[comp] = np.arange(comp.size)
        ground = int(focal[members[0]])
        keep = np.ones(comp.size, dtype=bool)
        keep[local[ground]] = False
        assert lap is not None
        a_mat = _drop(_sub_laplacian(lap, comp), keep)
        if ci == len(plans) - 1:
            lap = None  # the last component's matrix is made: the whole Laplacian can go
        fac = Factor(a_mat, solver)
        index_keep = np.cumsum(keep) - 1
        needed = sorted({a for pr in pairs for a in pr})
        todo = sorted({int(focal[a]) for a in needed} - {ground})
        distinct: dict[int, np.ndarray] = {ground: np.zeros(comp.size)}
        nkeep = int(keep.sum())
        chunk = max(1, int(2e8 // max(nkeep, 1)))  # right-hand sides per blocked solve
        for start in range(0, len(todo), chunk):
            block = todo[start : start + chunk]
            rhs = np.zeros((nkeep, len(block)))
            rhs[index_keep[local[block]], np.arange(len(block))] = 1.0
            sol = fac.solve_many(rhs)
            for q, node in enumerate(block):
                x = np.zeros(comp.size)
                x[keep] = sol[:, q]
                distinct[node] = x
        for a in needed:
            potentials[a] = distinct[int(focal[a])]
            comp_of[a] = ci
        del fac, a_mat  # the solver (an AMG hierarchy) goes before the edge arrays come
        emask = labels[graph.u] == labels[ground]
        ne = int(emask.sum())
        edges_of[ci] = _CompEdges(
            comp,
            local[graph.u[emask]],
            local[graph.w[emask]],
            graph.c[emask],
            cache=ne * 8 * len(distinct) <= 2e9,
        )
        for a, b in pairs:
            na, nb = int(focal[a]), int(focal[b])
            r = (
                float(
                    (potentials[b] - potentials[a])[local[nb]]
                    - (potentials[b] - potentials[a])[local[na]]
                )
                if na != nb
                else 0.0
            )
            res[a, b] = res[b, a] = r
            solved.append((a, b, comp, local[na], local[nb]))

    def gen() -> Iterator[PairSolution]:
        for a, b, comp, la, lb in solved:
            vloc = potentials[b] - potentials[a]
            v = np.zeros(graph.n)
            if la != lb:
                v[comp] = vloc - vloc[la]
            e = edges_of[comp_of[a]]
            yield PairSolution(
                a,
                b,
                res[a, b],
                v,
                graph,
                comp,
                e,
                (int(focal[a]), potentials[a]),
                (int(focal[b]), potentials[b]),
                (int(la), int(lb)),
            )

    return res, gen()


@dataclass
class FlowSolution:
    """Voltages of an advanced (sources and grounds) problem, and what it solved."""

    voltages: np.ndarray
    ground_conductance: np.ndarray  # finite ground conductances (0 = none, inf = direct)
    solved_components: np.ndarray  # node mask of components that had sources and grounds

    def node_currents(self, graph: CircuitGraph) -> np.ndarray:
        g = np.where(np.isinf(self.ground_conductance), 0.0, self.ground_conductance)
        cur = node_currents(graph, self.voltages, g)
        return np.where(self.solved_components, cur, 0.0)


def advanced(
    graph: CircuitGraph,
    sources: np.ndarray,
    grounds: np.ndarray,
    *,
    solver: str = "cg+amg",
) -> FlowSolution:
    """Voltages for current ``sources`` (A per node) and ground conductances per node.

    ``grounds[k]`` is 0 (no ground), a finite conductance to ground, or ``inf`` (direct
    ground, voltage 0). Components without both a source and a ground are left at 0 V.
    """
    n = graph.n
    v = np.zeros(n)
    labels = graph.labels
    has_src = np.bincount(labels, np.abs(sources) > 0, labels.max() + 1 if n else 0) > 0
    has_gnd = np.bincount(labels, grounds > 0, labels.max() + 1 if n else 0) > 0
    solved = np.zeros(n, dtype=bool)
    lap = graph.laplacian()
    for lab in np.flatnonzero(has_src & has_gnd):
        comp = np.flatnonzero(labels == lab)
        g = grounds[comp]
        direct = np.isinf(g)
        keep = ~direct
        a_mat = _sub_laplacian(lap, comp) + sp.diags(np.where(direct, 0.0, g))
        a_mat = _drop(sp.csr_matrix(a_mat), keep)
        x = np.zeros(comp.size)
        if keep.any():
            x[keep] = Factor(a_mat, solver).solve(sources[comp][keep])
        v[comp] = x
        solved[comp] = True
    return FlowSolution(v, grounds, solved)


def one_to_all(
    graph: CircuitGraph,
    focal_nodes: Sequence[int],
    strengths: Sequence[float],
    *,
    include: np.ndarray | None = None,
    solver: str = "cg+amg",
) -> Iterator[tuple[int, float, FlowSolution | None]]:
    """For each focal point: its source strength injected, every other focal point grounded.

    With ``include`` (k x k bool) only the point's included partners are grounded.

    Yields ``(k, resistance, solution)``; resistance is the source voltage over its strength,
    ``-1`` (and solution None) when no other focal point shares its component.
    """
    yield from _focal_flows(graph, focal_nodes, strengths, include, solver, one_source=True)


def all_to_one(
    graph: CircuitGraph,
    focal_nodes: Sequence[int],
    strengths: Sequence[float],
    *,
    include: np.ndarray | None = None,
    solver: str = "cg+amg",
) -> Iterator[tuple[int, float, FlowSolution | None]]:
    """For each focal point grounded, every other (included) point a source of its strength.

    Yields ``(k, 0.0, solution)`` for solved points, ``(k, -1, None)`` otherwise.
    """
    yield from _focal_flows(graph, focal_nodes, strengths, include, solver, one_source=False)


def _focal_flows(graph, focal_nodes, strengths, include, solver, *, one_source: bool):
    focal = np.asarray(focal_nodes, dtype=np.int64)
    k = focal.size
    inc = np.ones((k, k), dtype=bool) if include is None else np.asarray(include, dtype=bool)
    labels = graph.labels
    for a in range(k):
        node = int(focal[a])
        if node < 0:
            yield a, -1.0, None
            continue
        same = [
            b
            for b in range(k)
            if b != a and focal[b] >= 0 and labels[focal[b]] == labels[node] and focal[b] != node
        ]
        partners = [b for b in same if inc[a, b]]
        # one-to-all grounds only the included partners; all-to-one (as Circuitscape) drives
        # every other point, included partners at their strength and the others at 1 A
        others = partners if one_source else same
        if not others:
            yield a, -1.0, None
            continue
        sources = np.zeros(graph.n)
        grounds = np.zeros(graph.n)
        if one_source:
            sources[node] = strengths[a]
            for b in others:
                grounds[focal[b]] = np.inf
        else:
            grounds[node] = np.inf
            for b in others:
                sources[focal[b]] += strengths[b] if inc[a, b] else 1.0
        sol = advanced(graph, sources, grounds, solver=solver)
        if one_source:
            r = float(sol.voltages[node] / strengths[a]) if strengths[a] else -1.0
        else:
            r = 0.0 if inc[a].any() else -1.0
        yield a, r, sol
