"""Cameras, deployments, effort and the detection process (events at stations, camera records)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from amurlink.simulate._landscape import CN, RU, Landscape
from amurlink.simulate._scenario import LEOPARD, TIGER, Scenario

__all__ = ["Survey", "design_survey", "cat_events", "other_events", "camera_records",
           "ACTIVITY", "OTHER_SPECIES"]

DAY = 86_400
#: Local solar time minus UTC at about 131°E, seconds.
SOLAR_OFFSET = int(8.75 * 3600)
_BIG = np.int64(10**10)

#: Activity by time of day (local solar hours): (weight, mean hour, von Mises kappa) per mode.
ACTIVITY: dict[str, tuple[tuple[float, float, float], ...]] = {
    TIGER: ((0.4, 6.0, 3.0), (0.45, 19.0, 3.0), (0.15, 1.0, 1.0)),
    LEOPARD: ((0.45, 22.0, 2.0), (0.35, 4.5, 3.0), (0.2, 18.5, 4.0)),
    "crepuscular": ((0.5, 6.0, 4.0), (0.5, 18.0, 4.0)),
    "nocturnal": ((1.0, 23.5, 1.5),),
    "diurnal": ((1.0, 12.0, 1.5),),
    "mixed": ((0.5, 8.0, 1.0), (0.5, 20.0, 1.0)),
    "human": ((1.0, 11.5, 3.0),),
    "vehicle": ((1.0, 13.0, 2.5),),
}

#: Prey and other species: scientific name -> (share of events, group size range, activity,
#: Russian name as written in the national tables).
OTHER_SPECIES: dict[str, tuple[float, tuple[int, int], str, str]] = {
    "Cervus nippon": (0.22, (1, 4), "crepuscular", "Пятнистый олень"),
    "Capreolus pygargus": (0.21, (1, 3), "crepuscular", "Косуля"),
    "Sus scrofa": (0.15, (1, 8), "mixed", "Кабан"),
    "Cervus canadensis": (0.04, (1, 3), "crepuscular", "Изюбрь"),
    "Meles leucurus": (0.07, (1, 2), "nocturnal", "Барсук"),
    "Nyctereutes procyonoides": (0.06, (1, 2), "nocturnal", "Енотовидная собака"),
    "Ursus thibetanus": (0.04, (1, 2), "diurnal", "Гималайский медведь"),
    "Ursus arctos": (0.02, (1, 1), "diurnal", "Бурый медведь"),
    "Martes flavigula": (0.04, (1, 3), "diurnal", "Харза"),
    "Prionailurus bengalensis": (0.04, (1, 1), "nocturnal", "Амурский лесной кот"),
    "Lepus mandshuricus": (0.04, (1, 1), "nocturnal", "Маньчжурский заяц"),
    "Moschus moschiferus": (0.03, (1, 1), "crepuscular", "Кабарга"),
    "Vulpes vulpes": (0.02, (1, 1), "nocturnal", "Лисица"),
    "Mustela sibirica": (0.02, (1, 1), "mixed", "Колонок"),
}


def draw_time_of_day(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Seconds after UTC midnight of ``n`` events with the activity pattern ``kind``."""
    modes = ACTIVITY[kind]
    w = np.array([m[0] for m in modes])
    which = rng.choice(len(modes), size=n, p=w / w.sum())
    mu = np.array([m[1] for m in modes])[which] / 24 * 2 * np.pi
    kappa = np.array([m[2] for m in modes])[which]
    ang = rng.vonmises(mu, kappa)
    solar = (ang % (2 * np.pi)) / (2 * np.pi) * DAY
    return ((solar - SOLAR_OFFSET) % DAY).astype(np.int64)


