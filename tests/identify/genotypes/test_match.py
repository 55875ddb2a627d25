"""Pairwise mismatches, the allowance profile and grouping (allelematch's examples)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from amurlink.exceptions import DataQualityWarning, NotFittedError, SchemaError
from amurlink.identify.genotypes import (
    GenotypeMatcher,
    match_genotypes,
    mismatch_profile,
    pairwise_mismatches,
    read_genotypes,
    sex_by_sample,
    simulate_genotype_samples,
)


def _g(rows):
    return pd.DataFrame(rows, columns=["sampleID", "locus", "allele1", "allele2"])


def _example(reference_dir, k):
    path = reference_dir / "genetics" / "allelematch-examples" / f"amExample{k}.csv"
    t = read_genotypes(path, missing="-99", ignore=["knownIndividual", "samplingData"])
    known = pd.read_csv(path, dtype=str).set_index("sampleId").get("knownIndividual")
    return t, known


def _purity(assign, known):
    a = assign.assign(k=assign["sampleID"].map(known))
    merged = int((a.groupby("individual")["k"].nunique() > 1).sum())
    split = int((a.groupby("k")["individual"].nunique() > 1).sum())
    return merged, split


def test_pairwise_classes():
    g = _g([("a", "L1", 100, 104), ("b", "L1", 100, 100), ("c", "L1", 100, 106),
            ("d", "L1", 108, 108), ("e", "L1", None, None)])
    p = pairwise_mismatches(g).set_index(["sampleA", "sampleB"])
    assert p.loc[("a", "b"), "dropout_loci"] == 1 and p.loc[("a", "b"), "distance"] == 1
    assert p.loc[("a", "c"), "hard_loci"] == 1  # third allele
    assert p.loc[("a", "d"), "hard_loci"] == 1 and p.loc[("a", "d"), "allele_mismatches"] == 2
    assert p.loc[("a", "e"), "missing_loci"] == 1 and p.loc[("a", "e"), "distance"] == 1
    assert p.loc[("a", "b"), "score"] == pytest.approx(0.5)
    near = pairwise_mismatches(g, max_distance=1)
    assert len(near) == len(p[p["distance"] <= 1])


def test_vignette_score_sample_19_20(reference_dir):
    t, _ = _example(reference_dir, 1)
    p = pairwise_mismatches(t.genotypes).set_index(["sampleA", "sampleB"])
    assert p.loc[("19", "20"), "score"] == pytest.approx(0.95)


@pytest.mark.parametrize("k,expected", [(1, 2), (2, 3), (3, 6)])
def test_profile_chooses_allelematch_allowance(reference_dir, k, expected):
    t, _ = _example(reference_dir, k)
    prof, m, shape = mismatch_profile(t.genotypes)
    assert m == expected
    assert shape in ("zero-dip", "nonzero-dip")
    assert prof["mismatch_allowance"].tolist() == list(range(9))


def test_profile_has_no_optimum_for_set_4(reference_dir):
    t, _ = _example(reference_dir, 4)
    _, m, shape = mismatch_profile(t.genotypes)
    assert m is None and shape == "no-dip"
    with pytest.warns(DataQualityWarning, match="no clear optimum"):
        res = match_genotypes(t.genotypes, pidsib_threshold=None)
    assert res.profile_shape == "no-dip"


def test_set_1_gives_its_12_individuals(reference_dir):
    t, known = _example(reference_dir, 1)
    res = match_genotypes(t.genotypes)
    assert res.mismatch_allowance == 2 and res.n_individuals == 12
    got = {frozenset(s) for s in res.individuals["samples"]}
    want = {frozenset(s) for s in known.groupby(known).groups.values()}
    assert got == {frozenset(map(str, s)) for s in want}
    assert not res.assignments["ambiguous"].any()


@pytest.mark.parametrize("k", [2, 3])
def test_sets_2_and_3_merge_no_labelled_individuals(reference_dir, k):
    t, known = _example(reference_dir, k)
    with pytest.warns(DataQualityWarning, match="PIDsib"):
        res = match_genotypes(t.genotypes)
    merged, split = _purity(res.assignments, known)
    assert merged == 0
    assert split <= 2
    assert abs(res.n_individuals - known.nunique()) <= 2


def test_blocked_equals_unblocked_and_order_free():
    g, truth = simulate_genotype_samples(150, 12, rng=7)
    kw = dict(mismatch_allowance=4, pidsib_threshold=None)
    a = GenotypeMatcher(blocking=True, **kw).fit(g).assignments_
    b = GenotypeMatcher(blocking=False, **kw).fit(g).assignments_
    pa = {frozenset(x) for x in a.groupby("individual")["sampleID"].apply(list)}
    pb = {frozenset(x) for x in b.groupby("individual")["sampleID"].apply(list)}
    assert pa == pb
    assert (a.set_index("sampleID")["status"] == b.set_index("sampleID")["status"]).all()
    shuffled = g.sample(frac=1.0, random_state=np.random.RandomState(1))
    c = GenotypeMatcher(**kw).fit(shuffled).assignments_
    pc = {frozenset(x) for x in c.groupby("individual")["sampleID"].apply(list)}
    assert pc == pa
    merged, _ = _purity(a, truth)
    assert merged == 0


def test_blocked_equals_unblocked_with_auto_allowance_and_no_hard_limit():
    g, _ = simulate_genotype_samples(80, 10, dropout=0.08, missing=0.15, rng=11)
    kw = dict(pidsib_threshold=None, max_hard_loci=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        est = GenotypeMatcher(**kw).fit(g)
        m = est.mismatch_allowance_
        b = GenotypeMatcher(mismatch_allowance=m, blocking=False, **kw).fit(g)
    assert est.assignments_["individual"].tolist() == b.assignments_["individual"].tolist()


def test_sex_rule_is_asymmetric():
    base = [("a", "L1", 100, 102), ("a", "L2", 200, 202), ("b", "L1", 100, 102),
            ("b", "L2", 200, 202)]
    g = _g(base)
    unconfirmed = pd.DataFrame({"sampleID": ["a", "b"], "sex": ["M", "F"], "replicate": [1, 1]})
    res = match_genotypes(g, sex=unconfirmed, mismatch_allowance=1, pidsib_threshold=None)
    assert res.n_individuals == 1 and res.individuals["sex"].iloc[0] == "male"
    confirmed = pd.DataFrame({"sampleID": ["a", "b", "b"], "sex": ["M", "F", "F"],
                              "replicate": [1, 1, 2]})
    res2 = match_genotypes(g, sex=confirmed, mismatch_allowance=1, pidsib_threshold=None)
    assert res2.n_individuals == 2
    s = sex_by_sample(confirmed).set_index("sampleID")
    assert s.loc["b", "confirmed"] and s.loc["a", "sex"] == "male"


def test_estimator_contract():
    est = GenotypeMatcher(mismatch_allowance=1)
    assert "mismatch_allowance=1" in repr(est)
    with pytest.raises(NotFittedError):
        est.predict()
    g = _g([("a", "L1", 100, 102), ("b", "L1", 100, 102)])
    assert GenotypeMatcher(**est.get_params()).get_params() == est.get_params()
    with pytest.warns(DataQualityWarning):
        assert est.fit(g) is est
    assert est.predict()["individual"].nunique() == 1
    with pytest.raises(SchemaError):
        GenotypeMatcher(mismatch_allowance=-1).fit(g)


def test_result_to_dict_is_json():
    g = _g([("a", "L1", 100, 102), ("b", "L1", 100, 100), ("c", "L1", 110, 112)])
    res = match_genotypes(g, mismatch_allowance=1, pidsib_threshold=None)
    d = json.loads(json.dumps(res.to_dict(), default=float))
    assert d["mismatch_allowance"] == 1
    assert {"individuals", "ambiguous", "pid", "pidsib"} <= set(d)
    assert sorted(len(i["samples"]) for i in d["individuals"]) == [1, 2]
