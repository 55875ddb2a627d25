"""Lab offsets from reference samples typed by both labs."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from amurlink.identify.genotypes import apply_lab_offsets, estimate_lab_offsets


def _two_labs():
    # RU sizes run 2 bp under CN at L1 and 1 bp over at L2; R3's RU call at L1 is off.
    rows = []
    truth = {"R1": {"L1": (120, 124), "L2": (200, 204)},
             "R2": {"L1": (122, 122), "L2": (202, 206)},
             "R3": {"L1": (118, 124), "L2": (200, 200)}}
    for ref, loci in truth.items():
        for locus, (a, b) in loci.items():
            rows.append((f"CN-{ref}", locus, a, b))
            shift = -2 if locus == "L1" else 1
            rows.append((f"RU-{ref}", locus, a + shift, b + shift))
    rows.append(("RU-X", "L1", 140, 150))  # an allele CN never saw
    g = pd.DataFrame(rows, columns=["sampleID", "locus", "allele1", "allele2"])
    samples = pd.DataFrame({"sampleID": g["sampleID"].unique()})
    samples["lab"] = samples["sampleID"].str[:2]
    ref = pd.DataFrame({"referenceID": [s.split("-")[1] for s in samples["sampleID"]
                                        if s != "RU-X"],
                        "sampleID": [s for s in samples["sampleID"] if s != "RU-X"]})
    return g, samples, ref


def test_offsets_recovered_and_applied():
    g, samples, ref = _two_labs()
    cal = estimate_lab_offsets(g, samples, ref, base_lab="CN")
    fit = cal.fit.set_index("locus")
    assert fit.loc["L1", "offset"] == pytest.approx(2.0)
    assert fit.loc["L2", "offset"] == pytest.approx(-1.0)
    assert fit["consistent"].all() and fit.loc["L1", "n_pairs"] == 3
    assert set(cal.loci["lab"]) == {"CN", "RU"}
    bins = cal.loci.set_index(["lab", "locus"]).loc[("RU", "L1"), "binMap"]
    assert json.loads(bins)["118"] == 120
    un = cal.unmapped
    assert set(un["allele"]) == {140, 150} and (un["lab"] == "RU").all()
    joint = apply_lab_offsets(g, samples, cal.loci)
    j = joint.set_index(["sampleID", "locus"])
    for ref_id in ("R1", "R2", "R3"):
        for locus in ("L1", "L2"):
            assert tuple(j.loc[(f"RU-{ref_id}", locus), ["allele1", "allele2"]]) == tuple(
                j.loc[(f"CN-{ref_id}", locus), ["allele1", "allele2"]])
    assert tuple(j.loc[("RU-X", "L1"), ["allele1", "allele2"]]) == (142, 152)
    assert g.loc[0, "allele1"] == 120  # input untouched
