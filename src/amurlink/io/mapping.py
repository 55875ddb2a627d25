"""National tables to Camtrap DP through a TOML import mapping (docs/formats.md, section 1)."""

from __future__ import annotations

import functools
import mimetypes
import os
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from amurlink.core.crs import source_crs, to_wgs84
from amurlink.core.species import resolve_species
from amurlink.core.time import (
    apply_clock_shifts,
    implausible_times,
    is_date_only_format,
    local_to_utc,
    parse_clock_shift,
    parse_local,
    spans_rule_change,
)
from amurlink.dataset import Dataset
from amurlink.exceptions import AmurlinkError, ConfigError, DataError
from amurlink.io._parse import _STRING, dtype_of, empty_frame
from amurlink.io._readers.tabular import read_text_table
from amurlink.io.validation import ValidationReport
from amurlink.schema import INDIVIDUAL_ID_PATTERN, TABLES

__all__ = [
    "ImportMapping",
    "TableMapping",
    "SourceInfo",
    "load_mapping",
    "import_mapping",
    "read_mapped",
    "MAX_ROWS_LISTED",
]

#: Rows named individually per kind of problem before the rest are summarised.
MAX_ROWS_LISTED = 20
#: Memory charged per row of a mapped table for the import's own work on it (bytes), on top
#: of its text table; the read budget (``AMURLINK_READ_BUDGET``) bounds the sum before the
#: file is parsed. Records build an ``observations`` row each (about 250 bytes with their
#: IDs and times); a station row costs several times more (coordinates, zones, gaps), and a
#: genuine station table has hundreds of rows, not millions. With these charges the
#: simulator's ``large`` records (943,000 rows, 82 MB) take about 560 MiB of the default
#: 640 MiB, and a hostile file of at most 10 MB is refused, or imported under 1 GB of peak
#: memory (tests/fuzz/test_mapping_bounds.py).
ROW_COST = {"stations": 2048}
DEFAULT_ROW_COST = 256
_SOURCE_KEYS = ("name", "country", "organisation", "catalogue", "crs", "timezone", "encoding",
                "format", "folder")
_TABLE_KEYS = ("file", "sheet", "delimiter", "datetime_format", "columns", "problems", "encoding")
#: Extra keys of ``[tables.detections]`` (MegaDetector / SpeciesNet JSON).
_DETECTION_KEYS = ("deployment_from_path", "confidence_threshold", "exif_file")
_TABLE_NAMES = ("stations", "records", "clock_shifts", "detections")
#: Built-in source formats: ``format = "..."`` in ``[source]``.
_FORMATS = ("camtrapr", "wildlife-insights", "megadetector", "speciesnet")
_COORD_KEYS = ("x", "y", "longitude", "latitude")
_DETAIL_KEYS = ("timezone", "countryCode", "organisation")
_ALLOWED_COLUMNS: dict[str, frozenset[str]] = {
    "stations": frozenset(TABLES["deployments"].field_names) | frozenset(_COORD_KEYS)
    | frozenset(_DETAIL_KEYS),
    "records": (frozenset(TABLES["observations"].field_names)
                | frozenset(TABLES["media"].field_names)) - {"observationID"},
    "clock_shifts": frozenset({"deploymentID", "timeshift", "sign"}),
    "detections": frozenset({"filePath", "timestamp"}),  # of the optional exif_file
}
_REQUIRED_COLUMNS = {
    "stations": ("deploymentID", "deploymentStart", "deploymentEnd"),
    "records": ("deploymentID",),
    "clock_shifts": ("deploymentID", "timeshift"),
    "detections": (),
}
_DEFAULT_FORMAT = "%Y-%m-%d %H:%M:%S"
_CONTRACT = "docs/formats.md section 1"


@functools.lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


# ==============================================================================================
# The mapping file
# ==============================================================================================
@dataclass(frozen=True)
class SourceInfo:
    """``[source]``: who the data belong to and how coordinates and clocks are written."""

    name: str
    country: str
    organisation: str | None
    catalogue: str | None
    crs: str
    timezone: str
    encoding: str = "utf-8"
    format: str | None = None
    folder: str | None = None  # wildlife-insights: the unzipped download (absolute)


@dataclass(frozen=True)
class TableMapping:
    """One ``[tables.<name>]`` entry: a file and how its columns become Camtrap DP fields."""

    name: str
    file: Path
    columns: Mapping[str, str]
    sheet: str | int | None = None
    delimiter: str = ","
    datetime_format: str = _DEFAULT_FORMAT
    problems: Mapping[str, str] | None = None
    encoding: str = "utf-8"
    options: Mapping[str, Any] = field(default_factory=dict)  # [tables.detections] keys

    @property
    def key(self) -> str:
        return f"tables.{self.name}"


