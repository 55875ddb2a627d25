"""Coordinate reference systems: require a projected metric CRS, and move WGS84 points into it."""

from __future__ import annotations

import functools
import re
from typing import Any

import numpy as np
import pyproj
from pyproj.exceptions import CRSError as _PyprojCRSError

from amurlink.exceptions import CRSError

__all__ = [
    "WGS84", "DEFAULT_WORKING_CRS", "GCJ02", "as_crs", "require_projected", "to_metric",
    "from_metric", "source_crs", "to_wgs84", "gcj02_to_wgs84", "wgs84_to_gcj02",
]

#: The CRS of coordinates at the edges (Camtrap DP ``latitude`` / ``longitude``).
WGS84 = "EPSG:4326"
#: Default working CRS of the Amur study: WGS 84 / UTM zone 52N (metres).
DEFAULT_WORKING_CRS = "EPSG:32652"

_FIX = (
    "use a projected CRS in metres that covers the study area, e.g. EPSG:32652 "
    "(WGS 84 / UTM zone 52N) for the China-Russia border region"
)


def as_crs(crs: Any, /) -> pyproj.CRS:
    """Parse anything pyproj understands (``"EPSG:32652"``, an EPSG integer, WKT, a CRS).

    Parameters
    ----------
    crs : str, int or pyproj.CRS
        The coordinate reference system.

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    CRSError
        If ``crs`` is missing or pyproj cannot parse it.
    """
    if crs is None:
        raise CRSError(f"no CRS given; {_FIX}")
    try:
        return pyproj.CRS.from_user_input(crs)
    except _PyprojCRSError as exc:
        raise CRSError(f"cannot parse CRS {crs!r} ({exc}); {_FIX}") from None


def require_projected(crs: Any, /) -> pyproj.CRS:
    """Return ``crs`` as a :class:`pyproj.CRS` if it is projected with both axes in metres.

    Parameters
    ----------
    crs : str, int or pyproj.CRS
        The CRS every distance or area computation will run in.

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    CRSError
        If the CRS cannot be parsed, is geographic (degrees), or its axes are not in metres.

    Examples
    --------
    >>> require_projected("EPSG:32652").name
    'WGS 84 / UTM zone 52N'
    """
    parsed = as_crs(crs)
    if not parsed.is_projected:
        kind = "geographic (degrees)" if parsed.is_geographic else "not projected"
        raise CRSError(
            f"CRS {parsed.to_string()!r} ({parsed.name}) is {kind}, but distances and grid "
            f"cells need metres; {_FIX}"
        )
    units = {(a.unit_name, a.unit_conversion_factor) for a in parsed.axis_info}
    if any(factor != 1.0 for _, factor in units):
        got = ", ".join(sorted({name for name, _ in units}))
        raise CRSError(
            f"CRS {parsed.to_string()!r} ({parsed.name}) has axes in {got}, not metres; {_FIX}"
        )
    return parsed


def to_metric(
    lon: Any, lat: Any, /, *, crs: Any = DEFAULT_WORKING_CRS
) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 longitude / latitude (degrees) into a projected metric CRS.

    Parameters
    ----------
    lon, lat : array_like
        WGS84 longitude and latitude in decimal degrees. NaN stays NaN.
    crs : str, int or pyproj.CRS, default "EPSG:32652"
        Target CRS; must be projected with axes in metres.

    Returns
    -------
    x, y : ndarray of float
        Easting and northing in metres.

    Raises
    ------
    CRSError
        If ``crs`` is not a projected metric CRS.
    """
    target = require_projected(crs)
    transformer = pyproj.Transformer.from_crs(WGS84, target, always_xy=True)
    x, y = transformer.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def from_metric(
    x: Any, y: Any, /, *, crs: Any = DEFAULT_WORKING_CRS
) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`to_metric`: metres in ``crs`` back to WGS84 longitude / latitude.

    Parameters
    ----------
    x, y : array_like
        Easting and northing in metres.
    crs : str, int or pyproj.CRS, default "EPSG:32652"
        CRS of ``x`` and ``y``; must be projected with axes in metres.

    Returns
    -------
    lon, lat : ndarray of float
        WGS84 longitude and latitude in decimal degrees.

    Raises
    ------
    CRSError
        If ``crs`` is not a projected metric CRS.
    """
    source = require_projected(crs)
    transformer = pyproj.Transformer.from_crs(source, WGS84, always_xy=True)
    lon, lat = transformer.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


