"""A task for the two-worker test (importable by the worker processes through PYTHONPATH)."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from django_tasks import task


@task()
def probe(n: int, out: str) -> int:
    """Leave one file per run, named by the task's number and the worker's pid."""
    time.sleep(0.25)
    Path(out, f"{n}-{os.getpid()}-{uuid.uuid4().hex[:8]}").write_text("", encoding="utf-8")
    return os.getpid()