@dataclass(frozen=True)
class ImportMapping:
    """A parsed, checked import mapping (``*.mapping.toml``).

    Build it with :func:`load_mapping`. Attributes follow the TOML sections; paths are
    resolved against the mapping file's folder.
    """

    path: Path
    source: SourceInfo
    tables: Mapping[str, TableMapping]
    species: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The mapping as a plain dict (for the harmonisation manifest)."""
        return {
            "path": str(self.path),
            "source": dict(self.source.__dict__),
            "tables": {k: {"file": str(t.file), "columns": dict(t.columns),
                           "datetime_format": t.datetime_format,
                           **({"problems": dict(t.problems)} if t.problems else {}),
                           **({"options": {ok: ov if isinstance(ov, int | float | str)
                                           else str(ov) for ok, ov in t.options.items()}}
                              if t.options else {}),
                           **({"sheet": t.sheet} if t.sheet is not None else {})}
                       for k, t in self.tables.items()},
            "species": dict(self.species),
            "values": {k: dict(v) for k, v in self.values.items()},
        }


class _Errors:
    def __init__(self, file: Path) -> None:
        self.file = file
        self.items: list[str] = []

    def add(self, key: str, expected: str, got: Any, fix: str) -> None:
        got_s = "nothing" if got is _MISSING else repr(got)
        self.items.append(f"`{key}`: expected {expected}, got {got_s}; {fix}")

    def raise_if_any(self) -> None:
        if self.items:
            lines = "\n".join(f"  - {m}" for m in self.items)
            raise ConfigError(f"{self.file}: invalid import mapping ({_CONTRACT}):\n{lines}")


class _Missing:
    pass


_MISSING: Any = _Missing()


def _text(section: Mapping[str, Any], key: str, prefix: str, errs: _Errors, example: str,
          *, required: bool = False, default: str | None = None) -> str | None:
    value = section.get(key, _MISSING)
    if value is _MISSING:
        if required:
            errs.add(f"{prefix}{key}", "a text value", _MISSING, f'add {key} = "{example}"')
        return default
    if not isinstance(value, str) or not value.strip():
        errs.add(f"{prefix}{key}", "a non-empty text value", value, f'write {key} = "{example}"')
        return default
    return value.strip()


def _unknown_keys(section: Mapping[str, Any], allowed: tuple[str, ...] | frozenset[str],
                  prefix: str, errs: _Errors) -> None:
    for k in section:
        if k not in allowed:
            import difflib

            close = difflib.get_close_matches(str(k), list(allowed), n=1)
            hint = (f"did you mean {close[0]!r}?" if close
                    else f"allowed keys: {', '.join(sorted(allowed))}")
            errs.add(f"{prefix}{k}", "a known key", k, f"remove it or rename it ({hint})")


def load_mapping(path: str | os.PathLike[str], /) -> ImportMapping:
    """Read and check an import mapping TOML file.

    Parameters
    ----------
    path : path_like
        The ``*.mapping.toml`` file. Table paths inside it are relative to its folder.

    Returns
    -------
    ImportMapping

    Raises
    ------
    ConfigError
        Listing every problem: unknown keys (with the closest known key), missing or invalid
        values, unknown time zones or refused coordinate systems, and files that do not exist.
        Each names the mapping file, the key as a dotted path and the fix.

    See Also
    --------
    import_mapping : read the tables the mapping names.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such import mapping file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file}: is not UTF-8 text ({exc}); save it as UTF-8") from None
    if len(text) > _MAX_MAPPING_CHARS:
        raise ConfigError(f"{file}: is {len(text)} characters long; an import mapping is a few "
                          "KB of TOML. Is this the right file?")
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise ConfigError(f"{file}: nests tables or arrays too deeply; an import mapping needs "
                          "two levels ([tables.records] columns = {...})") from None
    except tomllib.TOMLDecodeError as exc:
        try:  # TOML 1.1 style: inline tables over several lines (as in docs/formats.md)
            data = tomllib.loads(_join_inline_tables(text))
        except (tomllib.TOMLDecodeError, RecursionError):
            raise ConfigError(f"{file}: is not valid TOML ({exc}); check quotes and brackets"
                              ) from None
    errs = _Errors(file)
    base = file.resolve().parent
    _unknown_keys(data, ("source", "tables", "species", "values"), "", errs)
    src = data.get("source", {})
    if not isinstance(src, Mapping):
        errs.add("source", "a table", src, "write a [source] section")
        src = {}
    _unknown_keys(src, _SOURCE_KEYS, "source.", errs)
    country = _text(src, "country", "source.", errs, "RU", required=True)
    if country is not None and not re.fullmatch(r"[A-Z]{2}", country):
        errs.add("source.country", "an ISO 3166-1 alpha-2 code in capitals", country,
                 'write e.g. country = "RU" or "CN"')
    catalogue = _text(src, "catalogue", "source.", errs, "RU-LLNP")
    if catalogue is not None and (not re.fullmatch(r"[A-Z]{2}-[A-Za-z0-9_]+", catalogue)
                                  or (country and not catalogue.startswith(country + "-"))):
        errs.add("source.catalogue", f"'{country or 'XX'}-' followed by letters, digits or _",
                 catalogue, f'write e.g. catalogue = "{country or "RU"}-LLNP"')
    fmt_name = _text(src, "format", "source.", errs, "wildlife-insights")
    if fmt_name is not None and fmt_name not in _FORMATS:
        errs.add("source.format", "one of " + ", ".join(_FORMATS), fmt_name,
                 'write format = "wildlife-insights" (or leave it out for tables)')
    is_wi = fmt_name == "wildlife-insights"
    folder = _text(src, "folder", "source.", errs, "wi_download") if is_wi else None
    if folder is not None and _inside(base, folder) is None:
        errs.add("source.folder", "a folder inside the mapping's folder", folder,
                 "put the download beside the mapping and name it relatively")
        folder = None
    crs = _text(src, "crs", "source.", errs, "EPSG:28423", required=not is_wi,
                default="EPSG:4326" if is_wi else None)
    if crs is not None:
        try:
            source_crs(crs)
        except AmurlinkError as exc:
            errs.add("source.crs", "an EPSG code the partners use (or GCJ-02)", crs, str(exc))
    tz = _text(src, "timezone", "source.", errs, "Asia/Vladivostok", required=True)
    if tz is not None and tz not in _zones():
        errs.add("source.timezone", "an IANA time zone name", tz,
                 'write e.g. timezone = "Asia/Vladivostok" or "Asia/Shanghai"')
    encoding = _encoding(_text(src, "encoding", "source.", errs, "utf-8", default="utf-8"),
                         "source.encoding", errs)
    source = SourceInfo(
        name=_text(src, "name", "source.", errs, "LLNP camera traps 2014") or file.stem,
        country=country or "XX", organisation=_text(src, "organisation", "source.", errs, "LLNP"),
        catalogue=catalogue, crs=crs or "", timezone=tz or "UTC", encoding=encoding,
        format=fmt_name, folder=str(base / (folder or ".")) if is_wi else None)
    if not is_wi and "folder" in src:
        errs.add("source.folder", 'format = "wildlife-insights"', src["folder"],
                 "remove folder, or set the format it belongs to")
    if is_wi:
        assert source.folder is not None
        if not Path(source.folder).is_dir():
            errs.add("source.folder", "the folder of the unzipped Wildlife Insights download",
                     str(source.folder), "unzip the download beside the mapping and name it")
        if "tables" in data:
            errs.add("tables", "no [tables] for format = \"wildlife-insights\"", "[tables]",
                     "remove [tables]; the download's files are read as published")

    tables: dict[str, TableMapping] = {}
    raw_tables = data.get("tables", _MISSING)
    if is_wi:
        raw_tables = {}
    elif not isinstance(raw_tables, Mapping):
        errs.add("tables", "[tables.stations] and [tables.records] sections", raw_tables,
                 "add them as the contract shows")
        raw_tables = {}
    _unknown_keys(raw_tables, _TABLE_NAMES, "tables.", errs)
    needed = () if is_wi else ("stations",) if "detections" in raw_tables else (
        "stations", "records")
    if fmt_name in ("megadetector", "speciesnet"):
        needed += ("detections",)
    for name in needed:
        if name not in raw_tables:
            errs.add(f"tables.{name}", "a table section", _MISSING,
                     f"add [tables.{name}] with file and columns")
    for name, spec in raw_tables.items():
        if name not in _TABLE_NAMES:
            continue
        prefix = f"tables.{name}."
        if not isinstance(spec, Mapping):
            errs.add(f"tables.{name}", "a table", spec, f"write [tables.{name}] with file = ...")
            continue
        _unknown_keys(spec, _TABLE_KEYS + (_DETECTION_KEYS if name == "detections" else ()),
                      prefix, errs)
        rel = _text(spec, "file", prefix, errs, f"{name}.csv", required=True)
        options = _detection_options(spec, prefix, base, errs) if name == "detections" else {}
        fpath = _inside(base, rel) if rel else base
        if fpath is None:
            errs.add(f"{prefix}file", "a file inside the mapping's folder", rel,
                     "put the file beside the mapping (or in a folder below it) and give its "
                     "relative path; absolute paths and '..' are refused")
            fpath = base
        elif rel and not fpath.is_file():
            errs.add(f"{prefix}file", "an existing file (relative to the mapping)", rel,
                     f"no file {rel!r} beside the mapping; correct the name or put the file "
                     "there")
        cols = spec.get("columns", {} if name == "detections" else _MISSING)
        if not isinstance(cols, Mapping) or not all(isinstance(v, str) for v in cols.values()):
            errs.add(f"{prefix}columns", "an inline table of field = \"column\"", cols,
                     'write e.g. columns = { deploymentID = "Station", ... }')
            cols = {}
        for k in cols:
            if k not in _ALLOWED_COLUMNS[name]:
                import difflib

                close = difflib.get_close_matches(k, sorted(_ALLOWED_COLUMNS[name]), n=1)
                errs.add(f"{prefix}columns.{k}", "a Camtrap DP field name (or x/y, longitude/"
                         "latitude for stations)", k,
                         f"did you mean {close[0]!r}?" if close else "remove it")
        for k in _REQUIRED_COLUMNS[name]:
            if cols and k not in cols:
                errs.add(f"{prefix}columns.{k}", "a mapped column", _MISSING,
                         f'add {k} = "<column name>" to columns')
        if cols:
            same: dict[str, list[str]] = {}
            for k, v in cols.items():
                same.setdefault(v, []).append(k)
            for column, keys in same.items():
                if len(keys) > 1 and not set(keys) <= _MAY_SHARE_A_COLUMN:
                    errs.add(f"{prefix}columns.{keys[1]}", "a column of its own", column,
                             f"{' and '.join(keys)} name the same column {column!r}; map each "
                             "field to its own column")
        if name == "stations" and cols:
            has_xy = "x" in cols and "y" in cols
            has_ll = "longitude" in cols and "latitude" in cols
            if not (has_xy or has_ll) or (has_xy and has_ll):
                errs.add(f"{prefix}columns", "either x and y, or longitude and latitude",
                         sorted(k for k in cols if k in _COORD_KEYS),
                         "map the two coordinate columns as written in source.crs")
        if name == "records" and cols and "timestamp" not in cols and "eventStart" not in cols:
            errs.add(f"{prefix}columns.timestamp", "a mapped column", _MISSING,
                     'add timestamp = "<date-time column>"')
        problems = spec.get("problems")
        if problems is not None:
            if (not isinstance(problems, Mapping) or set(problems) != {"from", "to"}
                    or not all(isinstance(v, str) and "{n}" in v for v in problems.values())):
                errs.add(f"{prefix}problems", "{ from = \"..{n}..\", to = \"..{n}..\" }", problems,
                         'write problems = { from = "Problem{n}_from", to = "Problem{n}_to" }')
                problems = None
        fmt = _text(spec, "datetime_format", prefix, errs, "%d.%m.%Y", default=_DEFAULT_FORMAT)
        if fmt is not None and not _format_ok(fmt):
            errs.add(f"{prefix}datetime_format", "a strftime format such as %d.%m.%Y %H:%M:%S",
                     fmt, "use only %d %m %Y %H %M %S and the other strftime directives")
            fmt = _DEFAULT_FORMAT
        delim = _text(spec, "delimiter", prefix, errs, ",", default=",")
        sheet = spec.get("sheet")
        tables[name] = TableMapping(
            name=name, file=fpath, columns=MappingProxyType(dict(cols)), sheet=sheet,
            delimiter=delim or ",", datetime_format=fmt or _DEFAULT_FORMAT,
            problems=MappingProxyType(dict(problems)) if problems else None,
            encoding=_encoding(_text(spec, "encoding", prefix, errs, "utf-8", default=encoding),
                               f"{prefix}encoding", errs, default=encoding),
            options=MappingProxyType(options))

    species = data.get("species", {})
    if not isinstance(species, Mapping) or not all(isinstance(v, str) for v in species.values()):
        errs.add("species", "a table of \"local name\" = \"Scientific name\"", species,
                 'write e.g. "Тигр" = "Panthera tigris" under [species]')
        species = {}
    values = data.get("values", {})
    clean_values: dict[str, dict[str, str]] = {}
    if not isinstance(values, Mapping):
        errs.add("values", "tables [values.<field>]", values,
                 'write e.g. [values.sex] "М" = "male"')
        values = {}
    for fld, vmap in values.items():
        if not isinstance(vmap, Mapping) or not all(isinstance(v, str) for v in vmap.values()):
            errs.add(f"values.{fld}", "a table of \"as written\" = \"vocabulary value\"", vmap,
                     'write e.g. [values.sex] "М" = "male"')
            continue
        clean_values[str(fld)] = {str(k): v for k, v in vmap.items()}
    errs.raise_if_any()
    # Files a preset format reads, listed as tables so that the harmonisation manifest hashes
    # them (import_mapping does not read these entries).
    if is_wi and source.folder is not None:
        for name in ("projects", "cameras", "deployments", "images"):
            f = Path(source.folder) / f"{name}.csv"
            if f.is_file():
                tables[f"wi_{name}"] = TableMapping(name=f"wi_{name}", file=f,
                                                    columns=MappingProxyType({}))
    det = tables.get("detections")
    if det is not None and "exif_file" in det.options:
        tables["detections_exif"] = TableMapping(name="detections_exif",
                                                 file=det.options["exif_file"],
                                                 columns=det.columns, delimiter=det.delimiter)
    return ImportMapping(path=file, source=source, tables=MappingProxyType(tables),
                         species=MappingProxyType(dict(species)),
                         values=MappingProxyType(clean_values))


