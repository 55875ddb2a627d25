"""``amurlink --help`` and ``--version`` start without numpy or pandas (checked in a child
process, where nothing else has imported them); commands still load and run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

_PROBE = """
import json, sys
from amurlink.cli import main
sys.argv = ["amurlink", *{args!r}]
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code or 0
heavy = sorted(m for m in ("numpy", "pandas") if m in sys.modules)
print(json.dumps({{"code": code, "heavy": heavy}}))
"""


def _run(*args: str) -> tuple[dict, str]:
    proc = subprocess.run([sys.executable, "-c", _PROBE.format(args=list(args))],
                          capture_output=True, text=True, timeout=120, check=False)
    last = proc.stdout.strip().splitlines()[-1]
    return json.loads(last), proc.stdout


@pytest.mark.parametrize("args", [("--help",), ("--version",), ()])
def test_help_and_version_import_neither_numpy_nor_pandas(args):
    result, out = _run(*args)
    assert result["heavy"] == [], out
    assert result["code"] in (0, 2)  # no arguments shows the help (exit code 2 in click 8.2)


def test_version_prints_the_version():
    from amurlink._version import __version__

    result, out = _run("--version")
    assert result["code"] == 0
    assert out.splitlines()[0] == f"amurlink {__version__}"


def test_help_lists_every_command_without_importing_them():
    from amurlink.cli import _lazy

    result, out = _run("--help")
    for name in ("report", "crossborder", "camtrap", "links", "validate"):
        assert name in _lazy.command_index()
        assert f" {name} " in out, name


def test_a_command_is_loaded_when_it_runs(tmp_path):
    """Negative control of the probe: running a data command does import pandas."""
    missing = tmp_path / "nothing"
    result, out = _run("validate", str(missing))
    assert result["code"] == 1, out
    assert "pandas" in result["heavy"]


def test_warnings_are_one_plain_line(capsys):
    """No warning class, file or line in the terminal: what happened and what to do."""
    import warnings

    from amurlink.cli._common import handle_errors
    from amurlink.exceptions import AmurlinkWarning

    saved = warnings.showwarning
    try:
        with handle_errors(), warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn("3 records before set-up were left out; check the cameras' clocks",
                          AmurlinkWarning, stacklevel=1)
    finally:
        warnings.showwarning = saved
    err = capsys.readouterr().err
    assert err.strip() == ("warning: 3 records before set-up were left out; check the "
                           "cameras' clocks")
