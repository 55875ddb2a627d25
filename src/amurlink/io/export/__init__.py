"""Exports that share data: Darwin Core Archive, camtrapR tables, GeoPackage, xlsx.

Every export passes through :func:`amurlink.release.release` (protect on the complete
dataset, then scope to an optional ``agreement``) for its audience.
"""

from amurlink.io.export._dwc import dwc_tables, write_dwc
from amurlink.io.export._tables import (
    read_gpkg_point,
    write_camtrapr,
    write_geopackage,
    write_xlsx,
)

__all__ = [
    "dwc_tables",
    "read_gpkg_point",
    "write_camtrapr",
    "write_dwc",
    "write_geopackage",
    "write_xlsx",
]
