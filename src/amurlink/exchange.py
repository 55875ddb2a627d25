"""Exchange packages: a partner's share of a dataset under a sharing agreement, with checksums."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from amurlink._version import __version__
from amurlink.core.protection import (
    Audience,
    ProtectionPolicy,
    _tokens,
    level_to_precision,
)
from amurlink.dataset import Dataset
from amurlink.exceptions import ConfigError, DataError
from amurlink.io import DEFAULT_MAX_BYTES, load_camtrap_dp, write_camtrap_dp
from amurlink.io._source import PackageSource
from amurlink.io.camtrap_dp import _move_into_place
from amurlink.schema import LOCATION_LEVELS, STANDARD_TABLES

__all__ = [
    "SHAREABLE_TABLES",
    "MANIFEST_NAME",
    "Agreement",
    "ExchangePackage",
    "scope_dataset",
    "within_taxa",
    "apply_agreement",
    "export_exchange",
    "import_exchange",
]

#: Tables a sharing agreement may name (the Camtrap DP core and amurlink's extensions).
SHAREABLE_TABLES: tuple[str, ...] = (
    "deployments", "media", "observations", "deploymentDetails", "deploymentGaps",
    "individuals", "samples", "genotypes", "loci", "identityLinks",
)
#: File name of the manifest at the top of an exchange package.
MANIFEST_NAME = "exchange-manifest.json"
#: Value of the manifest's ``format`` key.
_FORMAT = "amurlink-exchange"
_FORMAT_VERSION = 1
_CHUNK = 1 << 20


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
    apply_agreement, export_exchange

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
    on the complete dataset first and then applies this scope (:func:`apply_agreement` does).

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
    wanted = set(agreement.tables) or set(SHAREABLE_TABLES)
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
    if cutoff is not None and "individuals" in out:
        ind = out["individuals"]
        first = pd.to_datetime(ind.get("firstRecorded", pd.Series(pd.NaT, index=ind.index)),
                               utc=True, errors="coerce")
        seen = set(obs["individualID"].dropna()) if "individualID" in obs else set()
        keep = (first < pd.Timestamp(cutoff, tz="UTC")).fillna(False).to_numpy(bool) | \
            (first.isna().to_numpy(bool) & ind["individualID"].isin(seen).to_numpy(bool))
        out["individuals"] = ind if keep.all() else ind.loc[keep]
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
        elif "individuals" in out:
            known = set(out["individuals"]["individualID"].dropna())
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


#: Columns whose date must be before an embargo cutoff (a missing one holds the row back).
_EMBARGOED: dict[str, tuple[str, ...]] = {
    "observations": ("eventStart",), "media": ("timestamp",), "samples": ("collectionDate",),
    "deployments": ("deploymentStart",), "deploymentGaps": ("gapStart",),
    "identityLinks": ("timestamp",),
}
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


def apply_agreement(dataset: Dataset, agreement: Agreement | Mapping[str, Any], /, *,
                    today: date | None = None, policy: ProtectionPolicy | None = None
                    ) -> Dataset:
    """Return ``dataset`` as the recipient of ``agreement`` may see it.

    This is :func:`amurlink.release.release` for the agreement's recipient: which stations
    are sensitive is decided on the COMPLETE dataset and every location goes through
    :func:`amurlink.core.protection.protect_dataset` for the recipient as a partner at the
    agreed level (sensitive species' stations at least the policy's
    ``partner_sensitive_level`` unless the agreement names that species); only then is the
    agreement's scope (:func:`scope_dataset`: species, tables, embargo) applied and the
    metadata recomputed. Images of people and vehicles are removed and EXIF data cleared.

    Parameters
    ----------
    dataset : Dataset
        The provider's COMPLETE data with exact locations.
    agreement : Agreement or mapping
    today : date, optional
        The date the agreement is applied on (expiry, rolling embargo); today if ``None``.
    policy : ProtectionPolicy, optional
        The study's protection rules (``StudyConfig.protection``); the defaults if ``None``
        (the CLI passes ``--config``'s, the web platform its study's).

    Returns
    -------
    Dataset

    Raises
    ------
    ConfigError
        If the agreement has expired on ``today``.

    See Also
    --------
    export_exchange : write the result as an exchange package with checksums.
    amurlink.release.release : the gate, with counts on the scoped exact data.

    Examples
    --------
    >>> from amurlink.datasets import load_example
    >>> shared = apply_agreement(load_example(), Agreement(species=("Panthera tigris",),
    ...                          level="10km"), today=date(2025, 1, 1))
    >>> sorted(set(shared.observations["scientificName"]))
    ['Panthera tigris']
    """
    from amurlink.release import release

    agreement = _as_agreement(agreement)
    policy = ProtectionPolicy() if policy is None else policy
    return release(dataset, audience=agreement.audience, policy=policy, agreement=agreement,
                   today=today or date.today()).dataset


# ---------------------------------------------------------------------------------------------
# Writing and reading exchange packages
# ---------------------------------------------------------------------------------------------
def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _files_of(folder: Path) -> list[Path]:
    return sorted((p for p in folder.rglob("*") if p.is_file()),
                  key=lambda p: p.relative_to(folder).as_posix())


def export_exchange(dataset: Dataset, agreement: Agreement | Mapping[str, Any],
                    out: str | os.PathLike[str], /, *, today: date | None = None,
                    policy: ProtectionPolicy | None = None, overwrite: bool = False,
                    created: datetime | None = None) -> Path:
    """Write the recipient's share of ``dataset`` as an exchange package.

    The package is a Camtrap DP 1.0.2 package written by
    :func:`~amurlink.io.write_camtrap_dp` from :func:`apply_agreement`'s result, plus
    ``exchange-manifest.json``: the SHA-256 and size of every file, the agreement, the
    software version, the creation time and the row count of each table.

    Parameters
    ----------
    dataset : Dataset
        The provider's data with exact locations.
    agreement : Agreement or mapping
    out : path_like
        Target: a folder, or a ``.zip`` file.
    today : date, optional
        The date the agreement is applied on; today if ``None``.
    policy : ProtectionPolicy, optional
        The study's protection rules.
    overwrite : bool, default False
        Replace an existing ``out``.
    created : datetime, optional
        Creation time recorded in the manifest (UTC now if ``None``).

    Returns
    -------
    Path
        ``out``. Written atomically: a failure leaves nothing (and an existing package intact).

    Raises
    ------
    FileExistsError
        If ``out`` exists and ``overwrite`` is False.
    ConfigError
        If the agreement has expired.
    SchemaError
        If a table cannot be written as Camtrap DP.

    See Also
    --------
    import_exchange : verify and read such a package.
    """
    agreement = _as_agreement(agreement)
    target = Path(out)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; pass overwrite=True (--overwrite) to replace it")
    today = today or date.today()
    shared = apply_agreement(dataset, agreement, today=today, policy=policy)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{target.name}.", suffix=".partial",
                                     dir=target.parent) as tmp:
        folder = write_camtrap_dp(shared, Path(tmp) / "package")
        files = [{"path": f.relative_to(folder).as_posix(), "bytes": f.stat().st_size,
                  "sha256": _sha256_file(f)} for f in _files_of(folder)]
        stamp = (created or datetime.now(UTC)).astimezone(UTC)
        cutoff = agreement.cutoff(today)
        manifest = {
            "format": _FORMAT,
            "formatVersion": _FORMAT_VERSION,
            "software": {"name": "amurlink", "version": __version__},
            "created": stamp.isoformat().replace("+00:00", "Z"),
            "appliedOn": today.isoformat(),
            "agreement": agreement.to_dict(),
            "embargoCutoff": cutoff.isoformat() if cutoff else None,
            "coordinatePrecision": level_to_precision(agreement.level).coordinate_precision,
            "rowCounts": {name: int(len(frame)) for name, frame in shared.tables.items()},
            "files": files,
        }
        (folder / MANIFEST_NAME).write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if target.suffix.lower() == ".zip":
            staged = Path(tmp) / "package.zip"
            with zipfile.ZipFile(staged, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for f in _files_of(folder):
                    zf.write(f, f.relative_to(folder).as_posix())
        else:
            staged = folder
        _move_into_place(staged, target)
    return target


@dataclass(frozen=True)
class ExchangePackage:
    """A verified exchange package.

    Attributes
    ----------
    dataset : Dataset
        The shared data, read and validated.
    agreement : Agreement
        The agreement it was made under (from the manifest).
    manifest : dict
        The manifest as read.
    source : Path
        Where it was read from.
    written : Path or None
        Where the verified package was copied to (``out_dir``), if anywhere.
    """

    dataset: Dataset
    agreement: Agreement
    manifest: dict[str, Any]
    source: Path
    written: Path | None = None
    files: tuple[str, ...] = field(default=())

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary: source, target, agreement, software, created, row counts."""
        return {"source": str(self.source),
                "written": str(self.written) if self.written else None,
                "verifiedFiles": len(self.files) + 1,
                "agreement": self.agreement.to_dict(),
                "software": self.manifest.get("software"),
                "created": self.manifest.get("created"),
                "rowCounts": {k: int(len(v)) for k, v in self.dataset.tables.items()}}


