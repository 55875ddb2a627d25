"""Read, validate and write Camtrap DP 1.0.2 packages with amurlink's extension resources."""

from __future__ import annotations

import collections
import concurrent.futures
import functools
import json
import logging
import os
import shutil
import tempfile
import uuid
import zoneinfo
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from amurlink.dataset import Dataset
from amurlink.exceptions import DataError, SchemaError
from amurlink.io._parse import (
    TableParser,
    _arrow,
    _bool_np,
    _is_arrow_string,
    empty_frame,
    isin,
    positions,
)
from amurlink.io._source import (
    DEFAULT_MAX_BYTES,
    BudgetError,
    PackageSource,
    safe_relative_path,
)
from amurlink.io.validation import ValidationReport
from amurlink.schema import (
    CAMTRAP_DP_PROFILE_URL,
    DATETIME_FORMAT,
    STANDARD_TABLES,
    TABLES,
    TableSchema,
)

__all__ = [
    "read_camtrap_dp",
    "validate_camtrap_dp",
    "load_camtrap_dp",
    "write_camtrap_dp",
    "write_table",
    "AMURLINK_RESOURCE_KEY",
]

logger = logging.getLogger(__name__)

#: Property that marks a resource as an amurlink extension table in ``datapackage.json``.
AMURLINK_RESOURCE_KEY = "amurlink:table"
_DESCRIPTOR = "datapackage.json"
_PROFILE_REQUIRED = ("profile", "created", "contributors", "project", "spatial", "temporal",
                     "taxonomic")
_PROJECT_REQUIRED = ("title", "samplingDesign", "captureMethod", "individualAnimals",
                     "observationLevel")
_SAMPLING_DESIGNS = ("simpleRandom", "systematicRandom", "clusteredRandom", "experimental",
                     "targeted", "opportunistic")
_CONTRIBUTOR_ROLES = ("contact", "principalInvestigator", "rightsHolder", "publisher",
                      "contributor")
Progress = Callable[[int, int], None]


# ==============================================================================================
# Reading and validation
# ==============================================================================================
def load_camtrap_dp(
    path: str | os.PathLike[str],
    /,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Progress | None = None,
    budget: int | None = None,
    name: str | None = None,
) -> tuple[Dataset | None, ValidationReport]:
    """Read and validate a package, returning what could be read and the report.

    Parameters
    ----------
    path : path_like
        Package folder, its ``datapackage.json``, or a ``.zip`` of the package.
    max_bytes : int, optional
        Largest size of one file in bytes (default 2 GiB). Larger files are refused.
    progress : callable, optional
        Called as ``progress(done, total)`` after each resource.
    budget : int, optional
        Most bytes the read may hold: decompressed file bytes plus the estimated size of
        each parsed table, charged before it is parsed (default 640 MiB, or
        ``AMURLINK_READ_BUDGET``). A package over budget is refused with an ``over-budget``
        issue before its tables are parsed.
    name : str, optional
        How the package is named in the report (default: ``path`` as given); a server
        passes the uploaded file's name so that no server path reaches the user.

    Returns
    -------
    dataset : Dataset or None
        ``None`` when a core table could not be read at all (missing file, broken CSV).
    report : ValidationReport
        Every issue found; check ``report.valid``.

    See Also
    --------
    read_camtrap_dp : raise on invalid packages instead.
    validate_camtrap_dp : the report only.
    """
    shown = str(path) if name is None else name
    report = ValidationReport(source=shown)
    try:
        src = PackageSource.open(path, max_bytes=max_bytes, budget=budget, display=shown)
    except DataError as exc:
        report.error("package", str(exc), file=shown)
        return None, report
    with src:
        descriptor = _read_descriptor(src, report)
        if descriptor is None:
            return None, report
        _check_descriptor(descriptor, report)
        resources = descriptor.get("resources")
        resources = resources if isinstance(resources, list) else []
        if len(resources) > MAX_RESOURCES:
            report.error("bad-descriptor", f"datapackage.json lists {len(resources)} resources; "
                         f"amurlink reads at most {MAX_RESOURCES}", file=_DESCRIPTOR,
                         field="resources", fix="list each table once")
            return None, report
        tables: dict[str, pd.DataFrame] = {}
        extras: list[dict[str, Any]] = []
        unreadable: list[str] = []
        files: dict[str, str] = {}
        wanted = [r for r in resources if isinstance(r, dict)]
        for r in [r for r in wanted if _personal_resource(r)]:
            # claimants' names, phones and addresses stay with the owner, beside a package
            report.error("personal-data", f"resource {r.get('name')!r} holds personal data of "
                         "compensation claimants (owner-only); it is not read into a package",
                         file=_DESCRIPTOR, table=str(r.get("name")),
                         fix="keep claimants.csv beside the package (amurlink.incidents), "
                             "never in it; remove the resource from datapackage.json")
            wanted.remove(r)
        for k, r in enumerate(resources):
            if not isinstance(r, dict):
                report.error("bad-descriptor", f"resource {k + 1} in datapackage.json is not a "
                             f"JSON object (got {type(r).__name__})", file=_DESCRIPTOR,
                             field=f"resources[{k}]", fix="describe each resource as an object "
                             "with name, path, profile and schema")
        # Bytes are read in order here; the tables are parsed on two threads (Arrow, NumPy
        # and hashlib release the GIL), and results and issues merged back in order.
        jobs = []
        payloads: list[tuple[str, bytes] | None] = []
        for res in wanted:
            schema = _modelled_schema(res)
            if schema is None:
                jobs.append((res, None, None))
                payloads.append(None)
                continue
            files[schema.name] = str(res.get("path", schema.resource_name))
            local = ValidationReport(source=report.source)
            jobs.append((res, schema, local))
            payloads.append(_resource_bytes(src, res, schema, local))
        big = sum(1 for pl in payloads if pl is not None and len(pl[1]) >= _PARALLEL_BYTES)
        with concurrent.futures.ThreadPoolExecutor(max_workers=2 if big >= 2 else 1) as pool:
            parsed = [pool.submit(TableParser(j[1], pl[0]).read, pl[1])
                      if pl is not None else None for j, pl in zip(jobs, payloads, strict=True)]
            payloads.clear()  # each table's bytes are freed once it is parsed
            for k, (job, fut) in enumerate(zip(jobs, parsed, strict=True), start=1):
                res, schema, local = job
                if schema is None:
                    extras.append(res)
                else:
                    report.extend(local.issues)
                    result = fut.result() if fut is not None else None
                    if result is not None:
                        report.extend(result.issues)
                    parsed[k - 1] = None
                    if result is None or result.frame is None:
                        unreadable.append(schema.name)
                    else:
                        tables[schema.name] = result.frame
                        report.row_counts[schema.name] = len(result.frame)
                if progress is not None:
                    progress(k, len(wanted))
                logger.debug("read resource %s", res.get("name"))
        for t in STANDARD_TABLES:
            if t not in tables and t not in unreadable:
                report.error("missing-resource", f"the package declares no {t!r} resource; "
                             "Camtrap DP requires deployments, media and observations",
                             file=_DESCRIPTOR, table=t,
                             fix=f"add a {t!r} resource with path {t}.csv")
        if any(t in unreadable or t not in tables for t in STANDARD_TABLES):
            return None, report
        _check_references(tables, report, files)
        _check_semantics(tables, report, files)
        metadata = {k: v for k, v in descriptor.items() if k != "resources"}
        # the frames were built here and are handed over: no copy
        return Dataset(tables, metadata=metadata, extra_resources=extras, copy=False), report


