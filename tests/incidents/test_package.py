"""Incident books as extension tables of the joint package, released through release().

Issue #19 deliver 1: the books (incidents, disease tests, necropsies, patrols, patrol findings)
are read, validated and written with the package like every other extension table, and every
output takes them through :func:`amurlink.release.release`; the owner-only claimants table is
never part of a package.
"""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from amurlink.agreement import Agreement
from amurlink.core.protection import Audience, ProtectionPolicy
from amurlink.datasets import load_example
from amurlink.exceptions import SchemaError
from amurlink.exchange import export_exchange
from amurlink.incidents import PERSONAL_FIELDS
from amurlink.incidents.protect import protect_incident_tables, release_incidents
from amurlink.io import load_camtrap_dp, read_camtrap_dp, write_camtrap_dp
from amurlink.release import release
from amurlink.schema import EXTENSION_TABLES, INCIDENT_BOOK_TABLES, TABLES
from amurlink.simulate import simulate_study
from amurlink.simulate._incidents import IncidentRates, simulate_incidents

POLICY = ProtectionPolicy()
TODAY = date(2030, 1, 1)


@pytest.fixture(scope="module")
def books():
    sim = simulate_incidents(simulate_study("small", seed=3),
                             rates=IncidentRates(kill_per_day=0.3, tested_share=0.5))
    return {name: pd.concat([sim.tables[c][name] for c in ("CN", "RU")], ignore_index=True)
            for name in sim.tables["CN"]}


@pytest.fixture(scope="module")
def joint(books):
    """The example package with both countries' books (claimants stay beside it)."""
    return load_example().replace(**{n: f for n, f in books.items() if n != "claimants"})


def _text(folder) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*"))
                   if p.is_file())


def _claimant_values(books) -> set[str]:
    c = books["claimants"]
    return {str(v) for col in ("claimantName", "phone", "address") for v in c[col].dropna()}


def test_the_books_are_extension_tables_and_claimants_is_not():
    assert set(INCIDENT_BOOK_TABLES) <= set(EXTENSION_TABLES)
    assert "claimants" not in TABLES
    for name in INCIDENT_BOOK_TABLES:
        assert not set(TABLES[name].field_names) & set(PERSONAL_FIELDS)


def test_books_round_trip_through_a_package(joint, tmp_path):
    write_camtrap_dp(joint, tmp_path / "pkg")
    descriptor = json.loads((tmp_path / "pkg" / "datapackage.json").read_text())
    names = {r["name"] for r in descriptor["resources"]}
    assert {"incidents", "disease-tests", "patrols", "patrol-findings"} <= names
    assert "claimants" not in names
    back = read_camtrap_dp(tmp_path / "pkg")
    for name in ("incidents", "diseaseTests", "patrols", "patrolFindings"):
        assert len(back[name]) == len(joint[name]) > 0
        col = "latitude" if "latitude" in joint[name] else "lengthKm"
        assert np.allclose(back[name][col].astype(float), joint[name][col].astype(float),
                           atol=1e-6, equal_nan=True)
    assert (back["incidents"]["eventStart"] == joint["incidents"]["eventStart"]).all()


def test_a_bad_incident_row_is_reported_with_file_row_and_field(joint, tmp_path):
    write_camtrap_dp(joint, tmp_path / "pkg")
    path = tmp_path / "pkg" / "incidents.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[2].split(",")
    cells[header.index("category")] = "dragon-sighting"
    lines[2] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, report = load_camtrap_dp(tmp_path / "pkg")
    bad = [i for i in report.errors if i.field == "category"]
    assert bad, report.errors
    # the second data row is line 3 of the file
    assert bad[0].row == 3 and "incidents.csv" in str(bad[0].file)
    assert "dragon-sighting" in bad[0].message


def test_a_finding_of_an_unknown_patrol_is_a_reference_error(joint, tmp_path):
    found = joint["patrolFindings"].copy()
    found.loc[0, "patrolID"] = "NO-SUCH-PATROL"
    write_camtrap_dp(joint.replace(patrolFindings=found), tmp_path / "pkg")
    _, report = load_camtrap_dp(tmp_path / "pkg")
    assert any(i.field == "patrolID" and "NO-SUCH-PATROL" in i.message for i in report.errors)


