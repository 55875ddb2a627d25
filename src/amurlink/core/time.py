"""Camera clocks to UTC: offset in force at set-up, rule changes, clock shifts, date-only noon."""

from __future__ import annotations

import functools
import re
import zoneinfo
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from amurlink.exceptions import SchemaError

__all__ = [
    "NOON",
    "is_date_only_format",
    "parse_local",
    "offset_at",
    "local_to_utc",
    "zone_transitions",
    "spans_rule_change",
    "parse_clock_shift",
    "apply_clock_shifts",
    "implausible_times",
]

#: Time of day camtrapR assumes for date-only set-up and retrieval dates.
NOON = pd.Timedelta(hours=12)
_TIME_DIRECTIVES = re.compile(r"%[HIMSfpTXcrR]")


def is_date_only_format(fmt: str, /) -> bool:
    """True when a ``strptime`` format has no time-of-day directive (``%d.%m.%Y``)."""
    return _TIME_DIRECTIVES.search(fmt) is None


def parse_local(
    values: Any, /, *, fmt: str, date_only: str = "noon"
) -> tuple[pd.Series, np.ndarray]:
    """Parse local camera-clock text into naive datetimes.

    Parameters
    ----------
    values : array_like of str
        Date or date-time text as written (missing values stay missing).
    fmt : str
        ``strptime`` format, e.g. ``"%d/%m/%Y"`` or ``"%Y-%m-%d %H:%M:%S"``.
    date_only : {"noon", "start", "end"}, default "noon"
        Time given to values when ``fmt`` has no time of day: 12:00 (camtrapR's rule for set-up
        and retrieval), 00:00 (start of a problem period) or 24:00 (end of a problem period,
        i.e. the next midnight).

    Returns
    -------
    parsed : Series of datetime64[ns]
        Naive local times.
    bad : ndarray of bool
        Present values that do not match ``fmt``.
    """
    s = pd.Series(values, copy=False)
    text = s.astype("string").str.strip()
    present = (text.notna() & (text != "")).to_numpy(bool)
    parsed = pd.to_datetime(text.where(present), format=fmt, errors="coerce")
    if parsed.dt.tz is not None:  # a format with %z: keep the instant, drop to naive UTC
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    bad = present & parsed.isna().to_numpy(bool)
    if is_date_only_format(fmt):
        add = {"noon": NOON, "start": pd.Timedelta(0), "end": pd.Timedelta(days=1)}[date_only]
        parsed = parsed + add
    return parsed.astype("datetime64[ns]").reset_index(drop=True), bad


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SchemaError(
            f"{name!r} is not an IANA time zone name; use e.g. Asia/Shanghai or Asia/Vladivostok"
        ) from None


def offset_at(zone: str, local: Any, /) -> pd.Timedelta:
    """UTC offset of ``zone`` at a naive local time (the earlier offset if ambiguous).

    Examples
    --------
    >>> offset_at("Asia/Vladivostok", "2014-10-01 12:00")
    Timedelta('0 days 11:00:00')
    >>> offset_at("Asia/Vladivostok", "2014-11-01 12:00")
    Timedelta('0 days 10:00:00')
    """
    ts = pd.Timestamp(local)
    if ts.tzinfo is not None:
        ts = ts.tz_convert(zone).tz_localize(None)
    dt = ts.to_pydatetime().replace(fold=0)
    off = dt.replace(tzinfo=_zone(zone)).utcoffset()
    assert off is not None
    return pd.Timedelta(off)