def validate_camtrap_dp(
    path: str | os.PathLike[str], /, *, max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Progress | None = None, budget: int | None = None, name: str | None = None,
) -> ValidationReport:
    """Validate a Camtrap DP package (folder, ``datapackage.json`` or zip).

    Checks structure (descriptor, resources, files, CSV syntax, encoding), types, constraints,
    vocabularies, uniqueness, references between tables, and amurlink's rules (IANA time
    zones, start before end, namespaced individual IDs). Never raises for bad data.

    Returns
    -------
    ValidationReport

    Examples
    --------
    >>> from amurlink.datasets import example_path
    >>> validate_camtrap_dp(example_path()).valid
    True
    """
    return load_camtrap_dp(path, max_bytes=max_bytes, progress=progress, budget=budget,
                           name=name)[1]


def read_camtrap_dp(
    path: str | os.PathLike[str], /, *, max_bytes: int = DEFAULT_MAX_BYTES,
    strict: bool = True, progress: Progress | None = None, budget: int | None = None,
) -> Dataset:
    """Read a Camtrap DP package into a :class:`~amurlink.dataset.Dataset`.

    Parameters
    ----------
    path : path_like
        Package folder, its ``datapackage.json``, or a ``.zip`` of the package.
    max_bytes : int, optional
        Largest size of one file in bytes.
    strict : bool, default True
        Raise when validation finds any error. With ``False`` only unreadable packages raise.
    budget : int, optional
        Read budget in bytes (see :func:`load_camtrap_dp`).

    Returns
    -------
    Dataset
        Datetimes as tz-aware UTC, numbers as float64, integers as Int64, booleans as
        boolean, text as pyarrow-backed strings.

    Raises
    ------
    SchemaError
        If the package is invalid (``strict``) or unreadable; ``exc.report`` holds the report.

    Examples
    --------
    >>> from amurlink.datasets import example_path
    >>> ds = read_camtrap_dp(example_path())
    >>> len(ds.deployments)
    6
    """
    dataset, report = load_camtrap_dp(path, max_bytes=max_bytes, progress=progress,
                                      budget=budget)
    if strict or dataset is None:
        report.raise_for_errors()
    assert dataset is not None
    return dataset


def _read_descriptor(src: PackageSource, report: ValidationReport) -> dict[str, Any] | None:
    try:
        raw = src.read_bytes(_DESCRIPTOR)
        src.charge(_JSON_COPIES * len(raw), _DESCRIPTOR)  # the decoded text and its objects
    except DataError as exc:
        report.error("over-budget" if isinstance(exc, BudgetError) else "package", str(exc),
                     file=_DESCRIPTOR)
        return None
    try:
        descriptor = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        report.error("bad-descriptor", f"datapackage.json is not valid UTF-8 JSON ({exc})",
                     file=_DESCRIPTOR, row=line, fix="repair the JSON (a validator such as "
                     "`python -m json.tool datapackage.json` shows where)")
        return None
    except RecursionError:
        descriptor = None
    if descriptor is None or json_depth(descriptor) > MAX_JSON_DEPTH:
        report.error("too-deep", f"datapackage.json nests objects or lists more than "
                     f"{MAX_JSON_DEPTH} levels deep", file=_DESCRIPTOR,
                     expected=f"at most {MAX_JSON_DEPTH} levels", fix="flatten the descriptor; "
                     "Camtrap DP needs only a few levels")
        return None
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("resources"), list):
        report.error("bad-descriptor", "datapackage.json must be a JSON object with a "
                     "'resources' list", file=_DESCRIPTOR, expected="object with resources",
                     got=type(descriptor).__name__, fix="add \"resources\": [...]")
        return None
    return descriptor


#: Most resources a descriptor may list (Camtrap DP has 3, amurlink about 15).
MAX_RESOURCES = 1000
#: Deepest nesting of objects and lists accepted in JSON (a descriptor needs about 6).
MAX_JSON_DEPTH = 64
#: The decoded descriptor is charged this many times its bytes (text plus Python objects).
_JSON_COPIES = 8


