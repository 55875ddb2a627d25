"""Per-stage timings of ``amurlink demo`` (the table goes to benchmarks/RESULTS.md).

Runs the installed ``amurlink demo`` as a separate process (process start and imports
included, as a user sees it) on the ``neaspec`` scenario, or ``AMURLINK_BENCH_SCENARIO``,
and prints the stages it timed (``--timings-json``) as a Markdown table, with the CPU
seconds of the whole process tree (the fairer figure on a loaded machine). Stages to leave
out can be given in ``AMURLINK_BENCH_SKIP`` (comma-separated, e.g. ``design,secr models``).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 60.0


def main() -> int:
    scenario = os.environ.get("AMURLINK_BENCH_SCENARIO", "neaspec")
    exe = Path(sys.executable).with_name("amurlink")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c",
                                                 "from amurlink.cli import main; main()"]
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        timings = Path(tmp) / "timings.json"
        skip = [n.strip() for n in os.environ.get("AMURLINK_BENCH_SKIP", "").split(",")
                if n.strip()]
        args = ["demo", "--scenario", scenario, "-o", str(Path(tmp) / "out"),
                "--timings-json", str(timings)]
        for name in skip:
            args += ["--skip", name]
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd + args, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
        if not timings.is_file():
            print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
            print(f"amurlink demo failed (exit code {proc.returncode})")
            return 1
        payload = json.loads(timings.read_text(encoding="utf-8"))
    background = set(payload["background"])
    print(f"scenario {payload['scenario']}, seed {payload['seed']}; exit code {proc.returncode}; "
          f"load average (1 min) before/after: {load_before:.1f}/{os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")
    print("| stage | seconds | status |\n|---|---:|---|")
    for name, sec in payload["stages"].items():
        where = " (child process, beside the main process)" if name in background else ""
        print(f"| {name}{where} | {sec:.2f} | {payload['status'].get(name, 'ok')} |")
    print(f"| total (in process) | {payload['total']:.2f} | |")
    print(f"| `amurlink demo` end to end (process start included) | {wall:.2f} | "
          f"{'under' if wall < TARGET_S else 'OVER'} the {TARGET_S:.0f} s target |")
    print(f"| CPU seconds of the process tree (user + system) | {cpu:.2f} | |")
    return 0 if proc.returncode == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
