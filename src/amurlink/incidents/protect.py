"""What an audience may see of the incident tables: points generalised, personal data kept home.

Rules (issue #19, `docs/security.md`):

- ``claimants`` (personal data) stays with the owner of its country: a partner or the public
  never receives the table, and the ``claimID`` key and free-text comments are cleared in what
  they receive (a comment can name a person).
- Incident, disease-test and necropsy points are generalised like the stations of the species
  involved: a tiger or leopard incident is ``withheld`` for the public and at the partner's
  sensitive level (or the agreement's level for that species) for a partner; other points at
  the audience's base level. The level is the coarser of the two, as for stations.
- Patrol tracks and patrol findings (snares: where poachers set them and where rangers look)
  are owner-only unless the agreement names ``patrolTracks`` / ``patrolFindings``; an
  incident of category ``snare`` or ``poaching`` (a find recorded in the incident book) is
  counted but its point is ``withheld`` under the same condition.
- Species scope and embargo of an agreement remove rows afterwards; they never refine a level.

Locations are generalised by :func:`amurlink.core.protection.protect_locations`, the same grid
snapping as every station.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from amurlink.core.protection import (
    Audience,
    ProtectionPolicy,
    coarsest_level,
    is_sensitive,
    protect_locations,
)
from amurlink.incidents.tables import OWNER_ONLY_TABLES

__all__ = ["protect_incident_tables", "release_incidents", "incident_levels", "dwc_occurrences",
           "incident_dwc_occurrences", "AGREEMENT_TABLE_NAMES", "DWC_COLUMNS"]

#: Incident categories that are finds of poaching (their places are withheld like patrol
#: findings unless an agreement shares ``patrolFindings``).
THREAT_CATEGORIES: tuple[str, ...] = ("snare", "poaching")
#: Names an agreement's ``tables`` may list to share patrol data.
AGREEMENT_TABLE_NAMES: tuple[str, ...] = ("patrolTracks", "patrolFindings")
_POINT_TABLES = {"incidents": "eventStart", "diseaseTests": "sampleDate", "necropsies": "date"}
_TIME_COLUMN = {**_POINT_TABLES, "patrols": "start", "patrolFindings": "date"}
_FREE_TEXT = {"incidents": ("incidentComments", "claimID"), "diseaseTests": ("testComments",),
              "necropsies": ("findings",), "patrolFindings": ("findingComments",)}


def _owns(audience: Audience, country: pd.Series) -> np.ndarray:
    if audience.kind != "owner":
        return np.zeros(len(country), dtype=bool)
    if audience.country is None:
        return np.ones(len(country), dtype=bool)
    return (country.astype(object) == audience.country).to_numpy(dtype=bool)


def _levels(frame: pd.DataFrame, audience: Audience, policy: ProtectionPolicy,
            owned: np.ndarray) -> np.ndarray:
    names = frame["scientificName"] if "scientificName" in frame.columns else \
        pd.Series([None] * len(frame), dtype=object)
    sensitive = is_sensitive(names.astype(object), sensitive_species=policy.sensitive_species)
    if audience.kind == "public":
        base = policy.public_level
        record = np.where(sensitive, "withheld", "exact")
    else:
        base = audience.level or policy.partner_level
        agreed = names.astype(object).map(
            lambda n: next((lvl for sp, lvl in audience.species_levels.items()
                            if isinstance(n, str) and is_sensitive([n], sensitive_species=[sp])[0]),
                           None)).to_numpy(dtype=object)
        record = np.where(agreed != None, agreed,  # noqa: E711 - elementwise on objects
                          np.where(sensitive, policy.partner_sensitive_level, "exact"))
    out = np.array([coarsest_level([base, str(r)]) for r in record], dtype=object)
    out[owned] = "exact"
    return out


def _threats_withheld(frame: pd.DataFrame, levels: np.ndarray, owned: np.ndarray,
                      shared: set[str]) -> np.ndarray:
    """A snare or poaching find is a finding whatever book it is in: where it was stays with
    the owner unless the agreement shares patrol findings."""
    if "patrolFindings" in shared or "category" not in frame.columns:
        return levels
    threat = frame["category"].astype(object).isin(THREAT_CATEGORIES).to_numpy(dtype=bool) \
        & ~np.asarray(owned, dtype=bool)
    return np.where(threat, "withheld", levels)


def incident_levels(frame: pd.DataFrame, /, *, audience: Audience,
                    policy: ProtectionPolicy | None = None,
                    agreement_tables: Iterable[str] = ()) -> np.ndarray:
    """The location level each row of an incident, disease-test or necropsy table is shown at
    to ``audience`` (what :func:`protect_incident_tables` applies; for audit entries)."""
    policy = ProtectionPolicy() if policy is None else policy
    country = frame["countryCode"] if "countryCode" in frame.columns else \
        pd.Series([None] * len(frame), dtype=object)
    owned = _owns(audience, country)
    levels = _levels(frame, audience, policy, owned)
    return _threats_withheld(frame, levels, owned, set(agreement_tables))


def protect_incident_tables(
    tables: Mapping[str, pd.DataFrame], /, *, audience: Audience,
    policy: ProtectionPolicy | None = None,
    species: Iterable[str] | None = None, embargo: date | None = None,
    agreement_tables: Iterable[str] = (),
) -> dict[str, pd.DataFrame]:
    """The incident tables as ``audience`` may see them (protect, then scope).

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Incident tables (:data:`amurlink.incidents.INCIDENT_TABLES` names), exact.
    audience : Audience
        Who will see the result.
    policy : ProtectionPolicy, optional
        The study's ``[protection]`` settings (defaults when None).
    species : iterable of str, optional
        The agreement's species: rows of other species are removed (rows without a species,
        such as snare finds, stay).
    embargo : date, optional
        Rows dated on or after it are removed.
    agreement_tables : iterable of str
        Owner-only tables the agreement shares (``patrolTracks``, ``patrolFindings``).

    Returns
    -------
    dict of str to DataFrame
        New frames; the inputs are not changed. ``claimants`` only for its owner.
    """
    policy = ProtectionPolicy() if policy is None else policy
    shared = set(agreement_tables)
    out: dict[str, pd.DataFrame] = {}
    for name, frame in tables.items():
        frame = frame.copy()
        country = frame["countryCode"] if "countryCode" in frame.columns else None
        if name == "patrolFindings":
            patrols = tables.get("patrols")
            country = frame["patrolID"].map(patrols.set_index("patrolID")["countryCode"]) \
                if patrols is not None else pd.Series([None] * len(frame), dtype=object)
        owned = _owns(audience, country if country is not None
                      else pd.Series([None] * len(frame), dtype=object))
        if name in OWNER_ONLY_TABLES:
            if audience.kind != "owner":
                continue
            incidents = tables.get("incidents")
            if incidents is not None and audience.country is not None:
                mine = incidents.loc[incidents["countryCode"].astype(object) == audience.country,
                                     "incidentID"]
                frame = frame.loc[frame["incidentID"].isin(mine)]
            out[name] = frame.reset_index(drop=True)
            continue
        for col in _FREE_TEXT.get(name, ()):
            if col in frame.columns:
                frame[col] = frame[col].where(owned, None)
        if name == "patrols" and "patrolTracks" not in shared and "track" in frame.columns:
            frame["track"] = frame["track"].where(owned, None)
        if name == "patrolFindings" and "patrolFindings" not in shared:
            frame = frame.loc[owned]
            owned = owned[owned]
        if {"latitude", "longitude"} <= set(frame.columns) and len(frame):
            levels = _levels(frame, audience, policy, owned)
            if name == "patrolFindings":
                # at least 1 km, and no finer than the stations of the species found (a tiger
                # track or carcass is a tiger point)
                levels = np.where(owned, "exact", np.array(
                    [coarsest_level([str(lvl), "1km"]) for lvl in levels], dtype=object))
            if name == "incidents":
                levels = _threats_withheld(frame, levels, owned, shared)
            frame = protect_locations(frame.reset_index(drop=True), level=list(levels),
                                      crs=policy.crs, withheld_area=policy.withheld_area)
            owned_idx = np.asarray(owned)
        else:
            frame = frame.reset_index(drop=True)
            owned_idx = np.asarray(owned)
        keep = np.ones(len(frame), dtype=bool)
        if species is not None and "scientificName" in frame.columns:
            names = frame["scientificName"].astype(object)
            wanted = list(species)
            in_scope = names.isna().to_numpy() | np.array(
                [any(is_sensitive([n], sensitive_species=[w])[0] or n == w for w in wanted)
                 if isinstance(n, str) else True for n in names], dtype=bool)
            keep &= in_scope | owned_idx
        when = _TIME_COLUMN.get(name)
        if embargo is not None and when in frame.columns:
            t = pd.to_datetime(frame[when], utc=True)
            cutoff = pd.Timestamp(embargo, tz="UTC")
            keep &= ((t < cutoff) | t.isna()).to_numpy(dtype=bool) | owned_idx
        out[name] = frame.loc[keep].reset_index(drop=True)
    return out


def release_incidents(
    tables: Mapping[str, pd.DataFrame], /, *, audience: Audience | None = None,
    policy: ProtectionPolicy | None = None, agreement: Any = None,
    today: date | None = None, agreements: Any = (),
) -> dict[str, pd.DataFrame]:
    """The incident tables as a reader may see them, under sharing agreements (or none;
    ``agreements`` adds more, whose scopes all apply, as :func:`amurlink.release.release`).

    A thin use of :func:`amurlink.release.release`, the one gate of every output: the books
    (``incidents``, ``diseaseTests``, ``necropsies``, ``patrols``, ``patrolFindings``) are
    extension tables of the package, so they are released as a package holding only them:
    protected for the audience (:func:`protect_incident_tables` inside
    :func:`~amurlink.core.protection.protect_dataset`: points at the level of the species
    involved, claim keys and comments cleared, patrol tracks and findings only when the
    agreement names ``patrolTracks`` / ``patrolFindings``), then scoped by the agreement
    (species, with rows without a species such as snare finds kept; embargo in force on
    ``today`` on the incident, sample, necropsy, patrol or finding date; tables). The
    owner-only ``claimants`` table is never part of a package: it is returned to an owner
    only (its own country's claims), beside the released books.

    Raises
    ------
    ConfigError
        If the agreement has expired on ``today``, or neither an audience nor an agreement
        is given.
    """
    from amurlink.dataset import Dataset
    from amurlink.exceptions import ConfigError
    from amurlink.io._parse import empty_frame
    from amurlink.release import release
    from amurlink.schema import INCIDENT_BOOK_TABLES, STANDARD_TABLES, TABLES

    if audience is None and agreement is None and not tuple(agreements):
        raise ConfigError("release_incidents needs an audience or an agreement")
    policy = ProtectionPolicy() if policy is None else policy
    books = {n: f for n, f in tables.items() if n in INCIDENT_BOOK_TABLES}
    # a package of the books alone (no station: deploymentDetails empty, so an owner naming
    # its country owns no deployment and its own rows by their countryCode)
    data = Dataset({**{t: empty_frame(TABLES[t]) for t in (*STANDARD_TABLES,
                                                           "deploymentDetails")}, **books})
    released = release(data, audience=audience, policy=policy, agreement=agreement,
                       agreements=agreements, today=today)
    shown = {n: released.dataset[n].reset_index(drop=True)
             for n in books if n in released.dataset.tables}
    claims = {n: tables[n] for n in OWNER_ONLY_TABLES if n in tables}
    if claims and released.audience.kind == "owner":
        # personal data: beside the package, for its owner only
        inc = tables.get("incidents")
        kept = protect_incident_tables({**claims, **({"incidents": inc} if inc is not None
                                                     else {})}, audience=released.audience)
        shown.update({n: kept[n] for n in claims})
    return shown


#: Darwin Core terms of an occurrence derived from an incident.
DWC_COLUMNS: tuple[str, ...] = (
    "occurrenceID", "basisOfRecord", "eventDate", "scientificName", "organismID",
    "individualCount", "occurrenceRemarks", "countryCode", "decimalLatitude",
    "decimalLongitude", "geodeticDatum", "coordinateUncertaintyInMeters", "dataGeneralizations",
)
_MATERIAL = {"carcass", "road-kill"}


def dwc_occurrences(incidents: pd.DataFrame, /) -> pd.DataFrame:
    """Darwin Core occurrences of the animals behind incidents (where the standard fits).

    Pass incidents already through :func:`protect_incident_tables`: coordinates are copied as
    they are, with ``dataGeneralizations`` stating the generalisation that was applied (read
    from ``coordinateUncertainty``). Incidents without a species (a snare line) are not
    occurrences of an animal and are left out. Claim keys and comments never appear.
    """
    rows = incidents.loc[incidents["scientificName"].notna()]
    unc = pd.to_numeric(rows.get("coordinateUncertainty"), errors="coerce")
    general = np.where(unc >= 50_000, "location withheld: the study area is shown",
                       np.where(unc >= 7_000, "coordinates generalised to a 10 km grid cell",
                                np.where(unc >= 700, "coordinates generalised to a 1 km grid cell",
                                         None)))
    category = rows["category"].astype(object)
    return pd.DataFrame({
        "occurrenceID": "incident:" + rows["incidentID"].astype(str),
        "basisOfRecord": np.where(category.isin(_MATERIAL), "MaterialSample",
                                  "HumanObservation"),
        "eventDate": pd.to_datetime(rows["eventStart"], utc=True).dt.strftime(
            "%Y-%m-%dT%H:%M:%SZ"),
        "scientificName": rows["scientificName"].astype(object),
        "organismID": rows["individualID"].astype(object),
        "individualCount": 1,
        "occurrenceRemarks": "incident: " + category,
        "countryCode": rows["countryCode"].astype(object),
        "decimalLatitude": rows["latitude"].astype(float),
        "decimalLongitude": rows["longitude"].astype(float),
        "geodeticDatum": "EPSG:4326",
        "coordinateUncertaintyInMeters": unc.astype("Int64"),
        "dataGeneralizations": general,
    }, columns=list(DWC_COLUMNS)).reset_index(drop=True)


def incident_dwc_occurrences(
    tables: Mapping[str, pd.DataFrame], /, *, audience: Audience | None = None,
    policy: ProtectionPolicy | None = None, agreement: Any = None,
    today: date | None = None,
) -> pd.DataFrame:
    """Darwin Core occurrences of the incidents ``audience`` may see (:func:`release_incidents`
    first, then :func:`dwc_occurrences`): points generalised like the stations of the species
    involved, no claimant, claim key or comment. ``occurrenceStatus`` is ``present``."""
    shown = release_incidents(tables, audience=audience, policy=policy, agreement=agreement,
                              today=today)
    incidents = shown.get("incidents")
    if incidents is None or not len(incidents):
        return pd.DataFrame(columns=[*DWC_COLUMNS, "occurrenceStatus"])
    out = dwc_occurrences(incidents)
    out["occurrenceStatus"] = "present"
    return out
