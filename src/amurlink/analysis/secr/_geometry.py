"""Area and line detector types and the check of their shapes (no numerical code here, so
the capture history can validate them without the likelihood)."""

from __future__ import annotations

from typing import Any

import numpy as np

from amurlink.exceptions import DataError

__all__ = ["AREA_DETECTORS", "POLYGON_DETECTORS", "TRANSECT_DETECTORS", "detector_geometry"]

POLYGON_DETECTORS = ("polygon", "polygonX")
TRANSECT_DETECTORS = ("transect", "transectX")
AREA_DETECTORS = POLYGON_DETECTORS + TRANSECT_DETECTORS


def detector_geometry(geom: Any, detector: str, label: str = "") -> Any:
    """Check one detector's geometry for its detector type; return it (shapely)."""
    import shapely

    where = f"detector {label}: " if label else ""
    if geom is None or not isinstance(geom, shapely.Geometry) or geom.is_empty:
        raise DataError(f"{where}{detector} detectors need a shapely geometry, got {geom!r}")
    if detector in POLYGON_DETECTORS:
        if geom.geom_type not in ("Polygon", "MultiPolygon") or not geom.area > 0:
            raise DataError(f"{where}{detector} detectors are areas (Polygon or MultiPolygon "
                            f"with positive area), got a {geom.geom_type}")
        if not geom.is_valid:
            raise DataError(f"{where}the polygon is not valid ({shapely.is_valid_reason(geom)});"
                            " fix it, e.g. with shapely.make_valid")
    else:
        if geom.geom_type not in ("LineString", "MultiLineString") or not geom.length > 0:
            raise DataError(f"{where}{detector} detectors are lines (LineString or "
                            f"MultiLineString with positive length), got a {geom.geom_type}")
    coords = shapely.get_coordinates(geom)
    if not np.all(np.isfinite(coords)):
        raise DataError(f"{where}the geometry has missing or infinite coordinates")
    return geom
