"""Reading genotype files: layouts, row-level errors, nothing half-imported."""

from __future__ import annotations

import pytest

from amurlink.exceptions import SchemaError
from amurlink.identify.genotypes import read_genotypes, validate_genotypes_file


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_long_form_with_replicates(tmp_path):
    p = _write(tmp_path, "cn.csv", "sample,locus,allele1,allele2,replicate\n"
               "T1,FCA8,123,121,1\nT1,FCA8,121,123,2\nT1,FCA23,,,1\nT2,FCA8,125,125,1\n")
    t = read_genotypes(p, lab="CN-lab", sample_type="scat")
    g = t.genotypes
    assert list(g.columns) == ["sampleID", "locus", "allele1", "allele2", "replicate"]
    assert g.loc[0, "allele1"] == 121 and g.loc[0, "allele2"] == 123  # sorted
    assert g["allele1"].isna().sum() == 1
    assert set(t.samples["lab"]) == {"CN-lab"}
    assert set(t.samples["sampleType"]) == {"scat"}
    assert t.loci == ["FCA8", "FCA23"]


def test_wide_allelematch_style_with_ignore_and_sex(tmp_path):
    p = _write(tmp_path, "am.csv", "sampleId,knownIndividual,sex,LOC1a,LOC1b,LOC2a,LOC2b\n"
               "1,AAA,M,103,108,-99,-99\n2,AAA,F,103,108,201,201\n")
    t = read_genotypes(p, missing="-99", ignore=["knownIndividual"])
    assert len(t.genotypes) == 4
    assert t.loci == ["LOC1", "LOC2"]
    assert t.sex["sex"].tolist() == ["M", "F"]
    assert t.samples["lab"].iloc[0] == "am"


def test_wide_underscore_pairs_and_repeated_ids_are_replicates(tmp_path):
    p = _write(tmp_path, "w.csv", "individual,fca8_1,fca8_2\nN1,117,119\nN1,117,117\n")
    t = read_genotypes(p, missing="NA")
    assert t.genotypes["replicate"].tolist() == [1, 2]


def test_genalex(tmp_path):
    p = _write(tmp_path, "g.csv", "2,3,1\ntitle,,,\nSample,Pop,A,,B,\n"
               "s1,p1,100,102,200,200\ns2,p1,0,0,200,204\ns3,p1,100,100,204,204\n")
    t = read_genotypes(p, missing="0")
    assert t.loci == ["A", "B"] and len(t.samples) == 3
    assert t.genotypes["allele1"].isna().sum() == 1


def test_bad_rows_report_file_row_reason_and_import_nothing(tmp_path):
    good = _write(tmp_path, "good.csv", "sampleId,L1a,L1b\nS1,100,102\n")
    bad = _write(tmp_path, "bad.csv", "sampleId,L1a,L1b\nS2,100,abc\nS3,100,-99\n,100,100\n"
                 "S5,100.5,101\n")
    with pytest.raises(SchemaError) as info:
        read_genotypes([good, bad], missing="-99")
    report = info.value.report
    rows = {(i.file.rsplit("/", 1)[-1], i.row, i.code) for i in report.errors}
    assert rows == {("bad.csv", 2, "type-error"), ("bad.csv", 3, "half-typed"),
                    ("bad.csv", 4, "required"), ("bad.csv", 5, "type-error")}
    assert "bad.csv" in str(info.value)
    assert not validate_genotypes_file([good, bad], missing="-99").valid
    assert validate_genotypes_file(good).valid


def test_unpaired_columns_and_duplicates_across_files(tmp_path):
    p = _write(tmp_path, "u.csv", "sampleId,site,L1a,L1b\nS1,x,100,102\n")
    with pytest.raises(SchemaError, match="do not form allele pairs"):
        read_genotypes(p)
    assert read_genotypes(p, ignore=["site"]).loci == ["L1"]
    a = _write(tmp_path, "a.csv", "sampleId,L1a,L1b\nS1,100,102\n")
    with pytest.raises(SchemaError, match="in both"):
        read_genotypes([a, p], ignore=["site"])


def test_long_duplicate_key(tmp_path):
    p = _write(tmp_path, "d.csv", "sampleID,locus,allele1,allele2\nS1,L1,1,2\nS1,L1,1,2\n")
    with pytest.raises(SchemaError, match="appears twice"):
        read_genotypes(p)


def test_reads_reference_sets(reference_dir):
    d = reference_dir / "genetics"
    t = read_genotypes(d / "adegenet-nancycats" / "nancycats.csv", missing="NA",
                       ignore=["population"])
    assert len(t.samples) == 237 and len(t.loci) == 9
    assert t.genotypes["allele1"].isna().sum() == 50  # missing_locus_calls in meta.json
