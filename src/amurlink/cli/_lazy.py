"""Command modules imported only when their command runs.

``amurlink --help`` and ``amurlink --version`` must start fast and import neither numpy nor
pandas. The command modules listed in ``amurlink.cli._COMMAND_MODULES`` register themselves
on ``app`` when imported (``@app.command("name")`` or ``app.add_typer(sub, name="name")``),
as before; this module finds their command names and one-line help by reading their source
(:mod:`ast`, nothing imported) and imports a module only when one of its commands is run or
its own help is asked for. Adding a command stays one line in ``_COMMAND_MODULES``.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from typer import _click
from typer.core import TyperCommand, TyperGroup

__all__ = ["LazyGroup", "configure", "command_index"]

_STATE: dict[str, Any] = {"app": None, "modules": ()}


@dataclass(frozen=True)
class Entry:
    module: str
    help: str


def configure(app: typer.Typer, modules: Sequence[str]) -> None:
    """Tell the group which Typer app and command modules it serves."""
    _STATE["app"] = app
    _STATE["modules"] = tuple(modules)
    command_index.cache_clear()


_STR = r'(?:[rRuU]?"(?:[^"\\\n]|\\.)*"\s*)+'
_COMMAND = re.compile(
    r'^@app\.command\((?P<args>[^)]*)\)\s*\n(?:@.*\n)*def\s+(?P<func>\w+)\(.*?\)\s*'
    r'(?:->\s*[^:\n]+)?:\s*\n\s+(?P<q>"""|\'\'\')(?P<doc>.*?)(?P=q)', re.M | re.S)
_ADD_TYPER = re.compile(r'^app\.add_typer\(\s*(?P<sub>\w+)\s*,(?P<args>[^)]*)\)', re.M)
_TYPER = re.compile(r'^(?P<var>\w+)\s*=\s*typer\.Typer\((?P<args>.*?)\)\s*$', re.M | re.S)


def _kwarg(args: str, name: str) -> str | None:
    """The string value of keyword ``name`` in a call's argument text (None if absent)."""
    m = re.search(rf"\b{name}\s*=\s*\(?\s*(?P<v>{_STR})", args)
    if not m:
        return None
    try:
        value = ast.literal_eval("(" + m.group("v") + ")")
    except (SyntaxError, ValueError):
        return None
    return value if isinstance(value, str) else None


def _first_line(text: str | None) -> str:
    if not text:
        return ""
    return text.strip().split("\n\n")[0].replace("\n", " ").strip()


def _scan(module: str) -> dict[str, str]:
    """Command name -> help text of the commands ``module`` registers on ``app``.

    Read from the source with regular expressions (``ast`` on every command module costs
    more than the whole start-up should).
    """
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return {}
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return {}
    try:
        src = Path(spec.origin).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    out: dict[str, str] = {}
    typers = {m.group("var"): _kwarg(m.group("args"), "help") or ""
              for m in _TYPER.finditer(src)}
    for m in _ADD_TYPER.finditer(src):
        name = _kwarg(m.group("args"), "name")
        if name:
            out[name] = _kwarg(m.group("args"), "help") or typers.get(m.group("sub"), "")
    for m in _COMMAND.finditer(src):
        args = m.group("args")
        first = re.match(rf"\s*(?P<v>{_STR})", args)
        name = (_kwarg(args, "name")
                or (ast.literal_eval(first.group("v")) if first else None)
                or m.group("func").replace("_", "-"))
        out[name] = _kwarg(args, "help") or m.group("doc")
    return out


@functools.lru_cache(maxsize=1)
def command_index() -> dict[str, Entry]:
    """Every command of the configured modules (first module wins on a clash)."""
    index: dict[str, Entry] = {}
    for module in _STATE["modules"]:
        for name, text in _scan(module).items():
            index.setdefault(name, Entry(module, text))
    return index


class LazyGroup(TyperGroup):
    """The root group: lists every command, imports a command's module only to run it."""

    def list_commands(self, ctx: _click.Context) -> list[str]:
        names = list(self.commands)
        return names + [n for n in command_index() if n not in self.commands]

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        cmd = self.commands.get(cmd_name)
        if cmd is not None:
            return cmd
        entry = command_index().get(cmd_name)
        if entry is None:
            return None
        # listed in the help only: a stand-in with the command's help text
        return TyperCommand(name=cmd_name, help=_first_line(entry.help))

    def format_help(self, ctx: _click.Context, formatter: Any) -> None:
        """The root help in plain text: rich's help renderer alone costs more import time
        than the whole start-up target (0.5 s); each command's own help stays rich."""
        mode = self.rich_markup_mode
        self.rich_markup_mode = None
        try:
            super().format_help(ctx, formatter)
        finally:
            self.rich_markup_mode = mode

    def resolve_command(self, ctx: _click.Context, args: list[str]) -> Any:
        if args and args[0] not in self.commands:
            self.load(args[0])
        return super().resolve_command(ctx, args)

    def load(self, cmd_name: str) -> None:
        """Import the module of ``cmd_name`` and add the commands it registered."""
        entry = command_index().get(cmd_name)
        app = _STATE["app"]
        if entry is None or app is None:
            return
        importlib.import_module(entry.module)
        built = typer.main.get_group(app)
        for name, cmd in built.commands.items():
            self.commands.setdefault(name, cmd)
