"""The period and band tables on a random landscape against plain pandas definitions.

Thousands of detections of a hundred individuals (some linked across the border), with times
on year and season boundaries and tied times, so that any faster implementation of the
tables must give the same numbers as the definitions written out here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from amurlink.analysis.crossborder import (
    DEFAULT_SEASONS,
    crossborder,
    distance_bands,
    seasonal_table,
    yearly_table,
)
from amurlink.core.border import Border
from amurlink.core.crs import from_metric
from amurlink.testing import typed_frame

X0, Y0 = 650_000.0, 4_760_000.0
N_CAM, N_IND, N_OBS = 30, 100, 3_000


def random_case(seed: int):
    rng = np.random.default_rng(seed)
    line = shapely.LineString([(X0, Y0), (X0, Y0 + 60_000)])
    border = Border.from_geometries(line, countries={
        "CN": shapely.box(X0 - 30_000, Y0, X0, Y0 + 60_000),
        "RU": shapely.box(X0, Y0, X0 + 30_000, Y0 + 60_000)})
    cx = X0 + rng.uniform(-25_000, 25_000, N_CAM)
    cx[:3] = X0 + np.array([-100.0, 120.0, 240.0])  # at the border
    cy = Y0 + rng.uniform(1_000, 59_000, N_CAM)
    lon, lat = from_metric(cx, cy)
    side = np.where(cx < X0, "CN", "RU")
    deps = [f"D{i:02d}" for i in range(N_CAM)]
    deployments = typed_frame("deployments", [
        {"deploymentID": d, "latitude": la, "longitude": lo,
         "deploymentStart": "2014-01-01T00:00:00Z", "deploymentEnd": "2017-01-01T00:00:00Z"}
        for d, lo, la in zip(deps, lon, lat, strict=True)])
    details = typed_frame("deploymentDetails", [
        {"deploymentID": d, "countryCode": c, "timezone": "UTC"}
        for d, c in zip(deps, side, strict=True)])
    # times: uniform over three years, plus some on the last/first minute of a year and month
    base = pd.Timestamp("2014-01-01T00:00:00Z").value // 10**9
    secs = base + rng.integers(0, 3 * 365 * 86_400, N_OBS)
    edges = pd.to_datetime(["2014-12-31T23:59:59Z", "2015-01-01T00:00:00Z",
                            "2015-02-28T23:59:59Z", "2015-03-01T00:00:00Z",
                            "2015-11-30T23:59:59Z", "2015-12-01T00:00:00Z"]).astype(np.int64)
    secs[:300] = rng.choice(edges // 10**9, 300)
    secs[300:400] = secs[400:500]  # tied times
    who = rng.integers(0, N_IND, N_OBS)
    cam = rng.integers(0, N_CAM, N_OBS)
    linked = who < 30  # one identity, a national ID on each side
    nat = np.where(linked & (side[cam] == "RU"), [f"RU-LLNP:R{w}" for w in who],
                   [f"CN-NTLNP:T{w}" for w in who])
    species = np.where(who % 3 == 0, "Panthera pardus", "Panthera tigris")
    observations = typed_frame("observations", [
        {"observationID": f"o{i:05d}", "deploymentID": deps[c],
         "eventStart": pd.Timestamp(int(s), unit="s", tz="UTC"),
         "eventEnd": pd.Timestamp(int(s), unit="s", tz="UTC"),
         "observationLevel": "event", "observationType": "animal", "scientificName": sp,
         "individualID": n, "count": 1}
        for i, (c, s, sp, n) in enumerate(zip(cam, secs, species, nat, strict=True))])
    links = typed_frame("identityLinks", [
        {"linkEventID": f"E{w}", "subjectA": f"CN-NTLNP:T{w}", "subjectB": f"RU-LLNP:R{w}",
         "method": "photo", "status": "confirmed", "timestamp": "2017-01-01T00:00:00Z"}
        for w in range(30)])
    from amurlink.dataset import Dataset

    ds = Dataset({"deployments": deployments, "media": typed_frame("media", []),
                  "observations": observations, "deploymentDetails": details,
                  "identityLinks": links})
    return ds, border


@pytest.fixture(scope="module", params=[1, 2])
def case(request):
    ds, border = random_case(request.param)
    return crossborder(ds, border=border, life_stage=None)


def _crossings(enc: pd.DataFrame) -> pd.Series:
    """Per jointID: country changes between consecutive encounters not at the border."""
    e = enc[~enc["atBorder"] & enc["country"].notna()].copy()
    e["eid"] = e["encounterID"].astype(str)
    e = e.sort_values(["jointID", "time", "eid"])
    out = {}
    for j, g in e.groupby("jointID", observed=True):
        c = g["country"].astype(str).to_numpy()
        out[j] = int((c[1:] != c[:-1]).sum())
    return pd.Series(out, dtype=np.int64)


def _reference_summary(enc: pd.DataFrame, period: pd.Series) -> pd.DataFrame:
    rows = []
    enc = enc.assign(_p=period.to_numpy())
    for (sp, p), g in enc.groupby([enc["scientificName"].astype(str), "_p"]):
        inner = g[~g["atBorder"] & g["country"].notna()]
        ncty = inner.groupby(inner["jointID"].astype(str))["country"].nunique()
        rows.append({"scientificName": sp, "period": p,
                     "individuals": g["jointID"].nunique(),
                     "transboundary": int((ncty >= 2).sum()),
                     "crossings": int(_crossings(g).sum())})
    return pd.DataFrame(rows).sort_values(["scientificName", "period"]).reset_index(drop=True)


def test_encounters_are_sorted_by_joint_time_id(case):
    enc = case.encounters
    key = pd.DataFrame({"j": enc["jointID"].astype(str), "t": enc["time"],
                        "e": enc["encounterID"].astype(str)})
    assert key.equals(key.sort_values(["j", "t", "e"]).reset_index(drop=True))
    assert enc["atBorder"].any() and enc["country"].nunique() == 2


def test_yearly_table_against_definition(case):
    enc = case.encounters
    got = yearly_table(enc).rename(columns={"year": "period"})
    want = _reference_summary(enc, enc["time"].dt.tz_convert("UTC").dt.year)
    cols = ["scientificName", "period", "individuals", "transboundary", "crossings"]
    pd.testing.assert_frame_equal(got[cols].reset_index(drop=True), want[cols],
                                  check_dtype=False)
    assert set(got["period"]) == {2014, 2015, 2016}


def test_seasonal_table_against_definition(case):
    enc = case.encounters
    t = enc["time"].dt.tz_convert("UTC")
    season = t.dt.month.map(DEFAULT_SEASONS)
    season_year = t.dt.year + (t.dt.month == 12)
    got = seasonal_table(enc)
    got = got.assign(period=got["seasonYear"].astype(str) + " " + got["season"])
    want = _reference_summary(enc, season_year.astype(str) + " " + season)
    cols = ["scientificName", "period", "individuals", "transboundary", "crossings"]
    got = got.sort_values(["scientificName", "period"])[cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want[cols], check_dtype=False)
    # December belongs to the winter of the next year
    dec = enc[t.dt.month == 12]
    assert len(dec)


def test_distance_bands_against_definition(case):
    enc = case.encounters
    edges = [0.0, 1.0, 2.0, 5.0, 10.0, 20.0]
    got = distance_bands(enc, bands_km=edges)
    e = enc[enc["country"].notna() & enc["distance_km"].notna()]
    band = np.clip(np.searchsorted(edges, e["distance_km"], side="right") - 1, 0,
                   len(edges) - 1)
    f = pd.DataFrame({"s": e["scientificName"].astype(str).to_numpy(),
                      "c": e["country"].astype(str).to_numpy(), "b": band,
                      "j": e["jointID"].astype(str).to_numpy()})
    rows = []
    for (s, c), g in f.groupby(["s", "c"]):
        for b in range(len(edges)):
            gb = g[g["b"] == b]
            rows.append((s, c, b, len(gb), gb["j"].nunique()))
    want = pd.DataFrame(rows, columns=["s", "c", "b", "encounters", "individuals"])
    assert got["scientificName"].tolist() == want["s"].tolist()
    assert got["country"].tolist() == want["c"].tolist()
    assert got["lower_km"].tolist() == [edges[b] for b in want["b"]]
    assert got["encounters"].tolist() == want["encounters"].tolist()
    assert got["individuals"].tolist() == want["individuals"].tolist()
    assert got["encounters"].sum() == len(e)
