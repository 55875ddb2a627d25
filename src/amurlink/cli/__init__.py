"""The ``amurlink`` command line (Typer): one module per command."""

from __future__ import annotations

import logging
import sys

import typer

from amurlink.cli import _lazy
from amurlink.cli._common import state
from amurlink.cli._fastparams import install as _install_fast_params

_install_fast_params()  # typer builds pydantic coercion only where a value needs it

__all__ = ["app", "main"]

app = typer.Typer(
    name="amurlink",
    help="Joint China-Russia monitoring of Amur tigers and leopards.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_lazy.LazyGroup,  # command modules are imported only when their command runs
)


def _show_version(value: bool) -> None:
    if value:
        from amurlink._version import __version__

        typer.echo(f"amurlink {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logging."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show informational logging."),
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_show_version,
                                 help="Show the amurlink version and exit."),
) -> None:
    state.debug = debug
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    fmt = "%(levelname)s %(name)s: %(message)s" if debug else "%(levelname)s: %(message)s"
    logging.basicConfig(level=level, format=fmt)


# Each command module registers itself on `app` when imported. Add new modules here: they
# are imported only when one of their commands runs (amurlink.cli._lazy).
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
    "amurlink.cli.habitat",
    "amurlink.cli.design",
    "amurlink.cli.incidents",
    "amurlink.cli.run",
    "amurlink.cli.init",
)

_lazy.configure(app, (*_COMMAND_MODULES, "amurlink.cli.report"))


def main() -> None:
    """Entry point of the ``amurlink`` console script."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
