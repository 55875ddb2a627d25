"""Time amurlink's SECR fits against R secr 5.5.0's recorded times (one core, same machine kind).

Run: ``.venv/bin/python benchmarks/bench_secr.py [--repeat 3] [CASE ...]``. Reads the reference
data from ``../shared/data/reference/secr`` (or ``$AMURLINK_SHARED``). Prints one row per case:
our best wall time for the fit (reading files excluded), secr's recorded time, the speed-up, our
best CPU time of the process for the fit (less sensitive than wall time to other jobs on a shared
machine), the number of log-likelihood evaluations, and the largest relative difference of our
real estimates from secr's; then the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from amurlink.analysis.secr import SECR, read_capthist, read_mask

SHARED = Path(os.environ.get("AMURLINK_SHARED", Path(__file__).resolve().parents[2] / "shared"))
REF = SHARED / "data" / "reference" / "secr"

# case: (detector, detectfn, secr seconds on one core)
CASES = {
    "amur-proximity-hn": ("proximity", "HN", 180.504),
    "amur-proximity-hhn": ("proximity", "HHN", 85.622),
    "amur-count-usage-hhn": ("count", "HHN", 30.055),
    "captdata": ("multi", "HN", 2.67),
}


def load(case: str):
    folder = REF / case
    if case.startswith("amur"):
        exp = json.loads((folder / "expected.json").read_text())
        ch = read_capthist(folder / "traps.csv", folder / "captures.csv",
                           detector=CASES[case][0], n_occasions=exp["noccasions"])
        mask = read_mask(folder / "mask.csv", spacing=exp["mask_spacing"])
        ref = {k: v["estimate"] for k, v in exp["estimates"].items()}
    else:
        ch = read_capthist(folder / "traps.csv", folder / "captures.csv", detector="multi")
        mask = read_mask(folder / "mask.csv")
        fit = json.loads((folder / "fits" / "secrdemo.0.json").read_text())
        ref = {r["parameter"]: r["estimate"] for r in fit["real"]}
    return ch, mask, ref


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("cases", nargs="*", default=list(CASES))
    args = ap.parse_args()
    print(f"{'case':<24}{'ours (s)':>10}{'secr (s)':>10}{'speed-up':>10}{'CPU (s)':>9}"
          f"{'evals':>7}{'max rel diff':>14}")
    for case in args.cases:
        detector, fn, secr_s = CASES[case]
        ch, mask, ref = load(case)
        best = cpu = float("inf")
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            est = SECR(detectfn=fn).fit(ch, mask)
            best = min(best, time.perf_counter() - t0)
            cpu = min(cpu, time.process_time() - c0)
        pred = est.results_.predict()
        diff = max(abs(pred.loc[k, "estimate"] / v - 1) for k, v in ref.items())
        print(f"{case:<24}{best:>10.3f}{secr_s:>10.2f}{secr_s / best:>9.1f}x{cpu:>9.3f}"
              f"{est.n_evaluations_:>7}{diff:>14.2e}")
    print("load average (1, 5, 15 min): " + ", ".join(f"{v:.2f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
