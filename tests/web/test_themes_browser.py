"""The corridor layers of the joint map and the survey-design page in chromium: the overlays
and sites are drawn from the app alone, with a legend; screenshots ``themes-*.png`` (in
``$AMURLINK_TEST_ARTIFACTS``) for a person to look at."""

from __future__ import annotations

import pytest
from django.test import override_settings

from amurlink_web.testing import BaseTestCase

from .test_browser import ARTIFACTS, ChromiumLiveServerCase
from .test_themes import write_theme_results

pytestmark = pytest.mark.web


@override_settings(SESSION_COOKIE_SECURE=False, CSRF_COOKIE_SECURE=False)
class ThemePagesBrowserTest(ChromiumLiveServerCase):
    setUpTestData = BaseTestCase.setUpTestData  # the personas, on the live server's database

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setUpTestData()

    def setUp(self):
        write_theme_results()
        self.open_page(timeout_ms=60_000)

    def tearDown(self):
        self.context.close()
        self.assert_nothing_outside()

    def login(self, username: str) -> None:
        from amurlink_web.testing import PASSWORD

        page = self.page
        page.goto(self.live_server_url + "/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.press("input[name=password]", "Enter")
        page.wait_for_load_state()

    def test_corridor_layers_and_design_map(self):
        page, url = self.page, self.live_server_url
        self.login("ru-reviewer")  # the partner persona: owns RU, sees CN at 1 km
        page.goto(url + "/map/")
        page.wait_for_selector("#lmap[data-loaded]")
        self.assertEqual(page.get_attribute("#lmap", "data-overlays"), "2")
        loaded = ("() => Array.from(document.querySelectorAll('img.leaflet-image-layer'))"
                  ".every(i => i.naturalWidth > 0)")
        # the current is drawn (its PNG loaded) with its colour bar; the least-cost corridor
        # waits behind its switch, and its bar comes with it
        page.wait_for_function(loaded)
        self.assertEqual(page.locator("img.leaflet-image-layer").count(), 1)
        self.assertEqual(page.locator(".map-legend .ramp").count(), 1)
        self.assertIn("Cumulative current", page.inner_text(".map-legend"))
        page.screenshot(path=str(ARTIFACTS / "themes-map-current.png"), full_page=True)
        page.locator(".leaflet-control-layers-overlays label",
                     has_text="Least-cost corridor").locator("input").check()
        page.wait_for_function(loaded)
        self.assertEqual(page.locator("img.leaflet-image-layer").count(), 2)
        self.assertEqual(page.locator(".map-legend .ramp").count(), 2)
        self.assertIn("Least-cost corridor", page.inner_text(".map-legend"))
        self.assertTrue(page.is_hidden("#map-note"))  # the parks are apart: current drawn
        page.screenshot(path=str(ARTIFACTS / "themes-map-corridors.png"), full_page=True)

        page.goto(url + "/design/")
        page.wait_for_selector("#lmap[data-loaded]")
        self.assertEqual(page.get_attribute("#lmap", "data-sites"), "6")
        self.assertIn("Proposed camera sites", page.inner_text(".map-legend"))
        self.assertEqual(page.locator("#design-costing tbody tr").count(), 4)
        page.screenshot(path=str(ARTIFACTS / "themes-design.png"), full_page=True)
