"""``{{ value|word }}``: a data vocabulary word (link status and method, protection level, a
link decision's effect, a reader's access kind) in the reader's language; anything else is
shown as it is. ``{{ code|language_name }}``: a language in its own name.
``{{ organisation|org_name }}``: an organisation's name in the reader's language.
``{{ target|audit_target }}``: an audit row's target (``dataset:3``, ``media:browser``) in words."""

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


#: First part of an audit target (``kind:...``) in words.
AUDIT_KINDS = {
    "dataset": gettext_lazy("Dataset"), "map": gettext_lazy("Map"), "link": gettext_lazy("Link"),
    "links": gettext_lazy("Links"), "job": gettext_lazy("Analysis"), "user": gettext_lazy("User"),
    "joint-catalogue": gettext_lazy("Joint catalogue"), "upload": gettext_lazy("Upload"),
    "token": gettext_lazy("API token"), "profile": gettext_lazy("Profile"),
    "password": gettext_lazy("Password"), "media": gettext_lazy("Photo"),
    "incident": gettext_lazy("Incident"), "incidents": gettext_lazy("Incidents"),
    "disease-test": gettext_lazy("Disease test"), "history": gettext_lazy("Link history"),
    "agreement": gettext_lazy("Sharing agreement"), "home": gettext_lazy("Home"),
}
#: Named parts after the kind (the rest are identifiers, shown as they are).
AUDIT_PARTS = {
    "browser": gettext_lazy("Photo browser"), "review-queue": gettext_lazy("Review queue"),
    "individuals": gettext_lazy("Individuals"), "individual": gettext_lazy("Individual"),
    "joint": gettext_lazy("Joint map"), "match": gettext_lazy("Match picture"),
    "left": gettext_lazy("Left flank"), "right": gettext_lazy("Right flank"),
    "all": gettext_lazy("all"),
}


@register.filter
def audit_target(value) -> str:
    """``dataset:3:deployments`` -> "Dataset: 3 · deployments" in the reader's language; a
    target of an unknown kind is shown as it is."""
    parts = str(value or "").split(":")
    kind = AUDIT_KINDS.get(parts[0])
    if kind is None:
        return str(value or "")
    if parts[0] == "home":
        return str(kind)
    rest = [str(AUDIT_PARTS.get(p) or WORDS.get(p) or p) for p in parts[1:] if p]
    return f"{kind}: {' · '.join(rest)}" if rest else str(kind)


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
