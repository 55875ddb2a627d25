"""Every page of this issue, rendered in zh and ru, shows no interface string in English
(the catalogue's English strings that the language translates differently); the browser
walks check the same on the live pages (``test_jobs_browser.py``, slow)."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from django.test import override_settings

from amurlink_web.apps.jobs.services import job_create
from amurlink_web.apps.organisations.services import profile_set_language
from amurlink_web.testing import BaseTestCase

from .test_jobs import write_joint
from .test_jobs_browser import untranslated

pytestmark = pytest.mark.web


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<svg\b.*?</svg>", " ", page, flags=re.S)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", page))


@override_settings(JOBS_RUN_SYNC=True)
class PagesInEachLanguageTest(BaseTestCase):
    def setUp(self):
        write_joint()
        # data is not interface: the toy's English title would read as an untranslated string
        from amurlink_web.apps.datasets.models import Dataset

        Dataset.objects.update(title="NTLNP 2014")

    def test_no_english_left_on_the_pages(self):
        job = job_create(kind="crossborder", organisation=self.cn, by=self.users["owner"])
        pages = ["/", "/datasets/", f"/uploads/{self.upload.pk}/", "/orgs/ntlnp/upload/",
                 "/jobs/", f"/jobs/{job.pk}/", "/map/", f"/datasets/{self.dataset.pk}/map/",
                 "/no/such/page/"]
        client = self.client_for("owner")
        for lang in ("zh-hans", "ru"):
            profile_set_language(user=self.users["owner"], language=lang)
            for url in pages:
                with self.subTest(lang=lang, url=url):
                    text = visible_text(client.get(url).content.decode())
                    self.assertEqual(untranslated(text, lang), [])
        self.assertTrue(untranslated("Recent uploads", "ru"))  # the check itself works


class OrganisationNamesTest(BaseTestCase):
    def test_an_organisation_is_named_in_the_reader_s_language(self):
        self.cn.names = {"zh-hans": "东北虎豹国家公园", "ru": "Национальный парк СВТЛ"}
        self.cn.save()
        client = self.client_for("partner")  # the Russian park's reviewer
        expected = {"en": "NTLNP", "zh-hans": "东北虎豹国家公园", "ru": "Национальный парк СВТЛ"}
        for lang, name in expected.items():
            profile_set_language(user=self.users["partner"], language=lang)
            for url in ("/sharing/", "/datasets/"):
                with self.subTest(lang=lang, url=url):
                    text = visible_text(client.get(url).content.decode())
                    self.assertIn(name, text)
                    for other in set(expected.values()) - {name}:
                        self.assertNotIn(other, text)
        # an organisation without names keeps its one name in every language
        self.assertIn("LLNP", visible_text(client.get("/sharing/").content.decode()))
        # the Chinese park's new-agreement form offers the Russian park by its Chinese name
        self.ru.names = {"zh-hans": "豹之乡国家公园"}
        self.ru.save()
        profile_set_language(user=self.users["owner"], language="zh-hans")
        form = self.client_for("owner").get("/orgs/ntlnp/sharing/new/")
        self.assertEqual(form.status_code, 200)
        self.assertIn(">豹之乡国家公园</option>", form.content.decode())

    def test_the_demo_parks_have_their_names_in_three_languages(self):
        from django.utils import translation

        from amurlink_web.apps.core.demo import NAMES, PARKS

        for slug, *_ in PARKS:
            self.assertEqual(set(NAMES[slug]), {"zh-hans", "ru"})
        org = self.cn
        org.names = NAMES["ntlnp"]
        with translation.override("zh-hans"):
            self.assertEqual(org.display_name(), "东北虎豹国家公园")
        self.assertEqual(org.display_name("zh"), "东北虎豹国家公园")
        self.assertEqual(org.display_name("ru"), NAMES["ntlnp"]["ru"])
        self.assertEqual(org.display_name("en"), "NTLNP")
