"""Adapters from an amurlink Dataset to camtrapR-style tables, and relative abundance."""

from __future__ import annotations

import numpy as np
import pandas as pd

from amurlink.analysis.events import independent_events
from amurlink.dataset import Dataset

__all__ = ["naive_occupancy", "record_table", "relative_abundance", "station_table"]

FMT = "%Y-%m-%d %H:%M:%S"


def _zones(dataset: Dataset) -> pd.Series:
    dep = dataset.deployments
    det = dataset.get("deploymentDetails")
    z = pd.Series("UTC", index=dep["deploymentID"].astype(str))
    if det is not None and "timezone" in det:
        m = det.set_index(det["deploymentID"].astype(str))["timezone"].astype(object)
        z.loc[z.index.intersection(m.index)] = m.reindex(z.index.intersection(m.index))
    return z.fillna("UTC")


def _local(ts: pd.Series, zones: pd.Series) -> pd.Series:
    out = pd.Series(index=ts.index, dtype=object)
    for z in zones.unique():
        m = (zones == z).to_numpy()
        out[m] = pd.to_datetime(ts[m], utc=True).dt.tz_convert(z).dt.strftime(FMT)
    return out


def station_table(dataset: Dataset, /, *, station: str = "deploymentID") -> pd.DataFrame:
    """camtrapR station table from deployments and deploymentGaps, in local clock time.

    Set-up, retrieval and gaps are written as local date-times (``%Y-%m-%d %H:%M:%S``) in
    each deployment's ``deploymentDetails.timezone`` (UTC without it), so day boundaries
    are local midnights as camtrapR users expect; use ``date_format="ymd HMS"`` with
    :func:`camera_operation`. ``station="locationID"`` with ``Camera`` = ``deploymentID``
    treats deployments at one location as cameras of one station.

    Returns
    -------
    DataFrame
        ``Station``, ``Camera``, ``Setup_date``, ``Retrieval_date``, ``latitude``,
        ``longitude``, ``countryCode`` (when known) and ``ProblemN_from/to`` per gap.
    """
    dep = dataset.deployments
    zones = _zones(dataset).reindex(dep["deploymentID"].astype(str)).set_axis(dep.index)
    out = pd.DataFrame({
        "Station": dep[station].astype(str).to_numpy(),
        "Camera": dep["deploymentID"].astype(str).to_numpy(),
        "Setup_date": _local(dep["deploymentStart"], zones).to_numpy(),
        "Retrieval_date": _local(dep["deploymentEnd"], zones).to_numpy(),
        "latitude": dep["latitude"].to_numpy(dtype=float),
        "longitude": dep["longitude"].to_numpy(dtype=float),
        "timezone": zones.to_numpy(),
    })
    det = dataset.get("deploymentDetails")
    if det is not None and "countryCode" in det:
        cc = det.set_index(det["deploymentID"].astype(str))["countryCode"]
        out["countryCode"] = cc.reindex(out["Camera"]).to_numpy()
    gaps = dataset.get("deploymentGaps")
    if gaps is not None and len(gaps):
        g = gaps.assign(deploymentID=gaps["deploymentID"].astype(str))
        gz = _zones(dataset).reindex(g["deploymentID"]).set_axis(g.index)
        g = g.assign(f=_local(g["gapStart"], gz), t=_local(g["gapEnd"], gz))
        g = g.sort_values(["deploymentID", "gapStart"])
        g["k"] = g.groupby("deploymentID").cumcount() + 1
        for k in range(1, int(g["k"].max()) + 1):
            sub = g.loc[g["k"] == k].set_index("deploymentID")
            out[f"Problem{k}_from"] = sub["f"].reindex(out["Camera"]).to_numpy()
            out[f"Problem{k}_to"] = sub["t"].reindex(out["Camera"]).to_numpy()
    return out


