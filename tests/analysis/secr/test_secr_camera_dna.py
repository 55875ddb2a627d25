"""Camera and DNA detections of the same animals in one SECR model
(:func:`capthist_camera_dna`): built from the joint package (``small`` scenario, seed 7,
harmonised) and the DNA samples assigned to individuals (the simulator's truth: each sample's
animal as its national catalogue ID). The mixed history's likelihood, given the centre, is
the camera part's plus the DNA part's, each equal to its own single-method history."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from amurlink.analysis.secr import (
    CaptureHistory,
    LogLikelihood,
    capthist_camera_dna,
    capthist_from_dataset,
    fit_secr,
    make_mask,
)
from amurlink.cli import app
from amurlink.core.border import load_border
from amurlink.exceptions import ConfigError, DataError

pytest.importorskip("amurlink.simulate")

LEOPARD = "Panthera pardus"
runner = CliRunner()


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    from amurlink.io import read_camtrap_dp

    root = tmp_path_factory.mktemp("camdna")
    sim = root / "sim"
    res = runner.invoke(app, ["simulate", "--scenario", "small", "--seed", "7", "-o", str(sim)])
    assert res.exit_code == 0, res.output
    out = root / "joint"
    res = runner.invoke(app, ["harmonise", str(sim / "cn"), str(sim / "ru" / "ru.mapping.toml"),
                              "--config", str(sim / "amurlink.toml"), "--links",
                              str(sim / "crosswalk.csv"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    shutil.copy(sim / "border.geojson", out / "border.geojson")
    border = load_border(sim / "border.geojson")
    # DNA assignments: field samples of leopards -> the animal's national catalogue ID in the
    # sample's country (else the other country's; else a DNA-only label)
    s = pd.read_csv(sim / "truth" / "samples.csv")
    s = s[s["reference"].isna() & s["animalID"].str.startswith("leo")]
    links = pd.read_csv(sim / "truth" / "links.csv")
    t0 = pd.Timestamp(json.loads((sim / "summary.json").read_text())["period"][0], tz="UTC")

    def ident(row):
        own = links[(links["animalID"] == row.animalID)]
        same = own[own["country"] == row.country]
        pick = same if len(same) else own
        return pick["individualID"].iloc[0] if len(pick) else f"DNA:{row.animalID}"

    dna = pd.DataFrame({"sampleID": s["sampleID"],
                        "individualID": [ident(r) for r in s.itertuples()],
                        "x": s["x"], "y": s["y"],
                        "collectionDate": (t0 + pd.to_timedelta(s["day"], unit="D")).astype(str),
                        "scientificName": LEOPARD})
    ds = read_camtrap_dp(out, strict=False)
    ch = capthist_camera_dna(ds, dna, border=border, species=LEOPARD, dna_spacing=1500,
                             dna_occasions=2)
    cam = capthist_from_dataset(ds, border=border, species=LEOPARD)
    mask = make_mask(ch.traps, buffer=8000, spacing=1000)
    return {"dataset": ds, "border": border, "dna": dna, "ch": ch, "cam": cam, "mask": mask,
            "sim": sim, "joint": out, "root": root}


def test_history_layout(study):
    ch, cam, dna = study["ch"], study["cam"], study["dna"]
    Sc, Kc = cam.n_occasions, cam.n_detectors
    assert ch.occasion_detectors == ("count",) * Sc + ("proximity",) * 2
    assert ch.trap_ids[:Kc] == cam.trap_ids and ch.trap_ids[Kc].startswith("DNA-")
    # camera part unchanged; DNA detections only on DNA occasions at grid detectors
    np.testing.assert_array_equal(ch.counts[:cam.n, :Sc, :Kc], cam.counts)
    assert ch.counts[:, :Sc, Kc:].sum() == 0 and ch.counts[:, Sc:, :Kc].sum() == 0
    assert ch.counts[:, Sc:, :].max() == 1
    u = ch.usage_or_ones
    assert np.all(u[Kc:, :Sc] == 0) and np.all(u[:Kc, Sc:] == 0) and np.all(u[Kc:, Sc:] == 1)
    # each sample went to its nearest grid point; (animal, occasion, point) triples <= samples
    assert 0 < ch.counts[:, Sc:].sum() <= len(dna)
    grid = ch.traps[Kc:]
    d = np.sqrt(((dna[["x", "y"]].to_numpy()[:, None] - grid[None]) ** 2).sum(-1)).min(1)
    # (samples of non-adult animals are left out, so some may lie outside the grid)
    assert (d <= 1500 / np.sqrt(2) + 1e-6).sum() >= ch.counts[:, Sc:].sum()
    # the samples' animals are the camera joint IDs where the animal was photographed
    photographed = set(cam.animal_ids)
    dna_animals = {ch.animal_ids[i] for i in np.flatnonzero(ch.counts[:, Sc:].sum((1, 2)))}
    assert dna_animals & photographed, "no DNA sample was linked to a photographed animal"
    assert all(a.startswith("J-") or a.startswith("DNA:") for a in dna_animals)
    assert ch.n >= cam.n


def _part(ch: CaptureHistory, occ: slice, det: slice, kind: str) -> tuple[CaptureHistory,
                                                                            np.ndarray]:
    counts = ch.counts[:, occ, det]
    seen = counts.reshape(ch.n, -1).sum(1) > 0
    part = CaptureHistory(traps=ch.traps[det], counts=counts[seen], detector=kind,
                          usage=ch.usage_or_ones[det, occ],
                          animal_ids=tuple(np.asarray(ch.animal_ids)[seen]))
    return part, seen


def test_parts_add_up_to_the_joint_likelihood(study):
    """log Pr(history | x) of each animal = camera part + DNA part, each equal to the
    single-method model's (an animal missing from a part contributes log Pr(not detected));
    1 - pdot = product of the parts' non-detection probabilities."""
    ch, mask, cam = study["ch"], study["mask"], study["cam"]
    Sc, Kc = cam.n_occasions, cam.n_detectors
    lam_c, lam_d, sig = 0.02, 0.3, 1800.0
    ll = LogLikelihood(ch, mask, detectfn="HHN", model={"lambda0": "~dettype"})
    beta = np.array([-9.0, np.log(lam_c), np.log(lam_d / lam_c), np.log(sig)])
    LL, pdot = ll.sessions[0].class_loglik(ll.session_pars(beta, 0)[0])
    total = np.zeros_like(LL)
    nondet = np.ones(mask.n_points)
    for occ, det, kind, lam in ((slice(0, Sc), slice(0, Kc), "count", lam_c),
                                (slice(Sc, None), slice(Kc, None), "proximity", lam_d)):
        part, seen = _part(ch, occ, det, kind)
        lp = LogLikelihood(part, mask, detectfn="HHN", fastproximity=False)
        L1, p1 = lp.sessions[0].class_loglik(
            lp.session_pars(np.array([-9.0, np.log(lam), np.log(sig)]), 0)[0])
        total[seen] += L1
        total[~seen] += np.log1p(-p1)[None, :]  # not detected by this method
        nondet *= 1 - p1
    np.testing.assert_allclose(LL, total, rtol=1e-9, atol=1e-8)
    np.testing.assert_allclose(1 - pdot, nondet, rtol=1e-9, atol=1e-12)
    # the camera part alone is exactly capthist_from_dataset's history
    part, _ = _part(ch, slice(0, Sc), slice(0, Kc), "count")
    np.testing.assert_array_equal(part.counts, cam.counts)


