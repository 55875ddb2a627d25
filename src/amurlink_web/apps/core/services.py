"""Writing the audit log."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from amurlink_web.apps.core.models import AuditLog


class ApplicationError(Exception):
    """A request the user may retry after fixing it (shown as a message, HTTP 400/409)."""

    def __init__(self, message: str, *, status: int = 400, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.extra = extra or {}


def _client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(*, request: HttpRequest | None, action: str, target: str,
                 detail: dict[str, Any] | None = None, user: Any = None) -> AuditLog:
    """Append one entry to the audit log (reads and changes alike)."""
    if user is None and request is not None:
        user = getattr(request, "user", None)
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    return AuditLog.objects.create(
        user=user if authenticated else None,
        username=user.get_username() if authenticated else "",
        action=action,
        target=target[:200],
        detail=detail or {},
        ip=_client_ip(request),
        via="api" if request is not None and request.path.startswith("/api/") else "web",
    )
