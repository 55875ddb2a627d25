"""``amurlink run`` against the demo of the commit before it, a no-op rerun, one input changed.

1. The previous pipeline: ``amurlink demo`` of ``AMURLINK_BENCH_BASE`` (default: the commit
   before the study-run work, ``aa7632a``), checked out in a git worktree and run from its
   ``src`` with this virtual environment, beside
2. this checkout's ``amurlink demo`` (simulate into a study folder, then ``amurlink run``)
   with the theme stages the previous demo never had left out (``--skip design --skip
   corridors --skip incidents --skip 'secr models'``: the study's ``[run] skip``, and the
   demo then writes no incident books or corridor resistance), so both produce the same set
   of reports (en, zh, ru owner and en public; checked after each run) from the same
   scenario and seed, interleaved ``AMURLINK_BENCH_REPEAT`` times (default 1). With
   ``AMURLINK_BENCH_THEMES=1`` the full demo (theme stages included) runs too, for its cost.
3. ``amurlink run DIR/sim -o DIR`` again: nothing changed, nothing runs (target < 2 s, process
   start included).
4. One input changed (a line appended to the Russian lab's DNA file): the stages that read it
   rerun; the others are unchanged.

Every command is a separate process, as a user runs it. Wall seconds include process start;
CPU seconds are those of the whole process tree (user + system of the process and every
child it waited for: forked and spawned stages, ``getrusage(RUSAGE_CHILDREN)``), the fairer
figure on a loaded machine. Prints Markdown for RESULTS.md: one row per run, then the
stages of the last pair side by side (each demo's ``--timings-json``; stage wall seconds,
children beside the main process marked).
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
THEMES = os.environ.get("AMURLINK_BENCH_THEMES", "") not in ("", "0")
NOOP_TARGET_S = 2.0
#: Stages of this demo the previous one never had (left out to compare like with like).
THEME_STAGES = ("design", "corridors", "incidents", "secr models")
#: The reports both demos write.
REPORTS = ("en", "zh", "ru", "public-en")


def _cli(src: Path | None) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
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


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall seconds, CPU seconds of the process tree, the finished process."""
    c0, t0 = _cpu(), time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    return time.perf_counter() - t0, _cpu() - c0, proc


def _reports(out: Path) -> tuple[str, ...]:
    return tuple(sorted(p.parent.name for p in (out / "report").glob("*/report.html")))


