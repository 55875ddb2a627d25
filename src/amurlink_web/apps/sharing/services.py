"""Creating and changing sharing agreements."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.http import HttpRequest

from amurlink.exceptions import ConfigError
from amurlink.exchange import Agreement
from amurlink_web.apps.core.services import ApplicationError, audit_record
from amurlink_web.apps.organisations.models import Organisation
from amurlink_web.apps.sharing.models import SharingAgreement


@transaction.atomic
def agreement_save(*, provider: Organisation, recipient: Organisation, level: str,
                   species: list[str] | None = None, tables: list[str] | None = None,
                   embargo_date: date | None = None, active: bool = True, by=None,
                   request: HttpRequest | None = None) -> SharingAgreement:
    """Create or replace the agreement from ``provider`` to ``recipient``."""
    if provider.pk == recipient.pk:
        raise ApplicationError("an organisation cannot make an agreement with itself")
    try:  # the library decides what a valid agreement is
        terms = Agreement(provider=provider.name, recipient=recipient.name, level=level,
                          species=tuple(species or ()), tables=tuple(tables or ()),
                          embargo_date=embargo_date)
    except ConfigError as exc:
        raise ApplicationError(str(exc)) from None
    species, tables = list(terms.species), list(terms.tables)
    agreement, created = SharingAgreement.objects.update_or_create(
        provider=provider, recipient=recipient,
        defaults={"level": level, "species": species, "tables": tables,
                  "embargo_date": embargo_date, "active": active, "created_by": by})
    audit_record(request=request, user=by, action="create" if created else "update",
                 target=f"agreement:{agreement.pk}",
                 detail={"provider": provider.slug, "recipient": recipient.slug, "level": level,
                         "species": species, "tables": tables,
                         "embargo_date": embargo_date.isoformat() if embargo_date else None,
                         "active": active})
    return agreement
