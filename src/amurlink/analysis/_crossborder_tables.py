"""Tables of cross-border statistics from encounters: per individual, species, band, period."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from amurlink.analysis._crossborder_core import sorted_order
from amurlink.core.border import Border
from amurlink.core.protection import level_to_precision
from amurlink.exceptions import ConfigError, SchemaError

if TYPE_CHECKING:
    from amurlink.analysis.crossborder import CrossBorderResult

_DESCRIPTIVE = ("members", "scientificName", "lifeStage", "knownFlanks")
_NEEDED = ("encounterID", "source", "jointID", "time", "x", "y", "country", "atBorder",
           "distance_km", "nationalCountry", "nationalID", *_DESCRIPTIVE)


def _check(enc: pd.DataFrame, by: Sequence[str]) -> None:
    if not isinstance(enc, pd.DataFrame):
        raise SchemaError(f"expected the encounters DataFrame, got {type(enc).__name__}")
    missing = [c for c in (*_NEEDED, *by) if c not in enc.columns]
    if missing:
        raise SchemaError(f"encounters lack column(s) {missing}; build them with "
                          "amurlink.analysis.crossborder.encounters")


def _fill(values: pd.Series, value: str) -> pd.Series:
    if isinstance(values.dtype, pd.CategoricalDtype):
        if value not in values.cat.categories:
            values = values.cat.add_categories([value])
        return values.fillna(value)
    return values.astype(object).fillna(value)


def _codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer code per row (sorted categories; -1 missing) and the categories."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = values.cat.categories
        if cats.is_monotonic_increasing:
            return values.cat.codes.to_numpy(np.int64), cats
    codes, uniq = pd.factorize(values, sort=True, use_na_sentinel=True)
    return codes.astype(np.int64), pd.Index(uniq)


def _text_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer code per row (-1 missing) and the distinct values as text, in text order."""
    codes, uniq = pd.factorize(values, use_na_sentinel=True)
    uniq = np.asarray(uniq, dtype=object)
    rank = np.argsort(uniq.astype(str), kind="stable")
    inv = np.empty(len(rank), dtype=np.int64)
    inv[rank] = np.arange(len(rank))
    codes = np.asarray(codes, dtype=np.int64)
    return np.where(codes >= 0, inv[np.maximum(codes, 0)], -1), uniq[rank]


