"""independent_events: camtrapR's rule on Camtrap DP observations (docs/formats.md section 3)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from amurlink.analysis.events import _last_independent_loop, independence_flags, independent_events


def _obs(minutes, deployment="D1", species="Panthera tigris"):
    t0 = pd.Timestamp("2024-01-01T00:00:00Z")
    return pd.DataFrame({
        "observationID": [f"o{i}" for i in range(len(minutes))],
        "deploymentID": deployment, "scientificName": species,
        "eventStart": [t0 + pd.Timedelta(minutes=m) for m in minutes],
    })


def test_last_record_vs_last_independent():
    obs = _obs([0, 20, 40, 60])
    a = independent_events(obs, threshold_min=30, compared_to="lastRecord")
    b = independent_events(obs, threshold_min=30, compared_to="lastIndependentRecord")
    assert a["independent"].tolist() == [True, False, False, False]
    assert b["independent"].tolist() == [True, False, True, False]
    assert b["eventIndex"].tolist() == [0, 0, 1, 1]
    assert b["deltaTimeMin"].isna().tolist() == [True, False, False, False]
    assert b["deltaTimeMin"].tolist()[1:] == [20, 20, 20]


def test_groups_and_input_untouched():
    obs = pd.concat([_obs([0, 10]), _obs([5], deployment="D2"), _obs([6], species="Sus")])
    before = obs.copy()
    out = independent_events(obs, threshold_min=30)
    pd.testing.assert_frame_equal(obs, before)
    assert out["independent"].tolist() == [True, False, True, True]


def test_remove_duplicates_and_zero_threshold():
    obs = _obs([0, 0, 1])
    assert len(independent_events(obs, remove_duplicates=True)) == 2
    assert independent_events(obs, threshold_min=0)["independent"].all()


def test_missing_column():
    with pytest.raises(ValueError, match="scientificName"):
        independent_events(_obs([0]).drop(columns="scientificName"))


def _reference_flags(groups, seconds, threshold_s, compared_to):
    """camtrapR's rule record by record (the definition independence_flags implements)."""
    n = len(groups)
    order = sorted(range(n), key=lambda i: (groups[i], seconds[i], i))
    indep = np.zeros(n, dtype=bool)
    delta = np.zeros(n)
    event = np.zeros(n, dtype=np.int64)
    ev = -1
    for k, i in enumerate(order):
        g, t = groups[i], seconds[i]
        same = [j for j in order[:k] if groups[j] == g and seconds[j] < t]
        if compared_to == "lastIndependentRecord":
            same = [j for j in same if indep[j]]
        if not same and not any(groups[j] == g and seconds[j] < t for j in order[:k]):
            indep[i] = True  # the group's earliest time
        else:
            delta[i] = t - max(seconds[j] for j in same)
            indep[i] = threshold_s <= 0 or delta[i] >= threshold_s
        ev += bool(indep[i])
        event[i] = ev
    return np.asarray(order), indep, delta, event


@pytest.mark.parametrize("compared_to", ["lastIndependentRecord", "lastRecord"])
@pytest.mark.parametrize("seed", range(6))
def test_flags_match_the_rule_record_by_record(seed, compared_to):
    rng = np.random.default_rng(seed)
    n = 150
    groups = rng.integers(0, 4, n) * (-3 if seed % 2 else 7)  # any integer codes
    seconds = rng.integers(0, 4 * 3600, n) + 1_700_000_000
    seconds[:20] = seconds[0]  # ties of a time within and across groups
    for threshold in (0.0, 60.0, 1800.0, 1799.5):
        got = independence_flags(groups, seconds, threshold_s=threshold, compared_to=compared_to)
        want = _reference_flags(groups, seconds, threshold, compared_to)
        for name, g, w in zip(("order", "independent", "delta", "event"), got, want,
                              strict=True):
            np.testing.assert_array_equal(g, w, err_msg=f"{name} at threshold {threshold}")


def test_long_chains_and_many_clusters():
    """Dense records (one a minute for days: chains of hundreds of hops) beside thousands of
    short bursts, against the one-pass loop of the module and the plain sort."""
    rng = np.random.default_rng(7)
    dense_t = np.arange(0, 5 * 86_400, 60)
    burst_t = np.repeat(rng.integers(0, 10**8, 5_000), 3) + np.tile([0, 600, 2_400], 5_000)
    seconds = np.concatenate([dense_t, burst_t, rng.integers(0, 10**8, 20_000)])
    groups = np.concatenate([np.zeros(len(dense_t), dtype=np.int64),
                             rng.integers(1, 50, len(burst_t)), rng.integers(1, 50, 20_000)])
    perm = rng.permutation(len(seconds))
    groups, seconds = groups[perm], seconds[perm]
    order, indep, delta, _ = independence_flags(groups, seconds, threshold_s=1800)
    np.testing.assert_array_equal(order, np.lexsort((seconds, groups)))
    g, t = groups[order], seconds[order]
    new_group = np.r_[True, g[1:] != g[:-1]]
    gstart = np.maximum.accumulate(np.where(new_group, np.arange(len(g)), 0))
    ref_i, ref_d = _last_independent_loop(new_group, t, t == t[gstart], 1800.0)
    np.testing.assert_array_equal(indep[order], ref_i)
    np.testing.assert_array_equal(delta[order], ref_d)
    assert indep[groups == 0].sum() == 5 * 86_400 // 1800  # one every 30 minutes
