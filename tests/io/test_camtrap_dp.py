"""Reading, validating and writing Camtrap DP packages."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from amurlink.dataset import Dataset
from amurlink.datasets import example_path, load_example
from amurlink.exceptions import SchemaError
from amurlink.io import (
    load_camtrap_dp,
    read_camtrap_dp,
    validate_camtrap_dp,
    write_camtrap_dp,
    write_table,
)
from amurlink.testing import assert_datasets_equal, make_toy_dataset


# -- the official example ----------------------------------------------------------------------
def test_official_example_is_valid_with_expected_counts(reference_dir):
    meta = json.loads((reference_dir / "camtrap-dp-example" / "meta.json").read_text())
    ds, report = load_camtrap_dp(reference_dir / "camtrap-dp-example")
    assert report.valid, report.to_text()
    assert report.warnings == []
    assert len(ds.deployments) == meta["counts"]["deployments"]
    assert len(ds.media) == meta["counts"]["media"]
    assert len(ds.observations) == meta["counts"]["observations"]
    n_event = (ds.observations["observationLevel"] == "event").sum()
    assert n_event == meta["counts"]["observations_event_level"]
    events = ds.observations[ds.observations["observationLevel"] == "event"]
    assert events["eventID"].nunique() == meta["counts"]["distinct_events"]
    # The custom inline 'individuals' resource is not an amurlink table: kept verbatim.
    assert [r["name"] for r in ds.extra_resources] == ["individuals"]
    # Offsets are honoured: +02:00 local is 2 h before UTC.
    first = ds.deployments.set_index("deploymentID").loc["00a2c20d", "deploymentStart"]
    assert first == pd.Timestamp("2020-05-30T02:57:37Z")


def test_official_example_round_trips_with_every_value_equal(reference_dir, tmp_path):
    first = read_camtrap_dp(reference_dir / "camtrap-dp-example")
    out = write_camtrap_dp(first, tmp_path / "rt")
    second = read_camtrap_dp(out)
    assert_datasets_equal(first, second)
    assert second.extra_resources == first.extra_resources
    assert dict(second.metadata) == dict(first.metadata)


def test_written_packages_pass_frictionless_offline(reference_dir, tmp_path, frictionless_check):
    example = read_camtrap_dp(reference_dir / "camtrap-dp-example")
    for name, ds in (("example", example), ("toy", make_toy_dataset())):
        out = write_camtrap_dp(ds, tmp_path / name)
        report = frictionless_check(out)
        assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]
        # every resource was checked, the extension tables included
        assert len(report.tasks) == len(ds.table_names) + len(ds.extra_resources)


def test_frictionless_rejects_what_we_reject(tmp_path, frictionless_check):
    """Sanity check of the harness: an extra column in a core table fails both validators."""
    out = write_camtrap_dp(make_toy_dataset(), tmp_path / "toy")
    obs = pd.read_csv(out / "observations.csv", dtype=str, keep_default_na=False)
    obs["countryCode"] = "CN"
    obs.to_csv(out / "observations.csv", index=False)
    assert not validate_camtrap_dp(out).valid
    assert not frictionless_check(out).valid


# -- the bundled toy package --------------------------------------------------------------------
def test_bundled_example_equals_its_builder():
    assert_datasets_equal(load_example(), make_toy_dataset())
    report = validate_camtrap_dp(example_path())
    assert report.valid and not report.warnings, report.to_text()


def test_local_offsets_written_from_deployment_timezones(tmp_path):
    out = write_camtrap_dp(make_toy_dataset(), tmp_path / "toy")
    obs = pd.read_csv(out / "observations.csv", dtype=str).set_index("observationID")
    assert obs.loc["o1", "eventStart"] == "2014-09-06T04:00:00+08:00"  # CN camera
    # Vladivostok was UTC+11 until 26 Oct 2014 and UTC+10 after
    assert obs.loc["o3", "eventStart"] == "2014-09-20T14:10:00+11:00"
    assert obs.loc["o4", "eventStart"] == "2014-11-03T04:45:00+10:00"


# -- atomic writing -----------------------------------------------------------------------------
def test_failed_write_leaves_existing_package_intact(tmp_path, monkeypatch):
    target = write_camtrap_dp(make_toy_dataset(), tmp_path / "pkg")
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    import amurlink.io.camtrap_dp as mod

    calls = {"n": 0}
    real = mod._write_csv

    def failing(frame, path):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        real(frame, path)

    monkeypatch.setattr(mod, "_write_csv", failing)
    with pytest.raises(OSError, match="disk full"):
        write_camtrap_dp(make_toy_dataset(), target, overwrite=True)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["pkg"]  # no partial folder left behind


def test_write_refuses_to_overwrite_by_default(tmp_path):
    target = write_camtrap_dp(make_toy_dataset(), tmp_path / "pkg")
    with pytest.raises(FileExistsError, match="overwrite"):
        write_camtrap_dp(make_toy_dataset(), target)


def test_write_refuses_extra_columns_in_core_tables(tmp_path):
    ds = make_toy_dataset()
    bad = ds.replace(deployments=ds.deployments.assign(countryCode="CN"))
    with pytest.raises(SchemaError, match="extension table"):
        write_camtrap_dp(bad, tmp_path / "pkg")
    assert not (tmp_path / "pkg").exists()


def test_write_table_replaces_one_table_atomically(tmp_path, monkeypatch):
    target = write_camtrap_dp(make_toy_dataset().replace(identityLinks=None), tmp_path / "pkg")
    links = make_toy_dataset()["identityLinks"]
    write_table(target, "identityLinks", links)
    again = read_camtrap_dp(target)
    pd.testing.assert_frame_equal(again["identityLinks"], links)
    old = (target / "identity-links.csv").read_bytes()
    import amurlink.io.camtrap_dp as mod

    monkeypatch.setattr(mod, "_write_csv", lambda f, p: (_ for _ in ()).throw(OSError("boom")))
    with pytest.raises(OSError):
        write_table(target, "identityLinks", links.iloc[:1])
    assert (target / "identity-links.csv").read_bytes() == old
    assert not [p for p in target.iterdir() if p.name.endswith(".partial")]


# -- Dataset -------------------------------------------------------------------------------------
def test_dataset_is_not_changed_by_replace_and_rejects_unknown_tables():
    ds = make_toy_dataset()
    smaller = ds.replace(deployments=ds.deployments.iloc[:2])
    assert len(ds.deployments) == 6 and len(smaller.deployments) == 2
    with pytest.raises(SchemaError, match="unknown table"):
        Dataset({**ds.tables, "deployment": ds.deployments})
    with pytest.raises(SchemaError, match="core table"):
        Dataset({"deployments": ds.deployments})
    with pytest.raises(KeyError, match="has no 'incidents' table"):
        ds["incidents"]


# -- zip packages ---------------------------------------------------------------------------------
def _zip(folder: Path, dest: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.iterdir()):
            zf.write(p, prefix + p.name)
    return dest


@pytest.mark.parametrize("prefix", ["", "toy/"])
def test_zip_package_reads_like_the_folder(tmp_path, prefix):
    z = _zip(example_path(), tmp_path / "toy.zip", prefix)
    assert_datasets_equal(read_camtrap_dp(z), load_example())


def test_descriptor_path_reads_like_the_folder():
    assert_datasets_equal(read_camtrap_dp(example_path() / "datapackage.json"), load_example())


def test_strict_false_returns_dataset_despite_errors(example_copy):
    obs = example_copy / "observations.csv"
    obs.write_text(obs.read_text().replace(",animal,", ",animals,", 1))
    with pytest.raises(SchemaError) as info:
        read_camtrap_dp(example_copy)
    assert info.value.report.counts() == {"enum": 1}
    ds = read_camtrap_dp(example_copy, strict=False)
    assert len(ds.observations) == 549


def test_dataset_copy_false_adopts_frames_and_replace_shares_the_rest():
    ds = make_toy_dataset()
    frame = ds.deployments.copy()
    adopted = Dataset({**ds.tables, "deployments": frame}, copy=False)
    assert adopted.deployments is frame
    copied = Dataset({**ds.tables, "deployments": frame})
    assert copied.deployments is not frame
    pd.testing.assert_frame_equal(copied.deployments, frame)
    new_obs = ds.observations.iloc[:2].copy()
    derived = ds.replace(observations=new_obs)
    assert derived.media is ds.media  # unchanged tables shared, read-only
    assert derived.observations is not new_obs  # given tables copied
    assert len(ds.observations) > 2
