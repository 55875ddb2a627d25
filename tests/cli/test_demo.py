"""``amurlink demo`` and ``amurlink report``."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from amurlink.cli import app
from amurlink.datasets import example_path

runner = CliRunner()


def test_demo_writes_reports_and_summarises(tmp_path):
    result = runner.invoke(app, ["demo", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for lang in ("en", "zh", "ru", "public-en"):
        assert (tmp_path / "report" / lang / "report.html").is_file()
    out = result.stdout
    assert "tigris" in out and "pardus" in out and "crossings" in out
    assert "Links came from: photo confirmed: 1" in out


def test_report_command_json(tmp_path):
    result = runner.invoke(app, ["report", str(example_path()), "-o", str(tmp_path),
                                 "--lang", "ru", "--audience", "public", "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["lang"] == "ru" and payload["audience"] == "public"
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Нет результатов" in html  # no border beside the toy package: said plainly


def test_report_bad_language_is_a_usage_error(tmp_path):
    result = runner.invoke(app, ["report", str(example_path()), "-o", str(tmp_path),
                                 "--lang", "fr"])
    assert result.exit_code == 2
