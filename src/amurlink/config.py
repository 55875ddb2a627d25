"""Study settings: one validated ``amurlink.toml`` read into a frozen ``StudyConfig``."""

from __future__ import annotations

import difflib
import math
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pyproj

from amurlink.core.crs import DEFAULT_WORKING_CRS, as_crs, require_projected
from amurlink.core.protection import (
    DEFAULT_SENSITIVE_SPECIES,
    ProtectionPolicy,
    WithheldArea,
)
from amurlink.exceptions import AmurlinkError, ConfigError
from amurlink.schema import LOCATION_LEVELS

__all__ = [
    "CONFIG_FILENAME",
    "EXAMPLE_CONFIG",
    "LANGUAGES",
    "StudySettings",
    "CRSSettings",
    "BorderSettings",
    "Country",
    "EventSettings",
    "LinkSettings",
    "RunSettings",
    "SecrSettings",
    "CorridorSettings",
    "CountryInputs",
    "InputSettings",
    "OccasionSettings",
    "Species",
    "StudyConfig",
    "load_config",
]

#: The file name a study's settings are kept in.
CONFIG_FILENAME = "amurlink.toml"
#: A complete, commented example (the defaults of the Amur study), shipped with the package.
EXAMPLE_CONFIG: Path = Path(__file__).resolve().parent / "datasets" / CONFIG_FILENAME
#: Languages that species names (and reports) are given in.
LANGUAGES: tuple[str, ...] = ("en", "zh", "ru")

_COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
_CATALOGUE_RE = re.compile(r"^[A-Z]{2}-[A-Za-z0-9_]+$")


# ---------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StudySettings:
    """``[study]``: what the study is called.

    Parameters
    ----------
    name : str, default "Amur tiger and leopard transboundary monitoring"
        Title used in reports and exported packages.
    """

    name: str = "Amur tiger and leopard transboundary monitoring"


@dataclass(frozen=True)
class CRSSettings:
    """``[crs]``: the projected metric CRS of every distance and area computation.

    Parameters
    ----------
    working : str, default "EPSG:32652"
        Any CRS string pyproj reads (WGS 84 / UTM zone 52N by default); must be projected
        with axes in metres.
    """

    working: str = DEFAULT_WORKING_CRS

    @property
    def crs(self) -> pyproj.CRS:
        """The working CRS as a :class:`pyproj.CRS`."""
        return as_crs(self.working)


@dataclass(frozen=True)
class BorderSettings:
    """``[border]``: the international border line.

    Parameters
    ----------
    file : Path, optional
        GeoJSON / GeoPackage file with the border, resolved against the folder of the
        ``amurlink.toml`` it was read from. ``None``: no border file configured.
    """

    file: Path | None = None


@dataclass(frozen=True)
class Country:
    """One entry of ``[countries]``: a country whose data the study pools.

    Parameters
    ----------
    code : str
        ISO 3166-1 alpha-2 code (``CN``, ``RU``), as in ``deploymentDetails.countryCode``.
    organisation : str, optional
        Organisation that owns the country's data (the owner ``Audience`` for it).
    catalogue : str, optional
        Namespace of its individual IDs, ``<code>-<name>`` (``CN-NTLNP``).
    timezone : str, optional
        IANA time zone its cameras are usually set to (``Asia/Shanghai``).
    """

    code: str
    organisation: str | None = None
    catalogue: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class EventSettings:
    """``[events]``: how detections are grouped into independent events.

    Parameters
    ----------
    independence_minutes : float, default 30
        Minimum gap in minutes between two detections of a species at a station for the
        second to count as a new independent event.
    """

    independence_minutes: float = 30.0

    @property
    def independence(self) -> timedelta:
        """The threshold as a :class:`datetime.timedelta`."""
        return timedelta(minutes=self.independence_minutes)


@dataclass(frozen=True)
class OccasionSettings:
    """``[occasions]``: how survey time is cut into sampling occasions.

    Parameters
    ----------
    length_days : int, default 1
        Occasion length in days (detection histories, SECR).
    """

    length_days: int = 1

    @property
    def length(self) -> timedelta:
        """The occasion length as a :class:`datetime.timedelta`."""
        return timedelta(days=self.length_days)


@dataclass(frozen=True)
class Species:
    """One ``[[species]]`` entry: a target species and its names in the report languages.

    Parameters
    ----------
    scientific_name : str
        Scientific name as in ``observations.scientificName`` (``scientificName`` in TOML).
    names : mapping of str to str
        Common names keyed by language (``en``, ``zh``, ``ru``).
    """

    scientific_name: str
    names: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", MappingProxyType(dict(self.names)))

    def __hash__(self) -> int:
        return hash((self.scientific_name, tuple(sorted(self.names.items()))))

    def name(self, language: str = "en") -> str:
        """Common name in ``language``, falling back to English, then the scientific name."""
        return self.names.get(language) or self.names.get("en") or self.scientific_name


#: Sources a country's records may come from (keys of ``[inputs.XX]``): each a list of paths.
INPUT_SOURCE_KEYS: tuple[str, ...] = ("camtrap_dp", "mapping", "wildlife_insights",
                                      "megadetector")
#: Audiences a report can be written for (keys of ``[inputs.reports]``).
REPORT_AUDIENCES: tuple[str, ...] = ("owner", "partner", "public")
#: Map layers a study can name (keys of ``[inputs.layers]``).
LAYER_KEYS: tuple[str, ...] = ("parks", "rivers", "roads", "settlements")


@dataclass(frozen=True)
class CountryInputs:
    """One ``[inputs.XX]`` table: the files a country's data comes from.

    Paths are kept as written (relative to the folder of ``amurlink.toml``); resolve them
    with :meth:`InputSettings.path`.

    Parameters
    ----------
    code : str
        ISO code of the country (the table name).
    camtrap_dp : tuple of str
        Camtrap DP packages (folder, ``datapackage.json`` or ``.zip``).
    mapping : tuple of str
        National tables through an import mapping (``*.mapping.toml``, or a folder holding
        exactly one mapping TOML).
    wildlife_insights, megadetector : tuple of str
        Import mappings whose ``[source] format`` is ``wildlife-insights`` or
        ``megadetector`` / ``speciesnet`` (or folders holding one).
    photos : tuple of str
        Flank-photo catalogues of the country (CSV: ``filePath``, ``catalogue``,
        ``individualID``, ``species``, ``side``, ``bboxX..bboxHeight``).
    dna : tuple of str
        The country's DNA lab genotype files.
    incidents, smart, earthranger : tuple of str
        The country's incident books (docs/incidents.md): folders of incident CSV tables
        (``incidents.csv``, ``claimants.csv``, ...), SMART bundles (``er-smart-sync``
        folders) and EarthRanger event exports (JSON).
    """

    code: str
    camtrap_dp: tuple[str, ...] = ()
    mapping: tuple[str, ...] = ()
    wildlife_insights: tuple[str, ...] = ()
    megadetector: tuple[str, ...] = ()
    photos: tuple[str, ...] = ()
    dna: tuple[str, ...] = ()
    incidents: tuple[str, ...] = ()
    smart: tuple[str, ...] = ()
    earthranger: tuple[str, ...] = ()

    @property
    def sources(self) -> tuple[tuple[str, str], ...]:
        """``(kind, path)`` of every record source, in key order."""
        return tuple((k, p) for k in INPUT_SOURCE_KEYS for p in getattr(self, k))


