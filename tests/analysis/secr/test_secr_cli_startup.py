"""``amurlink secr`` start-up: typer's pydantic coercion is built only for values that need
it (``amurlink.cli._fastparams``), with the same results and errors as typer's own."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from amurlink.cli import _fastparams, app
from amurlink.cli._common import OutputFormat

runner = CliRunner()


def test_secr_usage_error_does_not_import_pydantic():
    code = ("import sys\nsys.argv = ['amurlink', 'secr']\nfrom amurlink.cli import main\n"
            "try:\n    main()\nexcept SystemExit as e:\n    rc = e.code\n"
            "print('PYDANTIC' if 'pydantic' in sys.modules else 'NOPYDANTIC', rc)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=False)
    assert "NOPYDANTIC 2" in out.stdout, (out.stdout, out.stderr)
    assert "give JOINT_DIR" in out.stderr


def test_install_is_idempotent():
    assert _fastparams.install() and _fastparams.install()
    import typer.core as tcore

    assert getattr(tcore.build_runtime_param, "_amurlink_lazy", False)


def _toy_app() -> typer.Typer:
    toy = typer.Typer()
    seen: dict = {}

    @toy.command()
    def run(name: str = typer.Option("a", "--name"),
            maybe: str | None = typer.Option(None, "--maybe"),
            n: int | None = typer.Option(None, "--n"),
            x: float = typer.Option(1.5, "--x"),
            k: int = typer.Option(3, "--k"),
            y: float = typer.Option(2, "--y"),
            many: list[str] | None = typer.Option(None, "--many"),
            fmt: OutputFormat = typer.Option(OutputFormat.text, "--format")) -> None:
        seen.update(name=name, maybe=maybe, n=n, x=x, many=many, fmt=fmt, k=k, y=y)

    toy.seen = seen  # type: ignore[attr-defined]
    return toy


def test_values_and_errors_are_typers():
    assert _fastparams.install()
    toy = _toy_app()
    res = runner.invoke(toy, [])
    assert res.exit_code == 0, res.output
    assert (toy.seen["name"], toy.seen["maybe"], toy.seen["n"], toy.seen["x"]) == (
        "a", None, None, 1.5)
    assert toy.seen["fmt"] is OutputFormat.text and not toy.seen["many"]
    # defaults as pydantic's lax validation gives them: the int as is, an int as a float
    assert type(toy.seen["k"]) is int and toy.seen["k"] == 3
    assert type(toy.seen["y"]) is float and toy.seen["y"] == 2.0
    res = runner.invoke(toy, ["--name", "b", "--maybe", "m", "--n", "3", "--x", "2",
                              "--many", "p", "--many", "q", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert toy.seen["fmt"] is OutputFormat.json and toy.seen["n"] == 3
    assert toy.seen["x"] == 2.0 and list(toy.seen["many"]) == ["p", "q"]
    assert (toy.seen["name"], toy.seen["maybe"]) == ("b", "m")
    res = runner.invoke(toy, ["--k", "5", "--y", "0.25"])
    assert res.exit_code == 0, res.output
    assert (toy.seen["k"], toy.seen["y"]) == (5, 0.25)
    for bad in (["--format", "xml"], ["--n", "three"], ["--x", "fast"], ["--k", "five"],
                ["--k", "1.5"]):
        res = runner.invoke(toy, bad)
        assert res.exit_code == 2, (bad, res.output)
    assert "xml" in runner.invoke(toy, ["--format", "xml"]).output


@pytest.mark.parametrize("args", [["secr", "--traps", "t.csv"], ["secr", "--detector", "nope"]])
def test_secr_errors_unchanged(args):
    res = runner.invoke(app, args)
    assert res.exit_code == 2
