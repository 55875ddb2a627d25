"""The report's sections, computed once from the protected view (language independent)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from amurlink.report import displays as D
from amurlink.report._i18n import N_
from amurlink.report._view import ReportView, distance_precision
from amurlink.report.tables import Summary

__all__ = ["Section", "build_sections", "MISSING_REASONS", "recapture_counts",
           "too_few_recaptures", "guard_positions"]

#: Default reasons, by part, for parts that have no results (msgids, translated at render).
MISSING_REASONS = {
    "border": N_("no border line was given, so sides and distances cannot be computed"),
    "crossborder": N_("the cross-border analysis has not been run"),
    "transboundary": N_("no individual was recorded in both countries"),
    "withheld": N_("the locations are withheld from this audience"),
    "secr": N_("no SECR fit was given to the report"),
    "dna": N_("no DNA identification results were given to the report"),
    "camtrap": N_("no camera-trap analysis results were given to the report"),
    "photo_links": N_("no comparison of automatic photo links was given to the report"),
    "manifest": N_("no harmonisation manifest was given to the report"),
    "links": N_("the dataset has no identity links"),
    "encounters": N_("no identified individual was recorded"),
    "not-available": N_("this stage is not available in this version of amurlink"),
}


@dataclass
class Section:
    key: str
    title: str
    intro: str | None = None
    tables: list[Summary] = field(default_factory=list)
    figures: list[Any] = field(default_factory=list)
    missing: str | None = None
    note: str | None = None
    manifest: Any = None


def _country_value(v: Any, _: Any) -> str:
    return D.country_name(v, _)


def _trap_days_in(code: str):
    return lambda _: f"{_('Trap-days')}: {D.country_name(code, _)}"


def _country_heading(code: str):
    return lambda _: D.country_name(code, _)


#: Said when a stage gave its own (untranslated) reason: the detail is in the run's summary.
_STAGE_FAILED = {
    "secr": N_("the SECR stage did not give results; the run's summary says why"),
    "dna": N_("the DNA stage did not give results; the run's summary says why"),
    "camtrap": N_("the camera-trap stage did not give results; the run's summary says why"),
    "photo_links": N_("the photo-linking stage did not give results; the run's summary says "
                      "why"),
}


def _reason(view: ReportView, part: str) -> str:
    """Why a part is missing, as a msgid the report translates (a stage's own English
    reason, which may name files, stays in the run's summary)."""
    given = view.inputs.missing.get(part)
    if not given:
        return MISSING_REASONS[part]
    if given in MISSING_REASONS.values() or given in _STAGE_FAILED.values():
        return given
    return _STAGE_FAILED.get(part, MISSING_REASONS[part])


def build_sections(view: ReportView) -> list[Section]:
    """Every section of the report, in order: the answer first."""
    secs = [_answer(view), _coverage(view), _quality(view), _individuals(view)]
    secs += _crossborder_sections(view)
    secs += [_secr(view), _dna(view), _photo_links(view), _camtrap(view)]
    from amurlink.report._sections_themes import theme_sections  # design, corridors, ...

    secs += theme_sections(view)
    secs += [_manifest(view)]
    return secs


def crossborder_counts(view: ReportView) -> Any:
    """The cross-border result whose counts every section shows, computed once per view.

    Counted on the exact (agreement-scoped) data, so every audience reading the same scope
    gets the same individuals, encounters and crossings; only distances are then coarsened
    to the audience's level (:func:`amurlink.analysis.crossborder.protect_crossborder`).
    ``None`` when there is no border or the analysis failed (``view.crossborder_note``
    then says why).
    """
    if "crossborder" in view.cache:
        return view.cache["crossborder"]
    result = None
    border = view.inputs.border
    if border is not None and view.crossborder is not None:
        from amurlink.analysis import crossborder as cb

        try:
            exact = cb.crossborder(view.inputs.dataset, border=border, species=None,
                                   two_party=view.inputs.config.links.two_party)
        except Exception:  # noqa: BLE001 - the view's own result and note then stand
            result = view.crossborder
        else:
            result = cb.protect_crossborder(exact, level=view.distance_level)
            view.cache["crossborder_exact_encounters"] = exact.encounters
    elif view.crossborder is not None:
        result = view.crossborder
    view.cache["crossborder"] = result
    return result


def _crossborder_missing(view: ReportView) -> str:
    """Why the cross-border sections are empty, in words the report translates."""
    if view.inputs.border is None:
        return MISSING_REASONS["border"]
    if view.crossborder_note or view.inputs.missing.get("crossborder"):
        return N_("the cross-border analysis could not be computed from these data; run "
                  "`amurlink crossborder` on the joint folder to see why")
    return MISSING_REASONS["crossborder"]


def effort(view: ReportView) -> dict[str, pd.DataFrame]:
    """Stations, cameras, deployments, camera-days and trap-days (computed once per view)."""
    if "effort" not in view.cache:
        from amurlink.analysis.camtrap import effort_summary

        view.cache["effort"] = effort_summary(view.inputs.dataset)
    return view.cache["effort"]


def _answer(view: ReportView) -> Section:
    from amurlink.analysis.crossborder import answer

    sec = Section("answer", N_("The answer: animals in both countries"),
                  N_("Per species, how many joint individuals were recorded in both countries "
                     "out of all those identified; and for each of them its encounters in "
                     "each country, its border crossings and its farthest encounter from the "
                     "border."))
    cb = crossborder_counts(view)
    if cb is None:
        sec.missing = _crossborder_missing(view)
        return sec
    parts = answer(cb)
    sp = parts["species"]
    sec.tables.append(Summary("answer_species", sp, {
        "scientificName": N_("Species"), "transboundary": N_("Recorded in both countries"),
        "individuals": N_("Joint individuals")}, kinds={"scientificName": "latin"}))
    ind = parts["individuals"]
    if ind.empty:
        sec.note = MISSING_REASONS["transboundary"]
    else:
        labels: dict[str, Any] = {"scientificName": N_("Species"), "jointID": N_("Joint ID"),
                                  "members": N_("National IDs")}
        for c in cb.countries:
            labels[f"encounters_{c}"] = _encounters_in(c)
        labels |= {"crossings": N_("Crossings"),
                   "farthest_km": N_("Farthest from the border (km)")}
        sec.tables.append(Summary("answer_individuals", ind, labels, kinds={
            "jointID": "id", "members": "id", "scientificName": "latin"}))
    return sec


def _encounters_in(code: str):
    return lambda _: f"{_('Encounters')}: {D.country_name(code, _)}"


def _coverage(view: ReportView) -> Section:
    eff = effort(view)
    st = view.stations
    cov = eff["by_country"].copy()
    withheld = st.groupby("country", dropna=False)["level"].apply(
        lambda s: int((s == "withheld").sum()))
    cov["withheld"] = cov["country"].map(withheld).fillna(0).astype("int64")
    cov.loc[cov["country"] == "ALL", "withheld"] = int(withheld.sum())
    table = Summary("coverage", cov, {
        "country": N_("Country"), "stations": N_("Stations"), "cameras": N_("Cameras"),
        "deployments": N_("Deployments"), "cameraDays": N_("Camera-days"),
        "trapDays": N_("Trap-days"),
        "withheld": N_("Deployments with withheld location")},
        values={"country": lambda v, _: _("All") if v == "ALL" else D.country_name(v, _)})
    years = eff["by_year"].pivot_table(index="year", columns="country", values="trapDays",
                                       aggfunc="sum", fill_value=0.0)
    by_year = years.reset_index().rename(columns=lambda c: f"trapDays_{c}" if c != "year" else c)
    by_year.columns.name = None
    year_table = Summary("coverage_by_year", by_year, {"year": N_("Year")} | {
        c: _trap_days_in(c.removeprefix("trapDays_")) for c in by_year.columns if c != "year"})
    sec = Section("coverage", N_("Data coverage"),
                  N_("Stations (camera locations), cameras, deployments (one camera at one "
                     "station for one period), camera-days (each camera's days less recorded "
                     "gaps) and trap-days (days a station was working, the denominator of "
                     "relative abundance) by country; trap-days by year split each "
                     "station's days across the years it worked."),
                  tables=[table, year_table])
    m = D.StationMapDisplay.from_stations(st, border=view.inputs.border)
    if m.empty:
        sec.note = MISSING_REASONS["withheld"]
    else:
        sec.figures.append(m)
        if m.withheld:
            sec.note = MISSING_REASONS["withheld"]
    return sec


#: Kinds of doubtful record (amurlink.analysis.quality.QUALITY_KINDS), as the report names them.
QUALITY_NAMES = {
    "clockYear": N_("camera clock a whole year wrong"),
    "beforeDeployment": N_("before the camera was set up"),
    "afterDeployment": N_("after the camera was retrieved"),
    "unknownDeployment": N_("of an unknown deployment"),
    "duplicate": N_("duplicated"),
    "outsidePeriod": N_("outside the study period"),
}
_QUALITY_ACTIONS = {"exclude": N_("left out of every analysis"),
                    "correct": N_("clock corrected by the whole year; the rest left out"),
                    "keep": N_("kept in the analyses (only the study period applies)")}


def _quality(view: ReportView) -> Section:
    from amurlink.analysis.quality import quality_counts

    sec = Section("quality", N_("Data quality"),
                  N_("Records the harmoniser flagged, by kind (each record under its first "
                     "kind), and what the analyses did with them. Every table of this report "
                     "is computed from the records that remain, within the study period."))
    info = quality_counts(view.inputs.dataset)
    if info is None:
        sec.missing = N_("the records were not checked before this report was computed")
        return sec
    counts = info.get("counts", {})
    mode = info.get("mode", "exclude")
    t = pd.DataFrame({"kind": list(QUALITY_NAMES),
                      "records": [int(counts.get(k, 0)) for k in QUALITY_NAMES]})
    t["action"] = mode
    t.loc[t["records"] == 0, "action"] = None
    if mode == "correct":
        t.loc[(t["kind"] != "clockYear") & (t["records"] > 0), "action"] = "exclude"
    if mode == "keep":
        t.loc[(t["kind"] == "outsidePeriod") & (t["records"] > 0), "action"] = "exclude"
    sec.tables.append(Summary("data_quality", t, {
        "kind": N_("Records"), "records": N_("Number"), "action": N_("What was done")},
        values={"kind": lambda v, _: _(QUALITY_NAMES[v]),
                "action": lambda v, _: _(_QUALITY_ACTIONS[v])}))
    period = info.get("period") or [None, None]
    sec.tables.append(Summary("study_period", pd.DataFrame({
        "start": [str(period[0])[:10]], "end": [str(period[1])[:10]],
        "excluded": [int(info.get("excluded", 0))],
        "corrected": [int(info.get("corrected", 0))]}), {
        "start": N_("Study period from"), "end": N_("to"),
        "excluded": N_("Records left out"), "corrected": N_("Records corrected")}))
    return sec


def _individuals(view: ReportView) -> Section:
    sec = Section("individuals", N_("Individuals: national against joint"),
                  N_("Each country counts the animals in its own catalogue; joint identities "
                     "merge national IDs that confirmed links show to be one animal."))
    cb = crossborder_counts(view)
    if cb is not None and not cb.summary.empty:
        s = cb.summary
        cols = ["scientificName", "national_CN", "national_RU", "national_sum", "individuals",
                "double_counted", "transboundary"]
        sec.tables.append(Summary("individuals", s[[c for c in cols if c in s]].copy(), {
            "scientificName": N_("Species"), "national_CN": N_("China catalogue"),
            "national_RU": N_("Russia catalogue"), "national_sum": N_("Sum of national counts"),
            "individuals": N_("Joint individuals"), "double_counted": N_("Counted twice"),
            "transboundary": N_("Recorded in both countries")}, kinds={"scientificName": "latin"}))
    else:
        sec.missing = _crossborder_missing(view)
    if view.links is not None and len(view.links):
        t = view.links.groupby(["method", "status"]).size().unstack(fill_value=0)
        t = t.reindex(columns=["confirmed", "proposed", "rejected"], fill_value=0).reset_index()
        sec.tables.append(Summary("links_by_method", t, {
            "method": N_("Link method"), "confirmed": N_("Confirmed"),
            "proposed": N_("Proposed"), "rejected": N_("Rejected")},
            values={"method": lambda v, _: _(LINK_METHOD_NAMES.get(v, v))}))
        pending = _links_not_confirmed(view)
        if pending is not None:
            sec.tables.append(pending)
    else:
        sec.note = MISSING_REASONS["links"]
    return sec


_WHY_NOT_CONFIRMED = {
    "conflict": N_("refused: detections of the two IDs that one animal cannot have made "
                   "(the CSV names the two records)"),
    "awaiting": N_("accepted by one side, awaiting the partner's review"),
    "proposed": N_("proposed, not yet reviewed"),
    "rejected": N_("rejected by a reviewer"),
}


def _links_not_confirmed(view: ReportView) -> Summary | None:
    """Every link not confirmed, and why: a link refused for a conflict is never silent."""
    cur = view.links
    t = cur[cur["status"] != "confirmed"]
    if t.empty:
        return None
    reason = t["reason"].astype(object).fillna("").astype(str) if "reason" in t else \
        pd.Series("", index=t.index)
    awaiting = t["awaiting"].notna() if "awaiting" in t else pd.Series(False, index=t.index)
    why = np.where(reason.str.contains("cannot confirm|conflict", regex=True), "conflict",
                   np.where(t["status"] == "rejected", "rejected",
                            np.where(awaiting, "awaiting", "proposed")))
    out = pd.DataFrame({"subjectA": t["subjectA"].to_numpy(object),
                        "subjectB": t["subjectB"].to_numpy(object),
                        "method": t["method"].to_numpy(object), "why": why})
    if view.audience.kind == "owner":  # the detail names deployments, times and distances
        out["detail"] = reason.to_numpy(object)
    out = out.sort_values(["why", "subjectA", "subjectB"], kind="stable").reset_index(drop=True)
    return Summary("links_not_confirmed", out, {
        "subjectA": N_("ID A"), "subjectB": N_("ID B"), "method": N_("Link method"),
        "why": N_("Not confirmed because")},
        kinds={"subjectA": "id", "subjectB": "id"},
        values={"method": lambda v, _: _(LINK_METHOD_NAMES.get(v, v)),
                "why": lambda v, _: _(_WHY_NOT_CONFIRMED[v])})


LINK_METHOD_NAMES = {"photo": N_("photo"), "dna": N_("DNA"), "expert": N_("expert")}


def _crossborder_sections(view: ReportView) -> list[Section]:
    cb = crossborder_counts(view)
    keys = [("crossborder", N_("Cross-border individuals")),
            ("tracks", N_("Encounters of each transboundary individual")),
            ("countries", N_("Encounters by country")),
            ("distance", N_("Distance from the border")),
            ("trends", N_("Trends by year"))]
    if cb is None:
        why = _crossborder_missing(view)
        return [Section(k, t, missing=why) for k, t in keys]
    ind, enc = cb.individuals, cb.encounters
    trans = ind[ind["transboundary"].astype(bool)] if len(ind) else ind
    out = []
    # -- cross-border table
    sec = Section("crossborder", N_("Cross-border individuals"),
                  N_("Every joint individual recorded in both countries: encounters per "
                     "country, border crossings (changes of country between consecutive "
                     "encounters) and the farthest distance from the border in each country."))
    if trans.empty:
        sec.missing = MISSING_REASONS["transboundary"]
    else:
        cols = ["jointID", "members", "scientificName", "encounters_CN", "encounters_RU",
                "crossings", "first_seen", "last_seen", "max_distance_km_CN",
                "max_distance_km_RU"]
        sec.tables.append(Summary("crossborder", trans[[c for c in cols if c in trans]].copy(), {
            "jointID": N_("Joint ID"), "members": N_("National IDs"),
            "scientificName": N_("Species"), "encounters_CN": N_("Encounters in China"),
            "encounters_RU": N_("Encounters in Russia"), "crossings": N_("Crossings"),
            "first_seen": N_("First seen"), "last_seen": N_("Last seen"),
            "max_distance_km_CN": N_("Farthest in China (km)"),
            "max_distance_km_RU": N_("Farthest in Russia (km)")},
            kinds={"jointID": "id", "members": "id", "scientificName": "latin"}))
    out.append(sec)
    # -- track maps
    sec = Section("tracks", N_("Encounters of each transboundary individual"),
                  N_("Stations where the individual was recorded, joined in time order."))
    if trans.empty:
        sec.missing = MISSING_REASONS["transboundary"]
    else:
        maps = [D.TrackMapDisplay.from_encounters(enc, view.stations, joint_id=j,
                                                  border=view.inputs.border)
                for j in trans["jointID"]]
        shown = [m for m in maps if not m.empty and len(m.points) >= 1]
        sec.figures.extend(shown)
        if len(shown) < len(maps) or any(m.hidden for m in maps):
            sec.note = MISSING_REASONS["withheld"]
        if not shown:
            sec.missing = MISSING_REASONS["withheld"]
    out.append(sec)
    # -- encounters by country
    sec = Section("countries", N_("Encounters by country"),
                  N_("Encounters of identified individuals by species and country."))
    bars = D.CountryBarDisplay.from_encounters(enc, cb.countries)
    if bars.empty:
        sec.missing = MISSING_REASONS["encounters"]
    else:
        sec.figures.append(bars)
        t = bars.counts.reset_index().rename(columns={"index": "scientificName"})
        sec.tables.append(Summary("encounters_by_country", t,
                                  {"scientificName": N_("Species")}
                                  | {c: _country_heading(c) for c in bars.counts},
                                  kinds={"scientificName": "latin"}))
    out.append(sec)
    # -- distance
    sec = Section("distance", N_("Distance from the border"),
                  N_("Encounters by distance from the border line, rounded to the precision "
                     "this audience may see."))
    step = distance_precision(view.distance_level)
    dist = D.DistanceDisplay.from_encounters(enc, step_km=step)
    if step is None:
        sec.missing = MISSING_REASONS["withheld"]
    elif dist.empty:
        sec.missing = MISSING_REASONS["encounters"]
    else:
        sec.figures.append(dist)
        sec.tables.append(_distance_bands(view, enc, step))
    out.append(sec)
    # -- trends
    sec = Section("trends", N_("Trends by year"),
                  N_("Individuals, transboundary individuals and crossings per calendar year."))
    yearly = getattr(cb, "yearly", None)
    if yearly is None or yearly.empty:
        sec.missing = MISSING_REASONS["encounters"]
    else:
        sec.figures.append(D.TrendDisplay.from_yearly(yearly))
        cols = ["scientificName", "year", "individuals", "transboundary", "crossings"]
        sec.tables.append(Summary("trends", yearly[[c for c in cols if c in yearly]].copy(), {
            "scientificName": N_("Species"), "year": N_("Year"),
            "individuals": N_("Joint individuals"),
            "transboundary": N_("Recorded in both countries"),
            "crossings": N_("Crossings")}, kinds={"scientificName": "latin"}))
    out.append(sec)
    return out


def _distance_bands(view: ReportView, enc: pd.DataFrame, step: float) -> Summary:
    """Encounters and individuals per band of distance from the border (one computation:
    :func:`amurlink.analysis.crossborder.distance_bands` on the exact distances, with the
    band edges no finer than the audience's precision)."""
    from amurlink.analysis.crossborder import DEFAULT_BANDS_KM, distance_bands

    edges = [e for e in DEFAULT_BANDS_KM if abs(e / step - round(e / step)) < 1e-9]
    exact = view.cache.get("crossborder_exact_encounters")
    t = distance_bands(exact if exact is not None else enc, bands_km=edges)
    t = t[t["encounters"] > 0].reset_index(drop=True)
    return Summary("distance_bands", t, {
        "scientificName": N_("Species"), "country": N_("Country"),
        "lower_km": N_("From (km)"), "upper_km": N_("To (km)"),
        "encounters": N_("Encounters"), "individuals": N_("Individuals")},
        kinds={"scientificName": "latin"},
        values={"country": _country_value,
                "upper_km": lambda v, _: "∞" if not np.isfinite(v) else f"{v:g}",
                "lower_km": lambda v, _: f"{v:g}"})


_HA_PER_100KM2 = 10_000.0

#: An SECR fit needs at least this many recaptures (detections after each animal's first)...
MIN_RECAPTURES = 5
#: ... and this many animals detected at two or more cameras (to estimate sigma).
MIN_SPATIAL_RECAPTURES = 1

_FIT_NAMES = {"joint": N_("Joint (both countries)"), "CN": N_("China alone"),
              "RU": N_("Russia alone")}
_NOT_FITTED_REASONS = {"too-few-recaptures": N_("too few recaptures to fit"),
                       "no-detections": N_("no identified adult was detected")}


def recapture_counts(capthist: Any) -> dict[str, int]:
    """Animals, recaptures and spatial recaptures of an SECR capture history.

    Parameters
    ----------
    capthist : amurlink.analysis.secr.CaptureHistory

    Returns
    -------
    dict
        ``animals`` (detected), ``recaptures`` (detections after each animal's first) and
        ``spatial_recaptures`` (animals detected at two or more detectors).
    """
    counts = np.asarray(capthist.counts)
    n = int(counts.shape[0])
    at_detectors = (counts.sum(axis=1) > 0).sum(axis=1) if n else np.zeros(0)
    return {"animals": n, "recaptures": int(counts.sum()) - n,
            "spatial_recaptures": int((at_detectors >= 2).sum())}


def too_few_recaptures(counts: dict[str, int]) -> bool:
    """True when :func:`recapture_counts` are too few for an SECR fit.

    At least two animals, :data:`MIN_RECAPTURES` recaptures and
    :data:`MIN_SPATIAL_RECAPTURES` animals seen at two cameras are needed.
    """
    return (counts["animals"] < 2 or counts["recaptures"] < MIN_RECAPTURES
            or counts["spatial_recaptures"] < MIN_SPATIAL_RECAPTURES)


def _fit_name(v: Any, _: Any) -> str:
    return _(_FIT_NAMES[v]) if v in _FIT_NAMES else D.country_name(v, _)


def _region_name(v: Any, _: Any) -> str:
    if v == "national sum":
        return _("Both countries (sum of the national fits)")
    return D.country_name(v, _)


def _secr_joint_national(view: ReportView, label: str, fit: Any
                         ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str],
                                    list[str]]:
    """Density rows, abundance rows, fits without estimates and failed national fits.

    Cached on the view (the same fits serve every language).
    """
    key = ("secr", label)
    if key in view.cache:
        return view.cache[key]
    dens, weak = [], []
    fits = {"joint": fit.joint, **dict(fit.national)}
    for name, res in fits.items():
        counts = recapture_counts(fit.capthists[name])
        few = too_few_recaptures(counts)
        if few:
            weak.append(name)
        pred = None if few else res.predict()
        d = None if pred is None else pred.loc["D"]
        sig = pred.loc["sigma"] if pred is not None and "sigma" in pred.index else None
        dens.append({"scientificName": label, "fit": name, **counts,
                     "D": np.nan if d is None else d["estimate"] * _HA_PER_100KM2,
                     "D_lcl": np.nan if d is None else d["lcl"] * _HA_PER_100KM2,
                     "D_ucl": np.nan if d is None else d["ucl"] * _HA_PER_100KM2,
                     "sigma_km": np.nan if sig is None else sig["estimate"] / 1000.0})
    failed = list(getattr(fit, "failed", {}) or {})
    for name in failed:  # the optimiser failed on this country's data alone
        counts = recapture_counts(fit.capthists[name]) if name in fit.capthists else {}
        dens.append({"scientificName": label, "fit": name, **counts, "D": np.nan,
                     "D_lcl": np.nan, "D_ucl": np.nan, "sigma_km": np.nan})
        weak.append(name)
    abund = []
    if "joint" not in weak:
        t = fit.table("E.N")
        for r in t.to_dict(orient="records"):
            blank = (r["region"] in weak) or (r["region"] == "national sum"
                                              and any(w != "joint" for w in weak))
            row = {"scientificName": label, "region": r["region"]}
            for c in ("joint_N", "joint_lcl", "joint_ucl"):
                row[c] = r[c]
            for c in ("national_N", "national_lcl", "national_ucl", "difference"):
                row[c] = np.nan if blank else r[c]
            abund.append(row)
    view.cache[key] = (dens, abund, weak, failed)
    return dens, abund, weak, failed


