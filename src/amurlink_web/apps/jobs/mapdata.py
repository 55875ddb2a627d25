"""The interactive map's data (``/map/data.json``, ``/datasets/<id>/map/data.json``).

Stations, detections and transboundary tracks come from the RELEASED package the map pages
already draw (``jobs.maps.map_features`` on ``joint_records`` / ``dataset_records``, i.e.
:func:`amurlink.release.release`): a withheld station is not sent, a coarsened one is sent where
protection put it, and every coordinate is rounded to the reader's level (``1km``: 2 decimals,
``10km``: 1, ``exact``: 5). Filtering by species or year only removes detections.

The study's map layers (``[inputs.layers]`` of ``amurlink.toml``: park boundaries, rivers,
roads, settlements; GeoJSON or GeoPackage) and its border are public geography: they are read
once per file state, simplified and sent in WGS84 longitude / latitude.
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
                species: str = "", year: str = "") -> dict[str, Any]:
    """Everything the interactive map draws, for protected ``data`` (see module docstring)."""
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
        "layers": study_layers(),
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