def test_claimants_never_enter_a_package(joint, books, tmp_path):
    with pytest.raises(SchemaError, match="unknown table"):
        joint.replace(claimants=books["claimants"])
    # as an extra resource: refused on writing ...
    extra = {"name": "claimants", "path": "claimants.csv",
             "schema": {"fields": [{"name": "claimantName"}]}}
    from amurlink.dataset import Dataset

    sneaky = Dataset(dict(joint.tables), metadata=dict(joint.metadata), extra_resources=[extra])
    with pytest.raises(SchemaError, match="personal data"):
        write_camtrap_dp(sneaky, tmp_path / "no")
    # ... and on reading a package someone built by hand
    write_camtrap_dp(joint, tmp_path / "pkg")
    books["claimants"].to_csv(tmp_path / "pkg" / "claimants.csv", index=False)
    d = json.loads((tmp_path / "pkg" / "datapackage.json").read_text())
    d["resources"].append({"name": "claims", "path": "claimants.csv",
                           "profile": "tabular-data-resource",
                           "schema": {"fields": [{"name": "claimID"}, {"name": "incidentID"},
                                                 {"name": "claimantName"}]}})
    (tmp_path / "pkg" / "datapackage.json").write_text(json.dumps(d))
    data, report = load_camtrap_dp(tmp_path / "pkg")
    assert any(i.code == "personal-data" for i in report.errors)
    assert data is None or not data.extra_resources


@pytest.mark.parametrize("audience", [Audience.public(), Audience.partner(country="RU"),
                                      Audience.owner(country="CN")],
                         ids=lambda a: f"{a.kind}-{a.country}")
def test_release_protects_the_books_with_protect_incident_tables_rule(joint, books, audience):
    shown = release(joint, audience=audience, policy=POLICY).dataset
    # the same rule as the incident gate, applied inside release (one rule, not two)
    direct = protect_incident_tables({n: joint[n] for n in INCIDENT_BOOK_TABLES
                                      if n in joint.tables}, audience=audience,
                                     policy=_area(joint))
    for name in ("incidents", "diseaseTests"):
        a = shown[name].reset_index(drop=True)
        b = direct[name].reset_index(drop=True)
        assert np.allclose(a["latitude"].astype(float), b["latitude"].astype(float),
                           equal_nan=True)
        if audience.kind != "owner":
            assert a["claimID" if name == "incidents" else "testComments"].isna().all()
    if audience.kind == "public":
        # every book is of a tiger or leopard: one withheld point
        assert shown["incidents"][["latitude", "longitude"]].drop_duplicates().shape[0] == 1
    if audience.kind != "owner":
        assert len(shown["patrolFindings"]) == 0 and shown["patrols"]["track"].isna().all()


def _area(data):
    from dataclasses import replace

    from amurlink.core.protection import withheld_area_of

    return replace(POLICY, withheld_area=withheld_area_of(data.deployments, crs=POLICY.crs))


def test_release_scopes_the_books_by_species_embargo_and_named_tables(joint):
    inc = joint["incidents"]
    cut = pd.Timestamp(inc["eventStart"].astype("datetime64[ns, UTC]").median()).date()
    a = Agreement(recipient="LLNP", species=("Panthera pardus",), embargo_date=cut,
                  level="1km")
    shown = release(joint, agreement=a, policy=POLICY, today=TODAY).dataset
    assert len(shown["incidents"]) > 0
    for name, when in (("incidents", "eventStart"), ("diseaseTests", "sampleDate")):
        frame = shown[name]
        names = frame["scientificName"].dropna()
        assert (names == "Panthera pardus").all()
        assert (pd.to_datetime(frame[when], utc=True) < pd.Timestamp(cut, tz="UTC")).all()
    # patrol data: none without naming it; tracks and findings when named
    assert "patrolFindings" not in shown.tables
    named = Agreement(recipient="LLNP", level="1km",
                      tables=("deployments", "media", "observations", "incidents", "patrols",
                              "patrolTracks", "patrolFindings"))
    shared = release(joint, agreement=named, policy=POLICY, today=TODAY).dataset
    assert len(shared["patrolFindings"]) == len(joint["patrolFindings"]) > 0
    assert shared["patrols"]["track"].notna().sum() == joint["patrols"]["track"].notna().sum()
    only_obs = Agreement(recipient="LLNP", level="1km", tables=("deployments", "observations"))
    assert "incidents" not in release(joint, agreement=only_obs, policy=POLICY,
                                      today=TODAY).dataset.tables