def test_camera_dna_model_fits(study):
    ch, mask = study["ch"], study["mask"]
    fit = fit_secr(ch, mask, detectfn="HHN", model={"lambda0": "~dettype"})
    assert fit.code == 1 and np.all(np.isfinite(fit.se))
    common = fit_secr(ch, mask, detectfn="HHN")
    assert fit.loglik >= common.loglik - 1e-6
    # DNA-only detection intercept differs from the cameras' (per occasion, vs per day)
    pred = fit.predict()
    assert np.isfinite(pred.loc["sigma", "estimate"]) and pred.loc["sigma", "estimate"] > 0


def test_bad_assignments_are_clear_errors(study):
    ds, border, dna = study["dataset"], study["border"], study["dna"]
    with pytest.raises(DataError, match="individualID"):
        capthist_camera_dna(ds, dna.drop(columns="individualID"), border=border,
                            species=LEOPARD)
    bad = dna.copy()
    bad.loc[bad.index[0], "x"] = np.nan
    with pytest.raises(DataError, match=str(bad["sampleID"].iloc[0])):
        capthist_camera_dna(ds, bad, border=border, species=LEOPARD)
    with pytest.raises(DataError, match="collectionDate"):
        capthist_camera_dna(ds, dna.drop(columns="collectionDate"), border=border,
                            species=LEOPARD)
    with pytest.raises(ConfigError, match="dna_occasions"):
        capthist_camera_dna(ds, dna, border=border, species=LEOPARD, dna_occasions=0)
    with pytest.raises(DataError, match="no DNA sample"):
        capthist_camera_dna(ds, dna.assign(scientificName="Panthera tigris"), border=border,
                            species=LEOPARD)