def json_depth(obj: Any) -> int:
    """Deepest nesting of dicts and lists in ``obj`` (iterative: no recursion limit)."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        o, d = stack.pop()
        if isinstance(o, dict):
            o = list(o.values())
        if isinstance(o, list):
            deepest = max(deepest, d)
            if d > MAX_JSON_DEPTH:
                return d
            stack.extend((v, d + 1) for v in o if isinstance(v, dict | list))
    return deepest


def _check_descriptor(d: dict[str, Any], report: ValidationReport) -> None:
    """The Camtrap DP profile's package-level requirements, checked without the network."""
    def err(field: str, msg: str, fix: str) -> None:
        report.error("descriptor", msg, file=_DESCRIPTOR, field=field, fix=fix)

    for key in _PROFILE_REQUIRED:
        if key not in d:
            err(key, f"datapackage.json lacks the required property {key!r}",
                f"add {key!r} as the Camtrap DP profile describes")
    profile = d.get("profile")
    if isinstance(profile, str) and "camtrap-dp" in profile and "1.0" not in profile:
        report.warning("descriptor", f"profile {profile!r} is not Camtrap DP 1.0.x; read as 1.0.2",
                       file=_DESCRIPTOR, field="profile")
    project = d.get("project")
    if "project" in d and not isinstance(project, dict):
        err("project", "'project' must be an object", "give project as a JSON object")
    elif isinstance(project, dict):
        for key in _PROJECT_REQUIRED:
            if key not in project:
                err(f"project.{key}", f"project lacks the required property {key!r}",
                    f"add project.{key}")
        sd = project.get("samplingDesign")
        if sd is not None and sd not in _SAMPLING_DESIGNS:
            err("project.samplingDesign", f"project.samplingDesign {sd!r} is not one of "
                f"{', '.join(_SAMPLING_DESIGNS)}", "use one of the allowed sampling designs")
        for key, allowed in (("captureMethod", ("activityDetection", "timeLapse")),
                             ("observationLevel", ("media", "event"))):
            vals = project.get(key)
            if vals is not None and (not isinstance(vals, list)
                                     or any(v not in allowed for v in vals)):
                err(f"project.{key}", f"project.{key} must be a list of {', '.join(allowed)}; got "
                    f"{vals!r}", f"fix project.{key}")
        ia = project.get("individualAnimals")
        if ia is not None and not isinstance(ia, bool):
            err("project.individualAnimals", "project.individualAnimals must be true or false",
                "write true or false")
    contributors = d.get("contributors")
    if contributors is not None:
        if not isinstance(contributors, list) or not contributors:
            err("contributors", "'contributors' must be a non-empty list",
                "list at least one contributor with a title")
        else:
            for i, c in enumerate(contributors):
                if not isinstance(c, dict) or "title" not in c:
                    err(f"contributors[{i}]", f"contributor {i + 1} has no 'title'",
                        "give every contributor a title")
                elif "role" in c and c["role"] not in _CONTRIBUTOR_ROLES:
                    err(f"contributors[{i}].role", f"contributor {c['title']!r} has role "
                        f"{c['role']!r}; allowed: {', '.join(_CONTRIBUTOR_ROLES)}",
                        "use an allowed role")
    licenses = d.get("licenses")
    if licenses is not None:
        scopes = [x.get("scope") for x in licenses if isinstance(x, dict)] \
            if isinstance(licenses, list) else []
        if not isinstance(licenses, list) or len(licenses) < 2 or \
                any(sc not in ("data", "media") for sc in scopes) or len(scopes) != len(licenses):
            err("licenses", "Camtrap DP requires 'licenses', when given, to hold at least one "
                "license with scope 'data' and one with scope 'media'",
                "add {\"name\": ..., \"scope\": \"data\"} and {\"name\": ..., "
                "\"scope\": \"media\"}")
    cp = d.get("coordinatePrecision")
    if cp is not None and (isinstance(cp, bool) or not isinstance(cp, int | float)):
        err("coordinatePrecision", f"coordinatePrecision must be a number, got {cp!r}",
            "write it as a number of degrees, e.g. 0.01")
    temporal = d.get("temporal")
    if temporal is not None and (not isinstance(temporal, dict)
                                 or not {"start", "end"} <= set(temporal)):
        err("temporal", "'temporal' must have 'start' and 'end' dates",
            "give temporal as {\"start\": \"2013-01-01\", \"end\": \"2015-12-31\"}")
    taxonomic = d.get("taxonomic")
    if taxonomic is not None:
        if not isinstance(taxonomic, list) or any(
                not isinstance(t, dict) or "scientificName" not in t for t in taxonomic):
            err("taxonomic", "every 'taxonomic' entry needs a scientificName",
                "add scientificName to each taxon")
    spatial = d.get("spatial")
    if spatial is not None and (not isinstance(spatial, dict) or "type" not in spatial):
        err("spatial", "'spatial' must be a GeoJSON geometry", "give a GeoJSON Polygon")
    names = [r.get("name") for r in d.get("resources", []) if isinstance(r, dict)]
    counts = collections.Counter(n for n in names if isinstance(n, str))
    dupes = sorted(n for n, k in counts.items() if k > 1)
    for n in dupes:
        err("resources", f"resource name {n!r} is used more than once", "give each resource "
            "its own name")


#: Owner-only table and the column names that mark personal data of claimants
#: (:data:`amurlink.incidents.PERSONAL_FIELDS`): never a resource of a package.
_PERSONAL_TABLE = "claimants"
_PERSONAL_MARKS = frozenset({"claimantName"})


def _personal_resource(res: Mapping[str, Any]) -> bool:
    """Whether a resource is (or carries) the owner-only claimants table."""
    if _PERSONAL_TABLE in (res.get("name"), res.get(AMURLINK_RESOURCE_KEY)):
        return True
    schema = res.get("schema")
    fields = schema.get("fields") if isinstance(schema, dict) else None
    names = {f.get("name") for f in fields if isinstance(f, dict)} \
        if isinstance(fields, list) else set()
    return bool(names & _PERSONAL_MARKS)


def _modelled_schema(res: dict[str, Any]) -> TableSchema | None:
    """The amurlink schema for a resource, or None for resources kept verbatim."""
    name = res.get("name")
    if name in STANDARD_TABLES:
        return TABLES[name]
    marker = res.get(AMURLINK_RESOURCE_KEY)
    if marker is not None and marker in TABLES:
        return TABLES[marker]
    return None


#: Tables are parsed in parallel when at least two files have this many bytes.
_PARALLEL_BYTES = 1 << 20


