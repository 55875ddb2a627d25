"""Bounded reading: the read budget, damaged archives and deep descriptors (issue 14)."""

from __future__ import annotations

import json
import shutil
import struct
import zipfile
from pathlib import Path

import pytest

from amurlink.datasets import example_path
from amurlink.exceptions import DataError
from amurlink.io import load_camtrap_dp, validate_camtrap_dp
from amurlink.io._source import DEFAULT_BUDGET_BYTES, PackageSource, default_budget


def _toy(tmp_path: Path) -> Path:
    dst = tmp_path / "toy"
    shutil.copytree(example_path(), dst)
    return dst


def _zip(folder: Path, out: Path, method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(out, "w", method) as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f.name)
    return out


def _empty_rows(folder: Path, n: int) -> None:
    obs = folder / "observations.csv"
    header = obs.read_text(encoding="utf-8").splitlines()[0]
    with open(obs, "a", encoding="utf-8") as fh:
        fh.write(("," * header.count(",") + "\n") * n)


def test_table_over_budget_is_refused_before_parsing(tmp_path):
    pkg = _toy(tmp_path)
    _empty_rows(pkg, 20_000)  # 28 columns x 20k rows: ~11 MB charged, 0.6 MB on disk
    dataset, report = load_camtrap_dp(pkg, budget=2 * 1024**2)
    assert dataset is None
    issue = next(i for i in report.errors if i.code == "over-budget")
    assert issue.file == "observations.csv"
    assert "read budget" in issue.message and "AMURLINK_READ_BUDGET" in issue.message
    # the same package fits the default budget
    assert validate_camtrap_dp(pkg).row_counts["observations"] > 20_000


def test_zip_member_read_stops_at_budget(tmp_path):
    pkg = _toy(tmp_path)
    obs = pkg / "observations.csv"
    header = obs.read_text(encoding="utf-8").splitlines()[0]
    with open(obs, "a", encoding="utf-8") as fh:  # varied enough to stay under 200:1
        fh.writelines(f"{i}" + "," * header.count(",") + "\n" for i in range(200_000))
    z = _zip(pkg, tmp_path / "bomb.zip")
    src = PackageSource.open(z, budget=3 * 1024**2)
    with src, pytest.raises(DataError, match="read budget"):
        src.read_bytes("observations.csv", table=True)
    assert src.used <= 3 * 1024**2  # never charged past the budget


def test_default_budget_from_environment(monkeypatch):
    monkeypatch.delenv("AMURLINK_READ_BUDGET", raising=False)
    assert default_budget() == DEFAULT_BUDGET_BYTES
    monkeypatch.setenv("AMURLINK_READ_BUDGET", "2G")
    assert default_budget() == 2 * 1024**3
    monkeypatch.setenv("AMURLINK_READ_BUDGET", "700M")
    assert default_budget() == 700 * 1024**2
    monkeypatch.setenv("AMURLINK_READ_BUDGET", "lots")
    with pytest.raises(DataError, match="AMURLINK_READ_BUDGET"):
        default_budget()


def test_bad_crc_is_a_clear_error(tmp_path):
    pkg = _toy(tmp_path)
    z = _zip(pkg, tmp_path / "p.zip", zipfile.ZIP_STORED)
    raw = bytearray(z.read_bytes())
    at = raw.index(b"o1,CN-A1")  # inside the stored observations.csv
    raw[at] = ord("x")
    z.write_bytes(bytes(raw))
    dataset, report = load_camtrap_dp(z)
    assert dataset is None
    issue = next(i for i in report.errors if i.file == "observations.csv")
    assert "damaged" in issue.message and "CRC" in issue.message


