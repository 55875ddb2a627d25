"""Read-only views of the task queue: which workers are alive, what waits (selectors)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from amurlink_web.apps.jobs.models import WorkerBeat


def workers_alive() -> list[WorkerBeat]:
    """Workers whose heartbeat is younger than ``settings.JOBS_WORKER_ALIVE_S``."""
    cutoff = timezone.now() - timedelta(seconds=settings.JOBS_WORKER_ALIVE_S)
    return list(WorkerBeat.objects.filter(seen_at__gte=cutoff).order_by("host", "pid"))


def jobs_need_a_worker() -> bool:
    """Whether queued jobs wait on a worker: none alive and jobs are not run in the request."""
    return not getattr(settings, "JOBS_RUN_SYNC", False) and not workers_alive()
