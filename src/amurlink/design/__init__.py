"""Survey design for SECR camera-trap studies (a Python port of R secrdesign's core)."""

from amurlink.design.expectations import (
    DETECTFNS,
    DETECTOR_TYPES,
    DesignExpectations,
    HazardSurfaces,
    cast_to_hazard,
    expected_counts,
    hazard_matrix,
    hazard_surfaces,
    rule_of_thumb_rse,
    traps_and_usage,
)
from amurlink.design.spacing import SpacingResult, detector_spacing, optimal_spacing

__all__ = [
    "DETECTFNS",
    "DETECTOR_TYPES",
    "DesignExpectations",
    "HazardSurfaces",
    "SpacingResult",
    "cast_to_hazard",
    "detector_spacing",
    "expected_counts",
    "hazard_matrix",
    "hazard_surfaces",
    "optimal_spacing",
    "rule_of_thumb_rse",
    "traps_and_usage",
]
