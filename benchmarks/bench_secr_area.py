"""Benchmark: SECR area and line detectors (polygon, transect; issue #20).

Side by side in one run:

* the detector integrals ``I_k(x)`` of one L-shaped area (HHN, sigma 250 m) at 3,000 centres:
  amurlink's trapezoid Gauss-Legendre (``area.detector_integrals``) against scipy's adaptive
  ``dblquad`` per centre (the baseline, timed on 30 centres), with the largest relative
  difference;
* a fit (D, lambda0, sigma; HHN) of each detector type on the simulation design of
  ``tests/analysis/secr/test_secr_area.py`` (two 1 km² blocks or two routes, 3 occasions,
  3,300 mask points): wall time, likelihood evaluations.

No R time exists for these (../shared holds no secr fit of area detectors).

Run: ``python benchmarks/bench_secr_area.py``.
"""

from __future__ import annotations

import os
import time

import numpy as np
from scipy.integrate import dblquad
from shapely.geometry import LineString, Polygon, box

from amurlink.analysis.secr import SECR, make_mask, simulate_area_capthist
from amurlink.analysis.secr.area import _Polygon, detector_integrals
from amurlink.analysis.secr.detectfn import get_detectfn

L_SHAPE = Polygon([(0, 0), (1000, 0), (1000, 400), (400, 400), (400, 1000), (0, 1000)])


def _scipy_integral(mx: float, my: float, sigma: float) -> float:
    def f(y: float, x: float) -> float:
        return float(np.exp(-((x - mx) ** 2 + (y - my) ** 2) / (2 * sigma * sigma)))

    opts = {"epsabs": 1e-12, "epsrel": 1e-11}
    return (dblquad(f, 0, 400, 0, 1000, **opts)[0]
            + dblquad(f, 400, 1000, 0, 400, **opts)[0])


def integrals() -> None:
    fn = get_detectfn("HHN")
    sigma = 250.0
    xy = np.random.default_rng(0).uniform(-500, 1500, size=(3000, 2))
    shp = [_Polygon(L_SHAPE)]
    detector_integrals(shp, xy[:10], fn, sigma)  # warm the node cache
    t = time.perf_counter()
    ours = detector_integrals(shp, xy, fn, sigma)[0]
    t_ours = (time.perf_counter() - t) / len(xy)
    t = time.perf_counter()
    ref = np.array([_scipy_integral(x, y, sigma) for x, y in xy[:30]])
    t_ref = (time.perf_counter() - t) / 30
    diff = float(np.max(np.abs(ours[:30] / ref - 1)))
    print(f"integrals per centre: amurlink {t_ours * 1e6:8.2f} us   scipy dblquad "
          f"{t_ref * 1e3:6.2f} ms   ratio {t_ref / t_ours:6.0f}   max rel diff {diff:.1e}")


def fits() -> None:
    buf = 600.0
    xl, yl = (-buf, 2500 + buf), (-buf, 1000 + buf)
    mask = make_mask(np.array([[0.0, 0.0], [2500.0, 1000.0]]), buffer=buf, spacing=75,
                     type="traprect")
    for det in ("polygon", "polygonX", "transect", "transectX"):
        geoms = ([box(0, 0, 1000, 1000), box(1500, 0, 2500, 1000)] if det.startswith("poly")
                 else [LineString([(0, 0), (1000, 0), (1000, 1000)]),
                       LineString([(1500, 0), (2500, 1000)])])
        rng = np.random.default_rng(1000)
        N = rng.poisson(0.5 * (xl[1] - xl[0]) * (yl[1] - yl[0]) / 1e4)
        cent = np.column_stack([rng.uniform(*xl, N), rng.uniform(*yl, N)])
        ch = simulate_area_capthist(geoms, det, cent, lambda0=2.0, sigma=150.0,
                                    n_occasions=3, rng=rng)
        t = time.perf_counter()
        m = SECR(detectfn="HHN").fit(ch, mask)
        wall = time.perf_counter() - t
        d = m.results_.predict().loc["D"]
        print(f"fit {det:9s} n={ch.n:3d} detections={ch.n_detections:4d} mask={mask.n_points}"
              f"  {wall:5.2f} s  {m.n_evaluations_:3d} evaluations  D {d['estimate']:.3f}/ha")


def main() -> None:
    print(f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    integrals()
    fits()


if __name__ == "__main__":
    main()
