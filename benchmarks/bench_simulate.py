"""Generation time of the simulator's scenarios (simulate + write), and the neaspec summary.

Targets (issue 4): ``small`` under 2 s, ``neaspec`` under 30 s. Set AMURLINK_BENCH_LARGE=1 to
time the ``large`` scenario (a million observations) too.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from amurlink.simulate import simulate_study, write_study


def run(name: str, seed: int = 1) -> tuple[float, float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        study = simulate_study(name, seed=seed)
        t1 = time.perf_counter()
        out = write_study(study, Path(tmp) / name)
        t2 = time.perf_counter()
        summary = json.loads((out / "summary.json").read_text())
    return t1 - t0, t2 - t1, summary


def main() -> None:
    names = ["small", "neaspec"] + (["large"] if os.environ.get("AMURLINK_BENCH_LARGE") else [])
    print(f"{'scenario':10} {'simulate s':>11} {'write s':>8} {'total s':>8} {'obs CN':>8} "
          f"{'rows RU':>8} {'photos':>7}")
    for name in names:
        sim, write, s = run(name)
        print(f"{name:10} {sim:11.2f} {write:8.2f} {sim + write:8.2f} "
              f"{s['observations']['cn']:8d} {s['observations']['ru']:8d} "
              f"{s['images']['files']:7d}", flush=True)
        if name == "neaspec":
            print(json.dumps({k: s[k] for k in ("animals", "cameras", "photographed",
                                                "samples")}, indent=1))


if __name__ == "__main__":
    main()
