"""Camera-trap analyses with camtrapR semantics: effort, records, histories, activity."""

from amurlink.analysis.camtrap._activity import (
    OverlapResult,
    activity_radial,
    bandwidth,
    density_fit,
    overlap_bootstrap,
    overlap_estimates,
    sun_time,
    to_radians,
)
from amurlink.analysis.camtrap._dataset import (
    naive_occupancy,
    record_table,
    relative_abundance,
    station_table,
)
from amurlink.analysis.camtrap._effort import camera_operation, effort_summary
from amurlink.analysis.camtrap._history import DetectionHistory, detection_history
from amurlink.analysis.camtrap._records import detection_maps, filter_record_table, survey_report

__all__ = [
    "DetectionHistory",
    "OverlapResult",
    "activity_radial",
    "bandwidth",
    "camera_operation",
    "density_fit",
    "detection_history",
    "detection_maps",
    "effort_summary",
    "filter_record_table",
    "naive_occupancy",
    "overlap_bootstrap",
    "overlap_estimates",
    "record_table",
    "relative_abundance",
    "station_table",
    "sun_time",
    "survey_report",
    "to_radians",
]
