"""Uses of the photo store: identify photos, link two catalogues, find duplicates, evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from amurlink.identify.photos.features import (
    Features,
    cv2_module,
    extract_features,
    load_image,
    normalise_side,
)
from amurlink.identify.photos.ranking import DEFAULT_CALIBRATION, Calibration, verify_pair
from amurlink.identify.photos.store import PhotoStore

__all__ = [
    "CANDIDATE_COLUMNS",
    "DUPLICATE_COLUMNS",
    "PROPOSAL_COLUMNS",
    "draw_match_evidence",
    "find_duplicates",
    "identify_photos",
    "link_catalogues",
    "rank_candidates",
    "reciprocal_pairs",
]

#: Columns of :func:`identify_photos`.
CANDIDATE_COLUMNS: tuple[str, ...] = (
    "query", "rank", "individualID", "catalogue", "side", "score", "probability", "lnbnn",
    "bestKey", "isNew",
)
#: Columns of :func:`link_catalogues` (the link store's proposal columns plus details).
PROPOSAL_COLUMNS: tuple[str, ...] = ("subjectA", "subjectB", "method", "score", "evidence")
#: Columns of :func:`find_duplicates`.
DUPLICATE_COLUMNS: tuple[str, ...] = (
    "individualA", "individualB", "side", "score", "probability", "keyA", "keyB",
)


def rank_candidates(scores: pd.DataFrame, /, *, calibration: Calibration = DEFAULT_CALIBRATION,
                    top_k: int = 5) -> pd.DataFrame:
    """Per identity key (individualID, side): best image's inliers, summed-max LNBNN, rank."""
    lab = scores[scores["individualID"].notna()]
    if lab.empty:
        return pd.DataFrame(columns=[c for c in CANDIDATE_COLUMNS if c not in ("query", "isNew")])
    agg = lab.groupby(["individualID", "side"], sort=False).agg(
        score=("inliers", "max"), lnbnn=("lnbnn", "max"), catalogue=("catalogue", "first"))
    best = lab.sort_values(["inliers", "lnbnn"], ascending=False, kind="mergesort") \
        .drop_duplicates(["individualID", "side"]).set_index(["individualID", "side"])["key"]
    agg["bestKey"] = best
    agg = agg.reset_index().sort_values(["score", "lnbnn", "individualID"],
                                        ascending=[False, False, True], kind="mergesort")
    agg = agg.head(int(top_k)).reset_index(drop=True)
    agg["rank"] = np.arange(1, len(agg) + 1)
    agg["probability"] = calibration.probability(agg["score"].to_numpy(float))
    return agg[["rank", "individualID", "catalogue", "side", "score", "probability", "lnbnn",
                "bestKey"]]


def identify_photos(
    store: PhotoStore,
    images: list[str | Path] | list[np.ndarray],
    /,
    *,
    side: str | list[str] = "unknown",
    bboxes: list[Any] | None = None,
    catalogues: list[str] | None = None,
    top_k: int = 5,
    calibration: Calibration = DEFAULT_CALIBRATION,
) -> pd.DataFrame:
    """Ranked candidate individuals for each photo.

    Parameters
    ----------
    store : PhotoStore
        The catalogue (gallery).
    images : list of paths or arrays
        Query photos.
    side : str or list of str
        Flank side of every query (or one per query); ``unknown`` searches every side.
    bboxes : list, optional
        Flank box of every query (Camtrap DP fractions or pixels); default whole image.
    catalogues : list of str, optional
        Catalogues to search; default all in the store.
    top_k : int
        Candidates kept per query.
    calibration : Calibration
        Inliers -> probability, and the new-individual threshold.

    Returns
    -------
    DataFrame
        :data:`CANDIDATE_COLUMNS`: one row per (query, candidate), ``score`` = RANSAC inliers
        of the best gallery image, ``probability`` its calibrated P(same flank), ``isNew``
        (same on every row of a query) when the best probability is below
        ``calibration.new_threshold``. A query with no candidate gets one row with
        ``rank`` 0 and ``isNew`` True.
    """
    sides = [side] * len(images) if isinstance(side, str) else list(side)
    boxes = [None] * len(images) if bboxes is None else list(bboxes)
    out = []
    for i, image in enumerate(images):
        name = str(image) if not isinstance(image, np.ndarray) else f"image-{i}"
        feats = image if isinstance(image, Features) else extract_features(image, boxes[i])
        scores = store.score_images(feats, side=normalise_side(sides[i]), catalogues=catalogues)
        cand = rank_candidates(scores, calibration=calibration, top_k=top_k)
        if cand.empty:
            cand = pd.DataFrame({"rank": [0], "individualID": [None], "catalogue": [None],
                                 "side": [None], "score": [0], "probability": [0.0],
                                 "lnbnn": [0.0], "bestKey": [None]})
        cand.insert(0, "query", name)
        cand["isNew"] = bool(cand["probability"].iloc[0] < calibration.new_threshold)
        out.append(cand)
    return pd.concat(out, ignore_index=True)[list(CANDIDATE_COLUMNS)]


