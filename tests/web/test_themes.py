"""The theme results on the platform: the survey-design page with its protected map of the
proposed sites (issue #18) and the corridor layers of the joint map (issue #17).

The last study run's results are written beside the joint package as ``amurlink run`` keeps
them (``run-record.json`` and ``.amurlink-run/<stage>.pkl``), from a real ``border_corridors``
run on a resistance grid over the toy border and ``study.themes.design_tables`` of a
hand-made design result whose sites are known.
"""

from __future__ import annotations

import copy
import json
import pickle
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from amurlink.core.crs import to_metric
from amurlink.core.protection import protect_locations
from amurlink.study.themes import design_tables
from amurlink_web.apps.core.demo import TOY_BORDER
from amurlink_web.apps.identities.selectors import joint_package_path
from amurlink_web.apps.organisations.services import profile_set_language
from amurlink_web.apps.sharing.services import agreement_save
from amurlink_web.testing import BaseTestCase

from .test_jobs import write_joint

pytestmark = pytest.mark.web

#: Proposed sites: three in China (west of 131.0 E), three in Russia; two Russian sites share
#: one 1 km cell (they are one point with count 2 at 1 km).
CN_SITES = [(43.01234, 130.71234), (43.10987, 130.81357), (43.20468, 130.92579)]
RU_SITES = [(43.05432, 131.11111), (43.05461, 131.11153), (43.15975, 131.30864)]
CRS = "EPSG:32652"


def _design_value() -> dict:
    lat = np.array([s[0] for s in CN_SITES + RU_SITES])
    lon = np.array([s[1] for s in CN_SITES + RU_SITES])
    x, y = to_metric(lon, lat, crs=CRS)
    layout = {"stations": {"CN": 3, "RU": 3}, "cameras": {"CN": 6.0, "RU": 3.0},
              "En": 12.5, "Er": 30.25, "rse": 0.2345, "transboundary_detected": 2.5}
    result = {
        "settings": {"scale": "toy", "noccasions": 90, "detector": "count"},
        "current": dict(layout, En=10.0, rse=0.3),
        "proposed": layout,
        "joint_vs_national": [
            {"survey": "joint", "stations": 6, "cameras": 9.0, "En": 12.5, "Er": 30.25,
             "rse": 0.2345},
            {"survey": "CN", "stations": 3, "cameras": 6.0, "En": 7.0, "Er": 15.0, "rse": 0.4},
            {"survey": "RU", "stations": 3, "cameras": 3.0, "En": 6.0, "Er": 12.0, "rse": 0.45},
            {"survey": "national combined", "stations": 6, "cameras": 9.0, "En": np.nan,
             "Er": np.nan, "rse": 0.3}],
        "proposed_xy": np.column_stack([x, y]),
    }
    return design_tables(result)


def _border_with_parks(touching: bool) -> dict:
    """The toy border with two parks either side of 131.0 E: apart, or meeting along the
    whole border and across the whole grid as the simulator's do."""
    doc = copy.deepcopy(TOY_BORDER)
    gap, s, n = (0.0, 42.8, 43.4) if touching else (0.08, 42.95, 43.25)
    for name, (w, e) in (("NTLNP", (130.6, 131.0 - gap)), ("LLNP", (131.0 + gap, 131.4))):
        doc["features"].append({"type": "Feature", "properties": {"kind": "park", "name": name},
                                "geometry": {"type": "Polygon", "coordinates": [[
                                    [w, s], [e, s], [e, n], [w, n], [w, s]]]}})
    return doc


def write_theme_results(*, touching: bool = False, design: bool = True,
                        corridors: bool = True) -> None:
    """The toy joint package, a border with parks, and the last run's theme results."""
    from amurlink.core.border import load_border
    from amurlink.landscape.grid import Grid
    from amurlink.landscape.transboundary import border_corridors

    write_joint()
    out = joint_package_path().parent
    border_file = out / "border.geojson"
    border_file.write_text(json.dumps(_border_with_parks(touching)), encoding="utf-8")
    cache = out / ".amurlink-run"
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(out / "corridors", ignore_errors=True)
    cache.mkdir()
    stages = {}
    if design:
        (cache / "design.pkl").write_bytes(pickle.dumps(_design_value()))
        stages["design"] = {"status": "ok"}
    if corridors:
        border = load_border(border_file, crs=CRS)
        x0, y0 = to_metric([130.5], [42.9], crs=CRS)
        rng = np.random.default_rng(5)
        values = np.exp(rng.normal(1.0, 0.8, size=(48, 84)))
        grid = Grid(values, float(np.floor(x0[0] / 1000) * 1000),
                    float(np.floor(y0[0] / 1000) * 1000), 1000.0, -9999.0, CRS)
        value = border_corridors(grid, border, out / "corridors", segment_km=10.0)
        (cache / "corridors.pkl").write_bytes(pickle.dumps(value))
        stages["corridors"] = {"status": "ok"}
    (out / "run-record.json").write_text(json.dumps({"stages": stages}), encoding="utf-8")


