"""One release per (joint package state, reader's terms) for every page, and the gunicorn
master's warm-up of the per-reader caches (apps/jobs/warm.py, config/gunicorn.py)."""

from __future__ import annotations

import os
from unittest import mock

import pytest

from amurlink_web.apps.core.models import AuditLog
from amurlink_web.apps.identities.selectors import joint_package_path
from amurlink_web.apps.jobs import selectors as jobs_sel
from amurlink_web.apps.jobs.warm import warm_caches
from amurlink_web.apps.review import selectors as sel

from .test_review import _JointPhotos

pytestmark = pytest.mark.web


def _forget_releases() -> None:
    jobs_sel._released.cache_clear()
    with jobs_sel._FIRST_LOCK:
        jobs_sel._FIRST.clear()


def _later(path) -> None:
    """Give ``path`` a later modification time (a new version of the file)."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))


class SharedReleaseTest(_JointPhotos):

    def setUp(self):
        super().setUp()
        _forget_releases()

    def release_of(self, persona):
        _member, access = jobs_sel.joint_reader(fetched_by=self.user(persona))
        return access, jobs_sel.joint_release(access=access)

    def test_pages_share_one_release_per_reader_terms(self):
        access, joint = self.release_of("partner")
        # the review, photo and individual pages read the map's and home page's release
        self.assertIs(sel.reader_get(fetched_by=self.user("partner")).released, joint)
        # the same terms (one park's viewer and reviewer) share it; other terms never do
        _, owner = self.release_of("owner")
        _, viewer = self.release_of("readonly")
        _, secretariat = self.release_of("secretariat")
        self.assertIs(viewer, owner)
        self.assertIsNot(secretariat, joint)
        self.assertIsNot(owner, joint)
        self.assertEqual(set(joint.levels), {"1km"} | ({"exact"} & set(joint.levels)))
        self.assertNotEqual(set(secretariat.levels) - {"withheld"}, {"exact"})

    def test_decision_keeps_the_data_release_new_data_replaces_it(self):
        access, before = self.release_of("partner")
        # a decision rewrites the link log only: the maps and home page take a new release
        # (their links changed), the review pages keep the one of this data state
        _later(joint_package_path() / "identity-links.csv")
        after_links = jobs_sel.joint_release(access=access)
        self.assertIsNot(after_links, before)
        self.assertIs(sel.reader_get(fetched_by=self.user("partner")).released, before)
        # new data (any data file): every page takes a new release
        _later(joint_package_path() / "observations.csv")
        fresh = sel.reader_get(fetched_by=self.user("partner")).released
        self.assertIsNot(fresh, before)
        self.assertIsNot(fresh, after_links)
        self.assertIs(jobs_sel.joint_release(access=access), fresh)


class WarmUpTest(_JointPhotos):

    def setUp(self):
        super().setUp()
        _forget_releases()

    def test_warm_up_leaves_no_release_to_compute_and_writes_no_audit_row(self):
        audit = AuditLog.objects.count()
        # the readers of the joint package with distinct terms: CN park (viewer, reviewer:
        # the reviewer reads the review queue for its side), RU park, secretariat
        n = warm_caches()
        self.assertGreaterEqual(n, 3)
        self.assertEqual(AuditLog.objects.count(), audit)  # nobody read anything
        urls = ["/", "/map/", "/map/data.json", "/review/", f"/review/{self.event}/",
                "/individuals/", "/media/"]
        with mock.patch.object(jobs_sel, "release",
                               side_effect=AssertionError("release computed after warm-up")):
            for persona in ("owner", "cn_reviewer", "partner", "secretariat", "readonly"):
                client = self.client_for(persona)
                for url in urls:
                    status = client.get(url).status_code
                    self.assertIn(status, (200, 403), (persona, url))
        # and the warm caches still follow the data: new data, a new release
        _later(joint_package_path() / "observations.csv")
        with mock.patch.object(jobs_sel, "release", wraps=jobs_sel.release) as made:
            self.assertEqual(self.client_for("partner").get("/map/").status_code, 200)
        self.assertEqual(made.call_count, 1)

    def test_no_joint_package_nothing_to_warm(self):
        import shutil

        shutil.rmtree(joint_package_path())
        self.assertEqual(warm_caches(), 0)


class GunicornSettingsTest(_JointPhotos):

    def test_master_warms_before_forking_unless_told_not_to(self):
        import gc

        from amurlink_web.config import gunicorn as conf

        self.assertTrue(conf.preload_app)  # the hook runs in the master, after the app loads
        server = mock.Mock()
        with mock.patch("amurlink_web.apps.jobs.warm.warm_caches", return_value=4) as warm:
            with mock.patch.dict(os.environ, {"AMURLINK_WARM_CACHES": "0"}):
                conf.when_ready(server)
            warm.assert_not_called()
            try:
                conf.when_ready(server)
            finally:
                gc.unfreeze()
        warm.assert_called_once_with()
        self.assertIn(4, server.log.info.call_args.args)


def test_warm_up_closes_the_masters_connections_but_not_a_transactions():
    """Forked workers must not share the master's connections; a connection inside an atomic
    block (a test case's, on PostgreSQL) stays open for its owner."""
    idle, busy = mock.Mock(in_atomic_block=False), mock.Mock(in_atomic_block=True)
    with mock.patch("django.db.connections.all", return_value=[idle, busy]), \
            mock.patch("amurlink_web.apps.jobs.warm._readers", return_value=[]):
        assert warm_caches() == 0
    idle.close.assert_called_once_with()
    busy.close.assert_not_called()
