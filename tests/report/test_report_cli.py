"""``amurlink report`` on a joint folder: the analyses' records, atomic output, exit codes."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

import amurlink.cli.report  # noqa: F401 - registers the command
from amurlink.cli import app

runner = CliRunner()


def _joint(tmp_path):
    from amurlink.datasets import example_config_path, load_example
    from amurlink.io import write_camtrap_dp

    ds = load_example()
    obs = ds.observations
    ahead = obs.iloc[[0]].assign(observationID="planted-clock",
                                 eventStart=obs["eventStart"].iloc[[0]] + pd.DateOffset(years=1),
                                 eventEnd=obs["eventEnd"].iloc[[0]] + pd.DateOffset(years=1))
    ds = ds.replace(observations=pd.concat([obs, ahead], ignore_index=True))
    joint = write_camtrap_dp(ds, tmp_path / "joint")
    (joint / "amurlink.toml").write_text(
        example_config_path().read_text(encoding="utf-8"), encoding="utf-8")
    (joint / "border.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"kind": "border"},
        "geometry": {"type": "LineString",
                     "coordinates": [[131.0, 42.9], [131.0, 43.3]]}}]}))
    return joint


def test_report_counts_the_left_out_records_and_writes_every_table(tmp_path):
    joint = _joint(tmp_path)
    out = tmp_path / "out"
    res = runner.invoke(app, ["report", str(joint), "-o", str(out), "--lang", "ru"])
    assert res.exit_code == 0, res.output
    q = pd.read_csv(out / "tables" / "data_quality.csv").set_index("kind")["records"]
    assert q["clockYear"] == 1
    assert (out / "tables" / "answer_species.csv").is_file()
    assert (out / "tables" / "camtrap_relative_abundance.csv").is_file()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.index('data-name="answer_species"') < html.index('data-name="coverage"')


def test_a_failed_pdf_keeps_the_previous_report(tmp_path, monkeypatch):
    from amurlink.exceptions import AmurlinkError
    from amurlink.report import render

    joint = _joint(tmp_path)
    out = tmp_path / "out"
    assert runner.invoke(app, ["report", str(joint), "-o", str(out), "--no-camtrap"]
                         ).exit_code == 0
    before = (out / "report.html").read_bytes()

    def broken(*_a, **_k):
        raise AmurlinkError("chromium failed to print report.html to PDF")

    monkeypatch.setattr(render, "find_chromium", lambda: "/bin/true")
    monkeypatch.setattr(render, "render_pdf", broken)
    res = runner.invoke(app, ["report", str(joint), "-o", str(out), "--no-camtrap", "--pdf",
                              "--lang", "zh"])
    assert res.exit_code == 1
    assert "chromium failed" in res.output and "Traceback" not in res.output
    assert (out / "report.html").read_bytes() == before