# ----------------------------------------------------------------------------------------------
# Source coordinate systems of partner data -> WGS84
# ----------------------------------------------------------------------------------------------
#: Name amurlink uses for China's GCJ-02 ("Mars") obfuscated lon/lat (no EPSG code exists).
GCJ02 = "GCJ-02"
_GCJ_NAMES = {"GCJ-02", "GCJ02", "GCJ_02", "MARS", "GCJ-02 (MARS)"}
_BD_NAMES = {"BD-09", "BD09", "BD_09", "BAIDU", "BD-09LL", "BD-09MC"}
_LOCAL_RE = re.compile(r"^\s*(MSK|МСК)[-\s_]*\d+", re.IGNORECASE)
#: Geodetic datums that equal WGS 84 within about a metre (PROJ knows no shift, "ballpark").
_WGS84_EQUIVALENT_DATUMS = ("World Geodetic System 1984", "China 2000", "China Geodetic Coordinate "
                            "System 2000")


def source_crs(crs: Any, /) -> pyproj.CRS | str:
    """Check the CRS a partner's coordinates are written in; refuse systems that cannot be used.

    Parameters
    ----------
    crs : str, int or pyproj.CRS
        An EPSG code (``"EPSG:28423"``, ``4490``), WKT, or ``"GCJ-02"`` for Chinese web-map
        coordinates.

    Returns
    -------
    pyproj.CRS or str
        The parsed CRS, or :data:`GCJ02` for GCJ-02 coordinates (converted by
        :func:`gcj02_to_wgs84`).

    Raises
    ------
    CRSError
        For BD-09 (Baidu), Russian local systems (MSK-25 and other МСК zones), engineering or
        unparseable CRSs; the message says what to supply instead.
    """
    if isinstance(crs, str):
        key = crs.strip().upper()
        if key in _GCJ_NAMES:
            return GCJ02
        if key in _BD_NAMES or key.startswith("BD-09") or key.startswith("BD09"):
            raise CRSError(
                f"coordinates in {crs!r} (Baidu BD-09) are refused: BD-09 is a proprietary "
                "offset of GCJ-02 with no published exact inverse, so positions could be wrong "
                "by tens of metres; supply the original GPS readings (WGS 84, EPSG:4326), "
                "CGCS2000 (EPSG:4490 or a Gauss-Kruger zone such as EPSG:4552), or GCJ-02"
            )
        if _LOCAL_RE.match(crs):
            raise CRSError(
                f"coordinates in the local system {crs!r} are refused: Russian МСК zones have "
                "secret parameters and no EPSG definition; supply the coordinates in Pulkovo "
                "1942 Gauss-Kruger (EPSG:28422 / 28423), Pulkovo 1942 geographic (EPSG:4284), "
                "WGS 84 (EPSG:4326) or UTM (EPSG:32652 / 32653)"
            )
    parsed = as_crs(crs)
    if parsed.type_name.startswith("Engineering") or parsed.type_name.startswith("Vertical") or (
            not parsed.is_geographic and not parsed.is_projected):
        raise CRSError(
            f"CRS {parsed.name!r} ({parsed.type_name}) is not tied to the Earth; supply the "
            "coordinates in an EPSG geographic or projected system such as EPSG:4326"
        )
    return parsed


def _aoi(crs: pyproj.CRS) -> Any:
    from pyproj.aoi import AreaOfInterest

    area = crs.area_of_use
    if area is None:
        return None
    return AreaOfInterest(area.west, area.south, area.east, area.north)


def _wgs84_transformer(crs: pyproj.CRS) -> tuple[pyproj.Transformer, float | None, str]:
    """Best transformation to WGS84 over the CRS's area of use, its accuracy (m) and name."""
    return _cached_transformer(crs.to_wkt())


@functools.lru_cache(maxsize=32)
def _cached_transformer(wkt: str) -> tuple[pyproj.Transformer, float | None, str]:
    from pyproj.transformer import TransformerGroup

    crs = pyproj.CRS.from_wkt(wkt)

    group = TransformerGroup(crs, WGS84, always_xy=True, area_of_interest=_aoi(crs))
    if not group.transformers:  # pragma: no cover - PROJ always has at least a ballpark
        raise CRSError(f"PROJ knows no way from {crs.name!r} to WGS 84; supply WGS 84 coordinates")
    best = group.transformers[0]
    acc = best.accuracy if best.accuracy is not None and best.accuracy >= 0 else None
    return best, acc, best.description


