"""Invariants of the cross-border statistics (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amurlink.analysis.crossborder import crossborder

from .test_crossborder import CAMERAS, RECORDS, X0, Y0, hand_border, hand_dataset  # noqa: F401


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dx=st.integers(-30_000, 30_000), dy=st.integers(-30_000, 30_000))
def test_shifting_coordinates_and_border_keeps_counts(dx, dy):
    base = crossborder(hand_dataset(), border=hand_border()).individuals
    shifted_cams = {k: (x + dx, y + dy, c) for k, (x, y, c) in CAMERAS.items()}
    moved = crossborder(hand_dataset(cameras=shifted_cams, shift=(dx, dy)),
                        border=hand_border().translate(dx, dy)).individuals
    cols = ["jointID", "crossings", "encounters_CN", "encounters_RU", "encounters_border",
            "transboundary"]
    assert base[cols].equals(moved[cols])
    np.testing.assert_allclose(base["max_distance_km_CN"], moved["max_distance_km_CN"],
                               atol=1e-6)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=st.permutations(list(range(len(RECORDS)))))
def test_row_order_does_not_matter(order):
    base = crossborder(hand_dataset(), border=hand_border()).individuals
    shuffled = crossborder(hand_dataset([RECORDS[i] for i in order]), border=hand_border())
    assert base["crossings"].tolist() == shuffled.individuals["crossings"].tolist()
    ind = shuffled.individuals
    assert (ind["transboundary"] == (ind["crossings"] > 0)).all()
