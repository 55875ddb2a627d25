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

    def members(self) -> set[str]:
        return {r["members"] for r in LinkStore(joint_package_path()).identities()
                .to_dict("records")}

    def review(self, persona: str, event: str, decision: str, reason: str = "") -> int:
        return self.client_for(persona).post(
            f"/identities/links/{event}/review/",
            {"decision": decision, "reason": reason}).status_code

    def test_it_requires_write_access(self):
        expected = {"readonly": 403, "secretariat": 403, "outsider": 404, "anonymous": 302,
                    "owner": 302}
        for persona, status in expected.items():
            with self.subTest(persona=persona):
                response = self.client_for(persona).post(
                    f"/identities/links/{self.good}/review/", {"decision": "accept"})
                self.assertEqual(response.status_code, status)
        # the Chinese manager's acceptance alone confirms nothing: it awaits the partner
        self.assertNotIn("CN-NTLNP:L01 = RU-LLNP:L-7", self.members())
        self.assertEqual(self.review("partner", self.good, "accept"), 302)
        self.assertIn("CN-NTLNP:L01 = RU-LLNP:L-7", self.members())
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
        # one side: awaiting the partner, on the pages and in the API
        self.assertNotIn("CN-NTLNP:L01 = RU-LLNP:L-7", self.members())
        waiting = client.get("/api/links/?status=proposed").json()["results"]
        event = next(x for x in waiting if x["subjectB"] == "RU-LLNP:L-7")
        self.assertEqual((event["awaiting"], event["acceptedBy"]), ("CN", "RU"))
        self.assertEqual(event["reviewer"], "ru-reviewer (llnp) [RU]")
        page = client.get("/identities/links/").content.decode()
        self.assertIn("awaiting the partner (CN)", page)
        # the other side accepts through the API: confirmed, the identities join
        answer = self.client_for("cn_reviewer").post(
            f"/api/links/{self.good}/review/", {"decision": "accept"},
            content_type="application/json").json()["event"]
        self.assertEqual((answer["pairStatus"], answer["awaiting"]), ("confirmed", None))
        ids = self.client_for("owner").get("/api/identities/").json()["results"]
        self.assertIn("CN-NTLNP:L01 = RU-LLNP:L-7", {r["members"] for r in ids})
        links = client.get("/api/links/?status=confirmed").json()["results"]
        event = next(x for x in links if x["subjectB"] == "RU-LLNP:L-7")
        self.assertEqual(event["acceptedBy"], "CN RU")
        response = self.client_for("cn_reviewer").post(
            f"/api/links/{event['linkEventID']}/review/",
            {"decision": "reject", "reason": "different spot pattern"},
            content_type="application/json")
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("CN-NTLNP:L01 = RU-LLNP:L-7", self.members())
        history = client.get("/identities/history/CN-NTLNP:L01/").content.decode()
        self.assertIn("merge", history)
        self.assertIn("split", history)
        self.assertIn("different spot pattern", history)
        # both acceptances are in the history, each with its side
        self.assertIn("ru-reviewer (llnp) [RU]", history)
        self.assertIn("cn-reviewer (ntlnp) [CN]", history)
        self.assertIn("awaiting the partner", history)

    def test_one_side_twice_never_confirms_and_either_side_rejects(self):
        self.assertEqual(self.review("cn_reviewer", self.good, "accept"), 302)
        self.assertEqual(self.review("owner", self.good, "accept"), 302)  # CN again
        self.assertNotIn("CN-NTLNP:L01 = RU-LLNP:L-7", self.members())
        self.assertEqual(self.review("partner", self.good, "reject", "not the same"), 302)
        cur = LinkStore(joint_package_path()).current().set_index("subjectB")
        self.assertEqual(cur.loc["RU-LLNP:L-7", "status"], "rejected")
        # the acceptances before the rejection no longer count
        self.assertEqual(self.review("partner", self.good, "accept", "new photos"), 302)
        cur = LinkStore(joint_package_path()).current().set_index("subjectB")
        self.assertEqual(cur.loc["RU-LLNP:L-7", "awaiting"], "CN")

    def test_the_study_can_let_one_reviewer_confirm(self):
        import tempfile
        from pathlib import Path

        from django.test import override_settings

        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "amurlink.toml"
            config.write_text("[links]\ntwo_party = false\n", encoding="utf-8")
            with override_settings(STUDY_CONFIG=str(config)):
                self.assertEqual(self.review("partner", self.good, "accept"), 302)
                ids = self.client_for("owner").get("/api/identities/").json()["results"]
        self.assertIn("CN-NTLNP:L01 = RU-LLNP:L-7", {r["members"] for r in ids})

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
