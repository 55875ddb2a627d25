"""Invariants of the identity-link log (hypothesis)."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod

import amurlink.identify.links as _links
from amurlink.exceptions import AmurlinkWarning, LinkConflictError
from amurlink.identify.links import (
    ConflictRule,
    empty_links,
)

# These tests exercise the log itself with the two-party rule off (`two_party=False`, the
# study setting `[links] two_party = false`): one reviewer decides. The rule is tested in
# test_links_two_party.py.
current_links = functools.partial(_links.current_links, two_party=False)
find_conflicts = functools.partial(_links.find_conflicts, two_party=False)
joint_identities = functools.partial(_links.joint_identities, two_party=False)
propose_links = functools.partial(_links.propose_links, two_party=False)
review_link = functools.partial(_links.review_link, two_party=False)


T0 = pd.Timestamp("2024-03-01T10:00:00Z")
SUBJECTS = ["CN-NTLNP:T1", "CN-NTLNP:T2", "RU-LLNP:T1", "RU-LLNP:T2", "RU-LLNP:T3",
            "S-1", "S-2", "S-3", "CN-X:1", "RU-Y:1"]
SETTINGS = settings(max_examples=50, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
#: Fewer examples where each one replays a whole review session.
SESSION_SETTINGS = settings(SETTINGS, max_examples=25)

pairs = st.tuples(st.sampled_from(SUBJECTS), st.sampled_from(SUBJECTS)).filter(
    lambda p: p[0] != p[1])


def confirmed_log(edges: list[tuple[str, str]], *, last: str = "confirmed") -> pd.DataFrame:
    """A log with one event per pair (no conflict checks), confirmed but the last ``last``."""
    seen: dict[tuple[str, str], None] = {}
    for a, b in edges:
        seen.setdefault((min(a, b), max(a, b)), None)
    status = ["confirmed"] * len(seen)
    if status and (min(edges[-1]), max(edges[-1])) == list(seen)[-1]:
        status[-1] = last
    frame = pd.DataFrame({
        "linkEventID": [f"L-{i}" for i in range(len(seen))],
        "subjectA": [a for a, _ in seen], "subjectB": [b for _, b in seen],
        "method": "expert", "score": np.nan, "status": status, "reviewer": "x",
        "timestamp": T0, "reason": None, "evidence": None,
    })
    return frame if len(frame) else empty_links()


def union_find(edges: list[tuple[str, str]]) -> set[frozenset[str]]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        parent[find(a)] = find(b)
    groups: dict[str, set[str]] = {}
    for x in list(parent):
        groups.setdefault(find(x), set()).add(x)
    return {frozenset(g) for g in groups.values()}


def components(ji: pd.DataFrame) -> set[frozenset[str]]:
    return {frozenset(g) for _, g in ji.groupby("jointID")["subject"]}


@SETTINGS
@given(st.lists(pairs, max_size=12))
def test_joint_identities_are_the_union_find_components(edges):
    ji = joint_identities(confirmed_log(edges))
    assert components(ji) == union_find(edges)
    assert ji.groupby("jointID")["members"].nunique().eq(1).all()


@SETTINGS
@given(st.lists(pairs, max_size=12), st.randoms(use_true_random=False))
def test_joint_ids_do_not_depend_on_row_order_or_pair_orientation(edges, rnd):
    log = confirmed_log(edges)
    order = list(range(len(log)))
    rnd.shuffle(order)
    shuffled = log.iloc[order].reset_index(drop=True)
    flip = np.array([rnd.random() < 0.5 for _ in range(len(log))], dtype=bool)
    a = shuffled["subjectA"].copy()
    shuffled.loc[flip, "subjectA"] = shuffled.loc[flip, "subjectB"]
    shuffled.loc[flip, "subjectB"] = a[flip]
    left = joint_identities(log).set_index("subject")["jointID"].sort_index()
    right = joint_identities(shuffled).set_index("subject")["jointID"].sort_index()
    pd.testing.assert_series_equal(left, right)


@SETTINGS
@given(st.lists(pairs, max_size=10), pairs)
def test_an_unrelated_link_changes_no_other_joint_id(edges, extra):
    fresh = (min(extra), max(extra)) not in {(min(a, b), max(a, b)) for a, b in edges}
    # Before: the extra pair only proposed, so both its subjects are known singletons or members.
    before = joint_identities(confirmed_log([*edges, extra], last="proposed" if fresh
                                            else "confirmed")).set_index("subject")["jointID"]
    after = joint_identities(confirmed_log([*edges, extra])).set_index("subject")["jointID"]
    touched = set(before[before.index.isin(extra)])
    untouched = before[~before.isin(touched)]
    pd.testing.assert_series_equal(after.reindex(untouched.index), untouched)
    # The merged identity keeps one of the IDs it had before.
    merged = set(after[after.index.isin(extra)])
    assert len(merged) == 1 and merged <= touched


ops = st.lists(st.tuples(st.sampled_from(["propose", "confirmed", "rejected", "proposed"]),
                         pairs), max_size=15)


def run_ops(sequence) -> pd.DataFrame:
    log = empty_links()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AmurlinkWarning)
        for k, (op, (a, b)) in enumerate(sequence):
            now = T0 + pd.Timedelta(minutes=k)
            if op == "propose":
                new = propose_links(log, pd.DataFrame({"subjectA": [a], "subjectB": [b]}),
                                    method="photo", now=now).links
            else:
                try:
                    new = review_link(log, pair=(a, b), status=op, reviewer="r", reason="why",
                                      now=now)
                except LinkConflictError:
                    continue
            assert new["linkEventID"].iloc[:len(log)].tolist() == log["linkEventID"].tolist()
            log = new
    return log


@SESSION_SETTINGS
@given(ops, st.lists(pairs, min_size=1, max_size=8))
def test_a_rejected_pair_is_never_proposed_again(sequence, batch):
    log = run_ops(sequence)
    cur = current_links(log)
    rejected = set(zip(cur.loc[cur["status"] == "rejected", "subjectA"],
                       cur.loc[cur["status"] == "rejected", "subjectB"], strict=True))
    res = propose_links(log, pd.DataFrame({"subjectA": [p[0] for p in batch],
                                           "subjectB": [p[1] for p in batch]}),
                        method="dna", now=T0 + pd.Timedelta(days=1))
    proposed = set(zip(res.proposed["subjectA"], res.proposed["subjectB"], strict=True))
    assert not proposed & rejected
    asked = {(min(a, b), max(a, b)) for a, b in batch}
    assert set(zip(res.skipped.loc[res.skipped["skipReason"] == "rejected", "subjectA"],
                   res.skipped.loc[res.skipped["skipReason"] == "rejected", "subjectB"],
                   strict=True)) == asked & rejected


@SESSION_SETTINGS
@given(ops)
def test_reviewed_logs_never_join_two_ids_of_one_catalogue(sequence):
    log = run_ops(sequence)
    assert log["linkEventID"].is_unique
    found = find_conflicts(log)
    assert set(found["kind"]) <= {"rejected"}
    # A rejection is recorded (with a warning) even where other confirmed links still join the
    # pair; the audit then lists exactly those pairs.
    cur = current_links(log)
    rejected = set(zip(cur.loc[cur["status"] == "rejected", "subjectA"],
                       cur.loc[cur["status"] == "rejected", "subjectB"], strict=True))
    assert set(zip(found["subjectA"], found["subjectB"], strict=True)) <= rejected


# -- the bucketed space-time join equals a brute-force pairwise check --------------------------
detection = st.tuples(st.sampled_from(["CN-A:1", "RU-B:1", "RU-B:2"]),
                      st.integers(0, 5), st.integers(0, 6 * 60))


@SETTINGS
@given(st.lists(detection, max_size=14), st.sampled_from([30, 60, 120]))
def test_space_time_conflicts_equal_a_brute_force_check(dets, window_min):
    lat = 43.0 + 0.1 * np.arange(6)
    lon = 131.0 + 0.05 * np.arange(6)
    deployments = pd.DataFrame({"deploymentID": [f"d{i}" for i in range(6)],
                                "latitude": lat, "longitude": lon})
    observations = pd.DataFrame({
        "deploymentID": [f"d{d}" for _, d, _ in dets],
        "eventStart": [T0 + pd.Timedelta(minutes=m) for _, _, m in dets],
        "individualID": [s for s, _, _ in dets],
    }, columns=["deploymentID", "eventStart", "individualID"])
    log = confirmed_log([("CN-A:1", "RU-B:1"), ("RU-B:1", "S-1"), ("S-1", "RU-B:2")])
    rule = ConflictRule(window=pd.Timedelta(minutes=window_min))
    found = find_conflicts(log, observations=observations, deployments=deployments, rule=rule)
    got = set(zip(found.loc[found["kind"] == "spacetime", "subjectA"],
                  found.loc[found["kind"] == "spacetime", "subjectB"], strict=True))
    geod = Geod(ellps="WGS84")
    expected = set()
    for s1, d1, m1 in dets:
        for s2, d2, m2 in dets:
            if s1 >= s2 or abs(m1 - m2) > window_min:
                continue
            dist = geod.inv(lon[d1], lat[d1], lon[d2], lat[d2])[2] / 1000
            if dist > rule.max_speed_kmh * abs(m1 - m2) / 60 + rule.tolerance_km:
                expected.add((s1, s2))
    assert got == expected
