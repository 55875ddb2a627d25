"""403, 404 and 500 pages in the reader's language, with the site's navigation, no
developer-style message and no traceback."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import include, path

from amurlink_web.apps.organisations.services import profile_set_language
from amurlink_web.testing import BaseTestCase

pytestmark = pytest.mark.web


def _boom(request) -> HttpResponse:
    raise RuntimeError("KeyError: 'deploymentID' at /srv/secret/path.py line 12")


urlpatterns = [path("boom/", _boom), path("", include("amurlink_web.config.urls"))]
handler500 = "amurlink_web.apps.core.views.server_error"

TITLES = {
    "en": {403: "Not allowed", 404: "Page not found", 500: "Something went wrong"},
    "zh-hans": {403: "不允许", 404: "页面不存在", 500: "出了点问题"},
    "ru": {403: "Недостаточно прав", 404: "Страница не найдена", 500: "Что-то пошло не так"},
}


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
class ErrorPagesTest(BaseTestCase):
    def client_in(self, persona: str, lang: str) -> Client:
        client = self.client_for(persona, raise_request_exception=False)
        if persona != "anonymous":
            profile_set_language(user=self.users[persona], language=lang)
        else:
            client.cookies["django_language"] = lang
        return client

    def test_each_error_page_in_each_language_with_navigation(self):
        for lang, titles in TITLES.items():
            client = self.client_in("readonly", lang)
            answers = {403: client.post("/orgs/ntlnp/jobs/new/", {"kind": "crossborder"}),
                       404: client.get("/no/such/page/"),
                       500: client.get("/boom/")}
            for code, response in answers.items():
                with self.subTest(lang=lang, code=code):
                    html = response.content.decode()
                    self.assertEqual(response.status_code, code)
                    self.assertIn(f'id="error-{code}"', html)
                    self.assertIn(f"<h1>{titles[code]}</h1>", html)
                    self.assertIn('class="error-nav"', html)
                    for href in ('href="/"', 'href="/datasets/"', 'href="/map/"'):
                        self.assertIn(href, html)
                    for dev in ("Traceback", "KeyError", "/srv/", "RuntimeError",
                                "reviewer role", "Http404"):
                        self.assertNotIn(dev, html)

    def test_anonymous_404_offers_the_login(self):
        html = self.client_in("anonymous", "ru").get("/nothing/").content.decode()
        self.assertIn("Страница не найдена", html)
        self.assertIn('href="/accounts/login/', html)
