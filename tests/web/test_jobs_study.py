"""A study run on the platform: every park's current dataset -> ``amurlink run``'s pipeline
-> the joint package, analyses and the reader's report; link decisions survive a rebuild."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from django.test import override_settings

from amurlink.datasets import load_example
from amurlink.identify import LinkStore
from amurlink_web.apps.core.demo import national_part, toy_border_write, zip_package
from amurlink_web.apps.identities.selectors import joint_package_path
from amurlink_web.apps.jobs.models import Job
from amurlink_web.apps.jobs.study import current_datasets
from amurlink_web.testing import BaseTestCase, cn_zip_bytes, upload

pytestmark = [pytest.mark.web, pytest.mark.slow]


@override_settings(JOBS_RUN_SYNC=True)
class StudyRunTest(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        with tempfile.TemporaryDirectory() as tmp:
            ru = zip_package(national_part(load_example(), country="RU"), Path(tmp) / "ru.zip")
            result = upload(cls.ru, ru.read_bytes(), name="ru.zip")
        assert result.status == "imported", result.issues
        cls.ru_dataset = result.dataset

    def setUp(self):
        joint = joint_package_path()
        shutil.rmtree(joint, ignore_errors=True)
        toy_border_write(joint.parent)

    def run_study(self, persona="owner", org="ntlnp", lang="en") -> Job:
        r = self.client_for(persona).post(f"/orgs/{org}/jobs/new/",
                                          {"kind": "study", "lang": lang})
        self.assertEqual(r.status_code, 302)
        job = Job.objects.latest("id")
        self.assertEqual(job.status, "done", job.message)
        return job

    def test_a_link_decision_survives_a_new_upload_and_a_rerun(self):
        first = self.run_study()
        joint = joint_package_path()
        self.assertTrue((joint / "datapackage.json").is_file())  # the run built it
        files = self.client_for("owner").get(f"/jobs/{first.pk}/").content.decode()
        self.assertIn("report.html", files)
        # a proposal, accepted by each park's reviewer (two-party)
        store = LinkStore(joint)
        store.propose(pd.DataFrame({"subjectA": ["CN-NTLNP:L01"], "subjectB": ["RU-LLNP:L-7"]}),
                      method="photo", by="matcher")
        event = store.current(status="proposed").set_index("subjectB").loc[
            "RU-LLNP:L-7", "linkEventID"]
        for persona in ("cn_reviewer", "partner"):
            r = self.client_for(persona).post(f"/identities/links/{event}/review/",
                                              {"decision": "accept"})
            self.assertIn(r.status_code, (200, 302))
        pair = ("CN-NTLNP:L01", "RU-LLNP:L-7")

        def state():
            cur = LinkStore(joint).current()
            row = cur[(cur["subjectA"] == pair[0]) & (cur["subjectB"] == pair[1])]
            return row["status"].tolist(), len(LinkStore(joint).history(pair[0]))

        self.assertEqual(state()[0], ["confirmed"])
        history = state()[1]
        # the Chinese park uploads again: its new dataset becomes current
        again = upload(self.cn, cn_zip_bytes(with_person=False), name="cn-2.zip")
        self.assertEqual(again.status, "imported", again.issues)
        self.assertEqual(current_datasets()["CN"].pk, again.dataset.pk)
        second = self.run_study(persona="partner", org="llnp", lang="ru")
        self.assertGreater(second.pk, first.pk)
        self.assertEqual(state(), (["confirmed"], history))  # the decision and its history
        report = self.client_for("partner").get(f"/jobs/{second.pk}/files/report.html")
        self.assertEqual(report.status_code, 200)
        home = self.client_for("owner").get("/").content.decode()
        self.assertIn('id="latest-run"', home)
        self.assertIn(f'href="/jobs/{second.pk}/"', self.client_for("partner").get("/")
                      .content.decode())

    def test_incident_books_entered_on_the_platform_reach_the_run(self):
        import datetime as dt

        from django.conf import settings

        from amurlink_web.apps.incidents.services import incident_create

        name = "Ivanov Testclaimant"
        incident_create(organisation=self.ru, by=self.users["partner"], values={
            "incident_id": "RU-INC-W1", "category": "livestock-killed",
            "event_start": dt.datetime(2014, 10, 3, 4, 30, tzinfo=dt.UTC),
            "scientific_name": "Panthera tigris", "latitude": 43.2, "longitude": 131.3,
            "victim_kind": "cow", "victim_count": 1, "compensation_amount": 43210.0,
            "compensation_currency": "RUB", "compensation_date": dt.date(2014, 11, 1)},
            claimant={"name": name, "phone": "+7 900 000 0000", "address": "Barabash"})
        stale = Path(settings.DATA_DIR) / "study" / "incidents" / "cn"
        stale.mkdir(parents=True, exist_ok=True)
        (stale / "incidents.csv").write_text("old books no longer in the database\n")
        job = self.run_study(persona="partner", org="llnp")
        books = Path(settings.DATA_DIR) / "study" / "incidents"
        self.assertIn("RU-INC-W1", (books / "ru" / "incidents.csv").read_text())
        self.assertFalse(stale.exists())  # the Chinese park has no books: none read
        self.assertIn("incidents = [", (books.parent / "amurlink.toml").read_text())
        # the Russian park's report counts the incident and its compensation (in roubles)
        report = b"".join(self.client_for("partner").get(
            f"/jobs/{job.pk}/files/report.html").streaming_content).decode()
        self.assertIn("43", report)
        self.assertRegex(report, r"43[ ,.\u00a0\u202f]?210")
        self.assertIn("RUB", report)
        self.assertNotIn(name, report)  # the claimant stays in the books