def _resource_bytes(
    src: PackageSource, res: dict[str, Any], schema: TableSchema, report: ValidationReport,
) -> tuple[str, bytes] | None:
    """Check a resource's descriptor and read its CSV: ``(path, bytes)``, or None (reported)."""
    path = res.get("path")
    name = schema.name
    if schema.standard:
        for key in ("profile", "schema"):
            if key not in res:
                report.error("descriptor", f"resource {name!r} lacks {key!r}", file=_DESCRIPTOR,
                             table=name, field=key, fix=f"add {key!r} as Camtrap DP requires")
        sch = res.get("schema")
        if isinstance(sch, str) and schema.schema_url and sch.rsplit("/", 1)[-1] != \
                schema.schema_url.rsplit("/", 1)[-1]:
            report.warning("descriptor", f"resource {name!r} points to schema {sch!r}; read with "
                           f"the Camtrap DP 1.0.2 {name} schema", file=_DESCRIPTOR, table=name)
    if "data" in res and path is None:
        report.error("inline-data", f"resource {name!r} has inline data; amurlink reads tables "
                     "from CSV files", file=_DESCRIPTOR, table=name,
                     fix=f"move the rows to {name}.csv and set path")
        return None
    if not isinstance(path, str):
        report.error("descriptor", f"resource {name!r} has no single 'path' to a CSV file",
                     file=_DESCRIPTOR, table=name, field="path",
                     fix=f"set \"path\": \"{name}.csv\"")
        return None
    try:
        rel = safe_relative_path(path)
    except DataError as exc:
        report.error("unsafe-path", str(exc), file=_DESCRIPTOR, table=name, field="path")
        return None
    if not src.exists(rel):
        report.error("missing-file", f"resource {name!r} points to {rel}, which is not in the "
                     "package", file=rel, table=name, fix=f"add {rel} or correct the path")
        return None
    try:
        data = src.read_bytes(rel, table=True)
    except BudgetError as exc:
        report.error("over-budget", str(exc), file=rel, table=name,
                     fix="split the package or raise the read budget (AMURLINK_READ_BUDGET)")
        return None
    except DataError as exc:
        report.error("file-too-large" if "larger than the limit" in str(exc) else "unreadable",
                     str(exc), file=rel, table=name)
        return None
    except OSError as exc:
        report.error("unreadable", f"{rel}: cannot be read ({exc.strerror or exc})", file=rel,
                     table=name)
        return None
    return rel, data


def _check_references(tables: dict[str, pd.DataFrame], report: ValidationReport,
                      files: dict[str, str]) -> None:
    """Foreign keys between tables, as declared in the schema."""
    for name, frame in tables.items():
        schema = TABLES[name]
        for fk in schema.foreign_keys:
            if fk.resource not in tables:
                if frame[list(fk.fields)].notna().any(axis=None):
                    report.error("foreign-key", f"{name} refers to {fk.resource}, which the "
                                 "package lacks", table=name, file=_DESCRIPTOR,
                                 fix=f"add the {fk.resource} resource")
                continue
            col = frame[fk.fields[0]]
            ref = tables[fk.resource][fk.reference_fields[0]]
            bad = col.notna().to_numpy(bool) & ~isin(col, ref)
            idx = np.flatnonzero(bad)
            for i in idx[:100]:
                report.error(
                    "foreign-key",
                    f"{name}.{fk.fields[0]} in row {i + 2} is {col.iloc[i]!r}, which is not a "
                    f"{fk.resource}.{fk.reference_fields[0]}; add that {fk.resource} row or "
                    "correct the reference",
                    file=files.get(name), table=name, row=int(i + 2), field=fk.fields[0],
                    expected=f"an existing {fk.resource}.{fk.reference_fields[0]}",
                    got=str(col.iloc[i]), fix=f"add the {fk.resource} row or correct the value")
            if idx.size > 100:
                report.error("foreign-key", f"{name}.{fk.fields[0]}: {idx.size - 100} more rows "
                             "with dangling references", file=files.get(name), table=name,
                             field=fk.fields[0])


def _order_issue(report: ValidationReport, table: str, start: str, end: str,
                 frame: pd.DataFrame, file: str | None) -> None:
    bad = (frame[start] > frame[end]).fillna(False).to_numpy(bool)
    for i in np.flatnonzero(bad)[:100]:
        report.error("start-after-end", f"{table} row {i + 2}: {start} {frame[start].iloc[i]} is "
                     f"after {end} {frame[end].iloc[i]}", file=file, table=table,
                     row=int(i + 2), field=start, fix=f"swap or correct {start} and {end}")


@functools.lru_cache(maxsize=1)
def _iana_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _check_semantics(tables: dict[str, pd.DataFrame], report: ValidationReport,
                     files: dict[str, str]) -> None:
    """Rules beyond the Table Schema: time order, IANA zones, timestamps inside deployments."""
    for table, start, end in (("deployments", "deploymentStart", "deploymentEnd"),
                              ("observations", "eventStart", "eventEnd"),
                              ("deploymentGaps", "gapStart", "gapEnd")):
        if table in tables:
            _order_issue(report, table, start, end, tables[table], files.get(table))
    details = tables.get("deploymentDetails")
    if details is not None:
        zones = _iana_zones()
        tz = details["timezone"]
        bad = tz.notna().to_numpy(bool) & ~isin(tz, zones)
        for i in np.flatnonzero(bad)[:100]:
            report.error("timezone", f"deploymentDetails row {i + 2}: {tz.iloc[i]!r} is not an "
                         "IANA time zone name", file=files.get("deploymentDetails"),
                         table="deploymentDetails", row=int(i + 2), field="timezone",
                         expected="an IANA name such as Asia/Shanghai or Asia/Vladivostok",
                         got=str(tz.iloc[i]), fix="use the IANA name of the camera's clock zone")
    # Media timestamps outside their deployment: flagged, kept.
    deps = tables["deployments"]
    media = tables["media"]
    if len(media) and deps["deploymentID"].is_unique:
        # positions of each media row's deployment (-1: none), then plain int64 comparisons
        pos = positions(media["deploymentID"], deps["deploymentID"])
        known = pos >= 0
        at = np.where(known, pos, 0)
        start = _ns(deps["deploymentStart"])[at] if len(deps) else np.zeros(len(media), np.int64)
        end = _ns(deps["deploymentEnd"])[at] if len(deps) else np.zeros(len(media), np.int64)
        ts = _ns(media["timestamp"])
        nat = np.iinfo(np.int64).min
        valid = known & (ts != nat) & (start != nat) & (end != nat)
        outside = valid & ((ts < start) | (ts > end))
        n = int(outside.sum())
        if n:
            first = int(np.flatnonzero(outside)[0]) + 2
            report.warning("timestamp-outside-deployment", f"media.timestamp lies outside its "
                           f"deployment in {n} rows (first: row {first}); kept as recorded",
                           file=files.get("media"), table="media", row=first, field="timestamp",
                           fix="check the camera clock; a clock-shift table corrects it")


