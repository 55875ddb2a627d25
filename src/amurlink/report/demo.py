"""The main job behind ``amurlink demo``: data in, every available analysis, the report out."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["DemoResult", "run_demo", "missing_stages", "toy_border"]

#: Pipeline stages the demo needs from other parts of amurlink, and how to tell they exist.
_STAGES: tuple[tuple[str, str, str], ...] = (
    ("simulate", "amurlink.simulate", "simulate"),
    ("import", "amurlink.io.mapping", "read_mapped"),
    ("harmonise", "amurlink.harmonise", "harmonise"),
)


def missing_stages() -> list[str]:
    """Names of pipeline stages not available yet (``simulate``, ``import``, ``harmonise``)."""
    out = []
    for stage, module, attr in _STAGES:
        try:
            mod = importlib.import_module(module)
        except ImportError:
            out.append(stage)
            continue
        if not callable(getattr(mod, attr, None)):
            out.append(stage)
    return out


def toy_border() -> Any:
    """A hand-made border for the bundled toy package: the meridian 131.0°E, 42.9-43.3°N."""
    import shapely

    from amurlink.core.border import Border
    from amurlink.core.crs import to_metric

    x, y = to_metric([131.0, 131.0], [42.9, 43.3])
    return Border.from_geometries(shapely.LineString(list(zip(x, y, strict=True))))


@dataclass
class DemoResult:
    """What the demo did: per-stage seconds, the species summary, link sources, files."""

    out_dir: Path
    source: str
    timings: dict[str, float] = field(default_factory=dict)
    summary: pd.DataFrame | None = None
    links: pd.DataFrame | None = None
    reports: dict[str, Path] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    t0 = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - t0


def species_summary(view: Any) -> pd.DataFrame:
    """Per species: photographed, recorded in both countries, crossings, farthest distance."""
    cb = view.crossborder
    cols = ["scientificName", "photographed", "both_countries", "crossings", "farthest_km"]
    if cb is None or cb.individuals.empty:
        return pd.DataFrame(columns=cols)
    ind = cb.individuals
    dist_cols = [c for c in ind.columns if c.startswith("max_distance_km_")]
    rows = []
    for sp, g in ind.groupby("scientificName", sort=True):
        far = g[dist_cols].to_numpy(float) if dist_cols else np.array([np.nan])
        rows.append({"scientificName": sp, "photographed": len(g),
                     "both_countries": int(g["transboundary"].astype(bool).sum()),
                     "crossings": int(g["crossings"].sum()),
                     "farthest_km": float(np.nanmax(far)) if np.isfinite(far).any() else np.nan})
    return pd.DataFrame(rows, columns=cols)


def run_demo(out_dir: str | Path, /, *, languages: tuple[str, ...] = ("en", "zh", "ru"),
             progress: Callable[[str], None] | None = None) -> DemoResult:
    """Run the main job and write the reports under ``out_dir``.

    Until the simulator, import mappings and harmonisation exist, runs on the bundled toy
    package with :func:`toy_border` and lists those stages in ``DemoResult.missing``.
    """
    from amurlink.config import load_config
    from amurlink.datasets import example_config_path, example_path
    from amurlink.io import read_camtrap_dp, validate_camtrap_dp
    from amurlink.report import ReportInputs, build_view, write_report
    from amurlink.report._sections import MISSING_REASONS

    say = progress or (lambda _msg: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    res = DemoResult(out_dir=out, source="toy", missing=missing_stages())
    t = res.timings
    say("reading and validating the bundled toy package")
    with _timed(t, "read + validate"):
        validate_camtrap_dp(example_path()).raise_for_errors()
        dataset = read_camtrap_dp(example_path())
        config = load_config(example_config_path())
        border = toy_border()
    inputs = ReportInputs(
        dataset=dataset, config=config, border=border,
        missing={"secr": MISSING_REASONS["secr"], "manifest": MISSING_REASONS["not-available"]},
    )
    say("cross-border analysis")
    with _timed(t, "protect + cross-border (owner)"):
        view = build_view(inputs, audience=_owner())
    res.summary = species_summary(view)
    res.links = view.links
    for lang in languages:
        say(f"report ({lang})")
        with _timed(t, f"report {lang}"):
            res.reports[lang] = write_report(inputs, out / "report" / lang, lang=lang,
                                             audience="owner", view=view).html
    say("public report (en)")
    with _timed(t, "report en (public)"):
        res.reports["public-en"] = write_report(inputs, out / "report" / "public-en",
                                                lang="en", audience="public").html
    return res


def _owner() -> Any:
    from amurlink.core.protection import Audience

    return Audience.owner()
