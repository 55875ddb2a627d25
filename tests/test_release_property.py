"""Property: no registered output shows a reader more than the study's policy and the
reader's agreement allow (issue #14), whatever the data, policy, audience and agreement.

Every output registered in :data:`amurlink.release.OUTPUTS` with a producer is run on drawn
cases (:func:`amurlink.testing.release_outputs.draw_case`: positions, species, dates and
links of a two-country dataset; a study policy; owner / partner / public readers; agreements
with species subsets with and without the sensitive species, tables, levels, embargo dates)
and everything it lets out is checked (:func:`~amurlink.testing.release_outputs.
check_artifacts`): no station finer than the rules allow (decided on the COMPLETE dataset),
no row, individual, link or metadata dated on or after an embargo, no species outside the
agreement (tables, text, metadata). Fixed seeds (``derandomize``). The gate sees
``GATE_EXAMPLES`` cases in the default suite, the other data paths ``DATA_EXAMPLES`` (200
under ``-m slow``), the slow formats (GeoPackage, the report HTML) 2 (10 under ``-m slow``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from amurlink.release import OUTPUTS
from amurlink.testing.release_outputs import check_artifacts, draw_case, produce

#: The gate itself (release) on this many drawn cases in the default suite.
GATE_EXAMPLES = 200
#: Every other data path in the default suite (each costs 0.1-1 s a case on the shared
#: 2-core machine); the slow campaign runs them on SLOW_EXAMPLES cases.
DATA_EXAMPLES = 20
#: Slow formats (GeoPackage, the HTML report that the PDF prints): FILE_EXAMPLES cases.
FILE_EXAMPLES = 10
SLOW_EXAMPLES = 200

LIBRARY = sorted(n for n, o in OUTPUTS.items()
                 if o.kind in ("library", "report") and o.produce is not None)
DATA = [n for n in LIBRARY if OUTPUTS[n].cost == "data" and n != "library:release"]
FILES = [n for n in LIBRARY if OUTPUTS[n].cost == "file"]


def _settings(n: int):
    # no shrinking: a failing case is printed as drawn (shrinking these takes many minutes)
    return settings(max_examples=n, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck),
                    phases=[Phase.explicit, Phase.generate])


def _check(names, data):
    case = draw_case(data.draw)
    for name in names:
        with tempfile.TemporaryDirectory() as tmp:
            check_artifacts(name, case, produce(name, case, Path(tmp)))


def test_registry_has_producers_for_every_data_path():
    # every library / report output either has a producer or names the one covering it
    for name, out in OUTPUTS.items():
        if out.kind in ("library", "report"):
            assert out.produce is not None or out.via in OUTPUTS, name
            assert out.producer() is not None or out.via is not None, name
    assert {"library:exchange-export", "report:view", "report:gpkg"} <= set(LIBRARY)


@_settings(GATE_EXAMPLES)
@given(data=st.data())
def test_the_gate_never_shows_more_than_allowed(data):
    """release(): the one function every output takes its data from."""
    _check(["library:release"], data)


@_settings(DATA_EXAMPLES)
@given(data=st.data())
def test_data_paths_never_show_more_than_allowed(data):
    """Each data path (apply_agreement, exchange export, cross-border, io export, the report
    view) on the same drawn case."""
    _check(DATA, data)


@pytest.mark.slow
@pytest.mark.parametrize("name", FILES)
@_settings(FILE_EXAMPLES)
@given(data=st.data())
def test_file_outputs_never_show_more_than_allowed(name, data):
    _check([name], data)


@pytest.mark.parametrize("name", FILES)
@_settings(2)
@given(data=st.data())
def test_file_outputs_smoke(name, data):
    """Two cases per slow format in the default suite (ten under ``-m slow``)."""
    _check([name], data)


@pytest.mark.slow
@_settings(SLOW_EXAMPLES)
@given(data=st.data())
def test_data_paths_long_campaign(data):
    _check(DATA, data)
