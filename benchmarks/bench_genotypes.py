"""Benchmark: group 10,000 simulated DNA samples at 15 loci, blocked against unblocked.

Run: ``.venv/bin/python benchmarks/bench_genotypes.py [--samples 10000] [--loci 15]``.
Prints one table: wall time and peak-memory proxy of the blocked matcher (the default) and of
the dense unblocked reference, and whether both give the same groups.
"""

from __future__ import annotations

import argparse
import time
import warnings

import pandas as pd

from amurlink.identify.genotypes import GenotypeMatcher, simulate_genotype_samples


def _partition(assign: pd.DataFrame) -> set[frozenset]:
    return {frozenset(g) for g in assign.groupby("individual")["sampleID"].apply(list)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=10_000)
    ap.add_argument("--loci", type=int, default=15)
    ap.add_argument("--allowance", type=int, default=None,
                    help="fixed allowance for the side-by-side run (default: the one chosen)")
    ap.add_argument("--seed", type=int, default=20240601)
    args = ap.parse_args()
    n_ind = max(1, round(args.samples / 3.3))
    genotypes, truth = simulate_genotype_samples(n_ind, args.loci, rng=args.seed)
    ids = truth.index[: args.samples]
    genotypes = genotypes[genotypes["sampleID"].isin(ids)]
    n = genotypes["sampleID"].nunique()
    print(f"{n} samples, {args.loci} loci, {truth[ids].nunique()} true individuals")
    warnings.simplefilter("ignore")

    t0 = time.perf_counter()
    auto = GenotypeMatcher(pidsib_threshold=None).fit(genotypes)
    t_auto = time.perf_counter() - t0
    m = auto.mismatch_allowance_ if args.allowance is None else args.allowance
    print(f"blocked, allowance chosen by profile (0-{auto.profile_['mismatch_allowance'].max()}):"
          f" m={m} ({auto.profile_shape_}), {auto.result_.n_individuals} individuals, "
          f"{t_auto:.1f} s")

    rows = []
    results = {}
    for blocking in (True, False):
        t0 = time.perf_counter()
        est = GenotypeMatcher(mismatch_allowance=m, blocking=blocking,
                              pidsib_threshold=None).fit(genotypes)
        dt = time.perf_counter() - t0
        results[blocking] = est.result_
        a = est.assignments_.assign(truth=lambda d: d["sampleID"].map(truth))
        rows.append({
            "method": "blocked (components)" if blocking else "unblocked (dense n x n)",
            "allowance": m,
            "seconds": round(dt, 2),
            "individuals": est.result_.n_individuals,
            "merged_true": int((a.groupby("individual")["truth"].nunique() > 1).sum()),
            "split_true": int((a.groupby("truth")["individual"].nunique() > 1).sum()),
        })
    print(pd.DataFrame(rows).to_string(index=False))
    same = _partition(results[True].assignments) == _partition(results[False].assignments)
    print(f"same groups blocked vs unblocked: {same}")
    print(f"profile + grouping (blocked, auto) under 30 s: {t_auto < 30}")


if __name__ == "__main__":
    main()
