"""SMART and EarthRanger exports built by hand from their published data models import whole.

SMART: the smart-able bundle of er-smart-sync 0.10.0 (bundle schema version 1); EarthRanger:
event objects as earthranger-client 1.19.0's ``get_events`` returns them.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from amurlink.exceptions import DataError
from amurlink.incidents.imports import (
    CategoryMap,
    import_earthranger_events,
    import_smart_bundle,
    read_incident_csv,
)


def _attr(key, value, type_="TEXT"):
    return {"key": key, "type": type_, "value": value, "label": None, "labels": []}


def _obs(uuid, key, attrs):
    return {"uuid": uuid, "category_key": key, "category_hkey": f"hwc.{key}.",
            "employee_uuid": None, "attributes": attrs}


def _smart_bundle(tmp_path):
    waypoint1 = {
        "uuid": "w1", "id": "17", "leg_day_uuid": "d1", "time": "2015-01-12T08:30:00+00:00",
        "location": [130.91, 42.96], "comment": "cow killed near Jingxin", "source": "CT",
        "last_modified_by_uuid": None, "attachments": [],
        "observation_groups": [{"uuid": "g1", "observations": [
            _obs("o1", "livestock_depredation", [
                _attr("species", "amurtiger", "LIST"), _attr("victim", "cattle", "LIST"),
                _attr("number_killed", 2, "NUMERIC"), _attr("individual_id", "CN-NTLNP:T07"),
                _attr("outcome", "carcass left"), _attr("response_team", "Hunchun HWC team"),
                _attr("response_hours", 3.5, "NUMERIC"),
                _attr("compensation_amount", 6000, "NUMERIC"),
                _attr("compensation_currency", "CNY"),
                _attr("compensation_date", "2015-02-20T00:00:00+00:00", "DATE"),
                _attr("sample_id", "CN-S-0042"),
            ]),
        ]}],
    }
    waypoint2 = {
        "uuid": "w2", "id": "18", "leg_day_uuid": "d1", "time": "2015-01-12T11:00:00+00:00",
        "location": [130.95, 42.98], "comment": None, "source": "CT",
        "last_modified_by_uuid": None, "attachments": [],
        "observation_groups": [{"uuid": "g2", "observations": [
            _obs("o2", "snare", [_attr("number", 4, "NUMERIC")]),
            _obs("o3", "tiger_track", [_attr("species", "amurtiger", "LIST")]),
            _obs("o4", "wood_cutting", []),
        ]}],
    }
    patrol = {
        "uuid": "p-uuid-1", "id": "HC-2015-001", "patrol_type": "GROUND", "station_uuid": None,
        "team_uuid": "team-a", "objective": None, "comment": None, "armed": False,
        "start_date": "2015-01-12", "end_date": "2015-01-12", "attributes": [],
        "legs": [{"uuid": "l1", "id": "1", "transport_uuid": None, "mandate_uuid": None,
                  "start_date": "2015-01-12", "end_date": "2015-01-12",
                  "placeholder_dates": False, "members": [],
                  "days": [{"uuid": "d1", "date": "2015-01-12", "start_time": "08:00:00",
                            "end_time": "16:00:00", "rest_minutes": 30,
                            "start": "2015-01-12T08:00:00+00:00",
                            "end": "2015-01-12T16:00:00+00:00", "has_track": True}],
                  "waypoints": [waypoint1, waypoint2]}],
    }
    tracks = {"tracks": [{"uuid": "t1", "leg_day_uuid": "d1", "leg_uuid": "l1",
                          "patrol_uuid": "p-uuid-1", "distance_km": 14.2,
                          "start": "2015-01-12T08:00:00+00:00",
                          "end": "2015-01-12T16:00:00+00:00",
                          "parts": [{"coordinates": [[130.90, 42.95], [130.91, 42.96],
                                                     [130.95, 42.98]],
                                     "times": []}]}]}
    (tmp_path / "patrols.json").write_text(json.dumps({"patrols": [patrol]}))
    (tmp_path / "tracks.json").write_text(json.dumps(tracks))
    return tmp_path


def test_smart_bundle_imports_every_field_the_tables_hold(tmp_path):
    res = import_smart_bundle(_smart_bundle(tmp_path), country="CN")
    inc = res["incidents"]
    assert len(inc) == 1
    row = inc.iloc[0]
    expected = {
        "incidentID": "HC-2015-001:o1", "countryCode": "CN", "category": "livestock-killed",
        "scientificName": "Panthera tigris", "individualID": "CN-NTLNP:T07",
        "sampleID": "CN-S-0042", "victimKind": "cattle", "victimCount": 2,
        "outcome": "carcass left", "responseBy": "Hunchun HWC team", "responseHours": 3.5,
        "compensationAmount": 6000.0, "compensationCurrency": "CNY", "source": "smart",
        "sourceID": "o1", "incidentComments": "cow killed near Jingxin",
        "latitude": 42.96, "longitude": 130.91,
    }
    assert {k: row[k] for k in expected} == expected
    assert row["eventStart"] == pd.Timestamp("2015-01-12T08:30Z")
    assert row["compensationDate"] == pd.Timestamp("2015-02-20T00:00Z")

    pat = res["patrols"].iloc[0]
    assert (pat["patrolID"], pat["countryCode"], pat["lengthKm"], pat["team"]) == (
        "HC-2015-001", "CN", 14.2, "team-a")
    assert (pat["start"], pat["end"]) == (pd.Timestamp("2015-01-12T08:00Z"),
                                         pd.Timestamp("2015-01-12T16:00Z"))
    assert pat["track"] == "MULTILINESTRING ((130.9 42.95, 130.91 42.96, 130.95 42.98))"

    f = res["patrolFindings"].sort_values("findingID").reset_index(drop=True)
    assert f[["category", "count", "patrolID"]].values.tolist() == [
        ["snare", 4, "HC-2015-001"], ["tiger-track", 1, "HC-2015-001"]]
    assert f.loc[1, "scientificName"] == "Panthera tigris"
    # an unmapped category is counted, not dropped in silence
    assert res.skipped == {"hwc.wood_cutting.": 1}


def test_category_map_from_toml_adds_and_checks(tmp_path):
    (tmp_path / "b").mkdir()
    bundle = _smart_bundle(tmp_path / "b")
    path = tmp_path / "map.toml"
    path.write_text('[categories.findings]\nwood_cutting = "other"\n')
    res = import_smart_bundle(bundle, country="CN", categories=CategoryMap.from_toml(path))
    assert res.skipped == {}
    assert sorted(res["patrolFindings"]["category"]) == ["other", "snare", "tiger-track"]
    path.write_text('[categories.incidents]\nwood_cutting = "felling"\n')
    with pytest.raises(DataError, match="'felling' is not an incident category"):
        CategoryMap.from_toml(path)


def _er_events():
    return [
        {"id": "0d9f-1", "serial_number": 5012, "event_type": "livestock_depredation",
         "priority": 200, "title": "Horse killed", "state": "resolved",
         "time": "2014-11-03T05:10:00+10:00",
         "location": {"latitude": 43.11, "longitude": 131.22},
         "event_details": {"species": "amurleopard", "victim_kind": "horse", "victims": 1,
                           "individual_id": "RU-LLNP:L-12", "compensation_amount": 30000,
                           "compensation_currency": "RUB", "response_hours": 6,
                           "outcome": "no action"},
         "patrol_segments": []},
        {"id": "0d9f-2", "serial_number": 5013, "event_type": "snare_rep", "priority": 100,
         "title": "Snare line", "state": "resolved", "time": "2014-11-04T09:00:00+10:00",
         "location": {"latitude": 43.2, "longitude": 131.3},
         "event_details": {"count": 7}, "patrol_segments": ["seg-9"]},
        {"id": "0d9f-3", "serial_number": 5014, "event_type": "fire_rep", "time":
         "2014-11-05T09:00:00+10:00", "location": {}, "event_details": {}},
    ]


def test_earthranger_events_import(tmp_path):
    path = tmp_path / "events.json"
    path.write_text(json.dumps({"data": {"results": _er_events()}}))
    res = import_earthranger_events(path, country="RU")
    inc = res["incidents"].iloc[0]
    assert (inc["incidentID"], inc["category"], inc["scientificName"], inc["victimKind"],
            inc["victimCount"], inc["individualID"], inc["compensationAmount"],
            inc["compensationCurrency"], inc["responseHours"], inc["outcome"]) == (
        "ER-5012", "livestock-killed", "Panthera pardus", "horse", 1, "RU-LLNP:L-12", 30000.0,
        "RUB", 6.0, "no action")
    assert inc["eventStart"] == pd.Timestamp("2014-11-02T19:10Z")
    assert np.isclose(inc["latitude"], 43.11) and inc["sourceID"] == "0d9f-1"
    snare = res["patrolFindings"].iloc[0]
    assert (snare["category"], snare["count"], snare["patrolID"]) == ("snare", 7, "seg-9")
    assert res.skipped == {"fire_rep": 1}


@pytest.mark.parametrize("content, match", [
    ("[1, 2", "not a UTF-8 JSON"),
    ("{\"results\": 3}", "expected a JSON list"),
    ("[" * 200 + "]" * 200, "nested deeper"),
    ("[{\"event_type\": \"snare_rep\", \"location\": 5}]", "must be objects"),
])
def test_bad_earthranger_files_give_clear_errors(tmp_path, content, match):
    path = tmp_path / "events.json"
    path.write_text(content)
    with pytest.raises(DataError, match=match) as err:
        import_earthranger_events(path, country="RU")
    assert str(tmp_path) not in str(err.value)  # no server paths in messages


def test_smart_bundle_missing_required_field_names_it(tmp_path):
    bundle = _smart_bundle(tmp_path)
    data = json.loads((bundle / "patrols.json").read_text())
    data["patrols"][0]["legs"][0]["waypoints"][0]["time"] = None
    (bundle / "patrols.json").write_text(json.dumps(data))
    with pytest.raises(DataError, match="HC-2015-001:o1.*no eventStart"):
        import_smart_bundle(bundle, country="CN")


def test_csv_incidents_are_validated_row_by_row(tmp_path):
    path = tmp_path / "incidents.csv"
    path.write_text(
        "incidentID,countryCode,eventStart,category,victimCount\n"
        "a1,CN,2015-01-01T10:00:00+08:00,livestock-killed,2\n"
        "a2,China,2015-01-02T10:00:00+08:00,cow-eaten,-1\n"
    )
    with pytest.raises(DataError) as err:
        read_incident_csv(path, "incidents")
    msg = str(err.value)
    assert "incidents.countryCode in row 3" in msg
    assert "incidents.category in row 3" in msg
    assert "incidents.victimCount in row 3" in msg
    ok = tmp_path / "ok.csv"
    ok.write_text("incidentID,countryCode,eventStart,category\n"
                  "a1,CN,2015-01-01T10:00:00+08:00,snare\n")
    frame = read_incident_csv(ok, "incidents")
    assert frame.loc[0, "eventStart"] == pd.Timestamp("2015-01-01T02:00Z")


def test_a_failed_write_leaves_every_old_table_whole(tmp_path, monkeypatch):
    import pyarrow.csv as pacsv

    from amurlink.incidents.imports import write_incident_tables

    res = import_smart_bundle(_smart_bundle(tmp_path), country="CN")
    out = tmp_path / "books"
    write_incident_tables(res.tables, out)
    before = {p.name: p.read_bytes() for p in out.glob("*.csv")}
    real = pacsv.write_csv
    calls = []

    def failing(table, path, **kw):  # the second file cannot be written (disk full)
        calls.append(path)
        if len(calls) == 2:
            raise OSError("No space left on device")
        return real(table, path, **kw)

    monkeypatch.setattr(pacsv, "write_csv", failing)
    changed = {k: v.iloc[:0] for k, v in res.tables.items()}
    with pytest.raises(OSError):
        write_incident_tables(changed, out)
    assert {p.name: p.read_bytes() for p in out.glob("*.csv")} == before
    assert not list(out.glob(".*.tmp"))
