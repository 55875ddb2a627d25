"""camtrapR-style table export, GeoPackage of stations (stdlib sqlite3) and xlsx."""

from __future__ import annotations

import os
import sqlite3
import struct
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from amurlink.core.protection import Audience, ProtectionPolicy
from amurlink.dataset import Dataset
from amurlink.io.export._cells import escape_formulas

__all__ = ["write_camtrapr", "write_geopackage", "write_xlsx"]


def _protected(dataset: Dataset, audience: Audience | None, policy: ProtectionPolicy | None,
               agreement: Any = None, today: date | None = None) -> Dataset:
    """``dataset`` through :func:`amurlink.release.release`, the one output gate: protected
    for ``audience`` on the complete dataset, then cut to ``agreement`` (if any). Without an
    audience: the agreement's recipient, else the owner; without a policy: the defaults."""
    from amurlink.release import release

    if audience is None and agreement is None:
        audience = Audience.owner()
    return release(dataset, audience=audience, policy=policy or ProtectionPolicy(),
                   agreement=agreement, today=today).dataset


def write_camtrapr(dataset: Dataset, directory: str | os.PathLike[str], /, *,
                   audience: Audience | None = None, policy: ProtectionPolicy | None = None,
                   threshold_min: float = 30.0, agreement: Any = None,
                   today: date | None = None) -> dict[str, Path]:
    """Write camtrapR ``CTtable.csv`` (stations) and ``recordTable.csv`` after protection."""
    from amurlink.analysis.camtrap import record_table, station_table

    safe = _protected(dataset, audience, policy, agreement, today)
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"stations": out / "CTtable.csv", "records": out / "recordTable.csv"}
    # text that looks like a formula is written as text (these tables open in spreadsheets)
    escape_formulas(station_table(safe)).to_csv(paths["stations"], index=False)
    escape_formulas(record_table(safe, threshold_min=threshold_min).drop(
        columns=["eventStart"])).to_csv(paths["records"], index=False)
    return paths


def _gpkg_point(x: float, y: float, srs_id: int = 4326) -> bytes:
    # GeoPackage binary header: magic 'GP', version 0, flags (little endian, no envelope)
    header = b"GP" + bytes([0, 0b00000001]) + struct.pack("<i", srs_id)
    wkb = struct.pack("<BIdd", 1, 1, float(x), float(y))
    return header + wkb