def local_to_utc(
    local: pd.Series, /, *, zones: pd.Series, reference: pd.Series | None = None,
) -> pd.Series:
    """Naive camera-clock times to tz-aware UTC with the offset in force at a reference time.

    Camera clocks do not follow time-zone rule changes: a camera set on Vladivostok time in
    September 2014 (UTC+11) kept running on UTC+11 after the zone moved to UTC+10 on 26
    October 2014. Each value is therefore converted with the offset its zone had at
    ``reference`` (the deployment's set-up time), not at the value itself.

    Parameters
    ----------
    local : Series of datetime64
        Naive local (camera-clock) times.
    zones : Series of str
        IANA zone of each value (aligned with ``local``).
    reference : Series of datetime64, optional
        Naive local time whose offset applies to each value (aligned); default the value
        itself (the ordinary civil conversion).

    Returns
    -------
    Series of datetime64[ns, UTC]
        ``local - offset(zone, reference)``.

    Raises
    ------
    SchemaError
        If a zone is not an IANA name.

    Examples
    --------
    >>> t = pd.Series(pd.to_datetime(["2014-11-20 12:00"]))
    >>> z = pd.Series(["Asia/Vladivostok"])
    >>> ref = pd.Series(pd.to_datetime(["2014-09-01 12:00"]))
    >>> str(local_to_utc(t, zones=z, reference=ref).iloc[0])
    '2014-11-20 01:00:00+00:00'
    """
    local = pd.Series(pd.to_datetime(local), copy=False).reset_index(drop=True)
    zones = pd.Series(zones, copy=False).reset_index(drop=True).astype(object)
    ref = local if reference is None else pd.Series(
        pd.to_datetime(reference), copy=False).reset_index(drop=True)
    offsets = np.full(len(local), np.timedelta64("NaT"), dtype="timedelta64[ns]")
    ok = (local.notna() & zones.notna() & ref.notna()).to_numpy(bool)
    if ok.any():
        pairs = pd.MultiIndex.from_arrays([zones[ok].to_numpy(), ref[ok].to_numpy()])
        codes, uniques = pd.factorize(pairs)
        offs = np.array([offset_at(str(z), pd.Timestamp(r)).to_timedelta64() for z, r in uniques],
                        dtype="timedelta64[ns]")
        offsets[ok] = offs[codes]
    utc = local.to_numpy(dtype="datetime64[ns]") - offsets
    return pd.Series(utc, dtype="datetime64[ns]").dt.tz_localize("UTC")


@functools.lru_cache(maxsize=256)
def zone_transitions(zone: str, start_year: int, end_year: int) -> tuple[pd.Timestamp, ...]:
    """UTC instants in ``[start_year, end_year]`` at which ``zone``'s offset changes.

    Found by scanning hourly offsets (every rule change of the tz database falls on an hour).

    Examples
    --------
    >>> [str(t) for t in zone_transitions("Asia/Vladivostok", 2014, 2014)]
    ['2014-10-25 15:00:00+00:00']
    """
    _zone(zone)
    idx = pd.date_range(f"{start_year}-01-01", f"{end_year + 1}-01-01", freq="h", tz="UTC")
    local = idx.tz_convert(zone).tz_localize(None)
    off = (local - idx.tz_localize(None)).asi8
    change = np.flatnonzero(np.diff(off) != 0) + 1
    return tuple(idx[change])


def spans_rule_change(
    zones: pd.Series, start: pd.Series, end: pd.Series, /,
) -> pd.Series:
    """The first rule change of each row's zone strictly inside ``(start, end]`` (UTC), or NaT.

    Parameters
    ----------
    zones : Series of str
        IANA zone of each deployment.
    start, end : Series of datetime64[ns, UTC]
        Deployment start and end.

    Returns
    -------
    Series of datetime64[ns, UTC]
        Aligned with the inputs; NaT where the zone's offset did not change in the span.
    """
    out = pd.Series(pd.NaT, index=zones.index, dtype="datetime64[ns, UTC]")
    ok = zones.notna() & start.notna() & end.notna()
    if not ok.any():
        return out
    for z in pd.unique(zones[ok]):
        sel = ok & (zones == z)
        s, e = start[sel], end[sel]
        trans = zone_transitions(str(z), int(s.min().year), int(e.max().year))
        if not trans:
            continue
        t = pd.DatetimeIndex(trans).asi8
        pos = np.searchsorted(t, s.to_numpy(dtype="datetime64[ns]").astype("int64"), side="right")
        first = np.where(pos < len(t), t[np.minimum(pos, len(t) - 1)], np.iinfo(np.int64).max)
        hit = first <= e.to_numpy(dtype="datetime64[ns]").astype("int64")
        vals = pd.to_datetime(np.where(hit, first, np.datetime64("NaT").astype("int64")),
                              utc=True)
        out[sel] = pd.Series(vals, index=s.index).where(hit)
    return out


