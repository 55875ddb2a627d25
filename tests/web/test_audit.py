"""Audit: every read of locations (level served, agreement used), download, link view and
decision is logged, and a park's managers see every read of their park's data, whoever made it.

Personas as on the demo site: cn-manager, cn-reviewer, cn-viewer (China's park), ru-reviewer,
ru-manager (Russia's park), sec-viewer and secretariat-manager (the secretariat), outsider
(manager of an organisation without agreements) and the public (not signed in).
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from amurlink.datasets import load_example
from amurlink.identify import LinkStore
from amurlink.io import write_camtrap_dp
from amurlink_web.apps.api.auth import token_create
from amurlink_web.apps.core.models import AuditLog
from amurlink_web.apps.datasets.services import dataset_set_public
from amurlink_web.apps.identities.selectors import CachedLinkStore, joint_package_path
from amurlink_web.apps.organisations.models import Role
from amurlink_web.apps.organisations.services import user_create
from amurlink_web.testing import PASSWORD, BaseTestCase

pytestmark = pytest.mark.web


class AuditPersonas(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.users["ru_manager"] = user_create(username="ru-manager", password=PASSWORD,
                                              organisation=cls.ru, role=Role.MANAGER)
        cls.users["sec_manager"] = user_create(username="secretariat-manager",
                                               password=PASSWORD, organisation=cls.sec,
                                               role=Role.MANAGER)

    def last(self, **filters) -> AuditLog:
        return AuditLog.objects.filter(**filters).latest("id")

    def audit_page(self, persona: str) -> list[AuditLog]:
        response = self.client_for(persona).get("/audit/")
        self.assertEqual(response.status_code, 200)
        return list(response.context["entries"])


class DatasetReadAuditTest(AuditPersonas):
    def test_a_partners_read_names_owner_level_and_agreement(self):
        url = f"/datasets/{self.dataset.pk}/"
        self.assertEqual(self.client_for("partner").get(url).status_code, 200)
        entry = self.last(action="read", target=f"dataset:{self.dataset.pk}")
        self.assertEqual(entry.username, "ru-reviewer")
        self.assertEqual(entry.owner_ids, [self.cn.pk])
        # the toy's stations are all seen by tigers (sensitive): 1 km for this partner
        self.assertEqual(entry.level, "1km")
        self.assertEqual(entry.agreement, f"#{self.agreement.pk} ntlnp->llnp 1km")

    def test_the_owners_read_is_exact_without_agreement(self):
        self.client_for("readonly").get(f"/datasets/{self.dataset.pk}/")
        entry = self.last(action="read", target=f"dataset:{self.dataset.pk}")
        self.assertEqual((entry.username, entry.level, entry.agreement), ("cn-viewer", "exact", ""))

    def test_api_reads_and_downloads_are_logged(self):
        _, key = token_create(user=self.users["partner"], name="script")
        r = self.client_for("anonymous").get(f"/api/datasets/{self.dataset.pk}/deployments/",
                                             HTTP_AUTHORIZATION=f"Token {key}")
        self.assertEqual(r.status_code, 200)
        entry = self.last(action="read", target__startswith=f"dataset:{self.dataset.pk}")
        self.assertEqual((entry.via, entry.username, entry.level), ("api", "ru-reviewer", "1km"))
        self.assertIn("ntlnp->llnp", entry.agreement)
        r = self.client_for("secretariat").get(f"/datasets/{self.dataset.pk}/download/")
        self.assertEqual(r.status_code, 200)
        entry = self.last(action="export", target=f"dataset:{self.dataset.pk}")
        self.assertEqual(entry.username, "sec-viewer")
        self.assertEqual(entry.owner_ids, [self.cn.pk])
        self.assertEqual(entry.level, "10km")
        self.assertIn("ntlnp->secretariat 10km", entry.agreement)

    def test_the_publics_reads_are_logged(self):
        dataset_set_public(dataset=self.dataset, is_public=True, by=self.users["owner"])
        self.assertEqual(self.client_for("anonymous").get(
            f"/datasets/{self.dataset.pk}/").status_code, 200)
        entry = self.last(action="read", target=f"dataset:{self.dataset.pk}")
        self.assertIsNone(entry.user)
        self.assertEqual((entry.owner_ids, entry.level, entry.agreement),
                         ([self.cn.pk], "withheld", ""))

    def test_a_parks_managers_see_every_read_of_its_data_whoever_made_it(self):
        dataset_set_public(dataset=self.dataset, is_public=True, by=self.users["owner"])
        for persona in ("partner", "secretariat", "anonymous"):
            self.client_for(persona).get(f"/datasets/{self.dataset.pk}/")
        reads = AuditLog.objects.filter(action="read", target=f"dataset:{self.dataset.pk}")
        by = {e.username: e.pk for e in reads}
        self.assertEqual(set(by), {"ru-reviewer", "sec-viewer", ""})
        # China's manager: every one of them, though none is a member of China's park
        seen = {e.pk for e in self.audit_page("owner")}
        self.assertTrue(set(by.values()) <= seen)
        # Russia's manager: their own reviewer's read, not the others' reads of China's data
        seen = {e.pk for e in self.audit_page("ru_manager")}
        self.assertIn(by["ru-reviewer"], seen)
        self.assertNotIn(by["sec-viewer"], seen)
        self.assertNotIn(by[""], seen)
        # the secretariat's manager: their viewer's read only
        seen = {e.pk for e in self.audit_page("sec_manager")}
        self.assertEqual(seen & set(by.values()), {by["sec-viewer"]})
        # a manager of an organisation without agreements sees none of it
        self.assertFalse({e.pk for e in self.audit_page("outsider")} & set(by.values()))
        # the page shows the level and the agreement
        html = self.client_for("owner").get("/audit/").content.decode()
        self.assertIn(f"#{self.agreement.pk} ntlnp-&gt;llnp 1km", html)
        # levels in the reader's words (the partner's read: 1 km)
        from amurlink_web.apps.organisations.services import profile_set_language

        profile_set_language(user=self.users["owner"], language="zh-hans")
        html = self.client_for("owner").get("/audit/").content.decode()
        self.assertIn("<td>1 公里</td>", html)
        self.assertNotIn("<td>1km</td>", html)
        # targets in words too, the code kept in the cell's title
        self.assertIn(f'title="dataset:{self.dataset.pk}">数据集: {self.dataset.pk}</td>', html)
        self.assertNotIn(f">dataset:{self.dataset.pk}<", html)

    def test_only_managers_open_the_audit_view(self):
        for persona in ("readonly", "cn_reviewer", "partner", "secretariat"):
            with self.subTest(persona=persona):
                self.assertEqual(self.client_for(persona).get("/audit/").status_code, 403)
        self.assertEqual(self.client_for("anonymous").get("/audit/").status_code, 302)


class LinkAuditTest(AuditPersonas):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.template = joint_package_path().with_name("joint-audit-template")
        shutil.rmtree(cls.template, ignore_errors=True)
        write_camtrap_dp(load_example(), cls.template)
        LinkStore(cls.template).propose(pd.DataFrame({
            "subjectA": ["CN-NTLNP:L01"], "subjectB": ["RU-LLNP:L-7"], "score": [0.8]}),
            method="photo", by="matcher")

    def setUp(self):
        path = joint_package_path()
        shutil.rmtree(path, ignore_errors=True)
        shutil.copytree(self.template, path)
        current = CachedLinkStore(path).current(status="proposed").set_index("subjectB")
        self.event = current.loc["RU-LLNP:L-7", "linkEventID"]

    def test_link_views_and_decisions_are_logged_for_both_parks(self):
        client = self.client_for("partner")
        for url in ("/identities/links/", f"/identities/links/{self.event}/",
                    "/identities/history/CN-NTLNP:L01/", "/identities/"):
            self.assertEqual(client.get(url).status_code, 200)
        self.assertEqual(client.post(f"/identities/links/{self.event}/review/",
                                     {"decision": "accept"}).status_code, 302)
        self.assertEqual(client.get("/api/links/").status_code, 200)  # the API list too
        mine = AuditLog.objects.filter(user=self.users["partner"]).order_by("id")
        targets = [(e.action, e.target) for e in mine]
        for expected in (("read", "links:proposed"), ("read", "links:all"),
                         ("read", f"link:{self.event}"),
                         ("read", "history:CN-NTLNP:L01"), ("read", "joint-catalogue"),
                         ("review", f"link:{self.event}")):
            self.assertIn(expected, targets)
        decision = mine.filter(action="review").get()
        self.assertEqual(decision.detail["side"], "RU")
        self.assertEqual((decision.detail["pairStatus"], decision.detail["awaiting"]),
                         ("proposed", "CN"))
        # the joint package is both parks' data: each park's manager sees these entries
        self.assertEqual(sorted(decision.owner_ids), sorted([self.cn.pk, self.ru.pk]))
        ids = {e.pk for e in mine}
        self.assertTrue(ids <= {e.pk for e in self.audit_page("owner")})
        self.assertTrue(ids <= {e.pk for e in self.audit_page("ru_manager")})

    def test_the_joint_maps_reads_name_levels_and_agreements(self):
        self.assertEqual(self.client_for("partner").get("/map/").status_code, 200)
        entry = self.last(action="read", target="map:joint")
        # Russia's park sees its own stations exactly and China's through China's agreement
        self.assertEqual(entry.level, "exact/1km")
        self.assertEqual(entry.agreement, f"#{self.agreement.pk} ntlnp->llnp 1km")
        self.assertEqual(sorted(entry.owner_ids), sorted([self.cn.pk, self.ru.pk]))
        self.client_for("secretariat").get("/map/")
        entry = self.last(action="read", target="map:joint")
        self.assertEqual((entry.username, entry.level), ("sec-viewer", "withheld"))
        self.assertIn(entry.pk, {e.pk for e in self.audit_page("ru_manager")})

    def test_a_refused_decision_is_logged_too(self):
        store = CachedLinkStore(joint_package_path())
        store.propose(pd.DataFrame({"subjectA": ["CN-NTLNP:L01"], "subjectB": ["RU-LLNP:T-1"]}),
                      method="photo", by="matcher")
        bad = store.current(status="proposed").set_index("subjectB").loc[
            "RU-LLNP:T-1", "linkEventID"]
        r = self.client_for("cn_reviewer").post(f"/identities/links/{bad}/review/",
                                                {"decision": "accept"})
        self.assertEqual(r.status_code, 409)
        entry = self.last(action="review", target=f"link:{bad}")
        self.assertEqual(entry.detail["side"], "CN")
        self.assertIn("cannot confirm", entry.detail["refused"])


def test_audit_targets_in_words():
    from django.utils import translation

    from amurlink_web.apps.core.templatetags.vocabulary import audit_target

    with translation.override("en"):
        assert audit_target("dataset:3:deployments") == "Dataset: 3 · deployments"
        assert audit_target("media:browser") == "Photo: Photo browser"
        assert audit_target("link:L-1:match:left") == "Link: L-1 · Match picture · Left flank"
        assert audit_target("links:proposed") == "Links: proposed"
        assert audit_target("home:answer") == "Home"
        assert audit_target("something:else") == "something:else"  # unknown: as it is
    with translation.override("ru"):
        assert audit_target("joint-catalogue:individual:J-1") == \
            f"{translation.gettext('Joint catalogue')}: {translation.gettext('Individual')} · J-1"
        assert audit_target("dataset:3") == "Набор данных: 3"
