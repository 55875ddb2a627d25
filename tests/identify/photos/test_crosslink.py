"""Demo linking: automatic photo links of a simulated study against the crosswalk and truth."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from amurlink.identify.photos import (
    compare_links,
    link_simulated_catalogues,
    summarise_link_comparison,
)
from amurlink.identify.photos.crosslink import (
    COMPARISON_COLUMNS,
    LINK_COLUMNS,
    SUMMARY_COLUMNS,
    read_simulated_crosswalk,
    read_simulated_truth_links,
)
from amurlink.identify.photos.matching import reciprocal_pairs

TIGER, LEOPARD = "Panthera tigris", "Panthera pardus"


def _photo() -> pd.DataFrame:
    return pd.DataFrame({
        "scientificName": [TIGER, TIGER, LEOPARD],
        "cn_individualID": ["CN:T1", "CN:T2", "CN:L1"],
        "ru_individualID": ["RU:T-1", "RU:T-9", "RU:Leo 1F"],
        "score": [0.99, 0.8, 0.95],
    })


def _crosswalk() -> pd.DataFrame:  # crosswalk.csv spelling, no species column
    return pd.DataFrame({"cn_id": ["CN:T1", "CN:T3", "CN:L1"],
                         "ru_id": ["RU:T-1", "RU:T-3", "RU:Leo 2M"],
                         "method": "expert"})


def _truth() -> pd.DataFrame:
    return pd.DataFrame({
        "scientificName": [TIGER, TIGER, LEOPARD, LEOPARD],
        "cn_individualID": ["CN:T1", "CN:T3", "CN:L1", "CN:L5"],
        "ru_individualID": ["RU:T-1", "RU:T-3", "RU:Leo 1F", "RU:Leo 5F"],
    })


def test_compare_links_outcomes_and_truth_flags():
    table = compare_links(_photo(), _crosswalk(), _truth())
    assert list(table.columns) == list(COMPARISON_COLUMNS)
    rows = {(r.cn_individualID, r.ru_individualID): r for r in table.itertuples()}
    assert len(rows) == len(table) == 6  # union of the three lists
    t1 = rows[("CN:T1", "RU:T-1")]
    assert t1.outcome == "agreement" and t1.in_truth and t1.score == pytest.approx(0.99)
    assert rows[("CN:T3", "RU:T-3")].outcome == "miss"
    assert math.isnan(rows[("CN:T3", "RU:T-3")].score)
    wrong = rows[("CN:T2", "RU:T-9")]
    assert wrong.outcome == "false proposal" and not wrong.in_truth
    # the expert's wrong leopard pair: a miss relative to the crosswalk, false in truth
    leo = rows[("CN:L1", "RU:Leo 2M")]
    assert leo.outcome == "miss" and not leo.in_truth and leo.scientificName == LEOPARD
    # a true pair in neither list has no outcome
    only_truth = rows[("CN:L5", "RU:Leo 5F")]
    assert pd.isna(only_truth.outcome) and only_truth.in_truth
    assert not only_truth.in_photo and not only_truth.in_crosswalk
    # the crosswalk's tiger pair took its species from the truth
    assert rows[("CN:T3", "RU:T-3")].scientificName == TIGER
    assert table["in_photo"].dtype == bool and table["in_crosswalk"].dtype == bool
    assert str(table["in_truth"].dtype) == "boolean"


def test_compare_links_without_truth_has_missing_truth_flags():
    table = compare_links(_photo(), _crosswalk())
    assert len(table) == 5
    assert table["in_truth"].isna().all() and str(table["in_truth"].dtype) == "boolean"
    assert sorted(table["outcome"]) == ["agreement", "false proposal", "false proposal",
                                        "miss", "miss"]
    summary = summarise_link_comparison(table)
    assert summary[["photo_precision_truth", "photo_recall_truth",
                    "crosswalk_precision_truth", "crosswalk_recall_truth"]].isna().all().all()
    assert summary.loc[TIGER, "agreements"] == 1 and summary.loc[TIGER, "misses"] == 0
    # CN:T3-RU:T-3 appears only in the crosswalk, which names no species
    assert summary.loc["unknown", "misses"] == 1


def test_summarise_link_comparison_counts_and_rates():
    summary = summarise_link_comparison(compare_links(_photo(), _crosswalk(), _truth()))
    assert list(summary.columns) == list(SUMMARY_COLUMNS)
    assert summary.index.name == "scientificName"
    assert sorted(summary.index) == [LEOPARD, TIGER]
    tig, leo = summary.loc[TIGER], summary.loc[LEOPARD]
    assert (tig["agreements"], tig["misses"], tig["false_proposals"]) == (1, 1, 1)
    assert (leo["agreements"], leo["misses"], leo["false_proposals"]) == (0, 1, 1)
    # tiger: photo links T1 (true) and T2 (false) of the true T1, T3
    assert tig["photo_precision_truth"] == pytest.approx(0.5)
    assert tig["photo_recall_truth"] == pytest.approx(0.5)
    assert tig["crosswalk_precision_truth"] == pytest.approx(1.0)
    assert tig["crosswalk_recall_truth"] == pytest.approx(1.0)
    # leopard: photo L1-Leo 1F true; crosswalk L1-Leo 2M wrong; truth L1, L5
    assert leo["photo_precision_truth"] == pytest.approx(1.0)
    assert leo["photo_recall_truth"] == pytest.approx(0.5)
    assert leo["crosswalk_precision_truth"] == pytest.approx(0.0)
    assert leo["crosswalk_recall_truth"] == pytest.approx(0.0)


def test_compare_links_rejects_a_table_without_ids():
    with pytest.raises(ValueError, match="crosswalk: missing column"):
        compare_links(_photo(), pd.DataFrame({"a": [1]}))
    bad = _photo()
    bad.loc[1, "ru_individualID"] = None
    with pytest.raises(ValueError, match="photo_links, row 1, field ru_individualID"):
        compare_links(bad, _crosswalk())
    with pytest.raises(ValueError, match="compare_links"):
        summarise_link_comparison(pd.DataFrame({"x": [1]}))


def test_reciprocal_pairs_per_side_and_ties():
    pairs = pd.DataFrame({
        "a": ["A1", "A1", "A2", "A1", "A3", "A3"],
        "b": ["B1", "B2", "B1", "B9", "B3", "B4"],
        "side": ["left", "left", "left", "right", "left", "left"],
        "inliers": [40, 5, 7, 30, 12, 12],
    })
    got = reciprocal_pairs(pairs)
    found = set(zip(got["a"], got["b"], strict=True))
    # A1-B1 on the left; A1-B9 on the right (a second national ID for the other flank);
    # A3 ties between B3 and B4, so neither is linked.
    assert found == {("A1", "B1"), ("A1", "B9")}


@pytest.fixture(scope="module")
def small_study(tmp_path_factory):
    from amurlink.simulate import simulate_study, write_study

    study = simulate_study("small", seed=3, max_images=None, photos_per_flank=1)
    return write_study(study, tmp_path_factory.mktemp("sim") / "small")


def test_link_simulated_catalogues_on_small_scenario(small_study):
    links = link_simulated_catalogues(small_study)
    assert list(links.columns) == list(LINK_COLUMNS)
    assert len(links) >= 3 and links["score"].dtype == float
    assert (links["score"].diff().dropna() <= 0).all()  # best first
    assert set(links["scientificName"]) <= {TIGER, LEOPARD}
    assert links["cn_individualID"].str.startswith("CN-").all()
    assert links["ru_individualID"].str.startswith("RU-").all()
    truth = read_simulated_truth_links(small_study)
    true_pairs = set(zip(truth["cn_individualID"], truth["ru_individualID"], strict=True))
    proposed = set(zip(links["cn_individualID"], links["ru_individualID"], strict=True))
    assert proposed <= true_pairs  # every proposal is the same animal
    # species of each proposal agrees with the truth
    sp = truth.set_index(["cn_individualID", "ru_individualID"])["scientificName"]
    assert all(sp[(a, b)] == s for a, b, s in zip(links["cn_individualID"],
                                                   links["ru_individualID"],
                                                   links["scientificName"], strict=True))
    crosswalk = read_simulated_crosswalk(small_study)
    table = compare_links(links, crosswalk, truth)
    summary = summarise_link_comparison(table)
    assert summary["photo_precision_truth"].eq(1.0).all()
    n_agree = len(proposed & set(zip(crosswalk["cn_individualID"],
                                      crosswalk["ru_individualID"], strict=True)))
    assert int(summary["agreements"].sum()) == n_agree
    assert int(summary["misses"].sum()) == len(crosswalk) - n_agree
    assert np.isfinite(summary["crosswalk_recall_truth"]).all()


def test_link_simulated_catalogues_needs_the_photo_table(tmp_path):
    with pytest.raises(FileNotFoundError, match="truth/photos.csv"):
        link_simulated_catalogues(tmp_path)


def test_true_link_pairs_count_every_national_id_of_an_animal():
    from amurlink.identify.photos.evaluate import true_link_pairs

    truth = pd.DataFrame({
        "catalogue": ["CN-X", "CN-X", "RU-Y", "RU-Y", "CN-X", "RU-Y", "RU-Y"],
        "individualID": ["CN-X:1", "CN-X:1", "RU-Y:a", "RU-Y:b", "CN-X:2", "RU-Y:c",
                         "RU-Y:d"],
        "trueID": ["A", "A", "A", "A", "B", "B", "C"],
        "side": ["left", "right", "left", "right", "left", "right", "left"],
    })
    pairs, linkable = true_link_pairs(truth)
    # animal A: one Chinese ID, two Russian IDs (one per flank): two true pairs
    assert pairs == {("CN-X:1", "RU-Y:a"), ("CN-X:1", "RU-Y:b"), ("CN-X:2", "RU-Y:c")}
    # animal B: left flank in China, right flank in Russia: true but not linkable by photo
    assert linkable == {("CN-X:1", "RU-Y:a"), ("CN-X:1", "RU-Y:b")}