def _ns(col: pd.Series) -> np.ndarray:
    """UTC nanoseconds of a tz-aware datetime column (NaT as the int64 minimum)."""
    arr = col.array
    if hasattr(arr, "asi8"):
        return np.asarray(arr.asi8, dtype=np.int64)
    return pd.to_datetime(col, utc=True).array.asi8  # pragma: no cover


# ==============================================================================================
# Writing
# ==============================================================================================
def _format_datetimes(series: pd.Series, zones: pd.Series | None) -> pd.Series:
    """ISO 8601 with offset: local time where the deployment's zone is known, else UTC ('Z')."""
    out = pd.Series(pd.NA, index=series.index, dtype=object)
    ok = series.notna()
    if zones is None:
        zones = pd.Series(pd.NA, index=series.index, dtype=object)
    zones = zones.astype(object).where(zones.notna(), None)
    for zone in pd.unique(zones[ok]):
        sel = ok & (zones.isna() if zone is None else zones == zone)
        if not sel.any():
            continue
        if zone is None:
            out[sel] = _iso_text(series[sel], None)
        else:
            out[sel] = _iso_text(series[sel], zone)
    return out


def _iso_text(utc: pd.Series, zone: str | None) -> np.ndarray:
    """``YYYY-MM-DDTHH:MM:SS`` plus ``Z`` (no zone) or the zone's ``+hh:mm`` offset.

    Vectorised equivalent of ``strftime("%Y-%m-%dT%H:%M:%SZ")`` and of
    ``tz_convert(zone).strftime("%Y-%m-%dT%H:%M:%S%z")`` with a colon put into the offset:
    the wall-clock time is formatted by NumPy and each distinct offset once. Offsets that are
    not whole minutes (historical local mean times) keep the strftime path.
    """
    local = utc if zone is None else utc.dt.tz_convert(zone)
    wall = local.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
    if zone is None:
        offset = np.zeros(len(wall), dtype=np.int64)
    else:
        offset = (wall.view(np.int64) - utc.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
                  .view(np.int64)) // 1_000_000_000
    years = wall.astype("datetime64[Y]").astype(np.int64) + 1970
    if (offset % 60).any() or years.min() < 1000 or years.max() > 9999:  # pragma: no cover
        if zone is None:
            return local.dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy(dtype=object)
        txt = local.dt.strftime(DATETIME_FORMAT)
        return (txt.str.slice(0, -2) + ":" + txt.str.slice(-2)).to_numpy(dtype=object)
    text = np.datetime_as_string(wall.astype("datetime64[s]"), unit="s").astype(object)
    if zone is None:
        return text + "Z"
    offsets, inverse = np.unique(offset, return_inverse=True)
    suffix = np.array([f"{'-' if o < 0 else '+'}{abs(o) // 3600:02d}:{abs(o) % 3600 // 60:02d}"
                       for o in offsets.tolist()], dtype=object)
    return text + suffix[inverse.ravel()]


def _format_frame(frame: pd.DataFrame, schema: TableSchema,
                  zone_of: pd.Series | None) -> pa.Table:
    """The CSV text of every declared column of ``frame`` as Arrow strings (null = empty).

    Vectorised in Arrow: integers and booleans by casts, numbers by Arrow's shortest
    round-trip text made identical to Python's ``repr``, datetimes by ``strftime`` on the
    local wall-clock seconds plus each distinct UTC offset once. The text equals what the
    earlier pandas formatting wrote, value for value.
    """
    missing = [f for f in schema.required_fields if f not in frame.columns]
    if missing:
        raise SchemaError(f"table {schema.name!r} lacks required column(s) {missing}; add them "
                          "before writing")
    extra = [c for c in frame.columns if c not in schema]
    if extra:
        raise SchemaError(
            f"table {schema.name!r} has column(s) {extra} that its schema does not declare"
            + ("; Camtrap DP rejects extra columns in core tables, so put them in an extension "
               "table" if schema.standard else "")
        )
    n = len(frame)
    zones = None
    if zone_of is not None and "deploymentID" in frame.columns and \
            any(f.type == "datetime" for f in schema.fields):
        zones = _zones_by_row(frame["deploymentID"], zone_of)
    out: dict[str, pa.Array] = {}
    for f in schema.fields:
        if f.name not in frame.columns:
            out[f.name] = pa.nulls(n, pa.string())
            continue
        col = frame[f.name]
        if f.type == "datetime":
            out[f.name] = _datetime_text(pd.to_datetime(col, utc=True), zones)
        elif f.type == "boolean":
            b = pa.array(col.astype("boolean").array, type=pa.bool_())
            out[f.name] = pc.if_else(b, "true", "false")
        elif f.type == "integer":
            out[f.name] = pc.cast(pa.array(col.astype("Int64").array, type=pa.int64()),
                                  pa.string())
        elif f.type == "number":
            out[f.name] = _float_text(col.astype("float64").to_numpy(na_value=np.nan))
        else:
            out[f.name] = _string_text(col)
    # large_string: no 2 GiB limit on the text of one column
    return pa.table({k: (v.combine_chunks() if isinstance(v, pa.ChunkedArray) else v)
                     .cast(pa.large_string()) for k, v in out.items()})


