"""Darwin Core Archive with occurrences derived from incidents (write_dwc(..., incidents=))."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from amurlink.core.protection import Audience, ProtectionPolicy
from amurlink.datasets import load_example
from amurlink.exchange import Agreement
from amurlink.incidents.protect import incident_dwc_occurrences
from amurlink.io.export import write_dwc
from amurlink.simulate import simulate_study
from amurlink.simulate._incidents import IncidentRates, simulate_incidents

POLICY = ProtectionPolicy()


@pytest.fixture(scope="module")
def books():
    sim = simulate_incidents(simulate_study("small", seed=3),
                             rates=IncidentRates(kill_per_day=0.3))
    tables = {name: pd.concat([sim.tables[c][name] for c in ("CN", "RU")], ignore_index=True)
              for name in sim.tables["CN"]}
    inc = tables["incidents"].copy()
    inc.loc[0, "incidentComments"] = "claimant Zzyzx said the gate was open"
    tables["incidents"] = inc
    return tables


def _archive(tmp_path, name, audience, books):
    out = tmp_path / name
    write_dwc(load_example(), out, audience=audience, policy=POLICY, incidents=books)
    text = "".join(p.read_text(encoding="utf-8") for p in out.iterdir())
    occ = pd.read_csv(out / "occurrence.csv", dtype={"occurrenceID": str})
    return occ, text


AUDIENCES = {"owner": Audience.owner(), "partner": Audience.partner(organisation="LLNP"),
             "public": Audience.public()}


@pytest.mark.parametrize("who", list(AUDIENCES))
def test_incident_occurrences_join_the_archive_without_personal_data(tmp_path, books, who):
    occ, text = _archive(tmp_path, who, AUDIENCES[who], books)
    plain = pd.read_csv(write_dwc(load_example(), tmp_path / f"{who}-plain",
                                  audience=AUDIENCES[who], policy=POLICY)["occurrence"],
                        dtype={"occurrenceID": str})
    inc = books["incidents"]
    mine = occ.loc[occ["occurrenceID"].str.startswith("incident:")]
    camera = occ.loc[~occ["occurrenceID"].str.startswith("incident:")].reset_index(drop=True)
    # the camera-trap occurrences are those written without incidents, unchanged
    pd.testing.assert_frame_equal(camera, plain, check_dtype=False)
    assert len(mine) == inc["scientificName"].notna().sum() > 0
    assert (mine["occurrenceStatus"] == "present").all()
    assert set(mine["basisOfRecord"]) <= {"HumanObservation", "MaterialSample"}
    # never a name, a phone, an address, a claim key or a comment, whoever reads
    claims = books["claimants"]
    for secret in [*claims["claimantName"], *claims["phone"], *claims["address"],
                   *inc["claimID"].dropna(), "Zzyzx"]:
        assert secret not in text, (who, secret)
    by_id = inc.set_index("incidentID")
    exact = by_id.loc[mine["occurrenceID"].str.removeprefix("incident:")]
    same = np.isclose(mine["decimalLatitude"].to_numpy(float), exact["latitude"].to_numpy(float),
                      atol=1e-7) & np.isclose(mine["decimalLongitude"].to_numpy(float),
                                              exact["longitude"].to_numpy(float), atol=1e-7)
    if who == "owner":
        assert same.all()
    elif who == "partner":  # tigers and leopards at the partner's sensitive level (1 km)
        assert not same.any()
        assert (mine["coordinateUncertaintyInMeters"] >= 700).all()
        assert (mine["dataGeneralizations"]
                == "coordinates generalised to a 1 km grid cell").all()
    else:  # the public: one withheld point for every tiger or leopard incident
        assert mine[["decimalLatitude", "decimalLongitude"]].drop_duplicates().shape[0] == 1
        assert (mine["coordinateUncertaintyInMeters"] >= 50_000).all()


def test_an_agreement_scopes_the_incident_occurrences(books):
    cut = date(2014, 10, 1)
    leo = Agreement(provider="NTLNP", recipient="LLNP", species=("Panthera pardus",),
                    level="10km", embargo_date=cut)
    occ = incident_dwc_occurrences(books, agreement=leo, policy=POLICY, today=date(2015, 1, 1))
    assert len(occ) and set(occ["scientificName"]) == {"Panthera pardus"}
    assert (pd.to_datetime(occ["eventDate"], utc=True) < pd.Timestamp(cut, tz="UTC")).all()
    assert (occ["dataGeneralizations"] == "coordinates generalised to a 10 km grid cell").all()


def test_camtrap_export_takes_a_folder_of_incident_books(tmp_path, books):
    from typer.testing import CliRunner

    from amurlink.cli import app
    from amurlink.datasets import example_path
    from amurlink.incidents.imports import write_incident_tables

    write_incident_tables(books, tmp_path / "books")  # claimants.csv included, as the owner's
    res = CliRunner().invoke(app, ["camtrap", "export", str(example_path()), "--to", "dwc",
                                   "--incidents", str(tmp_path / "books"),
                                   "-o", str(tmp_path / "dwc")])
    assert res.exit_code == 0, res.output
    occ = pd.read_csv(tmp_path / "dwc" / "occurrence.csv", dtype={"occurrenceID": str})
    assert occ["occurrenceID"].str.startswith("incident:").sum() == \
        books["incidents"]["scientificName"].notna().sum()
    text = (tmp_path / "dwc" / "occurrence.csv").read_text(encoding="utf-8")
    assert not any(n in text for n in books["claimants"]["claimantName"])
    res = CliRunner().invoke(app, ["camtrap", "export", str(example_path()), "--to", "gpkg",
                                   "--incidents", str(tmp_path / "books"),
                                   "-o", str(tmp_path / "g")])
    assert res.exit_code == 2
    res = CliRunner().invoke(app, ["camtrap", "export", str(example_path()), "--to", "dwc",
                                   "--incidents", str(tmp_path / "nowhere"),
                                   "-o", str(tmp_path / "d2")])
    assert res.exit_code == 1 and "nowhere" in res.output and "Traceback" not in res.output
