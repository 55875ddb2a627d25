"""Simulation check of two more SECR models: a density covariate and camera + DNA in one model.

Each replicate draws a population and its detections *exactly* from an SECR model on the
``neaspec`` design (its 450 camera stations and their usage), then fits:

* **covariate model** ``D ~ x`` (easting in metres, the raw-unit covariate whose SEs issue
  #20 found wrong) to the camera data alone: Poisson ``count`` detectors, HHN,
  ``lambda0 ~ 1``, ``sigma ~ 1``;
* **camera + DNA model** ``D ~ x``, ``lambda0 ~ dettype``, ``sigma ~ 1`` to the same camera
  data plus DNA search occasions: the searched area as a square grid of ``proximity``
  detectors (each DNA sample at its nearest grid point), ``dna_occasions`` search occasions,
  one shared density surface and movement scale, a separate ``lambda0`` per detector type.

Generating model (contained in both fitted models): the mask is a ``trapbuffer`` mask around
the stations (``buffer`` 4 sigma, spacing ``mask_spacing``, default sigma = 3 km: coarse,
but exact here, since the centres are drawn on the same mask points); the number of animals is
Poisson with mean ``sum_m D(m) a``, ``D(m) = D0 exp(b_x (x_m - mean x))``; centres are drawn
on mask points with probability proportional to ``D(m)``. Camera counts are Poisson with
hazard ``lambda0_cam u_k exp(-d^2 / 2 sigma^2)`` (``u_k`` the station's summed daily usage:
the daily Poisson counts summed over the survey, which leaves the likelihood of D,
lambda0 and sigma unchanged), DNA detections Bernoulli with probability
``1 - exp(-lambda0_dna exp(-d^2 / 2 sigma^2))`` per grid detector and search occasion.

Estimand: ``E.N`` in the mask (``SECRResults.region_N``), true value ``sum_m D(m) a``.
Criteria as :mod:`amurlink.analysis.secr.study`: relative bias and 95 % interval coverage of
D within ``z_pass`` (2.6) Monte Carlo SEs of 0 and 0.95. Also: mean RSE(D) of the camera
fit and of the camera + DNA fit (the same replicates).
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from amurlink.exceptions import AmurlinkWarning
from amurlink.parallel import map_replicates, spawn_seeds

__all__ = ["MODELS_STUDY_SEED", "ModelsDesign", "models_design", "models_replicate",
           "run_models_study", "summarise_models_study", "models_study_markdown"]

MODELS_STUDY_SEED = 20261207


class ModelsDesign(dict):
    """Design of the check (a plain dict, so that it pickles to dask workers)."""


@lru_cache(maxsize=4)
def _neaspec_stations(scale: str, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    from amurlink.analysis.secr.study import STUDY_SPECIES, study_scenario
    from amurlink.simulate import secr_inputs, simulate_study

    study = simulate_study(study_scenario(scale), seed=seed)
    ch, _ = secr_inputs(study, STUDY_SPECIES)
    return ch.traps.copy(), ch.usage_or_ones.sum(axis=1), str(study.landscape.crs)


def models_design(
    scale: str = "neaspec",
    *,
    design_seed: int = 20260601,
    sigma: float = 3000.0,
    lambda0_cam_day: float = 0.0272,
    lambda0_dna: float = 0.1,
    density_per_100km2: float = 1.1,
    b_x_per_100km: float = -0.8,
    mask_spacing: float = 3000.0,
    buffer_sigmas: float = 4.0,
    dna_spacing: float = 3000.0,
    dna_occasions: int = 4,
    dna_block: float = 0.5,
) -> ModelsDesign:
    """Detectors, mask and true parameters of the check.

    Cameras: the stations of one ``scale`` study (``secr-exact`` scenario of
    :func:`amurlink.analysis.secr.study.study_scenario`, seed ``design_seed``) with their
    summed daily usage; the simulated camera hazard per station and survey is
    ``lambda0_cam_day x usage``. DNA: a ``dna_spacing`` grid of proximity detectors over the
    western ``dna_block`` share (by easting) of the stations' bounding box, within 2 km of a
    station's cell (a searched block), ``dna_occasions`` occasions.
    """
    from amurlink.analysis.secr import make_mask

    traps, usage, crs = _neaspec_stations(scale, design_seed)
    mask = make_mask(traps, buffer=buffer_sigmas * sigma, spacing=mask_spacing, crs=crs)
    x0, y0 = traps.min(axis=0)
    x1, y1 = traps.max(axis=0)
    gx = np.arange(x0, x0 + dna_block * (x1 - x0) + 1.0, dna_spacing)
    gy = np.arange(y0, y1 + 1.0, dna_spacing)
    grid = np.column_stack([a.ravel() for a in np.meshgrid(gx, gy)])
    from scipy.spatial import cKDTree

    d, _ = cKDTree(traps).query(grid)
    dna = grid[d <= 4000.0]
    xm = float(mask.xy[:, 0].mean())
    a_ha = float(mask.cell_area_ha)
    D0 = density_per_100km2 / 1e4  # per hectare
    Dm = D0 * np.exp(b_x_per_100km * (mask.xy[:, 0] - xm) / 1e5)
    return ModelsDesign(
        scale=scale, design_seed=design_seed, crs=crs, traps=traps, usage=usage,
        dna_traps=dna, mask_xy=mask.xy.copy(), mask_spacing=float(mask_spacing),
        cell_ha=a_ha, D_mask=Dm, EN_true=float(Dm.sum() * a_ha), sigma=float(sigma),
        lambda0_cam=float(lambda0_cam_day), lambda0_dna=float(lambda0_dna),
        dna_occasions=int(dna_occasions), b_x=float(b_x_per_100km) / 1e5)


def _histories(design: dict[str, Any], rng: np.random.Generator):
    """Camera-only and camera + DNA capture histories of one simulated population."""
    from amurlink.analysis.secr import CaptureHistory

    mxy = design["mask_xy"]
    lam = design["D_mask"] * design["cell_ha"]
    N = int(rng.poisson(lam.sum()))
    centres = mxy[rng.choice(len(mxy), size=N, p=lam / lam.sum())]
    s2 = 2 * design["sigma"] ** 2
    cam, dna = design["traps"], design["dna_traps"]
    h_cam = design["lambda0_cam"] * design["usage"][None, :] * np.exp(
        -((centres[:, None, :] - cam[None]) ** 2).sum(-1) / s2)
    y_cam = rng.poisson(h_cam)  # (N, Kc), the survey as one occasion
    p_dna = -np.expm1(-design["lambda0_dna"] * np.exp(
        -((centres[:, None, :] - dna[None]) ** 2).sum(-1) / s2))
    J = design["dna_occasions"]
    y_dna = (rng.random((N, J, len(dna))) < p_dna[:, None, :]).astype(np.int64)
    seen_cam = y_cam.sum(1) > 0
    seen = seen_cam | (y_dna.sum((1, 2)) > 0)
    Kc, Kd = len(cam), len(dna)
    # camera + DNA: occasion 0 = cameras (count), 1..J = DNA searches (proximity)
    counts = np.zeros((int(seen.sum()), 1 + J, Kc + Kd), np.int64)
    counts[:, 0, :Kc] = y_cam[seen]
    counts[:, 1:, Kc:] = y_dna[seen]
    usage = np.zeros((Kc + Kd, 1 + J))
    usage[:Kc, 0] = design["usage"]
    usage[Kc:, 1:] = 1.0
    both = CaptureHistory(traps=np.vstack([cam, dna]), counts=counts, detector="count",
                          usage=usage, occasion_detectors=("count",) + ("proximity",) * J,
                          crs=design["crs"])
    cam_only = CaptureHistory(traps=cam, counts=y_cam[seen_cam][:, None, :], detector="count",
                              usage=design["usage"][:, None], crs=design["crs"])
    return cam_only, both, N


def _fit_record(ch, mask, model: dict[str, str], tag: str, out: dict[str, Any]) -> None:
    from amurlink.analysis.secr import fit_secr

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AmurlinkWarning)
        try:
            res = fit_secr(ch, mask, detectfn="HHN", model=model)
        except Exception as exc:  # a failed fit is a result of the study
            out[f"{tag}_ok"] = False
            out[f"{tag}_error"] = f"{type(exc).__name__}: {exc}"
            return
    out[f"{tag}_ok"] = bool(res.code == 1)
    out[f"{tag}_warnings"] = "; ".join(str(w.message) for w in caught)
    out[f"{tag}_loglik"] = float(res.loglik)
    rn = res.region_N()
    for col in ("estimate", "se", "lcl", "ucl"):
        out[f"{tag}_EN_{col}"] = float(rn.loc["E.N", col])
    for k, v in res.params.items():
        out[f"{tag}_beta_{k}"] = float(v)


def models_replicate(rng: np.random.Generator, *, design: dict[str, Any]) -> dict[str, Any]:
    """One replicate: simulate, fit the camera ``D ~ x`` model and the camera + DNA model."""
    from amurlink.analysis.secr import Mask

    t0 = time.perf_counter()
    cam, both, N = _histories(design, rng)
    mask = Mask.from_points(design["mask_xy"], spacing=design["mask_spacing"],
                            crs=design["crs"])
    out: dict[str, Any] = {"N": N, "n_cam": int(cam.counts.shape[0]),
                           "n_both": int(both.counts.shape[0]),
                           "dna_detections": int(both.counts[:, 1:].sum()),
                           "EN_true": design["EN_true"]}
    _fit_record(cam, mask, {"D": "~x"}, "cov", out)
    _fit_record(both, mask, {"D": "~x", "lambda0": "~dettype"}, "dna", out)
    out["seconds"] = time.perf_counter() - t0
    return out


def run_models_study(
    n_replicates: int = 200,
    *,
    seed: int = MODELS_STUDY_SEED,
    design: dict[str, Any] | None = None,
    checkpoint: str | Path | None = None,
    chunk: int = 4,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    **design_args: Any,
) -> pd.DataFrame:
    """Run (or resume from ``checkpoint``, JSON lines) the study; one row per replicate.

    Replicate ``i`` uses child ``i`` of ``SeedSequence(seed)`` through
    :func:`amurlink.parallel.map_replicates`, so results do not depend on chunking.
    """
    design = models_design(**design_args) if design is None else design
    seeds = spawn_seeds(seed, n_replicates)
    path = Path(checkpoint) if checkpoint is not None else None
    from amurlink.analysis.secr.study import _load  # the one checkpoint reader

    done = _load(path) if path is not None else {}
    todo = [i for i in range(n_replicates) if i not in done]
    results = dict(done)
    for start in range(0, len(todo), max(1, chunk)):
        idx = todo[start:start + max(1, chunk)]
        recs = map_replicates(models_replicate, [seeds[i] for i in idx], scheduler=scheduler,
                              design=dict(design))
        for i, r in zip(idx, recs, strict=True):
            r = {"replicate": i, "study_seed": seed, **r}
            results[i] = r
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(r, default=float) + "\n")
        if progress is not None:
            progress(len(results), n_replicates)
    return pd.DataFrame([results[i] for i in sorted(results) if i < n_replicates])


def summarise_models_study(df: pd.DataFrame, *, z_pass: float = 2.6, level: float = 0.95
                           ) -> dict[str, Any]:
    """Per model (``cov``, ``dna``): relative bias and coverage of D with Monte Carlo SEs,
    mean RSE(D); the verdicts; and whether DNA narrowed RSE(D)."""
    out: dict[str, Any] = {"replicates": int(len(df)), "z_pass": z_pass}
    for tag in ("cov", "dna"):
        okc = f"{tag}_ok"
        ok = df[df[okc].fillna(False).astype(bool)] if okc in df else df.iloc[:0]
        R = len(ok)
        s: dict[str, Any] = {"fitted": R, "failed": int(len(df) - R)}
        if R >= 2:
            rel = ok[f"{tag}_EN_estimate"] / ok["EN_true"] - 1
            rb, rb_se = float(rel.mean()), float(rel.std(ddof=1) / np.sqrt(R))
            cv = float(((ok[f"{tag}_EN_lcl"] <= ok["EN_true"])
                        & (ok["EN_true"] <= ok[f"{tag}_EN_ucl"])).mean())
            cv_se = float(np.sqrt(level * (1 - level) / R))
            s.update(relative_bias=rb, mcse=rb_se, z=rb / rb_se, coverage=cv,
                     coverage_mcse=cv_se, coverage_z=(cv - level) / cv_se,
                     rse=float((ok[f"{tag}_EN_se"] / ok[f"{tag}_EN_estimate"]).mean()),
                     pass_bias=bool(abs(rb) <= z_pass * rb_se),
                     pass_coverage=bool(abs(cv - level) <= z_pass * cv_se))
            s["pass"] = bool(s["pass_bias"] and s["pass_coverage"] and s["failed"] == 0)
        else:
            s["pass"] = False
        out[tag] = s
    both = df[df.get("cov_ok", False).fillna(False).astype(bool)
              & df.get("dna_ok", False).fillna(False).astype(bool)] if len(df) else df
    if len(both):
        r_cam = both["cov_EN_se"] / both["cov_EN_estimate"]
        r_dna = both["dna_EN_se"] / both["dna_EN_estimate"]
        out["rse_ratio"] = float((r_dna / r_cam).mean())
        out["dna_narrower_share"] = float((r_dna < r_cam).mean())
        out["mean_n_cam"] = float(both["n_cam"].mean())
        out["mean_n_both"] = float(both["n_both"].mean())
        out["mean_dna_detections"] = float(both["dna_detections"].mean())
        out["mean_seconds"] = float(both["seconds"].mean())
    return out


def models_study_markdown(summary: dict[str, Any], *, n_planned: int = 200,
                          seed: int = MODELS_STUDY_SEED) -> str:
    """Results table for ``docs/secr.md``."""
    lines = [f"Replicates: {summary['replicates']} of {n_planned} (study seed {seed}).", "",
             "| model | fitted | relative bias of D | MCSE | bias / MCSE | 95% coverage | MCSE |"
             " (coverage - 0.95) / MCSE | mean RSE(D) | verdict |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    names = {"cov": "cameras, `D ~ x`", "dna": "cameras + DNA, `D ~ x`, `lambda0 ~ dettype`"}
    for tag in ("cov", "dna"):
        s = summary[tag]
        if "relative_bias" not in s:
            lines.append(f"| {names[tag]} | {s['fitted']} | | | | | | | | too few |")
            continue
        lines.append(
            f"| {names[tag]} | {s['fitted']} | {s['relative_bias']:+.4f} | {s['mcse']:.4f} | "
            f"{s['z']:+.2f} | {s['coverage']:.3f} | {s['coverage_mcse']:.4f} | "
            f"{s['coverage_z']:+.2f} | {s['rse']:.3f} | {'PASS' if s['pass'] else 'FAIL'} |")
    if "rse_ratio" in summary:
        lines += ["", f"RSE(D) with DNA / camera only: mean ratio {summary['rse_ratio']:.3f}; "
                  f"narrower in {100 * summary['dna_narrower_share']:.1f} % of replicates. "
                  f"Mean animals detected: cameras {summary['mean_n_cam']:.1f}, cameras or DNA "
                  f"{summary['mean_n_both']:.1f}; mean DNA detections "
                  f"{summary['mean_dna_detections']:.1f}; mean time per replicate (simulation "
                  f"and both fits) {summary['mean_seconds']:.1f} s."]
    return "\n".join(lines) + "\n"
