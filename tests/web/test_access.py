"""Every dataset view and endpoint, six personas: 404 for what they cannot see, 403 for roles."""

from __future__ import annotations

import pytest

from amurlink.core.protection import Audience, protect_dataset
from amurlink.io import read_camtrap_dp
from amurlink_web.apps.core.models import AuditLog
from amurlink_web.apps.datasets.selectors import package_path
from amurlink_web.testing import BaseTestCase

pytestmark = pytest.mark.web

SEE = {"owner": 200, "partner": 200, "secretariat": 200, "readonly": 200, "outsider": 404,
       "anonymous": 404}


class DatasetPagesTest(BaseTestCase):
    def urls(self):
        pk = self.dataset.pk
        return [f"/datasets/{pk}/", f"/datasets/{pk}/download/", f"/api/datasets/{pk}/",
                f"/api/datasets/{pk}/deployments/", f"/api/datasets/{pk}/observations/",
                f"/api/datasets/{pk}/media/"]

    def test_it_checks_access(self):
        for persona, status in SEE.items():
            client = self.client_for(persona)
            for url in self.urls():
                with self.subTest(persona=persona, url=url):
                    self.assertEqual(client.get(url).status_code, status)

    def test_unknown_dataset_is_404_for_everyone(self):
        for persona in SEE:
            self.assertEqual(self.client_for(persona).get("/datasets/999999/").status_code, 404)
            self.assertEqual(
                self.client_for(persona).get("/api/datasets/999999/").status_code, 404)

    def test_dataset_list_shows_only_visible(self):
        for persona, status in SEE.items():
            body = self.client_for(persona).get("/api/datasets/").json()
            ids = [r["id"] for r in body["results"]]
            self.assertEqual(self.dataset.pk in ids, status == 200, persona)

    def test_it_requires_write_access(self):
        url = f"/datasets/{self.dataset.pk}/visibility/"
        expected = {"owner": 302, "partner": 403, "secretariat": 403, "readonly": 403,
                    "outsider": 404, "anonymous": 404}
        for persona, status in expected.items():
            with self.subTest(persona=persona):
                response = self.client_for(persona).post(url, {"is_public": "0"})
                self.assertEqual(response.status_code, status)

    def test_it_obfuscates_for_partner(self):
        exact = read_camtrap_dp(package_path(self.dataset)).deployments
        shown = self.client_for("partner").get(
            f"/api/datasets/{self.dataset.pk}/deployments/").json()
        self.assertEqual(shown["locationLevel"], "1km")
        want = protect_dataset(read_camtrap_dp(package_path(self.dataset)),
                               audience=Audience.partner(level="1km",
                                                         species_levels={})).deployments
        for row, lat, w in zip(shown["results"], exact["latitude"], want["latitude"],
                               strict=True):
            self.assertNotEqual(row["latitude"], lat)
            self.assertAlmostEqual(row["latitude"], w, places=6)
            self.assertGreaterEqual(row["coordinateUncertainty"], 708)

    def test_owner_sees_exact(self):
        exact = read_camtrap_dp(package_path(self.dataset)).deployments
        shown = self.client_for("owner").get(
            f"/api/datasets/{self.dataset.pk}/deployments/").json()["results"]
        self.assertEqual([r["latitude"] for r in shown], exact["latitude"].tolist())

    def test_public_dataset_is_withheld_for_anonymous(self):
        self.client_for("owner").post(f"/datasets/{self.dataset.pk}/visibility/",
                                      {"is_public": "1"})
        client = self.client_for("anonymous")
        rows = client.get(f"/api/datasets/{self.dataset.pk}/deployments/").json()["results"]
        self.assertEqual(len({(r["latitude"], r["longitude"]) for r in rows}), 1)
        self.assertTrue(all(r["locationName"] is None for r in rows))
        self.assertEqual(client.get("/public/").status_code, 200)
        outsider = self.client_for("outsider").get(f"/api/datasets/{self.dataset.pk}/").json()
        self.assertEqual(outsider["access"], "public")

    def test_people_images_only_for_owner(self):
        for persona in ("owner", "readonly", "partner", "secretariat"):
            client = self.client_for(persona)
            media = client.get(f"/api/datasets/{self.dataset.pk}/media/").json()["results"]
            page = client.get(f"/datasets/{self.dataset.pk}/").content.decode()
            owner_side = persona in ("owner", "readonly")
            self.assertEqual(any(m["mediaID"] == "m-person" for m in media), owner_side)
            self.assertEqual("person.jpg" in page, owner_side, persona)

    def test_reads_are_audited(self):
        before = AuditLog.objects.filter(action="read").count()
        self.client_for("partner").get(f"/datasets/{self.dataset.pk}/")
        entry = AuditLog.objects.filter(action="read").latest("id")
        self.assertEqual(AuditLog.objects.filter(action="read").count(), before + 1)
        self.assertEqual(entry.username, "ru-reviewer")
        self.assertEqual(entry.target, f"dataset:{self.dataset.pk}")


class OrganisationPagesTest(BaseTestCase):
    def test_upload_page_access(self):
        expected = {"owner": 200, "contributor": 200, "readonly": 403, "partner": 404,
                    "secretariat": 404, "outsider": 404}
        for persona, status in expected.items():
            with self.subTest(persona=persona):
                self.assertEqual(self.client_for(persona).get("/orgs/ntlnp/upload/").status_code,
                                 status)
        self.assertEqual(self.client_for("anonymous").get("/orgs/ntlnp/upload/").status_code, 302)

    def test_agreement_pages(self):
        expected = {"owner": 200, "contributor": 403, "readonly": 403, "partner": 404,
                    "outsider": 404}
        for persona, status in expected.items():
            with self.subTest(persona=persona):
                got = self.client_for(persona).get("/orgs/ntlnp/sharing/new/").status_code
                self.assertEqual(got, status)
        detail = f"/sharing/{self.agreement.pk}/"
        for persona, status in {"owner": 200, "partner": 200, "readonly": 200,
                                "secretariat": 404, "outsider": 404}.items():
            with self.subTest(persona=persona, url=detail):
                self.assertEqual(self.client_for(persona).get(detail).status_code, status)

    def test_manager_creates_agreement(self):
        response = self.client_for("owner").post("/orgs/ntlnp/sharing/new/", {
            "recipient": self.wwf.pk, "level": "10km", "species": "Panthera tigris",
            "tables": ["deployments", "observations"], "active": "on"})
        self.assertEqual(response.status_code, 302)
        body = self.client_for("outsider").get(f"/api/datasets/{self.dataset.pk}/").json()
        self.assertEqual((body["access"], body["locationLevel"]), ("partner", "10km"))
        media = self.client_for("outsider").get(
            f"/api/datasets/{self.dataset.pk}/media/").json()["results"]
        self.assertEqual(media, [])  # media is not among the agreed tables

    def test_pages_render(self):
        for persona in ("owner", "partner", "secretariat", "readonly", "outsider", "anonymous"):
            client = self.client_for(persona)
            for url in ("/", "/public/", "/datasets/", "/api/", "/api/openapi.json"):
                with self.subTest(persona=persona, url=url):
                    self.assertEqual(client.get(url).status_code, 200)
        for url in ("/account/", "/sharing/"):
            self.assertEqual(self.client_for("anonymous").get(url).status_code, 302)
            self.assertEqual(self.client_for("outsider").get(url).status_code, 200)

    def test_audit_page_is_for_managers(self):
        self.assertEqual(self.client_for("owner").get("/audit/").status_code, 200)
        self.assertEqual(self.client_for("readonly").get("/audit/").status_code, 403)