def _zones_by_row(ids: pd.Series, zone_of: pd.Series) -> pd.Series:
    """The time zone name of each row's deployment (NA where unknown)."""
    if zone_of.index.is_unique:
        pos = positions(ids, pd.Series(zone_of.index, dtype=ids.dtype)
                        if isinstance(ids.dtype, pd.StringDtype) else pd.Series(zone_of.index))
        names = np.append(zone_of.astype(object).where(zone_of.notna(), None).to_numpy(), None)
        return pd.Series(names[np.where(pos >= 0, pos, len(zone_of))], index=ids.index,
                         dtype=object)
    return ids.map(zone_of)  # pragma: no cover - raises as pandas does for ambiguous zones


def _datetime_text(utc: pd.Series, zones: pd.Series | None) -> pa.Array:
    """ISO 8601 text with offset: local time where the row's zone is known, else UTC ('Z')."""
    n = len(utc)
    try:
        ns = np.asarray(utc.dt.tz_convert("UTC").astype("datetime64[ns, UTC]").array.asi8,
                        dtype=np.int64)
    except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):  # pragma: no cover
        return pa.array(_format_datetimes(utc, zones), type=pa.string(), from_pandas=True)
    nat = np.iinfo(np.int64).min
    valid = ns != nat
    wall = ns.copy()
    offset = np.zeros(n, np.int64)  # seconds east of UTC
    has_zone = np.zeros(n, bool)
    if zones is not None:
        z = zones.to_numpy(dtype=object)
        known = valid & pd.notna(z)
        for zone in pd.unique(z[known]):
            sel = known & (z == zone)
            local = utc[sel].dt.tz_convert(zone).dt.tz_localize(None)
            lw = np.asarray(local.to_numpy(dtype="datetime64[ns]").view(np.int64))
            wall[sel] = lw
            offset[sel] = (lw - ns[sel]) // 1_000_000_000
            has_zone[sel] = True
    secs = wall // 1_000_000_000
    years = secs[valid].astype("datetime64[s]").astype("datetime64[Y]").astype(np.int64) + 1970
    if (offset % 60).any() or (years.size and (years.min() < 1000 or years.max() > 9999)):
        # offsets of historical local mean time, or years strftime pads differently
        return pa.array(_format_datetimes(utc, zones), type=pa.string(), from_pandas=True)
    code = np.zeros(n, np.int64)  # 0: "Z"
    suffixes = ["Z"]
    if has_zone.any():
        offs, inverse = np.unique(offset[has_zone], return_inverse=True)
        suffixes += [f"{'-' if o < 0 else '+'}{abs(o) // 3600:02d}:{abs(o) % 3600 // 60:02d}"
                     for o in offs.tolist()]
        code[has_zone] = inverse.ravel() + 1
    return _iso_strings(secs, valid, code, suffixes)


def _iso_strings(secs: np.ndarray, valid: np.ndarray, code: np.ndarray,
                 suffixes: list[str]) -> pa.Array:
    """``YYYY-MM-DDTHH:MM:SS`` + ``suffixes[code]`` for wall-clock seconds (years 1000-9999),
    null where not ``valid``; the bytes are assembled in NumPy (no per-value formatting)."""
    n = len(secs)
    secs = np.where(valid, secs, 0)
    days, sod = np.divmod(secs, 86400)
    # proleptic Gregorian date from days since 1970-01-01 (H. Hinnant's civil_from_days)
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    hour, rest = np.divmod(sod, 3600)
    minute, second = np.divmod(rest, 60)
    width = 19 + max(len(x) for x in suffixes)
    mat = np.zeros((n, width), np.uint8)
    for pos, (value, digits) in enumerate(((year, 4), (month, 2), (day, 2), (hour, 2),
                                           (minute, 2), (second, 2))):
        start = (0, 5, 8, 11, 14, 17)[pos]
        for k in range(digits):
            mat[:, start + k] = value // 10 ** (digits - 1 - k) % 10 + 48
    for at, ch in ((4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":")):
        mat[:, at] = ord(ch)
    table = np.zeros((len(suffixes), width - 19), np.uint8)
    for i, sfx in enumerate(suffixes):
        table[i, : len(sfx)] = np.frombuffer(sfx.encode("ascii"), np.uint8)
    mat[:, 19:] = table[code]
    lengths = np.where(valid, 19 + np.array([len(x) for x in suffixes])[code], 0)
    data = mat[np.arange(width) < lengths[:, None]]
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    otype, atype = (np.int32, pa.string()) if offsets[-1] < 2**31 else (np.int64, pa.large_string())
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    arr = pa.Array.from_buffers(atype, n, [bitmap, pa.py_buffer(offsets.astype(otype)),
                                           pa.py_buffer(data)], null_count=int(n - valid.sum()))
    return arr.cast(pa.string())


def _float_text(x: np.ndarray) -> pa.Array:
    """``repr`` of each float (NaN as null), vectorised: Arrow's shortest round-trip digits,
    with Python's notation restored (``1.0`` for whole numbers; ``repr`` for the few values
    where Python writes an exponent or Arrow does)."""
    nan = np.isnan(x)
    arr = pc.cast(pa.array(x, mask=nan), pa.string())
    ax = np.abs(x)
    with np.errstate(invalid="ignore"):
        odd = (ax >= 1e16) | ((ax < 1e-4) & (ax > 0))
    odd |= _bool_np(pc.match_substring(arr, "e"))
    odd &= ~nan
    whole = ~_bool_np(pc.match_substring_regex(arr, r"[.ein]")) & ~odd & ~nan
    if whole.any():
        arr = pc.if_else(pa.array(whole), pc.binary_join_element_wise(arr, ".0", ""), arr)
    idx = np.flatnonzero(odd)
    if idx.size:
        fixed = pa.array([repr(float(v)) for v in x[idx]], pa.string())
        src = np.arange(len(x), dtype=np.int64)
        src[idx] = len(x) + np.arange(idx.size)
        arr = pa.concat_arrays([arr, fixed]).take(pa.array(src))
    return arr


