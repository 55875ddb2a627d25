"""``amurlink run`` against the demo of the commit before it, a no-op rerun, one input changed.

1. The previous pipeline: ``amurlink demo`` of ``AMURLINK_BENCH_BASE`` (default: the commit
   before the study-run work, ``aa7632a``), checked out in a git worktree and run from its
   ``src`` with this virtual environment, beside
2. this checkout's ``amurlink demo`` (simulate into a study folder, then ``amurlink run``),
   on the same scenario and seed, interleaved ``AMURLINK_BENCH_REPEAT`` times (default 1);
   both write the same reports (en, zh, ru owner, en public).
3. ``amurlink run DIR/sim -o DIR`` again: nothing changed, nothing runs (target < 2 s, process
   start included).
4. One input changed (a line appended to the Russian lab's DNA file): the stages that read it
   rerun; the others are unchanged.

Every command is a separate process, as a user runs it. Prints Markdown for RESULTS.md.
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

ROOT = Path(__file__).resolve().parents[1]
BASE = os.environ.get("AMURLINK_BENCH_BASE", "aa7632a")
SCENARIO = os.environ.get("AMURLINK_BENCH_SCENARIO", "neaspec")
REPEAT = int(os.environ.get("AMURLINK_BENCH_REPEAT", "1"))
NOOP_TARGET_S = 2.0


def _cli(src: Path | None) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return [sys.executable, "-c", "from amurlink.cli import main; main()"], env


def _worktree(tmp: Path) -> Path:
    path = tmp / "base"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), BASE],
                   check=True, capture_output=True)
    return path


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


CPU: dict[int, float] = {}


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    """Wall seconds; the CPU seconds of the process and its children go to ``CPU``."""
    c0, t0 = _cpu(), time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    CPU[id(proc)] = _cpu() - c0
    return wall, proc


def main() -> int:
    load0 = os.getloadavg()[0]
    print(f"scenario {SCENARIO}; base {BASE}; {os.cpu_count()} CPUs; load average before "
          f"{load0:.1f}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="amurlink-bench-run-") as t:
        tmp = Path(t)
        base = _worktree(tmp)
        try:
            old_cmd, old_env = _cli(base / "src")
            new_cmd, new_env = _cli(None)
            for i in range(REPEAT):
                for label, cmd, env in (("previous demo", old_cmd, old_env),
                                        ("this demo (simulate + run)", new_cmd, new_env)):
                    out = tmp / f"{'old' if 'previous' in label else 'new'}{i}"
                    timings = out.with_suffix(".json")
                    wall, proc = _timed(cmd + ["demo", "--scenario", SCENARIO, "-o", str(out),
                                               "--timings-json", str(timings)], env)
                    stages = json.loads(timings.read_text()) if timings.is_file() else {}
                    sim = sum(stages.get("stages", {}).get(k, 0.0)
                              for k in ("simulate", "write simulation"))
                    rows.append((label, wall, CPU[id(proc)], sim, proc.returncode,
                                 os.getloadavg()[0]))
                    if proc.returncode != 0:
                        print(proc.stdout[-2000:], proc.stderr[-2000:])
            out = tmp / "new0"
            noop, proc = _timed(new_cmd + ["run", str(out / "sim"), "-o", str(out)], new_env)
            noop_ok = proc.returncode == 0 and "done" not in proc.stdout
            lab = out / "sim" / "dna" / "ru_lab.csv"
            lab.write_text(lab.read_text(encoding="utf-8") + "\n", encoding="utf-8")
            changed, proc = _timed(new_cmd + ["run", str(out / "sim"), "-o", str(out),
                                              "--format", "json"], new_env)
            ran = {}
            if proc.returncode == 0:
                payload = json.loads(proc.stdout)
                ran = {k: v for k, v in payload["timings"].items()}
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(base)], check=False, capture_output=True)
    print("\n| run | wall s (process start included) | CPU s (all processes) | "
          "of which simulating s (wall) | exit | load after |\n|---|---:|---:|---:|---:|---:|")
    for label, wall, cpu, sim, code, load in rows:
        print(f"| {label} | {wall:.1f} | {cpu:.1f} | {sim:.1f} | {code} | {load:.1f} |")
    for i in (1, 2):
        old = sorted(r[i] for r in rows if r[0] == "previous demo")
        new = sorted(r[i] for r in rows if r[0] != "previous demo")
        print(f"median {'wall' if i == 1 else 'CPU'}: previous {old[len(old) // 2]:.1f} s, "
              f"this {new[len(new) // 2]:.1f} s")
    print(f"\n| rerun | wall s | note |\n|---|---:|---|\n| nothing changed | {noop:.2f} | "
          f"{'nothing ran' if noop_ok else 'SOMETHING RAN'}; target < {NOOP_TARGET_S:.0f} s: "
          f"{'met' if noop < NOOP_TARGET_S else 'NOT met'} |")
    print(f"| ru_lab.csv changed | {changed:.2f} | ran: "
          + ", ".join(f"{k} {v:.1f} s" for k, v in ran.items()) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
