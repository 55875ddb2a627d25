"""Circuitscape.jl's verification suite, run through its own .ini jobs.

Every case of ``runtests.jl`` (raster pairwise 1-17, advanced 1-6 and 7, one-to-all 1-13,
all-to-one 1-12, network pairwise and advanced 1-3) runs with its inputs read from
``../shared`` and its outputs written to a temporary folder. Each file the job writes is
compared with the file Circuitscape produced, with Circuitscape's tolerances (grids: sum of
squared differences < 1e-6; resistance matrices: each entry within 1e-3; branch and node
currents and voltages: sum of squared differences < 1e-6, rows sorted). Like ``runtests.jl``
the comparison is driven by what the job writes; the resistance file and at least one map or
current file must be among them. Two legacy names in the reference folder are mapped:
``_curmap_max.asc`` (now ``_max_curmap.asc``) and compressed ``.asc.gz`` grids.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ._cs import compare_file, read_table, run_case

pytestmark = pytest.mark.reference

CASES = (
    [f"sgNetworkVerify{i}" for i in range(1, 4)]
    + [f"mgNetworkVerify{i}" for i in range(1, 4)]
    + [f"sgVerify{i}" for i in range(1, 18)]
    + [f"mgVerify{i}" for i in range(1, 8)]
    + [f"oneToAllVerify{i}" for i in range(1, 14)]
    + [f"allToOneVerify{i}" for i in range(1, 13)]
)


@pytest.fixture(scope="module")
def cs_dir(reference_dir: Path) -> Path:
    path = reference_dir / "circuitscape"
    assert (path / "output_verify").is_dir(), f"{path} lacks output_verify/"
    return path


def _reference_for(cs_dir: Path, name: str) -> Path | None:
    ver = cs_dir / "output_verify"
    candidates = [name]
    if name.endswith(".asc.gz"):
        candidates.append(name[:-3])
    if name.endswith("_max_curmap.asc"):
        candidates.append(name.replace("_max_curmap.asc", "_curmap_max.asc"))
    for cand in candidates:
        if (ver / cand).exists():
            return ver / cand
    return None


@pytest.mark.parametrize("case", CASES)
def test_case_matches_circuitscape(case: str, cs_dir: Path, tmp_path: Path) -> None:
    job, result = run_case(cs_dir, case, tmp_path)
    written = sorted(p for p in tmp_path.iterdir() if p.name.startswith(case + "_"))
    assert written, "the job wrote nothing"
    compared, failures = 0, []
    for ours in written:
        ref = _reference_for(cs_dir, ours.name)
        if ref is None:
            continue
        ok, msg = compare_file(ours, ref)
        compared += 1
        if not ok:
            failures.append(f"{ours.name}: {msg}")
    assert not failures, failures
    ref_res = cs_dir / "output_verify" / f"{case}_resistances.out"
    if ref_res.exists() and job.scenario != "advanced":
        assert (tmp_path / ref_res.name).exists(), "resistances file not written"
    assert compared >= 1


@pytest.mark.parametrize("case", ["sgVerify1", "sgNetworkVerify1"])
def test_resistance_matrix_layout(case: str, cs_dir: Path, tmp_path: Path) -> None:
    """Header row and column carry the focal ids (0 in the corner), diagonal 0, symmetric."""
    run_case(cs_dir, case, tmp_path)
    ours = read_table(tmp_path / f"{case}_resistances.out")
    ref = read_table(cs_dir / "output_verify" / f"{case}_resistances.out")
    assert np.array_equal(ours[0], ref[0]) and np.array_equal(ours[:, 0], ref[:, 0])
    body = ours[1:, 1:]
    assert np.allclose(body, body.T) and np.all(np.diag(body) == 0)
    assert np.abs(body - ref[1:, 1:]).max() <= 1e-3


@pytest.mark.parametrize("case", ["sgVerify4", "oneToAllVerify1", "mgVerify3", "sgNetworkVerify1"])
def test_amg_route_matches_too(
    case: str, cs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every system sent to pyamg-preconditioned CG, the outputs still match."""
    from amurlink.landscape import circuit

    monkeypatch.setattr(circuit, "DIRECT_LIMIT", 0)
    job, _ = run_case(cs_dir, case, tmp_path)
    assert job.text("solver", "cg+amg").lower() == "cg+amg"
    compared = 0
    for ours in sorted(tmp_path.iterdir()):
        ref = _reference_for(cs_dir, ours.name)
        if ref is not None:
            ok, msg = compare_file(ours, ref)
            assert ok, f"{ours.name}: {msg}"
            compared += 1
    assert compared >= 2
