"""Login throttling: in the database, per (account, client address), with a per-address ceiling,
the client address taken from the trusted proxy's header."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone

from amurlink_web.apps.core.models import AuditLog, LoginFailure
from amurlink_web.testing import PASSWORD, BaseTestCase

pytestmark = pytest.mark.web

PROXY = "10.9.9.9"  # the trusted reverse proxy every request comes through
BEHIND_PROXY = override_settings(TRUSTED_PROXY_HEADER="X-Forwarded-For", TRUSTED_PROXY_COUNT=1)


def login(username: str, password: str, *, address: str = "127.0.0.1",
          forwarded: str | None = None) -> int:
    """One login attempt from a fresh client (no session, no cookie in common)."""
    extra = {"REMOTE_ADDR": address}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return Client(**extra).post("/accounts/login/",
                                {"username": username, "password": password}).status_code


class ThrottleTest(BaseTestCase):
    def fail(self, username: str, times: int, **kw) -> None:
        for _ in range(times):
            self.assertEqual(login(username, "wrong-password", **kw), 200)

    def test_failures_of_one_account_from_one_address_are_refused(self):
        self.fail("cn-manager", settings.LOGIN_MAX_FAILURES, address="203.0.113.5")
        # refused from that address, even with the right password (429)
        self.assertEqual(login("cn-manager", PASSWORD, address="203.0.113.5"), 429)
        self.assertTrue(AuditLog.objects.filter(
            action="login-failed", detail__rate_limited="account").exists())
        # the same account from another address is not locked out
        self.assertEqual(login("cn-manager", PASSWORD, address="198.51.100.7"), 302)
        # another account from the attacker's address is not locked either (below the ceiling)
        self.assertEqual(login("ru-reviewer", PASSWORD, address="203.0.113.5"), 302)
        # user names are counted case-insensitively
        self.assertEqual(login("CN-Manager", PASSWORD, address="203.0.113.5"), 429)

    def test_the_count_lives_in_the_database_shared_by_every_worker(self):
        self.fail("cn-manager", settings.LOGIN_MAX_FAILURES - 1, address="203.0.113.5")
        self.assertEqual(LoginFailure.objects.filter(username="cn-manager").count(),
                         settings.LOGIN_MAX_FAILURES - 1)
        cache.clear()  # nothing is kept in a process: a worker's memory does not matter
        self.fail("cn-manager", 1, address="203.0.113.5")
        self.assertEqual(login("cn-manager", PASSWORD, address="203.0.113.5"), 429)
        # a failure written by another worker (a row in the table) counts the same
        LoginFailure.objects.create(at=timezone.now(), username="ru-reviewer",
                                    address="192.0.2.1")
        self.assertEqual(LoginFailure.objects.filter(address="192.0.2.1").count(), 1)

    def test_failures_expire_after_the_window_and_success_clears_them(self):
        self.fail("cn-manager", settings.LOGIN_MAX_FAILURES, address="203.0.113.5")
        self.assertEqual(login("cn-manager", PASSWORD, address="203.0.113.5"), 429)
        LoginFailure.objects.update(
            at=timezone.now() - timedelta(seconds=settings.LOGIN_WINDOW_S + 1))
        self.assertEqual(login("cn-manager", PASSWORD, address="203.0.113.5"), 302)
        self.fail("cn-manager", 2, address="203.0.113.5")
        self.assertEqual(login("cn-manager", PASSWORD, address="203.0.113.5"), 302)
        self.assertFalse(LoginFailure.objects.filter(username="cn-manager",
                                                     address="203.0.113.5").exists())

    @override_settings(LOGIN_MAX_FAILURES_PER_ADDRESS=6)
    def test_one_address_trying_many_accounts_hits_the_ceiling(self):
        for name in ("a1", "a2", "a3", "a4", "a5", "a6"):  # one failure each: below per-account
            self.fail(name, 1, address="203.0.113.9")
        self.assertEqual(login("cn-viewer", PASSWORD, address="203.0.113.9"), 429)
        self.assertTrue(AuditLog.objects.filter(
            action="login-failed", detail__rate_limited="address").exists())
        self.assertEqual(login("cn-viewer", PASSWORD, address="203.0.113.10"), 302)

    @BEHIND_PROXY
    def test_behind_a_proxy_each_client_keeps_its_own_address(self):
        # every request reaches the app from the proxy; the attacker is 203.0.113.5
        self.fail("cn-manager", settings.LOGIN_MAX_FAILURES, address=PROXY,
                  forwarded="203.0.113.5")
        self.assertEqual(login("cn-manager", PASSWORD, address=PROXY,
                               forwarded="203.0.113.5"), 429)
        # the real user, behind the same proxy, still logs in
        self.assertEqual(login("cn-manager", PASSWORD, address=PROXY,
                               forwarded="198.51.100.7"), 302)
        self.assertEqual(set(LoginFailure.objects.values_list("address", flat=True)),
                         {"203.0.113.5"})
        # the audit log names the client, not the proxy
        entry = AuditLog.objects.filter(action="login").latest("id")
        self.assertEqual(entry.ip, "198.51.100.7")

    @BEHIND_PROXY
    def test_a_forged_header_entry_is_ignored(self):
        # the attacker writes the victim's address first; the proxy appends the real one
        self.fail("cn-manager", settings.LOGIN_MAX_FAILURES, address=PROXY,
                  forwarded="198.51.100.7, 203.0.113.5")
        self.assertEqual(set(LoginFailure.objects.values_list("address", flat=True)),
                         {"203.0.113.5"})
        self.assertEqual(login("cn-manager", PASSWORD, address=PROXY,
                               forwarded="198.51.100.7"), 302)

    def test_without_the_setting_the_header_is_not_trusted(self):
        self.fail("cn-manager", settings.LOGIN_MAX_FAILURES, address="203.0.113.5",
                  forwarded="198.51.100.1")
        # counted for the connecting address, whatever the header says
        self.assertEqual(login("cn-manager", PASSWORD, address="203.0.113.5",
                               forwarded="198.51.100.2"), 429)
