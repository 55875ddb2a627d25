"""Identity-link log: proposing, reviewing, joint identities, history and conflicts."""

from __future__ import annotations

import functools
import hashlib
import json

import numpy as np
import pandas as pd
import pytest

import amurlink.identify.links as _links
from amurlink.exceptions import DataQualityWarning, LinkConflictError, SchemaError
from amurlink.identify.links import (
    CONFLICT_COLUMNS,
    HISTORY_COLUMNS,
    IDENTITY_COLUMNS,
    SKIPPED_COLUMNS,
    ConflictRule,
    empty_links,
)
from amurlink.schema import IDENTITY_LINKS

# These tests exercise the log itself with the two-party rule off (`two_party=False`, the
# study setting `[links] two_party = false`): one reviewer decides. The rule is tested in
# test_links_two_party.py.
current_links = functools.partial(_links.current_links, two_party=False)
find_conflicts = functools.partial(_links.find_conflicts, two_party=False)
joint_identities = functools.partial(_links.joint_identities, two_party=False)
link_history = functools.partial(_links.link_history, two_party=False)
propose_links = functools.partial(_links.propose_links, two_party=False)
review_link = functools.partial(_links.review_link, two_party=False)

CN12, CN15 = "CN-NTLNP:T012", "CN-NTLNP:T015"
RU23, RU40 = "RU-LLNP:T-23", "RU-LLNP:T-40"
T0 = pd.Timestamp("2024-03-01T10:00:00Z")


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def jid(anchor: str) -> str:
    return "J-" + hashlib.sha256(anchor.encode()).hexdigest()[:10]


@pytest.fixture()
def individuals() -> pd.DataFrame:
    return pd.DataFrame({
        "individualID": [CN12, CN15, RU23, RU40],
        "catalogue": ["CN-NTLNP", "CN-NTLNP", "RU-LLNP", "RU-LLNP"],
        "scientificName": ["Panthera tigris altaica"] * 4,
    })


@pytest.fixture()
def deployments() -> pd.DataFrame:
    # CN-c2 lies 2.8 km from CN-c1; RU-r1 lies 59 km from CN-c1.
    return pd.DataFrame({
        "deploymentID": ["CN-c1", "CN-c2", "RU-r1"],
        "latitude": [43.10, 43.12, 43.40],
        "longitude": [130.90, 130.92, 131.50],
    })


@pytest.fixture()
def observations() -> pd.DataFrame:
    return pd.DataFrame({
        "observationID": ["o1", "o2", "o3", "o4"],
        "deploymentID": ["CN-c1", "RU-r1", "CN-c2", "CN-c1"],
        "eventStart": [ts("2023-03-01T10:00"), ts("2023-03-01T10:20"), ts("2023-03-01T10:30"),
                       ts("2023-01-05T02:00")],
        "individualID": [CN12, RU23, RU40, CN15],
    })


def confirm(links, a, b, **kw):
    kw.setdefault("reviewer", "Anna")
    kw.setdefault("now", T0)
    return review_link(links, pair=(a, b), status="confirmed", **kw)


def reject(links, a, b, **kw):
    kw.setdefault("reviewer", "Anna")
    kw.setdefault("now", T0)
    kw.setdefault("reason", "different stripes")
    return review_link(links, pair=(a, b), status="rejected", **kw)


def props(*pairs, **cols) -> pd.DataFrame:
    return pd.DataFrame({"subjectA": [p[0] for p in pairs], "subjectB": [p[1] for p in pairs],
                         **cols})


def members_of(ji: pd.DataFrame, subject: str) -> str:
    return ji.loc[ji["subject"] == subject, "members"].item()


def jid_of(ji: pd.DataFrame, subject: str) -> str:
    return ji.loc[ji["subject"] == subject, "jointID"].item()


# ----------------------------------------------------------------------------------------------
# The log
# ----------------------------------------------------------------------------------------------
def test_empty_links_has_the_declared_columns():
    assert tuple(empty_links().columns) == IDENTITY_LINKS.field_names
    assert len(empty_links()) == 0


