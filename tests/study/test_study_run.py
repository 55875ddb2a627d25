"""``amurlink run`` end to end on the small simulated study (slow: two full runs).

A study folder is made BY HAND from the simulator's national files (other folder names, a
hand-written amurlink.toml, a photo catalogue with only the observed columns) and run; its
figures must equal the demo's on the same data. Then: a no-op rerun runs nothing, a changed
DNA file reruns only what reads it, and a link decision survives a rebuild of the joint
package.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

from amurlink.study import run_study
from amurlink.study.analyses import DEFAULT_SEED

pytestmark = pytest.mark.slow

HAND_TOML = """
[study]
name = "Hand-made study"

[crs]
working = "EPSG:32652"

[countries.CN]
organisation = "Northeast China Tiger and Leopard National Park"
catalogue = "CN-NTLNP"
timezone = "Asia/Shanghai"

[countries.RU]
organisation = "Land of the Leopard National Park"
catalogue = "RU-LLNP"
timezone = "Asia/Vladivostok"

[[species]]
scientificName = "Panthera tigris"
names = { en = "Amur tiger", zh = "东北虎", ru = "амурский тигр" }

[[species]]
scientificName = "Panthera pardus"
names = { en = "Amur leopard", zh = "东北豹", ru = "дальневосточный леопард" }

[inputs]
crosswalk = "links/expert-crosswalk.csv"
border = "maps/border.geojson"
photos = ["photos.csv"]
dna_reference = ["lab/reference.csv"]

[inputs.CN]
camtrap_dp = ["china/package"]
dna = ["lab/cn_lab.csv"]

[inputs.RU]
mapping = ["russia"]
dna = ["lab/ru_lab.csv"]

