"""Malformed packages end in a report or a clear error, never a traceback or a partial write."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amurlink.datasets import example_path
from amurlink.exceptions import DataError, SchemaError
from amurlink.io import load_camtrap_dp, read_camtrap_dp, validate_camtrap_dp, write_camtrap_dp


def _edit(path: Path, table: str, row: int, field: str, value: str) -> None:
    """Set one cell of a CSV (row numbered as frictionless does: header = 1)."""
    df = pd.read_csv(path / f"{table}.csv", dtype=str, keep_default_na=False)
    df.loc[row - 2, field] = value
    df.to_csv(path / f"{table}.csv", index=False)


# (table, row, field, new value, expected issue code)
DEFECTS = [
    ("deployments", 3, "latitude", "95", "out-of-range"),
    ("deployments", 4, "deploymentStart", "2020-05-30 04:57:37", "type-error"),
    ("deployments", 2, "featureType", "trail", "enum"),
    ("media", 6, "filePublic", "yes", "type-error"),
    ("media", 9, "fileMediatype", "jpeg", "pattern"),
    ("media", 12, "filePath", "../../etc/passwd", "pattern"),
    ("observations", 11, "observationType", "animals", "enum"),
    ("observations", 21, "deploymentID", "nope", "foreign-key"),
    ("observations", 30, "count", "0", "out-of-range"),
    ("observations", 40, "scientificName", "", None),  # optional: not a defect
    ("observations", 45, "observationLevel", "", "required"),
    ("observations", 50, "bboxWidth", "abc", "type-error"),
]


def test_broken_official_example_gives_one_issue_per_defect(example_copy):
    for table, row, field, value, _ in DEFECTS:
        _edit(example_copy, table, row, field, value)
    # and a duplicate primary key
    obs = pd.read_csv(example_copy / "observations.csv", dtype=str, keep_default_na=False)
    obs.loc[60 - 2, "observationID"] = obs.loc[59 - 2, "observationID"]
    obs.to_csv(example_copy / "observations.csv", index=False)

    report = validate_camtrap_dp(example_copy)
    expected = {(t, r, f, c) for t, r, f, _, c in DEFECTS if c is not None}
    expected.add(("observations", 60, "observationID", "unique"))
    got = {(i.table, i.row, i.field, i.code) for i in report.errors}
    assert got == expected
    assert len(report.errors) == len(expected)
    for issue in report.errors:  # every issue says where, what and how to fix
        assert issue.file and issue.row and issue.field and issue.fix, issue


def test_issue_messages_name_file_row_field_expected_and_got(example_copy):
    _edit(example_copy, "deployments", 3, "latitude", "95")
    (issue,) = validate_camtrap_dp(example_copy).errors
    assert issue.file == "deployments.csv"
    assert issue.expected == "a value in [-90, 90]" and issue.got == "95"
    assert "deployments.latitude in row 3" in issue.message


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda p: (p / "media.csv").unlink(), "missing-file"),
        (lambda p: (p / "media.csv").write_text(""), "empty-file"),
        (lambda p: (p / "datapackage.json").write_text("{not json"), "bad-descriptor"),
        (lambda p: (p / "datapackage.json").write_text("[]"), "bad-descriptor"),
        (lambda p: (p / "deployments.csv").write_text(
            (p / "deployments.csv").read_text().replace(",B_HS_val 2", ',"B_HS_val 2', 1)),
         "bad-csv"),
        (lambda p: (p / "deployments.csv").write_text(
            (p / "deployments.csv").read_text().replace("\n", ",extra\n", 2)), "bad-csv"),
        (lambda p: (p / "media.csv").write_bytes(
            (p / "media.csv").read_bytes().replace(b"Reconyx", b"\xff\xfe") .replace(
                b"RCNX0001", b"RC\xffX0001")), "bad-encoding"),
        (lambda p: (p / "observations.csv").write_text(
            (p / "observations.csv").read_text().replace("observationType", "obsType", 1)),
         "missing-field"),
    ],
    ids=["missing-file", "empty-file", "broken-json", "json-not-object", "broken-quoting",
         "ragged-row", "not-utf8", "missing-required-column"],
)
def test_structural_defects_are_reported_not_raised(example_copy, mutate, code):
    mutate(example_copy)
    dataset, report = load_camtrap_dp(example_copy)
    assert not report.valid
    assert code in report.counts(), report.to_text()
    with pytest.raises(SchemaError):
        read_camtrap_dp(example_copy)


def test_unknown_time_zone_is_reported(tmp_path):
    pkg = shutil.copytree(example_path(), tmp_path / "toy")
    details = pkg / "deployment-details.csv"
    details.write_text(details.read_text().replace("Asia/Vladivostok", "Asia/Vladivostock", 1))
    report = validate_camtrap_dp(pkg)
    (issue,) = report.errors
    assert issue.code == "timezone" and issue.row == 5 and "Asia/Vladivostock" in issue.message


def test_unsafe_resource_path_is_refused(tmp_path):
    pkg = shutil.copytree(example_path(), tmp_path / "toy")
    desc = json.loads((pkg / "datapackage.json").read_text())
    desc["resources"][0]["path"] = "../../secret.csv"
    (pkg / "datapackage.json").write_text(json.dumps(desc))
    report = validate_camtrap_dp(pkg)
    assert "unsafe-path" in report.counts()


def _zip_with(tmp_path: Path, extra: dict[str, bytes], name="pkg.zip") -> Path:
    z = tmp_path / name
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(example_path().iterdir()):
            zf.write(p, p.name)
        for member, data in extra.items():
            zf.writestr(member, data)
    return z


def test_zip_with_parent_paths_is_refused(tmp_path):
    z = _zip_with(tmp_path, {"../evil.csv": b"x"})
    report = validate_camtrap_dp(z)
    assert not report.valid and "outside the archive" in report.errors[0].message
    assert not (tmp_path.parent / "evil.csv").exists()


def test_zip_bomb_is_refused(tmp_path):
    z = _zip_with(tmp_path, {"bomb.csv": b"0" * (50 * 1024**2)})
    report = validate_camtrap_dp(z)
    assert not report.valid and "zip bomb" in report.errors[0].message


def test_file_over_size_limit_is_refused(tmp_path):
    report = validate_camtrap_dp(example_path(), max_bytes=1000)
    assert not report.valid
    assert any(i.code in ("file-too-large", "package") and "limit" in i.message
               for i in report.errors)


def test_not_a_package(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("hello")
    report = validate_camtrap_dp(f)
    assert report.errors[0].code == "package" and "not a data package" in report.errors[0].message
    with pytest.raises(SchemaError):
        read_camtrap_dp(tmp_path / "missing")


# -- property-based fuzzing ------------------------------------------------------------------------
_TOY = {p.name: p.read_bytes() for p in example_path().iterdir()}
_CSVS = sorted(n for n in _TOY if n.endswith(".csv"))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    file=st.sampled_from(_CSVS),
    position=st.floats(0, 1),
    junk=st.binary(min_size=0, max_size=12) | st.sampled_from(
        [b'"', b",", b"\n", b"\r\n", b"NA", b"\xff", b"\x00", b"9" * 30, b"-1", b"true"]),
    cut=st.booleans(),
)
def test_byte_level_corruption_never_crashes(tmp_path_factory, file, position, junk, cut):
    pkg = tmp_path_factory.mktemp("fuzz")
    for name, data in _TOY.items():
        (pkg / name).write_bytes(data)
    data = _TOY[file]
    at = int(position * len(data))
    data = data[:at] + junk + (data[at + len(junk):] if cut else data[at:])
    (pkg / file).write_bytes(data)
    dataset, report = load_camtrap_dp(pkg)
    # Always a report; and whatever validates must also write and read back identically.
    assert report.valid == (not report.errors)
    if report.valid:
        assert dataset is not None
        out = write_camtrap_dp(dataset, pkg.parent / (pkg.name + "-out"))
        again = read_camtrap_dp(out)
        for t in dataset.table_names:
            pd.testing.assert_frame_equal(dataset[t], again[t])


_CELL = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=20
)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=st.sampled_from(["deployments", "media", "observations"]), row=st.integers(0, 3),
       col=st.integers(0, 27), value=_CELL)
def test_any_cell_value_gives_a_report(tmp_path_factory, table, row, col, value):
    pkg = tmp_path_factory.mktemp("cell")
    for name, data in _TOY.items():
        (pkg / name).write_bytes(data)
    df = pd.read_csv(io.BytesIO(_TOY[f"{table}.csv"]), dtype=str, keep_default_na=False)
    df.iloc[row, col % df.shape[1]] = value
    df.to_csv(pkg / f"{table}.csv", index=False)
    dataset, report = load_camtrap_dp(pkg)
    for issue in report.errors:
        assert issue.message and issue.code
    if report.valid:
        assert dataset is not None


def test_failed_validation_never_writes(tmp_path):
    """Reading an invalid package raises before anything is written by a read-then-write job."""
    pkg = shutil.copytree(example_path(), tmp_path / "toy")
    (pkg / "observations.csv").write_text("observationID\n1\n")
    with pytest.raises(SchemaError):
        write_camtrap_dp(read_camtrap_dp(pkg), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_data_error_is_also_value_error():
    assert issubclass(DataError, ValueError) and issubclass(SchemaError, ValueError)