def test_malformed_logs_raise_schema_errors():
    with pytest.raises(SchemaError, match="lacks the identityLinks column"):
        current_links(pd.DataFrame({"subjectA": ["a"]}))
    log = confirm(empty_links(), CN12, RU23)
    with pytest.raises(SchemaError, match="repeats"):
        current_links(pd.concat([log, log]))
    with pytest.raises(SchemaError, match="expected one of proposed, confirmed, rejected"):
        current_links(log.assign(status="maybe"))
    with pytest.raises(SchemaError, match="no time zone"):
        current_links(log.assign(timestamp=log["timestamp"].dt.tz_localize(None)))
    with pytest.raises(SchemaError, match="to itself"):
        current_links(log.assign(subjectB=CN12))
    with pytest.raises(SchemaError, match="is empty"):
        current_links(log.assign(reviewer="x", method=None))


def test_timestamps_given_as_iso_text_with_offsets_are_read_as_utc():
    log = confirm(empty_links(), CN12, RU23)
    text = log.assign(timestamp=["2024-03-01T18:00:00+08:00"]).astype({"timestamp": object})
    assert current_links(text)["timestamp"].item() == T0


# ----------------------------------------------------------------------------------------------
# Proposing
# ----------------------------------------------------------------------------------------------
def test_propose_appends_canonical_proposed_events():
    res = propose_links(empty_links(), props((RU23, CN12), score=[0.93]), method="photo",
                        by="photo-matcher", now=T0)
    assert len(res.links) == 1 and res.skipped.empty
    ev = res.proposed.iloc[0]
    assert (ev["subjectA"], ev["subjectB"]) == (CN12, RU23)
    assert (ev["method"], ev["score"], ev["status"], ev["reviewer"]) == (
        "photo", 0.93, "proposed", "photo-matcher")
    assert ev["timestamp"] == T0 and ev["linkEventID"].startswith("L-")
    assert tuple(res.skipped.columns) == SKIPPED_COLUMNS


def test_evidence_dicts_are_stored_as_sorted_json_and_bad_evidence_raises():
    res = propose_links(empty_links(), props((CN12, RU23), evidence=[{"b": 1, "a": ["x.jpg"]}]),
                        method="photo", now=T0)
    assert res.links["evidence"].item() == '{"a": ["x.jpg"], "b": 1}'
    with pytest.raises(SchemaError, match="JSON object"):
        propose_links(empty_links(), props((CN12, RU23), evidence=["not json"]), method="dna")
    with pytest.raises(SchemaError, match="JSON object"):
        propose_links(empty_links(), props((CN12, RU23), evidence=["[1, 2]"]), method="dna")


def test_a_rejected_pair_is_never_reproposed_and_the_skip_is_reported():
    log = reject(empty_links(), CN12, RU23, reviewer="Boris", reason="spots differ")
    res = propose_links(log, props((RU23, CN12), (CN12, RU40), score=[0.99, 0.5]),
                        method="photo", now=T0)
    assert res.proposed[["subjectA", "subjectB"]].to_numpy().tolist() == [[CN12, RU40]]
    (skip,) = res.skipped.to_dict("records")
    assert skip["skipReason"] == "rejected" and skip["currentReviewer"] == "Boris"
    assert skip["currentReason"] == "spots differ"
    assert skip["currentEventID"] == log["linkEventID"].item()
    assert res.n_rejected == 1 and "rejected" in repr(res)
    assert current_links(res.links).set_index("subjectB").loc[RU23, "status"] == "rejected"


def test_confirmed_pending_and_duplicate_pairs_are_skipped():
    log = confirm(empty_links(), CN12, RU23)
    log = propose_links(log, props((CN15, RU40), score=[0.7]), method="photo", now=T0).links
    res = propose_links(
        log, props((CN12, RU23), (CN15, RU40), (RU40, CN15), score=[0.9, 0.7, 0.7]),
        method="photo", now=T0)
    assert res.proposed.empty and len(res.links) == len(log)
    assert res.skipped["skipReason"].tolist() == ["confirmed", "pending", "duplicate"]
    assert res.skipped["currentStatus"].tolist() == ["confirmed", "proposed", None]


def test_a_pending_pair_with_new_evidence_is_appended_again():
    log = propose_links(empty_links(), props((CN15, RU40), score=[0.7]), method="photo",
                        now=T0).links
    res = propose_links(log, props((CN15, RU40), score=[0.8]), method="photo", now=T0)
    assert len(res.proposed) == 1 and res.proposed["score"].item() == 0.8
    assert current_links(res.links)["score"].item() == 0.8


