"""A park's incident books on the platform: contributors enter incidents and disease tests
(checked by the library's table schema, audited); each reader sees the list at their level
(owner exact with claimants; partners at their agreement's level; the public withheld when
the park publishes data; nobody else); claimants never leave the park."""

from __future__ import annotations

import re

import pytest

from amurlink.core.crs import to_metric
from amurlink_web.apps.core.models import AuditLog
from amurlink_web.apps.datasets.services import dataset_set_public
from amurlink_web.apps.incidents.models import Claimant, DiseaseTest, Incident
from amurlink_web.testing import BaseTestCase

pytestmark = pytest.mark.web

LAT, LON = 43.123457, 130.987654
NAME, PHONE, ADDRESS = "Zhang Wei-Testname", "+86 139 5555 0123", "17 Hunchun Road"
COMMENT = "owner note: the fence was broken"
INCIDENT = {
    "incident_id": "CN-INC-T1", "event_start": "2024-05-03T04:30", "category": "livestock-killed",
    "scientific_name": "Panthera tigris", "individual_id": "CN-NTLNP:T042",
    "latitude": str(LAT), "longitude": str(LON), "coordinate_uncertainty": "50",
    "victim_kind": "cattle", "victim_count": "2", "outcome": "carcass found",
    "response_by": "hwc-team-cn", "response_hours": "3.5", "compensation_amount": "9000",
    "compensation_currency": "CNY", "compensation_date": "2024-06-01", "comments": COMMENT,
    "claimant_name": NAME, "claimant_phone": PHONE, "claimant_address": ADDRESS,
}
URL = "/orgs/ntlnp/incidents/"


def _on_grid(lat: float, lon: float, size_m: float) -> bool:
    x, y = to_metric([lon], [lat])
    return all(abs((v - size_m / 2) / size_m - round((v - size_m / 2) / size_m)) < 2e-3
               for v in (x[0], y[0]))


