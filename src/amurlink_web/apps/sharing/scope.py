"""A stored sharing agreement as the library's :class:`amurlink.exchange.Agreement`.

What an agreement covers (species, tables, embargo, location level) is decided by the library
(:mod:`amurlink.exchange`), so the web pages, the API, downloads and ``amurlink exchange``
apply one and the same logic; this module only converts the Django row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from amurlink.exchange import SHAREABLE_TABLES, Agreement

if TYPE_CHECKING:
    from amurlink_web.apps.sharing.models import SharingAgreement

__all__ = ["SHAREABLE_TABLES", "agreement_terms"]


def agreement_terms(agreement: SharingAgreement) -> Agreement:
    """The library agreement of a stored one (provider and recipient by organisation name)."""
    return Agreement(provider=agreement.provider.name, recipient=agreement.recipient.name,
                     species=tuple(agreement.species or ()), tables=tuple(agreement.tables or ()),
                     level=agreement.level, embargo_date=agreement.embargo_date)
