"""``amurlink serve``: the web platform on SQLite with a demo site (Django loaded lazily)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import typer

from amurlink.cli import app
from amurlink.cli._common import EXIT_USAGE, handle_errors


@app.command("serve")
def serve_command(
    port: int = typer.Option(8000, "--port", "-p", min=1, max=65535, help="TCP port."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    demo: bool = typer.Option(True, "--demo/--no-demo",
                              help="Create the demo site (parks, users, toy data) if missing."),
    worker: bool = typer.Option(True, "--worker/--no-worker",
                                help="Start one job worker (runjobs) beside the server."),
) -> None:
    """Run the web platform (SQLite under ~/.amurlink-web unless AMURLINK_DB_URL is set).

    Log in with one of the demo users printed at start, e.g. cn-manager.
    """
    try:
        import django  # noqa: F401
    except ImportError:
        typer.secho("the web platform needs Django: pip install 'amurlink[web]'", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    # A local development server speaks plain HTTP: cookies cannot be secure-only here.
    os.environ.setdefault("AMURLINK_SECURE_COOKIES", "false")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amurlink_web.config.settings")
    with handle_errors():
        from django.core.management import call_command

        import amurlink_web

        amurlink_web.setup()
        call_command("migrate", interactive=False, verbosity=0)
        if demo:
            call_command("demo_site")
        typer.echo(f"amurlink web platform on http://{host}:{port}/ (Ctrl-C stops it)")
        proc = _start_worker() if worker else None
        # SIGTERM to the server alone (a service manager) stops it like Ctrl-C, so that the
        # worker is stopped with it rather than left behind
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            call_command("runserver", f"{host}:{port}", use_reloader=False)
        finally:
            signal.signal(signal.SIGTERM, previous)
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _start_worker() -> subprocess.Popen:
    """One ``runjobs`` worker in its own process, with this server's environment."""
    typer.echo("job worker started (python -m amurlink_web runjobs)")
    return subprocess.Popen([sys.executable, "-m", "amurlink_web", "runjobs"],
                            env=dict(os.environ))
