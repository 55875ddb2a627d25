"""Allele-size harmonisation between labs from reference samples typed by both."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from amurlink.exceptions import SchemaError
from amurlink.identify.genotypes._core import check_columns
from amurlink.schema import TABLES

__all__ = ["LabCalibration", "apply_lab_offsets", "estimate_lab_offsets"]

LOCI_COLUMNS: tuple[str, ...] = TABLES["loci"].field_names


@dataclass(frozen=True)
class LabCalibration:
    """Result of :func:`estimate_lab_offsets`.

    Attributes
    ----------
    loci : DataFrame
        The ``loci`` table (``lab, locus, offset, repeatUnit, binMap, sexMarker``): add
        ``offset`` (bp) to a lab's sizes, or look them up in ``binMap`` (JSON), to get the
        joint scale, which is the base lab's.
    fit : DataFrame
        Per lab and locus: ``lab, locus, n_pairs, n_alleles, offset, max_abs_residual,
        share_within_tolerance, consistent``.
    unmapped : DataFrame
        Alleles of a lab that cannot be placed on the joint scale: ``lab, locus, allele,
        shifted, reason``.
    base_lab : str
    """

    loci: pd.DataFrame
    fit: pd.DataFrame
    unmapped: pd.DataFrame
    base_lab: str


def _sample_lab(samples: pd.DataFrame) -> pd.Series:
    check_columns(samples, ("sampleID", "lab"), table="samples")
    return samples.drop_duplicates("sampleID").set_index("sampleID")["lab"].astype(str)


def estimate_lab_offsets(
    genotypes: pd.DataFrame,
    samples: pd.DataFrame,
    reference: pd.DataFrame,
    /,
    *,
    base_lab: str | None = None,
    tolerance: float = 0.5,
) -> LabCalibration:
    """Estimate per-locus allele-size offsets and bin maps between labs.

    Parameters
    ----------
    genotypes : DataFrame
        One genotype per sample and locus, in each lab's own sizes.
    samples : DataFrame
        ``sampleID, lab``.
    reference : DataFrame
        ``referenceID, sampleID``: sample IDs (one per lab) that hold the same reference DNA.
    base_lab : str, optional
        Lab whose sizes are the joint scale (default: the lab with most samples).
    tolerance : float
        Largest residual (bp) of a size after the offset that still counts as the same allele.

    Returns
    -------
    LabCalibration
        The ``loci`` table, the fit report and the alleles that cannot be mapped.

    Raises
    ------
    SchemaError
        If columns are missing or a reference sample has no lab.

    Notes
    -----
    For each lab, locus and reference DNA typed in both labs with the same zygosity, the
    sorted sizes are paired and their differences taken; the offset is their median (robust
    to a miscalled pair) and the bin map records each observed size pair. Alleles of the lab
    that neither the bin map nor the offset places within ``tolerance`` of an allele seen in
    the base lab are reported as unmapped (new alleles, or a size shift that is not constant).
    """
    check_columns(reference, ("referenceID", "sampleID"), table="reference")
    lab_of = _sample_lab(samples)
    ref = reference.assign(lab=reference["sampleID"].map(lab_of))
    if ref["lab"].isna().any():
        bad = ref.loc[ref["lab"].isna(), "sampleID"].tolist()[:5]
        raise SchemaError(f"reference samples {bad} are not in `samples`; add them with their lab")
    base = base_lab or lab_of.value_counts().idxmax()
    g = genotypes[genotypes["allele1"].notna() & genotypes["allele2"].notna()]
    g = g.assign(lab=g["sampleID"].map(lab_of), lo=np.minimum(g["allele1"], g["allele2"]),
                 hi=np.maximum(g["allele1"], g["allele2"]))
    rg = ref.merge(g[["sampleID", "locus", "lo", "hi"]], on="sampleID")
    b = rg[rg["lab"] == base]
    t = rg[rg["lab"] != base]
    pairs = t.merge(b, on=["referenceID", "locus"], suffixes=("", "_base"))
    pairs = pairs[(pairs["lo"] == pairs["hi"]) == (pairs["lo_base"] == pairs["hi_base"])]
    base_alleles = pd.concat([g.loc[g["lab"] == base, ["locus", "lo"]].rename(columns={"lo": "a"}),
                              g.loc[g["lab"] == base, ["locus", "hi"]].rename(columns={"hi": "a"})])
    base_set = base_alleles.groupby("locus")["a"].apply(lambda s: np.unique(s.to_numpy(float)))
    loci_rows, fit_rows, unmapped = [], [], []
    labs = sorted(set(lab_of) - {base})
    all_loci = list(pd.unique(g["locus"]))
    for locus in all_loci:
        loci_rows.append(dict(lab=base, locus=locus, offset=0.0, repeatUnit=None, binMap=None,
                              sexMarker=False))
    for lab in labs:
        for locus in all_loci:
            p = pairs[(pairs["lab"] == lab) & (pairs["locus"] == locus)]
            tsz = np.concatenate([p["lo"].to_numpy(float), p["hi"].to_numpy(float)])
            bsz = np.concatenate([p["lo_base"].to_numpy(float), p["hi_base"].to_numpy(float)])
            if len(tsz) == 0:
                fit_rows.append(dict(lab=lab, locus=locus, n_pairs=0, n_alleles=0, offset=np.nan,
                                     max_abs_residual=np.nan, share_within_tolerance=np.nan,
                                     consistent=False))
                loci_rows.append(dict(lab=lab, locus=locus, offset=None, repeatUnit=None,
                                      binMap=None, sexMarker=False))
                off = np.nan
                bins: dict[int, int] = {}
            else:
                off = float(np.median(bsz - tsz))
                res = tsz + off - bsz
                within = np.abs(res) <= tolerance
                fit_rows.append(dict(lab=lab, locus=locus, n_pairs=len(p), n_alleles=len(tsz),
                                     offset=off, max_abs_residual=float(np.abs(res).max()),
                                     share_within_tolerance=float(within.mean()),
                                     consistent=bool(within.all())))
                pairs_sz = pd.DataFrame({"t": tsz.astype(int), "b": bsz.astype(int)})
                bins = {int(k): int(v.mode().iloc[0]) for k, v in pairs_sz.groupby("t")["b"]}
                loci_rows.append(dict(lab=lab, locus=locus, offset=off, repeatUnit=None,
                                      binMap=json.dumps({str(k): v for k, v in bins.items()}),
                                      sexMarker=False))
            lab_alleles = np.unique(np.concatenate([
                g.loc[(g["lab"] == lab) & (g["locus"] == locus), "lo"].to_numpy(float),
                g.loc[(g["lab"] == lab) & (g["locus"] == locus), "hi"].to_numpy(float)]))
            known = base_set.get(locus, np.array([]))
            for a in lab_alleles:
                if int(a) in bins:
                    continue
                if np.isnan(off):
                    unmapped.append(dict(lab=lab, locus=locus, allele=int(a), shifted=np.nan,
                                         reason="no reference sample typed in both labs"))
                    continue
                s = a + off
                if len(known) == 0 or np.min(np.abs(known - s)) > tolerance:
                    unmapped.append(dict(lab=lab, locus=locus, allele=int(a), shifted=s,
                                         reason=f"no {base} allele within {tolerance} bp"))
    loci = pd.DataFrame(loci_rows, columns=list(LOCI_COLUMNS))
    fit = pd.DataFrame(fit_rows, columns=["lab", "locus", "n_pairs", "n_alleles", "offset",
                                          "max_abs_residual", "share_within_tolerance",
                                          "consistent"])
    un = pd.DataFrame(unmapped, columns=["lab", "locus", "allele", "shifted", "reason"])
    return LabCalibration(loci, fit, un, base)


def apply_lab_offsets(genotypes: pd.DataFrame, samples: pd.DataFrame, loci: pd.DataFrame,
                      /) -> pd.DataFrame:
    """Put every lab's allele sizes on the joint scale.

    Parameters
    ----------
    genotypes : DataFrame
        ``sampleID, locus, allele1, allele2[, replicate]`` in each lab's sizes.
    samples : DataFrame
        ``sampleID, lab``.
    loci : DataFrame
        The ``loci`` table (``lab, locus, offset, binMap``), e.g. from
        :func:`estimate_lab_offsets`. A size found in ``binMap`` takes its mapped value; other
        sizes get ``round(size + offset)``. Labs or loci absent from the table are unchanged.

    Returns
    -------
    DataFrame
        A copy of ``genotypes`` with harmonised ``allele1 <= allele2``.
    """
    check_columns(genotypes)
    check_columns(loci, ("lab", "locus", "offset", "binMap"), table="loci")
    lab_of = _sample_lab(samples)
    out = genotypes.copy()
    labs = out["sampleID"].map(lab_of)
    table = {(r.lab, r.locus): r for r in loci.itertuples(index=False)}
    new = {c: out[c].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
           for c in ("allele1", "allele2")}
    for (lab, locus), r in table.items():
        m = ((labs == lab) & (out["locus"] == locus)).to_numpy()
        if not m.any():
            continue
        bins = {int(k): v for k, v in json.loads(r.binMap).items()} if isinstance(
            r.binMap, str) and r.binMap else {}
        off = float(r.offset) if r.offset is not None and r.offset == r.offset else 0.0
        for c in ("allele1", "allele2"):
            v = new[c][m]
            mapped = np.array([bins.get(int(x), np.rint(x + off)) if x == x else np.nan
                               for x in v])
            new[c][m] = mapped
    lo = np.fmin(new["allele1"], new["allele2"])
    hi = np.fmax(new["allele1"], new["allele2"])
    both = ~np.isnan(new["allele1"]) & ~np.isnan(new["allele2"])
    out["allele1"] = pd.array(np.where(both, lo, np.nan), dtype="Float64").astype("Int64")
    out["allele2"] = pd.array(np.where(both, hi, np.nan), dtype="Float64").astype("Int64")
    return out
