"""Audit of reads: whose data was read, at which location level, under which agreement.

Every read of locations, every download, link view and link decision goes through
:func:`amurlink_web.apps.core.services.audit_record`, which fills the three columns below from
the entry's target when the caller does not give them:

- ``owners``: the organisations whose data was read (a dataset's owner; every park for the
  joint package, its map, its identities and links, and the analyses made from it), so a
  park's managers see every read of their park's data, whoever made it (:func:`audit_for`);
- ``level``: the location level(s) served, taken from the release the reader got
  (``amurlink.release``: each shown station's level, decided on the complete dataset);
- ``agreement``: the sharing agreement the read went through.

Selectors and views that already hold the reader's access call
:func:`amurlink_web.apps.core.services.log_read` with it (this module only reads and derives;
writing is ``core.services``', so the two do not import each other).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet

from amurlink.exceptions import AmurlinkError
from amurlink.schema import LOCATION_LEVELS
from amurlink_web.apps.core.models import AuditLog

_DATASET_TARGET = re.compile(r"^(?:map:)?dataset:(\d+)")
_JOB_TARGET = re.compile(r"^job:(\d+)")
#: Targets that read the joint package (every park's data).
_JOINT_TARGETS = ("map:joint", "joint-catalogue", "link:", "links", "history:")
_LEVEL_IN_LABEL = re.compile(r"\((exact|1km|10km|withheld)\)")


def owners_text(ids: Iterable[int]) -> str:
    """``,3,5,``: organisation ids in the form ``owners__contains=",3,"`` matches."""
    ids = sorted({int(i) for i in ids})
    return f",{','.join(map(str, ids))}," if ids else ""


def levels_text(levels: Iterable[str]) -> str:
    """The distinct levels served, finest first (``1km/withheld``)."""
    found = {str(x) for x in levels if x}
    return "/".join(lv for lv in LOCATION_LEVELS if lv in found)


def agreement_text(agreement: Any) -> str:
    if agreement is None:
        return ""
    return (f"#{agreement.pk} {agreement.provider.slug}->{agreement.recipient.slug} "
            f"{agreement.level}")[:200]


def park_ids() -> list[int]:
    """Every park: the joint package holds each park's part."""
    from amurlink_web.apps.organisations.models import Organisation

    return list(Organisation.objects.filter(kind=Organisation.Kind.PARK)
                .values_list("pk", flat=True))


def dataset_terms(*, dataset: Any, access: Any, with_level: bool = True
                  ) -> tuple[str, str, str]:
    """``(owners, level, agreement)`` of a read of ``dataset`` through ``access``."""
    level = ""
    if with_level:
        from amurlink_web.apps.datasets.selectors import dataset_release

        try:
            level = levels_text(dataset_release(dataset=dataset, access=access).levels)
        except (AmurlinkError, OSError, ValueError, KeyError):  # unreadable package: no level
            level = ""
    return owners_text([dataset.owner_id]), level, agreement_text(access.agreement)


def joint_terms(*, user: Any) -> tuple[str, str, str] | None:
    """``(owners, level, agreement)`` of a read of the joint package by ``user``: every park,
    the levels of the release the reader's organisation gets, the agreements it goes through.
    None when the reader has no view of it (or there is no joint package)."""
    from django.http import Http404

    from amurlink_web.apps.jobs.selectors import joint_reader, joint_release

    try:
        _, access = joint_reader(fetched_by=user)
        level = levels_text(joint_release(access=access).levels)
    except (Http404, AmurlinkError, OSError, ValueError, KeyError):
        return None
    agreements = "; ".join(agreement_text(a) for a in access.agreements)
    return owners_text(park_ids()), level, agreements[:200]


def derive(*, target: str, action: str, user: Any, detail: dict[str, Any]
           ) -> tuple[str, str, str]:
    """``(owners, level, agreement)`` of an audit entry, from its target (see module doc)."""
    reading = action in (AuditLog.Action.READ, AuditLog.Action.EXPORT)
    m = _DATASET_TARGET.match(target)
    if m:
        from amurlink_web.apps.datasets.models import Dataset
        from amurlink_web.apps.datasets.selectors import dataset_access

        ds = Dataset.objects.select_related("owner").filter(pk=int(m.group(1))).first()
        if ds is None:
            return "", "", ""
        access = dataset_access(dataset=ds, fetched_by=user) if reading else None
        if access is None:
            return owners_text([ds.owner_id]), "", ""
        return dataset_terms(dataset=ds, access=access, with_level=reading)
    m = _JOB_TARGET.match(target)
    if m:
        from amurlink_web.apps.jobs.models import Job

        job = Job.objects.filter(pk=int(m.group(1))).first()
        level = ""
        if job is not None and reading:
            found = _LEVEL_IN_LABEL.search(job.audience or "")
            level = found.group(1) if found else ("exact" if job.audience == "owner" else "")
        return owners_text(park_ids()), level, ""
    if target == "map:joint" and reading:
        terms = joint_terms(user=user)
        if terms is not None:
            return terms
    if target.startswith(_JOINT_TARGETS):
        label = str(detail.get("access", ""))
        found = _LEVEL_IN_LABEL.search(label)
        level = found.group(1) if found else ("exact" if label == "owner" else "")
        return owners_text(park_ids()), level if target == "map:joint" else "", ""
    return "", "", ""


def audit_for(*, user: Any, limit: int = 300) -> QuerySet[AuditLog] | None:
    """What a manager sees: every entry by members of the organisations they manage, and
    every read of those organisations' data, whoever made it (partners, the public). None
    for a user who manages nothing."""
    from amurlink_web.apps.organisations.models import Membership, Role
    from amurlink_web.apps.organisations.selectors import membership_list

    managed = [m.organisation_id for m in membership_list(user=user) if m.role == Role.MANAGER]
    if not managed:
        return None
    members = Membership.objects.filter(organisation_id__in=managed).values_list(
        "user_id", flat=True)
    q = Q(user_id__in=members)
    for org in managed:
        q |= Q(owners__contains=f",{org},")
    return AuditLog.objects.filter(q).select_related("user")[:limit]
