"""The review walk, once per language: a park's reviewer decides 50 photo proposals by keyboard
alone (a accept, r reject, s skip), looking at each proposal's photos.

English and Chinese by China's reviewer, Russian by Russia's. Playwright for Python drives
Debian's chromium (never a downloaded browser; skipped without ``/usr/bin/chromium`` or the
``playwright`` package, a failure under ``CI=true``). Screenshots ``walks-<lang>-review-*.png``
and the time from each key press to the next proposal on screen
(``walks-<lang>-review-timings.json``) go to ``$AMURLINK_TEST_ARTIFACTS`` (default
``tests/web/artifacts/``, ignored by git). In zh and ru any interface string left in English
fails the walk.
"""

from __future__ import annotations

import json
import shutil
import time

import pytest
from django.test import override_settings

from amurlink.identify import LinkStore
from amurlink.io import write_camtrap_dp
from amurlink_web.apps.core.demo import demo_site_create, toy_border_write
from amurlink_web.apps.identities.selectors import joint_package_path, link_store
from amurlink_web.apps.review.demo import demo_photos, demo_photos_write, with_review_pairs
from amurlink_web.apps.review.media import package_thumbnails_make

from .test_browser import ARTIFACTS, PersonaWalkCase

pytestmark = [pytest.mark.web, pytest.mark.slow]

N_PAIRS = 50
#: who reviews in which language, and the side their decisions count for
REVIEWERS = {"en": ("cn-reviewer", "CN"), "zh-hans": ("cn-reviewer", "CN"),
             "ru": ("ru-reviewer", "RU")}


@override_settings(SESSION_COOKIE_SECURE=False, CSRF_COOKIE_SECURE=False)
class ReviewWalkTest(PersonaWalkCase):

    def setUp(self):
        super().setUp()
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

    def walk(self, lang: str) -> None:
        url = self.live_server_url
        username, side = REVIEWERS[lang]
        other = {"CN": "RU", "RU": "CN"}[side]
        page = self.as_persona(username, lang)
        page.goto(f"{url}/review/?method=photo")
        self.check(page, lang, "review-1-queue")
        page.click("#review-start")
        page.wait_for_selector("#review-title")
        page.wait_for_load_state("load")  # photos and the match picture drawn
        self.assertGreater(page.locator("img.match").count(), 0)
        self.assertTrue(page.locator("img.match").first.evaluate("i => i.naturalWidth > 0"))
        self.check(page, lang, "review-2-proposal")
        started_walk = time.perf_counter()
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
        walk_s = time.perf_counter() - started_walk
        # the decisions posted in the background have all been written
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            current = link_store().current().set_index("subjectA")
            if all(current.loc[s, "status"] == "rejected" if k == "r"
                   else current.loc[s, "awaiting"] == other for s, k in decided.items()):
                break
            time.sleep(0.5)
        self.assertEqual(len(decided), N_PAIRS)
        # the queue of proposals awaiting this side is empty now (accepted ones await the
        # other park, rejected ones are closed)
        page.goto(f"{url}/review/?method=photo")
        self.assertEqual(page.locator("#review-start").count(), 0)
        self.assertTrue(page.is_visible("#queue-empty"))
        self.check(page, lang, "review-3-queue-after-fifty")
        (ARTIFACTS / f"walks-{lang}-review-timings.json").write_text(json.dumps({
            "reviewer": username, "decisions": len(timings), "walk_s": round(walk_s, 1),
            "ms": timings, "median_ms": sorted(timings)[len(timings) // 2],
            "p90_ms": sorted(timings)[int(len(timings) * 0.9)], "max_ms": max(timings)}))
        # every decision went through the link service for the reviewer's side
        current = link_store().current().set_index("subjectA")
        org = {"CN": "ntlnp", "RU": "llnp"}[side]
        self.assertEqual(sorted(set(current.loc[list(decided), "reviewer"].astype(str))),
                         [f"{username} ({org}) [{side}]"])
        for subject, key in decided.items():
            row = current.loc[subject]
            if key == "a":  # the two-party rule: the other park signs off next
                self.assertEqual((row["status"], row["awaiting"]), ("proposed", other))
            else:
                self.assertEqual(row["status"], "rejected")

    def test_review_walk_in_english(self):
        self.walk("en")

    def test_review_walk_in_chinese(self):
        self.walk("zh-hans")

    def test_review_walk_in_russian(self):
        self.walk("ru")


def _toy():
    from amurlink.datasets import load_example

    return load_example()
