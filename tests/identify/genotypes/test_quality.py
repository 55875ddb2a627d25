"""Consensus, typing success, locus statistics, PID and PIDsib."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from amurlink.exceptions import DataQualityWarning, SchemaError
from amurlink.identify.genotypes import (
    allele_frequencies,
    consensus_genotypes,
    identity_probabilities,
    locus_summary,
    read_genotypes,
    typing_success,
)


def _g(rows):
    return pd.DataFrame(rows, columns=["sampleID", "locus", "allele1", "allele2", "replicate"])


def test_pid_hand_computed_two_equal_alleles():
    # p = (0.5, 0.5): sum p^2 = 0.5, sum p^4 = 0.125
    g = _g([("a", "L", 1, 2, 1), ("b", "L", 1, 2, 1)])
    pid = identity_probabilities(g, warn_above=None)
    assert pid["PID"].iloc[0] == pytest.approx(2 * 0.25 - 0.125)
    assert pid["PIDsib"].iloc[0] == pytest.approx(0.25 + 0.25 + 0.125 - 0.03125)


def test_pid_cumulative_order_and_warning():
    g = _g([("a", "L1", 1, 2, 1), ("b", "L1", 3, 4, 1), ("a", "L2", 1, 1, 1),
            ("b", "L2", 1, 2, 1)])
    with pytest.warns(DataQualityWarning, match="PIDsib"):
        pid = identity_probabilities(g)
    assert pid["PIDsib"].is_monotonic_increasing
    assert pid["cumulative_PIDsib"].iloc[-1] == pytest.approx(pid["PIDsib"].prod())
    assert pid["n_loci"].tolist() == [1, 2]
    given = identity_probabilities(g, order="given", warn_above=None)
    assert given["locus"].tolist() == ["L1", "L2"]


@pytest.mark.parametrize("name,ignore", [
    ("adegenet-nancycats/nancycats.csv", ["population"]),
    ("adegenet-microbov/microbov.csv", ["population", "coun", "breed", "spe"]),
])
def test_pid_reproduces_meta_json(reference_dir, name, ignore):
    folder = reference_dir / "genetics" / name.split("/")[0]
    meta = json.loads((folder / "meta.json").read_text())
    ref = meta["derived_values_computed_for_this_reference_NOT_from_package_docs"]
    t = read_genotypes(reference_dir / "genetics" / name, missing="NA", ignore=ignore)
    pid = identity_probabilities(t.genotypes, order="given").set_index("locus")
    assert pid["cumulative_PID"].iloc[-1] == pytest.approx(ref["multilocus_PID_product"], rel=1e-4)
    assert pid["cumulative_PIDsib"].iloc[-1] == pytest.approx(
        ref["multilocus_PIDsib_product"], rel=1e-4)
    for locus, v in ref["per_locus"].items():
        assert pid.loc[locus, "PID"] == pytest.approx(v["PID"], rel=1e-4)
        assert pid.loc[locus, "PIDsib"] == pytest.approx(v["PIDsib"], rel=1e-4)
        assert pid.loc[locus, "n_typed"] == v["n_genotyped"]
    summ = locus_summary(t.genotypes, n_permutations=50, rng=1).set_index("locus")
    for locus, v in ref["per_locus"].items():
        assert summ.loc[locus, "Ho"] == pytest.approx(v["Ho"], abs=1e-4)
        assert summ.loc[locus, "He_uncorrected"] == pytest.approx(v["He_uncorrected"], abs=1e-4)
        assert summ.loc[locus, "n_alleles"] == v["n_alleles_observed"]


def test_consensus_multi_tube_rules():
    g = _g([
        ("het", "L", 100, 104, 1), ("het", "L", 100, 104, 2), ("het", "L", 100, 100, 3),
        ("hom", "L", 100, 100, 1), ("hom", "L", 100, 100, 2), ("hom", "L", 100, 100, 3),
        ("hom2", "L", 100, 100, 1), ("hom2", "L", 100, 100, 2),
        ("bad", "L", 100, 104, 1), ("bad", "L", 106, 108, 2), ("bad", "L", 100, 106, 3),
        ("bad", "L", 104, 108, 4),
        ("one", "L", 100, 102, 1),
        ("none", "L", None, None, 1), ("none", "L", None, None, 2),
    ])
    c = consensus_genotypes(g).set_index("sampleID")
    assert c.loc["het", "status"] == "consensus" and (c.loc["het", "allele1"],
                                                      c.loc["het", "allele2"]) == (100, 104)
    assert c.loc["hom", "status"] == "consensus" and c.loc["hom", "allele2"] == 100
    assert c.loc["hom2", "status"] == "unresolved" and pd.isna(c.loc["hom2", "allele1"])
    assert c.loc["bad", "status"] == "conflict"
    assert c.loc["one", "status"] == "single" and c.loc["one", "allele2"] == 102
    assert c.loc["none", "status"] == "missing"
    assert consensus_genotypes(g, keep_single=False).set_index("sampleID").loc[
        "one", "status"] == "unresolved"
    assert len(g) == 15  # input untouched


def test_typing_success_and_frequencies():
    g = _g([("a", "L1", 1, 2, 1), ("a", "L2", None, None, 1), ("b", "L1", 1, 1, 1),
            ("b", "L2", 5, 5, 1)])
    ts = typing_success(g).set_index("sampleID")
    assert ts.loc["a", "typing_success"] == 0.5 and ts.loc["b", "n_typed"] == 2
    f = allele_frequencies(g)
    assert f.groupby("locus")["frequency"].sum().tolist() == [1.0, 1.0]
    assert f.loc[(f.locus == "L1") & (f.allele == 1), "frequency"].item() == 0.75


def test_frequencies_need_consensus_first():
    g = _g([("a", "L1", 1, 2, 1), ("a", "L1", 1, 2, 2)])
    with pytest.raises(SchemaError, match="consensus"):
        allele_frequencies(g)


def test_hwe_detects_heterozygote_deficit_and_null_hint():
    rng = np.random.default_rng(3)
    n = 200
    alleles = rng.choice([100, 102, 104], size=n)  # all homozygous: strong deficit
    g = pd.DataFrame({"sampleID": [f"s{i}" for i in range(n)], "locus": "L",
                      "allele1": alleles, "allele2": alleles})
    s = locus_summary(g, n_permutations=200, rng=1).iloc[0]
    assert s["Ho"] == 0 and s["hwe_p"] < 0.01 and s["null_allele_hint"]
    a1 = rng.choice([100, 102, 104], size=n)
    a2 = rng.choice([100, 102, 104], size=n)
    h = pd.DataFrame({"sampleID": [f"s{i}" for i in range(n)], "locus": "L",
                      "allele1": np.minimum(a1, a2), "allele2": np.maximum(a1, a2)})
    s2 = locus_summary(h, n_permutations=200, rng=1).iloc[0]
    assert s2["hwe_p"] > 0.01 and not s2["null_allele_hint"]
