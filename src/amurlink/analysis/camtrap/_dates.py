"""Date parsing shared by the camtrapR-style functions (strptime formats or lubridate orders)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from amurlink.exceptions import SchemaError

_ORDER_TOKENS = {"y": "year", "Y": "year", "m": "month", "d": "day", "H": "hour", "M": "minute",
                 "S": "second"}


def has_hours(fmt: str) -> bool:
    """camtrapR's rule: effort is fractional when the format names hours."""
    return "H" in fmt


def parse_datetimes(values: pd.Series, fmt: str, *, where: str, allow_missing: bool = False
                    ) -> pd.Series:
    """Parse text to naive datetimes with a strptime format or lubridate-style orders.

    ``fmt`` containing ``%`` is a strptime format; otherwise it is a lubridate order such as
    ``"dmy"``, ``"dmy H"`` or ``"ymd HMS"`` (numbers are read in that order, any separator).
    """
    s = pd.Series(values, copy=False)
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_localize(None)
    else:
        text = s.astype(object).where(s.notna(), None)
        text = text.map(lambda v: None if v is None or str(v).strip() in ("", "NA") else str(v))
        if "%" in fmt:
            out = pd.to_datetime(text, format=fmt, errors="coerce")
        else:
            letters = [c for c in fmt if c in _ORDER_TOKENS]
            if not letters:
                raise SchemaError(f"cannot read date format {fmt!r} for {where}")
            parts = text.str.findall(r"\d+") if text.notna().any() else text
            rows = []
            for p in parts:
                if not isinstance(p, list) or len(p) < len(letters):
                    rows.append(None)
                    continue
                d = {"year": 1970, "month": 1, "day": 1, "hour": 0, "minute": 0, "second": 0}
                for letter, num in zip(letters, p, strict=False):
                    d[_ORDER_TOKENS[letter]] = int(num)
                rows.append(d)
            frame = pd.DataFrame([r if r is not None else {} for r in rows],
                                 columns=["year", "month", "day", "hour", "minute", "second"])
            out = pd.to_datetime(frame, errors="coerce")
            out.index = s.index
        bad = out.isna() & text.notna()
        if bad.any():
            first = text[bad].iloc[0]
            raise SchemaError(
                f"{int(bad.sum())} value(s) of {where} cannot be read with format {fmt!r} "
                f"(first: {first!r}); give the format as strptime (%d/%m/%Y) or lubridate "
                "orders (dmy, 'ymd H')"
            )
    if not allow_missing and out.isna().any():
        raise SchemaError(f"{where} has {int(out.isna().sum())} missing value(s); fill them")
    return out


def seconds(values: pd.Series) -> np.ndarray:
    """Naive datetimes as int64 seconds since 1970 (NaT -> INT64 min)."""
    arr = values.to_numpy(dtype="datetime64[s]")
    return arr.astype(np.int64)


def is_date_like(text: str) -> bool:
    return bool(re.match(r"^\d{4}-\d{2}-\d{2}", text))
