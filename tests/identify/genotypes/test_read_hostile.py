"""Genotype files that used to pass silently or end in an internal error (issue 14)."""

from __future__ import annotations

import pytest

from amurlink.exceptions import DataError, SchemaError
from amurlink.identify.genotypes import read_genotypes, validate_genotypes_file


def _write(tmp_path, text: str, name: str = "lab.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400", "99999999999999999999", "1e9"])
def test_non_finite_or_huge_alleles_are_errors(tmp_path, value):
    p = _write(tmp_path, f"sampleID,L1a,L1b\nS1,100,{value}\nS2,102,104\n")
    report = validate_genotypes_file(p)
    issue = next(i for i in report.errors)
    assert (issue.code, issue.row, issue.field) == ("out-of-range", 2, "L1b")
    assert issue.file == str(p)
    with pytest.raises(SchemaError, match="not a fragment size"):
        read_genotypes(p)


def test_truncated_wide_row_is_an_error(tmp_path):
    p = _write(tmp_path, "sampleID,L1a,L1b,L2a,L2b\nS1,100,104,200,204\nS2,100\n")
    issue = validate_genotypes_file(p).errors[0]
    assert (issue.code, issue.row, issue.field) == ("short-row", 3, "L1b")
    assert "2 cells" in issue.message


def test_truncated_long_row_is_an_error(tmp_path):
    p = _write(tmp_path, "sampleID,locus,allele1,allele2\nS1,L1,100,104\nS1,L2\n")
    issue = validate_genotypes_file(p).errors[0]
    assert (issue.code, issue.row, issue.field) == ("short-row", 3, "allele1")


def test_trailing_empty_metadata_cell_may_be_left_out(tmp_path):
    p = _write(tmp_path, "sampleID,L1a,L1b,lab\nS1,100,104,CN\nS2,100,102\n")
    assert validate_genotypes_file(p, ignore=["lab"]).valid


def test_duplicated_locus_columns_are_an_error(tmp_path):
    p = _write(tmp_path, "sampleID,L1a,L1b,L2a,L2b,L1a,L1b\nS1,1,2,3,4,5,6\n")
    issue = validate_genotypes_file(p).errors[0]
    assert (issue.code, issue.row, issue.field) == ("duplicate-locus", 1, "L1a")
    assert "'L1'" in issue.message


def test_broken_csv_and_binary_files_are_data_errors(tmp_path):
    import csv

    p = _write(tmp_path, "sampleID,L1a,L1b\nS1,\"100,104\n" + "x" * 200_000 + "\n")
    old = csv.field_size_limit(131_072)  # Python's default (another library may raise it)
    try:
        with pytest.raises(DataError, match="cannot be read as CSV"):
            read_genotypes(p)
    finally:
        csv.field_size_limit(old)
    # without a field limit the open quote swallows the rest: still an error naming the row
    old = csv.field_size_limit(2**31 - 1)
    try:
        with pytest.raises((DataError, SchemaError), match="lab.csv"):
            read_genotypes(p)
    finally:
        csv.field_size_limit(old)
    b = tmp_path / "utf16.csv"
    b.write_bytes("sampleID,L1a,L1b\nS1,1,2\n".encode("utf-16"))
    with pytest.raises(DataError, match="NUL"):
        read_genotypes(b)
