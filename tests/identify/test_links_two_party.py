"""The two-party rule: a cross-border link is confirmed only when each side's reviewer accepted."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amurlink.identify._links_core import append_events, check_links
from amurlink.identify.links import (
    HISTORY_COLUMNS,
    current_links,
    empty_links,
    find_conflicts,
    joint_identities,
    link_history,
    propose_links,
    review_link,
)

CN12, CN15 = "CN-NTLNP:T012", "CN-NTLNP:T015"
RU23 = "RU-LLNP:T-23"
T0 = pd.Timestamp("2024-03-01T10:00:00Z")


def decide(log, status, side, *, a=CN12, b=RU23, reviewer=None, **kw):
    kw.setdefault("now", T0)
    if status == "rejected":
        kw.setdefault("reason", "different stripes")
    return review_link(log, pair=(a, b), status=status, side=side,
                       reviewer=reviewer or f"rev-{side}", **kw)


def state(log, **kw) -> tuple[str, str | None, str | None]:
    row = current_links(log, **kw).iloc[0]
    return row["status"], row["acceptedBy"], row["awaiting"]


def joined(log) -> bool:
    ji = joint_identities(log)
    return ji.loc[ji["subject"] == CN12, "jointID"].item() == \
        ji.loc[ji["subject"] == RU23, "jointID"].item()


def test_one_sides_acceptance_awaits_the_partner_and_joins_nothing():
    log = decide(empty_links(), "confirmed", "CN")
    assert log["reviewer"].item() == "rev-CN [CN]"
    assert state(log) == ("proposed", "CN", "RU")
    assert current_links(log, status="confirmed").empty
    assert not joined(log)
    # the same side again still awaits the partner
    log = decide(log, "confirmed", "CN", reviewer="second-cn")
    assert state(log) == ("proposed", "CN", "RU") and not joined(log)


def test_both_sides_confirm_in_either_order():
    for first, second in (("CN", "RU"), ("RU", "CN")):
        log = decide(decide(empty_links(), "confirmed", first), "confirmed", second)
        assert state(log) == ("confirmed", "CN RU", None)
        assert joined(log)


def test_rejection_by_either_side_rejects_and_resets_acceptances():
    for rejecting in ("CN", "RU"):
        log = decide(empty_links(), "confirmed", "CN")
        log = decide(log, "rejected", rejecting)
        assert state(log)[0] == "rejected" and not joined(log)
        # an acceptance before the rejection no longer counts
        log = decide(log, "confirmed", "RU", reason="new photos")
        assert state(log) == ("proposed", "RU", "CN")
        log = decide(log, "confirmed", "CN")
        assert state(log) == ("confirmed", "CN RU", None)
    # a rejection after a two-party confirmation splits the identity
    log = decide(log, "rejected", "RU")
    assert state(log)[0] == "rejected" and not joined(log)


def test_reopening_resets_acceptances():
    log = decide(decide(empty_links(), "confirmed", "CN"), "confirmed", "RU")
    log = decide(log, "proposed", "CN", reason="second look")
    log = decide(log, "confirmed", "RU")
    assert state(log) == ("proposed", "RU", "CN")


def test_confirming_a_cross_border_pair_needs_a_side_of_the_pair():
    with pytest.raises(ValueError, match=r"--side CN\|RU"):
        review_link(empty_links(), pair=(CN12, RU23), status="confirmed", reviewer="Anna",
                    now=T0)
    with pytest.raises(ValueError, match="not for KR"):
        decide(empty_links(), "confirmed", "KR")
    with pytest.raises(ValueError, match="two-letter country code"):
        decide(empty_links(), "confirmed", "China")
    with pytest.raises(ValueError, match="already names side RU"):
        decide(empty_links(), "confirmed", "CN", reviewer="Anna [RU]")
    # a tag already in the name is taken as it is
    log = decide(empty_links(), "confirmed", "CN", reviewer="Li [CN]")
    assert log["reviewer"].item() == "Li [CN]"


def test_links_inside_one_country_or_with_samples_need_no_partner():
    log = review_link(empty_links(), pair=(CN12, "S-0042"), status="confirmed",
                      reviewer="lab", now=T0)
    assert current_links(log)["status"].item() == "confirmed"


def test_the_catalogue_column_decides_the_country():
    ind = pd.DataFrame({"individualID": ["A1", "B1"], "catalogue": ["CN-NTLNP", "RU-LLNP"]})
    log = review_link(empty_links(), pair=("A1", "B1"), status="confirmed", reviewer="x",
                      side="CN", individuals=ind, now=T0)
    assert current_links(log, individuals=ind)["awaiting"].item() == "RU"


def test_without_the_rule_one_reviewer_confirms():
    log = review_link(empty_links(), pair=(CN12, RU23), status="confirmed", reviewer="Anna",
                      now=T0, two_party=False)
    assert state(log, two_party=False) == ("confirmed", None, None)
    # and the same log read under the rule awaits both sides (no side was named)
    assert state(log) == ("proposed", None, "CN RU")


def test_history_shows_both_acceptances_and_the_merge_on_the_second():
    log = propose_links(empty_links(), pd.DataFrame({"subjectA": [CN12], "subjectB": [RU23]}),
                        method="photo", now=T0).links
    log = decide(log, "confirmed", "CN")
    log = decide(log, "confirmed", "RU")
    log = decide(log, "rejected", "CN")
    hist = link_history(log, CN12)
    assert list(hist.columns) == list(HISTORY_COLUMNS)
    assert hist[["status", "side", "pairStatus", "effect"]].to_numpy().tolist() == [
        ["proposed", None, "proposed", None],
        ["confirmed", "CN", "awaiting", None],
        ["confirmed", "RU", "confirmed", "merge"],
        ["rejected", "CN", "rejected", "split"],
    ]


def test_matchers_do_not_reopen_a_pair_awaiting_the_partner():
    log = decide(empty_links(), "confirmed", "CN")
    res = propose_links(log, pd.DataFrame({"subjectA": [RU23], "subjectB": [CN12]}),
                        method="photo", now=T0)
    assert res.proposed.empty and res.skipped["skipReason"].tolist() == ["awaiting"]


def test_only_two_party_links_create_conflicts():
    log = decide(empty_links(), "confirmed", "CN")          # CN12 = RU23 awaiting RU
    log = decide(log, "confirmed", "CN", a=CN15)             # CN15 = RU23 awaiting RU
    assert find_conflicts(log).empty                         # nothing joined yet
    log = decide(log, "confirmed", "RU")                     # CN12 = RU23 confirmed
    from amurlink.exceptions import LinkConflictError

    with pytest.raises(LinkConflictError, match="catalogue"):
        decide(log, "confirmed", "RU", a=CN15)


def test_the_study_setting_is_read_and_checked():
    from amurlink.config import StudyConfig
    from amurlink.exceptions import ConfigError

    assert StudyConfig().links.two_party is True
    off = StudyConfig.from_dict({"links": {"two_party": False}})
    assert off.links.two_party is False and StudyConfig.from_dict(off.to_dict()) == off
    with pytest.raises(ConfigError, match="links.two_party.*true or false"):
        StudyConfig.from_dict({"links": {"two_party": "yes"}})
    with pytest.raises(ConfigError, match="links.two_parties"):
        StudyConfig.from_dict({"links": {"two_parties": True}})


# -- the rule against a reference model, on random decision sequences (hypothesis) ---------------
decisions = st.lists(st.tuples(st.sampled_from(["proposed", "confirmed", "rejected"]),
                               st.sampled_from(["CN", "RU", None])), min_size=1, max_size=12)


def expected_states(events: list[tuple[str, str | None]]) -> list[str]:
    """The pair's state after each event, as the rule says it in words."""
    accepted: set[str] = set()
    out = []
    for status, side in events:
        if status != "confirmed":
            accepted.clear()
            out.append(status)
            continue
        if side is not None:
            accepted.add(side)
        out.append("confirmed" if accepted >= {"CN", "RU"} else "awaiting")
    return out


@settings(max_examples=100, deadline=None)
@given(decisions)
def test_the_pairs_state_follows_the_rule_after_every_event(events):
    rows = pd.DataFrame({
        "subjectA": CN12, "subjectB": RU23, "method": "photo", "score": 0.5,
        "status": [s for s, _ in events],
        "reviewer": [f"r [{side}]" if side else "r" for _, side in events],
        "timestamp": T0, "reason": "why", "evidence": pd.NA}, index=range(len(events)))
    log = append_events(check_links(empty_links()), rows)
    states = expected_states(events)
    assert link_history(log, CN12)["pairStatus"].tolist() == states
    row = current_links(log).iloc[0]
    final = states[-1]
    assert row["status"] == ("proposed" if final == "awaiting" else final)
    assert (row["awaiting"] is not None) == (final == "awaiting")
    assert joined(log) == (final == "confirmed")
