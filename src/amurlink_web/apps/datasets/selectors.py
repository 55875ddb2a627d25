"""Who may read which dataset, and what they see of it (data only through amurlink.release).

Every page, API endpoint, map and download of a dataset takes its rows from
:func:`dataset_release`: the library's :func:`amurlink.release.release` with the STUDY's
protection policy (:func:`study_policy`, from ``settings.STUDY_CONFIG``), the reader's
audience and agreement. Nothing here protects or scopes by itself.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from django.conf import settings
from django.db.models import Q
from django.http import Http404

from amurlink import Dataset as PackageData
from amurlink.config import StudyConfig, load_config
from amurlink.core.protection import Audience, ProtectionPolicy
from amurlink.io import read_camtrap_dp
from amurlink.release import Released, release
from amurlink_web.apps.datasets.models import Dataset, Upload
from amurlink_web.apps.organisations.models import Membership
from amurlink_web.apps.organisations.selectors import (
    membership_get,
    membership_list,
    organisation_list,
)
from amurlink_web.apps.sharing.models import SharingAgreement
from amurlink_web.apps.sharing.scope import agreement_terms
from amurlink_web.apps.sharing.selectors import _LEVEL_RANK


def study_config_path() -> Path | None:
    """The study's ``amurlink.toml``: ``settings.STUDY_CONFIG`` (``AMURLINK_STUDY_CONFIG``),
    else one beside the joint package (``DATA_DIR/joint/`` or ``DATA_DIR``), else none (the
    bundled demo study's settings apply)."""
    value = getattr(settings, "STUDY_CONFIG", "")
    if value:
        return Path(value)
    data_dir = Path(settings.DATA_DIR)
    for candidate in (data_dir / "joint" / "amurlink.toml", data_dir / "amurlink.toml"):
        if candidate.is_file():
            return candidate
    return None


@functools.lru_cache(maxsize=4)
def _load_config(path: str | None, stamp: int) -> StudyConfig:
    if path is None:
        from amurlink.datasets import example_config_path

        return load_config(example_config_path())  # the demo study's settings
    return load_config(path)


def study_config() -> StudyConfig:
    """The study config, read once (again only when its file changes)."""
    path = study_config_path()
    stamp = path.stat().st_mtime_ns if path is not None and path.is_file() else 0
    return _load_config(str(path) if path is not None else None, stamp)


def study_policy() -> ProtectionPolicy:
    """The study's ``[protection]``: the one policy of every selector, map and job."""
    return study_config().protection


def __getattr__(name: str) -> Any:
    # ``POLICY`` was a module constant with the library defaults; it is now the study's
    if name == "POLICY":
        return study_policy()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Access:
    """How one reader relates to one dataset."""

    kind: Literal["owner", "partner", "public"]
    membership: Membership | None = None
    agreement: SharingAgreement | None = None

    @property
    def audience(self) -> Audience:
        if self.kind == "owner":
            return Audience.owner()
        if self.kind == "partner":
            assert self.agreement is not None
            return agreement_terms(self.agreement).audience
        return Audience.public()

    @property
    def key(self) -> tuple[Any, ...]:
        a = self.agreement
        if a is None:
            return (self.kind,)
        return (self.kind, a.level, tuple(a.species), tuple(a.tables),
                a.embargo_date.isoformat() if a.embargo_date else None)

    @property
    def level(self) -> str:
        """The location level named for the reader (sensitive stations can be coarser)."""
        if self.kind == "owner":
            return "exact"
        if self.kind == "partner":
            assert self.agreement is not None
            return self.agreement.level
        return study_policy().public_level


def _reader_terms(*, fetched_by, provider_id: int | None = None
                  ) -> tuple[dict[int, Membership], dict[int, list[SharingAgreement]]]:
    """The reader's memberships by organisation, and the active agreements to the reader's
    organisations by provider (two queries, whatever the number of datasets)."""
    members = {m.organisation_id: m for m in membership_list(user=fetched_by)}
    agreements: dict[int, list[SharingAgreement]] = {}
    if members:
        found = SharingAgreement.objects.filter(recipient_id__in=list(members), active=True)
        if provider_id is not None:
            found = found.filter(provider_id=provider_id)
        for a in found.select_related("provider", "recipient"):
            agreements.setdefault(a.provider_id, []).append(a)
    return members, agreements


def _access(dataset: Dataset, members: dict[int, Membership],
            agreements: dict[int, list[SharingAgreement]]) -> Access | None:
    member = members.get(dataset.owner_id)
    if member is not None:
        return Access("owner", membership=member)
    found = agreements.get(dataset.owner_id)
    if found:
        # with several (the reader belongs to several recipients) the most precise one applies
        return Access("partner", agreement=min(found, key=lambda a: (_LEVEL_RANK[a.level], a.pk)))
    if dataset.is_public:
        return Access("public")
    return None


def dataset_access(*, dataset: Dataset, fetched_by) -> Access | None:
    """The reader's access to ``dataset``: owner, partner under an agreement, public, or none."""
    return _access(dataset, *_reader_terms(fetched_by=fetched_by, provider_id=dataset.owner_id))


def dataset_list(*, fetched_by) -> list[tuple[Dataset, Access]]:
    """Every dataset the reader may see, with how they see it."""
    members, agreements = _reader_terms(fetched_by=fetched_by)
    candidates = Dataset.objects.select_related("owner").filter(
        Q(owner_id__in=list(members)) | Q(owner_id__in=list(agreements)) | Q(is_public=True))
    out = []
    for ds in candidates.order_by("-created_at", "-id"):
        access = _access(ds, members, agreements)
        if access is not None:
            out.append((_as_seen(ds, access), access))
    return out


def _as_seen(ds: Dataset, access: Access) -> Dataset:
    """The row with its counts, species and dates as the reader may see them (not saved).

    The stored counts describe the complete package; a partner or the public gets those of
    what the release leaves, so nothing held back can be read from a list page.
    """
    if access.kind == "owner":
        return ds
    try:
        summary = dataset_summary(dataset=ds, access=access)
    except OSError:  # the package is gone from disk: show nothing rather than the stored row
        summary = {"deployments": 0, "media": 0, "observations": 0, "species": [],
                   "firstRecord": None, "lastRecord": None}
    ds.n_deployments = summary["deployments"]
    ds.n_media = summary["media"]
    ds.n_observations = summary["observations"]
    ds.species = summary["species"]
    ds.first_record = pd.Timestamp(summary["firstRecord"]).to_pydatetime() \
        if summary["firstRecord"] else None
    ds.last_record = pd.Timestamp(summary["lastRecord"]).to_pydatetime() \
        if summary["lastRecord"] else None
    ds.save = _read_only  # a row changed for display must never be written back
    return ds


def _read_only(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("this dataset row shows a reader's view of the data and cannot be saved")


def dataset_get(*, dataset_id: int, fetched_by) -> tuple[Dataset, Access]:
    """The dataset and the reader's access; 404 when the reader may not see it."""
    ds = Dataset.objects.select_related("owner").filter(pk=dataset_id).first()
    access = dataset_access(dataset=ds, fetched_by=fetched_by) if ds is not None else None
    if ds is None or access is None:
        raise Http404("no such dataset")
    return ds, access


def package_path(dataset: Dataset) -> Path:
    return Path(settings.DATA_DIR) / dataset.package_dir


@functools.lru_cache(maxsize=16)
def _read(path: str, stamp: int) -> PackageData:
    return read_camtrap_dp(path, strict=False)


def released_for(data: PackageData, access: Access, policy: ProtectionPolicy) -> Released:
    """``data`` (the complete stored package) as ``access`` may see it: the library's gate."""
    agreement = agreement_terms(access.agreement) if access.agreement is not None else None
    return release(data, audience=access.audience, policy=policy, agreement=agreement)


@functools.lru_cache(maxsize=64)
def _released(path: str, stamp: int, key: tuple[Any, ...], access: Access,
              policy: ProtectionPolicy) -> Released:
    return released_for(_read(path, stamp), access, policy)


def dataset_release(*, dataset: Dataset, access: Access) -> Released:
    """The package as this reader may see it (:class:`amurlink.release.Released`)."""
    path = package_path(dataset)
    stamp = (path / "datapackage.json").stat().st_mtime_ns
    # the cache key carries the agreement terms and the policy: never served stale
    return _released(str(path), stamp, access.key, access, study_policy())


def dataset_records(*, dataset: Dataset, access: Access) -> PackageData:
    """The package as this reader may see it: protected on the whole, then scoped."""
    return dataset_release(dataset=dataset, access=access).dataset


def dataset_summary(*, dataset: Dataset, access: Access) -> dict[str, Any]:
    """Counts, species and first / last record of what this reader may see.

    The owner's come from the stored row; everybody else's are computed after release, so
    an agreement's held-back species, dates and rows cannot be inferred from them.
    """
    if access.kind == "owner":
        return {"deployments": dataset.n_deployments, "media": dataset.n_media,
                "observations": dataset.n_observations, "species": list(dataset.species),
                "firstRecord": dataset.first_record.isoformat() if dataset.first_record
                else None,
                "lastRecord": dataset.last_record.isoformat() if dataset.last_record else None}
    summary = dataset_release(dataset=dataset, access=access).summary()
    return {k: summary[k] for k in ("deployments", "media", "observations", "species",
                                    "firstRecord", "lastRecord")}


def frame_records(frame: pd.DataFrame, *, limit: int | None = None) -> list[dict[str, Any]]:
    """Rows as plain JSON-ready dicts (missing values as None, times as ISO 8601 UTC)."""
    if limit is not None:
        frame = frame.head(limit)
    return json.loads(frame.to_json(orient="records", date_format="iso", date_unit="s"))


_DEPLOYMENT_FIELDS = ("deploymentID", "locationName", "latitude", "longitude",
                      "coordinateUncertainty", "deploymentStart", "deploymentEnd")
_OBSERVATION_FIELDS = ("observationID", "deploymentID", "mediaID", "eventStart",
                       "observationType", "scientificName", "count", "individualID")
_MEDIA_FIELDS = ("mediaID", "deploymentID", "timestamp", "filePath", "fileMediatype")

#: Fields of each table the pages and the API show (the web registry producers use them).
TABLE_FIELDS = {"deployments": _DEPLOYMENT_FIELDS, "observations": _OBSERVATION_FIELDS,
                "media": _MEDIA_FIELDS}


def _pick(frame: pd.DataFrame, fields: tuple[str, ...]) -> pd.DataFrame:
    return frame[[f for f in fields if f in frame]]


def released_rows(data: PackageData, table: str, fields: tuple[str, ...],
                  limit: int | None = None) -> list[dict[str, Any]]:
    """JSON-ready rows of one table of a RELEASED package (the API's and pages' rows)."""
    return frame_records(_pick(data[table], fields), limit=limit)


@functools.lru_cache(maxsize=256)
def _rows(path: str, stamp: int, key: tuple[Any, ...], access: Access, policy: ProtectionPolicy,
          table: str, fields: tuple[str, ...], limit: int | None) -> tuple[dict[str, Any], ...]:
    # the JSON-ready rows of one released table, made once per package state and reader view
    data = _released(path, stamp, key, access, policy).dataset
    return tuple(released_rows(data, table, fields, limit))


def _table_rows(dataset: Dataset, access: Access, table: str, fields: tuple[str, ...],
                limit: int | None = None) -> list[dict[str, Any]]:
    path = package_path(dataset)
    stamp = (path / "datapackage.json").stat().st_mtime_ns
    rows = _rows(str(path), stamp, access.key, access, study_policy(), table, fields, limit)
    return [dict(r) for r in rows]  # copies: callers may change what they get


def deployment_list(*, dataset: Dataset, access: Access) -> list[dict[str, Any]]:
    return _table_rows(dataset, access, "deployments", _DEPLOYMENT_FIELDS)


def observation_list(*, dataset: Dataset, access: Access, limit: int = 500
                     ) -> list[dict[str, Any]]:
    return _table_rows(dataset, access, "observations", _OBSERVATION_FIELDS, limit)


def media_list(*, dataset: Dataset, access: Access, limit: int = 500) -> list[dict[str, Any]]:
    return _table_rows(dataset, access, "media", _MEDIA_FIELDS, limit)


def upload_get(*, upload_id: int, fetched_by) -> Upload:
    """An upload report; only members of the uploading organisation see it."""
    upload = Upload.objects.select_related("owner", "dataset").filter(pk=upload_id).first()
    if upload is None or membership_get(user=fetched_by, organisation=upload.owner) is None:
        raise Http404("no such upload")
    return upload


def upload_list(*, fetched_by, limit: int = 50) -> list[Upload]:
    orgs = organisation_list(user=fetched_by)
    return list(Upload.objects.filter(owner__in=orgs).select_related("owner")[:limit])
