"""Report fixtures: the toy dataset with a hand-made border, reports written once per session."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"


def photo_link_frames():
    """Hand-made frames shaped as ``compare_links`` / ``summarise_link_comparison`` give them.

    Pairs of each outcome, the false proposal with no known truth (<NA>), and a true pair
    in neither list (no outcome). The per-species frame is indexed by ``scientificName``.
    """
    import pandas as pd

    pairs = pd.DataFrame({
        "scientificName": ["Panthera tigris", "Panthera tigris", "Panthera tigris",
                           "Panthera pardus"],
        "cn_individualID": ["CN-NTLNP:T01", "CN-NTLNP:T02", "CN-NTLNP:T05", "CN-NTLNP:L07"],
        "ru_individualID": ["RU-LLNP:T-1", "RU-LLNP:T-2", "RU-LLNP:T-4", "RU-LLNP:L-9"],
        "score": [0.93, float("nan"), float("nan"), 0.71],
        "in_photo": [True, False, False, True],
        "in_crosswalk": [True, True, False, False],
        "in_truth": pd.array([True, True, True, pd.NA], dtype="boolean"),
        "outcome": ["agreement", "miss", None, "false proposal"],
    })
    species = pd.DataFrame({
        "scientificName": ["Panthera tigris", "Panthera pardus"],
        "agreements": [1, 0], "misses": [1, 0], "false_proposals": [0, 1],
        "photo_precision_truth": [1.0, float("nan")], "photo_recall_truth": [1 / 3, 0.0],
        "crosswalk_precision_truth": [1.0, float("nan")],
        "crosswalk_recall_truth": [2 / 3, 0.0],
    }).set_index("scientificName")
    return {"pairs": pairs, "species": species}


@pytest.fixture(scope="session")
def toy_inputs():
    """The toy package with its camera-trap results and hand-made photo-link frames."""
    from amurlink.config import load_config
    from amurlink.datasets import example_config_path, load_example
    from amurlink.report import ReportInputs
    from amurlink.report.demo import camtrap_tables, toy_border

    ds = load_example()
    return ReportInputs(dataset=ds, config=load_config(example_config_path()),
                        border=toy_border(), camtrap=camtrap_tables(ds),
                        photo_links=photo_link_frames())


@pytest.fixture(scope="session")
def reports(toy_inputs, tmp_path_factory):
    """``(audience, lang) -> ReportFiles`` for owner/partner/public in en/zh/ru."""
    from amurlink.report import build_view, write_report
    from amurlink.report.render import audience_for

    root = tmp_path_factory.mktemp("reports")
    out = {}
    for aud in ("owner", "partner", "public"):
        view = build_view(toy_inputs, audience=audience_for(aud))
        for lang in ("en", "zh", "ru"):
            out[aud, lang] = write_report(toy_inputs, root / f"{aud}-{lang}", lang=lang,
                                          audience=aud, view=view)
    return out


@pytest.fixture(scope="session")
def chromium():
    """Path of Debian's chromium; skipped when absent, an error when ``CI=true``."""
    if os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    reason = (f"{CHROMIUM} not found; install it with `apt-get install chromium fonts-noto-cjk` "
              "(.ci/run does) to run the browser tests")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)
    return shutil.which("chromium")
