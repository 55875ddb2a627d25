"""Statistical check of the SECR fit on the simulator's ``secr-exact`` mode.

Each replicate simulates a study (:func:`amurlink.simulate.simulate_study`, mode
``secr-exact``), builds the leopard capture history with
:func:`amurlink.simulate.secr_inputs` (Poisson count detectors, one occasion per day, usage
from the deployments) and fits the *generating* model:

* detection: hazard half-normal (HHN) with one ``lambda0`` and one ``sigma`` (the study's
  scenario gives both sexes the same values, and no dispersers);
* density: the simulator draws centres per raster cell with intensity
  ``habitat x exp(east_preference x xs)``, ``xs`` the cell's relative easting minus 1/2, on
  Chinese and Russian land. The mask is those raster cells (spacing = the raster cell) within
  ``buffer`` of a station with positive intensity, with covariates ``lhab = log(habitat)`` and
  ``xs``; the fitted model ``D ~ lhab + xs`` contains the truth (coefficients 1 and
  ``east_preference``).

The estimand is the mean density in the mask, ``D = E(N in mask) / area``, with its true
value from the scenario (expected animals = ``density x land / 100``, spread over cells in
proportion to the intensity). ``E.N`` and its interval come from ``SECRResults.region_N``.

Pass: relative bias of D within ``z_pass`` (2.6) Monte Carlo SEs of 0, and the coverage of
the 95% interval within ``z_pass`` MCSEs of 0.95.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from amurlink.exceptions import AmurlinkWarning
from amurlink.parallel import map_replicates, spawn_seeds

__all__ = ["study_scenario", "study_replicate", "run_study", "summarise_study", "STUDY_SPECIES"]

logger = logging.getLogger(__name__)

STUDY_SPECIES = "Panthera pardus"


def study_scenario(scale: str = "neaspec", **changes: Any):
    """The scenario of the check: ``scale`` preset in ``secr-exact`` mode, leopards only,
    one sigma and lambda0 for both sexes (3 km, 0.5), no dispersers, no photos, few DNA
    samples (not used)."""
    from amurlink.simulate import get_scenario
    from amurlink.simulate._scenario import LEOPARD

    base = get_scenario(scale)
    leo = base.species[LEOPARD]
    leo = dataclasses.replace(leo, sigma_m=(3000.0, 3000.0), lambda0=(0.5, 0.5),
                              n_dispersers=0)
    sc = get_scenario(scale, mode="secr-exact", images="none", max_images=0,
                      dna_samples=(2, 2), **changes)
    return dataclasses.replace(sc, species=MappingProxyType({LEOPARD: leo}))


def _raster_mask(study: Any, stations: np.ndarray, buffer_m: float):
    """Raster cells with positive intensity within ``buffer_m`` (box buffer, as secr's
    ``trapbuffer``: distance to the nearest station) of a station; covariates and truth."""
    from scipy.spatial import cKDTree

    from amurlink.analysis.secr import Mask
    from amurlink.simulate._population import _intensity

    land = study.landscape
    sc = study.scenario
    p = sc.species[STUDY_SPECIES]
    w = _intensity(land, p.east_preference)
    gx, gy = np.meshgrid(land.x, land.y)
    ok = w > 0
    xy = np.column_stack([gx[ok], gy[ok]])
    d, _ = cKDTree(stations).query(xy)
    keep = d <= buffer_m
    xy = xy[keep]
    hab = land.habitat[ok][keep]
    x0, _, x1, _ = land.extent
    xs = (xy[:, 0] - x0) / (x1 - x0) - 0.5
    cov = pd.DataFrame({"lhab": np.log(hab), "xs": xs})
    land_km2 = land.land_area_km2("CN") + land.land_area_km2("RU")
    expected_total = p.density * land_km2 / 100.0
    expected_in_mask = expected_total * float(w[ok][keep].sum() / w.sum())
    mask = Mask.from_points(xy, spacing=land.cell_m, covariates=cov, crs=str(land.crs))
    return mask, expected_in_mask


def study_replicate(rng: np.random.Generator, *, scale: str = "neaspec",
                    buffer_sigmas: float = 4.0, detectfn: str = "HHN") -> dict[str, Any]:
    """One replicate: simulate, fit ``D ~ lhab + xs`` (HHN), return estimates and truth."""
    from amurlink.analysis.secr import fit_secr
    from amurlink.simulate import secr_inputs, simulate_study

    seed = int(rng.integers(2**31 - 1))
    t0 = time.perf_counter()
    sc = study_scenario(scale)
    study = simulate_study(sc, seed=seed)
    ch, _ = secr_inputs(study, STUDY_SPECIES)
    p = sc.species[STUDY_SPECIES]
    sigma = p.sigma_m[0]
    mask, en_true = _raster_mask(study, ch.traps, buffer_sigmas * sigma)
    a = study.animals
    ind = (a["scientificName"] == STUDY_SPECIES) & (a["lifeStage"] != "juvenile")
    cx, cy = a.loc[ind, "x"].to_numpy(float), a.loc[ind, "y"].to_numpy(float)
    half = mask.spacing / 2
    inside = np.zeros(cx.size, dtype=bool)
    if cx.size:
        from scipy.spatial import cKDTree

        dd, _ = cKDTree(mask.xy).query(np.column_stack([cx, cy]), p=np.inf)
        inside = dd <= half
    lam_true = p.lambda0[0] * p.sigma_day_m**2 / sigma**2
    out: dict[str, Any] = {"seed": seed, "n": int(ch.counts.shape[0]),
                           "detections": int(ch.counts.sum()), "mask_points": mask.n_points,
                           "area_ha": float(mask.area_ha), "EN_true": en_true,
                           "RN_true": int(inside.sum()), "D_true": en_true / mask.area_ha,
                           "lambda0_true": lam_true, "sigma_true": sigma}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AmurlinkWarning)
        try:
            res = fit_secr(ch, mask, detectfn=detectfn, model={"D": "~lhab + xs"})
        except Exception as exc:  # a failed fit is a result of the study, not a crash
            out.update(ok=False, error=f"{type(exc).__name__}: {exc}",
                       seconds=time.perf_counter() - t0)
            return out
    out["warnings"] = "; ".join(f"{type(w.message).__name__}: {w.message}" for w in caught)
    rn = res.region_N()
    pred = res.predict()
    out.update(ok=True, code=int(res.code) if res.code is not None else -1,
               loglik=float(res.loglik))
    for kind, tag in (("E.N", "EN"), ("R.N", "RN")):
        for col in ("estimate", "se", "lcl", "ucl"):
            out[f"{tag}_{col}"] = float(rn.loc[kind, col])
    for name in ("lambda0", "sigma"):
        for col in ("estimate", "se", "lcl", "ucl"):
            out[f"{name}_{col}"] = float(pred.loc[name, col])
    for k, v in res.params.items():
        out[f"beta_{k}"] = float(v)
    out["seconds"] = time.perf_counter() - t0
    return out


def _load(path: Path) -> dict[int, dict]:
    done: dict[int, dict] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:  # a line cut short by an interruption
                    continue
                done[int(rec["replicate"])] = rec
    return done


def run_study(
    n_replicates: int = 200,
    *,
    seed: int = 20260601,
    scale: str = "neaspec",
    checkpoint: str | Path | None = None,
    chunk: int = 4,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Run (or resume) the study; one row per replicate.

    Replicate ``i`` uses child ``i`` of ``SeedSequence(seed)`` (``parallel.spawn_seeds``), so
    results do not depend on chunking or on interruptions. With ``checkpoint`` (a JSON-lines
    file) every finished chunk is appended and replicates already there are skipped.
    Replicates run through :func:`amurlink.parallel.map_replicates` (dask when available).
    """
    seeds = spawn_seeds(seed, n_replicates)
    path = Path(checkpoint) if checkpoint is not None else None
    done = _load(path) if path is not None else {}
    todo = [i for i in range(n_replicates) if i not in done]
    results = dict(done)
    for start in range(0, len(todo), max(1, chunk)):
        idx = todo[start:start + max(1, chunk)]
        recs = map_replicates(study_replicate, [seeds[i] for i in idx], scheduler=scheduler,
                              scale=scale)
        for i, r in zip(idx, recs, strict=True):
            r = {"replicate": i, "scale": scale, "study_seed": seed, **r}
            results[i] = r
            if path is not None:
                with path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(r, default=float) + "\n")
        if progress is not None:
            progress(len(results), n_replicates)
    return pd.DataFrame([results[i] for i in sorted(results) if i < n_replicates])


