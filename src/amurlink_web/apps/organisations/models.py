"""Organisations, their members and the members' roles."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from amurlink_web.apps.core.models import BaseModel


class Role(models.TextChoices):
    """What a member may do in an organisation; each role includes the ones before it."""

    VIEWER = "viewer", _("viewer")
    CONTRIBUTOR = "contributor", _("contributor")
    REVIEWER = "reviewer", _("reviewer")
    MANAGER = "manager", _("manager")


ROLE_RANK = {Role.VIEWER: 0, Role.CONTRIBUTOR: 1, Role.REVIEWER: 2, Role.MANAGER: 3}


def role_at_least(role: str, required: str) -> bool:
    return ROLE_RANK[Role(role)] >= ROLE_RANK[Role(required)]


class Organisation(BaseModel):
    class Kind(models.TextChoices):
        PARK = "park", _("national park")
        SECRETARIAT = "secretariat", _("secretariat")
        PARTNER = "partner", _("partner")

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 code, e.g. CN or RU")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PARTNER)
    #: Individual-catalogue namespace of a park (``CN-NTLNP``), empty for other kinds.
    catalogue = models.CharField(max_length=40, blank=True)
    #: The name in other languages, by language code: ``{"zh-hans": ..., "ru": ...}``.
    names = models.JSONField(default=dict, blank=True,
                             help_text='The name in other languages, e.g. {"zh-hans": "...", '
                                       '"ru": "..."}; "name" is shown where none is given')

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def display_name(self, language: str | None = None) -> str:
        """The name in ``language`` (default: the active one; ``zh`` finds ``zh-hans``),
        else :attr:`name`."""
        language = (language or translation.get_language() or "").lower()
        names = self.names if isinstance(self.names, dict) else {}
        for code in (language, language.split("-")[0]):
            for key, value in names.items():
                if value and (key.lower() == code or key.lower().split("-")[0] == code):
                    return str(value)
        return self.name

    @property
    def in_working_group(self) -> bool:
        return self.kind in (self.Kind.PARK, self.Kind.SECRETARIAT)


class Membership(BaseModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE,
                                     related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisation"],
                                               name="one_membership_per_org")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.role})"


class Profile(BaseModel):
    """Per-user preferences (the interface language)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="profile")
    language = models.CharField(max_length=10, choices=settings.LANGUAGES, default="en")
