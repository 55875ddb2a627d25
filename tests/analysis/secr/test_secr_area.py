"""Area and line detectors (secr's polygon, polygonX, transect, transectX).

No R secr fit of area or line detectors is in ../shared (the secr package's own tests use
data simulated with R's random numbers), so the references here are:

* the integrals against scipy's adaptive quadrature (``dblquad``/``quad``): halfnormal 1e-12
  relative (closed-form inner integral), other hazard functions 1e-5 (HEX's cusp) or 1e-6;
* the log-likelihood against an independent implementation of secr's area-search likelihood
  written out below from its definition (Efford 2011), with scipy's integrals: 1e-9 relative;
* the point limit against R secr: the amur-count-usage-hhn count-detector case with each
  camera replaced by a 1 m square searched area, detections at its centre, has secr's MLE
  (D and sigma within 1e-3 as the count reference itself, and within 1e-6 of amurlink's count
  fit, SEs within 1e-3; lambda0 scaled by the square's share of the plane's integral);
* a simulation (8 replicates of two detector types in the default suite; slow: 200 of each
  type) for unbiased D and sigma and the coverage of D's interval.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from scipy.integrate import dblquad, quad
from scipy.special import gammaln
from shapely.geometry import LineString, MultiLineString, Polygon, box

from amurlink.analysis.secr import SECR, CaptureHistory, LogLikelihood, Mask, make_mask
from amurlink.analysis.secr.area import (
    _Line,
    _Polygon,
    detector_integrals,
    normaliser,
    simulate_area_capthist,
)
from amurlink.analysis.secr.detectfn import get_detectfn
from amurlink.analysis.secr.links import transform
from amurlink.exceptions import DataError

L_SHAPE = Polygon([(0, 0), (1000, 0), (1000, 400), (400, 400), (400, 1000), (0, 1000)])
HOLED = Polygon([(0, 0), (900, 0), (900, 900), (0, 900)],
                [[(300, 300), (600, 300), (600, 600), (300, 600)]])
POINTS = np.array([[200.0, 200.0], [1500.0, 300.0], [700.0, 700.0], [-300.0, -300.0],
                   [450.0, 450.0]])
Z = {"HHN": None, "HEX": None, "HHR": 3.0, "HVP": 1.5, "HAN": 100.0}


def _z1(fn, r, sigma, z):
    return float(fn.core(np.array([r]), np.array([r * r]), sigma, z)[0])


def _poly_integral(geom, fn, sigma, z, mx, my):
    """Integral of z over a polygon by scipy: split into its vertical trapezoids' x range,
    integrand zero outside (adaptive quadrature on each x strip between vertices)."""
    xs = np.unique(shapely.get_coordinates(geom)[:, 0])
    total = 0.0
    for a, b in zip(xs[:-1], xs[1:], strict=True):
        sect = geom.intersection(box(a, -1e7, b, 1e7))
        for part in getattr(sect, "geoms", [sect]):
            if part.area <= 0:
                continue
            lo, hi = part.bounds[1], part.bounds[3]
            pa = part

            def ylims(x, pa=pa, lo=lo, hi=hi):
                seg = pa.intersection(LineString([(x, lo - 1), (x, hi + 1)]))
                return seg.bounds[1], seg.bounds[3]

            total += dblquad(lambda y, x: _z1(fn, np.hypot(x - mx, y - my), sigma, z),
                             a, b, lambda x, f=ylims: f(x)[0], lambda x, f=ylims: f(x)[1],
                             epsabs=1e-12, epsrel=1e-11)[0]
    return total


def _line_integral(geom, fn, sigma, z, mx, my):
    total = 0.0
    for part in getattr(geom, "geoms", [geom]):
        c = np.asarray(part.coords)
        for p0, p1 in zip(c[:-1], c[1:], strict=True):
            L = float(np.hypot(*(p1 - p0)))
            e = (p1 - p0) / L
            t0 = float((np.array([mx, my]) - p0) @ e)
            pts = [t0] if 0 < t0 < L else None
            total += quad(lambda t, p0=p0, e=e: _z1(fn, float(np.hypot(*(p0 + t * e
                                                                          - [mx, my]))),
                                                    sigma, z),
                          0, L, points=pts, limit=400, epsabs=0, epsrel=1e-12)[0]
    return total


# ----------------------------------------------------------------------------- integrals
@pytest.mark.parametrize("name", sorted(Z))
@pytest.mark.parametrize("geom", [L_SHAPE, HOLED], ids=["L-shape", "with-hole"])
def test_polygon_integrals_match_adaptive_quadrature(name, geom):
    fn, z, sigma = get_detectfn(name), Z[name], 250.0
    ours = detector_integrals([_Polygon(geom)], POINTS, fn, sigma, z)[0]
    ref = np.array([_poly_integral(geom, fn, sigma, z, *p) for p in POINTS])
    tol = 1e-12 if name == "HHN" else (2e-5 if name == "HEX" else 2e-6)
    np.testing.assert_allclose(ours, ref, rtol=tol)


@pytest.mark.parametrize("name", ["HHN", "HEX", "HHR", "HAN"])
def test_transect_integrals_match_adaptive_quadrature(name):
    geom = MultiLineString([[(0, 0), (1000, 0), (1000, 800), (1500, 1200)],
                            [(-200, 600), (300, 700)]])
    fn, z, sigma = get_detectfn(name), Z[name], 250.0
    ours = detector_integrals([_Line(geom)], POINTS, fn, sigma, z)[0]
    ref = np.array([_line_integral(geom, fn, sigma, z, *p) for p in POINTS])
    np.testing.assert_allclose(ours, ref, rtol=1e-12 if name == "HHN" else 1e-6)


def test_normaliser_is_the_integral_to_20_sigma():
    s = 300.0
    for name in ("HHN", "HEX", "HHR", "HVP", "HAN"):
        fn, z = get_detectfn(name), Z[name]
        two = quad(lambda r, fn=fn, z=z: r * _z1(fn, r, s, z), 0, 20 * s, limit=400,
                   points=[z] if name == "HAN" else None, epsrel=1e-12)[0] * 2 * np.pi
        one = quad(lambda r, fn=fn, z=z: _z1(fn, r, s, z), 0, 20 * s, limit=400,
                   points=[z] if name == "HAN" else None, epsrel=1e-12)[0] * 2
        assert normaliser(fn, s, z, 2) == pytest.approx(two, rel=1e-9)
        assert normaliser(fn, s, z, 1) == pytest.approx(one, rel=1e-9)
    # the halfnormal's are the bivariate and univariate normal constants
    assert normaliser(get_detectfn("HHN"), s, None, 2) == pytest.approx(2 * np.pi * s * s)
    assert normaliser(get_detectfn("HHN"), s, None, 1) == pytest.approx(s * np.sqrt(2 * np.pi))


# ----------------------------------------------------------------------------- likelihood
def _small_case(detector):
    """Three animals, two occasions, two detectors, with usage."""
    if detector.startswith("polygon"):
        geoms = [L_SHAPE, box(1200, 0, 1800, 500)]
    else:
        geoms = [LineString([(0, 0), (1000, 0), (1000, 800)]),
                 LineString([(1200, 0), (1800, 500)])]
    pts = {
        0: [(0, 0, (300, 200)), (0, 0, (350, 250)), (1, 1, (1500, 100))],
        1: [(1, 0, (1300, 300))],
        2: [(0, 1, (200, 800)), (1, 0, (1700, 400))],
    }
    if detector.startswith("transect"):  # the same layout, locations on the lines
        pts = {0: [(0, 0, (300, 0)), (0, 0, (1000, 250)), (1, 1, (1500, 250))],
               1: [(1, 0, (1320, 100))], 2: [(0, 1, (1000, 700)), (1, 0, (1740, 450))]}
    if detector.endswith("X"):  # at most one per animal and occasion
        pts[0] = [(0, 0, pts[0][0][2]), (1, 1, pts[0][2][2])]
    rows = [(a, s, k, *xy) for a, lst in pts.items() for k, s, xy in lst]
    r = np.array(rows, dtype=float)
    usage = np.array([[1.0, 2.0], [0.5, 1.0]])
    ch = CaptureHistory.from_locations(geoms, r[:, 0].astype(int), r[:, 1].astype(int),
                                       r[:, 2].astype(int), r[:, 3:5], detector=detector,
                                       n_occasions=2, usage=usage)
    xs, ys = np.meshgrid(np.arange(-500, 2400, 400.0), np.arange(-500, 1600, 400.0))
    mask = Mask.from_points(np.column_stack([xs.ravel(), ys.ravel()]), spacing=400.0)
    return ch, mask, geoms, usage


def _independent_loglik(ch, mask, geoms, usage, D, lam, sigma, *, lam_b=None,
                        sigma_b=None):
    """secr's full likelihood of area searches written out from its definition, with
    scipy's integrals: log L = sum_i log(D a sum_m Pr(w_i | x_m)) - D a sum_m p.(x_m)
    - sum_w log n_w!, Pr the product over occasions of the Poisson (or exclusive) detection
    terms and the location densities. ``lam`` and ``sigma``: one value, or one per occasion.
    ``lam_b``, ``sigma_b`` (learned response b): the values on an animal's occasions after
    its first detection (p. stays naive)."""
    fn = get_detectfn("HHN")
    dim = 2 if ch.detector.startswith("polygon") else 1
    integ = _poly_integral if dim == 2 else _line_integral
    a = mask.cell_area_ha
    frame = ch.to_frame()
    n, S, K = ch.counts.shape
    first = [int(np.flatnonzero(ch.counts[i].sum(axis=1))[0]) for i in range(n)]
    states = [(lam, sigma)] + ([] if lam_b is None else [(lam_b, sigma_b)])
    per_state = []
    for lam_, sig_ in states:
        lam_s = np.broadcast_to(np.asarray(lam_, dtype=float), (S,))
        sig_s = np.broadcast_to(np.asarray(sig_, dtype=float), (S,))
        H_s = 2 * np.pi * sig_s**2 if dim == 2 else sig_s * np.sqrt(2 * np.pi)
        per_state.append((lam_s, sig_s, H_s))
    total_pr = np.zeros(n)
    pdot_sum = 0.0
    for mx, my in mask.xy:
        # integral of z over each detector (intercept 1), per occasion's sigma: (S, K)
        terms = []
        for lam_s, sig_s, H_s in per_state:
            I_sk = np.array([[integ(g, fn, sig_s[s], None, mx, my) for g in geoms]
                             for s in range(S)])
            hk = lam_s[:, None] * I_sk / H_s[:, None]  # (S, K)
            terms.append((I_sk, hk, (usage.T * hk).sum(axis=1), sig_s))  # Hs: (S,)
        pdot_sum += 1 - np.exp(-terms[0][2].sum())
        for i in range(n):
            pr = 1.0
            rows = frame[frame.animal_id == ch.animal_ids[i]]
            for s in range(S):
                I_sk, hk, Hs, sig_s = terms[1 if len(terms) == 2 and s > first[i] else 0]
                here = rows[rows.occasion == s + 1]
                if ch.detector.endswith("X"):
                    if len(here) == 0:
                        pr *= np.exp(-Hs[s])
                        continue
                    k = int(here.trap_id.iloc[0]) - 1
                    pr *= (1 - np.exp(-Hs[s])) * usage[k, s] * hk[s, k] / Hs[s]
                else:
                    for k in range(K):
                        c = int((here.trap_id == str(k + 1)).sum())
                        mu = usage[k, s] * hk[s, k]
                        pr *= np.exp(c * np.log(mu) - mu - gammaln(c + 1))
                for _, row in here.iterrows():
                    k = int(row.trap_id) - 1
                    r = np.hypot(row.x - mx, row.y - my)
                    pr *= np.exp(-r * r / (2 * sig_s[s] ** 2)) / I_sk[s, k]
            total_pr[i] += pr
    keys = [ch.counts[i].tobytes() for i in range(n)]
    _, cnt = np.unique(keys, return_counts=True)
    return float(np.sum(np.log(D * a * total_pr)) - D * a * pdot_sum - gammaln(cnt + 1).sum())


@pytest.mark.parametrize("detector", ["polygon", "polygonX", "transect", "transectX"])
def test_loglik_equals_independent_implementation(detector):
    ch, mask, geoms, usage = _small_case(detector)
    D, lam, sigma = 0.02, 1.7, 450.0
    ll = LogLikelihood(ch, mask, detectfn="HHN")
    ours = ll([np.log(D), np.log(lam), np.log(sigma)])
    ref = _independent_loglik(ch, mask, geoms, usage, D, lam, sigma)
    assert ours == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize("detector", ["polygon", "polygonX", "transect", "transectX"])
def test_learned_response_equals_the_independent_implementation(detector):
    """lambda0 ~ b and sigma ~ b: after its first detection an animal is searched with
    other parameters (secr's learned response for area detectors); also with ~ t."""
    ch, mask, geoms, usage = _small_case(detector)
    assert np.any(ch.counts.sum(axis=2)[:, 1] > 0) and np.any(ch.counts.sum(axis=2)[:, 0])
    D, lam, lam_b, sig, sig_b = 0.02, 1.7, 0.6, 450.0, 380.0
    ll = LogLikelihood(ch, mask, detectfn="HHN", model={"lambda0": "~b", "sigma": "~b"})
    assert ll.design.beta_names == ["D", "lambda0", "lambda0.bTRUE", "sigma", "sigma.bTRUE"]
    b = [np.log(D), np.log(lam), np.log(lam_b / lam), np.log(sig), np.log(sig_b / sig)]
    ref = _independent_loglik(ch, mask, geoms, usage, D, lam, sig, lam_b=lam_b,
                              sigma_b=sig_b)
    assert ll(b) == pytest.approx(ref, rel=1e-9)
    # with time effects beside it: lambda0 per occasion, and after the first detection
    lt = np.array([1.7, 0.9])
    ll = LogLikelihood(ch, mask, detectfn="HHN", model={"lambda0": "~b + t"})
    b = [np.log(D), np.log(lt[0]), np.log(lam_b / lam), np.log(lt[1] / lt[0]), np.log(sig)]
    ref = _independent_loglik(ch, mask, geoms, usage, D, lt, sig, lam_b=lt * lam_b / lam,
                              sigma_b=sig)
    assert ll(b) == pytest.approx(ref, rel=1e-9)
    # b = 0 is the null model
    null = LogLikelihood(ch, mask, detectfn="HHN")([np.log(D), np.log(lam), np.log(sig)])
    ll = LogLikelihood(ch, mask, detectfn="HHN", model={"lambda0": "~b"})
    assert ll([np.log(D), np.log(lam), 0.0, np.log(sig)]) == pytest.approx(null, rel=1e-12)
    with pytest.raises(NotImplementedError, match="bk"):
        LogLikelihood(ch, mask, detectfn="HHN", model={"lambda0": "~bk"})
    # a fit nests the null model: its log-likelihood is at least the null fit's
    fb = SECR(detectfn="HHN", model={"lambda0": "~b"}).fit(ch, mask).results_
    f0 = SECR(detectfn="HHN").fit(ch, mask).results_
    assert fb.loglik >= f0.loglik - 1e-6
    der = fb.derived()
    assert np.isfinite(der.loc[(der.index[0][0], "D"), "estimate"])


@pytest.mark.parametrize("detector", ["polygon", "transectX"])
def test_time_effects_equal_the_independent_implementation(detector):
    """lambda0 ~ t and sigma ~ t: each occasion with its own lambda0 and sigma."""
    ch, mask, geoms, usage = _small_case(detector)
    D, lam, sig = 0.02, np.array([1.7, 0.9]), np.array([450.0, 600.0])
    ll = LogLikelihood(ch, mask, detectfn="HHN", model={"lambda0": "~t", "sigma": "~t"})
    assert ll.design.beta_names == ["D", "lambda0", "lambda0.t2", "sigma", "sigma.t2"]
    b = [np.log(D), np.log(lam[0]), np.log(lam[1] / lam[0]), np.log(sig[0]),
         np.log(sig[1] / sig[0])]
    ref = _independent_loglik(ch, mask, geoms, usage, D, lam, sig)
    assert ll(b) == pytest.approx(ref, rel=1e-9)
    # and a fit reports through the occasion groups (esa, region N)
    res = SECR(detectfn="HHN", model={"lambda0": "~t"}).fit(ch, mask).results_
    assert np.isfinite(res.loglik) and res.esa.iloc[0] > 0
    assert res.region_N().loc["E.N", "estimate"] >= ch.n - 1e-6


def test_point_limit_reproduces_secr_count_fit(reference_dir):
    """Each camera of the amur-count-usage-hhn case (R secr 5.5.0) searched as a 1 m square:
    the area-search model becomes the count model with lambda0 scaled by the square's share
    of the plane (1 / 2 pi sigma^2), so it has secr's MLE of D and sigma."""
    from tests.analysis.secr.test_secr_reference import load_amur

    folder = reference_dir / "secr" / "amur-count-usage-hhn"
    ch, mask, exp = load_amur(folder, "count")
    eps = 1.0
    geoms = [box(x - eps / 2, y - eps / 2, x + eps / 2, y + eps / 2) for x, y in ch.traps]
    i, s, k = np.nonzero(ch.counts)
    reps = ch.counts[i, s, k]
    i, s, k = np.repeat(i, reps), np.repeat(s, reps), np.repeat(k, reps)
    poly = CaptureHistory.from_locations(geoms, i, s, k, ch.traps[k], detector="polygon",
                                         n_occasions=ch.n_occasions, usage=ch.usage,
                                         animal_ids=ch.animal_ids)
    fit = SECR(detectfn="HHN").fit(poly, mask).results_.predict()
    count = SECR(detectfn="HHN").fit(ch, mask).results_.predict()
    est = exp["estimates"]
    for p in ("D", "sigma"):
        assert fit.loc[p, "estimate"] == pytest.approx(est[p]["estimate"], rel=1e-3)
        assert fit.loc[p, "estimate"] == pytest.approx(count.loc[p, "estimate"], rel=1e-6)
        # SEs: the area model has no analytic gradient, its Hessian is from function values
        # (nlm's rule) in another parameterisation of lambda0: 3e-4 apart here
        assert fit.loc[p, "se"] == pytest.approx(count.loc[p, "se"], rel=1e-3)
    sig = fit.loc["sigma", "estimate"]
    lam_as_count = fit.loc["lambda0", "estimate"] * eps**2 / (2 * np.pi * sig**2)
    assert lam_as_count == pytest.approx(est["lambda0"]["estimate"], rel=1e-3)
    # the log-likelihoods differ by the location densities (1 / eps^2 per detection) and the
    # constants of the uncollapsed Poisson counts
    ll_poly = LogLikelihood(poly, mask, detectfn="HHN")
    ll_count = LogLikelihood(ch, mask, detectfn="HHN", fastproximity=False)
    beta = np.array([transform(est["D"]["estimate"], "log"),
                     transform(est["lambda0"]["estimate"], "log"),
                     transform(est["sigma"]["estimate"], "log")])
    bpoly = beta.copy()
    bpoly[1] = np.log(est["lambda0"]["estimate"] * 2 * np.pi * est["sigma"]["estimate"] ** 2
                      / eps**2)
    J = ch.n_detections
    assert ll_poly(bpoly) + J * np.log(eps**2) == pytest.approx(ll_count(beta), abs=1e-6)


# ----------------------------------------------------------------------------- simulation
def _replicates(detector, R, seed0):
    geoms = ([box(0, 0, 1000, 1000), box(1500, 0, 2500, 1000)]
             if detector.startswith("polygon")
             else [LineString([(0, 0), (1000, 0), (1000, 1000)]),
                   LineString([(1500, 0), (2500, 1000)])])
    buf = 600.0
    xl, yl = (-buf, 2500 + buf), (-buf, 1000 + buf)
    area = (xl[1] - xl[0]) * (yl[1] - yl[0])
    mask = make_mask(np.array([[0.0, 0.0], [2500.0, 1000.0]]), buffer=buf, spacing=75,
                     type="traprect")
    out = []
    for r in range(R):
        rng = np.random.default_rng(seed0 + r)
        N = rng.poisson(0.5 * area / 1e4)
        cent = np.column_stack([rng.uniform(*xl, N), rng.uniform(*yl, N)])
        ch = simulate_area_capthist(geoms, detector, cent, lambda0=2.0, sigma=150.0,
                                    n_occasions=3, rng=rng)
        p = SECR(detectfn="HHN").fit(ch, mask).results_.predict()
        out.append([p.loc["D", "estimate"], p.loc["sigma", "estimate"],
                    p.loc["D", "lcl"] <= 0.5 <= p.loc["D", "ucl"]])
    return np.array(out, dtype=float)


def _check_replicates(o):
    R = len(o)
    for col, truth in ((0, 0.5), (1, 150.0)):
        rb = o[:, col] / truth - 1
        assert abs(rb.mean()) <= 2.6 * rb.std(ddof=1) / np.sqrt(R) + 0.01
    cov = o[:, 2].mean()
    assert abs(cov - 0.95) <= 2.6 * np.sqrt(0.95 * 0.05 / R) + 1.0 / R


@pytest.mark.parametrize("detector", ["polygon", "transectX"])
def test_simulated_area_searches_are_unbiased(detector):
    _check_replicates(_replicates(detector, 8, 100))


@pytest.mark.slow
@pytest.mark.parametrize("detector", ["polygon", "polygonX", "transect", "transectX"])
def test_simulated_area_searches_200_replicates(detector):
    _check_replicates(_replicates(detector, 200, 1000))


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("detector", ["polygon", "transect"])
@pytest.mark.parametrize("fn", ["HHN", "HEX"])
def test_absurdly_small_sigma_gives_minus_infinity_not_a_memory_error(detector, fn):
    # an optimiser step once tried sigma 5e-15 m: quadrature panels sigma/2 wide across a
    # 1 km block asked for 1 EiB
    ch, mask, _geoms, _usage = _small_case(detector)
    ll = LogLikelihood(ch, mask, detectfn=fn)
    assert ll([np.log(0.02), np.log(1.7), np.log(5e-15)]) == -np.inf
    assert np.isfinite(ll([np.log(0.02), np.log(1.7), np.log(450.0)]))


def test_location_off_its_detector_is_refused():
    with pytest.raises(DataError, match="detection 1 .* from detector 1"):
        CaptureHistory.from_locations([box(0, 0, 100, 100)], [0], [0], [0], [[500.0, 500.0]])


def test_exclusive_detector_refuses_two_detections_per_occasion():
    with pytest.raises(DataError, match="at most once per occasion"):
        CaptureHistory.from_locations([box(0, 0, 100, 100)], [0, 0], [0, 0], [0, 0],
                                      [[10.0, 10.0], [20.0, 20.0]], detector="polygonX")


def test_wrong_geometry_and_non_hazard_function_are_refused():
    with pytest.raises(DataError, match="lines"):
        CaptureHistory.from_locations([box(0, 0, 100, 100)], [0], [0], [0], [[10.0, 10.0]],
                                      detector="transect")
    ch, mask, *_ = _small_case("polygon")
    with pytest.raises(ValueError, match="hazard detection function"):
        LogLikelihood(ch, mask, detectfn="HN")
    with pytest.raises(NotImplementedError, match="behavioural response \\(B\\)"):
        LogLikelihood(ch, mask, detectfn="HHN", model={"lambda0": "~B"})
    with pytest.raises(NotImplementedError, match="noneuc"):
        LogLikelihood(ch, mask.subset(np.ones(mask.n_points, dtype=bool)), detectfn="HHN",
                      model={"noneuc": "~1"})


def test_polygon_detectors_fit_with_a_detector_covariate():
    ch, mask, *_ = _small_case("polygon")
    ch2 = CaptureHistory.from_locations(
        ch.geometry, *[np.repeat(a, 1) for a in _rows(ch)], detector="polygon",
        n_occasions=2, usage=ch.usage,
        trap_covariates={"searcher": ["dog", "human"]})
    ll = LogLikelihood(ch2, mask, detectfn="HHN", model={"lambda0": "~searcher"})
    one = LogLikelihood(ch, mask, detectfn="HHN")
    b = [np.log(0.02), np.log(1.7), np.log(450.0)]
    # a zero coefficient of the covariate gives the model without it
    assert ll([b[0], b[1], 0.0, b[2]]) == pytest.approx(one(b), rel=1e-12)
    assert ll([b[0], b[1], 0.5, b[2]]) != pytest.approx(one(b), rel=1e-6)


def _rows(ch):
    i, s, k = np.nonzero(ch.counts)
    reps = ch.counts[i, s, k]
    return np.repeat(i, reps), np.repeat(s, reps), np.repeat(k, reps), ch.detection_xy



def test_mask_buffers_the_searched_areas_and_lines():
    line = LineString([(0, 0), (5000, 0)])
    ch = CaptureHistory.from_locations([line], [0], [0], [0], [[2500.0, 0.0]],
                                       detector="transect")
    mask = make_mask(ch, buffer=500, spacing=100)
    d = shapely.distance(line, shapely.points(mask.xy))
    assert d.max() <= 500
    # points along the middle of the line are kept (the representative point alone would
    # drop everything beyond 500 m of x = 2500)
    assert mask.xy[:, 0].min() < 0 and mask.xy[:, 0].max() > 5000


# ----------------------------------------------------------------------------- files and CLI
def _write_files(tmp_path, ch, *, wkt: bool, with_trap_id: bool):
    import pandas as pd

    if wkt:
        t = pd.DataFrame({"trap_id": ch.trap_ids, "wkt": [g.wkt for g in ch.geometry]})
    else:
        rows = []
        for tid, g in zip(ch.trap_ids, ch.geometry, strict=True):
            c = (np.asarray(g.exterior.coords)[:-1] if g.geom_type == "Polygon"
                 else np.asarray(g.coords))
            rows += [(tid, x, y) for x, y in c]
        t = pd.DataFrame(rows, columns=["trap_id", "x", "y"])
    frame = ch.to_frame()
    if not with_trap_id:
        frame = frame.drop(columns=["trap_id"])
    tp, cp = tmp_path / "traps.csv", tmp_path / "captures.csv"
    t.to_csv(tp, index=False)
    frame.to_csv(cp, index=False)
    return tp, cp


@pytest.mark.parametrize(("detector", "wkt", "with_trap_id"),
                         [("polygon", False, False), ("transectX", True, True)])
def test_files_round_trip_and_cli_fit(tmp_path, detector, wkt, with_trap_id):
    from typer.testing import CliRunner

    from amurlink.analysis.secr import fit_secr, read_capthist
    from amurlink.cli import app

    geoms = ([box(0, 0, 1000, 1000), box(1500, 0, 2500, 1000)] if detector == "polygon"
             else [LineString([(0, 0), (1000, 0), (1000, 1000)]),
                   LineString([(1500, 0), (2500, 1000)])])
    rng = np.random.default_rng(5)
    cent = rng.uniform([-600, -600], [3100, 1600], size=(180, 2))
    ch = simulate_area_capthist(geoms, detector, cent, lambda0=2.0, sigma=150.0,
                                n_occasions=3, rng=rng)
    tp, cp = _write_files(tmp_path, ch, wkt=wkt, with_trap_id=with_trap_id)
    back = read_capthist(tp, cp, detector=detector, n_occasions=3)
    np.testing.assert_array_equal(back.counts.sum(axis=(0, 1)), ch.counts.sum(axis=(0, 1)))
    assert back.n == ch.n and back.n_detections == ch.n_detections
    np.testing.assert_allclose(np.array(sorted(map(tuple, back.detection_xy))),
                               np.array(sorted(map(tuple, ch.detection_xy))), rtol=1e-12)
    result = CliRunner().invoke(app, ["secr", "--traps", str(tp), "--captures", str(cp),
                                      "--detector", detector, "--buffer", "600",
                                      "--spacing", "75", "--noccasions", "3",
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["detector"] == detector
    lib = fit_secr(back, make_mask(back, buffer=600, spacing=75), detectfn="HHN").predict()
    assert out["estimates"]["D"]["estimate"] == pytest.approx(lib.loc["D", "estimate"],
                                                              rel=1e-9)
    assert set(out["estimates"]) == {"D", "lambda0", "sigma"}


def test_detection_outside_every_detector_names_the_row(tmp_path):
    from amurlink.analysis.secr import read_capthist

    (tmp_path / "t.csv").write_text("trap_id,wkt\nA,POLYGON ((0 0, 100 0, 100 100, 0 100, "
                                    "0 0))\n")
    (tmp_path / "c.csv").write_text("animal_id,occasion,x,y\nT1,1,50,50\n")
    with pytest.raises(DataError, match="t.csv: cannot parse as CSV .*quote it"):
        read_capthist(tmp_path / "t.csv", tmp_path / "c.csv", detector="polygon")
    (tmp_path / "t.csv").write_text('trap_id,wkt\nA,"POLYGON ((0 0, 100 0, 100 100, 0 100, '
                                    '0 0))"\n')
    (tmp_path / "c.csv").write_text("animal_id,occasion,x,y\nT1,1,50,50\nT1,1,500,50\n")
    with pytest.raises(DataError, match=r"c.csv, row 3: .*no detector holds it"):
        read_capthist(tmp_path / "t.csv", tmp_path / "c.csv", detector="polygon")
    (tmp_path / "c.csv").write_text("animal_id,occasion,x,y\nT1,one,50,50\n")
    with pytest.raises(DataError, match="row 2: occasion must be a whole number"):
        read_capthist(tmp_path / "t.csv", tmp_path / "c.csv", detector="polygon")


def test_write_capthist_round_trips_area_detectors(tmp_path):
    from amurlink.analysis.secr import read_capthist, write_capthist

    ch, mask, *_ = _small_case("transectX")
    ch = CaptureHistory.from_locations(
        ch.geometry, *_rows(ch), detector="transectX", n_occasions=2, usage=ch.usage,
        trap_covariates={"searcher": ["dog", "human"]})
    tp, cp = write_capthist(ch, tmp_path / "t.csv", tmp_path / "c.csv", format="csv")
    back = read_capthist(tp, cp, detector="transectX")
    np.testing.assert_array_equal(back.counts, ch.counts)
    np.testing.assert_array_equal(back.detection_xy, ch.detection_xy)
    np.testing.assert_array_equal(back.usage, ch.usage)
    assert list(back.trap_covariates["searcher"]) == ["dog", "human"]
    assert all(a.equals_exact(b, 0) for a, b in zip(back.geometry, ch.geometry, strict=True))
    b = [np.log(0.02), np.log(1.7), np.log(450.0)]
    assert LogLikelihood(back, mask, detectfn="HHN")(b) == LogLikelihood(
        ch, mask, detectfn="HHN")(b)
    with pytest.raises(DataError, match="format='csv'"):
        write_capthist(ch, tmp_path / "t.txt", tmp_path / "c.txt")


def test_gps_positions_beside_a_route_are_snapped_within_the_tolerance(tmp_path):
    from typer.testing import CliRunner

    from amurlink.analysis.secr import read_capthist
    from amurlink.cli import app
    from amurlink.exceptions import DataQualityWarning

    route = LineString([(0, 0), (1000, 0)])
    with pytest.raises(DataError, match="snap="):
        CaptureHistory.from_locations([route], [0], [0], [0], [[500.0, 12.0]],
                                      detector="transect")
    with pytest.warns(DataQualityWarning, match="1 detection location.* 12.0 m"):
        ch = CaptureHistory.from_locations([route], [0, 0], [0, 0], [0, 0],
                                           [[500.0, 12.0], [700.0, 0.0]],
                                           detector="transect", snap=20)
    np.testing.assert_allclose(ch.detection_xy, [[500.0, 0.0], [700.0, 0.0]])
    with pytest.raises(DataError, match="30.0 m from detector 1"):
        CaptureHistory.from_locations([route], [0], [0], [0], [[500.0, 30.0]],
                                      detector="transect", snap=20)
    # files without trap_id: the nearest route within the tolerance; the command's --snap
    (tmp_path / "t.csv").write_text('trap_id,wkt\nA,"LINESTRING (0 0, 1000 0)"\n'
                                    'B,"LINESTRING (0 500, 1000 500)"\n')
    (tmp_path / "c.csv").write_text("animal_id,occasion,x,y\nT1,1,100,8\nT1,1,900,-5\n"
                                    "T2,1,300,490\nT3,1,500,3\n")
    with pytest.warns(DataQualityWarning):
        back = read_capthist(tmp_path / "t.csv", tmp_path / "c.csv", detector="transect",
                             snap=10)
    assert back.counts.sum(axis=(0, 1)).tolist() == [3, 1]
    r = CliRunner().invoke(app, ["secr", "--traps", str(tmp_path / "t.csv"), "--captures",
                                 str(tmp_path / "c.csv"), "--detector", "transect",
                                 "--snap", "2m", "--format", "json"])
    assert r.exit_code == 1 and "--snap" in r.output
    r = CliRunner().invoke(app, ["secr", "--traps", str(tmp_path / "t.csv"), "--captures",
                                 str(tmp_path / "c.csv"), "--detector", "count",
                                 "--snap", "10m"])
    assert r.exit_code != 0 and "--snap goes with area and line detectors" in r.output


def test_simulated_positions_along_a_route_follow_the_halfnormal():
    """The simulator's exact draw along a line (segment by its integral, truncated normal
    along it): chi-square against the bin probabilities from the normal CDF."""
    from scipy.stats import chisquare, norm

    line = LineString([(0, 0), (1000, 0), (1000, 800)])
    ln = _Line(line)
    c, s = np.array([900.0, 100.0]), 200.0
    p = ln.sample_hhn(c, s, 50_000, np.random.default_rng(0))
    along = np.where(np.isclose(p[:, 1], 0.0), p[:, 0], 1000.0 + p[:, 1])
    edges = np.linspace(0, 1800, 37)
    obs, _ = np.histogram(along, bins=edges)
    # segment 1 along x (perpendicular offset 100 m), segment 2 along y (offset 100 m)
    exp = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        if b <= 1000:
            pr = np.exp(-100.0**2 / (2 * s * s)) * (norm.cdf((b - 900) / s)
                                                    - norm.cdf((a - 900) / s))
        else:
            pr = np.exp(-100.0**2 / (2 * s * s)) * (norm.cdf((b - 1000 - 100) / s)
                                                    - norm.cdf((a - 1000 - 100) / s))
        exp.append(pr)
    exp = np.array(exp) / np.sum(exp) * obs.sum()
    keep = exp > 5
    assert chisquare(obs[keep], exp[keep] * obs[keep].sum() / exp[keep].sum()).pvalue > 1e-3


def test_buffer_advice_measures_from_the_searched_shapes():
    """suggest_buffer and mask_check around routes: distances to the lines (not to a point on
    each), so the advice is a few sigma and the log-likelihood settles beyond it."""
    from amurlink.analysis.secr.surface import mask_check, suggest_buffer

    routes = [LineString([(0, 0), (6000, 0)]), LineString([(0, 3000), (6000, 3500)])]
    rng = np.random.default_rng(11)
    cen = rng.uniform([-1500, -1500], [7500, 5000], size=(rng.poisson(140), 2))
    ch = simulate_area_capthist(routes, "transect", cen, lambda0=1.0, sigma=250.0,
                                n_occasions=2, rng=rng)
    mask = make_mask(ch, buffer=1500, spacing=100)
    res = SECR(detectfn="HHN").fit(ch, mask).results_
    sig = res.predict().loc["sigma", "estimate"]
    b = suggest_buffer(res)
    assert 2 * sig < b < 5 * sig
    mc = mask_check(ch, buffers=[b, 1.5 * b, 2 * b], spacing=100,
                    fit_kwargs={"detectfn": "HHN"}, beta=res.params.to_numpy())
    assert mc["points"].is_monotonic_increasing
    assert abs(mc["loglik"].iloc[2] - mc["loglik"].iloc[1]) < 0.05
