"""Review by keyboard alone in a real browser: 50 photo proposals, then the pages in zh and ru.

Playwright for Python drives Debian's chromium (never a downloaded browser; skipped without
``/usr/bin/chromium`` or the ``playwright`` package, a failure under ``CI=true``).
Screenshots and the time from each key press to the next proposal's page go to
``$AMURLINK_TEST_ARTIFACTS`` (default ``tests/web/artifacts/``, ignored by git).
"""

from __future__ import annotations

import json
import shutil
import time

import pytest
from django.test import override_settings

from amurlink.identify import LinkStore
from amurlink.io import write_camtrap_dp
from amurlink_web.apps.core.demo import DEMO_PASSWORD, demo_site_create, toy_border_write
from amurlink_web.apps.identities.selectors import joint_package_path, link_store
from amurlink_web.apps.review.demo import demo_photos, demo_photos_write, with_review_pairs
from amurlink_web.apps.review.media import package_thumbnails_make

from .test_browser import ARTIFACTS, ChromiumLiveServerCase

pytestmark = [pytest.mark.web, pytest.mark.slow]

N_PAIRS = 50


@override_settings(SESSION_COOKIE_SECURE=False, CSRF_COOKIE_SECURE=False)
class ReviewBrowserTest(ChromiumLiveServerCase):

    def setUp(self):
        # the demo site, its joint package holding 50 more photo proposals (two in three are
        # one leopard photographed in both countries)
        joint = joint_package_path()
        shutil.rmtree(joint, ignore_errors=True)
        data, proposals, animals = with_review_pairs(_toy(), N_PAIRS)
        data, photos = demo_photos(data, animals=animals)
        write_camtrap_dp(data, joint)
        demo_photos_write(joint, photos)
        package_thumbnails_make(joint)  # as at import
        toy_border_write(joint.parent)
        LinkStore(joint).propose(proposals, method="photo", by="matcher")
        demo_site_create()
        self.same = {f"CN-NTLNP:L{100 + k}" for k in range(N_PAIRS) if k % 3 != 2}
        self.requests: list[str] = []

    def login(self, username: str, language: str):
        context = self.browser.new_context(viewport={"width": 1200, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("request", lambda r: self.requests.append(r.url))
        url = self.live_server_url
        page.goto(f"{url}/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{url}/")
        page.select_option("header select[name=language]", language)
        page.click("header form[action='/i18n/setlang/'] button")
        page.wait_for_load_state()
        return context, page

    def shot(self, page, name: str) -> None:
        # every picture on the page drawn (the screenshot is full-page: no lazy loading)
        page.evaluate("() => document.querySelectorAll('img')"
                      ".forEach(i => { i.loading = 'eager'; })")
        page.wait_for_function("() => Array.from(document.images).every(i => i.complete)")
        page.screenshot(path=str(ARTIFACTS / f"review-{name}.png"), full_page=True)

    def test_fifty_proposals_by_keyboard(self):
        url = self.live_server_url
        context, page = self.login("cn-reviewer", "en")
        page.goto(f"{url}/review/?method=photo")
        self.shot(page, "01-queue")
        page.click("#review-start")
        page.wait_for_selector("#review-title")
        page.wait_for_load_state("load")  # photos and the match picture drawn
        self.shot(page, "02-proposal")
        decided, timings, skipped = {}, [], 0
        while len(decided) < N_PAIRS and skipped < 5:
            title = page.locator("#review-title")
            event = title.get_attribute("data-event")
            subject_a = title.inner_text().split(" = ")[0]
            if subject_a in decided:  # its decision is still being written: look again
                page.wait_for_timeout(300)
                page.reload(wait_until="domcontentloaded")
                continue
            self.assertEqual(page.locator("#review-notice").count(), 0)  # nothing refused
            if subject_a.startswith("CN-NTLNP:L1"):
                key = "a" if subject_a in self.same else "r"
            else:
                key, skipped = "s", skipped + 1  # not one of the fifty: left for later
            if page.locator("#next-link").count():
                # the reviewer looks at the photos while the next proposal is fetched
                page.wait_for_selector("html[data-next-ready]", state="attached")
            started = time.perf_counter()
            if page.locator("#next-link").count():
                # the next proposal (fetched ahead) replaces this one without a page load
                page.keyboard.press(key)
                page.wait_for_function(
                    "ev => { const t = document.getElementById('review-title');"
                    " return t && t.dataset.event !== ev; }", arg=event)
            else:  # the last proposal of the queue: a plain form post
                with page.expect_navigation(wait_until="domcontentloaded"):
                    page.keyboard.press(key)
            timings.append(round((time.perf_counter() - started) * 1000, 1))
            if key != "s":
                decided[subject_a] = key
            if not page.locator("#review-title").count():
                break  # the queue is empty: back on the queue page
        # the decisions posted in the background have all been written
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            current = link_store().current().set_index("subjectA")
            if all(current.loc[s, "status"] == "rejected" if k == "r"
                   else current.loc[s, "awaiting"] == "RU" for s, k in decided.items()):
                break
            time.sleep(0.5)
        self.assertEqual(len(decided), N_PAIRS)
        self.shot(page, "03-after-fifty")
        (ARTIFACTS / "review-keyboard-timings.json").write_text(json.dumps({
            "decisions": len(timings), "ms": timings,
            "median_ms": sorted(timings)[len(timings) // 2],
            "p90_ms": sorted(timings)[int(len(timings) * 0.9)], "max_ms": max(timings)}))
        # every decision went through the link service for China's side
        current = link_store().current().set_index("subjectA")
        self.assertEqual(sorted(set(current.loc[list(decided), "reviewer"].astype(str))),
                         ["cn-reviewer (ntlnp) [CN]"])
        for subject, key in decided.items():
            row = current.loc[subject]
            if key == "a":
                self.assertEqual((row["status"], row["awaiting"]), ("proposed", "RU"))
            else:
                self.assertEqual(row["status"], "rejected")
        context.close()
        outside = [u for u in self.requests
                   if not u.startswith((self.live_server_url, "data:", "about:", "blob:"))]
        self.assertEqual(outside, [])

    def test_review_and_individual_pages_in_chinese_and_russian(self):
        url = self.live_server_url
        event = link_store().current(status="proposed").set_index("subjectA") \
            .loc["CN-NTLNP:L100", "linkEventID"]
        for user, language in (("cn-reviewer", "zh-hans"), ("ru-reviewer", "ru")):
            context, page = self.login(user, language)
            page.goto(f"{url}/review/{event}/")
            page.wait_for_load_state("load")
            self.assertGreater(page.locator("img.match").count(), 0)
            self.assertTrue(page.locator("img.match").evaluate("i => i.naturalWidth > 0"))
            self.shot(page, f"04-proposal-{language}")
            page.goto(f"{url}/individuals/?species=Panthera+tigris")
            page.locator("main table a").first.click()
            page.wait_for_load_state("load")
            self.shot(page, f"05-individual-{language}")
            page.goto(f"{url}/media/")
            page.wait_for_load_state("load")
            self.assertGreater(page.locator("img.thumb").count(), 10)
            self.shot(page, f"06-media-{language}")
            context.close()


def _toy():
    from amurlink.datasets import load_example

    return load_example()
