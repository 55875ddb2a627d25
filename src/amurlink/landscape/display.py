"""Corridor rasters made readable for a map: cores blanked, a log stretch, colours, PNG, WGS84.

The cumulative current between two parks spans many orders of magnitude: where the parks
touch the border (the simulator's do), almost all of it flows straight from one core into the
other and the rest of the landscape carries a small fraction, so a linear colour scale shows a
few bright cells on a black map. :func:`current_display` blanks the cores and
:func:`display_range` picks a logarithmic range from the landscape's own cells (percentiles),
so the report's figure and the web map layer both show where movement concentrates. The
computed rasters (``current.tif``, the figures in the tables) are never changed: only how
they are drawn.

No matplotlib here (the report draws with it; the web platform gets a PNG from
:func:`overlay_png` without it). Nothing here takes or draws a station.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

import numpy as np

from amurlink.landscape.grid import Grid

__all__ = ["CORRIDOR_RAMP", "CURRENT_RAMP", "border_parks", "colourise", "core_cells",
           "current_display", "display_range", "landscape_carries_current", "overlay_png",
           "png_bytes", "ramp_css", "raster_display", "warp_to_lonlat"]

#: Colour ramp of the current (magma reversed: pale where little current flows, dark purple
#: where most does), as (position 0-1, (r, g, b)); on a map it is drawn over white/terrain.
CURRENT_RAMP: tuple[tuple[float, tuple[int, int, int]], ...] = (
    (0.0, (252, 253, 191)), (0.125, (254, 196, 136)), (0.25, (252, 137, 97)),
    (0.375, (231, 82, 99)), (0.5, (183, 55, 121)), (0.625, (131, 38, 129)),
    (0.75, (81, 18, 124)), (0.875, (29, 17, 71)), (1.0, (0, 0, 4)),
)
#: Colour ramp of the normalised least-cost corridor (0 = the cheapest path): green to pale.
CORRIDOR_RAMP: tuple[tuple[float, tuple[int, int, int]], ...] = (
    (0.0, (0, 104, 55)), (0.5, (120, 198, 121)), (1.0, (247, 252, 185)),
)


def raster_display(grid: Grid, *, blank: np.ndarray | None = None, max_cells: int = 400
                   ) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """A raster ready to draw: no data and ``blank`` cells NaN, block-averaged to at most
    ``max_cells`` across.

    Returns
    -------
    values : ndarray of float
        NaN where nothing is drawn.
    extent : tuple of float
        ``(xmin, ymin, xmax, ymax)`` of the drawn cells in the grid's CRS (metres).
    """
    v = np.where(grid.valid & np.isfinite(grid.values), grid.values, np.nan).astype(float)
    if blank is not None:
        v = np.where(np.asarray(blank, bool), np.nan, v)
    step = max(1, int(np.ceil(max(v.shape) / max(1, int(max_cells)))))
    ny, nx = v.shape
    if step > 1:
        ny, nx = (v.shape[0] // step) * step, (v.shape[1] // step) * step
        blocks = v[:ny, :nx].reshape(ny // step, step, nx // step, step)
        n = np.isfinite(blocks).sum(axis=(1, 3))
        v = np.where(n > 0, np.nansum(blocks, axis=(1, 3)) / np.maximum(n, 1), np.nan)
    top = grid.yllcorner + grid.shape[0] * grid.cellsize
    extent = (grid.xllcorner, top - ny * grid.cellsize, grid.xllcorner + nx * grid.cellsize,
              top)
    return v, extent


def border_parks(border: Any) -> list[Any]:
    """The geometries of the border's first two ``park`` features: the core areas of the
    ``corridors`` stage (:func:`amurlink.landscape.transboundary.border_corridors`)."""
    return [g for _, g in list((getattr(border, "extras", None) or {}).get("park", ()))[:2]]


def core_cells(grid: Grid, parks: Any, *, beside: Any = None) -> np.ndarray | None:
    """The core areas' cells: those of the run's ``cores.tif`` when it lies ``beside`` the
    drawn raster (the parks' cells beyond the core setback, as the circuit used them), else
    cells whose centre lies in one of ``parks`` (geometries in the grid's CRS); None when
    fewer than two parks are given and no ``cores.tif`` is found."""
    from pathlib import Path

    from amurlink.landscape.costdist import rasterize_polygons

    if beside is not None:
        f = Path(beside).with_name("cores.tif")
        if f.is_file():
            from amurlink.landscape.grid import read_grid

            c = read_grid(f)
            if c.shape == grid.shape:
                return np.where(c.valid, c.values, 0) > 0
    parks = list(parks or ())
    if len(parks) < 2:
        return None
    return rasterize_polygons(parks, grid) > 0


def current_display(grid: Grid, *, cores: np.ndarray | None = None,
                    max_cells: int = 400) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """The current raster ready to draw: cores blank, block-averaged to ``max_cells`` across.

    Parameters
    ----------
    grid : Grid
        Cumulative current (``current.tif`` of :func:`amurlink.landscape.transboundary.
        border_corridors`).
    cores : ndarray of bool, optional
        Cells of the core areas (the parks, :func:`core_cells`), left blank: each core is one
        node of the circuit and carries the whole current. Without it, cells at 99.9 % of
        the largest current or more are taken as the cores.
    max_cells : int, default 400
        Most cells across the drawn raster (coarser grids are block-averaged).

    Returns
    -------
    values : ndarray of float
        NaN where nothing is drawn (no data, cores, cells below :data:`NOISE_REL` of the
        largest current).
    extent : tuple of float
        ``(xmin, ymin, xmax, ymax)`` in the grid's CRS (metres).
    """
    v = np.where(grid.valid, grid.values, np.nan)
    top = np.nanmax(v) if np.isfinite(v).any() else np.nan
    if not (np.isfinite(top) and top > 0):
        return raster_display(grid, blank=cores, max_cells=max_cells)
    if cores is None:
        cores = v >= 0.999 * top
    # cells below NOISE_REL of the largest current carry none (dead ends: rounding noise of
    # 1e-16 that a log scale would stretch over most of its colours)
    with np.errstate(invalid="ignore"):
        quiet = v < NOISE_REL * top
    return raster_display(grid, blank=np.asarray(cores, bool) | quiet, max_cells=max_cells)


#: Below this share of the largest current a cell carries none (not drawn).
NOISE_REL = 1e-6


def landscape_carries_current(grid: Grid, *, cores: np.ndarray | None = None,
                              rel: float = NOISE_REL) -> bool:
    """Whether any cell outside the cores carries more than ``rel`` x the largest current.

    False when the two parks touch: the current then flows straight from one core into the
    other and the rest of the map holds only rounding noise (about 1e-16), which no colour
    scale makes meaningful; draw the least-cost corridor instead.
    """
    v = np.where(grid.valid, grid.values, np.nan).astype(float)
    top = np.nanmax(v) if np.isfinite(v).any() else np.nan
    if not (np.isfinite(top) and top > 0):
        return False
    outside, _ = current_display(grid, cores=cores, max_cells=max(grid.shape))
    return bool(np.isfinite(outside).any() and np.nanmax(outside) > rel * top)


def display_range(values: np.ndarray, *, low: float = 2.0, high: float = 99.5
                  ) -> tuple[float, float]:
    """Limits of a logarithmic colour scale: the ``low`` and ``high`` percentiles of the
    positive finite values (``(nan, nan)`` when there are none)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v) & (v > 0)]
    if not v.size:
        return (float("nan"), float("nan"))
    lo, hi = (float(x) for x in np.percentile(v, [low, high]))
    if not hi > lo:
        lo, hi = float(v.min()), float(v.max())
    if not hi > lo:
        hi = lo * 10.0
    return lo, hi


