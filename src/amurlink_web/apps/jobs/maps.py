"""A server-side SVG map (border, stations, detections, transboundary tracks), no tiles.

Everything drawn comes from a RELEASED package (:func:`amurlink.release.release`, through
``datasets.selectors.dataset_release`` or ``jobs.selectors.joint_release``): a station without
coordinates is not drawn, a coarsened one is drawn where protection put it, a withheld one at
the study area's centre. Each point carries its coordinates as ``data-lat`` / ``data-lon``
exactly as protection left them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import pandas as pd
from django.utils.html import escape

from amurlink import Dataset as PackageData
from amurlink.release import Released

WIDTH, HEIGHT, PAD = 800.0, 600.0, 40.0
COUNTRY_COLOURS = {"CN": "#c0392b", "RU": "#2c5f9e"}


def _finite(*values: Any) -> bool:
    try:
        return all(math.isfinite(float(v)) for v in values)
    except (TypeError, ValueError):
        return False


def _countries(data: PackageData) -> dict[str, str]:
    if "deploymentDetails" not in data:
        return {}
    d = data["deploymentDetails"]
    return dict(zip(d["deploymentID"].astype(str), d["countryCode"].astype(str), strict=True))


def border_lonlat(border: Any) -> list[list[tuple[float, float]]]:
    """The border line in WGS84 longitude / latitude (one list per part)."""
    if border is None:
        return []
    import pyproj
    import shapely

    tr = pyproj.Transformer.from_crs(border.crs, "EPSG:4326", always_xy=True)
    geom = border.line
    parts = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
    out = []
    for part in parts:
        xy = shapely.get_coordinates(part)
        lon, lat = tr.transform(xy[:, 0], xy[:, 1])
        out.append([(float(a), float(b)) for a, b in zip(lon, lat, strict=True)])
    return out


def joint_ids(links: pd.DataFrame | None) -> dict[str, str]:
    """individualID -> joint ID through confirmed links (union of linked catalogue IDs)."""
    parent: dict[str, str] = {}

    def find(a: str) -> str:
        while parent.get(a, a) != a:
            a = parent[a]
        return a

    if links is not None and len(links):
        for a, b in zip(links["subjectA"].astype(str), links["subjectB"].astype(str),
                        strict=True):
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    return {k: find(k) for k in list(parent)}


def map_features(data: Released | PackageData, *,
                 confirmed_links: pd.DataFrame | None = None) -> dict[str, Any]:
    """Stations, detections per station and transboundary tracks of a released package.

    ``data`` is a :class:`~amurlink.release.Released` or its ``dataset`` (what the selectors'
    ``dataset_records`` / ``joint_records`` return); never the stored package itself.
    """
    if isinstance(data, Released):
        data = data.dataset
    countries = _countries(data)
    deps = data.deployments
    stations = []
    where: dict[str, tuple[float, float]] = {}
    for row in deps.itertuples(index=False):
        lat, lon = getattr(row, "latitude", None), getattr(row, "longitude", None)
        if not _finite(lat, lon):
            continue  # withheld
        dep = str(row.deploymentID)
        where[dep] = (float(lat), float(lon))
        stations.append({"id": dep, "lat": float(lat), "lon": float(lon),
                         "country": countries.get(dep, "")})
    obs = data.observations
    animals = obs.loc[obs["observationType"].astype(str).eq("animal")] \
        if "observationType" in obs else obs
    counts = animals.groupby(animals["deploymentID"].astype(str)).size().to_dict()
    detections = [dict(s, count=int(counts[s["id"]])) for s in stations if s["id"] in counts]
    tracks = []
    if "individualID" in animals:
        ind = animals.dropna(subset=["individualID"])
        ind = ind.loc[ind["deploymentID"].astype(str).isin(where)]
        joint = joint_ids(confirmed_links)
        time_col = "eventStart" if "eventStart" in ind else None
        groups: dict[str, list[tuple[Any, str]]] = defaultdict(list)
        for _, r in ind.iterrows():
            key = joint.get(str(r["individualID"]), str(r["individualID"]))
            groups[key].append((r[time_col] if time_col else 0, str(r["deploymentID"])))
        for key, visits in sorted(groups.items()):
            visits.sort(key=lambda v: (pd.Timestamp(v[0]) if time_col else 0))
            seq = []
            for _, dep in visits:
                if not seq or seq[-1] != dep:
                    seq.append(dep)
            if len({countries.get(d, "") for d in seq}) < 2:
                continue  # not transboundary
            tracks.append({"id": key, "points": [where[d] for d in seq]})
    return {"stations": stations, "detections": detections, "tracks": tracks}


def render_svg(features: dict[str, Any], *, border: list[list[tuple[float, float]]] = ()
               ) -> str:
    """The map as one ``<svg>`` element (equirectangular, north up)."""
    lats = [s["lat"] for s in features["stations"]] + [p[1] for part in border for p in part]
    lons = [s["lon"] for s in features["stations"]] + [p[0] for part in border for p in part]
    if not lats:
        lats, lons = [43.0], [131.0]
    lat0, lat1, lon0, lon1 = min(lats), max(lats), min(lons), max(lons)
    k = math.cos(math.radians((lat0 + lat1) / 2))
    span = max((lon1 - lon0) * k, lat1 - lat0, 0.02)
    scale = min(WIDTH, HEIGHT) - 2 * PAD
    cx, cy = (lon0 + lon1) / 2, (lat0 + lat1) / 2

    def xy(lat: float, lon: float) -> str:
        x = WIDTH / 2 + (lon - cx) * k / span * scale
        y = HEIGHT / 2 - (lat - cy) / span * scale
        return f"{x:.1f},{y:.1f}"

    def pt(lat: float, lon: float) -> tuple[str, str]:
        x, y = xy(lat, lon).split(",")
        return x, y

    out = [f'<svg id="amurlink-map" class="map" '
           f'viewBox="0 0 {WIDTH:.0f} {HEIGHT:.0f}" role="img">',
           f'<rect class="sea" x="-5000" y="-5000" width="{WIDTH + 10000:.0f}" '
           f'height="{HEIGHT + 10000:.0f}" fill="#f4f1e8"/>']
    out.append('<g class="layer" id="layer-border" data-layer="border">')
    for part in border:
        pts = " ".join(xy(lat, lon) for lon, lat in part)
        out.append(f'<polyline class="border" points="{pts}" fill="none" stroke="#333" '
                   f'stroke-width="2" stroke-dasharray="8 4"/>')
    out.append('</g><g class="layer" id="layer-tracks" data-layer="tracks">')
    for t in features["tracks"]:
        pts = " ".join(xy(lat, lon) for lat, lon in t["points"])
        out.append(f'<polyline class="track" data-id="{escape(t["id"])}" points="{pts}" '
                   f'fill="none" stroke="#8e44ad" stroke-width="2.5" marker-end="url(#arrow)">'
                   f'<title>{escape(t["id"])}</title></polyline>')
    out.append('</g><g class="layer" id="layer-detections" data-layer="detections">')
    for d in features["detections"]:
        x, y = pt(d["lat"], d["lon"])
        r = 6 + 3 * math.sqrt(d["count"])
        out.append(f'<circle class="detection" cx="{x}" cy="{y}" r="{r:.1f}" '
                   f'data-lat="{d["lat"]!r}" data-lon="{d["lon"]!r}" data-count="{d["count"]}" '
                   f'fill="#e67e22" fill-opacity="0.35"><title>{escape(d["id"])}: '
                   f'{d["count"]}</title></circle>')
    out.append('</g><g class="layer" id="layer-stations" data-layer="stations">')
    for s in features["stations"]:
        x, y = pt(s["lat"], s["lon"])
        colour = COUNTRY_COLOURS.get(s["country"], "#555")
        out.append(f'<circle class="station" cx="{x}" cy="{y}" r="5" data-id="{escape(s["id"])}" '
                   f'data-lat="{s["lat"]!r}" data-lon="{s["lon"]!r}" '
                   f'data-country="{escape(s["country"])}" fill="{colour}">'
                   f'<title>{escape(s["id"])}</title></circle>')
    out.append('</g><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" '
               'markerWidth="6" markerHeight="6" orient="auto-start-reverse">'
               '<path d="M 0 0 L 10 5 L 0 10 z" fill="#8e44ad"/></marker></defs></svg>')
    return "\n".join(out)
