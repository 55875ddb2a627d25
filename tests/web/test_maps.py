"""The interactive (Leaflet) map: its JSON comes from the same release as the map pages, at
the reader's precision; species and year filter it; the study's map layers are drawn."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from django.test import override_settings

from amurlink_web.apps.core.demo import zip_package
from amurlink_web.apps.datasets.services import dataset_set_public
from amurlink_web.apps.jobs.mapdata import decimals_for
from amurlink_web.testing import BaseTestCase, cn_package, upload

from .test_jobs import write_joint
from .test_map import COORDS, _mentions, svg_points

pytestmark = pytest.mark.web


def _decimals(value: float) -> int:
    text = repr(float(value))
    return len(text.split(".")[1].rstrip("0")) if "." in text else 0


class InteractiveMapTest(BaseTestCase):
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

    def test_the_page_loads_leaflet_from_the_app_and_points_to_its_data(self):
        html = self.client_for("owner").get("/map/").content.decode()
        self.assertIn('/static/vendor/leaflet/leaflet.js', html)
        self.assertIn('/static/vendor/leaflet/leaflet.css', html)
        self.assertIn('data-src="/map/data.json"', html)
        self.assertNotIn("<script>", html)  # CSP: no inline script
        for name in ("leaflet.js", "leaflet.css", "LICENSE", "images/layers.png"):
            r = self.client_for("anonymous").get(f"/static/vendor/leaflet/{name}")
            self.assertEqual(r.status_code, 200, name)
        self.assertIn(b"BSD 2-Clause", b"".join(
            self.client_for("anonymous").get("/static/vendor/leaflet/LICENSE").streaming_content))

    def test_no_point_finer_than_the_readers_level_and_the_same_points_as_the_page(self):
        for persona, level in (("partner", "1km"), ("secretariat", "10km"),
                               ("anonymous", "10km")):
            with self.subTest(persona=persona):
                client = self.client_for(persona)
                url = f"/datasets/{self.precise.pk}/map/"
                r = client.get(url + "data.json")
                self.assertEqual(r.status_code, 200)
                body = r.content.decode()
                data = json.loads(body)
                for lat, lon in COORDS:  # no exact coordinate anywhere in the answer
                    self.assertFalse(_mentions(body, lat) or _mentions(body, lon))
                nd = data["decimals"]
                self.assertLessEqual(nd, decimals_for(level) if persona != "anonymous" else 2)
                for s in data["stations"] + data["detections"]:
                    self.assertLessEqual(max(_decimals(s["lat"]), _decimals(s["lon"])), nd)
                page = {(round(a, nd), round(b, nd))
                        for _, a, b in svg_points(client.get(url).content.decode())}
                self.assertLessEqual({(s["lat"], s["lon"]) for s in data["stations"]}, page)
        self.assertEqual(self.client_for("owner").get(
            f"/datasets/{self.precise.pk}/map/data.json").json()["decimals"], 5)

    def test_joint_data_access_filters_and_tracks(self):
        self.assertEqual(self.client_for("outsider").get("/map/data.json").status_code, 404)
        self.assertEqual(self.client_for("anonymous").get("/map/data.json").status_code, 302)
        data = self.client_for("partner").get("/map/data.json").json()
        self.assertTrue(data["species"] and data["years"])
        self.assertTrue(data["tracks"])  # T01 crosses the border
        self.assertTrue(data["border"])
        total = sum(d["count"] for d in data["detections"])
        per_species = [sum(d["count"] for d in self.client_for("partner").get(
            "/map/data.json", {"species": sp}).json()["detections"]) for sp in data["species"]]
        self.assertEqual(sum(per_species), total)
        self.assertTrue(all(n < total for n in per_species) or len(per_species) == 1)
        per_year = [sum(d["count"] for d in self.client_for("partner").get(
            "/map/data.json", {"year": y}).json()["detections"]) for y in data["years"]]
        self.assertEqual(sum(per_year), total)
        none = self.client_for("partner").get("/map/data.json", {"species": "Nobody"}).json()
        self.assertEqual((none["detections"], none["tracks"]), ([], []))
        self.assertEqual(len(none["stations"]), len(data["stations"]))

    def test_the_studys_map_layers(self):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            (folder / "parks.geojson").write_text(json.dumps({
                "type": "FeatureCollection", "features": [{
                    "type": "Feature", "properties": {"name": "Land of the Leopard"},
                    "geometry": {"type": "Polygon", "coordinates": [[
                        [131.0, 43.0], [131.5, 43.0], [131.5, 43.5], [131.0, 43.0]]]}}]}))
            (folder / "settlements.geojson").write_text(json.dumps({
                "type": "FeatureCollection", "features": [{
                    "type": "Feature", "properties": {"name": "Hunchun"},
                    "geometry": {"type": "Point", "coordinates": [130.366, 42.868]}}]}))
            (folder / "amurlink.toml").write_text(
                '[inputs.layers]\nparks = "parks.geojson"\nsettlements = "settlements.geojson"\n'
                'rivers = "missing.geojson"\n', encoding="utf-8")
            with override_settings(STUDY_CONFIG=str(folder / "amurlink.toml")):
                data = self.client_for("owner").get("/map/data.json").json()
        layers = data["layers"]
        self.assertEqual(set(layers), {"parks", "settlements"})  # a missing file is left out
        self.assertEqual(layers["parks"][0]["type"], "polygon")
        self.assertEqual(layers["parks"][0]["name"], "Land of the Leopard")
        self.assertEqual(layers["settlements"][0]["coords"], [130.366, 42.868])
