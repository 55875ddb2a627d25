"""Array form of genotypes and the chunked all-pairs mismatch kernel."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from amurlink.exceptions import SchemaError

__all__: list[str] = []

_REQUIRED = ("sampleID", "locus", "allele1", "allele2")


@dataclass(frozen=True)
class GenotypeArray:
    """Genotypes as an array: ``alleles[i, l] = (small, large)`` sizes, -1 where not typed."""

    samples: np.ndarray  # (n,) object: sample IDs
    loci: np.ndarray  # (L,) object: locus names
    alleles: np.ndarray  # (n, L, 2) int64

    @property
    def typed(self) -> np.ndarray:
        return self.alleles[:, :, 0] >= 0

    def __len__(self) -> int:
        return len(self.samples)


def check_columns(df: pd.DataFrame, required=_REQUIRED, *, table: str = "genotypes") -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise SchemaError(
            f"`{table}` lacks column(s) {missing}; got {list(df.columns)}. "
            "Read files with read_genotypes() to get the declared columns."
        )


def to_array(genotypes: pd.DataFrame, *, loci=None) -> GenotypeArray:
    """One genotype per sample and locus (replicates must be resolved first)."""
    check_columns(genotypes)
    g = genotypes
    if "replicate" in g.columns and g.duplicated(["sampleID", "locus"]).any():
        raise SchemaError(
            "`genotypes` holds several PCR replicates for some sample and locus; build the "
            "consensus first with consensus_genotypes(genotypes)"
        )
    samples = pd.unique(g["sampleID"].astype(str))
    loci = np.asarray(pd.unique(g["locus"].astype(str)) if loci is None else list(loci), object)
    si = pd.Index(samples).get_indexer(g["sampleID"].astype(str))
    li = pd.Index(loci).get_indexer(g["locus"].astype(str))
    keep = li >= 0
    a1 = pd.to_numeric(g["allele1"], errors="coerce").to_numpy(dtype=float)
    a2 = pd.to_numeric(g["allele2"], errors="coerce").to_numpy(dtype=float)
    ok = keep & ~np.isnan(a1) & ~np.isnan(a2)
    arr = np.full((len(samples), len(loci), 2), -1, dtype=np.int64)
    lo = np.minimum(a1, a2)[ok].astype(np.int64)
    hi = np.maximum(a1, a2)[ok].astype(np.int64)
    arr[si[ok], li[ok], 0] = lo
    arr[si[ok], li[ok], 1] = hi
    return GenotypeArray(np.asarray(samples, object), loci, arr)


def stable_unit_hash(ids) -> np.ndarray:
    """A number in [0, 1) per ID, fixed by the ID's text (for order-free tie breaking)."""
    out = np.empty(len(ids))
    for k, x in enumerate(ids):
        h = hashlib.blake2b(str(x).encode(), digest_size=8).digest()
        out[k] = int.from_bytes(h, "little") / 2.0**64
    return out


def indicator_matrices(ga: GenotypeArray) -> tuple[np.ndarray, np.ndarray]:
    """``X`` (n, 2K) float32 with allele presence and homozygote columns; ``T`` typed (n, L).

    For two samples, ``X[i] @ X[j]`` is the number of alleles shared over the loci typed in
    both (multiset intersection, 0-2 per locus) and ``T[i] @ T[j]`` the loci typed in both.
    """
    n, L, _ = ga.alleles.shape
    typed = ga.typed
    cols = []
    for li in range(L):
        a = ga.alleles[:, li, :]
        vals = np.unique(a[typed[:, li]])
        if len(vals) == 0:
            continue
        idx0 = np.searchsorted(vals, a[:, 0])
        idx1 = np.searchsorted(vals, a[:, 1])
        pres = np.zeros((n, len(vals)), np.float32)
        homo = np.zeros((n, len(vals)), np.float32)
        rows = np.flatnonzero(typed[:, li])
        pres[rows, idx0[rows]] = 1
        pres[rows, idx1[rows]] = 1
        hom = rows[a[rows, 0] == a[rows, 1]]
        homo[hom, idx0[hom]] = 1
        cols.append(pres)
        cols.append(homo)
    X = np.hstack(cols) if cols else np.zeros((n, 0), np.float32)
    return X, typed.astype(np.float32)


def distance_block(X, T, L: int, rows: slice, cols: slice | None = None) -> np.ndarray:
    """Twice the allelematch mismatch distance, ``2 * (N_mismatch + N_missing / 2)``, as int.

    With ``B`` loci typed in both and ``S`` alleles shared, mismatching alleles are ``2B - S``
    and missing alleles ``2(L - B)``, so ``2 * distance = 2(2B - S) + 2(L - B) = 2(L + B - S)``.
    """
    cols = rows if cols is None else cols
    S = X[rows] @ X[cols].T
    B = T[rows] @ T[cols].T
    return np.rint(2.0 * (L + B - S)).astype(np.int32)


def threshold_edges(ga: GenotypeArray, max_d2: int, *, chunk_size: int = 2048):
    """All pairs i < j with ``2 * distance <= max_d2``, computed in row chunks.

    Memory stays at ``chunk_size * n`` numbers whatever ``n`` is.
    Returns (i, j, d2) int arrays.
    """
    X, T = indicator_matrices(ga)
    n, L = len(ga), len(ga.loci)
    ii, jj, dd = [], [], []
    for start in range(0, n, chunk_size):
        stop = min(n, start + chunk_size)
        D2 = distance_block(X, T, L, slice(start, stop), slice(start, n))
        r, c = np.nonzero(D2 <= max_d2)
        c = c + start
        r = r + start
        keep = c > r
        ii.append(r[keep])
        jj.append(c[keep])
        dd.append(D2[r[keep] - start, c[keep] - start])
    if not ii:
        e = np.zeros(0, np.int64)
        return e, e, e.astype(np.int32)
    return np.concatenate(ii), np.concatenate(jj), np.concatenate(dd)


def full_distance(ga: GenotypeArray) -> np.ndarray:
    """Dense ``(n, n)`` matrix of twice the mismatch distance (diagonal 0)."""
    X, T = indicator_matrices(ga)
    D2 = distance_block(X, T, len(ga.loci), slice(0, len(ga)))
    np.fill_diagonal(D2, 0)
    return D2


def locus_comparison(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-locus class for aligned genotype rows ``a`` and ``b`` of shape (..., L, 2).

    0 = identical, 1 = dropout-compatible (a homozygote for one allele of the other's
    heterozygote), 2 = hard (a third allele or no shared allele), 3 = missing in either.
    """
    missing = (a[..., 0] < 0) | (b[..., 0] < 0)
    same = (a[..., 0] == b[..., 0]) & (a[..., 1] == b[..., 1])
    a_hom = a[..., 0] == a[..., 1]
    b_hom = b[..., 0] == b[..., 1]
    a_in_b = (a[..., 0] == b[..., 0]) | (a[..., 0] == b[..., 1])
    b_in_a = (b[..., 0] == a[..., 0]) | (b[..., 0] == a[..., 1])
    dropout = (a_hom & ~b_hom & a_in_b) | (b_hom & ~a_hom & b_in_a)
    out = np.where(same, 0, np.where(dropout, 1, 2))
    return np.where(missing, 3, out)
