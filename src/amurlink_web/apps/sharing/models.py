"""Sharing agreements between organisations."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from amurlink.schema import LOCATION_LEVELS
from amurlink_web.apps.core.models import BaseModel
from amurlink_web.apps.organisations.models import Organisation


class LocationLevel(models.TextChoices):
    """The Foundation I vocabulary of location protection."""

    EXACT = "exact", _("exact")
    KM1 = "1km", _("1 km")
    KM10 = "10km", _("10 km")
    WITHHELD = "withheld", _("withheld")


assert tuple(LocationLevel.values) == tuple(LOCATION_LEVELS)


class SharingAgreement(BaseModel):
    """``provider`` shares its datasets with ``recipient``: which species, tables, how precisely."""

    provider = models.ForeignKey(Organisation, on_delete=models.CASCADE,
                                 related_name="agreements_given")
    recipient = models.ForeignKey(Organisation, on_delete=models.CASCADE,
                                  related_name="agreements_received")
    species = models.JSONField(default=list, blank=True,
                               help_text=_("scientific names shared; empty shares all"))
    tables = models.JSONField(default=list, blank=True,
                              help_text=_("tables shared; empty shares all"))
    level = models.CharField(max_length=10, choices=LocationLevel.choices,
                             default=LocationLevel.KM10)
    embargo_date = models.DateField(
        null=True, blank=True,
        help_text=_("records made on or after this date are held back"))
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "recipient"],
                                               name="one_agreement_per_pair")]
        ordering = ["provider__name", "recipient__name"]

    def __str__(self) -> str:
        return f"{self.provider} → {self.recipient} ({self.level})"
