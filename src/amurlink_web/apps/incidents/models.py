"""A park's incident books: incidents, disease tests and the owner-only claimants.

The columns are those of the library's tables (:mod:`amurlink.incidents.tables`, names in
:data:`INCIDENT_COLUMNS` and :data:`TEST_COLUMNS`); a claimant's name, phone and address live
in :class:`Claimant` only, never in a shared row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from amurlink.incidents.tables import INCIDENT_CATEGORIES, TEST_RESULTS
from amurlink_web.apps.core.models import BaseModel
from amurlink_web.apps.organisations.models import Organisation

SAMPLE_TYPES = ("blood", "serum", "tissue", "swab", "scat", "brain", "other")


class Incident(BaseModel):
    """One row of a park's ``incidents`` table."""

    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="incidents")
    incident_id = models.CharField(max_length=60)
    event_start = models.DateTimeField()
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    coordinate_uncertainty = models.PositiveIntegerField(null=True, blank=True)
    category = models.CharField(max_length=30, choices=[(c, c) for c in INCIDENT_CATEGORIES])
    scientific_name = models.CharField(max_length=120, blank=True)
    individual_id = models.CharField(max_length=60, blank=True)
    sample_id = models.CharField(max_length=60, blank=True)
    victim_kind = models.CharField(max_length=60, blank=True)
    victim_count = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    response_by = models.CharField(max_length=120, blank=True)
    response_hours = models.FloatField(null=True, blank=True)
    compensation_amount = models.FloatField(null=True, blank=True)
    compensation_currency = models.CharField(max_length=3, blank=True)
    compensation_date = models.DateField(null=True, blank=True)
    comments = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "incident_id"],
                                               name="one_incident_id_per_park")]
        ordering = ["-event_start", "-id"]

    def __str__(self) -> str:
        return f"{self.owner.slug}:{self.incident_id}"


class Claimant(BaseModel):
    """Who claimed compensation for an incident: personal data, the owning park's only."""

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="claimant")
    claim_id = models.CharField(max_length=80)
    name = models.CharField(max_length=200)
    phone = models.CharField(max_length=60, blank=True)
    address = models.CharField(max_length=300, blank=True)
    comments = models.TextField(blank=True)


class DiseaseTest(BaseModel):
    """One row of a park's ``diseaseTests`` table."""

    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT,
                              related_name="disease_tests")
    test_id = models.CharField(max_length=60)
    sample_id = models.CharField(max_length=60, blank=True)
    individual_id = models.CharField(max_length=60, blank=True)
    scientific_name = models.CharField(max_length=120)
    sample_type = models.CharField(max_length=20, choices=[(t, t) for t in SAMPLE_TYPES])
    sample_date = models.DateTimeField()
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    coordinate_uncertainty = models.PositiveIntegerField(null=True, blank=True)
    lab = models.CharField(max_length=120)
    pathogen = models.CharField(max_length=60)
    assay = models.CharField(max_length=120)
    result = models.CharField(max_length=20, choices=[(r, r) for r in TEST_RESULTS])
    comments = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "test_id"],
                                               name="one_test_id_per_park")]
        ordering = ["-sample_date", "-id"]


#: Model field -> column of the library's ``incidents`` table (``countryCode`` is the park's).
INCIDENT_COLUMNS = {
    "incident_id": "incidentID", "event_start": "eventStart", "latitude": "latitude",
    "longitude": "longitude", "coordinate_uncertainty": "coordinateUncertainty",
    "category": "category", "scientific_name": "scientificName",
    "individual_id": "individualID", "sample_id": "sampleID", "victim_kind": "victimKind",
    "victim_count": "victimCount", "outcome": "outcome", "response_by": "responseBy",
    "response_hours": "responseHours", "compensation_amount": "compensationAmount",
    "compensation_currency": "compensationCurrency", "compensation_date": "compensationDate",
    "comments": "incidentComments",
}
#: Model field -> column of the library's ``diseaseTests`` table.
TEST_COLUMNS = {
    "test_id": "testID", "sample_id": "sampleID", "individual_id": "individualID",
    "scientific_name": "scientificName", "sample_type": "sampleType",
    "sample_date": "sampleDate", "latitude": "latitude", "longitude": "longitude",
    "coordinate_uncertainty": "coordinateUncertainty", "lab": "lab", "pathogen": "pathogen",
    "assay": "assay", "result": "result", "comments": "testComments",
}
#: Model field -> column of the library's owner-only ``claimants`` table.
CLAIMANT_COLUMNS = {"claim_id": "claimID", "name": "claimantName", "phone": "phone",
                    "address": "address", "comments": "claimComments"}