def _secr(view: ReportView) -> Section:
    sec = Section("secr", N_("Density (SECR)"),
                  N_("Spatially explicit capture-recapture: one fit of the joint data (joint "
                     "identities, every camera) and one fit of each country's data alone "
                     "(its own IDs and cameras, the mask buffered around its own cameras and "
                     "not clipped at the border). Density in animals per 100 km² and animals "
                     "per country, with 95% confidence limits."))
    fits = view.inputs.secr or {}
    skipped = view.inputs.secr_not_fitted
    if not fits and (skipped is None or skipped.empty):
        sec.missing = _reason(view, "secr")
        return sec
    dens, abund, plain, weak, failed = [], [], [], [], []
    for label, res in fits.items():
        if hasattr(res, "joint") and hasattr(res, "national"):
            d, a, w, f = _secr_joint_national(view, label, res)
            dens += d
            abund += a
            weak += [f"{label}: {w_}" for w_ in w]
            failed += [f"{label}: {f_}" for f_ in f]
            continue
        for par, r in res.predict().iterrows():
            scale = _HA_PER_100KM2 if str(par).startswith("D") else 1.0
            plain.append({"model": label, "parameter": str(par),
                          "estimate": r["estimate"] * scale, "se": r["se"] * scale,
                          "lcl": r["lcl"] * scale, "ucl": r["ucl"] * scale})
    if dens:
        sec.tables.append(Summary("secr_density", pd.DataFrame(dens), {
            "scientificName": N_("Species"), "fit": N_("Fit"),
            "animals": N_("Animals detected"), "recaptures": N_("Recaptures"),
            "spatial_recaptures": N_("Animals at two or more cameras"),
            "D": N_("Density per 100 km²"), "D_lcl": N_("Lower 95% limit"),
            "D_ucl": N_("Upper 95% limit"), "sigma_km": N_("Sigma (km)")},
            kinds={"scientificName": "latin"}, values={"fit": _fit_name}))
    if abund:
        sec.tables.append(Summary("secr_abundance", pd.DataFrame(abund), {
            "scientificName": N_("Species"), "region": N_("Region"),
            "joint_N": N_("Animals, joint fit"), "joint_lcl": N_("Lower 95% limit"),
            "joint_ucl": N_("Upper 95% limit"), "national_N": N_("Animals, national fit"),
            "national_lcl": N_("Lower 95% limit"), "national_ucl": N_("Upper 95% limit"),
            "difference": N_("National minus joint")},
            kinds={"scientificName": "latin"}, values={"region": _region_name}))
    if plain:
        sec.tables.append(Summary("secr", pd.DataFrame(plain), {
            "model": N_("Model"), "parameter": N_("Parameter"), "estimate": N_("Estimate"),
            "se": N_("Standard error"), "lcl": N_("Lower 95% limit"),
            "ucl": N_("Upper 95% limit")},
            kinds={"model": "latin", "parameter": "id"}))
        sec.note = N_("D: animals per 100 km²; sigma: metres.")
    few_species = False
    if skipped is not None and not skipped.empty:
        t = skipped.reset_index(drop=True)
        few_species = bool((t["reason"] == "too-few-recaptures").any())
        sec.tables.append(Summary("secr_not_fitted", t, {
            "scientificName": N_("Species"), "animals": N_("Animals detected"),
            "recaptures": N_("Recaptures"),
            "spatial_recaptures": N_("Animals at two or more cameras"),
            "reason": N_("Not fitted because")},
            kinds={"scientificName": "latin"},
            values={"reason": lambda v, _: _(_NOT_FITTED_REASONS.get(v, str(v)))}))
    if few_species or weak:
        sec.note = N_("Too few recaptures to fit: an SECR fit needs at least two animals, five "
                      "recaptures and one animal photographed at two or more cameras. Such "
                      "species are listed without estimates, and such national fits are shown "
                      "without estimates.")
    if failed:
        sec.note = N_("A national fit on which the optimiser failed is shown without "
                      "estimates, and the sum of the national fits is then not given.")
    return sec


