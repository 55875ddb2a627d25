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
    return {"first": first, "second": second, "links": n}


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
