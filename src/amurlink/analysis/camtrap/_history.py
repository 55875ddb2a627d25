"""Occupancy detection histories with camtrapR's ``detectionHistory`` semantics."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from amurlink.analysis.camtrap._dates import parse_datetimes, seconds
from amurlink.analysis.camtrap._effort import DAY, SESS, parse_camop_columns
from amurlink.exceptions import DataQualityWarning, SchemaError

__all__ = ["DetectionHistory", "detection_history"]


@dataclass(frozen=True)
class DetectionHistory:
    """Result of :func:`detection_history`.

    Attributes
    ----------
    detection_history : DataFrame or dict of str to DataFrame
        Stations by occasions (0/1 or counts; NaN = no effort / not set up); a dict keyed by
        species when several species were asked for.
    effort : DataFrame or None
        Active days per station and occasion (scaled when ``scale_effort``).
    effort_scaling : dict or None
        ``{"center": ..., "scale": ...}`` when the effort was scaled.
    """

    detection_history: pd.DataFrame | dict[str, pd.DataFrame]
    effort: pd.DataFrame | None = None
    effort_scaling: dict[str, float] | None = None


def _split_rows(names: Sequence[str]) -> pd.DataFrame:
    st, ss = [], []
    for n in names:
        if SESS in n:
            a, b = n.split(SESS, 1)
            st.append(a)
            ss.append(b)
        else:
            st.append(n)
            ss.append(None)
    return pd.DataFrame({"station": st, "session": ss})


def _first_last(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ok = ~np.isnan(m)
    any_ = ok.any(axis=1)
    first = np.where(any_, ok.argmax(axis=1), -1)
    last = np.where(any_, m.shape[1] - 1 - ok[:, ::-1].argmax(axis=1), -1)
    return first, last


def _effort(cam: np.ndarray, occ: int, *, include_effort: bool, min_active: float | None
            ) -> np.ndarray:
    n, d = cam.shape
    if occ == 1:
        return cam.copy()
    k = math.ceil(d / occ)
    eff = np.full((n, k), np.nan)
    for m in range(k):
        x = cam[:, m * occ: min((m + 1) * occ, d)]
        full = x.shape[1] == occ
        isna = np.isnan(x)
        s = np.nansum(x, axis=1)
        v = np.where(isna.all(axis=1), np.nan, s)
        nonzero = ((x != 0) & ~isna).any(axis=1)
        v = np.where(~nonzero, np.nan, v)  # all (non-missing) days 0 -> NA
        if min_active is not None:
            v = np.where(s < min_active, np.nan, v)
        elif not include_effort:
            v = np.where(isna.any(axis=1) | ((x == 0) & ~isna).any(axis=1), np.nan, v)
            if not full:
                v[:] = np.nan
        eff[:, m] = v
    return eff


def detection_history(
    records: pd.DataFrame,
    camop: pd.DataFrame,
    /,
    *,
    species: str | Sequence[str],
    occasion_length: int,
    output: str = "binary",
    station_col: str = "Station",
    species_col: str = "Species",
    datetime_col: str = "DateTimeOriginal",
    datetime_format: str = "%Y-%m-%d %H:%M:%S",
    day1: str = "survey",
    min_active_days: float | None = None,
    max_number_days: int | None = None,
    buffer: int | None = None,
    include_effort: bool = True,
    scale_effort: bool = False,
    dates_as_occasion_names: bool = False,
    unmarked_mult_frame: bool = False,
    time_zone: str | None = None,
) -> DetectionHistory:
    """Detection / non-detection (or count) histories by station and occasion.

    Parameters
    ----------
    records : DataFrame
        camtrapR record table (station, species, date-time columns).
    camop : DataFrame
        Camera operation matrix from :func:`camera_operation` (by station; sessions allowed).
    species : str or sequence of str
        Species to tabulate; several give a dict of histories sharing one effort matrix.
    occasion_length : int
        Days per occasion.
    output : {"binary", "count"}
        Presence (1) or the number of records per occasion.
    day1 : {"survey", "station"} or str
        Occasions start on the first set-up day of the survey, on each station's own set-up
        day, or on a date ``YYYY-MM-DD`` (earlier records are dropped with a warning).
    min_active_days : float, optional
        Occasions with fewer active days are missing.
    max_number_days : int, optional
        Days per station (from its first occasion) after which everything is missing.
    buffer : int, optional
        Days after set-up to skip (``day1`` "survey" or "station" only).
    include_effort : bool, default True
        Return the effort matrix; without it, occasions with any day missing or not
        working, and a shorter last occasion, are missing (camtrapR).
    scale_effort : bool, default False
        Centre and scale the effort (mean 0, sd 1) and return the parameters.
    dates_as_occasion_names : bool, default False
        Name occasions ``first-day_last-day`` instead of ``o1, o2, ...``.
    unmarked_mult_frame : bool, default False
        With sessions, one row per station and the sessions' occasions side by side (input
        for ``unmarkedMultFrame``); otherwise one row per station and session.
    time_zone : str, optional
        Zone in which tz-aware record times are read as local clock times (camtrapR
        ``timeZone``); naive times are used as they are.

    Returns
    -------
    DetectionHistory
        ``detection_history`` (NaN where there was no effort, never 0), ``effort`` and
        ``effort_scaling`` (see :class:`DetectionHistory`).

    Raises
    ------
    SchemaError
        Unknown species or stations, bad ``day1``, occasion length out of range.

    Warns
    -----
    DataQualityWarning
        When records before ``day1`` or after the last occasion are dropped.

    References
    ----------
    Niedballa J et al. (2016) camtrapR. Methods Ecol Evol 7:1457-1462.
    MacKenzie DI et al. (2002) Estimating site occupancy rates when detection probabilities
    are less than one. Ecology 83:2248-2255.
    """
    if not isinstance(species, str):
        sp = list(species)
        parts = dict(tuple(records.groupby(records[species_col].astype(str), sort=False)))
        res = [detection_history(
            parts.get(s, records.iloc[:0]), camop, species=s, occasion_length=occasion_length,
            output=output,
            station_col=station_col, species_col=species_col, datetime_col=datetime_col,
            datetime_format=datetime_format, day1=day1, min_active_days=min_active_days,
            max_number_days=max_number_days, buffer=buffer, include_effort=include_effort,
            scale_effort=scale_effort, dates_as_occasion_names=dates_as_occasion_names,
            unmarked_mult_frame=unmarked_mult_frame, time_zone=time_zone) for s in sp]
        return DetectionHistory({s: r.detection_history for s, r in zip(sp, res, strict=True)},
                                res[0].effort, res[0].effort_scaling)
    if output not in ("binary", "count"):
        raise ValueError(f"output must be 'binary' or 'count', got {output!r}")
    occ_len = int(round(occasion_length))
    if occ_len <= 0:
        raise ValueError("occasion_length must be a positive integer and not 0")
    if occ_len > camop.shape[1]:
        raise ValueError("occasion_length must be smaller than the total number of days in camop")
    if min_active_days is not None and min_active_days > occ_len:
        raise ValueError("min_active_days must be smaller than or equal to occasion_length")
    if not include_effort:
        scale_effort = False
    for c in (station_col, species_col, datetime_col):
        if c not in records.columns:
            raise SchemaError(f"{c!r} is not a column of the record table")
    sub = records.loc[records[species_col].astype(str) == species]
    if sub.empty:
        raise SchemaError(f"species {species} not found in {species_col} of the record table")
    when = sub[datetime_col]
    if pd.api.types.is_datetime64_any_dtype(when) and getattr(when.dt, "tz", None) is not None:
        when = when.dt.tz_convert(time_zone or "UTC").dt.tz_localize(None)
    t = parse_datetimes(when, datetime_format, where=datetime_col)
    rec_st = sub[station_col].astype(str).to_numpy().astype(object)
    rec_sec = seconds(t)

    dates, occ_start = parse_camop_columns(camop)
    rows = [str(r) for r in camop.index]
    info = _split_rows(rows)
    cam = camop.to_numpy(dtype=float)
    col_sec = seconds(pd.Series(pd.to_datetime(dates, format="%Y-%m-%d")))
    has_sessions = info["session"].notna().any()

    if has_sessions:
        rec_day = (rec_sec // DAY) * DAY
        lo, hi = col_sec.min(), col_sec.max()
        keep = (rec_day >= lo) & (rec_day <= hi)
        if (~keep).any():
            warnings.warn(f"{int((~keep).sum())} records were removed because they were outside "
                          "the camera operation dates", DataQualityWarning, stacklevel=2)
        rec_st, rec_sec, rec_day = rec_st[keep], rec_sec[keep], rec_day[keep]
        col_idx = ((rec_day - lo) // DAY).astype(int)
        sess = np.full(len(rec_st), None, dtype=object)
        for i, (s, ss) in enumerate(zip(info["station"], info["session"], strict=True)):
            at = rec_st == s
            ok = at & ~np.isnan(cam[i, col_idx])
            sess[ok] = ss
        na = np.array([v is None for v in sess], dtype=bool)
        if na.any():
            warnings.warn(f"{int(na.sum())} records were removed because they could not be "
                          "assigned to an active station / session", DataQualityWarning,
                          stacklevel=2)
        rec_st = np.array([f"{a}{SESS}{b}" for a, b in zip(rec_st[~na], sess[~na], strict=True)],
                          dtype=object)
        rec_sec = rec_sec[~na]
    unknown = sorted(set(pd.unique(rec_st)) - set(rows))
    if unknown:
        raise SchemaError("Not all values of the station column in the record table are "
                          f"matched by rownames of camop: {unknown[:5]}")

    # -- date ranges (createDateRangeTable) ----------------------------------------------
    first, last = _first_last(cam)
    buf = 0 if buffer is None else int(round(buffer))
    cam_min = np.where(first >= 0, col_sec[np.maximum(first, 0)], np.iinfo(np.int64).min)
    cam_max = np.where(last >= 0, col_sec[np.maximum(last, 0)], np.iinfo(np.int64).min)
    start_first = cam_min + buf * DAY + occ_start * 3600
    start_survey = cam_min[first >= 0].min() + buf * DAY + occ_start * 3600
    day1l = day1.lower()
    if day1l not in ("survey", "station"):
        try:
            d1 = int(seconds(pd.Series([pd.to_datetime(day1, format="%Y-%m-%d")]))[0])
        except (ValueError, TypeError) as exc:
            raise SchemaError("day1 can only be 'station', 'survey' or a date 'YYYY-MM-DD', "
                              f"got {day1!r}") from exc
        if buffer is not None:
            raise ValueError("if buffer is defined, day1 can only be 'survey' or 'station'")
        first_setup = cam_min[first >= 0].min()
        last_retr = cam_max[last >= 0].max()
        if d1 < first_setup:
            raise SchemaError(f"day1 ({day1}) is before the first station's setup date "
                              f"({_date(first_setup)})")
        if d1 > last_retr:
            raise SchemaError(f"day1 ({day1}) is after the last station's retrieval date "
                              f"({_date(last_retr)})")
        start_first = np.full(len(rows), d1 + occ_start * 3600, dtype=np.int64)
    end_last = cam_max + DAY - 1
    if max_number_days is not None:
        if max_number_days > cam.shape[1]:
            raise ValueError("max_number_days is larger than the number of camop columns")
        if max_number_days < occ_len:
            raise ValueError("max_number_days must be larger than or equal to occasion_length")
        base = start_survey if day1l not in ("survey", "station") else start_first
        end_last = np.minimum(end_last, base + max_number_days * DAY - 1)

    # -- adjust the operation matrix (adjustCameraOperationMatrix) ---------------------
    cam = cam.copy()
    bad = start_first > end_last
    if bad.all():
        raise ValueError("In all stations, the occasions begin after retrieval. "
                         "Choose a smaller buffer.")
    cam[bad] = np.nan
    col_of = {s: i for i, s in enumerate(col_sec.tolist())}
    for i in range(len(rows)):
        fc = col_of.get(int(start_first[i] - start_first[i] % DAY))
        if fc is not None and fc > 0:
            cam[i, :fc] = np.nan
        lc = col_of.get(int(end_last[i] - end_last[i] % DAY))
        # camtrapR quirk: only when last_col + 1 < ncol (1-based), i.e. lc + 2 < ncol here
        if lc is not None and lc + 2 < cam.shape[1]:
            cam[i, lc + 1:] = np.nan
    if max_number_days is not None:
        f2, _ = _first_last(cam)
        for i in range(len(rows)):
            if f2[i] >= 0 and f2[i] + max_number_days - 1 < cam.shape[1]:
                cam[i, f2[i] + max_number_days:] = np.nan
        keepc = ~np.isnan(cam).all(axis=0)
        cam, col_sec = cam[:, keepc], col_sec[keepc]
    if day1l == "station":
        f2, l2 = _first_last(cam)
        span = np.where(f2 >= 0, l2 - f2, -1)
        width = int(span.max()) + 1
        new = np.full((len(rows), width), np.nan)
        for i in range(len(rows)):
            if span[i] >= 0:
                new[i, : span[i] + 1] = cam[i, f2[i]: l2[i] + 1]
        cam = new
        cam_names = [f"day{i + 1}" for i in range(width)]
    else:
        lo_day = int(start_first.min() - start_first.min() % DAY)
        hi_day = int(end_last.max() - end_last.max() % DAY)
        keepc = np.ones(len(col_sec), dtype=bool)
        if lo_day in col_of:
            keepc &= col_sec >= lo_day
        if hi_day in col_of:
            keepc &= col_sec <= hi_day
        cam = cam[:, keepc]
        cam_names = [_date(s) for s in col_sec[keepc]]
    if occ_start != 0:
        cam_names = [f"{n}+{occ_start}h" for n in cam_names]

    eff = _effort(cam, occ_len, include_effort=include_effort, min_active=min_active_days)
    scaling = None
    if scale_effort:
        if occ_len == 1:
            raise ValueError("cannot scale effort if occasion_length is 1")
        vals = eff[~np.isnan(eff)]
        if np.unique(vals).size == 1:
            raise ValueError(f"all values of effort are identical ({vals[0]}). Cannot scale")
        center = float(vals.mean())
        scale = float(np.sqrt(((vals - center) ** 2).sum() / (vals.size - 1)))
        eff = (eff - center) / scale
        scaling = {"center": center, "scale": scale}

    # -- records (cleanSubsetSpecies) ---------------------------------------------------
    row_of = {r: i for i, r in enumerate(rows)}
    ri = pd.Series(rec_st, dtype=object).map(row_of).to_numpy(dtype=int) if len(rec_st) \
        else np.zeros(0, dtype=int)
    sf = start_first[ri]
    early = rec_sec < sf
    n_before = len(rec_sec)
    if early.any():
        warnings.warn(f"{int(early.sum())} records (out of {n_before}) were removed because "
                      "they were taken before day1, within the buffer period, or before "
                      "occasionStartTime on the 1st day", DataQualityWarning, stacklevel=2)
        ri, rec_sec = ri[~early], rec_sec[~early]
        if rec_sec.size == 0:
            raise SchemaError("No more records after removing records before survey begin")
    late = rec_sec > end_last[ri]
    if late.any():
        warnings.warn(f"{int(late.sum())} records (out of {n_before}) were removed because "
                      "they were taken after the end of the last occasion", DataQualityWarning,
                      stacklevel=2)
        ri, rec_sec = ri[~late], rec_sec[~late]
    t2 = np.full(len(ri), start_survey) if day1l == "survey" else start_first[ri]
    occ_idx = np.ceil((rec_sec - t2) / (occ_len * DAY)).astype(np.int64)
    if (occ_idx == 0).any():
        zero = occ_idx == 0
        midnight = (rec_sec % DAY) == 0
        fix = zero & midnight
        if fix.any():
            warnings.warn(f"{int(fix.sum())} records out of {len(rec_sec)} seem to have no time "
                          f"information; their time is taken as {occ_start}:00:01",
                          DataQualityWarning, stacklevel=2)
            rec_sec = np.where(fix, rec_sec + occ_start * 3600 + 1, rec_sec)
            occ_idx = np.ceil((rec_sec - t2) / (occ_len * DAY)).astype(np.int64)
        if (occ_idx == 0).any():
            raise SchemaError("occasion 0 computed for a record; give date and time")
    if occ_idx.size and occ_idx.max() > eff.shape[1]:
        raise SchemaError("records fall after the last occasion")

    hist = np.where(np.isnan(eff), np.nan, 0.0)
    if occ_idx.size:
        if output == "binary":
            hist[ri, occ_idx - 1] = 1.0
        else:
            cnt = np.zeros_like(hist)
            np.add.at(cnt, (ri, occ_idx - 1), 1.0)
            m = cnt > 0
            hist[m] = cnt[m]
    ref = cam if occ_len == 1 else eff
    hist[np.isnan(ref)] = np.nan
    if not scale_effort:
        hist[ref == 0] = np.nan

    k = hist.shape[1]
    if dates_as_occasion_names:
        seq = [1 + i * occ_len for i in range(k)]
        nm = cam_names + ["NA"] * (occ_len * 2 + 2)
        if occ_start != 0:
            names = [f"{nm[s - 1]}_{nm[s + occ_len - 1]}" for s in seq]
        else:
            names = [f"{nm[s - 1]}_{nm[s + occ_len - 2]}" for s in seq]
        if day1l == "station":
            names[-1] = f"{nm[max(seq) - 1]}_{cam_names[-1]}"
        else:
            names[-1] = f"{nm[max(seq) - 1]}_{_date(int(end_last.max()))}"
    else:
        names = [f"o{i + 1}" for i in range(k)]
    det = pd.DataFrame(hist, index=pd.Index(rows), columns=names)
    effd = pd.DataFrame(eff, index=pd.Index(rows), columns=names)

    if has_sessions and unmarked_mult_frame:
        det, effd = _wide(det, info), _wide(effd, info)
    if not include_effort:
        return DetectionHistory(det)
    return DetectionHistory(det, effd, scaling)


def _wide(frame: pd.DataFrame, info: pd.DataFrame) -> pd.DataFrame:
    stations = list(dict.fromkeys(info["station"]))
    sess = list(dict.fromkeys(info["session"]))
    try:
        sess = sorted(sess, key=float)
    except (TypeError, ValueError):
        sess = sorted(sess)
    parts = []
    for s in sess:
        m = (info["session"] == s).to_numpy()
        part = pd.DataFrame(np.nan, index=pd.Index(stations), columns=frame.columns)
        sub = frame.to_numpy()[m]
        for st_name, row in zip(info["station"][m], sub, strict=True):
            part.loc[st_name] = row
        parts.append(part)
    return pd.concat(parts, axis=1)


def _date(sec: int) -> str:
    return str(pd.Timestamp(int(sec), unit="s").date())
