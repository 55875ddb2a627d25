"""Human-animal conflict, disease and patrol records of the joint study, and their analyses.

Tables (:mod:`amurlink.incidents.tables`): ``incidents``, ``diseaseTests``, ``necropsies``,
``patrols``, ``patrolFindings`` and the owner-only ``claimants``. Imports from SMART Connect
and EarthRanger exports (:mod:`amurlink.incidents.imports`); analyses
(:mod:`amurlink.incidents.analysis`).
"""

from amurlink.incidents.analysis import (
    DEFAULT_WARNING_LEVELS,
    WarningLevel,
    compensation_summary,
    distance_to_settlements,
    hotspots,
    incident_counts,
    parse_warning_levels,
    patrol_effort,
    prevalence,
    problem_animals,
    village_warnings,
    warning_level,
    warnings_per_month,
)
from amurlink.incidents.tables import INCIDENT_TABLES, OWNER_ONLY_TABLES, PERSONAL_FIELDS

__all__ = [
    "DEFAULT_WARNING_LEVELS",
    "INCIDENT_TABLES",
    "OWNER_ONLY_TABLES",
    "PERSONAL_FIELDS",
    "WarningLevel",
    "compensation_summary",
    "distance_to_settlements",
    "hotspots",
    "incident_counts",
    "parse_warning_levels",
    "patrol_effort",
    "prevalence",
    "problem_animals",
    "village_warnings",
    "warning_level",
    "warnings_per_month",
]
