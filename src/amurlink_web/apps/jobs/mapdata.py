"""The interactive map's data (``/map/data.json``, ``/datasets/<id>/map/data.json``).

Stations, detections and transboundary tracks come from the RELEASED package the map pages
already draw (``jobs.maps.map_features`` on ``joint_records`` / ``dataset_records``, i.e.
:func:`amurlink.release.release`): a withheld station is not sent, a coarsened one is sent where
protection put it, and every coordinate is rounded to the reader's level (``1km``: 2 decimals,
``10km``: 1, ``exact``: 5). Filtering by species or year only removes detections.

The study's map layers (``[inputs.layers]`` of ``amurlink.toml``: park boundaries, rivers,
roads, settlements; GeoJSON or GeoPackage) and its border are public geography: they are read
once per file state, simplified and sent in WGS84 longitude / latitude.

The corridor layers of the joint map (issue #17; :func:`corridor_layers`) come from the last
``amurlink run``'s ``corridors`` stage (``OUT/corridors/``): the cumulative current and the
least-cost corridor as PNG overlays (``/map/corridors/<layer>.png``, drawn by
:mod:`amurlink.landscape.display`, never a station) and the pinch points (landscape cells,
rounded like every coordinate here to the reader's level).
"""

from __future__ import annotations

import functools
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd

from amurlink_web.apps.jobs.maps import border_lonlat, map_features

logger = logging.getLogger(__name__)

#: Decimals of a coordinate by protection level (about the level's cell, never finer).
DECIMALS = {"exact": 5, "1km": 2, "10km": 1, "50km": 0, "withheld": 0}
#: Largest layer file read (bytes); a bigger one is left out with a message in the log.
LAYER_MAX_BYTES = 32 * 1024 * 1024
LAYER_KINDS = ("parks", "rivers", "roads", "settlements")


def decimals_for(level: str) -> int:
    """Decimals shown for coordinates at ``level`` (the coarsest of a mixed label)."""
    parts = [p for p in str(level).replace("(", " ").replace(")", " ").replace("/", " ").split()
             if p in DECIMALS]
    return min((DECIMALS[p] for p in parts), default=2)


def _round(value: float, nd: int) -> float:
    return round(float(value), nd)


def _years(obs: pd.DataFrame) -> pd.Series:
    if "eventStart" not in obs:
        return pd.Series([None] * len(obs), index=obs.index, dtype=object)
    return pd.to_datetime(obs["eventStart"], errors="coerce", utc=True).dt.year


def map_payload(data: Any, *, inputs: Any, confirmed_links: pd.DataFrame | None, level: str,
                species: str = "", year: str = "", corridors: bool = False) -> dict[str, Any]:
    """Everything the interactive map draws, for protected ``data`` (see module docstring)."""
    return {**map_core(data, inputs=inputs, confirmed_links=confirmed_links, level=level,
                       species=species, year=year),
            **map_extras(inputs, level=level, corridors=corridors)}


def map_extras(inputs: Any, *, level: str, corridors: bool = False) -> dict[str, Any]:
    """The study's map layers and (joint map) the corridor overlays: public geography and
    the last run's landscape results, read per file state."""
    return {"layers": study_layers(),
            "corridors": corridor_layers(inputs, level=level) if corridors else None}


