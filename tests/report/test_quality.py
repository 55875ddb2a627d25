"""Doubtful records are left out (or corrected) and counted; effort splits across years;
a failed report leaves the previous one in place."""

from __future__ import annotations

import pandas as pd
import pytest

from amurlink.analysis.camtrap import effort_summary
from amurlink.analysis.quality import QUALITY_KINDS, analysis_dataset, record_quality
from amurlink.datasets import load_example


def _planted():
    ds = load_example()
    obs = ds.observations
    dep = ds.deployments.set_index("deploymentID")
    row = obs.iloc[[0]]
    ahead = row.assign(observationID="x-clock",
                       eventStart=row["eventStart"] + pd.DateOffset(years=1))
    late = row.assign(observationID="x-late", eventStart=pd.to_datetime(
        dep.loc[row["deploymentID"], "deploymentEnd"].to_numpy(), utc=True)
        + pd.Timedelta(days=2))
    dup = row.assign(observationID="x-dup")
    return ds.replace(observations=pd.concat([obs, ahead, late, dup], ignore_index=True))


def test_each_kind_is_found_once_under_its_first_kind():
    q = record_quality(_planted()).set_index("observationID")
    assert q.loc["x-clock", "kind"] == "clockYear" and q.loc["x-clock", "shiftYears"] == -1
    assert q.loc["x-late", "kind"] == "afterDeployment"
    assert q.loc["x-dup", "kind"] == "duplicate"
    assert q["kind"].notna().sum() == 3
    assert set(q["kind"].dropna()) <= set(QUALITY_KINDS)


def test_exclude_correct_keep():
    ds = _planted()
    n = len(ds.observations)
    ex = analysis_dataset(ds)
    assert len(ex.observations) == n - 3
    info = ex.metadata["amurlink:quality"]
    assert info["counts"]["clockYear"] == 1 and info["excluded"] == 3
    assert analysis_dataset(ex) is ex  # applied once
    cor = analysis_dataset(ds, mode="correct")
    assert len(cor.observations) == n - 2
    fixed = cor.observations.set_index("observationID").loc["x-clock", "eventStart"]
    assert fixed == ds.observations["eventStart"].iloc[0]
    keep = analysis_dataset(ds, mode="keep")
    assert len(keep.observations) == n
    with pytest.raises(ValueError, match="exclude, correct, keep"):
        analysis_dataset(ds, mode="drop")


