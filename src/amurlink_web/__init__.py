"""amurlink web platform (Django 5.2): uses the amurlink library, never the reverse."""

from __future__ import annotations

import os
import sys

__all__ = ["main", "setup"]

SETTINGS_MODULE = "amurlink_web.config.settings"


def setup() -> None:
    """Point Django at the amurlink settings (unless already chosen) and load the apps."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    import django

    django.setup()


def main(argv: list[str] | None = None) -> None:
    """``python -m amurlink_web <command>``: Django's manage.py for this project."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["amurlink-web", *(sys.argv[1:] if argv is None else argv)])