def _pinch_cells(nd: int) -> list[tuple[float, float]]:
    """Centres of the pinch points' peak cells (pinch_points.csv), WGS84, ``nd`` decimals."""
    from amurlink.core.crs import from_metric
    from amurlink.landscape.grid import read_grid

    out = joint_package_path().parent / "corridors"
    pin = pd.read_csv(out / "pinch_points.csv").head(20)
    g = read_grid(out / "current.tif")
    x = g.xllcorner + (pin["col"].to_numpy(float) + 0.5) * g.cellsize
    y = g.yllcorner + (g.shape[0] - pin["row"].to_numpy(float) - 0.5) * g.cellsize
    lon, lat = from_metric(x, y, crs=CRS)
    return [(round(float(a), nd), round(float(b), nd)) for a, b in zip(lat, lon, strict=True)]


def _mentions(body: str, value: float) -> bool:
    return re.search(rf"(?<![\d.]){re.escape(repr(value))}(?!\d)", body) is not None


def _exact_in(body: str, sites) -> list:
    return [s for s in sites if _mentions(body, s[0]) and _mentions(body, s[1])]


class ThemeTestCase(BaseTestCase):
    def tearDown(self):
        out = joint_package_path().parent
        (out / "run-record.json").unlink(missing_ok=True)
        shutil.rmtree(out / ".amurlink-run", ignore_errors=True)
        shutil.rmtree(out / "corridors", ignore_errors=True)


