"""What a reader sees for review, individuals and photos: always the joint package's release.

Every table used here comes from :func:`amurlink_web.apps.jobs.selectors.joint_release`
(:func:`amurlink.release.release`: protected on the complete package, then cut to the
reader's agreements), so positions are at the reader's level and what an agreement holds
back (species, tables, embargo) is not there. Photos are shown only to readers whose
agreements include the ``media`` table (:func:`media_allowed`), and only those photos whose
media row survived the release.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.core.exceptions import PermissionDenied
from django.http import Http404

from amurlink.release import Released
from amurlink_web.apps.core.audit import agreement_text, levels_text, owners_text, park_ids
from amurlink_web.apps.datasets.selectors import frame_records
from amurlink_web.apps.identities.selectors import (
    joint_package_path,
    link_get,
    link_list,
    reader_link_store,
    review_membership,
)
from amurlink_web.apps.jobs.selectors import (
    JointAccess,
    data_release,
    joint_inputs,
    joint_reader,
)

#: Review queue statuses (``awaiting-me``: proposed and not yet accepted for my side).
QUEUE_STATUSES = ("awaiting-me", "awaiting-partner", "proposed", "confirmed", "rejected")
_FLANK = re.compile(r"flank:(left|right)", re.I)


@dataclass(frozen=True)
class Reader:
    """A working-group reader, their view of the joint package and its release."""

    member: Any
    user: Any
    access: JointAccess
    released: Released

    @functools.cached_property
    def side(self) -> str | None:
        """The country a reviewer decides for (None: not a park reviewer); looked up once
        per request (a Reader lives for one request)."""
        m = review_membership(fetched_by=self.user)
        return None if m is None else str(m.organisation.country)

    def links(self, status: str | None = None) -> list[dict[str, Any]]:
        """The link store's current links (``link_list``), read once per request; copies."""
        memo = self.__dict__.setdefault("_links", {})
        if status not in memo:
            memo[status] = link_list(fetched_by=self.user, status=status)
        return [dict(r) for r in memo[status]]

    def identities(self) -> list[dict[str, Any]]:
        """The joint identities (``identity_list``), read once per request."""
        if "_identities" not in self.__dict__:
            from amurlink_web.apps.identities.selectors import identity_list

            self.__dict__["_identities"] = identity_list(fetched_by=self.user)
        return self.__dict__["_identities"]

    def link(self, link_event_id: str) -> dict[str, Any]:
        """The current state of the pair ``link_event_id`` is about (``link_get``)."""
        for row in self.links():
            if row["linkEventID"] == link_event_id:
                return row
        return link_get(link_event_id=link_event_id, fetched_by=self.user)

    def history(self, subject: str) -> list[dict[str, Any]]:
        """``subject``'s link history (``link_history_list``), computed once per link-log
        state; 404 for an unknown subject."""
        store = self.__dict__.get("_store")
        if store is None:  # the reader's cut of the log: no event about a held-back subject
            s = reader_link_store(fetched_by=self.user)
            store = self.__dict__["_store"] = (str(s.path), s.key(), s.two_party, s.terms)
        try:
            return [dict(r) for r in _history_cached(*store, subject)]
        except (ValueError, KeyError):
            raise Http404("no such subject") from None

    def audit_terms(self) -> dict[str, str]:
        """``owners``/``level``/``agreement`` of a read of the joint package by this reader."""
        return {"owners": owners_text(park_ids()),
                "level": levels_text(self.released.levels),
                "agreement": "; ".join(agreement_text(a)
                                       for a in self.access.agreements)[:200]}


@functools.lru_cache(maxsize=256)
def _history_cached(path: str, key: tuple[Any, ...], two_party: bool, terms: Any, subject: str
                    ) -> tuple[dict[str, Any], ...]:
    from amurlink_web.apps.identities.selectors import ScopedLinkStore

    return tuple(frame_records(ScopedLinkStore(Path(path), two_party=two_party, terms=terms)
                               .history(subject)))


def reader_release(access: JointAccess) -> Released:
    """The joint package as ``access`` may see it: the SAME release as the maps' and the
    home page's (:func:`~amurlink_web.apps.jobs.selectors.data_release`, i.e.
    :func:`amurlink.release.release` of the complete package with the reader's agreements),
    kept until a data file, the border or the study settings change."""
    return data_release(access=access)


