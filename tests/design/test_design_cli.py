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


def _candidate_file(tmp_path, n=40, seed=4):
    import numpy as np

    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 20000, (n, 2))
    frame = pd.DataFrame({"site_id": [f"S{i:02d}" for i in range(n)], "x": xy[:, 0],
                          "y": xy[:, 1], "country": np.where(xy[:, 0] < 10000, "CN", "RU"),
                          "cameras": np.where(xy[:, 0] < 10000, 2, 1)})
    frame["current"] = 0
    frame.loc[:9, "current"] = 1
    path = tmp_path / "cand.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_search_command(tmp_path):
    path, frame = _candidate_file(tmp_path)
    roads = tmp_path / "roads.geojson"
    roads.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {},
         "geometry": {"type": "LineString", "coordinates": [[0, 10000], [20000, 10000]]}}]}))
    args = ["design", "search", "--candidates", str(path), "-k", "10", "--D", "5e-4",
            "--lambda0", "0.08", "--sigma", "2000", "--noccasions", "15", "--budget", "CN=8",
            "--min-distance", "1km", "--roads", str(roads), "--road-distance", "8km",
            "--time-limit", "1"]
    res = runner.invoke(app, [*args, "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert len(out["chosen_site_ids"]) == 10
    chosen = frame.set_index("site_id").loc[out["chosen_site_ids"]]
    assert chosen[chosen.country == "CN"]["cameras"].sum() <= 8
    assert (abs(chosen["y"] - 10000) <= 8000).all()
    assert out["baseline_kind"] == "current" and out["gain"] >= 0
    assert "x" not in json.dumps(out["per_country"])  # IDs and counts only, no positions
    text = runner.invoke(app, args)
    assert text.exit_code == 0 and "gain" in text.stdout
    assert runner.invoke(app, [*args[:-2], "--budget", "CN"]).exit_code == 2
    # a number of swaps instead of a time limit: the same sites on every run
    fixed_work = [*args[:-2], "--max-swaps", "8", "--format", "json"]
    runs = [json.loads(runner.invoke(app, fixed_work).stdout) for _ in range(2)]
    assert runs[0]["chosen_site_ids"] == runs[1]["chosen_site_ids"]
    assert runs[0]["swaps"] <= 8
    for bad_args in (["--max-swaps", "-1"], ["--time-limit", "0"]):
        res = runner.invoke(app, [*args[:-2], *bad_args])
        assert res.exit_code == 2 and bad_args[0] in res.output
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\nthree,4\n")
    res = runner.invoke(app, ["design", "search", "--candidates", str(bad), "-k", "1", "--D",
                              "1e-3", "--lambda0", "0.1", "--sigma", "1000", "--noccasions",
                              "5"])
    assert res.exit_code == 1 and "row 3" in res.output and "field x" in res.output


def test_power_command():
    res = runner.invoke(app, ["design", "power", "--rse", "0.2", "--ratio", "0.5", "--format",
                              "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    from amurlink.design import power_two_surveys, years_to_detect

    assert out["power"] == pytest.approx(power_two_surveys(0.5, 0.2))
    res = runner.invoke(app, ["design", "power", "--rse", "0.2", "--double-in", "12",
                              "--format", "json"])
    out = json.loads(res.stdout)
    assert out["years"] == years_to_detect(2 ** (1 / 12) - 1, 0.2)
    assert runner.invoke(app, ["design", "power", "--rse", "0.2"]).exit_code == 2
    assert runner.invoke(app, ["design", "power", "--rse", "0", "--ratio", "2"]).exit_code == 1


def test_national_command(tmp_path):
    import numpy as np

    rows = []
    for c, x0, cams in (("CN", -11250.0, 2), ("RU", 1250.0, 1)):
        for i in range(5):
            for j in range(5):
                rows.append({"x": x0 + i * 2500, "y": j * 2500.0, "country": c,
                             "cameras": cams, "current": int(1 <= i <= 3 and 1 <= j <= 3)})
    path = tmp_path / "layout.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    args = ["design", "national", "--layout", str(path), "--D", "5e-4", "--lambda0", "0.1",
            "--sigma", "2500", "--noccasions", "30", "--cameras-needed", "--unitcost",
            "perdetector=300", "--visits", "4"]
    res = runner.invoke(app, [*args, "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    jvn = {r["survey"]: r for r in out["joint_vs_national"]}
    assert jvn["joint"]["stations"] == 18 and jvn["joint"]["rse"] < jvn["CN"]["rse"]
    cost = {r["country"]: r for r in out["costing"]}
    assert cost["CN"]["detectors"] == 300 * 18 and cost["RU"]["visits"] == 9 * 4
    need = {r["country"]: r for r in out["cameras_needed_alone"]}
    assert need["CN"]["stations"] == 25 and np.isclose(need["CN"]["cameras"], 50)
    text = runner.invoke(app, args)
    assert text.exit_code == 0 and "costing per country" in text.stdout
    assert runner.invoke(app, [*args, "--unitcost", "perdetector"]).exit_code == 2
