"""Conflict and disease analyses: counts, village warnings, compensation, prevalence, patrols.

Every function takes plain frames with the columns of :mod:`amurlink.incidents.tables` (times
tz-aware UTC, positions in WGS 84 degrees) and returns a tidy frame. Distances and grid cells
are computed in the study's projected working CRS (metres). Nothing here protects locations:
the callers that show results to a partner or the public take data through the protection
gate first, as every other output does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from amurlink.core.crs import DEFAULT_WORKING_CRS, to_metric
from amurlink.exceptions import SchemaError

__all__ = [
    "WarningLevel",
    "DEFAULT_WARNING_LEVELS",
    "parse_warning_levels",
    "warning_level",
    "distance_to_settlements",
    "village_warnings",
    "warnings_per_month",
    "incident_counts",
    "compensation_summary",
    "prevalence",
    "patrol_effort",
    "hotspots",
    "problem_animals",
]


@dataclass(frozen=True)
class WarningLevel:
    """One warning level: a detection ``low <= d < high`` km from a village (``<=`` if closed).

    Parameters
    ----------
    level : int
        Warning level; 1 is the most urgent (closest).
    low_km, high_km : float
        Distance band in km.
    closed : bool, default False
        Whether ``high_km`` itself belongs to the band.
    """

    level: int
    low_km: float
    high_km: float
    closed: bool = False

    def __post_init__(self) -> None:
        if not (np.isfinite(self.low_km) and np.isfinite(self.high_km)):
            raise SchemaError(f"warning level {self.level}: km edges must be finite numbers")
        if not 0 <= self.low_km < self.high_km:
            raise SchemaError(
                f"warning level {self.level}: expected 0 <= low < high km, got "
                f"[{self.low_km}, {self.high_km}]; fix the edges in [warnings] levels_km"
            )


#: The Northeast Tiger and Leopard National Park's warning levels: level 1 under 1 km from a
#: village, level 2 at 1-2 km, level 3 at 3-5 km (5 km included). 2-3 km and beyond 5 km
#: give no warning.
DEFAULT_WARNING_LEVELS: tuple[WarningLevel, ...] = (
    WarningLevel(1, 0.0, 1.0),
    WarningLevel(2, 1.0, 2.0),
    WarningLevel(3, 3.0, 5.0, closed=True),
)


def parse_warning_levels(edges: Sequence[Sequence[float]], /) -> tuple[WarningLevel, ...]:
    """Warning levels from ``[warnings] levels_km`` (``[[0, 1], [1, 2], [3, 5]]``).

    The i-th pair is level i + 1, half-open ``[low, high)`` except the last, which includes its
    upper edge (as the park's "3-5 km"). Bands must not overlap.

    Raises
    ------
    SchemaError
        If a band is not two numbers with ``0 <= low < high`` or two bands overlap.
    """
    levels = []
    pairs = list(edges)
    for i, pair in enumerate(pairs):
        try:
            low, high = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise SchemaError(
                f"[warnings] levels_km item {i + 1}: expected two numbers [low, high] in km, got "
                f"{pair!r}"
            ) from None
        levels.append(WarningLevel(i + 1, low, high, closed=i == len(pairs) - 1))
    ordered = sorted(levels, key=lambda w: w.low_km)
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b.low_km < a.high_km or (a.closed and b.low_km == a.high_km):
            raise SchemaError(
                f"[warnings] levels_km: levels {a.level} and {b.level} overlap; give each "
                "distance to at most one level"
            )
    return tuple(levels)


def warning_level(distance_km: Any, /, *,
                  levels: Sequence[WarningLevel] = DEFAULT_WARNING_LEVELS) -> np.ndarray:
    """Warning level of each distance (0: no warning; NaN distance: 0).

    Examples
    --------
    >>> warning_level([0.0, 0.99, 1.0, 2.0, 2.5, 3.0, 5.0, 5.01]).tolist()
    [1, 1, 2, 0, 0, 3, 3, 0]
    """
    d = np.asarray(distance_km, dtype=float)
    out = np.zeros(d.shape, dtype=np.int64)
    for w in levels:
        upper = d <= w.high_km if w.closed else d < w.high_km
        out[(d >= w.low_km) & upper & (out == 0)] = w.level
    return out


def _xy(frame: pd.DataFrame, crs: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    for col in ("longitude", "latitude"):
        if col not in frame.columns:
            raise SchemaError(f"{what} needs a {col!r} column (WGS 84 degrees)")
    lon = pd.to_numeric(frame["longitude"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    lat = pd.to_numeric(frame["latitude"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return to_metric(lon, lat, crs=crs)


def distance_to_settlements(
    points: pd.DataFrame, settlements: pd.DataFrame, /, *, crs: Any = DEFAULT_WORKING_CRS,
) -> pd.DataFrame:
    """Nearest settlement of each point and its distance in km (vectorised, k-d tree).

    Parameters
    ----------
    points : DataFrame
        ``longitude``, ``latitude`` (WGS 84).
    settlements : DataFrame
        ``name`` (or ``settlementID``), ``longitude``, ``latitude``.
    crs : CRS-like
        Projected metric CRS in which distances are measured.

    Returns
    -------
    DataFrame
        Same index as ``points``: ``settlement`` (name of the nearest one) and
        ``distance_km`` (NaN where a point has no coordinates or there is no settlement).
    """
    from scipy.spatial import cKDTree

    px, py = _xy(points, crs, "points")
    out = pd.DataFrame({"settlement": pd.Series([None] * len(points), dtype=object),
                        "distance_km": np.nan}, index=points.index)
    if settlements.empty or len(points) == 0:
        return out
    sx, sy = _xy(settlements, crs, "settlements")
    names_col = "name" if "name" in settlements.columns else "settlementID"
    if names_col not in settlements.columns:
        raise SchemaError("settlements need a 'name' or 'settlementID' column")
    ok = np.isfinite(sx) & np.isfinite(sy)
    if not ok.any():
        return out
    tree = cKDTree(np.column_stack([sx[ok], sy[ok]]))
    finite = np.isfinite(px) & np.isfinite(py)
    dist, idx = tree.query(np.column_stack([px[finite], py[finite]]))
    names = settlements[names_col].astype(object).to_numpy()[ok]
    out.loc[out.index[finite], "settlement"] = names[idx]
    out.loc[out.index[finite], "distance_km"] = dist / 1000.0
    return out


def village_warnings(
    detections: pd.DataFrame, settlements: pd.DataFrame, /, *,
    levels: Sequence[WarningLevel] = DEFAULT_WARNING_LEVELS, crs: Any = DEFAULT_WORKING_CRS,
) -> pd.DataFrame:
    """The warning each camera detection raises: nearest village, distance and level.

    Parameters
    ----------
    detections : DataFrame
        One row per detection (an independent event is the usual unit): ``timestamp`` (UTC),
        ``scientificName``, ``longitude``, ``latitude`` of the camera; any other columns are
        kept.
    settlements : DataFrame
        ``name``, ``longitude``, ``latitude``.
    levels : sequence of WarningLevel
        Distance bands; see :data:`DEFAULT_WARNING_LEVELS`.

    Returns
    -------
    DataFrame
        The detections that raise a warning (level >= 1) with ``settlement``, ``distance_km``
        and ``level`` added.
    """
    near = distance_to_settlements(detections, settlements, crs=crs)
    out = detections.join(near)
    out["level"] = warning_level(out["distance_km"].to_numpy(dtype=float), levels=levels)
    return out.loc[out["level"] > 0].reset_index(drop=True)


def warnings_per_month(warnings: pd.DataFrame, /) -> pd.DataFrame:
    """Warnings per month, species and level (from :func:`village_warnings`)."""
    if warnings.empty:
        return pd.DataFrame({"month": pd.Series(dtype=object), "scientificName": [],
                             "level": pd.Series(dtype="int64"),
                             "warnings": pd.Series(dtype="int64")})
    ts = pd.to_datetime(warnings["timestamp"], utc=True)
    month = ts.dt.strftime("%Y-%m")
    frame = pd.DataFrame({"month": month,
                          "scientificName": warnings["scientificName"].astype(object),
                          "level": warnings["level"].astype("int64")})
    return (frame.groupby(["month", "scientificName", "level"], sort=True).size()
            .rename("warnings").reset_index())


def incident_counts(incidents: pd.DataFrame, /, *, by: Iterable[str] = ("countryCode", "year",
                                                                            "month", "category")
                    ) -> pd.DataFrame:
    """Incidents counted by country, year, month and category (or any subset of ``by``)."""
    keys = list(by)
    ts = pd.to_datetime(incidents["eventStart"], utc=True)
    frame = pd.DataFrame({
        "countryCode": incidents["countryCode"].astype(object),
        "year": ts.dt.year.astype("Int64"),
        "month": ts.dt.month.astype("Int64"),
        "category": incidents["category"].astype(object),
        "scientificName": incidents.get("scientificName", pd.Series(index=incidents.index,
                                                                    dtype=object)).astype(object),
    })
    unknown = [k for k in keys if k not in frame.columns]
    if unknown:
        raise SchemaError(f"cannot count incidents by {unknown}; choose from {list(frame.columns)}")
    return frame.groupby(keys, sort=True, dropna=False).size().rename("incidents").reset_index()


def compensation_summary(incidents: pd.DataFrame, /) -> pd.DataFrame:
    """Compensation paid per country, year paid and currency; never summed across currencies.

    Rows with an amount but no currency are an error: a sum of unknown money means nothing.
    The year is that of ``compensationDate`` (when paid), or of the incident where no payment
    date is recorded.

    Returns
    -------
    DataFrame
        ``countryCode``, ``year``, ``currency``, ``claims`` (incidents compensated) and
        ``amount`` (sum, in that currency).
    """
    amount = pd.to_numeric(incidents.get("compensationAmount"), errors="coerce")
    paid = amount.notna() & (amount > 0) if amount is not None else pd.Series(False,
                                                                              index=incidents.index)
    if not paid.any():
        return pd.DataFrame({"countryCode": [], "year": pd.Series(dtype="Int64"), "currency": [],
                             "claims": pd.Series(dtype="int64"), "amount": []})
    rows = incidents.loc[paid]
    currency = rows.get("compensationCurrency")
    missing = currency.isna() if currency is not None else pd.Series(True, index=rows.index)
    if missing.any():
        first = rows.index[missing.to_numpy()][0]
        ident = rows.loc[first, "incidentID"] if "incidentID" in rows.columns else first
        raise SchemaError(
            f"incident {ident}: compensationAmount without compensationCurrency; give the ISO "
            "4217 code (CNY, RUB) so amounts in different currencies are never added"
        )
    when = pd.to_datetime(rows.get("compensationDate"), utc=True)
    when = when.fillna(pd.to_datetime(rows["eventStart"], utc=True))
    frame = pd.DataFrame({"countryCode": rows["countryCode"].astype(object),
                          "year": when.dt.year.astype("Int64"),
                          "currency": currency.astype(object), "amount": amount[paid]})
    out = frame.groupby(["countryCode", "year", "currency"], sort=True).agg(
        claims=("amount", "size"), amount=("amount", "sum")).reset_index()
    return out


def prevalence(tests: pd.DataFrame, /, *,
               by: Iterable[str] = ("scientificName", "year", "countryCode"),
               pathogen: str | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """Prevalence of positive results with exact (Clopper-Pearson) confidence intervals.

    Inconclusive results are left out of the denominator. Where an animal was tested more
    than once in a group, each test counts (the unit is the test, as in the lab books); pass
    one test per animal to estimate prevalence among animals.

    Returns
    -------
    DataFrame
        ``by`` columns, ``pathogen``, ``tested``, ``positive``, ``prevalence``, ``ci_low`` and
        ``ci_high``, the interval of ``scipy.stats.binomtest(k, n).proportion_ci(method="exact")``.
    """
    from scipy.stats import binomtest

    keys = list(by)
    ts = pd.to_datetime(tests["sampleDate"], utc=True)
    frame = pd.DataFrame({
        "scientificName": tests["scientificName"].astype(object),
        "countryCode": tests["countryCode"].astype(object),
        "year": ts.dt.year.astype("Int64"),
        "pathogen": tests["pathogen"].astype(object),
        "result": tests["result"].astype(object),
    })
    if pathogen is not None:
        frame = frame.loc[frame["pathogen"].str.casefold() == pathogen.casefold()]
    frame = frame.loc[frame["result"].isin(["positive", "negative"])]
    group = [*keys, "pathogen"]
    counts = frame.assign(positive=frame["result"].eq("positive")).groupby(
        group, sort=True).agg(tested=("result", "size"), positive=("positive", "sum")).reset_index()
    lows, highs = [], []
    for k, n in zip(counts["positive"].astype(int), counts["tested"].astype(int), strict=True):
        ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
        lows.append(ci.low)
        highs.append(ci.high)
    counts["positive"] = counts["positive"].astype("int64")
    counts["prevalence"] = counts["positive"] / counts["tested"]
    counts["ci_low"] = np.asarray(lows, dtype=float)
    counts["ci_high"] = np.asarray(highs, dtype=float)
    return counts


def patrol_effort(patrols: pd.DataFrame, findings: pd.DataFrame, /, *,
                  by: Iterable[str] = ("countryCode", "year"),
                  category: str = "snare") -> pd.DataFrame:
    """Patrol effort against findings: km patrolled, items found and items per 100 km.

    A finding belongs to its patrol's country and the year the patrol started.

    Returns
    -------
    DataFrame
        ``by`` columns, ``patrols``, ``km``, ``found`` (sum of ``count`` of findings of
        ``category``) and ``per_100km``.
    """
    keys = list(by)
    start = pd.to_datetime(patrols["start"], utc=True)
    pat = pd.DataFrame({"patrolID": patrols["patrolID"].astype(object),
                        "countryCode": patrols["countryCode"].astype(object),
                        "year": start.dt.year.astype("Int64"),
                        "km": pd.to_numeric(patrols["lengthKm"], errors="coerce")})
    hits = findings.loc[findings["category"].astype(object) == category]
    unknown = ~hits["patrolID"].isin(pat["patrolID"])
    if unknown.any():
        raise SchemaError(
            f"patrol finding {hits.loc[unknown, 'findingID'].iloc[0]} names patrol "
            f"{hits.loc[unknown, 'patrolID'].iloc[0]!r}, which is not in the patrols table"
        )
    found = (pd.to_numeric(hits["count"], errors="coerce").groupby(hits["patrolID"].astype(object))
             .sum())
    pat["found"] = pat["patrolID"].map(found).fillna(0).astype("int64")
    out = pat.groupby(keys, sort=True).agg(patrols=("patrolID", "size"), km=("km", "sum"),
                                           found=("found", "sum")).reset_index()
    out["per_100km"] = np.where(out["km"] > 0, 100.0 * out["found"] / out["km"].where(
        out["km"] > 0, 1.0), np.nan)
    return out


def hotspots(incidents: pd.DataFrame, /, *, cell_m: float = 5000.0,
             crs: Any = DEFAULT_WORKING_CRS, by: Sequence[str] = ()) -> pd.DataFrame:
    """Incidents counted on a square grid in the working CRS (hotspots).

    Cells are aligned to multiples of ``cell_m`` so the same incident always falls in the
    same cell, whatever else is counted. Incidents without coordinates are not counted.

    Returns
    -------
    DataFrame
        ``by`` columns, ``cell_x``, ``cell_y`` (lower-left corner, metres) and ``incidents``,
        most incidents first.
    """
    if not cell_m > 0:
        raise SchemaError(f"cell_m must be a positive number of metres, got {cell_m!r}")
    x, y = _xy(incidents, crs, "incidents")
    ok = np.isfinite(x) & np.isfinite(y)
    frame = pd.DataFrame({"cell_x": np.floor(x[ok] / cell_m) * cell_m,
                          "cell_y": np.floor(y[ok] / cell_m) * cell_m})
    for col in by:
        frame[col] = incidents[col].astype(object).to_numpy()[ok]
    keys = [*by, "cell_x", "cell_y"]
    out = frame.groupby(keys, sort=True).size().rename("incidents").reset_index()
    return out.sort_values(["incidents", *keys], ascending=[False, *([True] * len(keys))],
                           kind="stable").reset_index(drop=True)


def problem_animals(incidents: pd.DataFrame, identities: pd.DataFrame, /) -> pd.DataFrame:
    """Joint individuals involved in incidents, per country, and whether in both countries.

    Parameters
    ----------
    incidents : DataFrame
        With ``individualID`` (national ID) and ``countryCode``.
    identities : DataFrame
        :func:`amurlink.identify.links.joint_identities` output (``subject``, ``jointID``,
        ``members``): confirmed links (two-party where the study says so) make one animal of
        two national IDs.

    Returns
    -------
    DataFrame
        One row per joint individual with incidents: ``jointID``, ``members``, ``incidents``,
        one ``incidents_<CC>`` column per country, and ``both_countries``.
    """
    known = incidents.loc[incidents["individualID"].notna()]
    if known.empty:
        return pd.DataFrame({"jointID": [], "members": [], "incidents": pd.Series(dtype="int64"),
                             "both_countries": pd.Series(dtype=bool)})
    ids = identities.set_index("subject")
    joint = known["individualID"].astype(object).map(ids["jointID"])
    # A national ID no link mentions is its own animal.
    joint = joint.fillna(known["individualID"].astype(object))
    members = joint.map(identities.drop_duplicates("jointID").set_index("jointID")["members"])
    members = members.fillna(known["individualID"].astype(object))
    frame = pd.DataFrame({"jointID": joint, "members": members,
                          "countryCode": known["countryCode"].astype(object)})
    wide = frame.pivot_table(index=["jointID", "members"], columns="countryCode",
                             aggfunc="size", fill_value=0)
    wide.columns = [f"incidents_{c}" for c in wide.columns]
    wide = wide.reset_index()
    per_country = wide[[c for c in wide.columns if c.startswith("incidents_")]]
    wide.insert(2, "incidents", per_country.sum(axis=1).astype("int64"))
    wide["both_countries"] = (per_country > 0).sum(axis=1) >= 2
    return wide.sort_values(["both_countries", "incidents", "jointID"],
                            ascending=[False, False, True], kind="stable").reset_index(drop=True)
