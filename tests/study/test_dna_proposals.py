"""The run's DNA link proposals leave out pairs of reference samples only (calibration
tissue typed by both labs), and keep every proposal a field sample takes part in."""

from __future__ import annotations

import pandas as pd

from amurlink.study.stages import reference_only_dropped


def _props():
    rows = [
        # the same calibration tissue typed by both labs: no evidence about an animal
        ("CN-REF01", "RU-REF01", "cross-lab", {"samples": [["CN-REF01"], ["RU-REF01"]]}),
        # a reference animal that was also sampled in the field: kept
        ("CN-REF04", "RU-REF04", "cross-lab",
         {"samples": [["CN-REF04"], ["RU-REF04", "RU-S0016"]]}),
        ("CN-S0010", "RU-S0082", "cross-lab", {"samples": [["CN-S0010"], ["RU-S0082"]]}),
        ("RU-S0016", "RU-REF04", "within-lab", {}),
        ("CN-REF04", "RU-LLNP:T-16", "camera", {}),
    ]
    return pd.DataFrame({"subjectA": [r[0] for r in rows], "subjectB": [r[1] for r in rows],
                         "method": "dna", "score": 1.0, "evidence": [r[3] for r in rows],
                         "kind": [r[2] for r in rows]})


def test_pairs_of_reference_samples_only_are_left_out(tmp_path):
    ref = tmp_path / "reference_samples.csv"
    pd.DataFrame({"referenceID": ["REF01", "REF01", "REF04", "REF04"],
                  "sampleID": ["CN-REF01", "RU-REF01", "CN-REF04", "RU-REF04"]}).to_csv(
        ref, index=False)
    out = reference_only_dropped(_props(), [ref])
    assert list(zip(out["subjectA"], out["subjectB"], strict=True)) == [
        ("CN-REF04", "RU-REF04"), ("CN-S0010", "RU-S0082"), ("RU-S0016", "RU-REF04"),
        ("CN-REF04", "RU-LLNP:T-16")]


def test_without_reference_files_nothing_is_dropped(tmp_path):
    assert len(reference_only_dropped(_props(), [])) == 5
    assert len(reference_only_dropped(_props(), [tmp_path / "missing.csv"])) == 5
