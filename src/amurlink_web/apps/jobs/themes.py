"""The theme results of the last study run on the platform: the survey-design page (issue #18)
and the corridor overlays of the joint map (issue #17).

Both read the results ``amurlink run`` kept beside the platform's joint package
(``joint_inputs().themes``: the ``design`` and ``corridors`` stages). The proposed camera
sites are locations: :func:`design_sites` puts them through :func:`amurlink.release.release`
as tiger and leopard stations of their country (a reader sees its own country's sites exactly
and the other's at the level the other park's agreement grants, never finer than the
policy's level for those species; the public sees none), and rounds each to its level's
decimals. Every other figure on the page (RSE, E(n), costing) is a count without a position.
The corridor overlays are landscape rasters (no station) drawn by
:mod:`amurlink.landscape.display`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from amurlink import Dataset as PackageData
from amurlink_web.apps.core.services import audit_record
from amurlink_web.apps.jobs.mapdata import (
    CORRIDOR_OVERLAYS,
    corridor_overlay,
    decimals_for,
    study_layers,
)
from amurlink_web.apps.jobs.maps import border_lonlat, render_svg
from amurlink_web.apps.jobs.selectors import JointAccess, joint_inputs, joint_reader, study_policy

#: The species a proposed site is for (it is protected as a station where they were seen).
SITE_SPECIES = ("Panthera tigris", "Panthera pardus")
_LAYOUTS = {"current": N_("The simulated study's own layout"),
            "proposed": N_("Proposed joint layout")}
_SURVEYS = {"joint": N_("Joint survey"), "national combined": N_("Both national surveys")}
_COUNTRIES = {"CN": N_("China"), "RU": N_("Russia")}


# -- selectors ---------------------------------------------------------------------------------
def design_value(inputs: Any) -> dict[str, Any] | None:
    """The ``design`` stage's result kept by the last run (``study.themes.design_tables``)."""
    value = (getattr(inputs, "themes", None) or {}).get("design") if inputs is not None \
        else None
    return value or None


def sites_dataset(xy: np.ndarray, *, crs: Any, border: Any = None) -> PackageData:
    """Proposed sites as a Camtrap DP dataset for :func:`amurlink.release.release`.

    One deployment per site (WGS84, from the working CRS), its country from the border's
    country polygons (empty where none holds it: never the reader's own), and one
    observation of each of :data:`SITE_SPECIES`, so the sites get the levels of tiger and
    leopard stations.
    """
    from amurlink.core.border import side_of_border
    from amurlink.core.crs import from_metric

    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    n = len(xy)
    lon, lat = from_metric(xy[:, 0], xy[:, 1], crs=crs)
    country = np.full(n, "", dtype=object)
    if border is not None and getattr(border, "countries", None) and n:
        side = side_of_border(xy[:, 0], xy[:, 1], border=border)
        country = np.where(pd.isna(side), "", side).astype(object)
    ids = [f"site-{i + 1:04d}" for i in range(n)]
    deployments = pd.DataFrame({"deploymentID": ids, "locationID": ids,
                                "latitude": np.asarray(lat, float),
                                "longitude": np.asarray(lon, float)})
    details = pd.DataFrame({"deploymentID": ids, "countryCode": country})
    observations = pd.DataFrame({
        "observationID": [f"{d}-{k}" for d in ids for k in range(len(SITE_SPECIES))],
        "deploymentID": [d for d in ids for _ in SITE_SPECIES],
        "observationType": "animal",
        "scientificName": list(SITE_SPECIES) * n,
    })
    media = pd.DataFrame({"mediaID": pd.Series([], dtype=object),
                          "deploymentID": pd.Series([], dtype=object),
                          "timestamp": pd.Series([], dtype=object)})
    return PackageData({"deployments": deployments, "media": media,
                        "observations": observations, "deploymentDetails": details})


