"""The accuracy study of docs/photos.md: tune on seed 0, report on the unseen seed 1."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_accuracy_targets_on_unseen_seed(tmp_path):
    from amurlink.identify.photos.evaluate import (
        evaluate_photo_set,
        generate_photo_set,
        tune_calibration,
    )

    generate_photo_set(tmp_path / "seed0", seed=0, n_animals=40)
    generate_photo_set(tmp_path / "seed1", seed=1, n_animals=40)
    calibration = tune_calibration(tmp_path / "seed0")
    res = evaluate_photo_set(tmp_path / "seed1", calibration=calibration)
    assert res["top1"] >= 0.95
    assert res["top5"] >= 0.99
    assert res["link_recall"] >= 0.95
    assert res["link_precision"] >= 0.98
    assert res["baseline_top1"] < 0.5
    assert res["auroc_new"] >= 0.9