def test_study_period_bounds_records_and_effort():
    ds = load_example()
    t = pd.to_datetime(ds.observations["eventStart"], utc=True)
    cut = t.sort_values().iloc[len(t) // 2]
    out = analysis_dataset(ds, period=(t.min().isoformat(), cut.isoformat()))
    assert pd.to_datetime(out.observations["eventStart"], utc=True).max() <= cut
    assert out.metadata["amurlink:quality"]["counts"]["outsidePeriod"] > 0
    assert pd.to_datetime(out.deployments["deploymentEnd"], utc=True).max() <= cut


def test_effort_splits_a_deployment_across_years():
    ds = load_example()
    dep = ds.deployments.copy()
    dep["deploymentStart"] = pd.Timestamp("2014-12-22T00:00:00Z")
    dep["deploymentEnd"] = pd.Timestamp("2015-01-11T00:00:00Z")  # 10 + 10 days
    ds = ds.replace(deployments=dep, deploymentGaps=ds.get("deploymentGaps").iloc[0:0])
    e = effort_summary(ds)
    by_year = e["by_year"]
    cam = by_year.groupby("year")["cameraDays"].sum()
    assert cam.loc[2014] == pytest.approx(10 * len(dep))
    assert cam.loc[2015] == pytest.approx(10 * len(dep))
    tot = e["by_country"].set_index("country")
    assert by_year["trapDays"].sum() == pytest.approx(tot.loc["ALL", "trapDays"])
    assert set(by_year["year"]) == {2014, 2015}


def test_a_failed_pdf_leaves_the_previous_report(tmp_path, monkeypatch):
    from amurlink.config import load_config
    from amurlink.datasets import example_config_path
    from amurlink.exceptions import AmurlinkError
    from amurlink.report import ReportInputs, render, write_report

    inputs = ReportInputs(dataset=load_example(), config=load_config(example_config_path()))
    out = tmp_path / "report"
    write_report(inputs, out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def broken(*_a, **_k):
        raise AmurlinkError("chromium failed to print")

    monkeypatch.setattr(render, "find_chromium", lambda: "/bin/true")
    monkeypatch.setattr(render, "render_pdf", broken)
    with pytest.raises(AmurlinkError):
        write_report(inputs, out, pdf=True, date=pd.Timestamp("2031-01-01").date())
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_the_study_settings_choose_the_mode_and_the_period():
    import datetime as dt

    from amurlink.config import StudyConfig
    from amurlink.report import ReportInputs, prepare_inputs

    ds = _planted()
    cfg = StudyConfig.from_dict({"quality": {"records": "keep"}})
    kept = prepare_inputs(ReportInputs(dataset=ds, config=cfg)).dataset
    assert len(kept.observations) == len(ds.observations)
    first = pd.to_datetime(ds.observations["eventStart"], utc=True).min().date()
    cfg = StudyConfig.from_dict({"inputs": {"period": {"start": first,
                                                       "end": first + dt.timedelta(days=20)}}})
    out = prepare_inputs(ReportInputs(dataset=ds, config=cfg)).dataset
    info = out.metadata["amurlink:quality"]
    assert info["mode"] == "exclude" and info["counts"]["outsidePeriod"] > 0
    assert info["period"][0].startswith(first.isoformat())


@pytest.mark.filterwarnings("ignore:The behavior of DataFrame concatenation:FutureWarning")
def test_a_left_out_record_still_makes_its_station_sensitive():
    """The record filter only removes rows after protection is decided on the complete data:
    a tiger photographed by a camera whose clock was a year off still protects its station."""
    from amurlink.config import StudyConfig
    from amurlink.core.protection import ProtectionPolicy
    from amurlink.report import ReportInputs, build_view
    from amurlink.report.render import audience_for

    ds = load_example()
    obs, dep, det = ds.observations, ds.deployments, ds.get("deploymentDetails")
    quiet = "X-quiet"  # a new camera 20 km away where only a roe deer was recorded
    first = dep["deploymentID"].iloc[0]
    new_dep = dep.iloc[[0]].assign(deploymentID=quiet, locationID=quiet,
                                   latitude=dep["latitude"].iloc[0] + 0.2)
    new_det = det[det["deploymentID"] == first].iloc[[0]].assign(deploymentID=quiet)
    row = obs[obs["deploymentID"] == first].iloc[[0]]
    deer = row.assign(observationID="x-deer", deploymentID=quiet,
                      scientificName="Capreolus pygargus", individualID=None)
    tiger = deer.assign(observationID="x-tiger", scientificName="Panthera tigris",
                        eventStart=deer["eventStart"] + pd.DateOffset(years=1))
    ds = ds.replace(observations=pd.concat([obs, deer, tiger], ignore_index=True),
                    deployments=pd.concat([dep, new_dep], ignore_index=True),
                    deploymentDetails=pd.concat([det, new_det], ignore_index=True))
    cats = obs["scientificName"].astype(str).str.startswith("Panthera")
    dep_with_cats = set(obs.loc[cats, "deploymentID"])
    cfg = StudyConfig.from_dict({})
    policy = ProtectionPolicy(partner_level="exact", partner_sensitive_level="10km",
                              crs=cfg.crs.working)
    view = build_view(ReportInputs(dataset=ds, config=cfg), audience=audience_for("partner"),
                      policy=policy)
    assert "x-tiger" not in set(view.inputs.dataset.observations["observationID"])
    levels = view.stations.set_index("deploymentID")["level"]
    assert levels[quiet] == "10km"
    assert (levels.drop(index=list(dep_with_cats | {quiet}), errors="ignore") == "exact").all()
