"""``amurlink genotypes match``: JSON equals the library call; exit codes."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from amurlink.cli import app
from amurlink.identify.genotypes import match_genotypes, read_genotypes

runner = CliRunner()


def test_match_json_equals_library(reference_dir):
    path = reference_dir / "genetics" / "allelematch-examples" / "amExample1.csv"
    r = runner.invoke(app, ["genotypes", "match", str(path), "--missing", "-99",
                            "--ignore", "knownIndividual", "--format", "json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    t = read_genotypes(path, missing="-99", ignore=["knownIndividual"])
    lib = match_genotypes(t.genotypes).to_dict()
    assert out["mismatch_allowance"] == lib["mismatch_allowance"] == 2
    assert [i["samples"] for i in out["individuals"]] == [i["samples"] for i in lib["individuals"]]
    assert out["pidsib"] == lib["pidsib"] and out["ambiguous"] == []
    assert len(out["individuals"]) == 12


def test_exit_codes(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("sampleId,L1a,L1b\nS1,100,x\n")
    r = runner.invoke(app, ["genotypes", "match", str(bad)])
    assert r.exit_code == 1 and "bad.csv" in r.output
    r = runner.invoke(app, ["genotypes", "match", str(tmp_path / "none.csv")])
    assert r.exit_code == 2
    good = tmp_path / "good.csv"
    good.write_text("sampleId,L1a,L1b,L2a,L2b\nS1,100,102,200,202\nS2,100,102,200,202\n")
    r = runner.invoke(app, ["genotypes", "match", str(good), "--allowance", "1"])
    assert r.exit_code == 0 and "2 samples -> 1 individuals" in r.output
    r = runner.invoke(app, ["genotypes", "match", str(good), "--allowance", "x"])
    assert r.exit_code == 2


def test_reference_samples_option(tmp_path):
    cn = tmp_path / "CN.csv"
    ru = tmp_path / "RU.csv"
    cn.write_text("sampleId,L1a,L1b,L2a,L2b\nCN-R1,100,104,200,204\nCN-R2,102,102,202,206\n"
                  "CN-S1,100,102,200,206\n")
    ru.write_text("sampleId,L1a,L1b,L2a,L2b\nRU-R1,98,102,201,205\nRU-R2,100,100,203,207\n"
                  "RU-S9,98,100,201,207\n")
    ref = tmp_path / "ref.csv"
    ref.write_text("referenceID,sampleID\nR1,CN-R1\nR1,RU-R1\nR2,CN-R2\nR2,RU-R2\n")
    r = runner.invoke(app, ["genotypes", "match", str(cn), str(ru), "--reference-samples",
                            str(ref), "--allowance", "0", "--format", "json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    groups = sorted(sorted(i["samples"]) for i in out["individuals"])
    assert ["CN-S1", "RU-S9"] in groups and ["CN-R1", "RU-R1"] in groups
    assert {x["locus"]: x["offset"] for x in out["lab_offsets"]} == {"L1": 2.0, "L2": -1.0}