def _detection_options(spec: Mapping[str, Any], prefix: str, base: Path, errs: _Errors
                       ) -> dict[str, Any]:
    """``deployment_from_path``, ``confidence_threshold`` and ``exif_file`` of detections."""
    out: dict[str, Any] = {}
    pat = _text(spec, "deployment_from_path", prefix, errs, "^(?P<deploymentID>[^/]+)/")
    if pat is not None:
        try:
            if "deploymentID" not in re.compile(pat).groupindex:
                errs.add(f"{prefix}deployment_from_path", "a (?P<deploymentID>...) group", pat,
                         'write e.g. deployment_from_path = "^(?P<deploymentID>[^/]+)/"')
        except re.error as exc:
            errs.add(f"{prefix}deployment_from_path", "a regular expression", pat, str(exc))
        out["deployment_from_path"] = pat
    thr = spec.get("confidence_threshold", 0.2)
    if isinstance(thr, bool) or not isinstance(thr, int | float) or not 0 <= thr <= 1:
        errs.add(f"{prefix}confidence_threshold", "a number in [0, 1]", thr,
                 "write e.g. confidence_threshold = 0.2")
        thr = 0.2
    out["confidence_threshold"] = float(thr)
    exif = _text(spec, "exif_file", prefix, errs, "exif.csv")
    if exif is not None:
        where = _inside(base, exif)
        if where is None:
            errs.add(f"{prefix}exif_file", "a CSV inside the mapping's folder", exif,
                     "put the file beside the mapping and give its relative path")
            where = base
        elif not where.is_file():
            errs.add(f"{prefix}exif_file", "an existing CSV (relative to the mapping)", exif,
                     f"no file {exif!r} beside the mapping")
        out["exif_file"] = where
        cols = spec.get("columns")
        if not isinstance(cols, Mapping) or {"filePath", "timestamp"} - set(cols):
            errs.add(f"{prefix}columns", "filePath and timestamp columns of exif_file", cols,
                     'write columns = { filePath = "File", timestamp = "DateTimeOriginal" }')
    return out


#: Longest mapping file read (characters): a mapping is a few KB.
_MAX_MAPPING_CHARS = 1024**2
#: Fields that may read the same source column (an event's start and end from one time).
_MAY_SHARE_A_COLUMN = frozenset({"timestamp", "eventStart", "eventEnd", "deploymentStart",
                                 "deploymentEnd"})


def display_path(file: Path, mapping: Path) -> str:
    """``file`` as the user would name it: relative to the mapping's folder as they gave it."""
    try:
        rel = Path(file).resolve().relative_to(Path(mapping).resolve().parent)
    except (ValueError, OSError):
        return Path(file).name
    return str(Path(mapping).parent / rel)


def _inside(base: Path, rel: str) -> Path | None:
    """``base / rel`` when it stays inside ``base`` (symbolic links resolved), else None."""
    if "\x00" in rel or Path(rel).is_absolute() or rel.startswith("~"):
        return None
    target = (base / rel).resolve()
    return target if target.is_relative_to(base) else None


def _format_ok(fmt: str) -> bool:
    """Whether pandas accepts ``fmt`` as a date-time format (no unknown directive)."""
    try:
        pd.to_datetime(pd.Series(["2014-01-01"]), format=fmt, errors="coerce")
    except (ValueError, TypeError):
        return False
    return True


def _encoding(name: str | None, key: str, errs: _Errors, default: str = "utf-8") -> str:
    """A text encoding Python knows (checked here, not when the file is read)."""
    if name is None:
        return default
    import codecs

    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        errs.add(key, "a text encoding such as utf-8, cp1251 or gb18030", name,
                 'write e.g. encoding = "cp1251"')
        return default
    if not getattr(info, "_is_text_encoding", True):
        errs.add(key, "a text encoding such as utf-8, cp1251 or gb18030", name,
                 'write e.g. encoding = "cp1251"')
        return default
    return name


def _join_inline_tables(text: str) -> str:
    """Join inline tables written over several lines (TOML 1.1) into one line (TOML 1.0)."""
    out: list[str] = []
    depth = 0
    quote: str | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote is not None:
            if ch == "\\" and quote == '"':
                out.append(text[i:i + 2])
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and depth:
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(depth - 1, 0)
        elif ch == "\n" and depth:
            ch = " "
        out.append(ch)
        i += 1
    return "".join(out)


