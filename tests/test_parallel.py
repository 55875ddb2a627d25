"""amurlink.parallel: dask results equal the serial loop."""

from __future__ import annotations

import numpy as np
import pytest

from amurlink.parallel import map_items, map_replicates, spawn_seeds


def _square(x, *, offset=0):
    return x * x + offset


def _draw(rng, *, n=3):
    return rng.normal(size=n).round(12).tolist()


def test_serial_and_threads_equal():
    items = list(range(7))
    serial = map_items(_square, items, scheduler="serial", offset=1)
    assert serial == [x * x + 1 for x in items]
    assert map_items(_square, items, offset=1) == serial
    assert map_items(_square, items, batch_size=3, offset=1) == serial
    assert map_items(_square, [], offset=1) == []


def test_replicates_are_independent_and_reproducible():
    a = map_replicates(_draw, 4, seed=11, scheduler="serial")
    b = map_replicates(_draw, spawn_seeds(11, 4))
    assert a == b and len({tuple(x) for x in a}) == 4


@pytest.mark.dask
def test_local_cluster_two_workers_equals_serial():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        items = list(range(10))
        assert map_items(_square, items, client=client, offset=2) == \
            map_items(_square, items, scheduler="serial", offset=2)
        assert map_replicates(_draw, 5, seed=3, client=client) == \
            map_replicates(_draw, 5, seed=3, scheduler="serial")
        cv2 = pytest.importorskip("cv2")  # noqa: F841
        from amurlink.identify.photos.features import extract_features
        from amurlink.simulate.flanks import render_flank

        images = [render_flank(i, "tiger", "right", rng=np.random.default_rng(i))[0]
                  for i in range(4)]
        par = map_items(extract_features, images, client=client, max_keypoints=200)
        ser = map_items(extract_features, images, scheduler="serial", max_keypoints=200)
        assert all(a.equals(b) for a, b in zip(par, ser, strict=True))