def _group_codes(enc: pd.DataFrame, keys: Sequence[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer group per row (groups in key order) and the key frame of each group."""
    combined = np.zeros(len(enc), dtype=np.int64)
    cats = []
    for k in keys:
        c, u = _codes(enc[k])
        combined = combined * (len(u) + 1) + (c + 1)
        cats.append((c, u))
    gid, uniq = pd.factorize(combined, sort=True)  # hashing, then only the groups sorted
    gid = np.asarray(gid, dtype=np.int64)
    first = np.zeros(len(uniq), dtype=np.int64)
    first[gid[::-1]] = np.arange(len(gid) - 1, -1, -1)
    frame = pd.DataFrame({k: np.asarray(u, dtype=object)[c[first]] if len(first) else []
                          for k, (c, u) in zip(keys, cats, strict=True)})
    for k in keys:
        if pd.api.types.is_integer_dtype(enc[k].dtype):
            frame[k] = frame[k].astype(np.int64)
    return gid.ravel().astype(np.int64), frame


def _base_order(enc: pd.DataFrame) -> np.ndarray:
    """Row order by jointID, time, encounterID (identity if already so, as encounters() gives)."""
    j, _ = _codes(enc["jointID"])
    t = enc["time"].to_numpy("datetime64[ns]").astype(np.int64)
    if len(j) < 2:
        return np.arange(len(j))
    up = (j[1:] > j[:-1]) | ((j[1:] == j[:-1]) & (t[1:] > t[:-1]))
    tie = (j[1:] == j[:-1]) & (t[1:] == t[:-1])
    if (up | tie).all():
        if not tie.any():
            return np.arange(len(j))
        e = enc["encounterID"].to_numpy(object)
        i = np.flatnonzero(tie)
        if all(str(a) <= str(b) for a, b in zip(e[i], e[i + 1], strict=True)):
            return np.arange(len(j))
    return sorted_order(j, t, enc["encounterID"])


def _hulls_mcp95(gid: np.ndarray, x: np.ndarray, y: np.ndarray, n_groups: int,
                 min_locations: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct locations per group and the 95% MCP polygon (None below min_locations)."""
    finite = np.isfinite(x) & np.isfinite(y)
    pts = pd.DataFrame({"g": gid[finite], "x": x[finite], "y": y[finite]}).drop_duplicates()
    n_loc = np.bincount(pts["g"].to_numpy(), minlength=n_groups)
    hulls = np.full(n_groups, None, dtype=object)
    pts = pts[n_loc[pts["g"].to_numpy()] >= min_locations]
    if not len(pts):
        return n_loc, hulls
    g = pts["g"].to_numpy()
    cx = pts.groupby("g")["x"].transform("mean").to_numpy()
    cy = pts.groupby("g")["y"].transform("mean").to_numpy()
    d = np.hypot(pts["x"].to_numpy() - cx, pts["y"].to_numpy() - cy)
    q = pd.Series(d).groupby(g).quantile(0.95)  # linear interpolation: R type 7
    keep = d <= q.reindex(g).to_numpy()
    g, px, py = g[keep], pts["x"].to_numpy()[keep], pts["y"].to_numpy()[keep]
    order = np.argsort(g, kind="stable")
    g, px, py = g[order], px[order], py[order]
    uniq, first = np.unique(g, return_index=True)
    mp = shapely.multipoints(np.column_stack([px, py]), indices=np.searchsorted(uniq, g))
    hulls[uniq] = shapely.convex_hull(mp)
    return n_loc, hulls


def _two_country_cover(hulls: np.ndarray, rows: np.ndarray, border: Border | None,
                       known: Sequence[str]) -> np.ndarray | None:
    """Of ``rows``, the hulls inside the union of exactly two non-overlapping countries (their
    second share is one minus the first: one polygon overlay per hull instead of two), or
    None when that does not apply."""
    if border is None or len(known) != 2 or not rows.any():
        return None
    a, b = border.countries[known[0]], border.countries[known[1]]
    if shapely.area(shapely.intersection(a, b)) != 0.0:
        return None
    union = shapely.union(a, b)
    shapely.prepare(union)
    split = np.zeros(len(hulls), dtype=bool)
    split[rows] = shapely.within(hulls[rows], union)
    return split


def individual_crossings(encounters: pd.DataFrame, *, countries: Sequence[str],
                         border: Border | None, by: Sequence[str], min_locations: int,
                         mcp: bool = True, lean: bool = False) -> pd.DataFrame:
    """``lean``: only what :func:`species_summary` needs (no distances, dates, sources, MCP)."""
    by = list(by)
    _check(encounters, by)
    countries = [str(c).upper() for c in countries]
    keys = [*by, "jointID"]
    enc = encounters
    n = len(enc)
    gid, groups = _group_codes(enc, keys)
    ng = len(groups)
    t = enc["time"].to_numpy("datetime64[ns]").astype(np.int64)
    base = _base_order(enc)
    order = base
    if by and n:
        # each group is usually one run of the joint-time order already (periods are time
        # intervals); sort by group only when not
        gb = gid[base]
        if np.count_nonzero(gb[1:] != gb[:-1]) + 1 != ng:
            order = base[np.argsort(gb, kind="stable")]
    g_s = gid[order]
    country_codes, country_uniq = _codes(enc["country"])
    country = np.asarray(country_uniq, dtype=object)
    at_border = enc["atBorder"].to_numpy(bool)
    valid = ~at_border & (country_codes >= 0)

    # crossings: consecutive valid encounters of one individual in different countries
    vo = order[valid[order]]
    cc_codes = country_codes[vo]
    gv = gid[vo]
    change = (gv[1:] == gv[:-1]) & (cc_codes[1:] != cc_codes[:-1])
    crossings = np.bincount(gv[1:][change], minlength=ng)

    out = groups.copy()
    first_row = np.full(ng, -1, dtype=np.int64)
    first_row[g_s[::-1]] = order[::-1]
    for col in _DESCRIPTIVE:
        out[col] = enc[col].iloc[first_row].to_numpy(object) if n else []
    flanks = out["knownFlanks"]
    out["oneFlank"] = flanks.isin(["left", "right"]).to_numpy(bool)
    out["encounters"] = np.bincount(gid, minlength=ng)
    if not lean:
        out["encounters_border"] = np.bincount(gid[at_border], minlength=ng)
    dist = enc["distance_km"].to_numpy(float)
    in_country = {}
    for cc in countries:
        hit = np.flatnonzero(country == cc)
        rows = valid & (country_codes == (hit[0] if len(hit) else -2))
        in_country[cc] = rows
        out[f"encounters_{cc}"] = np.bincount(gid[rows], minlength=ng)
    out["crossings"] = crossings
    present = [out[f"encounters_{cc}"].to_numpy() > 0 for cc in countries]
    out["transboundary"] = (np.sum(present, axis=0) >= 2) if countries else False
    if not lean:
        for cc in countries:
            rows = in_country[cc]
            m = np.full(ng, np.nan)
            if rows.any():
                s = pd.Series(dist[rows]).groupby(gid[rows]).max()
                m[s.index.to_numpy()] = s.to_numpy()
            out[f"max_distance_km_{cc}"] = m
        tmin = np.full(ng, np.iinfo(np.int64).max)
        tmax = np.full(ng, np.iinfo(np.int64).min)
        np.minimum.at(tmin, gid, t)
        np.maximum.at(tmax, gid, t)
        empty = pd.Series([], dtype="datetime64[ns, UTC]")
        out["first_seen"] = pd.to_datetime(tmin, utc=True) if ng else empty
        out["last_seen"] = pd.to_datetime(tmax, utc=True) if ng else empty
        src = enc["source"]
        is_dna = (src == "dna").to_numpy(bool)
        cam = np.bincount(gid[~is_dna], minlength=ng) > 0
        dna = np.bincount(gid[is_dna], minlength=ng) > 0
        out["sources"] = np.where(cam & dna, "both", np.where(dna, "dna", "camera")).astype(object)
    nat = enc["nationalCountry"]
    nat_id, _ = pd.factorize(enc["nationalID"], use_na_sentinel=True)
    for cc in countries:
        rows = (nat == cc).to_numpy(bool) & (nat_id >= 0)
        cnt = np.zeros(ng, dtype=np.int64)
        if rows.any():
            key = pd.unique(gid[rows].astype(np.int64) * (int(nat_id.max()) + 1)
                            + nat_id[rows])
            cnt = np.bincount(key // (int(nat_id.max()) + 1), minlength=ng)
        out[f"national_{cc}"] = cnt

    # range: 95% minimum convex polygon
    x = enc["x"].to_numpy(float)
    y = enc["y"].to_numpy(float)
    if mcp and not lean:
        n_loc, hulls = _hulls_mcp95(gid, x, y, ng, min_locations)
        has = pd.notna(hulls)
        area = np.full(ng, np.nan)
        area[has] = shapely.area(hulls[has].astype(object))
        out["locations"] = n_loc
        out["mcp95_km2"] = area / 1e6
        ok = has & (area > 0)
        crosses = np.zeros(ng, dtype=bool)
        inside = {cc: np.zeros(ng, dtype=bool) for cc in countries}
        if border is not None and ok.any():
            # a hull that does not meet the line often lies within one country: share 1 there
            crosses[ok] = shapely.intersects(hulls[ok], border.line)
            rest = ok & ~crosses
            for cc in countries:
                if cc in border.countries and rest.any():
                    inside[cc][rest] = shapely.within(hulls[rest], border.countries[cc])
        exact = ok & ~np.any([inside[c] for c in inside], axis=0) if inside else ok
        known = [cc for cc in countries if border is not None and cc in border.countries]
        split = _two_country_cover(hulls, exact, border, known)
        for cc in countries:
            share = np.full(ng, np.nan)
            if border is not None and cc in border.countries:
                share[ok] = 0.0
                share[inside[cc]] = 1.0
                todo = exact.copy()
                if split is not None and cc == known[1]:
                    # the two countries cover the hull without overlap: the rest of it
                    share[split] = 1.0 - out[f"mcp95_share_{known[0]}"].to_numpy()[split]
                    todo &= ~split
                if todo.any():
                    inter = shapely.intersection(hulls[todo], border.countries[cc])
                    share[todo] = shapely.area(inter) / area[todo]
            out[f"mcp95_share_{cc}"] = share
    out = out.sort_values([*by, "scientificName", "jointID"], kind="stable", na_position="last")
    return out.reset_index(drop=True)


def species_summary(individual_table: pd.DataFrame, *, countries: Sequence[str],
                    by: Sequence[str]) -> pd.DataFrame:
    by = list(by)
    countries = [str(c).upper() for c in countries]
    ind = individual_table
    need = ["scientificName", "transboundary", "crossings", "oneFlank", *by,
            *(f"national_{c}" for c in countries)]
    missing = [c for c in need if c not in ind.columns]
    if missing:
        raise SchemaError(f"individual table lacks column(s) {missing}; build it with "
                          "individual_crossings(encounters, countries=...)")
    keys = [*by, "scientificName"]
    ind = ind.assign(scientificName=_fill(ind["scientificName"], "unknown"))
    grp = ind.groupby(keys, sort=True, dropna=False)
    out = grp.agg(
        individuals=("jointID", "size"),
        transboundary=("transboundary", "sum"),
        one_flank=("oneFlank", "sum"),
        crossings=("crossings", "sum"),
        crossings_per_individual=("crossings", "mean"),
        **{f"national_{c}": (f"national_{c}", "sum") for c in countries},
    ).reset_index()
    out["transboundary_share"] = out["transboundary"] / out["individuals"]
    nat = [f"national_{c}" for c in countries]
    out["national_sum"] = out[nat].sum(axis=1) if nat else 0
    out["double_counted"] = out["national_sum"] - out["individuals"]
    cols = [*keys, "individuals", "transboundary", "transboundary_share", "one_flank", *nat,
            "national_sum", "double_counted", "crossings", "crossings_per_individual"]
    out = out[cols]
    for c in ("individuals", "transboundary", "one_flank", *nat, "national_sum",
              "double_counted", "crossings"):
        out[c] = out[c].astype(np.int64)
    return out


def _band_labels(edges: Sequence[float]) -> list[str]:
    def f(v: float) -> str:
        return f"{v:g}"
    labels = [f"{f(lo)}-{f(hi)} km" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    labels.append(f">= {f(edges[-1])} km")
    return labels


def distance_bands(encounters: pd.DataFrame, *, bands_km: Sequence[float]) -> pd.DataFrame:
    _check(encounters, ())
    edges = [float(b) for b in bands_km]
    if not edges or any(b >= a for a, b in zip(edges[1:], edges[:-1], strict=False)) \
            or edges[0] < 0:
        raise ConfigError(f"bands_km must be increasing distances >= 0 in km, got {bands_km!r}")
    enc = encounters
    ok = (enc["country"].notna() & enc["distance_km"].notna()).to_numpy(bool)
    labels = _band_labels(edges)
    nb = len(edges)
    band = np.searchsorted(edges, enc["distance_km"].to_numpy(float)[ok], side="right") - 1
    band = np.clip(band, 0, nb - 1)
    # integer codes (categories in sorted order) instead of grouping text
    s_code, s_uniq = _text_codes(_fill(enc["scientificName"], "unknown"))
    c_code, c_uniq = _text_codes(enc["country"])
    j_code, j_uniq = _text_codes(enc["jointID"])
    s_code, c_code, j_code = s_code[ok], c_code[ok], j_code[ok]
    nc = len(c_uniq)
    cell = (s_code * nc + c_code) * nb + band
    size = len(s_uniq) * nc * nb
    counts = np.bincount(cell, minlength=size)
    known = j_code >= 0  # individuals: distinct joint IDs per cell
    pairs = np.unique(cell[known] * len(j_uniq) + j_code[known])
    inds = np.bincount(pairs // max(len(j_uniq), 1), minlength=size)
    combo = np.flatnonzero(counts.reshape(-1, nb).sum(axis=1) > 0)  # (species, country)
    cells = (combo[:, None] * nb + np.arange(nb)[None, :]).ravel()
    b = np.tile(np.arange(nb), len(combo))
    upper = np.asarray([*edges[1:], math.inf])
    out = pd.DataFrame({
        "scientificName": np.asarray(s_uniq, dtype=object)[np.repeat(combo // nc, nb)],
        "country": np.asarray(c_uniq, dtype=object)[np.repeat(combo % nc, nb)],
        "band": np.asarray(labels, dtype=object)[b],
        "lower_km": np.asarray(edges, dtype=float)[b],
        "upper_km": upper[b],
        "encounters": counts[cells].astype(np.int64),
        "individuals": inds[cells].astype(np.int64),
    })
    return out


def _period_summary(enc: pd.DataFrame, by: list[str], countries: Sequence[str]) -> pd.DataFrame:
    ind = individual_crossings(enc, countries=countries, border=None, by=by, min_locations=5,
                               mcp=False, lean=True)
    return species_summary(ind, countries=countries, by=by)


def _year_month(times: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Calendar year and month (1-12) of each time, in the column's own time zone."""
    dtype = times.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) == "UTC":
        ns = times.to_numpy("datetime64[ns]")
        months = ns.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
        return months // 12 + 1970, months % 12 + 1
    return (times.dt.year.to_numpy().astype(np.int64),
            times.dt.month.to_numpy().astype(np.int64))


def yearly_table(encounters: pd.DataFrame, *, countries: Sequence[str]) -> pd.DataFrame:
    _check(encounters, ())
    enc = encounters.assign(year=_year_month(encounters["time"])[0])
    out = _period_summary(enc, ["year"], countries)
    out = out.sort_values(["scientificName", "year"], kind="stable").reset_index(drop=True)
    prev = out.groupby("scientificName")["year"].shift(1)
    consecutive = (prev == out["year"] - 1).to_numpy(bool)
    for col in ("individuals", "transboundary", "crossings"):
        diff = out[col] - out.groupby("scientificName")[col].shift(1)
        out[f"{col}_change"] = diff.where(consecutive).astype(float)
    return out[["scientificName", "year", *[c for c in out.columns
                                             if c not in ("scientificName", "year")]]]


def seasonal_table(encounters: pd.DataFrame, *, countries: Sequence[str],
                   seasons: Mapping[int, str]) -> pd.DataFrame:
    _check(encounters, ())
    season_of = {int(k): str(v) for k, v in dict(seasons).items()}
    if set(season_of) != set(range(1, 13)):
        raise ConfigError(f"seasons must map every month 1-12 to a season name, got months "
                          f"{sorted(season_of)}")
    year, month = _year_month(encounters["time"])
    wraps = season_of[12] == season_of[1]
    season_year = year + ((month == 12) & wraps)
    names = sorted(set(season_of.values()))
    lut = np.array([-1] + [names.index(season_of[m]) for m in range(1, 13)])
    enc = encounters.assign(seasonYear=season_year,
                            season=pd.Categorical.from_codes(lut[month], categories=names))
    out = _period_summary(enc, ["seasonYear", "season"], countries)
    order = {s: i for i, s in enumerate(dict.fromkeys(season_of[m] for m in
                                                      [*range(12, 13), *range(1, 12)]))}
    out = out.assign(_o=out["season"].map(order)).sort_values(
        ["scientificName", "seasonYear", "_o"], kind="stable").drop(columns="_o")
    cols = ["scientificName", "seasonYear", "season"]
    return out[[*cols, *[c for c in out.columns if c not in cols]]].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# JSON and protection
# ---------------------------------------------------------------------------------------------
def _num(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return None if np.isnan(v) else float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def _iso(v: Any) -> str | None:
    if v is None or pd.isna(v):
        return None
    return pd.Timestamp(v).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def result_to_dict(result: CrossBorderResult) -> dict[str, Any]:
    cs = result.countries
    summary: dict[str, Any] = {}
    for row in result.summary.to_dict("records"):
        summary[row["scientificName"]] = {
            "individuals": _num(row["individuals"]),
            "transboundary": _num(row["transboundary"]),
            "transboundary_share": _num(row["transboundary_share"]),
            "national_counts": {c: _num(row[f"national_{c}"]) for c in cs},
            "national_sum": _num(row["national_sum"]),
            "double_counted": _num(row["double_counted"]),
            "crossings": _num(row["crossings"]),
            "crossings_per_individual": _num(row["crossings_per_individual"]),
            "one_flank": _num(row["one_flank"]),
        }
    individuals: dict[str, Any] = {}
    for row in result.individuals.to_dict("records"):
        enc = {c: _num(row[f"encounters_{c}"]) for c in cs}
        enc["border"] = _num(row["encounters_border"])
        individuals[row["jointID"]] = {
            "members": str(row["members"]).split(" = ") if row["members"] else [],
            "scientificName": row["scientificName"],
            "encounters": enc,
            "crossings": _num(row["crossings"]),
            "transboundary": _num(row["transboundary"]),
            "max_distance_from_border_km": {c: _num(row[f"max_distance_km_{c}"]) for c in cs},
            "first_seen": _iso(row["first_seen"]),
            "last_seen": _iso(row["last_seen"]),
            "sources": row["sources"],
            "one_flank": _num(row["oneFlank"]),
        }
    params = {k: (list(v) if isinstance(v, tuple | list) else v)
              for k, v in dict(result.parameters).items()}
    return {"summary": summary, "individuals": individuals, "parameters": params,
            "level": result.level}


_LEVEL_RANK = {"exact": 0, "1km": 1, "10km": 2, "withheld": 3}


def _round(values: pd.Series, step: float | None) -> pd.Series:
    if step is None:
        return values * np.nan
    return (values * 1000.0 / step).round() * step / 1000.0


def protect_crossborder(result: CrossBorderResult, *, level: str) -> CrossBorderResult:
    prec = level_to_precision(level)  # raises ConfigError on an unknown level
    if _LEVEL_RANK[level] <= _LEVEL_RANK.get(result.level, 0):
        return result  # never make coarsened data look finer
    step = None if level == "withheld" else prec.cell_size_m
    enc = result.encounters.copy()
    enc["x"] = np.nan
    enc["y"] = np.nan
    enc["distance_km"] = _round(enc["distance_km"], step)
    ind = result.individuals.copy()
    for c in ind.columns:
        if c.startswith("max_distance_km_"):
            ind[c] = _round(ind[c], step)
        if level == "withheld" and (c.startswith("mcp95_") or c == "locations"):
            ind[c] = np.nan
    bands = result.bands
    if level == "withheld":
        bands = bands.iloc[0:0].copy()
    return replace(result, encounters=enc, individuals=ind, bands=bands, level=level)

