"""One joint Camtrap DP dataset from national ones, with a manifest that makes it reproducible."""

from __future__ import annotations

import concurrent.futures
import hashlib
import importlib
import json
import logging
import os
import platform
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from amurlink._version import __version__
from amurlink.config import StudyConfig
from amurlink.core.species import resolve_species
from amurlink.dataset import Dataset
from amurlink.exceptions import (
    AmurlinkError,
    DataError,
    DataQualityWarning,
    LinkConflictError,
    SchemaError,
)
from amurlink.io import ValidationReport, load_camtrap_dp, write_camtrap_dp
from amurlink.io._parse import _is_arrow_string as _arrow_text
from amurlink.io._parse import all_distinct, distinct_codes, empty_frame, positions
from amurlink.io.camtrap_dp import _move_into_place as move_into_place
from amurlink.io.mapping import import_mapping, individuals_from_observations
from amurlink.schema import INDIVIDUAL_ID_PATTERN, STANDARD_TABLES, TABLES

__all__ = [
    "FLAG_COLUMNS",
    "MANIFEST_NAME",
    "FLAGS_NAME",
    "HarmoniseResult",
    "harmonise",
    "read_crosswalk",
    "record_flags",
    "write_harmonised",
]

logger = logging.getLogger(__name__)

#: File written beside ``datapackage.json`` with everything needed to reproduce the output.
MANIFEST_NAME = "manifest.json"
#: File of per-record flags written beside ``datapackage.json`` (not a package resource).
FLAGS_NAME = "record-flags.csv"
#: Columns of :attr:`HarmoniseResult.flags`.
FLAG_COLUMNS: tuple[str, ...] = (
    "observationID", "deploymentID", "duplicate", "burst", "beforeDeployment",
    "afterDeployment", "future", "independent", "eventIndex",
)
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class HarmoniseResult:
    """What :func:`harmonise` returns.

    Attributes
    ----------
    dataset : Dataset
        The joint dataset: every input's tables concatenated, species canonical, individual
        IDs namespaced, ``individuals`` completed from the records, ``identityLinks`` with the
        crosswalk's links confirmed.
    report : ValidationReport
        Issues of every input plus those found while joining (ID clashes, unknown species,
        links that conflict). Check ``report.valid`` before relying on the output.
    flags : DataFrame
        One row per observation (:data:`FLAG_COLUMNS`): duplicates, bursts, times outside
        the deployment or in the future, and the independent-event assignment. Nothing is
        deleted; analyses choose what to drop.
    manifest : dict
        Input hashes, software versions, the study config, the link set and row counts.
    """

    dataset: Dataset
    report: ValidationReport
    flags: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)

    def write(self, path: str | os.PathLike[str], /, *, overwrite: bool = False) -> Path:
        """Shortcut for :func:`write_harmonised`."""
        return write_harmonised(self, path, overwrite=overwrite)


# ==============================================================================================
# Inputs
# ==============================================================================================
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def _frame_hash(frame: pd.DataFrame) -> str:
    """SHA-256 over the column names and the Arrow buffers of every column (fast, stable)."""
    import pyarrow as pa

    h = hashlib.sha256(",".join(map(str, frame.columns)).encode())
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for col in table.columns:
        h.update(str(col.type).encode())
        for chunk in col.chunks:
            for buf in chunk.buffers():
                if buf is not None:
                    h.update(memoryview(buf))
    return h.hexdigest()