def test_one_dna_occasion_merges_the_searches(study):
    ds, border, dna, ch2 = study["dataset"], study["border"], study["dna"], study["ch"]
    ch1 = capthist_camera_dna(ds, dna, border=border, species=LEOPARD, dna_spacing=1500)
    Sc = study["cam"].n_occasions
    assert ch1.n_occasions == Sc + 1 and ch1.animal_ids == ch2.animal_ids
    np.testing.assert_array_equal(ch1.counts[:, Sc], ch2.counts[:, Sc:].max(axis=1))
    assert dataclasses.replace(ch1).n == ch1.n


def test_national_history_uses_national_ids(study):
    ds, border, dna = study["dataset"], study["border"], study["dna"]
    ru_dna = dna[dna["individualID"].str.startswith("RU-")]
    ch = capthist_camera_dna(ds, ru_dna, border=border, species=LEOPARD, country="RU",
                             dna_spacing=1500)
    cam = capthist_from_dataset(ds, border=border, species=LEOPARD, country="RU")
    assert ch.session == "RU" and ch.animal_ids[:cam.n] == cam.animal_ids
    np.testing.assert_array_equal(ch.counts[:cam.n, :cam.n_occasions, :cam.n_detectors],
                                  cam.counts)
    dna_animals = {ch.animal_ids[i] for i in
                   np.flatnonzero(ch.counts[:, cam.n_occasions:].sum((1, 2)))}
    assert dna_animals and all(a.startswith("RU-") for a in dna_animals)


# ---------------------------------------------------------------------------------------------
# from the labs' files, and from the command line
# ---------------------------------------------------------------------------------------------
def _lab_args(sim):
    return ["--dna", str(sim / "dna" / "cn_lab.csv"), "--dna", str(sim / "dna" / "ru_lab.csv"),
            "--dna-reference", str(sim / "dna" / "reference_samples.csv")]


def _confirmed_joint(study, name):
    """A copy of the joint package whose link log confirms each field sample's animal (its
    national catalogue ID, from the simulator's truth), as a reviewer would."""
    from amurlink.identify.links import LinkStore

    joint = study["root"] / name
    if not joint.exists():
        shutil.copytree(study["joint"], joint)
        s = pd.read_csv(study["sim"] / "truth" / "samples.csv")
        s = s[s["reference"].isna()]
        dna = study["dna"].set_index("sampleID")["individualID"]  # leopards only
        pairs = [(sid, dna[sid]) for sid in s["sampleID"]
                 if sid in dna.index and not dna[sid].startswith("DNA:")]
        store = LinkStore(joint)
        store.propose(pd.DataFrame({"subjectA": [a for a, _ in pairs],
                                    "subjectB": [b for _, b in pairs], "score": 1.0}),
                      method="dna", by="test")
        for a, b in pairs:
            store.accept(a, b, reviewer="test reviewer")
    return joint


def test_dna_assignments_from_lab_files(study):
    from amurlink.analysis.secr import dna_assignments
    from amurlink.io import read_camtrap_dp

    sim = study["sim"]
    files = [sim / "dna" / "cn_lab.csv", sim / "dna" / "ru_lab.csv"]
    ref = sim / "dna" / "reference_samples.csv"
    alone = dna_assignments(files, reference=ref)
    # reference samples are not field samples; no confirmed link: every animal DNA-only
    assert not alone["sampleID"].str.contains("REF").any()
    assert alone["individualID"].str.startswith("DNA:").all()
    joint = _confirmed_joint(study, "joint_links")
    links = read_camtrap_dp(joint, strict=False).get("identityLinks")
    a = dna_assignments(files, reference=ref, links=links)
    assert list(a["sampleID"]) == list(alone["sampleID"])
    truth = study["dna"].set_index("sampleID")["individualID"]
    linked = ~a["individualID"].str.startswith("DNA:")
    assert linked.sum() >= 10
    # a confirmed sample keeps its own ID; the DNA individual's other samples take it too
    own = a["sampleID"].map(truth).fillna("DNA:not a leopard")
    assert (a.loc[linked & ~own.str.startswith("DNA:"), "individualID"]
            == own[linked & ~own.str.startswith("DNA:")]).mean() > 0.9


