"""Simulated multi-sample genotype data for tests and benchmarks."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["simulate_genotype_samples"]


def simulate_genotype_samples(
    n_individuals: int,
    n_loci: int,
    *,
    samples_per_individual: tuple[int, int] = (1, 6),
    n_alleles: tuple[int, int] = (6, 14),
    dropout: float = 0.03,
    missing: float = 0.05,
    rng: int | np.random.Generator | None = None,
) -> tuple[pd.DataFrame, pd.Series]:
    """Simulate non-invasive samples of known individuals with dropout and missing loci.

    Parameters
    ----------
    n_individuals, n_loci : int
    samples_per_individual : (int, int)
        Inclusive range of samples drawn per individual (uniform).
    n_alleles : (int, int)
        Inclusive range of alleles per locus; frequencies are Dirichlet(1).
    dropout : float
        Chance that a heterozygous locus loses one allele in a sample.
    missing : float
        Chance that a locus is not typed in a sample.
    rng : int or Generator, optional

    Returns
    -------
    genotypes : DataFrame
        ``sampleID, locus, allele1, allele2, replicate``.
    truth : Series
        Individual of each sample, indexed by ``sampleID``.
    """
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    loci = [f"L{k + 1:02d}" for k in range(n_loci)]
    indiv = np.empty((n_individuals, n_loci, 2), np.int64)
    for li in range(n_loci):
        k = int(gen.integers(n_alleles[0], n_alleles[1] + 1))
        p = gen.dirichlet(np.ones(k))
        sizes = 100 + 40 * li + 2 * np.arange(k)
        indiv[:, li, :] = sizes[gen.choice(k, size=(n_individuals, 2), p=p)]
    indiv.sort(axis=2)
    reps = gen.integers(samples_per_individual[0], samples_per_individual[1] + 1, n_individuals)
    owner = np.repeat(np.arange(n_individuals), reps)
    a = indiv[owner].copy()
    het = a[:, :, 0] != a[:, :, 1]
    drop = het & (gen.random(het.shape) < dropout)
    keep_lo = gen.random(het.shape) < 0.5
    a[drop & keep_lo, 1] = a[drop & keep_lo, 0]
    a[drop & ~keep_lo, 0] = a[drop & ~keep_lo, 1]
    miss = gen.random(het.shape) < missing
    ids = np.array([f"S{k:06d}" for k in range(len(owner))], dtype=object)
    df = pd.DataFrame({
        "sampleID": np.repeat(ids, n_loci),
        "locus": np.tile(loci, len(owner)),
        "allele1": pd.array(np.where(miss, -1, a[:, :, 0]).ravel(), dtype="Int64"),
        "allele2": pd.array(np.where(miss, -1, a[:, :, 1]).ravel(), dtype="Int64"),
        "replicate": 1,
    })
    df.loc[df["allele1"] < 0, ["allele1", "allele2"]] = pd.NA
    truth = pd.Series([f"I{k:05d}" for k in owner], index=ids, name="individual")
    return df, truth
