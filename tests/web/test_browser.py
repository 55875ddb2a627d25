"""Browser tests: Playwright for Python driving Debian's chromium against a live server.

Log in, upload a package, review a link, run the analysis, open the report and the map,
switch language. Screenshots go to ``$AMURLINK_TEST_ARTIFACTS`` (default
``tests/web/artifacts/``, ignored by git). Never downloads a browser: without
``/usr/bin/chromium`` (or the ``playwright`` package) the test is skipped, except under
``CI=true`` where that is a failure.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.test import override_settings

import amurlink_web
from amurlink_web.apps.core.demo import DEMO_PASSWORD, demo_site_create
from amurlink_web.apps.identities.selectors import joint_package_path, link_store
from amurlink_web.apps.jobs.models import Job
from amurlink_web.testing import cn_zip_bytes

pytestmark = pytest.mark.web

CHROMIUM = os.environ.get("AMURLINK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(os.environ.get("AMURLINK_TEST_ARTIFACTS")
                 or Path(__file__).parent / "artifacts")


LOCALE_DIRS = {"zh-hans": "zh_Hans", "ru": "ru"}
BROWSER_LOCALES = {"en": "en-GB", "zh-hans": "zh-CN", "ru": "ru-RU"}
#: Interface words that read the same in every language (names, codes, formats; the language
#: menu names each language in its own name, English too).
SAME_EVERYWHERE = {"amurlink", "API", "Camtrap DP", "DNA", "ID", "SECR", "CSV", "OK", "English"}


@functools.cache
def _catalogue(lang: str) -> tuple[tuple[str, re.Pattern], ...]:
    """The English interface strings that the language's catalogue translates."""
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
            out.append((mid, re.compile(rf"(?<![\w-]){re.escape(mid)}(?![\w-])")))
    return tuple(out)


def untranslated(text: str, lang: str) -> list[str]:
    """Catalogue strings that appear in English in a page's visible text (none for en)."""
    if lang == "en":
        return []
    return [mid for mid, pattern in _catalogue(lang) if pattern.search(text)]


def _browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install playwright)"
    if not Path(CHROMIUM).is_file():
        return f"no chromium at {CHROMIUM} (apt-get install chromium, or .ci/run)"
    return None


class ChromiumLiveServerCase(StaticLiveServerTestCase):
    """A live server and one headless Debian chromium per test class (every browser test
    module uses this: skipped with a reason where chromium or playwright is missing, a
    failure under CI)."""

    host = "127.0.0.1"

    @classmethod
    def setUpClass(cls):
        missing = _browser_missing()
        if missing:
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(f"browser tests cannot run under CI: {missing}")
            pytest.skip(missing)
        super().setUpClass()
        from playwright.sync_api import sync_playwright

        # Playwright's sync API keeps an event loop running in this thread; the ORM calls
        # made here between browser steps are plain synchronous ones.
        cls._async_unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

        cls._pw = sync_playwright().start()
        cls.browser = cls._pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        cls._pw.stop()
        if cls._async_unsafe is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = cls._async_unsafe
        super().tearDownClass()

    def open_page(self, *, locale: str = "en-GB", timeout_ms: int = 20_000):
        """A fresh context and page (1200 x 900) whose requests are kept in
        ``self.requests`` for :meth:`assert_nothing_outside`."""
        self.context = self.browser.new_context(viewport={"width": 1200, "height": 900},
                                                locale=locale)
        self.page = self.context.new_page()
        self.page.set_default_timeout(timeout_ms)
        self.requests: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        return self.page

    def assert_nothing_outside(self) -> None:
        """No page asked for anything outside the app (no tile server, no CDN)."""
        outside = [u for u in self.requests
                   if not u.startswith((self.live_server_url, "data:", "about:", "blob:"))]
        self.assertEqual(outside, [], "the pages asked for something outside the app")


class PersonaWalkCase(ChromiumLiveServerCase):
    """Walks by persona: each persona logs in with their language in a browser context of their
    own; ``check`` saves a screenshot ``walks-<lang>-<name>.png`` and fails on an interface
    string left in English on a zh or ru page; no page may ask for anything outside the app."""

    def setUp(self):
        super().setUp()
        self.requests: list[str] = []
        self.contexts = []

    def tearDown(self):
        for context in self.contexts:
            context.close()
        self.assert_nothing_outside()
        super().tearDown()

    def as_persona(self, username: str, lang: str):
        """A fresh browser logged in as ``username``, whose profile language is ``lang``."""
        from django.contrib.auth import get_user_model

        from amurlink_web.apps.organisations.services import profile_set_language

        profile_set_language(user=get_user_model().objects.get(username=username),
                             language=lang)
        # the persona's own browser speaks their language (date inputs, number formats)
        context = self.browser.new_context(viewport={"width": 1200, "height": 900},
                                           locale=BROWSER_LOCALES[lang])
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

    def check(self, page, lang: str, name: str, *, full_page: bool = True) -> None:
        """Screenshot (every picture drawn) and no interface string in English on zh/ru."""
        page.evaluate("() => document.querySelectorAll('img')"
                      ".forEach(i => { i.loading = 'eager'; })")
        page.wait_for_function("() => Array.from(document.images).every(i => i.complete)")
        page.screenshot(path=str(ARTIFACTS / f"walks-{lang}-{name}.png"), full_page=full_page)
        text = page.inner_text("body")
        # what is marked as another language on purpose (the language menu's own names, a
        # library message's English original) is not an untranslated string
        for other in page.eval_on_selector_all(
                "body [lang]", "(els, l) => els.filter(e => e.lang.toLowerCase() !== l)"
                ".map(e => e.textContent.trim()).filter(t => t)", lang):
            text = text.replace(other, " ")
        self.assertEqual(untranslated(text, lang), [],
                         f"{lang} {name}: interface strings left in English")


