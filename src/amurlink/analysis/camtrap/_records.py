"""camtrapR-style record tables: independence filter, duplicates, survey summaries."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from amurlink.analysis.camtrap._dates import parse_datetimes, seconds
from amurlink.analysis.events import independence_flags
from amurlink.exceptions import SchemaError

__all__ = ["detection_maps", "filter_record_table", "survey_report"]

_SUMMARY: dict[str, Callable[[np.ndarray], float]] = {
    "sum": np.nansum, "max": np.nanmax, "min": np.nanmin, "mean": np.nanmean,
    "median": np.nanmedian,
}


def filter_record_table(
    records: pd.DataFrame,
    /,
    *,
    min_delta_time: float = 0,
    compared_to: str = "lastIndependentRecord",
    station_col: str = "Station",
    species_col: str = "Species",
    camera_col: str | None = None,
    cameras_independent: bool = False,
    datetime_col: str = "DateTimeOriginal",
    datetime_format: str = "%Y-%m-%d %H:%M:%S",
    remove_duplicates: bool = True,
    exclude: tuple[str, ...] = (),
    event_summary: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Apply camtrapR's independence filter to a record table (``filterRecordTable``).

    Parameters
    ----------
    records : DataFrame
        camtrapR record table (one row per image or record).
    min_delta_time : float, default 0
        Minutes between independent records of a species (or individual, via
        ``species_col="Individual"``) at a station; 0 keeps every record.
    compared_to : {"lastIndependentRecord", "lastRecord"}
        What the gap is measured to.
    camera_col, cameras_independent
        With independent cameras the rule runs per camera.
    remove_duplicates : bool, default True
        Drop rows with the same station, species (camera) and time first; forced on when
        ``min_delta_time > 0`` (camtrapR).
    exclude : tuple of str
        Species to drop (case-insensitive).
    event_summary : mapping of str to str, optional
        Column to function (``sum``, ``max``, ``min``, ``mean``, ``median``) summarised per
        event into ``<column>_<function>`` (e.g. ``{"count": "max"}``).

    Returns
    -------
    DataFrame
        The independent records sorted by station, species and time, with
        ``delta.time.secs/mins/hours/days`` (to the compared record; 0 for the first) and
        ``n_images`` (records in the event) as camtrapR computes them.
    """
    for c in (station_col, species_col, datetime_col):
        if c not in records.columns:
            raise SchemaError(f"{c!r} is not a column of the record table")
    if camera_col is not None and camera_col not in records.columns:
        raise SchemaError(f"{camera_col!r} is not a column of the record table")
    cams = bool(cameras_independent and camera_col)
    tab = records.loc[:, [c for c in records.columns
                          if not c.startswith("delta.time") and c not in ("Date", "Time")]]
    if exclude:
        low = {e.lower() for e in exclude}
        tab = tab.loc[~tab[species_col].astype(str).str.lower().isin(low)]
    if min_delta_time > 0:
        remove_duplicates = True
    t = parse_datetimes(tab[datetime_col], datetime_format, where=datetime_col)
    keys = [station_col, species_col] + ([camera_col] if cams else [])
    fast = _sorted_codes(tab, keys)
    if fast is not None:
        tab, t, grp = _dedupe_and_sort(tab, t, fast, remove_duplicates)
    else:  # keys that are not plain text: pandas does the work
        if remove_duplicates:
            dup = pd.concat([t.rename("__t"), tab[keys].astype(str)], axis=1).duplicated()
            dup = dup.to_numpy()
            tab, t = tab.loc[~dup], t.loc[~dup]
        tab = tab.assign(__t=t.to_numpy())
        tab = tab.sort_values([station_col, species_col, "__t"], kind="stable")
        grp = pd.MultiIndex.from_frame(tab[keys].astype(str)).factorize()[0]
    secs = seconds(tab["__t"])
    _, indep, delta, _ = independence_flags(
        grp, secs, threshold_s=float(min_delta_time) * 60, compared_to=compared_to)
    if min_delta_time == 0:
        indep[:] = True
    n = len(tab)
    pos_indep = np.flatnonzero(indep)
    n_images = np.full(n, np.nan)
    summaries = {f"{c}_{f}": np.full(n, np.nan, dtype=object) for c, f in
                 (event_summary or {}).items()}
    # n_images as camtrapR: rows of the same group, at or after the record's time, before
    # the next independent row of the (station, species, time)-sorted table
    nxt = np.append(pos_indep[1:], n)
    rank = np.unique(secs, return_inverse=True)[1].astype(np.int64).ravel() + 1  # dense rank
    big = np.int64(n + 2)
    key_pos = np.sort(grp.astype(np.int64) * big + np.arange(n))
    key_t = np.sort(grp.astype(np.int64) * big + rank)
    gp = grp[pos_indep].astype(np.int64) * big
    n_images[pos_indep] = (np.searchsorted(key_pos, gp + nxt, side="left")
                           - np.searchsorted(key_t, gp + rank[pos_indep], side="left"))
    for j, p in enumerate(pos_indep if event_summary else []):
        m = (grp == grp[p]) & (secs >= secs[p])
        m[nxt[j]:] = False
        for c, f in event_summary.items():
            vals = pd.to_numeric(tab[c].to_numpy()[m], errors="coerce")
            if np.isnan(vals).all():
                continue
            summaries[f"{c}_{f}"][p] = _SUMMARY[f](vals)
    out = tab.loc[indep].drop(columns="__t").copy()
    d = np.round(delta[indep], 0)
    mins = np.round(d / 60, 1)
    hours = np.round(mins / 60, 1)
    out["Date"], out["Time"] = _date_and_time(tab["__t"].to_numpy(dtype="datetime64[s]")[indep])
    out["delta.time.secs"] = d
    out["delta.time.mins"] = mins
    out["delta.time.hours"] = hours
    out["delta.time.days"] = np.round(hours / 24, 1)
    out["n_images"] = n_images[indep].astype(int)
    for k, v in summaries.items():
        out[k] = v[indep]
    return out.reset_index(drop=True)


