"""The API upload answers malformed input with HTTP 400 and the upload report (issue 14,
deliverable 6), like the upload page; before, it answered 422."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from amurlink_web.apps.datasets.models import Upload
from amurlink_web.testing import BaseTestCase, cn_zip_bytes

pytestmark = pytest.mark.web

MAPPING = """
[source]
country = "RU"
catalogue = "RU-LLNP"
crs = "EPSG:32652"
timezone = "Asia/Vladivostok"

[tables.stations]
file = "st.csv"
datetime_format = "%d.%m.%Y"
columns = { deploymentID = "S", x = "X", y = "Y", deploymentStart = "A", deploymentEnd = "B" }

[tables.records]
file = "rec.csv"
columns = { deploymentID = "S", timestamp = "T", scientificName = "Sp" }
"""
STATIONS = "S,X,Y,A,B\nS1,500000,4800000,01.09.2014,01.12.2014\n"


def _zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in files.items():
            zf.writestr(name, body)
    return buf.getvalue()


class ApiUploadReportTest(BaseTestCase):
    def post(self, persona: str, org: str, name: str, data: bytes, kind: str = "camtrap-dp"):
        return self.client_for(persona).post(
            f"/api/datasets/?organisation={org}",
            {"kind": kind, "package": SimpleUploadedFile(name, data)})

    def assert_report(self, r, *, code: str) -> dict:
        self.assertEqual(r.status_code, 400, r.content[:500])
        body = r.json()
        upload = Upload.objects.get(pk=body["upload"])
        self.assertEqual((body["status"], upload.status), ("rejected", "rejected"))
        self.assertEqual(body["issues"], upload.issues)
        self.assertIn(code, [i["code"] for i in body["issues"]])
        self.assertTrue(body["error"].startswith("upload rejected:"))
        self.assertEqual(body["report"], f"/uploads/{upload.pk}/")
        page = self.client_for("owner" if upload.owner.slug == "ntlnp" else "partner"
                               ).get(body["report"])
        self.assertEqual(page.status_code, 200)
        return body

    def test_a_broken_archive_is_400_with_the_report(self):
        data = cn_zip_bytes()
        r = self.post("owner", "ntlnp", "broken.zip", data[: len(data) // 2])
        body = self.assert_report(r, code=r.json()["issues"][0]["code"])
        self.assertTrue(all(i["message"] for i in body["issues"]))

    def test_a_bad_mapped_row_is_400_naming_file_row_and_field(self):
        records = "S,T,Sp\nS1,2014-09-05 10:00:00,Тигр\nS9,not a time,Тигр\n"
        r = self.post("partner", "llnp", "ru.zip", _zip(
            {"m.mapping.toml": MAPPING, "st.csv": STATIONS, "rec.csv": records}), "mapping")
        body = self.assert_report(r, code="foreign-key")
        bad = next(i for i in body["issues"] if i["code"] == "foreign-key")
        self.assertEqual((bad["file"], bad["row"], bad["field"]), ("rec.csv", 3, "S"))

    def test_a_good_upload_is_still_201_and_the_schema_describes_both(self):
        records = "S,T,Sp\nS1,2014-09-05 10:00:00,Тигр\n"
        r = self.post("partner", "llnp", "ru.zip", _zip(
            {"m.mapping.toml": MAPPING, "st.csv": STATIONS, "rec.csv": records}), "mapping")
        self.assertEqual((r.status_code, r.json()["status"]), (201, "imported"), r.content)
        self.assertNotIn("error", r.json())
        schema = self.client_for("anonymous").get("/api/openapi.json").json()
        responses = schema["paths"]["/api/datasets/"]["post"]["responses"]
        self.assertNotIn("422", responses)
        refs = [s["$ref"] for s in
                responses["400"]["content"]["application/json"]["schema"]["oneOf"]]
        self.assertIn("#/components/schemas/UploadReport", refs)
        report = schema["components"]["schemas"]["UploadReport"]
        self.assertLessEqual(set(report["required"]), set(r.json()))
        self.assertLessEqual({"file", "row", "field"},
                             set(report["properties"]["issues"]["items"]["properties"]))

    def test_every_reference_in_the_schema_resolves(self):
        schema = self.client_for("anonymous").get("/api/openapi.json").json()

        def refs(node):
            if isinstance(node, dict):
                if "$ref" in node:
                    yield node["$ref"]
                for v in node.values():
                    yield from refs(v)
            elif isinstance(node, list):
                for v in node:
                    yield from refs(v)

        found = set(refs(schema))
        self.assertIn("#/components/schemas/UploadReport", found)
        for ref in found:
            node = schema
            for part in ref.removeprefix("#/").split("/"):
                node = node[part]  # KeyError: a dangling reference
            self.assertIsInstance(node, dict, ref)
