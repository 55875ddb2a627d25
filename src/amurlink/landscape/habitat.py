"""Landscape layers, resistance surfaces and the transboundary answers of corridor modelling.

Layers
    :func:`align_raster` reprojects any GeoTIFF (forest cover, land use, elevation, slope ...)
    onto the study grid in the working CRS (rasterio's warp; bilinear for continuous layers,
    nearest for classes). :func:`rasterize_vector` burns vector layers (roads, settlements,
    rivers, the border fence) into the grid, :func:`distance_to` turns them into distance
    layers (metres, Euclidean distance transform).

Resistance surfaces
    * expert weights (:func:`expert_resistance`): ``R = exp(b0 + sum_k w_k * x_k)``, optionally
      times a class table for categorical layers, clipped to ``[r_min, r_max]``;
    * from a habitat model fitted to the cameras (:func:`fit_habitat_glm`): a Poisson GLM of
      detections per station, ``log E[y] = log(effort) + b0 + sum_k b_k x_k`` (statsmodels,
      effort as offset), predicted on the grid (:func:`predict_suitability`) and rescaled to
      suitability ``s`` in [0, 1] (relative intensity over its 99th percentile, capped at 1);
    * suitability to resistance (:func:`suitability_to_resistance`), documented transforms:
      ``linear``: ``R = r_max - (r_max - 1) s``;
      ``negexp`` (Keeley et al. 2016, shape ``c``):
      ``R = r_max - (r_max - 1)(1 - e^{-c s}) / (1 - e^{-c})``;
      ``inverse``: ``R = 1 / max(s, 1/r_max)``.

Transboundary answers
    :func:`border_segments` cuts the border line into equal segments; :func:`border_current`
    gives the current crossing each (the cumulative current of the cells the segment passes
    through, summed); :func:`pinch_points` finds clusters of concentrated current;
    :func:`barrier_improvement` ranks candidate barrier removals or restorations by the drop
    in effective resistance between the core areas; :func:`compare_crossings` gives the
    Spearman rank correlation between predicted border current and observed crossings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage

from amurlink.exceptions import DataError, FitError
from amurlink.landscape import circuit
from amurlink.landscape.grid import Grid

__all__ = [
    "study_grid",
    "align_raster",
    "rasterize_vector",
    "distance_to",
    "expert_resistance",
    "HabitatModel",
    "fit_habitat_glm",
    "predict_suitability",
    "suitability_to_resistance",
    "border_segments",
    "border_current",
    "pinch_points",
    "barrier_improvement",
    "compare_crossings",
    "effective_resistance",
    "cell_values_at",
    "station_detections",
    "habitat_resistance_from_cameras",
]


# --------------------------------------------------------------------------- layers


def study_grid(bounds: tuple[float, float, float, float], cellsize: float, crs: str) -> Grid:
    """Empty study grid covering ``(minx, miny, maxx, maxy)`` in ``crs`` (snapped outward)."""
    minx, miny, maxx, maxy = bounds
    if not (maxx > minx and maxy > miny and cellsize > 0):
        raise DataError(f"study grid bounds {bounds} / cell size {cellsize} are not valid")
    ncols = math.ceil((maxx - minx) / cellsize)
    nrows = math.ceil((maxy - miny) / cellsize)
    return Grid(np.zeros((nrows, ncols)), float(minx), float(miny), float(cellsize), -9999.0, crs)


def align_raster(path, grid: Grid, *, categorical: bool = False) -> Grid:
    """Reproject a raster file onto ``grid`` (its CRS, extent and cells); NaN where no data."""
    try:
        import rasterio
        from rasterio.warp import Resampling, reproject
    except ImportError as exc:  # pragma: no cover
        raise DataError("aligning rasters needs rasterio; install the 'landscape' extra") from exc
    if grid.crs is None:
        raise DataError("the study grid has no CRS; give the working CRS")
    dst = np.full(grid.shape, np.nan)
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise DataError(f"{path}: the raster has no CRS; assign one before aligning")
            reproject(
                source=rasterio.band(src, 1),
                destination=dst,
                dst_transform=grid.transform(),
                dst_crs=grid.crs,
                dst_nodata=np.nan,
                src_nodata=src.nodata,
                resampling=Resampling.nearest if categorical else Resampling.bilinear,
            )
    except rasterio.errors.RasterioError as exc:
        raise DataError(f"{path}: cannot read or reproject ({exc})") from exc
    return grid.with_values(dst)


def rasterize_vector(
    geoms: Sequence, grid: Grid, *, values: Sequence[float] | None = None, all_touched: bool = True
) -> np.ndarray:
    """Burn shapely geometries (grid CRS) into the grid: value (default 1) where touched, else 0."""
    from rasterio.features import rasterize

    shapes = [(g, 1.0 if values is None else float(values[k])) for k, g in enumerate(geoms)]
    if not shapes:
        return np.zeros(grid.shape)
    return rasterize(
        shapes,
        out_shape=grid.shape,
        transform=grid.transform(),
        fill=0.0,
        all_touched=all_touched,
        dtype="float64",
    )


def distance_to(geoms: Sequence, grid: Grid) -> np.ndarray:
    """Distance (grid units, e.g. metres) from each cell centre to the nearest burnt cell."""
    burnt = rasterize_vector(geoms, grid) > 0
    if not burnt.any():
        return np.full(grid.shape, np.inf)
    return ndimage.distance_transform_edt(~burnt) * grid.cellsize


def cell_values_at(grid: Grid, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Values of the cells containing points (NaN outside the grid)."""
    col = np.floor((np.asarray(x, float) - grid.xllcorner) / grid.cellsize).astype(int)
    row = (
        grid.shape[0]
        - 1
        - np.floor((np.asarray(y, float) - grid.yllcorner) / grid.cellsize).astype(int)
    )
    ok = (row >= 0) & (row < grid.shape[0]) & (col >= 0) & (col < grid.shape[1])
    out = np.full(col.shape, np.nan)
    out[ok] = grid.values[row[ok], col[ok]]
    return out


