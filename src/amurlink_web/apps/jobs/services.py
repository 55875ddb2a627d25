"""Queue, claim and run jobs.

Jobs are queued on Django's task framework (django-tasks backport, database backend): one
``tasks.run_job`` task per job. Workers (``python -m amurlink_web runjobs``) and the in-request
mode of the tests (``JOBS_RUN_SYNC``) run a job through the same :func:`job_claim` +
:func:`job_execute`."""

from __future__ import annotations

import json
import logging
import shutil
import traceback
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from amurlink_web.apps.core.services import ApplicationError, audit_record
from amurlink_web.apps.datasets.selectors import study_policy
from amurlink_web.apps.jobs.models import Job
from amurlink_web.apps.jobs.selectors import (
    REPORT_LANGUAGES,
    joint_access,
    joint_inputs,
    joint_release,
    scoped_joint,
)
from amurlink_web.apps.organisations.models import Organisation, role_at_least
from amurlink_web.apps.organisations.selectors import membership_get

logger = logging.getLogger(__name__)

Progress = Callable[[int, str], None]


def job_create(*, kind: str, organisation: Organisation, by, params: dict | None = None,
               request: HttpRequest | None = None) -> Job:
    """Queue a job for ``organisation`` (reviewers and managers of a park or the secretariat).

    With ``settings.JOBS_RUN_SYNC`` (the tests) the job is run at once, in this process.
    """
    member = membership_get(user=by, organisation=organisation)
    if member is None or not organisation.in_working_group:
        raise PermissionDenied("only members of the working group run joint analyses")
    if not role_at_least(member.role, "reviewer"):
        raise PermissionDenied("running analyses needs the reviewer role")
    if kind not in Job.Kind.values:
        raise ApplicationError(_("Choose one of the analyses offered on the page."))
    params = dict(params or {})
    if kind in (Job.Kind.REPORT, Job.Kind.STUDY):
        lang = params.get("lang", "en")
        if lang not in REPORT_LANGUAGES:
            raise ApplicationError(_("Choose one of the report languages offered on the page."))
        params = {"lang": lang}
    else:
        params = {}
    job = Job.objects.create(kind=kind, params=params, organisation=organisation, created_by=by)
    audit_record(request=request, user=by, action="create", target=f"job:{job.pk}",
                 detail={"kind": kind, "params": params})
    from amurlink_web.apps.jobs.tasks import run_job

    if getattr(settings, "JOBS_RUN_SYNC", False):
        run_job.call(job.pk)  # in this request, through the task's own code
        job.refresh_from_db()
        return job
    result = run_job.enqueue(job.pk)
    Job.objects.filter(pk=job.pk).update(task_id=str(result.id))
    job.task_id = str(result.id)
    return job


def job_claim(*, job_id: int | None = None) -> Job | None:
    """Take the oldest queued job (or ``job_id``) and mark it running; None if none is left.

    PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED``, so workers never wait for each other.
    SQLite (no row locks): an ``UPDATE ... WHERE status = 'queued'``; whoever changes the row
    owns the job, the others move on to the next one.
    """
    queued = Job.objects.filter(status=Job.Status.QUEUED).order_by("created_at", "id")
    if job_id is not None:
        queued = queued.filter(pk=job_id)
    now = timezone.now()
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            job = queued.select_for_update(skip_locked=True).first()
            if job is None:
                return None
            Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started_at=now,
                                                 progress=0, message="")
        job.refresh_from_db()
        return job
    for pk in list(queued.values_list("pk", flat=True)[:20]):
        if Job.objects.filter(pk=pk, status=Job.Status.QUEUED).update(
                status=Job.Status.RUNNING, started_at=now, progress=0, message="") == 1:
            return Job.objects.get(pk=pk)
    return None


def job_progress(job: Job, percent: int, message: str = "") -> None:
    percent = max(0, min(100, int(percent)))
    Job.objects.filter(pk=job.pk).update(progress=percent, message=message[:2000],
                                         updated_at=timezone.now())
    job.progress, job.message = percent, message


def job_execute(job: Job) -> Job:
    """Run a claimed job to the end: ``done`` with a result folder, or ``failed`` with why."""
    out = Path(settings.DATA_DIR) / "jobs" / str(job.pk)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    try:
        runner = RUNNERS[job.kind]
        audience = runner(job, out, lambda p, m="": job_progress(job, p, m))
    except Exception as exc:  # noqa: BLE001 - any failure is reported on the job page
        logger.warning("job %s failed: %s", job.pk, exc)
        shutil.rmtree(out, ignore_errors=True)
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED, message=str(exc)[:2000] or N_("the analysis failed"),
            finished_at=timezone.now(), updated_at=timezone.now())
        logger.debug("%s", traceback.format_exc())
    else:
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.DONE, progress=100, audience=audience, message="",
            result_path=out.relative_to(settings.DATA_DIR).as_posix(),
            finished_at=timezone.now(), updated_at=timezone.now())
    job.refresh_from_db()
    return job


def job_fail_stale(*, minutes: float = 60.0) -> int:
    """Mark ``running`` jobs without progress for ``minutes`` as failed (their worker died)."""
    cutoff = timezone.now() - timedelta(minutes=minutes)
    return Job.objects.filter(status=Job.Status.RUNNING, updated_at__lt=cutoff).update(
        status=Job.Status.FAILED, finished_at=timezone.now(), updated_at=timezone.now(),
        message=N_("no progress for a long time: the worker stopped; start it again"))


