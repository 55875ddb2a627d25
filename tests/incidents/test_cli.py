"""``amurlink incidents``: imports written as tables, summaries equal the library, warnings."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from amurlink.cli import app
from amurlink.incidents import compensation_summary, patrol_effort, prevalence, warnings_per_month
from amurlink.incidents.imports import read_incident_folder, write_incident_tables
from amurlink.simulate import simulate_study
from amurlink.simulate._incidents import IncidentRates, simulate_incidents

from .test_imports import _er_events, _smart_bundle

runner = CliRunner()


def test_import_smart_and_earthranger_then_summary(tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    _smart_bundle(bundle)
    res = runner.invoke(app, ["incidents", "import", "smart", str(bundle), "--country", "cn",
                              "-o", str(tmp_path / "cn"), "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["tables"] == {"patrols": 1, "incidents": 1, "patrolFindings": 2}
    events = tmp_path / "events.json"
    events.write_text(json.dumps(_er_events()))
    res = runner.invoke(app, ["incidents", "import", "earthranger", str(events), "--country",
                              "RU", "-o", str(tmp_path / "ru")])
    assert res.exit_code == 0, res.output
    assert "not imported: 1 record(s) of category 'fire_rep'" in res.stdout

    res = runner.invoke(app, ["incidents", "summary", str(tmp_path / "cn"),
                              str(tmp_path / "ru"), "--format", "json"])
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    comp = {(r["countryCode"], r["currency"]): r["amount"] for r in got["compensation"]}
    assert comp == {("CN", "CNY"): 6000.0, ("RU", "RUB"): 30000.0}
    assert got["patrols"][0]["per_100km"] == 4 / 14.2 * 100
    # the EarthRanger snare names a patrol segment that was not imported: counted apart
    assert got["findings_without_patrol"] == 1


def test_summary_of_simulated_books_equals_the_library(tmp_path):
    study = simulate_study("small", seed=3)
    sim = simulate_incidents(study, rates=IncidentRates(kill_per_day=0.3, tested_share=0.5))
    for cc, tables in sim.tables.items():
        write_incident_tables(tables, tmp_path / cc)
        back = read_incident_folder(tmp_path / cc, include_personal=True)
        for name, frame in tables.items():
            pd.testing.assert_frame_equal(back[name], frame, check_dtype=False)
    res = runner.invoke(app, ["incidents", "summary", str(tmp_path / "CN"), str(tmp_path / "RU"),
                              "--format", "json"])
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    inc = pd.concat([t["incidents"] for t in sim.tables.values()], ignore_index=True)
    want = compensation_summary(inc)
    assert [r["amount"] for r in got["compensation"]] == want["amount"].tolist()
    tests = pd.concat([t["diseaseTests"] for t in sim.tables.values()], ignore_index=True)
    assert [r["positive"] for r in got["prevalence"]] == prevalence(tests)["positive"].tolist()
    pats = pd.concat([t["patrols"] for t in sim.tables.values()], ignore_index=True)
    finds = pd.concat([t["patrolFindings"] for t in sim.tables.values()], ignore_index=True)
    assert [r["found"] for r in got["patrols"]] == patrol_effort(pats, finds)["found"].tolist()
    # personal data never reaches the summary
    names = set(sim.tables["RU"]["claimants"]["claimantName"]) | set(
        sim.tables["CN"]["claimants"]["claimantName"])
    assert names and not any(n in res.stdout for n in names)


def test_warnings_command(tmp_path):
    from amurlink.analysis.events import independent_events
    from amurlink.incidents import village_warnings
    from amurlink.io import read_camtrap_dp, write_camtrap_dp

    study = simulate_study("small", seed=3)
    write_camtrap_dp(study.cn, tmp_path / "cn")
    sim = simulate_incidents(study)
    sim.settlements[["name", "longitude", "latitude"]].to_csv(tmp_path / "v.csv", index=False)
    res = runner.invoke(app, ["incidents", "warnings", str(tmp_path / "cn"), "--settlements",
                              str(tmp_path / "v.csv"), "--levels-km", "0,2;2,6",
                              "--format", "json"])
    assert res.exit_code == 0, res.output
    got = pd.DataFrame(json.loads(res.stdout))
    ds = read_camtrap_dp(tmp_path / "cn")
    obs = ds.observations.loc[ds.observations["scientificName"].isin(
        ["Panthera tigris", "Panthera pardus"])]
    ev = independent_events(obs, per_individual=False)
    ev = ev.loc[ev["independent"]]
    dep = ds.deployments.set_index("deploymentID")
    det = pd.DataFrame({"timestamp": ev["eventStart"].to_numpy(),
                        "scientificName": ev["scientificName"].astype(object).to_numpy(),
                        "longitude": ev["deploymentID"].map(dep["longitude"]).to_numpy(float),
                        "latitude": ev["deploymentID"].map(dep["latitude"]).to_numpy(float)})
    from amurlink.incidents import parse_warning_levels

    want = warnings_per_month(village_warnings(det, sim.settlements, levels=parse_warning_levels(
        [[0, 2], [2, 6]])))
    assert got["warnings"].sum() == want["warnings"].sum() > 0
    # counts only: no coordinates or distances in the output
    assert "longitude" not in res.stdout and "distance" not in res.stdout
    res = runner.invoke(app, ["incidents", "warnings", str(tmp_path / "cn"), "--settlements",
                              str(tmp_path / "v.csv"), "--levels-km", "0,2;1,6"])
    assert res.exit_code == 1 and "overlap" in res.output
    res = runner.invoke(app, ["incidents", "warnings", str(tmp_path / "cn"), "--settlements",
                              str(tmp_path / "v.csv"), "--levels-km", "x"])
    assert res.exit_code == 2