@dataclass(frozen=True)
class InputSettings:
    """``[inputs]``: the files a study is built from (``amurlink run`` reads them).

    Every key is optional; an empty ``[inputs]`` means the study names no files (the
    single-step commands still work on paths given to them). Paths are kept as written and
    resolved against ``base_dir`` (the folder of ``amurlink.toml``) by :meth:`path`;
    whether they exist is checked by ``amurlink run`` (which names the key), not on load.

    Parameters
    ----------
    countries : tuple of CountryInputs
        Per country (``[inputs.CN]``, ``[inputs.RU]``) its record sources, photo catalogues
        and DNA lab files.
    crosswalk : str, optional
        Expert crosswalk CSV (``<cc>_id`` columns, ``method``, ``reviewer``, ``date``).
    border : str, optional
        Border file (GeoJSON / GeoPackage); ``[border] file`` is used when absent.
    photos : tuple of str
        Photo catalogues covering several countries (the ``catalogue`` column says whose).
    dna : tuple of str
        DNA lab files covering several countries.
    dna_reference : tuple of str
        Reference samples typed by every lab (lab-offset calibration).
    layers : mapping of str to str
        Map layers by kind (``parks``, ``rivers``, ``roads``, ``settlements``): GeoPackage or
        GeoJSON files.
    period_start, period_end : datetime.date, optional
        The study period (inclusive); analyses are bounded by it.
    reports : mapping of str to tuple of str
        Reports wanted: audience (``owner``, ``partner``, ``public``) to languages.
        Default ``{"owner": ("en", "zh", "ru"), "public": ("en",)}``.
    base_dir : Path, optional
        Folder the paths are relative to (not compared).
    """

    countries: tuple[CountryInputs, ...] = ()
    crosswalk: str | None = None
    border: str | None = None
    photos: tuple[str, ...] = ()
    dna: tuple[str, ...] = ()
    dna_reference: tuple[str, ...] = ()
    layers: Mapping[str, str] = field(default_factory=dict)
    period_start: date | None = None
    period_end: date | None = None
    reports: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {"owner": ("en", "zh", "ru"), "public": ("en",)})
    base_dir: Path | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", MappingProxyType(dict(self.layers)))
        object.__setattr__(self, "reports", MappingProxyType(
            {k: tuple(v) for k, v in dict(self.reports).items()}))

    def __hash__(self) -> int:
        return hash((self.countries, self.crosswalk, self.border, self.photos, self.dna,
                     self.dna_reference, tuple(sorted(self.layers.items())),
                     self.period_start, self.period_end,
                     tuple(sorted(self.reports.items()))))

    @property
    def empty(self) -> bool:
        """True when no file is named (the defaults)."""
        return self == InputSettings()

    def path(self, name: str | Path) -> Path:
        """``name`` resolved against :attr:`base_dir` (unchanged when absolute)."""
        p = Path(name).expanduser()
        if p.is_absolute() or self.base_dir is None:
            return p
        return self.base_dir / p

    def country(self, code: str) -> CountryInputs | None:
        """The ``[inputs.XX]`` entry of ``code``, or None."""
        for c in self.countries:
            if c.code == code.upper():
                return c
        return None

    @property
    def all_photos(self) -> tuple[str, ...]:
        """Every photo catalogue: the shared ones, then each country's."""
        return self.photos + tuple(p for c in self.countries for p in c.photos)

    @property
    def all_dna(self) -> tuple[str, ...]:
        """Every DNA lab file: the shared ones, then each country's."""
        return self.dna + tuple(p for c in self.countries for p in c.dna)

    @property
    def report_list(self) -> tuple[tuple[str, str], ...]:
        """``(audience, language)`` of every report wanted, owner first."""
        return tuple((a, lang) for a in REPORT_AUDIENCES for lang in self.reports.get(a, ()))

    def named_files(self) -> list[tuple[str, str]]:
        """``(key, path as written)`` of every file the inputs name (dotted keys)."""
        out: list[tuple[str, str]] = []
        for c in self.countries:
            for key in (*INPUT_SOURCE_KEYS, "photos", "dna"):
                out += [(f"inputs.{c.code}.{key}", p) for p in getattr(c, key)]
        for key in ("crosswalk", "border"):
            if getattr(self, key) is not None:
                out.append((f"inputs.{key}", getattr(self, key)))
        for key in ("photos", "dna", "dna_reference"):
            out += [(f"inputs.{key}", p) for p in getattr(self, key)]
        out += [(f"inputs.layers.{k}", v) for k, v in self.layers.items()]
        return out

    def missing(self) -> list[str]:
        """One message per named file that does not exist (key, path, where it was looked)."""
        msgs = []
        for key, name in self.named_files():
            p = self.path(name)
            if not p.exists():
                msgs.append(f"`{key}` = {name!r}: {p} does not exist; fix the path in "
                            f"amurlink.toml or add the file")
        return msgs

    def to_dict(self) -> dict[str, Any]:
        """TOML-shaped ``[inputs]`` (paths as written)."""
        out: dict[str, Any] = {}
        for key in ("crosswalk", "border"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        for key in ("photos", "dna", "dna_reference"):
            if getattr(self, key):
                out[key] = list(getattr(self, key))
        if self.period_start is not None or self.period_end is not None:
            out["period"] = {k: v.isoformat() for k, v in (("start", self.period_start),
                                                           ("end", self.period_end))
                             if v is not None}
        if self.layers:
            out["layers"] = dict(self.layers)
        out["reports"] = {k: list(v) for k, v in self.reports.items()}
        for c in self.countries:
            out[c.code] = {k: list(getattr(c, k)) for k in (*INPUT_SOURCE_KEYS, "photos", "dna",
                                                            *INCIDENT_INPUT_KEYS)
                           if getattr(c, k)}
        return out


_DEFAULT_COUNTRIES = (
    Country("CN", "Northeast China Tiger and Leopard National Park", "CN-NTLNP", "Asia/Shanghai"),
    Country("RU", "Land of the Leopard National Park", "RU-LLNP", "Asia/Vladivostok"),
)
_DEFAULT_SPECIES = (
    Species("Panthera tigris",
            {"en": "Amur tiger", "zh": "东北虎", "ru": "амурский тигр"}),
    Species("Panthera pardus",
            {"en": "Amur leopard", "zh": "东北豹", "ru": "дальневосточный леопард"}),
)


@dataclass(frozen=True)
class LinkSettings:
    """``[links]``: how identity links between the countries' catalogues are decided.

    Parameters
    ----------
    two_party : bool, default True
        A link between two countries' national IDs is confirmed only when a reviewer of
        each side has accepted it (one side's acceptance awaits the partner; a rejection by
        either side rejects). ``false`` lets one reviewer confirm alone.
    """

    two_party: bool = True


#: The status of a stage left out by ``[run] skip`` (run record, summary, report sections).
SKIPPED_BY_CONFIG = "skipped: left out by [run] skip"


@dataclass(frozen=True)
class RunSettings:
    """``[run]``: what ``amurlink run`` leaves out.

    Parameters
    ----------
    skip : tuple of str, default ()
        Stages not to run (names as ``amurlink run`` lists them, e.g. ``"design"``,
        ``"corridors"``, ``"incidents"``, ``"secr models"``); each is reported as skipped,
        with this setting as its reason, and so are the stages that need it. Names are
        checked by ``amurlink run`` against its stages.
    """

    skip: tuple[str, ...] = ()


#: What the analyses do with records the harmoniser flagged (``[quality] records``).
QUALITY_RECORDS: tuple[str, ...] = ("exclude", "correct", "keep")


@dataclass(frozen=True)
class QualitySettings:
    """``[quality]``: which records enter the analyses.

    Parameters
    ----------
    records : {"exclude", "correct", "keep"}, default "exclude"
        Records with a camera clock a whole year wrong, before set-up, after retrieval, of
        an unknown deployment or duplicated: ``exclude`` leaves them out of every analysis,
        ``correct`` moves a wrong clock year back by that year and leaves out the rest,
        ``keep`` keeps them. Records outside the study period are always left out
        (``amurlink.analysis.quality``).
    """

    records: str = "exclude"


#: ``[inputs.XX]`` keys naming a country's incident books (docs/incidents.md).
INCIDENT_INPUT_KEYS: tuple[str, ...] = ("incidents", "smart", "earthranger")
#: Default village-warning distance bands, km (level 1, 2, 3).
DEFAULT_WARNING_LEVELS_KM: tuple[tuple[float, float], ...] = ((0.0, 1.0), (1.0, 2.0), (3.0, 5.0))


@dataclass(frozen=True)
class WarningSettings:
    """``[warnings]``: village warnings raised by camera detections near settlements.

    Parameters
    ----------
    levels_km : tuple of (float, float)
        Distance bands of warning levels 1, 2, 3, ... in km (``[[0, 1], [1, 2], [3, 5]]``:
        level 1 [0, 1) km, level 2 [1, 2) km, level 3 [3, 5] km; none between or beyond;
        ``amurlink.incidents.parse_warning_levels``).
    """

    levels_km: tuple[tuple[float, float], ...] = DEFAULT_WARNING_LEVELS_KM


@dataclass(frozen=True)
class CorridorSettings:
    """``[corridors]``: the corridors stage of ``amurlink run`` (docs/corridors.md).

    Parameters
    ----------
    core_setback_km : float, default 5
        The core areas are the parks' cells farther than this from the border, so the current
        crosses a border zone (``amurlink.landscape.transboundary.CORE_SETBACK_KM``).
    segment_km : float, default 10
        Length of the border segments the current and the observed crossings are counted on.
    percentile : float, default 5
        Width of the least-cost corridor: cells within this cost percentile.
    transform : {"inverse", "negexp", "linear"}, default "inverse"
        Suitability to resistance, when the resistance comes from the habitat model on the
        cameras (``landscape/covariates/``; ``amurlink.landscape.habitat``).
    """

    core_setback_km: float = 5.0
    segment_km: float = 10.0
    percentile: float = 5.0
    transform: str = "inverse"


@dataclass(frozen=True)
class SecrSettings:
    """``[secr]``: what ``amurlink run`` fits beyond the camera-only SECR models.

    Parameters
    ----------
    dna : bool, default False
        Also fit camera + DNA models (``secr models`` stage): the camera occasions and DNA
        search occasions of the same animals in one model (shared density and movement,
        ``lambda0 ~ dettype``), jointly and per country, from the ``[inputs]`` DNA lab files
        and the confirmed sample-to-individual links (docs/secr.md).
    dna_spacing_m : float, default 2000
        Spacing of the proximity grid that stands for the searched area, metres.
    dna_occasions : int, default 1
        DNA search occasions (equal time bins from the first to the last sample).
    dna_search : str, optional
        A GeoJSON (longitude/latitude, relative to the study folder) of the routes walked or
        areas searched for DNA: the DNA is then fitted as that transect or polygon search,
        with the cameras as linked methods (``lambda0 ~ session``), instead of the proximity
        grid of ``dna_spacing_m``.
    dna_snap_m : float, default 100
        With ``dna_search``: samples up to this far from a route are moved onto it.
    """

    dna: bool = False
    dna_spacing_m: float = 2000.0
    dna_occasions: int = 1
    dna_search: str | None = None
    dna_snap_m: float = 100.0


@dataclass(frozen=True)
class StudyConfig:
    """Settings of one study, as read from ``amurlink.toml`` (all sections optional).

    The defaults are those of the Amur study: UTM 52N, China and Russia, 30-minute
    independence, 1-day occasions, tiger and leopard, public ``withheld`` and partners ``1km``.
    Build it with :func:`load_config` or :meth:`from_dict`, which validate; the library never
    reads a config file or environment variable by itself, so pass the config down explicitly.

    Parameters
    ----------
    study : StudySettings
    crs : CRSSettings
    border : BorderSettings
    countries : tuple of Country
    events : EventSettings
    occasions : OccasionSettings
    species : tuple of Species
    protection : ProtectionPolicy
        Location protection; its ``crs`` is the working CRS.
    inputs : InputSettings
        ``[inputs]``: the files the study is built from (``amurlink run``).
    links : LinkSettings
        ``[links]``: the two-party rule of identity links.
    run : RunSettings
        ``[run]``: stages ``amurlink run`` leaves out.
    source : Path, optional
        File the settings were read from (not compared).

    See Also
    --------
    load_config : read and validate an ``amurlink.toml``.
    amurlink.core.protection.protect_dataset : uses ``protection``.

    Examples
    --------
    >>> cfg = StudyConfig.from_dict({"events": {"independence_minutes": 60}})
    >>> cfg.events.independence_minutes, cfg.crs.working, cfg.country_codes
    (60.0, 'EPSG:32652', ('CN', 'RU'))
    """

    study: StudySettings = field(default_factory=StudySettings)
    crs: CRSSettings = field(default_factory=CRSSettings)
    border: BorderSettings = field(default_factory=BorderSettings)
    countries: tuple[Country, ...] = _DEFAULT_COUNTRIES
    events: EventSettings = field(default_factory=EventSettings)
    occasions: OccasionSettings = field(default_factory=OccasionSettings)
    species: tuple[Species, ...] = _DEFAULT_SPECIES
    protection: ProtectionPolicy = field(default_factory=ProtectionPolicy)
    inputs: InputSettings = field(default_factory=InputSettings)
    links: LinkSettings = field(default_factory=LinkSettings)
    quality: QualitySettings = field(default_factory=lambda: QualitySettings())
    warnings: WarningSettings = field(default_factory=lambda: WarningSettings())
    corridors: CorridorSettings = field(default_factory=lambda: CorridorSettings())
    secr: SecrSettings = field(default_factory=lambda: SecrSettings())
    run: RunSettings = field(default_factory=RunSettings)
    source: Path | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "countries", tuple(self.countries))
        object.__setattr__(self, "species", tuple(self.species))
        if as_crs(self.protection.crs) != as_crs(self.crs.working):
            raise ConfigError(
                f"protection.crs ({self.protection.crs}) differs from crs.working "
                f"({self.crs.working}); build the ProtectionPolicy with crs=crs.working"
            )

    # -- conveniences ----------------------------------------------------------------------
    @property
    def working_crs(self) -> pyproj.CRS:
        """The working CRS as a :class:`pyproj.CRS`."""
        return self.crs.crs

    @property
    def country_codes(self) -> tuple[str, ...]:
        """ISO codes of the study's countries, in file order."""
        return tuple(c.code for c in self.countries)

    def country(self, code: str) -> Country:
        """The ``[countries]`` entry of ``code``.

        Raises
        ------
        KeyError
            If the study has no such country.
        """
        for entry in self.countries:
            if entry.code == code.upper():
                return entry
        raise KeyError(f"the study has no country {code!r}; it has {list(self.country_codes)}")

    # -- (de)serialisation -----------------------------------------------------------------
    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        /,
        *,
        base_dir: str | Path | None = None,
        source: str | Path | None = None,
    ) -> StudyConfig:
        """Validate a parsed ``amurlink.toml`` (a nested mapping) and build the config.

        Parameters
        ----------
        data : mapping
            Sections as TOML parses them; missing sections and keys take their defaults.
        base_dir : str or Path, optional
            Folder that relative paths (``border.file``) are resolved against; the current
            directory if ``None``.
        source : str or Path, optional
            Where ``data`` came from, named in error messages.

        Returns
        -------
        StudyConfig

        Raises
        ------
        ConfigError
            Listing every invalid or unknown key (dotted path), expected vs got, and the fix.
        """
        reader = _Reader(str(source) if source is not None else "<config>",
                         Path(base_dir) if base_dir is not None else None)
        config = reader.read(data)
        reader.raise_for_errors()  # read() returns None only when it recorded an error
        if config is None:  # pragma: no cover
            raise ConfigError(f"{reader.source}: invalid study config")
        if source is not None:
            object.__setattr__(config, "source", Path(source))
        return config

    def to_dict(self) -> dict[str, Any]:
        """The settings as a TOML-shaped dict (``from_dict(cfg.to_dict()) == cfg``)."""
        policy = self.protection
        protection: dict[str, Any] = {
            "sensitive_species": list(policy.sensitive_species),
            "partner": policy.partner_level,
            "partner_sensitive": policy.partner_sensitive_level,
            "public": policy.public_level,
        }
        if policy.withheld_area is not None:
            area = policy.withheld_area
            protection["withheld_area"] = {
                "latitude": area.latitude, "longitude": area.longitude, "radius_m": area.radius_m,
            }
        out: dict[str, Any] = {
            "study": {"name": self.study.name},
            "crs": {"working": self.crs.working},
            "border": {} if self.border.file is None else {"file": str(self.border.file)},
            "countries": {
                c.code: {k: v for k, v in (("organisation", c.organisation),
                                           ("catalogue", c.catalogue),
                                           ("timezone", c.timezone)) if v is not None}
                for c in self.countries
            },
            "events": {"independence_minutes": self.events.independence_minutes},
            "occasions": {"length_days": self.occasions.length_days},
            "species": [{"scientificName": s.scientific_name, "names": dict(s.names)}
                        for s in self.species],
            "protection": protection,
        }
        if not self.inputs.empty:
            out["inputs"] = self.inputs.to_dict()
        if self.links != LinkSettings():
            out["links"] = {"two_party": self.links.two_party}
        if self.quality != QualitySettings():
            out["quality"] = {"records": self.quality.records}
        if self.warnings != WarningSettings():
            out["warnings"] = {"levels_km": [list(b) for b in self.warnings.levels_km]}
        if self.corridors != CorridorSettings():
            out["corridors"] = {"core_setback_km": self.corridors.core_setback_km,
                                "segment_km": self.corridors.segment_km,
                                "percentile": self.corridors.percentile,
                                "transform": self.corridors.transform}
        if self.secr != SecrSettings():
            out["secr"] = {"dna": self.secr.dna, "dna_spacing_m": self.secr.dna_spacing_m,
                           "dna_occasions": self.secr.dna_occasions}
            if self.secr.dna_search is not None:
                out["secr"] |= {"dna_search": self.secr.dna_search,
                                "dna_snap_m": self.secr.dna_snap_m}
        if self.run != RunSettings():
            out["run"] = {"skip": list(self.run.skip)}
        return out


