"""The OpenAPI description of the upload names every form field the upload API reads."""

from __future__ import annotations

import inspect
import re

import pytest

from amurlink_web.apps.api import views
from amurlink_web.apps.datasets.forms import UploadForm
from amurlink_web.apps.datasets.sources import KINDS
from amurlink_web.testing import BaseTestCase

pytestmark = [pytest.mark.web]


class OpenApiUploadTest(BaseTestCase):
    def upload_schema(self) -> dict:
        schema = self.client_for("anonymous").get("/api/openapi.json").json()
        post = schema["paths"]["/api/datasets/"]["post"]
        return post["requestBody"]["content"]["multipart/form-data"]["schema"]

    def test_every_field_the_upload_view_reads_is_described(self):
        read = set(re.findall(r'request\.(?:POST|FILES)(?:\.get\(|\[)"(\w+)"',
                              inspect.getsource(views._dataset_upload)))
        self.assertGreaterEqual(read, {"package", "title", "kind", "timezone"})
        self.assertEqual(set(self.upload_schema()["properties"]), read)

    def test_kind_lists_the_upload_kinds_and_timezone_is_a_zone_name(self):
        props = self.upload_schema()["properties"]
        self.assertEqual(props["kind"]["enum"], list(KINDS))
        self.assertEqual(props["kind"]["enum"],
                         [value for value, _label in UploadForm.base_fields["kind"].choices])
        self.assertEqual(props["kind"]["default"], "camtrap-dp")
        self.assertEqual(props["timezone"]["type"], "string")
        self.assertEqual(props["timezone"]["maxLength"], 64)  # what the view keeps
        self.assertIn("[:64]", inspect.getsource(views._dataset_upload))

    def test_a_kind_outside_the_enum_is_a_rejected_upload_with_its_report(self):
        from django.core.files.uploadedfile import SimpleUploadedFile

        empty_zip = b"PK\x05\x06" + bytes(18)
        r = self.client_for("owner").post("/api/datasets/?organisation=ntlnp", {
            "kind": "shapefile", "package": SimpleUploadedFile("x.zip", empty_zip)})
        # a rejected upload is malformed input: 400 with its report, as the schema says
        described = self.client_for("anonymous").get("/api/openapi.json").json()[
            "paths"]["/api/datasets/"]["post"]["responses"]
        self.assertIn(str(r.status_code), described)
        self.assertEqual(r.status_code, 400)
        self.assertEqual((r.json()["status"], r.json()["issues"][0]["code"]),
                         ("rejected", "upload-kind"))
