"""Opt-in corridor scenarios: animals that move by a known resistance, to recover corridors.

Two ways, each drawing from its own child of the seed (beside the ten children ``0..9`` that
:func:`amurlink.simulate.simulate_study` uses), so existing scenarios stay byte-identical:

- the study's own animals (``simulate_study(..., movement="resistance")``): their daily
  positions come from :func:`resistance_paths` on :func:`true_resistance` of the study's
  landscape (spawn key :data:`MOVEMENT_SPAWN_KEY`); the cameras, the DNA and the crossings of
  the study follow. ``amurlink run`` recovers the resistance from those cameras.
- a separate, controlled simulation (:func:`simulate_corridors`, spawn key
  :data:`CORRIDOR_SPAWN_KEY`): walkers between two cores and a regular camera grid, described
  below.

The truth
    The simulator's landscape (:func:`make_landscape`, same bounding box and cell size as the
    chosen scenario) gives forest quality, villages and roads. Three resistance classes:
    forest away from people (``1``), open land (forest quality < 0.5, ``10``) and land within
    1 km of a road or village (``100``). Two core areas: discs of 5 km radius around the land
    cell farthest from the border on each side, in the middle third of the area.
Movement
    Walkers leave each core and take conductance-weighted steps between neighbouring cells
    (8 neighbours, probability proportional to the link conductance of the circuit, so the
    walk is the random walk of Circuitscape's circuit) until they reach the other core or
    run out of steps.
Cameras
    A regular grid of stations (``station_km`` apart) on land, each working a random 60-150
    days; a station detects each walker visit of its cell with probability
    ``p_detect * days / 150``.
Recovery (:func:`recover_corridors`)
    From the cameras alone: Poisson GLM of detections on forest cover and nearness to people
    with log-effort offset, suitability, resistance by the ``inverse`` transform, current
    between the cores; compared (Spearman, land cells outside the cores) with the true current
    map and with the uniform-resistance current map.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage
from scipy.stats import spearmanr

from amurlink.landscape import circuit
from amurlink.landscape.grid import Grid, write_grid
from amurlink.landscape.habitat import (
    HabitatModel,
    effective_resistance,
    fit_habitat_glm,
    predict_suitability,
    suitability_to_resistance,
)
from amurlink.simulate._landscape import CN, RU, Landscape, make_landscape
from amurlink.simulate._scenario import get_scenario

__all__ = [
    "CORRIDOR_SPAWN_KEY",
    "MOVEMENT_SPAWN_KEY",
    "CLASS_RESISTANCE",
    "CorridorScenario",
    "ResistanceTruth",
    "true_resistance",
    "resistance_paths",
    "steps_per_day",
    "simulate_corridors",
    "recover_corridors",
    "write_corridor_layers",
]

#: Spawn key of the corridor scenario's seed child (the study uses keys 0-9).
CORRIDOR_SPAWN_KEY = 1017
#: Spawn key of the seed child that moves a study's animals by resistance
#: (``simulate_study(..., movement="resistance")``).
MOVEMENT_SPAWN_KEY = 1018
#: True resistance of the three classes: forest, open land, near roads or villages.
CLASS_RESISTANCE = {1: 1.0, 2: 10.0, 3: 100.0}


@dataclass
class CorridorScenario:
    """The truth and the camera data of one corridor simulation (grids are north-up)."""

    seed: int
    landscape: Landscape
    grid: Grid
    land: np.ndarray
    layers: dict[str, np.ndarray]
    resistance_class: np.ndarray
    resistance: np.ndarray
    core_a: np.ndarray
    core_b: np.ndarray
    visits: np.ndarray
    stations: pd.DataFrame
    true_current: np.ndarray = field(repr=False)


@dataclass
class ResistanceTruth:
    """The known resistance of a simulated landscape, north-up on its own grid.

    ``resistance_class``: 0 off land, 1 forest away from people, 2 open land (forest quality
    under 0.5), 3 within 1 km of a road or village; ``resistance`` by
    :data:`CLASS_RESISTANCE` (NaN off land); ``layers``: the covariates a habitat model sees
    (``forest``, ``dist_road_m``, ``dist_village_m``, ``near_people``; NaN off land).
    """

    grid: Grid
    land: np.ndarray
    layers: dict[str, np.ndarray]
    resistance_class: np.ndarray
    resistance: np.ndarray

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """x and y (metres) of every cell centre, each of the grid's shape."""
        g = self.grid
        xs = g.xllcorner + (np.arange(g.shape[1]) + 0.5) * g.cellsize
        ys = g.yllcorner + (g.shape[0] - np.arange(g.shape[0]) - 0.5) * g.cellsize
        return np.meshgrid(xs, ys)


