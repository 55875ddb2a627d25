"""A joint package without photos: the photo pages are empty, never a server error.

Found by the review pages' producer in the protection property test (a release without the
media table had no ``sortKey`` column, and its detections no position columns).
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from amurlink.datasets import load_example
from amurlink.io import write_camtrap_dp
from amurlink_web.apps.core.demo import toy_border_write
from amurlink_web.apps.identities.selectors import joint_package_path
from amurlink_web.apps.review import selectors as sel
from amurlink_web.testing import BaseTestCase

pytestmark = pytest.mark.web


class NoPhotosTest(BaseTestCase):
    def setUp(self):
        toy = load_example()
        obs = toy.observations.copy()
        obs["mediaID"] = pd.NA
        path = joint_package_path()
        shutil.rmtree(path, ignore_errors=True)
        write_camtrap_dp(toy.replace(media=toy.media.iloc[:0], observations=obs), path)
        toy_border_write(path.parent)

    def test_photo_pages_are_empty(self):
        client = self.client_for("cn_reviewer")
        r = client.get("/media/")
        self.assertEqual(r.status_code, 200)
        self.assertNotIn("thumb.jpg", r.content.decode())
        self.assertEqual(client.get("/media/", {"after": "2014-10-01T00:00:00|x"}).status_code,
                         200)
        self.assertEqual(client.get("/media/", {"station": "CN-A1"}).status_code, 200)
        self.assertEqual(client.get("/media/m1/thumb.jpg").status_code, 404)
        reader = sel.reader_get(fetched_by=self.user("cn_reviewer"))
        self.assertEqual(sel.media_page(reader).rows, [])
        self.assertEqual(sel.photos_of_individuals(reader, ["CN-NTLNP:T01"]).shape[0], 0)

    def test_individuals_without_photos_still_show_their_detections(self):
        client = self.client_for("cn_reviewer")
        listing = client.get("/individuals/")
        self.assertEqual(listing.status_code, 200)
        reader = sel.reader_get(fetched_by=self.user("cn_reviewer"))
        joint = next(g["jointID"] for g in sel.individual_list(reader)
                     if "CN-NTLNP:T01" in g["members"])
        page = client.get(f"/individuals/{joint}/")
        self.assertEqual(page.status_code, 200)
        self.assertTrue(sel.detections_of(reader, ["CN-NTLNP:T01"]))
