"""Run Circuitscape ``.ini`` jobs unchanged: raster and network modes, Circuitscape's outputs.

:func:`read_job` parses a job file into a :class:`Job` and refuses, by name, every option
this implementation does not carry out (it never silently ignores one). :func:`run_job`
solves it and writes the files Circuitscape writes, with its names and formats:

* pairwise: ``<name>_resistances.out`` (matrix with focal ids, ``-1`` = not connected or
  excluded), ``<name>_curmap_<i>_<j>.asc``,
  ``<name>_cum_curmap.asc``, ``<name>_max_curmap.asc``, ``<name>_voltmap_<i>_<j>.asc``;
* one-to-all / all-to-one: ``<name>_resistances.out`` (id, resistance),
  ``<name>_curmap_<i>.asc``, ``<name>_voltmap_<i>.asc`` (one-to-all), cumulative and maximum;
* advanced: ``<name>_curmap.asc``, ``<name>_voltmap.asc``;
* network mode: ``_resistances.out``, ``_voltages[_i_j].txt``, ``_branch_currents[_i_j].txt``,
  ``_node_currents[_i_j].txt`` and the cumulative ``_cum`` files, with the graph's node ids.

``<name>`` is ``output_file`` without its extension. Relative paths in the job are resolved
against the job file's folder, then the working directory.
"""

from __future__ import annotations

import configparser
import gzip
import io
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from amurlink.exceptions import ConfigError, DataError
from amurlink.landscape import circuit
from amurlink.landscape.grid import Grid, atomic_write_text, cell_of_xy, read_grid, write_grid

__all__ = ["Job", "read_job", "run_job", "JobResult"]

_NONE = {"", "none", "false"}
BRANCH_CUTOFF = 1e-6
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
_SCENARIOS = {"pairwise", "one-to-all", "all-to-one", "advanced"}
_SOLVERS = {"cg+amg", "cholmod", "pardiso", "accelerate"}
# every option a Circuitscape job may carry; anything else is refused by name
_KNOWN_OPTIONS = {
    # performance or logging hints: results do not depend on them
    "parallelize",
    "max_parallel",
    "low_memory_mode",
    "print_timings",
    "print_rusages",
    "preemptive_memory_release",
    "log_level",
    "log_file",
    "profiler_log_file",
    "screenprint_log",
    "version",
    "use_64bit_indexing",
    "suppress_messages",
    "write_as_tif",
    "precision",
    "reclass_file",
    "polygon_file",
    "mask_file",
    "source_file",
    "ground_file",
    "point_file",
    "included_pairs_file",
    "variable_source_file",
    "habitat_file",
    "output_file",
    "solver",
    "data_type",
    "scenario",
    "connect_four_neighbors_only",
    "connect_using_avg_resistances",
    "habitat_map_is_resistances",
    "ground_file_is_resistances",
    "remove_src_or_gnd",
    "use_unit_currents",
    "use_direct_grounds",
    "use_included_pairs",
    "use_polygons",
    "use_mask",
    "use_variable_source_strengths",
    "write_cur_maps",
    "write_cum_cur_map_only",
    "write_max_cur_maps",
    "write_volt_maps",
    "set_null_currents_to_nodata",
    "set_null_voltages_to_nodata",
    "compress_grids",
    "log_transform_maps",
    "set_focal_node_currents_to_zero",
    "use_reclass_table",
    "cholmod_batch_size",
    "num_parallel",
}
# option -> value that would need a feature this implementation lacks
_REFUSED_WHEN_TRUE = {
    "log_transform_maps": "log-transformed current maps",
    "set_focal_node_currents_to_zero": "zeroing currents at focal nodes",
}


@dataclass
class Job:
    """A parsed Circuitscape job (keys lower-cased, sections flattened)."""

    path: Path | None
    options: dict[str, str]
    base_dir: Path = field(default_factory=Path.cwd)

    def text(self, key: str, default: str = "") -> str:
        return self.options.get(key, default).strip()

    def flag(self, key: str, default: bool = False) -> bool:
        raw = self.options.get(key)
        if raw is None:
            return default
        val = raw.strip().lower()
        if val in _TRUE:
            return True
        if val in _FALSE or val in ("", "none", "not entered"):
            return False
        raise ConfigError(f"{self._where()}: option {key} = {raw!r}; expected True or False")

    def file(self, key: str, *, required: bool = True) -> Path | None:
        raw = self.text(key)
        if raw.lower() in _NONE or raw.startswith("(Browse"):
            if required:
                raise ConfigError(f"{self._where()}: option {key} names no file; give its path")
            return None
        p = Path(raw).expanduser()
        if not p.is_absolute():
            cand = self.base_dir / p
            p = cand if cand.exists() or not p.exists() else p.resolve()
        if required and not p.exists():
            raise ConfigError(f"{self._where()}: {key} = {raw!r}: file not found ({p})")
        return p

    @property
    def scenario(self) -> str:
        return self.text("scenario").lower()

    @property
    def data_type(self) -> str:
        return self.text("data_type", "raster").lower()

    @property
    def output_prefix(self) -> Path:
        raw = self.text("output_file")
        if raw.lower() in _NONE:
            raise ConfigError(f"{self._where()}: output_file is required")
        p = Path(raw).expanduser()
        if not p.is_absolute():
            p = self.base_dir / p
        return p.with_suffix("") if p.suffix else p

    def _where(self) -> str:
        return str(self.path) if self.path else "job"


