"""Harmonise a hand-made Russian package (Pulkovo 1942, Vladivostok time across 26 October 2014)
and a Chinese one (CGCS2000 Gauss-Kruger, Shanghai time), checked by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from amurlink.cli import app
from amurlink.config import StudyConfig
from amurlink.exceptions import SchemaError
from amurlink.harmonise import FLAGS_NAME, MANIFEST_NAME, harmonise, write_harmonised
from amurlink.io import load_camtrap_dp

NOW = "2026-01-01T00:00:00Z"

# Russian station R1 stands at 131.000 E, 43.100 N (WGS 84). In Pulkovo 1942 / Gauss-Kruger
# zone 23 (EPSG:28423; Krassowsky ellipsoid, CM 135 E, false easting 23 500 000 m) that is
# E 23 174 253.60, N 4 781 656.66 (EPSG transformation "Pulkovo 1942 to WGS 84 (20)").
# Russian surveyors write X = northing, Y = easting: the sheet below does the same.
RU_STATIONS = """Станция,X,Y,Установка,Снятие,Камера
R1,4781656.66,23174253.60,01.09.2014,30.11.2014,Reconyx-7
R2,4781656.66,23174253.60,01.06.2015,01.07.2015,Reconyx-8
"""
# Camera clock times (set on UTC+11 on 1 Sep 2014; Vladivostok moved to UTC+10 on 26 Oct 2014,
# the camera did not):
#   15.09.2014 22:30 -> 11:30 UTC;  20.11.2014 12:00 -> 01:00 UTC (not 02:00);
#   20.11.2014 12:00:02 -> a burst frame; R2 10.06.2015 08:00 (UTC+10) -> 09.06 22:00 UTC.
RU_RECORDS = """Станция,Дата,Вид,Особь,Пол,Файл
R1,15.09.2014 22:30:00,Тигр,T-23,М,R1/IMG_0001.JPG
R1,20.11.2014 12:00:00,Тигр,T-23,М,R1/IMG_0002.JPG
R1,20.11.2014 12:00:02,Тигр,T-23,М,R1/IMG_0003.JPG
R2,10.06.2015 08:00:00,Кабан,,,R2/IMG_0001.JPG
"""
RU_MAPPING = """
[source]
name = "LLNP camera traps 2014"
country = "RU"
organisation = "LLNP"
catalogue = "RU-LLNP"
crs = "EPSG:28423"
timezone = "Asia/Vladivostok"
encoding = "utf-8"

[tables.stations]
file = "stations.csv"
delimiter = ","
datetime_format = "%d.%m.%Y"
columns = { deploymentID = "Станция", cameraID = "Камера", x = "X", y = "Y",
            deploymentStart = "Установка", deploymentEnd = "Снятие" }

[tables.records]
file = "records.csv"
datetime_format = "%d.%m.%Y %H:%M:%S"
columns = { deploymentID = "Станция", timestamp = "Дата", scientificName = "Вид",
            individualID = "Особь", sex = "Пол", filePath = "Файл" }

[species]
"Тигр" = "Panthera tigris"
"Кабан" = "Sus scrofa"

[values.sex]
"М" = "male"
"Ж" = "female"
"""

# Chinese station C1 at 130.350 E, 43.050 N (WGS 84) is E 609 991.72, N 4 769 159.20 in
# CGCS2000 / 3-degree Gauss-Kruger CM 129E (EPSG:4552); CGCS2000 equals WGS 84 within a metre.
CN_STATIONS = """station,east,north,start,end
C1,609991.72,4769159.20,2014-09-01 10:00,2014-12-01 10:00
"""
# Shanghai time, UTC+8 all year: 2014-11-21 09:00 -> 01:00 UTC.
CN_RECORDS = """station,time,species,animal
C1,2014-11-21 09:00:00,东北虎,T012
C1,2014-11-21 09:00:00,东北虎,T012
"""
CN_MAPPING = """
[source]
name = "NTLNP camera traps 2014"
country = "CN"
organisation = "NTLNP"
catalogue = "CN-NTLNP"
crs = "EPSG:4552"
timezone = "Asia/Shanghai"

[tables.stations]
file = "stations.csv"
datetime_format = "%Y-%m-%d %H:%M"

[tables.stations.columns]
deploymentID = "station"
x = "east"
y = "north"
deploymentStart = "start"
deploymentEnd = "end"

[tables.records]
file = "records.csv"
datetime_format = "%Y-%m-%d %H:%M:%S"

