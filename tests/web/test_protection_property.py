"""Property: no page or API response carries a position finer than its reader may see.

Two parts: the pages and API answers of the six personas on uploaded packages with drawn
positions (``ProtectionPropertyTest``, through the test client), and every registered web
data path (:data:`amurlink.release.OUTPUTS`, ``web:*`` with a producer) on ``WEB_EXAMPLES``
(200) drawn cases each - readers the platform has (owner, partner under a drawn agreement,
public), study policies, agreements - checked by
:func:`amurlink.testing.release_outputs.check_artifacts`; ``SLOW_WEB_EXAMPLES`` under
``-m slow``. Outputs that share a producer (a page and the API endpoint serving the same
rows) are one test: the producer runs once per case and its output is checked for all of
them. A fixed seed of its own per producer. Time (2026-12-07, shared 2-core machine under
load average 4-17, serially, two runs): 169-221 s wall / 90-113 s CPU for this module; with
the library property test and tests/fuzz an estimated 3-4 minutes of ``make test``
(``-n 2``), see docs/security.md, "Property tests: examples and time".
"""

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
    @settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck),
              derandomize=True, database=None)
    @given(coords=st.lists(coordinate, min_size=3, max_size=3, unique=True))
    def test_no_position_finer_than_allowed(self, coords):
        self.check(coords)

    @pytest.mark.slow
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck),
              derandomize=True, database=None)
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


# ---------------------------------------------------------------------------------------------
# The web data paths of the output registry (amurlink.release.OUTPUTS), on drawn cases
# ---------------------------------------------------------------------------------------------
import zlib  # noqa: E402

from hypothesis import Phase, seed  # noqa: E402

from amurlink.release import OUTPUTS  # noqa: E402
from amurlink.testing.release_outputs import case_options, check_artifacts, draw_case  # noqa: E402,I001

#: Cases per web data path in the default suite (issue #14: at least 200) and under -m slow.
WEB_EXAMPLES = 200
SLOW_WEB_EXAMPLES = 1000

#: The registered web outputs with a producer, grouped by producer: outputs that share one
#: (a page and the API endpoint that serve the same rows) run it once per case, and what it
#: lets out is checked for all of them.
WEB_PATHS: dict[str, list[str]] = {}
for _name, _out in sorted(OUTPUTS.items()):
    if _out.kind == "web" and _out.produce is not None:
        WEB_PATHS.setdefault(str(_out.produce), []).append(_name)


def _run_web(producer: str, examples: int) -> None:
    names = WEB_PATHS[producer]
    produce_web = OUTPUTS[names[0]].producer()
    options = case_options(names[0])

    @seed(zlib.crc32(producer.encode()))  # a fixed seed of its own per producer
    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(data=st.data())
    def check(data):
        case = draw_case(data.draw, **options)
        with tempfile.TemporaryDirectory() as tmp:
            artifacts = produce_web(case, Path(tmp))
            assert artifacts, f"{names} let nothing out for a case drawn for the web: {case}"
            check_artifacts(" / ".join(names), case, artifacts)

    check()


def test_web_paths_cover_the_registry():
    assert {"web:api-deployments", "web:dataset-detail", "web:api-dataset",
            "web:dataset-map", "web:joint-map"} <= {n for ns in WEB_PATHS.values() for n in ns}


@pytest.mark.parametrize("producer", sorted(WEB_PATHS))
def test_web_data_path_never_shows_more_than_allowed(producer):
    """Pages, API rows, summaries and maps of drawn readers, agreements and policies."""
    _run_web(producer, WEB_EXAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize("producer", sorted(WEB_PATHS))
def test_web_data_path_long_campaign(producer):
    _run_web(producer, SLOW_WEB_EXAMPLES)


# ---------------------------------------------------------------------------------------------
# Review findings through the platform itself
# ---------------------------------------------------------------------------------------------
class ReviewFindingsTest(BaseTestCase):
    """Finding 1 (scoping lowered protection), 2 (the study's [protection] ignored) and 3
    (metadata leaked) through the API, as a partner reads it."""

    def _partner_rows(self):
        client = self.client_for("partner")
        return (client.get(f"/api/datasets/{self.dataset.pk}/deployments/").json(),
                client.get(f"/api/datasets/{self.dataset.pk}/").json())

    def _exact(self):
        stored = read_camtrap_dp(package_path(self.dataset))
        return set(zip(stored.deployments["latitude"], stored.deployments["longitude"],
                       strict=True))

    def test_roe_deer_agreement_does_not_release_tiger_stations(self):
        from amurlink_web.apps.sharing.services import agreement_save

        agreement_save(provider=self.cn, recipient=self.ru, level="exact",
                       species=["Capreolus pygargus"])
        rows, detail = self._partner_rows()
        shown = {(r["latitude"], r["longitude"]) for r in rows["results"]}
        assert shown and not shown & self._exact()  # old code: all three exact
        # metadata follows the data: the summary names roe deer only
        assert detail["species"] == ["Capreolus pygargus"]
        assert detail["observations"] == 1

    def test_embargo_reaches_the_summary(self):
        import datetime as dt

        from amurlink_web.apps.sharing.services import agreement_save

        agreement_save(provider=self.cn, recipient=self.ru, level="1km",
                       embargo_date=dt.date(2014, 9, 13))
        _, detail = self._partner_rows()
        assert detail["lastRecord"] < "2014-09-13"
        assert detail["firstRecord"] is not None

    def test_the_study_protection_settings_apply(self):
        from django.test import override_settings

        with tempfile.TemporaryDirectory() as tmp:
            toml = Path(tmp) / "amurlink.toml"
            toml.write_text('[protection]\npartner = "10km"\npartner_sensitive = "withheld"\n'
                            'public = "withheld"\n', encoding="utf-8")
            with override_settings(STUDY_CONFIG=str(toml)):
                from amurlink_web.apps.datasets.selectors import study_policy

                assert study_policy().partner_sensitive_level == "withheld"
                rows, _ = self._partner_rows()
                shown = {(r["latitude"], r["longitude"]) for r in rows["results"]}
                # every CN toy station saw a tiger or a leopard: withheld, one point for all
                assert len(shown) == 1 and not shown & self._exact()
        rows, _ = self._partner_rows()  # back to the default study: 1 km cells, one per station
        assert len({(r["latitude"], r["longitude"]) for r in rows["results"]}) == 3
