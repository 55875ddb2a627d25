"""camtrapR record tables, surveyReport, detectionMaps, activityRadial; overlap 0.3.9 values.

Provenance: ``../shared/data/reference/camtrapr/expected_values.json`` and ``expected/``;
``../shared/data/reference/overlap/meta.json`` (overlap @fba6b44 tests and man pages).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from amurlink.analysis.camtrap import (
    activity_radial,
    bandwidth,
    density_fit,
    detection_maps,
    filter_record_table,
    overlap_bootstrap,
    overlap_estimates,
    survey_report,
    to_radians,
)

from .conftest import read_expected

pytestmark = pytest.mark.reference


def test_survey_report(camtrapr_dir, record_table_sample, camtraps, camop_problem):
    rep = survey_report(record_table_sample, camtraps, camop_problem, date_format="dmy")
    for name in ("survey_dates", "species_by_station", "events_by_species",
                 "events_by_station", "events_by_station2"):
        exp = read_expected(camtrapr_dir, f"surveyReport_{name}", index=False)
        got = rep[name].astype(str)
        assert list(got.columns) == list(exp.columns), name
        got = got.map(lambda v: v[:-2] if v.endswith(".0") else v)
        pd.testing.assert_frame_equal(got.reset_index(drop=True), exp, check_dtype=False)
    assert rep["survey_dates"]["n_trap_nights_active"].sum() == 122.5


def test_detection_maps(camtrapr_dir, record_table_sample, camtraps):
    got = detection_maps(record_table_sample, camtraps.astype({"utm_x": int, "utm_y": int}),
                         x_col="utm_x", y_col="utm_y")
    exp = read_expected(camtrapr_dir, "detectionMaps", index=False)
    pd.testing.assert_frame_equal(got.astype(str), exp)


def test_activity_radial(camtrapr_dir, record_table_sample):
    got = activity_radial(record_table_sample.loc[record_table_sample["Species"] == "PBE",
                                                  "DateTimeOriginal"])
    exp = read_expected(camtrapr_dir, "activityRadial_PBE", index=False)
    assert list(got.columns) == list(exp.columns)
    np.testing.assert_allclose(got.to_numpy(float), exp.to_numpy(float), rtol=0, atol=1e-14)


@pytest.mark.parametrize(("minutes", "kept"), [(30, 39), (60, 39), (120, 38), (1440, 34)])
@pytest.mark.parametrize("compared", ["lastRecord", "lastIndependentRecord"])
def test_filter_record_table(record_table_sample, minutes, kept, compared):
    out = filter_record_table(record_table_sample, min_delta_time=minutes, compared_to=compared)
    assert len(out) == kept
    if minutes == 1440:
        counts = out["Species"].value_counts()
        assert counts["PBE"] == 15 and counts["TRA"] == 6


@pytest.mark.parametrize(("minutes", "kept"), [(30, 18), (60, 18), (1440, 16)])
def test_filter_record_table_individuals(camtrapr_dir, minutes, kept):
    rec = pd.read_csv(camtrapr_dir / "recordTableIndividualSample.csv")
    out = filter_record_table(rec, min_delta_time=minutes, species_col="Individual")
    assert len(out) == kept


def test_filter_record_table_event_summary(record_table_sample):
    rec = record_table_sample.assign(count=1)
    out = filter_record_table(rec, min_delta_time=24 * 60, event_summary={"count": "sum"})
    assert (out["count_sum"] == out["n_images"]).all()
    assert out["n_images"].sum() == len(rec)


def test_overlap_package_asserted(reference_dir):
    o = reference_dir / "overlap"
    tiger = pd.read_csv(o / "sim_tigerObs.csv").iloc[:, 0].to_numpy()
    pig = pd.read_csv(o / "sim_pigObs.csv").iloc[:, 0].to_numpy()
    est = overlap_estimates(tiger, pig)
    assert [round(est[k], 5) for k in ("Dhat1", "Dhat4", "Dhat5")] == [0.29086, 0.2692, 0.2275]
    adj = overlap_estimates(tiger, pig, adjust=(1.2, 1.5, 1))
    assert [round(v, 5) for v in adj.values()] == [0.31507, 0.28849, 0.2375]
    # R's uniroot stops at tol ~1.2e-4, so the bandwidths agree to that precision
    assert bandwidth(tiger) == pytest.approx(29.9065, abs=2e-4)
    assert bandwidth(pig) == pytest.approx(10.42076, abs=2e-4)
    dens = density_fit(tiger, np.array([0, np.pi / 2, np.pi, 3 * np.pi / 2, 2 * np.pi]), 30)
    np.testing.assert_allclose(dens, [0.02440435, 0.44522913, 0.02179983, 0.50513539,
                                      0.02440435], atol=5e-9)
    assert tiger.mean() == pytest.approx(3.248677, abs=1e-6)


@pytest.mark.parametrize(("prey", "want"), [
    ("macaque", (0.532068, 0.528047, 0.497458)), ("boar", (0.590368, 0.588387, 0.59737)),
    ("sambar", (0.789492, 0.778454, 0.698308)), ("muntjac", (0.798476, 0.798607, 0.806716)),
])
def test_overlap_kerinci_tiger_prey(reference_dir, prey, want):
    k = pd.read_csv(reference_dir / "overlap" / "kerinci.csv")
    tig = k.loc[k["Sps"] == "tiger", "Time"].to_numpy() * 2 * np.pi
    other = k.loc[k["Sps"] == prey, "Time"].to_numpy() * 2 * np.pi
    est = overlap_estimates(tig, other)
    # values in expected_values.json are rounded to 6 decimals; R uniroot tol ~1e-4 on kappa
    np.testing.assert_allclose(list(est.values()), want, atol=5e-6)


@pytest.mark.parametrize(("a", "b", "want"), [
    ("PBE", "VTA", (0.453594, 0.427557, 0.5)), ("PBE", "EGY", (0.60611, 0.56401, 0.722222)),
    ("PBE", "TRA", (0.752452, 0.763734, 0.791667)), ("VTA", "EGY", (0.441749, 0.411283, 0.366667)),
    ("VTA", "TRA", (0.332446, 0.318779, 0.375)), ("EGY", "TRA", (0.521281, 0.514116, 0.458333)),
])
def test_activity_overlap_camtrapr(record_table_sample, a, b, want):
    r = record_table_sample
    est = overlap_estimates(to_radians(r.loc[r["Species"] == a, "DateTimeOriginal"]),
                            to_radians(r.loc[r["Species"] == b, "DateTimeOriginal"]))
    # values in expected_values.json are rounded to 6 decimals; R uniroot tol ~1e-4 on kappa
    np.testing.assert_allclose(list(est.values()), want, atol=5e-6)


def test_overlap_bootstrap_uses_rng(reference_dir):
    o = reference_dir / "overlap"
    tiger = pd.read_csv(o / "sim_tigerObs.csv").iloc[:, 0].to_numpy()
    pig = pd.read_csv(o / "sim_pigObs.csv").iloc[:, 0].to_numpy()
    r1 = overlap_bootstrap(tiger, pig, n_boot=20, rng=1)
    r2 = overlap_bootstrap(tiger, pig, n_boot=20, rng=1)
    assert r1 == r2
    f = r1.to_frame()
    assert (f["lcl"] <= f["ucl"]).all() and list(f["estimator"]) == ["Dhat1", "Dhat4", "Dhat5"]
