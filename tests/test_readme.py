"""The README's commands work in sequence as written.

Every ``sh`` block of README.md is run in order in one empty folder (where ``.venv`` points at
this environment), line by line, and each step's outputs are checked. ``amurlink`` lines run
in this process through the Typer app (the same command line, parsed as the shell would);
other lines run in bash. ``make`` lines are the precondition (``make install``) or CI itself
(``make test``) or start a server (``make serve``) and are listed, not run; ``make demo`` is
``amurlink demo`` on the neaspec scenario, which ``tests/cli/test_demo.py`` runs on the small
one. The ``python`` blocks run too, after the shell blocks.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from amurlink.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"
AMURLINK = ".venv/bin/amurlink"


def blocks(lang: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    return re.findall(rf"^```{lang}\n(.*?)^```", text, flags=re.S | re.M)


def commands(block: str) -> list[str]:
    """Lines of a shell block, continuations joined, comments and blank lines left out."""
    out, cur = [], ""
    for raw in block.splitlines():
        line = raw.rstrip()
        if line.endswith("\\"):
            cur += line[:-1] + " "
            continue
        cur += line
        if cur.strip() and not cur.strip().startswith("#"):
            out.append(cur.strip())
        cur = ""
    return out


def test_the_readme_has_no_placeholders():
    assert blocks("sh") and blocks("python")
    for block in blocks("sh") + blocks("python"):
        for word in ("path/to", "...", "YOUR", "xxx"):
            assert word not in block, (word, block)
        assert not re.search(r"<[A-Za-z_ -]+>", block), block  # <placeholder>


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    """Run every sh block in order; returns the folder and each command's result."""
    root = tmp_path_factory.mktemp("readme")
    (root / ".venv").symlink_to(Path(sys.prefix))
    runner = CliRunner()
    results: list[tuple[str, int, str]] = []
    old = Path.cwd()
    os.chdir(root)
    try:
        for block in blocks("sh"):
            for cmd in commands(block):
                if cmd.startswith("make "):
                    results.append((cmd, 0, "not run (make)"))
                    continue
                words = shlex.split(cmd, comments=True)
                if words and words[0] == AMURLINK:
                    res = runner.invoke(app, words[1:])
                    results.append((cmd, res.exit_code, res.output))
                else:
                    proc = subprocess.run(["bash", "-c", cmd], cwd=root, capture_output=True,
                                          text=True, timeout=600, check=False)
                    results.append((cmd, proc.returncode, proc.stdout + proc.stderr))
        for block in blocks("python"):
            exec(compile(block, "README.md", "exec"), {})  # noqa: S102 - the README's code
    finally:
        os.chdir(old)
    return root, results


def test_every_readme_command_succeeds(walked):
    _, results = walked
    assert any(AMURLINK in c for c, _, _ in results)
    for cmd, code, output in results:
        assert code == 0, f"{cmd!r} exited {code}:\n{output[-3000:]}"


def _output(results, start):
    return [out for cmd, _, out in results if cmd.startswith(start)]


def test_each_step_leaves_what_the_next_needs(walked):
    root, results = walked
    sim = root / "sim"
    for name in ("amurlink.toml", "agreement.toml", "crosswalk.csv", "border.geojson",
                 "cn/datapackage.json", "ru/ru.mapping.toml"):
        assert (sim / name).is_file(), name
    out = sim / "output"
    record = json.loads((out / "run-record.json").read_text(encoding="utf-8"))
    assert {v["status"] for v in record["stages"].values()
            if not v["status"].startswith("skipped: no")} <= {"ok", "cached"}
    runs = _output(results, f"{AMURLINK} run sim")
    assert len(runs) == 2 and "unchanged" in runs[1] and "done" not in runs[1]
    for name in ("en", "zh", "ru", "public-en"):
        assert (out / "report" / name / "report.html").is_file(), name
    joint = root / "joint"
    for name in ("datapackage.json", "manifest.json", "amurlink.toml", "border.geojson"):
        assert (joint / name).is_file(), name
    cb = json.loads(_output(results, f"{AMURLINK} crossborder joint")[0])
    assert cb["individuals"], cb.keys()
    html = (root / "report" / "report.html").read_text(encoding="utf-8")
    assert 'lang="zh' in html and "No results: no border" not in html
    assert (root / "to-partner.zip").is_file()
    assert (root / "my-study" / "amurlink.toml").is_file()
