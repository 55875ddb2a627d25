"""Private graph helpers of the identity-link log: components, joint IDs and paths."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components

#: Hex digits of the anchor's SHA-256 in a joint ID (``J-`` + 10 hex: 40 bits).
JOINT_ID_DIGITS = 10
#: Separator between national IDs in the ``members`` column.
MEMBER_SEP = " = "


def component_labels(nodes: pd.Series, a: pd.Series, b: pd.Series) -> np.ndarray:
    """Connected-component label of every node (edges ``a[i]``-``b[i]``, all in ``nodes``)."""
    n = len(nodes)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    index = pd.Index(nodes.to_numpy(object))
    ia = index.get_indexer(a.to_numpy(object))
    ib = index.get_indexer(b.to_numpy(object))
    if (ia < 0).any() or (ib < 0).any():  # pragma: no cover - callers add every endpoint
        raise ValueError("edge endpoint missing from nodes")
    graph = coo_matrix((np.ones(len(ia), dtype=np.int8), (ia, ib)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


def joint_id_of(anchor: str, digits: int = JOINT_ID_DIGITS) -> str:
    """``J-`` + the first ``digits`` hex digits of SHA-256 of the anchor ID."""
    return "J-" + hashlib.sha256(anchor.encode("utf-8")).hexdigest()[:digits]


def _join_runs(comp: pd.Series, subject: pd.Series) -> pd.Series:
    """``MEMBER_SEP.join`` of the subjects of each component (rows sorted by component)."""
    c = comp.to_numpy(np.int64)
    if not len(c):
        return pd.Series([], dtype=object, index=pd.Index([], dtype=np.int64, name="_comp"))
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    ends = np.r_[starts[1:], len(c)]
    names = subject.tolist()
    joined = [MEMBER_SEP.join(names[s:e]) for s, e in zip(starts.tolist(), ends.tolist(),
                                                             strict=True)]
    return pd.Series(joined, index=pd.Index(c[starts], name="_comp"), dtype=object)


def assign_joint_ids(subjects: pd.DataFrame, a: pd.Series, b: pd.Series) -> pd.DataFrame:
    """Joint identity of every subject, given confirmed edges ``a``-``b``.

    ``subjects`` has ``subject``, ``subjectType`` and ``catalogue``, one row per subject (every
    edge endpoint included). Returns it with ``jointID``, ``members``, ``individualCount`` and
    ``sampleCount`` added.
    """
    out = subjects.reset_index(drop=True).copy()
    labels = component_labels(out["subject"], a, b)
    out["_comp"] = labels
    out["_sample"] = out["subjectType"].eq("sample")
    ordered = out.sort_values(["_comp", "_sample", "subject"], kind="stable")
    anchors = ordered.groupby("_comp", sort=False)["subject"].first()
    uniq = anchors.to_numpy(object)
    ids = np.array([joint_id_of(s) for s in uniq], dtype=object)
    clash = pd.Series(ids).duplicated(keep=False).to_numpy(bool)
    if clash.any():  # longer IDs for the (astronomically rare) colliding anchors only
        ids[clash] = [joint_id_of(s, 32) for s in uniq[clash]]
    jid = pd.Series(ids, index=anchors.index)
    inds = ordered[~ordered["_sample"]]
    samples = ordered[ordered["_sample"]]
    members = _join_runs(inds["_comp"], inds["subject"])
    sample_members = _join_runs(samples["_comp"], samples["subject"])
    members = members.reindex(anchors.index)
    members = members.where(members.notna(), sample_members.reindex(anchors.index))
    n_ind = inds.groupby("_comp").size().reindex(anchors.index, fill_value=0)
    n_smp = samples.groupby("_comp").size().reindex(anchors.index, fill_value=0)
    out["jointID"] = out["_comp"].map(jid)
    out["members"] = out["_comp"].map(members)
    out["individualCount"] = out["_comp"].map(n_ind).astype("int64")
    out["sampleCount"] = out["_comp"].map(n_smp).astype("int64")
    return out.drop(columns=["_sample"])


def find_path(edges: pd.DataFrame, src: str, dst: str) -> list[tuple[str, str, str]]:
    """Shortest chain of edges (``_a``, ``_b``, ``linkEventID``) from ``src`` to ``dst``.

    Empty when they are not connected (or equal).
    """
    if src == dst or not len(edges):
        return []
    nodes = pd.Index(pd.unique(np.concatenate([edges["_a"].to_numpy(object),
                                               edges["_b"].to_numpy(object)])))
    if src not in nodes or dst not in nodes:
        return []
    ia = nodes.get_indexer(edges["_a"].to_numpy(object))
    ib = nodes.get_indexer(edges["_b"].to_numpy(object))
    n = len(nodes)
    graph = coo_matrix((np.ones(len(ia), dtype=np.int8), (ia, ib)), shape=(n, n)).tocsr()
    graph = graph + graph.T
    order, pred = breadth_first_order(graph, nodes.get_loc(src), directed=True,
                                      return_predecessors=True)
    target = nodes.get_loc(dst)
    if target not in set(order.tolist()):
        return []
    lookup = {(x, y): e for x, y, e in edges[["_a", "_b", "linkEventID"]].itertuples(
        index=False, name=None)}
    path: list[tuple[str, str, str]] = []
    node = target
    while pred[node] >= 0:
        x, y = nodes[pred[node]], nodes[node]
        key = (x, y) if x < y else (y, x)
        path.append((key[0], key[1], lookup[key]))
        node = pred[node]
    return path[::-1]


def connected(edges: pd.DataFrame, x: str, y: str) -> bool:
    """Whether ``x`` and ``y`` are joined by a chain of ``edges`` (``_a``/``_b`` columns)."""
    if x == y:
        return True
    if not len(edges):
        return False
    nodes = pd.Series(pd.unique(np.concatenate([edges["_a"].to_numpy(object),
                                                edges["_b"].to_numpy(object)])), dtype=object)
    if not (nodes == x).any() or not (nodes == y).any():
        return False
    labels = component_labels(nodes, edges["_a"], edges["_b"])
    idx = pd.Index(nodes.to_numpy(object))
    return bool(labels[idx.get_loc(x)] == labels[idx.get_loc(y)])
