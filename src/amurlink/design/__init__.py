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

__all__ = [
    "DETECTFNS",
    "DETECTOR_TYPES",
    "DesignExpectations",
    "HazardSurfaces",
    "cast_to_hazard",
    "expected_counts",
    "hazard_matrix",
    "hazard_surfaces",
    "rule_of_thumb_rse",
    "traps_and_usage",
]