def _generic(view: ReportView, key: str, title: str, intro: str) -> Section:
    sec = Section(key, title, intro)
    parts = getattr(view.inputs, key)
    if not parts:
        sec.missing = _reason(view, key)
        return sec
    for i, (name, frame) in enumerate(parts.items()):
        frame = frame.reset_index(drop=True)
        guard_positions(frame, f"{key} table {name!r}")
        sec.tables.append(Summary(f"{key}_{i + 1}", frame, {c: c for c in frame.columns},
                                  kinds={c: "id" for c in frame.columns}))
    return sec


def guard_positions(frame: pd.DataFrame, where: str) -> None:
    """Refuse analysis tables that carry coordinates: they bypass location protection."""
    bad = {"latitude", "longitude", "x", "y", "decimalLatitude", "decimalLongitude"}
    if bad & set(frame.columns):
        raise ValueError(
            f"{where} has coordinate columns {sorted(bad & set(frame.columns))}; the report "
            "shows locations only through location protection, so drop them before passing "
            "the table to the report")


@dataclass
class PidsibCurveDisplay:
    """Cumulative PID and PIDsib as loci are added, most informative first (log scale)."""

    curve: pd.DataFrame
    threshold: float = 0.001
    is_map: bool = field(default=False, init=False)

    @property
    def empty(self) -> bool:
        return self.curve.empty

    def plot(self, ax: Any = None, *, _: Any = D._ident) -> PidsibCurveDisplay:
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        if ax is None:
            _fig, ax = plt.subplots(figsize=(6.0, 3.2), layout="constrained")
        c = self.curve
        ax.semilogy(c["n_loci"], c["cumulative_PID"], marker="o", label=_("PID"))
        ax.semilogy(c["n_loci"], c["cumulative_PIDsib"], marker="s", label=_("PIDsib"))
        ax.axhline(self.threshold, color="grey", ls=":", lw=1,
                   label=_("PIDsib threshold") + f" {self.threshold:g}")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(_("Loci"))
        ax.set_ylabel(_("Probability of identity"))
        ax.legend(fontsize=7)
        ax.set_title(_("Probability of identity as loci are added"))
        self.ax_, self.figure_ = ax, ax.figure
        return self


