"""``amurlink design``: expected counts from secr text files, against secrdesign; exit codes."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from amurlink.cli import app

runner = CliRunner()


def _secr_text(traps: pd.DataFrame, path):
    lines = ["# secr read.traps format: ID x y"]
    lines += [f"{str(r.trap_id).replace(' ', '')} {r.x:g} {r.y:g}" for r in traps.itertuples()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def ref(reference_dir):
    return reference_dir / "secrdesign"


@pytest.mark.parametrize(("layout", "paramset"), [("grid10_prox", "P4"), ("grid8_count", "P1"),
                                                  ("hollow12_prox", "P3")])
def test_expect_json_matches_secrdesign(ref, tmp_path, layout, paramset):
    table = pd.read_csv(ref / "design_expectations.csv")
    row = table[(table.layout == layout) & (table.paramset == paramset)].iloc[0]
    traps = _secr_text(pd.read_csv(ref / "design" / f"traps_{layout}.csv"), tmp_path / "t.txt")
    par = (["--g0", str(row.g0)] if row.detectfn == "HN" else ["--lambda0", str(row.lambda0)])
    result = runner.invoke(app, [
        "design", "expect", "--traps", str(traps), "--detector", row.detector,
        "--detectfn", row.detectfn, "--D", str(row.D_per_ha), *par, "--sigma",
        str(row.sigma_m), "--noccasions", str(row.noccasions), "--buffer",
        str(row.mask_buffer_m), "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["mask_points"] == row.mask_npoints
    for key, col in (("En", "En"), ("Er", "Er"), ("Em", "Em"), ("En2", "En2"),
                     ("rse", "minnrRSE"), ("rse_binomial", "minnrRSE_binomial")):
        assert out[key] == pytest.approx(row[col], rel=1e-6), key


def test_expect_with_mask_file_and_text_output(ref, tmp_path):
    masks = pd.read_csv(ref / "design" / "design_masks.csv")
    m = masks[(masks.layout == "grid8_count") & (masks.sigma == 2000)][["x", "y"]]
    m.to_csv(tmp_path / "mask.csv", index=False)
    traps = _secr_text(pd.read_csv(ref / "design" / "traps_grid8_count.csv"), tmp_path / "t.txt")
    args = ["design", "expect", "--traps", str(traps), "--detector", "count", "--D", "2e-4",
            "--lambda0", "0.2", "--sigma", "2000", "--noccasions", "30", "--mask",
            str(tmp_path / "mask.csv")]
    out = json.loads(runner.invoke(app, [*args, "--format", "json"]).stdout)
    assert out["En"] == pytest.approx(17.945224, rel=1e-6)
    text = runner.invoke(app, args)
    assert text.exit_code == 0 and "E(n)  17.945" in text.stdout


def test_expect_usage_errors_and_bad_data(tmp_path):
    traps = tmp_path / "t.txt"
    traps.write_text("A 0 0\nB 2000 0\nC 0 2000\n")
    base = ["design", "expect", "--traps", str(traps), "--D", "1e-4", "--sigma", "2000",
            "--noccasions", "10"]
    # HHN without lambda0, both lambda0 and g0, both mask and buffer: usage errors (2)
    assert runner.invoke(app, base).exit_code == 2
    assert runner.invoke(app, [*base, "--lambda0", "0.1", "--g0", "0.1"]).exit_code == 2
    assert runner.invoke(app, [*base, "--lambda0", "0.1", "--buffer", "8km", "--mask",
                               str(traps)]).exit_code == 2
    assert runner.invoke(app, [*base[:3], str(tmp_path / "nope.txt"), *base[4:],
                               "--lambda0", "0.1"]).exit_code == 2
    # unreadable layout: invalid data (1), one line, no traceback
    bad = tmp_path / "bad.txt"
    bad.write_text("A 0 zero\n")
    res = runner.invoke(app, [*base[:3], str(bad), *base[4:], "--lambda0", "0.1"])
    assert res.exit_code == 1 and "Traceback" not in res.output
    ok = runner.invoke(app, [*base, "--lambda0", "0.1", "--buffer", "8km", "--format", "json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["n_detectors"] == 3


def test_spacing_command_finds_the_reference_optimum(ref):
    result = runner.invoke(app, [
        "design", "spacing", "--traps", str(ref / "design" / "traps_grid8_count.csv"),
        "--detector", "count", "--D", "2e-4", "--lambda0", "0.2", "--sigma", "2000",
        "--noccasions", "5", "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["optimum_spacing_m"] == pytest.approx(3639.81591638142, rel=1e-3)
    assert len(out["curve"]) == 20
