"""``amurlink corridors JOB.ini`` on Circuitscape's own jobs: outputs, refusals, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from amurlink.cli import app

from ._cs import compare_file, read_table

runner = CliRunner()
pytestmark = pytest.mark.reference


@pytest.fixture()
def cs_dir(reference_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = reference_dir / "circuitscape"
    monkeypatch.chdir(path)  # the jobs name their inputs relative to this folder
    return path


def test_runs_job_unchanged_and_matches(cs_dir: Path, tmp_path: Path) -> None:
    job = "input/raster/one_to_all/4/oneToAllVerify4.ini"
    res = runner.invoke(app, ["corridors", job, "-o", str(tmp_path), "--format", "json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["scenario"] == "one-to-all" and summary["focal_points"] == 10
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "oneToAllVerify4_resistances.out" in names
    assert "oneToAllVerify4_cum_curmap.asc" in names
    assert not [n for n in names if n.startswith(".")], "staging folder left behind"
    for name in ("oneToAllVerify4_resistances.out", "oneToAllVerify4_cum_curmap.asc"):
        ok, msg = compare_file(tmp_path / name, cs_dir / "output_verify" / name)
        assert ok, msg


def test_network_job_writes_branch_and_node_files(cs_dir: Path, tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["corridors", "input/network/mgNetworkVerify2.ini", "-o", str(tmp_path)]
    )
    assert res.exit_code == 0, res.output
    for kind in ("voltages", "branch_currents", "node_currents"):
        ours = read_table(tmp_path / f"mgNetworkVerify2_{kind}.txt")
        ref = read_table(cs_dir / "output_verify" / f"mgNetworkVerify2_{kind}.txt")
        assert ours.shape == ref.shape
        assert np.allclose(np.sort(ours, axis=0), np.sort(ref, axis=0), atol=1e-6)


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("log_transform_maps=True", "log_transform_maps"),
        ("set_focal_node_currents_to_zero=True", "set_focal_node_currents_to_zero"),
        ("precision=single", "precision"),
        ("made_up_option=3", "made_up_option"),
        ("scenario=sideways", "scenario"),
    ],
)
def test_unimplemented_option_is_refused_by_name(
    cs_dir: Path, tmp_path: Path, setting: str, named: str
) -> None:
    job = "input/raster/pairwise/1/sgVerify1.ini"
    res = runner.invoke(app, ["corridors", job, "-o", str(tmp_path), "--set", setting])
    assert res.exit_code == 1
    assert named in res.output and "Traceback" not in res.output
    assert list(tmp_path.iterdir()) == []


def test_bad_input_writes_nothing(cs_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "cellmap.asc"
    bad.write_text("ncols 3\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2 3\n4 5\n")
    out = tmp_path / "out"
    res = runner.invoke(
        app,
        [
            "corridors",
            "input/raster/pairwise/1/sgVerify1.ini",
            "-o",
            str(out),
            "--set",
            f"habitat_file={bad}",
            "--set",
            "use_polygons=False",
        ],
    )
    assert res.exit_code == 1
    assert "6 values" in res.output and "5" in res.output
    assert [p for p in out.iterdir()] == []


def test_usage_errors(cs_dir: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["corridors", "nope.ini"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["corridors", "input/raster/pairwise/1/sgVerify1.ini", "--set", "x"])
    assert res.exit_code == 2


def test_write_as_tif_gives_the_same_maps(cs_dir: Path, tmp_path: Path) -> None:
    job = "input/raster/pairwise/2/sgVerify2.ini"
    res = runner.invoke(app, ["corridors", job, "-o", str(tmp_path), "--set", "write_as_tif=True"])
    assert res.exit_code == 0, res.output
    from amurlink.landscape.grid import read_grid

    ours = read_grid(tmp_path / "sgVerify2_cum_curmap.tif").values
    ref = read_table(cs_dir / "output_verify" / "sgVerify2_cum_curmap.asc", 6)
    assert ((ours - ref) ** 2).sum() < 1e-6
    assert not list(tmp_path.glob("*.asc"))
    res = runner.invoke(app, ["corridors", job, "-o", str(tmp_path), "--set", "write_as_tif=x"])
    assert res.exit_code == 1 and "write_as_tif" in res.output
