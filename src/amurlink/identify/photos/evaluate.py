"""Evaluation of photo identification on simulated photo sets, with a naive baseline.

A photo set is a folder with ``images/`` and ``truth/photos.csv``; a simulated study
(``amurlink simulate``) has ``truth/photos.csv`` with paths relative to the study folder
(``cn/media/...``, ``ru/media/...``). ``truth/photos.csv`` columns: ``filePath``
(relative to ``images/``, or to the study folder), ``mediaID``, ``catalogue`` (``CN-...``
or ``RU-...``), ``individualID`` (national ID), ``trueID`` (the simulated animal),
``species``, ``side``, the Camtrap DP box ``bboxX``, ``bboxY``, ``bboxWidth``,
``bboxHeight`` and the distortions drawn by
:func:`amurlink.simulate.flanks.render_flank`.

Protocol: the Chinese catalogue is the gallery, every Russian photo a query. A query is
*known* when its (animal, side) has a gallery photo, else *new*. ``top1``/``top5``: share of
known queries whose true individual is ranked first / in the first five. ``mAP``: mean
average precision over the ranked gallery images (relevant: same animal and side).
``auroc_new``: AUROC of the best candidate's probability for known against new queries.
``link_precision``/``link_recall``: reciprocal best matches between the two catalogues
(:func:`link_catalogues`) against the true cross-border pairs, which are every (Chinese ID,
Russian ID) pair of one animal (:func:`true_link_pairs`: an animal with a second national
ID has several); ``link_recall_linkable`` counts only the pairs whose two IDs share a
photographed flank side.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from amurlink.identify.photos.features import cv2_module, flank_chip, load_image
from amurlink.identify.photos.matching import link_catalogues, rank_candidates
from amurlink.identify.photos.ranking import DEFAULT_CALIBRATION, Calibration, auroc
from amurlink.identify.photos.store import PhotoStore

__all__ = [
    "DISTORTION_BINS",
    "evaluate_photo_set",
    "generate_photo_set",
    "ncc_baseline",
    "plot_distortion_accuracy",
    "read_photo_truth",
    "true_link_pairs",
    "tune_calibration",
]

#: Bins of the per-distortion accuracy tables and plots.
DISTORTION_BINS: dict[str, list[float]] = {
    "abs_yaw_deg": [0, 10, 20, 30, 35.01],
    "blur_sigma": [0, 0.5, 1.0, 1.5, 2.01],
    "occlusion": [0, 0.1, 0.2, 0.301],
    "scale": [0.5, 0.75, 1.0, 1.25, 1.501],
}


def _photo_task(task: dict[str, Any]) -> dict[str, Any]:
    from amurlink.simulate.flanks import render_flank, write_jpeg

    rng = np.random.default_rng(task["seed"])
    image, info = render_flank(task["pattern_seed"], task["species"], task["side"], rng=rng)
    write_jpeg(task["path"], image, info["jpeg_quality"])
    return {k: v for k, v in info.items() if k != "bbox"}


def generate_photo_set(
    out_dir: str | Path,
    /,
    *,
    seed: int,
    n_animals: int = 40,
    photos_per_flank: int = 2,
    both_share: float = 0.6,
    client: Any = None,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """Render a two-catalogue photo set with :func:`~amurlink.simulate.flanks.render_flank`.

    Animals alternate tiger / leopard. A share ``both_share`` of them is in both catalogues,
    the rest split evenly between China only and Russia only. Every animal has
    ``photos_per_flank`` photos of each flank in each catalogue it is in.

    Returns
    -------
    DataFrame
        The truth table, also written to ``out_dir/truth/photos.csv``.
    """
    out = Path(out_dir)
    ss = np.random.SeedSequence(seed)
    rng = np.random.default_rng(ss.spawn(1)[0])
    presence = rng.choice(["both", "cn", "ru"], size=n_animals,
                          p=[both_share, (1 - both_share) / 2, (1 - both_share) / 2])
    tasks, rows = [], []
    ids = {"CN-SIM": rng.permutation(n_animals), "RU-SIM": rng.permutation(n_animals)}
    for i in range(n_animals):
        species = "tiger" if i % 2 == 0 else "leopard"
        cats = {"both": ["CN-SIM", "RU-SIM"], "cn": ["CN-SIM"], "ru": ["RU-SIM"]}[presence[i]]
        for cat in cats:
            nat = f"{cat}:{'T' if species == 'tiger' else 'L'}{ids[cat][i]:03d}"
            for side in ("left", "right"):
                for j in range(photos_per_flank):
                    name = f"{cat.lower()}/{species}{i:03d}_{side[0]}{j}.jpg"
                    tasks.append({"pattern_seed": seed * 100_000 + i, "species": species,
                                  "side": side, "path": str(out / "images" / name)})
                    rows.append({"filePath": name, "mediaID": name.replace("/", "_")[:-4],
                                 "catalogue": cat, "individualID": nat, "trueID": f"A{i:03d}",
                                 "species": species, "side": side})
    for task, child in zip(tasks, ss.spawn(len(tasks)), strict=True):
        task["seed"] = child
    from amurlink.parallel import map_items

    infos = map_items(_photo_task, tasks, client=client, scheduler=scheduler, batch_size=8)
    truth = pd.concat([pd.DataFrame(rows), pd.DataFrame(infos).drop(
        columns=["pattern_seed", "species", "side"])], axis=1)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    truth.to_csv(out / "truth" / "photos.csv", index=False)
    return truth


def read_photo_truth(sim_dir: str | Path) -> pd.DataFrame:
    """``truth/photos.csv`` of a photo set, with ``absPath`` added.

    ``filePath`` is relative to ``SIM_DIR/images/`` when that folder exists (a set written by
    :func:`generate_photo_set`), else to ``SIM_DIR`` itself (a simulated study, whose photos
    lie inside each country's package: ``cn/media/...``, ``ru/media/...``).
    """
    sim = Path(sim_dir)
    path = sim / "truth" / "photos.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: a photo set needs its images and "
                                "truth/photos.csv (docs/photos.md)")
    truth = pd.read_csv(path)
    base = sim / "images" if (sim / "images").is_dir() else sim
    truth["absPath"] = [str(base / p) for p in truth["filePath"]]
    return truth


def _split(truth: pd.DataFrame) -> tuple[str, str]:
    cats = sorted(set(truth["catalogue"]))
    cn = [c for c in cats if c.upper().startswith("CN")]
    ru = [c for c in cats if c.upper().startswith("RU")]
    if len(cn) != 1 or len(ru) != 1:
        raise ValueError(f"expected one CN and one RU catalogue, found {cats}")
    return cn[0], ru[0]


def build_store(sim_dir: str | Path, store_dir: str | Path | None = None, *,
                client: Any = None, scheduler: str | None = None) -> PhotoStore:
    """Index every photo of a set (incremental: a second call extracts nothing)."""
    truth = read_photo_truth(sim_dir)
    store = PhotoStore(Path(sim_dir) / ".photostore" if store_dir is None else store_dir)
    photos = truth.assign(filePath=truth["absPath"])
    store.add(photos, client=client, scheduler=scheduler)
    return store


def true_link_pairs(truth: pd.DataFrame) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """True cross-border pairs of national IDs in a photo truth table.

    Every (Chinese ID, Russian ID) pair of one animal counts, so an animal with a second
    national ID (one per flank, or after a missed match) has several true pairs. Returns
    ``(true_pairs, linkable)``: ``linkable`` are the true pairs whose two IDs have photos
    of a common flank side (the only pairs flank photos can link). Pairs are sorted tuples.
    """
    cn, ru = _split(truth)
    pairs: set[tuple[str, str]] = set()
    linkable: set[tuple[str, str]] = set()
    sides = truth.groupby(["catalogue", "individualID"])["side"].agg(set)
    for _, grp in truth.groupby("trueID"):
        a_ids = sorted(set(grp.loc[grp["catalogue"] == cn, "individualID"]))
        b_ids = sorted(set(grp.loc[grp["catalogue"] == ru, "individualID"]))
        for a in a_ids:
            for b in b_ids:
                pair = tuple(sorted((a, b)))
                pairs.add(pair)
                if sides[(cn, a)] & sides[(ru, b)]:
                    linkable.add(pair)
    return pairs, linkable


def _average_precision(relevant: np.ndarray, n_relevant: int) -> float:
    if n_relevant == 0:
        return math.nan
    hits = np.nonzero(relevant)[0]
    precision = (np.arange(len(hits)) + 1) / (hits + 1)
    return float(precision.sum() / n_relevant)


def query_table(store: PhotoStore, truth: pd.DataFrame, *,
                calibration: Calibration = DEFAULT_CALIBRATION) -> pd.DataFrame:
    """One row per query photo: truth, rank of the true individual, scores, distortions."""
    cn, ru = _split(truth)
    keyed = truth.assign(key=store.records.set_index("filePath").loc[truth["absPath"], "key"]
                         .to_numpy())
    gal = keyed[keyed["catalogue"] == cn]
    true_of = dict(zip(keyed["individualID"], keyed["trueID"], strict=False))
    known_keys = set(zip(gal["trueID"], gal["side"], strict=True))
    rows = []
    for q in keyed[keyed["catalogue"] == ru].itertuples():
        scores = store.score_images(store.features(q.key), side=q.side, catalogues=[cn])
        cand = rank_candidates(scores, calibration=calibration, top_k=10**6)
        cand_true = cand["individualID"].map(true_of)
        hit = np.nonzero((cand_true == q.trueID).to_numpy() & (cand["side"] == q.side)
                         .to_numpy())[0]
        rank = int(hit[0]) + 1 if len(hit) else 0
        rel_img = (scores["individualID"].map(true_of) == q.trueID) & (scores["side"] == q.side)
        n_rel = int(((gal["trueID"] == q.trueID) & (gal["side"] == q.side)).sum())
        wrong = cand[cand_true != q.trueID]
        rows.append({
            "query": q.mediaID, "trueID": q.trueID, "side": q.side,
            "known": (q.trueID, q.side) in known_keys, "rank": rank,
            "top_probability": float(cand["probability"].iloc[0]) if len(cand) else 0.0,
            "true_inliers": int(cand["score"].iloc[hit[0]]) if len(hit) else 0,
            "wrong_inliers": int(wrong["score"].iloc[0]) if len(wrong) else 0,
            "ap": _average_precision(rel_img.to_numpy(bool), n_rel),
            **{c: getattr(q, c) for c in ("yaw_deg", "scale", "infrared", "blur_sigma",
                                           "occlusion", "jpeg_quality") if hasattr(q, c)},
        })
    return pd.DataFrame(rows)


def ncc_baseline(truth: pd.DataFrame) -> pd.DataFrame:
    """Naive baseline: global normalised cross-correlation of the grey flank crops.

    Every crop (the photo's box, contrast-normalised as for the keypoints) is resized to
    96 x 48 and standardised; a query takes the gallery photo of the same side with the
    highest correlation. Returns one row per known query with ``rank`` 1 when that photo is
    of the same animal (0 otherwise).
    """
    cv2 = cv2_module()
    cn, ru = _split(truth)

    def describe(row: Any) -> np.ndarray:
        chip, _ = flank_chip(load_image(row.absPath),
                             (row.bboxX, row.bboxY, row.bboxWidth, row.bboxHeight))
        v = cv2.resize(chip, (96, 48), interpolation=cv2.INTER_AREA).astype(np.float64).ravel()
        return (v - v.mean()) / (v.std() + 1e-9) / np.sqrt(v.size)

    gal = truth[truth["catalogue"] == cn]
    gdesc = np.stack([describe(r) for r in gal.itertuples()])
    known = set(zip(gal["trueID"], gal["side"], strict=True))
    rows = []
    for q in truth[truth["catalogue"] == ru].itertuples():
        if (q.trueID, q.side) not in known:
            continue
        ncc = gdesc @ describe(q)
        ncc[(gal["side"] != q.side).to_numpy()] = -np.inf
        best = gal.iloc[int(np.argmax(ncc))]
        rows.append({"query": q.mediaID, "rank": int(best["trueID"] == q.trueID)})
    return pd.DataFrame(rows)


def distortion_accuracy(queries: pd.DataFrame) -> pd.DataFrame:
    """Top-1 of known queries per distortion bin (and infrared versus colour)."""
    known = queries[queries["known"]].copy()
    if known.empty or "yaw_deg" not in known.columns:
        return pd.DataFrame(columns=["distortion", "bin", "n", "top1"])
    known["abs_yaw_deg"] = known["yaw_deg"].abs()
    known["top1"] = known["rank"] == 1
    rows = []
    for col, edges in DISTORTION_BINS.items():
        cut = pd.cut(known[col], edges, right=False)
        for b, grp in known.groupby(cut, observed=False):
            rows.append({"distortion": col, "bin": str(b), "n": len(grp),
                         "top1": float(grp["top1"].mean()) if len(grp) else math.nan})
    for flag, grp in known.groupby(known["infrared"].astype(bool)):
        rows.append({"distortion": "infrared", "bin": "infrared" if flag else "colour",
                     "n": len(grp), "top1": float(grp["top1"].mean())})
    return pd.DataFrame(rows)


def plot_distortion_accuracy(table: pd.DataFrame, path: str | Path) -> Path:
    """Bar plots of top-1 against each distortion (one panel per distortion)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(table["distortion"]))
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3), sharey=True)
    for ax, name in zip(np.atleast_1d(axes), names, strict=True):
        sub = table[table["distortion"] == name]
        ax.bar(range(len(sub)), sub["top1"].fillna(0))
        ax.set_xticks(range(len(sub)), sub["bin"], rotation=45, ha="right", fontsize=7)
        ax.set_title(name)
        ax.set_ylim(0, 1.02)
    np.atleast_1d(axes)[0].set_ylabel("top-1")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def tune_calibration(sim_dir: str | Path, /, *, store_dir: str | Path | None = None,
                     client: Any = None, scheduler: str | None = None) -> Calibration:
    """Fit the inliers -> probability calibration on one photo set (the tuning seed).

    Positives: the true individual's inliers of every known query; negatives: the best wrong
    individual's inliers of every query. Thresholds stay at 0.5 probability.
    """
    store = build_store(sim_dir, store_dir, client=client, scheduler=scheduler)
    q = query_table(store, read_photo_truth(sim_dir))
    known = q[q["known"]]
    x = np.r_[known["true_inliers"].to_numpy(), q["wrong_inliers"].to_numpy()]
    y = np.r_[np.ones(len(known)), np.zeros(len(q))]
    return Calibration.fit(x, y, new_threshold=0.5, link_threshold=0.5)