def summarise_study(df: pd.DataFrame, *, z_pass: float = 2.6, level: float = 0.95
                    ) -> dict[str, Any]:
    """Relative bias and coverage with Monte Carlo SEs, and the pass/fail verdict.

    ``D = E.N / area`` against ``D_true``; coverage: ``EN_lcl <= EN_true <= EN_ucl``. Also the
    realised N (``R.N`` against the animals whose centre is in the mask) and lambda0, sigma.
    """
    ok = df[df["ok"].astype(bool)] if "ok" in df else df
    R = len(ok)
    out: dict[str, Any] = {"replicates": int(len(df)), "fitted": int(R),
                           "failed": int(len(df) - R)}
    if R < 2:
        out["pass"] = False
        return out

    def bias(est, true):
        rel = est / true - 1.0
        m, s = float(rel.mean()), float(rel.std(ddof=1))
        return m, s / np.sqrt(R)

    def cover(lcl, ucl, true):
        c = float(((lcl <= true) & (true <= ucl)).mean())
        return c, float(np.sqrt(level * (1 - level) / R))

    D_hat = ok["EN_estimate"] / ok["area_ha"]
    rb, rb_se = bias(D_hat, ok["D_true"])
    cv, cv_se = cover(ok["EN_lcl"], ok["EN_ucl"], ok["EN_true"])
    out["D"] = {"relative_bias": rb, "mcse": rb_se, "z": rb / rb_se if rb_se > 0 else np.nan,
                "coverage": cv, "coverage_mcse": cv_se,
                "coverage_z": (cv - level) / cv_se,
                "mean_D_true": float(ok["D_true"].mean()),
                "mean_D_hat": float(D_hat.mean()),
                "cv": float((ok["EN_se"] / ok["EN_estimate"]).mean())}
    rrb, rrb_se = bias(ok["RN_estimate"], ok["RN_true"].clip(lower=1))
    rcv, rcv_se = cover(ok["RN_lcl"], ok["RN_ucl"], ok["RN_true"])
    out["RN"] = {"relative_bias": rrb, "mcse": rrb_se, "coverage": rcv,
                 "coverage_mcse": rcv_se}
    for name in ("lambda0", "sigma"):
        b, bse = bias(ok[f"{name}_estimate"], ok[f"{name}_true"])
        c, cse = cover(ok[f"{name}_lcl"], ok[f"{name}_ucl"], ok[f"{name}_true"])
        out[name] = {"relative_bias": b, "mcse": bse, "coverage": c, "coverage_mcse": cse}
    out["mean_n"] = float(ok["n"].mean())
    out["mean_seconds"] = float(ok["seconds"].mean())
    out["pass_bias"] = bool(abs(rb) <= z_pass * rb_se)
    out["pass_coverage"] = bool(abs(cv - level) <= z_pass * cv_se)
    out["pass"] = bool(out["pass_bias"] and out["pass_coverage"] and out["failed"] == 0)
    out["z_pass"] = z_pass
    return out


