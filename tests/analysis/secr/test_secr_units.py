"""Unit tests: detection functions, links, CaptureHistory, Mask, readers, estimator contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from amurlink.analysis.secr import (
    SECR,
    CaptureHistory,
    Mask,
    back_transformed_interval,
    detection_arrays,
    exponential,
    fit_secr,
    get_detectfn,
    halfnormal,
    hazard_exponential,
    hazard_halfnormal,
    make_mask,
    read_captures,
    read_mask,
    read_traps,
    se_untransform,
    secr_loglik,
    transform,
    untransform,
)
from amurlink.exceptions import DataError, NotFittedError

# ----------------------------------------------------------------------------- detectfn


def test_detection_functions_by_hand():
    d = np.array([0.0, 10.0, 20.0])
    np.testing.assert_allclose(halfnormal(d, 0.5, 10.0), 0.5 * np.exp(-(d**2) / 200))
    np.testing.assert_allclose(exponential(d, 0.5, 10.0), 0.5 * np.exp(-d / 10))
    np.testing.assert_allclose(hazard_halfnormal(d, 2.0, 10.0), 2 * np.exp(-(d**2) / 200))
    np.testing.assert_allclose(hazard_exponential(d, 2.0, 10.0), 2 * np.exp(-d / 10))
    # broadcasting over parameters
    assert halfnormal(d[:, None], 0.5, np.array([5.0, 10.0])).shape == (3, 2)


@pytest.mark.parametrize("name", ["HN", "EX", "HHN", "HEX"])
def test_detection_arrays_g_and_h_consistent(name):
    d = np.linspace(0, 100, 11)
    g, h = detection_arrays(d, name, 0.3, 25.0)
    np.testing.assert_allclose(g, -np.expm1(-h), rtol=1e-14)
    assert np.all(np.diff(g) < 0)


def test_get_detectfn_names_and_codes():
    assert get_detectfn("hhn").code == 14
    assert get_detectfn(2).name == "EX"
    assert get_detectfn("halfnormal").intercept == "g0"
    assert get_detectfn("HEX").intercept == "lambda0"
    assert get_detectfn(9).parameters == ("b0", "b1")
    assert get_detectfn("signal strength").parameters == ("beta0", "beta1")
    with pytest.raises(ValueError, match="HN"):
        get_detectfn(12)  # signal-noise: not fitted by secr.fit either
    with pytest.raises(ValueError, match="HN"):
        get_detectfn(21)


# ----------------------------------------------------------------------------- links


@pytest.mark.parametrize("link", ["log", "logit", "identity"])
def test_links_roundtrip(link):
    x = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(untransform(transform(x, link), link), x)


def test_se_and_interval_as_secr():
    # secrdemo.0 D: beta 1.70107 (SE 0.117615) -> 5.479803 (SE 0.646741; 4.351622-6.900471)
    beta, se = 1.7010691499857131, 0.11761468630493566
    assert se_untransform(beta, se, "log") == pytest.approx(0.6467406418252876, rel=1e-12)
    lcl, ucl = back_transformed_interval(beta, se, "log")
    assert lcl == pytest.approx(4.351621789430774, rel=1e-12)
    assert ucl == pytest.approx(6.900471200481122, rel=1e-12)
    p = untransform(-0.978494143655482, "logit")
    assert se_untransform(-0.978494143655482, 0.13623899256030259, "logit") == pytest.approx(
        p * (1 - p) * 0.13623899256030259)
    with pytest.raises(ValueError):
        transform(1.0, "probit")


# ----------------------------------------------------------------------------- CaptureHistory

TRAPS = np.array([[0.0, 0.0], [20.0, 0.0], [0.0, 20.0], [20.0, 20.0]])


def toy(detector="proximity", **kw):
    # 3 animals, 3 occasions, 4 detectors
    return CaptureHistory.from_arrays(
        TRAPS, [0, 0, 1, 2, 2], [0, 2, 1, 0, 1], [0, 1, 3, 2, 2], detector=detector,
        n_occasions=3, **kw,
    )


def test_capthist_from_arrays_and_frame_roundtrip():
    ch = toy()
    assert (ch.n, ch.n_occasions, ch.n_detectors, ch.n_detections) == (3, 3, 4, 5)
    assert not ch.counts.flags.writeable
    df = ch.to_frame()
    traps = pd.DataFrame({"trap_id": ch.trap_ids, "x": TRAPS[:, 0], "y": TRAPS[:, 1]})
    ch2 = CaptureHistory.from_frames(df, traps, detector="proximity", n_occasions=3)
    np.testing.assert_array_equal(ch2.counts, ch.counts)


def test_capthist_validation_messages():
    with pytest.raises(DataError, match="at most one detection"):
        CaptureHistory.from_arrays(TRAPS, [0, 0], [0, 0], [1, 1], detector="proximity")
    with pytest.raises(DataError, match="once per occasion"):
        CaptureHistory.from_arrays(TRAPS, [0, 0], [0, 0], [1, 2], detector="multi")
    with pytest.raises(DataError, match="usage is 0"):
        toy(usage=np.zeros((4, 3)))
    with pytest.raises(DataError, match="unknown detector type"):
        toy(detector="trap")
    traps = pd.DataFrame({"trap_id": ["a"], "x": [0.0], "y": [0.0]})
    caps = pd.DataFrame({"animal_id": ["1"], "occasion": [1], "trap_id": ["zz"]})
    with pytest.raises(DataError, match="'zz'"):
        CaptureHistory.from_frames(caps, traps, detector="count")


# ----------------------------------------------------------------------------- Mask


def test_make_mask_grid_rule_and_clip():
    m = make_mask(TRAPS, buffer=10.0, spacing=5.0, type="traprect")
    # extent -10..30 in x and y: centres -7.5, -2.5, ..., 27.5 -> 8 x 8
    assert m.n_points == 64
    assert m.xy[0, 0] == -7.5 and m.xy[1, 0] == -2.5  # x varies fastest
    assert m.cell_area_ha == pytest.approx(25 / 1e4)
    tb = make_mask(TRAPS, buffer=10.0, spacing=5.0)
    assert tb.n_points < 64
    half = shapely.box(-100, -100, 10, 100)
    clipped = make_mask(TRAPS, buffer=10.0, spacing=5.0, poly=half)
    assert np.all(clipped.xy[:, 0] < 10)
    outside = make_mask(TRAPS, buffer=10.0, spacing=5.0, poly=half, poly_habitat=False)
    assert clipped.n_points + outside.n_points == tb.n_points
    rast = make_mask(TRAPS, buffer=10.0, spacing=5.0, habitat=lambda x, y: y > 0)
    assert np.all(rast.xy[:, 1] > 0)
    assert Mask.from_points(tb.xy).spacing == pytest.approx(5.0)
    assert m.contains(half).sum() == (m.xy[:, 0] < 10).sum()


# ----------------------------------------------------------------------------- readers


def test_readers_csv_and_text(tmp_path):
    t = tmp_path / "traps.csv"
    t.write_text("trap_id,x,y,occ1,occ2\nA,0,0,1,0\nB,10,0,1,1\n")
    df = read_traps(t)
    assert list(df.columns) == ["trap_id", "x", "y", "usage_1", "usage_2"]
    tt = tmp_path / "traps.txt"
    tt.write_text("# comment\nA 0 0 10\nB 10 0 11 / grid1\n")
    df = read_traps(tt)
    assert df["usage_2"].tolist() == [0.0, 1.0]
    c = tmp_path / "caps.txt"
    c.write_text("S 1 1 A\nS 1 -2 B\n")
    caps = read_captures(c)
    assert caps["dead"].tolist() == [0, 1] and caps["occasion"].tolist() == [1, 2]
    mk = tmp_path / "mask.txt"
    mk.write_text("x y\n0 0\n5 0\n0 5\n5 5\n")
    assert read_mask(mk).spacing == 5.0


def test_reader_errors_name_file_and_row(tmp_path):
    t = tmp_path / "traps.csv"
    t.write_text("trap_id,x,y\nA,0,0\nB,ten,0\n")
    with pytest.raises(DataError, match=r"traps.csv, row 3: x = 'ten'"):
        read_traps(t)
    c = tmp_path / "caps.csv"
    c.write_text("session,animal_id,occasion,trap_id\n1,a,0,A\n")
    with pytest.raises(DataError, match=r"caps.csv, row 2: occasion"):
        read_captures(c)
    with pytest.raises(DataError, match="not found"):
        read_traps(tmp_path / "none.csv")


# ----------------------------------------------------------------------------- estimator


def _sim_data(rng):
    traps = np.array([[x, y] for x in range(0, 100, 20) for y in range(0, 100, 20)], float)
    mask = make_mask(traps, buffer=80.0, spacing=8.0)
    centres = rng.uniform(-60, 160, size=(60, 2))
    d = np.linalg.norm(centres[:, None, :] - traps[None, :, :], axis=2)
    lam = 0.3 * np.exp(-(d**2) / (2 * 25.0**2))
    y = rng.poisson(np.repeat(lam[:, None, :], 5, axis=1))  # (N, S, K)
    y = y[y.reshape(len(y), -1).sum(1) > 0]
    i, s, k = np.nonzero(y)
    reps = y[i, s, k]
    ch = CaptureHistory.from_arrays(traps, np.repeat(i, reps), np.repeat(s, reps),
                                    np.repeat(k, reps), detector="count", n_occasions=5)
    return ch, mask


def test_estimator_contract():
    est = SECR(detectfn="HHN")
    assert est.get_params()["detectfn"] == "HHN"
    assert "HHN" in repr(est)
    with pytest.raises(NotFittedError):
        est.predict()
    ch, mask = _sim_data(np.random.default_rng(3))
    assert est.fit(ch, mask) is est
    pred = est.predict()
    assert list(pred.index) == ["D", "lambda0", "sigma"]
    assert list(pred.columns) == ["link", "estimate", "se", "lcl", "ucl"]
    res = est.results_
    assert res.aicc > res.aic
    text = res.summary().to_text()
    assert "lambda0" in text and "E.N" in text
    assert res.summary().to_html().startswith('<div class="secr-summary">')
    dm = res.density_map()
    assert list(dm.columns) == ["x", "y", "D", "pdot"] and len(dm) == mask.n_points
    with pytest.raises(ValueError, match="distribution"):
        SECR(distribution="negbin").fit(ch, mask)


def test_fastproximity_same_mle_different_constant():
    ch, mask = _sim_data(np.random.default_rng(5))
    fast = fit_secr(ch, mask, detectfn="HHN")
    slow = fit_secr(ch, mask, detectfn="HHN", fastproximity=False)
    np.testing.assert_allclose(fast.params, slow.params, rtol=1e-5)
    np.testing.assert_allclose(fast.se, slow.se, rtol=1e-3)
    # log-likelihoods differ by a data constant only
    b = fast.params.to_numpy()
    diff = secr_loglik(b, ch, mask, detectfn="HHN") - secr_loglik(
        b, ch, mask, detectfn="HHN", fastproximity=False)
    diff2 = secr_loglik(b + 0.1, ch, mask, detectfn="HHN") - secr_loglik(
        b + 0.1, ch, mask, detectfn="HHN", fastproximity=False)
    assert diff == pytest.approx(diff2, abs=1e-9)


def test_region_n_polygon_and_density_covariate():
    ch, mask = _sim_data(np.random.default_rng(7))
    cov = pd.DataFrame({"country": np.where(mask.xy[:, 0] < 40, "CN", "RU")})
    mask2 = Mask(xy=mask.xy, spacing=mask.spacing, covariates=cov)
    res = fit_secr(ch, mask2, detectfn="HHN", model={"D": "~country"})
    assert list(res.params.index) == ["D", "D.countryRU", "lambda0", "sigma"]
    west = shapely.box(-1e3, -1e3, 40, 1e3)
    east = shapely.box(40, -1e3, 1e3, 1e3)
    a, b, whole = res.region_N(west), res.region_N(east), res.region_N()
    assert a.loc["E.N", "estimate"] + b.loc["E.N", "estimate"] == pytest.approx(
        whole.loc["E.N", "estimate"])
    assert a.loc["R.N", "estimate"] + b.loc["R.N", "estimate"] == pytest.approx(
        whole.loc["R.N", "estimate"])
    assert len(res.predict().loc[lambda f: f.index.str.startswith("D")]) == 2


@pytest.mark.parametrize("detector", ["count", "proximity", "multi"])
@pytest.mark.parametrize("fn", ["HN", "EX", "HHN", "HEX"])
@pytest.mark.parametrize("conditional", [False, True])
def test_analytic_gradient_matches_finite_differences(detector, fn, conditional):
    from amurlink.analysis.secr.likelihood import LogLikelihood

    ch, mask = _sim_data(np.random.default_rng(7))
    if detector != "count":
        c = np.minimum(ch.counts, 1)
        if detector == "multi":  # one detection per animal and occasion
            c = c * (np.cumsum(c, axis=2) == 1)
        i, s, k = np.nonzero(c)
        usage = np.ones((ch.counts.shape[2], ch.counts.shape[1]))
        usage[::3, 1] = 0.5
        ch = CaptureHistory.from_arrays(ch.traps, i, s, k, detector=detector, n_occasions=5,
                                        usage=usage)
    ll = LogLikelihood(ch, mask, detectfn=fn, conditional=conditional)
    assert ll.has_gradient
    rng = np.random.default_rng(1)
    base = np.array([np.log(0.3), np.log(0.2) if fn in ("HHN", "HEX") else -1.0, np.log(25.0)])
    beta = (base[1:] if conditional else base) + rng.normal(0, 0.1, ll.npar)
    value, grad = ll.value_and_grad(beta)
    assert value == ll(beta)  # the same function, bit for bit
    eps = 1e-6
    fd = np.array([(ll(beta + e) - ll(beta - e)) / (2 * eps) for e in np.eye(ll.npar) * eps])
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("fn", ["HN", "HEX"])
def test_analytic_gradient_without_distinct_distances(fn):
    # a small problem: the detection arrays are computed on the full (K, M) grid
    from amurlink.analysis.secr.likelihood import LogLikelihood

    mask = make_mask(TRAPS, buffer=40.0, spacing=10.0)
    for ch in (toy("proximity"), toy("count"), toy("multi")):
        ll = LogLikelihood(ch, mask, detectfn=fn)
        assert ll.sessions[0].inv is None and ll.has_gradient
        beta = np.array([np.log(5.0), -1.0, np.log(15.0)])
        value, grad = ll.value_and_grad(beta)
        assert value == ll(beta)
        eps = 1e-6
        fd = np.array([(ll(beta + e) - ll(beta - e)) / (2 * eps) for e in np.eye(3) * eps])
        np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-6)


def test_density_steps_reuse_detection_terms_bitwise():
    # the per-class cache must give exactly what a fresh evaluation gives
    from amurlink.analysis.secr.likelihood import LogLikelihood

    ch, mask = _sim_data(np.random.default_rng(11))
    beta = np.array([np.log(0.3), np.log(0.2), np.log(25.0)])
    ll = LogLikelihood(ch, mask, detectfn="HHN")
    ll(beta)
    for step in (1e-4, 2e-4, -0.3):
        b = beta + np.array([step, 0.0, 0.0])
        assert ll(b) == LogLikelihood(ch, mask, detectfn="HHN")(b)


def test_distance_codes_reproduce_every_distance_bitwise():
    from amurlink.analysis.secr.likelihood import _distance_codes

    rng = np.random.default_rng(5)
    gx, gy = np.meshgrid(np.arange(8) * 30.0 + 100.0, np.arange(6) * 30.0 + 50.0)
    traps = np.column_stack([gx.ravel(), gy.ravel()])
    mx, my = np.meshgrid(np.arange(40) * 7.5, np.arange(35) * 7.5)
    xy = np.column_stack([mx.ravel(), my.ravel()])
    inv, d2u = _distance_codes(traps, xy)
    full = (traps[:, 0, None] - xy[None, :, 0]) ** 2 + (traps[:, 1, None] - xy[None, :, 1]) ** 2
    assert inv.shape == full.shape
    assert np.array_equal(d2u[inv], full)  # bitwise
    assert d2u.size == np.unique(full).size  # equal distances share one value
    # irregular detectors against a large mask: not lattice-like, left to hashing
    assert _distance_codes(rng.uniform(0, 300, (48, 2)), rng.uniform(0, 300, (1400, 2))) is None


@pytest.mark.parametrize("detector", ["count", "multi"])
def test_loglik_same_with_lattice_codes_and_hashing(monkeypatch, detector):
    import amurlink.analysis.secr.likelihood as lik

    ch, mask = _sim_data(np.random.default_rng(11))
    if detector == "multi":  # one detection per animal and occasion
        c = np.minimum(ch.counts, 1)
        c = c * (np.cumsum(c, axis=2) == 1)
        i, s, k = np.nonzero(c)
        ch = CaptureHistory.from_arrays(ch.traps, i, s, k, detector="multi", n_occasions=5)
    beta = np.array([np.log(0.3), -1.2, np.log(25.0)])
    a = lik.LogLikelihood(ch, mask, detectfn="HN")
    monkeypatch.setattr(lik, "_distance_codes", lambda traps, xy: None)
    b = lik.LogLikelihood(ch, mask, detectfn="HN")
    assert a.sessions[0].inv is not None and b.sessions[0].inv is not None
    assert a(beta) == pytest.approx(b(beta), rel=1e-13)
    np.testing.assert_allclose(a.value_and_grad(beta)[1], b.value_and_grad(beta)[1], rtol=1e-10)


def test_every_second_point_mask():
    from amurlink.analysis.secr.model import _every_second_point

    xs, ys = np.meshgrid(np.arange(10) * 5.0 + 2.5, np.arange(7) * 5.0 - 10.0)
    xy = np.column_stack([xs.ravel(), ys.ravel()])
    cov = pd.DataFrame({"habitat": np.arange(len(xy))})
    m = Mask(xy=xy, spacing=5.0, covariates=cov)
    c = _every_second_point(m)
    assert c.spacing == 10.0 and c.n_points == 5 * 4
    assert c.cell_area_ha == pytest.approx(4 * m.cell_area_ha)
    np.testing.assert_array_equal(c.covariates["habitat"], cov["habitat"].to_numpy()[
        np.flatnonzero(np.isin(xy[:, 0], xs[0, ::2]) & np.isin(xy[:, 1], ys[::2, 0]))])
    off = Mask(xy=xy + np.where(np.arange(len(xy)) % 3 == 0, 1.3, 0.0)[:, None], spacing=5.0)
    assert _every_second_point(off) is None


@pytest.mark.parametrize("detector", ["count", "multi"])
def test_coarse_warm_start_reaches_the_same_maximum(detector):
    from amurlink.analysis.secr._optim import start_values
    from amurlink.analysis.secr.likelihood import LogLikelihood

    rng = np.random.default_rng(21)
    traps = np.array([[x, y] for x in range(0, 100, 20) for y in range(0, 100, 20)], float)
    mask = make_mask(traps, buffer=80.0, spacing=4.0)  # >= 1000 points: warm start used
    assert mask.n_points >= 1000
    ch, _ = _sim_data(rng)
    if detector == "multi":
        c = np.minimum(ch.counts, 1)
        c = c * (np.cumsum(c, axis=2) == 1)
        i, s, k = np.nonzero(c)
        ch = CaptureHistory.from_arrays(ch.traps, i, s, k, detector="multi", n_occasions=5)
    warm = SECR(detectfn="HHN").fit(ch, mask)
    assert warm.n_coarse_evaluations_ > 0
    start = start_values(LogLikelihood(ch, mask, detectfn="HHN"))
    plain = SECR(detectfn="HHN", start=start).fit(ch, mask)  # given start: no warm start
    assert plain.n_coarse_evaluations_ == 0
    assert warm.results_.loglik == pytest.approx(plain.results_.loglik, abs=1e-8)
    np.testing.assert_allclose(warm.results_.params, plain.results_.params, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(warm.results_.se, plain.results_.se, rtol=1e-4)
