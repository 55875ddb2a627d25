"""``[secr] dna = true``: the ``secr models`` stage of ``amurlink run`` also fits the study's
models with camera + DNA of the same animals (small simulated study, seed 7). The DNA samples
join photographed animals through the joint package's confirmed sample links (made here from
the simulator's truth, as a reviewer would confirm the DNA proposals)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

LEOPARD = "Panthera pardus"


def _confirm_dna_links(sim, joint) -> int:
    """Confirm sample -> national catalogue ID links (the sample's country first)."""
    from amurlink.identify.links import LinkStore

    s = pd.read_csv(sim / "truth" / "samples.csv")
    s = s[s["reference"].isna()]
    links = pd.read_csv(sim / "truth" / "links.csv")
    pairs = []
    for r in s.itertuples():
        own = links[links["animalID"] == r.animalID]
        same = own[own["country"] == r.country]
        pick = same if len(same) else own
        if len(pick):
            pairs.append((r.sampleID, pick["individualID"].iloc[0]))
    store = LinkStore(joint)
    store.propose(pd.DataFrame({"subjectA": [a for a, _ in pairs],
                                "subjectB": [b for _, b in pairs], "score": 1.0}),
                  method="dna", by="test")
    for a, b in pairs:
        store.accept(a, b, reviewer="test reviewer")
    return len(pairs)


@pytest.fixture(scope="module")
def dna_run(tmp_path_factory):
    from amurlink.simulate import simulate_study, write_study
    from amurlink.study._runner import Study, run_study

    root = tmp_path_factory.mktemp("secrdna")
    sim = root / "sim"
    write_study(simulate_study("small", seed=7), sim, overwrite=True)
    toml = sim / "amurlink.toml"
    toml.write_text(toml.read_text(encoding="utf-8")
                    + "\n[secr]\ndna = true\ndna_spacing_m = 1500\n", encoding="utf-8")
    stages = ("joint package", "secr models")
    first = run_study(Study.open(sim, root / "out"), parallel=False, only=stages)
    n = _confirm_dna_links(sim, root / "out" / "joint")
    second = run_study(Study.open(sim, root / "out"), parallel=False, only=stages)
    return {"first": first, "second": second, "links": n, "sim": sim, "out": root / "out"}


def test_without_confirmed_links_no_dna_model_is_fitted(dna_run):
    """The simulated lab files name no species: an unlinked DNA individual cannot be given
    to a species, so before any link is confirmed there is no camera + DNA table (said in
    the stage's errors) and the camera-only tables stand."""
    v = dna_run["first"].values["secr models"]
    assert dna_run["first"].stages["secr models"] == "ok"
    assert any("camera + DNA" in e and "no DNA sample" in e for e in v["errors"]), v["errors"]
    assert "joint" in v["tables"][LEOPARD]
    assert not any(k.endswith("+DNA") for per in v["tables"].values() for k in per)


def test_camera_dna_tables_after_the_links_are_confirmed(dna_run):
    from amurlink.study.themes import SECR_MODELS

    assert dna_run["links"] > 10
    run = dna_run["second"]
    assert run.stages["secr models"] == "ok"  # rerun: the confirmed links changed
    v = run.values["secr models"]
    per = v["tables"][LEOPARD]
    assert {"joint", "joint+DNA"} <= set(per), (set(per), v["errors"])
    mt = per["joint+DNA"]
    assert len(mt.table) + len(mt.errors) == len(SECR_MODELS)
    assert all("lambda0~dettype" in m for m in mt.table["model"])
    fit = mt.best_fit
    assert not fit._ll.sessions[0].fast  # mixed detectors are never collapsed
    ch = fit._ll.sessions[0].ch
    cam = np.array([d == "count" for d in ch.occasion_detectors])
    assert cam.any() and (~cam).any()
    by_cam = ch.counts[:, cam].reshape(ch.n, -1).sum(1) > 0
    by_dna = ch.counts[:, ~cam].reshape(ch.n, -1).sum(1) > 0
    # the same animals: some were photographed and sampled, and each method has its own
    # detection intercept (camera per week and unit usage, DNA per search occasion)
    assert (by_cam & by_dna).sum() >= 3
    assert fit.params.index.str.contains("dettype").any()
    assert np.all(np.isfinite(fit.predict()["se"].to_numpy(float)))
    # the camera-only joint table is unchanged by the DNA option (same models, same data)
    cam_only = per["joint"]
    assert list(cam_only.table["model"]) and not any("dettype" in m
                                                     for m in cam_only.table["model"])


def test_report_labels_the_camera_dna_fits():
    from amurlink.report._sections_models import _fit_label

    assert _fit_label("joint+DNA", lambda s: s) == "Joint + DNA"
    assert _fit_label("RU+DNA", lambda s: s) == "Russia + DNA"
    assert _fit_label("CN", lambda s: s) == "China"


@pytest.mark.slow  # about 110 s on 2 cores: every model, jointly and per country
def test_dna_search_routes_make_the_camera_dna_tables_linked(dna_run, tmp_path_factory):
    """``[secr] dna_search``: a GeoJSON of the areas searched (here the samples' hull + 3 km,
    in longitude/latitude) reruns the stage and fits cameras and the search as linked
    methods (lambda0 ~ session)."""
    import json

    import shapely

    from amurlink.core.border import load_border
    from amurlink.core.crs import from_metric
    from amurlink.study._runner import Study, run_study

    sim = dna_run["sim"]
    border = load_border(sim / "border.geojson")
    s = pd.read_csv(sim / "truth" / "samples.csv")
    s = s[s["reference"].isna()]
    area = shapely.convex_hull(shapely.multipoints(s[["x", "y"]].to_numpy())).buffer(3000)

    def to_lonlat(c):
        lon, lat = from_metric(c[:, 0], c[:, 1], crs=border.crs)
        return np.column_stack([lon, lat])

    geo = shapely.geometry.mapping(shapely.transform(area, to_lonlat))
    (sim / "dna").mkdir(exist_ok=True)
    (sim / "dna" / "search.geojson").write_text(json.dumps(
        {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
                                                    "geometry": geo}]}))
    toml = sim / "amurlink.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        "dna_spacing_m = 1500\n", 'dna_spacing_m = 1500\ndna_search = "dna/search.geojson"\n'),
        encoding="utf-8")
    run = run_study(Study.open(sim, dna_run["out"]), parallel=False,
                    only=("joint package", "secr models"))
    assert run.stages["secr models"] == "ok"
    per = run.values["secr models"]["tables"][LEOPARD]
    assert "joint+DNA" in per, run.values["secr models"]["errors"]
    mt = per["joint+DNA"]
    assert all("lambda0~session" in m for m in mt.table["model"])
    fit = mt.best_fit
    assert fit._ll.linked and fit._ll._parts[1].ch.detector == "polygon"
    assert np.isfinite(fit.loglik)


