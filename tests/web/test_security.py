"""Security: CSRF, sessions, rate-limited login, password hashing, tokens, the API schema."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.hashers import ScryptPasswordHasher
from django.core.cache import cache
from django.urls import get_resolver

from amurlink_web.apps.api.auth import token_create
from amurlink_web.apps.core.models import AuditLog
from amurlink_web.config.env import database_from_url, envbool, envint
from amurlink_web.testing import PASSWORD, BaseTestCase

pytestmark = pytest.mark.web


class SecurityTest(BaseTestCase):
    def setUp(self):
        cache.clear()

    def test_settings_are_strict(self):
        self.assertEqual(settings.PASSWORD_HASHERS[-1],
                         "django.contrib.auth.hashers.ScryptPasswordHasher")
        from amurlink_web.config import settings as project

        self.assertEqual(project.PASSWORD_HASHERS[0],
                         "django.contrib.auth.hashers.ScryptPasswordHasher")
        self.assertTrue(project.SESSION_COOKIE_HTTPONLY)
        self.assertEqual(project.X_FRAME_OPTIONS, "DENY")
        self.assertTrue(project.SESSION_COOKIE_SECURE and project.CSRF_COOKIE_SECURE)
        self.assertIn("django.middleware.csrf.CsrfViewMiddleware", project.MIDDLEWARE)
        encoded = ScryptPasswordHasher().encode("x" * 12, "saltsaltsalt")
        self.assertTrue(encoded.startswith("scrypt$"))

    def test_csrf_is_enforced_on_session_posts(self):
        client = self.client_for("owner", enforce_csrf_checks=True)
        response = client.post(f"/datasets/{self.dataset.pk}/visibility/", {"is_public": "1"})
        self.assertEqual(response.status_code, 403)
        response = client.post("/api/links/x/review/", {"decision": "accept"},
                               content_type="application/json")
        self.assertEqual(response.status_code, 403)

    def test_login_is_rate_limited(self):
        client = self.client_for("anonymous")
        for _ in range(settings.LOGIN_MAX_FAILURES):
            r = client.post("/accounts/login/", {"username": "cn-manager", "password": "wrong"})
            self.assertEqual(r.status_code, 200)
        r = client.post("/accounts/login/", {"username": "cn-manager", "password": PASSWORD})
        self.assertEqual(r.status_code, 429)
        self.assertTrue(AuditLog.objects.filter(action="login-failed").exists())

    def test_every_page_has_a_strict_content_security_policy(self):
        import re

        owner, anonymous = self.client_for("owner"), self.client_for("anonymous")
        for client, url in [(owner, u) for u in (
                "/", "/public/", "/datasets/", f"/datasets/{self.dataset.pk}/",
                f"/datasets/{self.dataset.pk}/map/", "/account/", "/account/password/",
                "/audit/", "/sharing/", "/api/datasets/")] + [(anonymous, "/accounts/login/")]:
            with self.subTest(url=url):
                response = client.get(url)
                self.assertEqual(response.status_code, 200)
                policy = response["Content-Security-Policy"]
                directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
                self.assertEqual(directives["default-src"], "'self'")
                self.assertEqual(directives["script-src"], "'self'")
                self.assertEqual(directives["style-src"], "'self'")
                self.assertEqual(directives["object-src"], "'none'")
                self.assertEqual(directives["frame-ancestors"], "'none'")
                self.assertNotIn("unsafe", policy)
                if response["Content-Type"].startswith("text/html"):
                    html = response.content.decode()
                    # nothing the policy would block: no inline script, style or handler
                    self.assertIsNone(re.search(r"<script(?![^>]*\bsrc=)", html))
                    self.assertNotIn("<style", html)
                    self.assertIsNone(re.search(r"\sstyle=|\son[a-z]+=", html))

    def test_result_files_are_sandboxed(self):
        from django.http import HttpResponse
        from django.test import RequestFactory

        from amurlink_web.apps.core.middleware import ContentSecurityPolicyMiddleware

        mw = ContentSecurityPolicyMiddleware(lambda request: HttpResponse("<p>report</p>"))
        policy = mw(RequestFactory().get("/jobs/3/files/report.html"))["Content-Security-Policy"]
        self.assertTrue(policy.startswith("sandbox allow-scripts;"))
        self.assertNotIn("allow-same-origin", policy)
        self.assertIn("default-src 'none'", policy)

    def test_password_change_applies_the_configured_validators(self):
        client = self.client_for("owner")
        url = "/account/password/"
        for weak in ("short1", "password1234", "123456789012", "cn-manager-1"):
            with self.subTest(password=weak):
                r = client.post(url, {"old_password": PASSWORD, "new_password1": weak,
                                      "new_password2": weak})
                self.assertEqual(r.status_code, 200)  # refused, the form shows why
                self.assertTrue(r.context["form"].errors)
        r = client.post(url, {"old_password": "not-my-password", "new_password1": "x" * 20,
                              "new_password2": "x" * 20})
        self.assertEqual(r.status_code, 200)
        strong = "Amur-tigers-cross-rivers-9"
        r = client.post(url, {"old_password": PASSWORD, "new_password1": strong,
                              "new_password2": strong})
        self.assertRedirects(r, "/account/", fetch_redirect_response=False)
        self.assertEqual(client.get("/account/").status_code, 200)  # still signed in
        self.assertTrue(AuditLog.objects.filter(
            action="update", target=f"password:{self.users['owner'].pk}").exists())
        fresh = self.client_for("anonymous")
        self.assertEqual(fresh.post("/accounts/login/", {"username": "cn-manager",
                                                        "password": strong}).status_code, 302)
        self.assertEqual(self.client_for("anonymous").get(url).status_code, 302)  # login first

    def test_login_works(self):
        r = self.client_for("anonymous").post(
            "/accounts/login/", {"username": "cn-manager", "password": PASSWORD})
        self.assertEqual(r.status_code, 302)
        self.assertTrue(AuditLog.objects.filter(action="login").exists())

    def test_token_authentication(self):
        _, key = token_create(user=self.users["partner"], name="script")
        client = self.client_for("anonymous")
        r = client.get(f"/api/datasets/{self.dataset.pk}/", HTTP_AUTHORIZATION=f"Token {key}")
        self.assertEqual((r.status_code, r.json()["access"]), (200, "partner"))
        r = client.get("/api/datasets/", HTTP_AUTHORIZATION="Token nope")
        self.assertEqual(r.status_code, 401)
        # token requests need no CSRF token (no cookies involved)
        csrf = self.client_for("anonymous", enforce_csrf_checks=True)
        r = csrf.post("/api/links/nope/review/", {"decision": "accept"},
                      content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}")
        self.assertEqual(r.status_code, 404)

    def test_api_methods(self):
        r = self.client_for("owner").delete(f"/api/datasets/{self.dataset.pk}/")
        self.assertEqual(r.status_code, 405)

    def test_openapi_lists_every_api_url(self):
        schema = self.client_for("anonymous").get("/api/openapi.json").json()
        self.assertEqual(schema["openapi"], "3.1.0")
        api_routes = set()
        for pattern in get_resolver().url_patterns:
            route = str(pattern.pattern)
            if route.startswith("api/"):
                api_routes.add("/" + route.replace("<int:", "{").replace("<str:", "{")
                               .replace(">", "}"))
        self.assertEqual(api_routes, set(schema["paths"]))


def test_env_helpers(monkeypatch):
    monkeypatch.setenv("X_B", "yes")
    monkeypatch.setenv("X_I", "42")
    assert envbool("X_B", False) is True and envint("X_I", 0) == 42
    assert envbool("X_MISSING", True) is True
    monkeypatch.setenv("X_B", "maybe")
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        envbool("X_B", False)
    db = database_from_url("postgres://u:p%40ss@db.example:5433/amurlink")
    assert (db["ENGINE"], db["NAME"], db["PASSWORD"], db["PORT"]) == (
        "django.db.backends.postgresql", "amurlink", "p@ss", "5433")
    assert database_from_url("sqlite:////tmp/x.sqlite3")["NAME"] == "/tmp/x.sqlite3"
