"""The ``corridors`` stage of ``amurlink run`` (ready to register).

It runs when the study folder holds ``landscape/resistance.tif`` (or ``.asc``): a resistance
raster in the working CRS, made with ``amurlink habitat resistance`` or any GIS. Without one,
it runs on covariate rasters in ``landscape/covariates/*.tif`` (one grid, working CRS): a
Poisson GLM of the big cats' detections per deployment (the study's ``[[species]]`` pooled,
effort as offset) on those layers gives suitability, and ``[corridors] transform`` gives
resistance (written as ``OUT/corridors/resistance_estimated.tif`` with the coefficients in
``habitat_glm.csv``). When the folder holds ``truth/resistance_true.tif`` (a simulated study
whose animals moved by resistance), the summary adds how well the current recovers the true
current, beside the uniform-resistance baseline. The core
areas are the first two ``park`` features of the study's border file; observed crossings per
border segment (``landscape/crossings.csv``, ``segment,crossings``, when it exists; else the
crossings of identified individuals in the joint package, from the cross-border encounters)
are compared with the predicted border current. It writes ``OUT/corridors/`` (see
:func:`amurlink.landscape.transboundary.border_corridors`). Nothing it writes holds a station
position.

To wire it into every run, in ``amurlink/study/stages.py``:
``from amurlink.landscape.stage import CORRIDOR_STAGE; register_stage(CORRIDOR_STAGE)``.
Importing this module registers nothing (so tests that import it leave the run alone).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from amurlink.exceptions import AmurlinkError, DataError
from amurlink.landscape.transboundary import CORRIDOR_FILES
from amurlink.study._runner import Stage, StageContext, Study

__all__ = ["CORRIDOR_STAGE", "ESTIMATED_FILES", "covariate_files", "resistance_file"]

logger = logging.getLogger(__name__)

_RESISTANCE = ("landscape/resistance.tif", "landscape/resistance.tiff", "landscape/resistance.asc")
_CROSSINGS = "landscape/crossings.csv"
_COVARIATES = "landscape/covariates"
_TRUTH = "truth/resistance_true.tif"
#: Extra files of a run whose resistance came from the cameras.
ESTIMATED_FILES = ("resistance_estimated.tif", "habitat_glm.csv")


def resistance_file(study: Study) -> Path | None:
    """The study's resistance raster, or None."""
    for name in _RESISTANCE:
        p = study.folder / name
        if p.is_file():
            return p
    return None


def covariate_files(study: Study) -> list[Path]:
    """The study's covariate rasters (``landscape/covariates/*.tif``), sorted by name."""
    folder = study.folder / _COVARIATES
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".tif", ".tiff")
                  and p.is_file())


def _applies(study: Study) -> str | None:
    if resistance_file(study) is None and not covariate_files(study):
        return "no landscape/resistance.tif nor landscape/covariates/*.tif in the study folder"
    return None


def _files(study: Study) -> dict[str, Path]:
    out: dict[str, Path] = {}
    res = resistance_file(study)
    if res is not None:
        out["landscape.resistance"] = res
    else:
        for f in covariate_files(study):
            out[f"landscape.covariates.{f.stem}"] = f
    cross = study.folder / _CROSSINGS
    if cross.is_file():
        out["landscape.crossings"] = cross
    truth = study.folder / _TRUTH
    if truth.is_file():
        out["truth.resistance"] = truth
    return out


def _from_cameras(ctx: StageContext, dataset: Any) -> tuple[Any, dict[str, Any], Any]:
    """Resistance grid from the habitat GLM on the cameras; its summary and coefficients."""
    import numpy as np
    import pandas as pd

    from amurlink.landscape.grid import read_grid
    from amurlink.landscape.habitat import habitat_resistance_from_cameras, station_detections

    files = covariate_files(ctx.study)
    layers = {f.stem: read_grid(f) for f in files}
    first = next(iter(layers.values()))
    if first.crs is None:
        raise DataError(f"{files[0]}: the covariate layer has no CRS; write it as a GeoTIFF")
    if dataset is None:
        raise DataError("no harmonised records to fit the habitat model to")
    species = [s.scientific_name for s in ctx.config.species]
    stations = None
    for sp in species:
        st = station_detections(dataset, sp, first.crs)
        if stations is None:
            stations = st
        else:
            stations["detections"] += st["detections"].to_numpy()
    if stations is None or stations["detections"].sum() == 0:
        raise DataError(f"no detection of {', '.join(species)} to fit the habitat model to")
    transform = ctx.config.corridors.transform
    model, _, res = habitat_resistance_from_cameras(stations, layers, method=transform)
    grid = first.with_values(np.where(np.isfinite(res), res, first.nodata))
    table = model.table()
    table.index.name = "term"
    info = {"transform": transform, "layers": sorted(layers), "species": species,
            "deployments": int(model.n_stations), "aic": float(model.aic),
            "coefficients": {k: float(v) for k, v in model.params.items()}}
    return grid, info, pd.DataFrame(table)