#: Tables of the DNA section, by key of ``ReportInputs.dna`` (as
#: ``amurlink.identify.genotypes.DnaResults.report_tables()`` gives them).
_SAMPLE_TYPES = {"scat": N_("scat"), "hair": N_("hair"), "tissue": N_("tissue"),
                 "saliva": N_("saliva"), "other": N_("other")}
_DNA_TABLES: dict[str, dict[str, Any]] = {
    "samples": {"labels": {
        "countryCode": N_("Country"), "lab": N_("Lab"), "samples": N_("Samples"),
        "scat": N_("Scat"), "hair": N_("Hair"), "reference": N_("Reference samples")},
        "kinds": {"lab": "id"}, "values": {"countryCode": _country_value}},
    "success": {"labels": {
        "lab": N_("Lab"), "sampleType": N_("Sample type"), "samples": N_("Samples"),
        "typed": N_("Typed at half the loci or more"),
        "mean_success": N_("Mean typing success")},
        "kinds": {"lab": "id"},
        "values": {"sampleType": lambda v, _: _(_SAMPLE_TYPES.get(v, str(v)))}},
    "individuals": {"labels": {
        "labs": N_("Typed by"), "individuals": N_("DNA individuals"), "samples": N_("Samples"),
        "male": N_("Males"), "female": N_("Females"), "max_pidsib": N_("Largest PIDsib")},
        "kinds": {"labs": "id"}},
    "pidsib_curve": {"labels": {
        "n_loci": N_("Loci"), "locus": N_("Locus added"), "n_alleles": N_("Alleles"),
        "cumulative_PID": N_("PID"), "cumulative_PIDsib": N_("PIDsib")}, "kinds": {"locus": "id"}},
    "cross_border_links": {"labels": {
        "subjectA": N_("Sample A"), "subjectB": N_("Sample B"), "countries": N_("Countries"),
        "score": N_("Score"), "loci_compared": N_("Loci compared"),
        "allele_mismatches": N_("Allele mismatches"), "pidsib": N_("PIDsib")},
        "kinds": {"subjectA": "id", "subjectB": "id", "countries": "id"}},
    # the tables of amurlink.study's DNA stage (lab files matched together)
    "Genotype matching": {"name": "dna_matching", "labels": {
        "samples": N_("Samples"), "individuals": N_("DNA individuals"),
        "mismatch_allowance": N_("Allele mismatches allowed"),
        "profile": N_("Mismatch profile"), "PID": N_("PID"), "PIDsib": N_("PIDsib"),
        "ambiguous_samples": N_("Samples matching more than one individual")},
        "values": {"profile": lambda v, _: _(_PROFILES.get(v, str(v)))}},
    "Samples by lab": {"name": "dna_by_lab", "labels": {
        "lab": N_("Lab"), "samples": N_("Samples"), "individuals": N_("DNA individuals")},
        "kinds": {"lab": "id"}},
    "Individuals from genotypes": {"name": "dna_individuals_matched", "labels": {
        "individual": N_("DNA individual"), "representative": N_("Representative sample"),
        "n_samples": N_("Samples"), "samples": N_("Sample IDs"), "sex": N_("Sex"),
        "loci_typed": N_("Loci typed"), "pid": N_("PID"), "pidsib": N_("PIDsib"),
        "ambiguous": N_("Also matches")},
        "kinds": {"individual": "id", "representative": "id", "samples": "id",
                  "ambiguous": "id"},
        "values": {"sex": lambda v, _: _(_SEXES.get(v, str(v)))}},
    "Lab offsets (bp) from reference samples": {"name": "dna_lab_offsets", "labels": {
        "lab": N_("Lab"), "locus": N_("Locus"), "n_pairs": N_("Reference pairs"),
        "n_alleles": N_("Alleles"), "offset": N_("Offset (bp)"),
        "max_abs_residual": N_("Largest residual (bp)"),
        "share_within_tolerance": N_("Share within tolerance"),
        "consistent": N_("Consistent")},
        "kinds": {"lab": "id", "locus": "id"},
        "values": {"consistent": lambda v, _: _("yes") if bool(v) else _("no")}},
}
_PROFILES = {"no-dip": N_("no clear optimum: review the matches"),
             "zero-dip": N_("clear optimum"),
             "nonzero-dip": N_("optimum with ambiguous samples: review them"),
             "flat": N_("no multiple matches at any allowance"),
             "fixed": N_("allowance given, not chosen from the data")}