[tables.records.columns]
deploymentID = "station"
timestamp = "time"
scientificName = "species"
individualID = "animal"
"""
CROSSWALK = """cn_id,ru_id,method,reviewer_cn,reviewer_ru,date
T012,T-23,photo,Li Wei,Anna Petrova,2015-03-01
"""


def _write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text.lstrip("\n"), encoding="utf-8")


@pytest.fixture()
def sources(tmp_path: Path) -> dict[str, Path]:
    _write(tmp_path / "ru", {"stations.csv": RU_STATIONS, "records.csv": RU_RECORDS,
                             "ru.mapping.toml": RU_MAPPING})
    _write(tmp_path / "cn", {"stations.csv": CN_STATIONS, "records.csv": CN_RECORDS,
                             "cn.mapping.toml": CN_MAPPING})
    (tmp_path / "crosswalk.csv").write_text(CROSSWALK, encoding="utf-8")
    (tmp_path / "amurlink.toml").write_text("[events]\nindependence_minutes = 30\n",
                                            encoding="utf-8")
    return {"ru": tmp_path / "ru" / "ru.mapping.toml", "cn": tmp_path / "cn" / "cn.mapping.toml",
            "links": tmp_path / "crosswalk.csv", "config": tmp_path / "amurlink.toml"}


@pytest.fixture()
def result(sources):
    return harmonise(sources["ru"], sources["cn"], config=StudyConfig(), links=sources["links"],
                     now=NOW)


def _z(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def test_utc_times_checked_by_hand(result):
    assert result.report.valid, result.report.to_text()
    obs = result.dataset.observations.set_index("observationID")
    assert obs.loc["RU-LLNP:o2", "eventStart"] == _z("2014-09-15T11:30:00Z")
    # After the 26 October 2014 rule change the camera still ran on UTC+11:
    assert obs.loc["RU-LLNP:o3", "eventStart"] == _z("2014-11-20T01:00:00Z")
    assert obs.loc["RU-LLNP:o5", "eventStart"] == _z("2015-06-09T22:00:00Z")
    assert obs.loc["CN-NTLNP:o2", "eventStart"] == _z("2014-11-21T01:00:00Z")
    dep = result.dataset.deployments.set_index("deploymentID")
    assert dep.loc["R1", "deploymentStart"] == _z("2014-09-01T01:00:00Z")  # noon at UTC+11
    assert dep.loc["R1", "deploymentEnd"] == _z("2014-11-30T01:00:00Z")    # offset at set-up
    assert dep.loc["C1", "deploymentStart"] == _z("2014-09-01T02:00:00Z")


def test_rule_change_inside_a_deployment_is_flagged(result):
    changes = [i for i in result.report.warnings if i.code == "timezone-rule-change"]
    assert [i.row for i in changes] == [2]  # R1 only; R2 (2015) and C1 (Shanghai) have none
    assert "2014-10-25 15:00 UTC" in changes[0].message


def test_wgs84_positions_checked_by_hand(result):
    dep = result.dataset.deployments.set_index("deploymentID")
    assert dep.loc["R1", "longitude"] == pytest.approx(131.000, abs=1e-5)  # ~1 m
    assert dep.loc["R1", "latitude"] == pytest.approx(43.100, abs=1e-5)
    assert dep.loc["C1", "longitude"] == pytest.approx(130.350, abs=1e-5)
    assert dep.loc["C1", "latitude"] == pytest.approx(43.050, abs=1e-5)
    # The Pulkovo datum shift matters: Krassowsky latitude/longitude without it are ~90 m off.
    import pyproj

    lon_k, lat_k = pyproj.Transformer.from_crs(28423, 4284, always_xy=True).transform(
        23174253.60, 4781656.66)
    assert abs(lon_k - 131.0) > 5e-4
    swapped = [i for i in result.report.warnings if i.code == "coordinates-swapped"]
    assert len(swapped) == 1  # the Russian X = northing convention was recognised


def test_deployment_details_ids_species_and_individuals(result):
    ds = result.dataset
    details = ds["deploymentDetails"].set_index("deploymentID")
    assert details.loc["R1", "timezone"] == "Asia/Vladivostok"
    assert details.loc["C1", "timezone"] == "Asia/Shanghai"
    assert details.loc["R1", "countryCode"] == "RU" and details.loc["C1", "countryCode"] == "CN"
    assert details.loc["R1", "organisation"] == "LLNP"
    obs = ds.observations
    assert set(obs["individualID"].dropna()) == {"RU-LLNP:T-23", "CN-NTLNP:T012"}
    assert set(obs["scientificName"]) == {"Panthera tigris", "Sus scrofa"}
    assert set(obs.loc[obs["individualID"] == "RU-LLNP:T-23", "sex"]) == {"male"}
    ind = ds["individuals"].set_index("individualID")
    assert ind.loc["RU-LLNP:T-23", "catalogue"] == "RU-LLNP"
    assert ind.loc["RU-LLNP:T-23", "firstRecorded"] == _z("2014-09-15T11:30:00Z")
    assert ind.loc["CN-NTLNP:T012", "scientificName"] == "Panthera tigris"


def test_crosswalk_becomes_confirmed_expert_link(result):
    links = result.dataset["identityLinks"]
    assert len(links) == 2  # one acceptance per side (the two-party rule)
    row = links.iloc[1]
    assert {row["subjectA"], row["subjectB"]} == {"CN-NTLNP:T012", "RU-LLNP:T-23"}
    assert row["status"] == "confirmed" and row["method"] == "expert"
    assert links["reviewer"].tolist() == ["Li Wei [CN]", "Anna Petrova [RU]"]
    assert json.loads(row["evidence"])["crosswalkMethod"] == "photo"
    from amurlink.identify.links import current_links

    assert current_links(links)["status"].tolist() == ["confirmed"]


def test_duplicates_and_bursts_flagged_not_deleted(result):
    flags = result.flags.set_index("observationID")
    assert len(result.dataset.observations) == 6
    assert flags["duplicate"].tolist().count(True) == 1 and flags.loc["CN-NTLNP:o3", "duplicate"]
    assert flags.loc["RU-LLNP:o4", "burst"] and not flags.loc["RU-LLNP:o3", "burst"]
    # independent events from amurlink.analysis.events (30 min, per station/species/individual)
    if result.manifest["independentEvents"]["available"]:
        assert flags.loc["RU-LLNP:o3", "independent"]
        assert not flags.loc["RU-LLNP:o4", "independent"]


def test_written_package_manifest_and_round_trip(result, sources, tmp_path):
    out = write_harmonised(result, tmp_path / "joint")
    back, report = load_camtrap_dp(out)
    assert report.valid, report.to_text()
    assert (back.observations["eventStart"].to_numpy()
            == result.dataset.observations["eventStart"].to_numpy()).all()
    manifest = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["software"]["amurlink"]
    assert manifest["config"]["events"]["independence_minutes"] == 30.0
    files = {Path(p).name for i in manifest["inputs"] for p in i["files"]}
    assert {"ru.mapping.toml", "stations.csv", "records.csv"} <= files
    assert manifest["linkSet"]["events"] == 2 and manifest["links"]["confirmed"] == 1
    assert "datapackage.json" in manifest["outputs"]
    assert (out / FLAGS_NAME).is_file()


def test_unknown_individual_in_crosswalk_is_reported(sources):
    sources["links"].write_text(CROSSWALK + "T999,T-23,photo,Li Wei,Anna Petrova,2015-03-02\n",
                                encoding="utf-8")
    res = harmonise(sources["ru"], sources["cn"], config=StudyConfig(), links=sources["links"],
                    now=NOW)
    (err,) = [i for i in res.report.errors if i.code == "crosswalk-link"]
    assert err.row == 3 and "CN-NTLNP:T999" in err.message
    with pytest.raises(SchemaError):
        write_harmonised(res, sources["links"].parent / "never")
    assert not (sources["links"].parent / "never").exists()


def test_deployment_id_clash_between_sources_is_an_error(sources):
    cn = sources["cn"].parent
    (cn / "stations.csv").write_text(CN_STATIONS.replace("C1,", "R1,"), encoding="utf-8")
    (cn / "records.csv").write_text(CN_RECORDS.replace("C1,", "R1,"), encoding="utf-8")
    res = harmonise(sources["ru"], sources["cn"], config=StudyConfig(), now=NOW)
    assert any(i.code == "id-clash" and i.got == "R1" for i in res.report.errors)


# -- CLI ----------------------------------------------------------------------------------------
def test_cli_harmonise_writes_package_and_manifest(sources, tmp_path):
    out = tmp_path / "cli-out"
    res = CliRunner().invoke(app, ["harmonise", str(sources["ru"]), str(sources["cn"]),
                                   "--config", str(sources["config"]), "--links",
                                   str(sources["links"]), "-o", str(out), "--format", "json"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert payload["valid"] and payload["rows"]["observations"] == 6
    assert (out / "datapackage.json").is_file() and (out / MANIFEST_NAME).is_file()
    manifest = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["configFile"]["sha256"]


def test_cli_harmonise_bad_input_exits_1_without_output(sources, tmp_path):
    sources["ru"].write_text(RU_MAPPING.replace('crs = "EPSG:28423"', 'crs = "MSK-25"'),
                             encoding="utf-8")
    out = tmp_path / "cli-out"
    res = CliRunner().invoke(app, ["harmonise", str(sources["ru"]), str(sources["cn"]),
                                   "--config", str(sources["config"]), "-o", str(out)])
    assert res.exit_code == 1
    assert "MSK-25" in res.output and "Traceback" not in res.output
    assert not out.exists()


def test_conflicting_crosswalk_row_is_kept_as_proposed_and_output_written(sources, monkeypatch):
    """A crosswalk row the link store refuses (a conflict) is stored for review, not lost."""
    import amurlink.identify.links as links_mod
    from amurlink.exceptions import LinkConflictError

    def refuse(*args, **kwargs):
        raise LinkConflictError("cannot confirm: both are IDs of national catalogue RU-LLNP")

    monkeypatch.setattr(links_mod, "review_link", refuse)
    res = harmonise(sources["ru"], sources["cn"], config=StudyConfig(), links=sources["links"],
                    now=NOW)
    assert res.report.valid
    (warn,) = [i for i in res.report.warnings if i.code == "crosswalk-conflict"]
    assert warn.row == 2 and "stored as proposed" in warn.message
    links = res.dataset["identityLinks"]
    assert links[["subjectA", "subjectB", "status", "method"]].to_numpy().tolist() == [
        ["CN-NTLNP:T012", "RU-LLNP:T-23", "proposed", "expert"]]
    assert res.manifest["links"]["confirmed"] == 0 and res.manifest["links"]["proposed"] == 1
    out = write_harmonised(res, sources["links"].parent / "joint")
    assert (out / "datapackage.json").is_file()


def test_in_memory_input_hashes_species_and_inputs_unchanged():
    """A Dataset input: table hashes in the manifest (computed on a thread) equal the direct
    hash, unknown species are counted over all records, and the input frames are untouched."""
    from amurlink.harmonise import _frame_hash
    from amurlink.testing import make_toy_dataset

    toy = make_toy_dataset()
    obs = toy.observations.copy()
    names = obs["scientificName"].astype(object)
    names[[0, 1, 2]] = ["Тигр", "Felis nonexistens", "Felis nonexistens"]
    obs["scientificName"] = pd.array(names, dtype=toy.observations["scientificName"].dtype)
    ids = obs["individualID"].astype(object)
    ids[0] = "T-99"  # not namespaced: gets the catalogue of its deployment's country
    obs["individualID"] = pd.array(ids, dtype=toy.observations["individualID"].dtype)
    ds = toy.replace(observations=obs)
    before = {k: v.copy() for k, v in ds.tables.items()}
    res = harmonise(ds, config=StudyConfig(), now=NOW)
    tables = res.manifest["inputs"][0]["tables"]
    assert tables == {k: _frame_hash(v) for k, v in ds.tables.items()}
    unknown = [i for i in res.report.warnings if i.code == "unknown-species"]
    assert [i.got for i in unknown] == ["Felis nonexistens"]
    assert "(2 records)" in unknown[0].message
    joint = res.dataset.observations["scientificName"]
    assert joint.iloc[0] == "Panthera tigris" and joint.iloc[1] == "Felis nonexistens"
    assert res.dataset.observations["individualID"].tolist()[:3] == [
        "CN-NTLNP:T-99", "CN-NTLNP:T01", "RU-LLNP:T-1"]
    for k, v in ds.tables.items():
        pd.testing.assert_frame_equal(v, before[k])
    json.dumps(res.manifest, default=str)  # no pending future left in the manifest


def test_a_crosswalk_row_confirms_only_with_a_reviewer_of_each_side(sources):
    """The two-party rule: one reviewer (or one side) leaves the link for the partner."""
    from amurlink.identify.links import current_links

    sources["links"].write_text("cn_id,ru_id,reviewer,reviewer_cn,reviewer_ru,date\n"
                                "T012,T-23,Anna Petrova,,,2015-03-01\n", encoding="utf-8")
    res = harmonise(sources["ru"], sources["cn"], config=StudyConfig(), links=sources["links"],
                    now=NOW)
    (warn,) = [i for i in res.report.warnings if i.code == "crosswalk-one-party"]
    assert warn.row == 2 and "reviewer_cn and reviewer_ru" in warn.fix
    assert current_links(res.dataset["identityLinks"])["status"].tolist() == ["proposed"]
    sources["links"].write_text("cn_id,ru_id,reviewer_cn,reviewer_ru,date\n"
                                "T012,T-23,Li Wei,,2015-03-01\n", encoding="utf-8")
    res = harmonise(sources["ru"], sources["cn"], config=StudyConfig(), links=sources["links"],
                    now=NOW)
    assert [i.code for i in res.report.warnings if i.code.startswith("crosswalk")] == [
        "crosswalk-one-side"]
    cur = current_links(res.dataset["identityLinks"])
    assert cur[["status", "awaiting"]].to_numpy().tolist() == [["proposed", "RU"]]
    assert res.manifest["links"]["awaiting"] == 1
    # with the rule off, one reviewer confirms
    one = StudyConfig.from_dict({"links": {"two_party": False}})
    sources["links"].write_text(CROSSWALK.replace("reviewer_cn,reviewer_ru", "reviewer,x")
                                .replace("Li Wei,Anna Petrova", "Anna Petrova,-"),
                                encoding="utf-8")
    res = harmonise(sources["ru"], sources["cn"], config=one, links=sources["links"], now=NOW)
    log = res.dataset["identityLinks"]
    assert log["reviewer"].tolist() == ["Anna Petrova"]
    assert current_links(log, two_party=False)["status"].tolist() == ["confirmed"]


# -- link checks: clock-flagged records are ignored, the two records are named -----------------
def _link_frames(clock_year: bool):
    import pandas as pd

    dep = pd.DataFrame({
        "deploymentID": ["cn1", "ru1"], "latitude": [43.0, 43.2], "longitude": [131.0, 131.0],
        "deploymentStart": pd.to_datetime(["2015-06-01", "2015-06-01"], utc=True),
        "deploymentEnd": pd.to_datetime(["2015-10-01", "2015-10-01"], utc=True)})
    # two detections 22 km apart, 10 minutes apart: impossible for one animal ...
    t_ru = pd.Timestamp("2015-07-01T00:10:00Z")
    if clock_year:  # ... unless the Russian camera's clock was a year ahead
        t_ru = t_ru + pd.DateOffset(years=1)
    obs = pd.DataFrame({
        "observationID": ["o-cn", "o-ru"], "deploymentID": ["cn1", "ru1"],
        "individualID": ["CN-X:T1", "RU-Y:T9"],
        "eventStart": [pd.Timestamp("2015-07-01T00:00:00Z"), t_ru]})
    members = pd.DataFrame({"subject": ["CN-X:T1", "RU-Y:T9"], "catalogue": ["CN-X", "RU-Y"],
                            "group": [0, 0], "side": ["a", "b"]})
    return obs, dep, members


def test_space_time_conflict_names_both_records():
    import pandas as pd

    from amurlink.identify._links_conflicts import ConflictRule, conflicts_between, detections

    obs, dep, members = _link_frames(clock_year=False)
    dets = detections(obs, dep, members["subject"])
    rejected = pd.DataFrame(columns=["_a", "_b", "linkEventID", "reviewer", "reason",
                                     "timestamp"])
    found = conflicts_between(members, rejected, dets, ConflictRule())
    assert found["kind"].tolist() == ["spacetime"]
    assert "record o-cn" in found["detail"].iloc[0] and "record o-ru" in found["detail"].iloc[0]


def test_records_outside_their_deployment_do_not_refuse_a_link():
    """A record whose time lies outside its deployment (a clock a year off) is not evidence."""
    import pandas as pd

    from amurlink.identify._links_conflicts import ConflictRule, conflicts_between, detections

    obs, dep, members = _link_frames(clock_year=True)
    # moved a year later, the record would still be 10 minutes from the other one if the
    # check compared clock times modulo a year; it must simply be left out
    dets = detections(obs, dep, members["subject"])
    assert dets["observationID"].tolist() == ["o-cn"]
    rejected = pd.DataFrame(columns=["_a", "_b", "linkEventID", "reviewer", "reason",
                                     "timestamp"])
    assert conflicts_between(members, rejected, dets, ConflictRule()).empty