def map_core(data: Any, *, inputs: Any, confirmed_links: pd.DataFrame | None, level: str,
             species: str = "", year: str = "") -> dict[str, Any]:
    """Stations, detections, tracks, border and filter choices of protected ``data``."""
    nd = decimals_for(level)
    obs = data.observations
    animals = obs.loc[obs["observationType"].astype(str).eq("animal")] \
        if "observationType" in obs else obs
    names = animals["scientificName"].dropna().astype(str) if "scientificName" in animals \
        else pd.Series([], dtype=str)
    years = _years(animals)
    all_species = sorted(set(names))
    all_years = sorted({int(y) for y in years.dropna()})
    keep = pd.Series(True, index=animals.index)
    if species:
        keep &= animals.get("scientificName", pd.Series("", index=animals.index)
                            ).astype(str).eq(species)
    if year:
        try:
            keep &= years.eq(int(year))
        except ValueError:
            keep &= False
    other = obs.loc[~obs.index.isin(animals.index)]
    filtered = data.replace(observations=pd.concat([animals.loc[keep], other]))
    feats = map_features(filtered, confirmed_links=confirmed_links)
    stations = [{"id": s["id"], "lat": _round(s["lat"], nd), "lon": _round(s["lon"], nd),
                 "country": s["country"]} for s in feats["stations"]]
    detections = [{"id": d["id"], "lat": _round(d["lat"], nd), "lon": _round(d["lon"], nd),
                   "country": d["country"], "count": d["count"]} for d in feats["detections"]]
    tracks = [{"id": t["id"], "points": [[_round(a, nd), _round(b, nd)] for a, b in t["points"]]}
              for t in feats["tracks"]]
    border = border_lonlat(inputs.border) if inputs is not None else []
    return {
        "level": level, "decimals": nd, "species": all_species, "years": all_years,
        "selected": {"species": species, "year": year},
        "stations": stations, "detections": detections, "tracks": tracks,
        "border": [[[round(lon, 4), round(lat, 4)] for lon, lat in part] for part in border],
    }


# -- the study's map layers ------------------------------------------------------------------
def study_layers() -> dict[str, list[dict[str, Any]]]:
    """``{kind: [{"type": "line"|"polygon"|"point", "coords": ..., "name": ...}]}``."""
    from amurlink_web.apps.datasets.selectors import study_config

    try:
        inputs = study_config().inputs
    except Exception as exc:  # noqa: BLE001 - a bad config shows the map without layers
        logger.warning("map layers not read: %s", exc)
        return {}
    out: dict[str, list[dict[str, Any]]] = {}
    for kind, name in sorted(inputs.layers.items()):
        path = inputs.path(name)
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            continue
        out[kind] = _read_layer(str(path), stamp)
    return out


@functools.lru_cache(maxsize=16)
def _read_layer(path: str, stamp: int) -> list[dict[str, Any]]:
    try:
        if Path(path).stat().st_size > LAYER_MAX_BYTES:
            logger.warning("map layer %s is larger than %d bytes: left out",
                           Path(path).name, LAYER_MAX_BYTES)
            return []
        geoms, crs = (_gpkg_geometries(path) if path.lower().endswith(".gpkg")
                      else _geojson_geometries(path))
        return _to_features(geoms, crs)
    except Exception as exc:  # noqa: BLE001 - one unreadable layer never breaks the map
        logger.warning("map layer %s not read: %s", Path(path).name, exc)
        return []


def _geojson_geometries(path: str) -> tuple[list[tuple[Any, str]], str]:
    import shapely

    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    crs = "EPSG:4326"
    name = (doc.get("crs") or {}).get("properties", {}).get("name") if isinstance(doc, dict) \
        else None
    if name:
        crs = str(name)
    feats = doc.get("features", []) if doc.get("type") == "FeatureCollection" else [doc]
    out = []
    for f in feats:
        geom = f.get("geometry") if f.get("type") == "Feature" else f
        if not geom:
            continue
        props = f.get("properties") or {}
        out.append((shapely.from_geojson(json.dumps(geom)), str(props.get("name", ""))))
    return out, crs


def _gpkg_geometries(path: str) -> tuple[list[tuple[Any, str]], str]:
    import shapely

    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        table, column, srs = con.execute(
            "select table_name, column_name, srs_id from gpkg_geometry_columns limit 1").fetchone()
        row = con.execute("select organization, organization_coordsys_id from "
                          "gpkg_spatial_ref_sys where srs_id = ?", (srs,)).fetchone()
        crs = f"{row[0]}:{row[1]}" if row and row[0] else "EPSG:4326"
        cols = [r[1] for r in con.execute(f'pragma table_info("{table}")')]
        name_col = "name" if "name" in cols else None
        sel = f'"{column}"' + (f', "{name_col}"' if name_col else "")
        out = []
        for rec in con.execute(f'select {sel} from "{table}"'):
            blob = rec[0]
            if not blob or blob[:2] != b"GP":
                continue
            env = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(blob[3] >> 1) & 0b111]
            out.append((shapely.from_wkb(bytes(blob[8 + env:])),
                        str(rec[1]) if name_col and rec[1] is not None else ""))
        return out, crs
    finally:
        con.close()


