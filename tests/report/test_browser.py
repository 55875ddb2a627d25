"""Headless chromium: the report renders a CJK glyph in every language; a screenshot."""

from __future__ import annotations

import subprocess

import pytest

from amurlink.report.render import CHROMIUM_FLAGS


@pytest.mark.parametrize("lang", ["en", "zh", "ru"])
def test_cjk_font_renders_and_screenshot(reports, chromium, lang, tmp_path):
    url = reports["partner", lang].html.resolve().as_uri()
    base = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=5000"]
    dom = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    # set by the report's own script from document.fonts.check('16px "AmurlinkCJK"', "虎")
    assert 'data-cjk-font="yes"' in dom, "no CJK font: install fonts-noto-cjk"
    shot = tmp_path / "shot.png"
    subprocess.run([*base, f"--screenshot={shot}", "--window-size=1000,1400", url],
                   capture_output=True, timeout=120, check=True)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
