"""Vectorised parsing and checking of one CSV table against its declared schema."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from amurlink.io.validation import Issue
from amurlink.schema import _MEDIA_PATH_PATTERN, MISSING_VALUES, Field, TableSchema

#: Arrow parses a CSV on several threads only from this size (waking the pool costs more
#: than it saves on small tables).
_THREADED_BYTES = 1 << 20
#: Widest header read (a Camtrap DP table has at most a few dozen columns).
MAX_COLUMNS = 1024
#: At most this many individual issues per (table, field, code); the rest are summarised.
MAX_ISSUES_PER_KIND = 100

_DATETIME_RE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:?\d{2})$"
_TRUE = ("true", "True", "TRUE", "1")
_FALSE = ("false", "False", "FALSE", "0")
_STRING = pd.StringDtype("pyarrow")
#: The Arrow type pandas stores ``_STRING`` values in (large_string in pandas 2.x).
_STRING_ARROW = pd.array([], dtype=_STRING).__arrow_array__().type

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
        for row, _row in enumerate(reader, start=1):  # noqa: B007 - row is read after
            pass
    except csv.Error as exc:
        return row + 1, str(exc)
    return None, ""


def _is_arrow_string(col: pd.Series) -> bool:
    return isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow"


def _arrow(col: pd.Series) -> pa.ChunkedArray:
    """The Arrow data behind a pyarrow-backed string column (no copy)."""
    return col.array.__arrow_array__()  # type: ignore[union-attr]


def distinct_codes(col: pd.Series) -> tuple[pa.Array, np.ndarray]:
    """Distinct values of an Arrow-backed text column and each row's code into them.

    Returns the dictionary (in order of first appearance) and int64 codes, -1 for NA, so
    that work on text can be done once per distinct value and spread back with
    ``result[codes]``.
    """
    enc = _arrow(col).combine_chunks().dictionary_encode()
    return enc.dictionary, enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(
        np.int64)


def _bool_np(mask: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """An Arrow boolean result as a NumPy mask (null counts as False)."""
    return mask.fill_null(False).to_numpy(zero_copy_only=False).astype(bool)


def _null_where(arr: pa.ChunkedArray, missing: np.ndarray) -> pa.ChunkedArray:
    """``arr`` with the values at ``missing`` made null, their text dropped, chunks kept.

    The same Arrow layout as pandas' ``Series.mask`` of a string[pyarrow] column (which
    ``harmonise`` hashes buffer by buffer), at Arrow speed.
    """
    if len(arr) == 0:
        return pa.chunked_array([], type=arr.type)  # pandas keeps no (empty) chunk
    if not missing.any():
        return arr
    blank = pc.if_else(pa.array(missing), pa.scalar("", arr.type), arr)
    chunks, pos = [], 0
    for ch in blank.chunks:
        valid = np.concatenate([np.zeros(ch.offset, bool), ~missing[pos: pos + len(ch)]])
        bufs = [pa.array(valid).buffers()[1]] + ch.buffers()[1:]
        chunks.append(pa.Array.from_buffers(ch.type, len(ch), bufs, offset=ch.offset))
        pos += len(ch)
    return pa.chunked_array(chunks, type=arr.type)


def all_distinct(col: pd.Series) -> bool:
    """Whether the present values of an Arrow-backed text column are all different.

    Sorts (faster than hashing for Arrow strings) and compares neighbours; False also for
    columns that are not Arrow-backed text, for which the caller does its own check.
    """
    if not _is_arrow_string(col):
        return False
    arr = _arrow(col)
    s = arr.take(pc.sort_indices(arr))  # nulls last; null == null is null, never "equal"
    if len(s) < 2:
        return True
    return not pc.any(pc.equal(s.slice(1), s.slice(0, len(s) - 1))).as_py()


def isin(col: pd.Series, values: object) -> np.ndarray:
    """Boolean mask of ``col`` values found in ``values`` (vectorised in Arrow; NA is False)."""
    if _is_arrow_string(col):
        arr = _arrow(col)
        if isinstance(values, pd.Series) and _is_arrow_string(values):
            vs = pc.drop_null(_arrow(values)).combine_chunks()  # no trip through objects
        elif isinstance(values, pd.Series):
            vs = pa.array(values.dropna().astype(object).to_numpy(), type=pa.string())
        else:
            vs = pa.array(list(values), type=pa.string())
        return _bool_np(pc.is_in(arr, value_set=vs, skip_nulls=True))
    return col.isin(values).fillna(False).to_numpy(bool)


def positions(col: pd.Series, ref: pd.Series) -> np.ndarray:
    """Position in ``ref`` (unique values) of each value of ``col``; -1 where absent or NA."""
    if _is_arrow_string(col) and _is_arrow_string(ref) and not ref.isna().any():
        found = pc.index_in(_arrow(col), value_set=_arrow(ref).combine_chunks())
        return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return np.asarray(pd.Index(ref.astype(object)).get_indexer(col.astype(object)), np.int64)


_MISSING_LENGTHS = sorted({len(v.encode()) for v in MISSING_VALUES if v})
#: First bytes of the non-empty missing markers, as a lookup table over byte values.
_MISSING_FIRST = np.zeros(256, bool)
_MISSING_FIRST[[v.encode()[0] for v in MISSING_VALUES if v]] = True
_MISSING_SET = pa.array([v for v in MISSING_VALUES], type=pa.string())


def missing_mask(col: pd.Series) -> np.ndarray:
    """Mask of the values that Camtrap DP reads as missing (``MISSING_VALUES``).

    Same result as ``isin(col, MISSING_VALUES)``; for Arrow text it looks at byte lengths and
    first bytes (from the offsets, no copy) and compares text only for the few values that
    could be a missing marker.
    """
    if not _is_arrow_string(col):
        return isin(col, MISSING_VALUES)
    arr = _arrow(col)
    if arr.null_count or not all(pa.types.is_large_string(c.type) or pa.types.is_string(c.type)
                                 for c in arr.chunks):
        return isin(col, MISSING_VALUES)
    parts = []
    for ch in arr.chunks:
        otype = np.int64 if pa.types.is_large_string(ch.type) else np.int32
        off = np.frombuffer(ch.buffers()[1], dtype=otype, count=ch.offset + len(ch) + 1)
        off = off[ch.offset:]
        ln = np.diff(off)
        out = ln == 0 if "" in MISSING_VALUES else np.zeros(len(ln), bool)
        short = np.zeros(len(ln), bool)
        for k in _MISSING_LENGTHS:
            short |= ln == k
        idx = np.flatnonzero(short)
        if idx.size:
            data = np.frombuffer(ch.buffers()[2], dtype=np.uint8)
            idx = idx[_MISSING_FIRST[data[off[idx]]]]
        if idx.size:
            vals = ch.take(pa.array(idx))
            out[idx] = _bool_np(pc.is_in(vals, value_set=_MISSING_SET))
        parts.append(out)
    return np.concatenate(parts) if parts else np.zeros(0, bool)


#: RE2 form of the official ``media.filePath`` pattern (no lookahead): a first character that
#: is not '.', '/', '~' or a line break, then no '..' and no line break anywhere.
_MEDIA_PATH_RE2 = r"^[^./~\n](?:[^.\n]|\.[^.\n])*\.?$"


def _media_path_ok(col: pd.Series) -> np.ndarray:
    """RE2 form of the official ``media.filePath`` pattern ``^(?=^[^./~])(^((?!\\.{2}).)*$).*$``:
    no leading '.', '/' or '~', no '..' anywhere, no line break (one regex pass)."""
    if _is_arrow_string(col):
        return _bool_np(pc.match_substring_regex(_arrow(col), _MEDIA_PATH_RE2))
    # Python's '$' also matches before a final line break: full-match the unanchored form
    return col.str.fullmatch(_MEDIA_PATH_RE2[1:-1]).fillna(False).to_numpy(bool)


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


# -- fast ISO 8601 datetimes ---------------------------------------------------------------------
#: Byte positions of the 14 digits of ``YYYY-MM-DDTHH:MM:SS`` and of its separators.
_ISO_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
_ISO_SEP_AT = [4, 7, 10, 13, 16]
_ISO_SEP_CHARS = np.frombuffer(b"--T::", dtype=np.uint8)
#: Days per month by month number, 0 for the invalid months 0 and 13 (13-99 are clipped to 13).
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0], dtype=np.int32)
_NAT = np.iinfo(np.int64).min


def _string_bytes(arr: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start offsets, byte lengths and the data buffer (uint8) of a string array."""
    a = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if pa.types.is_large_string(a.type):
        otype = np.int64
    else:
        a = a.cast(pa.string()) if not pa.types.is_string(a.type) else a
        otype = np.int32
    n = len(a)
    bufs = a.buffers()
    offsets = np.frombuffer(bufs[1], dtype=otype, count=a.offset + n + 1)[a.offset:]
    offsets = offsets.astype(np.int64)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None and bufs[2].size \
        else np.zeros(1, np.uint8)
    return offsets[:-1], np.diff(offsets), data


