"""Sharing agreements: what a recipient may see, and the scoping that applies one.

:class:`Agreement` (species, tables, location level, embargo, expiry) and
:func:`scope_dataset` (remove what the agreement does not share, recompute the metadata)
sit below both the output gate (:func:`amurlink.release.release`, which protects the
complete data first and scopes after) and the exchange packages (:mod:`amurlink.exchange`),
so neither imports the other to reach them.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from amurlink.core.protection import Audience, _tokens
from amurlink.dataset import Dataset
from amurlink.exceptions import ConfigError
from amurlink.schema import LOCATION_LEVELS, STANDARD_TABLES

__all__ = ["SHAREABLE_TABLES", "NAMED_ONLY_TABLES", "Agreement", "scope_dataset", "within_taxa"]

#: Tables a sharing agreement may name (the Camtrap DP core and amurlink's extensions).
#: The incident books (``incidents``, ``diseaseTests``, ``necropsies``, ``patrols``) are
#: extension tables like the others; ``patrolTracks`` (the ``track`` column of ``patrols``)
#: and ``patrolFindings`` are shared only when named: an agreement without tables does not
#: share them (:mod:`amurlink.incidents.protect`). The owner-only ``claimants`` table is never
#: shareable.
SHAREABLE_TABLES: tuple[str, ...] = (
    "deployments", "media", "observations", "deploymentDetails", "deploymentGaps",
    "individuals", "samples", "genotypes", "loci", "identityLinks",
    "incidents", "diseaseTests", "necropsies", "patrols",
    "patrolTracks", "patrolFindings",
)
#: Shared only when an agreement names them.
NAMED_ONLY_TABLES: tuple[str, ...] = ("patrolTracks", "patrolFindings")

# ---------------------------------------------------------------------------------------------
# The agreement
# ---------------------------------------------------------------------------------------------
def _as_date(value: Any, where: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ConfigError(f"{where} must be a date (YYYY-MM-DD), got {value!r}")


def _names(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable):
        raise ConfigError(f"{where} must be a list of strings, got {value!r}")
    out = []
    for v in value:
        if not isinstance(v, str):
            raise ConfigError(f"{where} must be a list of strings, got the item {v!r}")
        if v.strip():
            out.append(v.strip())
    return tuple(sorted(set(out)))


@dataclass(frozen=True)
class Agreement:
    """What a data provider shares with a recipient, and how precisely.

    Parameters
    ----------
    provider : str, optional
        The organisation sharing its data (recorded in the manifest).
    recipient : str, optional
        The organisation receiving it; matched to ``deploymentDetails.organisation`` by
        location protection (a recipient never owns the provider's stations).
    species : tuple of str, optional
        Scientific names shared (``Panthera tigris`` covers its subspecies, never a genus-only
        record, see :func:`within_taxa`); empty shares every species. Other species' records
        are held back, but their stations keep the protection they need (decided on the
        complete dataset).
    tables : tuple of str, optional
        Tables shared, from :data:`SHAREABLE_TABLES`; empty shares all. Core tables not named
        are shared empty (Camtrap DP requires them); other tables not named are dropped.
    level : {"exact", "1km", "10km", "withheld"}, default "10km"
        The finest location level the recipient may see (Foundation I vocabulary). Stations
        of sensitive species can come out coarser under the study's
        :class:`~amurlink.core.protection.ProtectionPolicy`, never finer.
    embargo_date : date, optional
        Records made on or after this date (observations, media, samples) are held back;
        undated records too.
    embargo_months : int, optional
        Rolling embargo: records made in the last ``embargo_months`` months before ``today``
        are held back as well (Wildlife Insights and eMammal embargo up to 36-48 months).
    valid_until : date, optional
        Last day the agreement is in force; applying it later raises :class:`ConfigError`.

    Raises
    ------
    ConfigError
        If a level, table, date or number is invalid (the message names the field).

    See Also
    --------
    amurlink.exchange.apply_agreement, amurlink.exchange.export_exchange

    Examples
    --------
    >>> a = Agreement(provider="NTLNP", recipient="LLNP", species=("Panthera tigris",),
    ...               level="1km")
    >>> a.to_dict()["level"]
    '1km'
    """

    provider: str | None = None
    recipient: str | None = None
    species: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    level: str = "10km"
    embargo_date: date | None = None
    embargo_months: int | None = None
    valid_until: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "species", _names(self.species, "agreement.species"))
        tables = _names(self.tables, "agreement.tables")
        unknown = sorted(set(tables) - set(SHAREABLE_TABLES))
        if unknown:
            raise ConfigError(f"agreement.tables names unknown table(s) {unknown}; choose from "
                              f"{list(SHAREABLE_TABLES)} (camel case, as in the API)")
        object.__setattr__(self, "tables", tables)
        if self.level not in LOCATION_LEVELS:
            raise ConfigError(f"agreement.level must be one of {list(LOCATION_LEVELS)}, got "
                              f"{self.level!r}; pick the finest level the recipient may see")
        object.__setattr__(self, "embargo_date",
                           _as_date(self.embargo_date, "agreement.embargo_date"))
        object.__setattr__(self, "valid_until", _as_date(self.valid_until, "agreement.valid_until"))
        months = self.embargo_months
        if months is not None and (isinstance(months, bool) or not isinstance(months, int)
                                   or months < 0):
            raise ConfigError(f"agreement.embargo_months must be a whole number >= 0, got "
                              f"{months!r}")
        for attr in ("provider", "recipient"):
            value = getattr(self, attr)
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"agreement.{attr} must be an organisation name, got {value!r}")

    # -- conversion ------------------------------------------------------------------------
    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], /, *, source: str = "agreement") -> Agreement:
        """Build an agreement from a mapping (the ``[agreement]`` table of a TOML file).

        Raises
        ------
        ConfigError
            On unknown keys or invalid values; ``source`` prefixes the message.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"{source}: the agreement must be a table of settings, got "
                              f"{type(data).__name__}")
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{source}: unknown agreement setting(s) {unknown}; expected some "
                              f"of {sorted(known)}")
        try:
            return cls(**dict(data))
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str], /) -> Agreement:
        """Read an agreement file: an ``[agreement]`` table (or the settings at the top).

        Raises
        ------
        ConfigError
            If the file cannot be read or parsed or holds invalid settings.

        Examples
        --------
        The file looks like this::

            [agreement]
            provider = "NTLNP"
            recipient = "LLNP"
            species = ["Panthera tigris", "Panthera pardus"]
            tables = ["deployments", "media", "observations", "individuals"]
            level = "1km"
            embargo_date = 2025-01-01
        """
        p = Path(path)
        try:
            raw = tomllib.loads(p.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"{p}: cannot read the agreement file ({exc.strerror or exc})") \
                from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{p}: not valid TOML ({exc}); see docs/exchange.md for the "
                              "agreement file format") from None
        except RecursionError:
            raise ConfigError(f"{p}: nested too deeply to be an agreement file; see "
                              "docs/exchange.md for its format") from None
        data = raw.get("agreement", raw)
        return cls.from_mapping(data, source=str(p))

    def to_dict(self) -> dict[str, Any]:
        """The agreement as JSON-ready values (dates as ISO 8601)."""
        return {
            "provider": self.provider, "recipient": self.recipient,
            "species": list(self.species), "tables": list(self.tables), "level": self.level,
            "embargo_date": self.embargo_date.isoformat() if self.embargo_date else None,
            "embargo_months": self.embargo_months,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
        }

    # -- meaning ---------------------------------------------------------------------------
    @property
    def audience(self) -> Audience:
        """The recipient as a protection :class:`~amurlink.core.protection.Audience`."""
        return Audience.partner(organisation=self.recipient, level=self.level,
                                species_levels={s: self.level for s in self.species})

    def cutoff(self, today: date | None = None) -> date | None:
        """The embargo in force on ``today``: records made on or after it are held back."""
        dates = [d for d in (self.embargo_date,) if d is not None]
        if self.embargo_months is not None:
            today = today or date.today()
            dates.append((pd.Timestamp(today) - pd.DateOffset(months=self.embargo_months)).date())
        return min(dates) if dates else None

    def check_in_force(self, today: date | None = None) -> None:
        """Raise :class:`ConfigError` if the agreement has expired on ``today``."""
        today = today or date.today()
        if self.valid_until is not None and today > self.valid_until:
            raise ConfigError(
                f"the agreement from {self.provider or '?'} to {self.recipient or '?'} expired on "
                f"{self.valid_until.isoformat()} (today is {today.isoformat()}); renew it "
                "(valid_until) before sharing data under it")


