"""Incident tables for partners and the public: points generalised, personal data never sent."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from amurlink.core.protection import Audience, ProtectionPolicy, level_to_precision
from amurlink.incidents.imports import write_incident_tables
from amurlink.incidents.protect import protect_incident_tables
from amurlink.simulate import simulate_study
from amurlink.simulate._incidents import IncidentRates, simulate_incidents


@pytest.fixture(scope="module")
def books():
    study = simulate_study("small", seed=3)
    sim = simulate_incidents(study, rates=IncidentRates(kill_per_day=0.3, tested_share=0.5))
    # one joint set of books: both countries' tables stacked
    return {name: pd.concat([sim.tables[c][name] for c in ("CN", "RU")], ignore_index=True)
            for name in sim.tables["CN"]}


def _cells(frame, size_km):
    """Points must sit on the centres of the size-km grid (as protect_locations snaps them)."""
    from amurlink.core.crs import to_metric

    x, y = to_metric(frame["longitude"].to_numpy(float), frame["latitude"].to_numpy(float))
    m = size_km * 1000.0
    return np.allclose((x - m / 2) / m, np.round((x - m / 2) / m), atol=2e-3) and np.allclose(
        (y - m / 2) / m, np.round((y - m / 2) / m), atol=2e-3)


AUDIENCES = [Audience.public(), Audience.partner(country="RU"),
             Audience.partner(country="CN", level="10km"),
             Audience.owner(country="CN")]


@pytest.mark.parametrize("audience", AUDIENCES, ids=lambda a: f"{a.kind}-{a.country}")
def test_personal_data_never_leaves_its_owner(books, audience, tmp_path):
    out = protect_incident_tables(books, audience=audience)
    names = set(books["claimants"]["claimantName"]) | set(books["claimants"]["phone"])
    write_incident_tables(out, tmp_path)
    text = "".join(p.read_text() for p in tmp_path.glob("*.csv"))
    if audience.kind == "owner":
        mine = books["incidents"].loc[books["incidents"]["countryCode"] == "CN", "incidentID"]
        assert set(out["claimants"]["incidentID"]) <= set(mine)
        others = books["claimants"].loc[~books["claimants"]["incidentID"].isin(mine)]
        assert not any(n in text for n in others["claimantName"])
    else:
        assert "claimants" not in out
        assert not any(n in text for n in names)
        assert out["incidents"]["claimID"].isna().all()
        assert out["patrols"]["track"].isna().all()  # tracks are owner-only by default
        assert len(out["patrolFindings"]) == 0


def test_public_never_sees_a_tiger_or_leopard_incident_point(books):
    out = protect_incident_tables(books, audience=Audience.public())["incidents"]
    assert len(out) == len(books["incidents"]) > 0
    # every row is a tiger or leopard: all show the one withheld point
    assert out[["latitude", "longitude"]].drop_duplicates().shape[0] == 1
    radius = out["coordinateUncertainty"].iloc[0]
    assert radius >= 50_000


def test_partner_sees_incidents_at_its_level_and_owner_exactly(books):
    policy = ProtectionPolicy()
    partner = protect_incident_tables(books, audience=Audience.partner(country="RU"),
                                      policy=policy)["incidents"]
    assert _cells(partner, 1)
    assert level_to_precision(policy.partner_sensitive_level).cell_size_m == 1000
    coarse = protect_incident_tables(books, audience=Audience.partner(
        country="RU", species_levels={"Panthera pardus": "10km"}))["incidents"]
    leo = coarse["scientificName"] == "Panthera pardus"
    assert leo.any() and _cells(coarse.loc[leo], 10) and _cells(coarse.loc[~leo], 1)
    # an owner of one country sees its own points exactly and the other's as a partner would
    owner = protect_incident_tables(books, audience=Audience.owner(country="CN"))["incidents"]
    cn = owner["countryCode"] == "CN"
    np.testing.assert_array_equal(owner.loc[cn, "latitude"],
                                  books["incidents"].loc[cn.to_numpy(), "latitude"])
    assert _cells(owner.loc[~cn], 1)


def test_agreement_scope_only_removes_rows(books):
    everything = protect_incident_tables(books, audience=Audience.partner(country="RU"))
    cut = date(2014, 10, 1)
    scoped = protect_incident_tables(books, audience=Audience.partner(country="RU"),
                                     species=["Panthera pardus"], embargo=cut,
                                     agreement_tables=["patrolFindings", "patrolTracks"])
    inc = scoped["incidents"]
    assert set(inc["scientificName"]) <= {"Panthera pardus"}
    assert (inc["eventStart"] < pd.Timestamp(cut, tz="UTC")).all()
    # the rows left show exactly what they show without the scope (never refined)
    merged = inc.merge(everything["incidents"], on="incidentID", suffixes=("", "_all"))
    assert len(merged) == len(inc)
    np.testing.assert_array_equal(merged["latitude"], merged["latitude_all"])
    # shared patrol data: tracks and findings present, findings generalised to >= 1 km
    assert scoped["patrols"]["track"].notna().all()
    assert len(scoped["patrolFindings"]) and _cells(scoped["patrolFindings"], 1)


def test_darwin_core_occurrences_from_protected_incidents(books):
    from amurlink.incidents.protect import DWC_COLUMNS, dwc_occurrences

    public = protect_incident_tables(books, audience=Audience.public())["incidents"]
    occ = dwc_occurrences(public)
    assert list(occ.columns) == list(DWC_COLUMNS)
    assert len(occ) == public["scientificName"].notna().sum() > 0
    assert (occ["dataGeneralizations"] == "location withheld: the study area is shown").all()
    assert occ[["decimalLatitude", "decimalLongitude"]].drop_duplicates().shape[0] == 1
    partner = dwc_occurrences(protect_incident_tables(
        books, audience=Audience.partner(country="RU"))["incidents"])
    assert (partner["dataGeneralizations"] == "coordinates generalised to a 1 km grid cell").all()
    assert set(partner["basisOfRecord"]) <= {"HumanObservation", "MaterialSample"}
    text = partner.to_csv()
    assert not any(n in text for n in books["claimants"]["claimantName"])


def test_a_snare_in_the_incident_book_is_withheld_unless_patrol_findings_are_shared():
    inc = pd.DataFrame({
        "incidentID": ["S1", "S2", "K1"], "countryCode": ["CN", "RU", "CN"],
        "eventStart": pd.to_datetime(["2024-01-05", "2024-01-06", "2024-01-07"], utc=True),
        "latitude": [43.11, 43.31, 43.21], "longitude": [130.91, 131.21, 131.01],
        "coordinateUncertainty": [10, 10, 10], "category": ["snare", "poaching", "dog-killed"],
        "scientificName": [None, None, "Sus scrofa"]})
    partner = protect_incident_tables({"incidents": inc}, audience=Audience.partner(
        country="RU", level="1km"))["incidents"]
    assert len(partner) == 3  # counted ...
    assert (partner.loc[:1, "coordinateUncertainty"] >= 50_000).all()  # ... but not placed
    assert _cells(partner.loc[[2]], 1)
    shared = protect_incident_tables({"incidents": inc}, audience=Audience.partner(
        country="RU", level="1km"), agreement_tables=["patrolFindings"])["incidents"]
    assert _cells(shared, 1)
    owner = protect_incident_tables({"incidents": inc},
                                    audience=Audience.owner(country="CN"))["incidents"]
    assert owner.loc[0, "latitude"] == 43.11  # the owner's own snare: exact
    assert owner.loc[1, "coordinateUncertainty"] >= 50_000  # the other country's: withheld
