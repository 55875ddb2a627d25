"""Theme-study design on the simulator's small scenario (slow: landscape + search)."""

from __future__ import annotations

import pytest

from amurlink.design.theme import theme_study_design


@pytest.mark.slow
def test_theme_design_keeps_budgets_and_improves_the_criterion():
    r = theme_study_design("small", time_limit=5, transboundary_weight=1.0)
    cur, prop = r["current"], r["proposed"]
    assert prop["cameras"] == cur["cameras"]  # each country keeps its number of cameras
    assert sum(prop["stations"].values()) == sum(cur["stations"].values())
    obj = lambda d: min(d["En"], d["Er"]) + d["transboundary_detected"]  # noqa: E731
    assert obj(prop) >= obj(cur)
    assert r["gain"] == pytest.approx(obj(prop) / obj(cur) - 1, rel=1e-6)
    assert r["proposed_xy"].shape == (sum(cur["stations"].values()), 2)
    jvn = {row["survey"]: row for row in r["joint_vs_national"]}
    assert jvn["joint"]["rse"] < min(jvn["CN"]["rse"], jvn["RU"]["rse"])
    from amurlink.design.theme import theme_tables
    from amurlink.report._sections import guard_positions

    tabs = theme_tables(r)
    assert list(tabs["layouts"]["layout"]) == ["current", "proposed"]
    assert tabs["layouts"].loc[1, "rse"] == pytest.approx(prop["rse"])
    for name, frame in tabs.items():
        guard_positions(frame, name)  # no position columns: fit for every audience


@pytest.mark.slow
def test_theme_command_prints_figures_without_positions():
    import json

    from typer.testing import CliRunner

    from amurlink.cli import app

    res = CliRunner().invoke(app, ["design", "theme", "--scenario", "small", "--time-limit",
                                   "2", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert "proposed_xy" not in out and out["proposed"]["rse"] > 0
    assert CliRunner().invoke(app, ["design", "theme", "--scenario", "huge"]).exit_code == 2
