"""Density surfaces as GeoTIFF, and mask checks (secr's ``mask.check``, ``suggest.buffer``).

A density surface is a raster on the mask grid: one cell per mask point (cell side = mask
spacing, centred on the point), ``nodata`` elsewhere. Bands: ``D`` (animals per hectare) and,
with ``se=True``, its SE and 95% limits. The detection probability surface ``pdot`` is left
out unless asked for (``pdot=True``): its peaks sit on the detectors, so it shows where the
cameras are and must go through the protection gate before it leaves the team.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["write_density_geotiff", "write_friction_geotiff", "write_mask_geotiff", "mask_check",
           "suggest_buffer", "add_raster_covariates", "add_region_covariate"]


def _grid(xy: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray, int, int, float, float]:
    x0 = xy[:, 0].min() - spacing / 2
    y1 = xy[:, 1].max() + spacing / 2
    col = np.rint((xy[:, 0] - x0) / spacing - 0.5).astype(np.int64)
    row = np.rint((y1 - xy[:, 1]) / spacing - 0.5).astype(np.int64)
    if not (np.allclose(x0 + (col + 0.5) * spacing, xy[:, 0], atol=1e-6 * spacing)
            and np.allclose(y1 - (row + 0.5) * spacing, xy[:, 1], atol=1e-6 * spacing)):
        raise ValueError("the mask points are not on one grid of the mask spacing; a GeoTIFF "
                         "needs a regular mask (make_mask)")
    return row, col, int(row.max()) + 1, int(col.max()) + 1, x0, y1


def write_density_geotiff(
    results: Any,
    path: str | Path,
    *,
    session: str | int | None = None,
    crs: str | None = None,
    se: bool = True,
    pdot: bool = False,
    per_100km2: bool = False,
) -> Path:
    """Write the fitted density surface of one session as a GeoTIFF (float32, atomic write).

    Parameters
    ----------
    results : SECRResults
        A fit (full likelihood; for a CL fit the flat Horvitz-Thompson density).
    path : str or Path
        Output ``.tif``.
    session : str or int, optional
        Session (required with several sessions).
    crs : str, optional
        CRS of the mask coordinates (e.g. ``"EPSG:32652"``); default the mask's own ``crs``.
    se : bool
        Add bands ``se``, ``lcl``, ``ucl`` (secr's ``predictDsurface(se.D, cl.D)``).
    pdot : bool
        Add the detection probability ``pdot`` (shows where the detectors are: protect it).
    per_100km2 : bool
        Densities per 100 km² instead of per hectare.

    Returns
    -------
    Path
    """
    j = results._session_index(session)
    mask = results._ll.sessions[j].mask
    surf = results.density_map(session=j, se=se and not results.design.conditional)
    names = ["D"] + ([c for c in ("se", "lcl", "ucl") if c in surf.columns] if se else [])
    if pdot:
        names.append("pdot")
    scale = 1e4 if per_100km2 else 1.0
    bands = {name: surf[name].to_numpy(dtype=float) * (1.0 if name == "pdot" else scale)
             for name in names}
    return write_mask_geotiff(
        mask, bands, path, crs=crs,
        tags={"units": "animals per 100 km2" if per_100km2 else "animals per hectare",
              "model": str(results.settings.get("model", {})),
              "detectfn": results.design.detectfn.name})


def write_friction_geotiff(
    results: Any,
    path: str | Path,
    *,
    session: str | int | None = None,
    crs: str | None = None,
) -> Path:
    """Write the fitted ``noneuc`` surface of one session as a GeoTIFF: a resistance surface.

    For a non-Euclidean model (``noneuc ~ <mask covariates>``) the band ``friction`` holds
    the real ``noneuc`` at every mask point at the estimates (the per-cell friction whose
    least-cost distances the fit used; log link). It is estimated from where the animals were
    detected, so it is a data-driven resistance surface for the corridors
    (``landscape/resistance.tif`` of a study; ``amurlink habitat corridors``).

    Raises
    ------
    ValueError
        If the model has no ``noneuc`` or the mask is not a regular grid.
    """
    surfaces = results.design.noneuc(results.params.to_numpy())
    if surfaces is None:
        raise ValueError("the model has no noneuc: fit e.g. --model 'noneuc~res-1' (a mask "
                         "covariate that may slow movement) to estimate a friction surface")
    j = results._session_index(session)
    mask = results._ll.sessions[j].mask
    return write_mask_geotiff(
        mask, {"friction": np.asarray(surfaces[j], dtype=float)}, path, crs=crs,
        tags={"units": "friction (secr real noneuc, per mask cell)",
              "model": str(results.settings.get("model", {})),
              "detectfn": results.design.detectfn.name})


def write_mask_geotiff(mask: Any, bands: dict[str, np.ndarray], path: str | Path, *,
                       crs: str | None = None, tags: dict[str, str] | None = None) -> Path:
    """Write values per mask point as the bands of a float32 GeoTIFF (atomic write).

    The mask must be a regular grid of its spacing (as :func:`make_mask` makes); cells
    without a mask point are nodata (-9999).
    """
    import rasterio
    from rasterio.transform import from_origin

    row, col, nrow, ncol, x0, y1 = _grid(mask.xy, mask.spacing)
    nodata = -9999.0
    data = np.full((len(bands), nrow, ncol), nodata, dtype=np.float32)
    for b, v in enumerate(bands.values()):
        data[b, row, col] = np.asarray(v, dtype=float).astype(np.float32)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with rasterio.open(
            tmp, "w", driver="GTiff", height=nrow, width=ncol, count=len(bands),
            dtype="float32", crs=crs or mask.crs, nodata=nodata,
            transform=from_origin(x0, y1, mask.spacing, mask.spacing), compress="deflate",
        ) as dst:
            dst.write(data)
            for b, name in enumerate(bands, start=1):
                dst.set_band_description(b, name)
            dst.update_tags(**(tags or {}))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def mask_check(
    capthist: Any,
    *,
    buffers: Any,
    spacing: float,
    fit_kwargs: dict | None = None,
    beta: Any = None,
    refit: bool = False,
) -> Any:
    """secr's ``mask.check``: the log-likelihood (and, with ``refit``, D) on masks of
    increasing buffer around the detectors.

    With ``beta`` (link-scale coefficients of a fit) the likelihood is evaluated at those
    values on each mask (secr's default, ``LLonly``); with ``refit=True`` each mask is refitted.
    A buffer is wide enough where the values stop changing.

    Returns
    -------
    DataFrame
        One row per buffer: ``buffer_m``, ``points``, ``loglik`` (and ``D`` when refitted).
    """
    import pandas as pd

    from amurlink.analysis.secr.likelihood import LogLikelihood
    from amurlink.analysis.secr.mask import make_mask
    from amurlink.analysis.secr.model import fit_secr

    kw = dict(fit_kwargs or {})
    sessions = list(capthist) if isinstance(capthist, list | tuple) else [capthist]
    rows = []
    for b in buffers:
        # around every session's detectors (the shapes of area and line detectors)
        m = make_mask(sessions, buffer=float(b), spacing=spacing)
        row: dict = {"buffer_m": float(b), "points": m.n_points}
        if refit or beta is None:
            res = fit_secr(capthist, m, **kw)
            row["loglik"] = res.loglik
            if not res.design.conditional:
                row["D"] = float(res.predict().iloc[0]["estimate"])
        else:
            ll = LogLikelihood(capthist, m, **{k: v for k, v in kw.items()
                                               if k not in ("start", "method")})
            row["loglik"] = ll(np.asarray(beta, dtype=float))
        rows.append(row)
    return pd.DataFrame(rows)


def suggest_buffer(results: Any, *, RBtarget: float = 0.001, session: str | int | None = None,
                   max_buffer: float | None = None) -> float:
    """secr's ``suggest.buffer`` idea for a fitted model: the smallest buffer (metres) around
    the detectors beyond which the expected number of detected animals whose activity centre
    lies outside it is below ``RBtarget`` of all detected animals (so truncating the mask
    there biases D by less than ``RBtarget``).

    It integrates p.(x) D over rings of growing distance to the nearest detector (flat
    density at the fitted value), with the fitted detection function; the distance is found
    on a grid of a fifth of sigma out to ``max_buffer`` (default 12 sigma; 20 sigma for
    the exponential-tailed EX, HEX).
    """
    from scipy.spatial import cKDTree

    from amurlink.analysis.secr.mask import make_mask

    j = results._session_index(session)
    ses = results._ll.sessions[j]
    beta = results.params.to_numpy()
    s = _spatial_scale(results, beta, j)
    wide = 20 if results.design.detectfn.shape == "exponential" else 12
    top = float(max_buffer) if max_buffer is not None else wide * s
    step = s / 5
    chs = _capture_histories(ses)
    grid = make_mask(chs, buffer=top, spacing=step, type="trapbuffer")
    p = results._pdot_at(beta, j, grid.xy)
    if any(c.geometry is not None for c in chs):  # distance to the searched shapes
        import shapely

        searched = shapely.union_all(
            [g for c in chs if c.geometry is not None for g in c.geometry]
            + [shapely.multipoints(c.traps) for c in chs if c.geometry is None])
        dist = shapely.distance(searched, shapely.points(grid.xy))
    else:
        dist, _ = cKDTree(np.vstack([c.traps for c in chs])).query(grid.xy)
    order = np.argsort(dist)
    tail = np.cumsum(p[order][::-1])[::-1]  # expected detections beyond each distance
    total = tail[0]
    ok = tail / total < RBtarget
    if not ok.any():
        return top
    return float(dist[order][np.argmax(ok)])


def _spatial_scale(results: Any, beta: np.ndarray, j: int) -> float:
    """sigma of session ``j`` (the largest over classes and states); for the signal-strength
    functions, whose second parameter is an attenuation, the distance at which g falls to
    ``exp(-1/2)`` of its value at the detector (a halfnormal's sigma)."""
    from scipy.optimize import brentq

    from amurlink.analysis.secr.detectfn import detection_arrays

    design = results.design
    a, b = design.detection(beta)
    fn = design.detectfn
    if not fn.signal:
        return float(np.max(b[j]))
    zz = design.detection_z(beta)
    c = None if zz is None else float(zz[j].flat[0])
    cut = float(getattr(results._ll.sessions[j], "cutval", 0.0))

    def g(r: float) -> float:
        return float(detection_arrays(np.array([r]), fn, float(a[j].flat[0]),
                                      float(b[j].flat[0]), c, cutval=cut)[0][0])

    target = g(1.0) * np.exp(-0.5)  # from 1 m: SSS is 1 at the detector itself
    hi = 2.0
    while g(hi) > target and hi < 1e8:
        hi *= 2
    return float(brentq(lambda r: g(r) - target, 1.0, hi)) if hi < 1e8 else 1e8


def _capture_histories(ses: Any) -> list:
    """The capture histories behind a session of a fit: the methods of a linked session,
    else its own."""
    parts = getattr(ses, "parts", None)
    return [p.ch for p in parts] if parts is not None else [ses.ch]


def add_raster_covariates(mask: Any, rasters: dict[str, str | Path], *,
                          crs: str | None = None) -> Any:
    """The mask with covariates sampled from rasters at its points (``{"forest": "f.tif"}``).

    Points are reprojected to each raster's CRS when it differs from the mask's (``crs`` or
    ``mask.crs``). A point outside a raster or on its nodata is an error naming the raster and
    the number of such points (a density model cannot use a missing covariate).
    """
    import pandas as pd
    import rasterio

    from amurlink.analysis.secr.mask import Mask
    from amurlink.exceptions import DataError

    cov = (mask.covariates.copy() if mask.covariates is not None
           else pd.DataFrame(index=range(mask.n_points)))
    src_crs = crs or mask.crs
    for name, path in rasters.items():
        try:
            src = rasterio.open(path)
        except Exception as exc:  # noqa: BLE001 - rasterio raises several types
            raise DataError(f"{path}: cannot read the raster for covariate {name!r} ({exc})"
                            ) from None
        with src:
            xs, ys = mask.xy[:, 0], mask.xy[:, 1]
            if src.crs is not None and src_crs is not None and str(src.crs) != str(src_crs):
                from pyproj import Transformer

                tr = Transformer.from_crs(src_crs, src.crs, always_xy=True)
                xs, ys = tr.transform(xs, ys)
            vals = np.array([v[0] for v in src.sample(zip(xs, ys, strict=True), indexes=1)],
                            dtype=float)
            b = src.bounds
            outside = (xs < b.left) | (xs > b.right) | (ys < b.bottom) | (ys > b.top)
            if src.nodata is not None:
                outside |= vals == src.nodata
            outside |= ~np.isfinite(vals)
        if outside.any():
            raise DataError(
                f"{path}: covariate {name!r} is missing at {int(outside.sum())} of "
                f"{mask.n_points} mask points (outside the raster or nodata); use a raster "
                "that covers the whole mask"
            )
        cov[name] = vals
    return Mask(xy=mask.xy, spacing=mask.spacing, covariates=cov, crs=mask.crs)


def add_region_covariate(mask: Any, regions: dict[str, Any], *, name: str = "country",
                         outside: str = "none") -> Any:
    """The mask with a factor covariate naming the region (polygon) holding each point, e.g.
    ``country`` from the border file's country polygons (``D ~ country``)."""
    import pandas as pd
    import shapely

    from amurlink.analysis.secr.mask import Mask

    lab = np.full(mask.n_points, outside, dtype=object)
    for code, poly in regions.items():
        inside = np.asarray(shapely.contains_xy(poly, mask.xy[:, 0], mask.xy[:, 1]), bool)
        lab[inside & (lab == outside)] = str(code)
    cov = (mask.covariates.copy() if mask.covariates is not None
           else pd.DataFrame(index=range(mask.n_points)))
    cov[name] = lab
    return Mask(xy=mask.xy, spacing=mask.spacing, covariates=cov, crs=mask.crs)
