"""Raw text tables from CSV or Excel files, every cell as text (missing as empty)."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import pandas as pd

from amurlink.exceptions import DataError

__all__ = ["read_text_table", "MISSING_PACKAGE_XLSX"]

MISSING_PACKAGE_XLSX = (
    "reading .xlsx station sheets needs the 'openpyxl' package, which is not installed; "
    "install it (pip install openpyxl) or save the sheet as CSV (UTF-8) and point `file` at it"
)


def read_text_table(
    path: Path, /, *, delimiter: str = ",", encoding: str = "utf-8", sheet: str | int | None = None,
    datetime_format: str | None = None,
) -> pd.DataFrame:
    """Read a CSV or Excel sheet with every cell as stripped text ('' where empty).

    Excel date cells are written back as text in ``datetime_format`` so that one parser
    handles both (a cell holding a real date is never misread as day-first or month-first).

    Raises
    ------
    DataError
        If the file is missing, unreadable, not in ``encoding``, or an .xlsx file cannot be
        read because openpyxl is not installed.
    """
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        try:
            import openpyxl  # noqa: F401
        except ImportError:
            raise DataError(f"{path}: {MISSING_PACKAGE_XLSX}") from None
        try:
            raw = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=object,
                                engine="openpyxl")
        except (ValueError, KeyError) as exc:
            raise DataError(f"{path}: cannot read sheet {sheet!r} ({exc}); check `sheet` in the "
                            "mapping") from None
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
    try:
        frame = pd.read_csv(path, sep=delimiter, dtype=str, keep_default_na=False,
                            encoding=encoding, encoding_errors="strict", skipinitialspace=False)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: is not {encoding} text ({exc}); set `encoding` in the mapping "
                        "(e.g. encoding = \"cp1251\" or \"gb18030\") or save the file as UTF-8"
                        ) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: cannot be read as a table ({exc}); check `delimiter` and "
                        "quoting") from None
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    return frame.apply(lambda c: c.str.strip())