def reader_get(*, fetched_by) -> Reader:
    """The reader's view of the joint package (404 outside the working group)."""
    member, access = joint_reader(fetched_by=fetched_by)
    return Reader(member=member, user=fetched_by, access=access,
                  released=reader_release(access))


def media_allowed(access: JointAccess) -> bool:
    """Whether the reader's agreements include media (photos).

    A park sees its own photos; every agreement it reads others' data through must share
    the ``media`` table (an empty table list shares every table). The public sees none.
    """
    if access.kind == "public":
        return False
    return all(not a.tables or "media" in a.tables for a in access.agreements)


def require_media(reader: Reader) -> None:
    if not media_allowed(reader.access):
        raise PermissionDenied("your sharing agreement does not include photos (media)")


# ---------------------------------------------------------------------------------------------
# Photos of the release
# ---------------------------------------------------------------------------------------------
def _photo_frame(data: Any) -> pd.DataFrame:
    media = data.media
    cols = ["mediaID", "deploymentID", "timestamp", "filePath", "individualID",
            "scientificName", "flank", "countryCode", "bbox", "sortKey"]
    if not len(media):  # (a package without photos: empty pages, not a KeyError)
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in cols})
    m = media[["mediaID", "deploymentID", "timestamp", "filePath"]].copy()
    obs = data.observations
    o = obs[obs["mediaID"].notna()] if "mediaID" in obs else obs.iloc[:0]
    tags = o["observationTags"].astype(object) if "observationTags" in o \
        else pd.Series([None] * len(o), index=o.index)
    # column-wise (a package has tens of thousands of photos): the box where all four parts
    # are given, the flank from the observation's tags
    box = np.column_stack([o[c].astype(float).to_numpy(dtype=float, na_value=np.nan)
                           if c in o else np.full(len(o), np.nan)
                           for c in ("bboxX", "bboxY", "bboxWidth", "bboxHeight")])
    whole = ~np.isnan(box).any(axis=1) if len(o) else np.zeros(0, bool)
    bbox = np.full(len(o), None, dtype=object)
    for i, b in zip(np.flatnonzero(whole).tolist(), box[whole].tolist(), strict=True):
        bbox[i] = tuple(b)
    flank = tags.where(tags.map(lambda t: isinstance(t, str)), "").astype(str).str.extract(
        _FLANK, expand=False).str.lower().fillna("unknown")
    o = pd.DataFrame({"mediaID": o["mediaID"].astype(str), "bbox": bbox,
                      "individualID": o["individualID"].astype(object),
                      "scientificName": o["scientificName"].astype(object),
                      "flank": flank.astype(object).to_numpy()}, index=o.index)
    o = o.drop_duplicates("mediaID")
    m["mediaID"] = m["mediaID"].astype(str)
    m = m.merge(o, on="mediaID", how="left")
    m["flank"] = m["flank"].fillna("unknown")
    if "deploymentDetails" in data:
        det = data["deploymentDetails"][["deploymentID", "countryCode"]].drop_duplicates(
            "deploymentID")
        m = m.merge(det, on="deploymentID", how="left")
    else:
        m["countryCode"] = None
    ts = pd.to_datetime(m["timestamp"], utc=True, errors="coerce")
    m["timestamp"] = ts
    # "%Y-%m-%dT%H:%M:%S" of each UTC time ("0000" without one), by numpy (strftime took
    # most of the table's time)
    text = np.datetime_as_string(ts.dt.tz_convert(None).to_numpy().astype("datetime64[s]"),
                                 unit="s")
    text = np.where(ts.isna().to_numpy(), "0000", text).astype(object)
    m["sortKey"] = pd.Series(text, index=m.index) + "|" + m["mediaID"].astype(object)
    m = m.sort_values("sortKey", kind="stable").reset_index(drop=True)
    for c in ("individualID", "scientificName", "countryCode"):
        m[c] = m[c].astype(object).where(m[c].notna(), None)
    return m


@functools.lru_cache(maxsize=16)
def _photos_cached(released_id: int, released: Released) -> pd.DataFrame:
    return _photo_frame(released.dataset)


def photos_of(reader: Reader) -> pd.DataFrame:
    """Every photo row the reader may see (media + its observation), sorted by
    ``sortKey`` (``timestamp|mediaID``, the keyset of the media browser)."""
    return _photos_cached(id(reader.released), reader.released)


