"""Cross-border statistics for 1e6 detections of 10,000 joint individuals (target: < 3 s).

The landscape: a wiggly 400-vertex border line between two country polygons, 2,000 cameras
within 40 km of it, 10,000 joint individuals (2,000 of them known in both national catalogues
through confirmed links, so 12,000 national IDs), 20,000 assigned DNA samples. Each stage of
:func:`amurlink.analysis.crossborder.crossborder` is timed, then the whole call.

Baseline in the same run: the independence rule as it was before the single-key sort and the
clustered chain walk (``_previous_independence_flags`` below, kept only for this comparison)
against :func:`amurlink.analysis.events.independence_flags` on the same records; the two
must agree exactly. Sizes: ``AMURLINK_BENCH_ROWS`` (default 1,000,000) and
``AMURLINK_BENCH_INDIVIDUALS`` (default 10,000).
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
import shapely

from amurlink.analysis.crossborder import (
    crossborder,
    distance_bands,
    encounters,
    individual_crossings,
    seasonal_table,
    species_summary,
    yearly_table,
)
from amurlink.core.border import Border
from amurlink.core.crs import from_metric
from amurlink.dataset import Dataset

N = int(os.environ.get("AMURLINK_BENCH_ROWS", 1_000_000))
N_IND = int(os.environ.get("AMURLINK_BENCH_INDIVIDUALS", 10_000))
N_CAM, N_DNA = 2_000, 20_000
N_LINKED = min(2_000, N_IND // 5)  # 2,000 at the default size
X0, Y0 = 650_000.0, 4_700_000.0


def make_border(rng: np.random.Generator) -> Border:
    ys = np.linspace(0, 300_000, 400)
    xs = np.cumsum(rng.normal(0, 300, len(ys)))
    xs -= xs.mean()
    pts = np.column_stack([xs + X0, ys + Y0])
    line = shapely.LineString(pts)
    west = np.vstack([[X0 - 100_000, Y0], pts, [X0 - 100_000, Y0 + 300_000]])
    east = np.vstack([[X0 + 100_000, Y0], pts, [X0 + 100_000, Y0 + 300_000]])
    return Border.from_geometries(line, countries={"CN": shapely.Polygon(west),
                                                   "RU": shapely.Polygon(east)})


def make_dataset(rng: np.random.Generator, border: Border) -> Dataset:
    cx = X0 + rng.uniform(-40_000, 40_000, N_CAM)
    cy = Y0 + rng.uniform(0, 300_000, N_CAM)
    lon, lat = from_metric(cx, cy)
    side = np.where(shapely.contains_xy(border.countries["CN"], cx, cy), "CN", "RU")
    dep_ids = np.array([f"D{i:05d}" for i in range(N_CAM)], dtype=object)
    t0 = pd.Timestamp("2014-01-01T00:00:00Z")
    deployments = pd.DataFrame({
        "deploymentID": dep_ids, "latitude": lat, "longitude": lon,
        "deploymentStart": t0, "deploymentEnd": t0 + pd.Timedelta(days=3 * 365)})
    details = pd.DataFrame({"deploymentID": dep_ids, "countryCode": side,
                            "timezone": np.where(side == "CN", "Asia/Shanghai",
                                                 "Asia/Vladivostok")})
    # individuals: CN-only, RU-only, and linked (one ID in each catalogue)
    home = rng.integers(0, N_CAM, N_IND)
    cn_ids = np.array([f"CN-NTLNP:T{i:05d}" for i in range(N_IND)], dtype=object)
    ru_ids = np.array([f"RU-LLNP:T-{i:05d}" for i in range(N_IND)], dtype=object)
    linked = np.arange(N_LINKED)
    species = np.where(np.arange(N_IND) % 3 == 0, "Panthera pardus", "Panthera tigris")
    # each detection: an individual, a camera near its home, a time
    who = rng.integers(0, N_IND, N)
    near = np.argsort(cy)  # cameras sorted north-south: neighbours in rank are close
    rank = np.empty(N_CAM, dtype=np.int64)
    rank[near] = np.arange(N_CAM)
    cam = near[np.clip(rank[home[who]] + rng.integers(-6, 7, N), 0, N_CAM - 1)]
    cam_side = side[cam]
    nat = np.where(cam_side == "CN", cn_ids[who], ru_ids[who])
    nat = np.where(who < N_LINKED, nat, np.where(side[home[who]] == "CN", cn_ids[who],
                                                 ru_ids[who]))
    stamps = t0 + pd.to_timedelta(rng.integers(0, 3 * 365 * 86_400, N), unit="s")
    observations = pd.DataFrame({
        "observationID": np.char.add("O", np.arange(N).astype(str)).astype(object),
        "deploymentID": dep_ids[cam], "eventStart": stamps, "eventEnd": stamps,
        "observationLevel": "event", "observationType": "animal",
        "scientificName": species[who], "individualID": nat, "count": 1,
    })
    for col in ("observationID", "deploymentID", "individualID", "scientificName",
                "observationLevel", "observationType"):
        observations[col] = observations[col].astype("string[pyarrow]")
    used = pd.unique(nat)
    ind_species = pd.Series(species, index=cn_ids).combine_first(pd.Series(species,
                                                                            index=ru_ids))
    individuals = pd.DataFrame({
        "individualID": used, "catalogue": [u.split(":")[0] for u in used],
        "scientificName": ind_species.reindex(used).to_numpy(object), "lifeStage": "adult",
        "knownFlanks": rng.choice(np.array(["left", "right", "both"], dtype=object),
                                  len(used)),
    })
    stamp = pd.Timestamp("2017-01-01T00:00:00Z")
    links = pd.DataFrame({"linkEventID": [f"E{i}" for i in linked],
                          "subjectA": cn_ids[linked], "subjectB": ru_ids[linked],
                          "method": "photo", "status": "confirmed", "timestamp": stamp})
    # DNA samples linked to an individual's national ID
    sw = rng.integers(0, N_IND, N_DNA)
    sc = near[np.clip(rank[home[sw]] + rng.integers(-6, 7, N_DNA), 0, N_CAM - 1)]
    s_ids = np.array([f"S{i:06d}" for i in range(N_DNA)], dtype=object)
    s_target = np.where(side[home[sw]] == "CN", cn_ids[sw], ru_ids[sw])
    s_target = np.where(sw < N_LINKED, cn_ids[sw], s_target)
    samples = pd.DataFrame({
        "sampleID": s_ids, "sampleType": "scat", "scientificName": species[sw],
        "latitude": lat[sc], "longitude": lon[sc],
        "collectionDate": t0 + pd.to_timedelta(rng.integers(0, 3 * 365 * 86_400, N_DNA),
                                               unit="s"),
        "countryCode": side[sc], "lab": "LAB"})
    s_links = pd.DataFrame({"linkEventID": [f"F{i}" for i in range(N_DNA)],
                            "subjectA": s_ids, "subjectB": s_target, "method": "dna",
                            "status": "confirmed", "timestamp": stamp})
    links = pd.concat([links, s_links], ignore_index=True)
    links = links.assign(score=np.nan, reviewer="bench", reason=None, evidence=None)
    return Dataset({"deployments": deployments, "media": pd.DataFrame({"mediaID": []}),
                    "observations": observations, "deploymentDetails": details,
                    "individuals": individuals, "identityLinks": links, "samples": samples})


def _previous_independence_flags(groups: np.ndarray, seconds: np.ndarray, threshold_s: float
                                 ) -> tuple[np.ndarray, np.ndarray]:
    """The ``lastIndependentRecord`` rule as amurlink computed it before (baseline only):
    ``np.lexsort`` on (time, group), then one Python step per independent record."""
    order = np.lexsort((seconds, groups))
    g, t = groups[order], seconds[order]
    n = len(g)
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = g[1:] != g[:-1]
    new_time = np.ones(n, dtype=bool)
    new_time[1:] = (t[1:] != t[:-1]) | new_group[1:]
    run_start = np.maximum.accumulate(np.where(new_time, np.arange(n), 0))
    step = int(np.ceil(threshold_s))
    gid = np.cumsum(new_group) - 1
    t0 = int(t.min())
    key = gid * np.int64(int(t.max()) - t0 + step + 1) + (t - t0)
    nxt = np.searchsorted(key, key + step, side="left").tolist()
    visited, p = [], 0
    while p < n:
        visited.append(p)
        p = nxt[p]
    marked = np.zeros(n, dtype=bool)
    marked[visited] = True
    independent = np.empty(n, dtype=bool)
    independent[order] = marked[run_start]
    return order, independent


def main() -> None:
    rng = np.random.default_rng(20240501)
    border = make_border(rng)
    ds = make_dataset(rng, border)
    print(f"detections: {N:,} camera records + {N_DNA:,} DNA samples, {N_IND:,} joint "
          f"individuals, {N_CAM:,} cameras")
    print(f"load average before: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} CPUs")
    print(f"{'stage':<34}{'seconds':>10}{'cpu s':>10}")

    def timed(label, fn):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        print(f"{label:<34}{time.perf_counter() - t:>10.2f}{time.process_time() - c:>10.2f}",
              flush=True)
        return out

    from amurlink.analysis.events import _group_codes, independence_flags, independent_events
    from amurlink.identify.links import joint_identities

    obs = ds.observations
    groups = _group_codes(obs, ["deploymentID", "scientificName", "individualID"])
    secs = obs["eventStart"].to_numpy("datetime64[s]").astype(np.int64)
    old = timed("  baseline: previous flags", lambda: _previous_independence_flags(
        groups, secs, 1800.0))
    new = timed("  independence_flags (now)", lambda: independence_flags(
        groups, secs, threshold_s=1800.0))
    assert np.array_equal(old[0], new[0]) and np.array_equal(old[1], new[1]), \
        "independence_flags differs from the baseline"

    timed("  of which independent_events", lambda: independent_events(
        ds.observations, threshold_min=30, by=("deploymentID",), per_individual=True))
    timed("  of which joint_identities", lambda: joint_identities(
        ds["identityLinks"], individuals=ds["individuals"]))
    enc = timed("encounters", lambda: encounters(ds, border=border))
    ind = timed("individual_crossings (+ MCP)", lambda: individual_crossings(enc, border=border))
    timed("species_summary", lambda: species_summary(ind))
    timed("distance_bands", lambda: distance_bands(enc))
    timed("yearly_table", lambda: yearly_table(enc))
    timed("seasonal_table", lambda: seasonal_table(enc))
    res = timed("crossborder (all of the above)", lambda: crossborder(ds, border=border))
    print(f"encounters: {len(res.encounters):,}; individuals: {len(res.individuals):,}; "
          f"crossings: {int(res.individuals['crossings'].sum()):,}")
    print(f"load average after: {os.getloadavg()[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()