class DesignPageTest(ThemeTestCase):
    def setUp(self):
        write_theme_results(corridors=False)

    def _page_and_data(self, persona):
        client = self.client_for(persona)
        page = client.get("/design/")
        data = client.get("/design/data.json")
        return page, data

    def test_it_checks_access(self):
        for persona in ("outsider",):
            page, data = self._page_and_data(persona)
            self.assertEqual((page.status_code, data.status_code), (404, 404))
        page, data = self._page_and_data("anonymous")
        self.assertEqual((page.status_code, data.status_code), (302, 302))

    def test_owner_sees_own_sites_exactly_and_not_the_partners(self):
        """NTLNP owns the Chinese part; LLNP shares nothing with it: Russian sites withheld."""
        for persona in ("owner", "readonly"):
            with self.subTest(persona=persona):
                page, data = self._page_and_data(persona)
                self.assertEqual(page.status_code, 200)
                body = page.content.decode() + data.content.decode()
                self.assertEqual(len(_exact_in(body, CN_SITES)), 3)
                self.assertEqual(_exact_in(body, RU_SITES), [])
                d = data.json()
                self.assertEqual((d["total"], d["withheld"]), (6, 3))
                self.assertEqual({s["country"] for s in d["sites"]}, {"CN"})
                self.assertEqual({s["level"] for s in d["sites"]}, {"exact"})
                for lat, lon in RU_SITES:  # nothing near a Russian site either
                    self.assertFalse(any(abs(s["lat"] - lat) < 0.05 and abs(s["lon"] - lon) < 0.05
                                         for s in d["sites"]))

    def test_partner_sees_the_other_countrys_sites_at_1km(self):
        """LLNP owns the Russian part; NTLNP shares at 1 km: Chinese sites at 1 km cell
        centres (2 decimals), never exact."""
        page, data = self._page_and_data("partner")
        body = page.content.decode() + data.content.decode()
        self.assertEqual(_exact_in(body, CN_SITES), [])
        self.assertEqual(len(_exact_in(body, RU_SITES)), 3)
        d = data.json()
        cn = [s for s in d["sites"] if s["country"] == "CN"]
        self.assertEqual(len(cn), 3)
        cells = protect_locations(pd.DataFrame({"latitude": [s[0] for s in CN_SITES],
                                                "longitude": [s[1] for s in CN_SITES]}),
                                  level="1km", crs=CRS)
        want = {(round(a, 2), round(b, 2)) for a, b in zip(cells["latitude"],
                                                             cells["longitude"], strict=True)}
        self.assertEqual({(s["lat"], s["lon"]) for s in cn}, want)
        self.assertEqual({s["level"] for s in cn}, {"1km"})
        self.assertEqual(d["withheld"], 0)

    def test_public_reader_sees_no_site(self):
        """The secretariat has no agreement from LLNP: it reads the joint package as the
        public, and tiger and leopard sites are withheld from the public."""
        page, data = self._page_and_data("secretariat")
        self.assertEqual(page.status_code, 200)
        d = data.json()
        self.assertEqual((d["sites"], d["withheld"], d["total"]), ([], 6, 6))
        body = page.content.decode() + data.content.decode()
        self.assertEqual(_exact_in(body, CN_SITES + RU_SITES), [])
        self.assertIn('<span id="sites-withheld">6</span>', page.content.decode())

    def test_partner_of_both_parks_sees_every_site_at_10km(self):
        agreement_save(provider=self.ru, recipient=self.sec, level="10km")
        page, data = self._page_and_data("secretariat")
        d = data.json()
        self.assertTrue(d["level"].startswith("partner"))
        self.assertEqual({s["level"] for s in d["sites"]}, {"10km"})
        for s in d["sites"]:
            self.assertEqual((s["lat"], s["lon"]), (round(s["lat"], 1), round(s["lon"], 1)))
        self.assertEqual(sum(s["count"] for s in d["sites"]), 6)
        body = page.content.decode() + data.content.decode()
        self.assertEqual(_exact_in(body, CN_SITES + RU_SITES), [])

    def test_costing_per_country_in_three_languages(self):
        for lang, words in (("en", ("Costing per country", "Station visits", "China")),
                            ("zh-hans", ("中国", "俄罗斯")),
                            ("ru", ("Китай", "Россия"))):
            with self.subTest(lang=lang):
                profile_set_language(user=self.users["owner"], language=lang)
                html = self.client_for("owner").get("/design/").content.decode()
                table = html.split('id="design-costing"')[1].split("</table>")[0]
                for w in words:
                    self.assertIn(w, html)
                # per layout and country: 3 stations, cameras 6 / 3, 540 / 270 camera-days,
                # visits: set-up, two checks, retrieval = 4 per station
                self.assertEqual(table.count("<tr>"), 1 + 4)
                self.assertIn(">540<", table)
                self.assertIn(">12<", table)
                # decimals with the language's own mark (E(n), RSE: 0.9 in en and zh, 0,9 in ru)
                layouts = html.split("<h2>")[1]
                decimals = re.findall(r'class="num">(-?\d[\d\s\u00a0,.]*)</td>', layouts)
                marks = {"," if re.search(r"\d,\d$", d) else "." for d in decimals
                         if re.search(r"\d[.,]\d$", d)}
                self.assertEqual(marks, {"," if lang == "ru" else "."}, decimals)

    def test_without_a_design_run_the_page_says_so(self):
        write_theme_results(design=False, corridors=False)
        r = self.client_for("owner").get("/design/")
        self.assertEqual(r.status_code, 200)
        self.assertIn("No survey design has been computed yet", r.content.decode())
        self.assertEqual(self.client_for("owner").get("/design/data.json").status_code, 404)


