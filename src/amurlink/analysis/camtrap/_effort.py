"""Camera operation (effort) matrices with camtrapR's ``cameraOperation`` semantics."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from amurlink.analysis.camtrap._dates import has_hours, parse_datetimes, seconds
from amurlink.exceptions import SchemaError

__all__ = ["camera_operation", "effort_summary", "parse_camop_columns"]

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


def _utc(values: pd.Series) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(values, utc=True)).as_unit("ns")


def _days_by_year(start: pd.DatetimeIndex, end: pd.DatetimeIndex, years: np.ndarray
                  ) -> np.ndarray:
    """Days of each [start, end) interval that fall in each calendar year (UTC), rows x years."""
    s = start.asi8[:, None]
    e = end.asi8[:, None]
    y0 = np.array([pd.Timestamp(int(y), 1, 1, tz="UTC").value for y in years])[None, :]
    y1 = np.array([pd.Timestamp(int(y) + 1, 1, 1, tz="UTC").value for y in years])[None, :]
    return np.clip(np.minimum(e, y1) - np.maximum(s, y0), 0, None) / (DAY * 1e9)


def effort_summary(dataset: Any, /, *, station: str = "locationID") -> dict[str, pd.DataFrame]:
    """Survey effort of a dataset, computed once for every table that shows it.

    Three different things are counted and named as such:

    * **stations**: camera locations (``station``, default ``locationID``; a Chinese station
      with a photo and a video camera is one station);
    * **deployments**: rows of ``deployments`` (one camera at one station for one period);
      **cameras**: distinct ``cameraID`` (deployments when no camera ID is given);
    * **camera-days**: each deployment's span less its recorded gaps, summed over cameras;
      **trap-days**: days a station was working (camtrapR's ``cameraOperation`` by station,
      local days, at least one camera working), the denominator of relative abundance
      (:func:`amurlink.analysis.camtrap.relative_abundance` on the same matrix gives the same
      number).

    By year, camera-days split each deployment's days across the calendar years it spans
    (UTC), and trap-days each station's working days (local dates); both sum to the totals.

    Parameters
    ----------
    dataset : Dataset
        ``deployments`` (with ``deploymentDetails.countryCode`` for countries) and optional
        ``deploymentGaps``.
    station : str, default "locationID"
        Column of ``deployments`` that names the station (``deploymentID`` without it).

    Returns
    -------
    dict
        ``by_country`` (``country``, ``stations``, ``cameras``, ``deployments``,
        ``cameraDays``, ``trapDays``; a last row ``ALL``) and ``by_year`` (``year``,
        ``country``, ``cameraDays``, ``trapDays``).
    """
    from amurlink.analysis.camtrap._dataset import station_table

    dep = dataset.deployments
    if station not in dep.columns:
        station = "deploymentID"
    ids = dep["deploymentID"].astype(str).to_numpy()
    details = dataset.get("deploymentDetails")
    country = pd.Series("unknown", index=ids, dtype=object)
    if details is not None and "countryCode" in details:
        cmap = details.drop_duplicates("deploymentID").set_index(
            details.drop_duplicates("deploymentID")["deploymentID"].astype(str))["countryCode"]
        country = pd.Series(cmap.reindex(ids).fillna("unknown").to_numpy(object), index=ids)
    d0, d1 = _utc(dep["deploymentStart"]), _utc(dep["deploymentEnd"])
    years = np.arange(min(d0.year.min(), d1.year.min()), max(d0.year.max(), d1.year.max()) + 1) \
        if len(dep) else np.zeros(0, int)
    cam_days = _days_by_year(d0, d1, years)
    gaps = dataset.get("deploymentGaps")
    if gaps is not None and len(gaps):
        pos = pd.Index(ids).get_indexer(gaps["deploymentID"].astype(str))
        ok = pos >= 0
        g0 = _utc(gaps["gapStart"])[ok]
        g1 = _utc(gaps["gapEnd"])[ok]
        g0 = pd.DatetimeIndex(np.maximum(g0.asi8, d0.asi8[pos[ok]]), tz="UTC").as_unit("ns")
        g1 = pd.DatetimeIndex(np.minimum(g1.asi8, d1.asi8[pos[ok]]), tz="UTC").as_unit("ns")
        lost = _days_by_year(g0, g1, years)
        np.subtract.at(cam_days, pos[ok], lost)
        cam_days = np.clip(cam_days, 0, None)
    cams = dep["cameraID"].astype(object) if "cameraID" in dep else pd.Series(ids)
    cams = cams.where(cams.notna(), pd.Series(ids, index=cams.index)).astype(str).to_numpy()
    stations = dep[station].astype(object)
    stations = stations.where(stations.notna(), pd.Series(ids, index=stations.index))
    per = pd.DataFrame({"country": country.to_numpy(object),
                        "station": stations.astype(str).to_numpy(), "camera": cams,
                        "deploymentID": ids})
    # trap-days: the camera operation matrix by station (the same call as the report's RAI)
    trap_year = pd.DataFrame(columns=["country", "year", "trapDays"])
    if len(dep):
        st = station_table(dataset, station=station if station != "deploymentID"
                           else "deploymentID")
        problems = bool(_problem_columns(list(st.columns))[0])
        camop = camera_operation(st, has_problems=problems, station_col="Station",
                                 camera_col="Camera", by_camera=False, date_format="ymd HMS")
        st_country = per.drop_duplicates("station").set_index("station")["country"]
        rows = [str(i).split("__")[0] for i in camop.index]
        values = np.nan_to_num(camop.to_numpy(dtype=float))
        col_year = np.asarray([int(str(c)[:4]) for c in camop.columns])
        frame = pd.DataFrame(values, columns=col_year).T.groupby(level=0).sum().T
        frame["country"] = st_country.reindex(rows).fillna("unknown").to_numpy(object)
        trap_year = (frame.groupby("country").sum().rename_axis(columns="year").stack()
                     .rename("trapDays").reset_index())
    cam_year = pd.DataFrame(cam_days, columns=years)
    cam_year["country"] = per["country"].to_numpy(object)
    cam_year = (cam_year.groupby("country").sum().rename_axis(columns="year").stack()
                .rename("cameraDays").reset_index())
    by_year = cam_year.merge(trap_year, on=["country", "year"], how="outer").fillna(
        {"cameraDays": 0.0, "trapDays": 0.0})
    by_year["year"] = by_year["year"].astype(int)
    keep = (by_year["cameraDays"] > 0) | (by_year["trapDays"] > 0)
    by_year = by_year[keep].sort_values(["year", "country"]).reset_index(drop=True)
    by_year = by_year[["year", "country", "cameraDays", "trapDays"]]
    g = per.groupby("country", sort=True)
    tot = by_year.groupby("country")[["cameraDays", "trapDays"]].sum()
    by_country = pd.DataFrame({
        "stations": g["station"].nunique(), "cameras": g["camera"].nunique(),
        "deployments": g["deploymentID"].nunique()}).join(tot).fillna(0.0)
    by_country = by_country.rename_axis("country").reset_index()
    total = {"country": "ALL", "stations": per["station"].nunique(),
             "cameras": per["camera"].nunique(), "deployments": len(per),
             "cameraDays": float(by_country["cameraDays"].sum()),
             "trapDays": float(by_country["trapDays"].sum())}
    by_country = pd.concat([by_country, pd.DataFrame([total])], ignore_index=True)
    for c in ("stations", "cameras", "deployments"):
        by_country[c] = by_country[c].astype(np.int64)
    by_deployment = pd.DataFrame({"deploymentID": ids, "country": per["country"].to_numpy(object),
                                  "cameraDays": cam_days.sum(axis=1) if len(years) else
                                  np.zeros(len(ids))})
    return {"by_country": by_country, "by_year": by_year, "by_deployment": by_deployment}