_SHIFT_RE = re.compile(r"^\s*(\d+):(\d+):(\d+)\s+(\d+):(\d+):(\d+)\s*$")


def parse_clock_shift(text: str, sign: str = "+", /) -> pd.DateOffset:
    """A camtrapR ``timeShiftTable`` amount (``"Y:m:d H:M:S"`` with sign) as a date offset.

    Plain numbers are read as seconds (``"-3600"``).

    Examples
    --------
    >>> parse_clock_shift("0:0:0 12:0:0", "+")
    <DateOffset: hours=12>
    >>> parse_clock_shift("1:0:0 0:0:0", "-")
    <DateOffset: years=-1>
    """
    if sign not in ("+", "-"):
        raise ValueError(f"clock-shift sign must be '+' or '-', got {sign!r}")
    k = 1 if sign == "+" else -1
    m = _SHIFT_RE.match(str(text))
    if m is None:
        try:
            seconds = float(str(text))
        except ValueError:
            raise ValueError(
                f"clock shift {text!r} is neither 'Y:m:d H:M:S' (camtrapR, e.g. '0:0:0 12:0:0') "
                "nor a number of seconds"
            ) from None
        return pd.DateOffset(seconds=k * seconds)
    y, mo, d, h, mi, s = (int(g) for g in m.groups())
    parts = {"years": y, "months": mo, "days": d, "hours": h, "minutes": mi, "seconds": s}
    return pd.DateOffset(**{key: k * v for key, v in parts.items() if v})


def apply_clock_shifts(
    times: pd.Series, deployment_ids: pd.Series, shifts: dict[str, pd.DateOffset], /,
) -> tuple[pd.Series, np.ndarray]:
    """Add each deployment's clock correction to its (naive, camera-clock) times.

    Returns
    -------
    times : Series of datetime64[ns]
        Corrected times (a new series).
    shifted : ndarray of bool
        Rows that a shift applied to.
    """
    out = pd.Series(times, copy=True).reset_index(drop=True)
    ids = pd.Series(deployment_ids, copy=False).reset_index(drop=True)
    shifted = np.zeros(len(out), bool)
    for dep, off in shifts.items():
        sel = (ids == dep).fillna(False).to_numpy(bool)
        if sel.any():
            out[sel] = out[sel] + off
            shifted |= sel
    return out, shifted


def implausible_times(
    times: pd.Series, start: pd.Series, end: pd.Series, /, *, now: Any = None,
    tolerance: timedelta = timedelta(0),
) -> pd.DataFrame:
    """Flags for times outside their deployment or in the future (all tz-aware UTC, aligned).

    Returns
    -------
    DataFrame
        Boolean columns ``beforeDeployment``, ``afterDeployment`` and ``future``.
    """
    now_ts = pd.Timestamp(datetime.now().astimezone()) if now is None else pd.Timestamp(now)
    if now_ts.tzinfo is None:
        raise ValueError("`now` must be timezone-aware")
    tol = pd.Timedelta(tolerance)
    return pd.DataFrame({
        "beforeDeployment": (times < start - tol).fillna(False).to_numpy(bool),
        "afterDeployment": (times > end + tol).fillna(False).to_numpy(bool),
        "future": (times > now_ts.tz_convert("UTC")).fillna(False).to_numpy(bool),
    })