class CorridorLayerTest(ThemeTestCase):
    def test_layers_png_and_pinch_points_at_the_readers_level(self):
        write_theme_results(design=False)
        for persona in ("owner", "partner", "secretariat"):
            with self.subTest(persona=persona):
                client = self.client_for(persona)
                d = client.get("/map/data.json").json()
                cor = d["corridors"]
                self.assertEqual([o["id"] for o in cor["overlays"]], ["current", "corridor"])
                self.assertFalse(cor["touching"])
                (s, w), (n, e) = cor["overlays"][0]["bounds"]
                self.assertTrue(42.8 < s < n < 43.5 and 130.4 < w < e < 131.7)
                self.assertTrue(cor["pinch_points"])
                self.assertEqual(len(cor["cores"]), 2)  # the parks, outlined
                # the only points are the pinch cells (never a station), at the reader's
                # precision
                self.assertEqual(set(cor), {"overlays", "pinch_points", "touching", "cores"})
                self.assertEqual([(p["lat"], p["lon"]) for p in cor["pinch_points"]],
                                 _pinch_cells(d["decimals"]))
                west = cor["cores"][0]["coords"]
                self.assertAlmostEqual(min(p[0] for p in west), 130.6, places=2)
                for p in cor["pinch_points"]:
                    self.assertLessEqual(len(repr(p["lat"]).split(".")[1].rstrip("0")),
                                         d["decimals"])
                for o in cor["overlays"]:
                    r = client.get(o["url"])
                    self.assertEqual((r.status_code, r["Content-Type"]), (200, "image/png"))
                    self.assertEqual(r.content[:8], b"\x89PNG\r\n\x1a\n")
        self.assertEqual(self.client_for("outsider").get(
            "/map/corridors/current.png").status_code, 404)
        self.assertEqual(self.client_for("anonymous").get(
            "/map/corridors/current.png").status_code, 302)
        self.assertEqual(self.client_for("owner").get(
            "/map/corridors/nothing.png").status_code, 404)

    def test_the_png_shows_the_landscape_and_leaves_the_parks_blank(self):
        cv2 = pytest.importorskip("cv2")
        write_theme_results(design=False)
        r = self.client_for("partner").get("/map/corridors/current.png")
        img = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_UNCHANGED)
        alpha = img[..., 3]
        h, w = alpha.shape
        self.assertGreater((alpha > 0).mean(), 0.3)  # the landscape between and around
        # the middle of the western park (130.6-130.92 E of 130.5-131.5) is a core: blank
        self.assertEqual(int(alpha[h // 2, int(w * 0.22)]), 0)

    def test_touching_parks_show_the_current_across_the_border_zone(self):
        # the run's cores stop short of the border (core setback): the current crosses
        # landscape cells there, so its overlay and pinch points are drawn (before the
        # setback touching parks left rounding noise and the layer was left out)
        write_theme_results(design=False, touching=True)
        cor = self.client_for("partner").get("/map/data.json").json()["corridors"]
        self.assertFalse(cor["touching"])
        self.assertEqual([o["id"] for o in cor["overlays"]], ["current", "corridor"])
        self.assertTrue(cor["pinch_points"])
        self.assertEqual(self.client_for("partner").get(
            "/map/corridors/current.png").status_code, 200)

    def test_no_corridor_run_no_layer_and_dataset_maps_have_none(self):
        write_joint()
        self.assertIsNone(self.client_for("owner").get("/map/data.json").json()["corridors"])
        write_theme_results(design=False)
        self.assertIsNone(self.client_for("owner").get(
            f"/datasets/{self.dataset.pk}/map/data.json").json()["corridors"])


class RunResultsFollowTheRecordTest(ThemeTestCase):
    def test_a_rerun_of_the_theme_stages_alone_is_seen(self):
        """A run that only reran the theme stages rewrites run-record.json, not the joint
        package: the page shows the new result."""
        import os
        import time

        write_theme_results(design=False, corridors=False)
        self.assertIn("No survey design", self.client_for("owner").get("/design/")
                      .content.decode())
        out = joint_package_path().parent
        (out / ".amurlink-run" / "design.pkl").write_bytes(pickle.dumps(_design_value()))
        (out / "run-record.json").write_text(json.dumps({"stages": {"design": {"status": "ok"}}}),
                                             encoding="utf-8")
        later = time.time_ns() + 10**9  # a coarse clock must still see a new mtime
        os.utime(out / "run-record.json", ns=(later, later))
        self.assertIn('id="design-costing"', self.client_for("owner").get("/design/")
                      .content.decode())


class SitesWithoutCountryTest(BaseTestCase):
    def test_sites_outside_every_country_are_nobodys_own(self):
        """Without country polygons no site is a park's own: the Chinese owner, who has no
        agreement from the Russian park, sees none (fail closed); an owner of every part
        sees all of them exactly."""
        from types import SimpleNamespace

        from amurlink_web.apps.jobs.selectors import JointAccess
        from amurlink_web.apps.jobs.themes import design_sites

        inputs = SimpleNamespace(themes={"design": _design_value()}, border=None, config=None)
        cn_owner = JointAccess("owner", "withheld", "NTLNP", country="CN")
        shown = design_sites(inputs=inputs, access=cn_owner)
        self.assertEqual((shown.sites, shown.withheld), ([], 6))
        everything = design_sites(inputs=inputs, access=JointAccess("owner", "exact", "NTLNP"))
        self.assertEqual(len(everything.sites), 6)
        self.assertEqual({s["level"] for s in everything.sites}, {"exact"})
