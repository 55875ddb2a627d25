"""Writing the audit log."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from amurlink_web.apps.core.audit import dataset_terms, derive
from amurlink_web.apps.core.models import AuditLog


class ApplicationError(Exception):
    """A request the user may retry after fixing it (shown as a message, HTTP 400/409)."""

    def __init__(self, message: str, *, status: int = 400, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.extra = extra or {}


def client_address(request: HttpRequest | None) -> str | None:
    """The client's address: from the trusted proxy's header when one is configured.

    With ``settings.TRUSTED_PROXY_HEADER`` (``AMURLINK_TRUSTED_PROXY_HEADER``, e.g.
    ``X-Forwarded-For``) the address is the ``TRUSTED_PROXY_COUNT``-th entry from the right
    of that header (each trusted proxy appends the address it received the request from, so
    entries further left are whatever the client wrote and are ignored). Without the setting,
    or when the header is missing or malformed, ``REMOTE_ADDR``.
    """
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR") or None
    header = getattr(settings, "TRUSTED_PROXY_HEADER", "")
    if not header:
        return remote
    key = "HTTP_" + header.upper().replace("-", "_")
    raw = request.META.get(key, "")
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    count = max(1, int(getattr(settings, "TRUSTED_PROXY_COUNT", 1)))
    if len(parts) < count:
        return remote
    candidate = parts[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def audit_record(*, request: HttpRequest | None, action: str, target: str,
                 detail: dict[str, Any] | None = None, user: Any = None,
                 owners: str | None = None, level: str | None = None,
                 agreement: str | None = None) -> AuditLog:
    """Append one entry to the audit log (reads and changes alike).

    ``owners`` (``,3,5,``), ``level`` and ``agreement`` say whose data was read, at which
    location level and through which agreement; left out, they are derived from the target
    (``amurlink_web.apps.core.audit.derive``).
    """
    if user is None and request is not None:
        user = getattr(request, "user", None)
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    if owners is None:
        reader = user if user is not None else AnonymousUser()
        owners, derived_level, derived_agreement = derive(
            target=target, action=action, user=reader, detail=detail or {})
        level = derived_level if level is None else level
        agreement = derived_agreement if agreement is None else agreement
    return AuditLog.objects.create(
        user=user if authenticated else None,
        username=user.get_username() if authenticated else "",
        action=action,
        target=target[:200],
        detail=detail or {},
        ip=client_address(request),
        via="api" if request is not None and request.path.startswith("/api/") else "web",
        owners=owners or "",
        level=(level or "")[:40],
        agreement=(agreement or "")[:200],
    )


def log_read(*, request: HttpRequest | None, target: str, action: str = "read",
             dataset: Any = None, access: Any = None, detail: dict[str, Any] | None = None,
             user: Any = None) -> AuditLog:
    """Record one read (or download: ``action="export"``) with owner, level and agreement.

    With ``dataset`` and ``access`` (``datasets.selectors.Access``) the terms come from them;
    otherwise from the target (:func:`~amurlink_web.apps.core.audit.derive`).
    """
    terms: dict[str, str] = {}
    if dataset is not None and access is not None:
        owners, level, agreement = dataset_terms(dataset=dataset, access=access)
        terms = {"owners": owners, "level": level, "agreement": agreement}
    return audit_record(request=request, action=action, target=target, detail=detail,
                        user=user, **terms)