def test_proposals_need_a_method_and_two_different_subjects():
    with pytest.raises(SchemaError, match="no 'method' column"):
        propose_links(empty_links(), props((CN12, RU23)))
    with pytest.raises(SchemaError, match="expected one of photo"):
        propose_links(empty_links(), props((CN12, RU23), method=["eyeball"]))
    with pytest.raises(SchemaError, match="to itself"):
        propose_links(empty_links(), props((CN12, CN12)), method="photo")
    with pytest.raises(SchemaError, match="is empty"):
        propose_links(empty_links(), props((CN12, None)), method="photo")
    with pytest.raises(SchemaError, match="not a number"):
        propose_links(empty_links(), props((CN12, RU23), score=["high"]), method="photo")


def test_method_column_wins_over_the_keyword_where_given():
    res = propose_links(empty_links(), props((CN12, RU23), ("S-1", RU23), method=["dna", None]),
                        method="photo", now=T0)
    assert res.proposed["method"].tolist() == ["dna", "photo"]


def test_propose_and_review_never_mutate_their_inputs(individuals):
    log = confirm(empty_links(), CN12, RU23)
    p = props((CN15, RU40), score=[0.5])
    log0, p0, ind0 = log.copy(), p.copy(), individuals.copy()
    propose_links(log, p, method="photo", now=T0)
    reject(log, CN12, RU23, individuals=individuals)
    pd.testing.assert_frame_equal(log, log0)
    pd.testing.assert_frame_equal(p, p0)
    pd.testing.assert_frame_equal(individuals, ind0)


# ----------------------------------------------------------------------------------------------
# Reviewing
# ----------------------------------------------------------------------------------------------
def test_review_appends_one_event_and_keeps_every_earlier_one():
    log = propose_links(empty_links(), props((CN12, RU23), score=[0.9],
                                             evidence=['{"img": 1}']),
                        method="photo", now=T0).links
    out = confirm(log, RU23, CN12, reviewer="Anna", now="2024-03-02T08:00:00.7+00:00")
    pd.testing.assert_frame_equal(out.iloc[:1], log)
    ev = out.iloc[-1]
    assert (ev["status"], ev["reviewer"], ev["method"], ev["score"]) == (
        "confirmed", "Anna", "photo", 0.9)
    assert ev["evidence"] == '{"img": 1}'  # carried from the proposal
    assert ev["timestamp"] == ts("2024-03-02T08:00:00")  # floored to the second
    assert ev["linkEventID"] != log["linkEventID"].item()


def test_a_pair_can_be_named_by_any_of_its_event_ids():
    log = propose_links(empty_links(), props((CN12, RU23)), method="photo", now=T0).links
    out = review_link(log, link_event_id=log["linkEventID"].item(), status="confirmed",
                      reviewer="Anna", now=T0)
    assert current_links(out)["status"].item() == "confirmed"
    with pytest.raises(ValueError, match="no link event 'L-nope'"):
        review_link(log, link_event_id="L-nope", status="confirmed", reviewer="Anna")
    with pytest.raises(ValueError, match="not both or neither"):
        review_link(log, status="confirmed", reviewer="Anna")


def test_review_arguments_are_checked(individuals):
    with pytest.raises(ValueError, match="needs a reason"):
        reject(empty_links(), CN12, RU23, reason=None)
    with pytest.raises(ValueError, match="reviewer"):
        confirm(empty_links(), CN12, RU23, reviewer=" ")
    with pytest.raises(ValueError, match="status must be one of"):
        review_link(empty_links(), pair=(CN12, RU23), status="merged", reviewer="Anna")
    with pytest.raises(ValueError, match="timezone-aware"):
        confirm(empty_links(), CN12, RU23, now="2024-03-01 10:00")
    with pytest.raises(ValueError, match="not in the individuals table"):
        confirm(empty_links(), CN12, "RU-LLNP:T-2e", individuals=individuals)
    with pytest.raises(ValueError, match="method must be one of"):
        confirm(empty_links(), CN12, RU23, method="guess")


def test_overturning_a_decision_needs_a_reason():
    log = reject(empty_links(), CN12, RU23)
    with pytest.raises(ValueError, match="was rejected by Anna .*needs a reason"):
        confirm(log, CN12, RU23)
    out = confirm(log, CN12, RU23, reason="new photos show the same stripes")
    assert current_links(out)["status"].item() == "confirmed"


