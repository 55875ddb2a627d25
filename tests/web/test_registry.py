"""Every URL of the web platform and every CLI command is in the output registry.

A new page, endpoint, download or command that is not registered fails here, with the line
to add: every output must say how it takes its data through :func:`amurlink.release.release`
(or that it shows none).
"""

from __future__ import annotations

import importlib

import pytest

from amurlink.release import OUTPUTS, unregistered

pytestmark = pytest.mark.web

_HOW = ('add register_output("{name}", description=..., produce=... | via="<registered '
        'output>" | shows_data=False | owner_only=True) to src/amurlink/release.py '
        "(see docs/security.md, 'The output registry')")


def url_names() -> list[str]:
    """Every named URL pattern of the platform (include()d ones too)."""
    from django.urls import URLPattern, URLResolver, get_resolver

    out: list[str] = []

    def walk(patterns):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns)
            elif isinstance(p, URLPattern):
                out.append(p.name or f"<unnamed {p.pattern}>")

    walk(get_resolver().url_patterns)
    return out


def cli_commands() -> list[str]:
    """Every command path of the ``amurlink`` CLI (``exchange export``, ``report``...)."""
    import typer

    import amurlink.cli as cli

    for module in (*cli._COMMAND_MODULES, "amurlink.cli.report"):
        importlib.import_module(module)  # the CLI loads its modules lazily
    root = typer.main.get_group(cli.app)
    out: list[str] = []

    def walk(cmd, path):
        children = getattr(cmd, "commands", None)
        if children:
            for name, sub in children.items():
                walk(sub, (*path, name))
        else:
            out.append(" ".join(path))

    walk(root, ())
    return out


def test_every_url_is_registered():
    names = url_names()
    assert len(names) > 20 and "api-deployments" in names
    missing = unregistered(f"web:{n}" for n in names)
    assert not missing, "URL(s) missing from the output registry: " + "; ".join(
        _HOW.format(name=n) for n in missing)


def test_every_cli_command_is_registered():
    names = cli_commands()
    assert "exchange export" in names and "report" in names
    missing = unregistered(f"cli:{n}" for n in names)
    assert not missing, "CLI command(s) missing from the output registry: " + "; ".join(
        _HOW.format(name=n) for n in missing)


def test_no_registered_url_or_command_is_stale():
    """The registry names nothing that does not exist (a renamed URL must be re-registered)."""
    urls = {f"web:{n}" for n in url_names()}
    cmds = {f"cli:{n}" for n in cli_commands()}
    stale = [n for n, o in OUTPUTS.items()
             if (o.kind == "web" and n not in urls) or (o.kind == "cli" and n not in cmds)]
    assert not stale, f"registered but gone: {stale}; remove them from src/amurlink/release.py"


def test_the_walk_catches_an_unregistered_url(monkeypatch):
    """Negative control: a registry without one URL makes the check fail."""
    monkeypatch.delitem(OUTPUTS, "web:api-deployments")
    assert unregistered(f"web:{n}" for n in url_names()) == ["web:api-deployments"]
