"""Generation time of the simulator's scenarios (simulate + write), and the neaspec summary.

Targets (issue 4): ``small`` under 2 s, ``neaspec`` under 30 s (its flank photos included).
Set AMURLINK_BENCH_LARGE=1 to time the ``large`` scenario (a million observations) too.

Also times the flank renderer (``render``): per photo with the pattern drawn for every photo
(as before the pattern cache) against the simulator's way (pattern once per animal-flank,
photos through ``map_items``), on the photos ``neaspec`` writes. CPU seconds are printed
beside wall seconds because the shared development machine is often loaded.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from amurlink.simulate import simulate_study, write_study


def run(name: str, seed: int = 1) -> tuple[float, float, float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        c0, t0 = time.process_time(), time.perf_counter()
        study = simulate_study(name, seed=seed)
        t1 = time.perf_counter()
        out = write_study(study, Path(tmp) / name)
        t2, c2 = time.perf_counter(), time.process_time()
        summary = json.loads((out / "summary.json").read_text())
    return t1 - t0, t2 - t1, c2 - c0, summary


def bench_render(name: str = "neaspec", seed: int = 1, n_old: int = 60) -> None:
    """Seconds per photo: pattern per photo (old) vs cached pattern + map_items (new)."""
    import numpy as np

    from amurlink.simulate import flanks
    from amurlink.simulate._write import _images, _photo_jobs, _select_photos

    study = simulate_study(name, seed=seed)
    jobs = _select_photos(study, _photo_jobs(study), np.random.default_rng(0))
    a = study.animals
    rng = np.random.default_rng(1)
    sub = jobs.head(n_old)
    t0 = time.perf_counter()
    for ai, sp, side in zip(sub["animalIdx"], sub["scientificName"], sub["flank"], strict=True):
        flanks._cached_pattern.cache_clear()  # the pattern drawn again for every photo
        image, info = flanks.render_flank(int(a["patternSeed"].iat[int(ai)]), sp, side, rng=rng)
        flanks.jpeg_roundtrip(image, info["jpeg_quality"])
    old = (time.perf_counter() - t0) / len(sub)
    print(f"render: {len(jobs)} photos, {jobs.groupby(['animalIdx', 'flank']).ngroups} "
          f"animal-flanks; pattern per photo {1000 * old:.1f} ms/photo", flush=True)
    for sched in ("serial", None):
        flanks._cached_pattern.cache_clear()
        with tempfile.TemporaryDirectory() as tmp:
            c0, t0 = time.process_time(), time.perf_counter()
            _images(study, Path(tmp), scheduler=sched)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"render: cached pattern, {sched or 'dask threads'}: {wall:.2f} s wall "
              f"({1000 * wall / len(jobs):.1f} ms/photo), {cpu:.2f} s CPU", flush=True)


def main() -> None:
    names = ["small", "neaspec"] + (["large"] if os.environ.get("AMURLINK_BENCH_LARGE") else [])
    print(f"{'scenario':10} {'simulate s':>11} {'write s':>8} {'total s':>8} {'CPU s':>6} "
          f"{'obs CN':>8} {'rows RU':>8} {'photos':>7}")
    for name in names:
        sim, write, cpu, s = run(name)
        print(f"{name:10} {sim:11.2f} {write:8.2f} {sim + write:8.2f} {cpu:6.1f} "
              f"{s['observations']['cn']:8d} {s['observations']['ru']:8d} "
              f"{s['images']['files']:7d}", flush=True)
        if name == "neaspec":
            print(json.dumps({k: s[k] for k in ("animals", "cameras", "photographed",
                                                "samples")}, indent=1))


if __name__ == "__main__":
    main()
    if not os.environ.get("AMURLINK_BENCH_NO_RENDER"):
        bench_render()