@functools.lru_cache(maxsize=16)
def _photos_by_individual(released_id: int, released: Released) -> dict[str, pd.DataFrame]:
    frame = _photos_cached(released_id, released)
    named = frame[frame["individualID"].notna()]
    return {str(k): g for k, g in named.groupby(named["individualID"].astype(str), sort=False)}


def photos_of_individuals(reader: Reader, subjects: list[str]) -> pd.DataFrame:
    """The reader's photos of ``subjects`` (in ``sortKey`` order)."""
    groups = _photos_by_individual(id(reader.released), reader.released)
    found = [groups[s] for s in subjects if s in groups]
    if not found:
        return photos_of(reader).iloc[:0]
    return pd.concat(found).sort_values("sortKey", kind="stable") if len(found) > 1 \
        else found[0]


def photo_get(reader: Reader, media_id: str) -> dict[str, Any]:
    """A photo row the reader may see (403 without media in the agreement, 404 else)."""
    require_media(reader)
    frame = photos_of(reader)
    pos = _photo_positions(id(reader.released), reader.released).get(str(media_id))
    if pos is None:
        raise Http404("no such photo")
    return frame.iloc[pos].to_dict()


def photo_paths(reader: Reader, media_ids: Iterable[str]) -> list[tuple[str, str]]:
    """``(mediaID, filePath)`` of those of ``media_ids`` in the reader's photos (the page
    that shows them has checked the reader; see :func:`media.thumbnail_links`)."""
    if not media_allowed(reader.access):
        return []
    frame = photos_of(reader)
    positions = _photo_positions(id(reader.released), reader.released)
    paths = frame["filePath"]
    out = []
    for m in media_ids:
        pos = positions.get(str(m))
        if pos is not None:
            out.append((str(m), str(paths.iat[pos])))
    return out


@functools.lru_cache(maxsize=16)
def _photo_positions(released_id: int, released: Released) -> dict[str, int]:
    frame = _photos_cached(released_id, released)
    return {m: i for i, m in enumerate(frame["mediaID"].astype(str))}


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    next_cursor: str | None


def keyset_page(frame: pd.DataFrame, *, station: str = "", species: str = "",
                individual: str = "", date_from: str = "", date_to: str = "",
                after: str = "", size: int = 100, keys: np.ndarray | None = None) -> Page:
    """The ``size`` rows of ``frame`` (sorted by its unique ``sortKey``) that pass the
    filters and come after the cursor ``after`` (keyset pagination, never an offset).

    The cursor is the last shown row's ``sortKey`` (``timestamp|mediaID``); the start is
    found by binary search on the sorted keys (``keys``: the column as an array, cached by
    the caller), and rows are read from there in blocks until the page is full, so the
    first, a middle and the last page cost the same and no page scans every photo.
    """
    if keys is None:
        keys = frame["sortKey"].to_numpy(dtype=object)
    start = int(np.searchsorted(keys, after, side="right")) if after else 0
    tests = [(c, v) for c, v in (("deploymentID", station), ("scientificName", species),
                                 ("individualID", individual)) if v]
    filtered = bool(tests or date_from or date_to)
    block = 4096 if filtered else size + 1
    picked: list[int] = []
    pos = start
    while pos < len(frame) and len(picked) <= size:
        part = frame.iloc[pos: pos + block]
        if filtered:
            mask = np.ones(len(part), bool)
            for column, value in tests:
                mask &= (part[column].astype(str) == value).to_numpy()
            if date_from:
                mask &= (part["sortKey"] >= date_from).to_numpy()
            if date_to:
                mask &= (part["sortKey"] < date_to + "~").to_numpy()
            picked.extend((pos + np.flatnonzero(mask)).tolist())
        else:
            picked.extend(range(pos, pos + len(part)))
        pos += block
    more = len(picked) > size
    rows = frame.iloc[picked[:size]]
    out = frame_records(rows.drop(columns=[c for c in ("filePath", "bbox") if c in rows]))
    last = str(rows["sortKey"].iloc[-1]) if len(rows) else None
    return Page(rows=out, next_cursor=last if more else None)


@functools.lru_cache(maxsize=16)
def _sort_keys(released_id: int, released: Released) -> np.ndarray:
    return _photos_cached(released_id, released)["sortKey"].to_numpy(dtype=object)