# --------------------------------------------------------------------------- resistance


def expert_resistance(
    layers: Mapping[str, np.ndarray],
    weights: Mapping[str, float],
    *,
    intercept: float = 0.0,
    class_tables: Mapping[str, Mapping[int, float]] | None = None,
    r_min: float = 1.0,
    r_max: float = 1000.0,
) -> np.ndarray:
    """``exp(intercept + sum w_k x_k) * prod(class multipliers)``, clipped to [r_min, r_max].

    Cells where any used layer is NaN are NaN (no data). A class code missing from its table
    is an error naming the layer and the code.
    """
    if not weights and not class_tables:
        raise DataError("expert resistance needs weights or class tables")
    shape = None
    eta = None
    for name, w in weights.items():
        if name not in layers:
            raise DataError(f"weight given for layer {name!r}, which is not loaded")
        x = np.asarray(layers[name], dtype=float)
        shape = x.shape if shape is None else shape
        if x.shape != shape:
            raise DataError(f"layer {name!r} is {x.shape}, others {shape}: align them first")
        eta = (intercept + w * x) if eta is None else eta + w * x
    mult = None
    for name, table in (class_tables or {}).items():
        if name not in layers:
            raise DataError(f"class table given for layer {name!r}, which is not loaded")
        codes = np.asarray(layers[name], dtype=float)
        valid = np.isfinite(codes)
        uniq = np.unique(codes[valid]).astype(int)
        missing = sorted(set(uniq.tolist()) - set(int(k) for k in table))
        if missing:
            raise DataError(
                f"layer {name!r}: class codes {missing} have no resistance in its table"
            )
        m = np.full(codes.shape, np.nan)
        for code, val in table.items():
            m[valid & (codes == int(code))] = float(val)
        mult = m if mult is None else mult * m
    r = np.exp(eta) if eta is not None else np.ones(mult.shape)  # type: ignore[union-attr]
    if mult is not None:
        r = r * mult
    return np.clip(r, r_min, r_max)


@dataclass
class HabitatModel:
    """A fitted Poisson GLM of detections on covariates with effort offset."""

    covariates: list[str]
    params: pd.Series
    bse: pd.Series
    means: pd.Series
    sds: pd.Series
    aic: float
    n_stations: int
    separation: bool = False  # some fitted means are ~0: coefficients may be inflated

    def linear_predictor(self, layers: Mapping[str, np.ndarray]) -> np.ndarray:
        eta = self.params["const"]
        for name in self.covariates:
            z = (np.asarray(layers[name], float) - self.means[name]) / self.sds[name]
            eta = eta + self.params[name] * z
        return np.asarray(eta, dtype=float)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame({"estimate": self.params, "se": self.bse})


