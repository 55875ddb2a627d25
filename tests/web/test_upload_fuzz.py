"""Hostile and randomly mutated uploads: HTTP 400 with the upload report, never a 500.

Part of the fuzz suite of issue 14 (tests/fuzz holds the rest; its memory bound for the
web upload runs in a child process there).
"""

from __future__ import annotations

import io
import json
import random
import struct
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from amurlink_web.apps.datasets.models import Upload
from amurlink_web.testing import BaseTestCase, cn_zip_bytes, zip_of

pytestmark = pytest.mark.web


def _files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _mutate(data: bytes, rnd: random.Random) -> bytes:
    b = bytearray(data)
    op = rnd.randrange(4)
    at = rnd.randrange(len(b))
    if op == 0:
        for _ in range(rnd.randint(1, 6)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
    elif op == 1:
        del b[at: at + rnd.randint(1, 200)]
    elif op == 2:
        b[at:at] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 30)))
    else:
        del b[at:]
    return bytes(b)


class UploadFuzzTest(BaseTestCase):
    def post(self, data: bytes, name: str = "pkg.zip"):
        return self.client_for("contributor").post(
            "/orgs/ntlnp/upload/", {"package": SimpleUploadedFile(name, data)})

    def assert_rejected_with_report(self, response, *, needle: str | None = None) -> None:
        self.assertEqual(response.status_code, 400)
        body = response.content.decode()
        self.assertIn("Validation report", body)
        upload = Upload.objects.latest("id")
        self.assertEqual(upload.status, "rejected")
        self.assertTrue(upload.issues and all(i["message"] for i in upload.issues))
        if needle is not None:
            self.assertIn(needle, body)

    def test_bad_crc(self):
        files = _files(cn_zip_bytes())
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
            for n, d in files.items():
                zf.writestr(n, d)
        raw = bytearray(buf.getvalue())
        at = raw.index(b"deploymentID,") + 20
        raw[at] ^= 0x20
        self.assert_rejected_with_report(self.post(bytes(raw)), needle="CRC")

    def test_lying_size(self):
        data = bytearray(cn_zip_bytes(with_person=False))
        info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("observations.csv")
        struct.pack_into("<I", data, info.header_offset + 22, 3)
        at = data.index(b"PK\x01\x02")
        while data[at + 46: at + 46 + 16] != b"observations.csv":
            at = data.index(b"PK\x01\x02", at + 4)
        struct.pack_into("<I", data, at + 24, 3)
        self.assert_rejected_with_report(self.post(bytes(data)), needle="observations.csv")

    def test_deep_descriptor(self):
        files = _files(cn_zip_bytes())
        desc = json.loads(files["datapackage.json"])
        desc["resources"].append({"name": "deep", "x": "@@"})
        files["datapackage.json"] = json.dumps(desc).replace(
            '"@@"', "[" * 100_000 + "]" * 100_000).encode()
        self.assert_rejected_with_report(self.post(zip_of(files)), needle="too-deep")

    def test_report_shows_no_server_path(self):
        files = _files(cn_zip_bytes())
        del files["media.csv"]
        response = self.post(zip_of(files), name="mine.zip")
        self.assert_rejected_with_report(response)
        from django.conf import settings

        self.assertNotIn(str(settings.DATA_DIR), response.content.decode())
        self.assertIn("mine.zip", response.content.decode())

    def test_mutated_uploads(self):
        self._campaign(200, seed=14)

    @pytest.mark.slow
    def test_mutated_uploads_long(self):
        self._campaign(1000, seed=1414)

    def _campaign(self, n: int, seed: int) -> None:
        rnd = random.Random(seed)
        good = cn_zip_bytes(with_person=False)
        for _ in range(n):
            response = self.post(_mutate(good, rnd))
            self.assertIn(response.status_code, (302, 400))
            if response.status_code == 400:
                self.assert_rejected_with_report(response)