def _to_features(geoms: list[tuple[Any, str]], crs: str) -> list[dict[str, Any]]:
    import pyproj
    import shapely

    tr = None
    if pyproj.CRS.from_user_input(crs) != pyproj.CRS.from_epsg(4326):
        tr = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    out = []
    for geom, name in geoms:
        if geom is None or geom.is_empty:
            continue
        if tr is not None:
            geom = shapely.transform(geom, lambda xy, t=tr: __import__("numpy").column_stack(
                t.transform(xy[:, 0], xy[:, 1])))
        geom = shapely.simplify(geom, 0.001, preserve_topology=True)
        parts = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
        for part in parts:
            kind = part.geom_type
            if kind == "Point":
                out.append({"type": "point", "name": name,
                            "coords": [round(part.x, 4), round(part.y, 4)]})
            elif kind == "LineString":
                out.append({"type": "line", "name": name,
                            "coords": [[round(x, 4), round(y, 4)] for x, y in part.coords]})
            elif kind == "Polygon":
                out.append({"type": "polygon", "name": name,
                            "coords": [[round(x, 4), round(y, 4)]
                                       for x, y in part.exterior.coords]})
    return out


# -- the corridor layers (issue #17) ---------------------------------------------------------
#: Overlay name -> (file of the corridors stage, msgid of its title).
CORRIDOR_OVERLAYS = {"current": "current.tif", "corridor": "corridor_cost.tif"}
#: Most pinch points sent (the largest by peak current).
PINCH_POINTS_MAX = 20
#: Pixels across an overlay PNG.
OVERLAY_WIDTH = 600


def corridor_file(inputs: Any, name: str) -> Path | None:
    """A file of the last run's ``corridors`` stage (``OUT/corridors/<name>``), or None."""
    value = (getattr(inputs, "themes", None) or {}).get("corridors") if inputs is not None \
        else None
    if not value:
        return None
    for f in value.get("files", ()):
        p = Path(f)
        if p.name == name and p.is_file():
            return p
    return None


def _parks_key(border: Any) -> tuple[bytes, ...]:
    from amurlink.landscape.display import border_parks

    return tuple(g.wkb for g in border_parks(border))


@functools.lru_cache(maxsize=8)
def _overlay(path: str, stamp: int, layer: str, parks: tuple[bytes, ...]) -> dict[str, Any]:
    """The drawn overlay of one corridor raster (PNG bytes, WGS84 bounds, colour range)."""
    import shapely

    from amurlink.landscape import display as dsp
    from amurlink.landscape.grid import read_grid

    g = read_grid(path)
    crs = g.crs or "EPSG:32652"
    cores = dsp.core_cells(g, [shapely.from_wkb(b) for b in parks], beside=path)
    if layer == "current":
        if not dsp.landscape_carries_current(g, cores=cores):
            return {"empty": True}
        values, extent = dsp.current_display(g, cores=cores, max_cells=OVERLAY_WIDTH)
        ramp, unit = dsp.CURRENT_RAMP, 1.0
    else:
        values, extent = dsp.raster_display(g, max_cells=OVERLAY_WIDTH)
        ramp, unit = dsp.CORRIDOR_RAMP, 1000.0  # resistance x metres -> resistance x km
        values = values / unit
    lo, hi = dsp.display_range(values)
    if not (lo > 0 and hi > lo):
        return {"empty": True}
    png, bounds = dsp.overlay_png(values, extent, crs, lo=lo, hi=hi, ramp=ramp,
                                  width=OVERLAY_WIDTH)
    return {"empty": False, "png": png, "bounds": bounds, "lo": lo, "hi": hi,
            "gradient": dsp.ramp_css(ramp)}


