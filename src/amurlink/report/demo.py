"""Moved: the main job is :mod:`amurlink.study` (``amurlink run``), and the demo is a study.

``amurlink.report.demo`` keeps the old names importable: :func:`run_demo` simulates a study
and runs it (:mod:`amurlink.study.demo`); the analyses the report renders live in
:mod:`amurlink.study.analyses`. There is no second pipeline here.
"""

from __future__ import annotations

from amurlink.study.analyses import (
    CATS,
    DEFAULT_SEED,
    MAIN_PREY,
    SECR_OCCASION_DAYS,
    SECR_SETTINGS,
    camtrap_tables,
    dna_tables,
    secr_fits,
    species_summary,
    toy_border,
)
from amurlink.study.demo import DemoResult, run_demo, write_timings

__all__ = [
    "CATS",
    "DEFAULT_SEED",
    "DemoResult",
    "MAIN_PREY",
    "SECR_OCCASION_DAYS",
    "SECR_SETTINGS",
    "camtrap_tables",
    "dna_tables",
    "run_demo",
    "secr_fits",
    "species_summary",
    "toy_border",
    "write_timings",
]
