"""Sharing agreement pages."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from amurlink_web.apps.core.services import ApplicationError
from amurlink_web.apps.organisations.models import Organisation, role_at_least
from amurlink_web.apps.organisations.selectors import organisation_get_for_member
from amurlink_web.apps.sharing.models import LocationLevel
from amurlink_web.apps.sharing.scope import SHAREABLE_TABLES
from amurlink_web.apps.sharing.selectors import agreement_get, agreement_list
from amurlink_web.apps.sharing.services import agreement_save


class _OrganisationChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Organisation) -> str:
        return obj.display_name()  # in the reader's language


class AgreementForm(forms.Form):
    recipient = _OrganisationChoice(queryset=Organisation.objects.all(),
                                    label=gettext_lazy("Recipient"))
    level = forms.ChoiceField(choices=LocationLevel.choices, label=gettext_lazy("Location level"))
    species = forms.CharField(required=False, label=gettext_lazy("Species (one per line)"),
                              widget=forms.Textarea(attrs={"rows": 3}))
    tables = forms.MultipleChoiceField(choices=[(t, t) for t in SHAREABLE_TABLES],
                                       required=False, label=gettext_lazy("Tables"),
                                       widget=forms.CheckboxSelectMultiple)
    embargo_date = forms.DateField(required=False, label=gettext_lazy("Embargo date"))
    active = forms.BooleanField(required=False, initial=True, label=gettext_lazy("Active"))


@login_required
def agreement_list_view(request: HttpRequest) -> HttpResponse:
    return render(request, "sharing/list.html",
                  {"agreements": agreement_list(fetched_by=request.user)})


@login_required
def agreement_detail_view(request: HttpRequest, agreement_id: int) -> HttpResponse:
    return render(request, "sharing/detail.html", {
        "agreement": agreement_get(agreement_id=agreement_id, fetched_by=request.user)})


@login_required
def agreement_create_view(request: HttpRequest, org_slug: str) -> HttpResponse:
    provider, member = organisation_get_for_member(slug=org_slug, user=request.user)
    if not role_at_least(member.role, "manager"):
        raise PermissionDenied(_("Only managers make sharing agreements."))
    form = AgreementForm(request.POST or None)
    form.fields["recipient"].queryset = Organisation.objects.exclude(pk=provider.pk)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                agreement = agreement_save(
                    provider=provider, recipient=data["recipient"], level=data["level"],
                    species=data["species"].splitlines(), tables=data["tables"],
                    embargo_date=data["embargo_date"], active=data["active"],
                    by=request.user, request=request)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                return redirect("agreement-detail", agreement_id=agreement.pk)
        else:
            status = 400
    return render(request, "sharing/form.html", {"form": form, "provider": provider},
                  status=status)