def record_table(dataset: Dataset, /, *, threshold_min: float = 30.0,
                 compared_to: str = "lastIndependentRecord", station: str = "deploymentID",
                 independent_only: bool = True) -> pd.DataFrame:
    """camtrapR record table (Station, Species, DateTimeOriginal local) from observations.

    Animal observations pass through :func:`~amurlink.analysis.events.independent_events`
    (groups: ``station`` x species x individual); times are local clock times of each
    deployment's zone. Adds ``Camera``, ``individualID``, ``count`` and ``eventIndex``.
    """
    obs = dataset.observations
    obs = obs.loc[(obs["observationType"] == "animal") & obs["scientificName"].notna()]
    dep = dataset.deployments.set_index(dataset.deployments["deploymentID"].astype(str))
    obs = obs.assign(__st=dep[station].astype(str).reindex(
        obs["deploymentID"].astype(str)).to_numpy())
    ev = independent_events(obs, threshold_min=threshold_min, compared_to=compared_to,
                            by=("__st",))
    if independent_only:
        ev = ev.loc[ev["independent"]]
    zones = _zones(dataset).reindex(ev["deploymentID"].astype(str)).set_axis(ev.index)
    out = pd.DataFrame({
        "Station": ev["__st"].to_numpy(), "Camera": ev["deploymentID"].astype(str).to_numpy(),
        "Species": ev["scientificName"].astype(str).to_numpy(),
        "DateTimeOriginal": _local(ev["eventStart"], zones).to_numpy(),
        "eventStart": ev["eventStart"].to_numpy(),
        "individualID": ev["individualID"].astype(object).to_numpy()
        if "individualID" in ev else None,
        "count": ev["count"].astype("Float64").to_numpy() if "count" in ev else np.nan,
        "eventIndex": ev["eventIndex"].to_numpy(),
        "timezone": zones.to_numpy(),
    })
    return out.sort_values(["Station", "Species", "DateTimeOriginal"]).reset_index(drop=True)


def relative_abundance(records: pd.DataFrame, camop: pd.DataFrame, /, *,
                       by: str = "Station", stations: pd.DataFrame | None = None,
                       station_col: str = "Station", species_col: str = "Species"
                       ) -> pd.DataFrame:
    """Independent events per 100 trap-days by species and ``by`` (station, country, ...).

    Parameters
    ----------
    records : DataFrame
        Independent records (one row per event).
    camop : DataFrame
        Camera operation matrix by station; trap-days are its row sums.
    by : str, default "Station"
        ``Station``, ``"all"``, or a column of ``stations`` (e.g. ``countryCode``).

    Returns
    -------
    DataFrame
        ``by`` (unless "all"), ``Species``, ``events``, ``trapDays``, ``RAI``
        (events / trap-days x 100).
    """
    trap = pd.Series(np.nansum(camop.to_numpy(dtype=float), axis=1),
                     index=[str(i).split("__")[0] for i in camop.index]).groupby(level=0).sum()
    rec = records.assign(**{station_col: records[station_col].astype(str)})
    if by == "all":
        ev = rec.groupby(species_col).size().rename("events").reset_index()
        ev["trapDays"] = float(trap.sum())
    else:
        if by == station_col:
            key = pd.Series(trap.index, index=trap.index)
        else:
            if stations is None or by not in stations:
                raise ValueError(f"by={by!r} needs a stations table with that column")
            key = stations.drop_duplicates(station_col).set_index(
                stations.drop_duplicates(station_col)[station_col].astype(str))[by]
        td = trap.groupby(key.reindex(trap.index).to_numpy()).sum().rename("trapDays")
        rec = rec.assign(__by=key.reindex(rec[station_col]).to_numpy())
        ev = rec.groupby(["__by", species_col]).size().rename("events").reset_index()
        full = pd.MultiIndex.from_product([td.index, sorted(rec[species_col].unique())],
                                          names=["__by", species_col])
        ev = ev.set_index(["__by", species_col]).reindex(full, fill_value=0).reset_index()
        ev["trapDays"] = ev["__by"].map(td).to_numpy(dtype=float)
        ev = ev.rename(columns={"__by": by})
    ev["RAI"] = ev["events"] / ev["trapDays"] * 100.0
    return ev


def naive_occupancy(records: pd.DataFrame, camop: pd.DataFrame, /, *,
                    station_col: str = "Station", species_col: str = "Species"
                    ) -> pd.DataFrame:
    """Share of operating stations with at least one record, by species.

    Returns
    -------
    DataFrame
        ``Species``, ``stationsDetected``, ``stationsOperating``, ``naiveOccupancy``.
    """
    m = camop.to_numpy(dtype=float)
    names = [str(i).split("__")[0] for i in camop.index]
    operating = {n for n, row in zip(names, m, strict=True) if np.nansum(row) > 0}
    rec = records.loc[records[station_col].astype(str).isin(operating)]
    det = rec.groupby(species_col)[station_col].nunique()
    out = det.rename("stationsDetected").reset_index()
    out["stationsOperating"] = len(operating)
    out["naiveOccupancy"] = out["stationsDetected"] / len(operating)
    return out