def _sorted_codes(tab: pd.DataFrame, keys: list[str]) -> list[np.ndarray] | None:
    """Integer codes of each key column, numbered in the columns' sort order.

    Only for text columns without missing values, where grouping by ``astype(str)`` and
    sorting by the values agree with sorting and grouping by these codes; otherwise None.
    """
    out = []
    for k in keys:
        col = tab[k]
        if isinstance(col.dtype, pd.StringDtype):
            if col.isna().any():
                return None
        elif col.dtype != object or pd.api.types.infer_dtype(col, skipna=False) != "string":
            return None
        out.append(np.asarray(pd.factorize(col, sort=True)[0], dtype=np.int64))
    return out


def _dedupe_and_sort(tab: pd.DataFrame, t: pd.Series, codes: list[np.ndarray],
                     remove_duplicates: bool) -> tuple[pd.DataFrame, pd.Series, np.ndarray]:
    """Drop repeated (keys, time) rows (keeping the first) and sort by station, species, time.

    The integer-code equivalent of ``duplicated()`` on the text keys and a stable
    ``sort_values([station, species, time])``: one ``np.lexsort`` each and one row take.
    Returns the table (with ``__t``), the times and a group code per row.
    """
    ns = t.to_numpy(dtype="datetime64[ns]").view(np.int64)
    group = np.zeros(len(tab), dtype=np.int64)
    for c in codes:  # combined key, compacted after each column (no overflow)
        group = np.asarray(pd.factorize(group * (int(c.max(initial=0)) + 1) + c)[0], np.int64)
    keep = np.arange(len(tab))
    if remove_duplicates and len(tab):
        order = np.lexsort((ns, group))  # stable: the first of equal rows comes first
        same = np.zeros(len(tab), dtype=bool)
        same[1:] = (group[order][1:] == group[order][:-1]) & (ns[order][1:] == ns[order][:-1])
        dup = np.empty(len(tab), dtype=bool)
        dup[order] = same
        keep = np.flatnonzero(~dup)
    pos = keep[np.lexsort((ns[keep], codes[1][keep], codes[0][keep]))]
    tab = tab.iloc[pos]
    t = t.iloc[pos]
    return tab.assign(__t=t.to_numpy()), t, group[pos]


