"""The ``amurlink`` command line (Typer): one module per command."""

from __future__ import annotations

import importlib
import logging
import sys

import typer

from amurlink.cli._common import state

__all__ = ["app", "main"]

app = typer.Typer(
    name="amurlink",
    help="Joint China-Russia monitoring of Amur tigers and leopards.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logging."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show informational logging."),
) -> None:
    state.debug = debug
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


# Each command module registers itself on `app` when imported. Add new modules here.
_COMMAND_MODULES = (
    "amurlink.cli.validate",
    "amurlink.cli.demo",
    "amurlink.cli.links",
    "amurlink.cli.genotypes",
    "amurlink.cli.secr",
    "amurlink.cli.simulate",
    "amurlink.cli.camtrap",
    "amurlink.cli.crossborder",
    "amurlink.cli.serve",
    "amurlink.cli.harmonise",
    "amurlink.cli.photos",
    "amurlink.cli.exchange",
    "amurlink.cli.corridors",
    "amurlink.cli.design",
    "amurlink.cli.incidents",
)

for _name in _COMMAND_MODULES:
    importlib.import_module(_name)


def main() -> None:
    """Entry point of the ``amurlink`` console script."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
