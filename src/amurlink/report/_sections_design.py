"""Report section: joint survey design for the theme study (issue #18).

The proposed layout against the simulated study's own layout (stations and cameras per
country, E(n), E(r), rule-of-thumb RSE(D), expected transboundary animals detected), joint
against national surveys, costing per country, and a map of the proposed sites drawn ONLY
from positions that went through :func:`amurlink.core.protection.protect_locations` at the
audience's level for a sensitive species (public: withheld, so no map).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from amurlink.report._i18n import N_
from amurlink.report._sections_themes import GridMapDisplay, border_xy, theme_missing, theme_part
from amurlink.report.displays import country_name
from amurlink.report.tables import Summary

__all__ = ["design_section", "protected_sites"]

_LAYOUTS = {"current": N_("The simulated study's own layout"),
            "proposed": N_("Proposed joint layout")}
_SURVEYS = {"joint": N_("Joint survey"), "national combined": N_("Both national surveys")}


def _layout(v: Any, _: Any) -> str:
    return _(_LAYOUTS.get(v, str(v)))


def _survey(v: Any, _: Any) -> str:
    return _(_SURVEYS[v]) if v in _SURVEYS else country_name(v, _)


def _country(v: Any, _: Any) -> str:
    return country_name(v, _)


def _whole(frame: pd.DataFrame) -> pd.DataFrame:
    """Camera and camera-day counts as whole numbers (they are counts)."""
    for c in frame.columns:
        if (c.startswith("cameras") or c == "camera_days") and frame[c].notna().all() \
                and (frame[c] % 1 == 0).all():
            frame[c] = frame[c].astype("int64")
    return frame


def sites_level(view: Any) -> str:
    """The level at which proposed camera sites (tiger and leopard sites) may be shown."""
    kind = view.audience.kind
    if kind == "owner":
        return "exact"
    policy = view.config.protection
    return policy.partner_sensitive_level if kind == "partner" else "withheld"


def protected_sites(xy: np.ndarray, view: Any) -> np.ndarray | None:
    """Proposed sites at the audience's level (working CRS), or None when withheld."""
    from amurlink.core.crs import from_metric, to_metric
    from amurlink.core.protection import protect_locations

    level = sites_level(view)
    if level == "withheld" or not len(xy):
        return None
    crs = view.config.crs.working
    lon, lat = from_metric(xy[:, 0], xy[:, 1], crs=crs)
    frame = pd.DataFrame({"longitude": lon, "latitude": lat})
    shown = protect_locations(frame, level=level, crs=crs)
    x, y = to_metric(shown["longitude"].to_numpy(float), shown["latitude"].to_numpy(float),
                     crs=crs)
    return np.unique(np.column_stack([x, y]), axis=0)


def design_section(view: Any):
    from amurlink.report._sections import Section

    sec = Section("design", N_("Joint survey design for the theme study"),
                  N_("Where the cameras of the joint theme study could go: a layout searched "
                     "over candidate sites in both countries with the same cameras per "
                     "country, against the simulated study's own layout. RSE(D) is the "
                     "rule-of-thumb relative standard error of density (secrdesign); "
                     "transboundary animals are those expected to be detected in both "
                     "countries."))
    value = theme_part(view, "design")
    if not value:
        sec.missing = theme_missing(view, "design")
        return sec
    lay = _whole(value["layouts"].copy())
    lay["rse_pct"] = lay["rse"] * 100.0
    labels: dict[str, Any] = {"layout": N_("Layout")}
    for c in sorted(x[len("stations_"):] for x in lay.columns if x.startswith("stations_")):
        labels[f"stations_{c}"] = (lambda code: lambda _: f"{_('Stations')}: "
                                   f"{country_name(code, _)}")(c)
        labels[f"cameras_{c}"] = (lambda code: lambda _: f"{_('Cameras')}: "
                                  f"{country_name(code, _)}")(c)
    labels.update({"En": N_("Expected animals detected E(n)"),
                   "Er": N_("Expected recaptures E(r)"), "rse_pct": N_("RSE(D), %"),
                   "transboundary_detected": N_("Expected transboundary animals detected")})
    sec.tables.append(Summary("design_layouts", lay, labels, values={"layout": _layout}))
    jvn = _whole(value["joint_vs_national"].copy())
    jvn["rse_pct"] = jvn["rse"] * 100.0
    sec.tables.append(Summary("design_joint_vs_national", jvn, {
        "survey": N_("Survey"), "stations": N_("Stations"), "cameras": N_("Cameras"),
        "En": N_("Expected animals detected E(n)"), "Er": N_("Expected recaptures E(r)"),
        "rse_pct": N_("RSE(D), %")}, values={"survey": _survey}))
    sec.tables.append(Summary("design_costing", _whole(value["costing"].copy()), {
        "layout": N_("Layout"), "country": N_("Country"), "stations": N_("Stations"),
        "cameras": N_("Cameras"), "camera_days": N_("Camera-days"),
        "visits": N_("Station visits")}, values={"layout": _layout, "country": _country}))
    pts = protected_sites(np.asarray(value["proposed_xy"], dtype=float), view)
    if pts is None:
        sec.note = N_("The map of the proposed sites is withheld from this audience.")
        return sec
    line = border_xy(view)
    allxy = pts if line is None else np.vstack([pts, line])
    pad = 3000.0
    extent = (float(allxy[:, 0].min() - pad), float(pts[:, 1].min() - pad),
              float(allxy[:, 0].max() + pad), float(pts[:, 1].max() + pad))
    sec.figures.append(GridMapDisplay(
        None, extent, title=N_("Proposed camera sites"),
        label=N_("Proposed camera sites"), line=line, points=pts,
        points_label=N_("Proposed camera sites"), cmap="Greys"))
    if sites_level(view) != "exact":
        sec.note = N_("Proposed sites are shown at the centre of their 1 km or 10 km cell.")
    return sec