def true_resistance(L: Landscape) -> ResistanceTruth:
    """The three-class true resistance of landscape ``L`` (no random draw: a pure function)."""
    from amurlink.landscape.habitat import distance_to

    xmin, ymin = L.x[0] - L.cell_m / 2, L.y[0] - L.cell_m / 2
    grid = Grid(
        np.zeros((L.y.size, L.x.size)), float(xmin), float(ymin), float(L.cell_m), -9999.0, L.crs
    )
    country = _north_up(L.country)
    land = np.isin(country, (CN, RU)) & (_north_up(L.habitat) > 0)
    forest = np.where(land, _north_up(L.habitat), np.nan)
    d_road = distance_to(list(L.roads), grid) if L.roads else np.full(grid.shape, np.inf)
    if len(L.villages):
        near = np.zeros(grid.shape, dtype=bool)
        col = ((L.villages[:, 0] - grid.xllcorner) // grid.cellsize).astype(int)
        row = grid.shape[0] - 1 - ((L.villages[:, 1] - grid.yllcorner) // grid.cellsize).astype(int)
        ok = (row >= 0) & (row < grid.shape[0]) & (col >= 0) & (col < grid.shape[1])
        near[row[ok], col[ok]] = True
        d_vil = ndimage.distance_transform_edt(~near) * grid.cellsize
    else:
        d_vil = np.full(grid.shape, np.inf)
    people = np.minimum(d_road, d_vil) <= 1000.0
    klass = np.where(people, 3, np.where(forest < 0.5, 2, 1))
    klass = np.where(land, klass, 0)
    res = np.full(grid.shape, np.nan)
    for k, r in CLASS_RESISTANCE.items():
        res[land & (klass == k)] = r
    layers = {
        "forest": forest,
        "dist_road_m": np.where(land, d_road, np.nan),
        "dist_village_m": np.where(land, d_vil, np.nan),
        "near_people": np.where(land, people.astype(float), np.nan),
    }
    return ResistanceTruth(grid, land, layers, klass, res)


def _child_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(CORRIDOR_SPAWN_KEY,)))


def _north_up(a: np.ndarray) -> np.ndarray:
    return np.asarray(a)[::-1].copy()


