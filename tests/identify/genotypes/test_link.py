"""DNA linking: reader labs, majority genotypes, confirmed mismatches, proposals, CLI, report."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from amurlink.cli import app
from amurlink.identify.genotypes import (
    DNA_REPORT_KEYS,
    PROPOSAL_COLUMNS,
    dna_camera_candidates,
    dna_results,
    link_genotypes,
    majority_genotypes,
    match_genotypes,
    read_genotypes,
)
from amurlink.identify.links import LinkStore

runner = CliRunner()


# -- helpers -----------------------------------------------------------------------------------
def _truth(sim):
    return pd.read_csv(sim / "truth" / "samples.csv").set_index("sampleID")["animalID"]


def pair_precision_recall(samples: pd.DataFrame, truth: pd.Series) -> tuple[float, float]:
    """Pairwise precision and recall of ``samples.individual`` against the true animals."""
    x = samples.assign(t=samples["sampleID"].map(truth))

    def pairs(n):
        return int((n * (n - 1) // 2).sum())

    both = pairs(x.groupby(["individual", "t"]).size())
    pred, true = pairs(x.groupby("individual").size()), pairs(x.groupby("t").size())
    return both / max(pred, 1), both / max(true, 1)


def cross_lab_coverage(res, truth: pd.Series) -> tuple[set, set, int]:
    """Animals typed by both labs, those with a correct cross-lab proposal, wrong proposals."""
    s = res.samples.assign(t=res.samples["sampleID"].map(truth))
    labs = s.groupby("t")["lab"].nunique()
    both = set(labs[labs > 1].index)
    cl = res.cross_lab
    linked = {truth[a] for a, b in zip(cl["subjectA"], cl["subjectB"], strict=True)
              if truth[a] == truth[b]}
    wrong = sum(truth[a] != truth[b] for a, b in zip(cl["subjectA"], cl["subjectB"], strict=True))
    return both, linked, wrong


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    from amurlink.simulate import simulate_study, write_study

    out = tmp_path_factory.mktemp("dna") / "small"
    write_study(simulate_study("small", seed=1, images="none"), out)
    return out


@pytest.fixture(scope="module")
def joint(sim, tmp_path_factory):
    from amurlink.config import load_config
    from amurlink.harmonise import harmonise, write_harmonised

    config = load_config(sim / "amurlink.toml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        h = harmonise(sim / "cn", sim / "ru" / "ru.mapping.toml", config=config,
                      links=sim / "crosswalk.csv", now="2026-01-01T00:00:00Z")
        return write_harmonised(h, tmp_path_factory.mktemp("joint") / "joint", overwrite=True,
                                allow_errors=True)


# -- reader ------------------------------------------------------------------------------------
def test_reader_keeps_sample_type_and_lab_columns(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("sampleID,sampleType,lab,locus,allele1,allele2\n"
                 "S1,hair,LabX,L1,100,104\nS2,,,L1,100,100\n")
    t = read_genotypes(p, lab="Other", sample_type="scat")
    s = t.samples.set_index("sampleID")
    assert s.loc["S1", "sampleType"] == "hair" and s.loc["S1", "lab"] == "LabX"
    assert s.loc["S2", "sampleType"] == "scat" and s.loc["S2", "lab"] == "Other"


def test_reader_lab_per_file(sim):
    files = [sim / "dna" / "cn_lab.csv", sim / "dna" / "ru_lab.csv"]
    t = read_genotypes(files, lab={"cn_lab": "CN-lab", "ru_lab.csv": "RU-lab"})
    assert set(t.samples["lab"]) == {"CN-lab", "RU-lab"}
    assert (t.samples.set_index("sampleID")["lab"].str[:2]
            == t.samples.set_index("sampleID").index.str[:2]).all()
    assert {"scat", "hair", "tissue"} <= set(t.samples["sampleType"])
    t2 = read_genotypes(files, lab=["A", "B"])
    assert set(t2.samples["lab"]) == {"A", "B"}
    assert set(read_genotypes(files).samples["lab"]) == {"cn_lab", "ru_lab"}
    from amurlink.exceptions import SchemaError

    with pytest.raises(SchemaError, match="one per file"):
        read_genotypes(files, lab=["A"])


# -- majority genotypes and confirmed mismatches -----------------------------------------------
def _calls(rows):
    g = pd.DataFrame(rows, columns=["sampleID", "locus", "allele1", "allele2", "replicate"])
    for c in ("allele1", "allele2"):
        g[c] = g[c].astype("Int64")
    return g


def test_majority_genotypes_rules():
    g = _calls([
        ("a", "L1", 100, 104, 1), ("a", "L1", 100, 100, 2),                       # dropout
        ("b", "L1", 100, 100, 1), ("b", "L1", 100, 100, 2), ("b", "L1", 100, 108, 3),  # false
        ("c", "L1", 100, 104, 1), ("c", "L1", 100, 108, 2),                       # tie
        ("d", "L1", None, None, 1), ("d", "L1", 100, 104, 2),                     # one call
        ("e", "L1", 100, 104, 1), ("e", "L1", 100, 104, 2),                       # confirmed
        ("f", "L1", None, None, 1), ("f", "L1", None, None, 2),                   # failed
    ])
    m = majority_genotypes(g).set_index("sampleID")
    got = {s: (None if pd.isna(r.allele1) else (int(r.allele1), int(r.allele2)))
           for s, r in m.iterrows()}
    assert got == {"a": (100, 104), "b": (100, 100), "c": None, "d": (100, 104),
                   "e": (100, 104), "f": None}
    assert m["confirmed"].to_dict() == {"a": False, "b": False, "c": False, "d": False,
                                        "e": True, "f": False}
    assert (m["n_replicates"] == [2, 3, 2, 2, 2, 2]).all()


def test_confirmed_mismatches_keep_samples_apart():
    rng = np.random.default_rng(3)
    loci = [f"L{i}" for i in range(8)]
    base = {lo: sorted(rng.choice([100, 104, 108, 112], 2, replace=False)) for lo in loci}
    rows, conf = [], []
    for sid in ("x", "y"):
        for lo in loci:
            a, b = base[lo]
            if sid == "y" and lo == "L0":
                a, b = 116, 120                      # a hard difference
            rows.append((sid, lo, a, b))
            conf.append((sid, lo, True))
    g = pd.DataFrame(rows, columns=["sampleID", "locus", "allele1", "allele2"])
    c = pd.DataFrame(conf, columns=["sampleID", "locus", "confirmed"])
    loose = match_genotypes(g, mismatch_allowance=2, pidsib_threshold=None)
    assert loose.n_individuals == 1
    for blocking in (True, False):
        strict = match_genotypes(g, confirmed=c, mismatch_allowance=2, pidsib_threshold=None,
                                 max_confirmed_mismatches=1, blocking=blocking)
        assert strict.n_individuals == 2
    # unconfirmed calls: the same difference may be a typing error
    c2 = c.assign(confirmed=c["sampleID"] == "x")
    assert match_genotypes(g, confirmed=c2, mismatch_allowance=2, pidsib_threshold=None,
                           max_confirmed_mismatches=0).n_individuals == 1


# -- the pipeline on the small scenario ---------------------------------------------------------
def test_small_scenario_groups_true_animals_and_links_labs(sim):
    res = dna_results(sim)
    truth = _truth(sim)
    prec, rec = pair_precision_recall(res.samples, truth)
    assert prec >= 0.99 and rec >= 0.99, (prec, rec)
    both, linked, wrong = cross_lab_coverage(res, truth)
    assert both and both <= linked and wrong == 0
    assert set(res.samples["lab"]) == {"CN-lab", "RU-lab"}
    assert res.calibration is not None
    p = res.proposals
    assert list(p.columns) == list(PROPOSAL_COLUMNS)
    assert set(p["method"]) <= {"dna", "dna-camera"}
    cl = res.cross_lab.iloc[0]
    ev = cl["evidence"]
    assert {"genotypes", "loci_compared", "pidsib", "distance", "labs"} <= set(ev)
    assert ev["loci_compared"] >= 10 and 0 < ev["pidsib"] < 0.01
    assert len(ev["genotypes"]) == 12
    json.dumps(ev)  # evidence is JSON-ready
    # within-lab proposals stay inside one lab
    wl = p[p["kind"] == "within-lab"]
    lab = res.samples.set_index("sampleID")["lab"]
    assert (wl["subjectA"].map(lab) == wl["subjectB"].map(lab)).all()


def test_report_tables_have_the_dna_section_parts(sim):
    t = dna_results(sim).report_tables()
    assert tuple(t) == DNA_REPORT_KEYS
    assert t["samples"]["samples"].sum() == len(_truth(sim))
    assert set(t["samples"]["countryCode"]) == {"CN", "RU"}
    assert t["pidsib_curve"]["cumulative_PIDsib"].is_monotonic_decreasing
    assert len(t["cross_border_links"]) >= 1
    assert (t["cross_border_links"]["countries"] == "CN+RU").all()
    for frame in t.values():
        assert not {"latitude", "longitude", "x", "y"} & set(frame.columns)


def test_catalogue_samples_and_camera_candidates(sim):
    res = dna_results(sim, within_lab=False)
    ind = res.match.individuals
    grp = ind[ind["n_samples"] >= 2].iloc[0]
    member = next(s for s in grp["samples"] if s != grp["representative"])
    res2 = dna_results(sim, within_lab=False, catalogue_samples=pd.DataFrame(
        {"individualID": ["CN-NTLNP:T999"], "sampleID": [member]}))
    cat = res2.proposals[res2.proposals["kind"] == "catalogue"]
    assert cat[["subjectA", "subjectB"]].values.tolist() == [[grp["representative"],
                                                              "CN-NTLNP:T999"]]
    # a detection 1 km and 2 days from a sample
    s = res.samples.dropna(subset=["latitude", "collectionDate"]).iloc[0]
    dep = pd.DataFrame({"deploymentID": ["D1"], "latitude": [s["latitude"] + 0.009],
                        "longitude": [s["longitude"]]})
    obs = pd.DataFrame({"deploymentID": ["D1", "D1"], "individualID": ["RU-LLNP:T-1", None],
                        "eventStart": [s["collectionDate"] + pd.Timedelta(days=2)] * 2})
    cam = dna_camera_candidates(res.samples, obs, dep, max_km=3, max_days=30)
    assert set(cam["subjectB"]) == {"RU-LLNP:T-1"} and set(cam["method"]) == {"dna-camera"}
    mine = cam[cam["subjectA"] == s["individual"]]
    assert len(mine) == 1
    ev = mine["evidence"].iloc[0]
    assert s["sampleID"] in ev["samples"]
    assert ev["nearest_km"] <= 1.0 + 0.05 and ev["days_apart"] <= 2
    assert dna_camera_candidates(res.samples, obs, dep, max_km=3, max_days=1).query(
        "subjectA == @s.individual").empty


# -- the link store and the CLI -----------------------------------------------------------------
def test_link_genotypes_proposes_never_confirms_and_respects_rejections(sim, joint, tmp_path):
    import shutil

    jd = tmp_path / "j"
    shutil.copytree(joint, jd)
    res, prop = link_genotypes(jd, sim, now="2026-02-01T00:00:00Z")
    store = LinkStore(jd)
    log = store.links
    new = log[log["method"].isin(["dna", "dna-camera"])]
    assert len(new) == len(prop.proposed) == len(res.proposals) > 0
    assert (new["status"] == "proposed").all()
    assert (new["method"] == "dna-camera").any() and (new["method"] == "dna").any()
    ev = json.loads(new["evidence"].dropna().iloc[0])
    assert isinstance(ev, dict)
    # rerun: nothing new; a rejected cross-lab pair is not proposed again
    cl = res.cross_lab.iloc[0]
    store.reject(cl["subjectA"], cl["subjectB"], reviewer="tester", reason="different animals",
                 now="2026-02-02T00:00:00Z")
    _, again = link_genotypes(jd, sim, now="2026-02-03T00:00:00Z")
    assert len(again.proposed) == 0 and again.n_rejected == 1


def test_cli_genotypes_link(sim, joint, tmp_path):
    import shutil

    jd = tmp_path / "j"
    shutil.copytree(joint, jd)
    files = [str(sim / "dna" / "cn_lab.csv"), str(sim / "dna" / "ru_lab.csv")]
    r = runner.invoke(app, ["genotypes", "link", str(jd), *files, "--lab",
                            "cn_lab=CN-lab,ru_lab=RU-lab", "--reference-samples",
                            str(sim / "dna" / "reference_samples.csv"), "--format", "json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["appended"] > 0 and out["proposals"]["cross-lab"] >= 1
    r = runner.invoke(app, ["genotypes", "link", str(jd), str(sim)])
    assert r.exit_code == 0, r.output
    assert "appended 0 proposed link(s)" in r.output
    r = runner.invoke(app, ["genotypes", "link", str(tmp_path), files[0]])
    assert r.exit_code == 2
    r = runner.invoke(app, ["genotypes", "link", str(jd), files[0], "--lab", "a=b,c"])
    assert r.exit_code == 2


# -- the report's DNA section --------------------------------------------------------------------
_SCRIPT = {"zh": re.compile(r"[\u4e00-\u9fff]"), "ru": re.compile(r"[\u0400-\u04ff]")}


def test_report_dna_section(sim, joint, tmp_path):
    from amurlink.config import load_config
    from amurlink.io import read_camtrap_dp
    from amurlink.report import ReportInputs, write_report

    tables = dna_results(sim).report_tables()
    inputs = ReportInputs(dataset=read_camtrap_dp(joint), config=load_config(sim / "amurlink.toml"),
                          dna=tables)
    for lang in ("en", "zh", "ru"):
        files = write_report(inputs, tmp_path / lang, lang=lang, audience="owner")
        html = files.html.read_text(encoding="utf-8")
        sec = html[html.index('<section id="dna"'):]
        sec = sec[:sec.index("</section>")]
        for key in DNA_REPORT_KEYS:
            assert f'data-name="dna_{key}"' in sec
        assert "<svg" in sec
        if lang != "en":
            heads = re.findall(r"<th>([^<]+)</th>", sec)
            assert heads and all(_SCRIPT[lang].search(h) for h in heads), heads
        else:
            assert "No results" not in sec and "PIDsib" in sec


# -- acceptance on the neaspec scenario (slow) ---------------------------------------------------
@pytest.mark.slow
def test_neaspec_precision_recall_and_cross_lab_links(tmp_path):
    from amurlink.simulate import simulate_study, write_study

    out = tmp_path / "neaspec"
    write_study(simulate_study("neaspec", seed=1, images="none"), out)
    res = dna_results(out)
    truth = _truth(out)
    prec, rec = pair_precision_recall(res.samples, truth)
    assert prec >= 0.99 and rec >= 0.99, (prec, rec)
    both, linked, wrong = cross_lab_coverage(res, truth)
    assert both <= linked and wrong == 0, (len(both), len(linked), wrong)
