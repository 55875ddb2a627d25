"""Browser walks, once per language (en, zh-hans, ru), each task by the persona who does it:
a Russian contributor uploads the park's national tables with their mapping (a first try with
faulty rows, then the corrected tables), a Chinese viewer opens a joint individual (and the
photos), a Russian
viewer reads the map, a Chinese reviewer starts a study run and opens its report. The fifth
task, reviewing 50 photo proposals by keyboard, walks in ``test_review_browser.py``.

Screenshots go to ``$AMURLINK_TEST_ARTIFACTS`` (``tests/web/artifacts/walks-<lang>-*.png``).
Every zh/ru page fails the walk if it shows an interface string, or a validation issue of
the library, untranslated. One browser for the module; slow (three study runs)."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pytest
from django.test import override_settings

from amurlink_web.apps.core.demo import demo_site_create
from amurlink_web.apps.datasets.models import Upload
from amurlink_web.apps.identities.selectors import joint_package_path

from .test_browser import ARTIFACTS, PersonaWalkCase, untranslated  # noqa: F401 (imported by test_home_languages)
from .test_upload_kinds import MAPPING, RECORDS, STATIONS

pytestmark = [pytest.mark.web, pytest.mark.slow]

#: the records table with faulty rows: a station that is not in the stations table, a time
#: that is not a time, a record without a time
RECORDS_FAULTY = RECORDS + "S9,2014-09-08 05:00:00,Тигр\nS1,yesterday,Тигр\nS2,,Тигр\n"


@override_settings(JOBS_RUN_SYNC=True, SESSION_COOKIE_SECURE=False, CSRF_COOKIE_SECURE=False)
class WalksTest(PersonaWalkCase):

    def setUp(self):
        super().setUp()
        shutil.rmtree(joint_package_path(), ignore_errors=True)
        demo_site_create()

    def walk_upload(self, lang: str) -> None:
        """A Russian contributor uploads the park's national tables with their mapping."""
        url = self.live_server_url
        page = self.as_persona("ru-contributor", lang)
        self.check(page, lang, "upload-1-home")
        with tempfile.TemporaryDirectory() as tmp:
            def send(records: str) -> None:
                paths = []
                for name, body in (("ru.mapping.toml", MAPPING), ("st.csv", STATIONS),
                                   ("rec.csv", records)):
                    (Path(tmp) / name).write_text(body, encoding="utf-8")
                    paths.append(str(Path(tmp) / name))
                page.goto(f"{url}/orgs/llnp/upload/")
                page.select_option("select[name=kind]", "mapping")
                page.set_input_files("input[name=files]", paths)
                page.click("main button[type=submit]")
                page.wait_for_selector("h1")

            page.goto(f"{url}/orgs/llnp/upload/")
            self.check(page, lang, "upload-2-form")
            send(RECORDS_FAULTY)  # refused, with its row-by-row report
            upload = Upload.objects.latest("id")
            self.assertEqual(upload.status, "rejected")
            self.assertGreaterEqual(len(upload.issues), 3)
            self.check(page, lang, "upload-3-report-with-issues")
            shown = page.locator("td.issue-message").all_inner_texts()
            self.assertEqual(len(shown), len(upload.issues))
            if lang != "en":  # the library's English sentences are not shown as they are
                for issue, text in zip(upload.issues, shown, strict=True):
                    self.assertNotIn(issue["message"], text)
                    for where in (issue.get("file"), issue.get("field"), issue.get("row")):
                        if where:
                            self.assertIn(str(where), text)
            send(RECORDS)  # corrected
            page.wait_for_url("**/uploads/*/")
            self.assertEqual(Upload.objects.latest("id").status, "imported")
        self.check(page, lang, "upload-4-report")

    def walk_individual(self, lang: str) -> None:
        """A Chinese viewer looks up the tiger photographed in both countries."""
        url = self.live_server_url
        page = self.as_persona("cn-viewer", lang)
        page.goto(f"{url}/individuals/")
        page.select_option("select[name=species]", "Panthera tigris")
        page.fill("input[name=q]", "T01")
        page.click("main form.review-filters button[type=submit]")
        page.wait_for_load_state()
        self.check(page, lang, "individual-1-list")
        page.locator("main table a").first.click()
        page.wait_for_load_state("load")
        self.assertIn("CN-NTLNP:T01", page.inner_text("main"))
        self.assertIn("RU-LLNP:T-1", page.inner_text("main"))
        thumbs = page.locator("main img.thumb")
        self.assertGreater(thumbs.count(), 0)
        # the small map and the timeline place each detection (SVG coordinates are numbers
        # with a point, never a Russian decimal comma that puts every mark in a corner)
        for selector, attr in (("figure.protected-map circle", "cx"),
                               ("figure.timeline rect", "x")):
            where = page.locator(selector).evaluate_all(
                f"els => els.map(e => e.getAttribute('{attr}'))")
            self.assertGreater(len(where), 1, selector)
            self.assertTrue(all(re.fullmatch(r"-?\d+(\.\d+)?", w) for w in where), where)
            self.assertGreater(len(set(where)), 1, selector)
        self.check(page, lang, "individual-2-page")
        self.assertTrue(thumbs.first.evaluate("i => i.naturalWidth > 0"))
        # and the park's other photos, from the header's link
        page.click("header a[href='/media/']")
        page.wait_for_load_state("load")
        self.assertGreater(page.locator("main img.thumb").count(), 10)
        self.check(page, lang, "individual-3-photos", full_page=False)

    def walk_map(self, lang: str) -> None:
        """A Russian viewer reads the map."""
        page = self.as_persona("ru-viewer", lang)
        page.goto(f"{self.live_server_url}/map/")
        page.wait_for_selector("#lmap[data-loaded]")
        self.assertGreater(int(page.get_attribute("#lmap", "data-loaded")), 0)
        self.assertTrue(page.is_visible(".leaflet-control-scale"))
        self.assertTrue(page.is_visible(".map-legend"))
        page.hover("#lmap")
        page.mouse.move(400, 500)
        self.check(page, lang, "map-1")

    def walk_run(self, lang: str) -> None:
        """A Chinese reviewer starts a study run and opens its report."""
        page = self.as_persona("cn-reviewer", lang)
        page.goto(f"{self.live_server_url}/jobs/")
        self.check(page, lang, "run-1-jobs")
        form = page.locator("form.job-start").first
        form.locator("select[name=kind]").select_option("study")
        form.locator("button[type=submit]").click()
        page.wait_for_url("**/jobs/*/", timeout=180_000)
        page.wait_for_selector("#open-report")
        self.check(page, lang, "run-2-done")
        page.click("#open-report")
        page.wait_for_url("**/report.html")
        self.assertEqual(page.get_attribute("html", "lang")[:2], lang[:2])
        page.screenshot(path=str(ARTIFACTS / f"walks-{lang}-run-3-report.png"),
                        full_page=False)

    def walk(self, lang: str) -> None:
        self.walk_upload(lang)
        self.walk_individual(lang)
        self.walk_map(lang)
        self.walk_run(lang)

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
        page.screenshot(path=str(ARTIFACTS / "walks-en-run-4-progress.png"), full_page=True)
