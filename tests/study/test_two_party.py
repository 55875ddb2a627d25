"""``[links] two_party`` reaches the cross-border analysis of ``amurlink run`` and the report.

The toy dataset's tiger (CN-NTLNP:T01 = RU-LLNP:T-1) is accepted by the Chinese reviewer
only. Under the two-party rule (the default) it is two animals, neither recorded in both
countries; with ``two_party = false`` one reviewer's acceptance joins them, so the tiger is
one transboundary animal with one crossing, in the run's table and in the report alike.
"""

from __future__ import annotations

import pandas as pd
import pytest
import shapely

from amurlink.analysis.crossborder import crossborder
from amurlink.config import StudyConfig
from amurlink.core.border import Border
from amurlink.core.crs import to_metric
from amurlink.testing import make_toy_dataset

TIGER = "Panthera tigris"


def _border() -> Border:
    x, y = to_metric([131.0, 131.0, 130.5, 130.5, 131.5, 131.5],
                     [42.5, 43.7, 42.5, 43.7, 42.5, 43.7])
    line = shapely.LineString([(x[0], y[0]), (x[1], y[1])])
    cn = shapely.Polygon([(x[2], y[2]), (x[3], y[3]), (x[1], y[1]), (x[0], y[0])])
    ru = shapely.Polygon([(x[0], y[0]), (x[1], y[1]), (x[5], y[5]), (x[4], y[4])])
    return Border.from_geometries(line, countries={"CN": cn, "RU": ru})


def _one_side_only():
    ds = make_toy_dataset()
    links = ds["identityLinks"]
    return ds.replace(identityLinks=links[links["linkEventID"] != "L3"].reset_index(drop=True))


def _tiger(summary: pd.DataFrame) -> list[int]:
    s = summary.set_index("scientificName")
    return [int(s.loc[TIGER, "individuals"]), int(s.loc[TIGER, "transboundary"])]


def test_crossborder_follows_the_two_party_rule():
    ds, border = _one_side_only(), _border()
    assert _tiger(crossborder(ds, border=border).summary) == [2, 0]  # default: two-party
    one = crossborder(ds, border=border, two_party=False)
    assert _tiger(one.summary) == [1, 1]
    assert one.individuals["crossings"].sum() == 1
    assert one.parameters["two_party"] is False


@pytest.mark.parametrize("two_party", [True, False])
def test_the_run_and_the_report_take_links_two_party_from_the_config(tmp_path, two_party):
    from amurlink.core.protection import Audience
    from amurlink.report import ReportInputs, build_view
    from amurlink.report._sections import crossborder_counts
    from amurlink.study import Study
    from amurlink.study._runner import StageContext
    from amurlink.study.stages import _crossborder

    config = StudyConfig.from_dict({"links": {"two_party": two_party}})
    ds, border = _one_side_only(), _border()
    study = Study(tmp_path, config, tmp_path / "out")
    ctx = StageContext(study, results={"harmonise": {"dataset": ds, "analysis": ds,
                                                     "border": border}})
    table = _crossborder(ctx).set_index("scientificName")
    expected = [1, 1] if not two_party else [0, 0]  # both countries, crossings
    assert [int(table.loc[TIGER, "both_countries"]),
            int(table.loc[TIGER, "crossings"])] == expected
    view = build_view(ReportInputs(dataset=ds, config=config, border=border),
                      audience=Audience.owner())
    assert _tiger(crossborder_counts(view).summary) == ([2, 0] if two_party else [1, 1])
    assert _tiger(view.crossborder.summary) == _tiger(crossborder_counts(view).summary)
    confirmed = view.links[view.links["status"] == "confirmed"]
    assert len(confirmed) == (0 if two_party else 1)  # the report's link list agrees


@pytest.mark.parametrize("two_party", [True, False])
def test_secr_capture_histories_follow_the_two_party_rule(two_party):
    """The SECR stage's joint history: one tiger (one reviewer's acceptance joins the two
    national IDs) only with ``two_party = false``; each country's own history is unchanged."""
    from amurlink.analysis.secr import capthist_from_dataset

    ds, border = _one_side_only(), _border()
    kw = {"border": border, "species": TIGER, "life_stage": None, "occasion_days": 7.0}
    joint = capthist_from_dataset(ds, two_party=two_party, **kw)
    default = capthist_from_dataset(ds, **kw)
    assert joint.n == (2 if two_party else 1)
    assert default.n == 2  # the default is the two-party rule
    for cc in ("CN", "RU"):
        assert capthist_from_dataset(ds, country=cc, two_party=two_party, **kw).n == 1