def test_reopening_a_rejected_pair_makes_it_pending_again():
    log = reject(empty_links(), CN12, RU23)
    log = review_link(log, pair=(CN12, RU23), status="proposed", reviewer="Anna",
                      reason="second look", now=T0)
    assert current_links(log)["status"].item() == "proposed"
    res = propose_links(log, props((CN12, RU23)), method="expert", now=T0)
    assert res.skipped["skipReason"].tolist() == ["pending"]


def test_a_second_reviewer_can_confirm_a_confirmed_pair_again():
    log = confirm(confirm(empty_links(), CN12, RU23), CN12, RU23, reviewer="Boris")
    assert log["reviewer"].tolist() == ["Anna", "Boris"]
    assert len(current_links(log)) == 1


def test_confirming_a_new_pair_creates_an_expert_link(individuals):
    log = confirm(empty_links(), CN12, "S-0042", individuals=individuals)
    assert log["method"].item() == "expert" and np.isnan(log["score"].item())


# ----------------------------------------------------------------------------------------------
# Conflicts block confirmation
# ----------------------------------------------------------------------------------------------
def test_two_ids_of_one_catalogue_block_confirmation_with_names_path_and_fix(individuals):
    log = confirm(empty_links(), CN12, RU23, individuals=individuals)
    with pytest.raises(LinkConflictError) as info:
        confirm(log, CN15, RU23, individuals=individuals)
    msg = str(info.value)
    assert f"cannot confirm {CN15} = {RU23}" in msg
    assert f"[catalogue] {CN12} and {CN15}" in msg and "CN-NTLNP" in msg
    assert f"{CN12} is joined to {RU23} by confirmed link(s) {log['linkEventID'].item()}" in msg
    assert "fix: reject this link" in msg
    assert info.value.conflicts[["kind", "subjectA", "subjectB"]].to_numpy().tolist() == [
        ["catalogue", CN12, CN15]]
    assert isinstance(info.value, ValueError)


def test_the_catalogue_column_of_individuals_decides_the_catalogue():
    ind = pd.DataFrame({"individualID": ["CN-A:1", "CN-B:2"], "catalogue": ["CN-X", "CN-X"]})
    with pytest.raises(LinkConflictError, match="catalogue CN-X"):
        confirm(empty_links(), "CN-A:1", "CN-B:2", individuals=ind)
    confirm(empty_links(), "CN-A:1", "CN-B:2")  # namespaces differ without the table


def test_samples_carry_no_catalogue_so_many_samples_join_one_identity():
    log = confirm(confirm(empty_links(), CN12, "S-1"), CN12, "S-2")
    log = confirm(log, "S-2", RU23)
    ji = joint_identities(log)
    assert members_of(ji, "S-1") == f"{CN12} = {RU23}"
    assert ji.loc[ji["subject"] == "S-1", ["individualCount", "sampleCount"]].to_numpy().tolist() \
        == [[2, 2]]


def test_far_apart_at_the_same_time_blocks_confirmation(observations, deployments):
    kw = {"observations": observations, "deployments": deployments}
    with pytest.raises(LinkConflictError) as info:
        confirm(empty_links(), CN12, RU23, **kw)
    msg = str(info.value)
    assert "[spacetime]" in msg and "CN-c1 2023-03-01T10:00:00Z" in msg
    assert "RU-r1 2023-03-01T10:20:00Z" in msg and "within 20 min" in msg
    assert "59." in msg  # km apart


def test_near_or_long_apart_detections_do_not_conflict(observations, deployments):
    kw = {"observations": observations, "deployments": deployments}
    confirm(empty_links(), CN12, RU40, **kw)  # 2.8 km in 30 min: plausible
    later = observations.assign(eventStart=observations["eventStart"].where(
        observations["individualID"] != RU23, ts("2023-03-01T11:05")))
    confirm(empty_links(), CN12, RU23, observations=later, deployments=deployments)  # 65 min


def test_conflict_thresholds_follow_the_rule(observations, deployments):
    kw = {"observations": observations, "deployments": deployments}
    confirm(empty_links(), CN12, RU23, rule=ConflictRule(tolerance_km=60), **kw)
    with pytest.raises(LinkConflictError):
        confirm(empty_links(), CN12, RU40, rule=ConflictRule(tolerance_km=0, max_speed_kmh=1),
                **kw)
    assert ConflictRule(window="2h").window == pd.Timedelta(hours=2)
    with pytest.raises(ValueError, match="positive"):
        ConflictRule(window="-1h")
    with pytest.raises(ValueError, match="max_speed_kmh"):
        ConflictRule(max_speed_kmh=-1)


