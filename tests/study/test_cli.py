"""``amurlink init`` and ``amurlink run`` at the command line (no data: fast)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from amurlink.cli import app
from amurlink.config import load_config

runner = CliRunner()


def test_init_writes_a_valid_commented_study_folder(tmp_path):
    result = runner.invoke(app, ["init", str(tmp_path / "study")])
    assert result.exit_code == 0, result.output
    cfg = load_config(tmp_path / "study" / "amurlink.toml")
    assert cfg.inputs.country("CN").camtrap_dp == ("cn",)
    assert cfg.inputs.country("RU").mapping == ("ru",)
    assert cfg.inputs.crosswalk == "crosswalk.csv"
    text = (tmp_path / "study" / "amurlink.toml").read_text(encoding="utf-8")
    assert text.count("\n#") > 10  # commented
    assert runner.invoke(app, ["init", str(tmp_path / "study")]).exit_code == 2
    assert runner.invoke(app, ["init", str(tmp_path / "study"), "--force"]).exit_code == 0


def test_run_names_the_missing_inputs_and_fails_cleanly(tmp_path):
    runner.invoke(app, ["init", str(tmp_path)])
    result = runner.invoke(app, ["run", str(tmp_path), "--format", "json"])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    h = payload["stages"]["harmonise"]
    assert h.startswith("failed: input file(s) not found")
    assert "`inputs.CN.camtrap_dp:cn`" in h
    assert payload["stages"]["report en"] == "skipped: needs harmonise (failed)"
    assert payload["stages"]["dna"].startswith("skipped: no DNA")
    assert "Traceback" not in result.output
    assert (tmp_path / "output" / "run-record.json").is_file()


def test_run_without_a_study_is_a_usage_error(tmp_path):
    result = runner.invoke(app, ["run", str(tmp_path / "nowhere")])
    assert result.exit_code in (1, 2)
    assert "amurlink init" in result.output


def test_an_unreachable_scheduler_is_named(tmp_path):
    runner.invoke(app, ["init", str(tmp_path)])
    result = runner.invoke(app, ["run", str(tmp_path), "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'" in result.output
    assert "Traceback" not in result.output
