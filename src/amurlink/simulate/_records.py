"""From station events to camera records, national catalogues, expert crosswalk and tables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyproj

from amurlink.dataset import Dataset
from amurlink.simulate._scenario import LEOPARD, TIGER, Scenario
from amurlink.simulate._survey import OTHER_SPECIES, Survey, camera_records

__all__ = ["Records", "build_records", "assign_catalogues", "expert_crosswalk",
           "chinese_dataset", "russian_tables", "CN_CATALOGUE", "RU_CATALOGUE", "RU_SPECIES",
           "RU_SEX", "RU_AGE"]

CN_CATALOGUE = "CN-NTLNP"
RU_CATALOGUE = "RU-LLNP"
#: Russian names of the species as the national tables write them.
RU_SPECIES: dict[str, str] = {
    TIGER: "Тигр", LEOPARD: "Леопард", "Homo sapiens": "Человек",
    **{k: v[3] for k, v in OTHER_SPECIES.items()},
}
RU_SEX = {"male": "М", "female": "Ж"}
RU_AGE = {"adult": "взрослый", "subadult": "молодой", "juvenile": "детёныш"}
_MODEL = {"photo": "Ltl Acorn 6210", "video": "Ltl Acorn 6310 (video)",
          "trail": "Reconyx HC600"}


@dataclass(frozen=True, eq=False)
class Records:
    """Camera records of one simulated survey, with the truth attached.

    Attributes
    ----------
    events : DataFrame
        Station events: ``stationIdx, day, t, kind`` (``cat`` or ``other``), ``animalIdx``
        (-1 for other species), ``scientificName, observationType, count, flank``.
    records : DataFrame
        One row per camera that recorded an event and per individual in it (cats) or per
        species group (others): ``recordIdx, eventIdx, cameraIdx, deploymentIdx, camSlot,
        country, animalIdx, flank, identifiable, isCub, scientificName, observationType,
        count, t`` (true time, seconds since the start), ``tRecorded`` (UTC instant the
        camera's clock shows, as Timestamp), ``nMedia``.
    """

    events: pd.DataFrame
    records: pd.DataFrame


def build_records(animals: pd.DataFrame, survey: Survey, cat_ev: pd.DataFrame,
                  other_ev: pd.DataFrame, scenario: Scenario, *, rng: np.random.Generator
                  ) -> Records:
    """Combine cat and other events, let the cameras record them and add cubs and flanks."""
    n_cat = len(cat_ev)
    sp_of = animals["scientificName"].to_numpy()
    cat = pd.DataFrame({
        "stationIdx": cat_ev["stationIdx"].to_numpy(), "day": cat_ev["day"].to_numpy(),
        "t": cat_ev["t"].to_numpy(), "kind": "cat",
        "animalIdx": cat_ev["animalIdx"].to_numpy(),
        "scientificName": sp_of[cat_ev["animalIdx"].to_numpy()] if n_cat else [],
        "observationType": "animal", "count": 1,
        "flank": np.where(rng.random(n_cat) < 0.5, "left", "right"),
    })
    oth = pd.DataFrame({
        "stationIdx": other_ev["stationIdx"].to_numpy(), "day": other_ev["day"].to_numpy(),
        "t": other_ev["t"].to_numpy(), "kind": "other", "animalIdx": -1,
        "scientificName": other_ev["scientificName"].to_numpy(),
        "observationType": other_ev["observationType"].to_numpy(),
        "count": other_ev["count"].to_numpy(), "flank": None,
    })
    events = pd.concat([cat, oth], ignore_index=True)
    events = events.sort_values(["t", "stationIdx"], kind="stable").reset_index(drop=True)
    rec = camera_records(events, survey, rng=rng)
    ev = events.iloc[rec["eventIdx"].to_numpy()].reset_index(drop=True)
    rec = pd.concat([rec, ev[["animalIdx", "scientificName", "observationType", "count", "t",
                              "kind"]]], axis=1)
    # The second camera of a Chinese pair sees the other flank.
    flank = ev["flank"].to_numpy(object)
    other_side = np.where(flank == "left", "right", "left")
    rec["flank"] = np.where(ev["kind"].to_numpy() == "cat",
                            np.where(rec["camSlot"].to_numpy() == 1, other_side, flank), None)
    rec["isCub"] = False
    # Cubs walk with their mothers: present in an event with probability cub_follow.
    cub_rows = []
    mothers = animals["motherID"].dropna()
    if len(mothers) and len(rec):
        idx_of = pd.Index(animals["animalID"])
        cub_idx = idx_of.get_indexer(mothers.index.map(animals["animalID"]))
        mom_idx = idx_of.get_indexer(mothers.to_numpy())
        cubs_by_mom = pd.Series(cub_idx).groupby(mom_idx).agg(list).to_dict()
        is_cat = (rec["kind"] == "cat").to_numpy()
        ev_ids = rec["eventIdx"].to_numpy()
        present: dict[tuple[int, int], bool] = {}
        for r in np.flatnonzero(is_cat & rec["animalIdx"].isin(list(cubs_by_mom)).to_numpy()):
            m = int(rec["animalIdx"].iat[r])
            for c in cubs_by_mom[m]:
                key = (int(ev_ids[r]), c)
                if key not in present:
                    present[key] = bool(rng.random() < scenario.cub_follow)
                if present[key]:
                    cub_rows.append((r, c))
    rec["country"] = survey.cameras["country"].to_numpy()[rec["cameraIdx"].to_numpy()]
    if cub_rows:
        src = np.array([r for r, _ in cub_rows])
        cubs = rec.iloc[src].copy()
        cubs["animalIdx"] = [c for _, c in cub_rows]
        cubs["isCub"] = True
        # The Russian tables count cubs with their mother; China records each cub.
        ru_src = src[cubs["country"].to_numpy() == "RU"]
        if ru_src.size:
            add = np.bincount(ru_src, minlength=len(rec))
            rec["count"] = rec["count"].to_numpy() + add
        cubs = cubs[cubs["country"] == "CN"]
        rec = pd.concat([rec, cubs], ignore_index=True)
    rec = rec.sort_values(["eventIdx", "camSlot", "isCub"], kind="stable").reset_index(drop=True)
    n = len(rec)
    rec["identifiable"] = (rec["kind"] == "cat").to_numpy() & (
        rng.random(n) >= scenario.p_unidentifiable)
    # Media per camera record: a Chinese photo camera takes 3 photos, the video camera one
    # clip, a Russian trail camera a burst of 3 to 5 photos.
    kind = survey.cameras["kind"].to_numpy()[rec["cameraIdx"].to_numpy()]
    rec["nMedia"] = np.where(kind == "photo", 3, np.where(kind == "video", 1,
                                                          rng.integers(3, 6, n)))
    # The clock: hours off and a wrong year per deployment.
    dep = survey.deployments
    di = rec["deploymentIdx"].to_numpy()
    shown = survey.t0 + pd.to_timedelta(rec["t"].to_numpy()
                                         + 3600 * dep["clockHours"].to_numpy()[di], unit="s")
    years = dep["clockYears"].to_numpy()[di]
    shown = pd.Series(shown)
    for k in (-1, 1):
        sel = years == k
        if sel.any():
            shown[sel] = pd.DatetimeIndex(shown[sel]) + pd.DateOffset(years=k)
    rec["tRecorded"] = shown.to_numpy()
    rec["recordIdx"] = np.arange(n)
    rec = rec[["recordIdx", "eventIdx", "cameraIdx", "deploymentIdx", "camSlot", "country",
               "animalIdx", "flank", "identifiable", "isCub", "scientificName",
               "observationType", "count", "t", "tRecorded", "nMedia", "kind"]]
    return Records(events=events, records=rec)


# ------------------------------------------------------------------------------------------
# National catalogues and the expert crosswalk
# ------------------------------------------------------------------------------------------
def _cn_name(sp: str, n: int, sex: str) -> str:
    return f"T{n:03d}" if sp == TIGER else f"L{n:02d}"


def _ru_name(sp: str, n: int, sex: str) -> str:
    return f"T-{n}" if sp == TIGER else f"Leo {n}{'M' if sex == 'male' else 'F'}"


def assign_catalogues(records: Records, animals: pd.DataFrame, scenario: Scenario, *,
                      rng: np.random.Generator) -> tuple[np.ndarray, pd.DataFrame]:
    """Name the photographed animals in each country's own style; a few get two IDs.

    Returns
    -------
    ids : ndarray of object
        National ID (namespaced, e.g. ``CN-NTLNP:T012``) of every record, or None.
    links : DataFrame
        Truth: ``animalID, country, catalogue, nationalID, individualID, kind`` (``primary``,
        ``flank`` or ``missed``: the reason for a second ID), ``firstRecorded`` (seconds).
    """
    rec = records.records
    ids = np.full(len(rec), None, dtype=object)
    link_rows = []
    sp_all = animals["scientificName"].to_numpy()
    sex_all = animals["sex"].to_numpy()
    for country, catalogue, namer in (("CN", CN_CATALOGUE, _cn_name),
                                      ("RU", RU_CATALOGUE, _ru_name)):
        sel = np.flatnonzero((rec["country"] == country).to_numpy()
                             & rec["identifiable"].to_numpy())
        if sel.size == 0:
            continue
        sub = rec.iloc[sel]
        first = sub.groupby("animalIdx")["t"].min().sort_values(kind="stable")
        counters: dict[str, int] = {}
        primary: dict[int, str] = {}
        for a in first.index:
            sp = sp_all[a]
            counters[sp] = counters.get(sp, 0) + 1
            primary[int(a)] = namer(sp, counters[sp], sex_all[a])
        anim = sub["animalIdx"].to_numpy()
        names = np.array([primary[int(a)] for a in anim], dtype=object)
        # Second IDs: one per flank (Russia) or a missed match after some date.
        dup = [a for a in first.index if rng.random() < scenario.p_duplicate_id]
        for a in dup:
            mine = anim == a
            kind = "flank" if country == "RU" and rng.random() < 0.5 else "missed"
            if kind == "flank":
                part = mine & (sub["flank"].to_numpy() == "right")
                if part.all() or not part.any():
                    continue
            else:
                times = np.sort(sub["t"].to_numpy()[mine])
                if times.size < 2:
                    continue
                split = times[rng.integers(1, times.size)]
                part = mine & (sub["t"].to_numpy() >= split)
            sp = sp_all[a]
            counters[sp] += 1
            second = namer(sp, counters[sp], sex_all[a])
            names[part] = second
            link_rows.append((animals["animalID"].iat[a], country, catalogue, second, kind,
                              int(sub["t"].to_numpy()[part].min())))
        for a, name in primary.items():
            if (names[anim == a] == name).any():
                link_rows.append((animals["animalID"].iat[a], country, catalogue, name,
                                  "primary", int(first[a])))
        ids[sel] = np.array([f"{catalogue}:{n}" for n in names], dtype=object)
    links = pd.DataFrame(link_rows, columns=["animalID", "country", "catalogue", "nationalID",
                                             "kind", "firstRecorded"])
    links.insert(4, "individualID", links["catalogue"] + ":" + links["nationalID"])
    links = links.sort_values(["country", "firstRecorded", "nationalID"]).reset_index(drop=True)
    return ids, links


def expert_crosswalk(links: pd.DataFrame, animals: pd.DataFrame, scenario: Scenario, *,
                     rng: np.random.Generator, date: pd.Timestamp) -> pd.DataFrame:
    """The crosswalk a reviewer would draw by eye: most true pairs, a few misses and errors.

    Returns
    -------
    DataFrame
        ``cn_id, ru_id, method, reviewer, reviewer_cn, reviewer_ru, date, correct``
        (``correct`` is truth, not written to ``crosswalk.csv``). The joint review names a
        reviewer of each side, so every row counts under the two-party rule.
    """
    cn = links[links["country"] == "CN"]
    ru = links[links["country"] == "RU"]
    cn_p = cn[cn["kind"] == "primary"].drop_duplicates("animalID")
    ru_p = ru[ru["kind"] == "primary"].drop_duplicates("animalID")
    pairs = cn_p.merge(ru_p, on="animalID", suffixes=("_cn", "_ru"))
    keep = rng.random(len(pairs)) >= scenario.crosswalk_miss
    rows = [(a, b, True) for a, b in zip(pairs["individualID_cn"][keep],
                                         pairs["individualID_ru"][keep], strict=True)]
    n_false = int(round(scenario.crosswalk_false * len(pairs)))
    if len(pairs) >= 10:
        n_false = max(n_false, 1)
    sp = animals.set_index("animalID")["scientificName"]
    cn_sp = cn_p.assign(sp=cn_p["animalID"].map(sp))
    ru_sp = ru_p.assign(sp=ru_p["animalID"].map(sp))
    true_pairs = set(zip(pairs["individualID_cn"], pairs["individualID_ru"], strict=True))
    tries = 0
    while n_false > 0 and tries < 100 and len(cn_sp) and len(ru_sp):
        tries += 1
        a = cn_sp.iloc[int(rng.integers(len(cn_sp)))]
        cands = ru_sp[(ru_sp["sp"] == a["sp"]) & (ru_sp["animalID"] != a["animalID"])]
        if not len(cands):
            continue
        b = cands.iloc[int(rng.integers(len(cands)))]
        if (a["individualID"], b["individualID"]) in true_pairs:
            continue
        rows.append((a["individualID"], b["individualID"], False))
        n_false -= 1
    out = pd.DataFrame(rows, columns=["cn_id", "ru_id", "correct"])
    out.insert(2, "method", "expert")
    out.insert(3, "reviewer", "joint photo review (simulated)")
    out.insert(4, "reviewer_cn", "NTLNP photo reviewer (simulated)")
    out.insert(5, "reviewer_ru", "LLNP photo reviewer (simulated)")
    out.insert(6, "date", date.strftime("%Y-%m-%d"))
    return out.sort_values(["cn_id", "ru_id"]).reset_index(drop=True)


# ------------------------------------------------------------------------------------------
# National tables
# ------------------------------------------------------------------------------------------
def _lonlat(x, y, crs: str) -> tuple[np.ndarray, np.ndarray]:
    tr = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(np.asarray(x, float), np.asarray(y, float))
    return np.round(lon, 6), np.round(lat, 6)


def _ts(t0: pd.Timestamp, seconds) -> pd.Series:
    return pd.Series(t0 + pd.to_timedelta(np.asarray(seconds), unit="s"))


def iso_utc(t0: pd.Timestamp, seconds: np.ndarray) -> np.ndarray:
    """ISO 8601 UTC strings (``...Z``) of ``seconds`` after ``t0``, fast (numpy, no strftime)."""
    base = np.datetime64(t0.tz_convert(None).to_datetime64(), "s")
    s = np.datetime_as_string(base + np.asarray(seconds, np.int64).astype("timedelta64[s]"),
                              unit="s")
    return np.char.add(s, "Z").astype(object)


def _local_text(naive: pd.DatetimeIndex) -> np.ndarray:
    """``YYYY-mm-dd HH:MM:SS`` of naive timestamps (numpy formatting, no strftime)."""
    s = np.datetime_as_string(naive.to_numpy().astype("datetime64[s]"), unit="s")
    return pd.Series(s, dtype=object).str.replace("T", " ", regex=False).to_numpy()


def media_rows(records: pd.DataFrame) -> pd.DataFrame:
    """One row per media file: ``recordIdx, k`` (position in the burst), ``offset`` (s)."""
    n = records["nMedia"].to_numpy()
    ri = np.repeat(records["recordIdx"].to_numpy(), n)
    first = np.repeat(np.cumsum(n) - n, n)
    k = np.arange(n.sum()) - first
    return pd.DataFrame({"recordIdx": ri, "k": k})


def chinese_dataset(records: Records, ids: np.ndarray, animals: pd.DataFrame, survey: Survey,
                    links: pd.DataFrame, crs: str
                    ) -> tuple[Dataset, pd.DataFrame, pd.DataFrame]:
    """The Chinese Camtrap DP dataset, the media truth and observation -> record.

    Only the camera records themselves and the catalogue individuals go in; wrong clocks are
    kept as recorded (``timestampIssues`` is left empty: nobody has noticed yet).
    """
    rec = records.records
    cnm = (rec["country"] == "CN").to_numpy()
    # Chinese records are event-level: one observation per individual (or species group) per
    # camera record; the camera record is the event.
    r = rec[cnm].copy()
    r["individualID"] = ids[cnm]
    dep = survey.deployments
    cams = survey.cameras
    st = survey.stations
    dsel = (dep["timezone"] == "Asia/Shanghai").to_numpy()
    d = dep[dsel]
    cam_of = d["cameraIdx"].to_numpy()
    st_of = cams["stationIdx"].to_numpy()[cam_of]
    lon, lat = _lonlat(st["x"].to_numpy()[st_of], st["y"].to_numpy()[st_of], crs)
    kinds = cams["kind"].to_numpy()[cam_of]
    deployments = pd.DataFrame({
        "deploymentID": d["deploymentID"].to_numpy(),
        "locationID": st["stationID"].to_numpy()[st_of],
        "locationName": ["station " + s for s in st["stationID"].to_numpy()[st_of]],
        "latitude": lat, "longitude": lon, "coordinateUncertainty": 10,
        "deploymentStart": _ts(survey.t0, d["start"].to_numpy()),
        "deploymentEnd": _ts(survey.t0, d["end"].to_numpy()),
        "setupBy": "NTLNP field team", "cameraID": cams["cameraID"].to_numpy()[cam_of],
        "cameraModel": [_MODEL[k] for k in kinds], "cameraHeight": 0.5,
        "baitUse": False, "featureType": "trailGame",
        "deploymentGroups": "NEASPEC 4 km grid",
    })
    details = pd.DataFrame({"deploymentID": deployments["deploymentID"], "countryCode": "CN",
                            "organisation": "NTLNP", "timezone": "Asia/Shanghai"})
    g = survey.gaps
    gsel = dsel[g["deploymentIdx"].to_numpy()] if len(g) else np.zeros(0, bool)
    gg = g[gsel]
    gaps = pd.DataFrame({
        "deploymentID": dep["deploymentID"].to_numpy()[gg["deploymentIdx"].to_numpy()],
        "gapStart": _ts(survey.t0, gg["start"].to_numpy()),
        "gapEnd": _ts(survey.t0, gg["end"].to_numpy()),
        "gapReason": gg["reason"].to_numpy(),
    })
    dep_id = dep["deploymentID"].to_numpy()[r["deploymentIdx"].to_numpy()]
    kind = cams["kind"].to_numpy()[r["cameraIdx"].to_numpy()]
    # event per camera record; cubs share the record of their mother
    ev_key = r["eventIdx"].astype(str) + "-" + r["camSlot"].astype(str)
    ev_codes, ev_uniques = pd.factorize(ev_key)
    r["eventID"] = np.array([f"E{i + 1:07d}" for i in range(len(ev_uniques))],
                            dtype=object)[ev_codes]
    start = pd.DatetimeIndex(r["tRecorded"])
    dur = np.where(kind == "video", 10, r["nMedia"].to_numpy() - 1)
    end = start + pd.to_timedelta(dur, unit="s")
    sp = animals["sex"].to_numpy()
    stage = animals["lifeStage"].to_numpy()
    ai = r["animalIdx"].to_numpy()
    ident = r["individualID"].notna().to_numpy()
    obs_type = r["observationType"].to_numpy()
    observations = pd.DataFrame({
        "observationID": [f"O{i + 1:07d}" for i in range(len(r))],
        "deploymentID": dep_id, "eventID": r["eventID"].to_numpy(),
        "eventStart": start, "eventEnd": end, "observationLevel": "event",
        "observationType": obs_type,
        "scientificName": r["scientificName"].to_numpy(),
        "count": r["count"].to_numpy(),
        "lifeStage": np.where(ident, stage[np.maximum(ai, 0)], None),
        "sex": np.where(ident, sp[np.maximum(ai, 0)], None),
        "individualID": r["individualID"].to_numpy(),
        "classificationMethod": "human", "classifiedBy": "NTLNP photo team",
    })
    # Media: one per burst frame of each camera record (cubs add no media).
    r_media = r[~r["isCub"].to_numpy()]
    m = media_rows(r_media)
    rr = r_media.set_index("recordIdx").loc[m["recordIdx"].to_numpy()]
    mkind = cams["kind"].to_numpy()[rr["cameraIdx"].to_numpy()]
    m_dep = dep["deploymentID"].to_numpy()[rr["deploymentIdx"].to_numpy()]
    media_id = np.array([f"M{i + 1:08d}" for i in range(len(m))], dtype=object)
    ext = np.where(mkind == "video", ".mp4", ".jpg")
    fname = media_id + ext
    media = pd.DataFrame({
        "mediaID": media_id, "deploymentID": m_dep, "captureMethod": "activityDetection",
        "timestamp": pd.DatetimeIndex(rr["tRecorded"]) + pd.to_timedelta(m["k"].to_numpy(),
                                                                           unit="s"),
        "filePath": "media/" + m_dep + "/" + fname, "filePublic": False, "fileName": fname,
        "fileMediatype": np.where(mkind == "video", "video/mp4", "image/jpeg"),
    })
    # Individuals: the Chinese catalogue.
    cl = links[links["country"] == "CN"]
    a_idx = pd.Index(animals["animalID"]).get_indexer(cl["animalID"])
    mother_animal = animals["motherID"].to_numpy()[a_idx]
    primary_of = cl[cl["kind"] == "primary"].drop_duplicates("animalID").set_index(
        "animalID")["individualID"]
    flanks = r[ident].groupby("individualID")["flank"].agg(lambda s: set(s))
    known = [("both" if len(flanks.get(i, ())) == 2 else next(iter(flanks.get(i, {"left"}))))
             for i in cl["individualID"]]
    individuals = pd.DataFrame({
        "individualID": cl["individualID"].to_numpy(), "catalogue": CN_CATALOGUE,
        "scientificName": animals["scientificName"].to_numpy()[a_idx],
        "sex": animals["sex"].to_numpy()[a_idx],
        "lifeStage": animals["lifeStage"].to_numpy()[a_idx],
        "knownFlanks": known,
        "motherID": [primary_of.get(mo) if mo is not None else None for mo in mother_animal],
        "firstRecorded": _ts(survey.t0, cl["firstRecorded"].to_numpy()),
    })
    metadata = {
        "name": "ntlnp-camera-traps-simulated",
        "title": "NTLNP camera traps (simulated by amurlink)",
        "description": "Simulated Chinese camera-trap data of the amurlink two-country simulator.",
        "licenses": [{"name": "CC0-1.0", "scope": "data"}, {"name": "CC0-1.0", "scope": "media"}],
        "contributors": [{"title": "Northeast China Tiger and Leopard National Park (simulated)",
                          "role": "rightsHolder"}],
        "created": (survey.t0 + pd.Timedelta(days=survey.n_days)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "project": {"title": "amurlink simulated transboundary survey",
                    "samplingDesign": "systematicRandom",
                    "captureMethod": ["activityDetection"], "individualAnimals": True,
                    "observationLevel": ["event"]},
    }
    ds = Dataset({"deployments": deployments, "media": media, "observations": observations,
                  "deploymentDetails": details, "deploymentGaps": gaps,
                  "individuals": individuals}, metadata=metadata)
    truth_media = pd.DataFrame({"mediaID": media_id, "recordIdx": m["recordIdx"].to_numpy(),
                                "k": m["k"].to_numpy(), "filePath": media["filePath"].to_numpy()})
    r_obs = pd.DataFrame({"observationID": observations["observationID"].to_numpy(),
                          "recordIdx": r["recordIdx"].to_numpy()})
    return ds, truth_media, r_obs


def russian_tables(records: Records, ids: np.ndarray, animals: pd.DataFrame, survey: Survey,
                   links: pd.DataFrame, crs: str, gk_crs: str = "EPSG:28423"
                   ) -> dict[str, pd.DataFrame]:
    """The Russian national tables (camtrapR-style ``stations`` and per-image ``records``).

    Coordinates in Pulkovo 1942 Gauss-Krüger (Russian axis names: ``X`` northing, ``Y``
    easting with the zone prefix), dates ``dd.mm.yyyy``, times as the camera's clock shows in
    Vladivostok local time (the offset at set-up: clocks are not reset on 26 October 2014).
    """
    dep = survey.deployments
    cams = survey.cameras
    st = survey.stations
    dsel = (dep["timezone"] == "Asia/Vladivostok").to_numpy()
    d = dep[dsel]
    cam_of = d["cameraIdx"].to_numpy()
    st_of = cams["stationIdx"].to_numpy()[cam_of]
    tr = pyproj.Transformer.from_crs(crs, gk_crs, always_xy=True)
    east, north = tr.transform(st["x"].to_numpy()[st_of], st["y"].to_numpy()[st_of])

    def local_date(sec):
        ts = pd.DatetimeIndex(_ts(survey.t0, sec)).tz_convert("Asia/Vladivostok")
        return ts.strftime("%d.%m.%Y")

    stations = pd.DataFrame({
        "Station": st["stationID"].to_numpy()[st_of],
        "Camera": cams["cameraID"].to_numpy()[cam_of],
        "X": np.round(north, 1), "Y": np.round(east, 1),
        "Setup_date": local_date(d["start"].to_numpy()),
        "Retrieval_date": local_date(d["end"].to_numpy()),
    })
    g = survey.gaps
    if len(g):
        gg = g[dsel[g["deploymentIdx"].to_numpy()]].copy()
        gg["n"] = gg.groupby("deploymentIdx").cumcount() + 1
        pos = pd.Series(np.arange(len(d)), index=d.index)
        for n in sorted(gg["n"].unique()):
            part = gg[gg["n"] == n]
            rows = pos.loc[part["deploymentIdx"].to_numpy()].to_numpy()
            fcol, tcol = f"Problem{n}_from", f"Problem{n}_to"
            stations[fcol] = None
            stations[tcol] = None
            stations.loc[rows, fcol] = local_date(part["start"].to_numpy())
            stations.loc[rows, tcol] = local_date(part["end"].to_numpy() - 1)
    rec = records.records
    rm = (rec["country"] == "RU").to_numpy()
    r = rec[rm].copy()
    r["individual"] = ids[rm]
    m = media_rows(r)
    rr = r.set_index("recordIdx").loc[m["recordIdx"].to_numpy()]
    di = rr["deploymentIdx"].to_numpy()
    # The clock shows UTC plus the offset it was set to at set-up (plus its own errors).
    shown = pd.DatetimeIndex(rr["tRecorded"]).tz_convert(None) + pd.to_timedelta(
        dep["setupOffset"].to_numpy()[di] + m["k"].to_numpy(), unit="s")
    ai = rr["animalIdx"].to_numpy()
    ident = rr["individual"].notna().to_numpy()
    station = dep["deploymentID"].to_numpy()[di]
    seq = np.arange(len(m)) + 1
    files = ("media/" + pd.Series(station, dtype=object) + "/IMG_"
             + pd.Series(seq).astype(str).str.zfill(7) + ".JPG").to_numpy()
    individual = np.array([None if v is None else v.split(":", 1)[1]
                           for v in rr["individual"].to_numpy()], dtype=object)
    records_tab = pd.DataFrame({
        "Station": station,
        "DateTimeOriginal": _local_text(shown),
        "Species": [RU_SPECIES.get(s, s) for s in rr["scientificName"].to_numpy()],
        "Individual": individual,
        "Count": rr["count"].to_numpy(),
        "Sex": np.where(ident, [RU_SEX.get(s) for s in animals["sex"].to_numpy()[
            np.maximum(ai, 0)]], None),
        "Age": np.where(ident, [RU_AGE.get(s) for s in animals["lifeStage"].to_numpy()[
            np.maximum(ai, 0)]], None),
        "File": files,
    })
    truth_media = pd.DataFrame({"File": files, "recordIdx": m["recordIdx"].to_numpy(),
                                "k": m["k"].to_numpy()})
    rl = links[links["country"] == "RU"]
    a_idx = pd.Index(animals["animalID"]).get_indexer(rl["animalID"])
    catalogue = pd.DataFrame({
        "ID": rl["nationalID"].to_numpy(),
        "Species": [RU_SPECIES[s] for s in animals["scientificName"].to_numpy()[a_idx]],
        "Sex": [RU_SEX[s] for s in animals["sex"].to_numpy()[a_idx]],
        "First_seen": local_date(rl["firstRecorded"].to_numpy()),
    })
    return {"stations": stations, "records": records_tab, "catalogue": catalogue,
            "truth_media": truth_media}

