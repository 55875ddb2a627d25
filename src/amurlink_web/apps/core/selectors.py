"""Reading the audit log."""

from __future__ import annotations

from django.db.models import QuerySet

from amurlink_web.apps.core.models import AuditLog


def audit_list(*, target_prefix: str | None = None, limit: int = 200) -> QuerySet[AuditLog]:
    qs = AuditLog.objects.all()
    if target_prefix:
        qs = qs.filter(target__startswith=target_prefix)
    return qs[:limit]
