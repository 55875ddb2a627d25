"""Conflict and disease analyses against values computed by hand on small made-up cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from amurlink.core.crs import from_metric
from amurlink.exceptions import SchemaError
from amurlink.incidents import (
    DEFAULT_WARNING_LEVELS,
    compensation_summary,
    distance_to_settlements,
    hotspots,
    incident_counts,
    parse_warning_levels,
    patrol_effort,
    prevalence,
    problem_animals,
    village_warnings,
    warning_level,
    warnings_per_month,
)

CRS = "EPSG:32652"
X0, Y0 = 700_000.0, 4_800_000.0  # near Hunchun, in UTM 52N


def _lonlat(dx_m, dy_m):
    lon, lat = from_metric(X0 + np.asarray(dx_m, float), Y0 + np.asarray(dy_m, float), crs=CRS)
    return lon, lat


# -- warning levels ---------------------------------------------------------------------------

def test_default_edges_follow_the_park_rules():
    # level 1 [0, 1) km, level 2 [1, 2) km, none at [2, 3), level 3 [3, 5], none beyond 5
    d = [0.0, 0.5, 0.999, 1.0, 1.5, 1.999, 2.0, 2.5, 2.999, 3.0, 4.0, 5.0, 5.001, 12.0, np.nan]
    assert warning_level(d).tolist() == [1, 1, 1, 2, 2, 2, 0, 0, 0, 3, 3, 3, 0, 0, 0]


def test_levels_from_config_edges():
    levels = parse_warning_levels([[0, 1], [1, 2], [3, 5]])
    assert levels == DEFAULT_WARNING_LEVELS
    custom = parse_warning_levels([[0, 0.5], [0.5, 3]])
    assert warning_level([0.4, 0.5, 3.0, 3.1], levels=custom).tolist() == [1, 2, 2, 0]


@pytest.mark.parametrize("edges", [[[0, 2], [1, 3]], [[2, 1]], [["a", 1]], [[0, 1, 2]]])
def test_bad_level_edges_are_refused(edges):
    with pytest.raises(SchemaError, match="levels"):
        parse_warning_levels(edges)


def test_village_warnings_and_monthly_counts():
    # Two villages 20 km apart; cameras at known distances east of village A.
    vlon, vlat = _lonlat([0, 20_000], [0, 0])
    villages = pd.DataFrame({"name": ["A", "B"], "longitude": vlon, "latitude": vlat})
    dist_m = [500, 1500, 2500, 4000, 4900, 7000, 19_200]  # the last is 800 m from B
    lon, lat = _lonlat(dist_m, [0] * 7)
    det = pd.DataFrame({
        "timestamp": pd.to_datetime(["2015-01-03", "2015-01-09", "2015-01-10", "2015-02-01",
                                     "2015-02-02", "2015-02-03", "2015-02-04"], utc=True),
        "scientificName": ["Panthera tigris"] * 4 + ["Panthera pardus"] * 3,
        "longitude": lon, "latitude": lat,
    })
    near = distance_to_settlements(det, villages, crs=CRS)
    np.testing.assert_allclose(near["distance_km"], [0.5, 1.5, 2.5, 4.0, 4.9, 7.0, 0.8], atol=1e-6)
    assert near["settlement"].tolist() == ["A"] * 6 + ["B"]

    warn = village_warnings(det, villages, crs=CRS)
    assert warn["level"].tolist() == [1, 2, 3, 3, 1]  # 2.5 km and 7 km raise none
    assert warn["settlement"].tolist() == ["A", "A", "A", "A", "B"]
    monthly = warnings_per_month(warn)
    got = {(r.month, r.scientificName, r.level): r.warnings for r in monthly.itertuples()}
    assert got == {("2015-01", "Panthera tigris", 1): 1, ("2015-01", "Panthera tigris", 2): 1,
                   ("2015-02", "Panthera tigris", 3): 1, ("2015-02", "Panthera pardus", 3): 1,
                   ("2015-02", "Panthera pardus", 1): 1}


# -- incidents and compensation ----------------------------------------------------------------

def _incidents():
    return pd.DataFrame({
        "incidentID": ["i1", "i2", "i3", "i4", "i5", "i6"],
        "countryCode": ["CN", "CN", "CN", "RU", "RU", "RU"],
        "eventStart": pd.to_datetime(["2014-06-01", "2014-06-20", "2015-01-05", "2014-06-03",
                                      "2014-12-31T23:00Z", "2015-03-01"], utc=True,
                                     format="ISO8601"),
        "category": ["livestock-killed", "livestock-killed", "dog-killed", "livestock-killed",
                     "attack-on-person", "livestock-killed"],
        "scientificName": ["Panthera tigris"] * 6,
        "individualID": ["CN-NTLNP:T01", None, "CN-NTLNP:T02", "RU-LLNP:T-5", "RU-LLNP:T-9",
                         "RU-LLNP:T-5"],
        "compensationAmount": [4000.0, 3000.0, np.nan, 50_000.0, np.nan, 20_000.0],
        "compensationCurrency": ["CNY", "CNY", None, "RUB", None, "RUB"],
        "compensationDate": pd.to_datetime(["2014-07-01", "2015-01-10", None, "2014-08-01", None,
                                            "2015-04-01"], utc=True),
    })


def test_incident_counts_by_country_year_month_category():
    counts = incident_counts(_incidents())
    got = {(r.countryCode, r.year, r.month, r.category): r.incidents for r in counts.itertuples()}
    assert got == {("CN", 2014, 6, "livestock-killed"): 2, ("CN", 2015, 1, "dog-killed"): 1,
                   ("RU", 2014, 6, "livestock-killed"): 1, ("RU", 2014, 12, "attack-on-person"): 1,
                   ("RU", 2015, 3, "livestock-killed"): 1}
    per_year = incident_counts(_incidents(), by=("countryCode", "year"))
    assert per_year["incidents"].tolist() == [2, 1, 2, 1]
    with pytest.raises(SchemaError, match="cannot count"):
        incident_counts(_incidents(), by=("village",))


def test_compensation_per_country_year_and_currency_never_summed_across():
    comp = compensation_summary(_incidents())
    got = {(r.countryCode, r.year, r.currency): (r.claims, r.amount) for r in comp.itertuples()}
    # i2 happened in 2014 but was paid in 2015: it counts in the year paid
    assert got == {("CN", 2014, "CNY"): (1, 4000.0), ("CN", 2015, "CNY"): (1, 3000.0),
                   ("RU", 2014, "RUB"): (1, 50_000.0), ("RU", 2015, "RUB"): (1, 20_000.0)}
    bad = _incidents()
    bad.loc[0, "compensationCurrency"] = None
    with pytest.raises(SchemaError, match="i1.*compensationCurrency"):
        compensation_summary(bad)


def test_problem_animals_recognised_on_both_sides_through_links():
    identities = pd.DataFrame({
        "subject": ["CN-NTLNP:T01", "RU-LLNP:T-5", "CN-NTLNP:T02", "RU-LLNP:T-9"],
        "jointID": ["J-a", "J-a", "J-b", "J-c"],
        "members": ["CN-NTLNP:T01 = RU-LLNP:T-5", "CN-NTLNP:T01 = RU-LLNP:T-5", "CN-NTLNP:T02",
                    "RU-LLNP:T-9"],
    })
    out = problem_animals(_incidents(), identities)
    first = out.iloc[0]
    assert first["jointID"] == "J-a" and bool(first["both_countries"])
    assert (first["incidents_CN"], first["incidents_RU"], first["incidents"]) == (1, 2, 3)
    assert out["both_countries"].sum() == 1
    assert set(out["jointID"]) == {"J-a", "J-b", "J-c"}


# -- disease ------------------------------------------------------------------------------------

def test_prevalence_matches_scipy_exact_intervals():
    rows = []
    # leopards RU 2015: 2 positive of 7 (one inconclusive left out); tigers RU 2015: 0 of 4
    for i, res in enumerate(["positive", "positive"] + ["negative"] * 5 + ["inconclusive"]):
        rows.append(("Panthera pardus", "RU", "2015-05-01", "CDV", res, f"p{i}"))
    for i in range(4):
        rows.append(("Panthera tigris", "RU", "2015-06-01", "CDV", "negative", f"t{i}"))
    rows.append(("Panthera tigris", "RU", "2015-06-01", "FPV", "positive", "x"))
    tests = pd.DataFrame(rows, columns=["scientificName", "countryCode", "sampleDate", "pathogen",
                                        "result", "testID"])
    tests["sampleDate"] = pd.to_datetime(tests["sampleDate"], utc=True)
    out = prevalence(tests, pathogen="CDV")
    assert out[["scientificName", "tested", "positive"]].values.tolist() == [
        ["Panthera pardus", 7, 2], ["Panthera tigris", 4, 0]]
    for r in out.itertuples():
        ci = binomtest(r.positive, r.tested).proportion_ci(method="exact")
        assert r.ci_low == pytest.approx(ci.low, abs=1e-12)
        assert r.ci_high == pytest.approx(ci.high, abs=1e-12)
    assert out.iloc[0]["prevalence"] == pytest.approx(2 / 7)
    assert out.iloc[1]["ci_low"] == 0.0  # 0 of 4: the exact interval starts at 0
    assert len(prevalence(tests)) == 3  # both pathogens when none is chosen


# -- patrols and hotspots ------------------------------------------------------------------------

def test_snares_per_100km_of_patrol():
    patrols = pd.DataFrame({
        "patrolID": ["p1", "p2", "p3"], "countryCode": ["CN", "CN", "RU"],
        "start": pd.to_datetime(["2014-11-01", "2014-11-05", "2014-11-02"], utc=True),
        "lengthKm": [12.5, 37.5, 40.0],
    })
    findings = pd.DataFrame({
        "findingID": ["f1", "f2", "f3", "f4"], "patrolID": ["p1", "p2", "p2", "p3"],
        "category": ["snare", "snare", "tiger-track", "snare"], "count": [3, 2, 1, 1],
    })
    out = patrol_effort(patrols, findings)
    assert out[["countryCode", "patrols", "km", "found"]].values.tolist() == [
        ["CN", 2, 50.0, 5], ["RU", 1, 40.0, 1]]
    np.testing.assert_allclose(out["per_100km"], [10.0, 2.5])
    bad = pd.concat([findings, pd.DataFrame({"findingID": ["f9"], "patrolID": ["p9"],
                                             "category": ["snare"], "count": [1]})])
    with pytest.raises(SchemaError, match="f9.*p9"):
        patrol_effort(patrols, bad)


def test_hotspots_count_incidents_per_grid_cell():
    dx = [100, 900, 4_900, 5_100, 12_000, np.nan]
    lon, lat = _lonlat(dx, [100, 200, 300, 100, 100, 0])
    inc = pd.DataFrame({"longitude": lon, "latitude": lat, "countryCode": ["CN"] * 6})
    out = hotspots(inc, cell_m=5000, crs=CRS)
    # X0 = 700 km is a multiple of 5 km: cells [700, 705), [705, 710), [710, 715) km
    assert out["incidents"].tolist() == [3, 1, 1]
    assert out["cell_x"].tolist() == [700_000.0, 705_000.0, 710_000.0]
    with pytest.raises(SchemaError, match="cell_m"):
        hotspots(inc, cell_m=0)