def _fixed_width(data: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """The ``width`` bytes from each start as an (n, width) uint8 array (0 past the buffer)."""
    n = len(starts)
    if n and np.all(np.diff(starts) == width) and starts[0] + n * width <= len(data):
        # equal-length values stored back to back (the usual case): a reshape, no copy
        return data[starts[0]: starts[0] + n * width].reshape(n, width)
    padded = np.concatenate([data, np.zeros(width, np.uint8)])
    out = np.empty((n, width), np.uint8)
    step = 1 << 16
    cols = np.arange(width, dtype=np.int64)
    for lo in range(0, n, step):
        out[lo: lo + step] = padded[starts[lo: lo + step, None] + cols]
    return out


def _iso_datetimes(arr: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_iso_datetimes_one` chunk by chunk (no copy of the text into one buffer)."""
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    if len(chunks) == 1:
        return _iso_datetimes_one(chunks[0])
    if not chunks:
        return _iso_datetimes_one(pa.array([], type=arr.type))
    parts = [_iso_datetimes_one(ch) for ch in chunks]
    return tuple(np.concatenate([p[k] for p in parts]) for k in range(3))  # type: ignore[return-value]


def _iso_datetimes_one(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised reading of ``YYYY-MM-DDTHH:MM:SS`` + ``Z`` / ``+hh:mm`` / ``+hhmm`` text.

    Works on the raw UTF-8 bytes at fixed positions (after the shape check every character is
    ASCII, so bytes are characters).

    Returns
    -------
    shape_ok : bool array
        The value has the shape of ``_DATETIME_RE`` (byte for byte the same test as RE2's).
    sure : bool array
        Shape OK and every part in its ordinary range (a real calendar date, hour < 24,
        minute and second < 60, offset below 24 h, year 1678-2261 so that nanoseconds fit);
        for these values ``ns`` is exactly what pandas' ``%Y-%m-%dT%H:%M:%S%z`` gives. The
        rare other shape-OK values are left to pandas.
    ns : int64 array
        UTC nanoseconds since the epoch where ``sure`` (NaT elsewhere).
    """
    start, length, data = _string_bytes(arr)
    n = len(start)
    ns = np.full(n, _NAT, dtype=np.int64)
    cand = np.flatnonzero((length == 20) | (length == 24) | (length == 25))
    shape_ok = np.zeros(n, dtype=bool)
    sure = np.zeros(n, dtype=bool)
    if cand.size == 0:
        return shape_ok, sure, ns
    s0, ln = start[cand], length[cand]
    blk = _fixed_width(data, s0, 25)
    digits = blk[:, _ISO_DIGITS] - np.uint8(48)  # bytes below '0' wrap round to > 9
    ok = (digits <= 9).all(axis=1) & (blk[:, _ISO_SEP_AT] == _ISO_SEP_CHARS).all(axis=1)
    sign_byte = blk[:, 19]
    zulu = (ln == 20) & (sign_byte == ord("Z"))
    signed = (ln != 20) & ((sign_byte == ord("+")) | (sign_byte == ord("-")))
    colon = ln == 25  # +hh:mm, else +hhmm
    off = np.where(colon[:, None], blk[:, [20, 21, 23, 24]], blk[:, [20, 21, 22, 23]])
    off = off - np.uint8(48)
    tail = (off <= 9).all(axis=1) & (~colon | (blk[:, 22] == ord(":")))
    ok &= zulu | (signed & tail)
    shape_ok[cand] = ok

    # the seven two-digit numbers YY YY MM DD hh mm ss (and the offset's hh mm) in one pass
    # each, laid out field by field (contiguous rows: fast int32 arithmetic below)
    pairs = np.ascontiguousarray(
        (digits[:, 0::2].astype(np.int32) * 10 + digits[:, 1::2]).T)
    o = np.ascontiguousarray((off[:, 0::2].astype(np.int32) * 10 + off[:, 1::2]).T)
    o[:, zulu] = 0
    year = pairs[0] * 100 + pairs[1]
    month, day, hour, minute, second = pairs[2], pairs[3], pairs[4], pairs[5], pairs[6]
    off_h, off_m = o[0], o[1]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days_in_month = _DAYS_IN_MONTH[np.minimum(month, 13)] + ((month == 2) & leap)
    good = ok & (year >= 1678) & (year <= 2261) & (day >= 1) & (day <= days_in_month) & \
        (hour <= 23) & (minute <= 59) & (second <= 59) & (off_h <= 23) & (off_m <= 59)
    # days since 1970-01-01 of the proleptic Gregorian date (H. Hinnant's days_from_civil)
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    offset = (off_h * 3600 + off_m * 60) * np.where(sign_byte == ord("-"), -1, 1)
    utc = days.astype(np.int64) * 86400 + (hour * 3600 + minute * 60 + second - offset)
    sure[cand] = good
    ns[cand[good]] = utc[good] * 1_000_000_000
    return shape_ok, sure, ns


#: Whole numbers of at most 15 digits: exact as float64 in every parser, so Arrow's reading
#: equals ``pd.to_numeric``'s (which is not correctly rounded for long decimals).
_PLAIN_INT_RE = r"^-?[0-9]{1,15}$"


def _plain_int64(col: pd.Series, missing: np.ndarray) -> np.ndarray | None:
    """int64 values (1 where missing) when every present value is a plain integer, else None."""
    arr = _arrow(col)
    plain = _bool_np(pc.match_substring_regex(arr, _PLAIN_INT_RE))
    if not (plain | missing).all():
        return None
    if missing.any():
        arr = pc.if_else(pa.array(missing), pa.scalar("1", arr.type), arr)
    return np.asarray(pc.cast(arr, pa.int64()).to_numpy(), dtype=np.int64)


def _plain_integers(col: pd.Series, missing: np.ndarray) -> pd.Series | None:
    """float64 values when every present value is a plain integer, else None (use pandas)."""
    ints = _plain_int64(col, missing)
    if ints is None:
        return None
    num = ints.astype("float64")
    num[missing] = np.nan
    return pd.Series(num)


def _all_na(f: Field, n: int, col: pd.Series) -> pd.Series:
    """``col`` (all missing values) as ``n`` NA in the amurlink dtype of ``f``.

    Built to be identical, down to the Arrow buffers that ``harmonise`` hashes, to what
    :meth:`TableParser._typed` gives for such a column: text keeps the column's chunks.
    """
    if f.type == "number":
        return pd.Series(np.full(n, np.nan))
    if f.type == "integer":  # pandas' float NaN -> Int64 leaves 1 under the mask
        return pd.Series(pd.arrays.IntegerArray(np.ones(n, np.int64), np.ones(n, bool)))
    if f.type == "boolean":
        return pd.Series(pd.arrays.BooleanArray(np.zeros(n, bool), np.ones(n, bool)))
    if f.type == "datetime":
        nat = pd.DatetimeIndex(np.full(n, _NAT, np.int64).view("M8[ns]"))
        return pd.Series(nat.tz_localize("UTC"))
    return pd.Series(pd.arrays.ArrowStringArray(_null_where(_arrow(col), np.ones(n, bool))))


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
        if not data or data.isspace():  # as `not data.strip()`, without copying the file
            self._issue("empty-file", f"{self.file} is empty; it needs at least the header row "
                        f"({', '.join(self.schema.required_fields)})",
                        fix="write the header row, even when the table has no data rows")
            return ParsedTable(None, self.issues)
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            end = data.find(b"\n")
            header_line = data[: end if end >= 0 else len(data)].decode("utf-8").rstrip("\r")
        except UnicodeDecodeError:
            self._issue("bad-encoding", f"{self.file}: the header row is not UTF-8 text",
                        row=1, fix="save the file as UTF-8 CSV")
            return ParsedTable(None, self.issues)
        try:
            header = next(csv.reader([header_line]), [])
        except csv.Error as exc:  # e.g. a stray carriage return inside the header line
            self._issue("bad-csv", f"{self.file}: the header row cannot be read as CSV ({exc})",
                        row=1, fix="remove stray line breaks or quotes from the header row")
            return ParsedTable(None, self.issues)
        if not any(h.strip() for h in header):
            self._issue("bad-csv", f"{self.file}: the first line is empty; it must be the header "
                        "row", row=1, fix="remove the blank line(s) above the header")
            return ParsedTable(None, self.issues)
        quotes = data.count(b'"') if b'"' in data else 0  # `in` is a fast scan: no quote, no count
        if quotes % 2:
            row, why = _locate_csv_error(data)
            self._issue("bad-csv", f"{self.file}: unbalanced double quote"
                        + (f" starting near row {row} ({why})" if row else ""),
                        row=row, fix="close every quoted value with a double quote and double "
                        "any quote inside a value (\"\")")
            return ParsedTable(None, self.issues)
        if len(header) > MAX_COLUMNS:
            self._issue("bad-csv", f"{self.file}: the header has {len(header)} columns; a "
                        f"Camtrap DP table has at most {len(self.schema.fields)}", row=1,
                        fix="check the delimiter (a comma) and the header row")
            return ParsedTable(None, self.issues)
        seen = Counter(header)
        dupes = sorted(h for h, n in seen.items() if n > 1)
        if dupes:
            self._issue("duplicate-header", f"{self.file}: column(s) {dupes} appear more than once "
                        "in the header", row=1, fix="keep one column per field")
            return ParsedTable(None, self.issues)
        try:
            table = pacsv.read_csv(
                pa.BufferReader(data),  # zero-copy view of the bytes
                read_options=pacsv.ReadOptions(use_threads=len(data) > _THREADED_BYTES,
                                               block_size=1 << 24),
                # a line break inside a value needs quotes: without any quote in the file,
                # every line break ends a row and Arrow can split the file between threads
                parse_options=pacsv.ParseOptions(newlines_in_values=quotes > 0),
                convert_options=pacsv.ConvertOptions(
                    # pandas keeps string[pyarrow] as large_string: read it so, no later copy
                    column_types={h: _STRING_ARROW for h in header},
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

        table = table.cast(pa.schema([(n, _STRING_ARROW) for n in table.column_names]))
        raw = table.to_pandas(types_mapper={_STRING_ARROW: _STRING}.get)
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
            missing = missing_mask(col)
            if missing.all():
                # An empty column (common for optional fields): all NA, nothing else to check.
                if f.required:
                    self._row_issues("required", missing, col, f, "a value", f"fill in {f.name}",
                                     "required value missing")
                out[f.name] = _all_na(f, n, col)
                continue
            typed, bad = self._typed(f, col, missing)
            self._row_issues("type-error", bad, col, f, f.type, _FIX.get(f.type, ""),
                             f"not a valid {f.type}")
            present = ~missing & ~bad
            if f.required:
                self._row_issues("required", missing, col, f, "a value", f"fill in {f.name}",
                                 "required value missing")
            self._check_constraints(f, col, typed, present)
            out[f.name] = typed
        # copy=False: keep each column's array as built (no consolidating copy of 1-D columns)
        return pd.DataFrame(out, index=pd.RangeIndex(n), copy=False)

    def _typed(self, f: Field, col: pd.Series, missing: np.ndarray) -> tuple[pd.Series, np.ndarray]:
        """Typed series with missing (and unparsable) values as NA, and the unparsable mask.

        Arrow-backed text (what :meth:`read` produces) is converted in Arrow / NumPy; values
        whose reading is not certain to match pandas' fall back to the pandas conversions
        below, so both paths give the same result.
        """
        arrow = _is_arrow_string(col)
        if f.type in ("string", "any"):
            if arrow:
                kept = _null_where(_arrow(col), missing)
                return pd.Series(pd.arrays.ArrowStringArray(kept)), np.zeros(len(col), bool)
            text = col.mask(missing).astype(_STRING).reset_index(drop=True)
            return text, np.zeros(len(col), bool)
        if f.type == "integer" and arrow:
            ints = _plain_int64(col, missing)
            if ints is not None:  # exact as int64: no trip through float64
                # the same array as pandas' float -> Int64 conversion (1 under the mask)
                return (pd.Series(pd.arrays.IntegerArray(ints, missing.copy())),
                        np.zeros(len(col), bool))
        if f.type in ("number", "integer"):
            num = _plain_integers(col, missing) if arrow else None
            if num is None:
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
            return pd.Series(pd.arrays.BooleanArray(t, ~(t | fl))), bad
        if f.type == "datetime":
            if arrow:
                shape_ok, sure, ns = _iso_datetimes(_arrow(col))
                shape_ok &= ~missing
                rest = np.flatnonzero(shape_ok & ~sure)
                if rest.size:  # unusual values (e.g. 2014-02-30): pandas decides
                    other = pd.to_datetime(col.iloc[rest], format="%Y-%m-%dT%H:%M:%S%z",
                                           utc=True, errors="coerce")
                    ns[rest] = other.astype(pd.DatetimeTZDtype("ns", "UTC")).array.asi8
                ns[~shape_ok] = _NAT
                parsed = pd.Series(pd.DatetimeIndex(ns.view("M8[ns]")).tz_localize("UTC"))
                bad = (ns == _NAT) & ~missing
                return parsed, bad
            shape_ok = col.str.match(_DATETIME_RE).fillna(False).to_numpy(bool)
            parsed = pd.to_datetime(col.where(shape_ok & ~missing), format="%Y-%m-%dT%H:%M:%S%z",
                                    utc=True, errors="coerce")
            bad = (parsed.isna().to_numpy() & ~missing)
            return parsed.astype(pd.DatetimeTZDtype("ns", "UTC")).reset_index(drop=True), bad
        raise AssertionError(f"unhandled field type {f.type}")  # pragma: no cover

    def _check_constraints(self, f: Field, col: pd.Series, typed: pd.Series,
                           present: np.ndarray) -> None:
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
                             f"write {f.name} in the declared form",
                             "value does not match the pattern")

    def _check_unique(self, frame: pd.DataFrame) -> None:
        for f in self.schema.fields:
            if not f.unique:
                continue
            col = frame[f.name]
            if all_distinct(col):
                continue  # the usual case: nothing to report, no hashing in pandas
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
