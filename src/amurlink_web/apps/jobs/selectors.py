"""What a reader sees of the joint package (reports, analyses, the map) and which jobs."""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import Http404

from amurlink import Dataset as PackageData
from amurlink.core.protection import Audience
from amurlink.release import Released, ScopedDataset, release, scope
from amurlink.report.inputs import ReportInputs, load_report_inputs
from amurlink_web.apps.datasets.selectors import (  # noqa: F401 - study_config_path re-exported
    study_config,
    study_config_path,
    study_policy,
)
from amurlink_web.apps.identities.selectors import joint_membership, joint_package_path
from amurlink_web.apps.jobs.models import Job
from amurlink_web.apps.organisations.models import Membership, Organisation
from amurlink_web.apps.organisations.selectors import organisation_list
from amurlink_web.apps.sharing.models import SharingAgreement
from amurlink_web.apps.sharing.scope import agreement_terms
from amurlink_web.apps.sharing.selectors import _LEVEL_RANK

#: Django language code -> report language code.
REPORT_LANGUAGES = {"en": "en", "zh-hans": "zh", "ru": "ru"}


@dataclass(frozen=True)
class JointAccess:
    """How one organisation sees the joint package (made of every park's data).

    ``kind`` is ``owner`` when the organisation owns at least one country's part (the rest
    at the coarsest level the other parks' agreements grant it, ``withheld`` without one),
    ``partner`` when every park shares with it, else ``public``.
    """

    kind: str
    level: str
    organisation: str
    country: str | None = None
    agreements: tuple[SharingAgreement, ...] = ()

    @property
    def audience(self) -> Audience:
        if self.kind == "owner":
            if self.country is None:
                return Audience.owner()
            return Audience.owner(country=self.country, level=self.level)
        if self.kind == "partner":
            return Audience.partner(organisation=self.organisation, level=self.level)
        return Audience.public()

    @property
    def label(self) -> str:
        return self.kind if self.level in ("", "exact") else f"{self.kind} ({self.level})"

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.kind, self.level, self.country, tuple(
            (a.pk, a.level, tuple(a.species), tuple(a.tables),
             a.embargo_date.isoformat() if a.embargo_date else None) for a in self.agreements))


def _stamp(path: Path) -> int:
    f = path / "datapackage.json"
    if not f.is_file():
        raise Http404("no joint package has been loaded yet")
    stamps = [f.stat().st_mtime_ns]
    # run-record.json: a rerun of only the theme stages (design, corridors) leaves the joint
    # package as it was, but its results (joint_inputs().themes) are new
    for p in (path / "identity-links.csv", path.parent / "border.geojson",
              path.parent / "amurlink.toml", path.parent / "run-record.json"):
        if p.is_file():
            stamps.append(p.stat().st_mtime_ns)
    return hash(tuple(stamps))


@functools.lru_cache(maxsize=4)
def _inputs(path: str, stamp: int, config: Any) -> ReportInputs:
    return load_report_inputs(path, config=config)


def joint_inputs() -> ReportInputs:
    """The joint package with EXACT locations, the study config and the border (if any).

    The study config is the platform's one (:func:`~amurlink_web.apps.datasets.selectors.
    study_config`: ``AMURLINK_STUDY_CONFIG``, else an ``amurlink.toml`` beside the joint
    package); the border is its ``[border] file`` or a ``border.geojson`` there. NEVER shown
    as is: pages, maps and jobs take :func:`joint_release`.
    """
    path = joint_package_path()
    return _inputs(str(path), _stamp(path), study_config())


def joint_countries(data: PackageData) -> list[str]:
    if "deploymentDetails" not in data:
        return []
    codes = data["deploymentDetails"]["countryCode"].dropna().astype(str).str.upper()
    return sorted(set(codes))


def joint_access(*, organisation: Organisation) -> JointAccess:
    """The organisation's view of the joint package (see :class:`JointAccess`)."""
    data = joint_inputs().dataset
    own: list[str] = []
    levels: list[str] = []
    agreements: list[SharingAgreement] = []
    public = False
    codes = joint_countries(data)
    # two queries whatever the number of countries: the parks (per country the first in the
    # model's order, as .first() gave), then every agreement they give this organisation, with
    # both parties (the audit names them)
    parks: dict[str, Organisation] = {}
    for org in Organisation.objects.filter(kind=Organisation.Kind.PARK,
                                           country__in=codes).order_by("name", "pk"):
        parks.setdefault(str(org.country), org)
    given: dict[int, list[SharingAgreement]] = {}
    others = [p.pk for p in parks.values() if p.pk != organisation.pk]
    if others:
        for a in SharingAgreement.objects.filter(
                provider_id__in=others, recipient=organisation, active=True
        ).select_related("provider", "recipient"):
            given.setdefault(a.provider_id, []).append(a)
    for code in codes:
        park = parks.get(code)
        if park is not None and park.pk == organisation.pk:
            own.append(code)
            continue
        found = [] if park is None else given.get(park.pk, [])
        if not found:
            public = True
            levels.append("withheld")
            continue
        best = min(found, key=lambda a: (_LEVEL_RANK[a.level], a.pk))
        agreements.append(best)
        levels.append(best.level)
    level = max(levels, key=_LEVEL_RANK.__getitem__) if levels else "exact"
    if own:
        return JointAccess("owner", level, organisation.name,
                           country=own[0] if levels else None, agreements=tuple(agreements))
    if public:
        return JointAccess("public", study_policy().public_level, organisation.name)
    return JointAccess("partner", level, organisation.name, agreements=tuple(agreements))