def _string_text(col: pd.Series) -> pa.Array:
    """Text values as Arrow strings (NA as null); other objects as ``str(value)``."""
    if _is_arrow_string(col):
        return _arrow(col).combine_chunks()
    values = col.astype(object).where(col.notna(), None).to_numpy(dtype=object)
    try:
        return pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def _zone_lookup(dataset: Dataset) -> pd.Series | None:
    details = dataset.get("deploymentDetails")
    if details is None or not len(details):
        return None
    return details.set_index("deploymentID")["timezone"]


def _derived_metadata(dataset: Dataset) -> dict[str, Any]:
    """Fill the Camtrap DP profile's required properties that the data determine."""
    md = dict(dataset.metadata)
    dep, obs, media = dataset.deployments, dataset.observations, dataset.media
    md["profile"] = CAMTRAP_DP_PROFILE_URL
    md.setdefault("created", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    md.setdefault("contributors", [{"title": "amurlink", "role": "publisher"}])
    project = dict(md.get("project") or {})
    project.setdefault("title", md.get("title") or "amurlink camera-trap dataset")
    project.setdefault("samplingDesign", "systematicRandom")
    methods = _distinct(media["captureMethod"]) or ["activityDetection"]
    project.setdefault("captureMethod", methods)
    project.setdefault("individualAnimals", bool(obs["individualID"].notna().any()))
    project.setdefault("observationLevel", _distinct(obs["observationLevel"]) or ["event"])
    md["project"] = project
    if "spatial" not in md and len(dep):
        lo, la = dep["longitude"], dep["latitude"]
        x0, x1, y0, y1 = float(lo.min()), float(lo.max()), float(la.min()), float(la.max())
        md["spatial"] = {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1],
                                                              [x0, y1], [x0, y0]]]}
    elif "spatial" not in md:
        md["spatial"] = {"type": "Polygon", "coordinates": [[[0, 0], [0, 0], [0, 0], [0, 0]]]}
    if "temporal" not in md:
        if len(dep):
            md["temporal"] = {"start": dep["deploymentStart"].min().strftime("%Y-%m-%d"),
                              "end": dep["deploymentEnd"].max().strftime("%Y-%m-%d")}
        else:
            today = datetime.now(UTC).strftime("%Y-%m-%d")
            md["temporal"] = {"start": today, "end": today}
    if "taxonomic" not in md:
        md["taxonomic"] = [{"scientificName": n} for n in _distinct(obs["scientificName"])]
    return md


def _distinct(col: pd.Series) -> list[Any]:
    """Sorted distinct present values (hashed once each, not iterated row by row)."""
    return sorted(set(col.dropna().unique().tolist()))


def _resource_descriptor(schema: TableSchema, path: str) -> dict[str, Any]:
    res: dict[str, Any] = {
        "name": schema.resource_name,
        "path": path,
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
    }
    if schema.standard:
        res["schema"] = schema.schema_url
    else:
        res[AMURLINK_RESOURCE_KEY] = schema.name
        res["description"] = schema.description
        res["schema"] = schema.to_descriptor()
    return res


def _write_csv(table: pa.Table, path: Path) -> None:
    """Write formatted text columns as UTF-8 CSV: header, ``\n`` line ends, empty = null.

    Values holding a comma, a double quote or a line break are quoted (quotes doubled), as
    Python's ``csv`` module does with ``QUOTE_MINIMAL``. Rows are joined in Arrow and
    written from its buffers in blocks.
    """
    names = table.column_names
    step = _WRITE_BLOCK_ROWS
    with open(path, "wb") as fh:
        fh.write((",".join(_quote_header(c) for c in names) + "\n").encode("utf-8"))
        for lo in range(0, table.num_rows, step):
            part = table.slice(lo, step)
            cols = [_csv_quote(part.column(c).combine_chunks().cast(pa.large_string()))
                    for c in names]
            cols = [c.fill_null(pa.scalar("", c.type)) for c in cols]
            text = functools.partial(pa.scalar, type=pa.large_string())
            lines = pc.binary_join_element_wise(*cols, text(",")) if len(cols) > 1 else cols[0]
            lines = pc.binary_join_element_wise(lines, text(""), text("\n"))  # value + "\n"
            if isinstance(lines, pa.ChunkedArray):  # pragma: no cover
                lines = lines.combine_chunks()
            otype = np.int64 if pa.types.is_large_string(lines.type) else np.int32
            offsets = np.frombuffer(lines.buffers()[1], dtype=otype,
                                    count=lines.offset + len(lines) + 1)
            a, b = int(offsets[lines.offset]), int(offsets[-1])
            fh.write(memoryview(lines.buffers()[2])[a:b])


#: Rows formatted and written per block (bounds the memory of the joined text).
_WRITE_BLOCK_ROWS = 1 << 18
_NEEDS_QUOTES = r'[,"\r\n]'


def _quote_header(name: str) -> str:
    return '"' + name.replace('"', '""') + '"' if any(c in name for c in ',"\r\n') else name


def _has_special_bytes(arr: pa.Array) -> bool:
    """Whether any value of a string array holds a comma, double quote, CR or LF."""
    if len(arr) == 0 or arr.null_count == len(arr):
        return False
    otype = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    off = np.frombuffer(arr.buffers()[1], dtype=otype, count=arr.offset + len(arr) + 1)
    a, b = int(off[arr.offset]), int(off[-1])
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[a:b]
    # ',' 44, '"' 34, LF 10, CR 13: one table lookup per byte
    return bool(_SPECIAL[data].any())


_SPECIAL = np.zeros(256, bool)
_SPECIAL[[10, 13, 34, 44]] = True


def _csv_quote(arr: pa.Array) -> pa.Array:
    """Quote the values that need it (comma, double quote, line break), doubling quotes."""
    if not _has_special_bytes(arr):
        return arr  # the usual case: one pass over the bytes, no regex
    needs = pc.match_substring_regex(arr, _NEEDS_QUOTES)
    quote, empty = pa.scalar('"', arr.type), pa.scalar("", arr.type)
    quoted = pc.binary_join_element_wise(quote, pc.replace_substring(arr, '"', '""'), quote, empty)
    return pc.if_else(needs, quoted, arr)


