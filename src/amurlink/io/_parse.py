"""Vectorised parsing and checking of one CSV table against its declared schema."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from amurlink.io.validation import Issue
from amurlink.schema import _MEDIA_PATH_PATTERN, MISSING_VALUES, Field, TableSchema

#: At most this many individual issues per (table, field, code); the rest are summarised.
MAX_ISSUES_PER_KIND = 100

_DATETIME_RE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:?\d{2})$"
_TRUE = ("true", "True", "TRUE", "1")
_FALSE = ("false", "False", "FALSE", "0")
_STRING = pd.StringDtype("pyarrow")

_FIX = {
    "number": "write a plain decimal number with a '.' separator, e.g. 43.12",
    "integer": "write a whole number without decimals, e.g. 187",
    "boolean": "write true or false",
    "datetime": "write ISO 8601 with seconds and an offset, e.g. 2024-03-01T22:00:00+08:00",
}


def empty_frame(schema: TableSchema) -> pd.DataFrame:
    """An empty frame with every declared column in its amurlink dtype."""
    return pd.DataFrame({f.name: pd.Series([], dtype=dtype_of(f)) for f in schema.fields})


def dtype_of(f: Field) -> object:
    return {
        "number": "float64",
        "integer": "Int64",
        "boolean": "boolean",
        "datetime": pd.DatetimeTZDtype("ns", "UTC"),
    }.get(f.type, _STRING)


@dataclass
class ParsedTable:
    frame: pd.DataFrame | None
    issues: list[Issue]


def _shorten(value: object, n: int = 60) -> str:
    s = str(value)
    return s if len(s) <= n else s[: n - 3] + "..."


def _locate_csv_error(data: bytes) -> tuple[int | None, str]:
    """Row number and reason of a CSV syntax error found by Python's strict reader."""
    text = data.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    row = 0
    try:
        for row, _ in enumerate(reader, start=1):
            pass
    except csv.Error as exc:
        return row + 1, str(exc)
    return None, ""


def isin(col: pd.Series, values: object) -> np.ndarray:
    """Boolean mask of ``col`` values found in ``values`` (vectorised in Arrow; NA is False)."""
    if isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow":
        arr = pa.chunked_array(col.array._pa_array)  # type: ignore[attr-defined]
        if isinstance(values, pd.Series):
            vs = pa.array(values.dropna().astype(object).to_numpy(), type=pa.string())
        else:
            vs = pa.array(list(values), type=pa.string())
        out = pc.is_in(arr, value_set=vs, skip_nulls=True)
        return out.fill_null(False).to_numpy(zero_copy_only=False).astype(bool)
    return col.isin(values).fillna(False).to_numpy(bool)


def _media_path_ok(col: pd.Series) -> np.ndarray:
    """RE2 form of the official ``media.filePath`` pattern ``^(?=^[^./~])(^((?!\\.{2}).)*$).*$``:
    no leading '.', '/' or '~', no '..' anywhere, no line break."""
    starts = col.str.match(r"^[^./~\n]").fillna(False).to_numpy(bool)
    dots = col.str.contains("..", regex=False).fillna(True).to_numpy(bool)
    breaks = col.str.contains("\n", regex=False).fillna(True).to_numpy(bool)
    return starts & ~dots & ~breaks


_RE2_EQUIVALENTS = {_MEDIA_PATH_PATTERN: _media_path_ok}