def _ramp(t: np.ndarray, ramp: Any) -> np.ndarray:
    pos = np.array([p for p, _ in ramp], float)
    rgb = np.array([c for _, c in ramp], float)
    return np.stack([np.interp(t, pos, rgb[:, k]) for k in range(3)], axis=-1)


def colourise(values: np.ndarray, lo: float, hi: float, *, ramp: Any = CURRENT_RAMP,
              log: bool = True, opacity: tuple[float, float] = (0.35, 0.9)) -> np.ndarray:
    """RGBA pixels (uint8) of ``values`` on ``ramp`` between ``lo`` and ``hi``.

    With ``log`` the scale is logarithmic (values at or below zero take ``lo``'s colour).
    NaN is transparent; the opacity grows from ``opacity[0]`` at ``lo`` to ``opacity[1]`` at
    ``hi``, so a map drawn under the layer stays visible where little flows.
    """
    v = np.asarray(values, float)
    ok = np.isfinite(v)
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (np.log10(np.maximum(v, lo)) - np.log10(lo)) / (np.log10(hi) - np.log10(lo))
    else:
        t = (v - lo) / (hi - lo)
    t = np.clip(np.where(ok, t, 0.0), 0.0, 1.0)
    out = np.zeros(v.shape + (4,), dtype=np.uint8)
    out[..., :3] = np.round(_ramp(t, ramp)).astype(np.uint8)
    alpha = opacity[0] + (opacity[1] - opacity[0]) * t
    out[..., 3] = np.where(ok, np.round(255 * alpha), 0).astype(np.uint8)
    return out