@dataclass(frozen=True)
class DesignSites:
    """Proposed sites as one reader may see them.

    ``sites``: ``{"lat", "lon", "country", "level", "count"}`` (sites in one cell of a coarse
    level are one point with their count), each coordinate rounded to its level's decimals;
    ``withheld``: how many sites the reader may not see; ``total``: all proposed sites.
    """

    sites: list[dict[str, Any]] = field(default_factory=list)
    withheld: int = 0
    total: int = 0

    @property
    def levels(self) -> list[str]:
        return sorted({s["level"] for s in self.sites})

    @property
    def decimals(self) -> int:
        return min((decimals_for(s["level"]) for s in self.sites), default=0)


def design_sites(*, inputs: Any, access: JointAccess) -> DesignSites:
    """The proposed sites of the last design run for ``access`` (through ``release``)."""
    from amurlink.release import release

    value = design_value(inputs)
    xy = np.asarray(value.get("proposed_xy", ()) if value else (), dtype=float).reshape(-1, 2)
    if not len(xy):
        return DesignSites()
    config = getattr(inputs, "config", None)
    crs = config.crs.working if config is not None else "EPSG:32652"
    data = sites_dataset(xy, crs=crs, border=getattr(inputs, "border", None))
    released = release(data, audience=access.audience, policy=study_policy())
    deps = released.dataset.deployments
    levels = released.levels.reindex(deps["deploymentID"].to_numpy()).to_numpy(dtype=object)
    country = dict(zip(data["deploymentDetails"]["deploymentID"],
                       data["deploymentDetails"]["countryCode"], strict=True))
    groups: dict[tuple[Any, ...], int] = {}
    withheld = 0
    for dep, lat, lon, level in zip(deps["deploymentID"], deps["latitude"], deps["longitude"],
                                    levels, strict=True):
        if level == "withheld" or not (math.isfinite(lat) and math.isfinite(lon)):
            withheld += 1
            continue
        nd = decimals_for(level)
        key = (round(float(lat), nd), round(float(lon), nd), country.get(dep, ""), level)
        groups[key] = groups.get(key, 0) + 1
    sites = [{"lat": a, "lon": b, "country": c, "level": lv, "count": k}
             for (a, b, c, lv), k in sorted(groups.items())]
    return DesignSites(sites=sites, withheld=withheld + len(xy) - len(deps), total=len(xy))


def _num(v: Any, digits: int = 1) -> str:
    """A number in the reader's language (grouping and decimal mark: 1,234.5 / 1 234,5)."""
    from django.utils.formats import number_format

    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(f):
        return "–"
    return number_format(round(f, digits), decimal_pos=digits, use_l10n=True,
                         force_grouping=True)


def _country(code: Any) -> str:
    return _(_COUNTRIES[code]) if code in _COUNTRIES else str(code)


def design_tables(value: dict[str, Any]) -> dict[str, Any]:
    """The design page's tables (rows of display strings, labels in the reader's language):
    ``layouts``, ``national`` (joint against national surveys) and ``costing`` (per layout
    and country: stations, cameras, camera-days, station visits). No positions."""
    lay = value["layouts"]
    countries = sorted({c[len("stations_"):] for c in lay.columns if c.startswith("stations_")})
    layouts = {"countries": [_country(c) for c in countries], "rows": []}
    for r in lay.to_dict(orient="records"):
        layouts["rows"].append({
            "layout": _(_LAYOUTS.get(r["layout"], str(r["layout"]))),
            "stations": [_num(r.get(f"stations_{c}"), 0) for c in countries],
            "cameras": [_num(r.get(f"cameras_{c}"), 0) for c in countries],
            "En": _num(r["En"]), "Er": _num(r["Er"]), "rse": _num(100 * float(r["rse"])),
            "transboundary": _num(r["transboundary_detected"])})
    national = [{"survey": _(_SURVEYS[r["survey"]]) if r["survey"] in _SURVEYS
                 else _country(r["survey"]),
                 "stations": _num(r["stations"], 0), "cameras": _num(r["cameras"], 0),
                 "En": _num(r["En"]), "Er": _num(r["Er"]), "rse": _num(100 * float(r["rse"]))}
                for r in value["joint_vs_national"].to_dict(orient="records")]
    costing = [{"layout": _(_LAYOUTS.get(r["layout"], str(r["layout"]))),
                "country": _country(r["country"]), "stations": _num(r["stations"], 0),
                "cameras": _num(r["cameras"], 0), "camera_days": _num(r["camera_days"], 0),
                "visits": _num(r["visits"], 0)}
               for r in value["costing"].to_dict(orient="records")]
    settings = value.get("settings") or {}
    return {"layouts": layouts, "national": national, "costing": costing,
            "days": settings.get("noccasions"), "scale": settings.get("scale")}