class _Reader:
    """Files of a package folder or zip, read with the library's safety limits."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.zip: zipfile.ZipFile | None = None
        self.prefix = ""
        if path.is_dir():
            self.names = [f.relative_to(path).as_posix() for f in _files_of(path)]
        elif path.is_file() and zipfile.is_zipfile(path):
            # the library's archive checks first: no '..' or absolute members, no member
            # inflating past max_bytes or with a zip-bomb compression ratio
            PackageSource.open(path, max_bytes=max_bytes).close()
            try:
                self.zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise DataError(f"{path}: cannot open the zip archive ({exc}); ask the provider "
                                "for a new copy") from None
            names = [i.filename for i in self.zip.infolist() if not i.is_dir()]
            if MANIFEST_NAME not in names:
                nested = [n for n in names if n.count("/") == 1 and n.endswith("/" + MANIFEST_NAME)]
                if len(nested) == 1:
                    self.prefix = nested[0][: -len(MANIFEST_NAME)]
            self.names = [n[len(self.prefix):] for n in names if n.startswith(self.prefix)]
        elif not path.exists():
            raise DataError(f"{path}: no such file or folder; give an exchange package folder "
                            "or .zip")
        else:
            raise DataError(f"{path}: not an exchange package (expected a folder or a .zip "
                            f"with {MANIFEST_NAME})")

    def sha256(self, rel: str) -> tuple[str, int]:
        h = hashlib.sha256()
        n = 0
        if self.zip is not None:
            fh = self.zip.open(self.prefix + rel)
        else:
            fh = open(self.path / rel, "rb")  # noqa: SIM115 - closed below
        with fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                n += len(chunk)
                if n > self.max_bytes:
                    raise DataError(f"{self.path}: {rel} is larger than the limit of "
                                    f"{self.max_bytes} bytes; raise max_bytes if it is genuine")
                h.update(chunk)
        return h.hexdigest(), n

    def read(self, rel: str) -> bytes:
        if self.zip is not None:
            with self.zip.open(self.prefix + rel) as fh:
                return fh.read(self.max_bytes + 1)
        return (self.path / rel).read_bytes()

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def _refuse(path: Path, what: str, fix: str) -> DataError:
    return DataError(f"{path}: {what}; the package was not imported and nothing was written. "
                     f"{fix}")


def _read_manifest(reader: _Reader) -> dict[str, Any]:
    path = reader.path
    if MANIFEST_NAME not in reader.names:
        raise _refuse(path, f"no {MANIFEST_NAME} found (expected at the top of the package)",
                      "Only packages written by `amurlink exchange export` can be imported; ask "
                      "the provider to export it again")
    try:
        manifest = json.loads(reader.read(MANIFEST_NAME).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _refuse(path, f"{MANIFEST_NAME} is not valid UTF-8 JSON ({exc})",
                      "The manifest was damaged; ask the provider for a new copy") from None
    except RecursionError:
        raise _refuse(path, f"{MANIFEST_NAME} is nested too deeply to be a manifest",
                      "The manifest was damaged; ask the provider for a new copy") from None
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
        raise _refuse(path, f"{MANIFEST_NAME} field 'format': expected {_FORMAT!r}, got "
                      f"{manifest.get('format') if isinstance(manifest, dict) else manifest!r}",
                      "This is not an amurlink exchange manifest")
    version = manifest.get("formatVersion")
    if version != _FORMAT_VERSION:
        raise _refuse(path, f"{MANIFEST_NAME} field 'formatVersion': expected {_FORMAT_VERSION}, "
                      f"got {version!r}", "Upgrade amurlink to read newer exchange packages")
    files = manifest.get("files")
    if not isinstance(files, list) or not files:
        raise _refuse(path, f"{MANIFEST_NAME} field 'files': expected a list of "
                      "{path, bytes, sha256}", "The manifest was damaged; ask for a new copy")
    for k, entry in enumerate(files):
        ok = isinstance(entry, dict) and isinstance(entry.get("path"), str) \
            and isinstance(entry.get("sha256"), str) and isinstance(entry.get("bytes"), int)
        if not ok:
            raise _refuse(path, f"{MANIFEST_NAME} files[{k}]: expected {{path, bytes, sha256}}, "
                          f"got {entry!r}", "The manifest was damaged; ask for a new copy")
        parts = PurePosixPath(entry["path"]).parts
        if entry["path"].startswith(("/", "\\")) or ".." in parts or entry["path"] == MANIFEST_NAME:
            raise _refuse(path, f"{MANIFEST_NAME} files[{k}]: unsafe path {entry['path']!r}",
                          "Paths must stay inside the package")
    return manifest


def _same_copy(target: Path, manifest: dict[str, Any]) -> bool:
    """Whether ``target`` already holds exactly this verified package."""
    mf = target / MANIFEST_NAME
    if not mf.is_file():
        return False
    try:
        existing = json.loads(mf.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    if existing != manifest:
        return False
    for entry in manifest["files"]:
        f = target / entry["path"]
        if not f.is_file() or f.stat().st_size != entry["bytes"] \
                or _sha256_file(f) != entry["sha256"]:
            return False
    return True


def import_exchange(path: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None = None,
                    /, *, overwrite: bool = False, max_bytes: int = DEFAULT_MAX_BYTES
                    ) -> ExchangePackage:
    """Verify an exchange package and read it (optionally copying it to ``out_dir``).

    Every check runs before anything is written: the manifest must be present and complete,
    every file it lists must exist with its size and SHA-256, no file may be present that it
    does not list, and the Camtrap DP package must validate. A tampered or incomplete package
    is refused with a :class:`DataError` naming the file, what was expected and what was found.

    Parameters
    ----------
    path : path_like
        Exchange package folder or ``.zip``.
    out_dir : path_like, optional
        Folder to copy the verified package into (byte for byte, with its manifest). Importing
        the same package into the same folder again changes nothing (idempotent).
    overwrite : bool, default False
        Replace a different package already in ``out_dir``.
    max_bytes : int, optional
        Largest size of one file in bytes.

    Returns
    -------
    ExchangePackage

    Raises
    ------
    DataError
        If the package is missing files, has extra or altered files, or its manifest is
        unreadable.
    SchemaError
        If the Camtrap DP package itself is invalid (``exc.report`` holds the report).
    FileExistsError
        If ``out_dir`` holds a different package and ``overwrite`` is False.

    See Also
    --------
    export_exchange
    """
    source = Path(path)
    reader = _Reader(source, max_bytes)
    try:
        manifest = _read_manifest(reader)
        listed = {e["path"]: e for e in manifest["files"]}
        missing = sorted(set(listed) - set(reader.names))
        if missing:
            raise _refuse(source, f"incomplete package: {len(missing)} file(s) listed in "
                          f"{MANIFEST_NAME} are missing (first: {missing[0]})",
                          "Copy the whole package again")
        extra = sorted(set(reader.names) - set(listed) - {MANIFEST_NAME})
        if extra:
            raise _refuse(source, f"{len(extra)} file(s) not listed in {MANIFEST_NAME} were "
                          f"added (first: {extra[0]})", "Remove them or ask for a new copy")
        for rel, entry in listed.items():
            digest, size = reader.sha256(rel)
            if size != entry["bytes"] or digest != entry["sha256"]:
                raise _refuse(source, f"{rel} was changed after export: expected SHA-256 "
                              f"{entry['sha256']} ({entry['bytes']} bytes), got {digest} "
                              f"({size} bytes)", "Ask the provider for a new copy")
        try:
            agreement = Agreement.from_mapping(manifest.get("agreement") or {},
                                               source=f"{source}: {MANIFEST_NAME} agreement")
        except ConfigError as exc:
            raise _refuse(source, str(exc), "The manifest was damaged") from None
    finally:
        reader.close()
    dataset, report = load_camtrap_dp(source, max_bytes=max_bytes)
    report.raise_for_errors()
    assert dataset is not None
    written: Path | None = None
    if out_dir is not None:
        written = _copy_verified(source, Path(out_dir), manifest, overwrite=overwrite,
                                 max_bytes=max_bytes)
    return ExchangePackage(dataset=dataset, agreement=agreement, manifest=manifest,
                           source=source, written=written,
                           files=tuple(sorted(listed)))


def _copy_verified(source: Path, target: Path, manifest: dict[str, Any], *, overwrite: bool,
                   max_bytes: int) -> Path:
    if target.exists():
        if _same_copy(target, manifest):
            return target
        if not overwrite:
            raise FileExistsError(f"{target} exists and holds something else; choose another "
                                  "folder or pass overwrite=True (--overwrite)")
    target.parent.mkdir(parents=True, exist_ok=True)
    reader = _Reader(source, max_bytes)
    try:
        with tempfile.TemporaryDirectory(prefix=f".{target.name}.", suffix=".partial",
                                         dir=target.parent) as tmp:
            staged = Path(tmp) / "package"
            for rel in [e["path"] for e in manifest["files"]] + [MANIFEST_NAME]:
                dest = staged / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(reader.read(rel))
            # the copy is checked again: the source could have changed since verification
            for entry in manifest["files"]:
                if _sha256_file(staged / entry["path"]) != entry["sha256"]:
                    raise _refuse(source, f"{entry['path']} changed while it was imported",
                                  "Import it again from a copy nobody is writing to")
            _move_into_place(staged, target)
    finally:
        reader.close()
    return target
