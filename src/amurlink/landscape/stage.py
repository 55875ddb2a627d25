"""The ``corridors`` stage of ``amurlink run`` (ready to register).

It runs when the study folder holds ``landscape/resistance.tif`` (or ``.asc``): a resistance
raster in the working CRS, made with ``amurlink habitat resistance`` or any GIS. The core
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

__all__ = ["CORRIDOR_STAGE", "resistance_file"]

logger = logging.getLogger(__name__)

_RESISTANCE = ("landscape/resistance.tif", "landscape/resistance.tiff", "landscape/resistance.asc")
_CROSSINGS = "landscape/crossings.csv"


def resistance_file(study: Study) -> Path | None:
    """The study's resistance raster, or None."""
    for name in _RESISTANCE:
        p = study.folder / name
        if p.is_file():
            return p
    return None


def _applies(study: Study) -> str | None:
    if resistance_file(study) is None:
        return "no landscape/resistance.tif in the study folder"
    return None


def _files(study: Study) -> dict[str, Path]:
    out: dict[str, Path] = {}
    res = resistance_file(study)
    if res is not None:
        out["landscape.resistance"] = res
    cross = study.folder / _CROSSINGS
    if cross.is_file():
        out["landscape.crossings"] = cross
    return out


def _corridors(ctx: StageContext) -> dict[str, Any]:
    import pandas as pd

    from amurlink.landscape.grid import read_grid
    from amurlink.landscape.transboundary import border_corridors

    joint = ctx.result("harmonise") or {}
    border = joint.get("border")
    if border is None:
        raise DataError("no border: set [inputs] border (or [border] file) in amurlink.toml")
    path = resistance_file(ctx.study)
    if path is None:
        raise DataError("no landscape/resistance.tif in the study folder")
    grid = read_grid(path)
    cross = ctx.study.folder / _CROSSINGS
    obs = pd.read_csv(cross) if cross.is_file() else None
    enc = None
    # the records the analyses use (sound, within the study period), as the other stages
    dataset = joint.get("analysis", joint.get("dataset"))
    if obs is None and dataset is not None:  # crossings seen by the cameras themselves
        from amurlink.analysis.crossborder import encounters

        try:
            enc = encounters(dataset, border=border, species=None, life_stage=None,
                             two_party=ctx.config.links.two_party)
        except AmurlinkError as exc:  # no identified individuals: no observed crossings
            logger.info("corridors: no observed crossings (%s)", exc)
    settings = ctx.config.corridors
    return border_corridors(
        grid,
        border,
        ctx.study.out_dir / "corridors",
        crossings=obs,
        encounters=enc,
        source=str(path),
        core_setback_km=settings.core_setback_km,
        segment_km=settings.segment_km,
        percentile=settings.percentile,
    )


def _summary(value: dict[str, Any]) -> dict[str, Any]:
    keys = ("cores", "least_cost", "effective_resistance", "segments", "spearman")
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
