"""Uploaded Camtrap DP packages: the files on disk, a summary row and the validation report."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from amurlink_web.apps.core.models import BaseModel
from amurlink_web.apps.organisations.models import Organisation


class Dataset(BaseModel):
    """One imported package of one organisation (stored as package files on disk)."""

    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="datasets")
    title = models.CharField(max_length=300)
    #: SHA-256 of the uploaded archive: the same package twice adds nothing.
    sha256 = models.CharField(max_length=64)
    #: Package folder, relative to ``settings.DATA_DIR``.
    package_dir = models.CharField(max_length=300)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    is_public = models.BooleanField(default=False)
    n_deployments = models.PositiveIntegerField(default=0)
    n_media = models.PositiveIntegerField(default=0)
    n_observations = models.PositiveIntegerField(default=0)
    species = models.JSONField(default=list, blank=True)
    first_record = models.DateTimeField(null=True, blank=True)
    last_record = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "sha256"],
                                               name="one_dataset_per_package")]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class Upload(BaseModel):
    """One upload attempt and its validation report, kept whatever the outcome."""

    class Status(models.TextChoices):
        IMPORTED = "imported", _("imported")
        DUPLICATE = "duplicate", _("already imported")
        REJECTED = "rejected", _("rejected")

    owner = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="uploads")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    filename = models.CharField(max_length=255)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    issues = models.JSONField(default=list, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    dataset = models.ForeignKey(Dataset, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="uploads")

    class Meta:
        ordering = ["-created_at", "-id"]
