"""Identity review through the library's LinkStore: personas, conflicts, history."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from amurlink.datasets import load_example
from amurlink.identify import LinkStore
from amurlink.io import write_camtrap_dp
from amurlink_web.apps.identities.selectors import CachedLinkStore, joint_package_path
from amurlink_web.testing import BaseTestCase

pytestmark = pytest.mark.web

SEE = {"owner": 200, "partner": 200, "secretariat": 200, "readonly": 200, "outsider": 404}


class IdentityReviewTest(BaseTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.template = joint_package_path().with_name("joint-template")
        shutil.rmtree(cls.template, ignore_errors=True)
        write_camtrap_dp(load_example(), cls.template)
        LinkStore(cls.template).propose(pd.DataFrame({
            "subjectA": ["CN-NTLNP:L01", "CN-NTLNP:L01"],
            "subjectB": ["RU-LLNP:L-7", "RU-LLNP:T-1"], "score": [0.8, 0.7],
            "evidence": ['{"inliers": 23}', '{"inliers": 9}']}), method="photo", by="matcher")

    def setUp(self):
        path = joint_package_path()
        shutil.rmtree(path, ignore_errors=True)
        shutil.copytree(self.template, path)  # copy2 keeps mtimes: the cached read is reused
        current = CachedLinkStore(path).current(status="proposed") \
            .set_index("subjectB")["linkEventID"]
        self.good = current["RU-LLNP:L-7"]
        self.bad = current["RU-LLNP:T-1"]  # a leopard and a tiger: never one animal

    def test_it_checks_access(self):
        for persona, status in SEE.items():
            client = self.client_for(persona)
            for url in ("/identities/", "/identities/links/", f"/identities/links/{self.good}/",
                        "/identities/history/CN-NTLNP:T01/", "/api/identities/", "/api/links/"):
                with self.subTest(persona=persona, url=url):
                    self.assertEqual(client.get(url).status_code, status)
        anonymous = self.client_for("anonymous")
        self.assertEqual(anonymous.get("/identities/").status_code, 302)
        self.assertEqual(anonymous.get("/api/identities/").status_code, 401)

    def test_it_requires_write_access(self):
        expected = {"readonly": 403, "secretariat": 403, "outsider": 404, "anonymous": 302,
                    "owner": 302}
        for persona, status in expected.items():
            with self.subTest(persona=persona):
                response = self.client_for(persona).post(
                    f"/identities/links/{self.good}/review/", {"decision": "accept"})
                self.assertEqual(response.status_code, status)
        self.assertIn("CN-NTLNP:L01 = RU-LLNP:L-7",
                      {r["members"] for r in LinkStore(joint_package_path()).identities()
                       .to_dict("records")})
        for persona in ("partner", "cn_reviewer"):  # reviewers of either country
            with self.subTest(persona=persona):
                self.setUp()
                response = self.client_for(persona).post(
                    f"/identities/links/{self.bad}/review/",
                    {"decision": "reject", "reason": "tiger and leopard"})
                self.assertEqual(response.status_code, 302)

    def test_accept_reject_kept_with_who_when_why(self):
        client = self.client_for("partner")
        client.post(f"/identities/links/{self.good}/review/",
                    {"decision": "accept", "reason": "same rosettes"})
        ids = self.client_for("owner").get("/api/identities/").json()["results"]
        members = {r["members"] for r in ids}
        self.assertIn("CN-NTLNP:L01 = RU-LLNP:L-7", members)
        links = client.get("/api/links/?status=confirmed").json()["results"]
        event = next(x for x in links if x["subjectB"] == "RU-LLNP:L-7")
        self.assertEqual(event["reviewer"], "ru-reviewer (llnp)")
        response = self.client_for("cn_reviewer").post(
            f"/api/links/{event['linkEventID']}/review/",
            {"decision": "reject", "reason": "different spot pattern"},
            content_type="application/json")
        self.assertEqual(response.status_code, 200)
        history = client.get("/identities/history/CN-NTLNP:L01/").content.decode()
        self.assertIn("merge", history)
        self.assertIn("split", history)
        self.assertIn("different spot pattern", history)
        self.assertIn("cn-reviewer (ntlnp)", history)

    def test_conflict_checks_apply(self):
        response = self.client_for("partner").post(
            f"/api/links/{self.bad}/review/", {"decision": "accept"},
            content_type="application/json")
        self.assertEqual(response.status_code, 409)
        page = self.client_for("partner").post(f"/identities/links/{self.bad}/review/",
                                               {"decision": "accept"})
        self.assertEqual(page.status_code, 409)

    def test_reject_needs_reason(self):
        response = self.client_for("partner").post(
            f"/api/links/{self.good}/review/", {"decision": "reject"},
            content_type="application/json")
        self.assertEqual(response.status_code, 400)
