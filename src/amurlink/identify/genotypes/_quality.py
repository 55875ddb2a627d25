"""Genotype quality: multi-tube consensus, typing success, locus statistics, PID and PIDsib."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from amurlink.exceptions import DataQualityWarning, SchemaError
from amurlink.identify.genotypes._core import check_columns

__all__ = [
    "allele_frequencies",
    "consensus_genotypes",
    "identity_probabilities",
    "locus_summary",
    "typing_success",
]

#: PIDsib above which identities need more loci (Waits et al. 2001; cross-border links).
PIDSIB_THRESHOLD = 1e-3


def _typed(genotypes: pd.DataFrame) -> pd.DataFrame:
    g = genotypes.loc[genotypes["allele1"].notna() & genotypes["allele2"].notna(),
                      ["sampleID", "locus", "allele1", "allele2"]].copy()
    g["allele1"] = g["allele1"].astype("int64")
    g["allele2"] = g["allele2"].astype("int64")
    return g


def _one_per_sample(genotypes: pd.DataFrame) -> pd.DataFrame:
    check_columns(genotypes)
    if genotypes.duplicated(["sampleID", "locus"]).any():
        raise SchemaError(
            "`genotypes` holds several PCR replicates for some sample and locus; frequencies "
            "need one genotype per sample: run consensus_genotypes(genotypes) first"
        )
    return _typed(genotypes)


def allele_frequencies(genotypes: pd.DataFrame, /) -> pd.DataFrame:
    """Allele counts and frequencies per locus over the typed samples.

    Parameters
    ----------
    genotypes : DataFrame
        One genotype per sample and locus (``sampleID, locus, allele1, allele2``).

    Returns
    -------
    DataFrame
        ``locus, allele, count, frequency``; frequencies sum to one per locus.
    """
    g = _one_per_sample(genotypes)
    long = pd.concat([g[["locus", "allele1"]].set_axis(["locus", "allele"], axis=1),
                      g[["locus", "allele2"]].set_axis(["locus", "allele"], axis=1)])
    out = long.groupby(["locus", "allele"], sort=True).size().rename("count").reset_index()
    out["frequency"] = out["count"] / out.groupby("locus")["count"].transform("sum")
    order = {loc: k for k, loc in enumerate(pd.unique(genotypes["locus"]))}
    out = out.sort_values(["locus", "allele"], key=lambda s: s.map(order) if s.name == "locus"
                          else s, kind="stable")
    return out.reset_index(drop=True)


def _pid_terms(freqs: pd.DataFrame) -> pd.DataFrame:
    p = freqs["frequency"].to_numpy()
    d = pd.DataFrame({"locus": freqs["locus"].to_numpy(), "p2": p**2, "p4": p**4})
    s = d.groupby("locus", sort=False)[["p2", "p4"]].sum()
    s["PID"] = 2 * s["p2"] ** 2 - s["p4"]
    s["PIDsib"] = 0.25 + 0.5 * s["p2"] + 0.5 * s["p2"] ** 2 - 0.25 * s["p4"]
    s["n_alleles"] = freqs.groupby("locus", sort=False).size()
    return s


def identity_probabilities(
    genotypes: pd.DataFrame,
    /,
    *,
    order: str = "informative",
    warn_above: float | None = PIDSIB_THRESHOLD,
) -> pd.DataFrame:
    """Probability of identity (PID) and among siblings (PIDsib), per locus and cumulative.

    Parameters
    ----------
    genotypes : DataFrame
        One genotype per sample and locus; allele frequencies are pooled over all samples.
    order : {"informative", "given"}
        Order in which loci are accumulated: smallest PIDsib first (the panel's best
        ``k`` loci for each ``k``), or the order the loci first appear in.
    warn_above : float or None
        Warn when the PIDsib of the whole panel exceeds this (default 0.001).

    Returns
    -------
    DataFrame
        One row per locus: ``locus, n_typed, n_alleles, PID, PIDsib, n_loci, cumulative_PID,
        cumulative_PIDsib``.

    Warns
    -----
    DataQualityWarning
        If the PIDsib over all loci exceeds ``warn_above``.

    See Also
    --------
    allele_frequencies

    Notes
    -----
    With allele frequencies :math:`p_i` at a locus (Waits, Luikart & Taberlet 2001),

    .. math:: PID = 2(\\sum p_i^2)^2 - \\sum p_i^4

    .. math:: PID_{sib} = 0.25 + 0.5\\sum p_i^2 + 0.5(\\sum p_i^2)^2 - 0.25\\sum p_i^4

    and multilocus values are products over loci. Theoretical PID underestimates observed
    matches in structured or related populations; use PIDsib as the conservative bound.

    References
    ----------
    Waits LP, Luikart G, Taberlet P (2001) Estimating the probability of identity among
    genotypes in natural populations: cautions and guidelines. Molecular Ecology 10:249-256.
    """
    if order not in ("informative", "given"):
        raise SchemaError(f"order={order!r}; expected 'informative' or 'given'")
    freqs = allele_frequencies(genotypes)
    terms = _pid_terms(freqs)
    typed = _typed(genotypes).groupby("locus").size()
    out = pd.DataFrame({
        "locus": terms.index,
        "n_typed": typed.reindex(terms.index).fillna(0).astype(int).to_numpy(),
        "n_alleles": terms["n_alleles"].to_numpy(),
        "PID": terms["PID"].to_numpy(),
        "PIDsib": terms["PIDsib"].to_numpy(),
    })
    if order == "informative":
        out = out.sort_values(["PIDsib", "PID"], kind="stable")
    out = out.reset_index(drop=True)
    out["n_loci"] = np.arange(1, len(out) + 1)
    out["cumulative_PID"] = out["PID"].cumprod()
    out["cumulative_PIDsib"] = out["PIDsib"].cumprod()
    if warn_above is not None and len(out) and out["cumulative_PIDsib"].iloc[-1] > warn_above:
        warnings.warn(
            f"PIDsib over all {len(out)} loci is {out['cumulative_PIDsib'].iloc[-1]:.3g}, above "
            f"{warn_above:g}: siblings may share a genotype; type more loci before declaring "
            "identities (Waits et al. 2001)",
            DataQualityWarning,
            stacklevel=2,
        )
    return out


def pidsib_over(freq_terms: pd.DataFrame, loci_typed: np.ndarray, loci: np.ndarray) -> np.ndarray:
    """PID and PIDsib products over the loci flagged in each row of ``loci_typed``."""
    t = freq_terms.reindex(loci)
    lp = np.log(t["PID"].fillna(1.0).to_numpy())
    ls = np.log(t["PIDsib"].fillna(1.0).to_numpy())
    m = loci_typed.astype(float)
    return np.exp(m @ lp), np.exp(m @ ls)


def consensus_genotypes(
    genotypes: pd.DataFrame,
    /,
    *,
    min_heterozygote: int = 2,
    min_homozygote: int = 3,
    keep_single: bool = True,
) -> pd.DataFrame:
    """Consensus genotype per sample and locus from PCR replicates (multiple-tubes rules).

    Parameters
    ----------
    genotypes : DataFrame
        ``sampleID, locus, allele1, allele2, replicate``.
    min_heterozygote : int
        A heterozygote is accepted when each of its two alleles is seen in at least this
        many replicates (Taberlet et al. 1996: 2).
    min_homozygote : int
        A homozygote is accepted after this many replicates showing only that allele
        (Taberlet et al. 1996: 3).
    keep_single : bool
        Keep sample-locus combinations typed only once as they are (``status="single"``);
        otherwise they become missing.

    Returns
    -------
    DataFrame
        ``sampleID, locus, allele1, allele2, n_replicates, status``; ``status`` is one of
        ``consensus`` (rules met), ``single`` (one replicate kept), ``unresolved`` (too few
        concordant replicates), ``conflict`` (three or more alleles seen repeatedly) or
        ``missing`` (never called). Alleles are missing unless ``status`` is consensus or single.

    References
    ----------
    Taberlet P, Griffin S, Goossens B, et al. (1996) Reliable genotyping of samples with very
    low DNA quantities using PCR. Nucleic Acids Research 24:3189-3194.
    """
    check_columns(genotypes)
    g = genotypes.copy()
    if "replicate" not in g.columns:
        g["replicate"] = 1
    called = g["allele1"].notna() & g["allele2"].notna()
    keys = ["sampleID", "locus"]
    n_rep = g.groupby(keys, sort=False).size().rename("n_replicates")
    n_called = g[called].groupby(keys, sort=False).size().rename("n_called")
    c = g[called].copy()
    c["a1"] = c["allele1"].astype("int64")
    c["a2"] = c["allele2"].astype("int64")
    long = pd.concat([c[keys + ["replicate", "a1"]].rename(columns={"a1": "allele"}),
                      c[keys + ["replicate", "a2"]].rename(columns={"a2": "allele"})])
    long = long.drop_duplicates()  # an allele counts once per replicate
    seen = long.groupby(keys + ["allele"], sort=True).size().rename("n").reset_index()
    homo = c[c["a1"] == c["a2"]].groupby(keys + ["a1"]).size().rename("n_hom").reset_index()
    out = n_rep.to_frame().join(n_called).reset_index()
    out["n_called"] = out["n_called"].fillna(0).astype(int)
    conf = seen[seen["n"] >= min_heterozygote]
    nconf = conf.groupby(keys).size().rename("n_confirmed")
    out = out.merge(nconf, on=keys, how="left")
    out["n_confirmed"] = out["n_confirmed"].fillna(0).astype(int)
    lo = conf.groupby(keys)["allele"].min().rename("lo")
    hi = conf.groupby(keys)["allele"].max().rename("hi")
    out = out.merge(lo, on=keys, how="left").merge(hi, on=keys, how="left")
    n_hom = homo.rename(columns={"a1": "lo"})
    out = out.merge(n_hom, on=keys + ["lo"], how="left")
    out["n_hom"] = out["n_hom"].fillna(0).astype(int)
    n_alleles_seen = seen.groupby(keys).size().rename("n_seen")
    out = out.merge(n_alleles_seen, on=keys, how="left")
    out["n_seen"] = out["n_seen"].fillna(0).astype(int)
    # the single call, for single-replicate combinations
    first = c.drop_duplicates(keys)[keys + ["a1", "a2"]]
    out = out.merge(first, on=keys, how="left")

    status = np.full(len(out), "unresolved", dtype=object)
    a1 = np.full(len(out), np.nan)
    a2 = np.full(len(out), np.nan)
    never = out["n_called"].to_numpy() == 0
    single = (out["n_called"].to_numpy() == 1) & (out["n_replicates"].to_numpy() == 1)
    het = out["n_confirmed"].to_numpy() == 2
    hom = (out["n_confirmed"].to_numpy() == 1) & (out["n_hom"].to_numpy() >= min_homozygote) & (
        out["n_seen"].to_numpy() == 1)
    conflict = out["n_confirmed"].to_numpy() >= 3
    status[het | hom] = "consensus"
    a1[het | hom] = out["lo"].to_numpy()[het | hom]
    a2[het] = out["hi"].to_numpy()[het]
    a2[hom] = out["lo"].to_numpy()[hom]
    status[conflict] = "conflict"
    if keep_single:
        status[single] = "single"
        a1[single] = out["a1"].to_numpy()[single]
        a2[single] = out["a2"].to_numpy()[single]
    status[never] = "missing"
    result = pd.DataFrame({
        "sampleID": out["sampleID"].to_numpy(),
        "locus": out["locus"].to_numpy(),
        "allele1": pd.array(np.where(np.isnan(a1), None, a1), dtype="Int64"),
        "allele2": pd.array(np.where(np.isnan(a2), None, a2), dtype="Int64"),
        "n_replicates": out["n_replicates"].to_numpy(),
        "status": status,
    })
    return result


def typing_success(genotypes: pd.DataFrame, /, *, loci=None) -> pd.DataFrame:
    """Share of the panel's loci typed per sample.

    Parameters
    ----------
    genotypes : DataFrame
        ``sampleID, locus, allele1, allele2`` (after consensus, or single replicates).
    loci : sequence of str, optional
        The panel (default: every locus in ``genotypes``).

    Returns
    -------
    DataFrame
        ``sampleID, n_loci, n_typed, typing_success`` (0-1).
    """
    check_columns(genotypes)
    panel = list(pd.unique(genotypes["locus"])) if loci is None else list(loci)
    typed = _typed(genotypes)
    typed = typed[typed["locus"].isin(panel)].drop_duplicates(["sampleID", "locus"])
    n = typed.groupby("sampleID").size()
    samples = pd.unique(genotypes["sampleID"])
    out = pd.DataFrame({"sampleID": samples})
    out["n_loci"] = len(panel)
    out["n_typed"] = n.reindex(samples).fillna(0).astype(int).to_numpy()
    out["typing_success"] = out["n_typed"] / max(len(panel), 1)
    return out


def _hwe_exact_mc(a1: np.ndarray, a2: np.ndarray, rng: np.random.Generator, n_perm: int):
    """Monte Carlo exact HWE test: permute alleles among individuals (Guo & Thompson 1992)."""
    from scipy.special import gammaln

    alleles = np.concatenate([a1, a2])
    _, codes = np.unique(alleles, return_inverse=True)
    n = len(a1)
    k = codes.max() + 1

    def logp(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        lo = np.minimum(x, y)
        hi = np.maximum(x, y)
        gid = lo * k + hi
        # genotype counts per row
        cnt = np.zeros((gid.shape[0], k * k))
        np.add.at(cnt, (np.repeat(np.arange(gid.shape[0]), gid.shape[1]), gid.ravel()), 1)
        het = (lo != hi).sum(axis=1)
        return het * np.log(2.0) - gammaln(cnt + 1).sum(axis=1)

    obs = logp(codes[None, :n], codes[None, n:])[0]
    perm = rng.permuted(np.tile(codes, (n_perm, 1)), axis=1)
    sim = logp(perm[:, :n], perm[:, n:])
    return float((np.sum(sim <= obs + 1e-9) + 1) / (n_perm + 1))


def locus_summary(
    genotypes: pd.DataFrame,
    /,
    *,
    n_permutations: int = 2000,
    null_allele_threshold: float = 0.1,
    alpha: float = 0.05,
    rng: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Per-locus allele counts, heterozygosity, Hardy-Weinberg test and a null-allele hint.

    Parameters
    ----------
    genotypes : DataFrame
        One genotype per sample and locus.
    n_permutations : int
        Allele permutations for the Monte Carlo exact Hardy-Weinberg test.
    null_allele_threshold : float
        Brookfield's null-allele frequency above which (with a significant heterozygote
        deficit) ``null_allele_hint`` is set.
    alpha : float
        Significance level of the HWE test used by the hint.
    rng : int or Generator, optional
        Seed of the permutations.

    Returns
    -------
    DataFrame
        ``locus, n_typed, n_alleles, Ho, He, He_uncorrected, Fis, hwe_p, null_allele_freq,
        null_allele_hint``. ``He`` is Nei's unbiased expected heterozygosity
        ``2n/(2n-1) (1 - sum p^2)``; ``He_uncorrected`` is ``1 - sum p^2``.

    Notes
    -----
    The exact test conditions on allele counts and ranks genotype tables by their probability
    under HWE (Guo & Thompson 1992); the null-allele frequency is Brookfield's (1996)
    estimator ``(He - Ho) / (1 + He)``.
    """
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    g = _one_per_sample(genotypes)
    rows = []
    for locus in pd.unique(genotypes["locus"]):
        sub = g[g["locus"] == locus]
        a1 = sub["allele1"].to_numpy()
        a2 = sub["allele2"].to_numpy()
        n = len(sub)
        if n == 0:
            rows.append(dict(locus=locus, n_typed=0, n_alleles=0))
            continue
        _, cnt = np.unique(np.concatenate([a1, a2]), return_counts=True)
        p = cnt / cnt.sum()
        he_u = 1 - np.sum(p**2)
        he = he_u * 2 * n / (2 * n - 1) if n > 1 else np.nan
        ho = float(np.mean(a1 != a2))
        fis = 1 - ho / he if he and he > 0 else np.nan
        hwe = _hwe_exact_mc(a1, a2, gen, n_permutations) if len(p) > 1 else np.nan
        r = (he_u - ho) / (1 + he_u)
        rows.append(dict(locus=locus, n_typed=n, n_alleles=len(p), Ho=ho, He=he,
                         He_uncorrected=he_u, Fis=fis, hwe_p=hwe, null_allele_freq=r,
                         null_allele_hint=bool(r > null_allele_threshold
                                               and (hwe if hwe == hwe else 1) < alpha)))
    return pd.DataFrame(rows, columns=["locus", "n_typed", "n_alleles", "Ho", "He",
                                       "He_uncorrected", "Fis", "hwe_p", "null_allele_freq",
                                       "null_allele_hint"])
