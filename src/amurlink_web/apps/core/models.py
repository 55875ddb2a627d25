"""Base model and the audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    """Every table records when a row was created and last changed."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AuditLog(models.Model):
    """One read or change: who, when, what, from where. Append-only."""

    class Action(models.TextChoices):
        READ = "read", _("read")
        CREATE = "create", _("create")
        UPDATE = "update", _("update")
        DELETE = "delete", _("delete")
        REVIEW = "review", _("review")
        EXPORT = "export", _("export")
        LOGIN = "login", _("login")
        LOGIN_FAILED = "login-failed", _("failed login")

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    target = models.CharField(max_length=200)
    detail = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    via = models.CharField(max_length=10, default="web")
    #: Organisations whose data was read, as ``,3,5,`` (so ``owners__contains=",3,"`` finds
    #: every read of organisation 3's data, whoever made it).
    owners = models.CharField(max_length=200, blank=True, default="", db_index=True)
    #: The location level(s) served (``exact``, ``1km``, ``10km``, ``withheld``; ``1km/withheld``
    #: when sensitive stations were coarser), empty for reads without locations.
    level = models.CharField(max_length=40, blank=True, default="")
    #: The sharing agreement the read went through (``#12 ntlnp->llnp 1km``), empty for none.
    agreement = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username or '-'} {self.action} {self.target}"

    @property
    def owner_ids(self) -> list[int]:
        """Ids of the organisations whose data the entry read."""
        return [int(x) for x in self.owners.strip(",").split(",") if x]


class LoginFailure(models.Model):
    """One failed login, kept in the database so every server process counts the same ones.

    Throttling counts these per (account, client address) and per address (a ceiling); rows
    older than the window are deleted as new ones arrive.
    """

    at = models.DateTimeField(db_index=True)
    username = models.CharField(max_length=150)
    address = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["address", "at"], name="loginfail_addr_at"),
                   models.Index(fields=["username", "address", "at"],
                                name="loginfail_user_addr_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} from {self.address}"
