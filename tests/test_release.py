"""amurlink.release: protect on the complete dataset, then scope (review findings 1 and 3),
counts on the scoped exact data (issue #15), and the output registry."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from amurlink.core.protection import Audience, ProtectionPolicy, is_sensitive, protect_dataset
from amurlink.datasets import load_example
from amurlink.exceptions import ConfigError
from amurlink.exchange import Agreement, apply_agreement, export_exchange, import_exchange
from amurlink.release import (
    OUTPUTS,
    LocationLeakError,
    Released,
    ScopedDataset,
    output,
    register_output,
    release,
    scope,
    unregistered,
)

TODAY = date(2025, 6, 1)
ROE_EXACT = Agreement(provider="NTLNP", recipient="LLNP", species=("Capreolus pygargus",),
                      level="exact")
POLICY = ProtectionPolicy()


@pytest.fixture(scope="module")
def example():
    return load_example()


@pytest.fixture(scope="module")
def dated(example):
    """The example with firstRecorded filled from the records (as a real catalogue has it)."""
    obs = example.observations
    first = obs.dropna(subset=["individualID"]).groupby("individualID")["eventStart"].min()
    ind = example["individuals"].copy()
    ind["firstRecorded"] = ind["individualID"].map(first).astype(ind["firstRecorded"].dtype)
    return example.replace(individuals=ind)


def _moved(shown, exact):
    e = exact.deployments.set_index("deploymentID").loc[shown.deployments["deploymentID"]]
    return ~(np.isclose(shown.deployments["latitude"].to_numpy(float),
                        e["latitude"].to_numpy(float), atol=1e-9)
             & np.isclose(shown.deployments["longitude"].to_numpy(float),
                          e["longitude"].to_numpy(float), atol=1e-9))


# --------------------------------------------------------------------------------------------
# Finding 1: scoping lowered protection
# --------------------------------------------------------------------------------------------
def test_roe_deer_agreement_does_not_release_tiger_stations_exactly(example, tmp_path):
    """A roe-deer-only agreement at ``exact``: every toy station saw a tiger or a leopard, so
    none may leave exact (the old code scoped first and exported all six exactly)."""
    sensitive = set(example.observations.loc[
        is_sensitive(example.observations["scientificName"]), "deploymentID"])
    assert sensitive == set(example.deployments["deploymentID"])  # precondition
    shared = apply_agreement(example, ROE_EXACT, today=TODAY)
    assert set(shared.observations["scientificName"].dropna()) == {"Capreolus pygargus"}
    assert _moved(shared, example).all()
    # through the package a partner receives, too
    pkg = import_exchange(export_exchange(example, ROE_EXACT, tmp_path / "x", today=TODAY))
    assert _moved(pkg.dataset, example).all()
    assert pkg.dataset.deployments["locationName"].isna().all()


def test_embargo_that_drops_the_tigers_keeps_their_stations_coarse(example):
    # every leopard / tiger record of CN-A3 and RU-B3 is from October on; RU-B2's tiger from
    # November: with an embargo on 2014-10-01 only roe deer and early tigers are left
    a = Agreement(recipient="LLNP", level="exact", embargo_date=date(2014, 10, 1))
    r = release(example, agreement=a, policy=POLICY, today=TODAY)
    assert set(r.levels) == {"1km"}
    assert _moved(r.dataset, example).all()


def test_protecting_a_scoped_dataset_decides_on_the_complete_one(example):
    """Even the old order (scope, then protect_dataset) is safe with a ScopedDataset."""
    scoped = scope(example, agreement=ROE_EXACT, today=TODAY)
    assert isinstance(scoped, ScopedDataset) and scoped.scoped_from is example
    assert not is_sensitive(scoped.observations["scientificName"]).any()
    shown = protect_dataset(scoped, audience=ROE_EXACT.audience, policy=POLICY)
    assert _moved(shown, example).all()
    # and release() of it gives what release() of the complete dataset gives
    again = release(scoped, policy=POLICY)
    direct = release(example, agreement=ROE_EXACT, policy=POLICY, today=TODAY)
    pd.testing.assert_frame_equal(again.dataset.deployments, direct.dataset.deployments)


def test_scoping_never_refines(example):
    """Whatever the agreement, no station is finer than without it."""
    base = release(example, audience=Audience.partner(level="1km"), policy=POLICY)
    for species in [(), ("Capreolus pygargus",), ("Panthera tigris",)]:
        a = Agreement(recipient="LLNP", species=species, level="1km")
        r = release(example, audience=Audience.partner(level="1km"), agreement=a,
                    policy=POLICY, today=TODAY)
        rank = {"exact": 0, "1km": 1, "10km": 2, "withheld": 3}
        for dep, lvl in r.levels.items():
            assert rank[lvl] >= rank[base.levels[dep]]


# --------------------------------------------------------------------------------------------
# Finding 3: metadata followed the complete dataset
# --------------------------------------------------------------------------------------------
def test_embargo_holds_back_individuals_links_and_metadata(dated):
    cutoff = date(2014, 10, 2)
    a = Agreement(recipient="LLNP", level="10km", embargo_date=cutoff)
    r = release(dated, agreement=a, policy=POLICY, today=TODAY)
    limit = pd.Timestamp(cutoff, tz="UTC")
    ind = r.dataset["individuals"]
    # RU-LLNP:L-7 was first recorded on 2014-10-03: after the embargo, so not shared
    assert "RU-LLNP:L-7" not in set(ind["individualID"])
    assert (pd.to_datetime(ind["firstRecorded"], utc=True) < limit).all()
    # both link decisions (December) were made after the embargo
    assert len(r.dataset["identityLinks"]) == 0
    assert (pd.to_datetime(r.dataset.deployments["deploymentEnd"], utc=True) < limit).all()
    assert r.dataset.metadata["temporal"]["end"] < cutoff.isoformat()
    s = r.summary()
    assert s["lastRecord"] < cutoff.isoformat()
    obs = dated.observations
    # the photo of a person stays with the owner (it is before the embargo)
    assert s["observations"] == int(((obs["eventStart"] < limit)
                                     & (obs["observationType"] != "human")).sum())


def test_species_limit_reaches_metadata_and_summaries(dated, tmp_path):
    a = Agreement(recipient="LLNP", species=("Panthera tigris",), level="10km")
    r = release(dated, agreement=a, policy=POLICY, today=TODAY)
    assert [t["scientificName"] for t in r.dataset.metadata["taxonomic"]] == ["Panthera tigris"]
    assert r.summary()["species"] == ["Panthera tigris"]
    assert set(r.dataset["individuals"]["scientificName"]) == {"Panthera tigris"}
    # the exchange package's datapackage.json names no other species
    target = export_exchange(dated, a, tmp_path / "tigers", today=TODAY)
    text = "".join(p.read_text(encoding="utf-8") for p in target.iterdir()
                   if p.suffix in (".json", ".csv"))
    assert "Panthera pardus" not in text and "Capreolus pygargus" not in text


def test_a_genus_only_record_is_not_shared_under_a_species_agreement(example):
    obs = example.observations.copy()
    obs.loc[obs.index[4], "scientificName"] = "Panthera"  # may be a leopard
    ds = example.replace(observations=obs)
    r = release(ds, agreement=Agreement(species=("Panthera tigris",)), policy=POLICY,
                today=TODAY)
    assert set(r.dataset.observations["scientificName"]) == {"Panthera tigris"}


# --------------------------------------------------------------------------------------------
# Counts on the scoped exact data (issue #15): the same for every audience of a scope
# --------------------------------------------------------------------------------------------
def test_counts_are_the_same_for_owner_partner_and_public():
    from amurlink.report.demo import toy_border

    ds = load_example()
    a = Agreement(recipient="LLNP", species=("Panthera tigris", "Panthera pardus"))
    tables = {}
    for aud in (Audience.owner(), Audience.partner(level="10km"), Audience.public()):
        res = release(ds, audience=aud, agreement=a, policy=POLICY, today=TODAY)
        cb = res.crossborder(toy_border())
        enc = cb.encounters.groupby(["jointID", "country"], observed=True).size()
        tables[aud.kind] = (cb.summary.drop(columns=[c for c in cb.summary if "km" in c]),
                            cb.individuals["crossings"].tolist(), enc, cb.level)
    owner = tables["owner"]
    for kind in ("partner", "public"):
        pd.testing.assert_frame_equal(tables[kind][0], owner[0])
        assert tables[kind][1] == owner[1]
        pd.testing.assert_series_equal(tables[kind][2], owner[2])
    assert (owner[3], tables["partner"][3], tables["public"][3]) == ("exact", "10km",
                                                                     "withheld")


def test_figures_refuse_to_carry_positions_out(example):
    r = release(example, audience=Audience.public(), policy=POLICY)
    assert r.figures(lambda d: len(d.observations)) == len(example.observations)
    with pytest.raises(LocationLeakError, match="latitude"):
        r.figures(lambda d: d.deployments)
    with pytest.raises(LocationLeakError, match="Dataset"):
        r.figures(lambda d: {"data": d})
    owner = release(example, audience=Audience.owner(), policy=POLICY)
    assert len(owner.figures(lambda d: d.deployments)) == 6  # the owner sees its own


def test_release_needs_the_study_policy_and_an_audience(example):
    with pytest.raises(TypeError, match="StudyConfig.protection"):
        release(example, audience=Audience.public(), policy=None)
    with pytest.raises(ConfigError, match="needs an audience"):
        release(example, policy=POLICY)
    assert isinstance(release(example, agreement=ROE_EXACT, policy=POLICY, today=TODAY),
                      Released)


def test_release_follows_the_study_policy(example):
    """Finding 2 at the library level: the policy given is the one applied."""
    coarse = ProtectionPolicy(partner_level="10km", partner_sensitive_level="withheld")
    r = release(example, audience=Audience.partner(), policy=coarse)
    assert set(r.levels) == {"withheld"}
    r = release(example, audience=Audience.partner(), policy=POLICY)
    assert set(r.levels) == {"1km"}


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------
def test_registry_names_and_errors():
    assert all(name.startswith(f"{o.kind}:") for name, o in OUTPUTS.items())
    assert unregistered(["cli:exchange export", "cli:not-a-command"]) == ["cli:not-a-command"]
    with pytest.raises(KeyError, match="register_output"):
        output("web:nope")
    with pytest.raises(ValueError, match="start with"):
        register_output("nope", description="x")
    for o in OUTPUTS.values():
        assert o.via is None or o.via in OUTPUTS, o.name


def test_a_record_filter_cannot_lower_protection(example):
    """A rows= cut (e.g. the analyses' quality filter) that drops every tiger and leopard
    record leaves their stations as protected as before."""
    def animals_only_roe(d):
        obs = d.observations
        return d.replace(observations=obs.loc[obs["scientificName"].eq("Capreolus pygargus")
                                              .fillna(False).to_numpy(bool)])

    cut = scope(example, rows=animals_only_roe)
    assert set(cut.observations["scientificName"]) == {"Capreolus pygargus"}
    r = release(cut, audience=Audience.public(), policy=POLICY)
    assert set(r.levels) == {"withheld"}
    assert len(r.dataset.observations) == 2  # the cut applies to what is shown as well
    assert r.figures(lambda d: len(d.observations)) == 2


def test_a_filter_on_a_scoped_dataset_keeps_its_lineage(example):
    """Code that filters a scoped dataset with Dataset.replace (the report's quality filter
    does) still gets the complete dataset's protection."""
    scoped = scope(example, agreement=ROE_EXACT, today=TODAY)
    filtered = scoped.replace(observations=scoped.observations.iloc[:1])
    assert isinstance(filtered, ScopedDataset) and filtered.scoped_from is example
    r = release(filtered, policy=POLICY)
    assert set(r.levels) == {"1km"} and len(r.dataset.observations) == 1


def test_people_stay_hidden_when_the_agreement_shares_media_without_observations(example):
    """The photo of a person is found on the complete data, not on what the tables left."""
    a = Agreement(recipient="LLNP", tables=("deployments", "media"), level="1km")
    shared = apply_agreement(example, a, today=TODAY)
    assert len(shared.observations) == 0 and len(shared.media)
    people = example.observations.loc[example.observations["observationType"].eq("human")
                                      .fillna(False).to_numpy(bool), "mediaID"].dropna()
    assert len(people) and not shared.media["mediaID"].isin(people).any()


def test_a_new_scope_applies_on_top_of_a_filtered_scoped_dataset(example):
    scoped = scope(example, agreement=Agreement(recipient="LLNP", level="1km"), today=TODAY)
    filtered = scoped.replace(observations=scoped.observations.iloc[:3])
    r = release(filtered, audience=Audience.public(), policy=POLICY,
                agreement=Agreement(species=("Panthera tigris",)), today=TODAY)
    assert len(r.dataset.observations) == int(
        (example.observations["scientificName"].iloc[:3] == "Panthera tigris").sum())
    assert set(r.levels) == {"withheld"}


def test_an_embargo_holds_back_links_to_later_individuals_when_the_catalogue_is_not_shared():
    # found by the property test once cases drew incident books (issue #19): an agreement
    # that shares identityLinks but not individuals let a link name an individual first
    # recorded after the embargo
    from amurlink.datasets import load_example

    data = load_example()
    ind = data["individuals"].copy()
    ind["firstRecorded"] = pd.Series(pd.Timestamp("2014-09-01", tz="UTC"), index=ind.index) \
        .astype(ind["firstRecorded"].dtype)
    late = ind["individualID"] == "RU-LLNP:T-1"
    ind.loc[late, "firstRecorded"] = pd.Timestamp("2015-06-01", tz="UTC")
    data = data.replace(individuals=ind)
    terms = Agreement(recipient="LLNP", level="1km", embargo_date=date(2015, 1, 1),
                      tables=("deployments", "observations", "identityLinks"))
    links = release(data, agreement=terms, policy=ProtectionPolicy(),
                    today=date(2025, 1, 1)).dataset["identityLinks"]
    assert not (links["subjectA"].eq("RU-LLNP:T-1") | links["subjectB"].eq("RU-LLNP:T-1")).any()
    shared = Agreement(recipient="LLNP", level="1km", embargo_date=date(2016, 1, 1),
                       tables=("deployments", "observations", "identityLinks"))
    assert len(release(data, agreement=shared, policy=ProtectionPolicy(),
                       today=date(2025, 1, 1)).dataset["identityLinks"]) == 3
