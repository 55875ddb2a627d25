"""``amurlink secr`` command: JSON equals the library call; exit codes; readable errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from amurlink.analysis.secr import fit_secr, read_capthist, read_mask
from amurlink.cli import app

runner = CliRunner()


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.reference
def test_cli_json_equals_library_call_amur_count(reference_dir):
    folder = reference_dir / "secr" / "amur-count-usage-hhn"
    args = ["secr", "--traps", str(folder / "traps.csv"), "--captures",
            str(folder / "captures.csv"), "--mask", str(folder / "mask.csv"),
            "--detector", "count", "--detectfn", "HHN", "--format", "json"]
    out = _json(runner.invoke(app, args))
    ch = read_capthist(folder / "traps.csv", folder / "captures.csv", detector="count")
    mask = read_mask(folder / "mask.csv")
    assert mask.spacing == 1500.0  # from the grid
    res = fit_secr(ch, mask, detectfn="HHN")
    pred = res.predict()
    assert set(out["estimates"]) == {"D", "lambda0", "sigma"}
    for par, row in out["estimates"].items():
        for key in ("estimate", "se", "lcl", "ucl"):
            assert row[key] == pytest.approx(pred.loc[par, key], rel=1e-12)
    assert out["loglik"] == pytest.approx(res.loglik, rel=1e-12)
    assert out["aic"] == pytest.approx(res.aic, rel=1e-12)
    rn = res.region_N()
    assert out["region_N"]["E.N"]["estimate"] == pytest.approx(rn.loc["E.N", "estimate"])
    assert out["region_N"]["R.N"]["estimate"] == pytest.approx(rn.loc["R.N", "estimate"])
    expected = json.loads((folder / "expected.json").read_text())
    assert out["estimates"]["D"]["estimate"] == pytest.approx(
        expected["estimates"]["D"]["estimate"], rel=1e-3)


@pytest.mark.reference
def test_cli_builds_mask_from_buffer_and_prints_text(reference_dir):
    folder = reference_dir / "secr" / "captdata"
    args = ["secr", "--traps", str(folder / "traps.csv"), "--captures",
            str(folder / "captures.csv"), "--detector", "multi", "--buffer", "100"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Real parameters" in result.stdout
    out = _json(runner.invoke(app, args + ["--format", "json"]))
    # secrdemo.0: D 5.47980 animals/ha, g0 0.273191, sigma 29.3658 m
    assert out["estimates"]["D"]["estimate"] == pytest.approx(5.479802992202655, rel=1e-4)
    assert out["estimates"]["g0"]["estimate"] == pytest.approx(0.2731906806367345, rel=1e-4)
    assert out["estimates"]["sigma"]["estimate"] == pytest.approx(29.365834269908884, rel=1e-4)
    assert out["mask"]["points"] == 3936


def _write_text_files(tmp_path):
    rng = np.random.default_rng(1)
    traps = tmp_path / "traps.txt"
    lines = ["# secr text format: trapID x y usage"]
    for i in range(5):
        for j in range(5):
            lines.append(f"T{i}{j} {i * 20.0} {j * 20.0} 1111")
    traps.write_text("\n".join(lines) + "\n")
    caps = tmp_path / "captures.txt"
    rows = []
    for a in range(12):
        for _ in range(3):
            rows.append(f"S1 A{a} {rng.integers(1, 5)} T{rng.integers(0, 5)}{rng.integers(0, 5)}")
    caps.write_text("\n".join(rows) + "\n")
    return traps, caps


def test_cli_reads_secr_text_formats(tmp_path):
    traps, caps = _write_text_files(tmp_path)
    args = ["secr", "--traps", str(traps), "--captures", str(caps), "--detector", "count",
            "--detectfn", "HHN", "--buffer", "80", "--spacing", "10", "--format", "json"]
    out = _json(runner.invoke(app, args))
    assert out["n"] == 12
    assert out["mask"]["spacing_m"] == 10.0
    assert out["estimates"]["sigma"]["estimate"] > 0


def test_cli_bad_file_exits_1_with_message(tmp_path):
    traps, caps = _write_text_files(tmp_path)
    caps.write_text("S1 A1 1 NOPE\n")
    result = runner.invoke(app, ["secr", "--traps", str(traps), "--captures", str(caps),
                                 "--detector", "count"])
    assert result.exit_code == 1
    assert "NOPE" in result.output and "detector" in result.output
    bad = tmp_path / "bad.txt"
    bad.write_text("T1 10 abc\n")
    result = runner.invoke(app, ["secr", "--traps", str(bad), "--captures", str(caps),
                                 "--detector", "count"])
    assert result.exit_code == 1
    assert "bad.txt, line 1" in result.output


def test_cli_usage_errors_exit_2(tmp_path):
    traps, caps = _write_text_files(tmp_path)
    base = ["secr", "--traps", str(traps), "--captures", str(caps)]
    assert runner.invoke(app, [*base, "--detector", "count", "--detectfn", "XYZ"]).exit_code == 2
    assert runner.invoke(app, [*base, "--detector", "trap"]).exit_code == 2
    missing = ["secr", "--traps", str(tmp_path / "nope.csv"), "--captures", str(caps),
               "--detector", "count"]
    assert runner.invoke(app, missing).exit_code == 2


# ----------------------------------------------------------------------------- formulas (#20)
def _fits_json(reference_dir):
    return json.loads((reference_dir / "secrdesign" / "fits.json").read_text())


@pytest.mark.reference
def test_cli_several_models_give_the_aicc_table(reference_dir):
    d = reference_dir / "secrdesign" / "fits" / "A_CN_RU"
    args = ["secr", "--traps", str(d / "traps.csv"), "--captures", str(d / "captures.csv"),
            "--mask", str(d / "mask_CN.csv"), "--mask", str(d / "mask_RU.csv"),
            "--detector", "proximity", "--detectfn", "HHN", "--noccasions", "30",
            "--model", "D~session", "--model", "D~1", "--format", "json"]
    out = _json(runner.invoke(app, args))
    ref = _fits_json(reference_dir)["extras"]["aic_table_a"]["table"]
    assert [r["model"] for r in out["model_table"]] == [r["model"] for r in ref]
    for got, exp in zip(out["model_table"], ref, strict=True):
        for c in ("AICc", "dAICc", "AICcwt"):
            assert got[c] == pytest.approx(exp[c], abs=1e-3)
    assert out["model"] == "D~session lambda0~1 sigma~1"
    dav = [r for r in out["model_averaged"] if r["parameter"] == "D"]
    assert [r["session"] for r in dav] == ["CN", "RU"]
    # the best model's own results, with D per ha and per 100 km2
    a1 = _fits_json(reference_dir)["fits"]["a1_D_session"]
    assert out["loglik"] == pytest.approx(a1["logLik"], abs=1e-6)
    for name, row in out["D_per_100km2"].items():
        assert row["estimate"] == pytest.approx(out["estimates"][name]["estimate"] * 1e4)


@pytest.mark.reference
def test_cli_one_covariate_model_and_learned_response(reference_dir):
    fits = _fits_json(reference_dir)["fits"]
    d = reference_dir / "secrdesign" / "fits" / "HAB"
    args = ["secr", "--traps", str(d / "traps.csv"), "--captures", str(d / "captures.csv"),
            "--mask", str(d / "mask.csv"), "--detector", "proximity", "--detectfn", "HHN",
            "--noccasions", "30", "--model", "D~forest", "--format", "json"]
    out = _json(runner.invoke(app, args))
    ref = {b["name"]: b for b in fits["b1_D_forest"]["beta"]}
    for k, v in out["beta"].items():
        assert v == pytest.approx(ref[k]["beta"], rel=1e-4)
        assert out["beta_se"][k] == pytest.approx(ref[k]["SE"], rel=1e-3)
    d = reference_dir / "secrdesign" / "fits" / "BK"
    args = ["secr", "--traps", str(d / "traps.csv"), "--captures", str(d / "captures.csv"),
            "--mask", str(d / "mask.csv"), "--detector", "proximity", "--detectfn", "HHN",
            "--noccasions", "20", "--model", "lambda0~bk", "--no-fastproximity",
            "--animals", str(d / "animals.csv"), "--format", "json"]
    out = _json(runner.invoke(app, args))
    assert out["loglik"] == pytest.approx(fits["c2_lambda0_bk"]["logLik"], abs=1e-6)
    assert out["beta"]["lambda0.bkTRUE"] == pytest.approx(0.696587243680523, rel=1e-4)


def test_cli_model_usage_errors_exit_2(tmp_path):
    traps, caps = _write_text_files(tmp_path)
    base = ["secr", "--traps", str(traps), "--captures", str(caps), "--detector", "count"]
    for extra in (["--model", "density=forest"], ["--model", "X~1"], ["--link", "D:log"],
                  ["--link", "D=probit"], ["--distribution", "negbin"]):
        res = runner.invoke(app, [*base, *extra])
        assert res.exit_code == 2, (extra, res.output)
    m = tmp_path / "m.csv"
    m.write_text("x,y\n0,0\n10,0\n")
    res = runner.invoke(app, [*base, "--mask", str(m), "--mask", str(m), "--mask", str(m)])
    assert res.exit_code == 2 and "one per session" in res.output
    # an unknown covariate in a formula: invalid model for the data, exit 1, no traceback
    res = runner.invoke(app, [*base, "--buffer", "60", "--spacing", "10", "--model",
                              "D~forest"])
    assert res.exit_code == 1 and "forest" in res.output and "Traceback" not in res.output


def test_cli_detectfn_names_agree_with_the_library():
    # the command checks names without importing numpy; the library is the authority
    from amurlink.analysis.secr.detectfn import _ALIASES, DETECTFN
    from amurlink.cli.secr import _DETECTFN_ALIASES, _DETECTFN_CODES, _known_detectfn

    assert _DETECTFN_CODES == {k: v.code for k, v in DETECTFN.items()}
    assert _DETECTFN_ALIASES == set(_ALIASES)
    assert _known_detectfn("hhr") and _known_detectfn("19") and _known_detectfn("HCG")
    assert _known_detectfn("HPX") and _known_detectfn("20") and _known_detectfn("9")
    assert not _known_detectfn("12") and not _known_detectfn("13")


@pytest.mark.reference
def test_cli_camera_and_dna_occasions_and_time_covariates(reference_dir, tmp_path):
    import dataclasses

    from amurlink.analysis.secr import LogLikelihood

    d = reference_dir / "secrdesign" / "fits" / "HAB"
    occ = ["count"] * 20 + ["proximity"] * 10
    base = ["secr", "--traps", str(d / "traps.csv"), "--captures", str(d / "captures.csv"),
            "--mask", str(d / "mask.csv"), "--detector", "count", "--detectfn", "HHN",
            "--noccasions", "30", "--format", "json"]
    out = _json(runner.invoke(app, [*base, "--occasion-detectors", ",".join(occ),
                                    "--model", "lambda0~dettype"]))
    ch = read_capthist(d / "traps.csv", d / "captures.csv", detector="count", n_occasions=30)
    mask = read_mask(d / "mask.csv", spacing=1000)
    ll = LogLikelihood(dataclasses.replace(ch, occasion_detectors=tuple(occ)), mask,
                       detectfn="HHN", model={"lambda0": "~dettype"})
    assert out["loglik"] == pytest.approx(ll(list(out["beta"].values())), abs=1e-9)
    assert "lambda0.dettypeproximity" in out["beta"]
    tc = tmp_path / "timecov.csv"
    tc.write_text("effort\n" + "\n".join(str(1 + (s % 3) / 2) for s in range(30)) + "\n")
    out = _json(runner.invoke(app, [*base, "--timecov", str(tc), "--model",
                                    "lambda0~effort"]))
    assert "lambda0.effort" in out["beta"]
    bad = runner.invoke(app, [*base, "--occasion-detectors", "count,camera"])
    assert bad.exit_code == 2
