"""``amurlink serve`` starts one job worker beside the development server and stops it with
the server (the server and the migrations are replaced by stand-ins here)."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from amurlink.cli import app

pytestmark = pytest.mark.web


class _Proc:
    def __init__(self, args, env):
        self.args, self.env, self.terminated = args, env, False

    def terminate(self):
        self.terminated = True

    def wait(self, timeout=None):
        return 0


def test_serve_starts_a_worker_and_stops_it_with_the_server(monkeypatch):
    import django.core.management as management

    import amurlink.cli.serve as serve

    calls, procs = [], []
    monkeypatch.setattr(management, "call_command", lambda *a, **k: calls.append(a[0]))
    monkeypatch.setattr(serve.subprocess, "Popen",
                        lambda args, env: procs.append(_Proc(args, env)) or procs[-1])
    result = CliRunner().invoke(app, ["serve", "--no-demo", "--port", "8765"])
    assert result.exit_code == 0, result.output
    assert calls == ["migrate", "runserver"]
    assert len(procs) == 1
    assert procs[0].args == [sys.executable, "-m", "amurlink_web", "runjobs"]
    assert procs[0].terminated  # the worker stops with the server
    result = CliRunner().invoke(app, ["serve", "--no-demo", "--no-worker"])
    assert result.exit_code == 0 and len(procs) == 1