def test_release_incidents_is_release(books):
    a = Agreement(recipient="LLNP", species=("Panthera tigris",), level="1km")
    thin = release_incidents(books, agreement=a, policy=POLICY, today=TODAY)
    assert "claimants" not in thin
    names = thin["incidents"]["scientificName"].dropna()
    assert len(names) and (names == "Panthera tigris").all()
    owner = release_incidents(books, audience=Audience.owner(country="CN"), policy=POLICY)
    mine = books["incidents"].loc[books["incidents"]["countryCode"] == "CN", "incidentID"]
    assert len(owner["claimants"]) and owner["claimants"]["incidentID"].isin(mine).all()


@pytest.mark.parametrize("recipient", ["partner", "public"])
def test_no_exchange_package_or_export_holds_a_claimant(joint, books, tmp_path, recipient):
    from amurlink.io.export import write_dwc

    a = Agreement(recipient="LLNP", level="1km") if recipient == "partner" \
        else Agreement(recipient="public", level="withheld")
    out = export_exchange(joint, a, tmp_path / "x", today=TODAY, policy=POLICY)
    text = _text(out)
    assert "incidents.csv" in {p.name for p in out.iterdir()}
    for value in _claimant_values(books):
        assert value not in text
    for col in PERSONAL_FIELDS:
        assert col not in text
    write_dwc(joint, tmp_path / "dwc", audience=Audience.public(), policy=POLICY,
              incidents=books)
    dwc = _text(tmp_path / "dwc")
    assert not any(v in dwc for v in _claimant_values(books))


def test_harmonise_carries_the_books_of_its_inputs_and_refuses_clashing_ids(joint, books):
    from amurlink.config import StudyConfig
    from amurlink.harmonise import harmonise

    cn = {n: f.loc[f["countryCode"] == "CN"] for n, f in books.items()
          if n in ("incidents", "diseaseTests")}
    ru = {n: f.loc[f["countryCode"] == "RU"] for n, f in books.items()
          if n in ("incidents", "diseaseTests")}
    one = load_example().replace(**cn)
    res = harmonise(one, config=StudyConfig())
    assert len(res.dataset["incidents"]) == len(cn["incidents"]) > 0
    assert res.manifest["rows"]["incidents"] == len(cn["incidents"])
    # two sources with the same incident ID: a clear error naming the table and field
    clash = ru["incidents"].copy()
    clash.loc[clash.index[0], "incidentID"] = cn["incidents"]["incidentID"].iloc[0]
    two = harmonise(one, load_example().replace(incidents=clash), config=StudyConfig())
    errs = [i for i in two.report.errors if i.table == "incidents"]
    assert errs and errs[0].field == "incidentID" and errs[0].code == "id-clash"


def test_a_tiger_track_found_on_patrol_is_a_tiger_point(books):
    # found by the property test: shared patrol findings were put at 1 km whatever the
    # species found; a tiger track or carcass is generalised like a tiger station
    from amurlink.core.crs import to_metric

    found = books["patrolFindings"].copy()
    found["scientificName"] = "Panthera tigris"
    found["latitude"], found["longitude"] = 43.01234, 130.95678
    tables = {"patrols": books["patrols"], "patrolFindings": found}
    policy = ProtectionPolicy(partner_sensitive_level="10km")
    out = protect_incident_tables(tables, audience=Audience.partner(country="XX"),
                                  policy=policy, agreement_tables=["patrolFindings"])
    shown = out["patrolFindings"]
    assert len(shown) == len(found) > 0
    x, y = to_metric(shown["longitude"].to_numpy(float), shown["latitude"].to_numpy(float))
    assert np.allclose(((x - 5000) / 10_000) % 1, 0, atol=1e-3) or \
        np.allclose(((x - 5000) / 10_000) % 1, 1, atol=1e-3)
    assert (shown["coordinateUncertainty"] >= 7_000).all()