def media_page(reader: Reader, *, after: str = "", size: int = 100, **filters: str) -> Page:
    """One page of the photos the reader may see (:func:`keyset_page`); 403 without media
    in the agreement."""
    require_media(reader)
    return keyset_page(photos_of(reader), after=after, size=size,
                       keys=_sort_keys(id(reader.released), reader.released), **filters)


def media_filters(reader: Reader) -> dict[str, list[str]]:
    """The stations, species and individuals of the reader's photos (for the filters)."""
    return _media_filters(id(reader.released), reader.released)


@functools.lru_cache(maxsize=16)
def _media_filters(released_id: int, released: Released) -> dict[str, list[str]]:
    frame = _photos_cached(released_id, released)
    return {"stations": sorted(frame["deploymentID"].dropna().astype(str).unique()),
            "species": sorted(frame["scientificName"].dropna().astype(str).unique()),
            "individuals": sorted(frame["individualID"].dropna().astype(str).unique())}


# ---------------------------------------------------------------------------------------------
# Detections of individuals (protected positions)
# ---------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=16)
def _identified_cached(released_id: int, released: Released) -> pd.DataFrame:
    """Observations of identified animals with the station's PROTECTED position, country and
    level, sorted by time: made once per release, so a page filters a few hundred rows, not
    every photo's observation."""
    data = released.dataset
    obs = data.observations
    cols = ["observationID", "deploymentID", "eventStart", "individualID", "scientificName"]
    if not len(obs) or "individualID" not in obs:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in
                             (*cols, "latitude", "longitude", "countryCode", "level")})
    o = obs.loc[obs["individualID"].notna(), cols].copy()
    o["individualID"] = o["individualID"].astype(str)
    deps = data.deployments[["deploymentID", "latitude", "longitude"]]
    o = o.merge(deps, on="deploymentID", how="left")
    if "deploymentDetails" in data:
        o = o.merge(data["deploymentDetails"][["deploymentID", "countryCode"]]
                    .drop_duplicates("deploymentID"), on="deploymentID", how="left")
    o = o.sort_values("eventStart", kind="stable")
    o["level"] = o["deploymentID"].map(released.levels).fillna("withheld")
    return o


def detections_of(reader: Reader, subjects: list[str]) -> list[dict[str, Any]]:
    """Detections of ``subjects`` with the station's PROTECTED position and country."""
    o = _identified_cached(id(reader.released), reader.released)
    return frame_records(o[o["individualID"].isin([str(s) for s in subjects])])


def map_points(detections: list[dict[str, Any]], subjects: list[str], *, width: int = 360,
               height: int = 240) -> dict[str, Any]:
    """Detections placed on a small SVG (protected positions; withheld ones are left out)."""
    pts = [d for d in detections if d.get("latitude") is not None
           and d.get("longitude") is not None and d.get("level") != "withheld"]
    if not pts:
        return {"points": [], "width": width, "height": height, "withheld": len(detections)}
    lat = np.array([p["latitude"] for p in pts], float)
    lon = np.array([p["longitude"] for p in pts], float)
    pad = 0.02
    x0, x1 = lon.min() - pad, lon.max() + pad
    y0, y1 = lat.min() - pad, lat.max() + pad
    out = []
    for p, x, y in zip(pts, lon, lat, strict=True):
        out.append({"x": round(10 + (x - x0) / (x1 - x0) * (width - 20), 1),
                    "y": round(10 + (y1 - y) / (y1 - y0) * (height - 20), 1),
                    "who": subjects.index(p["individualID"]) if p["individualID"] in subjects
                    else 0, "label": f"{p['deploymentID']} {p.get('eventStart') or ''}",
                    "level": p["level"]})
    return {"points": out, "width": width, "height": height,
            "withheld": len(detections) - len(pts)}


def timeline(detections: list[dict[str, Any]], subjects: list[str], *, width: int = 600
             ) -> dict[str, Any]:
    """Detections as marks on a time axis, one row per subject."""
    stamps = pd.to_datetime([d.get("eventStart") for d in detections], utc=True,
                            errors="coerce")
    ok = [(d, t) for d, t in zip(detections, stamps, strict=True) if not pd.isna(t)]
    if not ok:
        return {"marks": [], "width": width, "start": None, "end": None}
    t0 = min(t for _, t in ok)
    t1 = max(t for _, t in ok)
    span = max((t1 - t0).total_seconds(), 1.0)
    marks = [{"x": round(10 + (t - t0).total_seconds() / span * (width - 20), 1),
              "y": 14 + 22 * (subjects.index(d["individualID"])
                              if d["individualID"] in subjects else 0),
              "country": d.get("countryCode") or "", "label": f"{d['individualID']} "
              f"{t.date().isoformat()} {d['deploymentID']}"} for d, t in ok]
    return {"marks": marks, "width": width, "height": 22 * len(subjects) + 10,
            "start": t0.date().isoformat(), "end": t1.date().isoformat()}


