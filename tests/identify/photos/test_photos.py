"""Photo identification: features, incremental store, identify, link, duplicates, evaluate."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from amurlink.identify.links import empty_links, propose_links
from amurlink.identify.photos import (
    CANDIDATE_COLUMNS,
    Calibration,
    PhotoStore,
    extract_features,
    find_duplicates,
    identify_photos,
    link_catalogues,
)
from amurlink.identify.photos.evaluate import evaluate_photo_set, read_photo_truth
from amurlink.identify.photos.ranking import auroc, lnbnn_scores
from amurlink.simulate.flanks import render_flank


def test_features_cap_rootsift_and_crop():
    image, info = render_flank(1, "leopard", "left", rng=np.random.default_rng(0),
                               distortions={"infrared": False, "scale": (1.2, 1.2)})
    box = (info["bboxX"], info["bboxY"], info["bboxWidth"], info["bboxHeight"])
    f = extract_features(image, box, max_keypoints=100)
    assert 0 < len(f) <= 100
    np.testing.assert_allclose(np.linalg.norm(f.descriptors, axis=1), 1.0, atol=1e-3)
    assert max(f.chip_shape) == 640
    x, y, w, h = f.crop
    assert x <= info["bbox"][0] and w >= info["bbox"][2] * 0.99
    assert extract_features(image, box, max_keypoints=100).equals(f)


def test_lnbnn_one_vote_per_image_and_auroc():
    dist = np.array([[0.0, 0.01, 0.25, 1.0]])  # squared distances, K = 3
    img = np.array([[0, 0, 1, 2]])
    s = lnbnn_scores(dist, img, 3, 3)
    assert s[0] == pytest.approx(1.0) and s[1] == pytest.approx(0.5) and s[2] == 0
    assert auroc([2, 3], [0, 1]) == 1.0 and auroc([1], [1]) == 0.5


def test_store_incremental_and_resumable(photo_set, tmp_path):
    folder, _ = photo_set
    truth = read_photo_truth(folder).assign(filePath=lambda t: t["absPath"])
    store = PhotoStore(tmp_path / "s")
    assert store.add(truth.iloc[:8], scheduler="serial") == 8
    assert store.add(truth.iloc[:8], scheduler="serial") == 0
    assert store.add(truth.iloc[:10], scheduler="serial") == 2  # only the new photos
    # interrupted after the features were written, before the manifest: nothing re-extracted
    (tmp_path / "s" / "manifest.csv").unlink()
    again = PhotoStore(tmp_path / "s")
    assert len(again.records) == 0
    assert again.add(truth.iloc[:10], scheduler="serial") == 0
    assert len(again.records) == 10
    idx = again.index("CN-SIM", truth.iloc[0]["side"])
    assert idx is not None and len(idx.keys) > 0
    # relabelling a known photo needs no extraction
    relabel = truth.iloc[:1].assign(individualID="CN-SIM:X999")
    assert again.add(relabel, scheduler="serial") == 0
    assert "CN-SIM:X999" in set(again.records["individualID"])


def test_identify_known_query(photo_set, photo_store):
    _, truth = photo_set
    gal = truth[truth["catalogue"] == "CN-SIM"]
    known = set(zip(gal["trueID"], gal["side"], strict=True))
    is_known = np.array([(a, s) in known for a, s in zip(truth["trueID"], truth["side"],
                                                         strict=True)])
    q = truth[(truth["catalogue"] == "RU-SIM").to_numpy() & is_known]
    row = q.iloc[0]
    path = str(folder_images(photo_set) / row["filePath"])
    box = (row["bboxX"], row["bboxY"], row["bboxWidth"], row["bboxHeight"])
    out = identify_photos(photo_store, [path], side=row["side"], bboxes=[box],
                          catalogues=["CN-SIM"], top_k=3)
    assert list(out.columns) == list(CANDIDATE_COLUMNS)
    best = out.iloc[0]
    true_cn = gal.loc[gal["trueID"] == row["trueID"], "individualID"].iloc[0]
    assert best["individualID"] == true_cn and best["side"] == row["side"]
    assert best["score"] > 10 and not best["isNew"]
    assert (out["score"].diff().dropna() <= 0).all()


def folder_images(photo_set):
    return photo_set[0] / "images"


def test_link_catalogues_proposals_go_through_link_store(photo_set, photo_store, tmp_path):
    _, truth = photo_set
    props = link_catalogues(photo_store, "CN-SIM", "RU-SIM", evidence_dir=tmp_path / "ev")
    pairs = truth.drop_duplicates(["trueID", "catalogue"]).pivot(
        index="trueID", columns="catalogue", values="individualID").dropna()
    truth_pairs = {tuple(sorted(p)) for p in pairs.itertuples(index=False)}
    got = {tuple(sorted(p)) for p in zip(props["subjectA"], props["subjectB"], strict=True)}
    assert got == truth_pairs
    ev = props["evidence"].iloc[0]
    assert ev["inliers"] > 0 and (tmp_path / "ev").is_dir()
    assert all(pd.Series(props["evidence"].map(lambda e: e["image"])).map(
        lambda p: __import__("pathlib").Path(p).is_file()))
    res = propose_links(empty_links(), props, method="photo", now="2025-01-01T00:00:00Z")
    assert len(res.proposed) == len(props) and set(res.proposed["method"]) == {"photo"}


def test_find_duplicates(photo_set, tmp_path):
    folder, truth = photo_set
    photos = read_photo_truth(folder).assign(filePath=lambda t: t["absPath"])
    cn = photos[photos["catalogue"] == "CN-SIM"].copy()
    victim = cn["individualID"].iloc[0]
    rows = cn.index[(cn["individualID"] == victim)][:2]
    cn.loc[rows[1], "individualID"] = "CN-SIM:DUP"  # one photo filed under a second ID
    store = PhotoStore(tmp_path / "d")
    store.add(cn, scheduler="serial")
    dup = find_duplicates(store, "CN-SIM")
    pair = tuple(sorted((victim, "CN-SIM:DUP")))
    found = set(zip(dup["individualA"], dup["individualB"], strict=True))
    if cn.loc[rows[0], "side"] == cn.loc[rows[1], "side"]:
        assert pair in found
    assert all(p[0] != p[1] for p in found)


def test_evaluate_small_set(photo_set, photo_store):
    folder, _ = photo_set
    res = evaluate_photo_set(folder, store_dir=photo_store.root, calibration=Calibration())
    for key in ("top1", "top5", "mAP", "auroc_new", "link_precision", "link_recall",
                "baseline_top1"):
        assert key in res
    assert res["top1"] >= 0.9 and res["top5"] >= res["top1"]
    json.dumps({k: v for k, v in res.items() if k != "queries"})
