"""API tokens for scripts (only a hash of each token is stored)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from amurlink_web.apps.core.models import BaseModel


class ApiToken(BaseModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