# ---------------------------------------------------------------------------------------------
# DNA
# ---------------------------------------------------------------------------------------------
def _samples_of(data: Any, subject: str, evidence: dict[str, Any], key: str) -> list[str]:
    samples = data.get("samples")
    if samples is None or not len(samples):
        return []
    ids = set(samples["sampleID"].astype(str))
    found = [subject] if subject in ids else []
    for k in (key, key + "s"):
        v = evidence.get(k)
        found += [s for s in ([v] if isinstance(v, str) else (v or [])) if s in ids]
    if "individualID" in samples:
        found += list(samples.loc[samples["individualID"].astype(str) == subject, "sampleID"]
                      .astype(str))
    return list(dict.fromkeys(found))


def dna_comparison(reader: Reader, a: str, b: str, evidence: dict[str, Any]
                   ) -> dict[str, Any] | None:
    """Per-locus alleles of the two subjects' samples and the mismatches (None: no DNA)."""
    data = reader.released.dataset
    geno = data.get("genotypes")
    if geno is None or not len(geno):
        return None
    sa = _samples_of(data, a, evidence, "sampleA")
    sb = _samples_of(data, b, evidence, "sampleB")
    if not sa or not sb:
        return None
    memo = _dna_memo(id(reader.released), reader.released)
    key = (tuple(sa), tuple(sb))
    if key not in memo:  # made once per release: harmonising and the majority genotype
        memo[key] = _dna_compare(reader.released, *key)  # were most of a review page's time
    return memo[key]


@functools.lru_cache(maxsize=16)
def _dna_memo(released_id: int, released: Released) -> dict[tuple, dict[str, Any]]:
    return {}


def _dna_compare(released: Released, sa: tuple[str, ...], sb: tuple[str, ...]
                 ) -> dict[str, Any]:
    from amurlink.identify.genotypes import apply_lab_offsets, majority_genotypes

    data = released.dataset
    geno = data.get("genotypes")
    sa, sb = list(sa), list(sb)

    g = geno[geno["sampleID"].astype(str).isin(sa + sb)]
    samples, loci = data.get("samples"), data.get("loci")
    harmonised = False
    if loci is not None and len(loci) and samples is not None and "lab" in samples:
        g = apply_lab_offsets(g, samples, loci)  # every lab's sizes on the joint scale
        harmonised = True
    g = majority_genotypes(g)

    def alleles(samples: list[str]) -> dict[str, tuple[Any, Any]]:
        sub = g[g["sampleID"].astype(str).isin(samples)]
        return {str(r.locus): (r.allele1, r.allele2) for r in sub.itertuples()}

    ga, gb = alleles(sa), alleles(sb)
    rows, mismatches = [], 0
    for locus in sorted(set(ga) | set(gb)):
        x, y = ga.get(locus), gb.get(locus)
        same = None
        if x is not None and y is not None:
            same = sorted(map(str, x)) == sorted(map(str, y))
            mismatches += 0 if same else 1
        rows.append({"locus": locus, "a": "/".join(map(str, x)) if x else "-",
                     "b": "/".join(map(str, y)) if y else "-", "same": same})
    return {"samplesA": sa, "samplesB": sb, "loci": rows, "mismatches": mismatches,
            "harmonised": harmonised,
            "compared": sum(r["same"] is not None for r in rows)}


# ---------------------------------------------------------------------------------------------
# Review queue
# ---------------------------------------------------------------------------------------------
def country_of(subject: str) -> str:
    return str(subject).split("-", 1)[0].split(":", 1)[0].upper()


def _species_map(reader: Reader) -> dict[str, str]:
    return _species_cached(id(reader.released), reader.released)


@functools.lru_cache(maxsize=16)
def _species_cached(released_id: int, released: Released) -> dict[str, str]:
    ind = released.dataset.get("individuals")
    if ind is None or not len(ind):
        return {}
    return dict(zip(ind["individualID"].astype(str), ind["scientificName"].astype(str),
                    strict=True))


