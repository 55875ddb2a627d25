"""``amurlink init DIR``: write a commented study folder."""

from __future__ import annotations

from pathlib import Path

import typer

from amurlink.cli import app
from amurlink.cli._common import usage_error


@app.command("init")
def init_command(
    folder: Path = typer.Argument(..., help="Study folder to create (or fill)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing amurlink.toml."),
) -> None:
    """Write FOLDER/amurlink.toml (settings and a commented \\[inputs]) and a README.

    Put the files it names beside it, then `amurlink run FOLDER`. Exit code 0, or 2 when
    FOLDER/amurlink.toml exists (use --force).
    """
    from amurlink.study.init import init_study

    try:
        root = init_study(folder, overwrite=force)
    except FileExistsError as exc:
        raise usage_error(str(exc)) from None
    typer.echo(f"wrote {root / 'amurlink.toml'}: fill in [inputs], then "
               f"`amurlink run {folder}` (docs/study.md)")
