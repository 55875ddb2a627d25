"""``python -m amurlink_web runjobs``: a worker of Django's task framework (django-tasks,
database backend) that runs queued analysis jobs and writes a heartbeat while it lives.

Run as many as you like, on as many machines as reach the database: each task is claimed by
one worker (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, an exclusive transaction on
SQLite), and each job row once more by :func:`~amurlink_web.apps.jobs.services.job_claim`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone
from django_tasks.utils import get_random_id
from django_tasks_db.management.commands.db_worker import Worker

from amurlink_web.apps.jobs.services import job_fail_stale, worker_gone, worker_heartbeat

logger = logging.getLogger(__name__)


class _Heartbeat(threading.Thread):
    def __init__(self, *, worker_id: str, every: float) -> None:
        super().__init__(name=f"heartbeat-{worker_id}", daemon=True)
        self.worker_id, self.every = worker_id, every
        self.host, self.pid, self.started = socket.gethostname(), os.getpid(), timezone.now()
        self.stop = threading.Event()

    def beat(self) -> None:
        worker_heartbeat(worker_id=self.worker_id, host=self.host, pid=self.pid,
                         started_at=self.started)

    def run(self) -> None:
        while not self.stop.wait(self.every):
            try:
                self.beat()
            except Exception as exc:  # noqa: BLE001 - a busy database skips one beat
                logger.warning("worker heartbeat not written: %s", exc)
            finally:
                close_old_connections()


class Command(BaseCommand):
    help = "Run queued analysis jobs (cross-border analysis, reports, study runs) until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true",
                            help="run what is queued now, then exit")
        parser.add_argument("--sleep", type=float, default=1.0,
                            help="seconds to wait when the queue is empty (default 1)")
        parser.add_argument("--heartbeat", type=float, default=5.0,
                            help="seconds between two heartbeats (default 5)")
        parser.add_argument("--stale-minutes", type=float, default=60.0,
                            help="running jobs without progress this long are marked failed "
                                 "at start (a worker that died; default 60)")
        parser.add_argument("--worker-id", default="",
                            help="unique name of this worker (default: random)")

    def handle(self, *args, once: bool = False, sleep: float = 1.0, heartbeat: float = 5.0,
               stale_minutes: float = 60.0, worker_id: str = "", **options):
        stale = job_fail_stale(minutes=stale_minutes)
        if stale:
            self.stdout.write(f"marked {stale} stale job(s) failed")
        worker_id = worker_id or get_random_id()
        beat = _Heartbeat(worker_id=worker_id, every=heartbeat)
        beat.beat()
        beat.start()
        worker = Worker(queue_names=["default"], interval=sleep, batch=once,
                        backend_name="default", startup_delay=not once, max_tasks=None,
                        worker_id=worker_id)
        if not once:
            worker.configure_signals()
        self.stdout.write(f"worker {worker_id} on {beat.host} (pid {beat.pid}) started")
        try:
            worker.run()
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            beat.stop.set()
            beat.join(timeout=heartbeat + 1)
            worker_gone(worker_id=worker_id)
            self.stdout.write(f"worker {worker_id} stopped")