def _as_agreement(agreement: Any) -> Agreement:
    if isinstance(agreement, Agreement):
        return agreement
    if isinstance(agreement, Mapping):
        return Agreement.from_mapping(agreement)
    raise TypeError(f"agreement must be an Agreement or a mapping, got {type(agreement).__name__}")


# ---------------------------------------------------------------------------------------------
# Applying it
# ---------------------------------------------------------------------------------------------
def within_taxa(names: Any, taxa: Iterable[str], /) -> np.ndarray:
    """Whether each name is one of ``taxa`` or a rank below one (a subspecies).

    A higher-rank name (``Panthera``, ``Panthera sp.``) is NOT within ``Panthera tigris``: it
    may be a leopard, so an agreement for tigers does not share it (fail closed).

    Examples
    --------
    >>> within_taxa(["Panthera tigris altaica", "Panthera", "Panthera pardus"],
    ...             ["Panthera tigris"]).tolist()
    [True, False, False]
    """
    keys = [_tokens(t) for t in taxa]
    keys = [k for k in keys if k]
    values = pd.Series(np.asarray(names, dtype=object))
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    flags = np.array([any(len(u) >= len(k) and u[:len(k)] == k for k in keys)
                      for u in (_tokens(v) for v in uniques)], dtype=bool)
    out = np.zeros(len(values), dtype=bool)
    ok = codes >= 0
    out[ok] = flags[codes[ok]]
    return out


