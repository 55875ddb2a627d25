"""Private conflict checks of joint identities: one catalogue, rejected pairs, space-time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyproj import Geod

from amurlink.exceptions import SchemaError
from amurlink.identify._links_core import to_utc

__all__ = ["ConflictRule", "CONFLICT_COLUMNS", "detections", "conflicts_between"]

#: Columns of a conflicts frame (before ``jointID`` is added).
CONFLICT_COLUMNS: tuple[str, ...] = ("group", "kind", "subjectA", "subjectB", "detail")
_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class ConflictRule:
    """When two detections show two IDs cannot be one animal.

    Two detections of different IDs that are at most ``window`` apart in time conflict when
    they lie farther apart than ``max_speed_kmh * |dt| + tolerance_km`` (great-circle distance
    on the WGS84 ellipsoid between the deployments' coordinates).

    Parameters
    ----------
    window : Timedelta or str, optional
        Largest time between the two detections that is compared, default 1 hour. Beyond a few
        hours a fixed speed limit says little (a tiger can walk 20-30 km in a night).
    max_speed_kmh : float, optional
        Fastest sustained travel in km/h that is plausible, default 10 (tigers and leopards
        walk 1-5 km/h; sustained 10 km/h over an hour is far beyond what tracking shows).
    tolerance_km : float, optional
        Distance in km always allowed, default 5: covers coordinate uncertainty, cameras of one
        station, obfuscated coordinates and small clock drift.

    Examples
    --------
    >>> rule = ConflictRule()
    >>> float(rule.limit_km(0.5))  # 30 min apart: 10 km/h * 0.5 h + 5 km
    10.0
    """

    window: pd.Timedelta = pd.Timedelta(hours=1)
    max_speed_kmh: float = 10.0
    tolerance_km: float = 5.0

    def __post_init__(self) -> None:
        try:
            window = pd.Timedelta(self.window)
        except ValueError:
            raise ValueError(
                f"window must be a duration such as '1h', got {self.window!r}") from None
        if pd.isna(window) or window <= pd.Timedelta(0):
            raise ValueError(f"window must be a positive duration, got {self.window!r}")
        if not np.isfinite(self.max_speed_kmh) or self.max_speed_kmh < 0:
            raise ValueError(
                f"max_speed_kmh must be a finite number >= 0, got {self.max_speed_kmh!r}")
        if not np.isfinite(self.tolerance_km) or self.tolerance_km < 0:
            raise ValueError(
                f"tolerance_km must be a finite number >= 0, got {self.tolerance_km!r}")
        object.__setattr__(self, "window", window)
        object.__setattr__(self, "max_speed_kmh", float(self.max_speed_kmh))
        object.__setattr__(self, "tolerance_km", float(self.tolerance_km))

    def limit_km(self, dt_hours: np.ndarray | float) -> np.ndarray:
        """Largest plausible distance in km between detections ``dt_hours`` apart."""
        return self.max_speed_kmh * np.abs(np.asarray(dt_hours, dtype=float)) + self.tolerance_km


def detections(
    observations: pd.DataFrame | None,
    deployments: pd.DataFrame | None,
    subjects: pd.Series,
) -> pd.DataFrame | None:
    """Distinct (subject, deployment, time) detections of ``subjects`` with coordinates.

    ``None`` when either table is missing (the space-time check is then skipped). Times are
    the records' ``eventStart`` as harmonised, i.e. with documented camera clock shifts
    applied. Records whose time lies outside their deployment (before set-up, after
    retrieval: a camera clock a year or more off, or never set) are left out, since their
    time cannot be trusted; ``observationID`` (where given) names the record behind each
    detection.
    """
    if observations is None or deployments is None:
        return None
    for frame, name, cols in (
        (observations, "observations", ("deploymentID", "eventStart", "individualID")),
        (deployments, "deployments", ("deploymentID", "latitude", "longitude")),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise SchemaError(f"`{name}` lacks column(s) {missing} needed for the space-time "
                              "conflict check")
    wanted = pd.Index(pd.unique(subjects.astype(object).astype(str)))
    ids = observations["individualID"].astype(object)
    keep = ids.notna().to_numpy(bool)
    keep[keep] = ids[keep].astype(str).isin(wanted).to_numpy(bool)
    has_id = "observationID" in observations.columns
    cols = ["individualID", "deploymentID", "eventStart"] + (["observationID"] if has_id else [])
    obs = observations.loc[keep, cols]
    obs = pd.DataFrame({
        "subject": obs["individualID"].astype(object).astype(str).to_numpy(),
        "deploymentID": obs["deploymentID"].astype(object).to_numpy(),
        "eventStart": to_utc(obs["eventStart"], what="`observations.eventStart`").to_numpy(),
        "observationID": (obs["observationID"].astype(object).to_numpy() if has_id
                          else np.full(len(obs), None, dtype=object)),
    })
    obs = obs.dropna(subset=["eventStart", "deploymentID"]).drop_duplicates(
        ["subject", "deploymentID", "eventStart"])
    spans = all(c in deployments.columns for c in ("deploymentStart", "deploymentEnd"))
    dep = deployments[["deploymentID", "latitude", "longitude"]
                      + (["deploymentStart", "deploymentEnd"] if spans else [])]
    dep = dep.dropna(subset=["deploymentID", "latitude", "longitude"])
    dep = pd.DataFrame({
        "deploymentID": dep["deploymentID"].astype(object).to_numpy(),
        "lat": dep["latitude"].astype(float).to_numpy(),
        "lon": dep["longitude"].astype(float).to_numpy(),
        **({"_d0": pd.to_datetime(dep["deploymentStart"], utc=True).to_numpy(),
            "_d1": pd.to_datetime(dep["deploymentEnd"], utc=True).to_numpy()} if spans else {}),
    }).drop_duplicates("deploymentID")
    out = obs.merge(dep, on="deploymentID", how="inner")
    out["eventStart"] = pd.to_datetime(out["eventStart"], utc=True)
    if spans:
        t = out["eventStart"].to_numpy()
        d0, d1 = out["_d0"].to_numpy(), out["_d1"].to_numpy()
        unknown = pd.isna(d0) | pd.isna(d1)
        inside = unknown | ((t >= d0) & (t <= d1))
        out = out[inside].drop(columns=["_d0", "_d1"])
    out["t"] = out["eventStart"].astype("int64")
    return out.reset_index(drop=True)


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object if c != "group" else "int64")
                         for c in CONFLICT_COLUMNS})


def _record(observation_id: object) -> str:
    """``record O123: `` naming the observation behind a detection (empty when unknown)."""
    if observation_id is None or (isinstance(observation_id, float) and np.isnan(observation_id)):
        return ""
    return f"record {observation_id}: "


def _fmt_time(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def conflicts_between(
    members: pd.DataFrame,
    rejected: pd.DataFrame,
    dets: pd.DataFrame | None,
    rule: ConflictRule,
) -> pd.DataFrame:
    """Conflicts between subjects of one ``group`` that lie on different ``side``\\ s.

    Parameters
    ----------
    members : DataFrame
        ``subject``, ``catalogue``, ``group`` (int) and ``side`` (any hashable); pairs are
        checked only within a group and across sides.
    rejected : DataFrame
        Current rejected pairs: ``_a``, ``_b``, ``linkEventID``, ``reviewer``, ``reason``,
        ``timestamp``.
    dets : DataFrame or None
        Output of :func:`detections`.
    rule : ConflictRule

    Returns
    -------
    DataFrame
        ``group``, ``kind`` (catalogue, species, rejected, spacetime), ``subjectA`` < ``subjectB``,
        ``detail``.
    """
    parts = [_catalogue(members), _species(members), _rejected(members, rejected)]
    if dets is not None and len(dets):
        parts.append(_spacetime(members, dets, rule))
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty()
    out = pd.concat(parts, ignore_index=True)
    order = {"catalogue": 0, "species": 1, "rejected": 2, "spacetime": 3}
    out["_k"] = out["kind"].map(order)
    out = out.sort_values(["group", "_k", "subjectA", "subjectB"], kind="stable")
    return out.drop(columns="_k").reset_index(drop=True)[list(CONFLICT_COLUMNS)]


def _cross(pairs: pd.DataFrame) -> pd.DataFrame:
    keep = (pairs["side_l"] != pairs["side_r"]) & (pairs["subject_l"] < pairs["subject_r"])
    return pairs[keep.to_numpy(bool)]


def _catalogue(members: pd.DataFrame) -> pd.DataFrame:
    m = members.loc[members["catalogue"].notna(), ["subject", "catalogue", "group", "side"]]
    pairs = _cross(m.merge(m, on=["group", "catalogue"], suffixes=("_l", "_r")))
    if not len(pairs):
        return _empty()
    return pd.DataFrame({
        "group": pairs["group"].to_numpy(),
        "kind": "catalogue",
        "subjectA": pairs["subject_l"].to_numpy(),
        "subjectB": pairs["subject_r"].to_numpy(),
        "detail": [f"both are IDs of national catalogue {c}, which lists each animal once"
                   for c in pairs["catalogue"]],
    })


def _species(members: pd.DataFrame) -> pd.DataFrame:
    """Pairs whose catalogues record different species (subspecies count as their species)."""
    if "species" not in members.columns:
        return _empty()
    m = members.loc[members["species"].notna(), ["subject", "species", "group", "side"]].copy()
    m["_sp"] = m["species"].astype(str).str.split().str[:2].str.join(" ")
    pairs = _cross(m.merge(m, on="group", suffixes=("_l", "_r")))
    pairs = pairs[(pairs["_sp_l"] != pairs["_sp_r"]).to_numpy(bool)]
    if not len(pairs):
        return _empty()
    return pd.DataFrame({
        "group": pairs["group"].to_numpy(),
        "kind": "species",
        "subjectA": pairs["subject_l"].to_numpy(),
        "subjectB": pairs["subject_r"].to_numpy(),
        "detail": [f"the catalogues record different species ({x} and {y})"
                   for x, y in zip(pairs["species_l"], pairs["species_r"], strict=True)],
    })


def _rejected(members: pd.DataFrame, rejected: pd.DataFrame) -> pd.DataFrame:
    if not len(rejected):
        return _empty()
    idx = members.set_index("subject")
    r = rejected.copy()
    r["group_l"] = r["_a"].map(idx["group"])
    r["group_r"] = r["_b"].map(idx["group"])
    r["side_l"] = r["_a"].map(idx["side"])
    r["side_r"] = r["_b"].map(idx["side"])
    keep = (r["group_l"].notna() & (r["group_l"] == r["group_r"])
            & (r["side_l"] != r["side_r"])).to_numpy(bool)
    r = r[keep]
    if not len(r):
        return _empty()
    detail = [
        f"{rev if isinstance(rev, str) else 'a reviewer'} rejected this pair as two animals on "
        f"{_fmt_time(ts)} (event {eid}"
        + (f": {reason})" if isinstance(reason, str) and reason else ")")
        for rev, ts, eid, reason in r[["reviewer", "timestamp", "linkEventID", "reason"]]
        .astype(object).where(r[["reviewer", "timestamp", "linkEventID", "reason"]].notna(), None)
        .itertuples(index=False, name=None)
    ]
    return pd.DataFrame({
        "group": r["group_l"].astype("int64").to_numpy(),
        "kind": "rejected",
        "subjectA": r["_a"].to_numpy(object),
        "subjectB": r["_b"].to_numpy(object),
        "detail": detail,
    })


def _spacetime(members: pd.DataFrame, dets: pd.DataFrame, rule: ConflictRule) -> pd.DataFrame:
    d = dets.merge(members[["subject", "group", "side"]], on="subject", how="inner")
    if not len(d):
        return _empty()
    window_ns = rule.window.value
    d["_bucket"] = d["t"] // window_ns
    # Each left detection meets every right detection in its own and the two neighbouring
    # time buckets exactly once: the shifted copies below realise the |dt| <= window join.
    right = pd.concat([d.assign(_bucket=d["_bucket"] + k) for k in (-1, 0, 1)],
                      ignore_index=True)
    pairs = _cross(d.merge(right, on=["group", "_bucket"], suffixes=("_l", "_r")))
    if not len(pairs):
        return _empty()
    dt_ns = np.abs(pairs["t_l"].to_numpy() - pairs["t_r"].to_numpy())
    near = dt_ns <= window_ns
    pairs, dt_ns = pairs[near], dt_ns[near]
    if not len(pairs):
        return _empty()
    _, _, dist_m = _GEOD.inv(pairs["lon_l"].to_numpy(float), pairs["lat_l"].to_numpy(float),
                             pairs["lon_r"].to_numpy(float), pairs["lat_r"].to_numpy(float))
    dist_km = np.asarray(dist_m, dtype=float) / 1000.0
    dt_h = dt_ns / 3.6e12
    excess = dist_km - rule.limit_km(dt_h)
    bad = excess > 0
    if not bad.any():
        return _empty()
    pairs = pairs[bad].assign(_dist=dist_km[bad], _dt_h=dt_h[bad], _excess=excess[bad])
    key = ["group", "subject_l", "subject_r"]
    counts = pairs.groupby(key).size().rename("_n")
    worst = pairs.sort_values("_excess", ascending=False, kind="stable").drop_duplicates(key)
    worst = worst.merge(counts, left_on=key, right_index=True)
    has_ids = "observationID_l" in worst.columns
    if not has_ids:
        worst = worst.assign(observationID_l=None, observationID_r=None)
    detail = [
        f"seen {dist:.1f} km apart within {dt * 60:.0f} min ({_record(oa)}{a} at {da} "
        f"{_fmt_time(ta)}, {_record(ob)}{b} at {db} {_fmt_time(tb)}); one animal covers at "
        f"most {rule.limit_km(dt):.1f} km in that time ({rule.max_speed_kmh:g} km/h + "
        f"{rule.tolerance_km:g} km)"
        + (f"; {n} such detection pairs" if n > 1 else "")
        for a, b, da, db, ta, tb, dist, dt, n, oa, ob in worst[[
            "subject_l", "subject_r", "deploymentID_l", "deploymentID_r", "eventStart_l",
            "eventStart_r", "_dist", "_dt_h", "_n", "observationID_l", "observationID_r"]]
        .itertuples(index=False, name=None)
    ]
    return pd.DataFrame({
        "group": worst["group"].astype("int64").to_numpy(),
        "kind": "spacetime",
        "subjectA": worst["subject_l"].to_numpy(object),
        "subjectB": worst["subject_r"].to_numpy(object),
        "detail": detail,
    })
