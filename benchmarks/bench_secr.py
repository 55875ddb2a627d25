"""Time amurlink's SECR fits against R secr 5.5.0's recorded times (one core, same machine kind).

Run: ``.venv/bin/python benchmarks/bench_secr.py [--repeat 3] [CASE ...]``. Reads the reference
data from ``../shared/data/reference/secr`` and ``../shared/data/reference/secrdesign`` (or
``$AMURLINK_SHARED``); the secrdesign cases are the issue #20 reference fits (``fits.json``:
D~session, D~forest, bk, b, h2+hcov, noneuc, CL, full; secr's recorded wall times, one
thread), named ``fits:<name>``; ``startup`` times ``amurlink secr`` (a usage error: command
start-up only) beside ``amurlink --version``. Prints one row per case:
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


DESIGN = SHARED / "data" / "reference" / "secrdesign"
NOCC = {"A_CN_RU": 30, "HAB": 30, "BK": 20, "NE": 20}


def _fits() -> dict:
    path = DESIGN / "fits.json"
    return json.loads(path.read_text())["fits"] if path.exists() else {}


def load_fit(name: str):
    """Data, SECR keyword arguments, secr's time and real estimates of a fits.json entry."""
    ref = _fits()[name]
    ds = ref["data"].split("/")[1].split(" ")[0]
    d = DESIGN / "fits" / ds
    animals = d / "animals.csv"
    ch = read_capthist(d / "traps.csv", d / "captures.csv", detector="proximity",
                       animals=animals if animals.exists() else None, n_occasions=NOCC[ds])
    if (d / "mask.csv").exists():
        mask = read_mask(d / "mask.csv", spacing=1000)
    else:
        mask = [read_mask(d / f"mask_{c.session}.csv", spacing=1000) for c in ch]
    if "CN only" in ref["data"]:
        ch, mask = ch[0], mask[0]
    kw = {"detectfn": ref["detectfn"], "hcov": ref["hcov"], "conditional": ref["CL"],
          "model": {k: v for k, v in ref["model"].items() if k != "pmix"}}
    beta = {b["name"]: b["beta"] for b in ref["beta"]}
    return ch, mask, kw, float(ref["elapsed_s"]), beta


def startup(repeat: int) -> None:
    import shutil
    import subprocess
    import sys

    exe = shutil.which("amurlink", path=str(Path(sys.executable).parent)) or "amurlink"
    import resource

    # typer's own eager coercion (before amurlink.cli._fastparams): undo the wrapper after
    # the import, before the command line is parsed
    eager = ("import sys, typer.core as t; b = t.build_runtime_param; import amurlink.cli as c;"
             " t.build_runtime_param = b; sys.argv = ['amurlink', 'secr']; c.main()")
    for label, cmd in (("amurlink secr (usage error)", [exe, "secr"]),
                       ("amurlink secr, typer eager", [sys.executable, "-c", eager]),
                       ("amurlink --version", [exe, "--version"])):
        times, cpu = [], []
        for _ in range(repeat):
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           check=False)
            times.append(time.perf_counter() - t0)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
        times.sort()
        cpu.sort()
        print(f"{label:<32} wall best {times[0]:.3f} s, median {times[len(times) // 2]:.3f} s;"
              f" CPU best {cpu[0]:.3f} s, median {cpu[len(cpu) // 2]:.3f} s (target < 0.5 s)")


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
    ap.add_argument("cases", nargs="*",
                    default=[*CASES, *(f"fits:{n}" for n in _fits()), "startup"])
    args = ap.parse_args()
    print(f"{'case':<24}{'ours (s)':>10}{'secr (s)':>10}{'speed-up':>10}{'CPU (s)':>9}"
          f"{'evals':>7}{'max rel diff':>14}")
    for case in args.cases:
        if case == "startup":
            startup(max(args.repeat, 5))
            continue
        if case.startswith("fits:"):
            ch, mask, kw, secr_s, beta = load_fit(case[5:])
            best = cpu = float("inf")
            for _ in range(args.repeat):
                t0, c0 = time.perf_counter(), time.process_time()
                est = SECR(**kw).fit(ch, mask)
                best = min(best, time.perf_counter() - t0)
                cpu = min(cpu, time.process_time() - c0)
            p = est.results_.params
            diff = max(abs(p[k] - v) / max(abs(v), 1e-3) for k, v in beta.items())
            print(f"{case:<24}{best:>10.3f}{secr_s:>10.2f}{secr_s / best:>9.1f}x{cpu:>9.3f}"
                  f"{est.n_evaluations_:>7}{diff:>14.2e}")
            continue
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
