"""Raster grids for the landscape: ESRI ASCII grids (plain or gzipped) and GeoTIFF.

A :class:`Grid` is a 2-D float array plus the georeferencing Circuitscape and GIS tools
carry with it (lower-left corner, square cell size, nodata value, optional CRS). ASCII
grids are read without GDAL; GeoTIFF goes through rasterio (the ``landscape`` extra).
Every write is atomic (temporary file, then rename).
"""

from __future__ import annotations

import gzip
import io
import math
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from amurlink.exceptions import DataError

__all__ = ["Grid", "read_grid", "write_grid", "cell_of_xy"]

_HEADER_KEYS = ("ncols", "nrows", "xllcorner", "yllcorner", "cellsize", "nodata_value")


@dataclass(frozen=True)
class Grid:
    """A north-up raster: ``values[0, 0]`` is the north-west cell."""

    values: np.ndarray
    xllcorner: float = 0.0
    yllcorner: float = 0.0
    cellsize: float = 1.0
    nodata: float = -9999.0
    crs: str | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape  # type: ignore[return-value]

    @property
    def valid(self) -> np.ndarray:
        """Cells holding data (not nodata, not NaN)."""
        v = self.values
        return np.isfinite(v) & (v != self.nodata)

    def with_values(self, values: np.ndarray) -> Grid:
        return replace(self, values=np.asarray(values, dtype=float))

    def same_frame(self, other: Grid, *, atol: float = 1e-6) -> bool:
        return (
            self.shape == other.shape
            and abs(self.xllcorner - other.xllcorner) <= atol * max(1.0, abs(self.cellsize))
            and abs(self.yllcorner - other.yllcorner) <= atol * max(1.0, abs(self.cellsize))
            and abs(self.cellsize - other.cellsize) <= atol * max(1.0, abs(self.cellsize))
        )

    def transform(self):  # pragma: no cover - thin rasterio glue
        from affine import Affine

        top = self.yllcorner + self.shape[0] * self.cellsize
        return Affine(self.cellsize, 0.0, self.xllcorner, 0.0, -self.cellsize, top)


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def _is_tiff(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".tif", ".tiff", ".tif.gz", ".tiff.gz"))