# ==============================================================================================
# Importing
# ==============================================================================================
class _Ctx:
    """Issue helpers for one table of one mapping."""

    def __init__(self, report: ValidationReport, mapping: ImportMapping, table: TableMapping):
        self.report = report
        self.mapping = mapping
        self.table = table
        self.file = display_path(table.file, mapping.path)

    def col(self, key: str) -> str:
        return self.table.columns[key]

    def rows(self, code: str, mask: np.ndarray, *, key: str, what: str, expected: str,
             got: pd.Series | None, fix: str, severity: str = "error") -> None:
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            return
        column = self.table.columns.get(key, key)
        add = self.report.error if severity == "error" else self.report.warning
        for i in idx[:MAX_ROWS_LISTED]:
            g = None if got is None else str(got.iloc[i])
            add(code, f"{self.file} row {i + 2}, column {column!r} ({self.table.key}.columns."
                f"{key}): {what}; expected {expected}" + (f", got {g!r}" if g is not None else "")
                + f". Fix: {fix}", file=self.file, table=self.table.name, row=int(i + 2),
                field=column, expected=expected, got=g, fix=fix)
        if idx.size > MAX_ROWS_LISTED:
            add(code, f"{self.file}, column {column!r}: {idx.size - MAX_ROWS_LISTED} more rows "
                f"with the same problem ({idx.size} in all)", file=self.file,
                table=self.table.name, field=column, expected=expected, fix=fix)


def _read(ctx: _Ctx) -> pd.DataFrame | None:
    t = ctx.table
    try:
        raw = read_text_table(t.file, delimiter=t.delimiter, encoding=t.encoding, sheet=t.sheet,
                              datetime_format=t.datetime_format, display=ctx.file,
                              row_cost=ROW_COST.get(t.name, DEFAULT_ROW_COST))
    except DataError as exc:
        ctx.report.error("unreadable-file", str(exc), file=ctx.file, table=t.name,
                         field=f"{t.key}.file", fix="check the file named in the mapping")
        return None
    missing = [(k, c) for k, c in t.columns.items() if c not in raw.columns]
    for k, c in missing:
        ctx.report.error(
            "missing-column", f"{ctx.mapping.path}: {t.key}.columns.{k} names column {c!r}, "
            f"which {t.file.name} does not have (its columns: {', '.join(raw.columns)})",
            file=str(ctx.mapping.path), table=t.name, row=1, field=f"{t.key}.columns.{k}",
            expected=c, got=", ".join(raw.columns),
            fix=f"set {k} to one of the file's column names")
    if missing:
        return None
    return raw


def _mapped_values(ctx: _Ctx, key: str, col: pd.Series) -> pd.Series:
    vmap = ctx.mapping.values.get(key)
    if not vmap:
        return col
    return col.map(lambda v: vmap.get(v, v))


def _coerce(ctx: _Ctx, key: str, col: pd.Series, table: str) -> pd.Series:
    """Text column to the declared dtype of ``table.key`` with row issues for bad values."""
    f = TABLES[table][key]
    col = _mapped_values(ctx, key, col)
    present = (col != "").to_numpy(bool)
    if f.type in ("number", "integer"):
        num = pd.to_numeric(col.str.replace(",", ".", regex=False).where(present), errors="coerce")
        bad = present & num.isna().to_numpy(bool)
        if f.type == "integer":
            frac = num.notna().to_numpy(bool) & (num.to_numpy(float) % 1 != 0)
            bad |= frac
            num = num.where(~frac)
        ctx.rows("type-error", bad, key=key, what=f"not a {f.type}", expected=f"a {f.type}",
                 got=col, fix=f"write {key} as a plain number")
        out = num.astype(dtype_of(f))
    elif f.type == "boolean":
        low = col.str.lower()
        t = low.isin(["true", "1", "yes", "да", "是"]).to_numpy(bool)
        fl = low.isin(["false", "0", "no", "нет", "否"]).to_numpy(bool)
        bad = present & ~(t | fl)
        ctx.rows("type-error", bad, key=key, what="not a boolean", expected="true or false",
                 got=col, fix=f"write true or false, or map the values under [values.{key}]")
        out = pd.Series(pd.array(np.where(t, True, False), dtype="boolean"))
        out[~(t | fl)] = pd.NA
    else:
        out = col.where(present).astype(dtype_of(f))
        if f.enum is not None:
            bad = present & ~col.isin(f.enum).to_numpy(bool)
            ctx.rows("enum", bad, key=key, what="value not in the vocabulary",
                     expected="one of " + ", ".join(f.enum), got=col,
                     fix=f"map the local values to the vocabulary under [values.{key}]")
            out = out.where(~bad)
    if f.minimum is not None or f.maximum is not None:
        vals = out.astype("float64").to_numpy(na_value=np.nan) if f.type in ("number", "integer") \
            else None
        if vals is not None:
            lo = -np.inf if f.minimum is None else f.minimum
            hi = np.inf if f.maximum is None else f.maximum
            with np.errstate(invalid="ignore"):
                bad = (vals < lo) | (vals > hi)
            ctx.rows("out-of-range", bad, key=key, what="value out of range",
                     expected=f"a value in [{lo}, {hi}]", got=col, fix=f"correct {key}")
    return out.reset_index(drop=True)


def _parse_times(ctx: _Ctx, key: str, col: pd.Series, *, date_only: str = "noon") -> pd.Series:
    fmt = ctx.table.datetime_format
    parsed, bad = parse_local(col, fmt=fmt, date_only=date_only)
    ctx.rows("type-error", bad, key=key, what="date does not match datetime_format",
             expected=f"text in the format {fmt!r}", got=col,
             fix=f"correct the value or set {ctx.table.key}.datetime_format")
    return parsed


@dataclass
class _Stations:
    deployments: pd.DataFrame
    details: pd.DataFrame
    gaps: pd.DataFrame
    local_start: pd.Series  # indexed by deploymentID


