"""The home page answers: per species, individuals recorded in both countries out of all (the
report's opening function), the latest run, proposals awaiting the reader, recent uploads and
data-quality alerts; each persona sees what it may."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings

from amurlink.analysis.crossborder import answer, crossborder
from amurlink.core.border import load_border
from amurlink.datasets import load_example
from amurlink_web.apps.identities.selectors import joint_package_path
from amurlink_web.apps.jobs.services import job_create
from amurlink_web.testing import BaseTestCase, upload, zip_of

from .test_jobs import write_joint

pytestmark = pytest.mark.web


def _answer_rows(html: str) -> dict[str, tuple[int, int]]:
    rows = re.findall(r'<tr data-species="([^"]+)">.*?class="num transboundary">(\d+)<.*?'
                      r'class="num individuals">(\d+)<', html, re.S)
    return {sp: (int(a), int(b)) for sp, a, b in rows}


class HomeTest(BaseTestCase):
    def setUp(self):
        write_joint()

    def test_the_answer_equals_the_reports_opening_on_the_exact_data(self):
        border = load_border(joint_package_path().parent / "border.geojson")
        want = answer(crossborder(load_example(), border=border))["species"]
        expected = {str(r.scientificName): (int(r.transboundary), int(r.individuals))
                    for r in want.itertuples(index=False)}
        self.assertTrue(any(t > 0 for t, _ in expected.values()))  # the toy's T01 crosses
        for persona in ("owner", "partner", "readonly"):
            with self.subTest(persona=persona):
                html = self.client_for(persona).get("/").content.decode()
                self.assertEqual(_answer_rows(html), expected)

    def test_personas_outside_the_working_group_get_no_answer(self):
        for persona in ("outsider", "anonymous"):
            with self.subTest(persona=persona):
                r = self.client_for(persona).get("/")
                self.assertEqual(r.status_code, 200)
                self.assertNotIn('id="answer"', r.content.decode())
        self.assertNotIn('id="latest-run"', self.client_for("anonymous").get("/").content.decode())

    @override_settings(JOBS_RUN_SYNC=True)
    def test_latest_run_uploads_awaiting_and_alerts(self):
        html = self.client_for("owner").get("/").content.decode()
        self.assertIn('id="latest-run"', html)
        self.assertIn("cn.zip", html)  # the persona's upload
        self.assertIn('id="awaiting"', self.client_for("partner").get("/").content.decode())
        self.assertNotIn('id="awaiting"', self.client_for("readonly").get("/").content.decode())
        job = job_create(kind="crossborder", organisation=self.cn, by=self.users["owner"])
        html = self.client_for("owner").get("/").content.decode()
        self.assertIn(f'href="/jobs/{job.pk}/"', html)
        self.assertNotIn(f'href="/jobs/{job.pk}/"',
                         self.client_for("partner").get("/").content.decode())
        bad = upload(self.cn, zip_of({"datapackage.json": b"{not json"}), name="broken.zip")
        self.assertEqual(bad.status, "rejected")
        html = self.client_for("owner").get("/").content.decode()
        alerts = html.split('id="alerts"')[1]
        self.assertIn("broken.zip", alerts)
        self.assertNotIn("broken.zip", self.client_for("partner").get("/").content.decode())

    def test_proposals_awaiting_count_the_readers_side(self):
        import pandas as pd

        from amurlink.identify import LinkStore
        from amurlink_web.apps.identities.selectors import link_list

        def count(persona):
            html = self.client_for(persona).get("/").content.decode()
            return int(re.search(r'<strong class="count">(\d+)</strong>', html).group(1))

        before = len(link_list(fetched_by=self.users["partner"], status="proposed"))
        self.assertEqual(count("partner"), before)
        store = LinkStore(joint_package_path())
        store.propose(pd.DataFrame({"subjectA": ["CN-NTLNP:L01"], "subjectB": ["RU-LLNP:L-7"]}),
                      method="photo", by="matcher")
        self.assertEqual((count("partner"), count("cn_reviewer")), (before + 1, before + 1))
        event = store.current(status="proposed").set_index("subjectB").loc[
            "RU-LLNP:L-7", "linkEventID"]
        r = self.client_for("partner").post(f"/identities/links/{event}/review/",
                                            {"decision": "accept"})
        self.assertIn(r.status_code, (200, 302))
        # the Russian side has decided: only the Chinese reviewer still has it to do
        self.assertEqual((count("partner"), count("cn_reviewer")), (before, before + 1))
