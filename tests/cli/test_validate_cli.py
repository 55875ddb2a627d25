"""``amurlink validate`` and ``amurlink demo``."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from amurlink.cli import app
from amurlink.datasets import example_path
from amurlink.io import validate_camtrap_dp

runner = CliRunner()


def test_valid_package_exits_0_and_json_equals_library():
    result = runner.invoke(app, ["validate", str(example_path()), "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["valid"] is True and payload["issues"] == []
    assert payload == json.loads(json.dumps(validate_camtrap_dp(example_path()).to_dict()))


def test_invalid_package_exits_1_with_issues(tmp_path):
    pkg = shutil.copytree(example_path(), tmp_path / "toy")
    dep = pkg / "deployments.csv"
    dep.write_text(dep.read_text().replace("43.05,130.93", "95.05,130.93", 1))
    result = runner.invoke(app, ["validate", str(pkg), "--format", "json"])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["valid"] is False
    (issue,) = payload["issues"]
    assert issue["code"] == "out-of-range" and issue["row"] == 2 and issue["field"] == "latitude"


def test_several_packages_and_text_output(tmp_path):
    result = runner.invoke(app, ["validate", str(example_path()), str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert "valid (0 errors" in result.stdout and "no such file or folder" in result.stdout


def test_usage_errors_exit_2():
    assert runner.invoke(app, ["validate"]).exit_code == 2
    assert runner.invoke(app, ["validate", "--max-file-size", "0", "x"]).exit_code == 2
    assert runner.invoke(app, ["no-such-command"]).exit_code == 2


def test_no_traceback_without_debug(tmp_path):
    bad = tmp_path / "x.zip"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