_SEXES = {"male": N_("male"), "female": N_("female"), "unknown": N_("unknown")}


def _dna(view: ReportView) -> Section:
    parts = view.inputs.dna
    if not parts or not set(parts) & set(_DNA_TABLES):
        return _generic(view, "dna", N_("DNA identification"),
                        N_("Results of genotype matching of scat and hair samples."))
    sec = Section("dna", N_("DNA identification"),
                  N_("Scat, hair and reference samples typed by each lab, typing success, the "
                     "individuals identified from the genotypes of both labs together, the "
                     "probability of identity of the panel and the DNA links across the "
                     "border, proposed for review."))
    for key, spec in _DNA_TABLES.items():
        frame = parts.get(key)
        if frame is None:
            continue
        frame = frame.reset_index(drop=True)
        guard_positions(frame, f"dna table {key!r}")
        sec.tables.append(Summary(spec.get("name", f"dna_{key}"), frame, spec["labels"],
                                  kinds=spec.get("kinds", {}), values=spec.get("values", {})))
        if key == "pidsib_curve" and len(frame):
            sec.figures.append(PidsibCurveDisplay(frame))
    for i, (name, frame) in enumerate((k, v) for k, v in parts.items() if k not in _DNA_TABLES):
        frame = frame.reset_index(drop=True)
        guard_positions(frame, f"dna table {name!r}")
        sec.tables.append(Summary(f"dna_{i + 1}", frame, {c: c for c in frame.columns},
                                  kinds={c: "id" for c in frame.columns}))
    links = parts.get("cross_border_links")
    if links is not None and links.empty:
        sec.note = N_("No DNA individual was sampled in both countries.")
    return sec


