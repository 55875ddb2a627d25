"""Raw text tables from CSV or Excel files, every cell as text (missing as empty)."""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path

import pandas as pd

from amurlink.exceptions import DataError

__all__ = ["read_text_table", "MISSING_PACKAGE_XLSX", "MAX_CSV_FIELDS"]

MISSING_PACKAGE_XLSX = (
    "reading .xlsx station sheets needs the 'openpyxl' package, which is not installed; "
    "install it (pip install openpyxl) or save the sheet as CSV (UTF-8) and point `file` at it"
)


#: Largest total of decompressed XML in an .xlsx file (a station sheet is a few hundred KB;
#: openpyxl reads about 1 MB of sheet XML a second on a loaded 2-core machine).
MAX_XLSX_XML_BYTES = 12 * 1024**2
#: Largest sheet read from .xlsx, in cells (rows x columns of the used range).
MAX_XLSX_CELLS = 2_000_000
_CELL_REF = re.compile(rb'<(?:c|dimension)\b[^>]*?\sr(?:ef)?="\$?([A-Z]{1,3})\$?(\d{1,7})'
                       rb'(?::\$?([A-Z]{1,3})\$?(\d{1,7}))?"')


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n
#: An .xlsx member inflating more than this many times its compressed size is refused.
MAX_XLSX_RATIO = 100
#: Memory charged per cell of a CSV table read as text, and per byte of the file.
_CELL_COST = 24
_BYTE_COST = 2
#: Most fields one row of a CSV table may hold (header included). A national table has tens
#: of columns; a line of millions of delimiters (a hostile file) would take pandas minutes
#: and gigabytes before it could say that the row is too long.
MAX_CSV_FIELDS = 1000


def _check_csv_cost(path: Path, shown: str, budget: int | None, *, delimiter: str = ",",
                    row_cost: int = 0) -> None:
    """Refuse a CSV that is too wide, or whose table would take more than the read budget,
    before reading it.

    One streaming pass in 1 MiB blocks (numpy, no per-line Python): every line's delimiters
    are counted, so a row with more than :data:`MAX_CSV_FIELDS` fields is refused by its row
    number, and the memory the table will need is charged as it is counted (``_BYTE_COST``
    per byte, ``_CELL_COST`` per cell of the header's width and ``row_cost`` per row for the
    caller's own per-row work), so the error names the row where the budget ran out. A lone
    ``\r`` ends a line too (pandas reads it so), and a quoted delimiter counts as one (the
    estimate errs on the safe side).
    """
    import numpy as np

    from amurlink.io._source import _human, default_budget

    limit = default_budget() if budget is None else budget
    size = path.stat().st_size
    dbyte = (delimiter.encode() or b",")[0] if len(delimiter.encode()) == 1 else None
    lines = 0  # completed lines so far
    carry = 0  # delimiters on the unfinished line
    columns = None  # fields of the header (row 1)
    prev_cr = False
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            arr = np.frombuffer(block, np.uint8)
            cr = arr == 13
            ends = (arr == 10) & ~np.concatenate(([prev_cr], cr[:-1]))  # \r\n ends once
            ends |= cr
            prev_cr = bool(cr[-1])
            if dbyte is None:
                per = np.zeros(int(ends.sum()) + 1, np.int64)
            else:
                cum = np.concatenate(([0], np.cumsum(arr == dbyte, dtype=np.int64)))
                at = np.flatnonzero(ends)
                per = np.diff(cum[np.concatenate(([0], at + 1, [arr.size]))])
            per[0] += carry
            carry = int(per[-1])
            done = per[:-1]
            wide = np.flatnonzero(done + 1 > MAX_CSV_FIELDS)
            if wide.size or carry + 1 > MAX_CSV_FIELDS:
                k = int(wide[0]) if wide.size else done.size
                fields = int(done[k]) + 1 if wide.size else carry + 1
                raise DataError(
                    f"{shown}: row {lines + k + 1} has {'at least ' if not wide.size else ''}"
                    f"{fields} fields, more than the {MAX_CSV_FIELDS} amurlink reads in one row; "
                    f"check `delimiter` ({delimiter!r}) and quoting, or remove the stray "
                    "delimiters")
            if columns is None and done.size:
                columns = int(done[0]) + 1
            lines += done.size
            width = columns if columns is not None else carry + 1
            cost = _BYTE_COST * size + (_CELL_COST * width + row_cost) * (lines + 1)
            if cost > limit:
                raise DataError(
                    f"{shown}: by row {lines + 1} reading it as a table would need about "
                    f"{_human(cost)} of memory, above the read budget of {_human(limit)}; "
                    "remove empty rows, split the file, or raise the budget "
                    "(AMURLINK_READ_BUDGET) if it is genuine")