@override_settings(JOBS_RUN_SYNC=True, SESSION_COOKIE_SECURE=False, CSRF_COOKIE_SECURE=False)
class BrowserTest(ChromiumLiveServerCase):
    def setUp(self):
        shutil.rmtree(joint_package_path(), ignore_errors=True)
        demo_site_create()  # parks, users, both national halves, the joint package and border
        self.open_page()

    def tearDown(self):
        self.context.close()
        self.assert_nothing_outside()

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def test_a_day_at_the_platform(self):
        page, url = self.page, self.live_server_url
        # log in
        page.goto(f"{url}/accounts/login/")
        page.fill("input[name=username]", "cn-manager")
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{url}/")
        self.shot("01-home")
        # the demo user's language is Chinese: switch to English first
        page.select_option("header select[name=language]", "en")
        page.click("header form[action='/i18n/setlang/'] button")
        page.wait_for_selector("text=Datasets")

        # upload a package
        with tempfile.TemporaryDirectory() as tmp:
            archive = Path(tmp) / "cn-with-person.zip"
            archive.write_bytes(cn_zip_bytes())
            page.goto(f"{url}/orgs/ntlnp/upload/")
            page.set_input_files("input[name=package]", str(archive))
            page.click("main button[type=submit]")
            page.wait_for_url("**/uploads/*/")
        self.assertIn("imported", page.content())
        self.shot("02-upload")

        # review a link
        proposed = link_store().current(status="proposed")
        event = proposed.loc[proposed["subjectA"].eq("CN-NTLNP:L01"), "linkEventID"].iloc[0]
        page.goto(f"{url}/identities/links/{event}/")
        page.fill("input[name=reason]", "same rosettes on the left flank")
        page.click("button[value=accept]")
        page.wait_for_load_state()
        # two-party rule: China's acceptance awaits Russia's reviewer
        page.goto(f"{url}/identities/links/?status=proposed")
        self.assertIn("awaiting the partner (RU)", page.content())
        link_store().review(status="confirmed", reviewer="ru-reviewer (llnp)", side="RU",
                            link_event_id=event)
        self.assertEqual(link_store().current(status="confirmed")["subjectB"]
                         .eq("RU-LLNP:L-7").sum(), 1)
        self.shot("03-link-reviewed")

        # run the analysis (and the report), then open the report
        page.goto(f"{url}/jobs/")
        form = page.locator("form.job-start").first
        form.locator("select[name=kind]").select_option("crossborder")
        form.locator("button[type=submit]").click()
        page.wait_for_url("**/jobs/*/")
        page.wait_for_selector("#download-all")
        self.shot("04-analysis")
        page.goto(f"{url}/jobs/")
        form = page.locator("form.job-start").first
        form.locator("select[name=kind]").select_option("report")
        form.locator("select[name=lang]").select_option("en")
        form.locator("button[type=submit]").click()
        page.wait_for_url("**/jobs/*/")
        self.assertEqual(sorted(Job.objects.values_list("status", flat=True)), ["done", "done"])
        page.click("#open-report")
        page.wait_for_url("**/report.html")
        self.shot("05-report")

        # the map: layers toggle and the view zooms, with the app's own script
        page.goto(f"{url}/map/")
        page.wait_for_selector("#lmap[data-loaded]")  # the interactive (Leaflet) map drew
        page.click("#svg-map summary")  # the server-drawn map sits under "Static map"
        svg = page.locator("#amurlink-map")
        before = svg.get_attribute("viewBox")
        svg.hover()
        page.mouse.wheel(0, -400)
        page.wait_for_function(
            f"document.getElementById('amurlink-map').getAttribute('viewBox') !== '{before}'")
        page.uncheck("input[data-toggle=stations]")
        self.assertIn("hidden", page.locator("#layer-stations").get_attribute("class"))
        self.assertGreater(page.locator("circle.station").count(), 0)
        self.assertGreater(page.locator("polyline.track").count(), 0)
        self.shot("06-map")

        # switch language
        for code, word, name in (("ru", "Наборы данных", "07-russian"),
                                 ("zh-hans", "数据集", "08-chinese")):
            page.select_option("header select[name=language]", code)
            page.click("header form[action='/i18n/setlang/'] button")
            page.wait_for_selector(f"text={word}")
            self.shot(name)
