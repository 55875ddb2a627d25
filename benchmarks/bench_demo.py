"""Per-stage timings of ``amurlink demo`` (goes to benchmarks/RESULTS.md)."""

from __future__ import annotations

import tempfile
import time

from amurlink.report.demo import run_demo

if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = run_demo(tmp)
        total = time.perf_counter() - t0
    print(f"source: {res.source}; stages not available: {', '.join(res.missing) or 'none'}")
    print("| stage | seconds |\n|---|---:|")
    for k, v in res.timings.items():
        print(f"| {k} | {v:.2f} |")
    print(f"| total (in process) | {total:.2f} |")