def test_cli_joint_dir_with_dna_lab_files(study):
    joint = _confirmed_joint(study, "joint_links")
    sim = study["sim"]
    args = ["secr", str(joint), "--species", LEOPARD, "--border", str(sim / "border.geojson"),
            "--config", str(sim / "amurlink.toml"), *_lab_args(sim), "--dna-spacing", "1500",
            "--occasion-days", "7", "--buffer", "10km", "--spacing", "2km",
            "--model", "D~1", "--model", "D~x", "--format", "json"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout[res.stdout.index("{"):])
    assert out["methods"] == ["camera", "dna"]
    assert [r["model"] for r in out["model_table"]] and all(
        "lambda0~dettype" in r["model"] for r in out["model_table"])
    assert len(out["model_table"]) == 2
    ch = out["capture_history"]
    # the camera part is the camera-only history's animals; DNA adds samples of the same
    # animals (linked) and DNA-only ones
    assert ch["animals_camera"] == study["cam"].n
    assert ch["animals_dna"] > 0
    assert ch["animals"] < ch["animals_camera"] + ch["animals_dna"]
    assert ch["occasions_dna"] == 1 and ch["detectors_dna"] > 0
    # one detection intercept per method, with a finite SE; shared sigma
    assert {"D", "lambda0", "lambda0.dettypeproximity", "sigma"} <= set(out["beta"])
    assert all(np.isfinite(v) and v > 0 for v in out["beta_se"].values())
    assert "RU" in out["national"]
    assert "dettype" in out["national"]["RU"]["model"]


