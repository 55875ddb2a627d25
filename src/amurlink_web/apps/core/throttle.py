"""Login throttling kept in the database, so every server process and worker counts alike.

Failures are counted over ``LOGIN_WINDOW_S`` seconds:

- per (account, client address): ``LOGIN_MAX_FAILURES`` failures refuse further tries of
  that account from that address. Another address is not affected, so an attacker cannot lock
  a user out (behind a proxy each client keeps its own address, see ``client_address``);
- per client address, whatever the account: ``LOGIN_MAX_FAILURES_PER_ADDRESS`` failures
  refuse every login from that address (one address trying many accounts).

A successful login clears its (account, address) failures. The client address is the one
:func:`amurlink_web.apps.core.services.client_address` gives (the configured trusted-proxy
header, else ``REMOTE_ADDR``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from django.conf import settings
from django.utils import timezone

from amurlink_web.apps.core.models import LoginFailure

Refusal = Literal["account", "address"]


def _account(username: str) -> str:
    return (username or "").strip().lower()[:150]


def _since():
    return timezone.now() - timedelta(seconds=settings.LOGIN_WINDOW_S)


def login_refusal(*, username: str, address: str | None) -> Refusal | None:
    """Why a login from ``address`` to ``username`` is refused now, or None when allowed."""
    since = _since()
    address = address or "-"
    recent = LoginFailure.objects.filter(address=address, at__gte=since)
    if recent.filter(username=_account(username)).count() >= settings.LOGIN_MAX_FAILURES:
        return "account"
    if recent.count() >= settings.LOGIN_MAX_FAILURES_PER_ADDRESS:
        return "address"
    return None


def login_failed(*, username: str, address: str | None) -> None:
    """Count one failure (and forget those older than the window)."""
    LoginFailure.objects.filter(at__lt=_since()).delete()
    LoginFailure.objects.create(at=timezone.now(), username=_account(username),
                                address=(address or "-")[:64])


def login_succeeded(*, username: str, address: str | None) -> None:
    """Forget this account's failures from this address."""
    LoginFailure.objects.filter(username=_account(username), address=address or "-").delete()
