"""Identity review pages: proposed links, decisions, history, the joint catalogue."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from amurlink_web.apps.core.services import ApplicationError, audit_record
from amurlink_web.apps.identities.selectors import (
    identity_list,
    link_get,
    link_history_list,
    link_list,
    review_membership,
)
from amurlink_web.apps.identities.services import link_review


@login_required
def catalogue_view(request: HttpRequest) -> HttpResponse:
    rows = identity_list(fetched_by=request.user)
    audit_record(request=request, action="read", target="joint-catalogue")
    return render(request, "identities/catalogue.html", {"identities": rows})


@login_required
def link_list_view(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or "proposed"
    status = status if status in ("proposed", "confirmed", "rejected") else "proposed"
    rows = link_list(fetched_by=request.user, status=status)
    audit_record(request=request, action="read", target=f"links:{status}")
    return render(request, "identities/links.html", {
        "links": rows, "status": status,
        "can_review": review_membership(fetched_by=request.user) is not None})


@login_required
def link_detail_view(request: HttpRequest, link_event_id: str) -> HttpResponse:
    link = link_get(link_event_id=link_event_id, fetched_by=request.user)
    audit_record(request=request, action="read", target=f"link:{link_event_id}")
    return render(request, "identities/link_detail.html", {
        "link": link,
        "history": link_history_list(subject=link["subjectA"], fetched_by=request.user),
        "can_review": review_membership(fetched_by=request.user) is not None})


@login_required
@require_POST
def link_review_view(request: HttpRequest, link_event_id: str) -> HttpResponse:
    try:
        link_review(link_event_id=link_event_id, decision=request.POST.get("decision", ""),
                    reason=request.POST.get("reason"), by=request.user, request=request)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        link = link_get(link_event_id=link_event_id, fetched_by=request.user)
        return render(request, "identities/link_detail.html", {
            "link": link, "can_review": True,
            "history": link_history_list(subject=link["subjectA"], fetched_by=request.user)},
            status=exc.status)
    messages.success(request, _("Decision recorded."))
    return redirect("link-list")


@login_required
def history_view(request: HttpRequest, subject: str) -> HttpResponse:
    history = link_history_list(subject=subject, fetched_by=request.user)
    audit_record(request=request, action="read", target=f"history:{subject}"[:200])
    return render(request, "identities/history.html", {"subject": subject, "history": history})