def test_naive_observation_times_raise(observations, deployments):
    naive = observations.assign(eventStart=observations["eventStart"].dt.tz_localize(None))
    with pytest.raises(SchemaError, match="observations.eventStart` has no time zone"):
        confirm(empty_links(), CN12, RU23, observations=naive, deployments=deployments)


def test_the_space_time_check_spans_whole_identities(observations, deployments):
    kw = {"observations": observations, "deployments": deployments}
    log = confirm(confirm(empty_links(), CN12, "S-1", **kw), RU23, "S-2", **kw)
    with pytest.raises(LinkConflictError) as info:
        confirm(log, "S-1", "S-2", **kw)
    assert f"{CN12} and {RU23}" in str(info.value)
    assert f"{RU23} is joined to S-2 by confirmed link(s)" in str(info.value)


def test_joining_a_pair_a_reviewer_rejected_is_blocked():
    log = reject(empty_links(), CN12, RU23, reviewer="Boris", reason="spots differ")
    log = confirm(log, CN12, "S-1")
    with pytest.raises(LinkConflictError, match="Boris rejected this pair .*spots differ"):
        confirm(log, "S-1", RU23)


def test_a_conflict_already_inside_one_identity_does_not_block_unrelated_merges(individuals):
    bad = pd.concat([confirm(empty_links(), CN12, RU23),
                     confirm(empty_links(), CN15, RU23)], ignore_index=True)
    bad["linkEventID"] = ["L-1", "L-2"]
    assert len(find_conflicts(bad, individuals=individuals)) == 1
    out = confirm(bad, RU23, "S-1", individuals=individuals)
    assert len(out) == 3


# ----------------------------------------------------------------------------------------------
# Rejection splits; history is kept
# ----------------------------------------------------------------------------------------------
def test_rejecting_a_confirmed_link_splits_the_identity():
    log = confirm(confirm(empty_links(), CN12, RU23), RU23, "S-1")
    assert joint_identities(log)["jointID"].nunique() == 1
    log = reject(log, CN12, RU23)
    ji = joint_identities(log)
    assert members_of(ji, CN12) == CN12 and members_of(ji, "S-1") == RU23
    assert jid_of(ji, CN12) == jid(CN12) and jid_of(ji, "S-1") == jid(RU23)
    assert len(log) == 3  # nothing removed


def test_rejecting_a_pair_still_joined_by_other_links_warns_with_the_path():
    log = confirm(confirm(empty_links(), CN12, "S-1"), "S-1", RU23)
    log = propose_links(log, props((CN12, RU23)), method="photo", now=T0).links
    with pytest.warns(DataQualityWarning, match=r"still one joint identity .*S-1") as rec:
        reject(log, CN12, RU23)
    assert log["linkEventID"].iloc[0] in str(rec[0].message)


def test_current_status_is_the_latest_event_in_log_order():
    log = confirm(empty_links(), CN12, RU23, now="2024-05-01T00:00:00Z")
    log = reject(log, CN12, RU23, now="2024-04-01T00:00:00Z", reason="clock was wrong")
    assert current_links(log)["status"].item() == "rejected"
    assert current_links(log, status="confirmed").empty
    with pytest.raises(ValueError, match="status must be one of"):
        current_links(log, status="open")


def test_link_history_shows_merges_and_splits_in_order():
    log = propose_links(empty_links(), props((CN12, RU23)), method="photo", now=T0).links
    log = confirm(log, CN12, RU23)
    log = confirm(log, RU23, "S-1")
    log = reject(log, CN12, RU23, reason="DNA says no")
    h = link_history(log, CN12)
    assert tuple(h.columns) == HISTORY_COLUMNS
    assert h["status"].tolist() == ["proposed", "confirmed", "rejected"]
    assert h["previousStatus"].tolist() == [None, "proposed", "confirmed"]
    assert h["effect"].tolist() == [None, "merge", "split"]
    whole = link_history(log, jid(RU23))  # joint ID of RU23 + S-1 now
    assert len(whole) == 4
    assert link_history(log, "S-1")["effect"].tolist() == ["merge"]


