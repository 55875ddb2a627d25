"""Coordinate reference systems: require a projected metric CRS, and move WGS84 points into it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyproj
from pyproj.exceptions import CRSError as _PyprojCRSError

from amurlink.exceptions import CRSError

__all__ = [
    "WGS84", "DEFAULT_WORKING_CRS", "as_crs", "require_projected", "to_metric", "from_metric",
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
