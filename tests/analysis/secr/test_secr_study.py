"""Statistical check of the SECR fit (``make test-all``): 200 replicates of the simulator's
``secr-exact`` mode at ``neaspec`` scale, fitted with the generating model
(``docs/secr-simulation-study.md``). Checkpointed in ``build/secr-study/``: an interrupted
run resumes where it stopped. Writes the results section of the doc."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from amurlink.analysis.secr.study import (
    run_study,
    study_markdown,
    study_replicate,
    summarise_study,
)

pytest.importorskip("amurlink.simulate")

ROOT = Path(__file__).resolve().parents[3]
N_REPLICATES = 200
SEED = 20260601


def test_small_replicate_and_checkpoint_resume(tmp_path):
    """Fast: one replicate at ``small`` scale recovers the truth roughly, and a checkpointed
    run resumes without recomputing (same rows)."""
    r = study_replicate(np.random.default_rng(5), scale="small")
    assert r["ok"], r
    assert r["EN_lcl"] <= r["EN_estimate"] <= r["EN_ucl"]
    assert 0.5 < r["sigma_estimate"] / r["sigma_true"] < 2
    ck = tmp_path / "ck.jsonl"
    first = run_study(2, seed=3, scale="small", checkpoint=ck, chunk=1, scheduler="serial")
    assert len(ck.read_text().splitlines()) == 2
    ck.write_text(ck.read_text().splitlines()[0] + "\n")  # "interrupted" after one
    again = run_study(2, seed=3, scale="small", checkpoint=ck, chunk=1, scheduler="serial")
    assert list(again["seed"]) == list(first["seed"])
    np.testing.assert_allclose(again["EN_estimate"], first["EN_estimate"], rtol=1e-9)
    s = summarise_study(again)
    assert s["fitted"] == 2 and "D" in s
    assert "relative bias" in study_markdown(s, again, n_planned=2, scale="small", seed=3)


@pytest.mark.slow
def test_secr_exact_neaspec_200_replicates():
    ck = Path(os.environ.get("AMURLINK_SECR_STUDY_CHECKPOINT",
                             ROOT / "build" / "secr-study" / f"neaspec-{SEED}.jsonl"))
    ck.parent.mkdir(parents=True, exist_ok=True)
    df = run_study(N_REPLICATES, seed=SEED, scale="neaspec", checkpoint=ck, chunk=8,
                   scheduler="processes")
    s = summarise_study(df)
    doc = ROOT / "docs" / "secr-simulation-study.md"
    if doc.is_file():
        text = doc.read_text(encoding="utf-8")
        head = text.split("\n## Results", 1)[0].rstrip() + "\n\n"
        doc.write_text(head + study_markdown(s, df, n_planned=N_REPLICATES, seed=SEED),
                       encoding="utf-8")
    assert s["fitted"] == N_REPLICATES, s
    assert s["pass_bias"], s
    assert s["pass_coverage"], s
