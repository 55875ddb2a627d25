"""Report section: human-animal conflict, village warnings, disease and patrols (issue #19).

The incident tables enter ONLY through
:func:`amurlink.incidents.protect.release_incidents` (:func:`amurlink.release.release`) for the
report's audience and agreements (no claimant or other personal data for partners and the
public; owner-only tables removed), and
every figure is computed from what that gives. No table of this section holds a position.
Village warnings are counts per month, species and level (from camera detections).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from amurlink.report._i18n import N_
from amurlink.report._sections_themes import theme_missing, theme_part
from amurlink.report.displays import country_name
from amurlink.report.tables import Summary

__all__ = ["incidents_section", "shown_incident_tables"]

_CATEGORIES = {
    "livestock-killed": N_("livestock killed"), "dog-killed": N_("dog killed"),
    "attack-on-person": N_("attack on a person"), "animal-in-village": N_("animal in a village"),
    "road-kill": N_("road kill"), "carcass": N_("carcass"), "snare": N_("snare"),
    "poaching": N_("poaching"), "other": N_("other"),
}


def _country(v: Any, _: Any) -> str:
    return country_name(v, _)


def _category(v: Any, _: Any) -> str:
    return _(_CATEGORIES[v]) if v in _CATEGORIES else str(v)


def _yes_no(v: Any, _: Any) -> str:
    return _("yes") if bool(v) else _("no")


def shown_incident_tables(view: Any, tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The incident tables as the report's audience may see them (cached on the view):
    :func:`amurlink.incidents.protect.release_incidents`, i.e. :func:`amurlink.release.release`
    for the view's audience, policy and the reader's agreements on the view's day."""
    from amurlink.incidents.protect import release_incidents

    if "incident_tables" not in view.cache:
        released = getattr(view, "released", None)
        view.cache["incident_tables"] = release_incidents(
            tables, audience=view.audience, policy=view.config.protection,
            agreements=tuple(getattr(released, "agreements", None) or ()),
            today=getattr(view, "today", None))
    return view.cache["incident_tables"]


def _tables(view: Any, value: dict[str, Any]) -> list[Summary]:
    from amurlink.incidents import compensation_summary, incident_counts, patrol_effort, prevalence

    shown = shown_incident_tables(view, value.get("tables") or {})
    out: list[Summary] = []
    inc = shown.get("incidents")
    if inc is not None and len(inc):
        by_month = incident_counts(inc, by=("countryCode", "year", "month"))
        out.append(Summary("incidents_by_month", by_month, {
            "countryCode": N_("Country"), "year": N_("Year"), "month": N_("Month"),
            "incidents": N_("Incidents")}, values={"countryCode": _country}))
        by_cat = incident_counts(inc, by=("countryCode", "category"))
        out.append(Summary("incidents_by_category", by_cat, {
            "countryCode": N_("Country"), "category": N_("Kind of incident"),
            "incidents": N_("Incidents")},
            values={"countryCode": _country, "category": _category}))
        comp = compensation_summary(inc)
        if len(comp):
            labels = {"countryCode": N_("Country"), "year": N_("Year paid"),
                      "currency": N_("Currency"), "claims": N_("Claims paid"),
                      "amount": N_("Amount paid")}
            out.append(Summary("incidents_compensation", comp, labels,
                               kinds={"currency": "id"}, values={"countryCode": _country}))
    warn = (value.get("analyses") or {}).get("warnings_by_month")
    if warn is not None and len(warn):
        wide = warn.pivot_table(index=["month", "scientificName"], columns="level",
                                values="warnings", aggfunc="sum", fill_value=0)
        configured = range(1, len(value.get("levels_km") or []) + 1)
        levels = sorted({int(c) for c in wide.columns} | set(configured))
        wide = wide.reindex(columns=levels, fill_value=0)
        wide = wide.rename(columns=lambda c: f"level_{int(c)}").reset_index()
        wide.columns.name = None
        labels: dict[str, Any] = {"month": N_("Month"), "scientificName": N_("Species")}
        for n in levels:
            labels[f"level_{n}"] = (lambda k: lambda _: f"{_('Warning level')} {k}")(n)
        out.append(Summary("incidents_village_warnings", wide, labels,
                           kinds={"scientificName": "latin"}))
    tests = shown.get("diseaseTests")
    if tests is not None and len(tests):
        prev = prevalence(tests)
        out.append(Summary("incidents_prevalence", prev, {
            "scientificName": N_("Species"), "year": N_("Year"), "countryCode": N_("Country"),
            "pathogen": N_("Pathogen"), "tested": N_("Tested"), "positive": N_("Positive"),
            "prevalence": N_("Prevalence"), "ci_low": N_("Lower 95% limit"),
            "ci_high": N_("Upper 95% limit")},
            kinds={"scientificName": "latin", "pathogen": "id"},
            values={"countryCode": _country}))
    patrols = shown.get("patrols")
    if patrols is not None and len(patrols):
        findings = shown.get("patrolFindings", pd.DataFrame(
            {"findingID": [], "patrolID": [], "category": [], "count": []}))
        known = findings["patrolID"].isin(patrols["patrolID"])
        eff = patrol_effort(patrols, findings.loc[known])
        out.append(Summary("incidents_patrol_effort", eff, {
            "countryCode": N_("Country"), "year": N_("Year"), "patrols": N_("Patrols"),
            "km": N_("km patrolled"), "found": N_("Snares and traps found"),
            "per_100km": N_("Found per 100 km")}, values={"countryCode": _country}))
    pa = (value.get("analyses") or {}).get("problem_animals")
    if pa is not None and len(pa) and inc is not None and "individualID" in inc:
        pa = pa.copy()
        if "members" in pa:
            pa["members"] = pa["members"].map(
                lambda m: ", ".join(map(str, m)) if isinstance(m, list | tuple | set) else m)
        out.append(Summary("incidents_problem_animals", pa, {
            "jointID": N_("Joint individual"), "members": N_("National IDs"),
            "incidents": N_("Incidents"),
            **{c: (lambda code: lambda _: f"{_('Incidents')}: {country_name(code, _)}")(
                c[len("incidents_"):]) for c in pa.columns if c.startswith("incidents_")},
            "both_countries": N_("In both countries")},
            kinds={"jointID": "id", "members": "id"}, values={"both_countries": _yes_no}))
    return out


def incidents_section(view: Any):
    from amurlink.report._sections import Section, guard_positions

    sec = Section("incidents", N_("Human-animal conflict, disease and patrols"),
                  N_("Each country's incident books side by side: incidents per month and "
                     "kind, compensation paid in each country's own currency (never added "
                     "across currencies), village warnings raised by camera detections of "
                     "tigers and leopards by distance level, disease prevalence with exact "
                     "95% limits, patrol effort, and animals involved in incidents in both "
                     "countries. Personal data of claimants is never shown."))
    value = theme_part(view, "incidents")
    if not value:
        sec.missing = theme_missing(view, "incidents")
        return sec
    if "incidents" not in view.cache:
        tables = _tables(view, value)
        for t in tables:
            guard_positions(t.frame, f"incident table {t.name!r}")
        view.cache["incidents"] = tables
    sec.tables = list(view.cache["incidents"])
    levels = value.get("levels_km") or []
    if levels:
        sec.note = N_("Warning levels by distance from the nearest village, as set in "
                      "[warnings] levels_km: level 1 is the nearest band.")
    return sec