def _table_hashes(tables: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    return {k: _frame_hash(v) for k, v in tables.items()}


def _hash_later(tables: Mapping[str, pd.DataFrame]) -> concurrent.futures.Future:
    """:func:`_table_hashes` on a new thread of its own (no pool that a fork could orphan)."""
    fut: concurrent.futures.Future = concurrent.futures.Future()

    def work() -> None:
        try:
            fut.set_result(_table_hashes(tables))
        except BaseException as exc:  # handed to the caller by .result()
            fut.set_exception(exc)

    threading.Thread(target=work, name="amurlink-hash", daemon=True).start()
    return fut


def _resolve_hashes(infos: list[dict[str, Any]]) -> None:
    """Replace the pending table hashes of in-memory inputs by their values."""
    for info in infos:
        if isinstance(info.get("tables"), concurrent.futures.Future):
            info["tables"] = info["tables"].result()


def _files_of(path: Path, kind: str, mapping: Any = None) -> dict[str, str]:
    if kind == "mapping":
        files = ([path] + [t.file for t in mapping.tables.values()]) if mapping is not None \
            else [path]
        return {str(f): _sha256(f) for f in files if f.is_file()}
    if path.is_file():
        if path.name == "datapackage.json":
            path = path.parent
        else:
            return {path.name: _sha256(path)}
    return {str(f.relative_to(path)): _sha256(f) for f in sorted(path.rglob("*"))
            if f.is_file() and f.suffix in (".csv", ".json")}


def _load_input(item: Any, report: ValidationReport, now: Any
                ) -> tuple[Dataset | None, dict[str, Any]]:
    if isinstance(item, Dataset):
        info = {"source": item.metadata.get("title") or "<in-memory Dataset>", "kind": "dataset",
                # hashed in a background thread (hashlib releases the GIL) while harmonising
                "tables": _hash_later(dict(item.tables))}
        return item, info
    path = Path(item)
    if path.suffix == ".toml":
        from amurlink.io.mapping import load_mapping

        ds, rep = import_mapping(path, now=now)
        mapping = None
        if ds is not None:
            try:
                mapping = load_mapping(path)
            except AmurlinkError:  # pragma: no cover - import_mapping loaded it already
                mapping = None
        info = {"source": str(path), "kind": "mapping",
                "mapping": mapping.to_dict() if mapping is not None else None,
                "files": _files_of(path, "mapping", mapping)}
    else:
        if not path.exists():
            report.error("input", f"{path}: no such package folder, datapackage.json, zip or "
                         "mapping file", file=str(path),
                         fix="give a Camtrap DP package or a *.mapping.toml")
            return None, {"source": str(path), "kind": "missing"}
        ds, rep = load_camtrap_dp(path)
        info = {"source": str(path), "kind": "camtrap-dp", "files": _files_of(path, "package")}
    report.extend(rep.issues)
    info["rows"] = dict(rep.row_counts)
    return ds, info


def read_crosswalk(
    path: str | os.PathLike[str], /, *, config: StudyConfig,
) -> tuple[pd.DataFrame, list[str]]:
    """Read an expert crosswalk CSV of national IDs believed to be one animal.

    Parameters
    ----------
    path : path_like
        CSV with one ``<cc>_id`` column per country (``cn_id``, ``ru_id``; ISO codes of the
        study), a ``date`` column, and the reviewer of each side (``reviewer_cn``,
        ``reviewer_ru``) or one ``reviewer`` (``method`` optional). IDs without a
        catalogue prefix get the country's catalogue from the study config (``T012`` in
        ``cn_id`` becomes ``CN-NTLNP:T012``).
    config : StudyConfig

    Returns
    -------
    links : DataFrame
        ``subjectA``, ``subjectB``, ``reviewer``, ``timestamp`` (UTC), ``method`` (as written),
        ``row`` (CSV row number, header = 1), ``sideA``/``sideB`` (the country codes of the
        two ID columns) and ``reviewerA``/``reviewerB`` (each side's reviewer, "" if none).
    problems : list of str
        Rows that cannot be used, each naming the file, row, column and the fix.

    Raises
    ------
    DataError
        If the file is missing or lacks the required columns.
    """
    file = Path(path)
    if not file.is_file():
        raise DataError(f"{file}: no such crosswalk file")
    raw = pd.read_csv(file, dtype=str, keep_default_na=False)
    raw.columns = [c.strip() for c in raw.columns]
    id_cols = [c for c in raw.columns if c.lower().endswith("_id")
               and c[:-3].upper() in config.country_codes]
    side_cols = [f"reviewer_{c[:-3].lower()}" for c in id_cols]
    has_sides = any(c in raw.columns for c in side_cols)
    missing = [c for c in ("date",) if c not in raw.columns]
    if "reviewer" not in raw.columns and not has_sides:
        missing.append("reviewer")
    if len(id_cols) != 2 or missing:
        raise DataError(
            f"{file}: a crosswalk needs two ID columns named <country>_id for the study's "
            f"countries ({', '.join(c.lower() + '_id' for c in config.country_codes)}), a "
            f"'date' column and the reviewers (reviewer_<country> for each side, or "
            f"'reviewer'); it has {', '.join(raw.columns)}"
        )
    problems: list[str] = []
    cols = {}
    for c in id_cols:
        cc = c[:-3].upper()
        cat = config.country(cc).catalogue
        ids = raw[c].str.strip()
        spaced = ids.str.match(INDIVIDUAL_ID_PATTERN)
        if cat is None and not spaced.all():
            problems.append(f"{file}: column {c!r} holds IDs without a catalogue prefix and "
                            f"the study config gives country {cc} no catalogue; add "
                            f"countries.{cc}.catalogue to amurlink.toml or write the IDs "
                            f"namespaced (e.g. {cc}-PARK:T01)")
        cols[c] = ids.where(spaced | (ids == ""), f"{cat}:" + ids)
    a, b = cols[id_cols[0]], cols[id_cols[1]]
    ts = pd.to_datetime(raw["date"].str.strip(), utc=True, errors="coerce", format="mixed")
    side_names = [raw[c].str.strip() if c in raw.columns else pd.Series("", index=raw.index)
                  for c in side_cols]
    generic = raw["reviewer"].str.strip() if "reviewer" in raw.columns else \
        (side_names[0] + "; " + side_names[1]).str.strip("; ")
    out = pd.DataFrame({"subjectA": a, "subjectB": b, "reviewer": generic,
                        "timestamp": ts,
                        "method": raw["method"].str.strip() if "method" in raw else "expert",
                        "row": np.arange(len(raw)) + 2,
                        "sideA": id_cols[0][:-3].upper(), "sideB": id_cols[1][:-3].upper(),
                        "reviewerA": side_names[0], "reviewerB": side_names[1]})
    for i, r in out.iterrows():
        named = r["reviewer"] or r["reviewerA"] or r["reviewerB"]
        bad = [k for k, v in (("IDs", r["subjectA"] and r["subjectB"]),
                              ("reviewer", named), ("date", pd.notna(r["timestamp"])))
               if not v]
        if bad:
            problems.append(f"{file} row {r['row']}: missing or unreadable {', '.join(bad)}; "
                            "give both IDs, the reviewer and an ISO date (2015-03-01)")
            out = out.drop(index=i)
    return out.reset_index(drop=True), problems


# ==============================================================================================
# Harmonisation
# ==============================================================================================
def _namespace_individuals(ds: Dataset, config: StudyConfig, report: ValidationReport,
                           source: str) -> pd.DataFrame:
    obs = ds.observations
    ids = obs["individualID"]
    present = ids.notna().to_numpy(bool)
    if not present.any():
        return obs
    spaced = _matches(ids, INDIVIDUAL_ID_PATTERN)
    todo = present & ~spaced
    if not todo.any():
        return obs
    details = ds.get("deploymentDetails")
    if details is None:
        report.error("individual-namespace", f"{source}: {int(todo.sum())} individual IDs have "
                     "no catalogue prefix and the package has no deploymentDetails to tell "
                     "their country", table="observations", field="individualID",
                     fix="write IDs namespaced (CN-NTLNP:T012) or add deploymentDetails")
        return obs
    cc = obs["deploymentID"].map(details.set_index("deploymentID")["countryCode"]).astype(object)
    cats = {c.code: c.catalogue for c in config.countries}
    cat = cc.map(cats)
    missing = todo & cat.isna().to_numpy(bool)
    if missing.any():
        report.error("individual-namespace", f"{source}: individual IDs of country "
                     f"{sorted(set(cc[missing].dropna()))} cannot be namespaced: the study config "
                     "gives no catalogue", table="observations", field="individualID",
                     fix="add countries.<CC>.catalogue to amurlink.toml")
    new = ids.astype(object).where(~(todo & ~missing), cat + ":" + ids.astype(object))
    return _with_column(obs, "individualID", new.astype(ids.dtype))


def _matches(col: pd.Series, pattern: str) -> np.ndarray:
    """``col.str.match(pattern)`` as a NumPy mask (NA False), tested once per distinct value."""
    if not _arrow_text(col):
        return col.str.match(pattern).fillna(False).to_numpy(bool)
    import pyarrow as pa

    dictionary, codes = distinct_codes(col)
    uniq = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([dictionary])))
    ok = np.append(uniq.str.match(pattern).fillna(False).to_numpy(bool), False)
    return ok[codes]  # -1 (NA) picks the appended False