def load_config(path: str | Path, /) -> StudyConfig:
    """Read and validate an ``amurlink.toml``.

    Parameters
    ----------
    path : str or Path
        The TOML file. Relative paths inside it resolve against its folder.

    Returns
    -------
    StudyConfig

    Raises
    ------
    ConfigError
        If the file is missing, is not valid TOML, or holds invalid or unknown settings. The
        message names the file, each key as a dotted path, expected vs got, and the fix.

    See Also
    --------
    StudyConfig.from_dict : the same validation on an already parsed mapping.

    Examples
    --------
    >>> cfg = load_config(EXAMPLE_CONFIG)
    >>> cfg.protection.public_level
    'withheld'
    """
    file = Path(path)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{file}: no such study config file; create one from the documented example "
            f"{EXAMPLE_CONFIG} (see docs/config.md)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read the study config ({exc})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file}: is not UTF-8 text ({exc}); save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{file}: is not valid TOML: {exc}; check quotes, brackets and `key = value` lines "
            "there"
        ) from None
    except RecursionError:
        raise ConfigError(
            f"{file}: arrays or tables are nested too deeply to be a study config; see "
            "docs/config.md for its sections"
        ) from None
    return StudyConfig.from_dict(data, base_dir=file.resolve().parent, source=file)


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------
def _type_name(value: object) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
            dict: "table"}.get(type(value), type(value).__name__)


