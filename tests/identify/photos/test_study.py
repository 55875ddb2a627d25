"""The accuracy study of docs/photos.md, on the simulator's ``neaspec`` photos: tune on seed 1,
report on the unseen seed 2 (store settings: MAX_KEYPOINTS, IndexParams(); demo linking:
DEMO_* settings, calibration fitted on seed 1)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def neaspec_seeds(tmp_path_factory):
    from amurlink.simulate import simulate_study, write_study

    root = tmp_path_factory.mktemp("neaspec")
    return {seed: write_study(simulate_study("neaspec", seed=seed), root / f"seed{seed}")
            for seed in (1, 2)}


@pytest.mark.slow
def test_accuracy_targets_on_unseen_seed(neaspec_seeds, tmp_path):
    from amurlink.identify.photos.evaluate import evaluate_photo_set, tune_calibration

    calibration = tune_calibration(neaspec_seeds[1], store_dir=tmp_path / "s1")
    res = evaluate_photo_set(neaspec_seeds[2], calibration=calibration,
                             store_dir=tmp_path / "s2")
    assert res["index"]["type"] == "IndexIVFFlat"
    assert res["n_known_queries"] >= 100 and res["n_true_links"] >= 20
    assert res["top1"] >= 0.95
    assert res["top5"] >= 0.99
    assert res["link_recall_linkable"] >= 0.95
    assert res["link_precision"] >= 0.98, res["wrong_links"]
    assert res["baseline_top1"] < 0.5
    assert res["auroc_new"] >= 0.9


@pytest.mark.slow
def test_demo_linking_on_unseen_seed(neaspec_seeds):
    from amurlink.identify.photos import compare_links, link_simulated_catalogues
    from amurlink.identify.photos.crosslink import (
        read_simulated_crosswalk,
        read_simulated_truth_links,
        tune_demo_calibration,
    )

    calibration, _ = tune_demo_calibration(neaspec_seeds[1])
    sim = neaspec_seeds[2]
    links = link_simulated_catalogues(sim, calibration=calibration)
    table = compare_links(links, read_simulated_crosswalk(sim), read_simulated_truth_links(sim))
    photo = table[table["in_photo"]]
    precision = float(photo["in_truth"].astype(bool).mean())
    true = table[table["in_truth"].astype(bool)]
    recall = float(true["in_photo"].mean())
    assert len(photo) >= 20
    assert precision >= 0.98
    assert recall >= 0.8