def test_dna_search_setting_is_read_checked_and_an_input_of_the_stage(tmp_path):
    """``[secr] dna_search`` and ``dna_snap_m``: read, refused when malformed (named), written
    back, and the file is an input of ``secr models`` (changing it reruns the stage)."""
    from amurlink.config import StudyConfig
    from amurlink.exceptions import ConfigError
    from amurlink.study._runner import Study
    from amurlink.study.themes import _secr_dna_files

    cfg = StudyConfig.from_dict({"secr": {"dna": True, "dna_search": "dna/search.geojson",
                                          "dna_snap_m": 50}})
    assert (cfg.secr.dna_search, cfg.secr.dna_snap_m) == ("dna/search.geojson", 50.0)
    assert cfg.to_dict()["secr"]["dna_search"] == "dna/search.geojson"
    with pytest.raises(ConfigError, match="secr.dna_snap_m"):
        StudyConfig.from_dict({"secr": {"dna_snap_m": -1}})
    with pytest.raises(ConfigError, match="secr.dna_search"):
        StudyConfig.from_dict({"secr": {"dna_search": 3}})
    (tmp_path / "amurlink.toml").write_text(
        '[secr]\ndna = true\ndna_search = "dna/search.geojson"\n', encoding="utf-8")
    files = _secr_dna_files(Study.open(tmp_path, tmp_path / "out"))
    assert files["secr_dna_search"] == tmp_path / "dna" / "search.geojson"