def _before(values: pd.Series, cutoff: date) -> np.ndarray:
    stamps = pd.to_datetime(values, utc=True, errors="coerce")
    limit = pd.Timestamp(cutoff, tz="UTC")
    # undated records are held back too: nobody can tell they are older than the embargo
    return (stamps < limit).fillna(False).to_numpy(dtype=bool)


def scope_dataset(dataset: Dataset, agreement: Agreement | Mapping[str, Any], /, *,
                  today: date | None = None) -> Dataset:
    """Return the part of ``dataset`` an agreement covers: species, tables, embargo.

    Locations are left as given: this only removes rows. Never show its result: outputs take
    their data from :func:`amurlink.release.release`, which decides the stations' protection
    on the complete dataset first and then applies this scope
    (:func:`amurlink.exchange.apply_agreement` does).

    Parameters
    ----------
    dataset : Dataset
    agreement : Agreement or mapping
    today : date, optional
        Date a rolling embargo (``embargo_months``) counts back from; the current date if
        ``None``.

    Returns
    -------
    Dataset
        A new Dataset:

        - observations, individuals and samples of other species dropped; media kept only when
          a kept observation points to them;
        - with an embargo, every record made on or after the cutoff held back (undated ones
          too): observations (``eventStart`` and ``eventEnd``), media, samples, deployments
          set up on or after it, deployment gaps starting on or after it, individuals first
          recorded on or after it (or undated and no longer observed), identity-link decisions
          made on or after it; a deployment or gap running past the cutoff ends one second
          before it;
        - identity links kept only between kept individuals or kept samples; genotypes only
          of kept samples;
        - metadata that describes the data recomputed from what is left: ``taxonomic`` (only
          species still present), ``temporal`` (the kept deployments' span) and ``spatial``
          (the kept deployments' bounding box).
    """
    agreement = _as_agreement(agreement)
    species = agreement.species
    cutoff = agreement.cutoff(today)
    wanted = set(agreement.tables) or set(SHAREABLE_TABLES) - set(NAMED_ONLY_TABLES)
    if "patrolTracks" in wanted:
        wanted.add("patrols")  # the tracks are a column of the patrols
    filtered = bool(species) or cutoff is not None
    out: dict[str, pd.DataFrame] = {}
    for name, frame in dataset.tables.items():
        if name not in wanted:
            if name in STANDARD_TABLES:
                out[name] = frame.iloc[0:0].copy()
            continue
        keep = np.ones(len(frame), dtype=bool)
        if species and name in ("observations", "individuals", "samples") \
                and "scientificName" in frame:
            keep &= within_taxa(frame["scientificName"], species)
        elif species and name in _SPECIES_OPTIONAL and "scientificName" in frame:
            # an incident or a find without a species (a snare line) is of no species the
            # agreement leaves out; one of another species goes
            keep &= within_taxa(frame["scientificName"], species) \
                | frame["scientificName"].isna().to_numpy(dtype=bool)
        if cutoff is not None:
            for col in _EMBARGOED.get(name, ()):
                if col in frame:
                    keep &= _before(frame[col], cutoff)
            for col in _ENDS.get(name, ()):
                if col in frame:
                    keep &= _before_or_missing(frame[col], cutoff)
        out[name] = frame if keep.all() else frame.loc[keep]
    if cutoff is not None:
        _clamp_spans(out, cutoff)
    # rows of a deployment that is not shared (held back, or its table not agreed) go too
    deployments = out.get("deployments")
    kept_deps = set(deployments["deploymentID"]) \
        if deployments is not None and "deploymentID" in deployments else set()
    for name in ("media", "observations", "deploymentGaps", "deploymentDetails"):
        frame = out.get(name)
        if frame is not None and "deploymentID" in frame and len(frame):
            ok = frame["deploymentID"].isin(kept_deps).to_numpy(bool)
            if not ok.all():
                out[name] = frame.loc[ok]
    obs = out["observations"]
    if filtered and len(out["media"]) and "mediaID" in obs:
        media = out["media"]
        keep = media["mediaID"].isin(set(obs["mediaID"].dropna())).to_numpy(dtype=bool)
        if cutoff is not None and "timestamp" in media:
            keep &= _before(media["timestamp"], cutoff)
        out["media"] = media if keep.all() else media.loc[keep]
    if "media" not in wanted or filtered:
        # an observation whose medium is not shared (its table not agreed, or held back)
        # keeps no reference to it: the package stays valid (a mediaID may be empty)
        obs, media = out["observations"], out["media"]
        if "mediaID" in obs and len(obs):
            gone = (obs["mediaID"].notna() & ~obs["mediaID"].isin(set(media["mediaID"]))) \
                .to_numpy(bool)
            if gone.any():
                obs = obs.copy()
                obs.loc[gone, "mediaID"] = pd.NA
                out["observations"] = obs
    if cutoff is not None and "individuals" in out:
        ind = out["individuals"]
        first = pd.to_datetime(ind.get("firstRecorded", pd.Series(pd.NaT, index=ind.index)),
                               utc=True, errors="coerce")
        seen = set(obs["individualID"].dropna()) if "individualID" in obs else set()
        keep = (first < pd.Timestamp(cutoff, tz="UTC")).fillna(False).to_numpy(bool) | \
            (first.isna().to_numpy(bool) & ind["individualID"].isin(seen).to_numpy(bool))
        out["individuals"] = ind if keep.all() else ind.loc[keep]
    if "patrolFindings" in out:
        found = out["patrolFindings"]
        patrols = out.get("patrols")
        kept = set(patrols["patrolID"]) if patrols is not None else set()
        ok = found["patrolID"].isin(kept).to_numpy(dtype=bool)
        out["patrolFindings"] = found if ok.all() else found.loc[ok]
    if "genotypes" in out:
        g = out["genotypes"]
        kept = out["samples"]["sampleID"] if "samples" in out else pd.Series([], dtype=object)
        ok = g["sampleID"].isin(kept).to_numpy(dtype=bool)
        out["genotypes"] = g if ok.all() else g.loc[ok]
    if "identityLinks" in out:
        links = out["identityLinks"]
        if "individuals" not in out and species:
            # without the catalogue nobody can tell which species a link is about
            out["identityLinks"] = links.iloc[0:0].copy()
        elif "individuals" in out or (cutoff is not None
                                      and dataset.get("individuals") is not None):
            # the catalogue decides which subjects may be named, shared or not: an embargo
            # holds back a link to an individual first recorded after it even when the
            # agreement does not share the catalogue table itself
            cat = out["individuals"] if "individuals" in out \
                else _embargoed_individuals(dataset["individuals"], obs, cutoff)
            known = set(cat["individualID"].dropna())
            samples = set(out["samples"]["sampleID"].dropna()) if "samples" in out else None
            ok = np.ones(len(links), dtype=bool)
            for col in ("subjectA", "subjectB"):
                hit = links[col].isin(known).to_numpy(dtype=bool)
                if samples is not None:
                    hit |= links[col].isin(samples).to_numpy(dtype=bool)
                elif not filtered:
                    # a subject outside any catalogue (a DNA sample) with nothing held back
                    hit |= ~links[col].astype("string").str.contains(":").fillna(False) \
                        .to_numpy(dtype=bool)
                ok &= hit
            out["identityLinks"] = links if ok.all() else links.loc[ok]
    metadata = dict(dataset.metadata)
    if filtered or agreement.tables:
        metadata = _scoped_metadata(metadata, out)
    # the frames are new (filtered) or the input's own, which a Dataset never changes
    return Dataset(out, metadata=metadata, extra_resources=list(dataset.extra_resources),
                   copy=False)