def to_wgs84(
    x: Any, y: Any, /, *, crs: Any,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Transform coordinates as written in a partner's CRS to WGS84 longitude / latitude.

    Parameters
    ----------
    x, y : array_like
        Easting / northing in metres for projected CRSs, longitude / latitude in degrees for
        geographic ones (always in that order, whatever the CRS's official axis order).
    crs : str, int or pyproj.CRS
        As accepted by :func:`source_crs` (any EPSG system, or ``"GCJ-02"``).

    Returns
    -------
    lon, lat : ndarray of float
        WGS84 degrees; NaN where an input is NaN or cannot be transformed.
    info : dict
        ``crs`` (name), ``operation`` (the transformation used), ``accuracy_m`` (PROJ's
        stated accuracy, ``None`` when unknown), ``datum_shift_known`` (False when PROJ only
        had a "ballpark" transformation for a datum that differs from WGS 84) and ``swapped``
        (True when the columns were read as northing/easting, see Notes).

    Raises
    ------
    CRSError
        If the CRS is refused (see :func:`source_crs`).

    Notes
    -----
    Russian and Chinese survey practice names the northing ``X`` and the easting ``Y``. When
    reading ``x`` as easting gives positions far outside the CRS's area of use and reading it
    as northing does not, the two are swapped and ``info["swapped"]`` says so.

    Examples
    --------
    >>> lon, lat, info = to_wgs84([131.0], [43.0], crs="EPSG:4490")
    >>> round(float(lon[0]), 6), round(float(lat[0]), 6)
    (131.0, 43.0)
    """
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    parsed = source_crs(crs)
    if isinstance(parsed, str):
        lon, lat = gcj02_to_wgs84(xa, ya)
        return lon, lat, {"crs": GCJ02, "operation": "GCJ-02 inverse (iterative, < 0.5 m)",
                          "accuracy_m": 0.5, "datum_shift_known": True, "swapped": False}
    assert isinstance(parsed, pyproj.CRS)
    transformer, accuracy, operation = _wgs84_transformer(parsed)
    lon, lat = (np.asarray(v, dtype=float) for v in transformer.transform(xa, ya, errcheck=False))
    swapped = False
    area = parsed.area_of_use
    if area is not None and xa.size:
        def far(lo: np.ndarray, la: np.ndarray) -> float:
            bad = ~np.isfinite(lo) | ~np.isfinite(la) | (lo < area.west - 10) | (
                lo > area.east + 10) | (la < area.south - 10) | (la > area.north + 10)
            given = bad[np.isfinite(xa) & np.isfinite(ya)]
            return float(np.mean(given)) if given.size else 0.0  # none given: nothing far
        if far(lon, lat) > 0.5:
            lo2, la2 = (np.asarray(v, dtype=float) for v in transformer.transform(
                ya, xa, errcheck=False))
            if far(lo2, la2) < 0.5:
                lon, lat, swapped = lo2, la2, True
    bad = ~np.isfinite(lon) | ~np.isfinite(lat) | (np.abs(lat) > 90) | (np.abs(lon) > 180)
    lon = np.where(bad, np.nan, lon)
    lat = np.where(bad, np.nan, lat)
    datum = parsed.geodetic_crs.datum.name if parsed.geodetic_crs is not None else ""
    ballpark = "ballpark" in operation.lower()
    shift_known = not ballpark or any(d in datum for d in _WGS84_EQUIVALENT_DATUMS)
    return lon, lat, {"crs": parsed.name, "operation": operation, "accuracy_m": accuracy,
                      "datum_shift_known": shift_known, "swapped": swapped}


# GCJ-02: the published obfuscation algorithm (Krasovsky ellipsoid constants), vectorised.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon > 72.004) & (lon < 137.8347) & (lat > 0.8293) & (lat < 55.8271)


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * np.pi
    magic = 1 - _GCJ_EE * np.sin(rad) ** 2
    sq = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1 - _GCJ_EE)) / (magic * sq) * np.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sq * np.cos(rad) * np.pi)
    inside = _in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon: Any, lat: Any, /) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 to GCJ-02 (the offset Chinese web maps apply; identity outside China)."""
    lo, la = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _gcj_delta(lo, la)
    return lo + dlon, la + dlat


def gcj02_to_wgs84(lon: Any, lat: Any, /) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 to WGS84 by fixed-point iteration (residual well under a metre).

    Examples
    --------
    >>> glon, glat = wgs84_to_gcj02([130.9], [43.1])
    >>> lon, lat = gcj02_to_wgs84(glon, glat)
    >>> round(float(lon[0]), 7), round(float(lat[0]), 7)
    (130.9, 43.1)
    """
    glon, glat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(30):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = flon - glon, flat - glat
        wlon, wlat = wlon - elon, wlat - elat
        if np.nanmax(np.abs(np.concatenate([elon.ravel(), elat.ravel(), [0.0]]))) < 1e-10:
            break
    return wlon, wlat
