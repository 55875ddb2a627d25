"""Benchmark: effort matrix, independent records and detection histories at scale.

1,000 stations over three years (1,096 days), 1,000,000 observations of 5 species.
Run: ``python benchmarks/bench_camtrap.py``.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from amurlink.analysis.camtrap import camera_operation, detection_history, filter_record_table


def make_data(n_stations: int = 1000, n_obs: int = 1_000_000, seed: int = 1):
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2021-01-01")
    setup = start + pd.to_timedelta(rng.integers(0, 30, n_stations), unit="D")
    retr = start + pd.to_timedelta(1095 - rng.integers(0, 30, n_stations), unit="D")
    gap_from = setup + pd.to_timedelta(rng.integers(100, 800, n_stations), unit="D")
    gap_to = gap_from + pd.to_timedelta(rng.integers(1, 60, n_stations), unit="D")
    st = pd.DataFrame({"Station": [f"S{i:04d}" for i in range(n_stations)],
                       "Setup_date": setup.strftime("%Y-%m-%d"),
                       "Retrieval_date": retr.strftime("%Y-%m-%d"),
                       "Problem1_from": gap_from.strftime("%Y-%m-%d"),
                       "Problem1_to": gap_to.strftime("%Y-%m-%d")})
    idx = rng.integers(0, n_stations, n_obs)
    span = (retr - setup).days.to_numpy()[idx]
    secs = (rng.random(n_obs) * (span - 1) * 86400 + 43200).astype(np.int64)
    t = setup.to_numpy()[idx] + secs.astype("timedelta64[s]")
    rec = pd.DataFrame({"Station": st["Station"].to_numpy()[idx],
                        "Species": rng.choice(["PT", "PP", "CP", "SS", "CE"], n_obs),
                        "DateTimeOriginal": pd.to_datetime(t)})
    return st, rec


def main() -> dict[str, float]:
    st, rec = make_data()
    out = {}
    t0 = time.perf_counter()
    camop = camera_operation(st, has_problems=True)
    out["effort"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    indep = filter_record_table(rec, min_delta_time=30, datetime_format="%Y-%m-%d %H:%M:%S")
    out["records"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    detection_history(indep, camop, species=["PT", "PP", "CP", "SS", "CE"], occasion_length=7,
                      day1="station")
    out["histories_5_species"] = time.perf_counter() - t0
    out["total"] = sum(out.values())
    out["independent_records"] = float(len(indep))
    return out


if __name__ == "__main__":
    for k, v in main().items():
        print(f"{k:22s} {v:10.2f}")