def corridor_overlay(inputs: Any, layer: str) -> dict[str, Any] | None:
    """The overlay ``layer`` (a key of :data:`CORRIDOR_OVERLAYS`) or None when there is none."""
    name = CORRIDOR_OVERLAYS.get(layer)
    path = corridor_file(inputs, name) if name else None
    if path is None:
        return None
    try:
        out = _overlay(str(path), path.stat().st_mtime_ns, layer,
                       _parks_key(getattr(inputs, "border", None)))
    except Exception as exc:  # noqa: BLE001 - an unreadable raster leaves the layer out
        logger.warning("corridor layer %s not drawn: %s", path.name, exc)
        return None
    return None if out.get("empty") else out


def corridor_layers(inputs: Any, *, level: str) -> dict[str, Any] | None:
    """What the joint map draws of the corridors stage, for a reader at ``level``.

    ``overlays``: per raster its image URL (with the file's stamp, so a new run is fetched
    anew), WGS84 bounds ``[[south, west], [north, east]]`` and colour range; ``pinch_points``:
    the largest pinch points (cell of the peak current) at the reader's precision, only where
    the landscape carries current; ``touching``: the parks touch, so the current map holds
    nothing to draw (only the least-cost corridor is shown). None without a corridors run.
    """
    from django.urls import reverse

    if corridor_file(inputs, "summary.json") is None and \
            corridor_file(inputs, "corridor_cost.tif") is None:
        return None
    nd = decimals_for(level)
    overlays = []
    for layer in CORRIDOR_OVERLAYS:
        ov = corridor_overlay(inputs, layer)
        if ov is None:
            continue
        stamp = corridor_file(inputs, CORRIDOR_OVERLAYS[layer]).stat().st_mtime_ns
        w, s, e, n = ov["bounds"]
        overlays.append({"id": layer,
                         "url": f"{reverse('joint-map-corridors', args=[layer])}?v={stamp}",
                         "bounds": [[round(s, 4), round(w, 4)], [round(n, 4), round(e, 4)]],
                         "lo": float(f"{ov['lo']:.2g}"), "hi": float(f"{ov['hi']:.2g}"),
                         "gradient": ov["gradient"]})
    touching = corridor_file(inputs, "current.tif") is not None and \
        not any(o["id"] == "current" for o in overlays)
    pinch = [] if touching else _pinch_points(inputs, nd)
    return {"overlays": overlays, "pinch_points": pinch, "touching": touching,
            "cores": _cores(getattr(inputs, "border", None))}


def _cores(border: Any) -> list[dict[str, Any]]:
    """Outlines of the core areas (the border file's first two parks: public geography)."""
    from amurlink.landscape.display import border_parks

    if border is None:
        return []
    return [f for f in _to_features([(g, "") for g in border_parks(border)], str(border.crs))
            if f["type"] == "polygon"]


def _pinch_points(inputs: Any, nd: int) -> list[dict[str, Any]]:
    from amurlink.core.crs import from_metric
    from amurlink.landscape.grid import read_grid

    pin, cur = corridor_file(inputs, "pinch_points.csv"), corridor_file(inputs, "current.tif")
    if pin is None or cur is None:
        return []
    try:
        table = pd.read_csv(pin).head(PINCH_POINTS_MAX)
        g = read_grid(cur)
        x = g.xllcorner + (table["col"].to_numpy(float) + 0.5) * g.cellsize
        y = g.yllcorner + (g.shape[0] - table["row"].to_numpy(float) - 0.5) * g.cellsize
        lon, lat = from_metric(x, y, crs=g.crs or "EPSG:32652")
    except Exception as exc:  # noqa: BLE001 - a bad table leaves the pinch points out
        logger.warning("pinch points not read: %s", exc)
        return []
    return [{"rank": int(r), "lat": _round(a, nd), "lon": _round(b, nd),
             "peak": float(f"{p:.3g}"), "cells": int(c)}
            for r, a, b, p, c in zip(table["cluster"], lat, lon, table["peak"], table["cells"],
                                     strict=True)]