def _fullmatch(col: pd.Series, pattern: str) -> np.ndarray:
    """Full-match mask; falls back to Python's ``re`` where RE2 lacks a feature (lookahead)."""
    if pattern in _RE2_EQUIVALENTS:
        return _RE2_EQUIVALENTS[pattern](col)
    try:
        return col.str.fullmatch(pattern).fillna(False).to_numpy(bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        rx = re.compile(pattern)
        return np.fromiter((isinstance(v, str) and rx.fullmatch(v) is not None
                            for v in col.astype(object)), dtype=bool, count=len(col))


class TableParser:
    """Parse CSV bytes of one resource into a typed frame plus a list of issues."""

    def __init__(self, schema: TableSchema, file: str) -> None:
        self.schema = schema
        self.file = file
        self.issues: list[Issue] = []

    # -- issue helpers -----------------------------------------------------------------------
    def _issue(self, code: str, message: str, severity: str = "error", **kw: object) -> None:
        self.issues.append(Issue(code, severity, message, file=self.file,  # type: ignore[arg-type]
                                 table=self.schema.name, **kw))  # type: ignore[arg-type]

    def _row_issues(
        self, code: str, mask: np.ndarray, col: pd.Series, f: Field, expected: str, fix: str,
        what: str,
    ) -> None:
        """One issue per offending row (capped), plus a summary when capped."""
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            return
        for i in idx[:MAX_ISSUES_PER_KIND]:
            got = col.iloc[i]
            self._issue(
                code,
                f"{self.schema.name}.{f.name} in row {i + 2}: {what}; expected {expected}, got "
                f"{_shorten(got)!r}. Fix: {fix}",
                row=int(i + 2), field=f.name, expected=expected, got=_shorten(got), fix=fix,
            )
        if idx.size > MAX_ISSUES_PER_KIND:
            self._issue(
                code,
                f"{self.schema.name}.{f.name}: {idx.size - MAX_ISSUES_PER_KIND} more rows with "
                f"the same problem ({idx.size} in all; first: row {idx[0] + 2})",
                field=f.name, expected=expected, fix=fix,
            )

    # -- reading -------------------------------------------------------------------------------
    def read(self, data: bytes) -> ParsedTable:
        name = self.schema.name
        if not data.strip():
            self._issue("empty-file", f"{self.file} is empty; it needs at least the header row "
                        f"({', '.join(self.schema.required_fields)})",
                        fix="write the header row, even when the table has no data rows")
            return ParsedTable(None, self.issues)
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            header_line = data.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
        except UnicodeDecodeError:
            self._issue("bad-encoding", f"{self.file}: the header row is not UTF-8 text",
                        row=1, fix="save the file as UTF-8 CSV")
            return ParsedTable(None, self.issues)
        header = next(csv.reader([header_line]), [])
        if not any(h.strip() for h in header):
            self._issue("bad-csv", f"{self.file}: the first line is empty; it must be the header "
                        "row", row=1, fix="remove the blank line(s) above the header")
            return ParsedTable(None, self.issues)
        if data.count(b'"') % 2:
            row, why = _locate_csv_error(data)
            self._issue("bad-csv", f"{self.file}: unbalanced double quote"
                        + (f" starting near row {row} ({why})" if row else ""),
                        row=row, fix="close every quoted value with a double quote and double "
                        "any quote inside a value (\"\")")
            return ParsedTable(None, self.issues)
        dupes = sorted({h for h in header if header.count(h) > 1})
        if dupes:
            self._issue("duplicate-header", f"{self.file}: column(s) {dupes} appear more than once "
                        "in the header", row=1, fix="keep one column per field")
            return ParsedTable(None, self.issues)
        try:
            table = pacsv.read_csv(
                io.BytesIO(data),
                read_options=pacsv.ReadOptions(use_threads=True, block_size=1 << 24),
                parse_options=pacsv.ParseOptions(newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(
                    column_types={h: pa.string() for h in header},
                    strings_can_be_null=False, quoted_strings_can_be_null=False,
                ),
            )
        except pa.ArrowInvalid as exc:
            msg = str(exc)
            if "UTF8" in msg:
                self._issue("bad-encoding", f"{self.file}: a value is not valid UTF-8 ({msg})",
                            fix="save the file as UTF-8 CSV")
            else:
                row, why = _locate_csv_error(data)
                m = re.search(r"Expected (\d+) columns, got (\d+)", msg)
                detail = (f"a row has {m.group(2)} values where the header has {m.group(1)}"
                          if m else msg)
                self._issue("bad-csv", f"{self.file}: {detail}"
                            + (f" (row {row}: {why})" if row and why else ""),
                            row=row, fix="give every row as many values as the header has "
                            "columns; quote values that contain commas or line breaks")
            return ParsedTable(None, self.issues)

        table = table.cast(pa.schema([(n, pa.string()) for n in table.column_names]))
        raw = table.to_pandas(types_mapper={pa.string(): _STRING}.get)
        if "" in raw.columns:
            raw = raw.drop(columns=[""])
        self._check_header(list(raw.columns))
        if any(i.severity == "error" and i.code == "missing-field" for i in self.issues):
            return ParsedTable(None, self.issues)
        frame = self._convert(raw)
        self._check_unique(frame)
        return ParsedTable(frame, self.issues)

    def _check_header(self, header: list[str]) -> None:
        s = self.schema
        declared = list(s.field_names)
        extra = [h for h in header if h not in s]
        for h in extra:
            what = ("the official Camtrap DP schemas reject extra columns; move it to an "
                    "amurlink extension table or to observationTags/deploymentTags"
                    if s.standard else "it is not declared for this amurlink table")
            self._issue("extra-field", f"{self.file}: unknown column {h!r}; {what}", row=1,
                        field=h, expected=", ".join(declared), got=h,
                        fix=f"remove or rename column {h!r}")
        for f in s.fields:
            if f.name not in header:
                if f.required:
                    self._issue("missing-field",
                                f"{self.file}: required column {f.name!r} is missing",
                                row=1, field=f.name, expected=f.name,
                                fix=f"add a {f.name!r} column")
                else:
                    self._issue("missing-optional-field",
                                f"{self.file}: optional column {f.name!r} is absent; read as empty",
                                "warning", row=1, field=f.name,
                                fix=f"add an empty {f.name!r} column to match the official schema")
        present = [h for h in header if h in s]
        if present != [n for n in declared if n in present]:
            self._issue("field-order", f"{self.file}: columns are not in the schema's order; "
                        "read by name (amurlink writes them in order)", "warning", row=1,
                        expected=", ".join(declared), got=", ".join(header),
                        fix="reorder the columns as the schema declares them")

    def _convert(self, raw: pd.DataFrame) -> pd.DataFrame:
        out: dict[str, pd.Series] = {}
        n = len(raw)
        for f in self.schema.fields:
            if f.name not in raw.columns:
                out[f.name] = pd.Series(pd.array([None] * n, dtype=dtype_of(f)))  # type: ignore[call-overload]
                continue
            col = raw[f.name]
            missing = isin(col, MISSING_VALUES)
            typed, bad = self._typed(f, col, missing)
            self._row_issues("type-error", bad, col, f, f.type, _FIX.get(f.type, ""),
                             f"not a valid {f.type}")
            present = ~missing & ~bad
            if f.required:
                self._row_issues("required", missing, col, f, "a value", f"fill in {f.name}",
                                 "required value missing")
            self._check_constraints(f, col, typed, present)
            out[f.name] = typed
        return pd.DataFrame(out, index=pd.RangeIndex(n))

    def _typed(self, f: Field, col: pd.Series, missing: np.ndarray) -> tuple[pd.Series, np.ndarray]:
        """Typed series with missing (and unparsable) values as NA, and the unparsable mask."""
        if f.type in ("string", "any"):
            return col.mask(missing).astype(_STRING).reset_index(drop=True), np.zeros(len(col), bool)
        if f.type in ("number", "integer"):
            num = pd.to_numeric(col.mask(missing), errors="coerce")
            num = num.astype("float64")
            bad = num.isna().to_numpy() & ~missing
            if f.type == "number":
                return num.reset_index(drop=True), bad
            with np.errstate(invalid="ignore"):
                frac = (num.notna() & ((num != np.floor(num)) | (num.abs() >= 2.0**63))).to_numpy()
            bad = bad | frac
            ints = num.mask(frac).astype("Int64")
            return ints.reset_index(drop=True), bad
        if f.type == "boolean":
            t = isin(col, _TRUE)
            fl = isin(col, _FALSE)
            bad = ~(t | fl | missing)
            vals = pd.array(np.where(t, True, False), dtype="boolean")
            vals[~(t | fl)] = pd.NA
            return pd.Series(vals), bad
        if f.type == "datetime":
            shape_ok = col.str.match(_DATETIME_RE).fillna(False).to_numpy(bool)
            parsed = pd.to_datetime(col.where(shape_ok & ~missing), format="%Y-%m-%dT%H:%M:%S%z",
                                    utc=True, errors="coerce")
            bad = (parsed.isna().to_numpy() & ~missing)
            return parsed.astype(pd.DatetimeTZDtype("ns", "UTC")).reset_index(drop=True), bad
        raise AssertionError(f"unhandled field type {f.type}")  # pragma: no cover

    def _check_constraints(self, f: Field, col: pd.Series, typed: pd.Series, present: np.ndarray) -> None:
        if f.enum is not None:
            bad = present & ~isin(col, f.enum)
            self._row_issues("enum", bad, col, f, "one of " + ", ".join(f.enum),
                             f"use one of the {len(f.enum)} allowed values (case matters)",
                             "value not in the vocabulary")
        if f.minimum is not None or f.maximum is not None:
            vals = typed.astype("float64").to_numpy(na_value=np.nan)
            lo = -np.inf if f.minimum is None else f.minimum
            hi = np.inf if f.maximum is None else f.maximum
            with np.errstate(invalid="ignore"):
                bad = present & ((vals < lo) | (vals > hi))
            rng = f"a value in [{f.minimum if f.minimum is not None else '-inf'}, " \
                  f"{f.maximum if f.maximum is not None else 'inf'}]"
            self._row_issues("out-of-range", bad, col, f, rng, f"correct {f.name}",
                             "value out of range")
        if f.pattern is not None:
            ok = _fullmatch(col, f.pattern)
            self._row_issues("pattern", present & ~ok, col, f, f"text matching {f.pattern}",
                             f"write {f.name} in the declared form", "value does not match the pattern")

    def _check_unique(self, frame: pd.DataFrame) -> None:
        for f in self.schema.fields:
            if not f.unique:
                continue
            col = frame[f.name]
            dup = (col.duplicated(keep="first") & col.notna()).to_numpy(bool)
            self._row_issues("unique", dup, col.astype(str), f, "a value not used in another row",
                             f"give each row its own {f.name}", "duplicate value")
        pk = list(self.schema.primary_key)
        if len(pk) > 1:
            dup = frame.duplicated(subset=pk, keep="first").to_numpy(bool) & \
                frame[pk].notna().all(axis=1).to_numpy(bool)
            key = frame[pk].astype(str).agg(" | ".join, axis=1)
            fake = Field(" + ".join(pk))
            self._row_issues("unique", dup, key, fake, "a key not used in another row",
                             "remove the duplicate row", "duplicate primary key")
