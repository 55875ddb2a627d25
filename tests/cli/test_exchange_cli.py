"""``amurlink exchange export|import``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from amurlink.cli import app
from amurlink.datasets import example_path, load_example
from amurlink.exchange import MANIFEST_NAME, Agreement, apply_agreement, import_exchange
from amurlink.testing import assert_datasets_equal

runner = CliRunner()
TODAY = "2025-06-01"


@pytest.fixture()
def agreement_file(tmp_path: Path) -> Path:
    f = tmp_path / "agreement.toml"
    f.write_text('[agreement]\nprovider = "NTLNP"\nrecipient = "LLNP"\n'
                 'species = ["Panthera pardus"]\ntables = ["deployments", "media", '
                 '"observations", "individuals"]\nlevel = "1km"\nembargo_date = 2014-11-01\n',
                 encoding="utf-8")
    return f


def _export(agreement_file: Path, out: Path, *extra: str):
    return runner.invoke(app, ["exchange", "export", str(example_path()), "--agreement",
                               str(agreement_file), "-o", str(out), "--today", TODAY, *extra])


def test_export_json_matches_the_library(agreement_file, tmp_path):
    out = tmp_path / "for-llnp.zip"
    result = _export(agreement_file, out, "--format", "json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    agreement = Agreement.from_toml(agreement_file)
    assert payload["package"] == str(out)
    assert payload["agreement"] == agreement.to_dict()
    expected = apply_agreement(load_example(), agreement, today=date.fromisoformat(TODAY))
    assert payload["rowCounts"] == {k: len(v) for k, v in expected.tables.items()}
    got = import_exchange(out)
    assert_datasets_equal(got.dataset, expected)
    assert set(got.dataset.observations["scientificName"]) == {"Panthera pardus"}


def test_export_text_and_usage_errors(agreement_file, tmp_path):
    out = tmp_path / "pkg"
    result = _export(agreement_file, out)
    assert result.exit_code == 0, result.output
    assert "at level 1km" in result.stdout and (out / MANIFEST_NAME).is_file()
    again = _export(agreement_file, out)
    assert again.exit_code == 2 and "--overwrite" in again.output
    bad_day = runner.invoke(app, ["exchange", "export", str(example_path()), "--agreement",
                                  str(agreement_file), "-o", str(tmp_path / "x"),
                                  "--today", "soon"])
    assert bad_day.exit_code == 2 and "--today must be a date" in bad_day.output
    assert not (tmp_path / "x").exists()


def test_export_invalid_agreement_exits_1(tmp_path):
    f = tmp_path / "a.toml"
    f.write_text('[agreement]\nlevel = "street"\n', encoding="utf-8")
    result = runner.invoke(app, ["exchange", "export", str(example_path()), "--agreement",
                                 str(f), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "agreement.level must be one of" in result.output
    assert not (tmp_path / "out").exists()


def test_import_verifies_copies_and_is_idempotent(agreement_file, tmp_path):
    out = tmp_path / "x.zip"
    assert _export(agreement_file, out).exit_code == 0
    target = tmp_path / "received"
    first = runner.invoke(app, ["exchange", "import", str(out), "-o", str(target),
                                "--format", "json"])
    assert first.exit_code == 0, first.output
    payload = json.loads(first.stdout)
    assert payload == import_exchange(out, target).summary()
    assert payload["written"] == str(target) and (target / MANIFEST_NAME).is_file()
    second = runner.invoke(app, ["exchange", "import", str(out), "-o", str(target)])
    assert second.exit_code == 0 and "imported into" in second.stdout


def test_import_refuses_a_tampered_package(agreement_file, tmp_path):
    out = tmp_path / "pkg"
    assert _export(agreement_file, out).exit_code == 0
    dep = out / "deployments.csv"
    dep.write_bytes(dep.read_bytes() + b"\n")
    target = tmp_path / "received"
    result = runner.invoke(app, ["exchange", "import", str(out), "-o", str(target)])
    assert result.exit_code == 1
    assert "deployments.csv was changed after export" in result.output
    assert "Traceback" not in result.output
    assert not target.exists()
