"""``python -m amurlink_web runjobs``: the worker that runs queued analysis jobs."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from amurlink_web.apps.jobs.services import job_fail_stale, job_run_pending


class Command(BaseCommand):
    help = "Run queued analysis jobs (cross-border analysis, reports) until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true",
                            help="run what is queued now, then exit")
        parser.add_argument("--sleep", type=float, default=2.0,
                            help="seconds to wait when the queue is empty (default 2)")
        parser.add_argument("--stale-minutes", type=float, default=60.0,
                            help="running jobs without progress this long are marked failed "
                                 "at start (a worker that died; default 60)")

    def handle(self, *args, once: bool = False, sleep: float = 2.0,
               stale_minutes: float = 60.0, **options):
        stale = job_fail_stale(minutes=stale_minutes)
        if stale:
            self.stdout.write(f"marked {stale} stale job(s) failed")
        try:
            while True:
                n = job_run_pending()
                if n:
                    self.stdout.write(f"ran {n} job(s)")
                if once:
                    return
                time.sleep(sleep)
        except KeyboardInterrupt:
            self.stdout.write("stopped")