def _accepted(row: dict[str, Any], side: str | None) -> bool:
    return bool(side) and side in str(row.get("acceptedBy") or "").split()


def review_queue(reader: Reader, *, status: str = "", species: str = "", method: str = "",
                 min_score: float | None = None, country: str = "") -> list[dict[str, Any]]:
    """Links to review, best score first, with the filters applied.

    ``awaiting-me`` (default for a park reviewer): proposed and not yet accepted for the
    reviewer's side; ``awaiting-partner``: accepted for my side, the partner not yet.
    """
    side = reader.side
    status = status or ("awaiting-me" if side else "proposed")
    base = "proposed" if status in ("awaiting-me", "awaiting-partner") else status
    rows = reader.links(base)
    species_of = _species_map(reader)
    out = []
    for row in rows:
        if status == "awaiting-me" and _accepted(row, side):
            continue
        if status == "awaiting-partner" and not _accepted(row, side):
            continue
        row["species"] = species_of.get(str(row["subjectA"])) \
            or species_of.get(str(row["subjectB"])) or ""
        row["countries"] = sorted({country_of(row["subjectA"]), country_of(row["subjectB"])})
        if species and row["species"] != species:
            continue
        if method and str(row.get("method") or "") != method:
            continue
        if min_score is not None and (row.get("score") is None or row["score"] < min_score):
            continue
        if country and country not in row["countries"]:
            continue
        out.append(row)
    out.sort(key=lambda r: (-(r.get("score") or 0.0), str(r["linkEventID"])))
    return out


def review_filters(reader: Reader) -> dict[str, list[str]]:
    rows = reader.links()
    return {"species": sorted(set(_species_map(reader).values())),
            "methods": sorted({str(r["method"]) for r in rows if r.get("method")}),
            "countries": sorted({country_of(s) for r in rows
                                 for s in (r["subjectA"], r["subjectB"])}),
            "statuses": list(QUEUE_STATUSES)}


def parse_evidence(text: Any) -> dict[str, Any]:
    try:
        value = json.loads(text) if isinstance(text, str) and text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def review_context(reader: Reader, link: dict[str, Any]) -> dict[str, Any]:
    """Everything the review page shows for one link (all from the reader's release)."""
    a, b = str(link["subjectA"]), str(link["subjectB"])
    evidence = parse_evidence(link.get("evidence"))
    all_links = reader.links()
    candidates = sorted(
        (r for r in all_links if r["linkEventID"] != link["linkEventID"]
         and ({r["subjectA"], r["subjectB"]} & {a, b})),
        key=lambda r: -(r.get("score") or 0.0))[:10]
    flanks: list[dict[str, Any]] = []
    photos_ok = media_allowed(reader.access)
    if photos_ok:
        fa, fb = photos_of_individuals(reader, [a]), photos_of_individuals(reader, [b])
        for flank in ("left", "right", "unknown"):
            pa = fa[fa["flank"] == flank]
            pb = fb[fb["flank"] == flank]
            if len(pa) or len(pb):
                flanks.append({"flank": flank, "a": list(pa["mediaID"]),
                               "b": list(pb["mediaID"]),
                               "both": bool(len(pa) and len(pb)) and flank != "unknown"})
    dets = detections_of(reader, [a, b])
    conflicts = []
    try:
        store = reader_link_store(fetched_by=reader.user)
        found = _conflicts_cached(str(store.path), store.key(), store.two_party, store.terms)
        hit = found[found["subjectA"].isin([a, b]) | found["subjectB"].isin([a, b])]
        conflicts = frame_records(hit)
    except (ValueError, KeyError):
        conflicts = []
    side = reader.side
    return {
        "link": link, "evidence": evidence, "candidates": candidates, "flanks": flanks,
        "photos_ok": photos_ok, "detections": dets, "map": map_points(dets, [a, b]),
        "timeline": timeline(dets, [a, b]), "dna": dna_comparison(reader, a, b, evidence),
        "conflicts": conflicts, "side": side, "accepted_sides":
            str(link.get("acceptedBy") or "").split(), "awaiting": link.get("awaiting"),
        "mine_done": _accepted(link, side),
        "history": reader.history(a),
        "level": reader.released.distance_level,
    }


