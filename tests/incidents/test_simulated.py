"""The simulator's incidents: truth recovered by the analyses, personal data kept apart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from amurlink.incidents import problem_animals, village_warnings
from amurlink.incidents.tables import INCIDENT_TABLES, PERSONAL_FIELDS
from amurlink.simulate import simulate_study
from amurlink.simulate._incidents import IncidentRates, simulate_incidents

RATES = IncidentRates(kill_per_day=0.3, identified=1.0, tested_share=0.5)


@pytest.fixture(scope="module")
def study():
    return simulate_study("small", seed=3)


@pytest.fixture(scope="module")
def incidents(study):
    return simulate_incidents(study, rates=RATES)


def test_tables_follow_their_schemas_and_personal_data_stays_in_claimants(incidents):
    for cc, tables in incidents.tables.items():
        for name, frame in tables.items():
            assert list(frame.columns) == list(INCIDENT_TABLES[name].field_names), (cc, name)
            if name != "claimants":
                assert not set(PERSONAL_FIELDS) & set(frame.columns)
        claims = tables["claimants"]
        assert set(claims["incidentID"]) <= set(tables["incidents"]["incidentID"])
        assert claims["claimantName"].notna().all() and claims["phone"].notna().all()
    assert sum(len(t["incidents"]) for t in incidents.tables.values()) > 10


def test_same_seed_same_incidents_and_the_study_is_untouched(study):
    before = study.animals.copy()
    a = simulate_incidents(study, rates=RATES)
    b = simulate_incidents(study, rates=RATES)
    pd.testing.assert_frame_equal(a.tables["RU"]["incidents"], b.tables["RU"]["incidents"])
    pd.testing.assert_frame_equal(study.animals, before)
    # the study's own draws do not depend on whether incidents are simulated
    again = simulate_study("small", seed=3)
    pd.testing.assert_frame_equal(again.animals, study.animals)
    np.testing.assert_array_equal(again.positions, study.positions)


def test_responsible_animals_recovered_through_links(study, incidents):
    inc = pd.concat([t["incidents"] for t in incidents.tables.values()], ignore_index=True)
    # Joint identities as confirmed links would give them: every national ID of an animal is
    # one joint individual (here named after the true animal).
    ids = study.links[["individualID", "animalID"]].rename(
        columns={"individualID": "subject", "animalID": "jointID"})
    ids["members"] = ids["jointID"]
    found = problem_animals(inc, ids)
    truth = incidents.truth.merge(inc[["incidentID", "individualID"]], on="incidentID")
    truth = truth.loc[truth["individualID"].notna()]
    per_animal = truth.groupby("animalID")["countryCode"].agg(lambda s: s.nunique() == 2)
    assert set(found["jointID"]) == set(per_animal.index)
    got = found.set_index("jointID")["both_countries"]
    assert got.sort_index().tolist() == per_animal.sort_index().tolist()
    # every identified incident names the national ID of its true animal
    nat = study.links.set_index("individualID")["animalID"]
    assert (truth["individualID"].map(nat) == truth["animalID"]).all()


def test_warning_counts_match_a_brute_force_count(study, incidents):
    land = study.landscape
    pos = study.positions[:, ::7]  # weekly positions as stand-in detections
    xs, ys = pos[:, :, 0].ravel(), pos[:, :, 1].ravel()
    from amurlink.core.crs import from_metric

    lon, lat = from_metric(xs, ys, crs=land.crs)
    det = pd.DataFrame({"timestamp": pd.Timestamp("2015-01-01", tz="UTC"),
                        "scientificName": "Panthera tigris", "longitude": lon, "latitude": lat})
    warn = village_warnings(det, incidents.settlements, crs=land.crs)
    v = np.asarray(land.villages)
    d_km = np.hypot(xs[:, None] - v[:, 0], ys[:, None] - v[:, 1]).min(axis=1) / 1000
    expected = {1: int((d_km < 1).sum()), 2: int(((d_km >= 1) & (d_km < 2)).sum()),
                3: int(((d_km >= 3) & (d_km <= 5)).sum())}
    got = warn["level"].value_counts().to_dict()
    assert {k: got.get(k, 0) for k in (1, 2, 3)} == expected
    assert sum(expected.values()) > 0
