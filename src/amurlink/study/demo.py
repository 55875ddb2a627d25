"""``amurlink demo``: simulate a two-country study into a study folder, then run it.

The demo has no pipeline of its own: :func:`run_demo` writes the simulated study
(``OUT/sim``: the national files and an ``amurlink.toml`` whose ``[inputs]`` names them) and
calls :func:`amurlink.study.run_study` with ``OUT`` as the output folder, so ``OUT/joint``,
``OUT/report/<name>`` and ``OUT/run-record.json`` are exactly what ``amurlink run OUT/sim -o
OUT`` writes.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from amurlink.study._runner import RunResult, Study, run_study
from amurlink.study.analyses import DEFAULT_SEED, link_sources

__all__ = ["DEMO_MOVEMENT", "DemoResult", "run_demo", "write_timings"]

#: The demo's animals move by the landscape's resistance (the simulator's opt-in corridor
#: scenario), so its corridors stage recovers true corridors from the cameras (docs/corridors.md).
DEMO_MOVEMENT = "resistance"


@dataclass
class DemoResult:
    """What the demo did: the simulation, then the study run.

    Attributes
    ----------
    out_dir : Path
    scenario, seed : str, int
    run : RunResult, optional
        The study run (None when the simulation failed).
    timings, stages : dict
        The simulation's steps (``simulate``, ``write simulation``) and then every stage of
        the run.
    cpu : dict
        CPU seconds of the same steps and stages (``RunResult.cpu``).
    background : list of str
    warnings : list of str
    total_s : float
    """

    out_dir: Path
    scenario: str = "neaspec"
    seed: int = DEFAULT_SEED
    run: RunResult | None = None
    timings: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    stages: dict[str, str] = field(default_factory=dict)
    background: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    truth: dict[str, Any] = field(default_factory=dict)
    total_s: float = 0.0

    # -- the run's results, by the names the demo always had ------------------------------
    def _value(self, name: str, default: Any = None) -> Any:
        if self.run is None:
            return default
        return self.run.values.get(name, default)

    @property
    def summaries(self) -> dict[str, dict[str, Any]]:
        """Each stage's summary (the run's)."""
        return self.run.summaries if self.run is not None else {}

    @property
    def failed(self) -> dict[str, str]:
        """Steps and stages that did not succeed, with why."""
        return {k: v for k, v in self.stages.items()
                if v.startswith(("failed", "skipped: needs"))}

    @property
    def summary(self) -> pd.DataFrame | None:
        """Per species: photographed, both countries, crossings, farthest km, and truth."""
        return self._value("crossborder")

    @property
    def secr(self) -> dict[str, Any]:
        return (self._value("secr") or {}).get("fits") or {}

    @property
    def secr_not_fitted(self) -> pd.DataFrame | None:
        return (self._value("secr") or {}).get("not_fitted")

    @property
    def dna(self) -> dict[str, pd.DataFrame]:
        return self._value("dna") or {}

    @property
    def camtrap(self) -> dict[str, pd.DataFrame]:
        return self._value("camtrap") or {}

    @property
    def photo_links(self) -> dict[str, pd.DataFrame]:
        return self._value("photo comparison") or {}

    @property
    def links(self) -> pd.DataFrame | None:
        return (self._value("harmonise") or {}).get("links")

    @property
    def link_sources(self) -> pd.DataFrame:
        return link_sources(self.links)

    @property
    def crosswalk(self) -> dict[str, Any]:
        return (self._value("harmonise") or {}).get("crosswalk", {})

    @property
    def harmonise_issues(self) -> dict[str, int]:
        return (self._value("harmonise") or {}).get("issues", {})

    @property
    def reports(self) -> dict[str, Path]:
        if self.run is None:
            return {}
        out = {}
        for name, status in self.run.stages.items():
            if name.startswith("report ") and status in ("ok", "cached"):
                key = name[len("report "):]
                out[key] = self.out_dir / "report" / key / "report.html"
        return out

    def timings_dict(self) -> dict[str, Any]:
        """JSON-ready timings (what ``--timings-json`` writes)."""
        return {"scenario": self.scenario, "seed": self.seed,
                "stages": {k: round(v, 3) for k, v in self.timings.items()},
                "cpu": {k: round(v, 3) for k, v in self.cpu.items()},
                "background": list(self.background), "status": dict(self.stages),
                "total": round(self.total_s, 3)}


def run_demo(out_dir: str | os.PathLike[str], /, *, scenario: str = "neaspec",
             seed: int = DEFAULT_SEED, languages: tuple[str, ...] = ("en", "zh", "ru"),
             public: bool = True, parallel: bool = True, scheduler: Any = None,
             skip: tuple[str, ...] = (),
             progress: Callable[[str, str], None] | None = None) -> DemoResult:
    """Simulate a study into ``OUT/sim`` and run it into ``OUT``; never raises for a stage.

    Parameters
    ----------
    out_dir : path_like
        Receives ``sim/`` (the study folder), ``joint/``, ``report/<name>/`` and
        ``run-record.json``. The simulation is replaced; the run reruns only what changed.
    scenario : str, default "neaspec"
        Simulator scenario (``small`` for quick runs).
    seed : int
        Simulation seed (fixed by default, so the demo is reproducible).
    languages : tuple of str
        Owner report languages (written into the study's ``[inputs.reports]``).
    public : bool, default True
        Also write the public English report.
    parallel : bool, default True
        Run independent stages in child processes where the platform can fork.
    scheduler : str or dask.distributed.Client, optional
        Dask scheduler for the heavy stages.
    skip : tuple of str
        Stages to leave out, written into the study's ``[run] skip`` (e.g. the theme
        stages ``design``, ``corridors``, ``incidents``, ``secr models``: the benchmark
        against the demo of before them). The study folder then holds no incident books,
        settlements or corridor resistance when the stages reading them are left out.
    progress : callable, optional
        ``progress(step, status)``.
    """
    say = progress or (lambda _n, _s: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    res = DemoResult(out_dir=out, scenario=str(scenario), seed=int(seed))
    sim_dir = out / "sim"
    t_all = time.perf_counter()
    try:
        from amurlink.simulate import simulate_study, write_study

        # the simulation's warnings join the run's: where, what and what to do, no class
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                say("simulate", "running")
                t0, c0 = time.perf_counter(), time.process_time()
                try:
                    # the opt-in corridor scenario: the animals walk by the landscape's known
                    # resistance, so the corridors stage has true corridors to recover
                    study = simulate_study(res.scenario, seed=res.seed, movement=DEMO_MOVEMENT)
                    res.truth = study.summary()
                except Exception as exc:  # noqa: BLE001 - reported, like any stage
                    from amurlink.study._proc import describe

                    res.stages["simulate"] = f"failed: {describe(exc)}"
                    return res
                finally:
                    res.timings["simulate"] = time.perf_counter() - t0
                    res.cpu["simulate"] = time.process_time() - c0
                res.stages["simulate"] = "ok"
                say("simulate", "ok")
                say("write simulation", "running")
                t0, c0 = time.perf_counter(), time.process_time()
                try:
                    write_study(study, sim_dir, overwrite=True)
                    _set_reports(sim_dir, languages, public)
                    _set_skip(sim_dir, tuple(skip))
                    from amurlink.study.themes import write_theme_inputs

                    # incident books, settlements and the habitat covariates (own child seeds;
                    # the study's files are not changed), for the stages that will read them
                    write_theme_inputs(study, sim_dir, incidents="incidents" not in skip,
                                       corridors="corridors" not in skip)
                except Exception as exc:  # noqa: BLE001
                    from amurlink.study._proc import describe

                    res.stages["write simulation"] = f"failed: {describe(exc)}"
                    return res
                finally:
                    res.timings["write simulation"] = time.perf_counter() - t0
                    res.cpu["write simulation"] = time.process_time() - c0
                del study
                res.stages["write simulation"] = "ok"
                say("write simulation", "ok")
            finally:
                from amurlink.study._proc import count_warnings, warning_text

                res.warnings = count_warnings([f"simulation: {warning_text(w)}"
                                               for w in caught])
        run = run_study(Study.open(sim_dir, out), parallel=parallel, scheduler=scheduler,
                        progress=say)
        res.run = run
        res.stages.update(run.stages)
        res.timings.update(run.timings)
        res.cpu.update(run.cpu)
        res.background = list(run.background)
        res.warnings = res.warnings + list(run.warnings)
    finally:
        res.total_s = time.perf_counter() - t_all
    return res


def _set_reports(sim_dir: Path, languages: tuple[str, ...], public: bool) -> None:
    """Write the reports wanted into the simulated study's ``[inputs.reports]``."""
    if tuple(languages) == ("en", "zh", "ru") and public:
        return  # what the simulator writes
    f = sim_dir / "amurlink.toml"
    text = f.read_text(encoding="utf-8")
    head, sep, _ = text.partition("[inputs.reports]")
    if not sep:
        return
    owner = ", ".join(json.dumps(x) for x in languages)
    pub = '"en"' if public else ""
    body = f"[inputs.reports]\nowner = [{owner}]\npublic = [{pub}]\n"
    f.write_text(head + body, encoding="utf-8")


def _set_skip(sim_dir: Path, skip: tuple[str, ...]) -> None:
    """Write ``[run] skip`` into the simulated study's ``amurlink.toml`` (when given)."""
    if not skip:
        return
    f = sim_dir / "amurlink.toml"
    text = f.read_text(encoding="utf-8")
    names = ", ".join(json.dumps(x) for x in skip)
    f.write_text(text.rstrip("\n") + f"\n\n[run]\nskip = [{names}]\n", encoding="utf-8")


def write_timings(res: DemoResult, path: str | os.PathLike[str]) -> Path:
    """Write :meth:`DemoResult.timings_dict` as JSON to ``path``."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(res.timings_dict(), indent=2) + "\n", encoding="utf-8")
    return p
