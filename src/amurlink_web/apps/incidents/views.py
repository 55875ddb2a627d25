"""A park's incident books: the list at the reader's level, the contributors' forms."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from amurlink_web.apps.core.audit import agreement_text, levels_text, owners_text
from amurlink_web.apps.core.services import ApplicationError, audit_record
from amurlink_web.apps.datasets.selectors import study_policy
from amurlink_web.apps.incidents.forms import CATEGORY_LABELS, DiseaseTestForm, IncidentForm
from amurlink_web.apps.incidents.selectors import (
    incident_tables,
    park_get,
    release_for,
    shown_levels,
    shown_rows,
)
from amurlink_web.apps.incidents.services import disease_test_create, incident_create
from amurlink_web.apps.organisations.models import role_at_least


def incident_list_view(request: HttpRequest, org_slug: str) -> HttpResponse:
    park, access = park_get(slug=org_slug, fetched_by=request.user)
    policy = study_policy()
    released = release_for(incident_tables(organisation=park), access, policy)
    rows = shown_rows(released)
    audit_record(request=request, action="read", target=f"incidents:{park.slug}",
                 detail={"access": access.kind, "incidents": len(rows.get("incidents", []))},
                 owners=owners_text([park.pk]),
                 level=levels_text(shown_levels(tables=released, access=access, policy=policy)),
                 agreement=agreement_text(access.agreement))
    can_enter = access.kind == "owner" and role_at_least(access.membership.role, "contributor")
    for r in rows.get("incidents", []):
        r["categoryLabel"] = CATEGORY_LABELS.get(r.get("category"), r.get("category"))
    return render(request, "incidents/list.html", {
        "park": park, "access": access, "can_enter": can_enter,
        "incidents": rows.get("incidents", []), "tests": rows.get("diseaseTests", []),
        "claimants": rows.get("claimants", []) if access.kind == "owner" else [],
    })


def _entry(request: HttpRequest, org_slug: str, form_class, create, title: str
           ) -> HttpResponse:
    park, access = park_get(slug=org_slug, fetched_by=request.user)
    if access.kind != "owner" or not role_at_least(access.membership.role, "contributor"):
        raise PermissionDenied(_("Entering incidents needs the contributor role in the park."))
    form = form_class(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                kw = {"claimant": form.claimant()} if hasattr(form, "claimant") else {}
                create(organisation=park, values=form.values(), by=request.user,
                       request=request, **kw)
            except ApplicationError as exc:
                fields = exc.extra.get("fields") or {}
                for name, message in fields.items():
                    form.add_error(name if name in form.fields else None, message)
                if not fields:
                    form.add_error(None, exc.message)
                status = exc.status
            else:
                return redirect("incident-list", org_slug=park.slug)
        else:
            status = 400
    return render(request, "incidents/form.html",
                  {"form": form, "park": park, "title": title}, status=status)


@login_required
def incident_create_view(request: HttpRequest, org_slug: str) -> HttpResponse:
    return _entry(request, org_slug, IncidentForm, incident_create, _("New incident"))


@login_required
def disease_test_create_view(request: HttpRequest, org_slug: str) -> HttpResponse:
    return _entry(request, org_slug, DiseaseTestForm, disease_test_create,
                  _("New disease test"))