#: Tables of the camera-trap section, by key of ``ReportInputs.camtrap`` (as
#: ``amurlink.report.demo.camtrap_tables`` gives them).
_CAMTRAP_TABLES: dict[str, dict[str, Any]] = {
    "relative_abundance": {"labels": {
        "countryCode": N_("Country"), "Species": N_("Species"), "events": N_("Events"),
        "trapDays": N_("Trap-days"), "RAI": N_("Independent events per 100 trap-days")},
        "kinds": {"Species": "latin"}, "values": {"countryCode": _country_value}},
    "activity_overlap": {"labels": {
        "speciesA": N_("Species A"), "speciesB": N_("Species B"), "eventsA": N_("Events A"),
        "eventsB": N_("Events B"), "Dhat1": N_("Dhat1"), "Dhat4": N_("Dhat4"),
        "estimator": N_("Estimator used"), "overlap": N_("Overlap")},
        "kinds": {"speciesA": "latin", "speciesB": "latin", "estimator": "id"}},
}
#: Figure data of the camera-trap section (drawn, not shown as tables).
_CAMTRAP_FIGURE_DATA = ("station_rai", "effort_weekly", "activity_curves")
_CATS = ("Panthera tigris", "Panthera pardus")


def _camtrap(view: ReportView) -> Section:
    parts = view.inputs.camtrap
    if not parts or not set(parts) & (set(_CAMTRAP_TABLES) | set(_CAMTRAP_FIGURE_DATA)):
        return _generic(view, "camtrap", N_("Camera-trap analyses"),
                        N_("Detection rates, activity and other camera-trap summaries."))
    sec = Section("camtrap", N_("Camera-trap analyses"),
                  N_("Effort by country through the study, relative abundance of tiger and "
                     "leopard at each station (independent events per 100 trap-days, at the "
                     "positions this audience may see), and daily activity of the cats and "
                     "their main prey with the coefficient of overlap (Dhat4 when both "
                     "species have at least 50 events, Dhat1 otherwise)."))
    for key, frame in parts.items():
        guard_positions(frame, f"camtrap table {key!r}")
    effort = parts.get("effort_weekly")
    if effort is not None:
        cal = D.EffortCalendarDisplay.from_effort(effort)
        if not cal.empty:
            sec.figures.append(cal)
    rai = parts.get("station_rai")
    withheld = False
    if rai is not None and len(rai):
        station_of = _station_of(view)
        for sp in [c for c in _CATS if c in set(rai["Species"].astype(str))]:
            m = D.RelativeAbundanceMapDisplay.from_rai(
                rai, view.stations, species=sp, station_of=station_of,
                border=view.inputs.border)
            withheld = withheld or bool(m.withheld)
            if not m.empty:
                sec.figures.append(m)
    curves = parts.get("activity_curves")
    if curves is not None:
        act = D.ActivityDisplay.from_curves(curves)
        if not act.empty:
            sec.figures.append(act)
    for key, spec in _CAMTRAP_TABLES.items():
        frame = parts.get(key)
        if frame is None:
            continue
        sec.tables.append(Summary(f"camtrap_{key}", frame.reset_index(drop=True),
                                  spec["labels"], kinds=spec.get("kinds", {}),
                                  values=spec.get("values", {})))
    known = set(_CAMTRAP_TABLES) | set(_CAMTRAP_FIGURE_DATA)
    for i, frame in enumerate(v for k, v in parts.items() if k not in known):
        frame = frame.reset_index(drop=True)
        sec.tables.append(Summary(f"camtrap_{i + 1}", frame, {c: c for c in frame.columns},
                                  kinds={c: "id" for c in frame.columns}))
    if withheld:
        sec.note = N_("Stations whose location is withheld from this audience are left out "
                      "of the relative abundance maps.")
    return sec