def main() -> int:
    load0 = os.getloadavg()[0]
    print(f"scenario {SCENARIO}; base {BASE}; {os.cpu_count()} CPUs; load average before "
          f"{load0:.1f}; this demo with --skip {', '.join(THEME_STAGES)}")
    runs = [("previous demo", "old", ())]
    runs.append(("this demo (simulate + run), theme stages left out", "new", THEME_STAGES))
    if THEMES:
        runs.append(("this demo, theme stages included", "full", ()))
    rows, stage_tables = [], {}
    ok = True
    with tempfile.TemporaryDirectory(prefix="amurlink-bench-run-") as t:
        tmp = Path(t)
        base = _worktree(tmp)
        try:
            old_cmd, old_env = _cli(base / "src")
            new_cmd, new_env = _cli(None)
            for i in range(REPEAT):
                for label, key, skip in runs:
                    cmd, env = (old_cmd, old_env) if key == "old" else (new_cmd, new_env)
                    out = tmp / f"{key}{i}"
                    timings = out.with_suffix(".json")
                    args = ["demo", "--scenario", SCENARIO, "-o", str(out),
                            "--timings-json", str(timings)]
                    for name in skip:
                        args += ["--skip", name]
                    wall, cpu, proc = _timed(cmd + args, env)
                    payload = json.loads(timings.read_text()) if timings.is_file() else {}
                    stages = payload.get("stages", {})
                    stage_tables[key] = payload
                    sim = sum(stages.get(k, 0.0) for k in ("simulate", "write simulation"))
                    reports = _reports(out)
                    same = reports == tuple(sorted(REPORTS))
                    ok &= proc.returncode == 0 and same
                    rows.append((label, wall, cpu, sim, proc.returncode, os.getloadavg()[0],
                                 "yes" if same else "NO: " + ", ".join(reports)))
                    if proc.returncode != 0:
                        print(proc.stdout[-2000:], proc.stderr[-2000:])
            out = tmp / "new0"
            noop, noop_cpu, proc = _timed(new_cmd + ["run", str(out / "sim"), "-o", str(out)],
                                          new_env)
            noop_ok = proc.returncode == 0 and "done" not in proc.stdout
            lab = out / "sim" / "dna" / "ru_lab.csv"
            lab.write_text(lab.read_text(encoding="utf-8") + "\n", encoding="utf-8")
            changed, changed_cpu, proc = _timed(new_cmd + ["run", str(out / "sim"), "-o",
                                                           str(out), "--format", "json"],
                                                new_env)
            ran = {}
            if proc.returncode == 0:
                payload = json.loads(proc.stdout)
                cpus = payload.get("cpu", {})
                ran = {k: (v, cpus.get(k)) for k, v in payload["timings"].items()}
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(base)], check=False, capture_output=True)
    print("\n| run | wall s (process start included) | CPU s (process tree) | "
          "of which simulating s (wall) | exit | load after | reports en, zh, ru, public-en |"
          "\n|---|---:|---:|---:|---:|---:|---|")
    for label, wall, cpu, sim, code, load, same in rows:
        print(f"| {label} | {wall:.1f} | {cpu:.1f} | {sim:.1f} | {code} | {load:.1f} | {same} |")
    for i, what in ((1, "wall"), (2, "CPU")):
        med = {}
        for _, key, _ in runs:
            label = next(r[0] for r in runs if r[1] == key)
            vals = sorted(r[i] for r in rows if r[0] == label)
            med[key] = vals[len(vals) // 2]
        print(f"median {what}: previous {med['old']:.1f} s, this (theme stages left out) "
              f"{med['new']:.1f} s ({(med['new'] / med['old'] - 1) * 100:+.0f}%)"
              + (f", this with theme stages {med['full']:.1f} s" if "full" in med else ""))
    keys = [k for _, k, _ in runs if k in stage_tables]
    names: list[str] = []
    for k in keys:
        names += [n for n in stage_tables[k].get("stages", {}) if n not in names]
    cpu_keys = [k for k in keys if stage_tables[k].get("cpu")]  # the previous demo has none
    print("\nStage seconds of the last run of each: wall (c: a child process beside the main "
          "one), and CPU where the demo records it\n\n| stage | "
          + " | ".join([f"{k} wall" for k in keys] + [f"{k} CPU" for k in cpu_keys])
          + " |\n|---|" + "---:|" * (len(keys) + len(cpu_keys)))
    for n in names:
        cells = []
        for k in keys:
            tab = stage_tables[k]
            v = tab.get("stages", {}).get(n)
            mark = " c" if n in tab.get("background", ()) else ""
            cells.append("" if v is None else f"{v:.1f}{mark}")
        for k in cpu_keys:
            v = stage_tables[k]["cpu"].get(n)
            cells.append("" if v is None else f"{v:.1f}")
        print(f"| {n} | " + " | ".join(cells) + " |")
    print(f"\n| rerun | wall s | CPU s | note |\n|---|---:|---:|---|\n| nothing changed | "
          f"{noop:.2f} | {noop_cpu:.2f} | {'nothing ran' if noop_ok else 'SOMETHING RAN'}; "
          f"target < {NOOP_TARGET_S:.0f} s: {'met' if noop < NOOP_TARGET_S else 'NOT met'} |")
    print(f"| ru_lab.csv changed | {changed:.2f} | {changed_cpu:.2f} | ran: "
          + ", ".join(f"{k} {v:.1f} s" + ("" if c is None else f" ({c:.1f} CPU)")
                      for k, (v, c) in ran.items()) + " |")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