def write_camtrap_dp(
    dataset: Dataset, path: str | os.PathLike[str], /, *, overwrite: bool = False,
) -> Path:
    """Write ``dataset`` as a Camtrap DP 1.0.2 package folder, atomically.

    The package is written into a temporary folder beside ``path`` and moved into place only
    once complete, so a failure never leaves a half-written package (or damages an existing
    one). Core tables get exactly the official columns in order; amurlink's tables are
    extension resources with inline schemas, marked with ``"amurlink:table"``.

    Parameters
    ----------
    dataset : Dataset
    path : path_like
        Target folder.
    overwrite : bool, default False
        Replace an existing folder at ``path``.

    Returns
    -------
    Path
        The package folder.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    SchemaError
        If a table lacks required columns or has undeclared ones.
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; pass overwrite=True (--overwrite) to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    zone_of = _zone_lookup(dataset)
    # Format everything first: schema errors surface before any file is touched.
    formatted = {name: _format_frame(frame, TABLES[name], zone_of)
                 for name, frame in dataset.tables.items()}
    metadata = _derived_metadata(dataset)
    ordered = [n for n in STANDARD_TABLES] + [n for n in TABLES if n not in STANDARD_TABLES
                                               and n in formatted]
    personal = [r.get("name") for r in dataset.extra_resources if _personal_resource(r)]
    if personal:
        raise SchemaError(f"extra resource(s) {personal} hold personal data of compensation "
                          "claimants (owner-only): keep claimants.csv beside the package, "
                          "never in it")
    clash = {r.get("name") for r in dataset.extra_resources} & {
        TABLES[n].resource_name for n in ordered}
    if clash:
        raise SchemaError(f"extra resource(s) {sorted(clash)} have the same name as amurlink "
                          "tables; rename them before writing")
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        resources = []
        for name in ordered:
            rel = f"{TABLES[name].resource_name}.csv"
            _write_csv(formatted[name], tmp / rel)
            resources.append(_resource_descriptor(TABLES[name], rel))
        resources.extend(dict(r) for r in dataset.extra_resources)
        descriptor = {"resources": resources, **metadata}
        (tmp / _DESCRIPTOR).write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n",
                                       encoding="utf-8")
        _move_into_place(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _move_into_place(tmp: Path, target: Path) -> None:
    """Replace ``target`` (folder or file) by ``tmp``; the old one is restored on failure."""
    if target.exists():
        backup = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.old")
        os.replace(target, backup)
        try:
            os.replace(tmp, target)
        except BaseException:
            os.replace(backup, target)
            raise
        if backup.is_dir():
            shutil.rmtree(backup, ignore_errors=True)
        else:
            backup.unlink(missing_ok=True)
    else:
        os.replace(tmp, target)


def write_table(package: str | os.PathLike[str], name: str, frame: pd.DataFrame, /) -> Path:
    """Replace one table of an existing package folder atomically and declare it.

    Used by stores that change one table (the identity-link log, for instance) without
    rewriting the rest. The CSV and the updated ``datapackage.json`` are each written aside and
    moved into place; the old table stays intact if anything fails.

    Parameters
    ----------
    package : path_like
        Package folder holding ``datapackage.json``.
    name : str
        Table name (``identityLinks``, ``individuals``, ...).
    frame : DataFrame
        The complete new table.

    Returns
    -------
    Path
        The CSV file written.
    """
    root = Path(package)
    desc_path = root / _DESCRIPTOR
    if not desc_path.is_file():
        raise DataError(f"{root}: no datapackage.json; write the package first")
    schema = TABLES.get(name)
    if schema is None:
        raise SchemaError(f"unknown table {name!r}; known: {', '.join(TABLES)}")
    descriptor = json.loads(desc_path.read_text(encoding="utf-8"))
    zone_of = None
    try:
        details_res = next((r for r in descriptor["resources"]
                            if r.get(AMURLINK_RESOURCE_KEY) == "deploymentDetails"), None)
        if details_res is not None and name != "deploymentDetails":
            d = TableParser(TABLES["deploymentDetails"], details_res["path"]).read(
                (root / safe_relative_path(details_res["path"])).read_bytes()).frame
            if d is not None and len(d):
                zone_of = d.set_index("deploymentID")["timezone"]
    except (OSError, KeyError, DataError):
        zone_of = None
    text = _format_frame(frame, schema, zone_of)
    existing = next((r for r in descriptor["resources"] if _modelled_schema(r) is schema), None)
    rel = safe_relative_path(existing["path"]) if existing else f"{schema.resource_name}.csv"
    if existing is None:
        descriptor["resources"].append(_resource_descriptor(schema, rel))
    csv_path = root / rel
    # mkstemp creates files readable by the owner only; give them the usual umask-based mode
    # so that colleagues sharing the folder keep read access after the replace.
    umask = os.umask(0)
    os.umask(umask)
    fd, tmp_csv = tempfile.mkstemp(prefix=f".{name}.", suffix=".csv.partial", dir=root)
    os.fchmod(fd, 0o666 & ~umask)
    os.close(fd)
    fd, tmp_desc = tempfile.mkstemp(prefix=".datapackage.", suffix=".json.partial", dir=root)
    os.fchmod(fd, 0o666 & ~umask)
    os.close(fd)
    try:
        _write_csv(text, Path(tmp_csv))
        Path(tmp_desc).write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n",
                                  encoding="utf-8")
        os.replace(tmp_csv, csv_path)
        os.replace(tmp_desc, desc_path)
    finally:
        for p in (tmp_csv, tmp_desc):
            if os.path.exists(p):
                os.unlink(p)
    return csv_path


def empty_table(name: str) -> pd.DataFrame:
    """An empty frame with the declared columns and dtypes of table ``name``."""
    return empty_frame(TABLES[name])

