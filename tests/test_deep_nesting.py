"""Deeply nested TOML / JSON in a study config, border, agreement or exchange manifest gives a
clear error (the parsers recurse; Python's recursion limit must never surface as a crash)."""

from __future__ import annotations

import zipfile

import pytest
from typer.testing import CliRunner

from amurlink.cli import app
from amurlink.config import load_config
from amurlink.core.border import load_border
from amurlink.exceptions import ConfigError, DataError, SchemaError
from amurlink.exchange import MANIFEST_NAME, Agreement, import_exchange

DEEP = 100_000


def test_deep_study_config(tmp_path):
    path = tmp_path / "amurlink.toml"
    path.write_text("x = " + "[" * DEEP + "]" * DEEP + "\n")
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_config(path)


def test_deep_border(tmp_path):
    path = tmp_path / "border.geojson"
    path.write_text("[" * DEEP + "]" * DEEP)
    with pytest.raises(SchemaError, match="nested too deeply"):
        load_border(path)


def test_deep_agreement(tmp_path):
    path = tmp_path / "agreement.toml"
    path.write_text("a = " + "[" * DEEP + "]" * DEEP + "\n")
    with pytest.raises(ConfigError, match="nested too deeply"):
        Agreement.from_toml(path)


def test_deep_exchange_manifest_cli_and_library(tmp_path):
    path = tmp_path / "from-partner.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("datapackage.json", "{}")
        z.writestr(MANIFEST_NAME, "[" * DEEP + "]" * DEEP)
    with pytest.raises(DataError, match="nested too deeply"):
        import_exchange(path)
    res = CliRunner().invoke(app, ["exchange", "import", str(path)])
    assert res.exit_code == 1
    assert "internal error" not in res.output and "Traceback" not in res.output