def _stations(mapping: ImportMapping, report: ValidationReport) -> _Stations | None:
    t = mapping.tables["stations"]
    ctx = _Ctx(report, mapping, t)
    raw = _read(ctx)
    if raw is None:
        return None
    report.row_counts["stations"] = len(raw)
    n = len(raw)
    c = t.columns
    dep_id = raw[c["deploymentID"]]
    empty = (dep_id == "").to_numpy(bool)
    ctx.rows("required", empty, key="deploymentID", what="station ID missing",
             expected="an ID", got=dep_id, fix="fill in every station's ID")
    dup = dep_id.duplicated(keep="first").to_numpy(bool) & ~empty
    ctx.rows("unique", dup, key="deploymentID", what="station listed twice",
             expected="one row per station (deployment)", got=dep_id,
             fix="give each camera deployment its own ID (e.g. Station__CAM_1)")
    zone = (raw[c["timezone"]].replace("", mapping.source.timezone) if "timezone" in c
            else pd.Series(mapping.source.timezone, index=raw.index))
    zones_ok = zone.isin(_zones()).to_numpy(bool)
    ctx.rows("timezone", ~zones_ok, key="timezone", what="not an IANA time zone",
             expected="e.g. Asia/Vladivostok", got=zone, fix="use an IANA zone name")
    zone = zone.where(zones_ok, "UTC")
    start_l = _parse_times(ctx, "deploymentStart", raw[c["deploymentStart"]])
    end_l = _parse_times(ctx, "deploymentEnd", raw[c["deploymentEnd"]])
    for key, s in (("deploymentStart", start_l), ("deploymentEnd", end_l)):  # noqa: B007
        miss = (raw[c[key]] == "").to_numpy(bool)
        ctx.rows("required", miss, key=key, what="date missing", expected="a date", got=None,
                 fix=f"fill in {key}; a camera that was never set up has no row")
    order = (start_l >= end_l).fillna(False).to_numpy(bool)
    ctx.rows("start-after-end", order, key="deploymentStart",
             what="set-up is not before retrieval", expected="set-up < retrieval",
             got=raw[c["deploymentStart"]] + " / " + raw[c["deploymentEnd"]],
             fix="correct the dates (camtrapR refuses set-up equal to retrieval too)")
    start = local_to_utc(start_l, zones=zone, reference=start_l)
    end = local_to_utc(end_l, zones=zone, reference=start_l)

    # Coordinates
    kx, ky = ("x", "y") if "x" in c else ("longitude", "latitude")
    xs = pd.to_numeric(raw[c[kx]].str.replace(",", ".", regex=False), errors="coerce")
    ys = pd.to_numeric(raw[c[ky]].str.replace(",", ".", regex=False), errors="coerce")
    for key, v in ((kx, xs), (ky, ys)):
        ctx.rows("type-error", v.isna().to_numpy(bool), key=key, what="not a number",
                 expected="a number", got=raw[c[key]], fix="write the coordinate as a number")
    lon = lat = np.full(n, np.nan)
    try:
        lon, lat, info = to_wgs84(xs.to_numpy(float), ys.to_numpy(float), crs=mapping.source.crs)
    except AmurlinkError as exc:
        report.error("crs", f"{mapping.path}: source.crs: {exc}", file=str(mapping.path),
                     field="source.crs", got=mapping.source.crs, fix=str(exc))
        info = {}
    else:
        if info["swapped"]:
            report.warning("coordinates-swapped", f"{t.file}: columns {c[kx]!r}/{c[ky]!r} hold "
                           f"northing/easting, not easting/northing, in {info['crs']}; read "
                           "them swapped (survey convention X = north)", file=ctx.file,
                           field=c[kx], fix=f"map x = {c[ky]!r} and y = {c[kx]!r} to silence this")
        if not info["datum_shift_known"]:
            report.warning("datum-shift-unknown", f"PROJ knows no datum transformation from "
                           f"{info['crs']} to WGS 84 (only '{info['operation']}'); positions may "
                           "be off by up to about 100 m", file=str(mapping.path),
                           field="source.crs", got=mapping.source.crs,
                           fix="supply the coordinates in CGCS2000 (EPSG:4490 / 4552 / 4553) or "
                           "WGS 84, or ask the surveyor for the 7 Helmert parameters")
        badpos = (~np.isfinite(lon) & xs.notna().to_numpy() & ys.notna().to_numpy())
        ctx.rows("coordinates", badpos, key=kx, what=f"cannot be transformed from {info['crs']}",
                 expected="a position inside the CRS's area", got=raw[c[kx]] + ", " + raw[c[ky]],
                 fix="check the coordinates and source.crs")

    dep = empty_frame(TABLES["deployments"]).reindex(range(n))
    dep["deploymentID"] = dep_id.where(~empty).astype(
        dtype_of(TABLES["deployments"]["deploymentID"]))
    dep["locationID"] = dep["deploymentID"]
    dep["latitude"] = lat
    dep["longitude"] = lon
    dep["deploymentStart"] = start
    dep["deploymentEnd"] = end
    for key in c:
        if key in TABLES["deployments"] and key not in (
                "deploymentID", "deploymentStart", "deploymentEnd", "latitude", "longitude"):
            dep[key] = _coerce(ctx, key, raw[c[key]], "deployments")
    details = pd.DataFrame({
        "deploymentID": dep["deploymentID"],
        "countryCode": pd.Series(mapping.source.country, index=dep.index, dtype=dtype_of(
            TABLES["deploymentDetails"]["countryCode"])),
        "organisation": (raw[c["organisation"]].where(raw[c["organisation"]] != "")
                         if "organisation" in c else pd.Series(mapping.source.organisation,
                                                              index=dep.index)).astype("string"),
        "timezone": zone.astype("string"),
    })
    # Rule changes inside a deployment: the camera kept its set-up offset.
    change = spans_rule_change(zone, start, end)
    for i in np.flatnonzero(change.notna().to_numpy(bool))[:MAX_ROWS_LISTED]:
        report.warning(
            "timezone-rule-change", f"{t.file.name} row {i + 2}: deployment {dep_id.iloc[i]!r} "
            f"runs across a rule change of {zone.iloc[i]} at {change.iloc[i]:%Y-%m-%d %H:%M} UTC; "
            "its times are converted with the offset in force at set-up "
            f"({(start_l.iloc[i] - start.iloc[i].tz_localize(None))})", file=ctx.file,
            table="stations", row=int(i + 2), field=c["deploymentStart"],
            fix="nothing, if the camera clock was not reset; otherwise give a clock shift")
    gaps = _gaps(ctx, raw, dep_id, zone, start_l, end_l, start, end)
    keep = ~empty & ~dup
    local_start = pd.Series(start_l.to_numpy(), index=dep_id.to_numpy())[keep]
    return _Stations(dep[keep].reset_index(drop=True), details[keep].reset_index(drop=True),
                     gaps, local_start)


def _gaps(ctx: _Ctx, raw: pd.DataFrame, dep_id: pd.Series, zone: pd.Series,
          start_l: pd.Series, end_l: pd.Series, start: pd.Series, end: pd.Series) -> pd.DataFrame:
    t = ctx.table
    out = empty_frame(TABLES["deploymentGaps"])
    if not t.problems:
        return out
    pats = {k: re.compile("^" + re.escape(v).replace(r"\{n\}", r"(\d+)") + "$")
            for k, v in t.problems.items()}
    found: dict[str, dict[str, str]] = {}
    for col in raw.columns:
        for k, rx in pats.items():
            m = rx.match(col)
            if m:
                found.setdefault(m.group(1), {})[k] = col
    if not found:
        ctx.report.warning("no-problem-columns", f"{t.file.name} has no column matching "
                           f"{t.problems['from']!r}; no deploymentGaps read",
                           file=ctx.file, field=f"{t.key}.problems",
                           fix="correct the pattern or remove `problems`")
    date_only = is_date_only_format(t.datetime_format)
    frames = []
    for n_, cols in sorted(found.items(), key=lambda kv: int(kv[0])):
        if set(cols) != {"from", "to"}:
            ctx.report.error("problem-columns", f"{t.file.name}: Problem{n_} has only a "
                             f"{list(cols)[0]!r} column", file=ctx.file,
                             field=next(iter(cols.values())),
                             fix="give every problem period both a from and a to column")
            continue
        fr, to = raw[cols["from"]], raw[cols["to"]]
        has_f, has_t = (fr != "").to_numpy(bool), (to != "").to_numpy(bool)
        sub = _Ctx(ctx.report, ctx.mapping, TableMapping(
            t.name, t.file, {"gapStart": cols["from"], "gapEnd": cols["to"]},
            datetime_format=t.datetime_format))
        sub.rows("problem-incomplete", has_f ^ has_t, key="gapStart",
                 what="a problem period has only one of its two dates", expected="both dates",
                 got=fr + " / " + to, fix="fill in both dates or neither")
        g0 = _parse_times(sub, "gapStart", fr, date_only="start")
        g1 = _parse_times(sub, "gapEnd", to, date_only="end")
        both = has_f & has_t & g0.notna().to_numpy(bool) & g1.notna().to_numpy(bool)
        # camtrapR compares dates when no time is given: a problem from the set-up day or to
        # the retrieval day is fine, and covers the part of that day the camera stood.
        s_cmp = start_l.dt.normalize() if date_only else start_l
        e_cmp = end_l.dt.normalize() + pd.Timedelta(days=1) if date_only else end_l
        early = both & (g0 < s_cmp).fillna(False).to_numpy(bool)
        late = both & (g1 > e_cmp).fillna(False).to_numpy(bool)
        sub.rows("problem-before-setup", early, key="gapStart", what="Problem begins before "
                 "set-up", expected="a date on or after set-up", got=fr,
                 fix="correct the problem or set-up date")
        sub.rows("problem-after-retrieval", late, key="gapEnd", what="Problem ends after "
                 "retrieval", expected="a date on or before retrieval", got=to,
                 fix="correct the problem or retrieval date")
        inverted = both & (g0 >= g1).fillna(False).to_numpy(bool)
        sub.rows("start-after-end", inverted, key="gapStart", what="problem ends before it begins",
                 expected="from < to", got=fr + " / " + to, fix="swap the dates")
        ok = both & ~early & ~late & ~inverted
        g0 = g0.where(g0 > start_l, start_l)
        g1 = g1.where(g1 < end_l, end_l)
        frames.append(pd.DataFrame({
            "deploymentID": dep_id[ok].to_numpy(),
            "gapStart": local_to_utc(g0[ok], zones=zone[ok], reference=start_l[ok]).to_numpy(),
            "gapEnd": local_to_utc(g1[ok], zones=zone[ok], reference=start_l[ok]).to_numpy(),
        }))
    if not frames:
        return out
    g = pd.concat(frames, ignore_index=True)
    out = empty_frame(TABLES["deploymentGaps"]).reindex(range(len(g)))
    out["deploymentID"] = g["deploymentID"].astype(out["deploymentID"].dtype)
    out["gapStart"] = pd.to_datetime(g["gapStart"], utc=True)
    out["gapEnd"] = pd.to_datetime(g["gapEnd"], utc=True)
    out["gapReason"] = pd.Series("malfunction", index=out.index, dtype=out["gapReason"].dtype)
    return out.sort_values(["deploymentID", "gapStart"], kind="stable").reset_index(drop=True)


