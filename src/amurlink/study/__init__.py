"""Study folders and ``amurlink run``: the main job, from the files a study names to its reports.

A study folder holds ``amurlink.toml``, whose ``[inputs]`` names every file (docs/study.md).
:func:`run_study` runs the registered stages (:mod:`amurlink.study.stages`: harmonise, joint
package, photo links, DNA, cross-border, SECR, camera-trap, reports, link proposals), records
each stage's inputs, versions, timing and status in ``run-record.json``, and reruns only what
changed. :func:`init_study` writes a commented study folder; :func:`run_demo` simulates a
study and runs it.
"""

from __future__ import annotations

from amurlink.study._runner import (
    RunResult,
    Stage,
    StageContext,
    Study,
    register_stage,
    registered_stages,
    resolve_source,
    run_study,
)

__all__ = [
    "RunResult",
    "Stage",
    "StageContext",
    "Study",
    "init_study",
    "register_stage",
    "registered_stages",
    "resolve_source",
    "run_demo",
    "run_study",
]


def __getattr__(name: str):  # lazy: the demo and init pull in the simulator
    if name == "run_demo":
        from amurlink.study.demo import run_demo

        return run_demo
    if name == "init_study":
        from amurlink.study.init import init_study

        return init_study
    raise AttributeError(name)