def check_xlsx(path: Path, shown: str) -> None:
    """Refuse an .xlsx that is not a sound zip or would inflate past the limits (a bomb)."""
    import zipfile

    from amurlink.io._source import ZIP_ERRORS

    try:
        with zipfile.ZipFile(path) as zf:
            total = 0
            for info in zf.infolist():
                total += info.file_size
                if info.file_size > 1024**2 and \
                        info.file_size > MAX_XLSX_RATIO * max(info.compress_size, 1):
                    raise DataError(
                        f"{shown}: part {info.filename!r} of the workbook inflates "
                        f"{info.file_size // max(info.compress_size, 1)} times (a decompression "
                        "bomb?); save the sheet as CSV (UTF-8) and point `file` at it")
            if total > MAX_XLSX_XML_BYTES:
                raise DataError(
                    f"{shown}: the workbook inflates to {total // 1024**2} MiB, above the "
                    f"{MAX_XLSX_XML_BYTES // 1024**2} MiB amurlink reads from .xlsx; save the "
                    "sheet as CSV (UTF-8) and point `file` at it")
            for info in zf.infolist():
                if not info.filename.startswith("xl/worksheets/"):
                    continue
                rows = cols = 0
                for m in _CELL_REF.finditer(zf.read(info)):
                    rows = max(rows, int(m.group(4) or m.group(2)))
                    cols = max(cols, _column_number(m.group(3) or m.group(1)))
                if rows * cols > MAX_XLSX_CELLS:
                    raise DataError(
                        f"{shown}: a sheet spans {rows} rows x {cols} columns, more than the "
                        f"{MAX_XLSX_CELLS} cells amurlink reads from .xlsx (a decompression "
                        "bomb, or a stray cell far away?); delete the empty rows and columns or "
                        "save the sheet as CSV (UTF-8)")
    except DataError:
        raise
    except ZIP_ERRORS as exc:
        raise DataError(f"{shown}: not a readable .xlsx workbook ({exc}); save it again from "
                        "the spreadsheet program, or as CSV") from None


def read_text_table(
    path: Path, /, *, delimiter: str = ",", encoding: str = "utf-8", sheet: str | int | None = None,
    datetime_format: str | None = None, display: str | None = None, budget: int | None = None,
    row_cost: int = 0,
) -> pd.DataFrame:
    """Read a CSV or Excel sheet with every cell as stripped text ('' where empty).

    Excel date cells are written back as text in ``datetime_format`` so that one parser
    handles both (a cell holding a real date is never misread as day-first or month-first).
    A CSV is checked before it is parsed (``_check_csv_cost``): ``budget`` (bytes, default
    the read budget) bounds the memory of its table plus ``row_cost`` bytes per row for the
    caller's own work on each row, and no row may hold more than :data:`MAX_CSV_FIELDS`.

    Raises
    ------
    DataError
        If the file is missing, unreadable, not in ``encoding``, too wide or over the budget
        (naming the row), or an .xlsx file cannot be read because openpyxl is not installed.
    """
    shown = path.name if display is None else display
    if not path.is_file():
        raise DataError(f"{shown}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        try:
            import openpyxl  # noqa: F401
        except ImportError:
            raise DataError(f"{shown}: {MISSING_PACKAGE_XLSX}") from None
        if suffix == ".xls":
            raise DataError(f"{shown}: old .xls workbooks are not read; save the sheet as .xlsx "
                            "or as CSV (UTF-8)")
        check_xlsx(path, shown)
        try:
            raw = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=object,
                                engine="openpyxl")
        except (ValueError, KeyError, TypeError, OSError, EOFError) as exc:
            raise DataError(f"{shown}: cannot read sheet {sheet!r} ({str(exc)[:200]}); check "
                            "`sheet` in the mapping, or save the sheet as CSV") from None
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on broken XML
            raise DataError(f"{shown}: the workbook cannot be read ({type(exc).__name__}); "
                            "save it again from the spreadsheet program, or as CSV") from None
        fmt = datetime_format or "%Y-%m-%d %H:%M:%S"

        def cell(v: object) -> str:
            if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NaT:
                return ""
            if isinstance(v, _dt.datetime | _dt.date | pd.Timestamp):
                return v.strftime(fmt)
            if isinstance(v, float) and v.is_integer():
                return str(int(v))
            return str(v).strip()

        out = raw.map(cell) if hasattr(raw, "map") else raw.applymap(cell)
        out.columns = [str(c).strip() for c in out.columns]
        return out.reset_index(drop=True)
    _check_csv_cost(path, shown, budget, delimiter=delimiter, row_cost=row_cost)
    try:
        frame = pd.read_csv(path, sep=delimiter, dtype=str, keep_default_na=False,
                            encoding=encoding, encoding_errors="strict", skipinitialspace=False)
    except UnicodeDecodeError as exc:
        raise DataError(f"{shown}: is not {encoding} text ({exc}); set `encoding` in the mapping "
                        "(e.g. encoding = \"cp1251\" or \"gb18030\") or save the file as UTF-8"
                        ) from None
    except LookupError:
        raise DataError(f"{shown}: unknown text encoding {encoding!r}; set `encoding` in the "
                        "mapping to e.g. \"utf-8\", \"cp1251\" or \"gb18030\"") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise DataError(f"{shown}: cannot be read as a table ({str(exc)[:200]}); check "
                        "`delimiter` and quoting") from None
    if not isinstance(frame.index, pd.RangeIndex):  # pandas made the extra cells an index
        raise DataError(f"{shown}: {_long_row(path, delimiter, encoding)} has more values than "
                        "the header has columns; quote values that contain the delimiter "
                        f"({delimiter!r}) or add the missing column names")
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    return frame.apply(lambda c: c.str.strip())


def _long_row(path: Path, delimiter: str, encoding: str) -> str:
    """'row N' of the first row with more cells than the header (header = row 1)."""
    import csv

    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            width = len(next(reader, []))
            for n, row in enumerate(reader, start=2):
                if len(row) > width:
                    return f"row {n}"
        except csv.Error:
            pass
    return "a row"
