"""Non-invasive DNA: scats and hair along routes, genotypes with typing errors, two labs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString

from amurlink.simulate._landscape import Landscape
from amurlink.simulate._scenario import Scenario

__all__ = ["simulate_dna", "LOCI"]

#: Feline microsatellite names (Menotti-Raymond panel); more loci get generic names.
LOCI = ("FCA005", "FCA024", "FCA043", "FCA069", "FCA077", "FCA094", "FCA096", "FCA105",
        "FCA126", "FCA176", "FCA230", "FCA279", "FCA290", "FCA304", "FCA391", "FCA441")
_REPEAT = 4


def _routes(land: Landscape, stations: pd.DataFrame, country: str, n: int,
            rng: np.random.Generator) -> list[LineString]:
    st = stations[stations["country"] == country]
    if len(st) < 2:
        return []
    xy = st[["x", "y"]].to_numpy()
    out = []
    for _ in range(n):
        a = xy[rng.integers(len(xy))]
        ang = rng.uniform(0, 2 * np.pi)
        length = rng.uniform(6000, 14000)
        mid = a + 0.5 * length * np.array([np.cos(ang), np.sin(ang)])
        b = a + length * np.array([np.cos(ang), np.sin(ang)])
        mid = mid + rng.normal(0, 1000, 2)
        out.append(LineString([a, mid, b]))
    return out


def simulate_dna(animals: pd.DataFrame, positions: np.ndarray, land: Landscape,
                 stations: pd.DataFrame, t0: pd.Timestamp, scenario: Scenario, *,
                 rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """Field samples of known animals and their genotypes as each lab reports them.

    Samples are left where an animal was on a winter day (``dna_months``) near a survey route
    (winter track counts) in China or Russia; each is typed by its country's lab in 2 or 3 PCR
    replicates with allelic dropout, false alleles and failed loci. The Russian lab's sizes
    are shifted by a per-locus offset. Reference samples of a few animals are typed by both.

    Returns
    -------
    dict of DataFrame
        ``samples`` (truth: ``sampleID, animalID, lab, sampleType, day, x, y, country,
        reference``), ``calls`` (``sampleID, locus, allele1, allele2, replicate`` in the lab's
        sizes; sex calls as locus ``sex`` with allele1 ``F``/``M``), ``genotypes`` (truth:
        ``animalID, locus, allele1, allele2`` in the joint scale), ``offsets`` (``locus,
        offset``: add to Russian sizes for the joint scale), ``reference`` (``referenceID,
        sampleID``).
    """
    loci = [LOCI[i] if i < len(LOCI) else f"LOC{i + 1:02d}" for i in range(scenario.n_loci)]
    L = len(loci)
    n = len(animals)
    # True genotypes: allele frequencies per species and locus; cubs inherit from mothers.
    true = np.zeros((n, L, 2), np.int64)
    sp = animals["scientificName"].to_numpy()
    for s, p in scenario.species.items():
        idx = np.flatnonzero(sp == s)
        if idx.size == 0:
            continue
        for li in range(L):
            k = int(rng.integers(p.alleles[0], p.alleles[1] + 1))
            freq = rng.dirichlet(np.full(k, 2.0))
            first = int(rng.integers(0, 4))
            sizes = 120 + 24 * li + _REPEAT * (first + np.arange(k))
            true[idx, li, :] = sizes[rng.choice(k, size=(idx.size, 2), p=freq)]
    ids = pd.Index(animals["animalID"])
    mom = animals["motherID"].to_numpy()
    for c in np.flatnonzero(pd.notna(mom)):
        m = ids.get_loc(mom[c])
        pick = rng.integers(0, 2, L)
        true[c, :, 0] = true[m, np.arange(L), pick]
    true.sort(axis=2)
    offsets = rng.integers(-scenario.lab_offset_bp, scenario.lab_offset_bp + 1, L)
    # Where samples are found: days in the winter months, near a route, in each country.
    T = positions.shape[1]
    months = (t0 + pd.to_timedelta(np.arange(T), unit="D")).month
    days = np.flatnonzero(np.isin(months, scenario.dna_months))
    sample_rows = []
    if days.size and n:
        a_idx, d_idx = np.meshgrid(np.arange(n), days, indexing="ij")
        a_idx, d_idx = a_idx.ravel(), d_idx.ravel()
        px = positions[a_idx, d_idx, 0] + rng.normal(0, 800, a_idx.size)
        py = positions[a_idx, d_idx, 1] + rng.normal(0, 800, a_idx.size)
        country = land.country_of(px, py)
        for ci, c in enumerate(("CN", "RU")):
            target = scenario.dna_samples[ci]
            area = land.land_area_km2(c)
            routes = _routes(land, stations, c, max(3, int(area / 150)), rng)
            sel = np.flatnonzero(country == c)
            if not routes or sel.size == 0 or target <= 0:
                continue
            dist = shapely.distance(shapely.union_all(routes), shapely.points(px[sel], py[sel]))
            w = np.exp(-0.5 * (dist / 700.0) ** 2)
            w[w < 1e-6] = 0
            if w.sum() == 0:
                continue
            k = min(target, int((w > 0).sum()))
            pick = rng.choice(sel.size, size=k, replace=False, p=w / w.sum())
            for j in np.sort(pick):
                g = sel[j]
                sample_rows.append((a_idx[g], int(d_idx[g] + rng.integers(0, 4)), px[g], py[g],
                                    c))
    samples = pd.DataFrame(sample_rows, columns=["animalIdx", "day", "x", "y", "country"])
    # An empty frame has object columns; fix the dtypes so indexing works with no field samples.
    samples = samples.astype({"animalIdx": "int64", "day": "int64", "x": "float64",
                              "y": "float64"})
    samples = samples.sort_values(["country", "day"], kind="stable").reset_index(drop=True)
    samples["lab"] = np.where(samples["country"] == "CN", "CN-lab", "RU-lab")
    samples["sampleType"] = np.where(rng.random(len(samples)) < 0.8, "scat", "hair")
    samples["reference"] = None
    cnt = {"CN": 0, "RU": 0}
    sids = []
    for c in samples["country"]:
        cnt[c] += 1
        sids.append(f"{c}-S{cnt[c]:04d}")
    samples.insert(0, "sampleID", sids)
    # Reference samples: a few animals' tissue typed by both labs.
    indep = np.flatnonzero((animals["lifeStage"] != "juvenile").to_numpy())
    n_ref = min(scenario.n_reference, indep.size)
    ref_animals = rng.choice(indep, size=n_ref, replace=False) if n_ref else np.array([], int)
    ref_rows = []
    for k, a in enumerate(ref_animals):
        for c, lab in (("CN", "CN-lab"), ("RU", "RU-lab")):
            ref_rows.append((f"{c}-REF{k + 1:02d}", a, -1, np.nan, np.nan, c, lab, "tissue",
                             f"REF{k + 1:02d}"))
    if ref_rows:
        refs = pd.DataFrame(ref_rows, columns=["sampleID", "animalIdx", "day", "x", "y",
                                               "country", "lab", "sampleType", "reference"])
        samples = pd.concat([samples, refs], ignore_index=True)
        samples = samples.astype({"animalIdx": "int64", "day": "int64"})
    samples["animalID"] = animals["animalID"].to_numpy()[samples["animalIdx"].to_numpy()] \
        if len(samples) else []
    # Typing: replicates with dropout, false alleles and failures.
    ns = len(samples)
    reps = rng.integers(scenario.replicates[0], scenario.replicates[1] + 1, ns)
    s_of = np.repeat(np.arange(ns), reps)
    rep_no = np.arange(s_of.size) - np.repeat(np.cumsum(reps) - reps, reps) + 1
    g = true[samples["animalIdx"].to_numpy()[s_of]].copy() if ns else np.zeros((0, L, 2), int)
    het = g[:, :, 0] != g[:, :, 1]
    drop = het & (rng.random(het.shape) < scenario.dropout)
    lo = rng.random(het.shape) < 0.5
    g[drop & lo, 1] = g[drop & lo, 0]
    g[drop & ~lo, 0] = g[drop & ~lo, 1]
    fa = rng.random(het.shape) < scenario.false_allele
    which = rng.integers(0, 2, het.shape)
    shift = rng.choice([-2 * _REPEAT, -_REPEAT, _REPEAT, 2 * _REPEAT], het.shape)
    r_i, l_i = np.nonzero(fa)
    g[r_i, l_i, which[r_i, l_i]] += shift[r_i, l_i]
    g.sort(axis=2)
    fail = rng.random(het.shape) < scenario.fail_locus
    ru_rows = (samples["lab"].to_numpy()[s_of] == "RU-lab")
    g = g + np.where(ru_rows[:, None, None], offsets[None, :, None], 0)
    a1 = np.where(fail, -1, g[:, :, 0]).ravel()
    a2 = np.where(fail, -1, g[:, :, 1]).ravel()
    calls = pd.DataFrame({
        "sampleID": np.repeat(samples["sampleID"].to_numpy()[s_of], L),
        "locus": np.tile(loci, s_of.size),
        "allele1": pd.array(np.where(a1 < 0, None, a1), dtype="Int64"),
        "allele2": pd.array(np.where(a2 < 0, None, a2), dtype="Int64"),
        "replicate": np.repeat(rep_no, L),
    })
    # Sex marker: Y-linked allele (males), with dropout of the male band and failures.
    male = animals["sex"].to_numpy()[samples["animalIdx"].to_numpy()[s_of]] == "male" \
        if ns else np.zeros(0, bool)
    call = np.where(male & (rng.random(s_of.size) >= scenario.dropout), "M", "F").astype(object)
    call[rng.random(s_of.size) < scenario.fail_locus] = None
    sex = pd.DataFrame({"sampleID": samples["sampleID"].to_numpy()[s_of], "sex": call,
                        "replicate": rep_no})
    genotypes = pd.DataFrame({
        "animalID": np.repeat(animals["animalID"].to_numpy(), L),
        "locus": np.tile(loci, n),
        "allele1": true[:, :, 0].ravel(), "allele2": true[:, :, 1].ravel(),
    })
    reference = samples.loc[samples["reference"].notna(), ["reference", "sampleID"]].rename(
        columns={"reference": "referenceID"}).reset_index(drop=True)
    return {"samples": samples.drop(columns=["animalIdx"]), "calls": calls, "sex": sex,
            "genotypes": genotypes,
            "offsets": pd.DataFrame({"locus": loci, "offset": -offsets}),
            "reference": reference, "loci": loci}
