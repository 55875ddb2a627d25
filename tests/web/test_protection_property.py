"""Property: no page or API response carries a position finer than its reader may see."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from amurlink.core.protection import Audience, protect_dataset
from amurlink.io import read_camtrap_dp
from amurlink_web.apps.core.demo import zip_package
from amurlink_web.apps.datasets.selectors import package_path
from amurlink_web.apps.datasets.services import dataset_set_public
from amurlink_web.testing import PERSONAS, BaseTestCase, cn_package, upload

pytestmark = pytest.mark.web

coordinate = st.tuples(st.floats(42.8, 43.5).map(lambda v: round(v, 5)),
                       st.floats(130.5, 131.4).map(lambda v: round(v, 5)))
AUDIENCE = {
    "partner": Audience.partner(level="1km"),
    "secretariat": Audience.partner(level="10km"),
    "outsider": Audience.public(),
    "anonymous": Audience.public(),
}


def _mentions(body: str, value: float) -> bool:
    return re.search(rf"(?<![\d.]){re.escape(repr(value))}(?!\d)", body) is not None


class ProtectionPropertyTest(BaseTestCase, HypothesisTestCase):
    @settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
    @given(coords=st.lists(coordinate, min_size=3, max_size=3, unique=True))
    def test_no_position_finer_than_allowed(self, coords):
        self.check(coords)

    @pytest.mark.slow
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(coords=st.lists(coordinate, min_size=3, max_size=3, unique=True))
    def test_no_position_finer_than_allowed_many(self, coords):
        self.check(coords)

    def check(self, coords):
        with tempfile.TemporaryDirectory() as tmp:
            data = zip_package(cn_package(coordinates=coords), Path(tmp) / "p.zip").read_bytes()
        result = upload(self.cn, data, name="generated.zip")
        assert result.status in ("imported", "duplicate"), result.issues
        ds = result.dataset
        dataset_set_public(dataset=ds, is_public=True)
        stored = read_camtrap_dp(package_path(ds))
        exact = set(stored.deployments["latitude"]) | set(stored.deployments["longitude"])
        for persona in PERSONAS:
            client = self.client_for(persona)
            api = client.get(f"/api/datasets/{ds.pk}/deployments/").json()["results"]
            page = client.get(f"/datasets/{ds.pk}/").content.decode()
            media = client.get(f"/api/datasets/{ds.pk}/media/").content.decode()
            shown = {(r["latitude"], r["longitude"]) for r in api}
            if persona in ("owner", "readonly"):
                assert shown == set(zip(stored.deployments["latitude"],
                                        stored.deployments["longitude"], strict=True))
                assert "person.jpg" in page
                continue
            want = protect_dataset(stored, audience=AUDIENCE[persona]).deployments
            assert shown == set(zip(want["latitude"], want["longitude"], strict=True)), persona
            for value in exact:
                assert not _mentions(page, value), (persona, value)
                assert not _mentions(str(api), value), (persona, value)
            assert "person.jpg" not in page and "m-person" not in media, persona
