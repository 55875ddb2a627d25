"""Browser walks, once per language (en, zh-hans, ru), each step by the persona who does it:
upload national tables with their mapping (a Russian contributor), read the map (a Russian
viewer), start a study run and open its report (a Chinese reviewer). Screenshots go to
``$AMURLINK_TEST_ARTIFACTS`` (``tests/web/artifacts/walks-*.png``). Every zh/ru page fails
the walk if it shows an interface string untranslated. One browser for the module; slow
(three study runs)."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pytest
from django.test import override_settings

import amurlink_web
from amurlink_web.apps.core.demo import DEMO_PASSWORD, demo_site_create
from amurlink_web.apps.identities.selectors import joint_package_path
from amurlink_web.apps.organisations.services import profile_set_language

from .test_browser import ARTIFACTS, ChromiumLiveServerCase
from .test_upload_kinds import MAPPING, RECORDS, STATIONS

pytestmark = [pytest.mark.web, pytest.mark.slow]

LOCALE_DIRS = {"zh-hans": "zh_Hans", "ru": "ru"}
#: Interface words that read the same in every language (names, codes, formats).
SAME_EVERYWHERE = {"amurlink", "API", "Camtrap DP", "DNA", "ID", "SECR", "CSV", "OK"}


def _catalogue(lang: str) -> list[str]:
    """English interface strings that the language's catalogue translates differently."""
    po = (Path(amurlink_web.__file__).parent / "locale" / LOCALE_DIRS[lang] / "LC_MESSAGES"
          / "django.po").read_text(encoding="utf-8")
    out = []
    for block in po.split("\n\n"):
        m = re.search(r'^msgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)', block + "\n", re.M)
        if not m:
            continue
        mid = "".join(re.findall(r'"(.*)"', m.group(1)))
        mstr = "".join(re.findall(r'"(.*)"', m.group(2)))
        if mid and mstr and mid != mstr and "%" not in mid and "{" not in mid \
                and mid not in SAME_EVERYWHERE and len(mid) >= 4:
            out.append(mid)
    return out


def untranslated(text: str, lang: str) -> list[str]:
    """Catalogue strings that appear in English in a page's visible text."""
    if lang == "en":
        return []
    found = []
    for mid in _catalogue(lang):
        if re.search(rf"(?<![\w-]){re.escape(mid)}(?![\w-])", text):
            found.append(mid)
    return found


