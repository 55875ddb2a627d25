"""Scenario presets of the two-country simulator: every tunable number in one frozen object."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from amurlink.exceptions import ConfigError

__all__ = ["Scenario", "SpeciesParams", "SCENARIOS", "get_scenario", "TIGER", "LEOPARD"]

TIGER = "Panthera tigris"
LEOPARD = "Panthera pardus"


@dataclass(frozen=True)
class SpeciesParams:
    """Population and detection parameters of one big-cat species.

    Parameters
    ----------
    density : float
        Independent animals (adults and subadults) per 100 km² of land, on average over the
        landscape; the habitat raster decides where they are.
    sigma_m : (float, float)
        SECR spatial scale sigma of (female, male) in metres: the scale of the animal's whole
        utilisation distribution (daily positions plus movement within the day).
    sigma_day_m : float
        Scale of movement within one day around the day's position, metres (< sigma_m).
    lambda0 : (float, float)
        Expected detections per day by a camera standing at the day's position, (female, male).
    daily_rho : float
        Day-to-day autocorrelation of the position (Ornstein-Uhlenbeck step), 0 to 1.
    east_preference : float
        Log-intensity gradient towards Russia (per landscape width); > 0 puts more animals east.
    p_male : float
        Share of males among independent animals.
    p_subadult : float
        Share of subadults among independent animals.
    p_litter : float
        Share of adult females with cubs.
    litter : (int, int)
        Inclusive range of the litter size.
    n_dispersers : int
        Subadults that move their range from Russia into China during the survey.
    disperse_km : (float, float)
        Distance inside China, km, of a disperser's new centre from the border.
    alleles : (int, int)
        Inclusive range of the number of alleles per microsatellite locus.
    """

    density: float
    sigma_m: tuple[float, float]
    sigma_day_m: float
    lambda0: tuple[float, float]
    daily_rho: float = 0.6
    east_preference: float = 0.0
    p_male: float = 1 / 2.2
    p_subadult: float = 0.2
    p_litter: float = 0.3
    litter: tuple[int, int] = (1, 3)
    n_dispersers: int = 1
    disperse_km: tuple[float, float] = (24.0, 30.0)
    alleles: tuple[int, int] = (3, 6)


_TIGER = SpeciesParams(
    density=0.3, sigma_m=(4600.0, 7000.0), sigma_day_m=1200.0, lambda0=(0.45, 0.45),
    daily_rho=0.55, east_preference=0.3, p_subadult=0.2, litter=(1, 3), n_dispersers=2,
    alleles=(3, 7),
)
_LEOPARD = SpeciesParams(
    density=1.0, sigma_m=(2500.0, 3500.0), sigma_day_m=700.0, lambda0=(0.5, 0.5),
    daily_rho=0.55, east_preference=1.6, p_subadult=0.2, litter=(1, 2), n_dispersers=2,
    alleles=(2, 3),
)


@dataclass(frozen=True)
class Scenario:
    """Everything that sets the size and the realism of one simulated study.

    Attributes are grouped by the issue's items: landscape, animals, cameras, records,
    catalogues, DNA. ``SCENARIOS`` holds the presets; :func:`get_scenario` changes any field.

    Parameters
    ----------
    name : str
        Preset name (``small``, ``neaspec``, ``large``).
    bbox : (float, float, float, float)
        Study area as WGS84 ``lon_min, lat_min, lon_max, lat_max``.
    cell_m : float
        Habitat raster cell side, metres.
    start : datetime.date
        First survey day (UTC).
    n_days : int
        Survey length in days.
    species : mapping of str to SpeciesParams
        Big cats simulated (``Panthera tigris``, ``Panthera pardus``).
    mode : {"path", "secr-exact"}
        ``path``: detections from the daily position (the realistic process); ``secr-exact``:
        detections from the fixed home-range centre, exactly the SECR hazard half-normal model.
    movement : {"home-range", "resistance"}
        ``home-range``: daily positions from a walk around the centre that ignores the
        landscape (:func:`amurlink.simulate.simulate_paths`). ``resistance`` (the opt-in
        corridor scenario): animals walk by the known three-class resistance of the landscape
        (:func:`amurlink.simulate.corridors.resistance_paths`), drawn from their own seed child
        (:data:`amurlink.simulate.corridors.CORRIDOR_SPAWN_KEY`), so every other draw of the
        study is unchanged; needs ``mode="path"``.
    cn_spacing_m : float
        Chinese camera grid (one paired station per cell), metres.
    cn_stations : int
        Chinese stations (each with a photo and a video camera).
    ru_spacing_m : float
        Spacing of the Russian trail cameras, metres.
    ru_cameras : int
        Russian cameras.
    camera_zone_km : float
        Cameras stand within this distance of the border.
    service_days : (int, int)
        Inclusive range of days between visits (one deployment per visit interval).
    stagger_days : int
        Set-up and retrieval of a camera are staggered by up to this many days.
    p_gap : float
        Chance that a deployment has a malfunction period.
    p_stolen : float
        Chance that a deployment stops working for good before retrieval.
    p_clock_hours : float
        Chance that a deployment's clock is some hours off.
    p_clock_year : float
        Chance that a deployment's clock has the wrong year.
    other_rate : float
        Events of prey and other species per station and day (all species together).
    people_rate : float
        Events of people and vehicles per station and day.
    p_unidentifiable : float
        Share of cat events where no individual can be recognised.
    cub_follow : float
        Chance that a cub is seen in an event of its mother.
    p_duplicate_id : float
        Share of catalogued animals that get a second ID in one catalogue.
    crosswalk_miss : float
        Share of true cross-border pairs the expert misses.
    crosswalk_false : float
        False expert links, as a share of the true pairs.
    dna_samples : (int, int)
        Target number of field samples (China, Russia).
    dna_months : tuple of int
        Months of the winter sample collection.
    n_loci : int
        Microsatellite loci.
    dropout, false_allele, fail_locus : float
        Per-replicate rates of allelic dropout (heterozygous loci), false alleles and failed
        loci.
    replicates : (int, int)
        Inclusive range of PCR replicates per sample.
    n_reference : int
        Reference samples typed by both labs.
    lab_offset_bp : int
        Largest per-locus allele-size offset of the Russian lab, bp.
    images : {"all", "first", "none"}
        Flank photos to render: every cat photo, the first of each burst, or none.
    max_images : int, optional
        At most this many photos in all (spread over the animals); ``None``: no limit.
    photos_per_flank : int, optional
        At most this many photos per animal, flank and country (drawn at random among the
        eligible ones); ``None``: no limit. Rendering costs about 10 ms a photo (after the
        animal-flank's pattern, drawn once), so the presets cap it.
    """

    name: str = "custom"
    bbox: tuple[float, float, float, float] = (130.3, 42.4, 131.6, 43.8)
    cell_m: float = 1000.0
    start: date = date(2013, 12, 1)
    n_days: int = 730
    species: MappingProxyType = field(default_factory=lambda: MappingProxyType(
        {TIGER: _TIGER, LEOPARD: _LEOPARD}))
    mode: str = "path"
    movement: str = "home-range"
    cn_spacing_m: float = 4000.0
    cn_stations: int = 150
    ru_spacing_m: float = 2750.0
    ru_cameras: int = 300
    camera_zone_km: float = 40.0
    service_days: tuple[int, int] = (100, 130)
    stagger_days: int = 12
    p_gap: float = 0.15
    p_stolen: float = 0.03
    p_clock_hours: float = 0.04
    p_clock_year: float = 0.01
    other_rate: float = 0.35
    people_rate: float = 0.02
    p_unidentifiable: float = 0.12
    cub_follow: float = 0.7
    p_duplicate_id: float = 0.04
    crosswalk_miss: float = 0.1
    crosswalk_false: float = 0.03
    dna_samples: tuple[int, int] = (80, 170)
    dna_months: tuple[int, ...] = (12, 1, 2, 3)
    n_loci: int = 12
    dropout: float = 0.05
    false_allele: float = 0.01
    fail_locus: float = 0.05
    replicates: tuple[int, int] = (2, 3)
    n_reference: int = 8
    lab_offset_bp: int = 4
    images: str = "all"
    max_images: int | None = None
    photos_per_flank: int | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("path", "secr-exact"):
            raise ConfigError(f"scenario mode {self.mode!r}; expected 'path' or 'secr-exact'")
        if self.movement not in ("home-range", "resistance"):
            raise ConfigError(f"scenario movement {self.movement!r}; expected 'home-range' or "
                              "'resistance'")
        if self.movement == "resistance" and self.mode != "path":
            raise ConfigError("scenario movement 'resistance' moves the daily positions; it "
                              "needs mode 'path' (mode 'secr-exact' detects from the centres)")
        if self.images not in ("all", "first", "none"):
            raise ConfigError(f"scenario images {self.images!r}; expected 'all', 'first' or "
                              "'none'")
        for cap in ("max_images", "photos_per_flank"):
            value = getattr(self, cap)
            if value is not None and int(value) < 0:
                raise ConfigError(f"{cap} must be >= 0 or None, got {value}")
        if self.n_days < 1:
            raise ConfigError(f"n_days must be >= 1, got {self.n_days}")
        if not isinstance(self.species, MappingProxyType):
            object.__setattr__(self, "species", MappingProxyType(dict(self.species)))

    def replace(self, **changes: Any) -> Scenario:
        """A copy with some fields changed (``species`` entries may be given as dicts)."""
        sp = changes.pop("species", None)
        if sp is not None:
            merged = dict(self.species)
            for name, value in sp.items():
                if isinstance(value, dict):
                    value = dataclasses.replace(merged[name], **value)
                merged[name] = value
            changes["species"] = MappingProxyType(merged)
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ConfigError(f"unknown scenario field(s) {sorted(unknown)}")
        return dataclasses.replace(self, **changes)


_SMALL = Scenario(
    name="small",
    bbox=(130.95, 42.78, 131.35, 43.12),
    start=date(2014, 9, 20),
    n_days=60,
    species={
        TIGER: dataclasses.replace(_TIGER, density=0.8, n_dispersers=0),
        LEOPARD: dataclasses.replace(_LEOPARD, density=2.5, n_dispersers=1,
                                     disperse_km=(8.0, 12.0)),
    },
    cn_stations=24,
    ru_cameras=40,
    camera_zone_km=12.0,
    service_days=(25, 35),
    stagger_days=4,
    p_gap=0.2,
    p_clock_hours=0.08,
    p_clock_year=0.04,
    p_duplicate_id=0.1,
    dna_samples=(12, 20),
    dna_months=(9, 10, 11),
    n_reference=3,
    images="first",
    max_images=2,
)

_NEASPEC = Scenario(
    name="neaspec",
    species={
        TIGER: dataclasses.replace(_TIGER, density=0.4),
        LEOPARD: dataclasses.replace(_LEOPARD, density=1.3),
    },
    ru_spacing_m=3000.0,
    images="first",
    photos_per_flank=3,
)

_LARGE = Scenario(
    name="large",
    bbox=(129.9, 42.3, 132.1, 44.6),
    start=date(2013, 1, 1),
    n_days=1095,
    cn_stations=500,
    ru_cameras=900,
    camera_zone_km=90.0,
    other_rate=0.2,
    dna_samples=(400, 600),
    images="none",
)

#: Preset scenarios by name.
SCENARIOS: MappingProxyType[str, Scenario] = MappingProxyType(
    {"small": _SMALL, "neaspec": _NEASPEC, "large": _LARGE})


def get_scenario(name: str | Scenario, /, **changes: Any) -> Scenario:
    """Return preset ``name`` with ``changes`` applied.

    Parameters
    ----------
    name : str or Scenario
        ``small``, ``neaspec`` or ``large`` (or a Scenario to change).
    **changes
        Scenario fields to change, e.g. ``mode="secr-exact"``, ``n_days=30``.

    Raises
    ------
    ConfigError
        If ``name`` is not a preset or a field is unknown.
    """
    if isinstance(name, Scenario):
        base = name
    else:
        try:
            base = SCENARIOS[name]
        except KeyError:
            raise ConfigError(f"unknown scenario {name!r}; presets are "
                              f"{', '.join(SCENARIOS)}") from None
    return base.replace(**changes) if changes else base
