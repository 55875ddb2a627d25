"""Tests of amurlink.core.crs: projected metric CRS required, round trips to metres."""

from __future__ import annotations

import numpy as np
import pytest

from amurlink.core.crs import from_metric, require_projected, to_metric
from amurlink.exceptions import CRSError


def test_require_projected_accepts_utm_52n():
    crs = require_projected("EPSG:32652")
    assert crs.is_projected
    assert crs.to_epsg() == 32652


@pytest.mark.parametrize("crs", ["EPSG:4326", 4326, "OGC:CRS84"])
def test_require_projected_rejects_geographic_and_says_how_to_fix(crs):
    with pytest.raises(CRSError, match="geographic.*EPSG:32652"):
        require_projected(crs)


def test_require_projected_rejects_feet():
    with pytest.raises(CRSError, match="not metres"):
        require_projected("EPSG:2263")  # NY Long Island, US survey feet


@pytest.mark.parametrize("crs", [None, "EPSG:999999", "not a crs"])
def test_require_projected_rejects_unparseable(crs):
    with pytest.raises(CRSError, match="EPSG:32652"):
        require_projected(crs)


def test_crs_error_is_a_value_error():
    with pytest.raises(ValueError):
        require_projected("EPSG:4326")


def test_to_metric_round_trip():
    lon = np.array([130.5, 131.25, np.nan])
    lat = np.array([43.0, 42.75, 43.0])
    x, y = to_metric(lon, lat)
    assert np.isnan(x[2])
    back_lon, back_lat = from_metric(x[:2], y[:2])
    np.testing.assert_allclose(back_lon, lon[:2], atol=1e-9)
    np.testing.assert_allclose(back_lat, lat[:2], atol=1e-9)


def test_to_metric_distance_is_metres():
    # 0.1 degree of latitude is about 11.1 km
    x, y = to_metric([130.9, 130.9], [43.0, 43.1], crs="EPSG:32652")
    assert 11_000 < np.hypot(x[1] - x[0], y[1] - y[0]) < 11_200
