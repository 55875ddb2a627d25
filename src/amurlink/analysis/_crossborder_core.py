"""Encounters of joint individuals: camera events and assigned DNA samples, located and sided."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from amurlink.analysis.events import stable_argsort
from amurlink.core.border import Border, distance_to_border_m, side_of_border
from amurlink.core.crs import as_crs, to_metric
from amurlink.dataset import Dataset
from amurlink.exceptions import ConfigError, CRSError, SchemaError

logger = logging.getLogger("amurlink.analysis.crossborder")

DEFAULT_SEASONS = MappingProxyType({
    12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring",
    6: "summer", 7: "summer", 8: "summer", 9: "autumn", 10: "autumn", 11: "autumn",
})

ENCOUNTER_COLUMNS: tuple[str, ...] = (
    "encounterID", "source", "jointID", "members", "scientificName", "lifeStage", "knownFlanks",
    "individualID", "sampleID", "deploymentID", "time", "x", "y", "declaredCountry",
    "polygonCountry", "country", "flagged", "distance_km", "atBorder", "nationalCountry",
    "nationalID",
)
LIFE_STAGES: tuple[str, ...] = ("juvenile", "subadult", "adult")
_STAGE_RANK = {s: i for i, s in enumerate(LIFE_STAGES)}
_STR_COLUMNS = ("encounterID", "source", "jointID", "members", "scientificName", "lifeStage",
                "knownFlanks", "individualID", "sampleID", "deploymentID", "declaredCountry",
                "polygonCountry", "country", "nationalCountry", "nationalID")


# ---------------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------------
def _obj(values: Any) -> pd.Series:
    """A Series of Python str / None (from pyarrow strings, categoricals, NaN...)."""
    s = pd.Series(values, copy=False)
    out = s.astype(object)
    return out.where(s.notna(), None)


def _need(frame: pd.DataFrame, table: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(f"`{table}` lacks column(s) {missing}, which cross-border analysis "
                          "needs; read the package with amurlink.io.read_camtrap_dp")


def parse_period(start: Any, end: Any) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """``start`` inclusive, ``end`` exclusive bound (a date-only ``end`` covers its whole day)."""
    def ts(value: Any, name: str) -> pd.Timestamp:
        try:
            t = pd.Timestamp(value)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{name} {value!r} is not a date or time ({exc}); use ISO 8601, "
                              "e.g. 2014-09-01 or 2014-09-01T00:00:00Z") from None
        return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")

    lo = None if start is None else ts(start, "start")
    hi = None
    if end is not None:
        hi = ts(end, "end")
        date_only = isinstance(end, str) and len(end.strip()) <= 10
        if date_only or (not isinstance(end, str) and hi == hi.normalize()
                         and not isinstance(end, pd.Timestamp | np.datetime64)):
            hi = hi + pd.Timedelta(days=1)
        else:
            hi = hi + pd.Timedelta(1, "ns")
    if lo is not None and hi is not None and hi <= lo:
        raise ConfigError(f"the period is empty: end {end!r} is before start {start!r}")
    return lo, hi


def species_matches(names: pd.Series, wanted: Sequence[str]) -> np.ndarray:
    """True where a name is one of ``wanted`` or a subspecies of one (case-insensitive)."""
    keys = [tuple(w.casefold().split()) for w in wanted]
    codes, uniq = pd.factorize(names, use_na_sentinel=True)
    hit = np.array([any(tuple(str(u).casefold().split())[:len(k)] == k for k in keys)
                    for u in uniq], dtype=bool)
    out = np.zeros(len(names), dtype=bool)
    ok = codes >= 0
    out[ok] = hit[codes[ok]]
    return out


def _namespace_country(ids: pd.Series) -> pd.Series:
    """``CN`` of ``CN-NTLNP:T012`` (None when not namespaced)."""
    s = _obj(ids)
    out = s.str.extract(r"^([A-Z]{2})-[A-Za-z0-9_]+:", expand=False)
    return _obj(out)


# ---------------------------------------------------------------------------------------------
# identities
# ---------------------------------------------------------------------------------------------
def _identities(dataset: Dataset, observed: pd.Series, *, two_party: bool = True
                ) -> pd.DataFrame:
    """``joint_identities`` of the dataset's links, every observed individual ID included
    (``two_party``: the study's ``[links] two_party`` rule)."""
    from amurlink.identify.links import empty_links, joint_identities

    links = dataset.get("identityLinks")
    if links is None:
        links = empty_links()
    individuals = dataset.get("individuals")
    ids = _obj(pd.Series(np.asarray(observed, dtype=object))).dropna().reset_index(drop=True)
    frames = []
    if individuals is not None and len(individuals):
        _need(individuals, "individuals", ["individualID"])
        cat = individuals["catalogue"] if "catalogue" in individuals else None
        frames.append(pd.DataFrame({"individualID": _obj(individuals["individualID"]),
                                    "catalogue": _obj(cat) if cat is not None else None}))
        ids = ids[~ids.isin(set(frames[0]["individualID"]))]
    if len(ids):
        cat = _obj(ids.str.extract(r"^([A-Z]{2}-[A-Za-z0-9_]+):", expand=False))
        frames.append(pd.DataFrame({"individualID": ids.to_numpy(object),
                                    "catalogue": cat.to_numpy(object)}))
    table = pd.concat(frames, ignore_index=True) if frames else None
    return joint_identities(links, individuals=table, two_party=two_party)


def _mode_by(keys: np.ndarray, values: pd.Series) -> pd.Series:
    """Most frequent non-null value per key (ties: the first in sort order), vectorised."""
    f = pd.DataFrame({"k": keys, "v": values.to_numpy(object)}).dropna()
    if not len(f):
        return pd.Series(dtype=object)
    n = f.groupby(["k", "v"], sort=True).size().reset_index(name="n")
    n = n.sort_values(["k", "n"], ascending=[True, False], kind="stable")
    return n.drop_duplicates("k").set_index("k")["v"]


def _identity_attributes(ident: pd.DataFrame, dataset: Dataset,
                         rec_joint: np.ndarray, rec_species: pd.Series, rec_stage: pd.Series
                         ) -> pd.DataFrame:
    """Per jointID (sorted): members, scientificName, lifeStage, knownFlanks.

    From the ``individuals`` table of the members; where it says nothing, from the records
    (``rec_*``: one entry per encounter, ``rec_joint`` their joint IDs).
    """
    base = ident.drop_duplicates("jointID")[["jointID", "members"]]
    base = base.sort_values("jointID").set_index("jointID")
    inds = ident[ident["subjectType"] == "individual"][["jointID", "subject"]]
    table = dataset.get("individuals")
    if table is not None and len(table):
        t = pd.DataFrame({"subject": _obj(table["individualID"])})
        for col in ("scientificName", "lifeStage", "knownFlanks"):
            t[col] = _obj(table[col]) if col in table else None
        t = t.drop_duplicates("subject")
        m = inds.merge(t, on="subject", how="left").sort_values(["jointID", "subject"])
    else:
        m = inds.assign(scientificName=None, lifeStage=None, knownFlanks=None)
    sp = m.dropna(subset=["scientificName"]).groupby("jointID")["scientificName"].first()
    stage = m["lifeStage"].map(_STAGE_RANK).groupby(m["jointID"]).max()
    fl = m.dropna(subset=["knownFlanks"])
    left = fl["knownFlanks"].isin(["left", "both"]).groupby(fl["jointID"]).any()
    right = fl["knownFlanks"].isin(["right", "both"]).groupby(fl["jointID"]).any()
    flanks = pd.Series(np.where(left & right, "both", np.where(left, "left", "right")),
                       index=left.index, dtype=object)
    out = base.copy()
    out["scientificName"] = sp.reindex(out.index).astype(object)
    out["_stage"] = stage.reindex(out.index).astype(float)
    out["knownFlanks"] = flanks.reindex(out.index).astype(object)
    if len(rec_joint):
        miss = out["scientificName"].isna()
        if miss.any():
            o_sp = _mode_by(rec_joint, rec_species)
            out.loc[miss, "scientificName"] = o_sp.reindex(out.index[miss]).to_numpy(object)
        miss = out["_stage"].isna()
        if miss.any():
            ranks = rec_stage.map(_STAGE_RANK).to_numpy(float)
            o_stage = pd.Series(ranks).groupby(rec_joint).max()
            out.loc[miss, "_stage"] = o_stage.reindex(out.index[miss]).to_numpy(float)
    out["lifeStage"] = out["_stage"].map(dict(enumerate(LIFE_STAGES))).astype(object)
    out = out.drop(columns="_stage")
    return out.astype(object).where(out.notna(), None)


def _cat(small: Any, idx: np.ndarray) -> pd.Categorical:
    """Categorical of ``small[idx]`` (idx -1: missing) without building a big object array."""
    codes_small, uniq = pd.factorize(pd.Series(np.asarray(small, dtype=object)),
                                     use_na_sentinel=True)
    codes_small = np.append(codes_small, -1)  # idx -1 -> missing
    # codes come from factorize: in range by construction, no need to validate a million
    return pd.Categorical.from_codes(codes_small[idx], categories=pd.Index(uniq, dtype=object),
                                     validate=False)


def sorted_order(joint: np.ndarray, t: np.ndarray, eid: Any) -> np.ndarray:
    """Row order by joint code, time, then encounter ID (string order) for ties."""
    joint = np.asarray(joint, dtype=np.int64)
    if len(joint) and 0 <= joint.min() and joint.max() < 2**16:
        # stable two-pass sort: by time, then by joint code (16-bit codes: radix sort)
        order = stable_argsort(t)
        order = order[np.argsort(joint[order].astype(np.uint16), kind="stable")]
    else:
        order = np.lexsort((t, joint))
    js, ts = joint[order], t[order]
    tie = (js[1:] == js[:-1]) & (ts[1:] == ts[:-1])
    if tie.any():
        pos = np.flatnonzero(np.r_[tie, False] | np.r_[False, tie])
        rows = order[pos]
        e = pd.Series(eid, copy=False).take(rows).to_numpy(object)
        sub = pd.DataFrame({"j": joint[rows], "t": t[rows], "e": e})
        order[pos] = rows[np.lexsort((sub["e"].to_numpy(str), sub["t"].to_numpy(),
                                      sub["j"].to_numpy()))]
    return order


# ---------------------------------------------------------------------------------------------
# encounters
# ---------------------------------------------------------------------------------------------
def _independent(obs: pd.DataFrame, threshold_min: float) -> pd.DataFrame:
    try:
        from amurlink.analysis.events import independent_events
    except ImportError:
        logger.info("amurlink.analysis.events is not available: each observation row with an "
                    "individualID counts as one encounter")
        return obs
    if "scientificName" not in obs.columns:
        obs = obs.assign(scientificName=None)
    ev = independent_events(obs, threshold_min=threshold_min, by=("deploymentID",),
                            per_individual=True)
    return obs[ev["independent"].to_numpy(bool)]


def _camera_encounters(dataset: Dataset, threshold_min: float) -> pd.DataFrame:
    """Independent camera records of identified animals (columns kept as given, no copies)."""
    obs = dataset.observations
    _need(obs, "observations", ["observationID", "deploymentID", "eventStart", "individualID"])
    keep = obs["individualID"].notna().to_numpy(bool)
    if "observationType" in obs:
        keep &= (obs["observationType"] == "animal").fillna(False).to_numpy(bool)
    cols = [c for c in ("observationID", "deploymentID", "eventStart", "scientificName",
                        "individualID", "lifeStage") if c in obs.columns]
    obs = obs[cols] if keep.all() else obs.loc[keep, cols]
    # repeated text as codes: selecting the independent rows then moves integers, not text
    obs = obs.assign(**{c: pd.Categorical.from_codes(*_factorized(obs[c]), validate=False)
                        for c in ("deploymentID", "scientificName", "individualID", "lifeStage")
                        if c in obs.columns})
    if len(obs):
        obs = _independent(obs, threshold_min)
    return obs


def _factorized(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    codes, uniq = pd.factorize(values, use_na_sentinel=True)
    return codes, pd.Index(np.asarray(uniq, dtype=object), dtype=object)


def _deployment_places(dataset: Dataset, crs: Any, border: Border) -> pd.DataFrame:
    dep = dataset.deployments
    _need(dep, "deployments", ["deploymentID", "latitude", "longitude"])
    dep = dep.drop_duplicates("deploymentID")
    x, y = to_metric(pd.to_numeric(dep["longitude"], errors="coerce").to_numpy(float),
                     pd.to_numeric(dep["latitude"], errors="coerce").to_numpy(float), crs=crs)
    places = pd.DataFrame({"deploymentID": _obj(dep["deploymentID"]).to_numpy(object),
                           "x": x, "y": y})
    details = dataset.get("deploymentDetails")
    declared = None
    if details is not None and "countryCode" in details:
        d = details.drop_duplicates("deploymentID")
        declared = pd.Series(_obj(d["countryCode"]).to_numpy(object),
                             index=_obj(d["deploymentID"]).to_numpy(object))
    places["declaredCountry"] = (places["deploymentID"].map(declared) if declared is not None
                                 else None)
    return _locate(places, border)


def _locate(places: pd.DataFrame, border: Border) -> pd.DataFrame:
    """Add polygonCountry and distance_km to a frame of places (x, y), computed once per
    distinct location."""
    x = places["x"].to_numpy(float)
    y = places["y"].to_numpy(float)
    loc = pd.DataFrame({"x": x, "y": y}).groupby(["x", "y"], sort=False, dropna=False).ngroup()
    loc = loc.to_numpy(np.int64)
    first = np.zeros(int(loc.max()) + 1 if len(loc) else 0, dtype=np.int64)
    first[loc[::-1]] = np.arange(len(loc))[::-1]
    ux, uy = x[first], y[first]
    places = places.copy()
    places["polygonCountry"] = np.asarray(side_of_border(ux, uy, border=border),
                                          dtype=object)[loc]
    places["distance_km"] = distance_to_border_m(ux, uy, border=border)[loc] / 1000.0
    return places


def _dna_encounters(dataset: Dataset, ident: pd.DataFrame, crs: Any, border: Border
                    ) -> pd.DataFrame:
    samples = dataset.get("samples")
    sub = ident[(ident["subjectType"] == "sample")
                & ((ident["individualCount"] > 0) | (ident["sampleCount"] > 1))]
    if samples is None or not len(samples) or not len(sub):
        return pd.DataFrame()
    _need(samples, "samples", ["sampleID"])
    s = samples.assign(sampleID=_obj(samples["sampleID"]))
    s = s[s["sampleID"].isin(set(sub["subject"]))].drop_duplicates("sampleID")
    lat = pd.to_numeric(s.get("latitude"), errors="coerce") if "latitude" in s else None
    lon = pd.to_numeric(s.get("longitude"), errors="coerce") if "longitude" in s else None
    when = (pd.to_datetime(s["collectionDate"], utc=True) if "collectionDate" in s
            else pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]"))
    if lat is None or lon is None:
        ok = np.zeros(len(s), dtype=bool)
    else:
        ok = (lat.notna() & lon.notna() & when.notna()).to_numpy(bool)
    if (~ok).any():
        logger.info("%d assigned DNA sample(s) lack coordinates or a collection date and are "
                    "left out", int((~ok).sum()))
    s, when = s[ok], when[ok]
    if not len(s):
        return pd.DataFrame()
    x, y = to_metric(lon[ok].to_numpy(float), lat[ok].to_numpy(float), crs=crs)
    out = pd.DataFrame({
        "encounterID": s["sampleID"].to_numpy(object),
        "source": "dna",
        "individualID": None,
        "sampleID": s["sampleID"].to_numpy(object),
        "deploymentID": None,
        "time": when.array,
        "scientificName": (_obj(s["scientificName"]).to_numpy(object)
                           if "scientificName" in s else None),
        "lifeStage": None,
        "x": x, "y": y,
        "declaredCountry": (_obj(s["countryCode"]).to_numpy(object) if "countryCode" in s
                            else None),
    })
    out["time"] = pd.to_datetime(out["time"], utc=True)
    return _locate(out, border)


def encounters(dataset: Dataset, *, border: Border, species: Any, life_stage: str | None,
               start: Any, end: Any, tolerance_m: float, threshold_min: float,
               crs: Any, two_party: bool = True) -> pd.DataFrame:
    if not isinstance(dataset, Dataset):
        raise SchemaError(f"expected a Dataset, got {type(dataset).__name__}")
    if not isinstance(border, Border):
        raise SchemaError(f"`border` must be a Border (see load_border), got "
                          f"{type(border).__name__}")
    if crs is not None and as_crs(crs) != border.crs:
        raise CRSError(f"crs {crs!r} differs from the border's CRS "
                       f"{border.crs.to_string()!r}; load the border with load_border(path, "
                       "crs=...) in the working CRS")
    if life_stage is not None and life_stage not in _STAGE_RANK:
        raise ConfigError(f"life_stage must be one of {list(LIFE_STAGES)} or None, got "
                          f"{life_stage!r}")
    if not np.isfinite(tolerance_m) or tolerance_m < 0:
        raise ConfigError(f"tolerance_m must be a distance in metres >= 0, got {tolerance_m!r}")
    wanted = None if species is None else ([species] if isinstance(species, str)
                                          else list(species))
    lo, hi = parse_period(start, end)
    crs = border.crs

    # camera records: everything per row is a code into a small table
    obs = _camera_encounters(dataset, threshold_min)
    ind_codes, ind_uniq = pd.factorize(obs["individualID"], use_na_sentinel=True)
    ind_uniq = np.asarray(ind_uniq, dtype=object)
    ident = _identities(dataset, ind_uniq, two_party=two_party)
    joints = np.sort(ident["jointID"].unique())
    j_index = pd.Series(np.arange(len(joints)), index=joints)
    subj_joint = pd.Series(ident["jointID"].to_numpy(object),
                           index=ident["subject"].to_numpy(object))
    cam_j = j_index.reindex(subj_joint.reindex(ind_uniq).to_numpy(object)).to_numpy()[ind_codes]
    dep_codes, dep_uniq = pd.factorize(obs["deploymentID"], use_na_sentinel=True)
    places = _deployment_places(dataset, crs, border).set_index("deploymentID")
    places = places.reindex(np.asarray(dep_uniq, dtype=object))
    dna = _dna_encounters(dataset, ident, crs, border)
    n_cam, n_dna = len(obs), len(dna)

    def codes_of(col: str) -> tuple[np.ndarray, Any]:
        if col not in obs:
            return np.full(n_cam, -1, dtype=np.int64), np.zeros(0, dtype=object)
        return pd.factorize(obs[col], use_na_sentinel=True)

    sp_codes, sp_uniq = codes_of("scientificName")
    st_codes, st_uniq = codes_of("lifeStage")
    # per identity: attributes from the catalogue, else the most common in the records
    cam_pairs = pd.DataFrame({"j": cam_j, "s": sp_codes, "l": st_codes}).drop_duplicates()
    rj = joints[cam_pairs["j"].to_numpy()]
    rs = pd.Series(np.append(np.asarray(sp_uniq, dtype=object), None)[cam_pairs["s"]])
    rl = pd.Series(np.append(np.asarray(st_uniq, dtype=object), None)[cam_pairs["l"]])
    if n_dna:
        dna_j = j_index.reindex(dna["sampleID"].map(subj_joint).to_numpy(object)).to_numpy()
        rj = np.concatenate([rj, joints[dna_j]])
        rs = pd.concat([rs, dna["scientificName"]], ignore_index=True)
        rl = pd.concat([rl, pd.Series([None] * n_dna, dtype=object)], ignore_index=True)
    else:
        dna_j = np.zeros(0, dtype=np.int64)
    attrs = _identity_attributes(ident, dataset, rj, rs, rl).reindex(joints)

    # one row per encounter: codes into small tables (places, national IDs, identities)
    n_dep = len(places)
    place = pd.concat([places.reset_index(drop=True)[["x", "y", "distance_km",
                                                      "declaredCountry", "polygonCountry"]],
                       dna[["x", "y", "distance_km", "declaredCountry", "polygonCountry"]]
                       if n_dna else None], ignore_index=True)
    place = pd.concat([place, pd.DataFrame({"x": [np.nan], "y": [np.nan],
                                            "distance_km": [np.nan]})],
                      ignore_index=True)  # last row: unknown place
    p_declared = _obj(place["declaredCountry"])
    p_polygon = _obj(place["polygonCountry"])
    p_country = p_declared.where(p_declared.notna(), p_polygon)
    p_flagged = (p_declared.notna() & p_polygon.notna() & (p_declared != p_polygon)).to_numpy(
        bool)
    pidx = np.concatenate([np.where(dep_codes >= 0, dep_codes, len(place) - 1),
                           n_dep + np.arange(n_dna)]).astype(np.int64)
    jidx = np.concatenate([cam_j, dna_j]).astype(np.int64)
    t_cam = pd.to_datetime(obs["eventStart"], utc=True).to_numpy("datetime64[ns]")
    t_dna = (dna["time"].to_numpy("datetime64[ns]") if n_dna
             else np.zeros(0, dtype="datetime64[ns]"))
    t = np.concatenate([t_cam, t_dna]).astype(np.int64)

    keep = np.ones(n_cam + n_dna, dtype=bool)
    if wanted is not None:
        keep &= species_matches(attrs["scientificName"], wanted)[jidx]
    if life_stage is not None:
        st = attrs["lifeStage"]
        keep &= (st.isna() | (st == life_stage)).to_numpy(bool)[jidx]
    if lo is not None:
        keep &= t >= lo.value
    if hi is not None:
        keep &= t < hi.value
    rows = np.flatnonzero(keep)
    eid_all = pd.concat([obs["observationID"].astype("string[pyarrow]").reset_index(drop=True),
                         pd.Series(pd.array(dna["encounterID"].to_numpy(object) if n_dna else [],
                                            dtype="string[pyarrow]"))], ignore_index=True)
    if len(rows) == len(keep):
        order = sorted_order(jidx, t, eid_all)
    else:
        order = rows[sorted_order(jidx[rows], t[rows], eid_all.take(rows))]
    jr = jidx[order]
    pr = pidx[order]
    is_cam = order < n_cam

    # national survey and ID: small table = observed national IDs, then one row per sample
    cat_country = pd.Series(
        _obj(_obj(ident["catalogue"]).str.extract(r"^([A-Z]{2})-", expand=False)).to_numpy(
            object), index=ident["subject"].to_numpy(object))
    cc_of_ind = cat_country.reindex(ind_uniq).to_numpy(object)
    cc_of_ind = np.where(pd.isna(cc_of_ind),
                         _namespace_country(pd.Series(ind_uniq)).to_numpy(object), cc_of_ind)
    nat_small_id = list(ind_uniq)
    nat_small_ind = list(ind_uniq)
    nat_small_cc = list(cc_of_ind)
    if n_dna:
        d_cc = p_country.to_numpy(object)[n_dep:n_dep + n_dna]
        d_cc = np.where(pd.isna(dna["declaredCountry"].to_numpy(object)), d_cc,
                        dna["declaredCountry"].to_numpy(object))
        inds = ident[ident["subjectType"] == "individual"][["jointID", "subject"]].copy()
        inds["cc"] = inds["subject"].map(cat_country)
        inds = inds.dropna(subset=["cc"]).sort_values("subject").drop_duplicates(["jointID", "cc"])
        lookup = {(j, c): sub for j, sub, c in inds.itertuples(index=False, name=None)}
        d_j = joints[dna_j]
        found = [lookup.get((j, c)) for j, c in zip(d_j, d_cc, strict=True)]
        nat_small_ind += found
        nat_small_id += [f if f is not None else f"{j}@{c}"
                         for f, j, c in zip(found, d_j, d_cc, strict=True)]
        nat_small_cc += list(d_cc)
    nat_small_cc = np.asarray(nat_small_cc, dtype=object)
    nidx = np.concatenate([ind_codes, len(ind_uniq) + np.arange(n_dna)]).astype(np.int64)[order]
    # a camera record of an ID without a namespace: the camera's declared country
    miss = pd.isna(nat_small_cc[nidx]) & is_cam
    nat_cc_rows = None
    if miss.any():
        nat_cc_rows = nat_small_cc[nidx].copy()
        nat_cc_rows[miss] = p_declared.to_numpy(object)[pr[miss]]

    smp_small = np.asarray(dna["sampleID"].to_numpy(object) if n_dna else [], dtype=object)
    smp_idx = np.where(is_cam, -1, order - n_cam)
    dist = place["distance_km"].to_numpy(float)[pr]
    enc = pd.DataFrame({
        "encounterID": eid_all.take(order).reset_index(drop=True),
        "source": pd.Categorical.from_codes(np.where(is_cam, 0, 1),
                                            categories=["camera", "dna"]),
        "jointID": pd.Categorical.from_codes(jr, categories=pd.Index(np.asarray(
            joints, dtype=object), dtype=object)),
        "members": _cat(attrs["members"], jr),
        "scientificName": _cat(attrs["scientificName"], jr),
        "lifeStage": _cat(attrs["lifeStage"], jr),
        "knownFlanks": _cat(attrs["knownFlanks"], jr),
        "individualID": _cat(nat_small_ind, nidx),
        "sampleID": _cat(smp_small, smp_idx),
        "deploymentID": _cat(np.asarray(dep_uniq, dtype=object),
                             np.where(is_cam, dep_codes[np.minimum(order, max(n_cam - 1, 0))]
                                      if n_cam else -1, -1)),
        "time": pd.Series(t[order].view("datetime64[ns]")).dt.tz_localize("UTC"),
        "x": place["x"].to_numpy(float)[pr], "y": place["y"].to_numpy(float)[pr],
        "declaredCountry": _cat(p_declared, pr),
        "polygonCountry": _cat(p_polygon, pr),
        "country": _cat(p_country, pr),
        "flagged": p_flagged[pr],
        "distance_km": dist,
        "atBorder": dist * 1000.0 <= tolerance_m,
        "nationalCountry": (_cat(nat_small_cc, nidx) if nat_cc_rows is None
                            else pd.Categorical(nat_cc_rows)),
        "nationalID": _cat(nat_small_id, nidx),
    })
    n_flag = int(enc["flagged"].sum())
    if n_flag:
        logger.info("%d encounter(s) lie on another side of the border than their declared "
                    "country; the declared code is used and the rows are flagged", n_flag)
    return enc