def _embargoed_individuals(ind: pd.DataFrame, obs: pd.DataFrame, cutoff: date
                          ) -> pd.DataFrame:
    """Individuals first recorded before ``cutoff`` (or undated and still observed)."""
    first = pd.to_datetime(ind.get("firstRecorded", pd.Series(pd.NaT, index=ind.index)),
                           utc=True, errors="coerce")
    seen = set(obs["individualID"].dropna()) if "individualID" in obs else set()
    keep = (first < pd.Timestamp(cutoff, tz="UTC")).fillna(False).to_numpy(bool) | \
        (first.isna().to_numpy(bool) & ind["individualID"].isin(seen).to_numpy(bool))
    return ind.loc[keep]


#: Columns whose date must be before an embargo cutoff (a missing one holds the row back).
_EMBARGOED: dict[str, tuple[str, ...]] = {
    "observations": ("eventStart",), "media": ("timestamp",), "samples": ("collectionDate",),
    "deployments": ("deploymentStart",), "deploymentGaps": ("gapStart",),
    "identityLinks": ("timestamp",),
    "incidents": ("eventStart",), "diseaseTests": ("sampleDate",), "necropsies": ("date",),
    "patrols": ("start",), "patrolFindings": ("date",),
}
#: Incident books whose rows may lack a species (kept under a species scope).
_SPECIES_OPTIONAL: tuple[str, ...] = ("incidents", "diseaseTests", "necropsies",
                                      "patrolFindings")
