"""The vectorised package writer: the text it writes, value by value, and the round trip."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

from amurlink.io import read_camtrap_dp, write_camtrap_dp
from amurlink.io.camtrap_dp import _csv_quote, _float_text, _format_frame, _write_csv
from amurlink.schema import TABLES
from amurlink.testing import assert_datasets_equal, make_toy_dataset


def _floats() -> np.ndarray:
    rng = np.random.default_rng(7)
    wide = rng.normal(size=4000) * 10.0 ** rng.integers(-30, 30, 4000)
    coords = np.round(rng.uniform(-180, 180, 4000), 6)
    whole = rng.integers(-10**6, 10**6, 500).astype(float)
    edges = [0.0, -0.0, 1.0, -1.0, 0.1, 1e-4, 9.99e-5, 1e-5, 2.5e-7, 1e15, 9999999999999998.0,
             1e16, 1.5e16, 123456789012345678.0, 5e-324, 1.7976931348623157e308, np.inf,
             -np.inf, 43.12, 131.0]
    return np.concatenate([wide, coords, whole, edges])


def test_numbers_are_written_as_python_repr():
    x = _floats()
    assert _float_text(x).to_pylist() == [repr(float(v)) for v in x]


def test_nan_is_written_empty():
    assert _float_text(np.array([np.nan, 2.0, np.nan])).to_pylist() == [None, "2.0", None]


def _utc_text(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def _local_text(ts: pd.Timestamp, zone: str) -> str:
    t = ts.tz_convert(zone).strftime("%Y-%m-%dT%H:%M:%S%z")
    return t[:-2] + ":" + t[-2:]


def test_datetimes_are_local_time_with_offset_or_utc():
    rng = np.random.default_rng(3)
    secs = rng.integers(-2_000_000_000, 4_000_000_000, 3000)  # 1906 .. 2096
    times = pd.Series(pd.to_datetime(secs, unit="s", utc=True))
    times[5] = pd.NaT
    zones = {"d-vl": "Asia/Vladivostok", "d-sh": "Asia/Shanghai", "d-ny": "America/New_York",
             "d-kt": "Asia/Kathmandu", "d-none": None}
    deps = np.array(list(zones))[rng.integers(0, len(zones), len(times))]
    deps[7] = "unknown-deployment"
    frame = pd.DataFrame({"deploymentID": deps, "gapStart": times, "gapEnd": times})
    frame["deploymentID"] = frame["deploymentID"].astype("string[pyarrow]")
    zone_of = pd.Series({k: v for k, v in zones.items()}, dtype=object)
    table = _format_frame(frame, TABLES["deploymentGaps"], zone_of)
    got = table.column("gapStart").to_pylist()
    for i, (dep, ts) in enumerate(zip(deps, times, strict=True)):
        zone = zones.get(dep)
        want = None if pd.isna(ts) else _utc_text(ts) if zone is None else _local_text(ts, zone)
        assert got[i] == want, (i, dep, ts)
    assert got[5] is None and got[7].endswith("Z")


def test_booleans_integers_and_text():
    frame = pd.DataFrame({
        "observationID": pd.array(["o1", "o2", "o3"], dtype="string[pyarrow]"),
        "deploymentID": pd.array(["d1", "d1", "d2"], dtype="string[pyarrow]"),
        "eventStart": pd.to_datetime(["2014-09-06T04:00:00Z"] * 3, utc=True),
        "eventEnd": pd.to_datetime(["2014-09-06T04:00:00Z"] * 3, utc=True),
        "observationLevel": ["event"] * 3, "observationType": ["animal"] * 3,
        "count": pd.array([1, None, -12], dtype="Int64"),
        "observationComments": ['a, "quoted" word', "two\nlines", pd.NA],
    })
    table = _format_frame(frame, TABLES["observations"], None)
    assert table.column("count").to_pylist() == ["1", None, "-12"]
    assert table.column("observationComments").to_pylist() == ['a, "quoted" word', "two\nlines",
                                                                None]
    assert table.column("sex").to_pylist() == [None] * 3  # undeclared in the frame: empty
    assert _csv_quote(table.column("observationComments").combine_chunks()).to_pylist() == \
        ['"a, ""quoted"" word"', '"two\nlines"', None]
    media = pd.DataFrame({"mediaID": ["m1", "m2", "m3"], "deploymentID": ["d1"] * 3,
                          "captureMethod": ["timeLapse"] * 3,
                          "timestamp": pd.to_datetime(["2014-09-06T04:00:00Z"] * 3, utc=True),
                          "filePath": ["a.jpg"] * 3, "fileMediatype": ["image/jpeg"] * 3,
                          "filePublic": pd.array([True, False, None], dtype="boolean")})
    text = _format_frame(media, TABLES["media"], None)
    assert text.column("filePublic").to_pylist() == ["true", "false", None]
    assert text.column("mediaID").to_pylist() == ["m1", "m2", "m3"]  # object text too


def test_written_csv_reads_back_with_the_csv_module(tmp_path):
    frame = pd.DataFrame({
        "deploymentID": pd.array(["d,1", 'd"2', "d\r\n3", "plain", None], dtype="string"),
        "gapStart": pd.to_datetime(["2014-01-01T00:00:00Z"] * 5, utc=True),
        "gapEnd": pd.to_datetime(["2014-01-02T00:00:00Z"] * 4 + [None], utc=True),
    })
    table = _format_frame(frame, TABLES["deploymentGaps"], None)
    path = tmp_path / "gaps.csv"
    _write_csv(table, path)
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))
    assert rows[0] == list(TABLES["deploymentGaps"].field_names)
    assert [r[0] for r in rows[1:]] == ["d,1", 'd"2', "d\r\n3", "plain", ""]
    assert rows[5][2] == "" and rows[1][1] == "2014-01-01T00:00:00Z"
    assert path.read_bytes().count(b"\n") == 6 + 1  # 6 lines + the LF inside "d\r\n3"


@pytest.mark.parametrize("rows", [0, 1, 50])
def test_round_trip_every_value_equal_at_any_size(tmp_path, rows, monkeypatch):
    import amurlink.io.camtrap_dp as mod

    monkeypatch.setattr(mod, "_WRITE_BLOCK_ROWS", 7)  # several blocks, a short last one
    toy = make_toy_dataset()
    reps = max(1, -(-rows // len(toy.observations))) if rows else 0
    obs = pd.concat([toy.observations] * reps, ignore_index=True).iloc[:rows] if rows else \
        toy.observations.iloc[:0]
    obs = obs.assign(observationID=[f"o{i}" for i in range(len(obs))]).astype(
        {"observationID": toy.observations["observationID"].dtype})
    obs["mediaID"] = pd.array([None] * len(obs), dtype=toy.observations["mediaID"].dtype)
    ds = toy.replace(observations=obs.reset_index(drop=True))
    out = write_camtrap_dp(ds, tmp_path / "pkg")
    assert_datasets_equal(ds, read_camtrap_dp(out))
