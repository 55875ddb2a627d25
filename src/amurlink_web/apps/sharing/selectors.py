"""Which agreements a user may see, and which one grants a reader access to a dataset."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from amurlink_web.apps.organisations.models import Organisation
from amurlink_web.apps.organisations.selectors import organisation_list
from amurlink_web.apps.sharing.models import SharingAgreement

_LEVEL_RANK = {"exact": 0, "1km": 1, "10km": 2, "withheld": 3}


def agreement_list(*, fetched_by) -> QuerySet[SharingAgreement]:
    """Agreements one of the user's organisations gives or receives."""
    orgs = organisation_list(user=fetched_by)
    return SharingAgreement.objects.filter(Q(provider__in=orgs) | Q(recipient__in=orgs)) \
        .select_related("provider", "recipient").distinct()


def agreement_get(*, agreement_id: int, fetched_by) -> SharingAgreement:
    agreement = agreement_list(fetched_by=fetched_by).filter(pk=agreement_id).first()
    if agreement is None:
        raise Http404("no such agreement")
    return agreement


def agreement_for_reader(*, provider: Organisation, fetched_by) -> SharingAgreement | None:
    """The active agreement from ``provider`` to one of the reader's organisations.

    With several (the reader belongs to several recipients), the most precise one applies.
    """
    orgs = organisation_list(user=fetched_by)
    found = list(SharingAgreement.objects.filter(provider=provider, recipient__in=orgs,
                                                 active=True)
                 .select_related("provider", "recipient"))
    if not found:
        return None
    return min(found, key=lambda a: (_LEVEL_RANK[a.level], a.pk))


def agreement_revoked(*, provider: Organisation, fetched_by) -> bool:
    """True when ``provider`` gave one of the reader's organisations an agreement and none of
    them is active any more (deactivated): what it gave is withdrawn, never widened."""
    active = list(SharingAgreement.objects.filter(
        provider=provider, recipient__in=organisation_list(user=fetched_by))
        .values_list("active", flat=True))  # one query
    return bool(active) and not any(active)