def _cross_scores(store: PhotoStore, source: str, target: str) -> pd.DataFrame:
    """Verified matches in ``target`` for every labelled photo of ``source``.

    Only individuals of the same species are compared (when both photos carry one): a tiger
    flank is never a candidate for a leopard.
    """
    rows = []
    recs = store.records
    src = recs[(recs["catalogue"] == source) & recs["individualID"].notna()]
    species_of = recs.set_index("key")["species"]
    for r in src.itertuples():
        scores = store.score_images(store.features(r.key), side=r.side, catalogues=[target])
        scores = scores[scores["individualID"].notna() & (scores["inliers"] > 0)]
        if r.species is not None and not pd.isna(r.species):
            sp = scores["key"].map(species_of)
            scores = scores[sp.isna() | (sp == r.species)]
        if scores.empty:
            continue
        best = scores.drop_duplicates(["individualID", "side"])
        for b in best.itertuples():
            rows.append((r.individualID, b.individualID, b.side, int(b.inliers), r.key, b.key))
    return pd.DataFrame(rows, columns=["a", "b", "side", "inliers", "keyA", "keyB"])


def individual_scores(store: PhotoStore, catalogue_a: str, catalogue_b: str) -> pd.DataFrame:
    """Scores of (individual, individual, flank side): most RANSAC inliers of any photo pair
    of that side, both query directions; best first."""
    ab = _cross_scores(store, catalogue_a, catalogue_b)
    ba = _cross_scores(store, catalogue_b, catalogue_a).rename(
        columns={"a": "b", "b": "a", "keyA": "keyB", "keyB": "keyA"})
    both = pd.concat([ab, ba], ignore_index=True)
    if both.empty:
        return both
    return both.sort_values(["inliers", "keyA", "keyB"], ascending=[False, True, True],
                            kind="mergesort").drop_duplicates(["a", "b", "side"]) \
        .reset_index(drop=True)


def reciprocal_pairs(pairs: pd.DataFrame, /) -> pd.DataFrame:
    """Reciprocal best matches per flank side, one row per individual pair.

    ``pairs`` has columns ``a``, ``b``, ``side``, ``inliers`` (one row per scored
    (a, b, side), best first). For each side, ``(a, b)`` is kept when ``b`` is the
    best-scoring individual of ``a`` on that side and ``a`` the best of ``b``, with a strict
    margin over both runners-up (a tie for first place links nothing). The identity key is
    (individual, side), so a national ID that covers only one flank (a second ID given to
    the other flank) can still be linked through that flank. Pairs found on both sides keep
    their best side's row.
    """
    if pairs.empty:
        return pairs
    keep = []
    for _, grp in pairs.groupby("side", sort=True):
        grp = grp.sort_values("inliers", ascending=False, kind="mergesort")
        top_a = grp.groupby("a", sort=False)["inliers"].apply(lambda v: list(v[:2]))
        top_b = grp.groupby("b", sort=False)["inliers"].apply(lambda v: list(v[:2]))
        best_b = grp.drop_duplicates("b").set_index("b")["a"]
        for row in grp.drop_duplicates("a").itertuples():
            if best_b.get(row.b) != row.a:
                continue
            ta, tb = top_a[row.a], top_b[row.b]
            if (len(ta) > 1 and ta[1] >= ta[0]) or (len(tb) > 1 and tb[1] >= tb[0]):
                continue  # tie for first place: ambiguous
            keep.append(row.Index)
    out = pairs.loc[keep].sort_values(["inliers", "a", "b"], ascending=[False, True, True],
                                      kind="mergesort")
    return out.drop_duplicates(["a", "b"]).reset_index(drop=True)


