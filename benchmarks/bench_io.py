"""Read + validate speed of Camtrap DP packages, side by side with pyarrow and frictionless-py.

Builds a synthetic package with N media and N observation rows (from the bundled toy rows,
with unique IDs), then times:
- amurlink ``load_camtrap_dp`` (read, type, validate every constraint and reference),
- a typed pyarrow CSV read of the same files (the floor: parsing only, no validation),
- frictionless-py ``validate`` on a 20,000-row slice (the peer), scaled to rows per second,
- amurlink ``write_camtrap_dp`` of the dataset read (format every value, write every table)
  beside pyarrow's CSV writer on the typed media + observations tables (its floor).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.csv as pacsv

from amurlink.datasets import example_path
from amurlink.io import load_camtrap_dp, write_camtrap_dp

N = int(os.environ.get("AMURLINK_BENCH_ROWS", 1_000_000))
# 1M + 1M rows are above the default read budget (640 MiB): give the benchmark room
os.environ.setdefault("AMURLINK_READ_BUDGET", "8G")
FRICTIONLESS_ROWS = 20_000


def build(root: Path, n: int) -> Path:
    src = example_path()
    shutil.copytree(src, root, dirs_exist_ok=True)
    media = pd.read_csv(src / "media.csv", dtype=str, keep_default_na=False)
    obs = pd.read_csv(src / "observations.csv", dtype=str, keep_default_na=False)
    reps = int(np.ceil(n / len(media)))
    m = pd.concat([media] * reps, ignore_index=True).iloc[:n]
    m["mediaID"] = [f"m{i}" for i in range(n)]
    m["filePath"] = "media/" + m["mediaID"] + ".jpg"
    o = pd.concat([obs] * reps, ignore_index=True).iloc[:n]
    o["observationID"] = [f"o{i}" for i in range(n)]
    o["mediaID"] = m["mediaID"].to_numpy()
    o["deploymentID"] = m["deploymentID"].to_numpy()
    m.to_csv(root / "media.csv", index=False)
    o.to_csv(root / "observations.csv", index=False)
    return root


def time_it(fn, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def frictionless_rate(pkg: Path) -> float | None:
    try:
        import frictionless
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        small = build(Path(tmp) / "small", FRICTIONLESS_ROWS)
        desc = json.loads((small / "datapackage.json").read_text())
        # Core tables only, with their schemas inline (no network).
        from amurlink.schema import TABLES

        desc["resources"] = [
            {**r, "schema": TABLES[r["name"]].to_descriptor()}
            for r in desc["resources"] if r["name"] in ("deployments", "media", "observations")
        ]
        desc.pop("profile", None)
        (small / "datapackage.json").write_text(json.dumps(desc))
        cwd = os.getcwd()
        os.chdir(small)
        try:
            t = time.perf_counter()
            report = frictionless.validate("datapackage.json")
            dt = time.perf_counter() - t
        finally:
            os.chdir(cwd)
        rows = sum(task.stats.get("rows", 0) or 0 for task in report.tasks)
        return rows / dt


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pkg = build(Path(tmp) / "pkg", N)
        rows = 2 * N
        ours = time_it(lambda: load_camtrap_dp(pkg), repeat=2)
        _, report = load_camtrap_dp(pkg)
        assert report.valid, report.to_text()
        floor = time_it(lambda: [pacsv.read_csv(pkg / f)
                                 for f in ("media.csv", "observations.csv")])
        ds, _ = load_camtrap_dp(pkg)
        out = Path(tmp) / "written"
        write = time_it(lambda: write_camtrap_dp(ds, out, overwrite=True), repeat=2)
        typed = [pacsv.read_csv(pkg / f) for f in ("media.csv", "observations.csv")]
        write_floor = time_it(lambda: [pacsv.write_csv(t, Path(tmp) / f"floor{i}.csv")
                                       for i, t in enumerate(typed)], repeat=2)
        peer = frictionless_rate(pkg)
    print(f"rows (media + observations): {rows:,}")
    print(f"{'method':<44}{'seconds':>10}{'rows/s':>14}")
    print(f"{'amurlink load_camtrap_dp (read+validate)':<44}{ours:>10.2f}{rows / ours:>14,.0f}")
    print(f"{'pyarrow CSV read, types inferred (floor)':<44}{floor:>10.2f}"
          f"{rows / floor:>14,.0f}")
    if peer:
        print(f"{'frictionless-py validate (peer)':<44}{rows / peer:>10.2f}{peer:>14,.0f}"
              f"   (measured on {FRICTIONLESS_ROWS:,} rows, scaled)")
    print(f"amurlink / pyarrow floor: {ours / floor:.1f}x; "
          + (f"amurlink vs frictionless: {(rows / peer) / ours:.0f}x faster" if peer else ""))
    print(f"{'amurlink write_camtrap_dp (all tables)':<44}{write:>10.2f}{rows / write:>14,.0f}")
    print(f"{'pyarrow write_csv, media + observations':<44}{write_floor:>10.2f}"
          f"{rows / write_floor:>14,.0f}")


if __name__ == "__main__":
    main()