def ramp_css(ramp: Any = CURRENT_RAMP) -> str:
    """The ramp as a CSS ``linear-gradient`` (for a legend)."""
    stops = ", ".join(f"rgb({r},{g},{b}) {p * 100:.1f}%" for p, (r, g, b) in ramp)
    return f"linear-gradient(to right, {stops})"


def png_bytes(rgba: np.ndarray) -> bytes:
    """A PNG (8-bit RGBA, no metadata) of an ``(height, width, 4)`` uint8 array."""
    a = np.ascontiguousarray(np.asarray(rgba, dtype=np.uint8))
    if a.ndim != 3 or a.shape[2] != 4:
        raise ValueError(f"png_bytes needs an (height, width, 4) array, got shape {a.shape}")
    h, w = a.shape[:2]
    raw = b"".join(b"\x00" + a[i].tobytes() for i in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def _merc_y(lat: np.ndarray) -> np.ndarray:
    return np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))


def warp_to_lonlat(values: np.ndarray, extent: tuple[float, float, float, float], crs: Any,
                   *, width: int | None = None) -> tuple[np.ndarray, tuple[float, float,
                                                                            float, float]]:
    """Resample a raster of a projected CRS onto a grid regular in Web Mercator.

    A web map stretches an image linearly between its corner latitudes and longitudes in
    Web Mercator, so the rows are spaced evenly in Mercator northing: the image then lies
    exactly where the raster is (nearest cell; cells outside the raster are NaN).

    Returns
    -------
    values : ndarray of float
    bounds : tuple of float
        ``(west, south, east, north)`` in WGS84 degrees.
    """
    import pyproj

    v = np.asarray(values, float)
    ny, nx = v.shape
    x0, y0, x1, y1 = extent
    to_ll = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    ex = np.concatenate([np.linspace(x0, x1, 50), np.full(50, x1), np.linspace(x1, x0, 50),
                         np.full(50, x0)])
    ey = np.concatenate([np.full(50, y0), np.linspace(y0, y1, 50), np.full(50, y1),
                         np.linspace(y1, y0, 50)])
    lon, lat = to_ll.transform(ex, ey)
    west, east, south, north = (float(np.min(lon)), float(np.max(lon)), float(np.min(lat)),
                                float(np.max(lat)))
    width = int(width or nx)
    k = np.cos(np.radians((south + north) / 2))
    height = max(1, int(round(width * (north - south) / max((east - west) * k, 1e-12))))
    lons = west + (np.arange(width) + 0.5) * (east - west) / width
    my0, my1 = _merc_y(np.array(south)), _merc_y(np.array(north))
    my = my1 - (np.arange(height) + 0.5) * (my1 - my0) / height
    lats = np.degrees(2 * np.arctan(np.exp(my)) - np.pi / 2)
    glon, glat = np.meshgrid(lons, lats)
    from_ll = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    px, py = from_ll.transform(glon.ravel(), glat.ravel())
    col = np.floor((np.asarray(px) - x0) / ((x1 - x0) / nx)).astype(np.int64)
    row = np.floor((y1 - np.asarray(py)) / ((y1 - y0) / ny)).astype(np.int64)
    inside = (col >= 0) & (col < nx) & (row >= 0) & (row < ny)
    out = np.full(glon.size, np.nan)
    out[inside] = v[row[inside], col[inside]]
    return out.reshape(height, width), (west, south, east, north)


def overlay_png(values: np.ndarray, extent: tuple[float, float, float, float], crs: Any, *,
                lo: float, hi: float, ramp: Any = CURRENT_RAMP, log: bool = True,
                width: int | None = None) -> tuple[bytes, tuple[float, float, float, float]]:
    """A PNG of ``values`` for a web map (Web Mercator rows) and its WGS84 bounds."""
    warped, bounds = warp_to_lonlat(values, extent, crs, width=width)
    return png_bytes(colourise(warped, lo, hi, ramp=ramp, log=log)), bounds