def link_catalogues(
    store: PhotoStore,
    catalogue_a: str,
    catalogue_b: str,
    /,
    *,
    calibration: Calibration = DEFAULT_CALIBRATION,
    evidence_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Reciprocal best photo matches between two catalogues, as link proposals.

    Individual ``a`` of one catalogue and ``b`` of the other are proposed when, on one flank
    side, each is the other's best-scoring individual of the same species (score: most RANSAC
    inliers over every photo pair of that side, both query directions; a tie for first place
    proposes nothing, see :func:`reciprocal_pairs`) and the calibrated probability reaches
    ``calibration.link_threshold``.

    Returns
    -------
    DataFrame
        :data:`PROPOSAL_COLUMNS`, ready for :func:`amurlink.identify.links.propose_links`
        (``method="photo"``, ``score`` = calibrated probability). ``evidence`` is a dict: the
        inliers, side, both media and, with ``evidence_dir``, the side-by-side image of the two
        flanks with the inlier matches drawn.
    """
    recip = reciprocal_pairs(individual_scores(store, catalogue_a, catalogue_b))
    if recip.empty:
        return pd.DataFrame(columns=list(PROPOSAL_COLUMNS))
    prob = calibration.probability(recip["inliers"].to_numpy(float))
    keep = prob >= calibration.link_threshold
    recip, prob = recip[keep], prob[keep]
    out = []
    rec = store.records.set_index("key")
    for r, p in zip(recip.itertuples(), prob, strict=True):
        evidence: dict[str, Any] = {
            "matcher": "rootsift-lnbnn-magsac", "inliers": int(r.inliers), "side": r.side,
            "mediaA": _media(rec, r.keyA), "mediaB": _media(rec, r.keyB),
        }
        if evidence_dir is not None:
            path = Path(evidence_dir) / f"{_safe(r.a)}__{_safe(r.b)}.jpg"
            draw_match_evidence(store, r.keyA, r.keyB, path)
            evidence["image"] = str(path)
        out.append({"subjectA": r.a, "subjectB": r.b, "method": "photo",
                    "score": float(round(p, 6)), "evidence": evidence})
    return pd.DataFrame(out, columns=list(PROPOSAL_COLUMNS))


def _media(rec: pd.DataFrame, key: str) -> str:
    media = rec.at[key, "mediaID"]
    return str(media) if media is not None and not pd.isna(media) else str(rec.at[key, "filePath"])


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in str(text))


def find_duplicates(
    store: PhotoStore,
    catalogue: str,
    /,
    *,
    calibration: Calibration = DEFAULT_CALIBRATION,
) -> pd.DataFrame:
    """Pairs of individuals of one catalogue whose photos match: likely duplicate IDs.

    Returns
    -------
    DataFrame
        :data:`DUPLICATE_COLUMNS`, one row per individual pair with a probability at least
        ``calibration.link_threshold``, best first.
    """
    rows = []
    recs = store.records[(store.records["catalogue"] == catalogue)
                         & store.records["individualID"].notna()]
    for r in recs.itertuples():
        same = set(recs.loc[recs["individualID"] == r.individualID, "key"])
        scores = store.score_images(store.features(r.key), side=r.side, catalogues=[catalogue],
                                    exclude=same)
        scores = scores[scores["individualID"].notna() & (scores["inliers"] > 0)]
        for b in scores.drop_duplicates("individualID").itertuples():
            a_id, b_id = sorted([r.individualID, b.individualID])
            ka, kb = (r.key, b.key) if a_id == r.individualID else (b.key, r.key)
            rows.append((a_id, b_id, r.side, int(b.inliers), ka, kb))
    df = pd.DataFrame(rows, columns=["individualA", "individualB", "side", "score", "keyA",
                                     "keyB"])
    if df.empty:
        return pd.DataFrame(columns=list(DUPLICATE_COLUMNS))
    df = df.sort_values("score", ascending=False, kind="mergesort") \
        .drop_duplicates(["individualA", "individualB"])
    df["probability"] = calibration.probability(df["score"].to_numpy(float))
    df = df[df["probability"] >= calibration.link_threshold]
    return df[list(DUPLICATE_COLUMNS)].reset_index(drop=True)


def draw_match_evidence(store: PhotoStore, key_a: str, key_b: str,
                        path: str | Path) -> Path:
    """Write the two flank chips side by side with the RANSAC inlier matches drawn."""
    from amurlink.identify.photos.features import flank_chip

    cv2 = cv2_module()
    rec = store.records.set_index("key")
    chips = []
    for key in (key_a, key_b):
        row = rec.loc[key]
        box = None if pd.isna(row["bboxX"]) else (row["bboxX"], row["bboxY"], row["bboxWidth"],
                                                  row["bboxHeight"])
        frame = None if pd.isna(row["frame"]) else int(row["frame"])
        chip, _ = flank_chip(load_image(row["filePath"], frame=frame), box)
        chips.append(cv2.cvtColor(chip, cv2.COLOR_GRAY2BGR))
    fa, fb = store.features(key_a), store.features(key_b)
    _, inl = verify_pair(fa, fb, store.params)
    h = max(c.shape[0] for c in chips)
    canvas = np.zeros((h, chips[0].shape[1] + chips[1].shape[1], 3), np.uint8)
    canvas[: chips[0].shape[0], : chips[0].shape[1]] = chips[0]
    canvas[: chips[1].shape[0], chips[0].shape[1]:] = chips[1]
    off = chips[0].shape[1]
    rng = np.random.default_rng(0)  # fixed colours, never the global RNG
    for ia, ib in inl:
        colour = tuple(int(v) for v in rng.integers(64, 256, 3))
        pa = (int(fa.xy[ia, 0]), int(fa.xy[ia, 1]))
        pb = (int(fb.xy[ib, 0]) + off, int(fb.xy[ib, 1]))
        cv2.circle(canvas, pa, 4, colour, 1, cv2.LINE_AA)
        cv2.circle(canvas, pb, 4, colour, 1, cv2.LINE_AA)
        cv2.line(canvas, pa, pb, colour, 1, cv2.LINE_AA)
    cv2.putText(canvas, f"{len(inl)} inliers", (10, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.8,
                (0, 255, 255), 2, cv2.LINE_AA)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), canvas, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return path
