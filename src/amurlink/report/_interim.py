"""Interim cross-border tables, used only while ``amurlink.analysis.crossborder`` is unfinished.

Same column names as :class:`amurlink.analysis.crossborder.CrossBorderResult` for the columns
the report reads. Remove once the analysis module is complete.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from amurlink.core.border import distance_to_border_m
from amurlink.dataset import Dataset
from amurlink.report._view import band_distance_km

_COUNTRIES = ("CN", "RU")


@dataclass(frozen=True)
class InterimResult:
    encounters: pd.DataFrame
    individuals: pd.DataFrame
    summary: pd.DataFrame
    yearly: pd.DataFrame
    countries: tuple[str, ...] = _COUNTRIES
    parameters: dict[str, Any] = field(default_factory=dict)
    level: str = "exact"


def _joint_ids(dataset: Dataset) -> pd.Series:
    from amurlink.identify.links import empty_links, joint_identities

    links = dataset.get("identityLinks")
    ji = joint_identities(links if links is not None else empty_links(),
                          individuals=dataset.get("individuals"))
    ji = ji[ji["subjectType"] == "individual"]
    return ji.set_index("subject")[["jointID", "members"]]


def interim_crossborder(dataset: Dataset, stations: pd.DataFrame, *, border: Any,
                        level: str) -> InterimResult:
    obs = dataset.observations
    obs = obs[obs["individualID"].notna()]
    if "observationType" in obs:
        obs = obs[obs["observationType"].astype(object) == "animal"]
    joint = _joint_ids(dataset)
    st = stations.set_index("deploymentID")
    enc = pd.DataFrame({
        "encounterID": obs["observationID"].astype(object).to_numpy(),
        "source": "camera",
        "individualID": obs["individualID"].astype(object).to_numpy(),
        "scientificName": obs["scientificName"].astype(object).to_numpy(),
        "deploymentID": obs["deploymentID"].astype(object).to_numpy(),
        "time": pd.to_datetime(obs["eventStart"], utc=True).to_numpy(),
    })
    enc["time"] = pd.to_datetime(enc["time"], utc=True)
    enc["jointID"] = enc["individualID"].map(joint["jointID"]).fillna(enc["individualID"])
    enc["members"] = enc["individualID"].map(joint["members"]).fillna(enc["individualID"])
    enc["country"] = enc["deploymentID"].map(st["country"])
    lvl = enc["deploymentID"].map(st["level"]).to_numpy(object)
    x, y = enc["deploymentID"].map(st["x"]).to_numpy(float), \
        enc["deploymentID"].map(st["y"]).to_numpy(float)
    enc["distance_km"] = band_distance_km(distance_to_border_m(x, y, border=border) / 1000, lvl)
    enc["atBorder"] = False
    enc["nationalCountry"] = enc["individualID"].str.slice(0, 2)
    enc = enc.sort_values(["jointID", "time", "encounterID"], kind="stable").reset_index(drop=True)

    rows = []
    for jid, g in enc.groupby("jointID", sort=True):
        seq = g["country"].dropna().to_numpy(object)
        crossings = int((seq[1:] != seq[:-1]).sum()) if len(seq) > 1 else 0
        row = {"jointID": jid, "members": g["members"].iloc[0],
               "scientificName": g["scientificName"].iloc[0], "encounters": len(g),
               "crossings": crossings, "first_seen": g["time"].min(),
               "last_seen": g["time"].max(), "sources": "camera"}
        for cc in _COUNTRIES:
            inside = g["country"] == cc
            row[f"encounters_{cc}"] = int(inside.sum())
            row[f"max_distance_km_{cc}"] = g.loc[inside, "distance_km"].max() \
                if inside.any() else np.nan
        row["transboundary"] = all(row[f"encounters_{cc}"] > 0 for cc in _COUNTRIES)
        rows.append(row)
    ind = pd.DataFrame(rows)
    summary = _summary(ind, enc)
    enc["year"] = enc["time"].dt.year
    yearly = []
    for year, g in enc.groupby("year"):
        sub = interim_individuals_table(g)
        s = _summary(sub, g)
        s.insert(1, "year", year)
        yearly.append(s)
    yearly_df = pd.concat(yearly, ignore_index=True) if yearly else pd.DataFrame()
    return InterimResult(encounters=enc.drop(columns="year"), individuals=ind, summary=summary,
                         yearly=yearly_df, level=level)


def interim_individuals_table(enc: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for jid, g in enc.groupby("jointID", sort=True):
        seq = g["country"].dropna().to_numpy(object)
        row = {"jointID": jid, "scientificName": g["scientificName"].iloc[0],
               "crossings": int((seq[1:] != seq[:-1]).sum()) if len(seq) > 1 else 0,
               "members": g["members"].iloc[0]}
        for cc in _COUNTRIES:
            row[f"encounters_{cc}"] = int((g["country"] == cc).sum())
        row["transboundary"] = all(row[f"encounters_{cc}"] > 0 for cc in _COUNTRIES)
        rows.append(row)
    return pd.DataFrame(rows)


def _summary(ind: pd.DataFrame, enc: pd.DataFrame) -> pd.DataFrame:
    if ind.empty:
        return pd.DataFrame(columns=["scientificName", "individuals", "transboundary",
                                     "national_CN", "national_RU", "national_sum",
                                     "double_counted", "crossings"])
    rows = []
    for sp, g in ind.groupby("scientificName", sort=True):
        e = enc[enc["scientificName"] == sp]
        row = {"scientificName": sp, "individuals": len(g),
               "transboundary": int(g["transboundary"].sum())}
        total = 0
        for cc in _COUNTRIES:
            n = int(e.loc[e["nationalCountry"] == cc, "individualID"].nunique())
            row[f"national_{cc}"] = n
            total += n
        row["national_sum"] = total
        row["double_counted"] = total - len(g)
        row["crossings"] = int(g["crossings"].sum())
        rows.append(row)
    return pd.DataFrame(rows)
