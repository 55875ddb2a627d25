"""Reviewing identity links through the library's LinkStore (its conflict checks apply)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from amurlink.exceptions import AmurlinkError, LinkConflictError
from amurlink_web.apps.core.services import ApplicationError, audit_record
from amurlink_web.apps.datasets.selectors import frame_records
from amurlink_web.apps.identities.selectors import link_get, link_store, review_membership

DECISIONS = {"accept": "confirmed", "reject": "rejected", "reopen": "proposed"}


def link_review(*, link_event_id: str, decision: str, reason: str | None, by,
                request: HttpRequest | None = None) -> dict[str, Any]:
    """Accept, reject or reopen a link; returns the appended event.

    Raises
    ------
    Http404
        If the reader may not see the joint catalogue or the link does not exist.
    PermissionDenied
        If the reader is not a reviewer (or manager) of one of the two parks.
    ApplicationError
        (409) If the library's conflict checks refuse the decision; (400) for a bad request.
    """
    link_get(link_event_id=link_event_id, fetched_by=by)  # 404 first
    member = review_membership(fetched_by=by)
    if member is None:
        raise PermissionDenied("only reviewers of the two parks decide identity links")
    if decision not in DECISIONS:
        raise ApplicationError(f"decision must be one of {sorted(DECISIONS)}, got {decision!r}")
    reason = (reason or "").strip() or None
    reviewer = f"{by.get_username()} ({member.organisation.slug})"
    side = member.organisation.country  # the library records it: "cn-reviewer (ntlnp) [CN]"
    store = link_store()
    try:
        event = store.review(status=DECISIONS[decision], reviewer=reviewer,
                             link_event_id=link_event_id, reason=reason, side=side)
    except LinkConflictError as exc:
        audit_record(request=request, user=by, action="review", target=f"link:{link_event_id}",
                     detail={"decision": decision, "side": side, "refused": str(exc)})
        raise ApplicationError(str(exc), status=409) from exc
    except (AmurlinkError, ValueError) as exc:
        raise ApplicationError(str(exc), status=400) from exc
    row = frame_records(event)[0]
    now = next((r for r in frame_records(store.current())
                if (r["subjectA"], r["subjectB"]) == (row["subjectA"], row["subjectB"])), {})
    row["pairStatus"] = now.get("status")
    row["awaiting"] = now.get("awaiting")
    audit_record(request=request, user=by, action="review", target=f"link:{link_event_id}",
                 detail={"decision": decision, "reason": reason, "side": side,
                         "event": row.get("linkEventID"), "pairStatus": row["pairStatus"],
                         "awaiting": row["awaiting"]})
    return row
