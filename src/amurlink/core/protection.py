"""Location protection: how each location is shown to an audience (one function, four levels)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyproj

from amurlink.core.crs import DEFAULT_WORKING_CRS, from_metric, require_projected, to_metric
from amurlink.dataset import Dataset
from amurlink.exceptions import ConfigError, SchemaError
from amurlink.schema import INCIDENT_BOOK_TABLES, LOCATION_LEVELS

__all__ = [
    "LOCATION_LEVELS",
    "AUDIENCE_KINDS",
    "DEFAULT_SENSITIVE_SPECIES",
    "PRIVATE_OBSERVATION_TYPES",
    "LevelPrecision",
    "WithheldArea",
    "Audience",
    "ProtectionPolicy",
    "level_to_precision",
    "coarsest_level",
    "is_sensitive",
    "protect_locations",
    "protect_dataset",
    "station_levels",
    "withheld_area_of",
]

AudienceKind = Literal["owner", "partner", "public"]

#: Who sees the data: the organisation that owns it, a partner under an agreement, anyone.
AUDIENCE_KINDS: tuple[str, ...] = ("owner", "partner", "public")
#: Species whose stations the public never sees (subspecies and genus-only records included).
DEFAULT_SENSITIVE_SPECIES: tuple[str, ...] = ("Panthera tigris", "Panthera pardus")
#: ``observations.observationType`` values whose images are never shared beyond the owner.
PRIVATE_OBSERVATION_TYPES: tuple[str, ...] = ("human", "vehicle")

_RANK: Mapping[str, int] = MappingProxyType({lvl: i for i, lvl in enumerate(LOCATION_LEVELS)})
_EXACT, _KM1, _KM10, _WITHHELD = (_RANK[lvl] for lvl in LOCATION_LEVELS)
#: Grid that the study area is snapped to when a withheld location is derived from the data.
_WITHHELD_GRID_M = 100_000.0
#: Relative margin on geodesic distances (scale change across a cell, float error).
_MARGIN = 1e-3
#: Decimal places of shown coordinates (1e-6 degree is at most 0.11 m).
_DECIMALS = 6
#: Free-text columns that can name or describe a place, cleared once a location is generalised.
_PLACE_TEXT = ("locationName", "deploymentComments", "sampleComments")
#: Identifier columns that could be joined to an exact location elsewhere, cleared when withheld.
_PLACE_IDS = ("locationID",)
#: Tables whose coordinates protect_dataset knows how to protect.
_LOCATED_TABLES = ("deployments", "samples", *INCIDENT_BOOK_TABLES)
_NOT_A_NAME = frozenset({"sp", "sp.", "spp", "spp.", "cf", "cf.", "aff", "aff.", "?", "indet."})


def _check_level(level: object, where: str) -> str:
    if level not in _RANK:
        raise ConfigError(
            f"{where} must be one of {list(LOCATION_LEVELS)}, got {level!r}; "
            "pick the coarsest level the audience may see"
        )
    return str(level)


# ---------------------------------------------------------------------------------------------
# Levels
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LevelPrecision:
    """What a protection level means in Camtrap DP terms.

    Parameters
    ----------
    level : {"exact", "1km", "10km", "withheld"}
        The protection level.
    coordinate_precision : float or None
        Nominal Camtrap DP package ``coordinatePrecision`` in decimal degrees (``None`` for
        ``exact``: the data keep their own precision). 0.01 degree is about 1.1 km of latitude.
    cell_size_m : float or None
        Side of the square grid cell, in metres of the working CRS, that locations are snapped
        to (``withheld``: the grid a derived study area is aligned to).
    uncertainty_m : int or None
        Nominal ``coordinateUncertainty`` added to a record's own uncertainty, in metres: the
        half-diagonal of a cell, rounded up (0 for ``exact``; ``None`` for ``withheld``, where
        it is the radius of the study area and depends on the data).
    """

    level: str
    coordinate_precision: float | None
    cell_size_m: float | None
    uncertainty_m: int | None


_PRECISION: Mapping[str, LevelPrecision] = MappingProxyType({
    "exact": LevelPrecision("exact", None, None, 0),
    "1km": LevelPrecision("1km", 0.01, 1_000.0, math.ceil(500.0 * math.sqrt(2.0))),
    "10km": LevelPrecision("10km", 0.1, 10_000.0, math.ceil(5_000.0 * math.sqrt(2.0))),
    "withheld": LevelPrecision("withheld", 1.0, _WITHHELD_GRID_M, None),
})


def level_to_precision(level: str, /) -> LevelPrecision:
    """Map a protection level to Camtrap DP ``coordinatePrecision`` and uncertainty.

    Parameters
    ----------
    level : {"exact", "1km", "10km", "withheld"}
        Protection level.

    Returns
    -------
    LevelPrecision
        Nominal ``coordinatePrecision`` (degrees), grid cell size (metres) and the
        uncertainty (metres) that the level adds.

    Raises
    ------
    ConfigError
        If ``level`` is not one of :data:`LOCATION_LEVELS`.

    Examples
    --------
    >>> level_to_precision("1km")
    LevelPrecision(level='1km', coordinate_precision=0.01, cell_size_m=1000.0, uncertainty_m=708)
    """
    return _PRECISION[_check_level(level, "level")]


def coarsest_level(levels: Iterable[str], /) -> str:
    """Return the least precise of ``levels`` (``"exact"`` for none).

    Examples
    --------
    >>> coarsest_level(["1km", "withheld", "exact"])
    'withheld'
    """
    ranks = [_RANK[_check_level(lvl, "level")] for lvl in levels]
    return LOCATION_LEVELS[max(ranks, default=_EXACT)]


# ---------------------------------------------------------------------------------------------
# Audience and policy
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WithheldArea:
    """The one point and radius that every withheld location is shown as.

    Parameters
    ----------
    latitude, longitude : float
        WGS84 centre of the study area, in decimal degrees.
    radius_m : float
        Radius in metres that covers every location of the study.
    """

    latitude: float
    longitude: float
    radius_m: float

    def __post_init__(self) -> None:
        checks = (
            ("latitude", self.latitude, -90.0, 90.0),
            ("longitude", self.longitude, -180.0, 180.0),
            ("radius_m", self.radius_m, 1.0, 20_037_509.0),
        )
        for name, value, lo, hi in checks:
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not number or not lo <= value <= hi:
                raise ConfigError(
                    f"withheld_area.{name} must be a number in [{lo:g}, {hi:g}], got {value!r}"
                )


@dataclass(frozen=True)
class Audience:
    """Who will see the output, and what their sharing agreement grants.

    Parameters
    ----------
    kind : {"owner", "partner", "public"}
        ``owner``: the organisation the data belong to (sees its own data exactly);
        ``partner``: an organisation under a sharing agreement; ``public``: anyone.
    organisation : str, optional
        The audience's organisation, matched to ``deploymentDetails.organisation``.
    country : str, optional
        ISO 3166-1 alpha-2 code of the audience, matched to ``deploymentDetails.countryCode``.
    level : {"exact", "1km", "10km", "withheld"}, optional
        The agreed level for data the audience does not own (a partner's agreement, or what an
        owner sees of the other country's deployments in a joint dataset). ``None`` takes the
        policy's ``partner_level``. Not allowed for the public (the policy decides).
    species_levels : mapping of str to str, optional
        Agreed level per species (``{"Panthera tigris": "10km"}``), applied to every record at
        a station where that species (or a subspecies of it) was seen.

    Notes
    -----
    An owner without ``organisation`` and ``country`` owns every record (a national dataset).
    With either given, it owns only the deployments whose ``deploymentDetails`` match all that
    is given; the rest of a joint dataset is shown to it as to a partner.

    Examples
    --------
    >>> Audience.partner(organisation="WWF Russia", country="RU", level="10km").kind
    'partner'
    """

    kind: AudienceKind
    organisation: str | None = None
    country: str | None = None
    level: str | None = None
    species_levels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in AUDIENCE_KINDS:
            raise ConfigError(
                f"Audience.kind must be one of {list(AUDIENCE_KINDS)}, got {self.kind!r}"
            )
        if self.country is not None:
            code = str(self.country).strip().upper()
            if len(code) != 2 or not code.isalpha() or not code.isascii():
                raise ConfigError(
                    f"Audience.country must be an ISO 3166-1 alpha-2 code such as 'CN' or 'RU', "
                    f"got {self.country!r}"
                )
            object.__setattr__(self, "country", code)
        if self.level is not None:
            _check_level(self.level, "Audience.level")
        levels = dict(self.species_levels or {})
        for name, lvl in levels.items():
            if not isinstance(name, str) or not name.strip():
                raise ConfigError(
                    f"Audience.species_levels keys must be species names, got {name!r}"
                )
            _check_level(lvl, f"Audience.species_levels[{name!r}]")
        object.__setattr__(self, "species_levels", MappingProxyType(levels))
        if self.kind == "public" and (self.level is not None or levels):
            raise ConfigError(
                "a public Audience takes no level or species_levels: what the public sees is "
                "set by ProtectionPolicy.public_level (and sensitive species are always withheld)"
            )

    def __hash__(self) -> int:
        return hash((self.kind, self.organisation, self.country, self.level,
                     tuple(sorted(self.species_levels.items()))))

    @classmethod
    def owner(cls, *, organisation: str | None = None, country: str | None = None,
              level: str | None = None,
              species_levels: Mapping[str, str] | None = None) -> Audience:
        """The data owner (everything exact), optionally one organisation / country of many."""
        return cls("owner", organisation, country, level, dict(species_levels or {}))

    @classmethod
    def partner(cls, *, organisation: str | None = None, country: str | None = None,
                level: str | None = None,
                species_levels: Mapping[str, str] | None = None) -> Audience:
        """A partner under a sharing agreement (``level`` and ``species_levels``)."""
        return cls("partner", organisation, country, level, dict(species_levels or {}))

    @classmethod
    def public(cls) -> Audience:
        """Anyone: reports, public web pages, open data."""
        return cls("public")


@dataclass(frozen=True)
class ProtectionPolicy:
    """Study-wide rules of location protection (``[protection]`` in ``amurlink.toml``).

    Parameters
    ----------
    sensitive_species : tuple of str, default ("Panthera tigris", "Panthera pardus")
        Species whose stations are withheld from the public. Subspecies (``Panthera tigris
        altaica``) and genus-only records (``Panthera``, ``Panthera sp.``) match too.
    partner_level : {"exact", "1km", "10km", "withheld"}, default "1km"
        Level for partners whose agreement names none.
    partner_sensitive_level : {"exact", "1km", "10km", "withheld"}, default "1km"
        Level for partners at stations where a sensitive species was seen, unless the
        agreement's ``species_levels`` names that species.
    public_level : {"exact", "1km", "10km", "withheld"}, default "withheld"
        Level for the public at stations without sensitive species. Stations with sensitive
        species are always ``withheld`` for the public.
    crs : str, int or pyproj.CRS, default "EPSG:32652"
        Projected metric CRS whose grid the ``1km`` and ``10km`` cells are drawn in (the
        study's working CRS).
    withheld_area : WithheldArea, optional
        Fixed point and radius shown for every withheld deployment. ``None`` derives it from
        the deployments (see :func:`protect_locations`).

    Raises
    ------
    ConfigError
        If a level is not one of :data:`LOCATION_LEVELS` or a species name is empty.
    CRSError
        If ``crs`` is not a projected metric CRS.
    """

    sensitive_species: tuple[str, ...] = DEFAULT_SENSITIVE_SPECIES
    partner_level: str = "1km"
    partner_sensitive_level: str = "1km"
    public_level: str = "withheld"
    crs: Any = DEFAULT_WORKING_CRS
    withheld_area: WithheldArea | None = None

    def __post_init__(self) -> None:
        names = (self.sensitive_species,) if isinstance(self.sensitive_species, str) \
            else tuple(self.sensitive_species)
        for name in names:
            if not isinstance(name, str) or not _tokens(name):
                raise ConfigError(
                    f"ProtectionPolicy.sensitive_species must hold scientific names, got {name!r}"
                )
        object.__setattr__(self, "sensitive_species", names)
        for attr in ("partner_level", "partner_sensitive_level", "public_level"):
            _check_level(getattr(self, attr), f"ProtectionPolicy.{attr}")
        require_projected(self.crs)
        if self.withheld_area is not None and not isinstance(self.withheld_area, WithheldArea):
            raise ConfigError(
                f"ProtectionPolicy.withheld_area must be a WithheldArea or None, "
                f"got {type(self.withheld_area).__name__}"
            )


# ---------------------------------------------------------------------------------------------
# Species names
# ---------------------------------------------------------------------------------------------
def _tokens(name: object) -> tuple[str, ...]:
    if not isinstance(name, str):
        return ()
    return tuple(t for t in name.casefold().split() if t not in _NOT_A_NAME)


def _same_taxon(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """One name is the other or a rank below / above it (token prefix), never across genera."""
    if not a or not b:
        return False
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def is_sensitive(names: Any, /, *, sensitive_species: Iterable[str] = DEFAULT_SENSITIVE_SPECIES
                 ) -> np.ndarray:
    """Whether each scientific name is, or may be, a sensitive species.

    Parameters
    ----------
    names : array_like of str
        ``scientificName`` values; missing values are not sensitive.
    sensitive_species : iterable of str, default ("Panthera tigris", "Panthera pardus")
        Sensitive species.

    Returns
    -------
    ndarray of bool
        True where the name is a sensitive species, a subspecies of one, or a higher-rank name
        that may be one (``Panthera``, ``Panthera sp.``). Case and spacing are ignored.

    Examples
    --------
    >>> is_sensitive(["Panthera tigris altaica", "Panthera", "Capreolus pygargus", None]).tolist()
    [True, True, False, False]
    """
    keys = [_tokens(s) for s in sensitive_species]
    values = pd.Series(np.asarray(names, dtype=object))
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    flags = np.array([any(_same_taxon(_tokens(u), k) for k in keys) for u in uniques], dtype=bool)
    out = np.zeros(len(values), dtype=bool)
    ok = codes >= 0
    out[ok] = flags[codes[ok]]
    return out


def _name_levels(names: pd.Series, mapping: Mapping[str, str]) -> np.ndarray:
    """Coarsest rank that ``mapping`` (species name -> level) gives each name; -1 for none."""
    keys = [(_tokens(k), _RANK[v]) for k, v in mapping.items()]
    codes, uniques = pd.factorize(names, use_na_sentinel=True)
    ranks = np.array(
        [max((r for k, r in keys if _same_taxon(_tokens(u), k)), default=-1) for u in uniques],
        dtype=np.int8,
    )
    out = np.full(len(names), -1, dtype=np.int8)
    ok = codes >= 0
    out[ok] = ranks[codes[ok]]
    return out


# ---------------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------------
_GEOD = pyproj.Geod(ellps="WGS84")


def _float(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _cell_centres(x: np.ndarray, y: np.ndarray, size: float, crs: pyproj.CRS
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Snap metric points to the centre of their ``size`` cell.

    Returns WGS84 longitude, latitude of each centre (rounded) and the geodesic distance in
    metres from the shown centre to the farthest point of its cell (with a margin).
    """
    ix = np.floor(x / size).astype(np.int64)
    iy = np.floor(y / size).astype(np.int64)
    key = (ix - ix.min()) * (int(iy.max() - iy.min()) + 1) + (iy - iy.min())
    inverse = pd.factorize(key)[0]
    _, first = np.unique(inverse, return_index=True)  # one row per occupied cell
    cx = (ix[first] + 0.5) * size
    cy = (iy[first] + 0.5) * size
    half = 0.5 * size
    lon_c, lat_c = from_metric(cx, cy, crs=crs)
    lon_c, lat_c = np.round(lon_c, _DECIMALS), np.round(lat_c, _DECIMALS)
    reach = np.zeros(len(cx))
    for dx, dy in ((-half, -half), (-half, half), (half, -half), (half, half)):
        lon_k, lat_k = from_metric(cx + dx, cy + dy, crs=crs)
        reach = np.maximum(reach, _GEOD.inv(lon_c, lat_c, lon_k, lat_k)[2])
    reach = reach * (1.0 + _MARGIN) + 0.5  # + rounding of the shown centre
    return lon_c[inverse], lat_c[inverse], reach[inverse]


def _derive_withheld_area(lon: np.ndarray, lat: np.ndarray, crs: pyproj.CRS
                          ) -> WithheldArea | None:
    """Centre and radius of the study's bounding box, aligned to a 100 km grid."""
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return None
    x, y = to_metric(lon[ok], lat[ok], crs=crs)
    g = _WITHHELD_GRID_M
    x0, x1 = np.floor(x.min() / g) * g, (np.floor(x.max() / g) + 1) * g
    y0, y1 = np.floor(y.min() / g) * g, (np.floor(y.max() / g) + 1) * g
    lon_c, lat_c = from_metric([(x0 + x1) / 2], [(y0 + y1) / 2], crs=crs)
    lon_c, lat_c = np.round(lon_c, _DECIMALS), np.round(lat_c, _DECIMALS)
    lon_k, lat_k = from_metric([x0, x0, x1, x1], [y0, y1, y0, y1], crs=crs)
    reach = _GEOD.inv(np.repeat(lon_c, 4), np.repeat(lat_c, 4), lon_k, lat_k)[2].max()
    # every point, not only the corners, must be inside (projection distortion)
    n = int(ok.sum())
    actual = _GEOD.inv(np.full(n, lon_c[0]), np.full(n, lat_c[0]), lon[ok], lat[ok])[2]
    reach = max(reach, actual.max()) * (1.0 + _MARGIN)
    radius = math.ceil(reach / 1_000.0) * 1_000.0
    return WithheldArea(float(lat_c[0]), float(lon_c[0]), float(radius))


def _check_covers(area: WithheldArea, lon: np.ndarray, lat: np.ndarray, ids: np.ndarray,
                  id_column: str) -> None:
    dist = _GEOD.inv(np.full(len(lon), area.longitude), np.full(len(lon), area.latitude),
                     lon, lat)[2]
    outside = dist > area.radius_m
    if outside.any():
        need = math.ceil(dist.max() * (1 + _MARGIN) / 10_000.0) * 10_000
        raise ConfigError(
            f"protection.withheld_area (radius {area.radius_m:g} m) does not cover "
            f"{int(outside.sum())} withheld location(s) (first: {id_column} "
            f"{ids[outside][0]!r}); set protection.withheld_area.radius_m to at least {need}, "
            "or leave withheld_area unset to derive it from the deployments"
        )


def _as_levels(level: Any, n: int) -> np.ndarray:
    if isinstance(level, str):
        return np.full(n, _RANK[_check_level(level, "level")], dtype=np.int8)
    values = pd.Series(np.asarray(level, dtype=object))
    if len(values) != n:
        raise ConfigError(f"level has {len(values)} values for {n} rows; give one per row")
    ranks = values.map(_RANK)
    if ranks.isna().any():
        bad = values[ranks.isna()].iloc[0]
        _check_level(bad, "every level")
    return ranks.to_numpy(dtype=np.int8)


def _protect(frame: pd.DataFrame, ranks: np.ndarray, *, crs: Any,
             withheld_area: WithheldArea | None, withheld_blank: bool, id_column: str
             ) -> pd.DataFrame:
    out = frame.copy()
    target = require_projected(crs)
    lon, lat, unc0 = _float(frame, "longitude"), _float(frame, "latitude"), \
        _float(frame, "coordinateUncertainty")
    own_unc = np.where(np.isfinite(unc0), unc0, 0.0)
    new_lon, new_lat, new_unc = lon.copy(), lat.copy(), unc0.copy()
    finite = np.isfinite(lon) & np.isfinite(lat)

    for rank in (_KM1, _KM10):
        rows = (ranks == rank) & finite
        if not rows.any():
            continue
        x, y = to_metric(lon[rows], lat[rows], crs=target)
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise SchemaError(
                f"{int((~np.isfinite(x)).sum())} location(s) cannot be projected into "
                f"{target.name}; check that latitude/longitude are WGS84 degrees inside the "
                "CRS's area of use, or set a working CRS that covers them"
            )
        size = _PRECISION[LOCATION_LEVELS[rank]].cell_size_m
        c_lon, c_lat, reach = _cell_centres(x, y, size, target)
        new_lon[rows], new_lat[rows] = c_lon, c_lat
        new_unc[rows] = np.ceil(reach + own_unc[rows])

    held = ranks == _WITHHELD
    if held.any():
        area = None if withheld_blank else (
            withheld_area or _derive_withheld_area(lon, lat, target))
        if area is None:  # optional coordinates (samples), or nothing to derive an area from
            new_lon[held] = new_lat[held] = new_unc[held] = np.nan
        else:
            if withheld_area is not None:  # a derived area covers every row by construction
                ids = frame[id_column].to_numpy() if id_column in frame else np.arange(len(frame))
                _check_covers(area, lon[held & finite], lat[held & finite],
                              ids[held & finite], id_column)
            new_lon[held], new_lat[held] = area.longitude, area.latitude
            # one value for every withheld row: the largest own uncertainty of the table
            new_unc[held] = math.ceil(area.radius_m + np.nanmax(unc0, initial=0.0))

    generalised = ranks != _EXACT
    if not generalised.any():
        return out
    out["longitude"] = new_lon
    out["latitude"] = new_lat
    # integer metres (Camtrap DP), never below 1 and never rounded down
    unc = np.where(np.isfinite(new_unc), np.maximum(np.ceil(new_unc), 1.0), np.nan)
    out["coordinateUncertainty"] = pd.array(unc, dtype="Float64").astype("Int64")
    for col in _PLACE_TEXT:
        if col in out:
            out[col] = out[col].astype(object).where(~generalised, None)
    for col in _PLACE_IDS:
        if col in out and held.any():
            out[col] = out[col].astype(object).where(~held, None)
    return out


def protect_locations(
    frame: pd.DataFrame,
    /,
    *,
    level: str | Iterable[str],
    crs: Any = DEFAULT_WORKING_CRS,
    withheld_area: WithheldArea | None = None,
) -> pd.DataFrame:
    """Generalise the coordinates of a deployments-like table to protection levels.

    Parameters
    ----------
    frame : DataFrame
        Rows with WGS84 ``latitude`` and ``longitude`` (decimal degrees) and optionally
        ``coordinateUncertainty`` (metres), ``locationID``, ``locationName`` and
        ``deploymentComments``.
    level : {"exact", "1km", "10km", "withheld"} or array_like of str
        One level for all rows, or one per row.
    crs : str, int or pyproj.CRS, default "EPSG:32652"
        Projected metric CRS whose grid defines the ``1km`` and ``10km`` cells.
    withheld_area : WithheldArea, optional
        Point and radius shown for ``withheld`` rows. ``None`` derives it from all rows of
        ``frame``: the centre of their bounding box in ``crs`` aligned outwards to a 100 km
        grid, with a radius (rounded up to whole kilometres) that reaches every corner of that
        box and every row, plus the largest ``coordinateUncertainty``.

    Returns
    -------
    DataFrame
        A copy of ``frame`` where, per row:

        - ``exact``: unchanged.
        - ``1km`` / ``10km``: ``latitude`` / ``longitude`` are the WGS84 centre (6 decimals)
          of the 1 km / 10 km grid cell of ``crs`` that holds the point, so every point of a
          cell is shown at the same place on every export. ``coordinateUncertainty`` (Int64,
          metres) is the geodesic distance from that centre to the farthest point of the cell
          (about 708 m / 7,072 m), plus the row's own uncertainty, rounded up. ``locationName``
          and ``deploymentComments`` are cleared.
        - ``withheld``: every such row shows the same ``withheld_area`` point, with its radius
          plus the largest own uncertainty of those rows as ``coordinateUncertainty``, so the
          output does not depend on where a withheld row really is. ``locationID`` is cleared
          too.

        Missing coordinates stay missing.

    Raises
    ------
    ConfigError
        If a level is unknown, or a given ``withheld_area`` does not cover a withheld row.
    CRSError
        If ``crs`` is not a projected metric CRS.

    See Also
    --------
    protect_dataset : applies the levels an audience may see to a whole Dataset.

    Notes
    -----
    Snapping to a fixed grid, not random displacement, is deliberate: a jittered point can be
    averaged out over repeated exports, a cell centre cannot.

    Examples
    --------
    >>> import pandas as pd
    >>> deps = pd.DataFrame({"deploymentID": ["a"], "latitude": [43.123456],
    ...                      "longitude": [130.987654], "coordinateUncertainty": [10]})
    >>> out = protect_locations(deps, level="10km")
    >>> int(out["coordinateUncertainty"].iloc[0])
    7090
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a DataFrame, got {type(frame).__name__}")
    missing = [c for c in ("latitude", "longitude") if c not in frame]
    if missing:
        raise SchemaError(f"protect_locations needs columns {missing}; got {list(frame.columns)}")
    ranks = _as_levels(level, len(frame))
    return _protect(frame, ranks, crs=crs, withheld_area=withheld_area, withheld_blank=False,
                    id_column="deploymentID")


# ---------------------------------------------------------------------------------------------
# Datasets
# ---------------------------------------------------------------------------------------------
def _ids(frame: pd.DataFrame | None, column: str) -> pd.Series:
    if frame is None or column not in frame:
        return pd.Series([], dtype=object)
    return frame[column]


def _owned_deployments(deployments: pd.DataFrame, details: pd.DataFrame | None,
                       audience: Audience) -> np.ndarray:
    n = len(deployments)
    if audience.kind != "owner":
        return np.zeros(n, dtype=bool)
    if audience.organisation is None and audience.country is None:
        return np.ones(n, dtype=bool)
    if details is None or "deploymentID" not in details:
        raise SchemaError(
            "the owner Audience names an organisation or country, but the dataset has no "
            "deploymentDetails table to tell whose deployments are whose; add deploymentDetails "
            "(deploymentID, countryCode, organisation) or use Audience.owner() without them"
        )
    match = pd.Series(True, index=details.index)
    if audience.country is not None:
        match &= details.get("countryCode", pd.Series(index=details.index, dtype=object)) \
            .astype("string").str.upper().eq(audience.country).fillna(False)
    if audience.organisation is not None:
        want = audience.organisation.strip().casefold()
        match &= details.get("organisation", pd.Series(index=details.index, dtype=object)) \
            .astype("string").str.strip().str.casefold().eq(want).fillna(False)
    owned_ids = details.loc[match.to_numpy(dtype=bool), "deploymentID"]
    return deployments["deploymentID"].isin(owned_ids).to_numpy()


def _owned_samples(samples: pd.DataFrame, audience: Audience) -> np.ndarray:
    n = len(samples)
    if audience.kind != "owner":
        return np.zeros(n, dtype=bool)
    if audience.organisation is None and audience.country is None:
        return np.ones(n, dtype=bool)
    if audience.organisation is not None or "countryCode" not in samples:
        return np.zeros(n, dtype=bool)  # samples carry no organisation: fail closed
    return samples["countryCode"].astype("string").str.upper().eq(audience.country) \
        .fillna(False).to_numpy(dtype=bool)


def _record_ranks(names: pd.Series, audience: Audience, policy: ProtectionPolicy) -> np.ndarray:
    """Rank each record (by its scientificName) requires for a non-owned location; -1 none."""
    sensitive = is_sensitive(names, sensitive_species=policy.sensitive_species)
    if audience.kind == "public":
        return np.where(sensitive, _WITHHELD, -1).astype(np.int8)
    agreed = _name_levels(names, audience.species_levels)
    default = np.where(sensitive, _RANK[policy.partner_sensitive_level], -1)
    return np.where(agreed >= 0, agreed, default).astype(np.int8)


def _base_rank(audience: Audience, policy: ProtectionPolicy) -> int:
    if audience.kind == "public":
        return _RANK[policy.public_level]
    return _RANK[audience.level or policy.partner_level]


def _deployment_ranks(deployments: pd.DataFrame, observations: pd.DataFrame,
                      owned: np.ndarray, audience: Audience, policy: ProtectionPolicy
                      ) -> np.ndarray:
    ranks = np.full(len(deployments), _base_rank(audience, policy), dtype=np.int8)
    if "scientificName" in observations and len(observations):
        pairs = observations[["deploymentID", "scientificName"]].dropna().drop_duplicates()
        need = pd.Series(_record_ranks(pairs["scientificName"], audience, policy),
                         index=pairs.index)
        per_dep = need.groupby(pairs["deploymentID"].to_numpy()).max()
        station = deployments["deploymentID"].map(per_dep).fillna(-1).to_numpy(dtype=np.int8)
        ranks = np.maximum(ranks, station)
    ranks[owned] = _EXACT
    return ranks


def _utc(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True, errors="coerce").dt.as_unit("ns")


def _media_in_events(media: pd.DataFrame, events: pd.DataFrame) -> np.ndarray:
    """Whether each media row falls in an event (same deployment, start <= timestamp <= end).

    A media row without a usable timestamp at a deployment with such an event counts as in it.
    """
    out = np.zeros(len(media), dtype=bool)
    if not len(events) or not len(media) or "timestamp" not in media:
        return out
    ev = pd.DataFrame({"dep": events["deploymentID"].to_numpy(dtype=object),
                       "start": _utc(events["eventStart"]).array,
                       "end": _utc(events["eventEnd"]).array})
    ev["end"] = ev["end"].fillna(ev["start"])
    ev = ev.dropna(subset=["dep", "start"]).sort_values("start", kind="stable")
    if ev.empty:
        return out
    # latest end of any event at the deployment that started at or before each start
    ev["reach"] = ev.groupby("dep", sort=False)["end"].cummax()
    md = pd.DataFrame({"dep": media["deploymentID"].to_numpy(dtype=object),
                       "t": _utc(media["timestamp"]).array,
                       "pos": np.arange(len(media))})
    known = md["t"].notna() & md["dep"].notna()
    left = md.loc[known].sort_values("t", kind="stable")
    matched = pd.merge_asof(left, ev[["dep", "start", "reach"]], left_on="t", right_on="start",
                            by="dep", direction="backward")
    out[matched["pos"].to_numpy()] = (matched["reach"] >= matched["t"]).to_numpy(dtype=bool)
    out[(~known & md["dep"].isin(ev["dep"])).to_numpy()] = True
    return out


def _private_media(media: pd.DataFrame, observations: pd.DataFrame) -> np.ndarray:
    """Media that show people or vehicles (media- or event-level observations)."""
    if "observationType" not in observations or not len(media):
        return np.zeros(len(media), dtype=bool)
    private = observations["observationType"].isin(PRIVATE_OBSERVATION_TYPES).to_numpy()
    obs = observations.loc[private]
    media_ids = _ids(obs, "mediaID").dropna()
    flagged = media["mediaID"].isin(media_ids).to_numpy()
    has_media = obs["mediaID"].notna() if "mediaID" in obs else pd.Series(False, index=obs.index)
    if "observationLevel" in obs:
        event_rows = obs["observationLevel"].eq("event") | ~has_media
    else:
        event_rows = ~has_media
    events = obs.loc[event_rows.to_numpy(dtype=bool)]
    if len(events) and {"eventStart", "eventEnd"} <= set(events.columns):
        flagged |= _media_in_events(media, events)
    return flagged


def _spatial(lon: pd.Series, lat: pd.Series) -> dict[str, Any] | None:
    x, y = pd.to_numeric(lon, errors="coerce"), pd.to_numeric(lat, errors="coerce")
    ok = x.notna() & y.notna()
    if not ok.any():
        return None
    x0, x1, y0, y1 = (float(v) for v in (x[ok].min(), x[ok].max(), y[ok].min(), y[ok].max()))
    return {"type": "Polygon",
            "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def withheld_area_of(deployments: pd.DataFrame, /, *, crs: Any = DEFAULT_WORKING_CRS
                     ) -> WithheldArea | None:
    """The study-area point and radius :func:`protect_locations` derives from ``deployments``
    (None without a usable coordinate)."""
    return _derive_withheld_area(_float(deployments, "longitude"),
                                 _float(deployments, "latitude"), require_projected(crs))


def station_levels(dataset: Dataset, /, *, audience: Audience,
                   policy: ProtectionPolicy) -> pd.Series:
    """The level each deployment is shown at to ``audience``, decided on ``dataset`` as given.

    Call it on the COMPLETE dataset (every species, every date): a station where a tiger was
    seen stays sensitive even when an agreement later removes the tiger's records
    (:func:`amurlink.release.release` does this). :func:`protect_dataset` applies exactly
    these levels.

    Parameters
    ----------
    dataset : Dataset
        Tables with exact locations.
    audience : Audience
    policy : ProtectionPolicy

    Returns
    -------
    Series of str
        Indexed by ``deploymentID`` (in table order), values from :data:`LOCATION_LEVELS`.

    Examples
    --------
    >>> from amurlink.datasets import load_example
    >>> station_levels(load_example(), audience=Audience.public(),
    ...                policy=ProtectionPolicy()).unique().tolist()
    ['withheld']
    """
    if not isinstance(policy, ProtectionPolicy):
        raise TypeError(f"policy must be a ProtectionPolicy, got {type(policy).__name__}")
    deployments = dataset.deployments
    owned = _owned_deployments(deployments, dataset.get("deploymentDetails"), audience)
    if owned.all():  # the owner of everything: no record needs to be looked at
        ranks = np.zeros(len(deployments), dtype=np.int8)
    else:
        ranks = _deployment_ranks(deployments, dataset.observations, owned, audience, policy)
    return pd.Series(np.asarray(LOCATION_LEVELS, dtype=object)[ranks],
                     index=pd.Index(deployments["deploymentID"].to_numpy(dtype=object),
                                    name="deploymentID"), name="level")


def protect_dataset(
    dataset: Dataset,
    /,
    *,
    audience: Audience,
    policy: ProtectionPolicy | None = None,
    agreement_tables: Iterable[str] = (),
) -> Dataset:
    """Return the dataset as ``audience`` may see it: the one gate of every output path.

    Parameters
    ----------
    dataset : Dataset
        Tables with exact locations (``deployments``, ``media``, ``observations``; optionally
        ``deploymentDetails`` and ``samples``).
    audience : Audience
        Who will see the output (owner, partner under an agreement, public).
    policy : ProtectionPolicy, optional
        Study-wide rules (``StudyConfig.protection``); the default policy if ``None``.
    agreement_tables : iterable of str
        ``patrolTracks`` / ``patrolFindings`` when every agreement of the output names them
        (:func:`amurlink.release.release` passes them); otherwise patrol tracks and findings
        stay with their owner.

    Returns
    -------
    Dataset
        A new Dataset; the input is never changed. For data the audience owns, everything is
        as given. For everything else:

        - each deployment is generalised (:func:`protect_locations`) to the coarsest level
          that applies to it: the public's ``public_level``, or the partner's agreed level;
          raised by every species seen there, so one tiger record makes all records of the
          station (roe deer too) ``withheld`` for the public, and gives partners the
          ``species_levels`` / ``partner_sensitive_level`` of that species;
        - ``samples`` coordinates are generalised the same way by their own species and
          ``countryCode``; a withheld sample has no coordinates (they are optional there);
        - media that show people or vehicles (an ``observationType`` of ``human`` or
          ``vehicle`` on the media, or an event-level one whose time span holds the media) are
          removed with every media-level observation of them; event-level observations are
          kept (they point to no image);
        - ``media.exifData`` is cleared (it can hold GPS positions);
        - the incident books (``incidents``, ``diseaseTests``, ``necropsies``, ``patrols``,
          ``patrolFindings``) go through
          :func:`amurlink.incidents.protect.protect_incident_tables`: points generalised like
          the stations of the species involved, claim keys and comments cleared, patrol
          tracks and findings kept home unless ``agreement_tables`` names them;
        - the package ``coordinatePrecision`` is set to the least precise level shown and
          ``spatial`` to the bounding box of the shown coordinates.

    Raises
    ------
    TypeError
        If ``dataset`` or ``audience`` have the wrong type.
    SchemaError
        If an owner names an organisation / country but the dataset lacks
        ``deploymentDetails``, or a table with coordinates is one this function does not know.
    ConfigError
        If a configured ``withheld_area`` does not cover a withheld deployment.

    See Also
    --------
    protect_locations : the per-row generalisation.

    Notes
    -----
    Withheld deployments keep their rows (Camtrap DP requires coordinates and the records
    still count in totals and trends) but all show one point, the study area's centre, with
    an uncertainty that covers the whole study area; ``locationID``, ``locationName`` and
    ``deploymentComments`` are cleared. Nothing in the output depends on where a withheld
    deployment is. The image files themselves are not touched: exporters must strip their
    embedded EXIF before sharing them.

    Examples
    --------
    >>> from amurlink.datasets import load_example
    >>> ds = load_example()  # tigers and leopards at all six stations
    >>> public = protect_dataset(ds, audience=Audience.public())
    >>> public.deployments["latitude"].nunique(), int(public.media["exifData"].notna().sum())
    (1, 0)
    >>> wwf = Audience.partner(organisation="WWF Russia", species_levels={"Panthera": "10km"})
    >>> protect_dataset(ds, audience=wwf).metadata["coordinatePrecision"]
    0.1
    """
    if not isinstance(dataset, Dataset):
        raise TypeError(f"dataset must be an amurlink Dataset, got {type(dataset).__name__}")
    if not isinstance(audience, Audience):
        raise TypeError(
            f"audience must be an Audience (e.g. Audience.public()), got {audience!r}"
        )
    policy = ProtectionPolicy() if policy is None else policy
    if not isinstance(policy, ProtectionPolicy):
        raise TypeError(f"policy must be a ProtectionPolicy, got {type(policy).__name__}")
    for name, table in dataset.tables.items():
        if name not in _LOCATED_TABLES and {"latitude", "longitude"} & set(table.columns):
            raise SchemaError(
                f"table {name!r} has coordinates but protect_dataset does not know how to "
                "protect it; extend amurlink.core.protection before sharing it"
            )

    books = {n: dataset[n] for n in INCIDENT_BOOK_TABLES if n in dataset.tables}
    if books:
        from amurlink.incidents.protect import protect_incident_tables

        books = protect_incident_tables(books, audience=audience, policy=policy,
                                        agreement_tables=agreement_tables)
    deployments, media, observations = dataset.deployments, dataset.media, dataset.observations
    complete = getattr(dataset, "scoped_from", None)
    if not isinstance(complete, Dataset):
        complete = None
    # whose deployments are whose is a fact of the complete data (a scope may drop the table)
    details = (complete if complete is not None else dataset).get("deploymentDetails")
    owned = _owned_deployments(deployments, details, audience)
    samples = dataset.get("samples")
    owned_samples = _owned_samples(samples, audience) if samples is not None else None
    if owned.all() and (owned_samples is None or owned_samples.all()):
        return dataset.replace(**books)

    ranks = _deployment_ranks(deployments, observations, owned, audience, policy)
    if complete is not None:
        # a scoped dataset (amurlink.release.scope): sensitivity is decided on the complete
        # data, so an agreement that drops the tiger's records never lowers its stations
        decided = station_levels(complete, audience=audience, policy=policy).map(_RANK)
        decided = decided[~decided.index.duplicated()]
        floor = deployments["deploymentID"].map(decided).fillna(_WITHHELD)
        ranks = np.maximum(ranks, floor.to_numpy(dtype=np.int8))
    new: dict[str, pd.DataFrame] = {}
    new["deployments"] = _protect(deployments, ranks, crs=policy.crs,
                                  withheld_area=policy.withheld_area, withheld_blank=False,
                                  id_column="deploymentID")

    owned_ids = deployments["deploymentID"][owned]
    shared_media = ~media["deploymentID"].isin(owned_ids).to_numpy()
    private = _private_media(media, observations)
    if complete is not None and len(media) and "mediaID" in media:
        # people seen on the complete data, even if scoping removed the observation
        held = complete.media["mediaID"][_private_media(complete.media, complete.observations)]
        private |= media["mediaID"].isin(held).to_numpy(dtype=bool)
    drop = shared_media & private
    new_media = media.loc[~drop].copy()
    if "exifData" in new_media:
        keep_shared = shared_media[~drop]
        new_media["exifData"] = new_media["exifData"].astype(object).where(~keep_shared, None)
    new["media"] = new_media
    if "mediaID" in observations:
        gone = observations["mediaID"].isin(media["mediaID"][drop]).to_numpy()
        new["observations"] = observations.loc[~gone].copy()

    if samples is not None:
        names = samples.get("scientificName", pd.Series(pd.NA, index=samples.index, dtype=object))
        sample_ranks = np.maximum(_base_rank(audience, policy),
                                  _record_ranks(names, audience, policy)).astype(np.int8)
        sample_ranks[owned_samples] = _EXACT
        new["samples"] = _protect(samples, sample_ranks, crs=policy.crs, withheld_area=None,
                                  withheld_blank=True, id_column="sampleID")

    metadata = dict(dataset.metadata)
    shown = ranks[ranks != _EXACT]
    if shown.size:
        precision = _PRECISION[LOCATION_LEVELS[int(shown.max())]].coordinate_precision
        old = metadata.get("coordinatePrecision")
        if isinstance(old, int | float) and not isinstance(old, bool):
            precision = max(precision, float(old))
        metadata["coordinatePrecision"] = precision
        box = _spatial(new["deployments"]["longitude"], new["deployments"]["latitude"])
        if box is None:
            metadata.pop("spatial", None)
        else:
            metadata["spatial"] = box
    return dataset.replace(metadata=metadata, **new, **books)
