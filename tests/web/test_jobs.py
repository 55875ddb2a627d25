"""Analysis jobs: the queue, the two job kinds, who may start them and read their results."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from amurlink.datasets import load_example
from amurlink.io import write_camtrap_dp
from amurlink_web.apps.core.demo import toy_border_write
from amurlink_web.apps.identities.selectors import joint_package_path
from amurlink_web.apps.jobs.models import Job
from amurlink_web.apps.jobs.selectors import joint_access
from amurlink_web.apps.jobs.services import job_claim, job_create, job_fail_stale
from amurlink_web.testing import BaseTestCase

pytestmark = pytest.mark.web


def write_joint(*, border: bool = True) -> None:
    """The toy joint package (both parks) and, beside it, the toy border."""
    path = joint_package_path()
    template = path.with_name("joint-template-jobs")
    if not (template / "datapackage.json").is_file():
        write_camtrap_dp(load_example(), template)
    shutil.rmtree(path, ignore_errors=True)
    shutil.copytree(template, path)
    if border:
        toy_border_write(path.parent)
    else:
        (path.parent / "border.geojson").unlink(missing_ok=True)


class JobTestCase(BaseTestCase):
    def setUp(self):
        write_joint()

    def start(self, persona, kind="crossborder", org="ntlnp", lang="en"):
        return self.client_for(persona).post(f"/orgs/{org}/jobs/new/",
                                             {"kind": kind, "lang": lang})


@override_settings(JOBS_RUN_SYNC=True)
class JobPagesTest(JobTestCase):
    def test_who_may_start(self):
        for persona, org, status in (("readonly", "ntlnp", 403), ("contributor", "ntlnp", 403),
                                     ("secretariat", "secretariat", 403),
                                     ("outsider", "wwf", 404), ("outsider", "ntlnp", 404),
                                     ("partner", "ntlnp", 404)):
            with self.subTest(persona=persona, org=org):
                self.assertEqual(self.start(persona, org=org).status_code, status)
        self.assertEqual(self.start("anonymous").status_code, 302)
        self.assertFalse(Job.objects.exists())
        self.assertEqual(self.client_for("owner").get("/orgs/ntlnp/jobs/new/").status_code, 405)

    def test_crossborder_job_and_its_results(self):
        response = self.start("cn_reviewer")
        job = Job.objects.get()
        self.assertRedirects(response, f"/jobs/{job.pk}/")
        self.assertEqual((job.status, job.progress), ("done", 100), job.message)
        page = self.client_for("readonly").get(f"/jobs/{job.pk}/")
        self.assertContains(page, "crossborder.json")
        status = self.client_for("owner").get(f"/jobs/{job.pk}/status/").json()
        self.assertEqual(status["status"], "done")
        body = self.client_for("readonly").get(f"/jobs/{job.pk}/files/crossborder.json")
        result = json.loads(b"".join(body.streaming_content))
        self.assertIn("summary", result)
        self.assertIn("owner", job.audience)
        zipped = self.client_for("owner").get(f"/jobs/{job.pk}/download/")
        names = zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()
        self.assertIn("individuals.csv", names)
        for persona in ("partner", "secretariat", "outsider"):
            client = self.client_for(persona)
            for url in (f"/jobs/{job.pk}/", f"/jobs/{job.pk}/download/",
                        f"/jobs/{job.pk}/files/crossborder.json", f"/jobs/{job.pk}/status/"):
                with self.subTest(persona=persona, url=url):
                    self.assertEqual(client.get(url).status_code, 404)
            self.assertNotContains(client.get("/jobs/"), f'data-job="{job.pk}"')
        self.assertEqual(self.client_for("anonymous").get(f"/jobs/{job.pk}/").status_code, 302)
        self.assertEqual(self.client_for("owner").get(
            f"/jobs/{job.pk}/files/../../secret_key").status_code, 404)

    def test_report_in_each_language_for_the_readers_audience(self):
        for lang, word in (("zh-hans", "东北"), ("ru", "леопард")):
            self.start("partner", kind="report", org="llnp", lang=lang)
            job = Job.objects.latest("id")
            self.assertEqual(job.status, "done", job.message)
            # the Russian park owns its part; the Chinese part is shared with it at 1 km
            self.assertEqual(job.audience, "owner (1km)")
            response = self.client_for("partner").get(f"/jobs/{job.pk}/files/report.html")
            html = b"".join(response.streaming_content).decode()
            self.assertIn(word, html)
            self.assertEqual(self.client_for("owner").get(
                f"/jobs/{job.pk}/files/report.html").status_code, 404)

    def test_missing_border_fails_with_a_reason(self):
        write_joint(border=False)
        self.start("owner")
        job = Job.objects.get()
        self.assertEqual(job.status, "failed")
        self.assertIn("border", job.message)
        self.assertEqual(self.client_for("owner").get(f"/jobs/{job.pk}/download/").status_code,
                         404)

    def test_bad_kind(self):
        r = self.start("owner", kind="secr")
        self.assertEqual(r.status_code, 400)
        html = r.content.decode()
        self.assertIn('id="error-400"', html)  # a page with the site's navigation
        self.assertIn("Choose one of the analyses offered on the page.", html)
        self.assertNotIn("secr", html)  # no echo of what was sent, no list of codes


class JobQueueTest(JobTestCase):
    def test_a_job_is_a_task_on_djangos_task_framework_and_is_run_once(self):
        from django_tasks_db.models import DBTaskResult

        from amurlink_web.apps.jobs.tasks import run_job

        a = job_create(kind="crossborder", organisation=self.cn, by=self.users["owner"])
        b = job_create(kind="report", organisation=self.ru, by=self.users["partner"],
                       params={"lang": "ru"})
        self.assertEqual((a.status, b.status), ("queued", "queued"))
        tasks = {t.args_kwargs["args"][0]: t for t in DBTaskResult.objects.all()}
        self.assertEqual(set(tasks), {a.pk, b.pk})  # one queued task per job, in the database
        self.assertEqual(str(tasks[a.pk].id), a.task_id)
        self.assertEqual(tasks[a.pk].task_path, "amurlink_web.apps.jobs.tasks.run_job")
        self.assertEqual(tasks[a.pk].status, "READY")
        claimed = job_claim()
        self.assertEqual((claimed.pk, claimed.status), (a.pk, "running"))
        self.assertIsNone(job_claim(job_id=a.pk))  # nobody claims a running job again
        self.assertEqual(run_job.call(a.pk), "not queued")  # a second delivery does nothing
        Job.objects.filter(pk=a.pk).update(status="queued")
        self.assertEqual(run_job.call(a.pk), "done")
        self.assertEqual(run_job.call(b.pk), "done")
        self.assertEqual(set(Job.objects.values_list("status", flat=True)), {"done"})

    def test_a_job_whose_worker_died_is_failed(self):
        job = job_create(kind="crossborder", organisation=self.cn, by=self.users["owner"])
        job_claim()
        Job.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(hours=2))
        self.assertEqual(job_fail_stale(minutes=60), 1)
        job.refresh_from_db()
        self.assertEqual(job.status, "failed")
        self.assertIn("worker stopped", job.message)

    def test_the_pages_say_when_no_worker_is_alive(self):
        from amurlink_web.apps.jobs.services import worker_gone, worker_heartbeat

        job = job_create(kind="crossborder", organisation=self.cn, by=self.users["owner"])
        client = self.client_for("owner")
        for url in ("/jobs/", f"/jobs/{job.pk}/"):
            html = client.get(url).content.decode()
            self.assertRegex(html, r'<p id="no-worker" class="warning">')
        self.assertFalse(client.get(f"/jobs/{job.pk}/status/").json()["workerAlive"])
        worker_heartbeat(worker_id="w1", host="here", pid=1)
        html = client.get("/jobs/").content.decode()
        self.assertIn('id="no-worker" class="warning" hidden', html)
        self.assertIn('id="workers"', html)
        self.assertTrue(client.get(f"/jobs/{job.pk}/status/").json()["workerAlive"])
        with override_settings(JOBS_WORKER_ALIVE_S=0):
            self.assertFalse(client.get(f"/jobs/{job.pk}/status/").json()["workerAlive"])
        worker_gone(worker_id="w1")
        self.assertFalse(client.get(f"/jobs/{job.pk}/status/").json()["workerAlive"])

    def test_joint_access_follows_membership_and_agreements(self):
        self.assertEqual(joint_access(organisation=self.cn).label, "owner (withheld)")
        self.assertEqual(joint_access(organisation=self.ru).label, "owner (1km)")
        self.assertEqual(joint_access(organisation=self.sec).kind, "public")
