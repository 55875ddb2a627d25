"""``amurlink simulate``: JSON output equals the written summary; usage errors exit 2."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from amurlink.cli import app


def test_simulate_json_summary(tmp_path):
    out = tmp_path / "sim"
    res = CliRunner().invoke(app, ["simulate", "--scenario", "small", "--seed", "5", "-o",
                                   str(out), "--images", "none", "--format", "json"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    summary = json.loads((out / "summary.json").read_text())
    assert {k: payload[k] for k in summary} == summary
    assert (out / "cn" / "datapackage.json").is_file()
    # the corridor scenario's true resistance, for `amurlink run`'s corridors stage
    from amurlink.landscape.grid import read_grid

    assert payload["landscape"] == ["landscape/resistance.tif"]
    grid = read_grid(out / "landscape" / "resistance.tif")
    values = grid.values[grid.valid]
    assert values.size and set(values.tolist()) <= {1.0, 10.0, 100.0}  # the three classes


def test_simulate_usage_errors(tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["simulate", "--scenario", "huge", "-o", str(tmp_path / "x")])
    assert res.exit_code == 2
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "f").write_text("x")
    res = runner.invoke(app, ["simulate", "-o", str(tmp_path / "full")])
    assert res.exit_code == 2
