"""Mismatch-tolerant grouping of genotypes into individuals (allelematch's method, blocked)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial.distance import squareform

from amurlink._estimator import ParamsEstimator
from amurlink.exceptions import DataQualityWarning, NotFittedError, SchemaError
from amurlink.identify.genotypes._core import (
    GenotypeArray,
    check_columns,
    full_distance,
    locus_comparison,
    stable_unit_hash,
    threshold_edges,
    to_array,
)
from amurlink.identify.genotypes._quality import (
    PIDSIB_THRESHOLD,
    _pid_terms,
    allele_frequencies,
    consensus_genotypes,
    pidsib_over,
)

__all__ = [
    "GenotypeMatcher",
    "GenotypeMatchResult",
    "match_genotypes",
    "mismatch_profile",
    "pairwise_mismatches",
    "sex_by_sample",
]

_BIG = np.int32(1 << 20)
#: Tie-breaking jitter (allele units) added to distances; below the 0.5 grid step.
_JITTER = 0.4


# --------------------------------------------------------------------------------------------
# pairwise comparisons
# --------------------------------------------------------------------------------------------
def _prepare(genotypes: pd.DataFrame) -> GenotypeArray:
    if "replicate" in genotypes.columns and genotypes.duplicated(["sampleID", "locus"]).any():
        genotypes = consensus_genotypes(genotypes)
    return to_array(genotypes)


def pairwise_mismatches(
    genotypes: pd.DataFrame,
    /,
    *,
    max_distance: float | None = None,
    chunk_size: int = 2048,
) -> pd.DataFrame:
    """Compare every pair of samples locus by locus.

    Parameters
    ----------
    genotypes : DataFrame
        ``sampleID, locus, allele1, allele2`` (PCR replicates are first reduced with
        :func:`consensus_genotypes`).
    max_distance : float, optional
        Keep only pairs whose mismatch distance is at most this (in alleles); all pairs when
        omitted (``n (n - 1) / 2`` rows, so set it for large data).
    chunk_size : int
        Rows of the distance matrix computed at a time (memory ``chunk_size * n``).

    Returns
    -------
    DataFrame
        One row per pair: ``sampleA, sampleB, loci_compared, identical_loci, dropout_loci``
        (one sample homozygous for an allele the other carries as a heterozygote),
        ``hard_loci`` (a third allele or no allele shared), ``missing_loci``,
        ``allele_mismatches``, ``distance`` (``allele_mismatches + missing alleles / 2``) and
        ``score`` (allelematch's similarity ``1 - distance / n_allele_columns``).

    See Also
    --------
    match_genotypes

    References
    ----------
    Galpern P, Manseau M, Hettinga P, Smith K, Wilson P (2012) allelematch: an R package for
    identifying unique multilocus genotypes where genotyping error and missing data may be
    present. Molecular Ecology Resources 12:771-778.
    """
    ga = _prepare(genotypes)
    n = len(ga)
    if max_distance is None:
        i, j = np.triu_indices(n, 1)
    else:
        i, j, _ = threshold_edges(ga, int(np.floor(2 * max_distance)), chunk_size=chunk_size)
    return _pair_table(ga, i, j)


def _pair_table(ga: GenotypeArray, i: np.ndarray, j: np.ndarray) -> pd.DataFrame:
    L = len(ga.loci)
    cls = locus_comparison(ga.alleles[i], ga.alleles[j])
    a, b = ga.alleles[i], ga.alleles[j]
    shared = _shared(a, b)
    both = cls != 3
    mism = np.where(both, 2 - shared, 0).sum(axis=1)
    missing = (~both).sum(axis=1)
    dist = mism + missing
    return pd.DataFrame({
        "sampleA": ga.samples[i],
        "sampleB": ga.samples[j],
        "loci_compared": both.sum(axis=1),
        "identical_loci": (cls == 0).sum(axis=1),
        "dropout_loci": (cls == 1).sum(axis=1),
        "hard_loci": (cls == 2).sum(axis=1),
        "missing_loci": missing,
        "allele_mismatches": mism,
        "distance": dist.astype(float),
        "score": 1 - dist / (2 * L),
    })


def _shared(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    same = (a[..., 0] == b[..., 0]) & (a[..., 1] == b[..., 1])
    any_ = ((a[..., 0] == b[..., 0]) | (a[..., 0] == b[..., 1]) | (a[..., 1] == b[..., 0])
            | (a[..., 1] == b[..., 1]))
    return np.where(same, 2, np.where(any_, 1, 0))


# --------------------------------------------------------------------------------------------
# sex
# --------------------------------------------------------------------------------------------
def sex_by_sample(sex_calls: pd.DataFrame, /, *, min_female_replicates: int = 2) -> pd.DataFrame:
    """Sex per sample from replicate calls of a Y-chromosome marker, with the asymmetric rule.

    Parameters
    ----------
    sex_calls : DataFrame
        ``sampleID, sex`` (``"M"`` or ``"F"``) and optionally ``replicate``.
    min_female_replicates : int
        Replicates that must call ``F`` (and none ``M``) before a female call is confirmed.

    Returns
    -------
    DataFrame
        ``sampleID, sex`` in {"male", "female", "unknown"}, ``confirmed`` (bool).

    Notes
    -----
    A Y product seen once makes a male; a missing Y product can be a failed amplification,
    so ``F`` is only a confirmed female after ``min_female_replicates`` concordant calls. Only
    a male against a *confirmed* female keeps two samples apart in matching.
    """
    s = sex_calls.dropna(subset=["sex"])
    s = s.assign(sex=s["sex"].astype(str).str.upper().str[0])
    g = s.groupby("sampleID")["sex"]
    n_m = g.apply(lambda x: int((x == "M").sum()))
    n_f = g.apply(lambda x: int((x == "F").sum()))
    out = pd.DataFrame({"sampleID": n_m.index})
    male = n_m.to_numpy() > 0
    female = ~male & (n_f.to_numpy() > 0)
    out["sex"] = np.where(male, "male", np.where(female, "female", "unknown"))
    out["confirmed"] = male | (female & (n_f.to_numpy() >= min_female_replicates))
    return out.reset_index(drop=True)


def _sex_codes(ga: GenotypeArray, sex: pd.DataFrame | None) -> np.ndarray:
    """+1 male, -1 confirmed female, 0 otherwise (unknown or unconfirmed female)."""
    codes = np.zeros(len(ga), np.int8)
    if sex is None or len(sex) == 0:
        return codes
    if "confirmed" not in sex.columns:
        sex = sex_by_sample(sex)
    s = sex.set_index("sampleID").reindex(ga.samples)
    codes[(s["sex"] == "male").to_numpy()] = 1
    confirmed = s["confirmed"].map(lambda v: bool(v) if pd.notna(v) else False).astype(bool)
    codes[((s["sex"] == "female") & confirmed).to_numpy()] = -1
    return codes


# --------------------------------------------------------------------------------------------
# the clustering core (one block of samples, dense)
# --------------------------------------------------------------------------------------------
def _jitter(u: np.ndarray) -> np.ndarray:
    return _JITTER * np.mod(u[:, None] + u[None, :], 1.0)


def _unique_block(D2: np.ndarray, u: np.ndarray, nmiss: np.ndarray, cut2: int, match2: int,
                  method: str):
    """allelematch's iteration on one block.

    ``D2`` holds twice the distance (``_BIG`` where a pair cannot match). Returns the local
    indices of the unique genotypes, each sample's representative and its number of unique
    genotypes within the match allowance.
    """
    n = len(D2)
    rep = np.arange(n)
    if n == 1:
        return np.array([0]), rep, np.array([1])
    P = D2 / 2.0 + _jitter(u)
    np.fill_diagonal(P, 0.0)
    active = np.arange(n)
    cut = cut2 / 2.0 + 0.45
    while len(active) > 1:
        sub = D2[np.ix_(active, active)]
        off = sub + np.eye(len(active), dtype=sub.dtype) * _BIG
        if off.min() > cut2:
            break
        Z = linkage(squareform(P[np.ix_(active, active)], checks=False), "complete")
        lab = fcluster(Z, cut, "distance")
        if lab.max() == len(active):
            break
        order = np.argsort(lab, kind="stable")
        bounds = np.flatnonzero(np.diff(lab[order])) + 1
        new = []
        remap = np.arange(n)
        for grp in np.split(order, bounds):
            mem = active[grp]
            if len(mem) == 1:
                new.append(mem[0])
                continue
            if method == "least_missing":
                key = (u[mem], D2[np.ix_(mem, mem)].sum(1), nmiss[mem])
            else:
                key = (u[mem], nmiss[mem], D2[np.ix_(mem, mem)].sum(1))
            best = mem[np.lexsort(key)[0]]
            new.append(best)
            remap[mem] = best
        rep = remap[rep]
        active = np.sort(np.array(new))
    within = (D2[:, active] <= match2).sum(axis=1)
    return active, rep, within


@dataclass
class _Graph:
    ga: GenotypeArray
    i: np.ndarray
    j: np.ndarray
    d2: np.ndarray
    u: np.ndarray
    nmiss: np.ndarray


def _confirmed_conflicts(ga: GenotypeArray, confirmed: np.ndarray | None, i: np.ndarray,
                         j: np.ndarray) -> np.ndarray:
    """Mismatches of ``i`` and ``j`` at loci where both calls are confirmed by replicates.

    In alleles: a dropout-compatible locus counts 1, a hard one (third allele, none shared) 2.
    """
    if confirmed is None or not len(i):
        return np.zeros(len(i), np.int64)
    cmp = locus_comparison(ga.alleles[i], ga.alleles[j])
    both = confirmed[i] & confirmed[j]
    return ((cmp == 1) & both).sum(axis=1) + 2 * ((cmp == 2) & both).sum(axis=1)


def _confirmed_array(ga: GenotypeArray, confirmed: pd.DataFrame | None) -> np.ndarray | None:
    if confirmed is None:
        return None
    check_columns(confirmed, ("sampleID", "locus", "confirmed"), table="confirmed")
    c = confirmed[confirmed["confirmed"].map(lambda v: bool(v) if pd.notna(v) else False)
                  .astype(bool)]
    pos_s = pd.Index(ga.samples).get_indexer(c["sampleID"].astype(str))
    pos_l = pd.Index(ga.loci).get_indexer(c["locus"].astype(str))
    ok = (pos_s >= 0) & (pos_l >= 0)
    out = np.zeros(ga.alleles.shape[:2], bool)
    out[pos_s[ok], pos_l[ok]] = True
    return out & ga.typed


def _build_graph(ga: GenotypeArray, max2: int, *, sex_codes, max_hard_loci, chunk_size,
                 confirmed=None, max_confirmed_mismatches=None) -> _Graph:
    i, j, d2 = threshold_edges(ga, max2, chunk_size=chunk_size)
    keep = sex_codes[i] * sex_codes[j] >= 0
    if max_hard_loci is not None and len(i):
        hard = (locus_comparison(ga.alleles[i], ga.alleles[j]) == 2).sum(axis=1)
        keep &= hard <= max_hard_loci
    if max_confirmed_mismatches is not None and confirmed is not None and len(i):
        keep &= _confirmed_conflicts(ga, confirmed, i, j) <= max_confirmed_mismatches
    return _Graph(ga, i[keep], j[keep], d2[keep], stable_unit_hash(ga.samples),
                  (~ga.typed).sum(axis=1))


def _run_blocked(g: _Graph, cut2: int, match2: int, method: str):
    """Whole data set, block by block: connected components of pairs within ``match2``."""
    n = len(g.ga)
    sel = g.d2 <= match2
    i, j, d2 = g.i[sel], g.j[sel], g.d2[sel]
    rep = np.arange(n)
    within = np.ones(n, np.int64)
    is_unique = np.ones(n, bool)
    if len(i) == 0:
        return is_unique, rep, within
    adj = coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n))
    _, comp = connected_components(adj, directed=False)
    sizes = np.bincount(comp)
    # edges grouped by component
    ecomp = comp[i]
    eorder = np.argsort(ecomp, kind="stable")
    ebounds = np.searchsorted(ecomp[eorder], np.arange(len(sizes) + 1))
    norder = np.argsort(comp, kind="stable")
    nbounds = np.searchsorted(comp[norder], np.arange(len(sizes) + 1))
    for c in np.flatnonzero(sizes > 1):
        mem = norder[nbounds[c]:nbounds[c + 1]]
        es = eorder[ebounds[c]:ebounds[c + 1]]
        pos = np.empty(n, np.int64)
        pos[mem] = np.arange(len(mem))
        D2 = np.full((len(mem), len(mem)), _BIG, np.int32)
        D2[pos[i[es]], pos[j[es]]] = d2[es]
        D2[pos[j[es]], pos[i[es]]] = d2[es]
        np.fill_diagonal(D2, 0)
        uniq, r, w = _unique_block(D2, g.u[mem], g.nmiss[mem], cut2, match2, method)
        rep[mem] = mem[r]
        within[mem] = w
        flag = np.zeros(len(mem), bool)
        flag[uniq] = True
        is_unique[mem] = flag
    return is_unique, rep, within


def _run_unblocked(ga: GenotypeArray, cut2: int, match2: int, method: str, *, sex_codes,
                   max_hard_loci, confirmed=None, max_confirmed_mismatches=None):
    """Reference implementation: one dense matrix over all samples (memory ``O(n^2)``)."""
    D2 = full_distance(ga)
    D2[np.multiply.outer(sex_codes, sex_codes) < 0] = _BIG
    if max_hard_loci is not None:
        ii, jj = np.nonzero(np.triu(D2 <= match2, 1))
        hard = (locus_comparison(ga.alleles[ii], ga.alleles[jj]) == 2).sum(axis=1)
        bad = hard > max_hard_loci
        D2[ii[bad], jj[bad]] = _BIG
        D2[jj[bad], ii[bad]] = _BIG
    if max_confirmed_mismatches is not None and confirmed is not None:
        ii, jj = np.nonzero(np.triu(D2 <= match2, 1))
        bad = _confirmed_conflicts(ga, confirmed, ii, jj) > max_confirmed_mismatches
        D2[ii[bad], jj[bad]] = _BIG
        D2[jj[bad], ii[bad]] = _BIG
    uniq, rep, within = _unique_block(D2, stable_unit_hash(ga.samples), (~ga.typed).sum(axis=1),
                                      cut2, match2, method)
    is_unique = np.zeros(len(ga), bool)
    is_unique[uniq] = True
    return is_unique, rep, within


# --------------------------------------------------------------------------------------------
# the profile
# --------------------------------------------------------------------------------------------
def _profile_counts(g: _Graph, allowances, method: str) -> pd.DataFrame:
    rows = []
    n = len(g.ga)
    for m in allowances:
        cut2 = max(2 * m - 1, 0)
        is_u, _, within = _run_blocked(g, cut2, 2 * m, method)
        rows.append(dict(mismatch_allowance=m, samples=n, unique=int(is_u.sum()),
                         unclassified=int((within == 0).sum()),
                         multiple_match=int((within > 1).sum())))
    return pd.DataFrame(rows)


def _choose(profile: pd.DataFrame, *, max_instability: float, min_dip: float):
    """Pick the allowance after the rise of the multiple-match curve (see ``mismatch_profile``)."""
    c = profile["multiple_match"].to_numpy().astype(float)
    u = profile["unique"].to_numpy().astype(float)
    m = profile["mismatch_allowance"].to_numpy()
    n = float(profile["samples"].iloc[0])
    if len(c) < 2:
        return None, "none"
    if (c == 0).all():
        return int(m[1]), "flat"
    # peak of the first rise
    p = int(np.argmax(c > c[0]))
    while p + 1 < len(c) and c[p + 1] >= c[p]:
        p += 1
    for k in range(p + 1, len(c) - 1):
        instability = c[k] / n + (u[k] - u[k + 1]) / u[k]
        dip = c[k] <= c[k + 1] and c[k] <= min_dip * c[p]
        if instability <= max_instability or dip:
            return int(m[k]), ("zero-dip" if c[k] == 0 else "nonzero-dip")
    return None, "no-dip"


def mismatch_profile(
    genotypes: pd.DataFrame,
    /,
    *,
    allowances=None,
    consensus_method: str = "similarity",
    max_instability: float = 0.15,
    min_dip: float = 0.5,
    sex: pd.DataFrame | None = None,
    max_hard_loci: int | None = 1,
    chunk_size: int = 2048,
) -> tuple[pd.DataFrame, int | None, str]:
    """Profile the grouping over mismatch allowances and choose one (allelematch's method).

    Parameters
    ----------
    genotypes : DataFrame
        One genotype per sample and locus (replicates are reduced to a consensus first).
    allowances : sequence of int, optional
        Allowances to try, in alleles (default ``0 .. floor(0.4 * allele columns)``, as
        allelematch's ``amUniqueProfile``).
    consensus_method, sex, max_hard_loci, chunk_size
        As for :class:`GenotypeMatcher`.
    max_instability : float
        After the rise of the multiple-match curve, the first allowance ``m`` whose
        instability ``multiple_match(m) / samples + (unique(m) - unique(m + 1)) / unique(m)``
        is at or below this is chosen (the grouping has settled: few ambiguous samples and
        few genotypes still merging) ...
    min_dip : float
        ... or the first local minimum of the curve at or below this share of its peak.

    Returns
    -------
    profile : DataFrame
        ``mismatch_allowance, samples, unique, unclassified, multiple_match`` per allowance.
    allowance : int or None
        The chosen allowance; ``None`` when the curve shows no clear optimum.
    shape : {"flat", "zero-dip", "nonzero-dip", "no-dip"}
        ``zero-dip``: the multiple matches fall to zero after their rise (confident);
        ``nonzero-dip``: they fall but not to zero (review the ambiguous samples);
        ``no-dip``: they never fall (no clear optimum: the data cannot separate
        individuals reliably); ``flat``: no multiple matches at any allowance.

    Notes
    -----
    At allowance ``m`` samples are grouped with allowance ``m - 1/2`` and then matched with
    allowance ``m``; ``multiple_match`` counts samples within ``m`` of two or more unique
    genotypes, i.e. samples whose assignment is not stable around ``m``. Too small an ``m``
    leaves replicate samples of one animal as several genotypes (many multiple matches),
    too large an ``m`` makes distinct animals' genotypes overlap (many again); the
    allowance where the curve dips after its first rise is chosen, as allelematch's
    ``amUniqueProfile`` does with its second minimum (Galpern et al. 2012).

    References
    ----------
    Galpern P, Manseau M, Hettinga P, Smith K, Wilson P (2012) allelematch: an R package for
    identifying unique multilocus genotypes where genotyping error and missing data may be
    present. Molecular Ecology Resources 12:771-778.
    """
    ga = _prepare(genotypes)
    if allowances is None:
        allowances = range(0, int(np.floor(0.4 * 2 * len(ga.loci))) + 1)
    allowances = [int(a) for a in allowances]
    g = _build_graph(ga, 2 * max(allowances), sex_codes=_sex_codes(ga, sex),
                     max_hard_loci=max_hard_loci, chunk_size=chunk_size)
    prof = _profile_counts(g, allowances, consensus_method)
    m, shape = _choose(prof, max_instability=max_instability, min_dip=min_dip)
    return prof, m, shape


# --------------------------------------------------------------------------------------------
# results and the estimator
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GenotypeMatchResult:
    """Samples grouped into individuals by :class:`GenotypeMatcher`.

    Attributes
    ----------
    assignments : DataFrame
        One row per sample: ``sampleID, individual`` (the representative sample's ID),
        ``status`` (``unique``: the representative itself; ``match``: within the allowance
        of exactly one unique genotype; ``multipleMatch``: of several; ``unclassified``: of
        none), ``candidates`` (unique genotypes within the allowance), ``distance`` to the
        representative, ``loci_compared``, ``pid``, ``pidsib`` over those loci, ``ambiguous``.
    individuals : DataFrame
        One row per individual: ``individual, representative, n_samples, samples, sex,
        loci_typed, pid, pidsib, ambiguous`` (samples to re-type).
    profile : DataFrame or None
        The allowance profile when the allowance was chosen from the data.
    mismatch_allowance : int
        Allowance used, in alleles.
    profile_shape : str
        See :func:`mismatch_profile` (``"fixed"`` when the allowance was given).
    pid : float
        PID of the whole panel (allele frequencies of the unique genotypes).
    pidsib : float
        PIDsib of the whole panel.
    """

    assignments: pd.DataFrame
    individuals: pd.DataFrame
    profile: pd.DataFrame | None
    mismatch_allowance: int
    profile_shape: str
    pid: float
    pidsib: float
    loci: list[str] = field(default_factory=list)

    @property
    def n_individuals(self) -> int:
        return len(self.individuals)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready summary (used by ``amurlink genotypes match --format json``)."""
        amb = self.assignments.loc[self.assignments["ambiguous"], "sampleID"].tolist()
        return {
            "mismatch_allowance": self.mismatch_allowance,
            "profile_shape": self.profile_shape,
            "n_samples": len(self.assignments),
            "n_individuals": self.n_individuals,
            "pid": self.pid,
            "pidsib": self.pidsib,
            "loci": list(self.loci),
            "ambiguous": amb,
            "individuals": [
                {
                    "individual": r.individual,
                    "samples": list(r.samples),
                    "sex": r.sex,
                    "loci_typed": int(r.loci_typed),
                    "pid": float(r.pid),
                    "pidsib": float(r.pidsib),
                    "ambiguous": list(r.ambiguous),
                }
                for r in self.individuals.itertuples(index=False)
            ],
            "profile": None if self.profile is None else self.profile.to_dict(orient="records"),
        }


def _count(v) -> bool:
    return isinstance(v, int | np.integer) and v >= 0


_CONSTRAINTS = {
    "mismatch_allowance": (lambda v: v == "auto" or _count(v), '"auto" or an integer >= 0'),
    "max_allowance": (lambda v: v is None or _count(v), "None or an integer >= 0"),
    "consensus_method": (lambda v: v in ("similarity", "least_missing"),
                         '"similarity" or "least_missing"'),
    "max_hard_loci": (lambda v: v is None or _count(v), "None or an integer >= 0"),
    "blocking": (lambda v: isinstance(v, bool), "True or False"),
    "chunk_size": (lambda v: _count(v) and v > 0, "an integer > 0"),
    "pidsib_threshold": (lambda v: v is None or (0 < v <= 1), "None or a number in (0, 1]"),
    "max_instability": (lambda v: 0 <= v <= 2, "a number in [0, 2]"),
    "max_confirmed_mismatches": (lambda v: v is None or _count(v), "None or an integer >= 0"),
    "min_dip": (lambda v: 0 <= v <= 1, "a number in [0, 1]"),
}


class GenotypeMatcher(ParamsEstimator):
    """Group DNA samples into individuals with a mismatch allowance (allelematch's method).

    Parameters
    ----------
    mismatch_allowance : int or "auto"
        Largest ``N_mismatch + N_missing / 2`` (alleles) between two samples of one animal.
        ``"auto"`` chooses it from the data with :func:`mismatch_profile`.
    max_allowance : int, optional
        Largest allowance profiled (default ``floor(0.4 * allele columns)``).
    consensus_method : {"similarity", "least_missing"}
        Which sample represents a cluster: the one most similar to the others (smallest
        summed distance; ties broken by fewest missing loci), or the one with fewest missing
        loci (ties broken by similarity); allelematch's consensus methods 1 and 2.
    max_hard_loci : int, optional
        Never link samples with more loci of hard mismatch (no shared allele, or a third
        allele) than this (default 1: one false allele is tolerated, dropouts are not
        limited). ``None`` treats hard and dropout mismatches alike, as allelematch does.
    blocking : bool
        Compare only within connected groups of samples that lie within the allowance of
        each other (exact; memory ``O(edges)``). ``False`` runs the dense ``O(n^2)`` reference.
    chunk_size : int
        Rows of the distance matrix computed at a time.
    pidsib_threshold : float or None
        Warn when an individual's PIDsib over the loci compared exceeds this (0.001).
    max_instability, min_dip : float
        Rules of the profile; see :func:`mismatch_profile`.
    max_confirmed_mismatches : int, optional
        With ``confirmed=`` calls in :meth:`fit`: never link two samples whose mismatches at
        loci where both calls are confirmed by concordant PCR replicates exceed this, in
        alleles (a dropout-compatible locus counts 1: both replicates of the homozygote may
        have dropped the same allele; a hard one 2: replicates that agree on a third allele
        are not a typing error). ``None`` (default) ignores confirmation.

    Attributes
    ----------
    mismatch_allowance_ : int
    profile_ : DataFrame or None
    profile_shape_ : str
    result_ : GenotypeMatchResult
    assignments_ : DataFrame
    individuals_ : DataFrame

    See Also
    --------
    match_genotypes : function facade.
    mismatch_profile, pairwise_mismatches

    Notes
    -----
    Distances follow allelematch's similarity score ``s = N_match/n + N_missing/(2n)``
    (``distance = n (1 - s)``), except that alleles are compared as a multiset per locus
    (a shared allele counts wherever it sits). Samples are clustered by complete linkage
    cut at the allowance; each cluster is replaced by its representative and the step is
    repeated until no cluster forms; every sample is then matched against the unique
    genotypes. Ties are broken by a hash of the sample IDs, so results do not depend on row
    order. The grouping splits exactly over connected components of the graph of pairs
    within the allowance, which is what ``blocking`` exploits.

    References
    ----------
    Galpern P, Manseau M, Hettinga P, Smith K, Wilson P (2012) allelematch: an R package for
    identifying unique multilocus genotypes where genotyping error and missing data may be
    present. Molecular Ecology Resources 12:771-778.

    Waits LP, Luikart G, Taberlet P (2001) Estimating the probability of identity among
    genotypes in natural populations. Molecular Ecology 10:249-256.
    """

    def __init__(self, *, mismatch_allowance: int | str = "auto", max_allowance: int | None = None,
                 consensus_method: str = "similarity", max_hard_loci: int | None = 1,
                 blocking: bool = True, chunk_size: int = 2048,
                 pidsib_threshold: float | None = PIDSIB_THRESHOLD,
                 max_instability: float = 0.15, min_dip: float = 0.5,
                 max_confirmed_mismatches: int | None = None) -> None:
        self.mismatch_allowance = mismatch_allowance
        self.max_allowance = max_allowance
        self.consensus_method = consensus_method
        self.max_hard_loci = max_hard_loci
        self.blocking = blocking
        self.chunk_size = chunk_size
        self.pidsib_threshold = pidsib_threshold
        self.max_instability = max_instability
        self.min_dip = min_dip
        self.max_confirmed_mismatches = max_confirmed_mismatches

    _param_checks = _CONSTRAINTS
    _param_error = SchemaError
    _repr_defaults = True

    def fit(self, genotypes: pd.DataFrame, /, *, sex: pd.DataFrame | None = None,
            confirmed: pd.DataFrame | None = None):
        """Group the samples of ``genotypes``.

        Parameters
        ----------
        genotypes : DataFrame
            ``sampleID, locus, allele1, allele2[, replicate]`` on one allele scale (apply
            lab offsets first with :func:`apply_lab_offsets`).
        sex : DataFrame, optional
            Sex calls (``sampleID, sex[, replicate]``) or the output of :func:`sex_by_sample`.
        confirmed : DataFrame, optional
            ``sampleID, locus, confirmed``: calls confirmed by concordant replicates (as
            :func:`majority_genotypes` gives); used with ``max_confirmed_mismatches``.

        Returns
        -------
        self

        Warns
        -----
        DataQualityWarning
            When no clear allowance is found, or when individuals' PIDsib over the loci
            compared exceeds ``pidsib_threshold``.
        """
        self._validate_params()
        ga = _prepare(genotypes)
        if len(ga) == 0:
            raise SchemaError("`genotypes` has no samples to match")
        codes = _sex_codes(ga, sex)
        conf = _confirmed_array(ga, confirmed)
        cm = self.max_confirmed_mismatches
        n_cols = 2 * len(ga.loci)
        mmax = self.max_allowance if self.max_allowance is not None else int(np.floor(0.4 * n_cols))
        profile = None
        if self.mismatch_allowance == "auto":
            m_hi = mmax
        else:
            m_hi = int(self.mismatch_allowance)
        g = _build_graph(ga, 2 * max(m_hi, 0), sex_codes=codes, max_hard_loci=self.max_hard_loci,
                         chunk_size=self.chunk_size, confirmed=conf, max_confirmed_mismatches=cm)
        if self.mismatch_allowance == "auto":
            profile = _profile_counts(g, range(0, mmax + 1), self.consensus_method)
            m, shape = _choose(profile, max_instability=self.max_instability,
                               min_dip=self.min_dip)
            if m is None:
                later = profile[profile["mismatch_allowance"] >= 1]
                m = int(later.loc[later["multiple_match"].idxmin(), "mismatch_allowance"]) if len(
                    later) else 0
                warnings.warn(
                    f"the mismatch profile has no clear optimum (multiple matches never fall "
                    f"after rising, over allowances 0-{mmax}); grouped with allowance {m}, the "
                    "fewest multiple matches. Review the result, re-type samples with missing "
                    "loci or add loci (Galpern et al. 2012)",
                    DataQualityWarning, stacklevel=2)
        else:
            m, shape = int(self.mismatch_allowance), "fixed"
        if self.blocking:
            is_u, rep, within = _run_blocked(g, 2 * m, 2 * m, self.consensus_method)
        else:
            is_u, rep, within = _run_unblocked(ga, 2 * m, 2 * m, self.consensus_method,
                                               sex_codes=codes, max_hard_loci=self.max_hard_loci,
                                               confirmed=conf, max_confirmed_mismatches=cm)
        self.mismatch_allowance_ = m
        self.profile_ = profile
        self.profile_shape_ = shape
        self.result_ = self._result(ga, g, is_u, rep, within, m, shape, profile, codes)
        self.assignments_ = self.result_.assignments
        self.individuals_ = self.result_.individuals
        return self

    def _result(self, ga, g, is_u, rep, within, m, shape, profile, codes) -> GenotypeMatchResult:
        n = len(ga)
        uniq = np.flatnonzero(is_u)
        # frequencies of the unique genotypes (allelematch, Psib)
        u_rows = ga.alleles[uniq]
        ug = pd.DataFrame({
            "sampleID": np.repeat(ga.samples[uniq], len(ga.loci)),
            "locus": np.tile(ga.loci, len(uniq)),
            "allele1": u_rows[:, :, 0].ravel(),
            "allele2": u_rows[:, :, 1].ravel(),
        })
        ug = ug[ug["allele1"] >= 0]
        terms = _pid_terms(allele_frequencies(ug))
        panel_pid, panel_sib = pidsib_over(terms, np.ones((1, len(ga.loci)), bool), ga.loci)
        # candidates within the allowance (edges + self)
        sel = g.d2 <= 2 * m
        ei, ej = g.i[sel], g.j[sel]
        cand: list[list[str]] = [[] for _ in range(n)]
        for a, b in ((ei, ej), (ej, ei)):
            k = is_u[b]
            for x, y in zip(a[k], b[k], strict=True):
                cand[x].append(ga.samples[y])
        for x in uniq:
            cand[x].append(ga.samples[x])
        both = ga.typed & ga.typed[rep]
        pid, sib = pidsib_over(terms, both, ga.loci)
        d = locus_comparison(ga.alleles, ga.alleles[rep])
        shared = _shared(ga.alleles, ga.alleles[rep])
        dist = np.where(d != 3, 2 - shared, 0).sum(axis=1) + (d == 3).sum(axis=1)
        status = np.where(is_u, "unique", np.where(within == 1, "match",
                                                   np.where(within > 1, "multipleMatch",
                                                            "unclassified")))
        status = np.where(is_u & (within > 1), "multipleMatch", status)
        ambiguous = (within != 1)
        assign = pd.DataFrame({
            "sampleID": ga.samples,
            "individual": ga.samples[rep],
            "status": status,
            "candidates": [sorted(c) for c in cand],
            "distance": dist.astype(float),
            "loci_compared": both.sum(axis=1),
            "pid": pid,
            "pidsib": sib,
            "ambiguous": ambiguous,
        })
        sexname = np.array(["female", "unknown", "male"])[np.sign(codes).astype(int) + 1]
        assign["sex"] = sexname
        rows = []
        for ind, grp in assign.groupby("individual", sort=False):
            sx = set(grp["sex"]) - {"unknown"}
            rows.append({
                "individual": ind,
                "representative": ind,
                "n_samples": len(grp),
                "samples": list(grp["sampleID"]),
                "sex": "male" if "male" in sx else ("female" if sx else "unknown"),
                "loci_typed": int(ga.typed[np.flatnonzero(ga.samples == ind)[0]].sum()),
                "pid": float(grp["pid"].max()),
                "pidsib": float(grp["pidsib"].max()),
                "ambiguous": list(grp.loc[grp["ambiguous"], "sampleID"]),
            })
        indiv = pd.DataFrame(rows, columns=["individual", "representative", "n_samples",
                                            "samples", "sex", "loci_typed", "pid", "pidsib",
                                            "ambiguous"])
        if self.pidsib_threshold is not None:
            high = indiv["pidsib"] > self.pidsib_threshold
            if high.any():
                warnings.warn(
                    f"{int(high.sum())} of {len(indiv)} individuals have PIDsib above "
                    f"{self.pidsib_threshold:g} over the loci compared (worst "
                    f"{indiv['pidsib'].max():.3g}); a sibling could share these genotypes: "
                    "type more loci for them (Waits et al. 2001)",
                    DataQualityWarning, stacklevel=3)
        return GenotypeMatchResult(assign, indiv, profile, m, shape, float(panel_pid[0]),
                                   float(panel_sib[0]), list(ga.loci))

    def _check_fitted(self) -> None:
        if not hasattr(self, "result_"):
            raise NotFittedError("GenotypeMatcher is not fitted; call fit(genotypes) first")

    def predict(self) -> pd.DataFrame:
        """The individual of each sample (``assignments_``)."""
        self._check_fitted()
        return self.assignments_


def match_genotypes(
    genotypes: pd.DataFrame, /, *, sex: pd.DataFrame | None = None,
    confirmed: pd.DataFrame | None = None, **params: Any
) -> GenotypeMatchResult:
    """Group DNA samples into individuals; function facade of :class:`GenotypeMatcher`.

    Parameters
    ----------
    genotypes : DataFrame
        ``sampleID, locus, allele1, allele2[, replicate]`` on one allele scale.
    sex : DataFrame, optional
        Sex calls; see :func:`sex_by_sample`.
    confirmed : DataFrame, optional
        Calls confirmed by replicates; see :meth:`GenotypeMatcher.fit`.
    **params
        Parameters of :class:`GenotypeMatcher` (``mismatch_allowance="auto"`` by default).

    Returns
    -------
    GenotypeMatchResult

    See Also
    --------
    GenotypeMatcher

    References
    ----------
    Galpern P, et al. (2012) allelematch. Molecular Ecology Resources 12:771-778.

    Examples
    --------
    >>> import pandas as pd
    >>> g = pd.DataFrame({"sampleID": ["a", "a", "b", "b", "c", "c"],
    ...                   "locus": ["L1", "L2"] * 3,
    ...                   "allele1": [100, 200, 100, 200, 104, 204],
    ...                   "allele2": [102, 202, 102, 202, 106, 206]})
    >>> res = match_genotypes(g, mismatch_allowance=1, pidsib_threshold=None)
    >>> res.assignments[["sampleID", "individual"]].values.tolist()
    [['a', 'a'], ['b', 'a'], ['c', 'c']]
    """
    return GenotypeMatcher(**params).fit(genotypes, sex=sex, confirmed=confirmed).result_