def _date_and_time(when: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``YYYY-MM-DD`` and ``HH:MM:SS`` text of datetime64[s] values (as ``datetime_as_string``)."""
    lo, hi = np.datetime64("0000-01-01", "s"), np.datetime64("9999-12-31T23:59:59", "s")
    if when.size and not np.isnat(when).any() and when.min() >= lo and when.max() <= hi:
        # dates: format each distinct day once; times: digits from the seconds of the day
        days, inverse = np.unique(when.astype("datetime64[D]"), return_inverse=True)
        date = np.datetime_as_string(days)[inverse.ravel()]
        sod = when.astype(np.int64) % 86400
        h, m, sec = sod // 3600, sod // 60 % 60, sod % 60
        colon = np.full_like(h, ord(":") - 48)
        digits = np.stack([h // 10, h % 10, colon, m // 10, m % 10, colon, sec // 10, sec % 10],
                          axis=1) + 48
        return date, digits.astype(np.uint8).view("S8").ravel().astype("<U8")
    iso = np.datetime_as_string(when, unit="s").astype(str)
    return np.char.partition(iso, "T")[:, 0], np.char.partition(iso, "T")[:, 2]


def survey_report(
    records: pd.DataFrame,
    stations: pd.DataFrame,
    camop: pd.DataFrame,
    /,
    *,
    station_col: str = "Station",
    species_col: str = "Species",
    setup_col: str = "Setup_date",
    retrieval_col: str = "Retrieval_date",
    camera_col: str | None = None,
    date_format: str = "%Y-%m-%d",
    datetime_col: str = "DateTimeOriginal",
    datetime_format: str = "%Y-%m-%d %H:%M:%S",
) -> dict[str, pd.DataFrame]:
    """Survey summary tables as camtrapR's ``surveyReport``.

    Returns
    -------
    dict of str to DataFrame
        ``survey_dates`` (set-up, retrieval, first/last record, cameras, calendar days set
        up / active / inactive, active trap nights), ``species_by_station``,
        ``events_by_species``, ``events_by_station`` (non-zero) and ``events_by_station2``
        (every station x species).
    """
    st = stations.copy()
    st[station_col] = st[station_col].astype(str)
    setup = parse_datetimes(st[setup_col], date_format, where=setup_col).dt.normalize()
    retr = parse_datetimes(st[retrieval_col], date_format, where=retrieval_col).dt.normalize()
    rec = records.copy()
    rec[station_col] = rec[station_col].astype(str)
    t = parse_datetimes(rec[datetime_col], datetime_format, where=datetime_col)
    rec["__d"] = t.dt.normalize()
    missing = sorted(set(rec[station_col]) - set(st[station_col]))
    if missing:
        raise SchemaError(f"record-table stations {missing} are not in the station table")
    g = pd.DataFrame({station_col: st[station_col], "setup": setup, "retrieval": retr})
    dates = g.groupby(station_col).agg(setup=("setup", "min"), retrieval=("retrieval", "max"))
    im = rec.groupby(station_col)["__d"].agg(image_first="min", image_last="max")
    ncam = st.groupby(station_col).size().rename("n_cameras")
    sd = dates.join(im, how="inner").join(ncam)
    m = camop.to_numpy(dtype=float)
    ops = pd.DataFrame({
        "n_calendar_days_total": (m >= 0).sum(axis=1),
        "n_calendar_days_active": (m > 0).sum(axis=1),
        "n_calendar_days_inactive": (m == 0).sum(axis=1),
        "n_trap_nights_active": np.nansum(m, axis=1),
    }, index=pd.Index([str(i) for i in camop.index], name=station_col))
    sd = sd.join(ops, how="inner").reset_index()
    for c in ("setup", "retrieval", "image_first", "image_last"):
        sd[c] = sd[c].dt.strftime("%Y-%m-%d")
    species = sorted(rec[species_col].astype(str).unique())
    stations_sorted = sorted(st[station_col].unique())
    counts = rec.groupby([station_col, species_col]).size()
    full = counts.reindex(pd.MultiIndex.from_product([stations_sorted, species],
                                                     names=[station_col, species_col]),
                          fill_value=0).rename("n_events").reset_index()
    by_station = full.loc[full["n_events"] > 0].reset_index(drop=True)
    by_species = pd.DataFrame({
        "species": species,
        "n_events": [int((rec[species_col] == s).sum()) for s in species],
        "n_stations": [int(rec.loc[rec[species_col] == s, station_col].nunique())
                       for s in species],
    })
    spst = rec.groupby(station_col)[species_col].nunique().rename("n_species").reset_index()
    return {"survey_dates": sd, "species_by_station": spst, "events_by_species": by_species,
            "events_by_station": by_station, "events_by_station2": full}


def detection_maps(
    records: pd.DataFrame,
    stations: pd.DataFrame,
    /,
    *,
    x_col: str,
    y_col: str,
    station_col: str = "Station",
    species_col: str = "Species",
) -> pd.DataFrame:
    """Records per station and species with coordinates and richness (``detectionMaps``).

    Returns
    -------
    DataFrame
        ``station_col``, ``x_col``, ``y_col``, one column per species (records) and
        ``n_species``, one row per station of ``stations`` (sorted by station).
    """
    rec = records.assign(**{station_col: records[station_col].astype(str)})
    tab = pd.crosstab(rec[station_col], rec[species_col].astype(str))
    st = stations.assign(**{station_col: stations[station_col].astype(str)})
    st = st.drop_duplicates(station_col)[[station_col, x_col, y_col]].sort_values(station_col)
    out = st.merge(tab, left_on=station_col, right_index=True, how="left")
    sp = list(tab.columns)
    out[sp] = out[sp].fillna(0).astype(int)
    out["n_species"] = (out[sp] > 0).sum(axis=1)
    out.columns.name = None
    return out.reset_index(drop=True)
