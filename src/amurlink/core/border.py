"""The China-Russia border: line, country polygons, side of and distance to it (vectorised)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from amurlink.core.crs import DEFAULT_WORKING_CRS, WGS84, require_projected
from amurlink.exceptions import SchemaError

__all__ = [
    "Border",
    "BORDER_KINDS",
    "load_border",
    "side_of_border",
    "distance_to_border_m",
]

#: Feature kinds a ``border.geojson`` may hold (docs/formats.md, section 2).
BORDER_KINDS: tuple[str, ...] = ("border", "country", "lake", "sea", "park", "habitat")
_LINE_TYPES = ("LineString", "MultiLineString")
_AREA_TYPES = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class Border:
    """The international border line and the countries on either side, in a metric CRS.

    Build it with :func:`load_border` (a ``border.geojson`` in WGS84) or
    :meth:`from_geometries` (shapely geometries already in the working CRS), which validate.

    Parameters
    ----------
    line : shapely.LineString or shapely.MultiLineString
        The China-Russia border line only (not coasts, lake shores or other borders), in
        metres of ``crs``.
    countries : mapping of str to shapely.Polygon or shapely.MultiPolygon
        ISO 3166-1 alpha-2 code to the country's land polygon in ``crs``. May be empty: then
        the side of a point is unknown and analyses rely on declared country codes.
    crs : pyproj.CRS
        Projected CRS with axes in metres that every geometry is in.
    extras : mapping of str to tuple of (str or None, geometry)
        Other features by kind (``lake``, ``sea``, ``park``, ``habitat``): ``(name, geometry)``
        pairs. Not used in any distance: only the ``line`` is the border.

    Examples
    --------
    >>> import shapely
    >>> b = Border.from_geometries(
    ...     shapely.LineString([(0, 0), (0, 10_000)]),
    ...     countries={"CN": shapely.box(-5_000, 0, 0, 10_000),
    ...                "RU": shapely.box(0, 0, 5_000, 10_000)})
    >>> side_of_border([-1_000, 2_000], [5_000, 5_000], border=b).tolist()
    ['CN', 'RU']
    >>> distance_to_border_m([-1_000, 2_000], [5_000, 5_000], border=b).tolist()
    [1000.0, 2000.0]
    """

    line: BaseGeometry
    countries: Mapping[str, BaseGeometry] = field(default_factory=dict)
    crs: pyproj.CRS = field(default_factory=lambda: pyproj.CRS.from_user_input(DEFAULT_WORKING_CRS))
    extras: Mapping[str, tuple[tuple[str | None, BaseGeometry], ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "crs", require_projected(self.crs))
        if not isinstance(self.line, BaseGeometry) or self.line.geom_type not in _LINE_TYPES:
            got = getattr(self.line, "geom_type", type(self.line).__name__)
            raise SchemaError(
                f"Border.line must be a LineString or MultiLineString, got {got}; pass the "
                "China-Russia border line only (not coasts or other borders)"
            )
        if self.line.is_empty:
            raise SchemaError("Border.line is empty; the border file needs the border line")
        countries: dict[str, BaseGeometry] = {}
        for code, geom in dict(self.countries).items():
            c = str(code).strip().upper()
            if len(c) != 2 or not c.isalpha():
                raise SchemaError(
                    f"Border.countries key {code!r} is not an ISO 3166-1 alpha-2 code such as "
                    "'CN' or 'RU'"
                )
            if not isinstance(geom, BaseGeometry) or geom.geom_type not in _AREA_TYPES:
                got = getattr(geom, "geom_type", type(geom).__name__)
                raise SchemaError(
                    f"Border.countries[{c!r}] must be a Polygon or MultiPolygon, got {got}"
                )
            if c in countries:
                geom = shapely.union(countries[c], geom)
            shapely.prepare(geom)
            countries[c] = geom
        shapely.prepare(self.line)
        object.__setattr__(self, "countries", MappingProxyType(countries))
        extras = {str(k): tuple(v) for k, v in dict(self.extras).items()}
        object.__setattr__(self, "extras", MappingProxyType(extras))

    @classmethod
    def from_geometries(
        cls,
        line: BaseGeometry,
        /,
        *,
        countries: Mapping[str, BaseGeometry] | None = None,
        crs: Any = DEFAULT_WORKING_CRS,
        extras: Mapping[str, Any] | None = None,
    ) -> Border:
        """A border from shapely geometries already in the working CRS (metres).

        Parameters
        ----------
        line : shapely.LineString or shapely.MultiLineString
            The border line, in metres of ``crs``.
        countries : mapping of str to shapely.Polygon or shapely.MultiPolygon, optional
            Country code to land polygon, in ``crs``.
        crs : str, int or pyproj.CRS, default "EPSG:32652"
            Projected metric CRS of the geometries.
        extras : mapping of str to sequence of (str or None, geometry), optional
            Other features by kind (``lake``, ``sea``, ``park``, ``habitat``).

        Returns
        -------
        Border

        Raises
        ------
        SchemaError
            If the line is not a (multi)line, a country code is not alpha-2 or a country is
            not a (multi)polygon.
        CRSError
            If ``crs`` is not a projected metric CRS.
        """
        return cls(line=line, countries=dict(countries or {}), crs=require_projected(crs),
                   extras=dict(extras or {}))

    @property
    def country_codes(self) -> tuple[str, ...]:
        """Codes of the countries with polygons, in the order given."""
        return tuple(self.countries)

    def translate(self, dx: float, dy: float) -> Border:
        """The same border shifted by ``dx``, ``dy`` metres (for tests of invariance)."""
        def move(g: BaseGeometry) -> BaseGeometry:
            return shapely.transform(g, lambda c: c + np.array([dx, dy]))
        return Border(
            line=move(self.line),
            countries={k: move(v) for k, v in self.countries.items()},
            crs=self.crs,
            extras={k: tuple((n, move(g)) for n, g in v) for k, v in self.extras.items()},
        )


def _project(geom: BaseGeometry, transformer: pyproj.Transformer) -> BaseGeometry:
    def fn(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])
    return shapely.transform(geom, fn)


def load_border(path: str | os.PathLike[str], /, *, crs: Any = DEFAULT_WORKING_CRS) -> Border:
    """Read a ``border.geojson`` (docs/formats.md, section 2) into the working CRS.

    Parameters
    ----------
    path : path_like
        GeoJSON FeatureCollection in WGS84 (EPSG:4326, lon/lat) with exactly one feature of
        ``"kind": "border"`` (LineString or MultiLineString), optionally one feature per
        country with ``"kind": "country"`` and ``"countryCode"`` (Polygon or MultiPolygon),
        and optionally ``lake``, ``sea``, ``park`` and ``habitat`` features.
    crs : str, int or pyproj.CRS, default "EPSG:32652"
        Projected metric CRS to move the geometries into.

    Returns
    -------
    Border

    Raises
    ------
    SchemaError
        If the file is missing, not GeoJSON, has no or several border features, or a
        feature has the wrong geometry type or no country code. The message names the file
        and the feature.
    CRSError
        If ``crs`` is not a projected metric CRS.

    Notes
    -----
    Vertices are projected one by one; segments are straight in the working CRS. Features
    with an unknown ``kind`` are kept in ``extras`` under that kind.
    """
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SchemaError(f"{file}: no such border file; set [border] file in amurlink.toml "
                          "to a border.geojson (docs/formats.md, section 2)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SchemaError(f"{file}: cannot read the border file as GeoJSON ({exc})") from None
    except RecursionError:
        raise SchemaError(f"{file}: JSON nested too deeply to be GeoJSON; expected a "
                          "FeatureCollection (docs/formats.md, section 2)") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise SchemaError(f"{file}: expected a GeoJSON FeatureCollection, got "
                          f"{data.get('type') if isinstance(data, dict) else type(data).__name__}")
    target = require_projected(crs)
    transformer = pyproj.Transformer.from_crs(WGS84, target, always_xy=True)
    lines: list[BaseGeometry] = []
    countries: dict[str, BaseGeometry] = {}
    extras: dict[str, list[tuple[str | None, BaseGeometry]]] = {}
    for i, feat in enumerate(data.get("features") or []):
        props = (feat or {}).get("properties") or {}
        kind = props.get("kind")
        where = f"{file}: feature {i} (kind {kind!r})"
        try:
            geom = shapely.from_geojson(json.dumps(feat.get("geometry")))
        except Exception as exc:  # noqa: BLE001 - shapely raises GEOSException subclasses
            raise SchemaError(f"{where} has an invalid geometry ({exc})") from None
        if geom is None or geom.is_empty:
            raise SchemaError(f"{where} has no geometry")
        if kind == "border":
            if geom.geom_type not in _LINE_TYPES:
                raise SchemaError(f"{where} must be a LineString or MultiLineString, got "
                                  f"{geom.geom_type}")
            lines.append(_project(geom, transformer))
        elif kind == "country":
            code = props.get("countryCode")
            if not isinstance(code, str) or len(code.strip()) != 2:
                raise SchemaError(f"{where} needs a 'countryCode' such as 'CN' or 'RU', got "
                                  f"{code!r}")
            if geom.geom_type not in _AREA_TYPES:
                raise SchemaError(f"{where} must be a Polygon or MultiPolygon, got "
                                  f"{geom.geom_type}")
            code = code.strip().upper()
            proj = _project(geom, transformer)
            countries[code] = shapely.union(countries[code], proj) if code in countries else proj
        else:
            extras.setdefault(str(kind), []).append(
                (props.get("name"), _project(geom, transformer)))
    if len(lines) != 1:
        raise SchemaError(
            f"{file}: expected exactly one feature with \"kind\": \"border\" (the China-Russia "
            f"line), found {len(lines)}; see docs/formats.md, section 2"
        )
    return Border(line=lines[0], countries=countries, crs=target,
                  extras={k: tuple(v) for k, v in extras.items()})


def _xy(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    xa = np.asarray(x, dtype=float).ravel()
    ya = np.asarray(y, dtype=float).ravel()
    if xa.shape != ya.shape:
        raise ValueError(f"x and y differ in length ({len(xa)} vs {len(ya)})")
    return xa, ya


def side_of_border(x: Any, y: Any, /, *, border: Border) -> np.ndarray:
    """Country whose polygon holds each point (vectorised).

    Parameters
    ----------
    x, y : array_like of float
        Easting and northing in metres of ``border.crs``.
    border : Border
        The border with its country polygons.

    Returns
    -------
    ndarray of object
        Country code per point; None where no polygon holds the point (sea, a third country
        without a polygon, NaN coordinates) or the border has no country polygons. A point
        on the boundary of two polygons gets the first country in ``border.countries``.
    """
    xa, ya = _xy(x, y)
    out = np.full(len(xa), None, dtype=object)
    open_ = np.ones(len(xa), dtype=bool)
    finite = np.isfinite(xa) & np.isfinite(ya)
    for code, poly in border.countries.items():
        rows = open_ & finite
        if not rows.any():
            break
        hit = np.zeros(len(xa), dtype=bool)
        hit[rows] = shapely.intersects_xy(poly, xa[rows], ya[rows])
        out[hit] = code
        open_ &= ~hit
    return out


def distance_to_border_m(x: Any, y: Any, /, *, border: Border) -> np.ndarray:
    """Euclidean distance in metres from each point to the border line (vectorised).

    Parameters
    ----------
    x, y : array_like of float
        Easting and northing in metres of ``border.crs``.
    border : Border
        The border; only its ``line`` counts (never coasts, lake shores or other borders).

    Returns
    -------
    ndarray of float
        Distance in metres in the projected CRS; NaN for NaN coordinates.
    """
    xa, ya = _xy(x, y)
    out = np.full(len(xa), np.nan)
    finite = np.isfinite(xa) & np.isfinite(ya)
    if finite.any():
        out[finite] = shapely.distance(shapely.points(xa[finite], ya[finite]), border.line)
    return out