def _canonical_species(obs: pd.DataFrame, report: ValidationReport, source: str) -> pd.DataFrame:
    names = obs["scientificName"]
    if _arrow_text(names):
        return _canonical_species_arrow(obs, report, source)
    res = resolve_species(names)
    _report_unknown_species(res.unknown, report, source)
    new = pd.Series(res.scientific_name.to_numpy(), index=names.index).astype(names.dtype)
    new = new.fillna(names)
    return _with_column(obs, "scientificName", new.astype(names.dtype))


def _canonical_species_arrow(obs: pd.DataFrame, report: ValidationReport, source: str
                             ) -> pd.DataFrame:
    """:func:`_canonical_species` for Arrow text: each distinct name is resolved once."""
    import pyarrow as pa
    import pyarrow.compute as pc

    names = obs["scientificName"]
    uniq, codes = distinct_codes(names)
    res = resolve_species(pd.Series(uniq.to_pylist(), dtype=object))
    counts = np.bincount(codes[codes >= 0], minlength=len(uniq))
    position = {u: i for i, u in enumerate(uniq.to_pylist())}
    _report_unknown_species({u: int(counts[position[u]]) for u in res.unknown}, report, source)
    canon = res.scientific_name.astype(object).where(res.scientific_name.notna(), None).tolist()
    final = pa.array([c if c is not None else u
                      for c, u in zip(canon, uniq.to_pylist(), strict=True)], type=uniq.type)
    new = pc.take(final, pa.array(codes, mask=codes < 0))  # a null index gives null (NA)
    return _with_column(obs, "scientificName",
                        pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([new])),
                                  index=names.index))