def test_confirming_inside_one_identity_is_no_merge_and_its_rejection_no_split():
    log = confirm(confirm(empty_links(), CN12, "S-1"), "S-1", RU23)
    log = confirm(log, CN12, RU23)
    with pytest.warns(DataQualityWarning):
        log = reject(log, CN12, RU23)
    assert link_history(log, CN12)["effect"].tolist() == ["merge", None, None]


def test_link_history_of_unknown_and_unlinked_subjects(individuals):
    log = confirm(empty_links(), CN12, RU23)
    with pytest.raises(ValueError, match="no link mentions 'CN-NTLNP:T999'"):
        link_history(log, "CN-NTLNP:T999")
    h = link_history(log, RU40, individuals=individuals)
    assert h.empty and tuple(h.columns) == HISTORY_COLUMNS


# ----------------------------------------------------------------------------------------------
# Joint identities
# ----------------------------------------------------------------------------------------------
def test_joint_identities_list_every_individual_and_linked_sample(individuals):
    log = confirm(confirm(empty_links(), CN12, RU23), RU23, "S-1")
    log = propose_links(log, props(("S-9", RU40)), method="dna", now=T0).links
    ji = joint_identities(log, individuals=individuals)
    assert tuple(ji.columns) == IDENTITY_COLUMNS
    assert ji["subject"].tolist() == [CN12, RU23, "S-1", CN15, RU40, "S-9"]
    assert ji["jointID"].tolist() == [jid(CN12)] * 3 + [jid(CN15), jid(RU40), jid("S-9")]
    assert members_of(ji, "S-1") == f"{CN12} = {RU23}"
    assert ji["subjectType"].tolist() == ["individual"] * 2 + ["sample"] + ["individual"] * 2 \
        + ["sample"]
    assert ji["catalogue"].tolist() == ["CN-NTLNP", "RU-LLNP", None, "CN-NTLNP", "RU-LLNP", None]
    assert ji["individualCount"].tolist() == [2, 2, 2, 1, 1, 0]


def test_joint_ids_stay_put_when_samples_join_and_one_survives_a_merge():
    one = confirm(empty_links(), RU23, "A-000")  # a sample that sorts first
    assert jid_of(joint_identities(one), "A-000") == jid(RU23)
    two = confirm(one, RU23, CN12)
    assert set(joint_identities(two)["jointID"]) == {jid(CN12)}  # one of the two merged IDs


def test_a_sample_only_identity_is_named_by_its_samples():
    ji = joint_identities(confirm(empty_links(), "S-2", "S-1"))
    assert ji["members"].unique().tolist() == ["S-1 = S-2"]
    assert ji["jointID"].unique().tolist() == [jid("S-1")]


# ----------------------------------------------------------------------------------------------
# Auditing
# ----------------------------------------------------------------------------------------------
def test_find_conflicts_reports_every_kind_with_its_joint_id(individuals, observations,
                                                             deployments):
    rows = [confirm(empty_links(), CN12, RU23), confirm(empty_links(), CN15, RU23),
            reject(empty_links(), CN15, "S-1"), confirm(empty_links(), RU23, "S-1")]
    log = pd.concat(rows, ignore_index=True).assign(linkEventID=["L-1", "L-2", "L-3", "L-4"])
    found = find_conflicts(log, individuals=individuals, observations=observations,
                           deployments=deployments)
    assert tuple(found.columns) == CONFLICT_COLUMNS
    assert found[["kind", "subjectA", "subjectB"]].to_numpy().tolist() == [
        ["catalogue", CN12, CN15], ["rejected", CN15, "S-1"], ["spacetime", CN12, RU23]]
    assert set(found["jointID"]) == {jid(CN12)}
    assert "L-3" in found["detail"].iloc[1]


def test_find_conflicts_is_empty_for_a_clean_log(individuals):
    assert find_conflicts(empty_links()).empty
    log = confirm(empty_links(), CN12, RU23)
    found = find_conflicts(log, individuals=individuals)
    assert found.empty and tuple(found.columns) == CONFLICT_COLUMNS


def test_evidence_json_round_trips():
    ev = {"images": ["CN/2023/001.jpg", "RU/2023/17.jpg"], "mismatches": 0, "loci": 12}
    log = confirm(empty_links(), CN12, RU23, evidence=ev)
    assert json.loads(log["evidence"].item()) == ev