def _clock_shifts(mapping: ImportMapping, report: ValidationReport,
                  extra: Mapping[str, Any] | None) -> dict[str, pd.DateOffset]:
    shifts: dict[str, pd.DateOffset] = {}
    t = mapping.tables.get("clock_shifts")
    if t is not None:
        ctx = _Ctx(report, mapping, t)
        raw = _read(ctx)
        if raw is not None:
            sign = (raw[t.columns["sign"]] if "sign" in t.columns
                    else pd.Series("+", index=raw.index))
            for i, (dep, amount, sg) in enumerate(zip(raw[t.columns["deploymentID"]],
                                                       raw[t.columns["timeshift"]], sign,
                                                       strict=True)):
                try:
                    off = parse_clock_shift(amount, sg or "+")
                except ValueError as exc:
                    report.error("clock-shift", f"{t.file.name} row {i + 2}: {exc}",
                                 file=ctx.file, row=i + 2, field=t.columns["timeshift"],
                                 got=amount, fix="write 'Y:m:d H:M:S' and a sign + or -")
                    continue
                if dep in shifts:
                    report.error("clock-shift", f"{t.file.name} row {i + 2}: deployment {dep!r} "
                                 "has a second clock shift", file=ctx.file, row=i + 2,
                                 fix="give one shift per deployment (add them up)")
                shifts[dep] = off
    for dep, off in (extra or {}).items():
        shifts[str(dep)] = off if isinstance(off, pd.DateOffset) else pd.DateOffset(
            seconds=pd.Timedelta(off).total_seconds())
    return shifts


def _id_prefix(mapping: ImportMapping) -> str:
    if mapping.source.catalogue:
        return mapping.source.catalogue
    org = re.sub(r"[^A-Za-z0-9_]+", "_", mapping.source.organisation or "src")
    return f"{mapping.source.country}-{org}"


def _missing_frame(schema: Any, n: int) -> pd.DataFrame:
    """``n`` rows of missing values in every declared column. The text columns share one
    Arrow array of nulls (Arrow is immutable; a column set later replaces it): reindexing
    an empty frame allocated offsets for each, about 220 bytes a row for observations."""
    import pyarrow as pa

    index = pd.RangeIndex(n)
    nulls = pd.arrays.ArrowStringArray(pa.nulls(n, pa.large_string()))
    out = pd.DataFrame(index=index)
    for f in schema.fields:  # one column at a time: no consolidated copy of them all
        dt = dtype_of(f)
        if dt == _STRING:
            out[f.name] = pd.Series(nulls, index=index, dtype=_STRING, copy=False)
        elif dt == "float64":
            out[f.name] = np.full(n, np.nan)
        else:
            out[f.name] = pd.Series([], dtype=dt).reindex(index)
    return out


