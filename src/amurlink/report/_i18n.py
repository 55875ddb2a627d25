"""Report languages: gettext catalogs (English source strings, Chinese and Russian catalogs)."""

from __future__ import annotations

import functools
import gettext
from pathlib import Path

__all__ = ["LANGUAGES", "N_", "translation", "check_language"]

#: Folder of the catalogs and the gettext domain (see ``amurlink.report._msgfmt``).
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
DOMAIN = "amurlink"

#: Languages a report is written in (English is the source language of the catalogs).
LANGUAGES: tuple[str, ...] = ("en", "zh", "ru")
#: BCP 47 tags for the HTML ``lang`` attribute.
HTML_LANG = {"en": "en", "zh": "zh-Hans", "ru": "ru"}


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Mark ``message`` for translation without translating it (it is translated at render)."""
    return message


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"report language must be one of {list(LANGUAGES)}, got {lang!r}")
    return lang


@functools.cache
def translation(lang: str) -> gettext.NullTranslations:
    """The gettext translations of ``lang`` (``NullTranslations`` for English).

    Raises
    ------
    ValueError
        If ``lang`` is not one of :data:`LANGUAGES`.
    FileNotFoundError
        If the compiled catalog is missing (run ``python -m amurlink.report._msgfmt``).
    """
    check_language(lang)
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[lang])
