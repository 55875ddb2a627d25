"""What the home page answers (selectors): the study's answer per species, the latest run,
proposals awaiting the reader, recent uploads and data-quality alerts.

The answer is :func:`amurlink.analysis.crossborder.answer`, the SAME function the report opens
with (``amurlink.report._sections._answer``), on the cross-border result of the reader's
release of the joint package (``Released.crossborder``: counted on the scoped exact data, so
the figures equal the report's for the same scope).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from django.http import Http404

from amurlink_web.apps.datasets.models import Upload
from amurlink_web.apps.jobs.models import Job
from amurlink_web.apps.jobs.queue import jobs_need_a_worker
from amurlink_web.apps.organisations.selectors import organisation_list

_ANSWERS: OrderedDict[tuple[int, int], tuple[Any, Any, list[dict[str, Any]]]] = OrderedDict()
_LOCK = threading.Lock()


def _label(label: str) -> str:
    from amurlink_web.apps.jobs.views import access_text

    return access_text(label)


def home_answer(*, fetched_by) -> dict[str, Any] | None:
    """``{"rows": [{scientificName, transboundary, individuals}], "access": label}`` for a
    working-group member; ``{"missing": reason}`` when it cannot be computed; None for
    readers outside the working group."""
    from amurlink.analysis.crossborder import answer
    from amurlink_web.apps.jobs.selectors import joint_inputs, joint_reader, joint_release

    try:
        _member, access = joint_reader(fetched_by=fetched_by)
        inputs = joint_inputs()
    except Http404:
        return None
    if inputs.border is None:
        return {"missing": "border", "access": access.label}
    released = joint_release(access=access)
    key = (id(released), id(inputs))
    with _LOCK:
        hit = _ANSWERS.get(key)
        if hit is not None and hit[0] is released and hit[1] is inputs:
            return {"rows": hit[2], "access": access.label,
                    "access_text": _label(access.label)}
    try:
        species = answer(released.crossborder(inputs.border))["species"]
    except Exception:  # noqa: BLE001 - the page still answers the rest
        return {"missing": "crossborder", "access": access.label}
    rows = [{"scientificName": str(r.scientificName), "transboundary": int(r.transboundary),
             "individuals": int(r.individuals)} for r in species.itertuples(index=False)]
    with _LOCK:
        _ANSWERS[key] = (released, inputs, rows)
        while len(_ANSWERS) > 16:
            _ANSWERS.popitem(last=False)
    return {"rows": rows, "access": access.label, "access_text": _label(access.label)}


def latest_run(*, fetched_by) -> Job | None:
    """The latest analysis or study run of the reader's organisations."""
    return (Job.objects.filter(organisation__in=organisation_list(user=fetched_by))
            .select_related("organisation").order_by("-created_at", "-id").first())


def proposals_awaiting(*, fetched_by) -> int | None:
    """Proposed links the reader's park still has to decide (None: the reader decides none)."""
    from amurlink_web.apps.identities.selectors import link_list, review_membership

    member = review_membership(fetched_by=fetched_by)
    if member is None:
        return None
    side = (member.organisation.country or "").upper()
    try:
        rows = link_list(fetched_by=fetched_by, status="proposed")
    except Http404:
        return None
    n = 0
    for row in rows:
        accepted = str(row.get("acceptedBy") or "").split()  # sides, e.g. "CN RU"
        if side and side in accepted:
            continue  # this side has accepted; the partner's turn
        n += 1
    return n


def recent_uploads(*, fetched_by, limit: int = 5) -> list[Upload]:
    return list(Upload.objects.filter(owner__in=organisation_list(user=fetched_by))
                .select_related("owner", "dataset").order_by("-created_at", "-id")[:limit])


def quality_alerts(*, fetched_by) -> list[dict[str, Any]]:
    """What needs someone's attention: rejected or warned uploads, failed runs, no worker."""
    alerts: list[dict[str, Any]] = []
    for up in recent_uploads(fetched_by=fetched_by, limit=20):
        errors = sum(1 for i in up.issues if str(i.get("severity", "error")) == "error")
        warnings = sum(1 for i in up.issues if str(i.get("severity", "")) == "warning")
        if up.status == Upload.Status.REJECTED:
            alerts.append({"kind": "upload-rejected", "upload": up, "count": errors})
        elif warnings:
            alerts.append({"kind": "upload-warnings", "upload": up, "count": warnings})
    orgs = organisation_list(user=fetched_by)
    for job in Job.objects.filter(organisation__in=orgs, status=Job.Status.FAILED
                                  ).order_by("-created_at")[:3]:
        alerts.append({"kind": "run-failed", "job": job})
    if Job.objects.filter(organisation__in=orgs, status=Job.Status.QUEUED).exists() \
            and jobs_need_a_worker():
        alerts.append({"kind": "no-worker"})
    return alerts
