"""Identity links between national IDs and samples: an append-only decision log and joint IDs."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import amurlink.io as _io
from amurlink.dataset import Dataset
from amurlink.exceptions import (
    DataError,
    DataQualityWarning,
    LinkConflictError,
    LinkStoreLockedError,
    SchemaError,
)
from amurlink.identify._links_conflicts import ConflictRule, conflicts_between, detections
from amurlink.identify._links_core import (
    LINK_COLUMNS,
    append_events,
    canonical_pair,
    check_links,
    confirmed_edges,
    effective_latest,
    empty_links,
    evidence_json,
    latest,
    pair_countries,
    side_of,
    subject_table,
    utc_now,
    with_keys,
    with_side,
)
from amurlink.identify._links_graph import (
    MEMBER_SEP,
    assign_joint_ids,
    component_labels,
    connected,
    find_path,
)
from amurlink.schema import LINK_METHODS, LINK_STATUSES

__all__ = [
    "ConflictRule",
    "CURRENT_EXTRA_COLUMNS",
    "IDENTITY_COLUMNS",
    "CONFLICT_COLUMNS",
    "HISTORY_COLUMNS",
    "SKIPPED_COLUMNS",
    "LinkStore",
    "ProposalResult",
    "current_links",
    "empty_links",
    "find_conflicts",
    "joint_identities",
    "link_history",
    "propose_links",
    "review_link",
]

logger = logging.getLogger(__name__)

#: Columns of :func:`joint_identities`.
IDENTITY_COLUMNS: tuple[str, ...] = (
    "jointID", "subject", "subjectType", "catalogue", "members", "individualCount", "sampleCount",
)
#: Columns of :func:`find_conflicts`.
CONFLICT_COLUMNS: tuple[str, ...] = ("jointID", "kind", "subjectA", "subjectB", "detail")
#: Columns of :func:`link_history`.
HISTORY_COLUMNS: tuple[str, ...] = (*LINK_COLUMNS, "side", "pairStatus", "previousStatus",
                                    "effect")
#: Columns :func:`current_links` adds to the ``identityLinks`` columns.
CURRENT_EXTRA_COLUMNS: tuple[str, ...] = ("acceptedBy", "awaiting")
#: Columns of :attr:`ProposalResult.skipped`.
SKIPPED_COLUMNS: tuple[str, ...] = (
    "subjectA", "subjectB", "method", "score", "skipReason", "currentStatus", "currentEventID",
    "currentReviewer", "currentReason",
)
_MAX_LISTED = 5


# ==============================================================================================
# Proposing
# ==============================================================================================
@dataclass(frozen=True)
class ProposalResult:
    """What :func:`propose_links` did: the new log, the events it appended and what it skipped.

    Attributes
    ----------
    links : DataFrame
        The whole new log (the input log followed by the appended events).
    proposed : DataFrame
        The appended ``proposed`` events (``identityLinks`` columns).
    skipped : DataFrame
        Proposals not appended, one row each, with :data:`SKIPPED_COLUMNS`. ``skipReason`` is
        ``rejected`` (a reviewer rejected the pair: never re-proposed; reopen it explicitly
        with ``review_link(..., status="proposed")``), ``confirmed`` (already confirmed),
        ``pending`` (already proposed with the same method, score and evidence),
        ``awaiting`` (accepted by one side, awaiting the partner's review) or
        ``duplicate`` (the pair appears earlier in the same batch).
    """

    links: pd.DataFrame
    proposed: pd.DataFrame
    skipped: pd.DataFrame

    @property
    def n_rejected(self) -> int:
        """Number of proposals skipped because a reviewer rejected the pair before."""
        return int((self.skipped["skipReason"] == "rejected").sum())

    def __repr__(self) -> str:
        reasons = self.skipped["skipReason"].value_counts().to_dict()
        return (f"ProposalResult(proposed={len(self.proposed)}, skipped={len(self.skipped)} "
                f"{reasons}, log={len(self.links)} events)")


def _check_proposals(
    proposals: pd.DataFrame, *, method: str | None, by: str | None
) -> pd.DataFrame:
    if not isinstance(proposals, pd.DataFrame):
        raise SchemaError(f"`proposals` must be a DataFrame, got {type(proposals).__name__}")
    missing = [c for c in ("subjectA", "subjectB") if c not in proposals.columns]
    if missing:
        raise SchemaError(f"`proposals` lacks column(s) {missing}; each row needs subjectA, "
                          "subjectB and a method (column or `method=`)")
    p = proposals.reset_index(drop=True)
    n = len(p)
    for col in ("subjectA", "subjectB"):
        null = p[col].isna()
        if null.any():
            raise SchemaError(f"`proposals.{col}` is empty in {int(null.sum())} row(s) (first: "
                              f"row {int(np.flatnonzero(null.to_numpy(bool))[0])})")
    a = p["subjectA"].astype(object).astype(str).str.strip()
    b = p["subjectB"].astype(object).astype(str).str.strip()
    same = (a == b).to_numpy(bool)
    if same.any():
        i = int(np.flatnonzero(same)[0])
        raise SchemaError(f"`proposals` row {i} links {a[i]!r} to itself; drop self-matches "
                          "before proposing")
    if "method" in p.columns:
        meth = p["method"].astype(object)
        if method is not None:
            meth = meth.where(meth.notna(), method)
    elif method is not None:
        meth = pd.Series([method] * n, dtype=object)
    else:
        raise SchemaError("`proposals` has no 'method' column; add one or pass method= "
                          f"(one of {', '.join(LINK_METHODS)})")
    bad = meth.isna() | ~meth.isin(LINK_METHODS)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy(bool))[0])
        raise SchemaError(f"`proposals.method` is {meth[i]!r} in row {i}; expected one of "
                          f"{', '.join(LINK_METHODS)}")
    score = (pd.to_numeric(p["score"], errors="coerce").astype("float64") if "score" in p.columns
             else pd.Series(np.nan, index=p.index))
    if "score" in p.columns:
        unparsed = score.isna() & p["score"].notna()
        if unparsed.any():
            i = int(np.flatnonzero(unparsed.to_numpy(bool))[0])
            raise SchemaError(f"`proposals.score` is not a number in row {i}: {p['score'][i]!r}")
    evidence = ([evidence_json(v, where=f"`proposals.evidence` row {i}")
                 for i, v in enumerate(p["evidence"])] if "evidence" in p.columns
                else [pd.NA] * n)
    reviewer = (p["reviewer"].astype(object) if "reviewer" in p.columns
                else pd.Series([by] * n, dtype=object))
    if by is not None:
        reviewer = reviewer.where(reviewer.notna(), by)
    reason = p["reason"].astype(object) if "reason" in p.columns else pd.Series([pd.NA] * n)
    swap = (a > b).to_numpy(bool)
    return pd.DataFrame({
        "_a": a.where(~swap, b).to_numpy(object),
        "_b": b.where(~swap, a).to_numpy(object),
        "method": meth.to_numpy(object),
        "score": score.to_numpy(float),
        "evidence": pd.Series(evidence, dtype=object).to_numpy(object),
        "reviewer": reviewer.to_numpy(object),
        "reason": reason.to_numpy(object),
    })


def _same_value(x: pd.Series, y: pd.Series) -> np.ndarray:
    both_na = (x.isna() & y.isna()).to_numpy(bool)
    eq = (x.astype(object) == y.astype(object)).fillna(False).to_numpy(bool)
    return both_na | eq


def propose_links(
    links: pd.DataFrame,
    proposals: pd.DataFrame,
    /,
    *,
    method: str | None = None,
    by: str | None = None,
    now: Any = None,
    two_party: bool = True,
) -> ProposalResult:
    """Append ``proposed`` events for candidate pairs, never re-proposing a rejected pair.

    Parameters
    ----------
    links : DataFrame
        The ``identityLinks`` log (may be empty: :func:`empty_links`).
    proposals : DataFrame
        One candidate pair per row: ``subjectA``, ``subjectB`` (national IDs or sample IDs, in
        any order) and optionally ``method``, ``score``, ``evidence`` (dict or JSON object
        string), ``reason`` and ``reviewer`` (who or what proposed it).
    method : {"photo", "dna", "dna-camera", "expert"}, optional
        Method of rows without a ``method`` column or value.
    by : str, optional
        Proposer recorded in ``reviewer`` where the row gives none, e.g. ``"photo-matcher 0.3"``.
    now : datetime-like, optional
        Time of the events (tz-aware); default the clock, floored to the second.
    two_party : bool, default True
        The two-party rule (``[links] two_party``): a cross-border pair accepted by one side
        only is skipped as ``awaiting`` (never reopened by a matcher).

    Returns
    -------
    ProposalResult
        ``links`` (the new log), ``proposed`` (appended events) and ``skipped`` (proposals not
        appended, with the reason and the event that decided it).

    Raises
    ------
    SchemaError
        If the log or the proposals are malformed (missing columns, unknown method, a pair of a
        subject with itself, evidence that is not a JSON object).

    See Also
    --------
    review_link : confirm, reject or reopen a pair.
    LinkStore.propose : the same on a package folder.

    Notes
    -----
    A pair whose latest event is ``rejected`` is skipped and reported in
    ``result.skipped`` (``skipReason == "rejected"``), never appended: a rejection is a human
    decision that only a reviewer reverses (``review_link(..., status="proposed")``). Confirmed
    pairs are skipped too. A pair already pending is appended again only when the method,
    score or evidence changed, so re-running a matcher is idempotent.

    Examples
    --------
    >>> props = pd.DataFrame({"subjectA": ["RU-LLNP:T-23"], "subjectB": ["CN-NTLNP:T012"],
    ...                       "score": [0.93]})
    >>> res = propose_links(empty_links(), props, method="photo",
    ...                     now="2024-03-01T10:00:00Z")
    >>> res.proposed[["subjectA", "subjectB", "status"]].to_numpy().tolist()
    [['CN-NTLNP:T012', 'RU-LLNP:T-23', 'proposed']]
    """
    log = check_links(links)
    props = _check_proposals(proposals, method=method, by=by)
    ts = utc_now(now)
    cur = effective_latest(with_keys(log), two_party=two_party)[
        ["_a", "_b", "status", "method", "score", "evidence", "linkEventID", "reviewer",
         "reason", "awaiting"]]
    m = props.merge(cur, on=["_a", "_b"], how="left", suffixes=("", "_cur"))
    dup = props.duplicated(["_a", "_b"], keep="first").to_numpy(bool)
    status = m["status"].astype(object)
    same = (_same_value(m["method"], m["method_cur"]) & _same_value(m["score"], m["score_cur"])
            & _same_value(m["evidence"], m["evidence_cur"]))
    reason = np.select(
        [dup, (status == "rejected").to_numpy(bool), (status == "confirmed").to_numpy(bool),
         m["awaiting"].notna().to_numpy(bool), (status == "proposed").to_numpy(bool) & same],
        ["duplicate", "rejected", "confirmed", "awaiting", "pending"],
        default="",
    )
    skip = reason != ""
    new = pd.DataFrame({
        "subjectA": m["_a"][~skip].to_numpy(object),
        "subjectB": m["_b"][~skip].to_numpy(object),
        "method": m["method"][~skip].to_numpy(object),
        "score": m["score"][~skip].to_numpy(float),
        "status": "proposed",
        "reviewer": m["reviewer"][~skip].to_numpy(object),
        "timestamp": pd.Series([ts] * int((~skip).sum()), dtype="datetime64[ns, UTC]"),
        "reason": m["reason"][~skip].to_numpy(object),
        "evidence": m["evidence"][~skip].to_numpy(object),
    })
    out = append_events(log, new)
    proposed = out.iloc[len(log):].reset_index(drop=True)
    sk = m[skip]
    from_log = pd.Series(reason[skip] != "duplicate", index=sk.index)
    skipped = pd.DataFrame({
        "subjectA": sk["_a"].to_numpy(object),
        "subjectB": sk["_b"].to_numpy(object),
        "method": sk["method"].to_numpy(object),
        "score": sk["score"].to_numpy(float),
        "skipReason": reason[skip].astype(object),
        "currentStatus": sk["status"].astype(object).where(from_log, None).to_numpy(object),
        "currentEventID": sk["linkEventID"].astype(object).where(from_log, None).to_numpy(object),
        "currentReviewer": sk["reviewer_cur"].astype(object).where(from_log, None)
        .to_numpy(object),
        "currentReason": sk["reason_cur"].astype(object).where(from_log, None).to_numpy(object),
    }, columns=list(SKIPPED_COLUMNS))
    skipped = skipped.astype(object).where(skipped.notna(), None)
    skipped["score"] = skipped["score"].astype("float64")
    n_rej = int((reason == "rejected").sum())
    logger.info("proposed %d link(s); skipped %d (%d rejected before)", len(proposed),
                int(skip.sum()), n_rej)
    return ProposalResult(links=out, proposed=proposed, skipped=skipped)


# ==============================================================================================
# Reviewing
# ==============================================================================================
def _resolve_pair(
    keyed: pd.DataFrame, pair: tuple[str, str] | None, link_event_id: str | None
) -> tuple[str, str]:
    if (pair is None) == (link_event_id is None):
        raise ValueError("name the link either by `pair=(a, b)` or by `link_event_id`, not both "
                         "or neither")
    if link_event_id is not None:
        hit = keyed[keyed["linkEventID"].astype(object) == str(link_event_id)]
        if not len(hit):
            raise ValueError(f"no link event {link_event_id!r} in the log; list the links with "
                             "`amurlink links list` or name the pair by its two IDs")
        return str(hit["_a"].iloc[0]), str(hit["_b"].iloc[0])
    if isinstance(pair, str) or len(pair) != 2:
        raise ValueError(f"`pair` must be two subject IDs, got {pair!r}")
    return canonical_pair(*pair)


def _check_known(subjects: tuple[str, str], individuals: pd.DataFrame | None) -> None:
    if individuals is None or "individualID" not in individuals.columns:
        return
    table = subject_table(pd.Series(list(subjects)), individuals)
    known = set(individuals["individualID"].dropna().astype(object).astype(str))
    unknown = [s for s, t in zip(table["subject"], table["subjectType"], strict=True)
               if t == "individual" and s not in known]
    if unknown:
        raise ValueError(
            f"{', '.join(map(repr, unknown))} is not in the individuals table; check the "
            "spelling (IDs are namespaced, e.g. CN-NTLNP:T012) or add the individual first"
        )


def _describe_path(path: list[tuple[str, str, str]]) -> str:
    return ", ".join(f"{eid} ({x}{MEMBER_SEP}{y})" for x, y, eid in path)


def _species_of(subjects: pd.Series, individuals: pd.DataFrame | None) -> np.ndarray:
    """Catalogue species of each subject (None where unknown, e.g. samples)."""
    if individuals is None or "scientificName" not in individuals.columns:
        return np.full(len(subjects), None, dtype=object)
    lookup = individuals.drop_duplicates("individualID").set_index("individualID")["scientificName"]
    out = subjects.map(lookup).astype(object)
    return out.where(out.notna(), None).to_numpy(object)


def _merge_conflicts(
    keyed: pd.DataFrame,
    a: str,
    b: str,
    *,
    individuals: pd.DataFrame | None,
    observations: pd.DataFrame | None,
    deployments: pd.DataFrame | None,
    rule: ConflictRule,
    two_party: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame, set[str]]:
    """Conflicts that confirming ``a``-``b`` would create, the confirmed edges, ``a``'s side."""
    edges = confirmed_edges(keyed, two_party=two_party, individuals=individuals)
    nodes = pd.Series(pd.unique(np.concatenate([edges["_a"].to_numpy(object),
                                                edges["_b"].to_numpy(object),
                                                np.array([a, b], dtype=object)])), dtype=object)
    labels = pd.Series(component_labels(nodes, edges["_a"], edges["_b"]), index=nodes.to_numpy())
    side_a = nodes[(labels == labels[a]).to_numpy()]
    if labels[a] == labels[b]:
        return pd.DataFrame(columns=["group", "kind", "subjectA", "subjectB", "detail"]), edges, \
            set(side_a)
    side_b = nodes[(labels == labels[b]).to_numpy()]
    subjects = pd.concat([side_a, side_b], ignore_index=True)
    members = subject_table(subjects, individuals)
    members["group"] = 0
    members["side"] = np.where(members["subject"].isin(side_a), "A", "B")
    members["species"] = _species_of(members["subject"], individuals)
    cur = latest(keyed)
    rejected = cur[(cur["status"] == "rejected") & ~((cur["_a"] == a) & (cur["_b"] == b))]
    dets = detections(observations, deployments, subjects)
    return conflicts_between(members, rejected, dets, rule), edges, set(side_a)


def _conflict_message(a: str, b: str, found: pd.DataFrame, edges: pd.DataFrame,
                      side_a: set[str]) -> str:
    lines = [f"cannot confirm {a}{MEMBER_SEP}{b}: the joint identity would hold IDs that cannot "
             f"be one animal ({len(found)} conflict(s)):"]
    for x, y, kind, detail in found[["subjectA", "subjectB", "kind", "detail"]].head(
            _MAX_LISTED).itertuples(index=False, name=None):
        xa, yb = (x, y) if x in side_a else (y, x)
        lines.append(f"  - [{kind}] {x} and {y}: {detail}")
        for member, end in ((xa, a), (yb, b)):
            path = find_path(edges, end, member)
            if path:
                lines.append(f"      {member} is joined to {end} by confirmed link(s) "
                             f"{_describe_path(path)}")
    if len(found) > _MAX_LISTED:
        lines.append(f"  ... and {len(found) - _MAX_LISTED} more")
    lines.append(
        "fix: reject this link, or first reject the confirmed link that wrongly joined one of "
        "the named IDs (`amurlink links reject`); if a detection is wrong, correct the "
        "observations (individualID, camera clock) and try again"
    )
    return "\n".join(lines)


def review_link(
    links: pd.DataFrame,
    /,
    *,
    status: str,
    reviewer: str,
    pair: tuple[str, str] | None = None,
    link_event_id: str | None = None,
    reason: str | None = None,
    method: str | None = None,
    evidence: Any = None,
    individuals: pd.DataFrame | None = None,
    observations: pd.DataFrame | None = None,
    deployments: pd.DataFrame | None = None,
    rule: ConflictRule | None = None,
    now: Any = None,
    side: str | None = None,
    two_party: bool = True,
) -> pd.DataFrame:
    """Append a reviewer's decision on one pair: confirm, reject or reopen it.

    Parameters
    ----------
    links : DataFrame
        The ``identityLinks`` log.
    status : {"confirmed", "rejected", "proposed"}
        The decision; ``proposed`` reopens a decided pair for review.
    reviewer : str
        Who decides (recorded in ``reviewer``).
    pair : tuple of str, optional
        The two subject IDs, in any order. A pair not in the log yet is created (an expert
        link, ``method="expert"`` unless given).
    link_event_id : str, optional
        Any event of the pair, instead of ``pair``.
    reason : str, optional
        Why. Required to reject, and to change a pair that is confirmed or rejected.
    method : {"photo", "dna", "dna-camera", "expert"}, optional
        Method of the event; default the pair's latest method (``expert`` for a new pair).
    evidence : dict or str, optional
        Evidence of the event (JSON object); default the pair's latest evidence.
    individuals : DataFrame, optional
        The ``individuals`` table: catalogue of each ID, and a check that a new pair's
        namespaced IDs exist.
    observations, deployments : DataFrame, optional
        Camtrap DP tables for the space-time check (``deploymentID``, ``eventStart``,
        ``individualID``; ``deploymentID``, ``latitude``, ``longitude``). Without them that
        check is skipped.
    rule : ConflictRule, optional
        Space-time thresholds; default ``ConflictRule()`` (1 h, 10 km/h, 5 km).
    now : datetime-like, optional
        Time of the decision (tz-aware); default the clock, floored to the second.
    side : str, optional
        The country the reviewer decides for (``"CN"``, ``"RU"``), recorded at the end of
        ``reviewer`` (``"Anna [RU]"``). Required to confirm a pair of two countries'
        national IDs under the two-party rule, and then one of those two countries.
    two_party : bool, default True
        The two-party rule (``[links] two_party``): a link between two countries'
        catalogues is confirmed only when a reviewer of each side has accepted it; one
        side's acceptance leaves it ``proposed``, awaiting the partner; a rejection by
        either side rejects it.

    Returns
    -------
    DataFrame
        The new log: ``links`` followed by the new event (its last row).

    Raises
    ------
    LinkConflictError
        If confirming would join two joint identities that hold two IDs of one national
        catalogue, a pair a reviewer rejected, or two IDs seen at the same time too far apart.
        The message names the IDs, the confirmed links that joined them and the fix;
        ``exc.conflicts`` holds the conflicts as a frame.
    ValueError
        If the pair is missing or unknown, the status is not a review status, the reviewer or
        a required reason is missing.
    SchemaError
        If the log is malformed.

    Warns
    -----
    DataQualityWarning
        When a pair that is rejected or reopened stays in one joint identity through other
        confirmed links (the warning names them).

    See Also
    --------
    propose_links, find_conflicts, LinkStore.accept, LinkStore.reject

    Notes
    -----
    Only conflicts between the two identities being joined block a confirmation; conflicts
    already inside one identity are reported by :func:`find_conflicts`. Re-confirming a
    confirmed pair appends the second reviewer's event and checks nothing new. Rejecting a
    confirmed pair splits its joint identity unless other confirmed links still join the two.

    Examples
    --------
    >>> log = review_link(empty_links(), pair=("RU-LLNP:T-23", "CN-NTLNP:T012"),
    ...                   status="confirmed", reviewer="Anna", side="RU",
    ...                   now="2024-03-01T10:00:00Z")
    >>> log[["subjectA", "subjectB", "method", "status", "reviewer"]].to_numpy().tolist()
    [['CN-NTLNP:T012', 'RU-LLNP:T-23', 'expert', 'confirmed', 'Anna [RU]']]
    >>> current_links(log)[["status", "awaiting"]].to_numpy().tolist()
    [['proposed', 'CN']]
    >>> log = review_link(log, pair=("CN-NTLNP:T012", "RU-LLNP:T-23"), status="confirmed",
    ...                   reviewer="Li Wei", side="CN", now="2024-03-02T10:00:00Z")
    >>> current_links(log)[["status", "acceptedBy"]].to_numpy().tolist()
    [['confirmed', 'CN RU']]
    """
    if status not in LINK_STATUSES:
        raise ValueError(f"status must be one of {', '.join(LINK_STATUSES)}, got {status!r}")
    if not isinstance(reviewer, str) or not reviewer.strip():
        raise ValueError("a review needs the reviewer's name (`reviewer=`, --reviewer)")
    reason = reason.strip() if isinstance(reason, str) and reason.strip() else None
    rule = ConflictRule() if rule is None else rule
    log = check_links(links)
    keyed = with_keys(log)
    a, b = _resolve_pair(keyed, pair, link_event_id)
    history = keyed[(keyed["_a"] == a) & (keyed["_b"] == b)]
    before = history.iloc[-1] if len(history) else None
    if before is None:
        _check_known((a, b), individuals)
    if status == "rejected" and reason is None:
        raise ValueError(f"rejecting {a}{MEMBER_SEP}{b} needs a reason (`reason=`, --reason), "
                         "so later reviewers know why")
    if (before is not None and before["status"] in ("confirmed", "rejected")
            and before["status"] != status and reason is None):
        raise ValueError(
            f"{a}{MEMBER_SEP}{b} was {before['status']} by {before['reviewer']} "
            f"({before['linkEventID']}); changing that decision needs a reason"
        )
    if method is not None and method not in LINK_METHODS:
        raise ValueError(f"method must be one of {', '.join(LINK_METHODS)}, got {method!r}")
    recorded = with_side(reviewer, side)
    _check_side(a, b, side_of(pd.Series([recorded])).iloc[0], status=status,
                two_party=two_party, individuals=individuals)
    if status == "confirmed":
        found, edges, side_a = _merge_conflicts(
            keyed, a, b, individuals=individuals, observations=observations,
            deployments=deployments, rule=rule, two_party=two_party)
        if len(found):
            exc = LinkConflictError(_conflict_message(a, b, found, edges, side_a))
            exc.conflicts = found.drop(columns="group").reset_index(drop=True)  # type: ignore[attr-defined]
            raise exc
    new = pd.DataFrame({
        "subjectA": [a],
        "subjectB": [b],
        "method": [method or (before["method"] if before is not None else "expert")],
        "score": [float(before["score"]) if before is not None and pd.notna(before["score"])
                  else np.nan],
        "status": [status],
        "reviewer": [recorded],
        "timestamp": pd.Series([utc_now(now)], dtype="datetime64[ns, UTC]"),
        "reason": [reason if reason is not None else pd.NA],
        "evidence": [evidence_json(evidence) if evidence is not None
                     else (before["evidence"] if before is not None else pd.NA)],
    })
    out = append_events(log, new)
    if status != "confirmed":
        edges = confirmed_edges(with_keys(out), two_party=two_party, individuals=individuals)
        if connected(edges, a, b):
            path = find_path(edges, a, b)
            warnings.warn(
                f"{a} and {b} are still one joint identity after this {status} event, through "
                f"confirmed link(s) {_describe_path(path)}; reject one of those to split them",
                DataQualityWarning,
                stacklevel=2,
            )
    logger.info("%s %s = %s by %s", status, a, b, recorded)
    return out


def _check_side(a: str, b: str, side: str | None, *, status: str, two_party: bool,
                individuals: pd.DataFrame | None) -> None:
    """A decision on a pair of two countries names one of them; confirming requires it."""
    ca, cb = pair_countries(pd.Series([a]), pd.Series([b]), individuals)
    ca, cb = ca.iloc[0], cb.iloc[0]
    if ca is None or cb is None or ca == cb:
        return
    if side is not None and side not in (ca, cb):
        raise ValueError(f"{a}{MEMBER_SEP}{b} joins the catalogues of {ca} and {cb}; a "
                         f"reviewer decides for one of them, not for {side}")
    if two_party and side is None and status == "confirmed":
        raise ValueError(
            f"{a}{MEMBER_SEP}{b} joins the catalogues of {ca} and {cb}: under the two-party "
            f"rule a reviewer of each side accepts it; say which side you review for "
            f"(`side=`, --side {ca}|{cb})")


# ==============================================================================================
# Reading the log
# ==============================================================================================
def current_links(
    links: pd.DataFrame,
    /,
    *,
    status: str | None = None,
    two_party: bool = True,
    individuals: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The current state of every pair: its latest event, under the two-party rule.

    Parameters
    ----------
    links : DataFrame
        The ``identityLinks`` log.
    status : {"proposed", "confirmed", "rejected"}, optional
        Keep only pairs in this state.
    two_party : bool, default True
        A pair of two countries' national IDs is ``confirmed`` only when a reviewer of each
        side accepted it since its last rejection or reopening; until then it shows as
        ``proposed`` with ``awaiting`` naming the partner still to review.
    individuals : DataFrame, optional
        The ``individuals`` table (its ``catalogue`` column tells each ID's country; else the
        ID's namespace does).

    Returns
    -------
    DataFrame
        ``identityLinks`` columns, then ``acceptedBy`` (the sides whose acceptance is current,
        e.g. ``"CN RU"``) and ``awaiting`` (the side still to accept, None when none), one row
        per pair, ``subjectA`` < ``subjectB``, sorted by the pair. The "latest" event is the
        last in log order (the log is append-only; timestamps are recorded, not used for
        ordering).

    Examples
    --------
    >>> log = empty_links()
    >>> for side in ("CN", "RU"):
    ...     log = review_link(log, pair=("RU-LLNP:T-23", "CN-NTLNP:T012"), status="confirmed",
    ...                       reviewer="Anna", side=side, now="2024-03-01T10:00:00Z")
    >>> current_links(log, status="confirmed")["subjectB"].tolist()
    ['RU-LLNP:T-23']
    """
    if status is not None and status not in LINK_STATUSES:
        raise ValueError(f"status must be one of {', '.join(LINK_STATUSES)}, got {status!r}")
    keyed = with_keys(check_links(links))
    cur = effective_latest(keyed, two_party=two_party, individuals=individuals)
    if status is not None:
        cur = cur[cur["status"] == status]
    cur = cur.sort_values(["_a", "_b"], kind="stable")
    out = cur.assign(subjectA=cur["_a"], subjectB=cur["_b"])[
        [*LINK_COLUMNS, *CURRENT_EXTRA_COLUMNS]]
    return out.astype({"subjectA": keyed["subjectA"].dtype, "subjectB": keyed["subjectB"].dtype}
                      ).reset_index(drop=True)


def _subjects(keyed: pd.DataFrame, individuals: pd.DataFrame | None) -> pd.Series:
    parts = [keyed["_a"], keyed["_b"]]
    if individuals is not None and "individualID" in individuals.columns:
        parts.append(individuals["individualID"].dropna().astype(object).astype(str))
    return pd.concat(parts, ignore_index=True).astype(object)


def joint_identities(
    links: pd.DataFrame, /, *, individuals: pd.DataFrame | None = None,
    two_party: bool = True,
) -> pd.DataFrame:
    """Every subject with its joint identity: the connected component of confirmed links.

    Parameters
    ----------
    links : DataFrame
        The ``identityLinks`` log.
    individuals : DataFrame, optional
        The ``individuals`` table: its IDs appear as singletons when unlinked, and its
        ``catalogue`` column names each ID's catalogue.
    two_party : bool, default True
        Only links confirmed under the two-party rule join identities (see
        :func:`current_links`).

    Returns
    -------
    DataFrame
        :data:`IDENTITY_COLUMNS`, one row per subject (every individual, and every subject of
        any link): ``jointID``; ``subject``; ``subjectType`` (``individual`` or ``sample``);
        ``catalogue`` (None for samples); ``members``, the identity's national IDs joined by
        " = " (its sample IDs when it has no national ID); ``individualCount`` and
        ``sampleCount``. Sorted by ``members``, then individuals before samples, then subject.

    See Also
    --------
    link_history, find_conflicts

    Notes
    -----
    The joint ID is ``J-`` followed by the first 10 hex digits of the SHA-256 of the
    identity's *anchor*: its smallest national ID (in code-point order), or its smallest
    sample ID if it holds no national ID. So the joint IDs are a pure function of the set of
    confirmed pairs (row order and unrelated links change nothing), a singleton keeps its
    ID when samples join it, a merge keeps the ID of one of the two identities, and after a
    split the part holding the anchor keeps the ID while the other part gets back the ID
    of its own anchor. A subject is an individual when the ``individuals`` table lists it or
    its ID is namespaced (``CN-NTLNP:T012``); otherwise it is a sample.

    Examples
    --------
    >>> log = empty_links()
    >>> for side in ("CN", "RU"):
    ...     log = review_link(log, pair=("RU-LLNP:T-23", "CN-NTLNP:T012"), status="confirmed",
    ...                       reviewer="Anna", side=side, now="2024-03-01T10:00:00Z")
    >>> ji = joint_identities(log)
    >>> ji["members"].unique().tolist()
    ['CN-NTLNP:T012 = RU-LLNP:T-23']
    >>> ji["jointID"].nunique()
    1
    """
    keyed = with_keys(check_links(links))
    subjects = subject_table(_subjects(keyed, individuals), individuals)
    edges = confirmed_edges(keyed, two_party=two_party, individuals=individuals)
    out = assign_joint_ids(subjects, edges["_a"], edges["_b"])
    out = out.sort_values(["members", "subjectType", "subject"], kind="stable")
    out = out[list(IDENTITY_COLUMNS)].reset_index(drop=True)
    return out.astype({c: object for c in IDENTITY_COLUMNS if not c.endswith("Count")})


def link_history(
    links: pd.DataFrame, subject: str, /, *, individuals: pd.DataFrame | None = None,
    two_party: bool = True,
) -> pd.DataFrame:
    """Every event about a subject (or about any member of a joint identity), in log order.

    Parameters
    ----------
    links : DataFrame
        The ``identityLinks`` log.
    subject : str
        A national ID, a sample ID or a joint ID (``J-...``: the events of all its current
        members).
    individuals : DataFrame, optional
        The ``individuals`` table (to accept an unlinked individual, with an empty history).
    two_party : bool, default True
        The two-party rule decides ``pairStatus`` and the merges (see :func:`current_links`).

    Returns
    -------
    DataFrame
        :data:`HISTORY_COLUMNS`: the ``identityLinks`` columns (``subjectA`` < ``subjectB``),
        ``side`` (the country the reviewer decided for, None when not named),
        ``pairStatus`` (the pair's effective status after the event: ``proposed``,
        ``awaiting`` the partner, ``confirmed`` or ``rejected``), ``previousStatus`` (the
        pair's recorded status before the event, None for its first) and ``effect``:
        ``merge`` when the event joined two joint identities, ``split`` when it separated
        them, None otherwise.

    Raises
    ------
    ValueError
        If no link mentions ``subject`` and it is neither an individual nor a joint ID.
    """
    keyed = with_keys(check_links(links))
    subject = str(subject).strip()
    members = {subject}
    if subject not in set(keyed["_a"]) | set(keyed["_b"]):
        ids = joint_identities(links, individuals=individuals, two_party=two_party)
        hit = ids[ids["jointID"] == subject]
        if len(hit):
            members = set(hit["subject"])
        elif not (ids["subject"] == subject).any():
            raise ValueError(
                f"no link mentions {subject!r} and it is not a joint ID; check the spelling "
                "(national IDs are namespaced, e.g. CN-NTLNP:T012)"
            )
    rel = keyed[keyed["_a"].isin(members) | keyed["_b"].isin(members)].copy()
    prev = keyed.groupby(["_a", "_b"], sort=False)["status"].shift(1)
    prev = prev.loc[rel.index].astype(object)
    rel["previousStatus"] = prev.where(prev.notna(), None)
    rel["side"] = side_of(rel["reviewer"])
    pair_status = _pair_statuses(rel, two_party=two_party, individuals=individuals)

    def edges(upto: int) -> pd.DataFrame:
        return confirmed_edges(keyed.iloc[:upto], two_party=two_party, individuals=individuals)

    effects: list[Any] = []
    last: dict[tuple[str, str], str] = {}
    for pos, a, b, st in zip(rel["_pos"], rel["_a"], rel["_b"], pair_status, strict=True):
        was = last.get((a, b)) == "confirmed"
        now_c = st == "confirmed"
        last[(a, b)] = st
        effect = None
        if now_c and not was and not connected(edges(pos), a, b):
            effect = "merge"
        elif was and not now_c and not connected(edges(pos + 1), a, b):
            effect = "split"
        effects.append(effect)
    rel["pairStatus"] = pd.Series(pair_status, index=rel.index, dtype=object)
    rel["effect"] = pd.Series(effects, index=rel.index, dtype=object)
    rel = rel.assign(subjectA=rel["_a"], subjectB=rel["_b"])
    return rel[list(HISTORY_COLUMNS)].reset_index(drop=True)


def _pair_statuses(rel: pd.DataFrame, *, two_party: bool,
                   individuals: pd.DataFrame | None) -> list[str]:
    """Each event's pair status after it: proposed, awaiting, confirmed or rejected."""
    ca, cb = pair_countries(rel["_a"], rel["_b"], individuals)
    out: list[str] = []
    accepted: dict[tuple[str, str], set[str]] = {}
    for a, b, st, side, x, y in zip(rel["_a"], rel["_b"], rel["status"].astype(object),
                                    rel["side"], ca, cb, strict=True):
        acc = accepted.setdefault((a, b), set())
        if st != "confirmed":
            acc.clear()
            out.append(str(st))
            continue
        if side is not None:
            acc.add(side)
        cross = x is not None and y is not None and x != y
        out.append("awaiting" if two_party and cross and not {x, y} <= acc else "confirmed")
    return out


def find_conflicts(
    links: pd.DataFrame,
    /,
    *,
    individuals: pd.DataFrame | None = None,
    observations: pd.DataFrame | None = None,
    deployments: pd.DataFrame | None = None,
    rule: ConflictRule | None = None,
    two_party: bool = True,
) -> pd.DataFrame:
    """Conflicts inside the current joint identities (an audit of the whole log).

    Parameters
    ----------
    links : DataFrame
        The ``identityLinks`` log.
    individuals : DataFrame, optional
        The ``individuals`` table (catalogue of each ID).
    observations, deployments : DataFrame, optional
        For the space-time check; skipped without them.
    rule : ConflictRule, optional
        Space-time thresholds; default ``ConflictRule()``.
    two_party : bool, default True
        Identities are joined by two-party confirmed links only (see :func:`current_links`).

    Returns
    -------
    DataFrame
        :data:`CONFLICT_COLUMNS`, one row per conflicting pair of subjects in one joint
        identity: ``kind`` is ``catalogue`` (two IDs of one national catalogue), ``rejected``
        (a pair a reviewer rejected) or ``spacetime`` (seen within ``rule.window`` farther
        apart than ``rule.max_speed_kmh * dt + rule.tolerance_km``); ``detail`` explains it.

    See Also
    --------
    review_link : blocks confirmations that would create such conflicts.
    ConflictRule
    """
    rule = ConflictRule() if rule is None else rule
    keyed = with_keys(check_links(links))
    ids = joint_identities(links, individuals=individuals, two_party=two_party)
    multi = ids[(ids["individualCount"] + ids["sampleCount"]) > 1]
    if not len(multi):
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in CONFLICT_COLUMNS})
    codes, uniques = pd.factorize(multi["jointID"])
    members = pd.DataFrame({
        "subject": multi["subject"].to_numpy(object),
        "catalogue": multi["catalogue"].to_numpy(object),
        "group": codes.astype(np.int64),
        "side": multi["subject"].to_numpy(object),
    })
    members["species"] = _species_of(members["subject"], individuals)
    cur = latest(keyed)
    dets = detections(observations, deployments, members["subject"])
    found = conflicts_between(members, cur[cur["status"] == "rejected"], dets, rule)
    found.insert(0, "jointID", np.asarray(uniques, dtype=object)[found["group"].to_numpy(int)])
    return found.drop(columns="group").reset_index(drop=True)[list(CONFLICT_COLUMNS)]


# ==============================================================================================
# The store on a package folder
# ==============================================================================================
class LinkStore:
    """The identity-link log of a Camtrap DP package folder, reviewed safely by several people.

    Every read goes to disk; every change takes a lock file, re-reads the log, appends the
    new events and rewrites the ``identityLinks`` table atomically (written aside, then moved
    into place), so a failed write leaves the old table intact and two reviewers never
    overwrite each other's events.

    Parameters
    ----------
    path : path_like
        Package folder (holding ``datapackage.json``), e.g. the joint package JOINT_DIR.
    rule : ConflictRule, optional
        Space-time thresholds of conflict checks; default ``ConflictRule()``.
    lock_timeout_s : float, optional
        Seconds to wait for another reviewer's lock before giving up, default 10.
    two_party : bool, default True
        The study's ``[links] two_party``: a link between two countries' catalogues is
        confirmed only when a reviewer of each side has accepted it (decisions name their
        ``side``).

    Raises
    ------
    DataError
        If ``path`` is not a package folder.

    See Also
    --------
    propose_links, review_link, joint_identities, link_history, find_conflicts

    Notes
    -----
    The package is read with validation (``read_camtrap_dp(strict=True)``): a log that does
    not validate is never rewritten, so no event can be lost by reading it lossily.
    The lock is the file ``.identityLinks.lock`` in the package folder; if a crashed session
    left it behind, delete it by hand.
    """

    LOCK_NAME = ".identityLinks.lock"

    def __init__(
        self,
        path: str | os.PathLike[str],
        /,
        *,
        rule: ConflictRule | None = None,
        lock_timeout_s: float = 10.0,
        two_party: bool = True,
    ) -> None:
        self._path = Path(path)
        if not (self._path / "datapackage.json").is_file():
            raise DataError(f"{self._path} is not a package folder (no datapackage.json); "
                            "point at the joint package folder, e.g. the output of harmonise")
        self.rule = ConflictRule() if rule is None else rule
        self.lock_timeout_s = float(lock_timeout_s)
        self.two_party = bool(two_party)

    @property
    def path(self) -> Path:
        """The package folder."""
        return self._path

    def __repr__(self) -> str:
        return f"LinkStore({str(self._path)!r})"

    # -- reading -----------------------------------------------------------------------------
    def read(self) -> Dataset:
        """The package as it is on disk now."""
        return _io.read_camtrap_dp(self._path)

    @staticmethod
    def _links_of(dataset: Dataset) -> pd.DataFrame:
        links = dataset.get("identityLinks")
        return empty_links() if links is None else check_links(links, name="identityLinks")

    @property
    def links(self) -> pd.DataFrame:
        """The whole ``identityLinks`` log (empty when the package has none)."""
        return self._links_of(self.read())

    def current(self, *, status: str | None = None) -> pd.DataFrame:
        """Latest event of every pair; see :func:`current_links`."""
        ds = self.read()
        return current_links(self._links_of(ds), status=status, two_party=self.two_party,
                             individuals=ds.get("individuals"))

    def identities(self) -> pd.DataFrame:
        """Joint identities of every subject; see :func:`joint_identities`."""
        ds = self.read()
        return joint_identities(self._links_of(ds), individuals=ds.get("individuals"),
                                two_party=self.two_party)

    def history(self, subject: str) -> pd.DataFrame:
        """Events about a subject or joint ID; see :func:`link_history`."""
        ds = self.read()
        return link_history(self._links_of(ds), subject, individuals=ds.get("individuals"),
                            two_party=self.two_party)

    def conflicts(self) -> pd.DataFrame:
        """Conflicts inside the current joint identities; see :func:`find_conflicts`."""
        ds = self.read()
        return find_conflicts(self._links_of(ds), individuals=ds.get("individuals"),
                              observations=ds.observations, deployments=ds.deployments,
                              rule=self.rule, two_party=self.two_party)

    # -- changing ----------------------------------------------------------------------------
    def propose(
        self,
        proposals: pd.DataFrame,
        /,
        *,
        method: str | None = None,
        by: str | None = None,
        now: Any = None,
    ) -> ProposalResult:
        """Append proposals (rejected pairs are skipped); see :func:`propose_links`."""
        result: list[ProposalResult] = []

        def change(ds: Dataset, log: pd.DataFrame) -> pd.DataFrame:
            result.append(propose_links(log, proposals, method=method, by=by, now=now,
                                        two_party=self.two_party))
            return result[0].links

        self._change(change)
        return result[0]

    def review(
        self,
        *,
        status: str,
        reviewer: str,
        pair: tuple[str, str] | None = None,
        link_event_id: str | None = None,
        reason: str | None = None,
        method: str | None = None,
        evidence: Any = None,
        now: Any = None,
        side: str | None = None,
    ) -> pd.DataFrame:
        """Record a decision on one pair; see :func:`review_link`.

        Returns
        -------
        DataFrame
            The appended event (one row, ``identityLinks`` columns).
        """

        def change(ds: Dataset, log: pd.DataFrame) -> pd.DataFrame:
            return review_link(
                log, status=status, reviewer=reviewer, pair=pair, link_event_id=link_event_id,
                reason=reason, method=method, evidence=evidence,
                individuals=ds.get("individuals"), observations=ds.observations,
                deployments=ds.deployments, rule=self.rule, now=now, side=side,
                two_party=self.two_party,
            )

        new = self._change(change)
        return new.iloc[[-1]].reset_index(drop=True)

    def accept(
        self,
        a: str | None = None,
        b: str | None = None,
        /,
        *,
        reviewer: str,
        link_event_id: str | None = None,
        reason: str | None = None,
        now: Any = None,
        side: str | None = None,
    ) -> pd.DataFrame:
        """Accept the pair ``a``-``b`` (or the pair of ``link_event_id``) for ``side``.

        Under the two-party rule a pair of two countries' IDs is confirmed once a reviewer
        of each side has accepted it; the first acceptance leaves it awaiting the partner.

        Raises
        ------
        LinkConflictError
            If the joined identity would hold IDs that cannot be one animal.
        """
        return self.review(status="confirmed", reviewer=reviewer, pair=_pair(a, b),
                           link_event_id=link_event_id, reason=reason, now=now, side=side)

    def reject(
        self,
        a: str | None = None,
        b: str | None = None,
        /,
        *,
        reviewer: str,
        reason: str,
        link_event_id: str | None = None,
        now: Any = None,
        side: str | None = None,
    ) -> pd.DataFrame:
        """Reject the pair ``a``-``b`` (or the pair of ``link_event_id``), with a reason.

        Rejecting a confirmed pair splits its joint identity; the rejected pair is never
        proposed again silently.
        """
        return self.review(status="rejected", reviewer=reviewer, pair=_pair(a, b),
                           link_event_id=link_event_id, reason=reason, now=now, side=side)

    def _change(self, change: Any) -> pd.DataFrame:
        with self._locked():
            ds = self.read()
            old = self._links_of(ds)
            new = change(ds, old)
            _check_appended(old, new)
            if len(new) > len(old):
                _io.write_table(self._path, "identityLinks", new)
            return new

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        lock = self._path / self.LOCK_NAME
        deadline = time.monotonic() + self.lock_timeout_s
        while True:
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                break
            except FileExistsError:
                if time.monotonic() >= deadline:
                    raise LinkStoreLockedError(_busy_message(lock, self.lock_timeout_s)) from None
                time.sleep(0.05)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"pid": os.getpid(), "host": socket.gethostname(),
                           "since": pd.Timestamp.now(tz="UTC").isoformat()}, fh)
            yield
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(lock)


def _pair(a: str | None, b: str | None) -> tuple[str, str] | None:
    if a is None and b is None:
        return None
    if a is None or b is None:
        raise ValueError("name a link by both subject IDs, or by link_event_id")
    return (a, b)


def _busy_message(lock: Path, timeout_s: float) -> str:
    holder = ""
    with contextlib.suppress(OSError, ValueError):
        info = json.loads(lock.read_text(encoding="utf-8"))
        holder = f" by process {info.get('pid')} on {info.get('host')} since {info.get('since')}"
    return (f"the identity links of {lock.parent} are locked{holder} (waited {timeout_s:g} s); "
            "another review is being saved: try again in a moment. If no one else is "
            f"reviewing (a crashed session), delete {lock}")


def _check_appended(old: pd.DataFrame, new: pd.DataFrame) -> None:
    """Refuse to write anything but ``old`` followed by new events."""
    ok = len(new) >= len(old) and new["linkEventID"].iloc[:len(old)].astype(object).tolist() \
        == old["linkEventID"].astype(object).tolist()
    if not ok:  # pragma: no cover - guards against future bugs
        raise RuntimeError("refusing to write an identity-link log that drops or reorders events")
