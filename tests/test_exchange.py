"""amurlink.exchange: agreements applied to a dataset, exchange packages written and verified."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from amurlink.core.protection import is_sensitive, level_to_precision, protect_locations
from amurlink.datasets import load_example
from amurlink.exceptions import ConfigError, DataError
from amurlink.exchange import (
    MANIFEST_NAME,
    Agreement,
    apply_agreement,
    export_exchange,
    import_exchange,
    scope_dataset,
)
from amurlink.io import write_camtrap_dp
from amurlink.testing import assert_datasets_equal

TODAY = date(2025, 6, 1)
TIGERS = Agreement(provider="NTLNP", recipient="LLNP", species=("Panthera tigris",),
                   level="10km")


@pytest.fixture(scope="module")
def example():
    return load_example()


# --------------------------------------------------------------------------------------------
# Agreement
# --------------------------------------------------------------------------------------------
def test_agreement_normalises_and_validates():
    a = Agreement(species=[" Panthera tigris", "Panthera tigris", ""], tables=["media"],
                  level="1km", embargo_date="2024-01-31")
    assert a.species == ("Panthera tigris",)
    assert a.tables == ("media",)
    assert a.embargo_date == date(2024, 1, 31)
    with pytest.raises(ConfigError, match="agreement.level must be one of"):
        Agreement(level="5km")
    with pytest.raises(ConfigError, match=r"unknown table\(s\) \['photos'\]"):
        Agreement(tables=("photos",))
    with pytest.raises(ConfigError, match="embargo_date must be a date"):
        Agreement(embargo_date="last year")
    with pytest.raises(ConfigError, match="embargo_months"):
        Agreement(embargo_months=-1)


def test_agreement_from_toml(tmp_path):
    f = tmp_path / "a.toml"
    f.write_text('[agreement]\nprovider = "NTLNP"\nrecipient = "LLNP"\n'
                 'species = ["Panthera pardus"]\nlevel = "1km"\nembargo_date = 2014-10-01\n',
                 encoding="utf-8")
    a = Agreement.from_toml(f)
    assert (a.provider, a.recipient, a.species, a.level, a.embargo_date) == (
        "NTLNP", "LLNP", ("Panthera pardus",), "1km", date(2014, 10, 1))
    assert Agreement.from_mapping(a.to_dict()) == a
    f.write_text('[agreement]\nlevl = "1km"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"a.toml: unknown agreement setting\(s\) \['levl'\]"):
        Agreement.from_toml(f)
    f.write_text('[agreement\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Agreement.from_toml(f)


# --------------------------------------------------------------------------------------------
# Scope: species, tables, embargo
# --------------------------------------------------------------------------------------------
def test_species_filter_keeps_only_agreed_species(example):
    out = scope_dataset(example, TIGERS)
    names = set(out.observations["scientificName"].dropna())
    assert names == {"Panthera tigris"}
    assert len(out.observations) == int(
        (example.observations["scientificName"] == "Panthera tigris").sum())
    assert set(out["individuals"]["scientificName"]) <= {"Panthera tigris"}
    assert len(out["individuals"]) < len(example["individuals"])
    # media only where a kept observation points
    assert set(out.media["mediaID"]) <= set(out.observations["mediaID"].dropna())
    assert len(out.media) < len(example.media)
    # deployments (stations) are all kept: effort is shared with the species' records
    assert len(out.deployments) == len(example.deployments)


def test_tables_filter(example):
    out = scope_dataset(example, Agreement(tables=("deployments", "observations")))
    assert set(out.table_names) == {"deployments", "observations", "media"}
    assert len(out.media) == 0  # core table, not agreed: present but empty
    assert len(out.observations) == len(example.observations)


def test_embargo_date_holds_back_later_records(example):
    cutoff = date(2014, 10, 1)
    out = scope_dataset(example, Agreement(embargo_date=cutoff))
    limit = pd.Timestamp(cutoff, tz="UTC")
    assert (out.observations["eventStart"] < limit).all()
    assert (out.media["timestamp"] < limit).all()
    held = int((example.observations["eventStart"] >= limit).sum())
    assert held > 0 and len(out.observations) == len(example.observations) - held


def test_rolling_embargo_counts_back_from_today(example):
    a = Agreement(embargo_months=2)
    # 2014-12-01 minus two months is 2014-10-01: the same cut as the fixed date above
    assert a.cutoff(date(2014, 12, 1)) == date(2014, 10, 1)
    fixed = scope_dataset(example, Agreement(embargo_date=date(2014, 10, 1)))
    rolling = scope_dataset(example, a, today=date(2014, 12, 1))
    assert_datasets_equal(fixed, rolling)
    # years later nothing is held back any more
    assert len(scope_dataset(example, a, today=TODAY).observations) == len(example.observations)


def test_expired_agreement_is_refused(example, tmp_path):
    a = Agreement(recipient="LLNP", valid_until=date(2024, 12, 31))
    with pytest.raises(ConfigError, match="expired on 2024-12-31"):
        apply_agreement(example, a, today=TODAY)
    with pytest.raises(ConfigError):
        export_exchange(example, a, tmp_path / "x.zip", today=TODAY)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------
# Level: through the Foundation I gate
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("level", ["1km", "10km"])
def test_no_position_is_finer_than_the_agreed_level(example, level):
    out = apply_agreement(example, Agreement(recipient="LLNP", level=level), today=TODAY)
    dep = out.deployments
    original = example.deployments.set_index("deploymentID").loc[dep["deploymentID"]]
    moved = ~np.isclose(dep["latitude"].to_numpy(float), original["latitude"].to_numpy(float))
    assert moved.all()
    # every shown point already sits at the centre of a cell of the level: snapping it again
    # changes nothing (a finer point would move)
    again = protect_locations(dep, level=level)
    np.testing.assert_allclose(again["latitude"].to_numpy(float), dep["latitude"].to_numpy(float),
                               atol=1e-6)
    np.testing.assert_allclose(again["longitude"].to_numpy(float),
                               dep["longitude"].to_numpy(float), atol=1e-6)
    assert (dep["coordinateUncertainty"] >= level_to_precision(level).uncertainty_m).all()
    assert out.metadata["coordinatePrecision"] >= level_to_precision(level).coordinate_precision
    assert dep["locationName"].isna().all()


def test_withheld_shows_one_point_and_exact_keeps_sensitive_stations_coarse(example):
    out = apply_agreement(example, Agreement(level="withheld"), today=TODAY)
    assert out.deployments[["latitude", "longitude"]].drop_duplicates().shape[0] == 1
    exact = apply_agreement(example, Agreement(level="exact"), today=TODAY)
    sensitive = set(example.observations.loc[
        is_sensitive(example.observations["scientificName"]), "deploymentID"])
    dep = exact.deployments.set_index("deploymentID")
    src = example.deployments.set_index("deploymentID")
    for d in src.index:
        same = np.isclose(dep.at[d, "latitude"], src.at[d, "latitude"], atol=1e-9)
        # the study policy's partner_sensitive_level (1 km) still applies at tiger stations
        assert same == (d not in sensitive)


# --------------------------------------------------------------------------------------------
# Export / import
# --------------------------------------------------------------------------------------------
@pytest.fixture()
def exported(example, tmp_path) -> Path:
    return export_exchange(example, TIGERS, tmp_path / "exchange", today=TODAY)


def test_export_writes_manifest_with_checksums(example, exported):
    manifest = json.loads((exported / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["format"] == "amurlink-exchange"
    assert manifest["agreement"] == TIGERS.to_dict()
    assert manifest["software"]["name"] == "amurlink" and manifest["software"]["version"]
    assert manifest["created"].endswith("Z")
    listed = {e["path"] for e in manifest["files"]}
    on_disk = {p.relative_to(exported).as_posix() for p in exported.rglob("*") if p.is_file()}
    assert listed == on_disk - {MANIFEST_NAME}
    assert "datapackage.json" in listed and "observations.csv" in listed

    for e in manifest["files"]:
        data = (exported / e["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == e["sha256"] and len(data) == e["bytes"]
    expected = apply_agreement(example, TIGERS, today=TODAY)
    assert manifest["rowCounts"]["observations"] == len(expected.observations)


def test_import_round_trips_what_apply_agreement_gives(example, exported):
    got = import_exchange(exported)
    assert got.agreement == TIGERS
    assert_datasets_equal(got.dataset, apply_agreement(example, TIGERS, today=TODAY))


def test_zip_export_and_import(example, tmp_path):
    z = export_exchange(example, TIGERS, tmp_path / "x.zip", today=TODAY)
    with zipfile.ZipFile(z) as zf:
        assert MANIFEST_NAME in zf.namelist()
    got = import_exchange(z, tmp_path / "in")
    assert (tmp_path / "in" / MANIFEST_NAME).is_file()
    assert_datasets_equal(got.dataset, import_exchange(tmp_path / "in").dataset)


def test_export_refuses_existing_target(example, exported):
    with pytest.raises(FileExistsError, match="overwrite"):
        export_exchange(example, TIGERS, exported, today=TODAY)
    export_exchange(example, Agreement(level="1km"), exported, today=TODAY, overwrite=True)
    assert import_exchange(exported).agreement.level == "1km"


def test_import_is_idempotent(exported, tmp_path):
    target = tmp_path / "received"
    first = import_exchange(exported, target)
    stamps = {p.name: p.stat().st_mtime_ns for p in target.iterdir()}
    second = import_exchange(exported, target)
    assert second.written == first.written == target
    assert {p.name: p.stat().st_mtime_ns for p in target.iterdir()} == stamps
    assert_datasets_equal(first.dataset, second.dataset)


def test_import_refuses_a_different_package_in_the_target(example, exported, tmp_path):
    target = tmp_path / "received"
    import_exchange(exported, target)
    other = export_exchange(example, Agreement(level="withheld"), tmp_path / "other",
                            today=TODAY)
    with pytest.raises(FileExistsError, match="holds something else"):
        import_exchange(other, target)
    assert import_exchange(target).agreement == TIGERS  # untouched
    import_exchange(other, target, overwrite=True)
    assert import_exchange(target).agreement.level == "withheld"


def _tamper_csv(folder: Path) -> None:
    f = folder / "observations.csv"
    f.write_text(f.read_text(encoding="utf-8").replace("Panthera tigris", "Panthera tigrîs", 1),
                 encoding="utf-8")


@pytest.mark.parametrize("how, message", [
    ("edit", "observations.csv was changed after export: expected SHA-256"),
    ("delete", r"incomplete package: 1 file\(s\) listed .* missing \(first: media.csv\)"),
    ("add", r"not listed in exchange-manifest.json were added \(first: extra.csv\)"),
    ("manifest", "no exchange-manifest.json found"),
    ("bad-manifest", "exchange-manifest.json is not valid UTF-8 JSON"),
])
def test_tampered_or_incomplete_packages_are_refused(exported, tmp_path, how, message):
    if how == "edit":
        _tamper_csv(exported)
    elif how == "delete":
        (exported / "media.csv").unlink()
    elif how == "add":
        (exported / "extra.csv").write_text("a\n1\n", encoding="utf-8")
    elif how == "manifest":
        (exported / MANIFEST_NAME).unlink()
    else:
        (exported / MANIFEST_NAME).write_text("{", encoding="utf-8")
    target = tmp_path / "received"
    with pytest.raises(DataError, match=message) as info:
        import_exchange(exported, target)
    assert "nothing was written" in str(info.value)
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".received")] == []


def test_tampered_zip_member_is_refused(example, tmp_path):
    z = export_exchange(example, TIGERS, tmp_path / "x.zip", today=TODAY)
    with zipfile.ZipFile(z) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["deployments.csv"] = members["deployments.csv"].replace(b"43.", b"44.", 1)
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    with pytest.raises(DataError, match="deployments.csv was changed after export"):
        import_exchange(bad, tmp_path / "in")
    assert not (tmp_path / "in").exists()


def test_consistent_checksums_but_invalid_package_is_refused(example, tmp_path):
    """A manifest that matches its files does not make an invalid Camtrap DP package valid."""
    folder = write_camtrap_dp(example, tmp_path / "pkg")
    (folder / "datapackage.json").write_text("{}", encoding="utf-8")

    files = [{"path": p.name, "bytes": p.stat().st_size,
              "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
             for p in sorted(folder.iterdir())]
    (folder / MANIFEST_NAME).write_text(json.dumps({
        "format": "amurlink-exchange", "formatVersion": 1, "agreement": {}, "files": files}),
        encoding="utf-8")
    with pytest.raises(ValueError, match="resource"):
        import_exchange(folder, tmp_path / "in")
    assert not (tmp_path / "in").exists()


def test_unsafe_zip_is_refused_before_anything_is_read(example, tmp_path):
    z = export_exchange(example, TIGERS, tmp_path / "x.zip", today=TODAY)
    with zipfile.ZipFile(z) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
        zf.writestr("../evil.csv", b"a\n")
    with pytest.raises(DataError, match="points outside the archive"):
        import_exchange(bad, tmp_path / "in")
    assert not (tmp_path / "in").exists()