#: End dates: a missing one is fine, a later one holds the row back (deployments and gaps are
#: shortened instead, see _clamp_spans).
_ENDS: dict[str, tuple[str, ...]] = {"observations": ("eventEnd",)}


def _before_or_missing(values: pd.Series, cutoff: date) -> np.ndarray:
    stamps = pd.to_datetime(values, utc=True, errors="coerce")
    return (stamps.isna() | (stamps < pd.Timestamp(cutoff, tz="UTC"))).to_numpy(dtype=bool)


def _clamp_spans(out: dict[str, pd.DataFrame], cutoff: date) -> None:
    """End deployments and gaps that run past the cutoff one second before it."""
    last = pd.Timestamp(cutoff, tz="UTC") - pd.Timedelta(seconds=1)
    for name, col in (("deployments", "deploymentEnd"), ("deploymentGaps", "gapEnd")):
        frame = out.get(name)
        if frame is None or col not in frame or not len(frame):
            continue
        stamps = pd.to_datetime(frame[col], utc=True, errors="coerce")
        late = (stamps >= last).fillna(False).to_numpy(dtype=bool)
        if late.any():
            frame = frame.copy()
            values = stamps.where(~late, last)
            frame[col] = values.astype(frame[col].dtype) if hasattr(frame[col], "dt") \
                else values
            out[name] = frame


def _scoped_metadata(metadata: dict[str, Any], out: Mapping[str, pd.DataFrame]
                     ) -> dict[str, Any]:
    """Package metadata describing only what scoping left."""
    names: set[str] = set()
    for name in ("observations", "individuals", "samples"):
        frame = out.get(name)
        if frame is not None and "scientificName" in frame:
            names |= set(frame["scientificName"].dropna().astype(str))
    taxa = metadata.get("taxonomic")
    if isinstance(taxa, list):
        listed = [t for t in taxa if isinstance(t, Mapping)
                  and isinstance(t.get("scientificName"), str)]
        present = {_tokens(n) for n in names}
        kept = [t for t in listed if _tokens(t["scientificName"]) in present]
        if kept:
            metadata["taxonomic"] = kept
        else:
            metadata.pop("taxonomic", None)
    deps = out.get("deployments")
    if deps is not None and len(deps) and {"deploymentStart", "deploymentEnd"} <= set(deps):
        start = pd.to_datetime(deps["deploymentStart"], utc=True, errors="coerce").min()
        end = pd.to_datetime(deps["deploymentEnd"], utc=True, errors="coerce").max()
        if pd.notna(start) and pd.notna(end):
            metadata["temporal"] = {"start": start.date().isoformat(),
                                    "end": end.date().isoformat()}
        else:
            metadata.pop("temporal", None)
    else:
        metadata.pop("temporal", None)
    if deps is not None and {"latitude", "longitude"} <= set(deps):
        x = pd.to_numeric(deps["longitude"], errors="coerce")
        y = pd.to_numeric(deps["latitude"], errors="coerce")
        ok = x.notna() & y.notna()
        if ok.any():
            x0, x1, y0, y1 = (float(v) for v in (x[ok].min(), x[ok].max(), y[ok].min(),
                                                 y[ok].max()))
            metadata["spatial"] = {"type": "Polygon", "coordinates": [
                [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}
        else:
            metadata.pop("spatial", None)
    return metadata
