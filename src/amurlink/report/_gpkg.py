"""A minimal OGC GeoPackage 1.3 writer (stdlib sqlite3): points and lines with attributes.

Used for the report's results; to be merged with the camera-trap export writer.
"""

from __future__ import annotations

import math
import sqlite3
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from amurlink.core.crs import as_crs

__all__ = ["write_gpkg", "read_gpkg_geometry"]

_WKB_TYPES = {"POINT": 1, "LINESTRING": 2}
_SQL_TYPES = {"i": "INTEGER", "u": "INTEGER", "f": "REAL", "b": "BOOLEAN"}


def _wkb(kind: str, pts: Sequence[tuple[float, float]]) -> bytes:
    if kind == "POINT":
        (x, y), = pts
        return struct.pack("<BIdd", 1, 1, x, y)
    body = b"".join(struct.pack("<dd", x, y) for x, y in pts)
    return struct.pack("<BII", 1, 2, len(pts)) + body


def _blob(geom: Any, srs_id: int) -> bytes | None:
    if geom is None:
        return None
    kind, pts = geom
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    flags = 0b00000011  # little endian, envelope [minx, maxx, miny, maxy]
    head = b"GP" + struct.pack("<BBi", 0, flags, srs_id)
    env = struct.pack("<dddd", min(xs), max(xs), min(ys), max(ys))
    return head + env + _wkb(kind, pts)


def read_gpkg_geometry(blob: bytes) -> tuple[str, list[tuple[float, float]]]:
    """Decode a GeoPackage geometry blob written by :func:`write_gpkg` (points, lines)."""
    if blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry blob")
    flags = blob[3]
    env_len = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(flags >> 1) & 0b111]
    wkb = blob[8 + env_len:]
    order = "<" if wkb[0] == 1 else ">"
    gtype = struct.unpack(order + "I", wkb[1:5])[0] % 1000
    if gtype == 1:
        return "POINT", [struct.unpack(order + "dd", wkb[5:21])]
    if gtype == 2:
        n = struct.unpack(order + "I", wkb[5:9])[0]
        return "LINESTRING", [struct.unpack(order + "dd", wkb[9 + 16 * i:25 + 16 * i])
                              for i in range(n)]
    raise ValueError(f"geometry type {gtype} is not supported here")


def _sql_type(series: pd.Series) -> str:
    return _SQL_TYPES.get(series.dtype.kind, "TEXT")


def _value(v: Any) -> Any:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if hasattr(v, "item"):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v if isinstance(v, int | float | str | bytes) else str(v)


def write_gpkg(path: str | Path, layers: Mapping[str, tuple[pd.DataFrame, list[Any], str]], *,
               crs: Any) -> Path:
    """Write feature layers to a new GeoPackage.

    Parameters
    ----------
    path : str or Path
        Output file (replaced).
    layers : mapping of str to (DataFrame, list of geometry, str)
        Layer name to its attributes, one geometry per row (``(kind, [(x, y), ...])`` or
        None) and the geometry type (``POINT`` or ``LINESTRING``).
    crs : str, int or pyproj.CRS
        CRS of the coordinates (an EPSG CRS).
    """
    path = Path(path)
    if path.exists():
        path.unlink()
    parsed = as_crs(crs)
    epsg = parsed.to_epsg() or 99999
    con = sqlite3.connect(path)
    try:
        cur = con.cursor()
        cur.execute("PRAGMA application_id = 1196444487")  # 'GPKG'
        cur.execute("PRAGMA user_version = 10300")
        cur.execute("""CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL,
            srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
            organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL,
            description TEXT)""")
        cur.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?,?,?,?,?,?)", [
            ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", None),
            ("Undefined geographic SRS", 0, "NONE", 0, "undefined", None),
            ("WGS 84 geodetic", 4326, "EPSG", 4326,
             as_crs("EPSG:4326").to_wkt("WKT1_GDAL"), None),
            (parsed.name, epsg, "EPSG", epsg, parsed.to_wkt("WKT1_GDAL"), None),
        ] if epsg != 4326 else [
            ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", None),
            ("Undefined geographic SRS", 0, "NONE", 0, "undefined", None),
            ("WGS 84 geodetic", 4326, "EPSG", 4326, parsed.to_wkt("WKT1_GDAL"), None),
        ])
        cur.execute("""CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY,
            data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '',
            last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
            min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
            CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id)
                REFERENCES gpkg_spatial_ref_sys(srs_id))""")
        cur.execute("""CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL,
            column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL,
            z TINYINT NOT NULL, m TINYINT NOT NULL,
            CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name))""")
        for name, (frame, geoms, gtype) in layers.items():
            if len(frame) != len(geoms):
                raise ValueError(f"layer {name!r}: {len(frame)} rows but {len(geoms)} geometries")
            cols = [c for c in frame.columns if c not in ("fid", "geom")]
            defs = ", ".join(f'"{c}" {_sql_type(frame[c])}' for c in cols)
            cur.execute(f'CREATE TABLE "{name}" (fid INTEGER PRIMARY KEY AUTOINCREMENT, '
                        f'geom {gtype}{", " + defs if defs else ""})')
            marks = ", ".join("?" for _ in range(len(cols) + 1))
            names = ", ".join(["geom", *[f'"{c}"' for c in cols]])
            rows = [(_blob(g, epsg), *(_value(v) for v in rec))
                    for g, rec in zip(geoms, frame[cols].itertuples(index=False, name=None),
                                      strict=True)]
            cur.executemany(f'INSERT INTO "{name}" ({names}) VALUES ({marks})', rows)
            xs = [p[0] for g in geoms if g for p in g[1]]
            ys = [p[1] for g in geoms if g for p in g[1]]
            box = (min(xs), min(ys), max(xs), max(ys)) if xs else (None,) * 4
            cur.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, min_x, "
                        "min_y, max_x, max_y, srs_id) VALUES (?, 'features', ?, ?, ?, ?, ?, ?)",
                        (name, name, *box, epsg))
            cur.execute("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, 0, 0)",
                        (name, gtype, epsg))
        con.commit()
    finally:
        con.close()
    return path