def _numbered_ids(prefix: str, rows: np.ndarray) -> pd.Series:
    """``prefix`` + each row number as Arrow text, built in Arrow: a list of millions of
    Python strings (the f-string way) took about 200 bytes a row at peak."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = pc.binary_join_element_wise(prefix, pa.array(rows).cast(pa.string()), "")
    return pd.Series(pd.arrays.ArrowStringArray(ids), dtype=_STRING)


def _records(mapping: ImportMapping, report: ValidationReport, st: _Stations,
             shifts: dict[str, pd.DateOffset], now: Any
             ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None:
    t = mapping.tables["records"]
    ctx = _Ctx(report, mapping, t)
    raw = _read(ctx)
    if raw is None:
        return None
    report.row_counts["records"] = len(raw)
    c = t.columns
    n = len(raw)
    rows = np.arange(n) + 2
    dep_id = raw[c["deploymentID"]]
    known = dep_id.isin(st.deployments["deploymentID"].astype(object)).to_numpy(bool)
    ctx.rows("foreign-key", ~known, key="deploymentID", what="station not in the station table",
             expected="a station listed in " + mapping.tables["stations"].file.name, got=dep_id,
             fix="add the station to the station table or correct the ID")
    tkey = "timestamp" if "timestamp" in c else "eventStart"
    local = _parse_times(ctx, tkey, raw[c[tkey]])
    miss = (raw[c[tkey]] == "").to_numpy(bool)
    ctx.rows("required", miss, key=tkey, what="date-time missing", expected="a date-time",
             got=None, fix="fill in the record's date and time")
    local, shifted = apply_clock_shifts(local, dep_id, shifts)
    if shifted.any():
        report.warning("clock-shift-applied", f"camera clock corrections applied to "
                       f"{int(shifted.sum())} records of {len(shifts)} deployment(s)",
                       file=ctx.file, table="records", field=c[tkey])
    details = st.details.set_index(st.details["deploymentID"].astype(object))
    zone = dep_id.map(details["timezone"].astype(object))
    ref = dep_id.map(st.local_start)
    utc = local_to_utc(local, zones=zone, reference=ref)
    deps = st.deployments.set_index(st.deployments["deploymentID"].astype(object))
    flags = implausible_times(utc, dep_id.map(deps["deploymentStart"]).reset_index(drop=True),
                              dep_id.map(deps["deploymentEnd"]).reset_index(drop=True), now=now)
    for code, col, what in (("timestamp-before-deployment", "beforeDeployment", "before set-up"),
                            ("timestamp-after-deployment", "afterDeployment", "after retrieval"),
                            ("timestamp-in-future", "future", "in the future")):
        ctx.rows(code, flags[col].to_numpy(bool) & known, key=tkey,
                 what=f"record lies {what} (kept as recorded)", expected="a time inside the "
                 "deployment", got=raw[c[tkey]], severity="warning",
                 fix="check the camera clock; a clock-shift table corrects it")

    # Species
    obs_t = TABLES["observations"]
    if "scientificName" in c:
        names = raw[c["scientificName"]]
        res = resolve_species(names.where(names != ""), extra=mapping.species)
        for name, count in res.unknown.items():
            first = int(np.flatnonzero((names == name).to_numpy(bool))[0]) + 2
            report.error("unknown-species", f"{t.file.name}: species name {name!r} ({count} "
                         f"records, first: row {first}) is neither in [species] of the mapping "
                         "nor in amurlink's species table", file=ctx.file, table="records",
                         row=first, field=c["scientificName"], got=name,
                         fix=f'add "{name}" = "<Scientific name>" under [species] in '
                         f"{mapping.path.name}")
        for name, target in res.not_in_table.items():
            report.warning("species-not-in-table", f"[species] maps {name!r} to {target!r}, "
                           "which amurlink's species table does not list; kept as given",
                           file=str(mapping.path), field=f"species.{name}", got=target,
                           fix="check the spelling of the scientific name")
        sci, otype = res.scientific_name, res.observation_type.fillna("unclassified")
        tags = ("sourceName:" + names.str.replace("|", "/", regex=False)).where(names != "")
    else:
        sci = pd.Series(pd.NA, index=range(n), dtype="string")
        otype = pd.Series("unclassified", index=range(n), dtype="string")
        tags = pd.Series(pd.NA, index=range(n), dtype="string")

    prefix = _id_prefix(mapping)
    obs = _missing_frame(obs_t, n)
    obs["observationID"] = _numbered_ids(f"{prefix}:o", rows)
    obs["deploymentID"] = dep_id.astype(_STRING)
    obs["eventStart"] = utc
    obs["eventEnd"] = utc
    obs["observationType"] = otype.astype("string")
    obs["scientificName"] = sci.where(otype == "animal").astype("string") \
        if "scientificName" in c else sci
    obs.loc[otype == "human", "scientificName"] = "Homo sapiens"
    obs["observationTags"] = tags.astype("string")
    has_media = "filePath" in c
    obs["observationLevel"] = pd.Series("media" if has_media else "event", index=obs.index,
                                        dtype="string")
    for key in c:
        if key in obs_t and key not in ("deploymentID", "eventStart", "eventEnd",
                                        "scientificName", "individualID"):
            obs[key] = _coerce(ctx, key, raw[c[key]], "observations")
    if "eventEnd" in c:
        end_l, _ = parse_local(raw[c["eventEnd"]], fmt=t.datetime_format)
        end_l, _ = apply_clock_shifts(end_l, dep_id, shifts)
        obs["eventEnd"] = local_to_utc(end_l, zones=zone, reference=ref).fillna(utc)
    if "count" not in c:
        obs["count"] = pd.array(np.where(otype == "animal", 1, pd.NA), dtype="Int64")
    # Individuals: namespaced by catalogue
    ind = empty_frame(TABLES["individuals"])
    if "individualID" in c:
        raw_id = _mapped_values(ctx, "individualID", raw[c["individualID"]])
        present = (raw_id != "").to_numpy(bool)
        cat = mapping.source.catalogue
        if present.any() and cat is None:
            report.error("catalogue-missing", f"{mapping.path}: records carry individual IDs but "
                         "[source] has no catalogue to namespace them", file=str(mapping.path),
                         field="source.catalogue", fix=f'add catalogue = "{mapping.source.country}'
                         '-PARK" to [source]')
            cat = f"{mapping.source.country}-UNKNOWN"
        spaced = raw_id.str.match(INDIVIDUAL_ID_PATTERN).to_numpy(bool)
        ids = raw_id.where(spaced, f"{cat}:" + raw_id).where(present)
        obs["individualID"] = ids.astype("string")
        ind = _individuals_from_records(obs, report, ctx)
    media = empty_frame(TABLES["media"])
    if has_media:
        media, mids = _media(ctx, raw, obs, prefix, rows)
        obs["mediaID"] = mids
    return obs, media, ind


def _media(ctx: _Ctx, raw: pd.DataFrame, obs: pd.DataFrame, prefix: str, rows: np.ndarray
           ) -> tuple[pd.DataFrame, pd.Series]:
    path = raw[ctx.col("filePath")].str.replace("\\", "/", regex=False)
    present = (path != "").to_numpy(bool)
    mids = _numbered_ids(f"{prefix}:m", rows).where(present)
    m_t = TABLES["media"]
    m = _missing_frame(m_t, int(present.sum()))
    sel = np.flatnonzero(present)
    p = path.iloc[sel].reset_index(drop=True)
    m["mediaID"] = mids.iloc[sel].reset_index(drop=True)
    m["deploymentID"] = obs["deploymentID"].iloc[sel].reset_index(drop=True)
    m["captureMethod"] = pd.Series("activityDetection", index=m.index, dtype="string")
    m["timestamp"] = obs["eventStart"].iloc[sel].reset_index(drop=True)
    m["filePath"] = p.astype("string")
    m["filePublic"] = pd.array([False] * len(m), dtype="boolean")
    m["fileName"] = p.str.rsplit("/", n=1).str[-1].astype("string")
    ext = p.str.rsplit(".", n=1).str[-1].str.lower()
    m["fileMediatype"] = ext.map(lambda e: mimetypes.types_map.get(f".{e}", "image/jpeg")
                                 ).astype("string")
    for key in ctx.table.columns:
        if key in m_t and key not in ("filePath", "deploymentID", "timestamp", "mediaID"):
            m[key] = _coerce(ctx, key, raw[ctx.col(key)].iloc[sel].reset_index(drop=True), "media")
    bad = ~(m["filePath"].str.match(r"^[^./~]").fillna(False).to_numpy(bool)
            & ~m["filePath"].str.contains("..", regex=False).fillna(True).to_numpy(bool))
    full = np.zeros(len(raw), bool)
    full[sel[bad]] = True
    ctx.rows("pattern", full, key="filePath", what="file path is absolute or leaves its folder",
             expected="a relative path without '..' (Camtrap DP)", got=path,
             fix="write paths relative to the media folder")
    return m, mids


def _individuals_from_records(obs: pd.DataFrame, report: ValidationReport, ctx: _Ctx
                              ) -> pd.DataFrame:
    """One row per individual seen in the records (no national catalogue table given)."""
    return individuals_from_observations(obs, report=report, file=ctx.file)


def individuals_from_observations(obs: pd.DataFrame, *, report: ValidationReport | None = None,
                                  file: str | None = None) -> pd.DataFrame:
    """Build an ``individuals`` table from namespaced ``individualID`` values of records.

    ``scientificName`` is the one species the individual is recorded as (two species for one
    ID is an error in ``report``); ``sex`` is kept where all records agree; ``lifeStage`` is the
    latest recorded; ``firstRecorded`` the earliest ``eventStart``.
    """
    # only the five columns needed: selecting whole rows of a large table is slow
    cols = ["individualID", "scientificName", "sex", "lifeStage", "eventStart"]
    rows = np.flatnonzero(obs["individualID"].notna().to_numpy(bool))
    out = empty_frame(TABLES["individuals"])
    if not rows.size:
        return out
    # the identified rows in time order (stable), selected in one take
    rows = rows[np.argsort(obs["eventStart"].array.asi8[rows], kind="stable")]
    known = obs[cols].take(rows)
    # group codes in sorted ID order; then "first present value per group" in time order
    g, uniq = pd.factorize(known["individualID"], sort=True)
    g = np.asarray(g, np.int64)
    k = len(uniq)
    sp, sp_names = pd.factorize(known["scientificName"], use_na_sentinel=True)
    sp = np.asarray(sp, np.int64)
    species_n = _distinct_per_group(g, sp, k)
    for i in np.flatnonzero(species_n > 1):
        if report is not None:
            ind_id = uniq[i]
            names = sorted(str(sp_names[c]) for c in np.unique(sp[(g == i) & (sp >= 0)]))
            report.error("individual-species", f"individual {ind_id} is recorded as "
                         f"{' and '.join(names)}; one individual is one species", file=file,
                         table="observations", field="individualID", got=ind_id,
                         fix="correct the species or the individual ID of the wrong records")
    sex, sex_names = pd.factorize(known["sex"], use_na_sentinel=True)
    sex = np.asarray(sex, np.int64)
    life, life_names = pd.factorize(known["lifeStage"], use_na_sentinel=True)
    life = np.asarray(life, np.int64)
    t = np.asarray(known["eventStart"].array.asi8, np.int64)
    nat = np.iinfo(np.int64).min

    def pick(names: Any, codes: np.ndarray, where: np.ndarray) -> pd.Series:
        """``names[codes[where]]`` as text, NA where ``where`` is -1."""
        vals = np.append(np.asarray(names, dtype=object), None)
        return pd.Series(vals[np.where(where >= 0, codes[np.maximum(where, 0)], -1)],
                         dtype=object).astype("string")

    first_t = _first_in_group(g, t != nat, k)  # rows are in time order: first = earliest
    out = _missing_frame(TABLES["individuals"], k)
    out["individualID"] = pd.Series(np.asarray(uniq, dtype=object), dtype=object).astype(_STRING)
    # the part before the first ':', in Arrow (a split made a Python list per individual)
    out["catalogue"] = out["individualID"].str.replace(r":.*", "", regex=True)
    out["scientificName"] = pick(sp_names, sp, _first_in_group(g, sp >= 0, k))
    sex_first = pick(sex_names, sex, _first_in_group(g, sex >= 0, k))
    out["sex"] = sex_first.where(_distinct_per_group(g, sex, k) <= 1)
    out["lifeStage"] = pick(life_names, life, _last_in_group(g, life >= 0, k))
    out["firstRecorded"] = pd.to_datetime(
        np.where(first_t >= 0, t[np.maximum(first_t, 0)], nat).view("M8[ns]"), utc=True)
    return out


def _first_in_group(g: np.ndarray, ok: np.ndarray, k: int) -> np.ndarray:
    """Row of the first ``ok`` row of each of the ``k`` groups ``g`` (-1 where none)."""
    rows = np.flatnonzero(ok)
    out = np.full(k, -1, np.int64)
    if rows.size:
        u, first = np.unique(g[rows], return_index=True)
        out[u] = rows[first]
    return out


def _last_in_group(g: np.ndarray, ok: np.ndarray, k: int) -> np.ndarray:
    """Row of the last ``ok`` row of each group (-1 where none)."""
    n = len(g)
    rev = _first_in_group(g[::-1], ok[::-1], k)
    return np.where(rev >= 0, n - 1 - rev, -1)


def _distinct_per_group(g: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """Number of distinct present codes (>= 0) in each of the ``k`` groups."""
    ok = codes >= 0
    pairs = np.unique(g[ok] * (int(codes.max(initial=0)) + 1) + codes[ok])
    return np.bincount(pairs // (int(codes.max(initial=0)) + 1), minlength=k)


def import_mapping(
    mapping: ImportMapping | str | os.PathLike[str], /, *, clock_shifts: Mapping[str, Any] | None
    = None, now: Any = None,
) -> tuple[Dataset | None, ValidationReport]:
    """Read a national source through its import mapping into a Camtrap DP :class:`Dataset`.

    Parameters
    ----------
    mapping : ImportMapping or path_like
        The mapping, or its TOML file.
    clock_shifts : mapping of str to offset, optional
        Camera clock corrections by ``deploymentID`` (``pd.DateOffset``, ``Timedelta`` or
        anything ``pd.Timedelta`` reads), added to the records' camera times before conversion;
        in addition to a ``[tables.clock_shifts]`` table in the mapping.
    now : datetime-like, optional
        The present, for flagging records in the future (tz-aware); default the clock.

    Returns
    -------
    dataset : Dataset or None
        ``None`` when a table could not be read at all. Times are UTC: each record's camera
        time minus the UTC offset its deployment's zone had at set-up. Coordinates are WGS84.
    report : ValidationReport
        Everything found; errors name the file, row, column, mapping key, expected, got and
        the fix. Records outside their deployment or in the future are warnings (kept).

    Notes
    -----
    camtrapR semantics: date-only set-up and retrieval dates mean 12:00 local time; a
    ``ProblemN_from`` date starts at 00:00 and a ``ProblemN_to`` date ends at 24:00, clipped
    to the deployment, and becomes a ``deploymentGaps`` row (set up but not working), whereas
    days outside set-up and retrieval are not in any deployment (not set up).

    See Also
    --------
    load_mapping, read_mapped, amurlink.harmonise.harmonise
    """
    if not isinstance(mapping, ImportMapping):
        try:
            mapping = load_mapping(mapping)
        except ConfigError as exc:
            report = ValidationReport(source=str(mapping))
            report.error("mapping", str(exc), file=str(mapping),
                         fix="correct the mapping as listed (see docs/formats.md section 1)")
            return None, report
    report = ValidationReport(source=str(mapping.path))
    if mapping.source.format == "wildlife-insights":
        return _import_wildlife_insights(mapping, report, now)
    st = _stations(mapping, report)
    if st is None:
        return None, report
    shifts = _clock_shifts(mapping, report, clock_shifts)
    unknown_shift = sorted(set(shifts) - set(st.deployments["deploymentID"].astype(object)))
    for dep in unknown_shift:
        report.error("clock-shift", f"clock shift given for unknown deployment {dep!r}",
                     file=str(mapping.path), field="clock_shifts",
                     fix="use a station ID from the station table")
    if "records" in mapping.tables:
        rec = _records(mapping, report, st, shifts, now)
        if rec is None:
            return None, report
        obs, media, ind = rec
    else:
        obs, media = empty_frame(TABLES["observations"]), empty_frame(TABLES["media"])
        ind = empty_frame(TABLES["individuals"])
    if "detections" in mapping.tables:
        det = _detections(mapping, report, st, now)
        if det is None or not report.valid:  # never half-imported
            return None, report
        from amurlink.io._readers.megadetector import stack_tables

        obs, media = stack_tables(obs, det[0]), stack_tables(media, det[1])
    tables = {"deployments": st.deployments, "media": media, "observations": obs,
              "deploymentDetails": st.details, "deploymentGaps": st.gaps}
    if len(ind):
        tables["individuals"] = ind
    for name in ("deployments", "media", "observations"):
        report.row_counts[name] = len(tables[name])
    metadata = {"title": mapping.source.name,
                "amurlink:source": {"mapping": str(mapping.path), "country": mapping.source.country,
                                    "organisation": mapping.source.organisation,
                                    "catalogue": mapping.source.catalogue,
                                    "crs": mapping.source.crs,
                                    "timezone": mapping.source.timezone}}
    # the frames were built here and nothing else holds them: no copy (a copy of a large
    # observations table doubled the import's peak memory)
    return Dataset(tables, metadata=metadata, copy=False), report


def _import_wildlife_insights(mapping: ImportMapping, report: ValidationReport, now: Any
                              ) -> tuple[Dataset | None, ValidationReport]:
    from amurlink.io._readers.wildlife_insights import import_wildlife_insights

    src = mapping.source
    assert src.folder is not None
    ds, report = import_wildlife_insights(
        src.folder, country=src.country, timezone=src.timezone, organisation=src.organisation,
        catalogue=src.catalogue, species=mapping.species, now=now, report=report)
    if ds is None:
        return None, report
    meta = dict(ds.metadata)
    meta["title"] = src.name
    meta["amurlink:source"] = {**meta.get("amurlink:source", {}), "mapping": str(mapping.path)}
    return ds.replace(metadata=meta), report


def _detections(mapping: ImportMapping, report: ValidationReport, st: _Stations, now: Any
                ) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    from amurlink.io._readers.megadetector import (
        DEFAULT_DEPLOYMENT_FROM_PATH,
        detections_to_tables,
    )

    t = mapping.tables["detections"]
    opts = dict(t.options)
    exif = None
    if "exif_file" in opts:
        sub = TableMapping("detections", opts["exif_file"], t.columns, delimiter=t.delimiter,
                           encoding=t.encoding)
        raw = _read(_Ctx(report, mapping, sub))
        if raw is None:
            return None
        fp = raw[t.columns["filePath"]].str.replace("\\", "/", regex=False)
        exif = dict(zip(fp, raw[t.columns["timestamp"]], strict=True))
    zones = dict(zip(st.details["deploymentID"].astype(str), st.details["timezone"].astype(str),
                     strict=True))
    return detections_to_tables(
        t.file, deployments=st.deployments, zones=zones, report=report,
        id_prefix=_id_prefix(mapping),
        deployment_from_path=opts.get("deployment_from_path", DEFAULT_DEPLOYMENT_FROM_PATH),
        confidence_threshold=opts.get("confidence_threshold", 0.2),
        datetime_format=t.datetime_format if t.datetime_format != _DEFAULT_FORMAT else None,
        exif_times=exif, species=mapping.species, now=now)


def read_mapped(
    mapping: ImportMapping | str | os.PathLike[str], /, *, strict: bool = True,
    clock_shifts: Mapping[str, Any] | None = None, now: Any = None,
) -> Dataset:
    """Like :func:`import_mapping`, but raise on errors.

    Raises
    ------
    SchemaError
        If the report holds errors (``strict``) or nothing could be read; ``exc.report`` holds
        the report.
    """
    ds, report = import_mapping(mapping, clock_shifts=clock_shifts, now=now)
    if strict or ds is None:
        report.raise_for_errors()
    assert ds is not None
    return ds
