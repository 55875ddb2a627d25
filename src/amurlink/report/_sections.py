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

__all__ = ["Section", "build_sections", "MISSING_REASONS"]

#: Default reasons, by part, for parts that have no results (msgids, translated at render).
MISSING_REASONS = {
    "border": N_("no border line was given, so sides and distances cannot be computed"),
    "crossborder": N_("the cross-border analysis has not been run"),
    "transboundary": N_("no individual was recorded in both countries"),
    "withheld": N_("the locations are withheld from this audience"),
    "secr": N_("no SECR fit was given to the report"),
    "dna": N_("no DNA identification results were given to the report"),
    "camtrap": N_("no camera-trap analysis results were given to the report"),
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


def _reason(view: ReportView, part: str) -> str:
    given = view.inputs.missing.get(part)
    return given if given else MISSING_REASONS[part]


def build_sections(view: ReportView) -> list[Section]:
    """Every section of the report, in order."""
    secs = [_coverage(view), _individuals(view)]
    secs += _crossborder_sections(view)
    secs += [_secr(view), _dna(view), _camtrap(view), _manifest(view)]
    return secs


def _coverage(view: ReportView) -> Section:
    st = view.stations
    g = st.groupby("country", dropna=False)
    cov = pd.DataFrame({
        "country": g.size().index.to_numpy(object),
        "cameras": g.size().to_numpy(),
        "trapDays": g["trapDays"].sum().round(0).to_numpy(),
        "withheld": g["level"].apply(lambda s: int((s == "withheld").sum())).to_numpy(),
    })
    cov.loc[len(cov)] = ["ALL", int(cov["cameras"].sum()), float(cov["trapDays"].sum()),
                         int(cov["withheld"].sum())]
    table = Summary("coverage", cov, {
        "country": N_("Country"), "cameras": N_("Cameras"), "trapDays": N_("Trap-days"),
        "withheld": N_("Stations with withheld location")},
        values={"country": lambda v, _: _("All") if v == "ALL" else D.country_name(v, _)})
    years = st.groupby(["year", "country"])["trapDays"].sum().round(0).unstack(fill_value=0)
    by_year = years.reset_index().rename(columns=lambda c: f"trapDays_{c}" if c != "year" else c)
    year_table = Summary("coverage_by_year", by_year, {"year": N_("Year")} | {
        c: _trap_days_in(c.removeprefix("trapDays_")) for c in by_year.columns if c != "year"})
    sec = Section("coverage", N_("Data coverage"),
                  N_("Cameras and trap-days (camera-days less recorded gaps) by country, and "
                     "the camera stations."),
                  tables=[table, year_table])
    m = D.StationMapDisplay.from_stations(st, border=view.inputs.border)
    if m.empty:
        sec.note = MISSING_REASONS["withheld"]
    else:
        sec.figures.append(m)
        if m.withheld:
            sec.note = MISSING_REASONS["withheld"]
    return sec


def _individuals(view: ReportView) -> Section:
    sec = Section("individuals", N_("Individuals: national against joint"),
                  N_("Each country counts the animals in its own catalogue; joint identities "
                     "merge national IDs that confirmed links show to be one animal."))
    cb = view.crossborder
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
        sec.missing = view.crossborder_note or _reason(view, "crossborder")
    if view.links is not None and len(view.links):
        t = view.links.groupby(["method", "status"]).size().unstack(fill_value=0)
        t = t.reindex(columns=["confirmed", "proposed", "rejected"], fill_value=0).reset_index()
        sec.tables.append(Summary("links_by_method", t, {
            "method": N_("Link method"), "confirmed": N_("Confirmed"),
            "proposed": N_("Proposed"), "rejected": N_("Rejected")},
            values={"method": lambda v, _: _(LINK_METHOD_NAMES.get(v, v))}))
    else:
        sec.note = MISSING_REASONS["links"]
    return sec


LINK_METHOD_NAMES = {"photo": N_("photo"), "dna": N_("DNA"), "expert": N_("expert")}


def _crossborder_sections(view: ReportView) -> list[Section]:
    cb = view.crossborder
    keys = [("crossborder", N_("Cross-border individuals")),
            ("tracks", N_("Encounters of each transboundary individual")),
            ("countries", N_("Encounters by country")),
            ("distance", N_("Distance from the border")),
            ("trends", N_("Trends by year"))]
    if cb is None:
        why = view.crossborder_note or _reason(view, "crossborder")
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
        d = dist.distances
        edges = np.arange(0.0, float(d["distance_km"].max()) + 2 * dist.bin_km, dist.bin_km)
        band = pd.cut(d["distance_km"], edges, right=False)
        t = d.assign(lower_km=[b.left for b in band], upper_km=[b.right for b in band])
        t = (t.groupby(["country", "lower_km", "upper_km"], observed=False).size()
             .rename("encounters").reset_index())
        sec.tables.append(Summary("distance_bands", t, {
            "country": N_("Country"), "lower_km": N_("From (km)"), "upper_km": N_("To (km)"),
            "encounters": N_("Encounters")}, values={"country": _country_value}))
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
            "individuals": N_("Joint individuals"), "transboundary": N_("Recorded in both countries"),
            "crossings": N_("Crossings")}, kinds={"scientificName": "latin"}))
    out.append(sec)
    return out


_HA_PER_100KM2 = 10_000.0


def _secr(view: ReportView) -> Section:
    sec = Section("secr", N_("Density (SECR)"),
                  N_("Spatially explicit capture-recapture estimates; density in animals per "
                     "100 km² with 95% confidence limits."))
    fits = view.inputs.secr
    if not fits:
        sec.missing = _reason(view, "secr")
        return sec
    rows = []
    for label, res in fits.items():
        pred = res.predict()
        for par, r in pred.iterrows():
            scale = _HA_PER_100KM2 if str(par).startswith("D") else 1.0
            rows.append({"model": label, "parameter": str(par),
                         "estimate": r["estimate"] * scale, "se": r["se"] * scale,
                         "lcl": r["lcl"] * scale, "ucl": r["ucl"] * scale})
    t = pd.DataFrame(rows)
    sec.tables.append(Summary("secr", t, {
        "model": N_("Model"), "parameter": N_("Parameter"), "estimate": N_("Estimate"),
        "se": N_("Standard error"), "lcl": N_("Lower 95% limit"), "ucl": N_("Upper 95% limit")},
        kinds={"model": "latin", "parameter": "id"}))
    sec.note = N_("D: animals per 100 km²; sigma: metres.")
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
}


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
        sec.tables.append(Summary(f"dna_{key}", frame, spec["labels"],
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


def _camtrap(view: ReportView) -> Section:
    return _generic(view, "camtrap", N_("Camera-trap analyses"),
                    N_("Detection rates, activity and other camera-trap summaries."))


def _manifest(view: ReportView) -> Section:
    sec = Section("manifest", N_("Harmonisation manifest"),
                  N_("Where the joint data came from: sources, files and the rules applied "
                     "when the two countries' data were joined."))
    if not view.inputs.manifest:
        sec.missing = _reason(view, "manifest")
    else:
        sec.manifest = view.inputs.manifest
    return sec
