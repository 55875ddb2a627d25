"""Report fixtures: the toy dataset with a hand-made border, reports written once per session."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def toy_inputs():
    from amurlink.config import load_config
    from amurlink.datasets import example_config_path, load_example
    from amurlink.report import ReportInputs
    from amurlink.report.demo import toy_border

    return ReportInputs(dataset=load_example(), config=load_config(example_config_path()),
                        border=toy_border())


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