def _report_unknown_species(unknown: dict[str, int], report: ValidationReport, source: str
                            ) -> None:
    for name, count in unknown.items():
        report.warning("unknown-species", f"{source}: scientificName {name!r} ({count} records) "
                       "is not in amurlink's species table; kept as written (never guessed)",
                       table="observations", field="scientificName", got=name,
                       fix="check the spelling, or map the name in the source's import mapping")


def _with_column(frame: pd.DataFrame, name: str, values: pd.Series) -> pd.DataFrame:
    """``frame.assign(name=values)`` without copying the other columns (``frame`` unchanged).

    Setting a whole column on a shallow copy replaces that column's array in the copy only.
    """
    out = frame.copy(deep=False)
    out[name] = values
    return out


def record_flags(
    observations: pd.DataFrame, deployments: pd.DataFrame, /, *, burst_seconds: float = 5.0,
    now: Any = None,
) -> pd.DataFrame:
    """Per-record quality flags (nothing is removed).

    Parameters
    ----------
    observations, deployments : DataFrame
        Camtrap DP tables (UTC times).
    burst_seconds : float, default 5
        A record less than this many seconds after the previous record of the same deployment
        and species (and individual) is part of a burst.
    now : datetime-like, optional
        The present (tz-aware) for the ``future`` flag; default the clock.

    Returns
    -------
    DataFrame
        ``observationID``, ``deploymentID`` and the boolean columns ``duplicate`` (same
        deployment, time, species and individual as an earlier row), ``burst``,
        ``beforeDeployment``, ``afterDeployment`` and ``future``.
    """
    n = len(observations)
    group = np.zeros(n, np.int64)
    span = 1
    for c in ("deploymentID", "scientificName", "individualID"):
        codes, uniq = pd.factorize(observations[c], use_na_sentinel=True)
        if span * (len(uniq) + 1) >= 2**62:  # compact first: no overflow
            group = np.asarray(pd.factorize(group)[0], np.int64)
            span = int(group.max(initial=0)) + 1
        group = group * (len(uniq) + 1) + (np.asarray(codes, np.int64) + 1)
        span *= len(uniq) + 1
    t = _ns(observations["eventStart"])
    order = np.lexsort((t, group))
    g, ts = group[order], t[order]
    same_group = np.zeros(n, bool)
    same_group[1:] = g[1:] == g[:-1]
    gap = np.full(n, np.iinfo(np.int64).max)
    gap[1:] = ts[1:] - ts[:-1]
    dup_sorted = same_group & (gap == 0)
    burst_sorted = same_group & (gap > 0) & (gap < int(burst_seconds * 1e9))
    dup = np.empty(n, bool)
    burst = np.empty(n, bool)
    dup[order], burst[order] = dup_sorted, burst_sorted
    first = ~deployments["deploymentID"].duplicated(keep="first").to_numpy(bool)
    dep = deployments[first]
    dep_ids, obs_ids = dep["deploymentID"], observations["deploymentID"]
    pos = positions(obs_ids, dep_ids)  # IDs are unique here; NA and unknown IDs give -1
    known = pos >= 0
    d0 = np.append(_ns(dep["deploymentStart"]), 0)[np.where(known, pos, len(dep))]
    d1 = np.append(_ns(dep["deploymentEnd"]), 0)[np.where(known, pos, len(dep))]
    valid_t = observations["eventStart"].notna().to_numpy(bool)
    now_ts = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    if now_ts.tzinfo is None:
        raise ValueError("`now` must be timezone-aware")
    odd = {"beforeDeployment": known & valid_t & (t < d0),
           "afterDeployment": known & valid_t & (t > d1),
           "future": valid_t & (t > now_ts.value)}
    return pd.DataFrame({
        "observationID": observations["observationID"].array,  # no object conversion
        "deploymentID": observations["deploymentID"].array,
        "duplicate": dup, "burst": burst,
        "beforeDeployment": odd["beforeDeployment"],
        "afterDeployment": odd["afterDeployment"],
        "future": odd["future"],
    })


