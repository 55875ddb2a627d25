"""The theme stages of ``amurlink run`` (design, corridors, incidents, SECR models) on a small
simulated study, and the demo inputs they read."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest


def _digests(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    from amurlink.simulate import simulate_study, write_study
    from amurlink.study import themes
    from amurlink.study._runner import Study, run_study

    root = tmp_path_factory.mktemp("themes")
    st = simulate_study("small", seed=2015)
    write_study(st, root / "sim", overwrite=True)
    before = _digests(root / "sim")
    written = themes.write_theme_inputs(st, root / "sim")
    after = _digests(root / "sim")
    res = run_study(Study.open(root / "sim", root / "out"), parallel=False,
                    only=("design", "corridors", "incidents", "secr models"))
    return {"root": root, "run": res, "before": before, "after": after, "written": written,
            "truth": st}


def test_theme_inputs_leave_the_simulated_files_unchanged(small_run):
    before, after = small_run["before"], small_run["after"]
    assert {k: after[k] for k in before} == before
    new = set(after) - set(before)
    assert {"incidents/cn/incidents.csv", "incidents/ru/claimants.csv",
            "landscape/settlements.csv", "landscape/resistance.tif"} <= new


def test_design_stage(small_run):
    run = small_run["run"]
    assert run.stages["design"] in ("ok", "cached")
    v = run.values["design"]
    lay = v["layouts"].set_index("layout")
    assert set(lay.index) == {"current", "proposed"}
    assert (lay["rse"] > 0).all() and (lay["rse"] < 1).all()
    # same cameras per country in both layouts, and the costing agrees with the layouts
    assert lay.loc["current", "cameras_CN"] == lay.loc["proposed", "cameras_CN"]
    cost = v["costing"].set_index(["layout", "country"])
    assert cost.loc[("proposed", "RU"), "cameras"] == lay.loc["proposed", "cameras_RU"]
    assert len(v["proposed_xy"]) == lay.loc["proposed", ["stations_CN", "stations_RU"]].sum()


def test_corridors_stage(small_run):
    run = small_run["run"]
    assert run.stages["corridors"] in ("ok", "cached")
    v = run.values["corridors"]
    seg = pd.read_csv(small_run["root"] / "out" / "corridors" / "border_segments.csv")
    assert len(seg) == v["segments"] and "crossings" in seg
    assert -1.0 <= v["spearman"] <= 1.0


def test_incidents_stage(small_run):
    run = small_run["run"]
    assert run.stages["incidents"] in ("ok", "cached")
    v = run.values["incidents"]
    truth = small_run["truth"]
    from amurlink.simulate._incidents import simulate_incidents

    sim = simulate_incidents(truth)
    for name in ("incidents", "claimants", "diseaseTests", "patrols"):
        n = sum(len(t[name]) for t in sim.tables.values())
        assert len(v["tables"].get(name, [])) == n, name
    w = v["analyses"]["warnings_by_month"]
    assert set(w["level"]) <= {1, 2, 3} and (w["warnings"] > 0).all()
    assert v["levels_km"] == [[0.0, 1.0], [1.0, 2.0], [3.0, 5.0]]


def test_secr_models_stage(small_run):
    from amurlink.study.themes import SECR_MODELS

    run = small_run["run"]
    assert run.stages["secr models"] in ("ok", "cached")
    v = run.values["secr models"]
    assert v["tables"], v["errors"]
    for per in v["tables"].values():
        assert "joint" in per
        for mt in per.values():
            t = mt.table
            assert len(t) + len(mt.errors) == len(SECR_MODELS)
            assert t["dAICc"].iloc[0] == 0 and abs(t["AICcwt"].sum() - 1) < 1e-9
    # each species' best joint surface as a GeoTIFF, the report's density map in numbers
    import numpy as np
    import rasterio

    files = v["files"]
    assert [f.rsplit("/", 1)[-1] for f in files] == [
        f"density_{'_'.join(sp.split())}.tif" for sp in sorted(v["tables"])]
    for sp, f in zip(sorted(v["tables"]), files, strict=True):
        surf = v["tables"][sp]["joint"].best_fit.density_map()
        with rasterio.open(f) as src:
            assert src.descriptions[0] == "D" and src.crs is not None
            rows, cols = rasterio.transform.rowcol(src.transform, surf.x, surf.y)
            np.testing.assert_allclose(src.read(1)[rows, cols], surf.D * 1e4, rtol=1e-6)


def test_settlements_from_csv_geojson_and_geopackage(tmp_path):
    import json

    import numpy as np

    from amurlink.core.crs import to_metric
    from amurlink.exceptions import DataError
    from amurlink.report._gpkg import write_gpkg
    from amurlink.study.themes import read_settlements

    lon, lat = [131.01, 130.95], [43.12, 43.2]
    (tmp_path / "v.csv").write_text("name,longitude,latitude\nA,131.01,43.12\nB,130.95,43.2\n")
    (tmp_path / "v.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": n},
         "geometry": {"type": "Point", "coordinates": [x, y]}}
        for n, x, y in zip("AB", lon, lat, strict=True)]}))
    x, y = to_metric(lon, lat, crs="EPSG:32652")
    write_gpkg(tmp_path / "v.gpkg", {"villages": (
        pd.DataFrame({"name": ["A", "B"]}),
        [("POINT", [(float(a), float(b))]) for a, b in zip(x, y, strict=True)], "POINT")},
        crs="EPSG:32652")
    for f in ("v.csv", "v.geojson", "v.gpkg"):
        got = read_settlements(tmp_path / f)
        assert list(got["name"]) == ["A", "B"], f
        assert np.allclose(got["longitude"], lon, atol=1e-7), f
        assert np.allclose(got["latitude"], lat, atol=1e-7), f
    (tmp_path / "bad.csv").write_text("village,x\nA,1\n")
    with pytest.raises(DataError, match="bad.csv: settlements need columns name"):
        read_settlements(tmp_path / "bad.csv")


def test_warning_levels_come_from_the_config(tmp_path):
    from amurlink.config import StudyConfig
    from amurlink.exceptions import ConfigError

    cfg = StudyConfig.from_dict({"warnings": {"levels_km": [[0, 0.5], [0.5, 2]]}})
    assert cfg.warnings.levels_km == ((0.0, 0.5), (0.5, 2.0))
    assert StudyConfig().warnings.levels_km == ((0.0, 1.0), (1.0, 2.0), (3.0, 5.0))
    with pytest.raises(ConfigError, match="warnings.levels_km.*overlap"):
        StudyConfig.from_dict({"warnings": {"levels_km": [[0, 2], [1, 3]]}})
    with pytest.raises(ConfigError, match="inputs.CN.incidentz"):
        StudyConfig.from_dict({"inputs": {"CN": {"incidentz": ["x"]}}})


def test_the_run_carries_the_books_into_the_joint_package_but_never_claimants(small_run,
                                                                            tmp_path):
    # issue #19: the incident books are extension tables of the joint package; claimants
    # (names, phones, addresses) stay in the owner's folders
    from amurlink.harmonise import write_harmonised
    from amurlink.io import read_camtrap_dp
    from amurlink.simulate._incidents import simulate_incidents

    value = small_run["run"].values["harmonise"]
    joint = write_harmonised(value["hres"], tmp_path / "joint", allow_errors=True)
    data = read_camtrap_dp(joint)
    sim = simulate_incidents(small_run["truth"])
    for name in ("incidents", "diseaseTests", "patrols", "patrolFindings"):
        n = sum(len(t[name]) for t in sim.tables.values())
        assert len(data[name]) == len(value["dataset"][name]) == n, name
    assert len(data["diseaseTests"]) and len(data["patrols"])
    text = "".join(p.read_text(encoding="utf-8", errors="replace")
                   for p in joint.rglob("*") if p.is_file() and p.suffix in (".csv", ".json"))
    assert "claimantName" not in text and "claimants" not in {p.stem for p in joint.iterdir()}


def test_a_claimants_file_beside_the_books_never_reaches_the_joint_package(small_run,
                                                                          tmp_path):
    import shutil

    from amurlink.study._runner import Study
    from amurlink.study.stages import _incident_books

    sim = tmp_path / "sim"
    shutil.copytree(small_run["root"] / "sim", sim)
    (sim / "incidents" / "cn" / "claimants.csv").write_text(
        "claimID,incidentID,claimantName,phone,address,claimComments\n"
        "CL-1,CN-INC-1,Zzyzx Qwerty,+86 555 0100,1 Village Road,paid in cash\n",
        encoding="utf-8")
    books = _incident_books(Study.open(sim, tmp_path / "out"))
    assert books and "claimants" not in books
    for frame in books.values():
        assert not {"claimantName", "phone", "address"} & set(frame.columns)
        assert not frame.astype(str).apply(lambda c: c.str.contains("Zzyzx")).any().any()


def test_village_warnings_come_from_the_records_the_analyses_use(small_run):
    """Records flagged by the harmoniser (clock a year off, outside their deployment) raise
    no village warning: the incidents stage reads the analysed records, as every analysis."""
    from amurlink.analysis.quality import for_analyses
    from amurlink.incidents.analysis import (
        parse_warning_levels,
        village_warnings,
        warnings_per_month,
    )
    from amurlink.study import themes
    from amurlink.study._runner import Study

    run = small_run["run"]
    study = Study.open(small_run["root"] / "sim", small_run["root"] / "out")
    settle = themes.read_settlements(themes._settlements_file(study))
    levels = parse_warning_levels(study.config.warnings.levels_km)

    def per_month(ds):
        return warnings_per_month(village_warnings(themes._camera_detections(ds), settle,
                                                   levels=levels,
                                                   crs=study.config.crs.working))

    whole = run.values["harmonise"]["dataset"]
    used = for_analyses(whole, study.config)
    assert len(used.observations) < len(whole.observations)  # the small study has flags
    got = run.values["incidents"]["analyses"]["warnings_by_month"]
    pd.testing.assert_frame_equal(got.reset_index(drop=True),
                                  per_month(used).reset_index(drop=True))
