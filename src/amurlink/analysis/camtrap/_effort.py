"""Camera operation (effort) matrices with camtrapR's ``cameraOperation`` semantics."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from amurlink.analysis.camtrap._dates import has_hours, parse_datetimes, seconds
from amurlink.exceptions import SchemaError

__all__ = ["camera_operation", "parse_camop_columns"]

DAY = 86400
SESS = "__SESS_"
CAM = "__CAM_"
_PROBLEM = re.compile(r"^Problem(\d+)\S(from|to)$")


def _problem_columns(columns: list[str]) -> tuple[list[str], list[str]]:
    frm = sorted(c for c in columns if (m := _PROBLEM.match(c)) and m.group(2) == "from")
    to = sorted(c for c in columns if (m := _PROBLEM.match(c)) and m.group(2) == "to")
    return frm, to


def camera_operation(
    stations: pd.DataFrame,
    /,
    *,
    station_col: str = "Station",
    setup_col: str = "Setup_date",
    retrieval_col: str = "Retrieval_date",
    camera_col: str | None = None,
    session_col: str | None = None,
    has_problems: bool = False,
    by_camera: bool = False,
    all_cams_on: bool = False,
    cameras_independent: bool = False,
    date_format: str = "%Y-%m-%d",
    occasion_start_time: int = 0,
) -> pd.DataFrame:
    """Station (or camera) by day operation matrix, as camtrapR's ``cameraOperation``.

    Parameters
    ----------
    stations : DataFrame
        camtrapR station table: one row per station (or camera / session) with set-up,
        retrieval and optional ``ProblemX_from`` / ``ProblemX_to`` columns.
    station_col, setup_col, retrieval_col : str
        Column names.
    camera_col, session_col : str, optional
        Camera and session columns (several rows per station).
    has_problems : bool, default False
        Subtract the ``ProblemX_from`` / ``ProblemX_to`` malfunction periods.
    by_camera : bool, default False
        One row per camera instead of per station (needs ``camera_col``).
    all_cams_on : bool, default False
        A station counts only when all its cameras work.
    cameras_independent : bool, default False
        Sum the cameras' effort (values above 1) instead of counting the station once.
    date_format : str, default "%Y-%m-%d"
        strptime format or lubridate orders (``"dmy"``, ``"dmy H"``). Without hours, set-up
        and retrieval are taken as 12:00 (half a day) and problem days are whole days.
    occasion_start_time : int, default 0
        Hour (0-23) at which each day begins; columns are then named ``YYYY-MM-DD+Hh``.

    Returns
    -------
    DataFrame
        Rows ``Station``, ``Station__SESS_x``, ``Station__CAM_y`` or
        ``Station__SESS_x__CAM_y``; columns the days. NaN = not set up, 0 = set up but not
        working, fractions = part days (rounded to 4 decimals as camtrapR), values above 1 =
        working cameras when cameras are independent.

    Raises
    ------
    SchemaError
        Duplicate stations without camera/session columns, set-up equal to or after
        retrieval, problems outside the deployment, unreadable dates.

    References
    ----------
    Niedballa J, Sollmann R, Courtiol A, Wilting A (2016) camtrapR: an R package for
    efficient camera trap data management. Methods Ecol Evol 7:1457-1462.
    """
    if not 0 <= int(occasion_start_time) <= 23:
        raise ValueError("occasion_start_time must be an hour between 0 and 23")
    occ = int(round(occasion_start_time))
    for c in (station_col, setup_col, retrieval_col):
        if c not in stations.columns:
            raise SchemaError(f"{c!r} is not a column of the station table; it has "
                              f"{list(stations.columns)}")
    if by_camera and camera_col is None:
        raise ValueError("by_camera=True needs camera_col")
    t = stations.reset_index(drop=True)
    st = t[station_col].astype(str)
    if camera_col is None and session_col is None and st.duplicated().any():
        counts = st.value_counts()
        counts = counts[counts >= 2].sort_index()
        listing = "\n".join(f"{k}: {v}" for k, v in counts.items())
        raise SchemaError(f"{len(counts)} stations have more than 1 item in the station table. "
                          f"Please specify camera_col or session_col\n{listing}")
    keys = [station_col] + ([camera_col] if camera_col else []) + \
        ([session_col] if session_col else [])
    if (camera_col or session_col) and t[keys].astype(str).duplicated().any():
        raise SchemaError(f"some {'/'.join(keys)} combinations have more than 1 row")
    for col, what in ((station_col, "Station"), (camera_col, "Camera"), (session_col, "Session")):
        if col and t[col].astype(str).str.contains("__").any():
            raise SchemaError(f"{what} IDs may not contain double underscores __")
    fraction = has_hours(date_format)
    setup = parse_datetimes(t[setup_col], date_format, where=setup_col)
    retr = parse_datetimes(t[retrieval_col], date_format, where=retrieval_col)
    if not fraction:
        setup = setup.dt.normalize() + pd.Timedelta(hours=12)
        retr = retr.dt.normalize() + pd.Timedelta(hours=12)
    s_sec, r_sec = seconds(setup), seconds(retr)
    same = np.flatnonzero(s_sec == r_sec)
    if same.size:
        raise SchemaError(f"row {', '.join(str(i + 1) for i in same)}: setup is identical "
                          "to retrieval")
    late = s_sec > r_sec
    if late.any():
        raise SchemaError("Setup Date after Retrieval Date: " + ", ".join(st[late]))
    start = s_sec
    end = r_sec - 1  # camtrapR: retrieval minus one second
    day0 = setup.dt.normalize().min()
    day_last = retr.dt.normalize().max()
    days = pd.date_range(day0, day_last, freq="D")
    d0 = int(seconds(pd.Series([day0]))[0])
    day_start = d0 + np.arange(len(days), dtype=np.int64) * DAY + occ * 3600
    day_end = day_start + DAY - 1
    lo = np.maximum(start[:, None], day_start[None, :])
    hi = np.minimum(end[:, None], day_end[None, :])
    ov = hi - lo
    values = np.where(ov >= 0, ov / DAY, np.nan)

    if has_problems:
        frm_cols, to_cols = _problem_columns(list(t.columns))
        if not frm_cols:
            raise SchemaError("could not find column ProblemX_from")
        if not to_cols:
            raise SchemaError("could not find column ProblemX_to")
        if len(frm_cols) != len(to_cols):
            raise SchemaError("numbers of Problem..._from and Problem..._to columns differ; "
                              "name them Problem1_from, Problem1_to, ...")
        pf = [parse_datetimes(t[c], date_format, where=c, allow_missing=True) for c in frm_cols]
        pt = [parse_datetimes(t[c], date_format, where=c, allow_missing=True) for c in to_cols]
        if all(p.isna().all() for p in pf) or pf[-1].isna().all():
            raise SchemaError("in Problem_from column(s), all values are NA")
        if pt[-1].isna().all():
            raise SchemaError("in Problem_to column(s), all values are NA")
        if not fraction:
            pf = [p.dt.normalize() for p in pf]
            pt = [p.dt.normalize() for p in pt]
            on_setup = pf[0].dt.normalize() == setup.dt.normalize()
            pf[0] = pf[0].where(~on_setup, setup)
            on_retr = pt[-1].dt.normalize() == retr.dt.normalize()
            pt[-1] = pt[-1].where(~on_retr, retr)
        for p in pf:
            bad = (setup.dt.normalize() > p) if not fraction else (setup > p)
            if bad.fillna(False).any():
                raise SchemaError(", ".join(st[bad.fillna(False)]) + ": Problem begins before "
                                  "Setup")
        for p in pt:
            bad = (retr < p).fillna(False)
            if bad.any():
                raise SchemaError(", ".join(st[bad]) + ": Problem ends after retrieval")
        remove = np.zeros_like(values)
        for k, (f, e) in enumerate(zip(pf, pt, strict=True)):
            fna, ena = f.isna().to_numpy(), e.isna().to_numpy()
            if (fna & ~ena).any():
                i = int(np.flatnonzero(fna & ~ena)[0])
                raise SchemaError(f"row {i + 1}: Problem{k + 1}_from is NA, but Problem_to is not")
            if (~fna & ena).any():
                i = int(np.flatnonzero(~fna & ena)[0])
                raise SchemaError(f"row {i + 1}: Problem{k + 1}_from is set but Problem_to is NA")
            ok = ~fna
            if not ok.any():
                continue
            fs = np.where(ok, seconds(f.fillna(pd.Timestamp(0))), 0)
            es = np.where(ok, seconds(e.fillna(pd.Timestamp(0))), 0)
            if not fraction:
                es = np.minimum(es + DAY - 1, end)
            es = es - 1
            if (ok & (es < fs)).any():
                i = int(np.flatnonzero(ok & (es < fs))[0])
                raise SchemaError(f"row {i + 1}: Problem ends before it starts")
            plo = np.maximum(fs[:, None], day_start[None, :])
            phi = np.minimum(es[:, None], day_end[None, :])
            pov = phi - plo
            remove += np.where(ok[:, None] & (pov >= 0), pov / DAY, 0.0)
        values = values - remove
    values = np.round(values, 4)

    names = [str(d.date()) for d in days]
    if occ != 0:
        names = [f"{n}+{occ}h" for n in names]
    cam = t[camera_col].astype(str) if camera_col else None
    sess = t[session_col].astype(str) if session_col else None
    if camera_col is None or by_camera:
        rows = st.copy()
        if sess is not None:
            rows = rows + SESS + sess
        if cam is not None:
            rows = rows + CAM + cam
        return pd.DataFrame(values, index=pd.Index(rows.tolist()), columns=names)
    return _aggregate(values, st, sess, names, all_cams_on=all_cams_on,
                      cameras_independent=cameras_independent, fraction=fraction)


def _aggregate(values: np.ndarray, st: pd.Series, sess: pd.Series | None, names: list[str], *,
               all_cams_on: bool, cameras_independent: bool, fraction: bool) -> pd.DataFrame:
    sess_key = sess if sess is not None else pd.Series(["1"] * len(st))
    groups = pd.DataFrame({"sess": sess_key, "st": st})
    # R aggregate(): groups sorted by the last grouping variable, then the first
    uniq = groups.drop_duplicates().copy()
    try:
        uniq["_s"] = pd.to_numeric(uniq["sess"])
    except (ValueError, TypeError):
        uniq["_s"] = uniq["sess"]
    uniq = uniq.sort_values(["_s", "st"], kind="stable")
    out = np.full((len(uniq), values.shape[1]), np.nan)
    labels = []
    for j, (_, row) in enumerate(uniq.iterrows()):
        m = ((groups["st"] == row["st"]) & (groups["sess"] == row["sess"])).to_numpy()
        x = values[m]
        anyna = np.isnan(x).any(axis=0)
        allna = np.isnan(x).all(axis=0)
        all1 = (x == 1).all(axis=0)
        non1 = ((x != 1) & ~np.isnan(x)).any(axis=0)
        n = x.shape[0]
        with np.errstate(invalid="ignore"):
            if all_cams_on:
                if cameras_independent and fraction:
                    v = np.where(anyna, np.nan, np.where(all1, x.sum(axis=0),
                                                         x.min(axis=0) * n))
                elif cameras_independent:
                    v = np.where(non1, 0.0, np.where(anyna, np.nan, x.sum(axis=0)))
                elif fraction:
                    v = np.where(anyna, np.nan, x.min(axis=0))
                else:
                    v = np.where(non1, 0.0, np.where(anyna, np.nan, 1.0))
            else:
                s = np.nansum(x, axis=0)
                if cameras_independent:
                    v = s
                elif fraction:
                    cnt = (~np.isnan(x)).sum(axis=0)
                    v = np.where(cnt > 0, s / np.maximum(cnt, 1), np.nan)
                else:
                    v = np.where(s >= 1, 1.0, s)
                v = np.where(allna, np.nan, v)
                if not cameras_independent and not fraction:
                    v = np.where(v >= 2, 1.0, v)
        out[j] = v
        labels.append(row["st"] if sess is None else f"{row['st']}{SESS}{row['sess']}")
    return pd.DataFrame(out, index=pd.Index(labels), columns=names)


def parse_camop_columns(camop: pd.DataFrame) -> tuple[list[str], int]:
    """Dates of a camera operation matrix's columns and its occasion start hour."""
    cols = [str(c) for c in camop.columns]
    if cols and all("+" in c for c in cols):
        dates = [c.split("+")[0] for c in cols]
        hours = {c.split("+")[1] for c in cols}
        if len(hours) != 1:
            raise SchemaError("camera operation columns mix occasion start times")
        occ = int(next(iter(hours)).rstrip("h"))
    else:
        dates, occ = cols, 0
    try:
        pd.to_datetime(pd.Series(dates), format="%Y-%m-%d")
    except (ValueError, TypeError) as exc:
        raise SchemaError(
            "could not read the camera operation column names as dates YYYY-MM-DD or "
            f"YYYY-MM-DD+Xh (first: {cols[0] if cols else None!r})") from exc
    return dates, occ