def joint_reader(*, fetched_by) -> tuple[Membership, JointAccess]:
    """The reader's working-group membership and its view of the joint package (404 else)."""
    member = joint_membership(fetched_by=fetched_by)
    return member, joint_access(organisation=member.organisation)


def _terms(access: JointAccess) -> tuple[Any, ...]:
    return tuple(agreement_terms(a) for a in access.agreements)


def scoped_joint(access: JointAccess) -> ScopedDataset:
    """The joint package cut to what the agreements share (locations still EXACT).

    It remembers the complete package, so any protection of it (the report job's
    ``build_view``, :func:`amurlink.release.release`) decides the stations' levels on the
    complete package, never on what the agreements left.
    """
    return scope(joint_inputs().dataset, agreements=_terms(access))


def data_stamp(path: Path) -> tuple[int, ...]:
    """What the joint package's records depend on apart from the link log (which every
    review decision rewrites, with ``datapackage.json``): the data files, the border and the
    study settings."""
    f = path / "datapackage.json"
    if not f.is_file():
        raise Http404("no joint package has been loaded yet")
    stamps = []
    for p in sorted(path.iterdir()):
        if p.is_file() and p.suffix == ".csv" and not p.name.startswith("identity-links"):
            stamps.append(p.stat().st_mtime_ns)
    for p in (path.parent / "border.geojson", path.parent / "amurlink.toml"):
        if p.is_file():
            stamps.append(p.stat().st_mtime_ns)
    return tuple(stamps)


#: (path, data state, reader's terms, policy) -> the first release made for them. The review
#: pages keep it while only the link log changes (a decision never waits for a release).
_FIRST: dict[tuple[Any, ...], Released] = {}
_FIRST_LOCK = threading.Lock()
_FIRST_SIZE = 16


@functools.lru_cache(maxsize=16)
def _released(path: str, data: tuple[int, ...], stamp: int, key: tuple[Any, ...],
              access: JointAccess, policy: Any) -> Released:
    out = release(joint_inputs().dataset, audience=access.audience, policy=policy,
                  agreements=_terms(access))
    with _FIRST_LOCK:
        first = (path, data, key, policy)
        if first not in _FIRST:
            _FIRST[first] = out
            while len(_FIRST) > _FIRST_SIZE:
                _FIRST.pop(next(iter(_FIRST)))
    return out


def joint_release(*, access: JointAccess) -> Released:
    """The joint package as ``access`` may see it (:class:`amurlink.release.Released`).

    ONE release per (state of the joint package, its link log included; reader's terms)
    for every page: the maps, the home page, the jobs and, through
    :func:`data_release`, the review, photo and individual pages.
    """
    path = joint_package_path()
    return _released(str(path), data_stamp(path), _stamp(path), access.key, access,
                     study_policy())


def data_release(*, access: JointAccess) -> Released:
    """The release the review, photo and individual pages read: :func:`joint_release`'s,
    the first one made for the current data state (link log aside) and ``access``'s terms.

    Those pages take links, identities and histories from the link store itself, so a
    decision (which rewrites only the link log) does not make them wait for a new release
    of unchanged data; a change of any data file, the border or the study settings does.
    """
    path = joint_package_path()
    policy = study_policy()
    with _FIRST_LOCK:
        hit = _FIRST.get((str(path), data_stamp(path), access.key, policy))
    return hit if hit is not None else joint_release(access=access)


def joint_records(*, access: JointAccess) -> PackageData:
    """The joint package as ``access`` may see it (protected on the whole, then scoped)."""
    return joint_release(access=access).dataset


def job_list(*, fetched_by, limit: int = 100) -> list[Job]:
    orgs = organisation_list(user=fetched_by)
    return list(Job.objects.filter(organisation__in=orgs)
                .select_related("organisation", "created_by")[:limit])


def job_get(*, job_id: int, fetched_by) -> Job:
    """A job of one of the reader's organisations; 404 for everyone else."""
    job = Job.objects.select_related("organisation", "created_by").filter(pk=job_id).first()
    if job is None or not organisation_list(user=fetched_by).filter(
            pk=job.organisation_id).exists():
        raise Http404("no such job")
    return job


def job_result_dir(job: Job) -> Path | None:
    if not job.result_path:
        return None
    return Path(settings.DATA_DIR) / job.result_path
