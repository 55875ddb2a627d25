"""independent_events: camtrapR's rule on Camtrap DP observations (docs/formats.md section 3)."""

from __future__ import annotations

import pandas as pd
import pytest

from amurlink.analysis.events import independent_events


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