def read_grid(path: str | os.PathLike[str]) -> Grid:
    """Read an ESRI ASCII grid (``.asc``, ``.asc.gz``) or a GeoTIFF (``.tif``, ``.tif.gz``)."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: file not found; give the path of an ASCII grid or GeoTIFF")
    if _is_tiff(p):
        return _read_tiff(p)
    return _read_ascii(p)


def _read_ascii(p: Path) -> Grid:
    header: dict[str, float] = {}
    try:
        with _open_text(p) as fh:
            lines_read = 0
            pending: str | None = None
            while True:
                line = fh.readline()
                if not line:
                    break
                parts = line.split()
                if not parts:
                    continue
                key = parts[0].lower()
                if key in _HEADER_KEYS or key in ("xllcenter", "yllcenter"):
                    if len(parts) < 2:
                        raise DataError(f"{p}: header line {line.strip()!r} has no value")
                    header[key] = float(parts[1])
                    lines_read += 1
                    continue
                pending = line
                break
            rest = fh.read()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"{p}: cannot read the grid ({exc})") from exc
    except ValueError as exc:
        raise DataError(f"{p}: header value is not a number ({exc})") from exc
    for key in ("ncols", "nrows", "cellsize"):
        if key not in header:
            raise DataError(f"{p}: ASCII grid header lacks '{key}'; expected the ESRI header")
    ncols, nrows = int(header["ncols"]), int(header["nrows"])
    cs = header["cellsize"]
    if "xllcorner" in header:
        xll = header["xllcorner"]
    else:
        xll = header.get("xllcenter", 0.5 * cs) - 0.5 * cs
    if "yllcorner" in header:
        yll = header["yllcorner"]
    else:
        yll = header.get("yllcenter", 0.5 * cs) - 0.5 * cs
    nodata = header.get("nodata_value", -9999.0)
    text = (pending or "") + rest
    try:
        data = np.array(text.split(), dtype=float)
    except ValueError as exc:
        raise DataError(f"{p}: a grid value is not a number ({exc})") from exc
    if data.size != nrows * ncols:
        raise DataError(
            f"{p}: header says {nrows} rows x {ncols} columns = {nrows * ncols} values, "
            f"the file holds {data.size}"
        )
    return Grid(data.reshape(nrows, ncols), xll, yll, cs, nodata)


def _read_tiff(p: Path) -> Grid:
    try:
        import rasterio
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise DataError(
            f"{p}: reading GeoTIFF needs rasterio; install the 'landscape' extra"
        ) from exc
    src_path = f"/vsigzip/{p}" if p.suffix == ".gz" else str(p)
    try:
        with rasterio.open(src_path) as ds:
            arr = ds.read(1).astype(float)
            t = ds.transform
            nodata = ds.nodata if ds.nodata is not None else -9999.0
            crs = ds.crs.to_string() if ds.crs else None
    except rasterio.errors.RasterioError as exc:
        raise DataError(f"{p}: cannot read the GeoTIFF ({exc})") from exc
    if abs(abs(t.a) - abs(t.e)) > 1e-9 * abs(t.a) or t.b or t.d:
        raise DataError(f"{p}: cells must be square and north-up (transform {tuple(t)[:6]})")
    cs = float(t.a)
    yll = float(t.f + t.e * arr.shape[0])
    return Grid(arr, float(t.c), yll, cs, float(nodata), crs)


def _fmt(values: np.ndarray, nodata: float) -> str:
    buf = io.StringIO()
    np.savetxt(buf, values, fmt="%.10g", delimiter=" ")
    return buf.getvalue()


def write_grid(grid: Grid, path: str | os.PathLike[str], *, compress: bool = False) -> Path:
    """Write ``grid`` atomically as an ASCII grid (``.gz`` when ``compress``) or GeoTIFF.

    The format follows the suffix: ``.tif``/``.tiff`` is GeoTIFF (deflate), anything else ASCII.
    Returns the path written (with ``.gz`` appended for compressed ASCII).
    """
    p = Path(path)
    if p.suffix.lower() in (".tif", ".tiff"):
        return _write_tiff(grid, p)
    if compress and p.suffix != ".gz":
        p = p.with_name(p.name + ".gz")
    nrows, ncols = grid.shape
    head = (
        f"ncols         {ncols}\nnrows         {nrows}\n"
        f"xllcorner     {grid.xllcorner!r}\nyllcorner     {grid.yllcorner!r}\n"
        f"cellsize      {grid.cellsize!r}\nNODATA_value  {_nodata_text(grid.nodata)}\n"
    )
    text = head + _fmt(np.asarray(grid.values, dtype=float), grid.nodata)
    payload = text.encode()
    if p.suffix == ".gz":
        payload = gzip.compress(payload, mtime=0)
    _atomic_write_bytes(p, payload)
    return p


def _nodata_text(nodata: float) -> str:
    return str(int(nodata)) if float(nodata).is_integer() else repr(float(nodata))


def _write_tiff(grid: Grid, p: Path) -> Path:
    try:
        import rasterio
    except ImportError as exc:  # pragma: no cover
        raise DataError(
            f"{p}: writing GeoTIFF needs rasterio; install the 'landscape' extra"
        ) from exc
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".tmp-", suffix=".tif")
    os.close(fd)
    try:
        with rasterio.open(
            tmp,
            "w",
            driver="GTiff",
            height=grid.shape[0],
            width=grid.shape[1],
            count=1,
            dtype="float64",
            crs=grid.crs,
            transform=grid.transform(),
            nodata=grid.nodata,
            compress="deflate",
        ) as ds:
            ds.write(np.asarray(grid.values, dtype="float64"), 1)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def _atomic_write_bytes(p: Path, payload: bytes) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    p = Path(path)
    _atomic_write_bytes(p, text.encode())
    return p


def cell_of_xy(grid: Grid, x: float, y: float) -> tuple[int, int]:
    """0-based (row, col) of the cell containing (x, y), Circuitscape's convention."""
    nrows = grid.shape[0]
    row = math.ceil(nrows - (y - grid.yllcorner) / grid.cellsize) - 1
    col = math.ceil((x - grid.xllcorner) / grid.cellsize) - 1
    return row, col
