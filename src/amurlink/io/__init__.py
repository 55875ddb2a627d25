"""Reading, validating and writing data packages."""

from amurlink.io._source import DEFAULT_MAX_BYTES
from amurlink.io.camtrap_dp import (
    AMURLINK_RESOURCE_KEY,
    empty_table,
    load_camtrap_dp,
    read_camtrap_dp,
    validate_camtrap_dp,
    write_camtrap_dp,
    write_table,
)
from amurlink.io.validation import Issue, ValidationReport

__all__ = [
    "AMURLINK_RESOURCE_KEY",
    "DEFAULT_MAX_BYTES",
    "Issue",
    "ValidationReport",
    "empty_table",
    "load_camtrap_dp",
    "read_camtrap_dp",
    "validate_camtrap_dp",
    "write_camtrap_dp",
    "write_table",
]
