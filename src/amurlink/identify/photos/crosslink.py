"""Automatic linking of a simulated study's two national catalogues, compared with the
expert crosswalk and with the truth (the demo's photo-linking stage).

Files read from a study folder written by ``amurlink simulate`` (``write_study``):

* ``truth/photos.csv``: one row per rendered flank photo. Only its *observed* columns are
  read: ``filePath`` (relative to the study folder: ``cn/media/...``, ``ru/media/...``),
  ``catalogue``, ``individualID`` (namespaced national ID), ``species``, ``side`` and the
  box ``bboxX..bboxHeight``. The Russian national tables (``ru/records.csv``) carry no flank
  box or side, so this table supplies them for both countries. The simulated animal
  (``trueID``) and the drawn distortions are never read by the linking.
* ``crosswalk.csv``: the expert crosswalk, ``cn_id, ru_id, method, reviewer, date`` (the
  simulator drops a share of the true pairs and adds a few wrong ones;
  ``truth/crosswalk_checked.csv`` has the same rows with a ``correct`` column).
* ``truth/links.csv`` (``animalID, country, catalogue, nationalID, individualID, kind``)
  and ``truth/animals.csv`` (``animalID, scientificName``): the true pairs are every
  (Chinese ID, Russian ID) pair of one animal, an animal with a second national ID (one per
  flank, or after a missed match) having several.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from amurlink.identify.photos.features import Features, extract_features, load_image
from amurlink.identify.photos.matching import reciprocal_pairs
from amurlink.identify.photos.ranking import (
    Calibration,
    DescriptorIndex,
    IndexParams,
    lnbnn_scores,
    single_threaded,
    verify_pair,
)

__all__ = [
    "DEMO_CALIBRATION",
    "DEMO_LONG_SIDE",
    "DEMO_MAX_KEYPOINTS",
    "DEMO_PARAMS",
    "LINK_COLUMNS",
    "COMPARISON_COLUMNS",
    "SUMMARY_COLUMNS",
    "compare_links",
    "link_simulated_catalogues",
    "read_simulated_crosswalk",
    "read_simulated_truth_links",
    "summarise_link_comparison",
    "tune_demo_calibration",
]

#: Columns of :func:`link_simulated_catalogues`.
LINK_COLUMNS: tuple[str, ...] = ("scientificName", "cn_individualID", "ru_individualID",
                                 "score")
#: Columns of :func:`compare_links`.
COMPARISON_COLUMNS: tuple[str, ...] = (
    "scientificName", "cn_individualID", "ru_individualID", "score", "in_photo",
    "in_crosswalk", "in_truth", "outcome",
)
#: Columns of :func:`summarise_link_comparison` (indexed by ``scientificName``).
SUMMARY_COLUMNS: tuple[str, ...] = (
    "agreements", "misses", "false_proposals", "photo_precision_truth", "photo_recall_truth",
    "crosswalk_precision_truth", "crosswalk_recall_truth",
)

#: Keypoint cap of the demo's fast linking (the store and the accuracy study use
#: :data:`~amurlink.identify.photos.features.MAX_KEYPOINTS`).
DEMO_MAX_KEYPOINTS = 100
#: Long side of the demo's flank chips, pixels (the store uses 640).
DEMO_LONG_SIDE = 288
#: Ranking parameters of the demo's linking: exact search (``IndexFlatL2``: the groups are
#: small), LNBNN shortlist of 5 photos per query, RANSAC threshold scaled to the 288 px chip
#: (8 px at 640).
DEMO_PARAMS = IndexParams(shortlist=5, ransac_px=3.6)
#: Inliers -> P(same animal) of the demo's settings, fitted by :func:`tune_demo_calibration`
#: on ``neaspec`` seed 1 (P = 0.5 at about 6.8 inliers; the best wrong pair of seed 1 had 7
#: inliers, so links need P >= 0.6057, i.e. 8 inliers); figures reported on seed 2
#: (docs/photos.md).
DEMO_CALIBRATION = Calibration(a=-6.362, b=3.091, link_threshold=0.6057)

_SPECIES = {"tiger": "Panthera tigris", "leopard": "Panthera pardus"}


def _scientific(species: Any) -> str:
    text = "" if species is None or (isinstance(species, float) and math.isnan(species)) \
        else str(species)
    return _SPECIES.get(text.strip().lower(), text)


def _catalogue_photos(sim_dir: Path, photos_per_flank: int) -> pd.DataFrame:
    path = sim_dir / "truth" / "photos.csv"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: link_simulated_catalogues needs a study folder written by "
            "`amurlink simulate` (or the demo) with its flank photos; simulate a scenario "
            "that renders photos (docs/simulator.md section 7)")
    usecols = ["filePath", "catalogue", "individualID", "species", "side", "bboxX", "bboxY",
               "bboxWidth", "bboxHeight"]
    photos = pd.read_csv(path)
    missing = [c for c in usecols if c not in photos.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; expected {usecols} "
                         "(write the study again with the current `amurlink simulate`)")
    photos = photos[usecols]
    photos = photos[photos["individualID"].notna()].copy()
    photos["country"] = photos["catalogue"].str.upper().str[:2]
    bad = ~photos["country"].isin(["CN", "RU"])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise ValueError(f"{path}, row {row}, field catalogue: "
                         f"{photos['catalogue'].iloc[row - 2]!r}; expected a CN-* or RU-* "
                         "catalogue")
    photos["scientificName"] = photos["species"].map(_scientific)
    # Largest flank box first: the most pixels on the pattern.
    photos["area"] = photos["bboxWidth"].fillna(1.0) * photos["bboxHeight"].fillna(1.0)
    photos = photos.sort_values(["area", "filePath"], ascending=[False, True],
                                kind="mergesort")
    photos = photos.groupby(["catalogue", "individualID", "side"], sort=False) \
        .head(int(photos_per_flank))
    photos["absPath"] = [str(sim_dir / p) for p in photos["filePath"]]
    return photos.sort_values(["catalogue", "individualID", "side", "filePath"]) \
        .reset_index(drop=True)


def _group_scores(query: list[Features], gallery: list[Features], params: IndexParams,
                  verified: dict[tuple[int, int], int], flip: bool) -> None:
    """LNBNN shortlist of ``gallery`` for every query photo, RANSAC-verified into
    ``verified[(cn_pos, ru_pos)]`` (each pair verified once). All query descriptors go to
    faiss in one search call."""
    index = DescriptorIndex.build(gallery, [str(i) for i in range(len(gallery))], params,
                                  template=_flat())
    sizes = [len(f) for f in query]
    if not sum(sizes):
        return
    dist, img = index.search(np.concatenate([f.descriptors for f in query]), params.knn + 1)
    ends = np.cumsum(sizes)
    for qi, feats in enumerate(query):
        rows = slice(ends[qi] - sizes[qi], ends[qi])
        lnbnn = lnbnn_scores(dist[rows], img[rows], len(gallery), params.knn)
        for gi in np.argsort(-lnbnn, kind="stable")[: params.shortlist]:
            if lnbnn[gi] <= 0:
                break
            key = (int(gi), qi) if flip else (qi, int(gi))
            if key not in verified:
                a, b = (gallery[gi], feats) if flip else (feats, gallery[gi])
                verified[key] = verify_pair(a, b, params)[0]


def _flat() -> Any:
    from amurlink.identify.photos.ranking import faiss_module

    return faiss_module().IndexFlatL2(128)


def link_simulated_catalogues(
    sim_dir: str | Path,
    /,
    *,
    max_keypoints: int = DEMO_MAX_KEYPOINTS,
    long_side: int = DEMO_LONG_SIDE,
    photos_per_flank: int = 1,
    params: IndexParams = DEMO_PARAMS,
    calibration: Calibration = DEMO_CALIBRATION,
) -> pd.DataFrame:
    """Propose cross-border links between the two national catalogues of a simulated study.

    A fast form of :func:`~amurlink.identify.photos.link_catalogues` for the demo: nothing is
    written (features stay in memory), only ``photos_per_flank`` photo(s) per (national ID,
    flank side) are used (the largest flank box), chips are ``long_side`` pixels with at most
    ``max_keypoints`` RootSIFT keypoints, and only photos of the same species and side are
    compared (exact faiss search, LNBNN shortlist, RANSAC). A pair of IDs is proposed when,
    on one flank side, each is the other's best match with a strict margin (see
    :func:`~amurlink.identify.photos.matching.reciprocal_pairs`) and the calibrated
    probability reaches ``calibration.link_threshold``. OpenCV, faiss and BLAS run on one
    thread (:func:`~amurlink.identify.photos.ranking.single_threaded`).

    Parameters
    ----------
    sim_dir : path_like
        Study folder written by ``amurlink simulate`` or the demo (module docstring).
    max_keypoints, long_side, photos_per_flank, params, calibration
        Speed and decision settings (defaults: :data:`DEMO_MAX_KEYPOINTS`,
        :data:`DEMO_LONG_SIDE`, 1, :data:`DEMO_PARAMS`, :data:`DEMO_CALIBRATION`).

    Returns
    -------
    DataFrame
        :data:`LINK_COLUMNS`, one row per proposed link: ``scientificName``,
        ``cn_individualID``, ``ru_individualID`` (namespaced national IDs, as in
        ``crosswalk.csv``), ``score`` = calibrated P(same animal) of the best photo pair;
        best first.

    Raises
    ------
    FileNotFoundError
        If the folder has no ``truth/photos.csv``, or a photo file is missing.
    """
    sim = Path(sim_dir)
    photos = _catalogue_photos(sim, photos_per_flank)
    with single_threaded():
        return _link_photos(photos, sim, max_keypoints=max_keypoints, long_side=long_side,
                            params=params, calibration=calibration)


def _pair_scores(photos: pd.DataFrame, sim: Path, *, max_keypoints: int, long_side: int,
                 params: IndexParams) -> pd.DataFrame:
    """RANSAC inliers of every shortlisted (CN ID, RU ID, species|side) photo pair."""
    feats: list[Features] = []
    for r in photos.itertuples():
        if not Path(r.absPath).is_file():
            raise FileNotFoundError(f"{r.absPath}: photo of {r.individualID} listed in "
                                    f"{sim / 'truth' / 'photos.csv'} is missing")
        box = None if pd.isna(r.bboxX) else (r.bboxX, r.bboxY, r.bboxWidth, r.bboxHeight)
        feats.append(extract_features(load_image(r.absPath), box,
                                      max_keypoints=int(max_keypoints),
                                      long_side=int(long_side)))
    rows = []
    for (sp, side), grp in photos.groupby(["scientificName", "side"], sort=True):
        cn = grp[grp["country"] == "CN"]
        ru = grp[grp["country"] == "RU"]
        if cn.empty or ru.empty:
            continue
        f_cn = [feats[i] for i in cn.index]
        f_ru = [feats[i] for i in ru.index]
        verified: dict[tuple[int, int], int] = {}
        _group_scores(f_cn, f_ru, params, verified, flip=False)
        _group_scores(f_ru, f_cn, params, verified, flip=True)
        for (i, j), n in verified.items():
            rows.append((cn["individualID"].iat[i], ru["individualID"].iat[j],
                         f"{sp}|{side}", n))
    pairs = pd.DataFrame(rows, columns=["a", "b", "side", "inliers"])
    return pairs.sort_values(["inliers", "a", "b"], ascending=[False, True, True],
                             kind="mergesort").drop_duplicates(["a", "b", "side"]) \
        .reset_index(drop=True)


def _link_photos(photos: pd.DataFrame, sim: Path, *, max_keypoints: int, long_side: int,
                 params: IndexParams, calibration: Calibration) -> pd.DataFrame:
    pairs = _pair_scores(photos, sim, max_keypoints=max_keypoints, long_side=long_side,
                         params=params)
    pairs = pairs[pairs["inliers"] > 0]
    if pairs.empty:
        return pd.DataFrame({c: pd.Series(dtype=float if c == "score" else object)
                             for c in LINK_COLUMNS})
    recip = reciprocal_pairs(pairs)
    prob = calibration.probability(recip["inliers"].to_numpy(float))
    recip = recip.assign(score=prob)[prob >= calibration.link_threshold]
    out = pd.DataFrame({
        "scientificName": recip["side"].str.split("|").str[0].to_numpy(object),
        "cn_individualID": recip["a"].to_numpy(object),
        "ru_individualID": recip["b"].to_numpy(object),
        "score": recip["score"].to_numpy(float),
    })
    return out.sort_values(["score", "cn_individualID", "ru_individualID"],
                           ascending=[False, True, True], kind="mergesort") \
        .reset_index(drop=True)[list(LINK_COLUMNS)]


def tune_demo_calibration(
    sim_dir: str | Path,
    /,
    *,
    max_keypoints: int = DEMO_MAX_KEYPOINTS,
    long_side: int = DEMO_LONG_SIDE,
    photos_per_flank: int = 1,
    params: IndexParams = DEMO_PARAMS,
) -> tuple[Calibration, pd.DataFrame]:
    """Fit the inliers -> probability map of :func:`link_simulated_catalogues` on one study
    (a tuning seed; report on another).

    Every shortlisted photo pair is labelled by the truth (same animal or not, from
    ``truth/links.csv``) and a logistic regression on ``log1p(inliers)`` is fitted
    (:meth:`Calibration.fit`). The pairs are nearly separable, so the fitted P = 0.5 point
    says little about the wrong pairs' tail; the link threshold is therefore the probability
    of one inlier more than the best-scoring wrong pair of the tuning study (no wrong pair
    of the tuning seed would be linked). The new-individual threshold stays at 0.5.

    Returns
    -------
    calibration : Calibration
    pairs : DataFrame
        ``a`` (CN ID), ``b`` (RU ID), ``side`` (``species|side``), ``inliers``, ``same``.
    """
    sim = Path(sim_dir)
    photos = _catalogue_photos(sim, photos_per_flank)
    with single_threaded():
        pairs = _pair_scores(photos, sim, max_keypoints=max_keypoints, long_side=long_side,
                             params=params)
    truth = read_simulated_truth_links(sim)
    same = set(zip(truth["cn_individualID"], truth["ru_individualID"], strict=True))
    pairs["same"] = [(a, b) in same for a, b in zip(pairs["a"], pairs["b"], strict=True)]
    cal = Calibration.fit(pairs["inliers"].to_numpy(float), pairs["same"].to_numpy(float),
                          new_threshold=0.5, link_threshold=0.5)
    worst = pairs.loc[~pairs["same"], "inliers"]
    floor = float(cal.probability(float(worst.max()) + 1.0)) if len(worst) else 0.5
    cal = Calibration(a=cal.a, b=cal.b, new_threshold=0.5, link_threshold=floor)
    return cal, pairs


# ------------------------------------------------------------------------------------------
# Reading the crosswalk and the truth of a simulated study
# ------------------------------------------------------------------------------------------
def _species_of_ids(sim: Path) -> dict[str, str]:
    links = pd.read_csv(sim / "truth" / "links.csv")
    animals = pd.read_csv(sim / "truth" / "animals.csv", usecols=["animalID",
                                                                  "scientificName"])
    sp = links.merge(animals, on="animalID", how="left")
    return dict(zip(sp["individualID"], sp["scientificName"], strict=True))


def read_simulated_crosswalk(sim_dir: str | Path, /) -> pd.DataFrame:
    """The expert crosswalk of a simulated study (``crosswalk.csv``) as link pairs.

    Returns
    -------
    DataFrame
        ``scientificName`` (from the study's truth tables when present, else missing),
        ``cn_individualID``, ``ru_individualID``.
    """
    sim = Path(sim_dir)
    path = sim / "crosswalk.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: the expert crosswalk of a simulated "
                                "study (`amurlink simulate`)")
    cw = _pair_frame(pd.read_csv(path), str(path))
    if (sim / "truth" / "links.csv").is_file():
        cw["scientificName"] = cw["cn_individualID"].map(_species_of_ids(sim))
    return cw


def read_simulated_truth_links(sim_dir: str | Path, /) -> pd.DataFrame:
    """Every true cross-border pair of national IDs of a simulated study.

    From ``truth/links.csv`` (national IDs of each animal) and ``truth/animals.csv``
    (species): every (Chinese ID, Russian ID) pair of one animal.

    Returns
    -------
    DataFrame
        ``scientificName``, ``cn_individualID``, ``ru_individualID``.
    """
    sim = Path(sim_dir)
    path = sim / "truth" / "links.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: the truth of a simulated study "
                                "(`amurlink simulate`)")
    links = pd.read_csv(path)
    animals = pd.read_csv(sim / "truth" / "animals.csv", usecols=["animalID",
                                                                  "scientificName"])
    cn = links[links["country"] == "CN"][["animalID", "individualID"]]
    ru = links[links["country"] == "RU"][["animalID", "individualID"]]
    pairs = cn.merge(ru, on="animalID", suffixes=("_cn", "_ru")).merge(animals, on="animalID",
                                                                      how="left")
    return pd.DataFrame({"scientificName": pairs["scientificName"].to_numpy(object),
                         "cn_individualID": pairs["individualID_cn"].to_numpy(object),
                         "ru_individualID": pairs["individualID_ru"].to_numpy(object)}) \
        .drop_duplicates(["cn_individualID", "ru_individualID"]).reset_index(drop=True)


# ------------------------------------------------------------------------------------------
# Comparison
# ------------------------------------------------------------------------------------------
def _pair_frame(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """Normalise a pair table to ``scientificName, cn_individualID, ru_individualID``."""
    df = frame.copy()
    df = df.rename(columns={"cn_id": "cn_individualID", "ru_id": "ru_individualID"})
    missing = [c for c in ("cn_individualID", "ru_individualID") if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {missing}; expected cn_individualID and "
                         "ru_individualID (or the crosswalk's cn_id and ru_id)")
    for col in ("cn_individualID", "ru_individualID"):
        empty = df[col].isna()
        if empty.any():
            row = int(np.flatnonzero(empty.to_numpy())[0])
            raise ValueError(f"{what}, row {row}, field {col}: empty; expected a national "
                             "ID such as CN-NTLNP:T001")
    if "scientificName" not in df.columns:
        df["scientificName"] = None
    keep = ["scientificName", "cn_individualID", "ru_individualID"]
    if "score" in df.columns:
        keep.append("score")
    return df[keep].astype({"cn_individualID": str, "ru_individualID": str})


def compare_links(photo_links: pd.DataFrame, crosswalk: pd.DataFrame,
                  truth: pd.DataFrame | None = None) -> pd.DataFrame:
    """Compare automatic photo links with the expert crosswalk (and the truth).

    Parameters
    ----------
    photo_links : DataFrame
        :func:`link_simulated_catalogues` output (``scientificName``, ``cn_individualID``,
        ``ru_individualID``, ``score``).
    crosswalk : DataFrame
        Expert pairs: ``cn_individualID``/``ru_individualID`` or ``crosswalk.csv``'s
        ``cn_id``/``ru_id``; ``scientificName`` optional (see
        :func:`read_simulated_crosswalk`).
    truth : DataFrame, optional
        True pairs, same columns (see :func:`read_simulated_truth_links`).

    Returns
    -------
    DataFrame
        :data:`COMPARISON_COLUMNS`, one row per pair in either list or in the truth:
        ``score`` (NaN when not proposed), ``in_photo``, ``in_crosswalk`` (bool),
        ``in_truth`` (pandas ``boolean``; ``<NA>`` on every row when ``truth`` is None),
        ``outcome`` relative to the crosswalk: ``"agreement"`` (both lists),
        ``"miss"`` (crosswalk only), ``"false proposal"`` (photo only), ``<NA>`` for a
        true pair in neither list. ``scientificName`` is taken from the first table that
        gives it (photo, crosswalk, truth). Sorted by species and IDs.
    """
    photo = _pair_frame(photo_links, "photo_links")
    if "score" not in photo.columns:
        photo["score"] = math.nan
    cw = _pair_frame(crosswalk, "crosswalk")
    tr = _pair_frame(truth, "truth") if truth is not None else None
    key = ["cn_individualID", "ru_individualID"]
    frames = [photo[key + ["scientificName"]], cw[key + ["scientificName"]]]
    if tr is not None:
        frames.append(tr[key + ["scientificName"]])
    allp = pd.concat(frames, ignore_index=True)
    species = allp.dropna(subset=["scientificName"]).drop_duplicates(key) \
        .set_index(key)["scientificName"]
    table = allp.drop_duplicates(key)[key].reset_index(drop=True)
    idx = pd.MultiIndex.from_frame(table)
    table["scientificName"] = species.reindex(idx).to_numpy(object)
    # IDs named by one list but not the other take the species of the same ID elsewhere.
    by_cn = species.reset_index().drop_duplicates("cn_individualID") \
        .set_index("cn_individualID")["scientificName"]
    by_ru = species.reset_index().drop_duplicates("ru_individualID") \
        .set_index("ru_individualID")["scientificName"]
    gap = table["scientificName"].isna()
    table.loc[gap, "scientificName"] = table.loc[gap, "cn_individualID"].map(by_cn)
    gap = table["scientificName"].isna()
    table.loc[gap, "scientificName"] = table.loc[gap, "ru_individualID"].map(by_ru)
    score = photo.drop_duplicates(key).set_index(key)["score"].astype(float)
    table["score"] = score.reindex(idx).to_numpy(float)
    table["in_photo"] = idx.isin(pd.MultiIndex.from_frame(photo[key]))
    table["in_crosswalk"] = idx.isin(pd.MultiIndex.from_frame(cw[key]))
    if tr is None:
        table["in_truth"] = pd.array([pd.NA] * len(table), dtype="boolean")
    else:
        table["in_truth"] = pd.array(idx.isin(pd.MultiIndex.from_frame(tr[key])),
                                     dtype="boolean")
    outcome = np.where(table["in_photo"] & table["in_crosswalk"], "agreement",
                       np.where(table["in_crosswalk"], "miss",
                                np.where(table["in_photo"], "false proposal", "")))
    table["outcome"] = pd.Series(outcome, dtype=object).replace("", None).to_numpy(object)
    table["scientificName"] = table["scientificName"].astype(object)
    table = table.sort_values(["scientificName", "cn_individualID", "ru_individualID"],
                              kind="mergesort", na_position="last").reset_index(drop=True)
    return table[list(COMPARISON_COLUMNS)]


def _ratio(num: int, den: int) -> float:
    return num / den if den else math.nan


def summarise_link_comparison(table: pd.DataFrame, /) -> pd.DataFrame:
    """Per-species counts and precision/recall of the two link lists against the truth.

    Parameters
    ----------
    table : DataFrame
        :func:`compare_links` output.

    Returns
    -------
    DataFrame
        Indexed by ``scientificName`` (missing species grouped as ``"unknown"``), columns
        :data:`SUMMARY_COLUMNS`: ``agreements``, ``misses``, ``false_proposals`` (counts
        relative to the crosswalk); ``photo_precision_truth`` (true share of the photo
        links), ``photo_recall_truth`` (share of the true pairs proposed), and the same two
        for the crosswalk. Precision/recall are NaN without truth (``in_truth`` all missing)
        or when their denominator is 0.
    """
    missing = [c for c in COMPARISON_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"table: missing column(s) {missing}; pass the output of "
                         "compare_links")
    t = table.copy()
    t["scientificName"] = t["scientificName"].fillna("unknown")
    rows = []
    for sp, grp in t.groupby("scientificName", sort=True):
        photo = grp["in_photo"].to_numpy(bool)
        cw = grp["in_crosswalk"].to_numpy(bool)
        known = grp["in_truth"].notna().all() and len(grp) > 0
        tr = grp["in_truth"].fillna(False).to_numpy(bool)
        row: dict[str, Any] = {
            "scientificName": sp,
            "agreements": int((grp["outcome"] == "agreement").sum()),
            "misses": int((grp["outcome"] == "miss").sum()),
            "false_proposals": int((grp["outcome"] == "false proposal").sum()),
        }
        for name, sel in (("photo", photo), ("crosswalk", cw)):
            row[f"{name}_precision_truth"] = _ratio(int((sel & tr).sum()), int(sel.sum())) \
                if known else math.nan
            row[f"{name}_recall_truth"] = _ratio(int((sel & tr).sum()), int(tr.sum())) \
                if known else math.nan
        rows.append(row)
    out = pd.DataFrame(rows, columns=["scientificName", *SUMMARY_COLUMNS])
    return out.set_index("scientificName")