def evaluate_photo_set(
    sim_dir: str | Path,
    /,
    *,
    calibration: Calibration = DEFAULT_CALIBRATION,
    store_dir: str | Path | None = None,
    baseline: bool = True,
    client: Any = None,
    scheduler: str | None = None,
) -> dict[str, Any]:
    """Accuracy figures of a photo set (see the module docstring for the protocol).

    Returns
    -------
    dict
        ``top1``, ``top5``, ``mAP``, ``auroc_new``, ``link_precision``, ``link_recall``,
        ``baseline_top1`` (global normalised cross-correlation), counts, the calibration used, and
        ``by_distortion`` (records of :func:`distortion_accuracy`); the per-query table is
        under ``queries`` (a DataFrame).
    """
    truth = read_photo_truth(sim_dir)
    store = build_store(sim_dir, store_dir, client=client, scheduler=scheduler)
    q = query_table(store, truth, calibration=calibration)
    known = q[q["known"]]
    cn, ru = _split(truth)
    proposals = link_catalogues(store, cn, ru, calibration=calibration)
    true_pairs, linkable = true_link_pairs(truth)
    proposed = {tuple(sorted((a, b))) for a, b in zip(proposals["subjectA"],
                                                      proposals["subjectB"], strict=True)}
    correct = len(proposed & true_pairs)
    result: dict[str, Any] = {
        "top1": float((known["rank"] == 1).mean()) if len(known) else math.nan,
        "top5": float(((known["rank"] >= 1) & (known["rank"] <= 5)).mean())
        if len(known) else math.nan,
        "mAP": float(known["ap"].mean()) if len(known) else math.nan,
        "auroc_new": auroc(q.loc[q["known"], "top_probability"],
                           q.loc[~q["known"], "top_probability"]),
        "link_precision": correct / len(proposed) if proposed else math.nan,
        "link_recall": correct / len(true_pairs) if true_pairs else math.nan,
        "link_recall_linkable": len(proposed & linkable) / len(linkable) if linkable
        else math.nan,
        "n_gallery": int((truth["catalogue"] == cn).sum()),
        "n_queries": len(q), "n_known_queries": len(known),
        "n_true_links": len(true_pairs), "n_linkable_links": len(linkable),
        "n_proposed_links": len(proposed), "n_correct_links": correct,
        "wrong_links": sorted(proposed - true_pairs),
        "missed_links": sorted(true_pairs - proposed),
        "index": {"type": "IndexIVFFlat" if store.params.nlist and any(
            store.index(c, s) is not None and store.index(c, s).kind == "IVFFlat"
            for c in store.catalogues for s in ("left", "right", "unknown")) else "IndexFlatL2",
            "nlist": store.params.nlist, "nprobe": store.params.nprobe,
            "max_keypoints": store.max_keypoints},
        "calibration": calibration.to_dict(),
    }
    if baseline:
        base = ncc_baseline(truth)
        result["baseline_top1"] = float((base["rank"] == 1).mean()) if len(base) else math.nan
    table = distortion_accuracy(q)
    result["by_distortion"] = table.to_dict(orient="records")
    result["queries"] = q
    return result
