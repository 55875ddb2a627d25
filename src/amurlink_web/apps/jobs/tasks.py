"""The tasks of Django's task framework (django-tasks backport) that run analysis jobs.

A worker (``python -m amurlink_web runjobs``, any number of them on any machines that reach the
database) takes a task from the database queue and calls :func:`run_job`, which claims the job
row (once: a second delivery finds it no longer queued) and runs it to ``done`` or ``failed``.
"""

from __future__ import annotations

from django_tasks import task


@task()
def run_job(job_id: int) -> str:
    """Claim and run the analysis job ``job_id``; its final status."""
    from amurlink_web.apps.jobs.services import job_claim, job_execute

    job = job_claim(job_id=job_id)
    if job is None:
        return "not queued"  # already claimed by another delivery, or cancelled
    return job_execute(job).status
