"""Synthetic (or real-border) two-country landscape: countries, border, habitat raster, parks."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely
from scipy import ndimage
from shapely.geometry import LineString, MultiLineString, Polygon, box, mapping, shape

from amurlink.core.crs import DEFAULT_WORKING_CRS
from amurlink.exceptions import DataError

__all__ = ["Landscape", "make_landscape", "read_border_geometry"]

_WGS84 = "EPSG:4326"
#: Codes of the country raster.
SEA, CN, RU, KP, LAKE, OUTSIDE = 0, 1, 2, 3, 4, 5
COUNTRY_CODES = {CN: "CN", RU: "RU", KP: "KP"}


@dataclass(frozen=True, eq=False)
class Landscape:
    """The study area in the working CRS (metres): countries, border, habitat and parks.

    Attributes
    ----------
    crs : str
        Projected CRS of every coordinate (EPSG:32652 by default).
    extent : (float, float, float, float)
        ``xmin, ymin, xmax, ymax`` in metres.
    countries : dict of str to shapely geometry
        Land polygons of ``CN``, ``RU`` and ``KP`` (clipped to the extent, lakes removed).
    border : shapely LineString or MultiLineString
        The China-Russia border only.
    lakes, sea : shapely geometry
        Water bodies (possibly empty).
    parks : dict of str to shapely geometry
        ``NTLNP`` (China) and ``LLNP`` (Russia).
    cell_m : float
        Raster cell side, metres.
    x, y : ndarray
        Cell-centre coordinates of the raster columns and rows (rows go south to north).
    habitat : ndarray, shape (ny, nx)
        Habitat quality in [0, 1]; 0 on water, outside the study area and in North Korea.
    country : ndarray of int8, shape (ny, nx)
        Country code per cell (0 sea, 1 CN, 2 RU, 3 KP, 4 lake, 5 outside).
    villages : ndarray, shape (V, 2)
        Village positions.
    roads : list of LineString
    source : str
        ``synthetic`` or the path of the border file.
    """

    crs: str
    extent: tuple[float, float, float, float]
    countries: dict[str, Any]
    border: Any
    lakes: Any
    sea: Any
    parks: dict[str, Any]
    cell_m: float
    x: np.ndarray
    y: np.ndarray
    habitat: np.ndarray
    country: np.ndarray
    villages: np.ndarray
    roads: list = field(default_factory=list)
    source: str = "synthetic"

    @property
    def cell_area_km2(self) -> float:
        return self.cell_m**2 / 1e6

    def land_area_km2(self, code: str | None = None) -> float:
        """Land area (km², from the raster) of one country or of CN + RU + KP."""
        if code is None:
            return float(np.isin(self.country, (CN, RU, KP)).sum() * self.cell_area_km2)
        inv = {v: k for k, v in COUNTRY_CODES.items()}
        return float((self.country == inv[code]).sum() * self.cell_area_km2)

    def country_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Country code (``CN``, ``RU``, ``KP`` or ``""`` on water / outside) of points."""
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        out = np.full(x.shape, "", dtype=object)
        for code, geom in self.countries.items():
            out[shapely.contains_xy(geom, x, y)] = code
        return out

    def side_of_border(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``CN`` or ``RU`` for every point: its country, or the nearer of the two.

        Points in North Korea, on water or outside the area count on the side of the nearer of
        China and Russia, so a path's crossings are changes of this side from day to day.
        """
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        out = np.full(x.shape, "", dtype=object)
        in_cn = shapely.contains_xy(self.countries["CN"], x, y)
        in_ru = shapely.contains_xy(self.countries["RU"], x, y)
        out[in_cn] = "CN"
        out[in_ru & ~in_cn] = "RU"
        rest = ~(in_cn | in_ru)
        if rest.any():
            pts = shapely.points(x[rest], y[rest])
            d_cn = shapely.distance(self.countries["CN"], pts)
            d_ru = shapely.distance(self.countries["RU"], pts)
            out[rest] = np.where(d_cn <= d_ru, "CN", "RU")
        return out

    def distance_to_border(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Distance of points to the China-Russia border, metres."""
        return shapely.distance(self.border, shapely.points(np.asarray(x, float),
                                                            np.asarray(y, float)))

    def sample_cells(self, weights: np.ndarray, n: int, rng: np.random.Generator
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` points with probability proportional to ``weights`` per cell (uniform
        inside a cell)."""
        w = np.asarray(weights, float).ravel()
        idx = rng.choice(w.size, size=n, p=w / w.sum())
        iy, ix = np.unravel_index(idx, self.habitat.shape)
        half = self.cell_m / 2
        return (self.x[ix] + rng.uniform(-half, half, n), self.y[iy] + rng.uniform(-half, half, n))

    def habitat_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Habitat quality of the cell holding each point (0 outside the raster)."""
        ix = np.floor((np.asarray(x) - (self.x[0] - self.cell_m / 2)) / self.cell_m).astype(int)
        iy = np.floor((np.asarray(y) - (self.y[0] - self.cell_m / 2)) / self.cell_m).astype(int)
        ok = (ix >= 0) & (ix < self.x.size) & (iy >= 0) & (iy < self.y.size)
        out = np.zeros(ix.shape)
        out[ok] = self.habitat[iy[ok], ix[ok]]
        return out

    # -- export ---------------------------------------------------------------------------
    def to_geojson(self) -> dict[str, Any]:
        """The border file of ``docs/formats.md`` §2 (WGS84 FeatureCollection)."""
        tr = pyproj.Transformer.from_crs(self.crs, _WGS84, always_xy=True)

        def wgs(geom):
            return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0],
                                                                                    xy[:, 1])))

        def feat(geom, **props):
            g = mapping(shapely.set_precision(wgs(geom), 1e-6))
            return {"type": "Feature", "properties": props, "geometry": g}

        feats = [feat(self.border, kind="border", name="China-Russia border")]
        names = {"CN": "China", "RU": "Russia", "KP": "North Korea"}
        for code, geom in self.countries.items():
            if not geom.is_empty:
                feats.append(feat(geom, kind="country", countryCode=code, name=names[code]))
        if not self.lakes.is_empty:
            feats.append(feat(self.lakes, kind="lake", name="lake"))
        if not self.sea.is_empty:
            feats.append(feat(self.sea, kind="sea", name="Sea of Japan"))
        for name, geom in self.parks.items():
            if not geom.is_empty:
                feats.append(feat(geom, kind="park", name=name))
        return {"type": "FeatureCollection", "name": "amurlink simulated landscape",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
                "features": feats}


# ------------------------------------------------------------------------------------------
# Geometry helpers
# ------------------------------------------------------------------------------------------
def _smooth_noise(n: int, rng: np.random.Generator, terms: int = 4, amp: float = 1.0
                  ) -> np.ndarray:
    """A smooth random curve on [0, 1] sampled at ``n`` points (sum of sinusoids)."""
    t = np.linspace(0, 1, n)
    out = np.zeros(n)
    for k in range(1, terms + 1):
        out += rng.normal(0, amp / k) * np.sin(2 * np.pi * (k * t + rng.uniform()))
    return out


def _half_plane(line_xy: np.ndarray, far: float, side: str) -> Polygon:
    """Polygon on one side of a polyline (``west`` of a S-N line or ``south`` of a W-E line)."""
    if side == "west":
        pts = [(line_xy[0, 0], line_xy[0, 1] - far), *map(tuple, line_xy),
               (line_xy[-1, 0], line_xy[-1, 1] + far), (line_xy[0, 0] - far,
                                                          line_xy[-1, 1] + far),
               (line_xy[0, 0] - far, line_xy[0, 1] - far)]
    else:  # south of a west-to-east line
        pts = [(line_xy[0, 0] - far, line_xy[0, 1]), *map(tuple, line_xy),
               (line_xy[-1, 0] + far, line_xy[-1, 1]), (line_xy[-1, 0] + far,
                                                          line_xy[0, 1] - far),
               (line_xy[0, 0] - far, line_xy[0, 1] - far)]
    return shapely.make_valid(Polygon(pts))


def _bbox_metric(bbox: tuple[float, float, float, float], crs: str) -> tuple[float, ...]:
    tr = pyproj.Transformer.from_crs(_WGS84, crs, always_xy=True)
    lon0, lat0, lon1, lat1 = bbox
    lons = np.array([lon0, lon1, lon0, lon1, (lon0 + lon1) / 2, (lon0 + lon1) / 2])
    lats = np.array([lat0, lat0, lat1, lat1, lat0, lat1])
    x, y = tr.transform(lons, lats)
    return (float(np.min(x)), float(np.min(y)), float(np.max(x)), float(np.max(y)))


def _synthetic_geometry(extent, rng):
    xmin, ymin, xmax, ymax = extent
    w, h = xmax - xmin, ymax - ymin
    far = 10 * max(w, h)
    n = 400
    # Meandering river border: a smooth S-N curve at about 40 % of the width plus meanders.
    ys = np.linspace(ymin - 0.05 * h, ymax + 0.05 * h, n)
    wiggle = _smooth_noise(n, rng, terms=5, amp=0.05 * w)
    meander = 0.012 * w * np.sin(np.linspace(0, 2 * np.pi * rng.uniform(14, 20), n))
    xs = xmin + 0.42 * w + wiggle + meander
    border_full = np.column_stack([xs, ys])
    west = _half_plane(border_full, far, "west")
    # Tumen (China / North Korea, then North Korea / Russia) near the south edge.
    tx = np.linspace(xmin - 0.05 * w, xmax + 0.05 * w, n)
    ty = ymin + 0.12 * h + _smooth_noise(n, rng, terms=3, amp=0.02 * h) + 0.06 * h * (
        (tx - xmin) / w)
    south_tumen = _half_plane(np.column_stack([tx, ty]), far, "south")
    # Coast: rises towards the east, so Russia has a coast and a short border with Korea.
    x_tri = float(np.interp(ymin + 0.15 * h, ys, xs))
    cy = ymin + 0.02 * h + 0.55 * h * np.clip((tx - x_tri) / w, 0, None) ** 1.1 + \
        _smooth_noise(n, rng, terms=4, amp=0.015 * h) + 0.04 * h
    south_coast = _half_plane(np.column_stack([tx, cy]), far, "south")
    area = box(*extent)
    sea = area.intersection(south_coast)
    land = area.difference(south_coast)
    # A lake in Russia's north-east.
    cx, cy0 = xmin + rng.uniform(0.7, 0.85) * w, ymin + rng.uniform(0.7, 0.85) * h
    theta = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    rx, ry = rng.uniform(0.03, 0.05) * w, rng.uniform(0.02, 0.04) * h
    lake = Polygon(np.column_stack([cx + rx * np.cos(theta), cy0 + ry * np.sin(theta)]))
    lake = lake.intersection(land)
    land = land.difference(lake)
    cn = land.intersection(west).difference(south_tumen)
    ru = land.difference(west).difference(south_tumen)
    kp = land.intersection(south_tumen)
    border = LineString(border_full).intersection(area).difference(south_tumen.buffer(1.0))
    border = shapely.line_merge(border) if border.geom_type == "MultiLineString" else border
    return {"CN": cn, "RU": ru, "KP": kp}, border, lake, sea


def read_border_geometry(path: str | os.PathLike[str], /, *, crs: str = DEFAULT_WORKING_CRS,
                         border: str | os.PathLike[str] | None = None,
                         lakes: str | os.PathLike[str] | None = None
                         ) -> tuple[dict[str, Any], Any, Any]:
    """Read country polygons and the border line from GeoJSON, projected to ``crs``.

    Parameters
    ----------
    path : path_like
        A ``border.geojson`` as in ``docs/formats.md`` §2 (``kind`` properties), or a
        countries file with ``adm0_a3`` / ``countryCode`` / ``iso_a2`` properties (Natural
        Earth style).
    crs : str
        Working CRS (metres).
    border : path_like, optional
        A separate file with the border line (when ``path`` holds only countries); without it
        the border is the shared edge of the CN and RU polygons.
    lakes : path_like, optional
        A file with lake polygons.

    Returns
    -------
    countries : dict
        ``CN``, ``RU`` (and ``KP`` when present) polygons in ``crs``.
    border : LineString or MultiLineString
    lakes : geometry (possibly empty)
    """
    tr = pyproj.Transformer.from_crs(_WGS84, crs, always_xy=True)

    def proj(geom):
        return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0],
                                                                                xy[:, 1])))

    def load(p):
        try:
            return json.loads(Path(p).read_text(encoding="utf-8"))["features"]
        except (OSError, ValueError, KeyError) as exc:
            raise DataError(f"cannot read GeoJSON features from {p}: {exc}") from None

    alias = {"CHN": "CN", "RUS": "RU", "PRK": "KP", "CN": "CN", "RU": "RU", "KP": "KP"}
    countries: dict[str, Any] = {}
    line = None
    lake_geoms = []
    for ft in load(path):
        props = ft.get("properties") or {}
        geom = proj(shape(ft["geometry"]))
        kind = props.get("kind")
        code = next((alias[str(props[k])] for k in ("countryCode", "adm0_a3", "iso_a2")
                     if str(props.get(k)) in alias), None)
        if kind == "border":
            line = geom
        elif kind == "lake":
            lake_geoms.append(geom)
        elif code is not None and geom.geom_type in ("Polygon", "MultiPolygon"):
            countries[code] = geom
        elif geom.geom_type in ("LineString", "MultiLineString") and line is None:
            line = geom
    if border is not None:
        line = shapely.union_all([proj(shape(ft["geometry"])) for ft in load(border)])
    if lakes is not None:
        lake_geoms += [proj(shape(ft["geometry"])) for ft in load(lakes)]
    missing = [c for c in ("CN", "RU") if c not in countries]
    if missing:
        raise DataError(f"{path}: no country polygon for {missing}; give features with "
                        "kind='country' and countryCode 'CN' / 'RU' (docs/formats.md §2)")
    if line is None:
        line = shapely.line_merge(shapely.intersection(countries["CN"].boundary,
                                                       countries["RU"].boundary))
    lake = shapely.union_all(lake_geoms) if lake_geoms else Polygon()
    return countries, line, lake


def _habitat(extent, cell_m, country, countries, border, rng):
    xmin, ymin, xmax, ymax = extent
    nx = int(np.ceil((xmax - xmin) / cell_m))
    ny = int(np.ceil((ymax - ymin) / cell_m))
    x = xmin + cell_m * (np.arange(nx) + 0.5)
    y = ymin + cell_m * (np.arange(ny) + 0.5)
    # Forest cover: smoothed noise, denser in the hills near the border and in the east.
    noise = ndimage.gaussian_filter(rng.normal(size=(ny, nx)), sigma=6000 / cell_m, mode="wrap")
    noise = (noise - noise.mean()) / (noise.std() + 1e-12)
    forest = 1 / (1 + np.exp(-(1.2 + 1.1 * noise)))
    land = np.isin(country, (CN, RU))
    # Villages: more in China's lowlands and along the coast.
    n_vil = max(3, int(land.sum() * cell_m**2 / 1e6 / 150))
    w = land * (1.5 - forest)
    w = w / w.sum()
    idx = rng.choice(w.size, size=n_vil, p=w.ravel())
    iy, ix = np.unravel_index(idx, w.shape)
    villages = np.column_stack([x[ix], y[iy]])
    # Roads: join villages in a chain sorted by longitude plus a north-south road in China.
    order = np.argsort(villages[:, 0] + 0.3 * villages[:, 1])
    roads = [LineString(villages[order[i:i + 4]]) for i in range(0, len(order) - 1, 3)
             if len(order[i:i + 4]) >= 2]
    xx, yy = np.meshgrid(x, y)
    pts = shapely.points(xx.ravel(), yy.ravel())
    d_road = shapely.distance(shapely.union_all(roads), pts).reshape(ny, nx) if roads else \
        np.full((ny, nx), np.inf)
    d_vil = np.min(np.hypot(xx[..., None] - villages[:, 0], yy[..., None] - villages[:, 1]),
                   axis=-1)
    habitat = forest * (1 - 0.6 * np.exp(-(d_road / 1500.0) ** 2)) * (
        1 - 0.9 * np.exp(-(d_vil / 3000.0) ** 2))
    habitat = np.where(land, np.clip(habitat, 0, 1), 0.0)
    return x, y, habitat, villages, roads


def _rasterise(extent, cell_m, countries, lakes):
    xmin, ymin, xmax, ymax = extent
    nx = int(np.ceil((xmax - xmin) / cell_m))
    ny = int(np.ceil((ymax - ymin) / cell_m))
    xx, yy = np.meshgrid(xmin + cell_m * (np.arange(nx) + 0.5),
                         ymin + cell_m * (np.arange(ny) + 0.5))
    out = np.full((ny, nx), SEA, dtype=np.int8)
    codes = {"CN": CN, "RU": RU, "KP": KP}
    for code, geom in countries.items():
        out[shapely.contains_xy(geom, xx, yy)] = codes[code]
    if not lakes.is_empty:
        out[shapely.contains_xy(lakes, xx, yy)] = LAKE
    return out


def make_landscape(
    *,
    bbox: tuple[float, float, float, float] = (130.3, 42.4, 131.6, 43.8),
    cell_m: float = 1000.0,
    crs: str = DEFAULT_WORKING_CRS,
    border_file: str | os.PathLike[str] | None = None,
    border_line_file: str | os.PathLike[str] | None = None,
    lakes_file: str | os.PathLike[str] | None = None,
    park_km: tuple[float, float] = (35.0, 40.0),
    rng: int | np.random.Generator | None = None,
) -> Landscape:
    """Build the study area: countries, border, lake, coast, habitat raster and parks.

    Parameters
    ----------
    bbox : (float, float, float, float)
        WGS84 ``lon_min, lat_min, lon_max, lat_max`` of the study area.
    cell_m : float
        Raster cell side in metres.
    crs : str
        Projected working CRS (metres).
    border_file : path_like, optional
        Real geometry instead of the synthetic one: a ``border.geojson`` (docs/formats.md §2)
        or a countries GeoJSON (Natural Earth style), clipped to ``bbox``.
    border_line_file, lakes_file : path_like, optional
        Separate border-line and lake files for a countries-only ``border_file``.
    park_km : (float, float)
        The parks are the Chinese / Russian land within this distance of the border, km.
    rng : int or Generator, optional
        Seed of the synthetic border, lake, forest, villages and roads.

    Returns
    -------
    Landscape
    """
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    extent = _bbox_metric(bbox, crs)
    area = box(*extent)
    if border_file is None:
        countries, border, lakes, sea = _synthetic_geometry(extent, gen)
        source = "synthetic"
    else:
        countries, border, lakes = read_border_geometry(
            border_file, crs=crs, border=border_line_file, lakes=lakes_file)
        countries = {k: v.intersection(area).difference(lakes) for k, v in countries.items()}
        border = border.intersection(area)
        lakes = lakes.intersection(area)
        sea = area.difference(shapely.union_all([*countries.values(), lakes]))
        source = str(border_file)
    if isinstance(border, MultiLineString):
        border = shapely.line_merge(border)
    if border.is_empty:
        raise DataError(f"the China-Russia border does not pass through bbox {bbox}; widen it")
    country = _rasterise(extent, cell_m, countries, lakes)
    x, y, habitat, villages, roads = _habitat(extent, cell_m, country, countries, border, gen)
    parks = {
        "NTLNP": countries["CN"].intersection(border.buffer(park_km[0] * 1000)),
        "LLNP": countries["RU"].intersection(border.buffer(park_km[1] * 1000)),
    }
    countries.setdefault("KP", Polygon())
    return Landscape(crs=crs, extent=extent, countries=countries, border=border, lakes=lakes,
                     sea=sea, parks=parks, cell_m=cell_m, x=x, y=y, habitat=habitat,
                     country=country, villages=villages, roads=roads, source=source)