@override_settings(JOBS_RUN_SYNC=True, SESSION_COOKIE_SECURE=False, CSRF_COOKIE_SECURE=False)
class WalksTest(ChromiumLiveServerCase):

    def setUp(self):
        shutil.rmtree(joint_package_path(), ignore_errors=True)
        demo_site_create()
        self.requests: list[str] = []
        self.contexts = []

    def tearDown(self):
        for c in self.contexts:
            c.close()
        outside = [u for u in self.requests
                   if not u.startswith((self.live_server_url, "data:", "about:", "blob:"))]
        self.assertEqual(outside, [], "the pages asked for something outside the app")

    def as_persona(self, username: str, lang: str):
        from django.contrib.auth import get_user_model

        profile_set_language(user=get_user_model().objects.get(username=username),
                             language=lang)
        context = self.browser.new_context(viewport={"width": 1200, "height": 900})
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("request", lambda r: self.requests.append(r.url))
        page.goto(f"{self.live_server_url}/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{self.live_server_url}/")
        self.assertEqual(page.get_attribute("html", "lang"), lang)
        return page

    def check(self, page, lang: str, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"walks-{lang}-{name}.png"), full_page=True)
        text = page.inner_text("body")
        self.assertEqual(untranslated(text, lang), [], f"{lang} {name}: untranslated")

    def walk(self, lang: str) -> None:
        url = self.live_server_url
        # 1. a Russian contributor uploads the park's national tables with their mapping
        page = self.as_persona("ru-contributor", lang)
        self.check(page, lang, "1-home")
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for name, body in (("ru.mapping.toml", MAPPING), ("st.csv", STATIONS),
                               ("rec.csv", RECORDS)):
                (Path(tmp) / name).write_text(body, encoding="utf-8")
                paths.append(str(Path(tmp) / name))
            page.goto(f"{url}/orgs/llnp/upload/")
            self.check(page, lang, "2-upload-form")
            page.select_option("select[name=kind]", "mapping")
            page.set_input_files("input[name=files]", paths)
            page.click("main button[type=submit]")
            page.wait_for_url("**/uploads/*/")
        self.check(page, lang, "3-upload-report")
        # 2. a Russian viewer reads the map
        page = self.as_persona("ru-viewer", lang)
        page.goto(f"{url}/map/")
        page.wait_for_selector("#lmap[data-loaded]")
        self.assertGreater(int(page.get_attribute("#lmap", "data-loaded")), 0)
        self.assertTrue(page.is_visible(".leaflet-control-scale"))
        self.assertTrue(page.is_visible(".map-legend"))
        page.hover("#lmap")
        page.mouse.move(400, 500)
        self.check(page, lang, "4-map")
        # 3. a Chinese reviewer starts a study run and opens its report
        page = self.as_persona("cn-reviewer", lang)
        page.goto(f"{url}/jobs/")
        form = page.locator("form.job-start").first
        form.locator("select[name=kind]").select_option("study")
        form.locator("button[type=submit]").click()
        page.wait_for_url("**/jobs/*/", timeout=180_000)
        page.wait_for_selector("#open-report")
        self.check(page, lang, "5-run")
        page.click("#open-report")
        page.wait_for_url("**/report.html")
        page.screenshot(path=str(ARTIFACTS / f"walks-{lang}-6-report.png"), full_page=False)

    def test_walks_in_english(self):
        self.walk("en")

    def test_walks_in_chinese(self):
        self.walk("zh-hans")

    def test_walks_in_russian(self):
        self.walk("ru")

    def test_progress_updates_without_reload_and_the_no_worker_notice(self):
        from django.contrib.auth import get_user_model

        from amurlink_web.apps.jobs.models import Job
        from amurlink_web.apps.jobs.services import job_create, job_progress, worker_heartbeat
        from amurlink_web.apps.organisations.models import Organisation

        page = self.as_persona("cn-reviewer", "en")
        with self.settings(JOBS_RUN_SYNC=False):  # queued for a worker, as in production
            self._progress(page, job_create, job_progress, worker_heartbeat, Job, Organisation,
                           get_user_model())

    def _progress(self, page, job_create, job_progress, worker_heartbeat, Job, Organisation,
                  users):
        job = job_create(kind="crossborder", by=users.objects.get(username="cn-reviewer"),
                         organisation=Organisation.objects.get(slug="ntlnp"))
        page.goto(f"{self.live_server_url}/jobs/{job.pk}/")
        self.assertTrue(page.is_visible("#no-worker"))  # queued, and no worker is alive
        page.evaluate("window.__sameDocument = true")
        worker_heartbeat(worker_id="walk", host="here", pid=1)
        Job.objects.filter(pk=job.pk).update(status="running")
        job_progress(job, 42, "cross-border analysis")
        for _ in range(75):  # the page polls every 1.5 s (no eval: the page's CSP forbids it)
            if page.get_attribute("#job-progress", "value") == "42":
                break
            page.wait_for_timeout(200)
        self.assertEqual(page.get_attribute("#job-progress", "value"), "42")
        self.assertEqual(page.inner_text("#job-status"), "running")
        self.assertTrue(page.evaluate("window.__sameDocument === true"))  # no reload
        self.assertFalse(page.is_visible("#no-worker"))  # a worker is alive now
        page.screenshot(path=str(ARTIFACTS / "walks-en-7-progress.png"), full_page=True)