class IncidentEntryTest(BaseTestCase):
    def post(self, persona, data, url=URL + "new/"):
        return self.client_for(persona).post(url, data)

    def test_a_contributor_enters_an_incident_with_its_claimant_and_it_is_audited(self):
        response = self.post("contributor", INCIDENT)
        self.assertRedirects(response, URL, fetch_redirect_response=False)
        incident = Incident.objects.get(owner=self.cn, incident_id="CN-INC-T1")
        self.assertEqual((incident.latitude, incident.victim_count), (LAT, 2))
        claim = Claimant.objects.get(incident=incident)
        self.assertEqual((claim.name, claim.phone, claim.claim_id),
                         (NAME, PHONE, "CN-INC-T1-C"))
        entry = AuditLog.objects.filter(action="create").latest("id")
        self.assertEqual(entry.target, "incident:ntlnp:CN-INC-T1")
        self.assertEqual(entry.username, "cn-contributor")
        self.assertEqual(entry.owner_ids, [self.cn.pk])
        self.assertEqual(entry.detail["claimant"], True)
        text = str(entry.detail)
        self.assertNotIn(NAME, text)
        self.assertNotIn(PHONE, text)
        # the park's managers see the write on their audit page
        managers = self.client_for("owner").get("/audit/").content.decode()
        self.assertIn("incident:ntlnp:CN-INC-T1", managers)

    def test_an_empty_id_gets_the_next_free_one(self):
        data = {k: v for k, v in INCIDENT.items() if not k.startswith("claimant_")}
        data["incident_id"] = ""
        self.assertEqual(self.post("contributor", data).status_code, 302)
        self.assertEqual(self.post("contributor", data).status_code, 302)
        ids = sorted(Incident.objects.values_list("incident_id", flat=True))
        self.assertEqual(ids, ["CN-INC-00001", "CN-INC-00002"])
        self.assertFalse(Claimant.objects.exists())

    def test_other_conflict_species_and_species_free_incidents_are_accepted(self):
        base = {k: v for k, v in INCIDENT.items() if not k.startswith("claimant_")}
        for n, name in enumerate(("Ursus arctos", "")):
            data = {**base, "incident_id": f"CN-INC-B{n}", "scientific_name": name}
            self.assertEqual(self.post("contributor", data).status_code, 302, name)
        self.assertEqual(sorted(Incident.objects.values_list("scientific_name", flat=True)),
                         ["", "Ursus arctos"])
        bad = self.post("contributor", {**base, "scientific_name": "Felis catus"})
        self.assertEqual(bad.status_code, 400)  # not one of the offered species

    def test_a_bad_value_is_refused_with_its_field_and_nothing_is_stored(self):
        response = self.post("contributor", {**INCIDENT, "individual_id": "tiger 42"})
        self.assertEqual(response.status_code, 400)
        errors = response.context["form"].errors
        self.assertIn("individual_id", errors)
        self.assertIn("individualID", errors["individual_id"][0])
        response = self.post("contributor", {**INCIDENT, "latitude": "95"})
        self.assertEqual(response.status_code, 400)
        self.assertIn("latitude", response.context["form"].errors)
        response = self.post("contributor", {**INCIDENT, "compensation_currency": ""})
        self.assertEqual(response.status_code, 400)
        self.assertIn("compensation_currency", response.context["form"].errors)
        self.assertFalse(Incident.objects.exists() or Claimant.objects.exists())

    def test_the_same_id_twice_is_a_conflict(self):
        self.assertEqual(self.post("contributor", INCIDENT).status_code, 302)
        response = self.post("contributor", INCIDENT)
        self.assertEqual(response.status_code, 409)
        self.assertEqual(Incident.objects.count(), 1)

    def test_only_the_parks_contributors_and_managers_enter_rows(self):
        for persona, status in (("readonly", 403), ("partner", 403), ("secretariat", 403),
                                ("outsider", 404)):
            self.assertEqual(self.post(persona, INCIDENT).status_code, status, persona)
        anonymous = self.post("anonymous", INCIDENT)
        self.assertEqual(anonymous.status_code, 302)
        self.assertIn("/accounts/login/", anonymous["Location"])
        # another park's contributor may not write into this park's books
        self.assertEqual(self.post("contributor", INCIDENT, "/orgs/llnp/incidents/new/")
                         .status_code, 404)
        # a non-park organisation keeps no incident books
        self.assertEqual(self.client_for("outsider").get("/orgs/wwf/incidents/new/")
                         .status_code, 404)
        self.assertFalse(Incident.objects.exists())
        self.assertEqual(self.post("owner", INCIDENT).status_code, 302)  # a manager may

    def test_a_disease_test_is_entered_and_listed(self):
        data = {"test_id": "", "scientific_name": "Panthera pardus", "sample_type": "serum",
                "sample_date": "2024-02-01T10:00", "lab": "Harbin vet lab",
                "pathogen": "CDV", "assay": "serology (virus neutralisation)",
                "result": "positive", "latitude": str(LAT), "longitude": str(LON)}
        response = self.post("contributor", data, "/orgs/ntlnp/disease-tests/new/")
        self.assertEqual(response.status_code, 302)
        test = DiseaseTest.objects.get(owner=self.cn)
        self.assertEqual((test.test_id, test.result), ("CN-TEST-00001", "positive"))
        self.assertEqual(AuditLog.objects.filter(action="create").latest("id").target,
                         "disease-test:ntlnp:CN-TEST-00001")
        page = self.client_for("partner").get(URL).content.decode()
        self.assertIn("CN-TEST-00001", page)
        self.assertNotIn(str(LAT), page)  # a leopard's sample point: generalised
        bad = self.post("contributor", {**data, "result": "maybe"},
                        "/orgs/ntlnp/disease-tests/new/")
        self.assertEqual(bad.status_code, 400)


