"""Survey design for SECR camera-trap studies (a Python port of R secrdesign's core)."""

from amurlink.design.expectations import (
    DETECTFNS,
    DETECTOR_TYPES,
    DesignExpectations,
    HazardSurfaces,
    array_summary,
    cast_to_hazard,
    expected_counts,
    hazard_matrix,
    hazard_surfaces,
    rule_of_thumb_rse,
    traps_and_usage,
)
from amurlink.design.national import cameras_needed_alone, costing, joint_vs_national
from amurlink.design.power import (
    TrendPower,
    annual_change_for,
    power_two_surveys,
    ratio_interval,
    simulate_trend_power,
    simulate_two_survey_power,
    trend_power,
    years_to_detect,
)
from amurlink.design.search import (
    CRITERIA,
    SearchResult,
    near_lines,
    regular_layout,
    search_layout,
)
from amurlink.design.simulation import (
    expected_transboundary,
    simulate_capthist,
    simulate_counts,
    simulate_design,
    summarise_simulation,
)
from amurlink.design.spacing import SpacingResult, detector_spacing, optimal_spacing
from amurlink.design.study import grid_layout, neaspec_layout, rule_of_thumb_check
from amurlink.design.theme import theme_study_design, theme_tables

__all__ = [
    "CRITERIA",
    "DETECTFNS",
    "DETECTOR_TYPES",
    "DesignExpectations",
    "HazardSurfaces",
    "SearchResult",
    "SpacingResult",
    "TrendPower",
    "annual_change_for",
    "array_summary",
    "cameras_needed_alone",
    "cast_to_hazard",
    "costing",
    "detector_spacing",
    "expected_counts",
    "expected_transboundary",
    "grid_layout",
    "hazard_matrix",
    "hazard_surfaces",
    "joint_vs_national",
    "near_lines",
    "neaspec_layout",
    "optimal_spacing",
    "power_two_surveys",
    "ratio_interval",
    "regular_layout",
    "rule_of_thumb_check",
    "rule_of_thumb_rse",
    "search_layout",
    "simulate_capthist",
    "simulate_counts",
    "simulate_design",
    "simulate_trend_power",
    "simulate_two_survey_power",
    "summarise_simulation",
    "theme_study_design",
    "theme_tables",
    "traps_and_usage",
    "trend_power",
    "years_to_detect",
]
