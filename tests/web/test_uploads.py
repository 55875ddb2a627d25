"""Data in: atomic, idempotent, validated, streamed; hostile archives refused."""

from __future__ import annotations

import zipfile
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from amurlink_web.apps.core.services import ApplicationError
from amurlink_web.apps.datasets.models import Dataset, Upload
from amurlink_web.apps.datasets.services import upload_receive
from amurlink_web.testing import BaseTestCase, cn_zip_bytes, upload, zip_of

pytestmark = pytest.mark.web


def _files(data: bytes) -> dict[str, bytes]:
    import io

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


class UploadTest(BaseTestCase):
    def post(self, persona: str, data: bytes, name: str = "pkg.zip"):
        return self.client_for(persona).post(
            "/orgs/ntlnp/upload/", {"package": SimpleUploadedFile(name, data)})

    def test_same_package_twice_adds_nothing(self):
        n = Dataset.objects.count()
        response = self.post("contributor", cn_zip_bytes())
        self.assertEqual(response.status_code, 302)
        latest = Upload.objects.latest("id")
        self.assertEqual(latest.status, "duplicate")
        self.assertEqual(latest.dataset, self.dataset)
        self.assertEqual(Dataset.objects.count(), n)

    def test_new_package_is_imported_and_report_shown(self):
        response = self.post("contributor", cn_zip_bytes(with_person=False))
        latest = Upload.objects.latest("id")
        self.assertEqual(latest.status, "imported")
        page = self.client_for("contributor").get(response.url)
        self.assertContains(page, "imported")
        self.assertEqual(self.client_for("outsider").get(response.url).status_code, 404)

    def test_invalid_package_shows_report_row_by_row(self):
        files = _files(cn_zip_bytes())
        lines = files["observations.csv"].decode().splitlines()
        header = lines[0].split(",")
        row = lines[2].split(",")
        row[header.index("eventStart")] = "not-a-time"
        lines[2] = ",".join(row)
        files["observations.csv"] = ("\n".join(lines) + "\n").encode()
        n = Dataset.objects.count()
        response = self.post("contributor", zip_of(files))
        upload_row = Upload.objects.latest("id")
        self.assertEqual(upload_row.status, "rejected")
        self.assertEqual(Dataset.objects.count(), n)
        self.assertTrue(any(i["row"] == 3 and i["field"] == "eventStart"
                            for i in upload_row.issues), upload_row.issues)
        self.assertEqual(response.status_code, 400)  # the report itself, as a bad request
        self.assertIn("eventStart", response.content.decode())
        page = self.client_for("contributor").get(f"/uploads/{upload_row.pk}/").content.decode()
        self.assertIn("eventStart", page)

    def test_not_a_zip(self):
        self.post("contributor", b"hello, this is text")
        self.assertEqual(Upload.objects.latest("id").issues[0]["code"], "not-a-zip")

    def test_parent_paths_refused(self):
        files = _files(cn_zip_bytes())
        files["../evil.csv"] = b"a,b\n1,2\n"
        self.post("contributor", zip_of(files))
        latest = Upload.objects.latest("id")
        self.assertEqual(latest.status, "rejected")
        self.assertIn("outside", latest.issues[0]["message"])
        self.assertFalse((Path(settings.DATA_DIR).parent / "evil.csv").exists())

    def test_zip_bomb_refused(self):
        files = _files(cn_zip_bytes())
        files["media.csv"] = files["media.csv"] + b"\n" * (30 * 1024**2)
        self.post("contributor", zip_of(files))
        latest = Upload.objects.latest("id")
        self.assertEqual(latest.status, "rejected")
        self.assertIn("zip bomb", latest.issues[0]["message"])

    def test_oversized_refused(self):
        with override_settings(UPLOAD_MAX_BYTES=1000):
            response = self.post("contributor", cn_zip_bytes())
        self.assertEqual(response.status_code, 413)
        self.assertFalse(any(Path(settings.DATA_DIR, "incoming").glob("*.upload")))

    def test_streamed_in_chunks_with_limit(self):
        big = SimpleUploadedFile("x.zip", b"x" * 5000)
        big.size = 10  # a client can lie about the size: the stream is counted
        with pytest.raises(ApplicationError):
            upload_receive(uploaded_file=big, max_bytes=4096)

    def test_other_countrys_deployments_refused(self):
        result = upload(self.ru, cn_zip_bytes(with_person=False), name="cn-as-ru.zip")
        self.assertEqual(result.status, "rejected")
        self.assertEqual(result.issues[-1]["code"], "foreign-deployments")

    def test_import_is_atomic(self):
        import hashlib

        data = zip_of({**_files(cn_zip_bytes(with_person=False)), "README.txt": b"atomic"})
        target = Path(settings.DATA_DIR, "packages", "ntlnp", hashlib.sha256(data).hexdigest()[:24])
        n = Dataset.objects.count()
        with mock.patch.object(Dataset.objects, "create", side_effect=RuntimeError("db down")), \
                pytest.raises(RuntimeError):
            upload(self.cn, data, name="again.zip")
        self.assertEqual(Dataset.objects.count(), n)
        self.assertFalse(target.exists())
        self.assertEqual(upload(self.cn, data).status, "imported")
        self.assertTrue(target.exists())

    def test_api_upload(self):
        from amurlink_web.apps.api.auth import token_create

        _, key = token_create(user=self.users["contributor"], name="script")
        client = self.client_for("anonymous")
        response = client.post("/api/datasets/?organisation=ntlnp",
                               {"package": SimpleUploadedFile("p.zip", cn_zip_bytes())},
                               HTTP_AUTHORIZATION=f"Token {key}")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["status"], "duplicate")
        _, viewer_key = token_create(user=self.users["readonly"], name="script")
        response = client.post("/api/datasets/?organisation=ntlnp",
                               {"package": SimpleUploadedFile("p.zip", cn_zip_bytes())},
                               HTTP_AUTHORIZATION=f"Token {viewer_key}")
        self.assertEqual(response.status_code, 403)