[inputs.reports]
owner = ["en"]
public = ["en"]
"""


def _hand_made(sim: Path, root: Path) -> Path:
    root.mkdir()
    shutil.copytree(sim / "cn", root / "china" / "package")
    shutil.copytree(sim / "ru", root / "russia")
    for sub in ("links", "maps", "lab"):
        (root / sub).mkdir()
    shutil.copy2(sim / "crosswalk.csv", root / "links" / "expert-crosswalk.csv")
    shutil.copy2(sim / "border.geojson", root / "maps" / "border.geojson")
    shutil.copy2(sim / "dna" / "cn_lab.csv", root / "lab" / "cn_lab.csv")  # lab = file name
    shutil.copy2(sim / "dna" / "ru_lab.csv", root / "lab" / "ru_lab.csv")
    shutil.copy2(sim / "dna" / "reference_samples.csv", root / "lab" / "reference.csv")
    photos = pd.read_csv(sim / "truth" / "photos.csv")
    photos = photos[["filePath", "catalogue", "individualID", "species", "side", "bboxX",
                     "bboxY", "bboxWidth", "bboxHeight"]]
    photos["filePath"] = photos["filePath"].str.replace(r"^cn/", "china/package/", regex=True) \
        .str.replace(r"^ru/", "russia/", regex=True)
    photos.to_csv(root / "photos.csv", index=False)
    for theme in ("incidents", "landscape"):  # later issues' inputs, found by folder name
        if (sim / theme).is_dir():
            shutil.copytree(sim / theme, root / theme)
    (root / "amurlink.toml").write_text(HAND_TOML, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from amurlink.study.demo import run_demo

    base = tmp_path_factory.mktemp("study")
    demo = run_demo(base / "demo", scenario="small", seed=DEFAULT_SEED, languages=("en",))
    hand = _hand_made(base / "demo" / "sim", base / "hand")
    run = run_study(hand)
    return demo, run, hand


def test_a_hand_made_study_gives_the_demos_figures(runs):
    demo, run, hand = runs
    for res in (demo.run, run):  # a stage of a later issue may not apply to this study
        assert res.failed == {}, res.stages
        assert {v for v in res.stages.values() if not v.startswith("skipped: no")} == {"ok"}
    cols = ["scientificName", "photographed", "both_countries", "crossings", "farthest_km"]
    pd.testing.assert_frame_equal(run.values["crossborder"][cols], demo.summary[cols])
    for stage in ("secr", "dna", "photo links"):
        assert run.summaries[stage] == demo.run.summaries[stage], stage

    def observed(summary):  # the demo also compares with the simulator's truth
        return [{k: v for k, v in r.items() if not k.endswith("_truth")}
                for r in summary["species"]]

    assert observed(run.summaries["photo comparison"]) == \
        observed(demo.run.summaries["photo comparison"])
    assert run.summaries["harmonise"]["rows"] == demo.run.summaries["harmonise"]["rows"]
    assert run.summaries["harmonise"]["crosswalk"] == \
        demo.run.summaries["harmonise"]["crosswalk"]
    # every table of the report, in both audiences
    for name in ("en", "public-en"):
        mine = hand / "output" / "report" / name / "tables"
        theirs = demo.out_dir / "report" / name / "tables"
        names = sorted(p.name for p in mine.glob("*.csv"))
        # the demo may show more (a survey-design proposal from the simulator's scenario);
        # every table of the hand-made study is the demo's
        assert {"answer_species.csv", "camtrap_relative_abundance.csv",
                "dna_by_lab.csv"} <= set(names)
        assert set(names) <= {p.name for p in theirs.glob("*.csv")}
        for n in names:
            if "manifest" in n:
                continue  # names the input files, which differ by design
            if n.startswith("photo_link"):  # the demo adds the truth: compare the rest
                a, b = pd.read_csv(mine / n), pd.read_csv(theirs / n)
                keep = [c for c in b.columns if "truth" not in c]
                if "outcome" in b:
                    b = b[b["outcome"] != "neither"].reset_index(drop=True)
                    keep.remove("outcome")
                pd.testing.assert_frame_equal(a[keep], b[keep], obj=n)
                continue
            assert (mine / n).read_bytes() == (theirs / n).read_bytes(), (name, n)


def test_a_rerun_with_nothing_changed_does_nothing(runs):
    _, _, hand = runs
    again = run_study(hand)
    assert {v for v in again.stages.values() if not v.startswith("skipped: no")} == \
        {"cached"}, again.stages
    assert again.ran == []


def test_a_changed_input_reruns_only_what_depends_on_it(runs):
    _, _, hand = runs
    lab = hand / "lab" / "ru_lab.csv"
    time.sleep(0.01)
    lab.write_text(lab.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # same rows
    res = run_study(hand)
    assert sorted(res.ran) == ["dna", "link proposals", "report en", "report public-en"]
    for name in ("harmonise", "joint package", "photo links", "photo comparison",
                 "crossborder", "secr", "camtrap"):
        assert res.stages[name] == "cached", name


def test_link_decisions_survive_a_rebuild_of_the_joint_package(runs):
    from amurlink.identify.links import LinkStore, current_links

    _, _, hand = runs
    joint = hand / "output" / "joint"
    store = LinkStore(joint)
    cur = current_links(store.links)
    prop = cur[cur["status"] == "proposed"].iloc[0]
    a, b = prop["subjectA"], prop["subjectB"]
    side = str(a)[:2] if str(a)[:2] in ("CN", "RU") else "CN"
    store.accept(a, b, reviewer="cn-reviewer", reason="same flank pattern", side=side)
    accepted = store.links.iloc[-1]
    # an input changes, so the joint package is rebuilt
    cw = hand / "links" / "expert-crosswalk.csv"
    rows = pd.read_csv(cw, dtype=str)
    rows.iloc[:-1].to_csv(cw, index=False)  # the expert withdrew the last row
    res = run_study(hand)
    assert res.stages["harmonise"] == "ok" and res.stages["joint package"] == "ok"
    log = LinkStore(joint).links
    assert accepted["linkEventID"] in set(log["linkEventID"])
    kept = log[log["linkEventID"] == accepted["linkEventID"]].iloc[0]
    assert kept["reviewer"].startswith("cn-reviewer") and kept["reason"] == "same flank pattern"
    hist = LinkStore(joint).history(a)
    assert accepted["linkEventID"] in set(hist["linkEventID"])
    record = json.loads((hand / "output" / "run-record.json").read_text(encoding="utf-8"))
    assert record["stages"]["harmonise"]["summary"]["carriedOver"] > 0


def test_heavy_stages_run_on_a_dask_cluster(runs, tmp_path):
    distributed = pytest.importorskip("distributed")
    _, _, hand = runs
    run = run_study(hand)  # the local results of the folder as it is now
    # the same link log (carried over from the joint package) in a fresh output folder
    shutil.copytree(hand / "output" / "joint", tmp_path / "out" / "joint")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        res = run_study(hand, out_dir=tmp_path / "out", scheduler=client,
                        only=("secr", "photo comparison"))
    assert res.stages == {"harmonise": "ok", "photo links": "ok", "photo comparison": "ok",
                          "secr": "ok"}
    record = json.loads((tmp_path / "out" / "run-record.json").read_text(encoding="utf-8"))
    assert record["stages"]["secr"]["where"] == "cluster"
    assert record["stages"]["photo links"]["where"] == "cluster"
    assert res.summaries["secr"] == run.summaries["secr"]
    assert res.summaries["photo comparison"] == run.summaries["photo comparison"]


def test_amurlink_report_takes_the_runs_results(runs):
    from amurlink.report.inputs import load_report_inputs

    _, _, hand = runs
    run_study(hand)  # bring the folder up to date after the tests above
    inputs = load_report_inputs(hand / "output" / "joint")
    assert inputs.secr and inputs.dna and inputs.photo_links
    assert not load_report_inputs(hand / "output" / "joint", run_results=False).secr
    # a link reviewed since the run: its results no longer match the joint package
    log = hand / "output" / "joint" / "identity-links.csv"
    log.write_text(log.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert load_report_inputs(hand / "output" / "joint").secr is None
