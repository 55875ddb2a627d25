"""``amurlink camtrap``: JSON output equals the library call; exit codes."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from amurlink.analysis.camtrap import overlap_estimates, record_table, to_radians
from amurlink.cli import app
from amurlink.datasets import example_path, load_example

runner = CliRunner()


def test_activity_overlap_json():
    res = runner.invoke(app, ["camtrap", "activity", str(example_path()), "--species",
                              "Panthera tigris", "--species", "Panthera pardus",
                              "--format", "json"])
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    rec = record_table(load_example())
    want = overlap_estimates(
        to_radians(rec.loc[rec["Species"] == "Panthera tigris", "DateTimeOriginal"]),
        to_radians(rec.loc[rec["Species"] == "Panthera pardus", "DateTimeOriginal"]))
    assert got["Dhat1"] == want["Dhat1"]


def test_history_and_export(tmp_path):
    res = runner.invoke(app, ["camtrap", "history", str(example_path()), "--species",
                              "Panthera tigris", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert "detection_history" in json.loads(res.stdout)
    res = runner.invoke(app, ["camtrap", "export", str(example_path()), "--to", "gpkg",
                              "-o", str(tmp_path)])
    assert res.exit_code == 0
    assert (tmp_path / "stations.gpkg").exists()
    res = runner.invoke(app, ["camtrap", "export", str(example_path()), "--to", "nope",
                              "-o", str(tmp_path)])
    assert res.exit_code == 2
