"""Cross-border movement: encounters, crossings and border distances per joint individual."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from amurlink.analysis import _crossborder_core as _core
from amurlink.analysis import _crossborder_tables as _tables
from amurlink.core.border import Border
from amurlink.dataset import Dataset

__all__ = [
    "DEFAULT_TOLERANCE_M",
    "DEFAULT_COUNTRIES",
    "DEFAULT_BANDS_KM",
    "DEFAULT_SEASONS",
    "ENCOUNTER_COLUMNS",
    "CrossBorderResult",
    "encounters",
    "individual_crossings",
    "species_summary",
    "distance_bands",
    "yearly_table",
    "seasonal_table",
    "protect_crossborder",
    "crossborder",
    "answer",
]

#: Distance from the border line, in metres, within which an encounter is "at the border".
DEFAULT_TOLERANCE_M: float = 250.0
#: Countries that get per-country columns (ISO 3166-1 alpha-2), in this order.
DEFAULT_COUNTRIES: tuple[str, ...] = ("CN", "RU")
#: Edges of the distance bands, in km from the border line (the last band is open).
DEFAULT_BANDS_KM: tuple[float, ...] = (0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0)
#: Month (1-12) to season; December counts to the winter of the following year.
DEFAULT_SEASONS: Mapping[int, str] = _core.DEFAULT_SEASONS
#: Columns of :func:`encounters`.
ENCOUNTER_COLUMNS: tuple[str, ...] = _core.ENCOUNTER_COLUMNS


def encounters(
    dataset: Dataset,
    /,
    *,
    border: Border,
    species: str | Sequence[str] | None = None,
    life_stage: str | None = "adult",
    start: Any = None,
    end: Any = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    threshold_min: float = 30.0,
    crs: Any = None,
    two_party: bool = True,
) -> pd.DataFrame:
    """Every encounter of a joint individual, with its country and distance from the border.

    An encounter is an independent detection event of an individual by a camera, or a DNA
    sample assigned to it (through a confirmed identity link). Its country is the declared
    country code (``deploymentDetails.countryCode`` for cameras, ``samples.countryCode`` for
    DNA) where given, else the country polygon that holds its location; where both are known
    and disagree the declared code wins and the encounter is ``flagged``. An encounter within
    ``tolerance_m`` of the border line is ``atBorder``.

    Parameters
    ----------
    dataset : Dataset
        A joint dataset: ``observations``, ``deployments`` and ``deploymentDetails``; and,
        where present, ``individuals``, ``identityLinks`` and ``samples``.
    border : Border
        The China-Russia border in the working CRS (see :func:`amurlink.core.border.load_border`).
    species : str or sequence of str, optional
        Keep these species (a name also matches its subspecies: ``Panthera tigris`` keeps
        ``Panthera tigris altaica``). ``None`` keeps every species with identified individuals.
    life_stage : {"adult", "subadult", "juvenile"} or None, default "adult"
        Keep joint individuals of this life stage; ``None`` keeps all. An individual's stage
        is its most advanced ``individuals.lifeStage`` (else that of its observations);
        individuals with no known stage (e.g. DNA only) are kept.
    start, end : str or datetime-like, optional
        Keep encounters from ``start`` (inclusive) to ``end`` (inclusive; a date alone means
        the whole day), in UTC.
    tolerance_m : float, default 250
        Distance from the border line, in metres, within which an encounter is at the border.
    threshold_min : float, default 30
        Independence threshold in minutes passed to
        ``amurlink.analysis.events.independent_events``.
    crs : str, int or pyproj.CRS, optional
        Working CRS; must equal ``border.crs`` when given (``None``: ``border.crs``).
    two_party : bool, default True
        The study's ``[links] two_party`` rule: with True a link between two countries'
        IDs joins them only once a reviewer of each side accepted it; with False one
        side's acceptance is enough (:func:`amurlink.identify.links.joint_identities`).

    Returns
    -------
    DataFrame
        One row per encounter, :data:`ENCOUNTER_COLUMNS`, sorted by ``jointID``, ``time``,
        ``encounterID``:

        - ``encounterID`` (observationID or sampleID), ``source`` (``camera`` or ``dna``);
        - ``jointID``, ``members`` (national IDs joined by " = "), ``scientificName``,
          ``lifeStage``, ``knownFlanks`` (``left``, ``right``, ``both`` or None);
        - ``individualID`` (the national ID the record was made under; for DNA the member of
          the sample's country, else None), ``sampleID`` (DNA only), ``deploymentID``;
        - ``time`` (UTC), ``x``, ``y`` (metres, working CRS);
        - ``declaredCountry``, ``polygonCountry``, ``country``, ``flagged`` (bool);
        - ``distance_km`` (to the border line, km), ``atBorder`` (bool);
        - ``nationalCountry`` and ``nationalID``: which national survey counted this
          encounter, and under which ID (for national counts).

    Raises
    ------
    SchemaError
        If a needed table or column is missing.
    CRSError
        If ``crs`` differs from ``border.crs``.

    Notes
    -----
    When ``amurlink.analysis.events`` is importable, camera records are reduced to
    independent events with :func:`amurlink.analysis.events.independent_events`
    (``by=("deploymentID",)``, ``per_individual=True``). Without it each observation row
    with an ``individualID`` is treated as one encounter. Samples without coordinates or
    collection date are left out (logged).
    """
    return _core.encounters(dataset, border=border, species=species, life_stage=life_stage,
                            start=start, end=end, tolerance_m=tolerance_m,
                            threshold_min=threshold_min, crs=crs, two_party=two_party)


def individual_crossings(
    encounters: pd.DataFrame,
    /,
    *,
    countries: Sequence[str] = DEFAULT_COUNTRIES,
    border: Border | None = None,
    by: Sequence[str] = (),
    min_locations: int = 5,
) -> pd.DataFrame:
    """Per joint individual: encounters per country, crossings, distances, range.

    Parameters
    ----------
    encounters : DataFrame
        Output of :func:`encounters`.
    countries : sequence of str, default ("CN", "RU")
        Countries that get per-country columns.
    border : Border, optional
        Needed for the share of the 95% MCP in each country (country polygons); without it
        the shares are NaN.
    by : sequence of str, optional
        Extra grouping columns of ``encounters`` (``year``, ``season``...): one row per
        group and joint individual.
    min_locations : int, default 5
        Fewest distinct locations for a 95% MCP.

    Returns
    -------
    DataFrame
        One row per joint individual (and ``by`` group), sorted by ``scientificName`` and
        ``jointID``: ``jointID``, ``members``, ``scientificName``, ``lifeStage``,
        ``knownFlanks``, ``oneFlank``; ``encounters`` (all), ``encounters_border`` (at the
        border), ``encounters_<CC>`` (not at the border, per country); ``crossings``;
        ``transboundary``; ``max_distance_km_<CC>`` (NaN when none); ``first_seen``,
        ``last_seen``; ``sources`` (``camera``, ``dna`` or ``both``); ``national_<CC>``
        (national IDs of that country's survey); ``locations``, ``mcp95_km2`` and
        ``mcp95_share_<CC>`` (NaN below ``min_locations``).

    Notes
    -----
    Crossings: the individual's encounters that are not at the border and have a country,
    sorted by UTC ``time`` (ties by ``encounterID``); the number of consecutive pairs whose
    countries differ. Encounters at the border count in ``encounters``, ``first_seen`` and
    ``last_seen`` and in the MCP, but in no country: so ``transboundary`` (encounters in
    both countries) holds exactly when the sequence has a China-Russia crossing.

    The 95% MCP follows adehabitatHR ``mcp``: of the distinct locations, keep those whose
    distance to their mean is at most the 95% quantile of these distances, then take the
    convex hull (Worton 1987). Shares are hull-polygon intersections over the hull area.
    """
    return _tables.individual_crossings(encounters, countries=countries, border=border, by=by,
                                        min_locations=min_locations)


def species_summary(
    individual_table: pd.DataFrame,
    /,
    *,
    countries: Sequence[str] = DEFAULT_COUNTRIES,
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """Per species: individuals, transboundary share, national counts against the joint count.

    Parameters
    ----------
    individual_table : DataFrame
        Output of :func:`individual_crossings`.
    countries : sequence of str, default ("CN", "RU")
        Countries with national counts.
    by : sequence of str, optional
        Extra grouping columns (as given to :func:`individual_crossings`).

    Returns
    -------
    DataFrame
        One row per ``scientificName`` (and ``by`` group): ``individuals`` (joint count),
        ``transboundary``, ``transboundary_share``, ``one_flank``, ``national_<CC>``
        (individuals each national survey counted), ``national_sum``, ``double_counted``
        (``national_sum - individuals``), ``crossings`` (total),
        ``crossings_per_individual`` (mean).
    """
    return _tables.species_summary(individual_table, countries=countries, by=by)


def distance_bands(
    encounters: pd.DataFrame,
    /,
    *,
    bands_km: Sequence[float] = DEFAULT_BANDS_KM,
) -> pd.DataFrame:
    """Encounters (and individuals) by distance band from the border, per species and country.

    Parameters
    ----------
    encounters : DataFrame
        Output of :func:`encounters`.
    bands_km : sequence of float, default (0, 1, 2, 5, 10, 20, 50)
        Increasing band edges in km; bands are ``[lo, hi)`` and the last is open.

    Returns
    -------
    DataFrame
        ``scientificName``, ``country``, ``band`` (label such as ``"1-2 km"``), ``lower_km``,
        ``upper_km``, ``encounters``, ``individuals``; every band listed (zeros included).
        Encounters at the border are in the first band under their country.
    """
    return _tables.distance_bands(encounters, bands_km=bands_km)


def yearly_table(
    encounters: pd.DataFrame,
    /,
    *,
    countries: Sequence[str] = DEFAULT_COUNTRIES,
) -> pd.DataFrame:
    """Species summary per calendar year (UTC) with the change from the year before.

    Parameters
    ----------
    encounters : DataFrame
        Output of :func:`encounters`.
    countries : sequence of str, default ("CN", "RU")

    Returns
    -------
    DataFrame
        :func:`species_summary` columns per ``scientificName`` and ``year``, plus
        ``individuals_change``, ``transboundary_change`` and ``crossings_change`` (difference
        from the previous calendar year of the same species; NaN for the first year or when
        the previous year has no row).
    """
    return _tables.yearly_table(encounters, countries=countries)


def seasonal_table(
    encounters: pd.DataFrame,
    /,
    *,
    countries: Sequence[str] = DEFAULT_COUNTRIES,
    seasons: Mapping[int, str] = DEFAULT_SEASONS,
) -> pd.DataFrame:
    """Species summary per season and season year.

    Parameters
    ----------
    encounters : DataFrame
        Output of :func:`encounters`.
    countries : sequence of str, default ("CN", "RU")
    seasons : mapping of int to str, default :data:`DEFAULT_SEASONS`
        Month (1-12) to season name. December goes to the winter of the following year
        (``seasonYear``) when ``seasons[12] == seasons[1]``.

    Returns
    -------
    DataFrame
        :func:`species_summary` columns per ``scientificName``, ``seasonYear`` and ``season``.
    """
    return _tables.seasonal_table(encounters, countries=countries, seasons=seasons)


@dataclass(frozen=True)
class CrossBorderResult:
    """Everything :func:`crossborder` computed, as tables.

    Attributes
    ----------
    encounters : DataFrame
        :func:`encounters`.
    individuals : DataFrame
        :func:`individual_crossings`.
    summary : DataFrame
        :func:`species_summary`.
    bands : DataFrame
        :func:`distance_bands`.
    yearly : DataFrame
        :func:`yearly_table`.
    seasonal : DataFrame
        :func:`seasonal_table`.
    countries : tuple of str
        Countries with per-country columns.
    parameters : mapping
        The arguments used (species, life stage, period, tolerance, level).
    level : {"exact", "1km", "10km", "withheld"}
        Location protection applied to the distances (see :func:`protect_crossborder`).
    """

    encounters: pd.DataFrame
    individuals: pd.DataFrame
    summary: pd.DataFrame
    bands: pd.DataFrame
    yearly: pd.DataFrame
    seasonal: pd.DataFrame
    countries: tuple[str, ...] = DEFAULT_COUNTRIES
    parameters: Mapping[str, Any] = field(default_factory=dict)
    level: str = "exact"

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``amurlink crossborder --format json``.

        Returns
        -------
        dict
            ``summary``: per ``scientificName``, ``individuals``, ``transboundary``,
            ``transboundary_share``, ``national_counts`` (by country code), ``national_sum``,
            ``double_counted``, ``crossings_per_individual``. ``individuals``: per joint ID,
            ``members``, ``scientificName``, ``encounters`` (by country code, plus
            ``border``), ``crossings``, ``max_distance_from_border_km`` (by country code;
            None when no encounter), ``first_seen``, ``last_seen`` (ISO 8601 UTC),
            ``sources``, ``one_flank``. ``parameters`` and ``level``.
        """
        return _tables.result_to_dict(self)


def protect_crossborder(result: CrossBorderResult, /, *, level: str) -> CrossBorderResult:
    """Coarsen what reveals where animals were: distances, coordinates, MCP shares.

    Parameters
    ----------
    result : CrossBorderResult
    level : {"exact", "1km", "10km", "withheld"}
        ``exact`` changes nothing. ``1km`` / ``10km`` round every distance from the border
        to the nearest 1 / 10 km and drop encounter coordinates (``x``, ``y`` set to NaN);
        ``withheld`` also blanks distances, distance bands, MCP areas and shares.

    Returns
    -------
    CrossBorderResult
        A new result with ``level`` set (never coarser data made finer again).

    Raises
    ------
    ConfigError
        If ``level`` is not a protection level.

    See Also
    --------
    amurlink.core.protection.protect_locations : the same levels for station coordinates.
    """
    return _tables.protect_crossborder(result, level=level)


def crossborder(
    dataset: Dataset,
    /,
    *,
    border: Border,
    species: str | Sequence[str] | None = None,
    life_stage: str | None = "adult",
    start: Any = None,
    end: Any = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    threshold_min: float = 30.0,
    countries: Sequence[str] = DEFAULT_COUNTRIES,
    bands_km: Sequence[float] = DEFAULT_BANDS_KM,
    seasons: Mapping[int, str] = DEFAULT_SEASONS,
    crs: Any = None,
    two_party: bool = True,
) -> CrossBorderResult:
    """Cross-border statistics of a joint dataset: all tables at once.

    Parameters
    ----------
    dataset : Dataset
        The joint dataset.
    border : Border
        The China-Russia border.
    species, life_stage, start, end, tolerance_m, threshold_min, crs, two_party
        As in :func:`encounters` (pass ``config.links.two_party``).
    countries : sequence of str, default ("CN", "RU")
        Countries with per-country columns.
    bands_km : sequence of float
        As in :func:`distance_bands`.
    seasons : mapping of int to str
        As in :func:`seasonal_table`.

    Returns
    -------
    CrossBorderResult

    See Also
    --------
    encounters, individual_crossings, species_summary, distance_bands, yearly_table,
    seasonal_table, protect_crossborder
    """
    enc = encounters(dataset, border=border, species=species, life_stage=life_stage,
                     start=start, end=end, tolerance_m=tolerance_m,
                     threshold_min=threshold_min, crs=crs, two_party=two_party)
    countries = tuple(countries)
    ind = individual_crossings(enc, countries=countries, border=border)
    return CrossBorderResult(
        encounters=enc,
        individuals=ind,
        summary=species_summary(ind, countries=countries),
        bands=distance_bands(enc, bands_km=bands_km),
        yearly=yearly_table(enc, countries=countries),
        seasonal=seasonal_table(enc, countries=countries, seasons=seasons),
        countries=countries,
        parameters={
            "species": species, "life_stage": life_stage,
            "start": None if start is None else str(start),
            "end": None if end is None else str(end),
            "tolerance_m": float(tolerance_m), "threshold_min": float(threshold_min),
            "crs": border.crs.to_string(), "two_party": bool(two_party),
        },
    )


def answer(result: CrossBorderResult, /) -> dict[str, pd.DataFrame]:
    """The answer the study exists for, in two tables (the report opens with them).

    Parameters
    ----------
    result : CrossBorderResult
        :func:`crossborder` (protected or not: counts are the same, distances as coarse as
        ``result.level``).

    Returns
    -------
    dict
        ``species``: per species ``scientificName``, ``individuals`` (joint individuals) and
        ``transboundary`` (of them, recorded in both countries), so "``transboundary`` of
        ``individuals``"; ``individuals``: per transboundary individual ``scientificName``,
        ``jointID``, ``members`` (national IDs), ``encounters_<CC>`` per country,
        ``crossings`` and ``farthest_km`` (the farthest encounter from the border, either
        side; NaN where the audience may not see distances).
    """
    summary = result.summary
    cols = ["scientificName", "individuals", "transboundary"]
    species = (summary[cols].copy() if len(summary) and set(cols) <= set(summary)
               else pd.DataFrame({c: pd.Series(dtype=object if c == cols[0] else "int64")
                                  for c in cols}))
    species = species.sort_values("scientificName", kind="stable").reset_index(drop=True)
    ind = result.individuals
    enc_cols = [f"encounters_{c}" for c in result.countries]
    dist_cols = [f"max_distance_km_{c}" for c in result.countries]
    head = ["scientificName", "jointID", "members", *enc_cols, "crossings"]
    if len(ind) and "transboundary" in ind:
        t = ind[ind["transboundary"].astype(bool)]
        table = t[[c for c in head if c in t]].copy()
        present = [c for c in dist_cols if c in t]
        table["farthest_km"] = (t[present].astype(float).max(axis=1, skipna=True).to_numpy()
                                if present else float("nan"))
        table = table.sort_values(["scientificName", "jointID"], kind="stable")
    else:
        table = pd.DataFrame(columns=[*head, "farthest_km"])
    return {"species": species, "individuals": table.reset_index(drop=True)}
