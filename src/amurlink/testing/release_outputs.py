"""Producers of the output registry (:data:`amurlink.release.OUTPUTS`) for the property tests.

Each producer runs one REAL output path of amurlink for a :class:`ReleaseCase` (a complete
dataset, an audience, the study's policy, an optional agreement) and returns what leaves it:
a list of :class:`amurlink.dataset.Dataset` (checked table by table) and ``str`` (every text
that leaves: files, JSON, HTML), which ``tests/test_release_property.py`` searches.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from amurlink.core.protection import Audience, ProtectionPolicy
from amurlink.dataset import Dataset

__all__ = ["ReleaseCase", "Shown", "Squeezed", "Artifacts", "produce"]

#: What a producer returns: Datasets and Shown positions (structured checks), texts (searched).
Artifacts = list


@dataclass(frozen=True)
class Shown:
    """Positions an output shows: ``deploymentID`` (None where unknown), ``latitude``,
    ``longitude``. ``points_only``: points not tied to a station (map geometries)."""

    frame: pd.DataFrame
    points_only: bool = False


@dataclass(frozen=True)
class Squeezed:
    """Text laid out on pages (a PDF), where a line break may fall inside any word or number
    (text extraction then shows a space there): searched with every white space removed for
    the species outside the agreement and the sensitive stations' coordinates (5 decimals, as
    drawn), besides the checks of the text as extracted."""

    text: str


@dataclass(frozen=True)
class ReleaseCase:
    """One draw of the property test: who reads what, under which rules."""

    dataset: Dataset
    audience: Audience
    policy: ProtectionPolicy
    agreement: Any = None
    today: date = date(2025, 6, 1)
    border: Any = None
    config: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def release(self):
        from amurlink.release import release

        return release(self.dataset, audience=self.audience, policy=self.policy,
                       agreement=self.agreement, today=self.today)

    def study_config(self):
        from dataclasses import replace

        config = self.config or _example_config()
        return replace(config, protection=self.policy)


@functools.lru_cache(maxsize=1)
def _example_config():
    """The example study's config, read once (reading it scans the time-zone database)."""
    from amurlink.config import load_config
    from amurlink.datasets import example_config_path

    return load_config(example_config_path())


def produce(name: str, case: ReleaseCase, tmp: Path) -> Artifacts:
    """Run the registered output ``name`` for ``case`` (following ``via`` to its producer)."""
    from amurlink.release import output

    out = output(name)
    while out.produce is None and out.via is not None:
        out = output(out.via)
    fn = out.producer()
    if fn is None:
        return []
    return fn(case, tmp)