def read_job(path: str | os.PathLike[str], overrides: dict[str, str] | None = None) -> Job:
    """Parse a Circuitscape ``.ini`` file; ``overrides`` replace options by (lower-case) name."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"{p}: job file not found")
    parser = configparser.ConfigParser(
        interpolation=None, strict=False, comment_prefixes=("#", ";"), inline_comment_prefixes=None
    )
    try:
        parser.read_string(p.read_text(encoding="utf-8", errors="replace"))
    except configparser.Error as exc:
        raise ConfigError(
            f"{p}: not a Circuitscape .ini job ({exc.__class__.__name__}: {exc})"
        ) from exc
    opts: dict[str, str] = {}
    for section in parser.sections():
        for key, val in parser.items(section):
            opts[key.lower()] = val.strip()
    for key, val in (overrides or {}).items():
        opts[key.lower()] = val
    job = Job(p, opts, p.parent.resolve())
    validate_job(job)
    return job


def job_from_options(options: dict[str, str], base_dir: Path | None = None) -> Job:
    job = Job(None, {k.lower(): str(v) for k, v in options.items()}, base_dir or Path.cwd())
    validate_job(job)
    return job


def validate_job(job: Job) -> None:
    """Refuse unknown or unimplemented options by name."""
    where = job._where()
    for key in job.options:
        if key not in _KNOWN_OPTIONS:
            raise ConfigError(
                f"{where}: option {key!r} is not implemented by amurlink corridors; "
                "remove it or run Circuitscape itself"
            )
    for key, what in _REFUSED_WHEN_TRUE.items():
        if job.flag(key):
            raise ConfigError(f"{where}: {key} = True ({what}) is not implemented; set it to False")
    if job.data_type not in ("raster", "network"):
        raise ConfigError(f"{where}: data_type = {job.data_type!r}; expected raster or network")
    if job.scenario not in _SCENARIOS:
        raise ConfigError(
            f"{where}: scenario = {job.scenario!r}; expected one of {sorted(_SCENARIOS)}"
        )
    if job.data_type == "network" and job.scenario not in ("pairwise", "advanced"):
        raise ConfigError(f"{where}: network mode runs pairwise or advanced, not {job.scenario}")
    solver = job.text("solver", "cg+amg").lower()
    if solver not in _SOLVERS:
        raise ConfigError(f"{where}: solver = {solver!r}; expected cg+amg or cholmod")
    precision = job.text("precision", "double").lower()
    if precision not in ("", "double", "none"):
        raise ConfigError(f"{where}: precision = {precision!r} is not implemented (double only)")
    rm = job.text("remove_src_or_gnd", "keepall").lower()
    if rm not in ("keepall", "rmvsrc", "rmvgnd", "rmvall", "not entered", ""):
        raise ConfigError(
            f"{where}: remove_src_or_gnd = {rm!r}; expected keepall, rmvsrc, rmvgnd or rmvall"
        )
    for key in ("write_as_tif", "compress_grids", "write_cur_maps", "write_volt_maps"):
        job.flag(key)  # each must read as True or False


# --------------------------------------------------------------------------- helpers


@dataclass
class JobResult:
    """What a job produced: resistances (pairwise: matrix with ids; others: id, value) and files."""

    scenario: str
    ids: list[int]
    resistances: np.ndarray
    files: list[Path]
    cum_current: np.ndarray | None = None


def _fmt(x: float) -> str:
    if np.isfinite(x) and x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.10g}"


def _read_rows(path: Path, min_cols: int) -> list[list[float]]:
    rows = []
    opener: Callable[..., io.TextIOBase]
    opener = gzip.open if path.suffix == ".gz" else open  # type: ignore[assignment]
    with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            parts = line.replace(",", " ").split()
            if not parts or parts[0].startswith("#"):
                continue
            try:
                vals = [float(x) for x in parts]
            except ValueError as exc:
                raise DataError(f"{path}: line {lineno}: {line.strip()!r} is not numeric") from exc
            if len(vals) < min_cols:
                raise DataError(
                    f"{path}: line {lineno} has {len(vals)} columns; expected {min_cols}"
                )
            rows.append(vals)
    return rows


def _is_text_list(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".txt", ".txt.gz", ".csv"))


def _cells_from_file(path: Path, frame: Grid, what: str) -> dict[int, list[tuple[int, int]]]:
    """Focal points: id -> cells, from a raster (value = id, > 0) or a text list ``id x y``."""
    out: dict[int, list[tuple[int, int]]] = {}
    if _is_text_list(path):
        for vals in _read_rows(path, 3):
            pid, x, y = int(vals[0]), vals[1], vals[2]
            r, c = cell_of_xy(frame, x, y)
            if not (0 <= r < frame.shape[0] and 0 <= c < frame.shape[1]):
                raise DataError(f"{path}: {what} {pid} at ({x}, {y}) lies outside the habitat grid")
            out.setdefault(pid, []).append((r, c))
    else:
        g = _read_aligned(path, frame, what)
        vals = np.where(g.valid, g.values, 0)
        rr, cc = np.nonzero(vals > 0)
        order = np.lexsort((rr, cc))  # column-major scan, as Circuitscape
        for r, c in zip(rr[order], cc[order], strict=True):
            out.setdefault(int(vals[r, c]), []).append((int(r), int(c)))
    return dict(sorted(out.items()))


def _read_aligned(path: Path, frame: Grid, what: str) -> Grid:
    g = read_grid(path)
    if g.shape != frame.shape:
        raise DataError(
            f"{path}: {what} grid is {g.shape[0]} x {g.shape[1]} cells, the habitat grid "
            f"{frame.shape[0]} x {frame.shape[1]}; give grids of the same extent and cell size"
        )
    if abs(g.cellsize - frame.cellsize) > 1e-6 * frame.cellsize:
        raise DataError(
            f"{path}: {what} cell size {g.cellsize} differs from the habitat's {frame.cellsize}"
        )
    return g


def _value_list(path: Path, what: str) -> dict[int, float]:
    return {int(r[0]): float(r[1]) for r in _read_rows(path, 2)}


def _read_include(path: Path, ids: list[int], *, with_listed: bool = False):
    """Included pairs: ``mode include|exclude`` + pairs, or ``min``/``max`` + a matrix."""
    text = path.read_text(encoding="utf-8", errors="replace").split("\n")
    lines = [ln.split() for ln in text if ln.strip()]
    k = len(ids)
    pos = {pid: a for a, pid in enumerate(ids)}
    if lines and lines[0][0].lower() == "mode":
        mode = lines[0][1].lower() if len(lines[0]) > 1 else ""
        if mode not in ("include", "exclude"):
            raise DataError(f"{path}: line 1: mode {mode!r}; expected include or exclude")
        mat = np.zeros((k, k), dtype=bool)
        mentioned: list[int] = []
        for lineno, parts in enumerate(lines[1:], 2):
            try:
                a, b = int(float(parts[0])), int(float(parts[1]))
            except (ValueError, IndexError) as exc:
                raise DataError(f"{path}: line {lineno}: expected two point ids") from exc
            mentioned += [a, b]
            if a in pos and b in pos:
                mat[pos[a], pos[b]] = mat[pos[b], pos[a]] = True
        if mode == "exclude":
            return (~mat, None) if with_listed else ~mat
        return (mat, sorted(set(mentioned))) if with_listed else mat
    lo, hi = -math.inf, math.inf
    rest = []
    for parts in lines:
        key = parts[0].lower()
        if key == "min":
            lo = float(parts[1])
        elif key == "max":
            hi = float(parts[1])
        else:
            rest.append(parts)
    if not rest:
        raise DataError(f"{path}: no pairs; expected 'mode include' or a min/max matrix")
    try:
        header = [int(float(x)) for x in rest[0][1:]]
        mat = np.zeros((k, k), dtype=bool)
        for parts in rest[1:]:
            a = int(float(parts[0]))
            for b, val in zip(header, parts[1:], strict=False):
                v = float(val)
                if a in pos and b in pos and lo <= v <= hi:
                    mat[pos[a], pos[b]] = True
    except (ValueError, IndexError) as exc:
        raise DataError(f"{path}: the include matrix is not numeric ({exc})") from exc
    mat = mat & mat.T
    return (mat, header) if with_listed else mat


def _write_resistance_matrix(prefix: Path, ids: list[int], res: np.ndarray) -> Path:
    lines = [" ".join(["0"] + [str(i) for i in ids])]
    for a, pid in enumerate(ids):
        lines.append(" ".join([str(pid)] + [_fmt(x) for x in res[a]]))
    return atomic_write_text(
        prefix.with_name(prefix.name + "_resistances.out"), "\n".join(lines) + "\n"
    )


def _write_resistance_list(prefix: Path, ids: list[int], res: np.ndarray) -> Path:
    text = "".join(f"{pid} {_fmt(r)}\n" for pid, r in zip(ids, res, strict=True))
    return atomic_write_text(prefix.with_name(prefix.name + "_resistances.out"), text)


# --------------------------------------------------------------------------- raster


@dataclass
class _Raster:
    frame: Grid
    graph: circuit.CircuitGraph
    ids: list[int]
    focal: list[int]
    habitat: np.ndarray  # bool, cells with habitat


def _reclassify(job: Job, frame: Grid) -> Grid:
    """Replace habitat values by a ``reclass_file`` table (lines ``old new``; others kept)."""
    rpath = job.file("reclass_file")
    assert rpath is not None
    table = _read_rows(rpath, 2)
    if not table:
        raise DataError(f"{rpath}: no 'old new' lines in the reclassification table")
    vals = frame.values.copy()
    src = frame.values
    for row in table:
        vals[frame.valid & (src == row[0])] = row[1]
    return frame.with_values(vals)


def _conductance(job: Job) -> tuple[Grid, np.ndarray]:
    hpath = job.file("habitat_file")
    assert hpath is not None
    frame = read_grid(hpath)
    if job.flag("use_reclass_table"):
        frame = _reclassify(job, frame)
    vals = frame.values
    valid = frame.valid
    if job.flag("habitat_map_is_resistances", True):
        bad = valid & (vals <= 0)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise DataError(
                f"{hpath}: row {r + 1}, column {c + 1}: resistance {vals[r, c]}; expected > 0 "
                "(use nodata for barriers, polygons for short circuits)"
            )
        g = np.where(valid, 1.0 / np.where(valid, vals, 1.0), 0.0)
    else:
        bad = valid & (vals < 0)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise DataError(
                f"{hpath}: row {r + 1}, column {c + 1}: conductance {vals[r, c]}; expected >= 0"
            )
        g = np.where(valid, vals, 0.0)
    if job.flag("use_mask"):
        mpath = job.file("mask_file")
        assert mpath is not None
        m = _read_aligned(mpath, frame, "mask")
        g = np.where(m.valid & (m.values > 0), g, 0.0)
    return frame, g


def _polygons(job: Job, frame: Grid) -> np.ndarray | None:
    if not job.flag("use_polygons"):
        return None
    ppath = job.file("polygon_file")
    assert ppath is not None
    pg = _read_aligned(ppath, frame, "polygon")
    return np.where(pg.valid, pg.values, 0).astype(np.int64)


def _merge_focal_regions(
    points: dict[int, list[tuple[int, int]]], polys: np.ndarray | None, shape: tuple[int, int]
) -> np.ndarray | None:
    regions = {pid: cells for pid, cells in points.items() if len(cells) > 1}
    if not regions:
        return polys
    out = np.zeros(shape, dtype=np.int64) if polys is None else polys.copy()
    out[out < 0] = 0
    next_id = int(out.max()) + 1
    for cells in regions.values():
        rr, cc = zip(*cells, strict=True)
        touched = set(np.unique(out[rr, cc]).tolist()) - {0}
        if touched:
            out[np.isin(out, list(touched))] = next_id
        out[rr, cc] = next_id
        next_id += 1
    return out


@dataclass
class _Base:
    frame: Grid
    g: np.ndarray
    polys: np.ndarray | None
    points: dict[int, list[tuple[int, int]]]
    four: bool
    avg_res: bool

    def build(self, regions: dict[int, list[tuple[int, int]]] | None = None) -> _Raster:
        """Graph with the given focal regions short-circuited (all multi-cell regions if None)."""
        pts = self.points if regions is None else regions
        polys = _merge_focal_regions(pts, self.polys, self.frame.shape)
        graph = circuit.raster_graph(
            self.g, polygons=polys, four_neighbors=self.four, average_resistances=self.avg_res
        )
        nm = graph.nodemap
        assert nm is not None
        ids = list(self.points)
        focal = []
        for pid in ids:
            node = -1
            for r, c in self.points[pid]:
                if nm[r, c] >= 0:
                    node = int(nm[r, c])
                    break
            focal.append(node)
        return _Raster(self.frame, graph, ids, focal, self.g > 0)

    @property
    def has_regions(self) -> bool:
        return any(len(c) > 1 for c in self.points.values())


def _raster_base(job: Job, *, with_points: bool) -> _Base:
    frame, g = _conductance(job)
    polys = _polygons(job, frame)
    points: dict[int, list[tuple[int, int]]] = {}
    if with_points:
        ppath = job.file("point_file")
        assert ppath is not None
        points = _cells_from_file(ppath, frame, "focal point")
        if not points:
            raise DataError(f"{ppath}: no focal points (cells > 0 or 'id x y' lines)")
    return _Base(
        frame,
        g,
        polys,
        points,
        job.flag("connect_four_neighbors_only"),
        job.flag("connect_using_avg_resistances", True),
    )


def _raster_setup(
    job: Job, *, with_points: bool
) -> tuple[_Raster, dict[int, list[tuple[int, int]]]]:
    base = _raster_base(job, with_points=with_points)
    return base.build(), base.points


def _node_map(
    r: _Raster, node_values: np.ndarray, mask_nodes: np.ndarray | None, nodata: bool
) -> Grid:
    """Cell map of node values (0, or nodata when asked, outside ``mask_nodes``/habitat)."""
    nm = r.graph.nodemap
    assert nm is not None
    out = np.zeros(nm.shape)
    has = nm >= 0
    vals = node_values[nm[has]]
    out[has] = vals
    if nodata:
        null = ~has
        if mask_nodes is not None:
            null = null | (has & ~mask_nodes[np.where(has, nm, 0)])
        out[null] = r.frame.nodata
    return Grid(
        out, r.frame.xllcorner, r.frame.yllcorner, r.frame.cellsize, r.frame.nodata, r.frame.crs
    )


def _cell_sum(r: _Raster, node_values: np.ndarray) -> np.ndarray:
    nm = r.graph.nodemap
    assert nm is not None
    return np.where(nm >= 0, node_values[np.maximum(nm, 0)], 0.0)


class _Writer:
    def __init__(self, job: Job) -> None:
        self.prefix = job.output_prefix
        self.compress = job.flag("compress_grids")
        self.tif = job.flag("write_as_tif")  # GeoTIFF (deflate) instead of ASCII grids
        self.files: list[Path] = []

    def grid(self, suffix: str, grid: Grid) -> None:
        ext = "tif" if self.tif else "asc"
        p = self.prefix.with_name(f"{self.prefix.name}_{suffix}.{ext}")
        self.files.append(write_grid(grid, p, compress=self.compress and not self.tif))


def _solver(job: Job) -> str:
    s = job.text("solver", "cg+amg").lower()
    return "cg+amg" if s == "cg+amg" else "direct"


def _raster_pairwise(job: Job) -> JobResult:
    base = _raster_base(job, with_points=True)
    include = None
    if job.flag("use_included_pairs"):
        ipath = job.file("included_pairs_file")
        assert ipath is not None
        include, listed = _read_include(ipath, list(base.points), with_listed=True)
        if listed is not None:  # points missing from an include matrix are dropped
            keep = [k for k, pid in enumerate(base.points) if pid in listed]
            base.points = {pid: base.points[pid] for pid in listed if pid in base.points}
            include = include[np.ix_(keep, keep)]
    out = _Writer(job)
    ids = list(base.points)
    k = len(ids)
    cum_only = job.flag("write_cum_cur_map_only")
    write_cur = job.flag("write_cur_maps")
    write_max = job.flag("write_max_cur_maps")
    write_volt = job.flag("write_volt_maps")
    null_cur = job.flag("set_null_currents_to_nodata")
    null_volt = job.flag("set_null_voltages_to_nodata")
    solver = _solver(job)
    cum = np.zeros(base.frame.shape)
    mx = np.zeros(base.frame.shape)
    res = np.full((k, k), -1.0)
    np.fill_diagonal(res, 0.0)

    def runs():
        if not base.has_regions:
            r = base.build()
            rr, sols = circuit.pairwise(r.graph, r.focal, solver=solver)
            res[:] = rr
            for sol in sols:
                yield r, sol
            return
        # focal regions: each pair short-circuits only its own two regions (Circuitscape)
        for a in range(k):
            for b in range(a + 1, k):
                pa, pb = ids[a], ids[b]
                r = base.build({pa: base.points[pa], pb: base.points[pb]})
                rr, sols = circuit.pairwise(r.graph, [r.focal[a], r.focal[b]], solver=solver)
                res[a, b] = res[b, a] = rr[0, 1]
                for sol in sols:
                    sol.i, sol.j = a, b
                    yield r, sol

    last = None
    cum_node: np.ndarray | None = None
    mx_node = np.zeros(0)
    for r, sol in runs():
        last = r
        a, b = ids[sol.i], ids[sol.j]
        in_comp = np.zeros(r.graph.n, dtype=bool)
        in_comp[sol.component] = True
        if not (write_cur or write_max):
            cur = np.zeros(r.graph.n)
        else:
            cur = sol.node_currents()
            if include is None or include[sol.i, sol.j]:
                if base.has_regions:  # one graph per pair: add up cell maps
                    cells = _cell_sum(r, cur)
                    cum += cells
                    np.maximum(mx, cells, out=mx)
                else:  # one graph: add up node values, map them once at the end
                    if cum_node is None:
                        cum_node, mx_node = np.zeros(r.graph.n), np.zeros(r.graph.n)
                    cum_node += cur
                    if write_max:
                        np.maximum(mx_node, cur, out=mx_node)
        if write_cur and not cum_only:
            out.grid(f"curmap_{a}_{b}", _node_map(r, cur, in_comp, null_cur))
        if write_volt:
            out.grid(f"voltmap_{a}_{b}", _node_map(r, sol.voltages, in_comp, null_volt))
    if include is not None:
        res[~include & ~np.eye(k, dtype=bool)] = -1.0
    r = last if last is not None else base.build()
    if cum_node is not None:
        cum = _cell_sum(r, cum_node)
        mx = _cell_sum(r, mx_node)
    habitat_cells = r.graph.nodemap >= 0  # type: ignore[operator]
    # Circuitscape writes the cumulative map in any case (zeros without current maps)
    out.grid("cum_curmap", _cell_grid(base.frame, cum, habitat_cells, null_cur))
    if write_max:
        out.grid("max_curmap", _cell_grid(base.frame, mx, habitat_cells, null_cur))
    files = [_write_resistance_matrix(out.prefix, ids, res)] + out.files
    return JobResult("pairwise", ids, res, files, cum)


def _cell_grid(frame: Grid, values: np.ndarray, habitat: np.ndarray, nodata: bool) -> Grid:
    out = np.where(habitat, values, frame.nodata) if nodata else np.asarray(values, float)
    return Grid(out, frame.xllcorner, frame.yllcorner, frame.cellsize, frame.nodata, frame.crs)


def _strengths(job: Job, ids: list[int]) -> list[float]:
    if not job.flag("use_variable_source_strengths"):
        return [1.0] * len(ids)
    vpath = job.file("variable_source_file")
    assert vpath is not None
    table = _value_list(vpath, "source strength")
    return [table.get(pid, 1.0) for pid in ids]


def _raster_focal(job: Job, scenario: str) -> JobResult:
    base = _raster_base(job, with_points=True)
    inc = None
    if job.flag("use_included_pairs"):
        ipath = job.file("included_pairs_file")
        assert ipath is not None
        inc, listed = _read_include(ipath, list(base.points), with_listed=True)
        if listed is not None:  # points the include file never names are dropped
            keep = [k for k, pid in enumerate(base.points) if pid in listed]
            base.points = {pid: c for pid, c in base.points.items() if pid in listed}
            inc = inc[np.ix_(keep, keep)]
        np.fill_diagonal(inc, False)
    r = base.build()
    out = _Writer(job)
    strengths = _strengths(job, r.ids)
    fn = circuit.one_to_all if scenario == "one-to-all" else circuit.all_to_one
    cum_only = job.flag("write_cum_cur_map_only")
    write_cur = job.flag("write_cur_maps")
    write_max = job.flag("write_max_cur_maps")
    write_volt = job.flag("write_volt_maps") and scenario == "one-to-all"
    null_cur = job.flag("set_null_currents_to_nodata")
    null_volt = job.flag("set_null_voltages_to_nodata")
    res = np.full(len(r.ids), -1.0)
    cum = np.zeros(r.graph.n)
    mx = np.zeros(r.graph.n)
    none = np.zeros(r.graph.n, dtype=bool)
    for a, rval, sol in fn(r.graph, r.focal, strengths, include=inc, solver=_solver(job)):
        res[a] = rval
        pid = r.ids[a]
        if sol is None:
            cur = volt = np.zeros(r.graph.n)
            solved = none
        else:
            volt, solved = sol.voltages, sol.solved_components
            cur = sol.node_currents(r.graph) if (write_cur or write_max) else np.zeros(r.graph.n)
        if rval != -1.0:  # points without a result stay out of the cumulative maps
            cum += cur
            np.maximum(mx, cur, out=mx)
        if write_cur and not cum_only:
            out.grid(f"curmap_{pid}", _node_map(r, cur, solved, null_cur))
        if write_volt:
            out.grid(f"voltmap_{pid}", _node_map(r, volt, solved, null_volt))
    if write_cur:
        out.grid("cum_curmap", _node_map(r, cum, None, null_cur))
    if write_max:
        out.grid("max_curmap", _node_map(r, mx, None, null_cur))
    files = [_write_resistance_list(out.prefix, r.ids, res)] + out.files
    return JobResult(scenario, r.ids, res, files, _cell_sum(r, cum))


def _src_gnd_cells(job: Job, key: str, frame: Grid, what: str) -> np.ndarray:
    """Per-cell values of a source or ground file (NaN = none)."""
    path = job.file(key)
    assert path is not None
    if _is_text_list(path):
        out = np.full(frame.shape, np.nan)
        for vals in _read_rows(path, 3):
            v, x, y = vals[0], vals[1], vals[2]
            rr, cc = cell_of_xy(frame, x, y)
            if not (0 <= rr < frame.shape[0] and 0 <= cc < frame.shape[1]):
                raise DataError(f"{path}: {what} at ({x}, {y}) lies outside the habitat grid")
            out[rr, cc] = v
        return out
    g = _read_aligned(path, frame, what)
    return np.where(g.valid, g.values, np.nan)


def _ground_conductance(values: np.ndarray, is_res: bool, direct: bool) -> np.ndarray:
    """Ground conductance per item: 0 none, inf direct (from resistance 0 or use_direct_grounds)."""
    v = np.asarray(values, dtype=float)
    out = np.zeros_like(v)
    have = np.isfinite(v)
    if is_res:
        have &= v >= 0
        with np.errstate(divide="ignore"):
            out[have] = np.where(v[have] == 0, np.inf, 1.0 / np.where(v[have] == 0, 1.0, v[have]))
    else:
        have &= v > 0
        out[have] = v[have]
    if direct:
        out[out > 0] = np.inf
    return out


def _resolve_conflicts(
    src: np.ndarray, gnd: np.ndarray, mode: str
) -> tuple[np.ndarray, np.ndarray]:
    both = (src != 0) & (gnd > 0)
    if both.any():
        if mode in ("rmvsrc", "rmvall"):
            src = np.where(both, 0.0, src)
        if mode in ("rmvgnd", "rmvall"):
            gnd = np.where(both, 0.0, gnd)
    return src, gnd


def _raster_advanced(job: Job) -> JobResult:
    r, _ = _raster_setup(job, with_points=False)
    out = _Writer(job)
    nm = r.graph.nodemap
    assert nm is not None
    src_cells = _src_gnd_cells(job, "source_file", r.frame, "source")
    gnd_cells = _src_gnd_cells(job, "ground_file", r.frame, "ground")
    has = nm >= 0
    n = r.graph.n
    sc = np.where(np.isfinite(src_cells) & has, src_cells, 0.0)
    if job.flag("use_unit_currents"):
        sc = np.where(sc != 0, 1.0, 0.0)
    gc = _ground_conductance(
        np.where(has, gnd_cells, np.nan),
        job.flag("ground_file_is_resistances", True),
        job.flag("use_direct_grounds"),
    )
    sources = np.bincount(nm[has], sc[has], n)
    gflat = gc[has]
    grounds = np.zeros(n)
    np.add.at(grounds, nm[has], gflat)
    sources, grounds = _resolve_conflicts(
        sources, grounds, job.text("remove_src_or_gnd", "keepall").lower()
    )
    sol = circuit.advanced(r.graph, sources, grounds, solver=_solver(job))
    cur = sol.node_currents(r.graph)
    if job.flag("write_cur_maps", True):
        out.grid(
            "curmap",
            _node_map(r, cur, sol.solved_components, job.flag("set_null_currents_to_nodata")),
        )
    if job.flag("write_volt_maps"):
        out.grid(
            "voltmap",
            _node_map(
                r, sol.voltages, sol.solved_components, job.flag("set_null_voltages_to_nodata")
            ),
        )
    return JobResult("advanced", [], np.zeros(0), out.files, _node_map(r, cur, None, False).values)


# --------------------------------------------------------------------------- network


def _read_network(job: Job) -> tuple[circuit.CircuitGraph, np.ndarray]:
    path = job.file("habitat_file")
    assert path is not None
    rows = np.array(_read_rows(path, 3), dtype=float)
    if rows.size == 0:
        raise DataError(f"{path}: the graph has no edges; expected lines 'node node value'")
    ids = np.unique(rows[:, :2]).astype(np.int64)
    u = np.searchsorted(ids, rows[:, 0].astype(np.int64))
    w = np.searchsorted(ids, rows[:, 1].astype(np.int64))
    val = rows[:, 2]
    if job.flag("habitat_map_is_resistances", True):
        if (val <= 0).any():
            raise DataError(f"{path}: a resistance is <= 0; expected positive resistances")
        c = 1.0 / val
    else:
        c = val
    return circuit.network_graph(ids.size, u, w, c), ids


def _write_network(
    prefix: Path,
    suffix: str,
    graph: circuit.CircuitGraph,
    ids: np.ndarray,
    v: np.ndarray,
    cur: np.ndarray,
    nodes: np.ndarray,
    flows: np.ndarray | None,
    files: list[Path],
    write_volt: bool,
) -> None:
    sel = np.flatnonzero(nodes)
    if write_volt:
        files.append(
            atomic_write_text(
                prefix.with_name(f"{prefix.name}_voltages{suffix}.txt"),
                "".join(f"{ids[k]} {_fmt(v[k])}\n" for k in sel),
            )
        )
    files.append(
        atomic_write_text(
            prefix.with_name(f"{prefix.name}_node_currents{suffix}.txt"),
            "".join(f"{ids[k]} {_fmt(cur[k])}\n" for k in sel),
        )
    )
    if flows is not None:
        # as Circuitscape, branches whose current is negligible beside the largest are left out
        mag = np.abs(flows)
        top = mag[nodes[graph.u]].max() if nodes[graph.u].any() else 0.0
        emask = nodes[graph.u] & (mag >= BRANCH_CUTOFF * top) & (mag > 0)
        lines = [
            f"{ids[a]} {ids[b]} {_fmt(f)}\n"
            for a, b, f in zip(graph.u[emask], graph.w[emask], np.abs(flows[emask]), strict=True)
        ]
        files.append(
            atomic_write_text(
                prefix.with_name(f"{prefix.name}_branch_currents{suffix}.txt"), "".join(lines)
            )
        )


def _network_pairwise(job: Job) -> JobResult:
    graph, ids = _read_network(job)
    ppath = job.file("point_file")
    assert ppath is not None
    focal_ids = sorted({int(r[0]) for r in _read_rows(ppath, 1)})
    pos = {int(x): k for k, x in enumerate(ids)}
    focal = [pos.get(f, -1) for f in focal_ids]
    k = len(focal_ids)
    include = None
    if job.flag("use_included_pairs"):
        ipath = job.file("included_pairs_file")
        assert ipath is not None
        include = _read_include(ipath, focal_ids)
    res, sols = circuit.pairwise(graph, focal, solver=_solver(job))
    if include is not None:
        res[~include & ~np.eye(k, dtype=bool)] = -1.0
    prefix = job.output_prefix
    files: list[Path] = []
    write_cur = job.flag("write_cur_maps")
    cum_only = job.flag("write_cum_cur_map_only")
    write_volt = job.flag("write_volt_maps") and not cum_only
    cum_node = np.zeros(graph.n)
    cum_branch = np.zeros(graph.c.size)
    touched = np.zeros(graph.n, dtype=bool)
    for sol in sols:
        nodes = np.zeros(graph.n, dtype=bool)
        nodes[sol.component] = True
        touched |= nodes
        cur = sol.node_currents()
        flows = circuit.branch_flows(graph, sol.voltages)
        cum_node += cur
        cum_branch += np.abs(flows)
        suffix = f"_{focal_ids[sol.i]}_{focal_ids[sol.j]}"
        if (write_cur or write_volt) and not cum_only:
            if write_cur:
                _write_network(
                    prefix, suffix, graph, ids, sol.voltages, cur, nodes, flows, files, write_volt
                )
            else:
                files.append(
                    atomic_write_text(
                        prefix.with_name(f"{prefix.name}_voltages{suffix}.txt"),
                        "".join(
                            f"{ids[q]} {_fmt(sol.voltages[q])}\n" for q in np.flatnonzero(nodes)
                        ),
                    )
                )
    if write_cur:
        everything = np.ones(graph.n, dtype=bool)
        _write_network(
            prefix,
            "_cum",
            graph,
            ids,
            np.zeros(graph.n),
            cum_node,
            everything,
            cum_branch,
            files,
            False,
        )
    files = [_write_resistance_matrix(prefix, focal_ids, res)] + files
    return JobResult("pairwise", focal_ids, res, files, cum_node)


def _network_advanced(job: Job) -> JobResult:
    graph, ids = _read_network(job)
    pos = {int(x): k for k, x in enumerate(ids)}
    spath = job.file("source_file")
    gpath = job.file("ground_file")
    assert spath is not None and gpath is not None
    sources = np.zeros(graph.n)
    for row in _read_rows(spath, 2):
        if int(row[0]) in pos:
            sources[pos[int(row[0])]] += row[1]
    graw = np.full(graph.n, np.nan)
    for row in _read_rows(gpath, 2):
        if int(row[0]) in pos:
            graw[pos[int(row[0])]] = row[1]
    if job.flag("use_unit_currents"):
        sources = np.where(sources != 0, 1.0, 0.0)
    grounds = _ground_conductance(
        graw, job.flag("ground_file_is_resistances", True), job.flag("use_direct_grounds")
    )
    sources, grounds = _resolve_conflicts(
        sources, grounds, job.text("remove_src_or_gnd", "keepall").lower()
    )
    sol = circuit.advanced(graph, sources, grounds, solver=_solver(job))
    cur = sol.node_currents(graph)
    flows = circuit.branch_flows(graph, sol.voltages)
    files: list[Path] = []
    _write_network(
        job.output_prefix,
        "",
        graph,
        ids,
        sol.voltages,
        cur,
        np.ones(graph.n, dtype=bool),
        flows,
        files,
        True,
    )
    return JobResult("advanced", [int(x) for x in ids], sol.voltages, files, cur)


def run_job(job: Job) -> JobResult:
    """Solve a parsed job and write its outputs; returns what was computed."""
    if job.data_type == "network":
        return _network_pairwise(job) if job.scenario == "pairwise" else _network_advanced(job)
    if job.scenario == "pairwise":
        return _raster_pairwise(job)
    if job.scenario == "advanced":
        return _raster_advanced(job)
    return _raster_focal(job, job.scenario)