@functools.lru_cache(maxsize=4)
def _conflicts_cached(path: str, key: tuple[Any, ...], two_party: bool, terms: Any
                      ) -> pd.DataFrame:
    from amurlink_web.apps.identities.selectors import ScopedLinkStore

    return ScopedLinkStore(Path(path), two_party=two_party, terms=terms).conflicts()


def next_in_queue(queue: list[dict[str, Any]], current: str) -> str | None:
    """The link after ``current`` in the queue (wrapping), None when it is the only one."""
    ids = [str(r["linkEventID"]) for r in queue]
    if not ids:
        return None
    if current not in ids:
        return ids[0]
    i = ids.index(current)
    rest = ids[i + 1:] + ids[:i]
    return rest[0] if rest else None


# ---------------------------------------------------------------------------------------------
# Individuals
# ---------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _crossings_cached(released_id: int, released: Released) -> pd.DataFrame | None:
    border = getattr(joint_inputs(), "border", None)
    if border is None:
        return None
    try:
        return released.crossborder(border, life_stage=None).individuals
    except (ValueError, KeyError):
        return None


def individual_list(reader: Reader, *, species: str = "", q: str = "") -> list[dict[str, Any]]:
    """Joint individuals the reader's release holds (members present in its individuals
    table), with species and national IDs; searchable by ID."""
    species_of = _species_map(reader)
    groups: dict[str, dict[str, Any]] = {}
    for row in reader.identities():
        subject = str(row["subject"])
        if subject not in species_of:
            continue  # held back by the agreements (species, embargo)
        g = groups.setdefault(str(row["jointID"]), {"jointID": str(row["jointID"]),
                                                    "members": [], "species": ""})
        g["members"].append(subject)
        g["species"] = g["species"] or species_of[subject]
    out = []
    for g in groups.values():
        g["countries"] = sorted({country_of(m) for m in g["members"]})
        if species and g["species"] != species:
            continue
        if q and q.lower() not in (g["jointID"] + " " + " ".join(g["members"])).lower():
            continue
        out.append(g)
    return sorted(out, key=lambda g: (g["species"], g["jointID"]))


def individual_context(reader: Reader, joint_id: str) -> dict[str, Any]:
    found = [g for g in individual_list(reader) if g["jointID"] == joint_id]
    if not found:
        raise Http404("no such individual")
    ind = found[0]
    members = ind["members"]
    dets = detections_of(reader, members)
    per_country: dict[str, dict[str, int]] = {}
    for d in dets:
        year = str(d.get("eventStart") or "")[:7]
        per_country.setdefault(year, {}).setdefault(d.get("countryCode") or "?", 0)
        per_country[year][d.get("countryCode") or "?"] += 1
    crossing = None
    table = _crossings_cached(id(reader.released), reader.released)
    if table is not None and len(table):
        mem = table["members"].astype(str)
        hit = table[mem.apply(lambda s: any(m in s.split(" = ") or m == s for m in members))]
        if len(hit):
            r = hit.iloc[0]
            crossing = {"crossings": int(r.get("crossings", 0) or 0),
                        "transboundary": bool(r.get("transboundary", False)),
                        "distances": {c[len("max_distance_km_"):]: (
                            None if pd.isna(r[c]) else round(float(r[c]), 1))
                            for c in table.columns if c.startswith("max_distance_km_")}}
    photos: list[dict[str, Any]] = []
    photos_ok = media_allowed(reader.access)
    if photos_ok:
        sub = photos_of_individuals(reader, members)
        for flank in ("left", "right", "unknown"):
            ids = list(sub.loc[sub["flank"] == flank, "mediaID"])
            if ids:
                photos.append({"flank": flank, "media": ids[:12]})
    samples = []
    s = reader.released.dataset.get("samples")
    if s is not None and len(s) and "individualID" in s:
        samples = frame_records(s[s["individualID"].astype(str).isin(members)]
                                [["sampleID", "sampleType", "collectionDate", "countryCode"]])
    history = []
    for m in members:
        history += reader.history(m)
    history = list({h.get("linkEventID"): h for h in history}.values())
    return {"ind": ind, "detections": dets, "per_year": sorted(per_country.items()),
            "crossing": crossing, "photos": photos, "photos_ok": photos_ok,
            "samples": samples, "history": history, "map": map_points(dets, members),
            "timeline": timeline(dets, members), "level": reader.released.distance_level}


def package_dir():
    return joint_package_path()