def _suggest(word: str, options: tuple[str, ...] | list[str]) -> str:
    lowered = {o.lower(): o for o in options}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.5)
    return f"did you mean `{lowered[close[0]]}`?" if close else ""


class _Reader:
    """Walks the parsed TOML, collecting every problem before raising once."""

    def __init__(self, source: str, base_dir: Path | None) -> None:
        self.source = source
        self.base_dir = base_dir
        self.errors: list[str] = []

    # -- reporting -------------------------------------------------------------------------
    def error(self, key: str, expected: str, got: object, fix: str) -> None:
        shown = f"{got!r} ({_type_name(got)})" if got is not _MISSING else "nothing"
        self.errors.append(f"`{key}`: expected {expected}, got {shown}; {fix}")

    def raise_for_errors(self) -> None:
        if not self.errors:
            return
        if len(self.errors) == 1:
            raise ConfigError(f"{self.source}: {self.errors[0]}")
        lines = "\n".join(f"  - {e}" for e in self.errors)
        raise ConfigError(
            f"{self.source}: {len(self.errors)} problems in the study config:\n{lines}"
        )

    # -- generic checks --------------------------------------------------------------------
    def table(self, data: Mapping[str, Any], key: str, prefix: str) -> Mapping[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, Mapping):
            self.error(f"{prefix}{key}", "a table", value,
                       f"write it as a [{prefix}{key}] section with `key = value` lines")
            return {}
        return value

    def known_keys(self, data: Mapping[str, Any], known: tuple[str, ...], prefix: str) -> None:
        for key in data:
            if key not in known:
                home = _KEY_HOMES.get(key)
                hint = _suggest(key, known)
                if not hint and home is not None and not prefix.startswith(home):
                    hint = f"`{key}` belongs in [{home}]"
                fix = hint or f"known keys here are {', '.join(known)}"
                self.errors.append(f"`{prefix}{key}`: unknown key; {fix}")

    def string(self, data: Mapping[str, Any], key: str, prefix: str, default: str | None,
               example: str) -> str | None:
        if key not in data:
            return default
        value = data[key]
        if not isinstance(value, str) or not value.strip():
            self.error(f"{prefix}{key}", "a non-empty string", value,
                       f'write it in quotes, e.g. {key} = "{example}"')
            return default
        return value.strip()

    def level(self, data: Mapping[str, Any], key: str, prefix: str, default: str) -> str:
        if key not in data:
            return default
        value = data[key]
        if value not in LOCATION_LEVELS:
            hint = _suggest(str(value), LOCATION_LEVELS) if isinstance(value, str) else ""
            self.error(f"{prefix}{key}", f"one of {', '.join(map(repr, LOCATION_LEVELS))}", value,
                       hint or f'e.g. {key} = "{default}"')
            return default
        return str(value)

    # -- sections --------------------------------------------------------------------------
    def read(self, data: Mapping[str, Any]) -> StudyConfig | None:
        if not isinstance(data, Mapping):
            self.error("(top level)", "a table of sections", data, "see docs/config.md")
            return None
        self.known_keys(data, _SECTIONS, "")
        defaults = StudyConfig()
        study = self.read_study(self.table(data, "study", ""), defaults.study)
        crs = self.read_crs(self.table(data, "crs", ""), defaults.crs)
        border = self.read_border(self.table(data, "border", ""))
        countries = self.read_countries(data.get("countries", _MISSING), defaults.countries)
        events = self.read_events(self.table(data, "events", ""), defaults.events)
        occasions = self.read_occasions(self.table(data, "occasions", ""), defaults.occasions)
        species = self.read_species(data.get("species", _MISSING), defaults.species)
        protection = self.read_protection(self.table(data, "protection", ""), crs.working)
        inputs = self.read_inputs(self.table(data, "inputs", ""),
                                  tuple(c.code for c in countries))
        links = self.read_links(self.table(data, "links", ""))
        quality = self.read_quality(self.table(data, "quality", ""))
        warnings_ = self.read_warnings(self.table(data, "warnings", ""))
        corridors = self.read_corridors(self.table(data, "corridors", ""))
        secr = self.read_secr(self.table(data, "secr", ""))
        run = self.read_run(self.table(data, "run", ""))
        if self.errors:
            return None
        return StudyConfig(study=study, crs=crs, border=border, countries=countries,
                           events=events, occasions=occasions, species=species,
                           protection=protection, inputs=inputs, links=links,
                           quality=quality, warnings=warnings_, corridors=corridors,
                           secr=secr, run=run)

    def read_corridors(self, data: Mapping[str, Any]) -> CorridorSettings:
        self.known_keys(data, ("core_setback_km", "segment_km", "percentile", "transform"),
                        "corridors.")
        out = CorridorSettings()
        checks = (
            ("core_setback_km", lambda v: v >= 0, "a number of km, 0 or more",
             "write e.g. core_setback_km = 5 (0: only the border line's cells are left out)"),
            ("segment_km", lambda v: v > 0, "a positive number of km",
             "write e.g. segment_km = 10"),
            ("percentile", lambda v: 0 < v <= 100, "a number in (0, 100]",
             "write e.g. percentile = 5 (the cheapest 5 % of cells form the corridor)"),
        )
        values = {}
        for key, ok, expected, hint in checks:
            v = data.get(key, getattr(out, key))
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) \
                    or not ok(v):
                self.error(f"corridors.{key}", expected, v, hint)
                v = getattr(out, key)
            values[key] = float(v)
        transform = data.get("transform", out.transform)
        if transform not in _TRANSFORMS:
            self.error("corridors.transform", f"one of {', '.join(_TRANSFORMS)}", transform,
                       'write e.g. transform = "inverse" (resistance = 1 / suitability)')
            transform = out.transform
        return CorridorSettings(**values, transform=transform)

    def read_secr(self, data: Mapping[str, Any]) -> SecrSettings:
        self.known_keys(data, ("dna", "dna_spacing_m", "dna_occasions", "dna_search",
                               "dna_snap_m"), "secr.")
        out = SecrSettings()
        dna = data.get("dna", out.dna)
        if not isinstance(dna, bool):
            self.error("secr.dna", "true or false", dna,
                       "write dna = true to fit camera + DNA models as well")
            dna = out.dna
        spacing = data.get("dna_spacing_m", out.dna_spacing_m)
        if (isinstance(spacing, bool) or not isinstance(spacing, int | float)
                or not math.isfinite(spacing) or spacing <= 0):
            self.error("secr.dna_spacing_m", "a positive number of metres", spacing,
                       "write e.g. dna_spacing_m = 1500 (about half the animals' sigma)")
            spacing = out.dna_spacing_m
        occ = data.get("dna_occasions", out.dna_occasions)
        if isinstance(occ, bool) or not isinstance(occ, int) or occ < 1:
            self.error("secr.dna_occasions", "a whole number >= 1", occ,
                       "write e.g. dna_occasions = 2")
            occ = out.dna_occasions
        search = data.get("dna_search", out.dna_search)
        if search is not None and (not isinstance(search, str) or not search.strip()):
            self.error("secr.dna_search", "a file name", search,
                       'write e.g. dna_search = "dna/search.geojson" (routes or areas '
                       "searched, longitude/latitude)")
            search = out.dna_search
        snap = data.get("dna_snap_m", out.dna_snap_m)
        if (isinstance(snap, bool) or not isinstance(snap, int | float)
                or not math.isfinite(snap) or snap < 0):
            self.error("secr.dna_snap_m", "a number of metres >= 0", snap,
                       "write e.g. dna_snap_m = 50")
            snap = out.dna_snap_m
        return SecrSettings(dna=dna, dna_spacing_m=float(spacing), dna_occasions=int(occ),
                            dna_search=search, dna_snap_m=float(snap))

    def read_run(self, data: Mapping[str, Any]) -> RunSettings:
        self.known_keys(data, ("skip",), "run.")
        value = data.get("skip", [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip()
                                                  for v in value):
            self.error("run.skip", "an array of stage names", value,
                       'write skip = ["design", "secr models"] (the stages `amurlink run` '
                       "lists)")
            return RunSettings()
        return RunSettings(skip=tuple(dict.fromkeys(v.strip() for v in value)))

    def read_quality(self, data: Mapping[str, Any]) -> QualitySettings:
        self.known_keys(data, ("records",), "quality.")
        value = data.get("records", "exclude")
        if value not in QUALITY_RECORDS:
            self.error("quality.records", f"one of {', '.join(QUALITY_RECORDS)}", value,
                       'write records = "exclude" (default: flagged records are left out of '
                       'the analyses), "correct" or "keep"')
            return QualitySettings()
        return QualitySettings(records=value)

    def read_warnings(self, data: Mapping[str, Any]) -> WarningSettings:
        self.known_keys(data, ("levels_km",), "warnings.")
        if "levels_km" not in data:
            return WarningSettings()
        value = data["levels_km"]
        hint = "write levels_km = [[0, 1], [1, 2], [3, 5]] (km; level 1, 2, 3)"
        ok = (isinstance(value, list) and value and all(
            isinstance(b, list) and len(b) == 2 and all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in b)
            for b in value))
        if not ok:
            self.error("warnings.levels_km", "an array of [from, to] pairs in km", value, hint)
            return WarningSettings()
        from amurlink.incidents.analysis import parse_warning_levels

        try:
            parse_warning_levels(value)
        except AmurlinkError as exc:
            self.errors.append(f"`warnings.levels_km`: {exc}; {hint}")
            return WarningSettings()
        return WarningSettings(levels_km=tuple((float(a), float(b)) for a, b in value))

    def read_links(self, data: Mapping[str, Any]) -> LinkSettings:
        self.known_keys(data, ("two_party",), "links.")
        value = data.get("two_party", True)
        if not isinstance(value, bool):
            self.error("links.two_party", "true or false", value,
                       "write two_party = true (a reviewer of each side confirms a link) "
                       "or false")
            return LinkSettings()
        return LinkSettings(two_party=value)

    def read_study(self, data: Mapping[str, Any], default: StudySettings) -> StudySettings:
        self.known_keys(data, ("name",), "study.")
        name = self.string(data, "name", "study.", default.name, "Amur tiger joint survey 2024")
        return StudySettings(name=name or default.name)

    def read_crs(self, data: Mapping[str, Any], default: CRSSettings) -> CRSSettings:
        self.known_keys(data, ("working",), "crs.")
        if "working" not in data:
            return default
        value = data["working"]
        if isinstance(value, int) and not isinstance(value, bool):
            value = f"EPSG:{value}"
        if not isinstance(value, str) or not value.strip():
            self.error("crs.working", "a CRS string such as \"EPSG:32652\"", data["working"],
                       'write e.g. working = "EPSG:32652" (WGS 84 / UTM zone 52N)')
            return default
        try:
            require_projected(value.strip())
        except AmurlinkError as exc:  # message says what, expected vs got and the fix
            self.errors.append(f"`crs.working`: expected a projected CRS in metres; {exc}")
            return default
        return CRSSettings(working=value.strip())

    def read_border(self, data: Mapping[str, Any]) -> BorderSettings:
        self.known_keys(data, ("file",), "border.")
        name = self.string(data, "file", "border.", None, "border.geojson")
        if name is None:
            return BorderSettings()
        path = Path(name).expanduser()
        if not path.is_absolute() and self.base_dir is not None:
            path = self.base_dir / path
        if not path.is_file():
            where = f"relative to {self.base_dir}" if self.base_dir else "relative to the cwd"
            self.error("border.file", "an existing border file", name,
                       f"{path} does not exist ({where}); fix the path or remove the key")
            return BorderSettings()
        return BorderSettings(file=path)

    def read_countries(self, value: Any, default: tuple[Country, ...]) -> tuple[Country, ...]:
        if value is _MISSING:
            return default
        known_defaults = {c.code: c for c in default}
        if isinstance(value, list):
            out = []
            for i, code in enumerate(value):
                if not isinstance(code, str) or not _COUNTRY_RE.match(code):
                    self.error(f"countries[{i}]", 'an ISO 3166-1 alpha-2 code such as "CN"',
                               code, 'write upper-case codes, e.g. countries = ["CN", "RU"]')
                    continue
                out.append(known_defaults.get(code, Country(code)))
            entries = out
        elif isinstance(value, Mapping):
            entries = []
            for code, spec in value.items():
                key = f"countries.{code}"
                if not _COUNTRY_RE.match(code):
                    self.error(key, "an ISO 3166-1 alpha-2 code as the table name", code,
                               "name the table by upper-case code, e.g. [countries.CN]")
                    continue
                if not isinstance(spec, Mapping):
                    self.error(key, "a table", spec,
                               f'write e.g. [{key}] with organisation = "..." on the next line')
                    continue
                entries.append(self.read_country(code, spec))
        else:
            self.error("countries", 'a list of codes or [countries.XX] tables', value,
                       'write e.g. countries = ["CN", "RU"] (see docs/config.md)')
            return default
        codes = [c.code for c in entries]
        for code in sorted({c for c in codes if codes.count(c) > 1}):
            self.error("countries", "each country once", code, "remove the duplicate")
        if not entries and not self.errors:
            self.error("countries", "at least one country", value, 'e.g. countries = ["CN", "RU"]')
        return tuple(entries)

    def read_country(self, code: str, spec: Mapping[str, Any]) -> Country:
        prefix = f"countries.{code}."
        self.known_keys(spec, ("organisation", "catalogue", "timezone"), prefix)
        organisation = self.string(spec, "organisation", prefix, None,
                                   "Land of the Leopard National Park")
        catalogue = self.string(spec, "catalogue", prefix, None, f"{code}-PARK")
        if catalogue is not None and (not _CATALOGUE_RE.match(catalogue)
                                      or not catalogue.startswith(f"{code}-")):
            self.error(f"{prefix}catalogue", f"'{code}-' followed by letters, digits or _",
                       catalogue,
                       f'individual IDs are namespaced by it, e.g. catalogue = "{code}-PARK"')
            catalogue = None
        tz = self.string(spec, "timezone", prefix, None, "Asia/Vladivostok")
        if tz is not None:
            zones = zoneinfo.available_timezones()
            if zones and tz not in zones:
                hint = _suggest(tz, sorted(zones))
                self.error(f"{prefix}timezone", "an IANA time zone name", tz,
                           hint or 'e.g. timezone = "Asia/Shanghai" or "Asia/Vladivostok"')
                tz = None
        return Country(code, organisation, catalogue, tz)

    def read_events(self, data: Mapping[str, Any], default: EventSettings) -> EventSettings:
        self.known_keys(data, ("independence_minutes",), "events.")
        if "independence_minutes" not in data:
            return default
        value = data["independence_minutes"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 10_080:
            self.error("events.independence_minutes", "a number of minutes in (0, 10080]", value,
                       "write it without quotes, e.g. independence_minutes = 30")
            return default
        return EventSettings(independence_minutes=float(value))

    def read_occasions(self, data: Mapping[str, Any], default: OccasionSettings
                       ) -> OccasionSettings:
        self.known_keys(data, ("length_days",), "occasions.")
        if "length_days" not in data:
            return default
        value = data["length_days"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.error("occasions.length_days", "a whole number of days >= 1", value,
                       "write it without quotes or decimals, e.g. length_days = 1")
            return default
        return OccasionSettings(length_days=value)

    def read_species(self, value: Any, default: tuple[Species, ...]) -> tuple[Species, ...]:
        if value is _MISSING:
            return default
        if not isinstance(value, list):
            self.error("species", "an array of tables ([[species]] entries)", value,
                       'write each species as a [[species]] block with scientificName = "..."')
            return default
        out: list[Species] = []
        for i, spec in enumerate(value):
            prefix = f"species[{i}]."
            if not isinstance(spec, Mapping):
                self.error(f"species[{i}]", "a table", spec,
                           'write it as a [[species]] block with scientificName = "..."')
                continue
            self.known_keys(spec, ("scientificName", "names"), prefix)
            name = self.string(spec, "scientificName", prefix, None, "Panthera pardus orientalis")
            if name is None and "scientificName" not in spec:
                self.error(f"{prefix}scientificName", "a scientific name", _MISSING,
                           'add scientificName = "Panthera tigris altaica" to the block')
            names = spec.get("names", {})
            if not isinstance(names, Mapping):
                self.error(f"{prefix}names", "a table of names by language", names,
                           'write e.g. names = { en = "Amur tiger", zh = "东北虎", '
                           'ru = "амурский тигр" }')
                names = {}
            self.known_keys(names, LANGUAGES, f"{prefix}names.")
            clean = {}
            for lang in LANGUAGES:
                text = self.string(names, lang, f"{prefix}names.", None, "Amur tiger")
                if text is not None:
                    clean[lang] = text
            if name is not None:
                out.append(Species(" ".join(name.split()), clean))
        seen = [s.scientific_name for s in out]
        for dup in sorted({n for n in seen if seen.count(n) > 1}):
            self.error("species", "each scientificName once", dup, "remove the duplicate block")
        return tuple(out)

    def read_protection(self, data: Mapping[str, Any], crs: str) -> ProtectionPolicy:
        prefix = "protection."
        self.known_keys(data, ("sensitive_species", "partner", "partner_sensitive", "public",
                               "withheld_area"), prefix)
        default = ProtectionPolicy(crs=crs)
        species = data.get("sensitive_species", list(DEFAULT_SENSITIVE_SPECIES))
        if (not isinstance(species, list) or not species
                or not all(isinstance(s, str) and s.strip() for s in species)):
            self.error(f"{prefix}sensitive_species", "a non-empty array of scientific names",
                       species, 'e.g. sensitive_species = ["Panthera tigris", "Panthera pardus"]')
            species = list(DEFAULT_SENSITIVE_SPECIES)
        partner = self.level(data, "partner", prefix, default.partner_level)
        partner_sensitive = self.level(data, "partner_sensitive", prefix,
                                       default.partner_sensitive_level)
        public = self.level(data, "public", prefix, default.public_level)
        area = None
        if "withheld_area" in data:
            area = self.read_withheld_area(data["withheld_area"])
        try:
            return ProtectionPolicy(
                sensitive_species=tuple(" ".join(s.split()) for s in species),
                partner_level=partner, partner_sensitive_level=partner_sensitive,
                public_level=public, crs=crs, withheld_area=area,
            )
        except AmurlinkError as exc:  # pragma: no cover - every field is checked above
            self.errors.append(f"`protection`: {exc}")
            return default

    def read_withheld_area(self, value: Any) -> WithheldArea | None:
        key = "protection.withheld_area"
        if not isinstance(value, Mapping):
            self.error(key, "a table with latitude, longitude and radius_m", value,
                       "write e.g. withheld_area = { latitude = 43.3, longitude = 130.9, "
                       "radius_m = 150000 }")
            return None
        self.known_keys(value, ("latitude", "longitude", "radius_m"), f"{key}.")
        bounds = {"latitude": (-90.0, 90.0), "longitude": (-180.0, 180.0),
                  "radius_m": (1.0, 20_037_509.0)}
        got: dict[str, float] = {}
        for name, (lo, hi) in bounds.items():
            v = value.get(name, _MISSING)
            if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
                self.error(f"{key}.{name}", f"a number in [{lo:g}, {hi:g}]", v,
                           "give all three of latitude, longitude (WGS84 degrees) and "
                           "radius_m (metres)")
            else:
                got[name] = float(v)
        if len(got) < 3:
            return None
        return WithheldArea(got["latitude"], got["longitude"], got["radius_m"])


    # -- [inputs] ----------------------------------------------------------------------------
    def paths(self, data: Mapping[str, Any], key: str, prefix: str) -> tuple[str, ...]:
        """A path or an array of paths (strings), as written."""
        if key not in data:
            return ()
        value = data[key]
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) and v.strip()
                                                  for v in items):
            self.error(f"{prefix}{key}", "a path or an array of paths (strings)", value,
                       f'write e.g. {key} = ["folder/file"] (relative to amurlink.toml)')
            return ()
        return tuple(v.strip() for v in items)

    def read_inputs(self, data: Mapping[str, Any], codes: tuple[str, ...]) -> InputSettings:
        prefix = "inputs."
        plain = ("crosswalk", "border", "photos", "dna", "dna_reference", "layers", "period",
                 "reports")
        countries: list[CountryInputs] = []
        for key, value in data.items():
            if key in plain:
                continue
            if not _COUNTRY_RE.match(key):
                hint = _suggest(key, plain)
                self.errors.append(f"`{prefix}{key}`: unknown key; "
                                   f"{hint or 'known keys are ' + ', '.join(plain)} "
                                   f"or a country table such as [inputs.CN]")
                continue
            if key not in codes:
                self.error(f"{prefix}{key}", f"a country of the study ({', '.join(codes)})",
                           key, "add it to [countries] or fix the table name")
                continue
            if not isinstance(value, Mapping):
                self.error(f"{prefix}{key}", "a table", value,
                           f'write [inputs.{key}] with e.g. camtrap_dp = ["folder"] below it')
                continue
            cp = f"{prefix}{key}."
            known = (*INPUT_SOURCE_KEYS, "photos", "dna", *INCIDENT_INPUT_KEYS)
            self.known_keys(value, known, cp)
            countries.append(CountryInputs(key, **{k: self.paths(value, k, cp)
                                                   for k in known}))
        single = {}
        for key in ("crosswalk", "border"):
            single[key] = self.string(data, key, prefix, None, f"{key}.csv")
        lists = {k: self.paths(data, k, prefix) for k in ("photos", "dna", "dna_reference")}
        layers_raw = self.table(data, "layers", prefix)
        self.known_keys(layers_raw, LAYER_KEYS, f"{prefix}layers.")
        layers = {}
        for k in LAYER_KEYS:
            v = self.string(layers_raw, k, f"{prefix}layers.", None, f"{k}.gpkg")
            if v is not None:
                layers[k] = v
        period = self.table(data, "period", prefix)
        self.known_keys(period, ("start", "end"), f"{prefix}period.")
        bounds = {k: self.day(period, k, f"{prefix}period.") for k in ("start", "end")}
        if (bounds["start"] is not None and bounds["end"] is not None
                and bounds["end"] < bounds["start"]):
            self.error(f"{prefix}period.end", f"a date on or after start ({bounds['start']})",
                       str(bounds["end"]), "swap start and end")
        reports: dict[str, tuple[str, ...]] | None = None
        if "reports" in data:
            raw = self.table(data, "reports", prefix)
            self.known_keys(raw, REPORT_AUDIENCES, f"{prefix}reports.")
            reports = {}
            for aud in REPORT_AUDIENCES:
                if aud not in raw:
                    continue
                langs = raw[aud]
                if (not isinstance(langs, list)
                        or not all(isinstance(x, str) and x in LANGUAGES for x in langs)):
                    self.error(f"{prefix}reports.{aud}", f"an array of languages from "
                               f"{', '.join(LANGUAGES)}", langs,
                               f'write e.g. {aud} = ["en", "zh", "ru"]')
                    continue
                reports[aud] = tuple(dict.fromkeys(langs))
        kwargs: dict[str, Any] = {}
        if reports is not None:
            kwargs["reports"] = reports
        return InputSettings(countries=tuple(countries), crosswalk=single["crosswalk"],
                             border=single["border"], layers=layers,
                             period_start=bounds["start"], period_end=bounds["end"],
                             base_dir=self.base_dir, **lists, **kwargs)

    def day(self, data: Mapping[str, Any], key: str, prefix: str) -> date | None:
        if key not in data:
            return None
        value = data[key]
        if isinstance(value, date) and not hasattr(value, "hour"):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.error(f"{prefix}{key}", "a date YYYY-MM-DD", value,
                   f"write e.g. {key} = 2013-12-01 (a TOML date, no quotes needed)")
        return None


class _Missing:
    def __repr__(self) -> str:
        return "nothing"


_MISSING: Any = _Missing()
_SECTIONS = ("study", "crs", "border", "countries", "events", "occasions", "species", "protection",
             "inputs", "links", "quality", "warnings", "corridors", "secr", "run")
#: Section of each unique key, to point a key written in the wrong section to its home.
_KEY_HOMES = {
    "working": "crs", "file": "border",
    "independence_minutes": "events", "length_days": "occasions",
    "sensitive_species": "protection", "partner": "protection",
    "partner_sensitive": "protection", "public": "protection", "withheld_area": "protection",
    "core_setback_km": "corridors", "segment_km": "corridors",
}
#: Suitability-to-resistance transforms of ``[corridors] transform``.
_TRANSFORMS = ("inverse", "negexp", "linear")
