"""``{{ value|word }}``: a data vocabulary word (link status and method, protection level, a
link decision's effect, a reader's access kind) in the reader's language; anything else is
shown as it is. ``{{ code|language_name }}``: a language in its own name.
``{{ organisation|org_name }}``: an organisation's name in the reader's language."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy

from amurlink.schema import LINK_METHODS, LINK_STATUSES
from amurlink_web.apps.sharing.models import LocationLevel

register = template.Library()

WORDS = {
    "proposed": gettext_lazy("proposed"),
    "confirmed": gettext_lazy("confirmed"),
    "rejected": gettext_lazy("rejected"),
    "awaiting": gettext_lazy("awaiting the partner"),
    "photo": gettext_lazy("photo"),
    "dna": gettext_lazy("DNA"),
    "dna-camera": gettext_lazy("DNA and camera"),
    "expert": gettext_lazy("expert"),
    "merge": gettext_lazy("merge"),
    "split": gettext_lazy("split"),
    "owner": gettext_lazy("owner"),
    "partner": gettext_lazy("partner"),
    "public": gettext_lazy("public"),
    **{value: label for value, label in LocationLevel.choices},
}
assert set(LINK_STATUSES) | set(LINK_METHODS) <= set(WORDS)


@register.filter
def org_name(value) -> str:
    """An organisation's name in the active language (its ``names``), else its name."""
    if value is None:
        return ""
    display = getattr(value, "display_name", None)
    return display() if callable(display) else str(value)


@register.filter
def word(value) -> str:
    if value is None:
        return ""
    return str(WORDS.get(str(value), value))


@register.filter
def words(value) -> str:
    """Words joined by ``/`` (the audit log's ``1km/withheld``), each through :func:`word`."""
    if value is None or value == "":
        return ""
    return "/".join(word(part) for part in str(value).split("/"))


@register.filter
def language_name(code) -> str:
    """A language code (``zh-hans``, ``zh``, ``ru``) as the language's own name (简体中文)."""
    from django.utils.translation import get_language_info

    code = {"zh": "zh-hans"}.get(str(code), str(code))
    try:
        return get_language_info(code)["name_local"]
    except KeyError:
        return code
