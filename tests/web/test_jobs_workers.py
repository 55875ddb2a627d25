"""Several workers (production runs several on several machines) share one database queue:
two ``runjobs`` processes on one SQLite file run every task exactly once, each writes its
heartbeat while alive and removes it when stopped."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

# slow: three Django processes start (about 20 s on the loaded 2-core machine)
pytestmark = [pytest.mark.web, pytest.mark.slow]

_ENQUEUE = """
import django, sys
django.setup()
from _worker_probe import probe
for n in range(int(sys.argv[1])):
    probe.enqueue(n, sys.argv[2])
"""


def _wait(predicate, *, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db, timeout=20) as con:
        return con.execute(sql).fetchone()[0]


def test_two_worker_processes_share_the_queue_and_run_each_task_once(tmp_path):
    home, out = tmp_path / "home", tmp_path / "out"
    out.mkdir()
    home.mkdir()
    env = {**os.environ, "AMURLINK_WEB_HOME": str(home), "AMURLINK_WEB_DATA": str(home / "d"),
           "DJANGO_SETTINGS_MODULE": "amurlink_web.config.settings",
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent),
                                          os.environ.get("PYTHONPATH", "")])}
    env.pop("AMURLINK_DB_URL", None)
    env.pop("DATABASE_URL", None)
    db = home / "amurlink-web.sqlite3"
    py = [sys.executable, "-m", "amurlink_web"]
    subprocess.run([*py, "migrate", "--verbosity", "0"], env=env, check=True, timeout=300)
    workers = [subprocess.Popen([*py, "runjobs", "--sleep", "0.2", "--heartbeat", "1",
                                 "--worker-id", f"w{i}"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True) for i in (1, 2)]
    try:
        _wait(lambda: _count(db, "select count(*) from jobs_workerbeat") == 2, timeout=120,
              what="both workers' heartbeats")
        n = 16
        subprocess.run([sys.executable, "-c", _ENQUEUE, str(n), str(out)], env=env,
                       check=True, timeout=120)
        done = ("select count(*) from django_tasks_database_dbtaskresult "
                "where status = 'SUCCESSFUL'")
        _wait(lambda: _count(db, done) == n, timeout=120, what="every task to finish")
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        logs = [w.communicate(timeout=60)[0] for w in workers]
    runs = sorted(p.name.split("-")[:2] for p in out.iterdir())
    assert sorted(int(t) for t, _pid in runs) == list(range(n)), runs  # each task exactly once
    assert len({pid for _t, pid in runs}) == 2, (runs, logs)  # both workers took tasks
    assert {w.returncode for w in workers} == {0}, logs
    assert _count(db, "select count(*) from jobs_workerbeat") == 0  # stopped cleanly
    assert _count(db, "select count(*) from django_tasks_database_dbtaskresult "
                      "where json_array_length(worker_ids) = 1") == n  # claimed by one worker