def _ns(col: pd.Series) -> np.ndarray:
    """Nanoseconds since the epoch of a tz-aware datetime column (NaT as int64 min)."""
    arr = col.array
    if hasattr(arr, "asi8"):
        return np.asarray(arr.asi8, dtype=np.int64)
    return pd.to_datetime(col, utc=True).array.asi8


def _concat(frames: list[pd.DataFrame], name: str) -> pd.DataFrame:
    frames = [f for f in frames if f is not None]
    if not frames:
        return empty_frame(TABLES[name])
    nonempty = [f for f in frames if len(f)]
    if not nonempty:
        return frames[0].iloc[0:0].reset_index(drop=True)
    if len(nonempty) == 1:
        only = nonempty[0]
        if only.index.equals(pd.RangeIndex(len(only))):
            return only  # shared read-only, as Dataset frames are (no copy of a large table)
        return only.reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # all-NA columns keep the first dtype
        return pd.concat(nonempty, ignore_index=True)


def _check_unique(frame: pd.DataFrame, table: str, key: str, sources: np.ndarray,
                  names: list[str], report: ValidationReport) -> None:
    col = frame[key]
    if all_distinct(col):
        return  # the usual case: nothing to report
    dup = col.duplicated(keep=False).to_numpy(bool) & col.notna().to_numpy(bool)
    if not dup.any():
        return
    clash = frame.loc[dup, key].astype(object)
    src = sources[dup]
    by_id = pd.DataFrame({"id": clash.to_numpy(), "src": src}).groupby("id")["src"].unique()
    cross = by_id[by_id.map(len) > 1]
    for ident, srcs in list(cross.items())[:20]:
        report.error("id-clash", f"{table}.{key} {ident!r} appears in "
                     f"{' and '.join(names[s] for s in srcs)}; joint IDs must be unique",
                     table=table, field=key, got=str(ident),
                     fix="give the sources distinct IDs (e.g. prefix station IDs with the "
                     "country code in the station table)")
    if len(cross) > 20:
        report.error("id-clash", f"{table}.{key}: {len(cross) - 20} more IDs clash",
                     table=table, field=key, fix="give the sources distinct IDs")


def _independent(obs: pd.DataFrame, config: StudyConfig, report: ValidationReport
                 ) -> tuple[pd.DataFrame | None, dict[str, Any]]:
    try:
        events = importlib.import_module("amurlink.analysis.events")
    except ImportError:
        return None, {"available": False}
    thr = config.events.independence_minutes
    try:
        out = events.independent_events(obs, threshold_min=thr,
                                        compared_to="lastIndependentRecord",
                                        by=("deploymentID",), per_individual=True)
    except (AmurlinkError, ValueError, KeyError) as exc:
        report.warning("independent-events", f"independent events could not be computed: {exc}",
                       table="observations", fix="check eventStart and scientificName")
        return None, {"available": True, "error": str(exc)}
    animal = out["observationType"] == "animal" if "observationType" in out else True
    # count on the one column needed (selecting whole rows of a large table is slow)
    names = out["scientificName"][out["independent"].astype(bool) & animal]
    counts = names.value_counts(dropna=True)  # hashed in Arrow, no Python strings per row
    per_species = sorted((str(k), int(v)) for k, v in counts.items() if v)
    return out, {"available": True, "threshold_min": thr,
                 "compared_to": "lastIndependentRecord", "by": ["deploymentID"],
                 "per_individual": True, "independent_records": int(out["independent"].sum()),
                 "by_species": dict(per_species)}


def _records_of_subjects(obs: pd.DataFrame | None, log: pd.DataFrame,
                         cross: pd.DataFrame) -> pd.DataFrame | None:
    """The observations of the IDs the link log and the crosswalk name.

    Each review of a crosswalk row checks space-time conflicts on the records of the IDs the
    pair would join (``identify._links_conflicts.detections`` keeps those rows); those IDs
    are always subjects of the log or of the crosswalk, so the checks see the same records,
    without every review (two per row under the two-party rule) converting the whole
    observations table again (most of harmonise's time on neaspec before).
    """
    if obs is None or "individualID" not in obs.columns:
        return obs
    names = pd.unique(np.concatenate([
        frame[c].dropna().astype(str).to_numpy(object)
        for frame in (log, cross) for c in ("subjectA", "subjectB") if c in frame.columns]
        + [np.zeros(0, dtype=object)]))
    ids = obs["individualID"]
    keep = ids.notna().to_numpy(bool)
    keep[keep] = ids[keep].astype(object).astype(str).isin(names).to_numpy(bool)
    return obs.loc[keep]