@dataclass(frozen=True, eq=False)
class Survey:
    """Camera design of one study: stations, cameras, deployments, gaps and effort.

    Times are integer seconds since the survey start (``t0``, UTC midnight).

    Attributes
    ----------
    t0 : pandas.Timestamp
    n_days : int
    stations : DataFrame
        ``stationID, country, x, y, cam_a, cam_b`` (camera indices; ``cam_b`` -1 if none).
    cameras : DataFrame
        ``cameraID, stationIdx, country, kind`` (``photo``, ``video``, ``trail``).
    deployments : DataFrame
        ``deploymentID, cameraIdx, start, end, clockHours, clockYears, setupOffset``
        (``setupOffset``: UTC offset of the local clock at set-up, seconds).
    gaps : DataFrame
        ``deploymentIdx, start, end, reason``.
    intervals : DataFrame
        Working periods ``cameraIdx, deploymentIdx, start, end``, sorted.
    usage : ndarray, shape (n_stations, n_days)
        Share of each day a station had at least one working camera.
    """

    t0: pd.Timestamp
    n_days: int
    stations: pd.DataFrame
    cameras: pd.DataFrame
    deployments: pd.DataFrame
    gaps: pd.DataFrame
    intervals: pd.DataFrame
    usage: np.ndarray

    def operating(self, cam: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Whether camera ``cam`` works at time ``t`` and which deployment holds it (-1)."""
        iv = self.intervals
        keys = iv["cameraIdx"].to_numpy(np.int64) * _BIG + iv["start"].to_numpy(np.int64)
        q = np.asarray(cam, np.int64) * _BIG + np.asarray(t, np.int64)
        j = np.searchsorted(keys, q, side="right") - 1
        jj = np.maximum(j, 0)
        ok = (j >= 0) & (iv["cameraIdx"].to_numpy()[jj] == cam) & (
            np.asarray(t) < iv["end"].to_numpy()[jj]) & (np.asarray(cam) >= 0)
        dep = np.where(ok, iv["deploymentIdx"].to_numpy()[jj], -1)
        return ok, dep


def _grid_sites(land: Landscape, code: int, spacing: float, jitter: float, zone_m: float,
                n: int, rng: np.random.Generator) -> np.ndarray:
    x0, y0, x1, y1 = land.extent
    gx = np.arange(x0 + spacing / 2, x1, spacing)
    gy = np.arange(y0 + spacing / 2, y1, spacing)
    xx, yy = (a.ravel() for a in np.meshgrid(gx, gy))
    xx = xx + rng.uniform(-jitter, jitter, xx.size)
    yy = yy + rng.uniform(-jitter, jitter, yy.size)
    ix = np.clip(((xx - x0) // land.cell_m).astype(int), 0, land.x.size - 1)
    iy = np.clip(((yy - y0) // land.cell_m).astype(int), 0, land.y.size - 1)
    ok = (land.country[iy, ix] == code) & (land.habitat[iy, ix] > 0.2)
    xx, yy = xx[ok], yy[ok]
    d = land.distance_to_border(xx, yy)
    keep = d <= zone_m
    xx, yy, d = xx[keep], yy[keep], d[keep]
    order = np.argsort(d, kind="stable")[:n]
    order = np.sort(order)  # grid order (south to north, west to east)
    return np.column_stack([xx[order], yy[order]])


def _noon_local(t0: pd.Timestamp, day: np.ndarray, zone: str, hour: int = 12) -> np.ndarray:
    """Seconds since ``t0`` of ``hour`` local time on survey day ``day`` (date-only records)."""
    dates = (t0.tz_convert(None).normalize() + pd.to_timedelta(np.asarray(day), unit="D"))
    local = pd.DatetimeIndex(dates + pd.Timedelta(hours=hour)).tz_localize(zone)
    return ((local.tz_convert("UTC") - t0).total_seconds().to_numpy()).astype(np.int64)


def _offset_at(t0: pd.Timestamp, t: np.ndarray, zone: str) -> np.ndarray:
    idx = pd.DatetimeIndex(t0 + pd.to_timedelta(np.asarray(t), unit="s")).tz_convert(zone)
    return np.array([o.total_seconds() for o in idx.map(lambda ts: ts.utcoffset())],
                    dtype=np.int64)


def design_survey(land: Landscape, scenario: Scenario, *, rng: np.random.Generator) -> Survey:
    """Place the cameras and draw their deployments, malfunctions and clock errors.

    China: one paired station (a photo and a video camera facing each other) per cell of a
    ``cn_spacing_m`` grid, nearest the border first; serviced every ``service_days``, each
    visit a new deployment (with its own clock setting). Russia: single trail cameras on a
    jittered ``ru_spacing_m`` grid, one deployment each for the whole survey, dates recorded
    without a time (noon local). Set-up and retrieval are staggered; some deployments have
    malfunction periods, some stop early (theft, damage), some clocks are hours or a year off.
    """
    t0 = pd.Timestamp(scenario.start, tz="UTC")
    T = scenario.n_days
    end_s = T * DAY
    zone_m = scenario.camera_zone_km * 1000
    cn_xy = _grid_sites(land, CN, scenario.cn_spacing_m, 0.2 * scenario.cn_spacing_m, zone_m,
                        scenario.cn_stations, rng)
    ru_xy = _grid_sites(land, RU, scenario.ru_spacing_m, 0.3 * scenario.ru_spacing_m, zone_m,
                        scenario.ru_cameras, rng)
    n_cn, n_ru = len(cn_xy), len(ru_xy)
    stations = pd.DataFrame({
        "stationID": [f"NT{i + 1:03d}" for i in range(n_cn)] + [f"K{i + 1:03d}"
                                                                for i in range(n_ru)],
        "country": ["CN"] * n_cn + ["RU"] * n_ru,
        "x": np.concatenate([cn_xy[:, 0], ru_xy[:, 0]]) if n_cn + n_ru else [],
        "y": np.concatenate([cn_xy[:, 1], ru_xy[:, 1]]) if n_cn + n_ru else [],
    })
    cam_station = np.concatenate([np.repeat(np.arange(n_cn), 2), n_cn + np.arange(n_ru)])
    kinds = np.concatenate([np.tile(["photo", "video"], n_cn), np.full(n_ru, "trail")])
    cam_ids = np.concatenate([
        np.array([f"{s}-{'P' if k == 'photo' else 'V'}" for s, k in
                  zip(stations["stationID"].to_numpy()[cam_station[:2 * n_cn]],
                      kinds[:2 * n_cn], strict=True)], dtype=object),
        np.array([f"C{i + 1:03d}" for i in range(n_ru)], dtype=object),
    ]) if n_cn + n_ru else np.array([], dtype=object)
    cameras = pd.DataFrame({"cameraID": cam_ids, "stationIdx": cam_station,
                            "country": np.where(kinds == "trail", "RU", "CN"), "kind": kinds})
    stations["cam_a"] = np.concatenate([2 * np.arange(n_cn), 2 * n_cn + np.arange(n_ru)])
    stations["cam_b"] = np.concatenate([2 * np.arange(n_cn) + 1, np.full(n_ru, -1)])

    # --- deployments ---------------------------------------------------------------------
    rows = []
    stag = scenario.stagger_days
    for s in range(n_cn):
        # one visit schedule per station; both cameras are serviced together
        t = int(rng.uniform(0, stag) * DAY // DAY * DAY) + int(rng.uniform(10, 16) * 3600) - \
            8 * 3600
        stop = end_s - int(rng.uniform(0, stag) * DAY)
        visit = 1
        while t < stop - 5 * DAY:
            e = min(stop, t + int(rng.integers(scenario.service_days[0],
                                               scenario.service_days[1] + 1)) * DAY
                    + int(rng.normal(0, 2 * 3600)))
            for cam in (2 * s, 2 * s + 1):
                rows.append((f"{cam_ids[cam]}_{visit:02d}", cam, t, e, "Asia/Shanghai"))
            t = e + int(rng.uniform(600, 3600))
            visit += 1
    ru_start_day = rng.integers(0, stag + 1, n_ru)
    ru_end_day = T - 1 - rng.integers(0, stag + 1, n_ru)
    ru_s = _noon_local(t0, ru_start_day, "Asia/Vladivostok") if n_ru else np.array([], int)
    ru_e = _noon_local(t0, ru_end_day, "Asia/Vladivostok") if n_ru else np.array([], int)
    for i in range(n_ru):
        cam = 2 * n_cn + i
        rows.append((str(stations["stationID"].iat[n_cn + i]), cam, int(ru_s[i]), int(ru_e[i]),
                     "Asia/Vladivostok"))
    dep = pd.DataFrame(rows, columns=["deploymentID", "cameraIdx", "start", "end", "timezone"])
    nd = len(dep)
    hours = rng.integers(1, 13, nd) * rng.choice([-1, 1], nd)
    dep["clockHours"] = np.where(rng.random(nd) < scenario.p_clock_hours, hours, 0)
    dep["clockYears"] = np.where(rng.random(nd) < scenario.p_clock_year,
                                 rng.choice([-1, 1], nd), 0)
    dep["setupOffset"] = 0
    for zone in ("Asia/Shanghai", "Asia/Vladivostok"):
        sel = (dep["timezone"] == zone).to_numpy()
        if sel.any():
            dep.loc[sel, "setupOffset"] = _offset_at(t0, dep.loc[sel, "start"].to_numpy(), zone)

    # --- malfunction periods ----------------------------------------------------------------
    gap_rows = []
    reasons = np.array(["malfunction", "battery", "memoryFull"])
    is_ru = (dep["timezone"] == "Asia/Vladivostok").to_numpy()
    for j in range(nd):
        a, b = int(dep["start"].iat[j]), int(dep["end"].iat[j])
        span = b - a
        if span < 10 * DAY:
            continue
        if rng.random() < scenario.p_gap:
            gs = a + int(rng.uniform(0.1, 0.8) * span)
            ge = min(b - DAY, gs + int(rng.uniform(3, 40) * DAY))
            if ge > gs + DAY:
                gap_rows.append((j, gs, ge, str(rng.choice(reasons))))
        if rng.random() < scenario.p_stolen:
            gs = a + int(rng.uniform(0.4, 0.9) * span)
            if gs < b - DAY:
                gap_rows.append((j, gs, b, str(rng.choice(["theft", "damage"]))))
    gaps = pd.DataFrame(gap_rows, columns=["deploymentIdx", "start", "end", "reason"])
    if len(gaps):
        # Russian problem periods are recorded as dates (camtrapR): from 00:00 local of the
        # first day to 24:00 local of the last day, clipped to the deployment.
        ru_gap = is_ru[gaps["deploymentIdx"].to_numpy()]
        if ru_gap.any():
            for col, extra in (("start", 0), ("end", 1)):
                days = np.floor((gaps.loc[ru_gap, col].to_numpy() + 10 * 3600) / DAY).astype(int)
                gaps.loc[ru_gap, col] = _noon_local(t0, days + extra, "Asia/Vladivostok", 0)
            depi = gaps["deploymentIdx"].to_numpy()
            gaps["start"] = np.maximum(gaps["start"].to_numpy(), dep["start"].to_numpy()[depi])
            gaps["end"] = np.minimum(gaps["end"].to_numpy(), dep["end"].to_numpy()[depi])
        gaps = gaps[gaps["end"] > gaps["start"]]
        # overlapping gaps of one deployment: merge by keeping the earliest start per end
        gaps = gaps.sort_values(["deploymentIdx", "start"]).reset_index(drop=True)
        keep = []
        last = {}
        for r in gaps.itertuples(index=False):
            prev = last.get(r.deploymentIdx)
            if prev is not None and r.start <= keep[prev][2]:
                keep[prev] = (keep[prev][0], keep[prev][1], max(keep[prev][2], r.end),
                              keep[prev][3])
                continue
            last[r.deploymentIdx] = len(keep)
            keep.append((r.deploymentIdx, r.start, r.end, r.reason))
        gaps = pd.DataFrame(keep, columns=["deploymentIdx", "start", "end", "reason"])

    # --- working intervals and usage ---------------------------------------------------------
    iv_rows = []
    gap_by_dep = {k: g for k, g in gaps.groupby("deploymentIdx")} if len(gaps) else {}
    for j in range(nd):
        a, b = int(dep["start"].iat[j]), int(dep["end"].iat[j])
        cam = int(dep["cameraIdx"].iat[j])
        cur = a
        if j in gap_by_dep:
            for g in gap_by_dep[j].itertuples(index=False):
                if g.start > cur:
                    iv_rows.append((cam, j, cur, int(g.start)))
                cur = max(cur, int(g.end))
        if b > cur:
            iv_rows.append((cam, j, cur, b))
    intervals = pd.DataFrame(iv_rows, columns=["cameraIdx", "deploymentIdx", "start", "end"])
    intervals = intervals.sort_values(["cameraIdx", "start"]).reset_index(drop=True)
    cam_usage = np.zeros((len(cameras), T))
    for cam, _, a, b in intervals.itertuples(index=False):
        a, b = max(a, 0), min(b, end_s)
        if b <= a:
            continue
        d0, d1 = a // DAY, (b - 1) // DAY
        days = np.arange(d0, d1 + 1)
        cam_usage[cam, d0:d1 + 1] += (np.minimum(b, (days + 1) * DAY)
                                      - np.maximum(a, days * DAY)) / DAY
    usage = np.zeros((len(stations), T))
    if len(stations):
        usage = cam_usage[stations["cam_a"].to_numpy()]
        has_b = stations["cam_b"].to_numpy() >= 0
        usage[has_b] = np.maximum(usage[has_b], cam_usage[stations["cam_b"].to_numpy()[has_b]])
    usage = np.clip(usage, 0, 1)
    return Survey(t0=t0, n_days=T, stations=stations, cameras=cameras, deployments=dep,
                  gaps=gaps, intervals=intervals, usage=usage)


def _event_times(survey: Survey, station: np.ndarray, day: np.ndarray, kind: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
    """Event instants: the day's activity pattern, within the station's working hours."""
    n = station.size
    out = np.zeros(n, np.int64)
    if n == 0:
        return out
    tries = 8
    cand = np.empty((n, tries), np.int64)
    for k in np.unique(kind):
        sel = kind == k
        cand[sel] = draw_time_of_day(str(k), sel.sum() * tries, rng).reshape(-1, tries)
    cand += (day * DAY)[:, None]
    st = survey.stations
    ca = st["cam_a"].to_numpy()[station]
    cb = st["cam_b"].to_numpy()[station]
    flat_t = cand.ravel()
    ok = survey.operating(np.repeat(ca, tries), flat_t)[0] | survey.operating(
        np.repeat(cb, tries), flat_t)[0]
    ok = ok.reshape(n, tries)
    first = np.where(ok.any(axis=1), ok.argmax(axis=1), 0)
    out = cand[np.arange(n), first]
    return out


def cat_events(animals: pd.DataFrame, positions: np.ndarray, survey: Survey,
               scenario: Scenario, *, rng: np.random.Generator) -> pd.DataFrame:
    """Detections of the big cats at stations (one row per station event).

    ``path`` mode: on day ``t`` a station at distance ``d`` from the animal's daily position
    records ``Poisson(lambda0 * exp(-d**2 / (2 sigmaDay**2)) * usage)`` events. ``secr-exact``
    mode: ``d`` is measured from the fixed centre and the scale is ``sigma`` with
    ``lambda0 * sigmaDay**2 / sigma**2`` (the same expected detections far from a border), which
    is exactly the SECR hazard half-normal model with Poisson counts per day.

    Returns
    -------
    DataFrame
        ``animalIdx, stationIdx, day, t`` (seconds since the survey start).
    """
    st_xy = survey.stations[["x", "y"]].to_numpy(float)
    if len(st_xy) == 0 or len(animals) == 0:
        return pd.DataFrame({"animalIdx": [], "stationIdx": [], "day": [], "t": []},
                            dtype=np.int64)
    tree = cKDTree(st_xy)
    T = positions.shape[1]
    days = np.arange(T)
    out_a, out_s, out_d = [], [], []
    exact = scenario.mode == "secr-exact"
    indep = np.flatnonzero((animals["lifeStage"] != "juvenile").to_numpy()
                           & (animals["lambda0"].to_numpy() > 0))
    sigma = animals["sigma"].to_numpy(float)
    sday = animals["sigmaDay"].to_numpy(float)
    lam0 = animals["lambda0"].to_numpy(float)
    c1 = animals[["x", "y"]].to_numpy(float)
    c2 = animals[["x2", "y2"]].to_numpy(float)
    dday = animals["disperseDay"].to_numpy(int)
    for i in indep:
        r = 5 * sigma[i]
        cand = sorted(set(tree.query_ball_point(c1[i], r)) | set(tree.query_ball_point(c2[i], r)))
        if not cand:
            continue
        cand = np.asarray(cand)
        if exact:
            centre = np.where(((dday[i] >= 0) & (days >= dday[i]))[:, None], c2[i], c1[i])
            d2 = ((centre[:, None, :] - st_xy[cand][None]) ** 2).sum(-1)
            lam = lam0[i] * sday[i] ** 2 / sigma[i] ** 2 * np.exp(-d2 / (2 * sigma[i] ** 2))
        else:
            d2 = ((positions[i][:, None, :] - st_xy[cand][None]) ** 2).sum(-1)
            lam = lam0[i] * np.exp(-d2 / (2 * sday[i] ** 2))
        lam *= survey.usage[cand].T
        counts = rng.poisson(lam)
        tt, kk = np.nonzero(counts)
        if tt.size == 0:
            continue
        reps = counts[tt, kk]
        out_a.append(np.full(reps.sum(), i))
        out_s.append(np.repeat(cand[kk], reps))
        out_d.append(np.repeat(tt, reps))
    if not out_a:
        return pd.DataFrame({"animalIdx": [], "stationIdx": [], "day": [], "t": []},
                            dtype=np.int64)
    ev = pd.DataFrame({"animalIdx": np.concatenate(out_a), "stationIdx": np.concatenate(out_s),
                       "day": np.concatenate(out_d)})
    kind = animals["scientificName"].to_numpy()[ev["animalIdx"].to_numpy()]
    ev["t"] = _event_times(survey, ev["stationIdx"].to_numpy(), ev["day"].to_numpy(), kind, rng)
    return ev


def other_events(survey: Survey, scenario: Scenario, *, rng: np.random.Generator
                 ) -> pd.DataFrame:
    """Events of prey and other species, people and vehicles (Poisson per station and day).

    Returns
    -------
    DataFrame
        ``stationIdx, day, t, scientificName, observationType, count, activity``.
    """
    names = list(OTHER_SPECIES)
    share = np.array([OTHER_SPECIES[n][0] for n in names])
    share = share / share.sum()
    counts = rng.poisson(scenario.other_rate * survey.usage)
    s, d = np.nonzero(counts)
    reps = counts[s, d]
    s, d = np.repeat(s, reps), np.repeat(d, reps)
    which = rng.choice(len(names), size=s.size, p=share)
    lo = np.array([OTHER_SPECIES[n][1][0] for n in names])[which]
    hi = np.array([OTHER_SPECIES[n][1][1] for n in names])[which]
    group = rng.integers(lo, hi + 1)
    act = np.array([OTHER_SPECIES[n][2] for n in names], dtype=object)[which]
    sp = np.array(names, dtype=object)[which]
    typ = np.full(s.size, "animal", dtype=object)
    # people and vehicles (rangers, researchers, loggers)
    pc = rng.poisson(scenario.people_rate * survey.usage)
    ps, pd_ = np.nonzero(pc)
    pr = pc[ps, pd_]
    ps, pd_ = np.repeat(ps, pr), np.repeat(pd_, pr)
    veh = rng.random(ps.size) < 0.3
    # Russian tables carry no vehicle class: people only there.
    veh &= (survey.stations["country"].to_numpy()[ps] == "CN")
    ev = pd.DataFrame({
        "stationIdx": np.concatenate([s, ps]),
        "day": np.concatenate([d, pd_]),
        "scientificName": np.concatenate([sp, np.where(veh, None, "Homo sapiens")]),
        "observationType": np.concatenate([typ, np.where(veh, "vehicle", "human")]),
        "count": np.concatenate([group, rng.integers(1, 3, ps.size)]),
        "activity": np.concatenate([act, np.where(veh, "vehicle", "human")]),
    })
    ev["t"] = _event_times(survey, ev["stationIdx"].to_numpy(), ev["day"].to_numpy(),
                           ev["activity"].to_numpy(), rng)
    return ev


def camera_records(events: pd.DataFrame, survey: Survey, *, rng: np.random.Generator,
                   p_record: float = 0.95) -> pd.DataFrame:
    """Which cameras recorded each station event (paired Chinese stations: one or both).

    Returns
    -------
    DataFrame
        ``eventIdx, cameraIdx, deploymentIdx, camSlot`` (0 first camera, 1 second).
    """
    st = survey.stations
    n = len(events)
    ev_idx = np.arange(n)
    station = events["stationIdx"].to_numpy()
    t = events["t"].to_numpy()
    parts = []
    for slot, col in ((0, "cam_a"), (1, "cam_b")):
        cam = st[col].to_numpy()[station]
        ok, dep = survey.operating(cam, t)
        paired = st["cam_b"].to_numpy()[station] >= 0
        ok &= ~paired | (rng.random(n) < p_record)
        parts.append(pd.DataFrame({"eventIdx": ev_idx[ok], "cameraIdx": cam[ok],
                                   "deploymentIdx": dep[ok], "camSlot": slot}))
    return pd.concat(parts, ignore_index=True).sort_values(
        ["eventIdx", "camSlot"], kind="stable").reset_index(drop=True)
