"""camtrapR 3.0.3 reference outputs: camera operation and detection histories.

Provenance: ``../shared/data/reference/camtrapr/expected/*.csv`` (camtrapR @e31f2da run under
R 4.2.2; see ``expected_values.json``). Arguments follow ``vignettes/camtrapr3.Rmd``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from amurlink.analysis.camtrap import camera_operation, detection_history
from amurlink.exceptions import DataQualityWarning, SchemaError

from .conftest import assert_matrix_equal, read_expected

pytestmark = pytest.mark.reference


def _camtraps_hrs(camtraps: pd.DataFrame) -> pd.DataFrame:
    # vignettes/camtrapr3.Rmd ("Date-times as input"): set-up hours 12, 15, 18; retrieval
    # hours 18, 15, 12; StationC's problem starts at 20:00 and lasts until retrieval.
    h = camtraps.copy()
    h["Setup_date"] = h["Setup_date"] + pd.Series([" 12", " 15", " 18"])
    h["Retrieval_date"] = h["Retrieval_date"] + pd.Series([" 18", " 15", " 12"])
    h.loc[2, "Problem1_from"] = h.loc[2, "Problem1_from"] + " 20"
    h.loc[2, "Problem1_to"] = h.loc[2, "Retrieval_date"]
    return h


def test_camop_problem(camtrapr_dir, camop_problem):
    assert_matrix_equal(camop_problem, read_expected(camtrapr_dir, "camop_problem"))


def test_camop_no_problem(camtrapr_dir, camop_no_problem):
    assert_matrix_equal(camop_no_problem, read_expected(camtrapr_dir, "camop_no_problem"))
    assert camop_no_problem.sum(axis=1).tolist() == [42, 43, 43]


def test_camop_lubridate_and_strptime_agree(camtraps, camop_problem):
    alt = camera_operation(camtraps, has_problems=True, date_format="%d/%m/%Y")
    pd.testing.assert_frame_equal(alt, camop_problem)


def test_camop_hours(camtrapr_dir, camtraps):
    got = camera_operation(_camtraps_hrs(camtraps), has_problems=True, date_format="dmy H")
    assert_matrix_equal(got, read_expected(camtrapr_dir, "camop_hours"))


def test_camop_hours_occasion_start_12(camtrapr_dir, camtraps):
    got = camera_operation(_camtraps_hrs(camtraps), has_problems=True, date_format="dmy H",
                           occasion_start_time=12)
    assert_matrix_equal(got, read_expected(camtrapr_dir, "camop_hours_occasionStart12"))


def test_camop_multiseason(camtrapr_dir):
    ms = pd.read_csv(camtrapr_dir / "camtrapsMultiSeason.csv", dtype=str, keep_default_na=False)
    got = camera_operation(ms, has_problems=True, date_format="dmy", session_col="session")
    assert_matrix_equal(got, read_expected(camtrapr_dir, "camop_multiseason"))


@pytest.fixture(scope="module")
def by_camera(camtrapr_dir):
    return pd.read_csv(camtrapr_dir / "expected" / "input_camtraps_by_camera.csv", dtype=str,
                       keep_default_na=False)


def test_camop_by_camera(camtrapr_dir, by_camera):
    got = camera_operation(by_camera, camera_col="camera", setup_col="setup",
                           retrieval_col="retrieval", has_problems=True, by_camera=True,
                           date_format="ymd H")
    assert_matrix_equal(got, read_expected(camtrapr_dir, "camop_by_camera_byCamera"))


def test_camop_by_camera_aggregation(camtrapr_dir, by_camera):
    exp = read_expected(camtrapr_dir, "camop_by_camera_aggregation", index=False)
    assert exp.shape == (8, 11)
    for _, row in exp.iterrows():
        got = camera_operation(
            by_camera, camera_col="camera", setup_col="setup", retrieval_col="retrieval",
            has_problems=row["hasProblems"] == "TRUE", all_cams_on=row["allCamsOn"] == "TRUE",
            cameras_independent=row["camerasIndependent"] == "TRUE", date_format="ymd H")
        want = pd.DataFrame([pd.to_numeric(row.iloc[3:], errors="coerce").to_numpy(float)],
                            index=["A"], columns=list(exp.columns[3:]))
        assert_matrix_equal(got, want)


def test_camop_errors(camtraps):
    dup = pd.concat([camtraps, camtraps.iloc[[0]]])
    with pytest.raises(SchemaError, match="more than 1 item"):
        camera_operation(dup, date_format="dmy")
    late = camtraps.copy()
    late.loc[2, "Problem1_to"] = "18/05/2009"
    with pytest.raises(SchemaError, match="StationC: Problem ends after retrieval"):
        camera_operation(late, has_problems=True, date_format="dmy")
    same = camtraps.copy()
    same.loc[0, "Retrieval_date"] = same.loc[0, "Setup_date"]
    with pytest.raises(SchemaError, match="identical"):
        camera_operation(same, date_format="dmy")


KL = "Asia/Kuala_Lumpur"


@pytest.mark.parametrize("sp", ["EGY", "MNE", "PBE", "TRA", "VTA"])
@pytest.mark.parametrize("output", ["binary", "count"])
def test_dethist_occ7_station(camtrapr_dir, record_table_sample, camop_no_problem, sp, output):
    dh = detection_history(record_table_sample, camop_no_problem, species=sp, output=output,
                           occasion_length=7, day1="station", time_zone=KL)
    name = ("dethist" if output == "binary" else "dethistCount") + \
        f"_{sp}_occ7_day1station_camopNoProblem"
    assert_matrix_equal(dh.detection_history, read_expected(camtrapr_dir, name))
    assert_matrix_equal(dh.effort,
                        read_expected(camtrapr_dir, "effort_occ7_day1station_camopNoProblem"))


def test_dethist_with_problems(camtrapr_dir, record_table_sample, camop_problem):
    dh = detection_history(record_table_sample, camop_problem, species="PBE",
                           occasion_length=7, day1="station")
    assert_matrix_equal(dh.detection_history,
                        read_expected(camtrapr_dir, "dethist_PBE_occ7_day1station_camopProblem"))
    assert_matrix_equal(dh.effort,
                        read_expected(camtrapr_dir, "effort_occ7_day1station_camopProblem"))


def test_dethist_no_effort(camtrapr_dir, record_table_sample, camop_no_problem):
    dh = detection_history(record_table_sample, camop_no_problem, species="VTA",
                           occasion_length=7, day1="station", include_effort=False)
    assert dh.effort is None
    assert_matrix_equal(dh.detection_history,
                        read_expected(camtrapr_dir, "dethist_VTA_occ7_day1station_noEffort"))


def test_effort_scaled(camtrapr_dir, record_table_sample, camop_no_problem):
    dh = detection_history(record_table_sample, camop_no_problem, species="VTA",
                           occasion_length=7, day1="station", scale_effort=True)
    assert_matrix_equal(dh.effort, read_expected(
        camtrapr_dir, "effortScaled_occ7_day1station_camopNoProblem"), atol=1e-12)
    assert dh.effort_scaling["center"] == pytest.approx(6.095238, abs=1e-6)
    assert dh.effort_scaling["scale"] == pytest.approx(2.077372, abs=1e-6)


def test_dethist_occ1_survey_dates(camtrapr_dir, record_table_sample, camop_no_problem):
    dh = detection_history(record_table_sample, camop_no_problem, species="VTA",
                           occasion_length=1, day1="survey", dates_as_occasion_names=True)
    assert_matrix_equal(dh.detection_history,
                        read_expected(camtrapr_dir, "dethist_VTA_occ1_day1survey_dates"))
    assert_matrix_equal(dh.effort, read_expected(camtrapr_dir, "effort_occ1_day1survey_dates"))


@pytest.fixture(scope="module")
def multiseason(camtrapr_dir):
    ms = pd.read_csv(camtrapr_dir / "camtrapsMultiSeason.csv", dtype=str, keep_default_na=False)
    camop = camera_operation(ms, has_problems=True, date_format="dmy", session_col="session")
    rec = pd.read_csv(camtrapr_dir / "recordTableSampleMultiSeason.csv")
    return rec[["Station", "Species", "DateTimeOriginal"]], camop


def test_dethist_multiseason_umf(camtrapr_dir, multiseason):
    rec, camop = multiseason
    dh = detection_history(rec, camop, species="VTA", occasion_length=10, day1="station",
                           unmarked_mult_frame=True)
    assert_matrix_equal(dh.detection_history,
                        read_expected(camtrapr_dir, "dethist_VTA_multiseason_occ10_umf"))
    assert_matrix_equal(dh.effort, read_expected(camtrapr_dir, "effort_multiseason_occ10_umf"))


def test_dethist_multiseason_stacked(camtrapr_dir, multiseason):
    rec, camop = multiseason
    dh = detection_history(rec, camop, species="VTA", occasion_length=10, day1="station")
    assert_matrix_equal(dh.detection_history,
                        read_expected(camtrapr_dir, "dethist_VTA_multiseason_occ10_stacked"))


def test_dethist_several_species(record_table_sample, camop_no_problem):
    dh = detection_history(record_table_sample, camop_no_problem,
                           species=["PBE", "VTA"], occasion_length=7, day1="station")
    assert set(dh.detection_history) == {"PBE", "VTA"}
    # recomputed totals in expected_values.json: PBE 11 binary detections, VTA 5
    assert np.nansum(dh.detection_history["PBE"].to_numpy()) == 11
    assert np.nansum(dh.detection_history["VTA"].to_numpy()) == 5


def test_dethist_messages(record_table_sample, camop_no_problem):
    with pytest.warns(DataQualityWarning, match="4 records \\(out of 5\\)"):
        detection_history(record_table_sample, camop_no_problem, species="VTA",
                          occasion_length=7, day1="2009-05-01")
    with pytest.raises(SchemaError, match=r"after the last station's retrieval date \(2009-05-17"):
        detection_history(record_table_sample, camop_no_problem, species="VTA",
                          occasion_length=7, day1="2009-06-01")
    with pytest.raises(SchemaError, match=r"before the first station's setup date \(2009-04-02"):
        detection_history(record_table_sample, camop_no_problem, species="VTA",
                          occasion_length=7, day1="2009-04-01")
    with pytest.raises(ValueError, match="smaller than the total number of days"):
        detection_history(record_table_sample, camop_no_problem, species="VTA",
                          occasion_length=47)
    with pytest.raises(ValueError):
        detection_history(record_table_sample, camop_no_problem, species="VTA",
                          occasion_length=0)


def test_dethist_min_active_days(record_table_sample, camop_problem):
    dh = detection_history(record_table_sample, camop_problem, species="PBE",
                           occasion_length=7, day1="station", min_active_days=4)
    # StationC's 6th occasion has 3 active days -> missing, never 0
    assert np.isnan(dh.detection_history.loc["StationC", "o6"])
    assert np.isnan(dh.effort.loc["StationC", "o6"])
