"""Simulation check of the covariate model (``D ~ x``) and the camera + DNA model
(``lambda0 ~ dettype``) on the neaspec design (:mod:`amurlink.analysis.secr.study_models`).

The 200-replicate study is ``slow``; by default a 2-replicate run on the ``small`` design
checks the replicate records, seeds and the checkpoint/resume logic."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("amurlink.simulate")

from amurlink.analysis.secr.study_models import (  # noqa: E402
    models_design,
    models_study_markdown,
    run_models_study,
    summarise_models_study,
)

N_REPLICATES = 200


@pytest.fixture(scope="module")
def small_design():
    return models_design("small", mask_spacing=3000.0)


def test_small_replicates_fit_and_resume(small_design, tmp_path):
    ck = tmp_path / "ck.jsonl"
    df = run_models_study(2, design=small_design, checkpoint=ck, chunk=1, scheduler="sync")
    assert len(df) == 2 and df["replicate"].tolist() == [0, 1]
    for tag in ("cov", "dna"):
        assert df[f"{tag}_ok"].all()
        est = df[f"{tag}_EN_estimate"].to_numpy(float)
        assert np.all(np.isfinite(est)) and np.all(df[f"{tag}_EN_se"] > 0)
        assert np.all(df[f"{tag}_EN_lcl"] < est) and np.all(est < df[f"{tag}_EN_ucl"])
    assert (df["n_both"] >= df["n_cam"]).all()
    # resume: a third replicate is added, the first two are read back, not refitted
    lines = ck.read_text().splitlines()
    assert len(lines) == 2
    df3 = run_models_study(3, design=small_design, checkpoint=ck, chunk=1, scheduler="sync")
    assert len(ck.read_text().splitlines()) == 3
    assert df3["cov_EN_estimate"].iloc[:2].tolist() == df["cov_EN_estimate"].tolist()
    # the same seeds without a checkpoint give the same replicate (no dependence on chunks)
    again = run_models_study(1, design=small_design, scheduler="sync")
    assert again["cov_EN_estimate"].iloc[0] == pytest.approx(df["cov_EN_estimate"].iloc[0],
                                                              rel=1e-9)
    s = summarise_models_study(df3)
    assert s["cov"]["fitted"] == 3 and "rse_ratio" in s
    assert "cameras + DNA" in models_study_markdown(s)


@pytest.mark.slow
def test_covariate_and_camera_dna_models_200_replicates():
    """Coverage and relative bias of D within 2.6 MCSE of nominal for both models, and DNA
    narrows RSE(D). The results table is written beside the checkpoint."""
    ck = Path(os.environ.get("AMURLINK_SECR_MODELS_CHECKPOINT",
                             "build/secr-study/models-20261207.jsonl"))
    ck.parent.mkdir(parents=True, exist_ok=True)
    df = run_models_study(N_REPLICATES, checkpoint=ck, chunk=4, scheduler="processes")
    s = summarise_models_study(df)
    ck.with_suffix(".md").write_text(models_study_markdown(s), encoding="utf-8")
    ck.with_suffix(".summary.json").write_text(json.dumps(s, indent=2, default=float))
    assert s["replicates"] == N_REPLICATES
    for tag in ("cov", "dna"):
        assert s[tag]["failed"] == 0, s[tag]
        assert s[tag]["pass_bias"], s[tag]
        assert s[tag]["pass_coverage"], s[tag]
    assert s["rse_ratio"] < 1.0 and s["dna_narrower_share"] > 0.9, s
