"""Shared options, output rendering and error handling for every CLI command."""

from __future__ import annotations

import contextlib
import enum
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import typer

from amurlink.exceptions import AmurlinkError

#: Exit codes of every command.
EXIT_OK = 0
EXIT_INVALID_DATA = 1
EXIT_USAGE = 2


@dataclass
class _State:
    debug: bool = False


state = _State()


class OutputFormat(str, enum.Enum):  # noqa: UP042 - Typer choices need str values
    text = "text"
    json = "json"


FORMAT_OPTION = typer.Option(
    OutputFormat.text, "--format", "-f", help="Output format: human-readable text or JSON."
)


def emit_json(payload: Any) -> None:
    """Write ``payload`` as JSON on stdout (dates and numpy values made plain)."""
    typer.echo(json.dumps(payload, indent=2, ensure_ascii=False, default=_plain))


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


@contextlib.contextmanager
def handle_errors() -> Iterator[None]:
    """Turn amurlink errors into a one-line message and exit code 1 (2 for usage errors).

    With ``--debug`` the traceback is shown instead.
    """
    if not state.debug:
        import warnings

        warnings.showwarning = _show_warning
    try:
        yield
    except typer.Exit:
        raise
    except AmurlinkError as exc:
        if state.debug:
            raise
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(EXIT_INVALID_DATA) from None
    except (OSError, ValueError) as exc:
        if state.debug:
            raise
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(EXIT_INVALID_DATA) from None
    except Exception as exc:  # noqa: BLE001 - last resort: never a bare traceback
        if state.debug:
            raise
        typer.secho(
            f"internal error (a fault in amurlink, not in your data): {exc}\n"
            "Run again with --debug for the details and report it as a bug.",
            err=True,
            fg=typer.colors.RED,
        )
        raise typer.Exit(EXIT_INVALID_DATA) from None


def _show_warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None,
                  line: Any = None) -> None:
    """A warning as one plain line: what happened and what to do (the message says both),
    without the warning's class, file or line (``--debug`` shows Python's usual form)."""
    typer.secho(f"warning: {message}", err=True, fg=typer.colors.YELLOW)


def usage_error(message: str) -> typer.Exit:
    """Print a usage error and return the Exit to raise (code 2)."""
    typer.secho(f"usage error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(EXIT_USAGE)


def terminal_width(default: int = 100) -> int:
    """Columns of the terminal (``COLUMNS`` or the tty), ``default`` when not a terminal."""
    import os
    import shutil

    if os.environ.get("COLUMNS", "").isdigit():
        return max(40, int(os.environ["COLUMNS"]))
    return max(40, shutil.get_terminal_size((default, 24)).columns)


def table_text(frame: Any, *, width: int | None = None, **to_string: Any) -> str:
    """A data frame as text no wider than the terminal: columns that do not fit continue in
    blocks below (pandas' ``line_width``), each block repeating the rows' labels."""
    width = width or terminal_width()
    return frame.to_string(line_width=width, **to_string)


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()
