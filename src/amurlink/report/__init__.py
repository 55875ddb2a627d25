"""The joint transboundary report (HTML, CSV, GeoPackage, PDF) in English, Chinese and Russian."""

from amurlink.report._i18n import LANGUAGES
from amurlink.report._sections import Section, build_sections
from amurlink.report._view import ReportView, band_distance_km, deployment_levels
from amurlink.report.displays import (
    CountryBarDisplay,
    DistanceDisplay,
    StationMapDisplay,
    TrackMapDisplay,
    TrendDisplay,
)
from amurlink.report.inputs import ReportInputs, load_report_inputs
from amurlink.report.render import (
    ChromiumNotFoundError,
    ReportFiles,
    audience_for,
    find_chromium,
    prepare_inputs,
    render_html,
    render_pdf,
    write_report,
)
from amurlink.report.render import (
    build_report_view as build_view,  # the records the analyses use, then protected
)
from amurlink.report.tables import Summary

__all__ = [
    "LANGUAGES",
    "ReportInputs",
    "ReportView",
    "ReportFiles",
    "Section",
    "Summary",
    "StationMapDisplay",
    "TrackMapDisplay",
    "CountryBarDisplay",
    "DistanceDisplay",
    "TrendDisplay",
    "ChromiumNotFoundError",
    "audience_for",
    "band_distance_km",
    "build_sections",
    "build_view",
    "deployment_levels",
    "find_chromium",
    "load_report_inputs",
    "prepare_inputs",
    "render_html",
    "render_pdf",
    "write_report",
]