def _sql_type(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(s):
        return "INTEGER"
    if pd.api.types.is_float_dtype(s):
        return "DOUBLE"
    return "TEXT"


def _py(v):
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


def write_geopackage(dataset: Dataset, path: str | os.PathLike[str], /, *,
                     audience: Audience | None = None, policy: ProtectionPolicy | None = None,
                     threshold_min: float = 30.0, agreement: Any = None,
                     today: date | None = None) -> Path:
    """Write a GeoPackage with layer ``stations`` (points, WGS84) and table ``records``.

    Stations carry their (protected) coordinates, set-up / retrieval, trap-days and the
    number of independent events; ``records`` holds the independent records (no geometry).
    Written with :mod:`sqlite3` following the OGC GeoPackage 1.3 encoding.
    """
    from amurlink.analysis.camtrap import camera_operation, record_table, station_table

    safe = _protected(dataset, audience, policy, agreement, today)
    st = station_table(safe)
    problems = any(c.startswith("Problem") for c in st.columns)
    camop = camera_operation(st, station_col="Camera", has_problems=problems,
                             date_format="ymd HMS")
    st["trapDays"] = np.nansum(camop.to_numpy(dtype=float), axis=1)
    rec = record_table(safe, threshold_min=threshold_min).drop(columns=["eventStart"])
    st["events"] = st["Camera"].map(rec.groupby("Camera").size()).fillna(0).astype(int)
    st = st.loc[:, [c for c in st.columns if not c.startswith("Problem")]]
    p = Path(path)
    if p.exists():
        p.unlink()
    con = sqlite3.connect(p)
    try:
        con.execute("PRAGMA application_id = 1196444487")
        con.execute("PRAGMA user_version = 10300")
        con.executescript("""
        CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
          organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
          definition TEXT NOT NULL, description TEXT);
        CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY,
          data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '',
          last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
          min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
          CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
        CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
          geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL,
          m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name));
        """)
        wgs84 = ('GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],'
                 'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4326"]]')
        con.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?,?,?,?,?,?)", [
            ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", None),
            ("Undefined geographic SRS", 0, "NONE", 0, "undefined", None),
            ("WGS 84 geodetic", 4326, "EPSG", 4326, wgs84, "longitude/latitude WGS84"),
        ])
        cols = [c for c in st.columns]
        defs = ", ".join(f'"{c}" {_sql_type(st[c])}' for c in cols)
        con.execute(f'CREATE TABLE stations (fid INTEGER PRIMARY KEY AUTOINCREMENT, '
                    f'geom POINT, {defs})')
        rows = [(_gpkg_point(r["longitude"], r["latitude"]), *[_py(r[c]) for c in cols])
                for _, r in st.iterrows()]
        marks = ",".join("?" * (len(cols) + 1))
        names = ",".join(["geom", *[f'"{c}"' for c in cols]])
        con.executemany(f"INSERT INTO stations ({names}) VALUES ({marks})", rows)
        con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, min_x, "
                    "min_y, max_x, max_y, srs_id) VALUES (?,?,?,?,?,?,?,?)",
                    ("stations", "features", "stations", float(st["longitude"].min()),
                     float(st["latitude"].min()), float(st["longitude"].max()),
                     float(st["latitude"].max()), 4326))
        con.execute("INSERT INTO gpkg_geometry_columns VALUES (?,?,?,?,?,?)",
                    ("stations", "geom", "POINT", 4326, 0, 0))
        rcols = list(rec.columns)
        rdefs = ", ".join(f'"{c}" {_sql_type(rec[c])}' for c in rcols)
        con.execute(f"CREATE TABLE records (fid INTEGER PRIMARY KEY AUTOINCREMENT, {rdefs})")
        con.executemany(
            f"INSERT INTO records ({','.join(f'{chr(34)}{c}{chr(34)}' for c in rcols)}) "
            f"VALUES ({','.join('?' * len(rcols))})",
            [tuple(_py(v) for v in row) for row in rec.itertuples(index=False)])
        con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier) "
                    "VALUES ('records', 'attributes', 'records')")
        con.commit()
    finally:
        con.close()
    return p


def read_gpkg_point(blob: bytes) -> tuple[float, float, int]:
    """Decode a GeoPackage point geometry blob to ``(x, y, srs_id)``."""
    if blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry blob")
    flags = blob[3]
    srs = struct.unpack("<i" if flags & 1 else ">i", blob[4:8])[0]
    env = (flags >> 1) & 0b111
    off = 8 + {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[env]
    order = "<" if blob[off] == 1 else ">"
    gtype, x, y = struct.unpack(order + "Idd", blob[off + 1: off + 21])
    if gtype != 1:
        raise ValueError(f"geometry type {gtype} is not a point")
    return x, y, srs


def write_xlsx(tables: dict[str, pd.DataFrame] | pd.DataFrame, path: str | os.PathLike[str],
               /) -> Path:
    """Write one or several tables to an ``.xlsx`` workbook (one sheet each).

    Text cells starting with ``= + - @`` are written with a leading ``'`` so that they stay
    text (:func:`~amurlink.io.export._cells.escape_formulas`); numbers stay numeric.

    Raises
    ------
    ImportError
        If ``openpyxl`` is not installed (``pip install openpyxl``).
    """
    try:
        import openpyxl  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "writing xlsx needs the optional package 'openpyxl' (pip install openpyxl); "
            "export CSV instead with --to camtrapr") from exc
    frames = {"Sheet1": tables} if isinstance(tables, pd.DataFrame) else tables
    p = Path(path)
    with pd.ExcelWriter(p, engine="openpyxl") as xl:
        for name, frame in frames.items():
            escape_formulas(frame).to_excel(xl, sheet_name=str(name)[:31], index=False)
    return p
