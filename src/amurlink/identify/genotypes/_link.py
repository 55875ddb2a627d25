"""DNA individuals as identity links: across labs, to catalogues, and near camera detections."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from amurlink.exceptions import DataError, DataQualityWarning
from amurlink.identify.genotypes._harmonise import (
    LabCalibration,
    apply_lab_offsets,
    estimate_lab_offsets,
)
from amurlink.identify.genotypes._match import (
    GenotypeMatchResult,
    match_genotypes,
    pairwise_mismatches,
)
from amurlink.identify.genotypes._quality import (
    _pid_terms,
    allele_frequencies,
    identity_probabilities,
    pidsib_over,
)
from amurlink.identify.genotypes._read import GenotypeTables, read_genotypes

__all__ = [
    "DNA_REPORT_KEYS",
    "PROPOSAL_COLUMNS",
    "DnaResults",
    "dna_camera_candidates",
    "dna_results",
    "link_genotypes",
    "majority_genotypes",
]

#: Columns of :attr:`DnaResults.proposals` (what :func:`amurlink.identify.links.propose_links`
#: takes, plus ``kind``).
PROPOSAL_COLUMNS: tuple[str, ...] = ("subjectA", "subjectB", "method", "score", "evidence", "kind")
#: Keys of :meth:`DnaResults.report_tables`, the tables the report's DNA section shows.
DNA_REPORT_KEYS: tuple[str, ...] = ("samples", "success", "individuals", "pidsib_curve",
                                    "cross_border_links")
_BY = "amurlink genotypes link"


# --------------------------------------------------------------------------------------------
# one genotype per sample for matching
# --------------------------------------------------------------------------------------------
def majority_genotypes(genotypes: pd.DataFrame, /) -> pd.DataFrame:
    """One genotype per sample and locus from PCR replicates, for matching (majority rule).

    The multiple-tubes rule (:func:`consensus_genotypes`) leaves a homozygote unresolved
    until three replicates agree, so with two replicates a third of the loci become missing
    and samples of one animal stop matching. For matching, an allele is kept when it is
    seen in at least half of the replicates that called the locus; of more than two kept
    alleles the two seen most often are taken (a tie makes the locus missing); one kept
    allele is a homozygote. With two replicates an allele seen once is kept (allelic
    dropout is likelier than a false allele); with three it must be seen twice.

    Parameters
    ----------
    genotypes : DataFrame
        ``sampleID, locus, allele1, allele2[, replicate]``.

    Returns
    -------
    DataFrame
        ``sampleID, locus, allele1, allele2, n_replicates`` (missing alleles where no
        replicate called the locus or the call is a tie) and ``confirmed``: at least two
        replicates called the locus and all of them agree (the matcher's
        ``max_confirmed_mismatches`` never links samples that differ at such calls).
    """
    g = genotypes
    if "replicate" not in g.columns:
        g = g.assign(replicate=1)
    keys = ["sampleID", "locus"]
    n_rep = g.groupby(keys, sort=False).size().rename("n_replicates").reset_index()
    c = g[g["allele1"].notna() & g["allele2"].notna()]
    long = pd.concat([
        c[keys + ["replicate", "allele1"]].rename(columns={"allele1": "a"}),
        c[keys + ["replicate", "allele2"]].rename(columns={"allele2": "a"}),
    ]).drop_duplicates()
    long["a"] = long["a"].astype("int64")
    n_called = c.groupby(keys).size().rename("n_called")
    n_distinct = c.drop_duplicates(keys + ["allele1", "allele2"]).groupby(keys).size()
    cnt = long.groupby(keys + ["a"]).size().rename("n").reset_index()
    cnt = cnt.merge(n_called.reset_index(), on=keys)
    cnt = cnt[2 * cnt["n"] >= cnt["n_called"]]
    cnt = cnt.sort_values(keys + ["n", "a"], ascending=[True, True, False, True], kind="stable")
    cnt["rank"] = cnt.groupby(keys).cumcount()
    top = cnt[cnt["rank"] < 3].pivot_table(index=keys, columns="rank", values=["a", "n"],
                                           aggfunc="first")
    a0 = top[("a", 0)].to_numpy(float)
    a1 = top[("a", 1)].to_numpy(float) if ("a", 1) in top else np.full(len(top), np.nan)
    n1 = top[("n", 1)].to_numpy(float) if ("n", 1) in top else np.full(len(top), np.nan)
    n2 = top[("n", 2)].to_numpy(float) if ("n", 2) in top else np.full(len(top), np.nan)
    tie = ~np.isnan(n2) & (n1 == n2)
    hom = np.isnan(a1)
    lo = np.where(hom, a0, np.fmin(a0, a1))
    hi = np.where(hom, a0, np.fmax(a0, a1))
    lo[tie] = np.nan
    hi[tie] = np.nan
    calls = pd.DataFrame({"lo": lo, "hi": hi}, index=top.index).reset_index()
    out = n_rep.merge(calls, on=keys, how="left")
    idx = pd.MultiIndex.from_frame(out[keys])
    conf = ((n_called.reindex(idx).fillna(0).to_numpy() >= 2)
            & (n_distinct.reindex(idx).fillna(0).to_numpy() == 1) & ~np.isnan(out["lo"]))
    return pd.DataFrame({
        "sampleID": out["sampleID"].to_numpy(object),
        "locus": out["locus"].to_numpy(object),
        "allele1": pd.array(np.where(np.isnan(out["lo"]), None, out["lo"]), dtype="Int64"),
        "allele2": pd.array(np.where(np.isnan(out["hi"]), None, out["hi"]), dtype="Int64"),
        "n_replicates": out["n_replicates"].to_numpy(),
        "confirmed": np.asarray(conf, bool),
    })


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DnaResults:
    """Everything :func:`dna_results` found: samples, individuals and the proposed links.

    Attributes
    ----------
    samples : DataFrame
        One row per sample: ``sampleID, lab, countryCode, sampleType, collectionDate,
        latitude, longitude, reference`` (typed by several labs for calibration),
        ``n_typed, typing_success, individual`` (the joint DNA individual: its
        representative sample's ID).
    genotypes : DataFrame
        The genotype used for matching, one per sample and locus, on the joint allele scale
        (:func:`majority_genotypes` after :func:`apply_lab_offsets`).
    calibration : LabCalibration or None
        Lab offsets (None with one lab or no reference samples).
    match : GenotypeMatchResult
        Grouping of all samples of all labs.
    lab_individuals : DataFrame
        Each DNA individual split by lab: ``individual, lab, representative`` (the lab's
        sample nearest the individual's representative), ``n_samples, samples``.
    proposals : DataFrame
        :data:`PROPOSAL_COLUMNS`; ``kind`` is ``within-lab`` (a sample and its lab
        individual's representative), ``cross-lab`` (two labs' representatives of one DNA
        individual), ``catalogue`` (a DNA individual and a catalogue individual whose sample
        it holds) or ``camera`` (``dna-camera``: a DNA individual sampled near camera
        detections of a catalogue individual, for review only).
    pidsib_curve : DataFrame
        Cumulative PID and PIDsib as loci are added, most informative first
        (:func:`identity_probabilities` over the unique genotypes).
    """

    samples: pd.DataFrame
    genotypes: pd.DataFrame
    calibration: LabCalibration | None
    match: GenotypeMatchResult
    lab_individuals: pd.DataFrame
    proposals: pd.DataFrame
    pidsib_curve: pd.DataFrame
    warnings: list[str] = field(default_factory=list)

    @property
    def cross_lab(self) -> pd.DataFrame:
        """The proposals that link two labs' samples of one DNA individual."""
        return self.proposals[self.proposals["kind"] == "cross-lab"].reset_index(drop=True)

    def __repr__(self) -> str:
        kinds = self.proposals["kind"].value_counts().to_dict()
        return (f"DnaResults(samples={len(self.samples)}, individuals="
                f"{self.match.n_individuals}, allowance={self.match.mismatch_allowance}, "
                f"proposals={kinds})")

    def report_tables(self) -> dict[str, pd.DataFrame]:
        """The tables of the report's DNA section (:data:`DNA_REPORT_KEYS`); no coordinates.

        Pass the result as ``ReportInputs(dna=...)``.
        """
        s = self.samples
        by = s.groupby(["countryCode", "lab"], dropna=False)
        samples = by.agg(samples=("sampleID", "size"),
                         scat=("sampleType", lambda v: int((v == "scat").sum())),
                         hair=("sampleType", lambda v: int((v == "hair").sum())),
                         reference=("reference", "sum")).reset_index()
        ok = s["typing_success"] >= 0.5
        success = s.assign(ok=ok).groupby(["lab", "sampleType"], dropna=False).agg(
            samples=("sampleID", "size"), typed=("ok", "sum"),
            mean_success=("typing_success", "mean")).reset_index()
        success["mean_success"] = success["mean_success"].round(3)
        ind = self.lab_individuals.groupby("individual").agg(
            labs=("lab", lambda v: " + ".join(sorted(set(v))))).reset_index()
        mi = self.match.individuals.set_index("individual")
        ind["n_samples"] = ind["individual"].map(mi["n_samples"]).astype(int)
        ind["sex"] = ind["individual"].map(mi["sex"])
        ind["pidsib"] = ind["individual"].map(mi["pidsib"]).astype(float)
        individuals = ind.groupby("labs").agg(
            individuals=("individual", "size"), samples=("n_samples", "sum"),
            male=("sex", lambda v: int((v == "male").sum())),
            female=("sex", lambda v: int((v == "female").sum())),
            max_pidsib=("pidsib", "max")).reset_index()
        curve = self.pidsib_curve[["n_loci", "locus", "n_alleles", "cumulative_PID",
                                   "cumulative_PIDsib"]].copy()
        cl = self.cross_lab
        rows = []
        for r in cl.itertuples(index=False):
            ev = r.evidence
            rows.append({"subjectA": r.subjectA, "subjectB": r.subjectB,
                         "countries": ev.get("countries", ""), "score": round(float(r.score), 3),
                         "loci_compared": ev.get("loci_compared"),
                         "allele_mismatches": ev.get("distance"),
                         "pidsib": ev.get("pidsib")})
        links = pd.DataFrame(rows, columns=["subjectA", "subjectB", "countries", "score",
                                            "loci_compared", "allele_mismatches", "pidsib"])
        if len(links):
            codes = links["countries"].astype(str)
            links = links[codes.str.contains(r"\+", regex=True)].reset_index(drop=True)
        return {"samples": samples, "success": success, "individuals": individuals,
                "pidsib_curve": curve, "cross_border_links": links}


# --------------------------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------------------------
def _sim_layout(folder: Path) -> tuple[list[Path], Path | None, dict[str, str]]:
    dna = folder / "dna" if (folder / "dna").is_dir() else folder
    files = sorted(p for p in dna.glob("*.csv") if p.name != "reference_samples.csv")
    if not files:
        raise DataError(f"no genotype files (*.csv) in {dna}")
    ref = dna / "reference_samples.csv"
    labs = {}
    for p in files:
        head, _, tail = p.stem.partition("_")
        labs[p.stem] = f"{head.upper()}-{tail}" if tail and len(head) == 2 else p.stem
    return files, ref if ref.is_file() else None, labs


def _aligned(g: pd.DataFrame, a: str, b: str) -> dict[str, list]:
    ga = g[g["sampleID"] == a].set_index("locus")
    gb = g[g["sampleID"] == b].set_index("locus")
    def pair(t: pd.DataFrame, locus: str) -> list:
        if locus not in t.index or pd.isna(t.at[locus, "allele1"]):
            return []
        return [int(t.at[locus, "allele1"]), int(t.at[locus, "allele2"])]

    return {str(lo): [pair(ga, lo), pair(gb, lo)] for lo in ga.index.union(gb.index, sort=False)}


def _pair_evidence(g: pd.DataFrame, pairs: list[tuple[str, str]], terms: pd.DataFrame,
                   loci: np.ndarray) -> list[tuple[float, dict[str, Any]]]:
    if not pairs:
        return []
    ids = sorted({s for p in pairs for s in p})
    sub = g[g["sampleID"].isin(ids)]
    pm = pairwise_mismatches(sub)
    key = {}
    for r in pm.itertuples(index=False):
        key[(r.sampleA, r.sampleB)] = r
        key[(r.sampleB, r.sampleA)] = r
    typed = sub[sub["allele1"].notna()].groupby("sampleID")["locus"].apply(set)
    out = []
    for a, b in pairs:
        r = key[(a, b)]
        both = typed.get(a, set()) & typed.get(b, set())
        mask = np.isin(loci, list(both))[None, :]
        pid, sib = pidsib_over(terms, mask, loci)
        ev = {"distance": float(r.distance), "loci_compared": int(r.loci_compared),
              "identical_loci": int(r.identical_loci), "dropout_loci": int(r.dropout_loci),
              "hard_loci": int(r.hard_loci), "pid": float(pid[0]), "pidsib": float(sib[0]),
              "genotypes": _aligned(sub, a, b)}
        out.append((float(r.score), ev))
    return out


def _proposal_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame({c: pd.Series([], dtype=float if c == "score" else object)
                             for c in PROPOSAL_COLUMNS})
    return pd.DataFrame(rows, columns=list(PROPOSAL_COLUMNS))


def dna_camera_candidates(
    samples: pd.DataFrame,
    observations: pd.DataFrame,
    deployments: pd.DataFrame,
    /,
    *,
    max_km: float = 5.0,
    max_days: float = 60.0,
    max_candidates: int = 3,
) -> pd.DataFrame:
    """Catalogue individuals photographed near a DNA individual's samples in space and time.

    Parameters
    ----------
    samples : DataFrame
        ``sampleID, individual, latitude, longitude, collectionDate`` (as
        :attr:`DnaResults.samples`).
    observations, deployments : DataFrame
        Camtrap DP tables; observations with an ``individualID`` count, located at their
        deployment.
    max_km, max_days : float
        A detection is near a sample within ``max_km`` and ``max_days``.
    max_candidates : int
        Keep the best this many catalogue individuals per DNA individual (largest score,
        then nearest).

    Returns
    -------
    DataFrame
        :data:`PROPOSAL_COLUMNS` with method ``dna-camera`` and kind ``camera``: subjectA the
        DNA individual (its representative sample), subjectB the catalogue individual; score
        the share of the DNA individual's located, dated samples with such a detection;
        evidence the samples, detections, nearest distance (km) and time apart (days).
        These are proposals for review: a sample near a photo is not an identity.
    """
    need = {"individualID", "deploymentID", "eventStart"}
    if observations is None or deployments is None or not need <= set(observations.columns):
        return _proposal_frame([])
    s = samples.dropna(subset=["latitude", "longitude", "collectionDate"])
    obs = observations.dropna(subset=["individualID"])
    if s.empty or obs.empty:
        return _proposal_frame([])
    dep = deployments.drop_duplicates("deploymentID").set_index("deploymentID")
    obs = obs.assign(lat=obs["deploymentID"].map(dep["latitude"]).astype(float),
                     lon=obs["deploymentID"].map(dep["longitude"]).astype(float),
                     t=pd.to_datetime(obs["eventStart"], utc=True, errors="coerce"))
    obs = obs.dropna(subset=["lat", "lon", "t"])
    if obs.empty:
        return _proposal_frame([])
    olat, olon = np.radians(obs["lat"].to_numpy()), np.radians(obs["lon"].to_numpy())
    ot = obs["t"].astype("int64").to_numpy() / 86_400e9
    oid = obs["individualID"].astype(str).to_numpy()
    st = pd.to_datetime(s["collectionDate"], utc=True, errors="coerce")
    hits = []
    for (sid, ind, la, lo), t in zip(
            s[["sampleID", "individual", "latitude", "longitude"]].itertuples(index=False),
            st.astype("int64").to_numpy() / 86_400e9, strict=True):
        dt = np.abs(ot - t)
        near_t = np.flatnonzero(dt <= max_days)
        if not near_t.size:
            continue
        la_r, lo_r = np.radians(la), np.radians(lo)
        h = (np.sin((olat[near_t] - la_r) / 2) ** 2 + np.cos(la_r) * np.cos(olat[near_t])
             * np.sin((olon[near_t] - lo_r) / 2) ** 2)
        km = 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(h, 0, 1)))
        ok = km <= max_km
        for j, d in zip(near_t[ok], km[ok], strict=True):
            hits.append((sid, ind, oid[j], float(d), float(dt[j])))
    if not hits:
        return _proposal_frame([])
    h = pd.DataFrame(hits, columns=["sampleID", "individual", "individualID", "km", "days"])
    n_located = s.groupby("individual").size()
    rows = []
    for (ind, cat), grp in h.groupby(["individual", "individualID"], sort=True):
        share = grp["sampleID"].nunique() / int(n_located[ind])
        rows.append({"subjectA": ind, "subjectB": cat, "method": "dna-camera",
                     "score": round(float(share), 4),
                     "evidence": {"samples": sorted(grp["sampleID"].unique().tolist()),
                                  "detections": int(len(grp)),
                                  "nearest_km": round(float(grp["km"].min()), 3),
                                  "days_apart": round(float(grp["days"].min()), 2),
                                  "max_km": max_km, "max_days": max_days},
                     "kind": "camera", "_km": float(grp["km"].min())})
    out = pd.DataFrame(rows).sort_values(["subjectA", "score", "_km", "subjectB"],
                                         ascending=[True, False, True, True], kind="stable")
    out = out.groupby("subjectA", sort=False).head(max_candidates)
    return _proposal_frame(out.drop(columns="_km").to_dict("records"))