class IncidentListTest(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.client_class().force_login(cls.users["contributor"])
        from amurlink_web.apps.incidents.services import incident_create

        values = {k: v for k, v in INCIDENT.items() if not k.startswith("claimant_")}
        import datetime as dt

        values.update(event_start=dt.datetime(2024, 5, 3, 4, 30, tzinfo=dt.UTC),
                      latitude=LAT, longitude=LON, coordinate_uncertainty=50, victim_count=2,
                      response_hours=3.5, compensation_amount=9000.0,
                      compensation_date=dt.date(2024, 6, 1))
        incident_create(organisation=cls.cn, values=values, by=cls.users["contributor"],
                        claimant={"name": NAME, "phone": PHONE, "address": ADDRESS})
        # a snare line: no species involved
        incident_create(organisation=cls.cn, values={
            "incident_id": "CN-INC-T2", "event_start": values["event_start"],
            "category": "snare", "latitude": LAT + 0.05, "longitude": LON + 0.05},
            by=cls.users["contributor"])

    def page(self, persona):
        response = self.client_for(persona).get(URL)
        return response.status_code, response.content.decode()

    def _points(self, body):
        return [(float(a), float(b)) for a, b in re.findall(
            r"<td>(4\d\.\d+)</td><td>(1[23]\d\.\d+)</td>", body)]

    def test_the_owner_sees_the_books_as_they_are(self):
        for persona in ("readonly", "contributor", "owner"):
            status, body = self.page(persona)
            self.assertEqual(status, 200)
            self.assertIn(str(LAT), body)
            for secret in (NAME, PHONE, ADDRESS, COMMENT, "CN-INC-T1-C"):
                self.assertIn(secret, body)
        entry = AuditLog.objects.filter(action="read", target="incidents:ntlnp").latest("id")
        self.assertEqual((entry.owner_ids, entry.level, entry.agreement),
                         ([self.cn.pk], "exact", ""))

    def test_partners_see_their_agreements_level_and_never_a_claimant(self):
        for persona, size in (("partner", 1_000), ("secretariat", 10_000)):
            status, body = self.page(persona)
            self.assertEqual(status, 200)
            self.assertIn("CN-INC-T1", body)
            for secret in (NAME, PHONE, ADDRESS, COMMENT, "CN-INC-T1-C", str(LAT), str(LON)):
                self.assertNotIn(secret, body, (persona, secret))
            points = self._points(body)
            self.assertEqual(len(points), 2)
            # the tiger's point on the agreement's grid; the snare's place withheld
            on_grid = [_on_grid(*p, size) for p in points]
            self.assertEqual(sorted(on_grid), [False, True], (persona, points))
            snare = points[on_grid.index(False)]
            self.assertGreater(abs(snare[0] - LAT - 0.05) + abs(snare[1] - LON - 0.05), 0.05)
            self.assertIn("withheld", AuditLog.objects.filter(
                target="incidents:ntlnp").latest("id").level)
        entry = AuditLog.objects.filter(action="read", target="incidents:ntlnp",
                                        username="ru-reviewer").latest("id")
        self.assertEqual(entry.level, "1km/withheld")
        self.assertEqual(entry.agreement, f"#{self.agreement.pk} ntlnp->llnp 1km")
        self.assertEqual(entry.owner_ids, [self.cn.pk])

    def test_an_agreement_for_other_species_hides_the_tiger_incident(self):
        from amurlink_web.apps.sharing.services import agreement_save

        agreement_save(provider=self.cn, recipient=self.ru, level="exact",
                       species=["Capreolus pygargus"])
        _, body = self.page("partner")
        self.assertNotIn("CN-INC-T1", body)
        self.assertIn("CN-INC-T2", body)  # a snare involves no species: it stays

    def test_the_public_sees_withheld_points_only_when_the_park_publishes(self):
        for persona in ("outsider", "anonymous"):
            self.assertEqual(self.page(persona)[0], 404)
        dataset_set_public(dataset=self.dataset, is_public=True)
        for persona in ("outsider", "anonymous"):
            status, body = self.page(persona)
            self.assertEqual(status, 200)
            for secret in (NAME, PHONE, COMMENT, "CN-INC-T1-C", str(LAT)):
                self.assertNotIn(secret, body)
            tiger = self._points(body)[0]
            self.assertFalse(_on_grid(*tiger, 1_000) and abs(tiger[0] - LAT) < 0.01)
        entry = AuditLog.objects.filter(action="read", target="incidents:ntlnp").latest("id")
        self.assertIn("withheld", entry.level)

    def test_an_agreement_naming_patrol_findings_places_the_snare_at_its_level(self):
        from amurlink_web.apps.sharing.services import agreement_save

        agreement_save(provider=self.cn, recipient=self.ru, level="1km",
                       tables=["observations", "incidents", "patrolFindings"])
        _, body = self.page("partner")
        points = self._points(body)
        self.assertEqual(len(points), 2)
        self.assertTrue(all(_on_grid(*p, 1_000) for p in points), points)
        entry = AuditLog.objects.filter(target="incidents:ntlnp").latest("id")
        self.assertEqual(entry.level, "1km")


    def test_an_agreement_naming_tables_without_incidents_shares_no_incident(self):
        # the books are extension tables of the package: an agreement that names its tables
        # shares incidents only when it names them
        from amurlink_web.apps.sharing.services import agreement_save

        agreement_save(provider=self.cn, recipient=self.ru, level="1km",
                       tables=["observations", "patrolFindings"])
        _, body = self.page("partner")
        self.assertEqual(self._points(body), [])


class IncidentLinkTest(BaseTestCase):
    def test_a_parks_dataset_page_links_to_its_incidents_for_those_who_may_read_them(self):
        for persona in ("owner", "partner", "readonly"):
            page = self.client_for(persona).get(f"/datasets/{self.dataset.pk}/")
            self.assertContains(page, 'href="/orgs/ntlnp/incidents/"')
            self.assertEqual(self.client_for(persona).get(URL).status_code, 200)


class DemoBooksTest(BaseTestCase):
    def test_the_demo_sites_books_are_the_simulators_entered_through_the_services(self):
        from amurlink.simulate import simulate_study
        from amurlink.simulate._incidents import IncidentRates, simulate_incidents
        from amurlink_web.apps.incidents.demo import DEMO_RATES, DEMO_SEED, demo_books_create

        n = demo_books_create({"CN": self.cn, "RU": self.ru})
        sim = simulate_incidents(simulate_study("small", seed=DEMO_SEED, images="none"),
                                 rates=IncidentRates(**DEMO_RATES))
        cn = sim.tables["CN"]
        self.assertEqual(n, sum(len(t["incidents"]) + len(t["diseaseTests"])
                                for t in sim.tables.values()))
        self.assertEqual(sorted(Incident.objects.filter(owner=self.cn)
                                .values_list("incident_id", flat=True)),
                         sorted(cn["incidents"]["incidentID"]))
        self.assertEqual(Claimant.objects.filter(incident__owner=self.cn).count(),
                         len(cn["claimants"]))
        self.assertEqual(demo_books_create({"CN": self.cn, "RU": self.ru}), 0)  # once only
        owner = self.client_for("owner").get(URL).content.decode()
        partner = self.client_for("partner").get(URL).content.decode()
        names = list(cn["claimants"]["claimantName"])
        self.assertTrue(names and all(name in owner for name in names))
        self.assertFalse(any(name in partner for name in names))
        self.assertIn(cn["incidents"]["incidentID"].iloc[0], partner)


class IncidentLanguagesTest(BaseTestCase):
    def test_the_pages_speak_chinese_and_russian(self):
        from amurlink_web.apps.organisations.services import profile_set_language

        for lang, words in (("zh-hans", ("事件", "新增事件", "申请人姓名")),
                            ("ru", ("Инциденты", "Новый инцидент", "Имя заявителя"))):
            profile_set_language(user=self.users["contributor"], language=lang)
            client = self.client_for("contributor")
            page = client.get(URL).content.decode() + client.get(URL + "new/").content.decode()
            for word in words:
                self.assertIn(word, page, (lang, word))
