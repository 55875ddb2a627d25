"""Analysis jobs (what was asked, its progress and results) and the workers' heartbeats.

The queue itself is Django's task framework (django-tasks backport, database backend,
``django_tasks_db.DBTaskResult``): a job row is queued with one task (:attr:`Job.task_id`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from amurlink_web.apps.core.models import BaseModel
from amurlink_web.apps.organisations.models import Organisation


class Job(BaseModel):
    """One analysis run: queued by a reviewer, claimed and run by ``runjobs``."""

    class Kind(models.TextChoices):
        CROSSBORDER = "crossborder", _("cross-border analysis")
        REPORT = "report", _("joint report")
        STUDY = "study", _("study run (joint package, analyses, report)")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED,
                              db_index=True)
    progress = models.PositiveSmallIntegerField(default=0)
    message = models.TextField(blank=True)
    #: Result folder, relative to ``settings.DATA_DIR`` (empty until done).
    result_path = models.CharField(max_length=300, blank=True)
    #: Who the results were protected for (owner / partner / public) and at which level.
    audience = models.CharField(max_length=20, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="jobs")
    started_at = models.DateTimeField(null=True, blank=True)
    #: The django-tasks result id of the task that runs this job (empty when run in-process).
    task_id = models.CharField(max_length=64, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"job {self.pk} {self.kind} ({self.status}, {self.progress}%)"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class WorkerBeat(models.Model):
    """A running ``runjobs`` worker, as its heartbeat thread last wrote it (one row each)."""

    worker_id = models.CharField(max_length=64, unique=True)
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"worker {self.worker_id} on {self.host} (pid {self.pid})"
