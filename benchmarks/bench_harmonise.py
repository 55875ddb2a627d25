"""Read + validate + harmonise one million observations and one million media rows, side by side
with a typed pyarrow read (the floor) and frictionless-py ``validate`` (the peer).

Run: ``.venv/bin/python benchmarks/bench_harmonise.py`` (``AMURLINK_BENCH_ROWS`` sets N;
``AMURLINK_BENCH_FRICTIONLESS_ROWS`` the slice frictionless validates, scaled to rows/s, or
``full`` to validate the whole package, which takes minutes).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_io import build  # noqa: E402

from amurlink.config import StudyConfig  # noqa: E402
from amurlink.harmonise import harmonise  # noqa: E402
from amurlink.io import load_camtrap_dp  # noqa: E402
from amurlink.schema import TABLES  # noqa: E402

N = int(os.environ.get("AMURLINK_BENCH_ROWS", 1_000_000))
# 1M + 1M rows are above the default read budget (640 MiB): give the benchmark room
os.environ.setdefault("AMURLINK_READ_BUDGET", "8G")
FRICTIONLESS = os.environ.get("AMURLINK_BENCH_FRICTIONLESS_ROWS", "20000")
REPEATS = 5


def typed_arrow_read(pkg: Path) -> None:
    """The floor: pyarrow parses media and observations with their declared types."""
    kinds = {"string": pa.string(), "number": pa.float64(), "integer": pa.int64(),
             "boolean": pa.bool_(), "datetime": pa.timestamp("s", tz="UTC"), "any": pa.string()}
    for name in ("media", "observations"):
        types = {f.name: kinds[f.type] for f in TABLES[name].fields}
        pacsv.read_csv(pkg / f"{name}.csv", convert_options=pacsv.ConvertOptions(
            column_types=types, timestamp_parsers=["%Y-%m-%dT%H:%M:%S%z"],
            true_values=["true"], false_values=["false"]))


def ours(pkg: Path, config: StudyConfig) -> dict[str, float]:
    c0, t0 = time.process_time(), time.perf_counter()
    ds, report = load_camtrap_dp(pkg)
    c1, t1 = time.process_time(), time.perf_counter()
    assert ds is not None and report.valid, report.to_text()
    result = harmonise(ds, config=config, now="2030-01-01T00:00:00Z")
    c2, t2 = time.process_time(), time.perf_counter()
    assert len(result.dataset.observations) == N
    return {"read+validate": t1 - t0, "harmonise": t2 - t1, "total": t2 - t0,
            "cpu read+validate": c1 - c0, "cpu harmonise": c2 - c1, "cpu total": c2 - c0}


def frictionless_seconds(rows_total: int) -> tuple[float, int] | None:
    try:
        import frictionless
    except ImportError:
        return None
    n = N if FRICTIONLESS == "full" else int(FRICTIONLESS)
    with tempfile.TemporaryDirectory() as tmp:
        small = build(Path(tmp) / "small", n)
        desc = json.loads((small / "datapackage.json").read_text())
        desc["resources"] = [{**r, "schema": TABLES[r["name"]].to_descriptor()}
                             for r in desc["resources"]
                             if r["name"] in ("deployments", "media", "observations")]
        desc.pop("profile", None)
        (small / "datapackage.json").write_text(json.dumps(desc))
        cwd = os.getcwd()
        os.chdir(small)
        try:
            t = time.perf_counter()
            frictionless.validate("datapackage.json")
            dt = time.perf_counter() - t
        finally:
            os.chdir(cwd)
    return dt * rows_total / (2 * n), 2 * n


def main() -> None:
    config = StudyConfig()
    with tempfile.TemporaryDirectory() as tmp:
        pkg = build(Path(tmp) / "pkg", N)
        rows = 2 * N
        # Best of five for both, interleaved, so that a burst of load on the shared machine
        # hits both sides alike (single runs here vary by a factor of 1.5).
        runs, floors = [], []
        for _ in range(REPEATS):
            runs.append(ours(pkg, config))
            floors.append(_timed(lambda: typed_arrow_read(pkg)))
        best = min(runs, key=lambda r: r["total"])
        floor = min(f for f, _ in floors)
        floor_cpu = min(c for _, c in floors)
        median_ratio = float(np.median([r["total"] for r in runs])
                             / np.median([f for f, _ in floors]))
    peer = frictionless_seconds(rows)
    print(f"rows (media + observations): {rows:,}")
    print(f"{'method':<52}{'seconds':>10}{'rows/s':>14}{'CPU s':>8}")
    for k in ("read+validate", "harmonise", "total"):
        print(f"{'amurlink ' + k:<52}{best[k]:>10.2f}{rows / best[k]:>14,.0f}"
              f"{best['cpu ' + k]:>8.2f}")
    print(f"{'pyarrow typed CSV read (floor)':<52}{floor:>10.2f}{rows / floor:>14,.0f}"
          f"{floor_cpu:>8.2f}")
    if peer:
        sec, measured = peer
        print(f"{'frictionless-py validate (peer)':<52}{sec:>10.2f}{rows / sec:>14,.0f}"
              f"   (measured on {measured:,} rows, scaled)")
    print(f"median of {REPEATS} runs: amurlink total / pyarrow floor {median_ratio:.1f}x")
    print(f"amurlink total / pyarrow floor: {best['total'] / floor:.1f}x"
          + (f"; vs frictionless: {peer[0] / best['total']:.0f}x faster" if peer else ""))


def _timed(fn) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all threads of this process) of ``fn()``."""
    c, t = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - t, time.process_time() - c


if __name__ == "__main__":
    main()
