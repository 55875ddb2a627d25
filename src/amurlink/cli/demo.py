"""``amurlink demo``: the main job on the embedded dataset."""

from __future__ import annotations

import typer

from amurlink.cli import app
from amurlink.cli._common import EXIT_INVALID_DATA, EXIT_OK, handle_errors
from amurlink.datasets import example_path
from amurlink.io import validate_camtrap_dp


@app.command("demo")
def demo_command() -> None:
    """Run the demonstration on the bundled toy package.

    For now this validates the bundled two-country example and prints the report; that is
    all it does until the cross-border report lands (see README, "Status").
    """
    with handle_errors():
        path = example_path()
        typer.echo(f"amurlink demo: validating the bundled toy package at {path}")
        report = validate_camtrap_dp(path)
        typer.echo(report.to_text())
        typer.echo(
            "\nThat is all the demo does for now: it validates the bundled example. The joint "
            "cross-border report is not implemented yet."
        )
    raise typer.Exit(EXIT_OK if report.valid else EXIT_INVALID_DATA)