def worker_heartbeat(*, worker_id: str, host: str, pid: int, started_at=None) -> None:
    """Record that worker ``worker_id`` is alive now (its heartbeat thread calls this)."""
    from amurlink_web.apps.jobs.models import WorkerBeat

    now = timezone.now()
    WorkerBeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={"host": host[:255], "pid": pid, "seen_at": now},
        create_defaults={"host": host[:255], "pid": pid, "seen_at": now,
                         "started_at": started_at or now})


def worker_gone(*, worker_id: str) -> None:
    """A worker that stops cleanly removes its heartbeat row."""
    from amurlink_web.apps.jobs.models import WorkerBeat

    WorkerBeat.objects.filter(worker_id=worker_id).delete()


# -- the job kinds ---------------------------------------------------------------------------
def _run_crossborder(job: Job, out: Path, progress: Progress) -> str:
    progress(5, N_("reading the joint package"))
    access = joint_access(organisation=job.organisation)
    inputs = joint_inputs()
    if inputs.border is None:
        raise ApplicationError(inputs.missing.get("border", "no border in the study config"))
    released = joint_release(access=access)
    progress(30, N_("cross-border analysis"))
    # counted on the scoped exact data; distances as coarse as the reader's coarsest station
    result = released.crossborder(inputs.border)
    progress(70, N_("protecting locations"))
    progress(85, N_("writing the tables"))
    (out / "crossborder.json").write_text(
        json.dumps(result.to_dict(), ensure_ascii=False, indent=1, default=str),
        encoding="utf-8")
    for name in ("encounters", "individuals", "summary", "bands", "yearly", "seasonal"):
        frame = getattr(result, name)
        frame.to_csv(out / f"{name}.csv", index=name not in ("encounters",))
    return access.label


def _run_report(job: Job, out: Path, progress: Progress) -> str:
    from dataclasses import replace

    from amurlink.report import write_report

    progress(5, N_("reading the joint package"))
    access = joint_access(organisation=job.organisation)
    inputs = joint_inputs()
    inputs = replace(inputs, dataset=scoped_joint(access))
    lang = REPORT_LANGUAGES[job.params.get("lang", "en")]
    # write_report runs the cross-border tables itself (with the border) and protects them
    progress(40, N_("writing the report"))
    write_report(inputs, out, lang=lang, audience=access.audience, policy=study_policy())
    return access.label


def _run_study(job: Job, out: Path, progress: Progress) -> str:
    """``amurlink run``'s pipeline on every park's current dataset, then the reader's report.

    The study folder (``DATA_DIR/study/amurlink.toml``) names each park's current dataset
    (its newest accepted upload, stored as Camtrap DP) and the study border; the run writes
    the joint package to ``DATA_DIR/joint`` (the platform's joint package), so its link log,
    with every decision and its history, is carried over by the run's ``harmonise``
    (``amurlink.study.stages.carry_over_links``). The run's own files stay on the server; the
    job's result is the report for the starter's organisation, protected like the ``report``
    kind.
    """
    import fcntl

    progress(2, N_("waiting for the previous study run to finish"))
    lock_path = Path(settings.DATA_DIR) / "study.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as lock:
        # one study run at a time writes the joint package (workers on this machine, or on
        # machines sharing DATA_DIR over a file system with working locks)
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return _run_study_locked(job, out, progress)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _run_study_locked(job: Job, out: Path, progress: Progress) -> str:
    from amurlink.study import run_study
    from amurlink_web.apps.jobs.study import study_folder_write

    progress(3, N_("preparing the study folder"))
    study = study_folder_write()
    stages: list[str] = []

    def on_stage(stage: str, status: str) -> None:
        if status == "running":
            stages.append(stage)
            job_progress(job, min(70, 5 + 5 * len(stages)), N_("running the study pipeline"))

    result = run_study(study, out_dir=Path(settings.DATA_DIR), parallel=False,
                       progress=on_stage)
    failed = {k: v for k, v in result.stages.items()
              if str(getattr(v, "status", v)).startswith("failed")}
    if "harmonise" in failed or "joint package" in failed:
        raise ApplicationError(N_("the joint package could not be built from the parks' "
                                  "current datasets; see each upload's report"))
    # the import hook of a written joint package: the photos of the rebuilt package get their
    # thumbnails now (photos from the site's photo store too), so the photo browser and the
    # review pages show them at once instead of making each on its first request
    from amurlink_web.apps.identities.selectors import joint_package_path
    from amurlink_web.apps.review.media import package_thumbnails_make

    package_thumbnails_make(joint_package_path())
    label = _run_report(job, out, progress)
    (out / "run-summary.json").write_text(json.dumps({
        "stages": {k: str(getattr(v, "status", v)) for k, v in result.stages.items()}},
        ensure_ascii=False, indent=1), encoding="utf-8")
    return label


RUNNERS: dict[str, Callable[[Job, Path, Progress], str]] = {
    Job.Kind.CROSSBORDER: _run_crossborder,
    Job.Kind.REPORT: _run_report,
    Job.Kind.STUDY: _run_study,
}