def simulate_corridors(
    seed: int = 0,
    *,
    scenario: str = "small",
    cell_m: float = 1000.0,
    walkers: int = 150,
    max_steps: int = 6000,
    station_km: float = 3.0,
    p_detect: float = 0.5,
) -> CorridorScenario:
    """Simulate the corridor scenario (see the module docstring)."""
    rng = _child_rng(seed)
    g_land, g_walk, g_cam = (np.random.default_rng(s) for s in rng.bit_generator.seed_seq.spawn(3))
    sc = get_scenario(scenario)
    L = make_landscape(bbox=sc.bbox, cell_m=cell_m, rng=g_land)
    truth = true_resistance(L)
    grid, land, klass, res = truth.grid, truth.land, truth.resistance_class, truth.resistance
    country = _north_up(L.country)
    xx, yy = truth.cell_centres()

    # cores: the land cell farthest from the border on each side, middle third of the rows
    dist = L.distance_to_border(xx.ravel(), yy.ravel()).reshape(grid.shape)
    mid = np.zeros(grid.shape, dtype=bool)
    mid[grid.shape[0] // 3 : 2 * grid.shape[0] // 3] = True
    cores = []
    for code in (CN, RU):
        cand = np.where(land & mid & (country == code), dist, -1.0)
        r0, c0 = np.unravel_index(int(np.argmax(cand)), grid.shape)
        disc = (xx - xx[r0, c0]) ** 2 + (yy - yy[r0, c0]) ** 2 <= 5000.0**2
        cores.append(disc & land)
    core_a, core_b = cores

    # walkers: the random walk of the circuit (steps proportional to link conductance)
    g = np.where(land, 1.0 / np.where(land, res, 1.0), 0.0)
    graph = circuit.raster_graph(g, four_neighbors=False)
    nm = graph.nodemap
    assert nm is not None
    visits_node = _walk(graph, nm[core_a], nm[core_b], walkers, max_steps, g_walk)
    visits_node += _walk(graph, nm[core_b], nm[core_a], walkers, max_steps, g_walk)
    visits = np.where(nm >= 0, visits_node[np.maximum(nm, 0)], 0.0)

    # cameras on a regular lattice of land cells
    step = max(1, int(round(station_km * 1000.0 / grid.cellsize)))
    rows, cols = np.meshgrid(
        np.arange(step // 2, grid.shape[0], step),
        np.arange(step // 2, grid.shape[1], step),
        indexing="ij",
    )
    rows, cols = rows.ravel(), cols.ravel()
    on = land[rows, cols] & ~core_a[rows, cols] & ~core_b[rows, cols]
    rows, cols = rows[on], cols[on]
    days = g_cam.integers(60, 151, rows.size)
    p = np.clip(p_detect * days / 150.0, 0.0, 1.0)
    det = g_cam.binomial(visits[rows, cols].astype(np.int64), p)
    stations = pd.DataFrame(
        {
            "station": [f"C{k:03d}" for k in range(rows.size)],
            "row": rows,
            "col": cols,
            "x": xx[rows, cols],
            "y": yy[rows, cols],
            "days": days,
            "detections": det,
            "forest": truth.layers["forest"][rows, cols],
            "near_people": truth.layers["near_people"][rows, cols],
        }
    )
    _, true_cur = effective_resistance(res, core_a, core_b)
    return CorridorScenario(
        int(seed), L, grid, land, truth.layers, klass, res, core_a, core_b, visits, stations,
        true_cur
    )


def _neighbours(graph: circuit.CircuitGraph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Neighbour table of a circuit graph: ``nbr`` (node x slot, -1 padded), link conductance
    per slot, degree per node."""
    nn = graph.n
    u = np.concatenate([graph.u, graph.w])
    w = np.concatenate([graph.w, graph.u])
    c = np.concatenate([graph.c, graph.c])
    order = np.lexsort((w, u))
    u, w, c = u[order], w[order], c[order]
    deg = np.bincount(u, minlength=nn)
    width = int(deg.max()) if deg.size else 0
    start = np.concatenate([[0], np.cumsum(deg)[:-1]])
    slot = np.arange(u.size) - start[u]
    nbr = np.full((nn, width), -1, dtype=np.int64)
    prob = np.zeros((nn, width))
    nbr[u, slot] = w
    prob[u, slot] = c
    return nbr, prob, deg


def _walk(
    graph: circuit.CircuitGraph,
    starts: np.ndarray,
    targets: np.ndarray,
    n: int,
    max_steps: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Visit counts per node of ``n`` conductance-weighted walkers absorbed at ``targets``."""
    nn = graph.n
    nbr, prob, deg = _neighbours(graph)
    tot = prob.sum(axis=1, keepdims=True)
    cum = np.cumsum(prob / np.where(tot > 0, tot, 1.0), axis=1)
    is_target = np.zeros(nn, dtype=bool)
    is_target[targets] = True
    pos = rng.choice(np.unique(starts), size=n)
    visits = np.zeros(nn)
    alive = np.ones(n, dtype=bool)
    for _ in range(max_steps):
        idx = np.flatnonzero(alive)
        if idx.size == 0:
            break
        r = rng.random(idx.size)
        k = (cum[pos[idx]] < r[:, None]).sum(axis=1)
        k = np.minimum(k, deg[pos[idx]] - 1)
        pos[idx] = nbr[pos[idx], k]
        np.add.at(visits, pos[idx], 1.0)
        alive[idx[is_target[pos[idx]]]] = False
    return visits


#: Mean squared step per axis of an 8-neighbour walk, in cell sides squared (6 of 8 moves
#: change x by one cell).
_STEP_VAR = 0.75
#: At most this many cell steps per animal and day.
MAX_STEPS_PER_DAY = 60


def steps_per_day(spread_m: np.ndarray, rho: np.ndarray, cell_m: float) -> np.ndarray:
    """Cell steps per day that give a home-range walk the day-to-day autocorrelation ``rho``.

    A walk pulled to its centre with spread ``s`` decays its offset by ``1 - v / s**2`` per
    step (``v``: the step variance per axis, ``0.75`` cell sides squared for 8 neighbours), so
    ``n`` steps give ``rho = (1 - v / s**2) ** n``; ``n`` is rounded up, 1 to
    :data:`MAX_STEPS_PER_DAY`.
    """
    v = _STEP_VAR * cell_m**2
    decay = np.clip(1.0 - v / np.maximum(np.asarray(spread_m, float) ** 2, 2 * v), 1e-9, 1.0)
    rho = np.clip(np.asarray(rho, float), 1e-6, 1 - 1e-6)
    n = np.ceil(np.log(rho) / np.log(decay))
    return np.clip(n, 1, MAX_STEPS_PER_DAY).astype(int)


def resistance_paths(
    animals: pd.DataFrame, n_days: int, truth: ResistanceTruth, *, rng: np.random.Generator
) -> np.ndarray:
    """Daily positions of animals that move by the known resistance (the opt-in scenario).

    Each independent animal walks on the land cells of ``truth`` (8 neighbours): from cell
    ``u`` it steps to neighbour ``w`` with probability proportional to the link's conductance
    (Circuitscape's, from ``1 / resistance``) times ``exp(-d_w**2 / (4 s**2))``, ``d_w`` the
    distance of ``w`` from the animal's centre of the day. The step weights are symmetric
    (``c_uw exp(-(d_u**2 + d_w**2) / 4 s**2)``) so the walk is reversible: in the long run the
    animal is in a cell in proportion to the cell's conductance times a normal kernel of
    spread ``s`` around its centre, the spread of :func:`simulate_paths`
    (``sqrt(sigma**2 - sigmaDay**2)``), and between places it goes the way current flows.
    :func:`steps_per_day` cell steps a day give the daily autocorrelation ``rho``; the day's
    position is uniform in the cell reached. A disperser's centre switches on
    ``disperseDay`` and the pull takes it there along low-resistance cells. Cubs stay within a
    few hundred metres of their mother, as in :func:`simulate_paths`.

    Returns
    -------
    ndarray, shape (n_animals, n_days, 2)
        Positions in metres (the shape and meaning of :func:`simulate_paths`).
    """
    from scipy.spatial import cKDTree

    n = len(animals)
    pos = np.empty((n, n_days, 2))
    if n == 0:
        return pos
    grid, land = truth.grid, truth.land
    g = np.where(land, 1.0 / np.where(land, truth.resistance, 1.0), 0.0)
    graph = circuit.raster_graph(g, four_neighbors=False)
    nm = graph.nodemap
    assert nm is not None
    nbr, cond, _ = _neighbours(graph)
    xx, yy = truth.cell_centres()
    node_xy = np.empty((graph.n, 2))
    cells = nm >= 0
    node_xy[nm[cells]] = np.column_stack([xx[cells], yy[cells]])
    tree = cKDTree(node_xy)

    juvenile = animals["motherID"].notna().to_numpy()
    walk = np.flatnonzero(~juvenile)
    sigma = animals["sigma"].to_numpy(float)[walk]
    sday = animals["sigmaDay"].to_numpy(float)[walk]
    spread = np.sqrt(np.maximum(sigma**2 - sday**2, (0.2 * sigma) ** 2))
    two_s2 = 4.0 * spread**2
    n_steps = steps_per_day(spread, animals["rho"].to_numpy(float)[walk], grid.cellsize)
    c1 = animals[["x", "y"]].to_numpy(float)[walk]
    c2 = animals[["x2", "y2"]].to_numpy(float)[walk]
    dday = animals["disperseDay"].to_numpy(int)[walk]
    at = tree.query(c1)[1]
    half = grid.cellsize / 2.0
    safe = np.maximum(nbr, 0)
    for t in range(n_days):
        centre = np.where(((dday >= 0) & (t >= dday))[:, None], c2, c1)
        for j in range(int(n_steps.max()) if walk.size else 0):
            idx = np.flatnonzero(n_steps > j)
            cand = nbr[at[idx]]
            d2 = ((node_xy[safe[at[idx]]] - centre[idx, None, :]) ** 2).sum(axis=2)
            d2 = d2 - np.where(cand >= 0, d2, np.inf).min(axis=1, keepdims=True)
            w = np.where(cand >= 0, cond[at[idx]] * np.exp(-d2 / two_s2[idx, None]), 0.0)
            cum = np.cumsum(w, axis=1)
            r = rng.random(idx.size) * cum[:, -1]
            k = np.minimum((cum <= r[:, None]).sum(axis=1), cand.shape[1] - 1)
            step = cand[np.arange(idx.size), k]
            at[idx] = np.where(step >= 0, step, at[idx])
        pos[walk, t] = node_xy[at] + rng.uniform(-half, half, (walk.size, 2))
    if juvenile.any():
        ids = pd.Index(animals["animalID"])
        mi = ids.get_indexer(animals["motherID"][juvenile])
        pos[juvenile] = pos[mi] + rng.normal(0, 300.0, (int(juvenile.sum()), n_days, 2))
    return pos


@dataclass
class Recovery:
    """What the cameras alone recover, against the truth."""

    model: HabitatModel
    resistance: np.ndarray
    current: np.ndarray
    uniform_current: np.ndarray
    spearman_recovered: float
    spearman_uniform: float
    class_means: dict[int, float]

    @property
    def classes_in_order(self) -> bool:
        m = [self.class_means[k] for k in sorted(self.class_means)]
        return all(a < b for a, b in zip(m, m[1:], strict=False))


def recover_corridors(truth: CorridorScenario) -> Recovery:
    """Fit the habitat GLM to the camera data and compare recovered currents with the truth."""
    st = truth.stations
    model = fit_habitat_glm(
        st["detections"].to_numpy(), st["days"].to_numpy(), st[["forest", "near_people"]]
    )
    layers = {"forest": truth.layers["forest"], "near_people": truth.layers["near_people"]}
    s = predict_suitability(model, layers)
    r_hat = np.where(truth.land, suitability_to_resistance(s, method="inverse"), np.nan)
    _, cur = effective_resistance(r_hat, truth.core_a, truth.core_b)
    _, cur_u = effective_resistance(np.where(truth.land, 1.0, np.nan), truth.core_a, truth.core_b)
    cells = truth.land & ~truth.core_a & ~truth.core_b
    rho = float(spearmanr(cur[cells], truth.true_current[cells])[0])
    rho_u = float(spearmanr(cur_u[cells], truth.true_current[cells])[0])
    means = {
        k: float(np.nanmean(r_hat[truth.resistance_class == k]))
        for k in sorted(CLASS_RESISTANCE)
        if (truth.resistance_class == k).any()
    }
    return Recovery(model, r_hat, cur, cur_u, rho, rho_u, means)


def write_corridor_layers(truth: CorridorScenario, folder: str | os.PathLike[str]) -> list[Path]:
    """Write the covariate rasters, the true resistance and current (GeoTIFF) and the cameras."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    nod = truth.grid.nodata
    grids = {
        **truth.layers,
        "resistance_true": truth.resistance,
        "resistance_class": truth.resistance_class.astype(float),
        "current_true": truth.true_current,
        "cores": (truth.core_a.astype(float) + 2 * truth.core_b.astype(float)),
    }
    for name, arr in grids.items():
        vals = np.where(np.isfinite(arr), arr, nod)
        files.append(write_grid(truth.grid.with_values(vals), out / f"{name}.tif"))
    path = out / "corridor_cameras.csv"
    tmp = path.with_suffix(".csv.tmp")
    truth.stations.drop(columns=["row", "col"]).to_csv(tmp, index=False)
    os.replace(tmp, path)
    files.append(path)
    return files


def plot_recovery(
    runs: list[tuple[CorridorScenario, Recovery]], path: str | os.PathLike[str]
) -> Path:
    """One row per seed: true classes, true current, recovered current, uniform current."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(runs), 4, figsize=(12, 3.2 * len(runs)), squeeze=False)
    for row, (truth, rec) in enumerate(runs):
        cls = np.where(truth.land, truth.resistance_class, np.nan)
        panels = [
            (cls, f"seed {truth.seed}: true classes (1 forest, 2 open, 3 people)", "viridis"),
            (truth.true_current, "true current", "magma"),
            (rec.current, f"recovered from cameras (rho {rec.spearman_recovered:.2f})", "magma"),
            (rec.uniform_current, f"uniform resistance (rho {rec.spearman_uniform:.2f})", "magma"),
        ]
        for ax, (arr, title, cmap) in zip(axes[row], panels, strict=True):
            show = np.where(truth.land, arr, np.nan)
            if cmap == "magma":
                show = np.log10(np.where(show > 0, show, np.nan))
            ax.imshow(show, cmap=cmap, interpolation="nearest")
            ax.contour(truth.core_a | truth.core_b, levels=[0.5], colors="cyan", linewidths=0.8)
            ax.set_title(title, fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