def _corridors(ctx: StageContext) -> dict[str, Any]:
    import pandas as pd

    from amurlink.landscape.grid import read_grid
    from amurlink.landscape.transboundary import border_corridors

    joint = ctx.result("harmonise") or {}
    border = joint.get("border")
    if border is None:
        raise DataError("no border: set [inputs] border (or [border] file) in amurlink.toml")
    # the records the analyses use (sound, within the study period), as the other stages
    dataset = joint.get("analysis", joint.get("dataset"))
    path = resistance_file(ctx.study)
    habitat = glm = None
    if path is not None:
        grid, source = read_grid(path), str(path)
    elif covariate_files(ctx.study):
        grid, habitat, glm = _from_cameras(ctx, dataset)
        source = str(ctx.study.folder / _COVARIATES)
    else:
        raise DataError("no landscape/resistance.tif nor landscape/covariates/*.tif in the "
                        "study folder")
    truth_file = ctx.study.folder / _TRUTH
    truth = read_grid(truth_file) if truth_file.is_file() else None
    if truth is not None and not truth.same_frame(grid):
        # a comparison, not a result: the corridors still run on a surface of another frame
        logger.warning("corridors: %s is not on the resistance grid's frame; no recovery "
                       "figures", truth_file)
        truth = None
    cross = ctx.study.folder / _CROSSINGS
    obs = pd.read_csv(cross) if cross.is_file() else None
    enc = None
    if obs is None and dataset is not None:  # crossings seen by the cameras themselves
        from amurlink.analysis.crossborder import encounters

        try:
            enc = encounters(dataset, border=border, species=None, life_stage=None,
                             two_party=ctx.config.links.two_party)
        except AmurlinkError as exc:  # no identified individuals: no observed crossings
            logger.info("corridors: no observed crossings (%s)", exc)
    settings = ctx.config.corridors
    out = ctx.study.out_dir / "corridors"
    summary = border_corridors(
        grid,
        border,
        out,
        crossings=obs,
        encounters=enc,
        source=source,
        core_setback_km=settings.core_setback_km,
        segment_km=settings.segment_km,
        percentile=settings.percentile,
        truth=truth,
        about={"resistance": "cameras" if habitat is not None else "file",
               **({"habitat_model": habitat} if habitat is not None else {})},
    )
    if habitat is not None:
        summary["files"] += _write_estimated(out, grid, glm)
    else:  # a run from a file leaves no estimate of an earlier run behind
        for name in ESTIMATED_FILES:
            (out / name).unlink(missing_ok=True)
    return summary


def _write_estimated(out: Path, grid: Any, glm: Any) -> list[str]:
    """Write the estimated resistance and the GLM table (each whole, or not at all)."""
    import os

    from amurlink.landscape.grid import write_grid

    tif, csv = (out / n for n in ESTIMATED_FILES)
    tmp_tif, tmp_csv = out / ".resistance_estimated.tmp.tif", out / ".habitat_glm.csv.tmp"
    try:
        write_grid(grid, tmp_tif)
        glm.to_csv(tmp_csv)
        os.replace(tmp_tif, tif)
        os.replace(tmp_csv, csv)
    finally:
        tmp_tif.unlink(missing_ok=True)
        tmp_csv.unlink(missing_ok=True)
    return [str(tif), str(csv)]


def _summary(value: dict[str, Any]) -> dict[str, Any]:
    keys = ("cores", "least_cost", "effective_resistance", "segments", "spearman",
            "resistance", "recovery")
    return {k: value[k] for k in keys if k in value}


CORRIDOR_STAGE = Stage(
    "corridors",
    _corridors,
    what="modelling corridors and border current between the parks",
    needs=("harmonise",),
    files=_files,
    outputs=tuple(f"corridors/{n}" for n in CORRIDOR_FILES),
    applies=_applies,
    summarise=_summary,
)