# --------------------------------------------------------------------------------------------
# the pipeline
# --------------------------------------------------------------------------------------------
def dna_results(
    source: str | os.PathLike | Iterable[str | os.PathLike] | GenotypeTables,
    /,
    *,
    reference: str | os.PathLike | pd.DataFrame | None = None,
    labs: str | Mapping[str, str] | Sequence[str] | None = None,
    mismatch_allowance: int | str = "auto",
    max_confirmed_mismatches: int | None = 1,
    catalogue_samples: pd.DataFrame | None = None,
    observations: pd.DataFrame | None = None,
    deployments: pd.DataFrame | None = None,
    within_lab: bool = True,
    max_km: float = 5.0,
    max_days: float = 60.0,
    **read_options: Any,
) -> DnaResults:
    """Read, harmonise and match every lab's genotypes; propose the identity links.

    Parameters
    ----------
    source : path, paths or GenotypeTables
        A folder (a simulated study, or its ``dna/`` folder: every ``*.csv`` but
        ``reference_samples.csv``, with labs ``CN-lab`` for ``cn_lab.csv`` and so on, and
        the reference samples found there), genotype files, or tables already read.
    reference : path or DataFrame, optional
        ``referenceID, sampleID``: the same DNA typed by several labs; lab offsets are
        estimated from them and applied before matching.
    labs : str, mapping or sequence, optional
        Lab of each file where the file has no ``lab`` column (see :func:`read_genotypes`).
    mismatch_allowance : int or "auto"
        Of the matcher (:class:`GenotypeMatcher`); ``auto`` chooses it from the data.
    max_confirmed_mismatches : int or None
        Of the matcher: samples that differ at more loci than this where both calls are
        confirmed by concordant replicates exceed this many alleles are never one animal
        (default 1: one confirmed dropout-compatible locus; ``None`` off).
    catalogue_samples : DataFrame, optional
        ``individualID, sampleID``: samples known to come from a catalogue individual (for
        example confirmed links); each DNA individual holding one is proposed as that
        individual.
    observations, deployments : DataFrame, optional
        Camera data of the joint package for ``dna-camera`` proposals.
    within_lab : bool
        Also propose each sample as its lab individual's representative (``within-lab``).
    max_km, max_days : float
        Nearness of a sample and a camera detection (:func:`dna_camera_candidates`).
    **read_options
        Further options of :func:`read_genotypes` (``missing``, ``ignore``, ...).

    Returns
    -------
    DnaResults

    Notes
    -----
    All samples of all labs are grouped together on the joint allele scale; a DNA individual
    whose samples come from several labs yields a ``cross-lab`` proposal between each two
    labs' representatives, with the score (allelematch similarity), the aligned genotypes,
    the loci compared and the PIDsib over them as evidence. Nothing is confirmed here.
    """
    found = []
    if isinstance(source, GenotypeTables):
        tables = source
    else:
        if isinstance(source, str | os.PathLike) and Path(source).is_dir():
            files, ref_file, sim_labs = _sim_layout(Path(source))
            reference = ref_file if reference is None else reference
            labs = sim_labs if labs is None else labs
        else:
            files = [source] if isinstance(source, str | os.PathLike) else list(source)
        tables = read_genotypes(files, lab=labs, **read_options)
    if isinstance(reference, str | os.PathLike):
        reference = pd.read_csv(reference, dtype=str)
    s = tables.samples.drop_duplicates("sampleID").copy()
    s["lab"] = s["lab"].astype(str)
    g = tables.genotypes
    calibration = None
    if reference is not None and len(reference) and s["lab"].nunique() > 1:
        calibration = estimate_lab_offsets(g, s, reference)
        g = apply_lab_offsets(g, s, calibration.loci)
    geno = majority_genotypes(g)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataQualityWarning)
        match = match_genotypes(geno[["sampleID", "locus", "allele1", "allele2"]],
                                sex=tables.sex if len(tables.sex) else None,
                                confirmed=geno[["sampleID", "locus", "confirmed"]],
                                mismatch_allowance=mismatch_allowance,
                                max_confirmed_mismatches=max_confirmed_mismatches)
    found += [str(w.message) for w in caught]
    for w in caught:
        if not issubclass(w.category, DataQualityWarning):  # pragma: no cover
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    # samples table
    a = match.assignments.set_index("sampleID")
    typed = geno[geno["allele1"].notna()].groupby("sampleID").size()
    n_loci = geno["locus"].nunique()
    ref_ids = set(reference["sampleID"].astype(str)) if reference is not None else set()
    country = s["countryCode"].astype(object)
    lab_country = s.dropna(subset=["countryCode"]).groupby("lab")["countryCode"].agg(
        lambda v: v.mode().iloc[0])
    country = country.where(country.notna(), s["lab"].map(lab_country))
    guess = s["lab"].str.extract(r"^([A-Z]{2})\b", expand=False)
    country = country.where(country.notna(), guess)
    samples = pd.DataFrame({
        "sampleID": s["sampleID"].to_numpy(object), "lab": s["lab"].to_numpy(object),
        "countryCode": country.to_numpy(object), "sampleType": s["sampleType"].to_numpy(object),
        "collectionDate": s["collectionDate"].to_numpy(),
        "latitude": s["latitude"].to_numpy(float), "longitude": s["longitude"].to_numpy(float),
        "reference": s["sampleID"].isin(ref_ids).to_numpy(bool),
    })
    samples["n_typed"] = samples["sampleID"].map(typed).fillna(0).astype(int)
    samples["typing_success"] = samples["n_typed"] / max(n_loci, 1)
    samples["individual"] = samples["sampleID"].map(a["individual"])
    # lab individuals: the sample of each lab nearest the individual's representative
    x = samples[["sampleID", "lab", "countryCode", "individual"]].assign(
        d=samples["sampleID"].map(a["distance"]).to_numpy(float),
        rep=(samples["sampleID"] == samples["individual"]).to_numpy(bool))
    x = x.sort_values(["individual", "lab", "rep", "d", "sampleID"],
                      ascending=[True, True, False, True, True], kind="stable")
    li = x.groupby(["individual", "lab"], sort=True).agg(
        representative=("sampleID", "first"), countryCode=("countryCode", "first"),
        n_samples=("sampleID", "size"), samples=("sampleID", list)).reset_index()
    # evidence: frequencies of the unique genotypes
    reps = set(match.individuals["representative"])
    terms = _pid_terms(allele_frequencies(geno[geno["sampleID"].isin(reps)]))
    loci = np.asarray(match.loci, dtype=object)
    rows: list[dict[str, Any]] = []
    cross_pairs, cross_meta = [], []
    for ind, grp in li.groupby("individual", sort=True):
        r = grp.to_dict("records")
        for i in range(len(r)):
            for j in range(i + 1, len(r)):
                cross_pairs.append((r[i]["representative"], r[j]["representative"]))
                cross_meta.append((ind, r[i], r[j]))
    for (sc, ev), (ind, ri, rj) in zip(_pair_evidence(geno, cross_pairs, terms, loci),
                                       cross_meta, strict=True):
        ev = {"individual": ind, "labs": [ri["lab"], rj["lab"]],
              "countries": "+".join(sorted({str(ri["countryCode"]), str(rj["countryCode"])}))
              if ri["countryCode"] != rj["countryCode"] else str(ri["countryCode"]),
              "samples": [ri["samples"], rj["samples"]], **ev}
        rows.append({"subjectA": ri["representative"], "subjectB": rj["representative"],
                     "method": "dna", "score": sc, "evidence": ev, "kind": "cross-lab"})
    if within_lab:
        pairs = [(sid, rep) for rep, members in zip(li["representative"], li["samples"],
                                                    strict=True)
                 for sid in members if sid != rep]
        for (sc, ev), (sid, rep) in zip(_pair_evidence(geno, pairs, terms, loci), pairs,
                                        strict=True):
            rows.append({"subjectA": sid, "subjectB": rep, "method": "dna", "score": sc,
                         "evidence": {"individual": str(samples.loc[samples["sampleID"] == sid,
                                                                    "individual"].iloc[0]),
                                      **ev},
                         "kind": "within-lab"})
    if catalogue_samples is not None and len(catalogue_samples):
        cat = catalogue_samples.astype({"sampleID": str, "individualID": str})
        cat = cat.assign(individual=cat["sampleID"].map(a["individual"])).dropna(
            subset=["individual"])
        for (ind, cid), grp in cat.groupby(["individual", "individualID"], sort=True):
            rows.append({"subjectA": ind, "subjectB": cid, "method": "dna", "score": 1.0,
                         "evidence": {"individual": ind,
                                      "catalogue_samples": sorted(grp["sampleID"])},
                         "kind": "catalogue"})
    proposals = _proposal_frame(rows)
    cam = dna_camera_candidates(samples, observations, deployments, max_km=max_km,
                                max_days=max_days)
    if len(cam):
        proposals = pd.concat([proposals, cam], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        curve = identity_probabilities(geno[geno["sampleID"].isin(reps)][
            ["sampleID", "locus", "allele1", "allele2"]], warn_above=None)
    return DnaResults(samples=samples, genotypes=geno, calibration=calibration, match=match,
                      lab_individuals=li, proposals=proposals, pidsib_curve=curve,
                      warnings=found)


def _confirmed_catalogue_samples(links: pd.DataFrame) -> pd.DataFrame:
    """``individualID, sampleID`` of confirmed links between a sample and an individual."""
    from amurlink.identify.links import current_links
    from amurlink.schema import INDIVIDUAL_ID_PATTERN

    cur = current_links(links, status="confirmed")
    pat = INDIVIDUAL_ID_PATTERN
    a, b = cur["subjectA"].astype(str), cur["subjectB"].astype(str)
    ia, ib = a.str.match(pat), b.str.match(pat)
    one = ia ^ ib
    return pd.DataFrame({"individualID": np.where(ia, a, b)[one.to_numpy()],
                         "sampleID": np.where(ia, b, a)[one.to_numpy()]})


def link_genotypes(
    joint_dir: str | os.PathLike,
    files: str | os.PathLike | Iterable[str | os.PathLike],
    /,
    *,
    by: str = _BY,
    now: Any = None,
    **options: Any,
):
    """Propose DNA links in a joint package's identity-link log.

    Parameters
    ----------
    joint_dir : path
        The joint package folder (``LinkStore``).
    files : path or paths
        Genotype files, or a folder as in :func:`dna_results`.
    by : str
        Proposer recorded in ``reviewer``.
    now : datetime-like, optional
        Time of the events.
    **options
        Options of :func:`dna_results` (``reference``, ``labs``, ``mismatch_allowance``...).

    Returns
    -------
    (DnaResults, ProposalResult)
        What was found and what the store appended (rejected pairs are never re-proposed).
    """
    from amurlink.identify.links import LinkStore

    store = LinkStore(joint_dir)
    ds = store.read()
    log = store._links_of(ds)
    files_arg = files
    if not isinstance(files, str | os.PathLike):
        files_arg = list(files)
        if len(files_arg) == 1 and Path(files_arg[0]).is_dir():
            files_arg = files_arg[0]
    options.setdefault("catalogue_samples", _confirmed_catalogue_samples(log))
    options.setdefault("observations", ds.observations)
    options.setdefault("deployments", ds.deployments)
    res = dna_results(files_arg, **options)
    props = res.proposals.drop(columns="kind")
    result = store.propose(props, by=by, now=now)
    return res, result
