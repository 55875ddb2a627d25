"""Linked methods: cameras and a DNA search of the same animals in one model (issue #20).

References:

* the linking itself: a camera grid split into two "methods" (two linked sessions,
  ``lambda0 ~ session``) has exactly the log-likelihood and the fit of the single session
  with ``lambda0 ~ method`` (a detector covariate; that machinery matches R secr), for
  count and proximity detectors, collapsed or not (1e-12);
* cameras (count, HHN) + DNA searched along routes (``transect``, HHN) of the same simulated
  animals: D and sigma unbiased and D's interval covering (8 replicates in the default suite,
  200 slow), and RSE(D) smaller than with the cameras alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString

from amurlink.analysis.secr import (
    SECR,
    CaptureHistory,
    LogLikelihood,
    make_mask,
    simulate_area_capthist,
)

GX, GY = np.meshgrid(np.arange(8) * 300.0, np.arange(6) * 300.0)
TRAPS = np.column_stack([GX.ravel(), GY.ravel()])


def _split_grid(detector: str, seed: int = 2):
    rng = np.random.default_rng(seed)
    K, S = len(TRAPS), 3
    cen = rng.uniform(-1000, 3100, size=(rng.poisson(80), 2))
    d2 = ((cen[:, None, :] - TRAPS[None]) ** 2).sum(axis=2)
    first = np.arange(K) < K // 2
    lam = np.where(first, 0.2, 0.08)[None, :] * np.exp(-d2 / (2 * 350.0**2))
    rate = np.repeat(lam[:, None, :], S, axis=1)
    y = (rng.poisson(rate) if detector == "count"
         else (rng.uniform(size=rate.shape) < -np.expm1(-rate)).astype(int))
    keep = y.reshape(len(y), -1).sum(axis=1) > 0
    y = y[keep]
    ids = [str(i) for i in np.flatnonzero(keep)]
    method = np.where(first, "A", "B")
    single = CaptureHistory(traps=TRAPS, counts=y, detector=detector, animal_ids=ids,
                            trap_covariates=pd.DataFrame({"method": method}))

    def part(sel, lab):
        c = y[:, :, sel]
        k = c.reshape(len(c), -1).sum(axis=1) > 0
        return CaptureHistory(traps=TRAPS[sel], counts=c[k], detector=detector,
                              animal_ids=[a for a, kk in zip(ids, k, strict=True) if kk],
                              session=lab)

    mask = make_mask(TRAPS, buffer=1200, spacing=100)
    return single, [part(first, "A"), part(~first, "B")], mask


@pytest.mark.parametrize("detector", ["count", "proximity"])
@pytest.mark.parametrize("fast", [True, False])
def test_linked_split_grid_equals_one_session_with_a_detector_covariate(detector, fast):
    single, parts, mask = _split_grid(detector)
    assert all(p.n < single.n for p in parts)  # some animals were seen by one method only
    one = LogLikelihood(single, mask, detectfn="HHN", model={"lambda0": "~method"},
                        fastproximity=fast)
    linked = LogLikelihood(parts, mask, detectfn="HHN", model={"lambda0": "~session"},
                           fastproximity=fast, linked=True)
    assert linked.n_animals == single.n
    for b in ([np.log(0.06), np.log(0.15), -0.7, np.log(330.0)],
              [np.log(0.03), np.log(0.3), 0.4, np.log(500.0)]):
        assert linked(b) == pytest.approx(one(b), rel=1e-12)


def test_linked_fit_equals_the_one_session_fit_and_reports():
    single, parts, mask = _split_grid("count")
    r1 = SECR(detectfn="HHN", model={"lambda0": "~method"}).fit(single, mask).results_
    r2 = SECR(detectfn="HHN", model={"lambda0": "~session"}, linked=True).fit(parts,
                                                                           mask).results_
    assert r2.loglik == pytest.approx(r1.loglik, rel=1e-9)
    for p1, p2 in (("D", "D"), ("lambda0.methodB", "lambda0.sessionB"), ("sigma", "sigma")):
        assert r2.params[p2] == pytest.approx(r1.params[p1], rel=1e-5, abs=1e-6)
        assert r2.se[p2] == pytest.approx(r1.se[p1], rel=1e-4)
    for q in ("E.N", "R.N"):
        assert r2.region_N().loc[q, "estimate"] == pytest.approx(
            r1.region_N().loc[q, "estimate"], rel=1e-5)
    assert r2.esa.iloc[0] == pytest.approx(r1.esa.iloc[0], rel=1e-5)
    assert r2.sessions == ["A+B"]


def test_linked_refuses_what_it_cannot_be():
    single, parts, mask = _split_grid("count")
    other = make_mask(TRAPS, buffer=1000, spacing=100)
    with pytest.raises(ValueError, match="one mask"):
        LogLikelihood(parts, [mask, other], detectfn="HHN", linked=True)
    with pytest.raises(ValueError, match="D may not vary by session"):
        LogLikelihood(parts, mask, detectfn="HHN", model={"D": "~session"}, linked=True)
    with pytest.raises(NotImplementedError, match="behavioural response"):
        LogLikelihood(parts, mask, detectfn="HHN", model={"lambda0": "~b"}, linked=True)
    with pytest.raises(ValueError, match="two or more"):
        LogLikelihood(parts[:1], mask, detectfn="HHN", linked=True)


# ----------------------------------------------------------------------------- camera + DNA
ROUTES = [LineString([(-200, 250), (2300, 250)]), LineString([(1000, -200), (1000, 1800)]),
          LineString([(-200, 1400), (1200, 1700), (2300, 1300)])]


def _camera_dna(seed: int):
    """A 6 x 8 camera grid (300 m; count, HHN lambda0 0.05 per occasion, 10 occasions) and
    three DNA routes searched on 2 occasions (transect, HHN lambda0 0.6), sigma 300 m,
    D 0.1 per ha, Poisson animals in the mask."""
    rng = np.random.default_rng(seed)
    buf = 1200.0
    lo, hi = np.array([-buf, -buf]), np.array([2100 + buf, 1500 + buf])
    N = rng.poisson(0.1 * np.prod(hi - lo) / 1e4)
    cen = rng.uniform(lo, hi, size=(N, 2))
    d2 = ((cen[:, None, :] - TRAPS[None]) ** 2).sum(axis=2)
    y = rng.poisson(np.repeat((0.05 * np.exp(-d2 / (2 * 300.0**2)))[:, None, :], 10, axis=1))
    keep = y.reshape(N, -1).sum(axis=1) > 0
    cam = CaptureHistory(traps=TRAPS, counts=y[keep], detector="count",
                         animal_ids=[str(i + 1) for i in np.flatnonzero(keep)],
                         session="camera")  # the labels simulate_area_capthist gives
    dna = simulate_area_capthist(ROUTES, "transect", cen, lambda0=0.6, sigma=300.0,
                                 n_occasions=2, rng=rng, session="dna")
    mask = make_mask(np.array([[0.0, 0.0], [2100.0, 1500.0]]), buffer=buf, spacing=100,
                     type="traprect")
    return cam, dna, mask


def _camera_dna_replicates(R: int, seed0: int) -> np.ndarray:
    out = []
    for r in range(R):
        cam, dna, mask = _camera_dna(seed0 + r)
        both = SECR(detectfn="HHN", model={"lambda0": "~session"}, linked=True).fit(
            [cam, dna], mask).results_.predict()
        alone = SECR(detectfn="HHN").fit(cam, mask).results_.predict()
        d = both.loc["D"]
        out.append([d["estimate"], both.loc["sigma", "estimate"],
                    d["lcl"] <= 0.1 <= d["ucl"], d["se"] / d["estimate"],
                    alone.loc["D", "se"] / alone.loc["D", "estimate"]])
    return np.array(out, dtype=float)


def _check(o: np.ndarray) -> None:
    R = len(o)
    for col, truth in ((0, 0.1), (1, 300.0)):
        rb = o[:, col] / truth - 1
        assert abs(rb.mean()) <= 2.6 * rb.std(ddof=1) / np.sqrt(R) + 0.01
    assert abs(o[:, 2].mean() - 0.95) <= 2.6 * np.sqrt(0.95 * 0.05 / R) + 1.0 / R
    assert np.mean(o[:, 3]) < np.mean(o[:, 4])  # the DNA routes narrow RSE(D)


def test_camera_and_dna_routes_linked():
    _check(_camera_dna_replicates(8, 500))


@pytest.mark.slow
def test_camera_and_dna_routes_linked_200_replicates():
    _check(_camera_dna_replicates(200, 5000))


def test_cli_fits_linked_files_as_the_library_does(tmp_path):
    """amurlink secr --traps/--captures (cameras) --link-traps/--link-captures/
    --link-detector transect (DNA routes): the linked fit of the library, lambda0 per method."""
    import json

    from typer.testing import CliRunner

    from amurlink.analysis.secr import read_capthist, write_capthist
    from amurlink.cli import app

    cam, dna, _ = _camera_dna(501)
    write_capthist(cam, tmp_path / "cams.csv", tmp_path / "cam_caps.csv", format="csv")
    write_capthist(dna, tmp_path / "routes.csv", tmp_path / "scats.csv", format="csv")
    args = ["secr", "--traps", str(tmp_path / "cams.csv"), "--captures",
            str(tmp_path / "cam_caps.csv"), "--detector", "count", "--noccasions", "10",
            "--link-traps", str(tmp_path / "routes.csv"), "--link-captures",
            str(tmp_path / "scats.csv"), "--link-detector", "transect",
            "--buffer", "1200", "--spacing", "100", "--format", "json"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["detector"] == "count+transect" and out["methods"] == ["count", "transect"]
    assert set(out["estimates"]) == {"D", "lambda0[sessiontransect=0]",
                                     "lambda0[sessiontransect=1]", "sigma"}
    c2 = read_capthist(tmp_path / "cams.csv", tmp_path / "cam_caps.csv", detector="count",
                       n_occasions=10)
    d2 = read_capthist(tmp_path / "routes.csv", tmp_path / "scats.csv", detector="transect")
    import dataclasses

    pair = [dataclasses.replace(c2, session="count"),
            dataclasses.replace(d2, session="transect")]
    mask = make_mask(pair, buffer=1200, spacing=100)
    lib = SECR(detectfn="HHN", model={"lambda0": "~session"}, linked=True).fit(pair, mask)
    assert out["loglik"] == pytest.approx(lib.results_.loglik, rel=1e-12)
    assert out["beta"]["lambda0.sessiontransect"] == pytest.approx(
        lib.results_.params["lambda0.sessiontransect"], rel=1e-9)
    bad = CliRunner().invoke(app, ["secr", "--traps", str(tmp_path / "cams.csv"),
                                   "--captures", str(tmp_path / "cam_caps.csv"),
                                   "--detector", "count", "--link-traps",
                                   str(tmp_path / "routes.csv")])
    assert bad.exit_code != 0 and "--link-traps, --link-captures and --link-detector" in \
        bad.output


def test_linked_methods_with_a_finite_mixture_equal_one_session():
    """h2 (two latent classes of detection) over linked methods: the same identity as
    without, the class of an animal shared by its histories of both methods."""
    single, parts, mask = _split_grid("count")
    one = LogLikelihood(single, mask, detectfn="HHN", model={"lambda0": "~method + h2"})
    linked = LogLikelihood(parts, mask, detectfn="HHN", model={"lambda0": "~session + h2"},
                           linked=True)
    assert linked.design.beta_names == ["D", "lambda0", "lambda0.sessionB", "lambda0.h22",
                                        "sigma", "pmix.h22"]
    # the single session orders the detector covariate after h2
    assert one.design.beta_names == ["D", "lambda0", "lambda0.h22", "lambda0.methodB",
                                     "sigma", "pmix.h22"]
    for b in ([np.log(0.06), np.log(0.3), -0.7, -1.2, np.log(330.0), -0.4],
              [np.log(0.04), np.log(0.1), 0.3, -2.0, np.log(450.0), 0.8]):
        b1 = [b[0], b[1], b[3], b[2], b[4], b[5]]
        assert linked(b) == pytest.approx(one(b1), rel=1e-12)
    # hcov: known classes (sex) from each method's covariates, an animal's class shared
    import dataclasses

    rng = np.random.default_rng(0)
    sex = {a: rng.choice(["F", "M"]) for a in single.animal_ids}
    ps = [dataclasses.replace(p, covariates=pd.DataFrame({"sex": [sex[a] for a in
                                                                   p.animal_ids]}))
          for p in parts]
    s1 = dataclasses.replace(single, covariates=pd.DataFrame(
        {"sex": [sex[a] for a in single.animal_ids]}))
    l2 = LogLikelihood(ps, mask, detectfn="HHN", model={"lambda0": "~session + h2"},
                       hcov="sex", linked=True)
    l1 = LogLikelihood(s1, mask, detectfn="HHN", model={"lambda0": "~method + h2"},
                       hcov="sex")
    b = [np.log(0.06), np.log(0.3), -0.7, -1.2, np.log(330.0), -0.4]
    assert l2(b) == pytest.approx(l1([b[0], b[1], b[3], b[2], b[4], b[5]]), rel=1e-12)
    with pytest.raises(NotImplementedError, match="individual covariates"):

        cov = [dataclasses.replace(p, covariates=pd.DataFrame({"size": np.arange(p.n)}))
               for p in parts]
        LogLikelihood(cov, mask, detectfn="HHN", model={"lambda0": "~size"},
                      conditional=True, linked=True)


@pytest.mark.parametrize("time", ["t", "T"])
def test_linked_methods_with_time_effects_equal_one_session(time):
    single, parts, mask = _split_grid("count")
    one = LogLikelihood(single, mask, detectfn="HHN", model={"lambda0": f"~method + {time}"})
    linked = LogLikelihood(parts, mask, detectfn="HHN",
                           model={"lambda0": f"~session + {time}"}, linked=True)
    n1, n2 = one.design.beta_names, linked.design.beta_names
    order = [n1.index(n.replace("sessionB", "methodB")) for n in n2]
    rng = np.random.default_rng(1)
    for _ in range(2):
        b = np.array([np.log(0.06), np.log(0.15), *rng.normal(0, 0.3, len(n2) - 3),
                      np.log(330.0)])
        b1 = np.empty_like(b)
        b1[order] = b
        assert linked(b) == pytest.approx(one(b1), rel=1e-12)
    res = SECR(detectfn="HHN", model={"lambda0": f"~session + {time}"}, linked=True).fit(
        parts, mask).results_
    ref = SECR(detectfn="HHN", model={"lambda0": f"~method + {time}"}).fit(single,
                                                                           mask).results_
    assert res.loglik == pytest.approx(ref.loglik, rel=1e-9)
    assert res.region_N().loc["E.N", "estimate"] == pytest.approx(
        ref.region_N().loc["E.N", "estimate"], rel=1e-5)
    # a region mask beyond the model mask: p. from each method's time groups
    from shapely.geometry import box

    region = box(-1500, -1500, 3500, 2500)
    a = res.region_N(region, spacing=200, rn_method="poisson")
    r = ref.region_N(region, spacing=200, rn_method="poisson")
    assert a.loc["R.N", "estimate"] == pytest.approx(r.loc["R.N", "estimate"], rel=1e-5)
