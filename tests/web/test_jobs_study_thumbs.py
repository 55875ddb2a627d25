"""A study run makes the thumbnails of the joint package it wrote (the import hook), so the
photos of a run are in the photo browser and the review pages at once.

``amurlink run``'s pipeline is replaced by a stand-in that writes the toy joint package (the
pipeline itself is covered by the slow ``test_jobs_study.py``); everything after it (the hook,
the report, the pages) is the platform's own code.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import numpy as np
import pytest
from django.test import override_settings

from amurlink.datasets import load_example
from amurlink.io import write_camtrap_dp
from amurlink.simulate.flanks import write_jpeg
from amurlink_web.apps.core.demo import toy_border_write
from amurlink_web.apps.identities.selectors import joint_package_path
from amurlink_web.apps.jobs.models import Job
from amurlink_web.apps.review.media import photo_store
from amurlink_web.testing import BaseTestCase

pytestmark = [pytest.mark.web]


def _fake_run(study, *, out_dir, **_kw):
    """What the pipeline leaves for the platform: the joint package in OUT/joint."""
    write_camtrap_dp(load_example(), Path(out_dir) / "joint")
    return SimpleNamespace(stages={"harmonise": "ok", "joint package": "ok"})


@override_settings(JOBS_RUN_SYNC=True)
class StudyRunThumbnailsTest(BaseTestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        over = override_settings(DATA_DIR=Path(self.tmp.name))
        over.enable()
        self.addCleanup(over.disable)
        toy_border_write(joint_package_path().parent)
        # the parks' photos in the site's photo store (the uploads carry no image files)
        rng = np.random.default_rng(0)
        self.paths = sorted(set(load_example().media["filePath"].dropna().astype(str)))[:6]
        for fp in self.paths:
            img = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
            write_jpeg(photo_store() / fp, img, 80, datetime_original="2014:10:01 12:00:00")

    def thumbs(self) -> list[Path]:
        folder = Path(self.tmp.name) / "thumbs" / "media"
        return sorted(folder.glob("*.jpg")) if folder.is_dir() else []

    def test_a_study_run_makes_the_thumbnails_of_its_joint_package(self):
        self.assertEqual(self.thumbs(), [])
        with mock.patch("amurlink.study.run_study", side_effect=_fake_run) as run:
            r = self.client_for("owner").post("/orgs/ntlnp/jobs/new/",
                                              {"kind": "study", "lang": "en"})
        self.assertEqual(r.status_code, 302)
        run.assert_called_once()
        job = Job.objects.latest("id")
        self.assertEqual(job.status, "done", job.message)
        made = self.thumbs()
        # one thumbnail per photo of the written package, before any page asked for one
        self.assertEqual(len(made), len(self.paths))
        for t in made:
            self.assertEqual(t.read_bytes()[:2], b"\xff\xd8")
            self.assertNotIn(b"Exif", t.read_bytes()[:64])  # re-encoded, no camera block
        media = load_example().media.set_index("filePath")["mediaID"]
        client = self.client_for("cn_reviewer")
        page = client.get("/media/").content.decode()
        for fp in self.paths:
            self.assertIn(f"/media/{media[fp]}/thumb.jpg", page)
            thumb = client.get(f"/media/{media[fp]}/thumb.jpg")
            self.assertEqual(thumb.status_code, 200)
            self.assertEqual(thumb["Content-Type"], "image/jpeg")
        self.assertEqual(self.thumbs(), made)  # served from the run's thumbnails

    def test_a_failed_pipeline_makes_no_thumbnails(self):
        def failed(study, *, out_dir, **_kw):
            return SimpleNamespace(stages={"harmonise": "failed: no inputs"})

        with mock.patch("amurlink.study.run_study", side_effect=failed):
            self.client_for("owner").post("/orgs/ntlnp/jobs/new/", {"kind": "study"})
        self.assertEqual(Job.objects.latest("id").status, "failed")
        self.assertEqual(self.thumbs(), [])
