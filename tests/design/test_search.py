"""k-of-n layout search: exact incremental scores, constraints, quality against long runs."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import shapely

from amurlink.analysis.secr import make_mask
from amurlink.design import expected_counts
from amurlink.design.search import (
    _score,
    _swap_scores,
    near_lines,
    prepare_problem,
    regular_layout,
    search_layout,
)
from amurlink.exceptions import DataError

PAR = {"lambda0": 0.08, "sigma": 2000.0}


def _candidates(n=60, seed=5, extent=24000.0):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, extent, (n, 2))
    return pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1],
                         "country": np.where(xy[:, 0] < extent / 2, "CN", "RU"),
                         "cameras": np.where(xy[:, 0] < extent / 2, 2, 1)})


@pytest.fixture(scope="module")
def small():
    cand = _candidates()
    mask = make_mask(cand[["x", "y"]].to_numpy(), buffer=8000, nx=40)
    return cand, mask


@pytest.mark.parametrize(("detector", "criterion"), [("proximity", "min_nr"), ("count", "Er"),
                                                     ("multi", "min_nr"), ("proximity", "En2")])
def test_swap_scores_equal_direct_evaluation(small, detector, criterion):
    cand, mask = small
    p = prepare_problem(cand, mask, D=5e-4, detectpar=PAR, noccasions=15, detector=detector,
                        criterion=criterion)
    rng = np.random.default_rng(1)
    chosen = rng.choice(len(cand), 12, replace=False)
    s = _swap_scores(p, chosen)
    free = np.setdiff1d(np.arange(len(cand)), chosen)
    for i, j in zip(rng.integers(0, 12, 8), rng.choice(free, 8), strict=True):
        alt = chosen.copy()
        alt[i] = j
        assert s[i, j] == pytest.approx(_score(p, alt), rel=1e-9)
    # and the criterion agrees with expected_counts
    e = expected_counts(cand[["x", "y"]].to_numpy()[chosen], mask, D=5e-4, detectpar=PAR,
                        noccasions=15, detector=detector)
    want = {"min_nr": min(e.En, e.Er), "En": e.En, "Er": e.Er, "En2": e.En2}[criterion]
    assert _score(p, chosen) == pytest.approx(want, rel=1e-9)


def test_constraints_hold(small):
    cand, mask = small
    roads = shapely.LineString([(0, 12000), (24000, 12000)])
    eligible = near_lines(cand[["x", "y"]], [roads], 6000)
    fixed = [int(np.flatnonzero(eligible)[0])]
    res = search_layout(cand, mask, 12, D=5e-4, detectpar=PAR, noccasions=15,
                        budgets={"CN": 10, "RU": 8}, min_distance=2500, eligible=eligible,
                        fixed=fixed, time_limit=20, restarts=3, seed=2)
    ch = res.chosen
    assert len(ch) == 12 and len(set(ch)) == 12
    assert fixed[0] in ch
    assert eligible[ch].all()
    xy = cand[["x", "y"]].to_numpy()[ch]
    d = np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1))
    assert d[np.triu_indices(12, 1)].min() >= 2500
    cams = cand.iloc[ch].groupby("country")["cameras"].sum()
    assert cams.get("CN", 0) <= 10 and cams.get("RU", 0) <= 8
    assert res.per_country["CN"]["cameras"] == cams.get("CN", 0)
    assert res.gain is not None and res.gain >= 0
    assert res.criterion >= res.baseline["min_nr"]


def test_exhaustive_optimum_on_a_tiny_case():
    cand = _candidates(n=12, seed=9, extent=12000)
    mask = make_mask(cand[["x", "y"]].to_numpy(), buffer=8000, nx=30)
    p = prepare_problem(cand, mask, D=5e-4, detectpar=PAR, noccasions=10)
    best = max(_score(p, np.array(c)) for c in itertools.combinations(range(12), 4))
    res = search_layout(cand, mask, 4, D=5e-4, detectpar=PAR, noccasions=10, time_limit=10,
                        restarts=5, baseline=None)
    assert res.criterion >= 0.99 * best


def test_result_within_one_percent_of_ten_longer_runs(small):
    cand, mask = small
    kw = {"D": 5e-4, "detectpar": PAR, "noccasions": 15, "min_distance": 1000,
          "time_limit": 60, "baseline": None}
    # "ten times the time": ten runs, each with ten times our number of restarts
    ours = search_layout(cand, mask, 15, restarts=1, seed=0, **kw)
    longer = [search_layout(cand, mask, 15, restarts=10, seed=s, **kw).criterion
              for s in range(1, 11)]
    assert ours.criterion >= 0.99 * max(longer)


def test_a_search_stopped_by_work_not_time_is_reproducible(small, monkeypatch):
    import amurlink.design.search as search

    cand, mask = small
    kw = {"D": 5e-4, "detectpar": PAR, "noccasions": 15, "min_distance": 1000,
          "baseline": None, "time_limit": None, "seed": 3}
    first = search_layout(cand, mask, 15, max_swaps=12, **kw)
    assert first.swaps == 12
    # a slow machine: every clock reading a minute later than the last changes nothing
    clock = itertools.count(0.0, 60.0)
    monkeypatch.setattr(search.time, "perf_counter", lambda: next(clock))
    again = search_layout(cand, mask, 15, max_swaps=12, **kw)
    assert np.array_equal(first.chosen, again.chosen) and first.criterion == again.criterion
    # no swap: the greedy start; a search with neither limit is refused
    assert search_layout(cand, mask, 15, max_swaps=0, **kw).swaps == 0
    with pytest.raises(DataError, match="time limit, a number of restarts or a number"):
        search_layout(cand, mask, 15, **kw)


def test_regular_layout_and_errors(small):
    cand, mask = small
    reg = regular_layout(cand[["x", "y"]].to_numpy(), 16)
    assert len(set(reg.tolist())) == 16
    with pytest.raises(DataError, match="k must be"):
        search_layout(cand, mask, 0, D=5e-4, detectpar=PAR, noccasions=5)
    with pytest.raises(DataError, match="no feasible layout"):
        search_layout(cand, mask, 30, D=5e-4, detectpar=PAR, noccasions=5,
                      budgets={"CN": 4, "RU": 4})
    with pytest.raises(DataError, match="criterion"):
        search_layout(cand, mask, 5, D=5e-4, detectpar=PAR, noccasions=5, criterion="Em")


def test_transboundary_weight_scores_and_effect(small):
    from amurlink.design.search import _add_scores
    from amurlink.design.simulation import expected_transboundary

    cand, mask = small
    p = prepare_problem(cand, mask, D=5e-4, detectpar=PAR, noccasions=15,
                        transboundary_weight=2.0)
    rng = np.random.default_rng(4)
    chosen = rng.choice(len(cand), 10, replace=False)
    xy = cand[["x", "y"]].to_numpy()
    tb = expected_transboundary(xy[chosen], cand["country"].to_numpy()[chosen], mask, D=5e-4,
                                detectpar=PAR, noccasions=15)["En_transboundary"]
    from amurlink.design.search import _counts

    assert _counts(p, chosen)["transboundary"] == pytest.approx(tb, rel=1e-9)
    s = _swap_scores(p, chosen)
    free = np.setdiff1d(np.arange(len(cand)), chosen)
    for i, j in zip(rng.integers(0, 10, 6), rng.choice(free, 6), strict=True):
        alt = chosen.copy()
        alt[i] = j
        assert s[i, j] == pytest.approx(_score(p, alt), rel=1e-9)
    A = p.Sh[:, chosen].sum(axis=1)
    add = _add_scores(p, A, None, float(p.Cb[chosen].sum()), chosen)
    for j in rng.choice(free, 4):
        assert add[j] == pytest.approx(_score(p, np.append(chosen, j)), rel=1e-6)
    kw = {"D": 5e-4, "detectpar": PAR, "noccasions": 15, "time_limit": 20, "restarts": 2,
          "baseline": None}
    plain = search_layout(cand, mask, 12, **kw)
    weighted = search_layout(cand, mask, 12, transboundary_weight=5.0, **kw)
    assert weighted.counts["transboundary"] > plain.counts["transboundary"]
    assert weighted.counts["min_nr"] <= plain.counts["min_nr"] * (1 + 1e-9)
