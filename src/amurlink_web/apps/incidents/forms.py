"""The contributor's forms: one incident (with its claimant), one disease test."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from amurlink.incidents.tables import INCIDENT_CATEGORIES, TEST_RESULTS
from amurlink_web.apps.incidents.models import SAMPLE_TYPES

CATEGORY_LABELS = {
    "livestock-killed": _("livestock killed"), "dog-killed": _("dog killed"),
    "attack-on-person": _("attack on a person"), "animal-in-village": _("animal in a village"),
    "road-kill": _("road kill"), "carcass": _("carcass"), "snare": _("snare"),
    "poaching": _("poaching"), "other": _("other"),
}
RESULT_LABELS = {"positive": _("positive"), "negative": _("negative"),
                 "inconclusive": _("inconclusive")}
SPECIES = [("Panthera tigris", _("Amur tiger (Panthera tigris)")),
           ("Panthera pardus", _("Amur leopard (Panthera pardus)")),
           # other animals of conflict and disease records, by their scientific names
           *[(n, n) for n in ("Ursus arctos", "Ursus thibetanus", "Canis lupus",
                              "Sus scrofa", "Nyctereutes procyonoides", "Canis familiaris")],
           ("", "-")]
_WHEN = forms.DateTimeInput(attrs={"type": "datetime-local"})
_DAY = forms.DateInput(attrs={"type": "date"})


class IncidentForm(forms.Form):
    incident_id = forms.CharField(label=_("Incident ID (empty: the next free one)"),
                                  max_length=60, required=False)
    event_start = forms.DateTimeField(label=_("When it happened (UTC)"), widget=_WHEN)
    category = forms.ChoiceField(label=_("Kind of incident"),
                                 choices=[(c, CATEGORY_LABELS[c]) for c in INCIDENT_CATEGORIES])
    scientific_name = forms.ChoiceField(label=_("Species"), choices=SPECIES, required=False)
    individual_id = forms.CharField(label=_("Individual ID, where known"), max_length=60,
                                    required=False)
    latitude = forms.FloatField(label=_("Latitude (WGS 84)"), required=False)
    longitude = forms.FloatField(label=_("Longitude (WGS 84)"), required=False)
    coordinate_uncertainty = forms.IntegerField(label=_("Location uncertainty (m)"),
                                                required=False, min_value=1)
    victim_kind = forms.CharField(label=_("Victims (cattle, dog, person, ...)"), max_length=60,
                                  required=False)
    victim_count = forms.IntegerField(label=_("Number of victims"), required=False,
                                      min_value=0)
    outcome = forms.CharField(label=_("Outcome"), max_length=200, required=False)
    response_by = forms.CharField(label=_("Team that responded (not a person's name)"),
                                  max_length=120, required=False)
    response_hours = forms.FloatField(label=_("Hours until the team was on site"),
                                      required=False, min_value=0)
    compensation_amount = forms.FloatField(label=_("Compensation paid"), required=False,
                                           min_value=0)
    compensation_currency = forms.ChoiceField(
        label=_("Currency"), required=False,
        choices=[("", "-"), ("CNY", "CNY"), ("RUB", "RUB")])
    compensation_date = forms.DateField(label=_("Date paid"), required=False, widget=_DAY)
    comments = forms.CharField(label=_("Comments (seen by your park only)"), required=False,
                               widget=forms.Textarea(attrs={"rows": 2}))
    claimant_name = forms.CharField(label=_("Claimant's name (personal data: your park only)"),
                                    max_length=200, required=False)
    claimant_phone = forms.CharField(label=_("Claimant's phone"), max_length=60,
                                     required=False)
    claimant_address = forms.CharField(label=_("Claimant's address"), max_length=300,
                                       required=False)

    def values(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if not k.startswith("claimant_")}

    def claimant(self) -> dict:
        d = self.cleaned_data
        return {"name": d.get("claimant_name", "").strip(),
                "phone": d.get("claimant_phone", "").strip(),
                "address": d.get("claimant_address", "").strip()}


class DiseaseTestForm(forms.Form):
    test_id = forms.CharField(label=_("Test ID (empty: the next free one)"), max_length=60,
                              required=False)
    scientific_name = forms.ChoiceField(label=_("Species"), choices=SPECIES[:-1])
    individual_id = forms.CharField(label=_("Individual ID, where known"), max_length=60,
                                    required=False)
    sample_id = forms.CharField(label=_("Sample ID"), max_length=60, required=False)
    sample_type = forms.ChoiceField(label=_("Sample type"),
                                    choices=[(t, t) for t in SAMPLE_TYPES])
    sample_date = forms.DateTimeField(label=_("When the sample was taken (UTC)"), widget=_WHEN)
    latitude = forms.FloatField(label=_("Latitude (WGS 84)"), required=False)
    longitude = forms.FloatField(label=_("Longitude (WGS 84)"), required=False)
    lab = forms.CharField(label=_("Laboratory"), max_length=120)
    pathogen = forms.CharField(label=_("Pathogen (e.g. CDV)"), max_length=60, initial="CDV")
    assay = forms.CharField(label=_("Assay (e.g. serology, PCR)"), max_length=120)
    result = forms.ChoiceField(label=_("Result"),
                               choices=[(r, RESULT_LABELS[r]) for r in TEST_RESULTS])
    comments = forms.CharField(label=_("Comments (seen by your park only)"), required=False,
                               widget=forms.Textarea(attrs={"rows": 2}))

    def values(self) -> dict:
        return dict(self.cleaned_data)