def study_markdown(summary: dict[str, Any], df: pd.DataFrame, *, n_planned: int = 200,
                   scale: str = "neaspec", seed: int = 20260601, note: str = "") -> str:
    """The results section of ``docs/secr-simulation-study.md`` (a markdown table)."""
    lines = [f"## Results ({summary.get('fitted', 0)} of {n_planned} replicates fitted, "
             f"scale `{scale}`, study seed {seed})", ""]
    if note:
        lines += [note, ""]
    if "D" not in summary:
        lines.append("Too few replicates to summarise.")
        return "\n".join(lines) + "\n"
    d = summary["D"]
    verdict = "PASS" if summary.get("pass") else "FAIL"
    if summary.get("fitted", 0) < n_planned:
        verdict = ("incomplete; at this point "
                   + ("within" if summary["pass_bias"] and summary["pass_coverage"]
                      else "outside") + " the criteria")
    lines += [
        "| quantity | relative bias | MCSE | bias / MCSE | 95% coverage | MCSE | "
        "(coverage - 0.95) / MCSE |",
        "|---|---|---|---|---|---|---|",
        f"| D (= E.N / mask area) | {d['relative_bias']:+.4f} | {d['mcse']:.4f} | "
        f"{d['z']:+.2f} | {d['coverage']:.3f} | {d['coverage_mcse']:.4f} | "
        f"{d['coverage_z']:+.2f} |",
    ]
    for key, label in (("RN", "R.N (realised N in mask)"), ("lambda0", "lambda0"),
                       ("sigma", "sigma")):
        q = summary[key]
        lines.append(f"| {label} | {q['relative_bias']:+.4f} | {q['mcse']:.4f} | "
                     f"{q['relative_bias'] / q['mcse']:+.2f} | {q['coverage']:.3f} | "
                     f"{q['coverage_mcse']:.4f} | "
                     f"{(q['coverage'] - 0.95) / q['coverage_mcse']:+.2f} |")
    lines += [
        "",
        f"Verdict: **{verdict}** (criteria: |bias / MCSE| <= {summary.get('z_pass', 2.6)} "
        "and |(coverage - 0.95) / MCSE| <= "
        f"{summary.get('z_pass', 2.6)} for D; failed fits: {summary['failed']}).",
        "",
        f"Mean animals detected {summary['mean_n']:.1f}; mean true D "
        f"{d['mean_D_true'] * 1e4:.3f} per 100 km² (mean estimate "
        f"{d['mean_D_hat'] * 1e4:.3f}); mean CV of E.N {d['cv']:.3f}; mean time per "
        f"replicate {summary['mean_seconds']:.1f} s (simulation and fit, shared 2-core "
        "machine).",
    ]
    return "\n".join(lines) + "\n"
