"""Helpers for running Circuitscape.jl's verification suite (read from ../shared)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from amurlink.landscape.csjob import read_job, run_job

_PATH_KEYS = (
    "habitat_file",
    "point_file",
    "polygon_file",
    "mask_file",
    "source_file",
    "ground_file",
    "included_pairs_file",
    "variable_source_file",
)


def case_ini(cs_dir: Path, case: str) -> Path:
    """The .ini of a case name such as ``sgVerify3`` (layout of runtests.jl)."""
    inp = cs_dir / "input"
    for prefix, sub in (
        ("sgNetworkVerify", "network"),
        ("mgNetworkVerify", "network"),
        ("sgVerify", "raster/pairwise"),
        ("mgVerify", "raster/advanced"),
        ("oneToAllVerify", "raster/one_to_all"),
        ("allToOneVerify", "raster/all_to_one"),
    ):
        if case.startswith(prefix):
            if sub == "network":
                return inp / sub / f"{case}.ini"
            return inp / sub / case[len(prefix) :] / f"{case}.ini"
    raise ValueError(case)


def run_case(cs_dir: Path, case: str, out_dir: Path):
    """Run a case with its input paths pointed at ``cs_dir`` and outputs at ``out_dir``."""
    ini = case_ini(cs_dir, case)
    job = read_job(ini)
    for key in _PATH_KEYS:
        raw = job.options.get(key, "").strip()
        if raw and not raw.startswith("(") and raw.lower() not in ("none", "false"):
            if raw.startswith("input/"):
                job.options[key] = str(cs_dir / raw)
    job.options["output_file"] = str(out_dir / f"{case}.out")
    return job, run_job(job)


def read_table(path: Path, skip: int = 0) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as fh:
        lines = fh.read().splitlines()[skip:]
    rows = [[float(x) for x in ln.split()] for ln in lines if ln.strip()]
    return np.array(rows, dtype=float)


def compare_file(ours: Path, ref: Path) -> tuple[bool, str]:
    """Circuitscape's comparisons: grids SSD < 1e-6, resistances 1e-3, currents SSD < 1e-6."""
    name = ref.name
    if name.endswith((".asc", ".asc.gz")):
        a, b = read_table(ours, 6), read_table(ref, 6)
        if a.shape != b.shape:
            return False, f"shape {a.shape} vs {b.shape}"
        ssd = float(((a - b) ** 2).sum())
        return ssd < 1e-6, f"ssd={ssd:.3g}"
    a, b = read_table(ours), read_table(ref)
    if "resistances" in name:
        if a.shape != b.shape:
            return False, f"shape {a.shape} vs {b.shape}"
        d = float(np.abs(a - b).max())
        return d <= 1e-3, f"maxdiff={d:.3g}"
    if a.shape != b.shape:
        return False, f"shape {a.shape} vs {b.shape}"
    a = a[np.lexsort(a.T[::-1])]
    b = b[np.lexsort(b.T[::-1])]
    ssd = float(((a - b) ** 2).sum())
    return ssd < 1e-6, f"ssd={ssd:.3g}"


def verify_files(cs_dir: Path, case: str) -> list[Path]:
    return sorted(p for p in (cs_dir / "output_verify").iterdir() if p.name.startswith(case + "_"))