def fit_habitat_glm(
    detections: np.ndarray, effort: np.ndarray, covariates: pd.DataFrame
) -> HabitatModel:
    """Poisson GLM: detections per station ~ standardised covariates, offset log(effort)."""
    import statsmodels.api as sm

    y = np.asarray(detections, dtype=float)
    e = np.asarray(effort, dtype=float)
    if y.shape[0] != len(covariates) or e.shape[0] != y.shape[0]:
        raise DataError("detections, effort and covariates need one row per station")
    bad = ~np.isfinite(y) | (y < 0) | ~np.isfinite(e) | (e <= 0)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"station row {k + 1}: detections {y[k]} / effort {e[k]}; "
            "expected counts >= 0 and effort > 0"
        )
    x = covariates.astype(float)
    if x.isna().any().any():
        col = x.columns[x.isna().any()].tolist()
        raise DataError(f"covariates {col} are missing at some stations (outside the layers?)")
    means, sds = x.mean(), x.std(ddof=0).replace(0, 1.0)
    z = sm.add_constant((x - means) / sds, has_constant="add")
    import warnings

    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", PerfectSeparationWarning)
            res = sm.GLM(y, z, family=sm.families.Poisson(), offset=np.log(e)).fit()
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise FitError(f"habitat GLM did not fit ({exc})") from exc
    sep = any(issubclass(w.category, PerfectSeparationWarning) for w in caught)
    for w in caught:  # pass on anything else
        if not issubclass(w.category, PerfectSeparationWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return HabitatModel(
        list(x.columns), res.params, res.bse, means, sds, float(res.aic), len(y), sep
    )


def predict_suitability(model: HabitatModel, layers: Mapping[str, np.ndarray]) -> np.ndarray:
    """Relative intensity on the grid rescaled to [0, 1] (over its 99th percentile, capped)."""
    lam = np.exp(model.linear_predictor(layers))
    finite = lam[np.isfinite(lam)]
    if finite.size == 0:
        raise DataError("no grid cell has all covariates")
    top = np.percentile(finite, 99)
    return np.clip(lam / top, 0.0, 1.0)


def suitability_to_resistance(
    s: np.ndarray, *, method: str = "negexp", c: float = 8.0, r_max: float = 1000.0
) -> np.ndarray:
    """Resistance from suitability in [0, 1] (see the module docstring for each transform)."""
    s = np.clip(np.asarray(s, dtype=float), 0.0, 1.0)
    if method == "linear":
        return r_max - (r_max - 1.0) * s
    if method == "negexp":
        if c <= 0:
            raise DataError(f"negexp shape c = {c}; expected > 0")
        return r_max - (r_max - 1.0) * (1.0 - np.exp(-c * s)) / (1.0 - math.exp(-c))
    if method == "inverse":
        return 1.0 / np.maximum(s, 1.0 / r_max)
    raise DataError(f"suitability transform {method!r}; expected linear, negexp or inverse")


# --------------------------------------------------------------------------- circuits on grids


def effective_resistance(
    resistance: np.ndarray,
    core_a: np.ndarray,
    core_b: np.ndarray,
    *,
    four_neighbors: bool = False,
    solver: str = "cg+amg",
) -> tuple[float, np.ndarray]:
    """Effective resistance between two core areas (short-circuited) and the current map."""
    r = np.asarray(resistance, float)
    g = np.where(np.isfinite(r) & (r > 0), 1.0 / np.where(r > 0, r, 1.0), 0.0)
    polys = np.zeros(r.shape, dtype=np.int64)
    polys[np.asarray(core_a, bool)] = 1
    polys[np.asarray(core_b, bool)] = 2
    graph = circuit.raster_graph(g, polygons=polys, four_neighbors=four_neighbors)
    nm = graph.nodemap
    assert nm is not None
    na = nm[np.asarray(core_a, bool) & (nm >= 0)]
    nb = nm[np.asarray(core_b, bool) & (nm >= 0)]
    if na.size == 0 or nb.size == 0:
        raise DataError("a core area has no habitat cell")
    res, sols = circuit.pairwise(graph, [int(na[0]), int(nb[0])], solver=solver)
    cur = np.zeros(r.shape)
    for sol in sols:
        nc = sol.node_currents()
        cur = np.where(nm >= 0, nc[np.maximum(nm, 0)], 0.0)
    return float(res[0, 1]), cur


# --------------------------------------------------------------------------- border answers


def border_segments(border, length: float) -> list:
    """Cut a border (shapely LineString or MultiLineString) into pieces of ``length``."""
    import shapely
    from shapely.ops import substring

    lines = list(border.geoms) if hasattr(border, "geoms") else [border]
    out = []
    for line in lines:
        if line.length == 0:
            continue
        n = max(1, round(line.length / length))
        step = line.length / n
        out += [substring(line, k * step, (k + 1) * step) for k in range(n)]
    if not out:
        raise DataError("the border has no length")
    return [shapely.LineString(seg.coords) for seg in out]


def border_current(current: Grid, segments: Sequence) -> pd.DataFrame:
    """Current crossing each border segment: the cumulative current of the cells it crosses."""
    rows = []
    vals = np.where(current.valid, current.values, 0.0)
    for k, seg in enumerate(segments):
        mask = rasterize_vector([seg], current) > 0
        rows.append(
            {
                "segment": k + 1,
                "length": float(seg.length),
                "cells": int(mask.sum()),
                "current": float(vals[mask].sum()),
                "mid_x": float(seg.interpolate(0.5, normalized=True).x),
                "mid_y": float(seg.interpolate(0.5, normalized=True).y),
            }
        )
    df = pd.DataFrame(rows)
    total = df["current"].sum()
    df["share"] = df["current"] / total if total > 0 else 0.0
    return df


def pinch_points(
    current: np.ndarray,
    *,
    quantile: float = 0.95,
    min_cells: int = 1,
    cellsize: float = 1.0,
    exclude: np.ndarray | None = None,
) -> pd.DataFrame:
    """Clusters (8-connected) of cells above the ``quantile`` of positive current.

    Ranked by peak current; columns: cluster, cells, peak, total, row, col (of the peak).
    ``exclude`` (e.g. the core areas, which carry all current) is left out.
    """
    c = np.asarray(current, dtype=float)
    if exclude is not None:  # core areas carry all current by construction: leave them out
        c = np.where(np.asarray(exclude, bool), np.nan, c)
    pos = c[np.isfinite(c) & (c > 0)]
    if pos.size == 0:
        return pd.DataFrame(columns=["cluster", "cells", "peak", "total", "row", "col"])
    cut = np.quantile(pos, quantile)
    hot = np.isfinite(c) & (c >= cut) & (c > 0)
    labels, n = ndimage.label(hot, structure=np.ones((3, 3)))
    rows = []
    for lab in range(1, n + 1):
        cells = labels == lab
        size = int(cells.sum())
        if size < min_cells:
            continue
        sub = np.where(cells, c, -np.inf)
        r, col = np.unravel_index(int(np.argmax(sub)), c.shape)
        rows.append(
            {
                "cells": size,
                "peak": float(c[r, col]),
                "total": float(c[cells].sum()),
                "row": int(r),
                "col": int(col),
                "area": size * cellsize**2,
            }
        )
    df = pd.DataFrame(rows).sort_values("peak", ascending=False, ignore_index=True)
    df.insert(0, "cluster", np.arange(1, len(df) + 1))
    return df


def barrier_improvement(
    resistance: np.ndarray,
    core_a: np.ndarray,
    core_b: np.ndarray,
    candidates: Mapping[str, np.ndarray],
    *,
    restored: float | np.ndarray = 1.0,
    four_neighbors: bool = False,
) -> pd.DataFrame:
    """Rank candidate removals/restorations by how much they lower A-B effective resistance.

    ``candidates`` maps a name (a road stretch, a fence segment) to a boolean cell mask; its
    cells take ``restored`` resistance (a value or a grid). Score = percentage drop in
    effective resistance (Circuitscape's measure, as in Linkage Mapper's *Barrier Mapper*
    with circuit theory); also the drop per restored cell.
    """
    r0 = np.asarray(resistance, float)
    base, _ = effective_resistance(r0, core_a, core_b, four_neighbors=four_neighbors)
    if base < 0:
        raise DataError("the core areas are not connected; no improvement can be scored")
    rows = []
    for name, mask in candidates.items():
        m = np.asarray(mask, bool)
        if m.shape != r0.shape:
            raise DataError(f"candidate {name!r} mask is {m.shape}, grid {r0.shape}")
        r1 = r0.copy()
        r1[m] = restored if np.isscalar(restored) else np.asarray(restored)[m]
        after, _ = effective_resistance(r1, core_a, core_b, four_neighbors=four_neighbors)
        drop = 100.0 * (base - after) / base
        rows.append(
            {
                "candidate": name,
                "cells": int(m.sum()),
                "resistance_before": base,
                "resistance_after": after,
                "improvement_pct": drop,
                "improvement_per_cell": drop / max(int(m.sum()), 1),
            }
        )
    df = pd.DataFrame(rows).sort_values("improvement_pct", ascending=False, ignore_index=True)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df


def compare_crossings(predicted: Sequence[float], observed: Sequence[float]) -> dict:
    """Spearman rank correlation of predicted border current with observed crossings."""
    from scipy.stats import spearmanr

    p = np.asarray(predicted, float)
    o = np.asarray(observed, float)
    if p.shape != o.shape or p.size < 3:
        raise DataError("need the same segments (at least 3) for predicted and observed")
    if np.ptp(p) == 0 or np.ptp(o) == 0:
        return {"spearman": float("nan"), "p_value": float("nan"), "segments": int(p.size)}
    rho, pval = spearmanr(p, o)
    return {"spearman": float(rho), "p_value": float(pval), "segments": int(p.size)}


def station_detections(dataset: Any, species: str, crs: str) -> pd.DataFrame:
    """Detections and effort per deployment of a Camtrap DP dataset, positions in ``crs``.

    Detections are observation events of ``species`` (distinct ``eventID``, or rows when
    there is none); effort is deployment days. The positions are only for sampling the
    covariate layers: do not publish this table (it holds station coordinates).
    """
    import pyproj

    dep = dataset.deployments
    obs = dataset.observations
    need = {"deploymentID", "latitude", "longitude", "deploymentStart", "deploymentEnd"}
    if not need <= set(dep.columns):
        raise DataError(f"deployments lack {sorted(need - set(dep.columns))}")
    days = (
        pd.to_datetime(dep["deploymentEnd"], utc=True)
        - pd.to_datetime(dep["deploymentStart"], utc=True)
    ).dt.total_seconds().to_numpy(float) / 86400.0
    sel = obs[obs["scientificName"].astype(str) == species]
    if "observationType" in sel.columns:
        sel = sel[sel["observationType"].astype(str) == "animal"]
    key = "eventID" if "eventID" in sel.columns and sel["eventID"].notna().all() else None
    if key:
        counts = sel.groupby("deploymentID")[key].nunique()
    else:
        counts = sel.groupby("deploymentID").size()
    t = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = t.transform(dep["longitude"].to_numpy(float), dep["latitude"].to_numpy(float))
    ids = dep["deploymentID"].astype(str)
    counts.index = counts.index.astype(str)
    return pd.DataFrame(
        {
            "deploymentID": ids.to_numpy(),
            "x": x,
            "y": y,
            "days": days,
            "detections": ids.map(counts).fillna(0).to_numpy(float),
        }
    )


def habitat_resistance_from_cameras(
    stations: pd.DataFrame,
    layers: Mapping[str, Grid],
    *,
    method: str = "negexp",
    c: float = 8.0,
    r_max: float = 1000.0,
) -> tuple[HabitatModel, np.ndarray, np.ndarray]:
    """Fit the GLM at the stations (layers sampled there); suitability and resistance grids."""
    first = next(iter(layers.values()))
    for name, g in layers.items():
        if not g.same_frame(first):
            raise DataError(f"layer {name!r} is not on the grid of the first layer; align it")
    ok = stations["days"].to_numpy(float) > 0
    st = stations[ok]
    cov = pd.DataFrame(
        {
            name: cell_values_at(
                g.with_values(np.where(g.valid, g.values, np.nan)),
                st["x"].to_numpy(),
                st["y"].to_numpy(),
            )
            for name, g in layers.items()
        }
    )
    inside = cov.notna().all(axis=1).to_numpy()
    if inside.sum() < len(layers) + 2:
        raise DataError(
            f"only {int(inside.sum())} stations lie on all layers; the habitat model needs "
            f"at least {len(layers) + 2}"
        )
    model = fit_habitat_glm(
        st["detections"].to_numpy(float)[inside],
        st["days"].to_numpy(float)[inside],
        cov[inside].reset_index(drop=True),
    )
    arrays = {n: np.where(g.valid, g.values, np.nan) for n, g in layers.items()}
    s = predict_suitability(model, arrays)
    return model, s, suitability_to_resistance(s, method=method, c=c, r_max=r_max)