def _text_of_folder(folder: Path) -> str:
    parts = []
    for f in sorted(folder.rglob("*")):
        if f.is_file() and f.suffix.lower() in (".csv", ".json", ".html", ".txt", ".svg"):
            parts.append(f.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(parts)


# -- library -----------------------------------------------------------------------------------
def produce_release(case: ReleaseCase, tmp: Path) -> Artifacts:
    r = case.release()
    return [r.dataset, json.dumps(r.summary(), default=str), json.dumps(dict(r.dataset.metadata),
                                                                        default=str)]


def produce_apply_agreement(case: ReleaseCase, tmp: Path) -> Artifacts:
    from amurlink.exchange import apply_agreement

    if case.agreement is None or case.audience != case.agreement.audience:
        return []
    shared = apply_agreement(case.dataset, case.agreement, today=case.today, policy=case.policy)
    return [shared]


def produce_exchange_export(case: ReleaseCase, tmp: Path) -> Artifacts:
    from amurlink.exchange import export_exchange, import_exchange

    if case.agreement is None or case.audience != case.agreement.audience:
        return []
    target = export_exchange(case.dataset, case.agreement, tmp / "exchange", today=case.today,
                             policy=case.policy, overwrite=True)
    package = import_exchange(target)
    return [package.dataset, _text_of_folder(target)]


def produce_crossborder(case: ReleaseCase, tmp: Path) -> Artifacts:
    if case.border is None:
        return []
    result = case.release().crossborder(case.border)
    texts = [json.dumps(result.to_dict(), default=str)]
    for name in ("encounters", "individuals", "summary", "bands", "yearly", "seasonal"):
        texts.append(getattr(result, name).to_csv())
    return texts


def produce_io_export_tables(case: ReleaseCase, tmp: Path) -> Artifacts:
    from amurlink.io.export import write_camtrapr

    write_camtrapr(case.dataset, tmp / "camtrapr", audience=case.audience, policy=case.policy,
                   agreement=case.agreement, today=case.today)
    return [_text_of_folder(tmp / "camtrapr")]


# -- report ------------------------------------------------------------------------------------
def _view(case: ReleaseCase):
    from amurlink.report import ReportInputs
    from amurlink.report._view import build_view

    inputs = ReportInputs(dataset=case.dataset, config=case.study_config(), border=case.border)
    return build_view(inputs, audience=case.audience, policy=case.policy,  # (the _view one)
                      agreement=case.agreement, today=case.today)


def _stations_dataset(view) -> Shown:
    return Shown(view.stations[["deploymentID", "latitude", "longitude"]].copy())


def produce_report_view(case: ReleaseCase, tmp: Path) -> Artifacts:
    view = _view(case)
    texts = [view.stations.to_csv()]
    if view.crossborder is not None:
        texts.append(json.dumps(view.crossborder.to_dict(), default=str))
    return [view.dataset, _stations_dataset(view), *texts]


def produce_report_html(case: ReleaseCase, tmp: Path) -> Artifacts:
    from amurlink.report import write_report

    view = _view(case)
    folder = tmp / "report"
    write_report(view.inputs, folder, audience=case.audience, policy=case.policy, view=view,
                 date=case.today)
    return [_stations_dataset(view), _text_of_folder(folder)]


def produce_report_pdf(case: ReleaseCase, tmp: Path) -> Artifacts:
    """``amurlink report --pdf``: :func:`~amurlink.report.write_report` with ``pdf=True``
    (headless Chromium prints report.html), then the PDF's own text (pypdf: every page, the
    document information and link targets; ligatures undone), returned as text and as
    :class:`Squeezed` text (a name or a number broken across lines is still found). Raises
    ``ChromiumNotFoundError`` without Chromium."""
    import re
    import unicodedata

    from pypdf import PdfReader

    from amurlink.report import write_report

    view = _view(case)
    files = write_report(view.inputs, tmp / "report", audience=case.audience,
                         policy=case.policy, view=view, date=case.today, pdf=True)
    reader = PdfReader(files.pdf)
    parts = [page.extract_text() or "" for page in reader.pages]
    parts += [str(v) for v in (reader.metadata or {}).values()]
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            action = annot.get_object().get("/A") or {}
            if "/URI" in action:
                parts.append(str(action["/URI"]))
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", "\n".join(parts)))
    # the extraction must have worked (an empty text would pass every check): the report's
    # title, as report.html has it, is in the PDF
    title = re.search(r"<title>(.*?)</title>", files.html.read_text(encoding="utf-8"), re.S)
    want = re.sub(r"\s+", "", title.group(1).split(":")[0]) if title else ""
    assert want and want in re.sub(r"\s+", "", text), (
        f"report:pdf: no text extracted from {files.pdf.name} (title {want!r})")
    return [text, Squeezed(text)]


def produce_report_gpkg(case: ReleaseCase, tmp: Path) -> Artifacts:
    from amurlink.core.crs import from_metric
    from amurlink.report._gpkg import read_gpkg_geometry
    from amurlink.report.render import write_results_gpkg

    view = _view(case)
    path = write_results_gpkg(view, tmp / "report.gpkg")
    con = sqlite3.connect(path)
    texts, rows = [], []
    try:
        layers = [r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")]
        for layer in layers:
            cur = con.execute(f'SELECT * FROM "{layer}"')
            names = [d[0] for d in cur.description]
            for rec in cur.fetchall():
                texts.append(" ".join(str(v) for k, v in zip(names, rec, strict=True)
                                      if k != "geom"))
                if layer == "border" or "geom" not in names:
                    continue
                blob = rec[names.index("geom")]
                if blob is None:
                    continue
                for _kind, pts in [read_gpkg_geometry(blob)]:
                    for x, y in pts:
                        lon, lat = from_metric([x], [y], crs=view.config.crs.working)
                        rows.append({"latitude": float(lat[0]), "longitude": float(lon[0])})
    finally:
        con.close()
    points = pd.DataFrame(rows, columns=["latitude", "longitude"])
    return ["\n".join(texts), Shown(points, points_only=True)]


# ---------------------------------------------------------------------------------------------
# Drawing cases (hypothesis) and checking what leaves
# ---------------------------------------------------------------------------------------------
SPECIES = ("Panthera tigris", "Panthera tigris altaica", "Panthera pardus", "Panthera",
           "Capreolus pygargus", "Sus scrofa")
AGREEABLE = ("Panthera tigris", "Panthera pardus", "Capreolus pygargus", "Sus scrofa")
LEVELS = ("exact", "1km", "10km", "withheld")
_RANK = {lvl: i for i, lvl in enumerate(LEVELS)}
START = pd.Timestamp("2014-09-01 12:00", tz="UTC")


@functools.lru_cache(maxsize=1)
def toy_border():
    """The toy border: the meridian 131.0 E (CN west of it, RU east)."""
    from amurlink.report.demo import toy_border as border

    return border()


@functools.lru_cache(maxsize=1)
def _example() -> Dataset:
    from amurlink.datasets import load_example

    return load_example()


def draw_dataset(draw: Any) -> Dataset:
    """A toy-shaped two-country dataset with drawn positions, species, dates and links.

    Each column is drawn as one list (a few draws a case, not one per cell) and the frames are
    built column-wise: the property tests draw thousands of cases."""
    from hypothesis import strategies as st

    def ints(lo: int, hi: int, size: int) -> list[int]:
        return draw(st.lists(st.integers(lo, hi), min_size=size, max_size=size))

    def picks(values: tuple, size: int) -> list:
        return draw(st.lists(st.sampled_from(values), min_size=size, max_size=size))

    base = _example()
    t = dict(base.tables)  # the frames drawn anew below replace these; the rest are copied
    deps = t["deployments"].copy()
    ids = deps["deploymentID"].tolist()
    n = len(ids)
    cn = [d.startswith("CN") for d in ids]
    # CN stations west of the toy border (131.0 E), RU east of it
    deps["latitude"] = [v / 1e5 for v in ints(4295000, 4325000, n)]
    deps["longitude"] = [((13085000 if c else 13101000) + v) / 1e5
                         for c, v in zip(cn, ints(0, 14000, n), strict=True)]
    ind = t["individuals"].copy()
    ind_species = dict(zip(ind["individualID"], picks(SPECIES[:3] + SPECIES[4:5], len(ind)),
                           strict=True))
    ind["scientificName"] = pd.array(ind["individualID"].map(ind_species),
                                     dtype=ind["scientificName"].dtype)
    all_obs = t["observations"]
    flags = draw(st.lists(st.booleans(), min_size=len(all_obs), max_size=len(all_obs)))
    obs = all_obs.loc[[f or i < 4 for i, f in enumerate(flags)]].reset_index(drop=True)
    m = len(obs)
    start = START + pd.Timedelta(hours=3)
    obs["eventStart"] = (start + pd.to_timedelta(ints(0, 89, m), unit="D")).astype(
        all_obs["eventStart"].dtype)
    obs["eventEnd"] = obs["eventStart"] + pd.Timedelta(minutes=5)
    who = [iid if isinstance(iid, str) else None for iid in obs["individualID"]]
    free = iter(picks(SPECIES + (None,), sum(i is None for i in who)))
    obs["scientificName"] = pd.array([ind_species[i] if i else next(free) for i in who],
                                     dtype=all_obs["scientificName"].dtype)
    # an observation's station: individuals keep their country's side (crossings stay real)
    same_side = {c: [d for d in ids if d[:2] == c] for c in {d[:2] for d in ids}}
    dep_of = []
    for i, old, k in zip(who, obs["deploymentID"], ints(0, n - 1, m), strict=True):
        pool = same_side.get(str(old)[:2], ids) if i else ids
        dep_of.append(pool[k % len(pool)])
    obs["deploymentID"] = pd.array(dep_of, dtype=all_obs["deploymentID"].dtype)
    # a medium keeps its observation's time and station; media of no kept observation go
    media = t["media"]
    row_of = pd.Index(obs["mediaID"]).get_indexer(media["mediaID"])
    media = media.loc[row_of >= 0].copy()
    row_of = row_of[row_of >= 0]
    media["timestamp"] = obs["eventStart"].to_numpy()[row_of]
    media["deploymentID"] = pd.array(obs["deploymentID"].to_numpy()[row_of],
                                     dtype=t["media"]["deploymentID"].dtype)
    first: dict[str, pd.Timestamp] = {}
    for iid, when in zip(who, obs["eventStart"], strict=True):
        if iid is not None and (iid not in first or when < first[iid]):
            first[iid] = when
    ind["firstRecorded"] = pd.Series([first.get(i, pd.NaT) for i in ind["individualID"]],
                                     index=ind.index).astype(ind["firstRecorded"].dtype)
    links = t["identityLinks"].copy()
    links["timestamp"] = (START + pd.to_timedelta(ints(0, 120, len(links)), unit="D")).astype(
        links["timestamp"].dtype)
    samples = t["samples"].copy()
    k = len(samples)
    samples["scientificName"] = pd.array(picks(SPECIES[:3] + SPECIES[4:5], k),
                                         dtype=samples["scientificName"].dtype)
    samples["collectionDate"] = (START + pd.to_timedelta(ints(0, 89, k), unit="D")).astype(
        samples["collectionDate"].dtype)
    samples["latitude"] = [v / 1e5 for v in ints(4295000, 4325000, k)]
    samples["longitude"] = [v / 1e5 for v in ints(13085000, 13115000, k)]
    drawn = dict(deployments=deps, observations=obs, media=media, individuals=ind,
                 identityLinks=links, samples=samples)  # new frames, nobody else holds them
    drawn.update(draw_incident_books(draw))
    t = {**{k: drawn[k] if k in drawn else v.copy() for k, v in t.items()},
         **{k: v for k, v in drawn.items() if k not in t}}
    return Dataset(t, metadata=dict(base.metadata), extra_resources=list(base.extra_resources),
                   copy=False)


#: Incident categories drawn (a snare is a threat: its point stays home unless patrol findings
#: are shared).
_INCIDENT_CATEGORIES = ("livestock-killed", "animal-in-village", "carcass", "snare")


def draw_incident_books(draw: Any) -> dict[str, pd.DataFrame]:
    """Incident books of a drawn case, extension tables of its package (issue #19): incidents
    (species drawn among :data:`SPECIES` or none, dates around the records', points anywhere
    in the study area, :data:`CLAIMANT_NAME` in the comments, a claim key), disease tests,
    patrols with tracks and patrol findings. Column-wise draws, as the records'."""
    from hypothesis import strategies as st

    from amurlink.testing import typed_frame

    def ints(lo: int, hi: int, size: int) -> list[int]:
        return draw(st.lists(st.integers(lo, hi), min_size=size, max_size=size))

    def picks(values: tuple, size: int) -> list:
        return draw(st.lists(st.sampled_from(values), min_size=size, max_size=size))

    def when(size: int) -> list:
        return list(START + pd.to_timedelta(ints(0, 95, size), unit="D"))

    def lat(size: int) -> list[float]:
        return [v / 1e5 for v in ints(4295000, 4325000, size)]

    def lon(size: int) -> list[float]:
        return [v / 1e5 for v in ints(13085000, 13115000, size)]

    n = draw(st.integers(1, 5))
    cc = picks(("CN", "RU"), n)
    incidents = typed_frame("incidents", {
        "incidentID": [f"{c}-INC-{i + 1}" for i, c in enumerate(cc)], "countryCode": cc,
        "eventStart": when(n), "latitude": lat(n), "longitude": lon(n),
        "category": picks(_INCIDENT_CATEGORIES, n), "scientificName": picks(SPECIES + (None,), n),
        "victimKind": ["cattle"] * n, "victimCount": [1] * n,
        "compensationAmount": [1000.0] * n,
        "compensationCurrency": ["RUB" if c == "RU" else "CNY" for c in cc],
        "claimID": [f"CLM-{i + 1}" for i in range(n)],
        "incidentComments": [f"claimant {CLAIMANT_NAME} reported it"] * n})
    k = draw(st.integers(0, 3))
    tcc = picks(("CN", "RU"), k)
    tests = typed_frame("diseaseTests", {
        "testID": [f"{c}-TEST-{i + 1}" for i, c in enumerate(tcc)],
        "scientificName": picks(SPECIES[:3] + SPECIES[4:], k), "countryCode": tcc,
        "sampleType": ["serum"] * k, "sampleDate": when(k), "latitude": lat(k),
        "longitude": lon(k), "lab": ["lab"] * k, "pathogen": ["CDV"] * k,
        "assay": ["serology"] * k, "result": picks(("positive", "negative"), k),
        "testComments": [f"sample brought by {CLAIMANT_NAME}"] * k})
    p = draw(st.integers(0, 2))
    pcc = picks(("CN", "RU"), p)
    starts = when(p)
    patrols = typed_frame("patrols", {
        "patrolID": [f"{c}-PAT-{i + 1}" for i, c in enumerate(pcc)], "countryCode": pcc,
        "start": starts, "end": [t + pd.Timedelta(hours=6) for t in starts],
        "lengthKm": [12.5] * p,
        "track": [f"LINESTRING ({a} {b}, {a + 0.01} {b + 0.01})"
                  for a, b in zip(lon(p), lat(p), strict=True)]})
    f = draw(st.integers(0, 3)) if p else 0
    of = [patrols["patrolID"].iloc[i % p] for i in ints(0, 9, f)] if p else []
    findings = typed_frame("patrolFindings", {
        "findingID": [f"FND-{i + 1}" for i in range(f)], "patrolID": of, "date": when(f),
        "latitude": lat(f), "longitude": lon(f), "category": picks(("snare", "tiger-track"), f),
        "count": [1] * f, "scientificName": picks(SPECIES + (None,), f)})
    return {"incidents": incidents, "diseaseTests": tests, "patrols": patrols,
            "patrolFindings": findings}


#: Readers a case can draw: the owner, one country's owner (the other country's stations at
#: a drawn level), a partner under a drawn agreement, a partner without one (an audience at a
#: drawn level: ``amurlink.io.export``), the public.
READERS = ("owner", "owner-CN", "partner", "partner-plain", "public")


def draw_case(draw: Any, *, with_border: bool = True,
              readers: tuple[str, ...] = ("owner", "owner-CN", "partner", "partner", "public"),
              agreements: bool = True) -> ReleaseCase:
    """A dataset, a study policy, an audience and (maybe) an agreement.

    ``readers``: the kinds of :data:`READERS` to draw from (a kind named twice is drawn twice
    as often). A ``partner`` always reads under a drawn agreement; the other readers get one
    half of the time when ``agreements`` is true (an agreement the path applies to someone
    else's data), never when it is false.
    """
    from hypothesis import strategies as st

    from amurlink.exchange import Agreement

    unknown = set(readers) - set(READERS)
    if unknown or not readers:
        raise ValueError(f"readers must be some of {READERS}, got {readers!r}")
    dataset = draw_dataset(draw)
    sensitive = draw(st.sampled_from([("Panthera tigris", "Panthera pardus"),
                                      ("Panthera tigris",), ("Panthera",),
                                      ("Panthera pardus", "Capreolus pygargus")]))
    policy = ProtectionPolicy(sensitive_species=sensitive,
                              partner_level=draw(st.sampled_from(LEVELS)),
                              partner_sensitive_level=draw(st.sampled_from(LEVELS[1:])),
                              public_level=draw(st.sampled_from(LEVELS)))
    kind = draw(st.sampled_from(readers))
    agreement = None
    if kind == "partner" or (agreements and kind != "partner-plain" and draw(st.booleans())):
        species = tuple(draw(st.sets(st.sampled_from(AGREEABLE), max_size=3)))
        tables = tuple(draw(st.sets(st.sampled_from(
            ["deployments", "observations", "media", "individuals", "identityLinks",
             "samples", "deploymentDetails"]), max_size=4)))
        if tables:  # the incident books too (patrol data only when named)
            tables += tuple(sorted(draw(st.sets(st.sampled_from(
                ["incidents", "diseaseTests", "patrols", "patrolTracks", "patrolFindings"]),
                max_size=3))))
        embargo = draw(st.one_of(st.none(), st.integers(0, 95).map(
            lambda d: (START + pd.Timedelta(days=d)).date())))
        agreement = Agreement(provider="NTLNP", recipient="LLNP", species=species,
                              tables=tables, level=draw(st.sampled_from(LEVELS)),
                              embargo_date=embargo)
    if kind == "owner":
        audience = Audience.owner()
    elif kind == "owner-CN":
        audience = Audience.owner(country="CN", level=draw(st.sampled_from(LEVELS)))
    elif kind == "partner":
        audience = agreement.audience
    elif kind == "partner-plain":
        audience = Audience.partner(organisation="LLNP",
                                    level=draw(st.sampled_from((None, *LEVELS))))
    else:
        audience = Audience.public()
    return ReleaseCase(dataset=dataset, audience=audience, policy=policy, agreement=agreement,
                       border=toy_border() if with_border else None)


#: The cases each output path applies to (keyword arguments of :func:`draw_case`), so that
#: every drawn example runs it: the agreement paths read under an agreement, the
#: ``amurlink.io.export`` writers take an audience and no agreement, the web a reader the
#: platform has (no one-country owner; an agreement only for a partner).
CASES: dict[str, dict[str, Any]] = {
    "library:apply-agreement": {"readers": ("partner",)},
    "library:exchange-export": {"readers": ("partner",)},
    **{name: {"readers": ("owner", "owner-CN", "partner-plain", "public"), "agreements": False}
       for name in ("library:io-export-tables", "library:io-export-dwc",
                    "library:io-export-geopackage")},
    "web": {"readers": ("owner", "partner", "partner", "public"), "agreements": False,
            "with_border": False},
}


def case_options(name: str) -> dict[str, Any]:
    """Keyword arguments of :func:`draw_case` for the output ``name`` (see :data:`CASES`)."""
    if name.startswith("web:"):
        return dict(CASES["web"])
    return dict(CASES.get(name, {}))


def required_levels(case: ReleaseCase) -> pd.Series:
    """The coarsest level each deployment may be shown at, derived from the rules alone.

    Independent of :mod:`amurlink.core.protection`'s code paths: per station, every species
    seen there in the COMPLETE dataset (every date, every species) counts.
    """
    from amurlink.core.protection import is_sensitive

    data, aud, pol = case.dataset, case.audience, case.policy
    deps = data.deployments
    details = data["deploymentDetails"]
    country = dict(zip(details["deploymentID"], details["countryCode"], strict=True))
    obs = data.observations
    names_at: dict[str, list[str]] = {}
    for dep, n in zip(obs["deploymentID"], obs["scientificName"], strict=True):
        if isinstance(n, str):
            names_at.setdefault(dep, []).append(n)
    seen = sorted({n for names in names_at.values() for n in names})
    sensitive = dict(zip(seen, is_sensitive(seen, sensitive_species=pol.sensitive_species),
                         strict=True))
    # the agreement's levels for the species a name is (or is below)
    named = {n: [lvl for sp, lvl in aud.species_levels.items()
                 if is_sensitive([n], sensitive_species=[sp])[0]] for n in seen}
    out = {}
    for dep in deps["deploymentID"]:
        names = names_at.get(dep, [])
        sens = [n for n in names if sensitive[n]]
        if aud.kind == "owner" and (aud.country is None or country.get(dep) == aud.country):
            need = "exact"
        elif aud.kind == "public":
            need = "withheld" if sens else pol.public_level
        else:
            base = aud.level or pol.partner_level
            need_r = _RANK[base]
            for n in sens:
                need_r = max(need_r, max(_RANK[v] for v in named[n]) if named[n]
                             else _RANK[pol.partner_sensitive_level])
            for n in names:  # the agreement's level for a species it names applies too
                if named[n]:
                    need_r = max(need_r, max(_RANK[v] for v in named[n]))
            need = LEVELS[need_r]
        out[dep] = need
    return pd.Series(out)


def _agreed(case: ReleaseCase) -> tuple[str, ...]:
    a = case.agreement
    return tuple(a.species) if a is not None else ()


def _cutoff(case: ReleaseCase) -> pd.Timestamp | None:
    a = case.agreement
    c = a.cutoff(case.today) if a is not None else None
    return None if c is None else pd.Timestamp(c, tz="UTC")


class _Places:
    """Where each deployment of a case may be shown: exact, its 1 km and 10 km cell centres
    (:func:`~amurlink.core.protection.protect_locations`, row by row) and the withheld point
    of the whole dataset; computed once per :func:`check_artifacts` call."""

    def __init__(self, case: ReleaseCase) -> None:
        from amurlink.core.protection import protect_locations

        crs = case.policy.crs
        exact = case.dataset.deployments[["latitude", "longitude"]].reset_index(drop=True)
        self.row = {d: i for i, d in enumerate(case.dataset.deployments["deploymentID"])}
        self.at = {"exact": exact.to_numpy(float)}
        for lvl in ("1km", "10km"):
            cells = protect_locations(exact, level=lvl, crs=crs)
            self.at[lvl] = cells[["latitude", "longitude"]].to_numpy(float)
        held = protect_locations(exact, level="withheld", crs=crs).iloc[0]
        self.held = (float(held["latitude"]), float(held["longitude"]))


def _shown_rank(places: _Places, shown: pd.DataFrame) -> pd.Series:
    """Level each shown row reveals: exact, a 1 / 10 km cell centre, the withheld point; else
    "unknown" (rank 0: treated as exact, so any unexplained position fails)."""
    import numpy as np

    ids = shown["deploymentID"].to_numpy()
    rows = np.array([places.row[d] for d in ids], dtype=int)  # KeyError: an unknown station
    lat = pd.to_numeric(shown["latitude"], errors="coerce").to_numpy(float)
    lon = pd.to_numeric(shown["longitude"], errors="coerce").to_numpy(float)

    def at(points: np.ndarray) -> np.ndarray:
        return np.isclose(points[rows, 0], lat, atol=1e-9, rtol=0) & \
            np.isclose(points[rows, 1], lon, atol=1e-9, rtol=0)

    rank = np.zeros(len(shown), dtype=int)
    for lvl in ("1km", "10km"):
        rank[at(places.at[lvl])] = _RANK[lvl]
    held = (np.isclose(lat, places.held[0], atol=1e-9, rtol=0)
            & np.isclose(lon, places.held[1], atol=1e-9, rtol=0)) | (np.isnan(lat) & np.isnan(lon))
    rank[held] = _RANK["withheld"]
    rank[at(places.at["exact"])] = 0
    return pd.Series(rank, index=ids)


def _outside_names(case: ReleaseCase) -> list[str]:
    """Binomial names of the dataset (and the study's species) the agreement does not share."""
    from amurlink.exchange import within_taxa

    agreed = _agreed(case)
    if not agreed:
        return []
    names = set(SPECIES) | set(case.dataset.observations["scientificName"].dropna().astype(str))
    return sorted(n for n in names if len(n.split()) >= 2 and not within_taxa([n], agreed)[0])


def shareable_subjects(case: ReleaseCase) -> set[str]:
    """Individuals and samples of the complete dataset the case's agreement lets a reader
    know of: of an agreed species (any, without a species list) and first recorded or
    collected before the embargo (any date, without one; never an undated one)."""
    from amurlink.exchange import within_taxa

    agreed, cutoff = _agreed(case), _cutoff(case)
    out: set[str] = set()
    for table, key, when in (("individuals", "individualID", "firstRecorded"),
                             ("samples", "sampleID", "collectionDate")):
        frame = case.dataset.get(table)
        if frame is None or not len(frame):
            continue
        ok = pd.Series(True, index=frame.index)
        if agreed:
            ok &= within_taxa(frame["scientificName"], agreed)
        if cutoff is not None:
            stamps = pd.to_datetime(frame[when], utc=True, errors="coerce")
            ok &= (stamps < cutoff).fillna(False)
        out |= set(frame.loc[ok.to_numpy(bool), key].dropna().astype(str))
    return out


#: Incident books with points, their key and date columns (issue #19).
_BOOKS = {"incidents": ("incidentID", "eventStart"), "diseaseTests": ("testID", "sampleDate"),
          "necropsies": ("necropsyID", "date"), "patrolFindings": ("findingID", "date"),
          "patrols": ("patrolID", "start")}


def _patrol_tables_shared(case: ReleaseCase) -> set[str]:
    a = case.agreement
    return set() if a is None else {t for t in ("patrolTracks", "patrolFindings")
                                    if t in a.tables}


def book_levels(case: ReleaseCase) -> pd.DataFrame:
    """The coarsest level each incident-book point may be shown at, from the rules alone
    (``table``, ``id``, ``level``, exact ``latitude`` / ``longitude``): the owner of the row's
    country sees it exactly; otherwise the level of the species involved as for stations
    (withheld for the public when sensitive, else its level; for a partner the coarser of its
    level and the agreement's level for the species, or the partner's sensitive level), at
    least 1 km for a patrol finding, withheld for a snare or poaching incident unless patrol
    findings are shared."""
    from amurlink.core.protection import is_sensitive

    aud, pol = case.audience, case.policy
    shared = _patrol_tables_shared(case)
    patrols = case.dataset.get("patrols")
    patrol_cc = dict(zip(patrols["patrolID"], patrols["countryCode"], strict=True)) \
        if patrols is not None else {}
    rows = []
    for table, (key, _when) in _BOOKS.items():
        frame = case.dataset.get(table)
        if frame is None or not len(frame) or "latitude" not in frame:
            continue
        for rec in frame.to_dict("records"):
            cc = rec.get("countryCode") if table != "patrolFindings" \
                else patrol_cc.get(rec["patrolID"])
            name = rec.get("scientificName")
            name = name if isinstance(name, str) else None
            if aud.kind == "owner" and (aud.country is None or cc == aud.country):
                rows.append((table, rec[key], "exact", rec["latitude"], rec["longitude"]))
                continue
            sens = name is not None and bool(
                is_sensitive([name], sensitive_species=pol.sensitive_species)[0])
            if aud.kind == "public":
                r = _RANK["withheld"] if sens else _RANK[pol.public_level]
            else:
                named = [lvl for sp, lvl in aud.species_levels.items()
                         if name is not None and is_sensitive([name], sensitive_species=[sp])[0]]
                rec_r = max(_RANK[v] for v in named) if named else \
                    (_RANK[pol.partner_sensitive_level] if sens else 0)
                r = max(_RANK[aud.level or pol.partner_level], rec_r)
            if table == "patrolFindings":
                r = max(r, _RANK["1km"])
            if rec.get("category") in ("snare", "poaching") and table == "incidents" \
                    and "patrolFindings" not in shared:
                r = _RANK["withheld"]
            rows.append((table, rec[key], LEVELS[r], rec["latitude"], rec["longitude"]))
    return pd.DataFrame(rows, columns=["table", "id", "level", "latitude", "longitude"])


def _check_books(name: str, case: ReleaseCase, art: Dataset, need: pd.DataFrame,
                 cutoff: pd.Timestamp | None, agreed: tuple[str, ...]) -> None:
    """Incident books in a Dataset that leaves: points no finer than :func:`book_levels`,
    nothing dated on or after the embargo, no species outside the agreement, no personal data
    or claim key for anyone but the owner (issue #19)."""
    import numpy as np

    from amurlink.core.protection import protect_locations
    from amurlink.exchange import within_taxa
    from amurlink.incidents import PERSONAL_FIELDS

    owner = case.audience.kind == "owner"
    assert "claimants" not in art.tables, f"{name}: a package holds the claimants table"
    for table, frame in art.tables.items():
        if not owner:
            bad = sorted(set(frame.columns) & set(PERSONAL_FIELDS))
            assert not bad, f"{name}: {table} has personal-data columns {bad}"
        if table not in _BOOKS or not len(frame):
            continue
        key, when = _BOOKS[table]
        if not owner:
            text = frame.astype(str).to_csv(index=False)
            assert CLAIMANT_NAME not in text, f"{name}: claimant data in {table}"
            if "claimID" in frame:
                assert frame["claimID"].isna().all(), f"{name}: a claim key in {table}"
            if table == "patrols" and "patrolTracks" not in _patrol_tables_shared(case):
                assert frame["track"].isna().all(), f"{name}: a patrol track not agreed"
        if cutoff is not None and when in frame:
            stamps = pd.to_datetime(frame[when], utc=True, errors="coerce").dropna()
            assert (stamps < cutoff).all(), (
                f"{name}: {table}.{when} on or after the embargo {cutoff.date()}")
        if agreed and "scientificName" in frame:
            names = frame["scientificName"].dropna().astype(str)
            bad = names[~within_taxa(names, agreed)]
            assert bad.empty, f"{name}: {table} has {sorted(set(bad))} outside {agreed}"
        if "latitude" not in frame:
            continue
        rules = need.loc[need["table"] == table].set_index("id")
        shown = frame[[key, "latitude", "longitude"]].reset_index(drop=True)
        rule = rules.reindex(shown[key].astype(str).tolist())
        assert rule["level"].notna().all(), f"{name}: {table} rows that are not in the data"
        exact = rule[["latitude", "longitude"]].to_numpy(float)
        got = shown[["latitude", "longitude"]].to_numpy(float)
        at_exact = np.isclose(got, exact, atol=1e-7, rtol=0).all(axis=1)
        coarse = rule["level"].to_numpy(dtype=object) != "exact"
        assert not (at_exact & coarse).any(), (
            f"{name}: {table} point shown exactly, may be seen at "
            f"{sorted(set(rule['level'][at_exact & coarse]))} at best")
        cells = protect_locations(rule[["latitude", "longitude"]].reset_index(drop=True),
                                  level="1km", crs=case.policy.crs)
        at_1km = np.isclose(got, cells[["latitude", "longitude"]].to_numpy(float),
                            atol=1e-7, rtol=0).all(axis=1)
        coarser = np.isin(rule["level"].to_numpy(dtype=object), ("10km", "withheld"))
        assert not (at_1km & coarser).any(), f"{name}: {table} point at 1 km, coarser due"


def check_artifacts(name: str, case: ReleaseCase, artifacts: Artifacts) -> None:
    """Fail (AssertionError naming the output) on anything the reader may not see."""
    import re

    from amurlink.exchange import within_taxa

    need = required_levels(case)
    places = _Places(case)
    cutoff = _cutoff(case)
    agreed = _agreed(case)
    exact = case.dataset.deployments
    sensitive_exact = []
    for dep, lvl in need.items():
        if lvl != "exact":
            row = exact.loc[exact["deploymentID"] == dep].iloc[0]
            sensitive_exact.append((dep, lvl, float(row["latitude"]), float(row["longitude"])))
    outside = _outside_names(case)
    books = book_levels(case)
    for r in books.loc[books["level"] != "exact"].itertuples():
        if pd.notna(r.latitude) and pd.notna(r.longitude):  # an incident's exact point
            sensitive_exact.append((f"{r.table} {r.id}", r.level, float(r.latitude),
                                    float(r.longitude)))
    for art in artifacts:
        if isinstance(art, str) and case.audience.kind != "owner":
            for secret in (CLAIMANT_NAME, CLAIMANT_PHONE):  # personal data (incidents)
                assert secret not in art, f"{name}: claimant data shown to {case.audience.kind}"
        if isinstance(art, str):
            numbers = [float(v) for v in re.findall(r"(?<![\d.])-?\d{2,3}\.\d{4,}", art)]
            for dep, lvl, la, lo in sensitive_exact:
                # a station leaks when both of its exact coordinates are in the text
                has_lat = any(abs(v - la) <= 5e-6 for v in numbers)
                has_lon = any(abs(v - lo) <= 5e-6 for v in numbers)
                assert not (has_lat and has_lon), (
                    f"{name}: exact position of {dep} ({la}, {lo}) may be shown at {lvl} only")
            low = art.casefold()
            for n in outside:
                assert n.casefold() not in low, f"{name}: species {n!r} outside the agreement"
            continue
        if isinstance(art, Squeezed):
            flat = re.sub(r"\s+", "", art.text).casefold()
            for n in outside:
                assert re.sub(r"\s+", "", n).casefold() not in flat, (
                    f"{name}: species {n!r} outside the agreement (across a line break)")
            for dep, lvl, la, lo in sensitive_exact:
                assert not (f"{la:.5f}" in flat and f"{lo:.5f}" in flat), (
                    f"{name}: exact position of {dep} ({la}, {lo}) may be shown at {lvl} only")
            continue
        if isinstance(art, Shown):
            deps = art.frame
            if art.points_only:
                for dep, lvl, la, lo in sensitive_exact:
                    close = ((deps["latitude"] - la).abs() < 2e-3) & \
                        ((deps["longitude"] - lo).abs() < 2e-3)
                    if lvl in ("10km", "withheld"):
                        assert not close.any(), f"{name}: a point near {dep} ({lvl})"
            elif len(deps):
                shown = _shown_rank(places, deps)
                for dep, r in shown.items():
                    assert r >= _RANK[need[dep]], (
                        f"{name}: {dep} shown at {LEVELS[r]}, may be seen at {need[dep]} at best")
            continue
        assert isinstance(art, Dataset), f"{name}: unexpected artifact {type(art).__name__}"
        _check_books(name, case, art, books, cutoff, agreed)
        deps = art.get("deployments")
        if deps is not None and len(deps) and {"latitude", "longitude"} <= set(deps):
            shown = _shown_rank(places, deps)
            for dep, r in shown.items():
                assert r >= _RANK[need[dep]], (
                    f"{name}: {dep} shown at {LEVELS[r]}, the reader may see {need[dep]} at best")
        if cutoff is not None:
            for table, cols in (("observations", ("eventStart", "eventEnd")),
                                ("media", ("timestamp",)), ("samples", ("collectionDate",)),
                                ("deployments", ("deploymentStart", "deploymentEnd")),
                                ("deploymentGaps", ("gapStart", "gapEnd")),
                                ("individuals", ("firstRecorded",)),
                                ("identityLinks", ("timestamp",))):
                frame = art.get(table)
                for col in cols:
                    if frame is not None and col in frame and len(frame):
                        stamps = pd.to_datetime(frame[col], utc=True, errors="coerce").dropna()
                        assert (stamps < cutoff).all(), (
                            f"{name}: {table}.{col} on or after the embargo {cutoff.date()}")
            temporal = art.metadata.get("temporal")
            # (a package without deployments gets the writer's placeholder: its creation day)
            if isinstance(temporal, dict) and temporal.get("end") and deps is not None \
                    and len(deps):
                assert pd.Timestamp(temporal["end"], tz="UTC") < cutoff, f"{name}: temporal"
        if agreed:
            for table in ("observations", "individuals", "samples"):
                frame = art.get(table)
                if frame is not None and "scientificName" in frame:
                    names = frame["scientificName"].dropna().astype(str)
                    bad = names[~within_taxa(names, agreed)]
                    assert bad.empty, f"{name}: {table} has {sorted(set(bad))} outside {agreed}"
            for t in art.metadata.get("taxonomic") or []:
                assert within_taxa([t.get("scientificName")], agreed)[0], (
                    f"{name}: taxonomic lists {t.get('scientificName')!r}")
        links = art.get("identityLinks")
        ind = art.get("individuals")
        if links is not None and len(links) and (agreed or cutoff is not None):
            # a link names only subjects the reader may know of: in the source catalogues,
            # of an agreed species, first recorded / collected before the embargo (whether or
            # not the catalogue itself is shared) ...
            allowed = shareable_subjects(case)
            for col in ("subjectA", "subjectB"):
                bad = sorted(set(links[col].dropna().astype(str)) - allowed)
                assert not bad, f"{name}: a link to held-back subjects {bad}"
            if ind is not None:  # ... and, with the catalogue shared, one it lists
                known = set(ind["individualID"])
                known |= set(art["samples"]["sampleID"]) if "samples" in art else set()
                for col in ("subjectA", "subjectB"):
                    assert links[col].isin(known).all(), (
                        f"{name}: a link to a subject missing from the shared catalogue")


# -- amurlink.io.export (camtrap export --to dwc | gpkg | xlsx) -----------------------------------
def produce_io_export_dwc(case: ReleaseCase, tmp: Path) -> Artifacts:
    from amurlink.io.export import write_dwc

    write_dwc(case.dataset, tmp / "dwc", audience=case.audience, policy=case.policy,
              agreement=case.agreement, today=case.today)
    return [_text_of_folder(tmp / "dwc") + "\n".join(
        f.read_text(encoding="utf-8") for f in (tmp / "dwc").glob("*.xml"))]


def produce_io_export_geopackage(case: ReleaseCase, tmp: Path) -> Artifacts:
    from amurlink.io.export import read_gpkg_point, write_geopackage

    path = write_geopackage(case.dataset, tmp / "stations.gpkg", audience=case.audience,
                            policy=case.policy, agreement=case.agreement, today=case.today)
    con = sqlite3.connect(path)
    texts, rows = [], []
    try:
        for (layer,) in con.execute("SELECT table_name FROM gpkg_contents").fetchall():
            cur = con.execute(f'SELECT * FROM "{layer}"')
            names = [d[0] for d in cur.description]
            for rec in cur.fetchall():
                texts.append(" ".join(str(v) for k, v in zip(names, rec, strict=True)
                                      if not isinstance(v, bytes)))
                for v in rec:
                    if isinstance(v, bytes) and v[:2] == b"GP":
                        x, y, _srs = read_gpkg_point(v)  # WGS84 (srs 4326)
                        rows.append({"latitude": y, "longitude": x})
    finally:
        con.close()
    points = pd.DataFrame(rows, columns=["latitude", "longitude"])
    return ["\n".join(texts), Shown(points, points_only=True)]


def produce_io_export_xlsx(case: ReleaseCase, tmp: Path) -> Artifacts:
    """``camtrap export --to xlsx``: station and record tables of the released data."""
    import openpyxl

    from amurlink.analysis.camtrap import record_table, station_table
    from amurlink.io.export import write_xlsx

    released = case.release().dataset
    tabs = {"stations": station_table(released),
            "records": record_table(released).drop(columns=["eventStart"])}
    path = write_xlsx(tabs, tmp / "camtrap.xlsx")
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        cells = [str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True)
                 for v in row if v is not None]
    finally:
        book.close()
    return [" ".join(cells)]


# -- incidents (issue #19) ----------------------------------------------------------------------
#: Personal data written into every drawn case's claimants table: it may reach the owner only.
CLAIMANT_NAME = "Zzyzx Testclaimant"
CLAIMANT_PHONE = "+7 900 555 01 23"


def incident_tables_for(case: ReleaseCase) -> dict[str, pd.DataFrame]:
    """Incident books of a drawn case: one tiger depredation at each station's EXACT position
    (the station's country), each with a compensation claim by a made-up claimant
    (:data:`CLAIMANT_NAME`, :data:`CLAIMANT_PHONE`)."""
    ds = case.dataset
    deps = ds.deployments.reset_index(drop=True)
    details = ds.get("deploymentDetails")
    country = pd.Series("CN", index=deps.index, dtype=object)
    if details is not None and "countryCode" in details:
        country = deps["deploymentID"].map(
            details.drop_duplicates("deploymentID").set_index("deploymentID")["countryCode"]
        ).fillna("CN").astype(object)
    species = pd.Series("Panthera tigris", index=deps.index, dtype=object)  # sensitive
    start = pd.to_datetime(deps["deploymentStart"], utc=True)
    ids = [f"INC-{i + 1}" for i in range(len(deps))]
    claims = [f"CLM-{i + 1}" for i in range(len(deps))]
    incidents = pd.DataFrame({
        "incidentID": ids, "countryCode": country.to_numpy(), "eventStart": start.to_numpy(),
        "latitude": deps["latitude"].to_numpy(float),
        "longitude": deps["longitude"].to_numpy(float),
        "category": "livestock-killed", "scientificName": species.to_numpy(),
        "individualID": None, "victimKind": "cattle", "victimCount": 1,
        "compensationAmount": 1000.0,
        "compensationCurrency": ["RUB" if c == "RU" else "CNY" for c in country],
        "compensationDate": start.dt.date.to_numpy(), "claimID": claims,
        "incidentComments": "near the road",
    })
    claimants = pd.DataFrame({"claimID": claims, "incidentID": ids,
                              "claimantName": CLAIMANT_NAME, "phone": CLAIMANT_PHONE,
                              "address": "1 Test Street", "claimComments": None})
    return {"incidents": incidents, "claimants": claimants}


def produce_report_incidents(case: ReleaseCase, tmp: Path) -> Artifacts:
    """The report's incidents section for the case's reader (tables and rendered HTML), and
    the protected incident tables it is computed from (without their points)."""
    from amurlink.report import ReportInputs
    from amurlink.report._sections_incidents import incidents_section, shown_incident_tables
    from amurlink.report._view import build_view
    from amurlink.report.render import render_html

    tables = incident_tables_for(case)
    inputs = ReportInputs(dataset=case.dataset, config=case.study_config(), border=case.border,
                          themes={"incidents": {"tables": tables, "analyses": {}}})
    view = build_view(inputs, audience=case.audience, policy=case.policy,
                      agreement=case.agreement, today=case.today)
    sec = incidents_section(view)
    shown = shown_incident_tables(view, tables)
    texts = [t.frame.to_csv(index=False) for t in sec.tables]
    # the protected tables the section reads (their points follow the incident rules, per
    # species involved, not the stations': they are checked for personal data here, and the
    # report shows no incident position at all)
    texts += [f.drop(columns=[c for c in ("latitude", "longitude") if c in f]).to_csv(index=False)
              for f in shown.values()]
    texts.append(render_html(view, [sec], lang="en", date=case.today))
    return list(texts)