def _apply_links(links: Any, ds_ind: pd.DataFrame, log: pd.DataFrame, config: StudyConfig,
                 report: ValidationReport, obs: pd.DataFrame, dep: pd.DataFrame
                 ) -> tuple[pd.DataFrame, dict[str, Any]]:
    from amurlink.identify.links import propose_links, review_link

    path = Path(links)
    info: dict[str, Any] = {"file": str(path)}
    try:
        cross, problems = read_crosswalk(path, config=config)
    except DataError as exc:
        report.error("crosswalk", str(exc), file=str(path),
                     fix="see `amurlink harmonise --help` for the crosswalk columns")
        return log, info
    info["sha256"] = _sha256(path)
    info["rows"] = len(cross)
    for p in problems:
        report.error("crosswalk", p, file=str(path), fix="correct the crosswalk row")
    two_party = getattr(getattr(config, "links", None), "two_party", True)
    obs = _records_of_subjects(obs, log, cross)
    confirmed = proposed = awaiting = 0
    for r in cross.itertuples(index=False):
        evidence = {"crosswalk": path.name, "row": int(r.row),
                    "crosswalkMethod": r.method or "expert"}
        # Two-party rule: a row confirms only when it names a reviewer of each side.
        sides = [(s, n) for s, n in ((r.sideA, r.reviewerA), (r.sideB, r.reviewerB)) if n]
        try:
            if two_party and not sides:
                log = propose_links(log, pd.DataFrame({
                    "subjectA": [r.subjectA], "subjectB": [r.subjectB],
                    "reviewer": [r.reviewer], "reason": ["expert crosswalk; one reviewer"],
                    "evidence": [evidence]}), method="expert", now=r.timestamp).links
                proposed += 1
                report.warning("crosswalk-one-party", f"{path} row {r.row}: {r.subjectA} = "
                               f"{r.subjectB} names no reviewer per side and was stored as "
                               "proposed: a reviewer of each country confirms a cross-border "
                               "link", file=str(path), row=int(r.row), field="reviewer",
                               got=r.reviewer, fix="add reviewer_cn and reviewer_ru columns "
                               "naming each side's reviewer, or review it with `amurlink links "
                               "accept --side`")
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DataQualityWarning)
                for k, (side, name) in enumerate(sides if two_party else [(None, r.reviewer)]):
                    # The second side's acceptance follows the first's at once: the first
                    # was checked for every conflict of joining the pair, and the second
                    # would check the very same (one side's acceptance joins nothing under
                    # the two-party rule). Checked without the rule, the pair is already
                    # joined and the check ends at once; the event appended is the same.
                    log = review_link(
                        log, status="confirmed", reviewer=name, side=side,
                        pair=(r.subjectA, r.subjectB), method="expert",
                        reason="expert crosswalk", evidence=evidence, individuals=ds_ind,
                        observations=obs, deployments=dep, now=r.timestamp,
                        two_party=two_party and k == 0)
            if two_party and len(sides) < 2:
                awaiting += 1
                report.warning("crosswalk-one-side", f"{path} row {r.row}: {r.subjectA} = "
                               f"{r.subjectB} names only the {sides[0][0]} reviewer; the link "
                               "awaits the other side's acceptance", file=str(path),
                               row=int(r.row), field="reviewer",
                               fix="name both reviewers, or have the other side accept it with "
                                   "`amurlink links accept --side`")
                continue
            confirmed += 1
        except LinkConflictError as exc:
            # A conflicting expert link is kept for review, never confirmed and never lost.
            log = propose_links(log, pd.DataFrame({
                "subjectA": [r.subjectA], "subjectB": [r.subjectB],
                "reviewer": [r.reviewer], "reason": [f"expert crosswalk; not confirmed: {exc}"],
                "evidence": [{"crosswalk": path.name, "row": int(r.row),
                              "crosswalkMethod": r.method or "expert"}],
            }), method="expert", now=r.timestamp).links
            proposed += 1
            report.warning("crosswalk-conflict", f"{path} row {r.row}: {r.subjectA} = "
                           f"{r.subjectB} conflicts with other evidence and was stored as "
                           f"proposed, not confirmed: {exc}", file=str(path), row=int(r.row),
                           field="subjectA", got=f"{r.subjectA}, {r.subjectB}",
                           fix="review it with `amurlink links list JOINT_DIR --status "
                               "proposed`, then accept or reject it")
        except (AmurlinkError, ValueError) as exc:
            report.error("crosswalk-link", f"{path} row {r.row}: {r.subjectA} = {r.subjectB} "
                         f"was not stored: {exc}", file=str(path), row=int(r.row),
                         field="subjectA", got=f"{r.subjectA}, {r.subjectB}",
                         fix="correct the IDs, or resolve the conflict the message names")
    info["confirmed"] = confirmed
    info["proposed"] = proposed
    info["awaiting"] = awaiting
    return log, info


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"amurlink": __version__, "python": platform.python_version()}
    for dist in ("numpy", "pandas", "pyarrow", "pyproj"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:  # pragma: no cover
            out[dist] = "not installed"
    try:
        import pyproj

        out["PROJ"] = pyproj.proj_version_str
    except ImportError:  # pragma: no cover
        pass
    return out


def harmonise(
    *inputs: Dataset | str | os.PathLike[str],
    config: StudyConfig,
    links: str | os.PathLike[str] | None = None,
    burst_seconds: float = 5.0,
    now: Any = None,
    progress: Progress | None = None,
) -> HarmoniseResult:
    """Join national datasets into one Camtrap DP dataset.

    Parameters
    ----------
    *inputs : Dataset or path_like
        Camtrap DP packages (folder, ``datapackage.json`` or zip), import mappings
        (``*.mapping.toml``, docs/formats.md section 1) or datasets already read.
    config : StudyConfig
        The study settings: catalogues per country (namespacing IDs), the independence
        threshold and the working CRS. Recorded in the manifest.
    links : path_like, optional
        Expert crosswalk CSV (see :func:`read_crosswalk`); each row is stored as a confirmed
        ``expert`` link in ``identityLinks`` through the link store (conflicts are refused
        and reported).
    burst_seconds : float, default 5
        Gap below which consecutive records of one deployment and species form a burst.
    now : datetime-like, optional
        The present (tz-aware) for future-time flags; default the clock.
    progress : callable, optional
        ``progress(done, total)`` after each input.

    Returns
    -------
    HarmoniseResult
        ``dataset``, ``report``, ``flags`` and ``manifest``; write with
        :func:`write_harmonised`.

    Notes
    -----
    Nothing is deleted: duplicates, bursts and implausible times are flags. Independent
    events come from :func:`amurlink.analysis.events.independent_events` (the one
    implementation), with the study's threshold, per deployment, species and individual.
    Scientific names are made canonical through the species table; unknown names are
    reported and kept as written.

    See Also
    --------
    amurlink.io.mapping.import_mapping, write_harmonised
    """
    report = ValidationReport(source="harmonise")
    datasets: list[Dataset] = []
    infos: list[dict[str, Any]] = []
    for k, item in enumerate(inputs, start=1):
        ds, info = _load_input(item, report, now)
        infos.append(info)
        if ds is not None:
            datasets.append(ds)
        if progress is not None:
            progress(k, len(inputs))
    if not datasets:
        report.error("input", "no input could be read", fix="see the issues above")
        empty = Dataset({t: empty_frame(TABLES[t]) for t in STANDARD_TABLES})
        _resolve_hashes(infos)
        return HarmoniseResult(empty, report, pd.DataFrame(columns=list(FLAG_COLUMNS)),
                               {"inputs": infos})
    names = [str(i.get("source")) for i in infos if i.get("kind") != "missing"]
    parts: dict[str, list[pd.DataFrame]] = {}
    src_codes: dict[str, list[np.ndarray]] = {}
    for s, ds in enumerate(datasets):
        obs = _namespace_individuals(ds, config, report, names[s])
        obs = _canonical_species(obs, report, names[s])
        tables = dict(ds.tables)
        tables["observations"] = obs
        if "deploymentDetails" not in tables:
            report.error("deployment-details", f"{names[s]}: no deploymentDetails table, so the "
                         "country and time zone of its deployments are unknown",
                         table="deploymentDetails",
                         fix="import the source through a mapping (it writes the table) or add "
                         "deployment-details.csv to the package")
        for name, frame in tables.items():
            parts.setdefault(name, []).append(frame)
            src_codes.setdefault(name, []).append(np.full(len(frame), s))
    joint = {name: _concat(frames, name) for name, frames in parts.items()}
    for table, key in (("deployments", "deploymentID"), ("media", "mediaID"),
                       ("observations", "observationID")):
        if len(datasets) > 1:  # only clashes between sources are reported: none with one
            _check_unique(joint[table], table, key, np.concatenate(src_codes[table]), names,
                          report)
    # incident books carried by the inputs (issue #19): each country's IDs must stay distinct
    for table, key in (("incidents", "incidentID"), ("diseaseTests", "testID"),
                       ("necropsies", "necropsyID"), ("patrols", "patrolID"),
                       ("patrolFindings", "findingID")):
        if len(datasets) > 1 and table in joint and key in joint[table]:
            _check_unique(joint[table], table, key, np.concatenate(src_codes[table]), names,
                          report)
    obs, dep = joint["observations"], joint["deployments"]
    # Individuals: catalogue tables where given, completed from the records.
    ind = joint.get("individuals")
    built = individuals_from_observations(obs, report=report)
    if ind is None or not len(ind):
        ind = built
    else:
        ind = ind.drop_duplicates("individualID", keep="first")
        extra = built[~built["individualID"].isin(ind["individualID"])]
        ind = _concat([ind, extra], "individuals")
    if len(ind):
        joint["individuals"] = ind.reset_index(drop=True)
    # Links
    from amurlink.identify.links import empty_links

    log = joint.get("identityLinks", empty_links())
    link_info: dict[str, Any] = {}
    if links is not None:
        log, link_info = _apply_links(links, ind, log, config, report, obs, dep)
    if len(log):
        joint["identityLinks"] = log.reset_index(drop=True)
    # Flags and events (nothing deleted)
    flags = record_flags(obs, dep, burst_seconds=burst_seconds, now=now)
    events, event_info = _independent(obs, config, report)
    if events is not None:
        flags["independent"] = events["independent"].to_numpy(bool)
        flags["eventIndex"] = events["eventIndex"].to_numpy()
    else:
        flags["independent"] = pd.array([pd.NA] * len(flags), dtype="boolean")
        flags["eventIndex"] = pd.array([pd.NA] * len(flags), dtype="Int64")
    for col, code, what in (("duplicate", "duplicate-records", "duplicate records (same "
                             "deployment, time, species and individual)"),
                            ("burst", "burst-records", f"burst records (< {burst_seconds:g} s "
                             "after the previous one)")):
        k = int(flags[col].sum())
        if k:
            report.warning(code, f"{k} {what}; flagged in {FLAGS_NAME}, kept",
                           table="observations")
    metadata = {
        "title": config.study.name,
        "amurlink:harmonised": {"sources": names, "amurlink": __version__},
    }
    # joint frames are new or shared read-only with the inputs' datasets: no copy
    dataset = Dataset(joint, metadata=metadata, copy=False)
    log_csv = log.to_csv(index=False).encode() if len(log) else b""
    _resolve_hashes(infos)
    manifest = {
        "created": (pd.Timestamp(now) if now is not None else pd.Timestamp.now(tz="UTC"))
        .isoformat(),
        "software": _versions(),
        "config": config.to_dict(),
        "configFile": ({"path": str(config.source), "sha256": _sha256(config.source)}
                       if config.source is not None and Path(config.source).is_file() else None),
        "inputs": infos,
        "links": link_info or None,
        "linkSet": {"events": len(log),
                    "lastEventID": str(log["linkEventID"].iloc[-1]) if len(log) else None,
                    "sha256": hashlib.sha256(log_csv).hexdigest()},
        "rows": {k: len(v) for k, v in joint.items()},
        "independentEvents": event_info,
        "flags": {c: int(flags[c].sum()) for c in ("duplicate", "burst", "beforeDeployment",
                                                   "afterDeployment", "future")},
        "report": {"valid": report.valid, "errors": len(report.errors),
                   "warnings": len(report.warnings), "counts": report.counts()},
        "options": {"burst_seconds": burst_seconds},
    }
    return HarmoniseResult(dataset, report, flags[list(FLAG_COLUMNS)], manifest)


def write_harmonised(
    result: HarmoniseResult, path: str | os.PathLike[str], /, *, overwrite: bool = False,
    allow_errors: bool = False,
) -> Path:
    """Write the joint package, ``manifest.json`` and ``record-flags.csv`` atomically.

    Everything is written into a hidden folder beside ``path`` and moved into place in one
    step, so a failure never leaves a half-written output.

    Parameters
    ----------
    result : HarmoniseResult
    path : path_like
        Output folder (the package: ``datapackage.json`` and its CSVs).
    overwrite : bool, default False
        Replace an existing folder.
    allow_errors : bool, default False
        Write even when ``result.report`` holds errors.

    Returns
    -------
    Path

    Raises
    ------
    SchemaError
        If the report has errors and ``allow_errors`` is False (``exc.report`` holds it).
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    """
    if not allow_errors:
        result.report.raise_for_errors()
    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; pass overwrite=True (--overwrite) to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        pkg = write_camtrap_dp(result.dataset, tmp / "package")
        result.flags.to_csv(pkg / FLAGS_NAME, index=False, lineterminator="\n")
        manifest = dict(result.manifest)
        manifest["outputs"] = {f.name: _sha256(f) for f in sorted(pkg.iterdir()) if f.is_file()}
        (pkg / MANIFEST_NAME).write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n",
            encoding="utf-8")
        move_into_place(pkg, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


_ = (SchemaError, datetime, UTC, Mapping)