@pytest.mark.parametrize("delta", [-40, 5000])
def test_lying_sizes_are_a_clear_error(tmp_path, delta):
    pkg = _toy(tmp_path)
    z = _zip(pkg, tmp_path / "p.zip")
    raw = bytearray(z.read_bytes())
    info = zipfile.ZipFile(z).getinfo("observations.csv")
    name = b"observations.csv"
    # patch the uncompressed size (local header offset 22, central directory offset 24)
    local = info.header_offset
    struct.pack_into("<I", raw, local + 22, max(info.file_size + delta, 1))
    central = raw.index(b"PK\x01\x02" + raw[raw.index(b"PK\x01\x02") + 4:][:0])
    while True:
        n = struct.unpack_from("<H", raw, central + 28)[0]
        if raw[central + 46: central + 46 + n] == name:
            break
        central = raw.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", raw, central + 24, max(info.file_size + delta, 1))
    z.write_bytes(bytes(raw))
    dataset, report = load_camtrap_dp(z)
    assert dataset is None
    assert any(i.file == "observations.csv" and "zip" in i.message for i in report.errors)


def test_deep_descriptor_is_refused(tmp_path):
    pkg = _toy(tmp_path)
    desc = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    deep: object = 1
    for _ in range(200):
        deep = [deep]
    desc["spatial"] = {"type": "Polygon", "coordinates": deep}
    (pkg / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")
    dataset, report = load_camtrap_dp(pkg)
    assert dataset is None
    assert [i.code for i in report.errors] == ["too-deep"]
    # deeper than Python's recursion limit: still a report, not a RecursionError
    (pkg / "datapackage.json").write_text('{"resources": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert [i.code for i in validate_camtrap_dp(pkg).errors] == ["too-deep"]


def test_name_replaces_the_server_path(tmp_path):
    pkg = _toy(tmp_path)
    (pkg / "observations.csv").unlink()
    z = _zip(pkg, tmp_path / "9f1c.upload.zip")
    report = validate_camtrap_dp(z, name="my-package.zip")
    text = report.to_text() + json.dumps(report.to_dict())
    assert str(tmp_path) not in text
    assert report.source == "my-package.zip"
    report = validate_camtrap_dp(tmp_path / "missing.zip", name="missing.zip")
    assert str(tmp_path) not in report.to_text()


def test_hostile_descriptor_lists_stay_cheap(tmp_path):
    pkg = _toy(tmp_path)
    desc = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    good = desc["resources"]
    desc["resources"] = good + [{"name": "x"}] * 200_000  # names counted once, not n^2
    (pkg / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")
    report = validate_camtrap_dp(pkg)
    assert any("200" in i.message and i.field == "resources" for i in report.errors)
    desc["resources"] = good
    desc["contributors"] = [1] * 50_000
    (pkg / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")
    report = validate_camtrap_dp(pkg)
    assert not report.valid
    kept = [i for i in report.issues if i.code == "descriptor"]
    assert len(kept) == 1000  # MAX_ISSUES_PER_CODE kept, the rest counted
    assert report.suppressed["descriptor"] == 49_000
    assert "49000 descriptor" in report.to_text()


def test_wide_header_is_refused(tmp_path):
    pkg = _toy(tmp_path)
    (pkg / "media.csv").write_text("a" + ",a" * 200_000 + "\n", encoding="utf-8")
    issue = next(i for i in validate_camtrap_dp(pkg).errors if i.file == "media.csv")
    assert issue.code == "bad-csv" and "200001 columns" in issue.message


def test_folders_get_a_larger_default_budget_than_archives(tmp_path, monkeypatch):
    """A folder's cost is bounded by its size on disk (about 23 bytes a byte at worst), so a
    study's own joint package (the neaspec demo's costs about 643 MiB) reads under the
    default; an archive, which can inflate a small upload, keeps 640 MiB."""
    from amurlink.io._source import FOLDER_BUDGET_BYTES

    monkeypatch.delenv("AMURLINK_READ_BUDGET", raising=False)
    pkg = _toy(tmp_path)
    folder = PackageSource.open(pkg)
    descriptor = PackageSource.open(pkg / "datapackage.json")
    archive = PackageSource.open(_zip(pkg, tmp_path / "pkg.zip"))
    assert archive.budget == DEFAULT_BUDGET_BYTES
    assert DEFAULT_BUDGET_BYTES < folder.budget <= FOLDER_BUDGET_BYTES
    assert descriptor.budget == folder.budget
    monkeypatch.setenv("AMURLINK_READ_BUDGET", "700M")
    assert PackageSource.open(pkg).budget == 700 * 1024**2  # the setting wins everywhere
    for src in (folder, descriptor, archive):
        src.close()
