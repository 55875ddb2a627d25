"""The offline map: protected points only, scripts and styles from the app itself."""

from __future__ import annotations

import re
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from amurlink.core.protection import Audience, protect_dataset
from amurlink.datasets import load_example
from amurlink.io import read_camtrap_dp
from amurlink_web.apps.core.demo import zip_package
from amurlink_web.apps.datasets.selectors import package_path
from amurlink_web.apps.datasets.services import dataset_set_public
from amurlink_web.testing import PERSONAS, BaseTestCase, cn_package, upload

from .test_jobs import write_joint

pytestmark = pytest.mark.web

#: Coordinates with five decimals: any exact value would stand out on the page.
COORDS = [(43.04871, 130.91237), (43.10113, 130.95389), (43.14527, 130.97741)]
AUDIENCE = {
    "partner": Audience.partner(level="1km"),
    "secretariat": Audience.partner(level="10km"),
    "outsider": Audience.public(),
    "anonymous": Audience.public(),
}


def svg_points(html: str) -> list[tuple[str, float, float]]:
    """(class, lat, lon) of every point of the map's <svg>."""
    m = re.search(r"<svg id=\"amurlink-map\".*?</svg>", html, re.S)
    assert m, "no map on the page"
    root = ET.fromstring(m.group(0))
    return [(c.get("class"), float(c.get("data-lat")), float(c.get("data-lon")))
            for c in root.iter("circle")]


def _mentions(body: str, value: float) -> bool:
    return re.search(rf"(?<![\d.]){re.escape(repr(value))}(?!\d)", body) is not None


class MapTest(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        with tempfile.TemporaryDirectory() as tmp:
            data = zip_package(cn_package(coordinates=COORDS), Path(tmp) / "p.zip").read_bytes()
        result = upload(cls.cn, data, name="five-decimals.zip")
        assert result.status == "imported", result.issues
        cls.precise = result.dataset
        dataset_set_public(dataset=cls.precise, is_public=True)

    def setUp(self):
        write_joint()

    def test_no_point_finer_than_allowed(self):
        stored = read_camtrap_dp(package_path(self.precise))
        exact = {v for c in COORDS for v in c}
        for persona in PERSONAS:
            with self.subTest(persona=persona):
                response = self.client_for(persona).get(f"/datasets/{self.precise.pk}/map/")
                self.assertEqual(response.status_code, 200)
                html = response.content.decode()
                points = svg_points(html)
                if persona in ("owner", "readonly"):
                    self.assertEqual({(lat, lon) for _, lat, lon in points}, set(COORDS))
                    continue
                want = protect_dataset(stored, audience=AUDIENCE[persona]).deployments
                allowed = set(zip(want["latitude"], want["longitude"], strict=True))
                for _, lat, lon in points:
                    self.assertIn((lat, lon), allowed)
                for value in exact:
                    self.assertFalse(_mentions(html, value), (persona, value))

    def test_joint_map_layers_and_access(self):
        html = self.client_for("owner").get("/map/").content.decode()
        self.assertIn('class="border"', html)
        kinds = {k for k, _, _ in svg_points(html)}
        self.assertEqual(kinds, {"station", "detection"})
        self.assertIn('class="track"', html)  # T01 crosses the border (a confirmed link)
        # the Russian park shares nothing with the Chinese park here: its stations are
        # withheld, all shown at the one point of the study area
        ru = re.findall(r'data-lat="([^"]+)" data-lon="([^"]+)" data-country="RU"', html)
        self.assertEqual(len(ru), 3)
        self.assertEqual(len(set(ru)), 1)
        # the Russian park owns its part; the Chinese part reaches it at 1 km
        partner = self.client_for("partner").get("/map/").content.decode()
        toy = load_example()
        want = protect_dataset(toy, audience=Audience.owner(country="RU", level="1km"))
        allowed = set(zip(want.deployments["latitude"], want.deployments["longitude"],
                          strict=True))
        cn = set(zip(*[toy.deployments.loc[toy.deployments["deploymentID"].str.startswith(
            "CN"), c] for c in ("latitude", "longitude")], strict=True))
        points = {(lat, lon) for _, lat, lon in svg_points(partner)}
        self.assertTrue(points)
        self.assertLessEqual(points, allowed)
        self.assertFalse(points & cn)  # no exact Chinese station
        self.assertEqual(self.client_for("outsider").get("/map/").status_code, 404)
        self.assertEqual(self.client_for("anonymous").get("/map/").status_code, 302)

    def test_no_external_urls_and_the_scripts_are_served(self):
        for url in ("/map/", f"/datasets/{self.precise.pk}/map/", "/jobs/", "/"):
            html = self.client_for("owner").get(url).content.decode()
            refs = re.findall(r"<(?:script|link|img)\b[^>]*?(?:src|href)=\"([^\"]*)\"", html)
            for ref in refs:
                self.assertNotRegex(ref, r"^(https?:)?//", (url, ref))
            self.assertNotIn("http://", html.replace('http://testserver', ''))
            self.assertNotIn("https://", html)
        html = self.client_for("owner").get("/map/").content.decode()
        for ref in re.findall(r"<(?:script|link)\b[^>]*?(?:src|href)=\"([^\"]*)\"", html):
            response = self.client_for("anonymous").get(ref)
            self.assertEqual(response.status_code, 200, ref)
            body = b"".join(response.streaming_content).decode()
            if "/vendor/" in ref:  # a vendored library: URLs in its comments, none it loads
                self.assertNotRegex(body, r"url\(\s*['\"]?(https?:)?//", ref)
                continue
            self.assertNotIn("http", body)