def _station_of(view: ReportView) -> pd.Series:
    """Camera-trap station (``locationID``, else the deployment) of every deploymentID."""
    dep = view.inputs.dataset.deployments
    ids = dep["deploymentID"].astype(str)
    loc = dep["locationID"].astype(object) if "locationID" in dep else ids
    loc = pd.Series(loc.to_numpy(object), index=ids.to_numpy())
    return loc.where(loc.notna(), pd.Series(ids.to_numpy(), index=ids.to_numpy())).astype(str)


#: ``neither``: a true pair (simulated data) that neither the photos nor the crosswalk linked
#: (``compare_links`` gives it no outcome).
_OUTCOMES = {"agreement": N_("agreement"), "miss": N_("miss"),
             "false proposal": N_("false proposal"), "neither": N_("found by neither")}


def _outcome(v: Any, _: Any) -> str:
    return _(_OUTCOMES.get(v, str(v)))


def _yes_no(v: Any, _: Any) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return "–"
    return _("yes") if bool(v) else _("no")


def _photo_links(view: ReportView) -> Section:
    sec = Section("photo_links", N_("Automatic photo links against the expert crosswalk"),
                  N_("Cross-border pairs of national IDs proposed by automatic photo "
                     "re-identification, compared with the links of the expert crosswalk: "
                     "an agreement is in both, a miss only in the crosswalk, a false "
                     "proposal only among the photo links. Where the truth is known "
                     "(simulated data), precision and recall of both against it."))
    parts = view.inputs.photo_links
    if not parts:
        sec.missing = _reason(view, "photo_links")
        return sec
    pairs, summary = parts.get("pairs"), parts.get("species")
    for key, frame in parts.items():
        guard_positions(frame, f"photo link table {key!r}")
    if pairs is None or pairs.empty:
        sec.missing = N_("there are no automatic photo links and no crosswalk links to compare")
    else:
        pairs = pairs.assign(outcome=pairs["outcome"].astype(object)
                             .where(pairs["outcome"].notna(), "neither"))
        sec.tables.append(Summary("photo_links", pairs.reset_index(drop=True), {
            "scientificName": N_("Species"), "cn_individualID": N_("China ID"),
            "ru_individualID": N_("Russia ID"), "score": N_("Score"),
            "in_photo": N_("Photo link"), "in_crosswalk": N_("In the crosswalk"),
            "in_truth": N_("True link"), "outcome": N_("Outcome")},
            kinds={"scientificName": "latin", "cn_individualID": "id",
                   "ru_individualID": "id"},
            values={"in_photo": _yes_no, "in_crosswalk": _yes_no, "in_truth": _yes_no,
                    "outcome": _outcome}))
        if not pairs["in_photo"].fillna(False).astype(bool).any():
            sec.note = N_("Automatic photo re-identification proposed no cross-border link.")
    if summary is not None and not summary.empty:
        t = summary if "scientificName" in summary else \
            summary.rename_axis("scientificName").reset_index()
        sec.tables.append(Summary("photo_links_by_species", t.reset_index(drop=True), {
            "scientificName": N_("Species"), "agreements": N_("Agreements"),
            "misses": N_("Misses"), "false_proposals": N_("False proposals"),
            "photo_precision_truth": N_("Photo precision (truth)"),
            "photo_recall_truth": N_("Photo recall (truth)"),
            "crosswalk_precision_truth": N_("Crosswalk precision (truth)"),
            "crosswalk_recall_truth": N_("Crosswalk recall (truth)")},
            kinds={"scientificName": "latin"}))
    return sec


def _manifest(view: ReportView) -> Section:
    sec = Section("manifest", N_("Harmonisation manifest"),
                  N_("Where the joint data came from: sources, files and the rules applied "
                     "when the two countries' data were joined."))
    if not view.inputs.manifest:
        sec.missing = _reason(view, "manifest")
    else:
        sec.manifest = view.inputs.manifest
    return sec