def test_cli_dna_assignments_equal_the_api(study, tmp_path):
    """--dna-assignments CSV gives the history capthist_camera_dna builds from the same
    table (animals, detections) and a finite fit."""
    sim = study["sim"]
    f = tmp_path / "dna.csv"
    study["dna"].to_csv(f, index=False)
    res = runner.invoke(app, ["secr", str(study["joint"]), "--species", LEOPARD,
                              "--border", str(sim / "border.geojson"),
                              "--config", str(sim / "amurlink.toml"),
                              "--dna-assignments", str(f), "--dna-spacing", "1500",
                              "--buffer", "8km", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout[res.stdout.index("{"):])
    ch = capthist_camera_dna(study["dataset"], study["dna"], border=study["border"],
                             species=LEOPARD, dna_spacing=1500)
    assert out["capture_history"]["animals"] == ch.n
    assert out["capture_history"]["detections"] == int(ch.counts.sum())
    assert out["model"] == "D~1 lambda0~dettype sigma~1"
    assert np.isfinite(out["loglik"])


@pytest.mark.parametrize("extra, message", [
    (["--traps", "t.csv", "--captures", "c.csv", "--detector", "count", "--dna", "x.csv"],
     "go with JOINT_DIR"),
    (["JOINT", "--species", LEOPARD, "--dna", "LAB", "--dna-assignments", "LAB"],
     "not both"),
    (["JOINT", "--species", LEOPARD, "--dna-spacing", "1km"], "need --dna"),
    (["JOINT", "--species", LEOPARD, "--dna", "missing.csv"], "file not found"),
    (["JOINT", "--species", LEOPARD, "--dna", "LAB", "--snap", "50m"],
     "--snap is the tolerance of --dna-search"),
    (["JOINT", "--species", LEOPARD, "--link-detector", "transect"], "go with --traps"),
    (["JOINT", "--species", LEOPARD, "--dna-search", "s.geojson"], "need --dna"),
])
def test_cli_dna_usage_errors(study, tmp_path, extra, message):
    lab = study["sim"] / "dna" / "cn_lab.csv"
    args = [str(study["joint"]) if a == "JOINT" else str(lab) if a == "LAB"
            else str(tmp_path / a) if a.endswith(".csv") else a for a in extra]
    res = runner.invoke(app, ["secr", *args])
    assert res.exit_code == 2, res.output
    assert message in res.output


def test_with_dettype_adds_one_intercept_per_method():
    from amurlink.analysis.secr.national import with_dettype

    assert with_dettype("D~x") == {"D": "~x", "lambda0": "~dettype"}
    assert with_dettype("lambda0~b") == {"lambda0": "~b+dettype"}
    assert with_dettype("lambda0~dettype+b") == {"lambda0": "~dettype+b"}
    assert with_dettype("D~1", "HN") == {"D": "~1", "g0": "~dettype"}


def test_camera_and_dna_search_areas_as_linked_methods(study):
    """The DNA search as the area searched (secr's polygon detector) beside the cameras, as
    two linked methods: the same animals and detections as the grid history, and a density
    close to the grid approximation's."""
    import shapely

    from amurlink.analysis.secr import SECR, capthists_camera_dna_search

    dna, ds, border = study["dna"], study["dataset"], study["border"]
    pts = np.column_stack([dna["x"], dna["y"]])
    area = shapely.convex_hull(shapely.multipoints(pts)).buffer(3000)
    cam, dnach = capthists_camera_dna_search(ds, dna, border=border, species=LEOPARD,
                                             search=[area], dna_occasions=2)
    assert (cam.session, dnach.session, dnach.detector) == ("camera", "dna", "polygon")
    np.testing.assert_array_equal(cam.counts, study["cam"].counts)
    grid = study["ch"]
    on_dna = grid.counts[:, cam.n_occasions:, :].reshape(grid.n, -1).sum(axis=1) > 0
    assert set(dnach.animal_ids) == {a for a, o in zip(grid.animal_ids, on_dna, strict=True)
                                     if o}
    assert set(dnach.animal_ids) & set(cam.animal_ids)  # animals seen both ways are linked
    linked = SECR(detectfn="HHN", model={"lambda0": "~session"}, linked=True).fit(
        [cam, dnach], study["mask"]).results_
    gridfit = fit_secr(grid, study["mask"], detectfn="HHN", model={"lambda0": "~dettype"})
    assert linked.predict().loc["D", "estimate"] == pytest.approx(
        gridfit.predict().loc["D", "estimate"], rel=0.15)
    assert linked.n == len(set(cam.animal_ids) | set(dnach.animal_ids)) == grid.n
    # a sample off every searched route is named
    x0, y0 = pts.min(axis=0)
    route = shapely.LineString([(x0 - 50_000, y0 - 50_000), (x0 - 40_000, y0 - 50_000)])
    with pytest.raises(DataError, match="DNA sample .* m from the nearest searched route"):
        capthists_camera_dna_search(ds, dna, border=border, species=LEOPARD, search=[route])
    with pytest.raises(ConfigError, match="all of one kind"):
        capthists_camera_dna_search(ds, dna, border=border, species=LEOPARD,
                                    search=[area, route])


def test_cli_joint_dir_with_the_dna_search_as_linked_methods(study, tmp_path):
    """--dna-search (a GeoJSON of the areas searched, WGS84): cameras and the DNA search
    fitted as linked methods, jointly and per country; the command equals the API."""
    import shapely

    from amurlink.analysis.secr.from_dataset import read_dna_search
    from amurlink.analysis.secr.national import fit_camera_dna_models
    from amurlink.core.crs import from_metric

    sim, dna, border = study["sim"], study["dna"], study["border"]
    pts = np.column_stack([dna["x"], dna["y"]])
    area = shapely.convex_hull(shapely.multipoints(pts)).buffer(3000)

    def to_lonlat(c):
        lon, lat = from_metric(c[:, 0], c[:, 1], crs=border.crs)
        return np.column_stack([lon, lat])

    geo = shapely.transform(area, to_lonlat)
    g = tmp_path / "search.geojson"
    g.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"searchID": "A"},
         "geometry": shapely.geometry.mapping(geo)}]}))
    shapes = read_dna_search(g, border)
    assert shapes[0].area == pytest.approx(area.area, rel=1e-6)
    f = tmp_path / "dna.csv"
    dna.to_csv(f, index=False)
    res = runner.invoke(app, ["secr", str(study["joint"]), "--species", LEOPARD,
                              "--border", str(sim / "border.geojson"),
                              "--config", str(sim / "amurlink.toml"),
                              "--dna-assignments", str(f), "--dna-search", str(g),
                              "--buffer", "8km", "--spacing", "2km", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout[res.stdout.index("{"):])
    assert out["capture_history"]["dna_detector"] == "polygon"
    assert out["model"] == "D~1 lambda0~session sigma~1"
    api = fit_camera_dna_models(study["dataset"], dna, border=border, species=LEOPARD,
                                models=[{}], buffer_m=8000, spacing_m=2000,
                                dna_search=shapes)
    assert out["loglik"] == pytest.approx(api["joint"].best_fit.loglik, rel=1e-9)
    assert set(out["national"]) == {k for k in api if k not in ("joint", "capthists",
                                                                 "masks")}
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point",
                                                          "coordinates": [131, 43]}}]}))
    res = runner.invoke(app, ["secr", str(study["joint"]), "--species", LEOPARD,
                              "--border", str(sim / "border.geojson"),
                              "--config", str(sim / "amurlink.toml"),
                              "--dna-assignments", str(f), "--dna-search", str(bad)])
    assert res.exit_code != 0 and "feature 1" in res.output