def design_payload(*, inputs: Any, access: JointAccess) -> dict[str, Any]:
    """The design map's JSON: the sites (see :func:`design_sites`), the border and the study's
    map layers (public geography). Shaped like the joint map's data, without detections."""
    shown = design_sites(inputs=inputs, access=access)
    border = border_lonlat(getattr(inputs, "border", None))
    return {"level": access.label, "decimals": shown.decimals, "species": [], "years": [],
            "selected": {"species": "", "year": ""}, "stations": [], "detections": [],
            "tracks": [], "sites": shown.sites, "withheld": shown.withheld,
            "total": shown.total,
            "border": [[[round(lon, 4), round(lat, 4)] for lon, lat in part]
                       for part in border],
            "layers": study_layers(), "corridors": None}


# -- views -------------------------------------------------------------------------------------
def _inputs_or_none() -> Any:
    try:
        return joint_inputs()
    except Http404:
        return None  # no joint package yet


@login_required
def design_view(request: HttpRequest) -> HttpResponse:
    """The joint survey design of the last study run (working group; 404 for anyone else)."""
    from amurlink_web.apps.jobs.views import access_text

    member, access = joint_reader(fetched_by=request.user)
    inputs = _inputs_or_none()
    value = design_value(inputs)
    audit_record(request=request, action="read", target="map:joint",
                 detail={"access": access.label, "page": "design"})
    context: dict[str, Any] = {"access_label": access_text(access.label), "value": bool(value)}
    if value:
        shown = design_sites(inputs=inputs, access=access)
        features = {"stations": [{"id": _("%(n)d proposed sites") % {"n": s["count"]}
                                  if s["count"] > 1 else _("Proposed camera site"),
                                  "lat": s["lat"], "lon": s["lon"], "country": s["country"]}
                                 for s in shown.sites], "detections": [], "tracks": []}
        context.update(design_tables(value), shown=shown,
                       levels=[_(lv) for lv in shown.levels],
                       svg=render_svg(features, border=border_lonlat(inputs.border)),
                       data_url=reverse("design-data"))
    return render(request, "jobs/design.html", context)


@login_required
def design_data_view(request: HttpRequest) -> JsonResponse:
    """The design map's data (see :func:`design_payload`), from the same release as the page."""
    member, access = joint_reader(fetched_by=request.user)
    inputs = _inputs_or_none()
    audit_record(request=request, action="read", target="map:joint",
                 detail={"access": access.label, "page": "design", "format": "json"})
    if design_value(inputs) is None:
        raise Http404("no survey design has been computed")
    return JsonResponse(design_payload(inputs=inputs, access=access),
                        json_dumps_params={"ensure_ascii": False})


@login_required
def corridor_png_view(request: HttpRequest, layer: str) -> HttpResponse:
    """One corridor overlay of the joint map as PNG (landscape raster, no station)."""
    member, access = joint_reader(fetched_by=request.user)
    if layer not in CORRIDOR_OVERLAYS:
        raise Http404("no such corridor layer")
    overlay = corridor_overlay(_inputs_or_none(), layer)
    if overlay is None:
        raise Http404("no corridor results")
    audit_record(request=request, action="read", target="map:joint",
                 detail={"access": access.label, "layer": f"corridors:{layer}"})
    response = HttpResponse(overlay["png"], content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response
