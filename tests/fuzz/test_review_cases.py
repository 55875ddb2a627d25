"""Each hostile input of the security review (issue 14, findings 4 and 5), in process.

Every case ends in a clear error naming the file (and row and field where there is one):
a report issue, an AmurlinkError, or CLI exit 1 with a message and no traceback.
"""

from __future__ import annotations

import json
import struct
import zipfile

import pytest
from typer.testing import CliRunner

from amurlink.cli import app
from amurlink.exceptions import ConfigError, DataError
from amurlink.identify.genotypes import validate_genotypes_file
from amurlink.identify.photos.features import load_image
from amurlink.io import load_camtrap_dp
from amurlink.io._readers.tabular import read_text_table
from amurlink.io.mapping import import_mapping, load_mapping

runner = CliRunner()


def _cli(*args: str):
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_bad_crc(tmp_path, fuzz):
    z = fuzz.zip_folder(fuzz.toy_folder(tmp_path / "p"), tmp_path / "p.zip", zipfile.ZIP_STORED)
    raw = bytearray(z.read_bytes())
    raw[raw.index(b"o1,CN-A1")] = ord("#")
    z.write_bytes(bytes(raw))
    code, out = _cli("validate", str(z))
    fuzz.assert_clean_exit(code, out, allowed=(1,))
    assert "observations.csv" in out and "CRC" in out


def test_lying_sizes(tmp_path, fuzz):
    z = fuzz.zip_folder(fuzz.toy_folder(tmp_path / "p"), tmp_path / "p.zip")
    raw = bytearray(z.read_bytes())
    info = zipfile.ZipFile(z).getinfo("media.csv")
    struct.pack_into("<I", raw, info.header_offset + 22, 7)  # local header: 7 bytes inflated
    at = raw.index(b"PK\x01\x02")
    while raw[at + 46: at + 46 + 9] != b"media.csv":
        at = raw.index(b"PK\x01\x02", at + 4)
    struct.pack_into("<I", raw, at + 24, 7)  # central directory too
    z.write_bytes(bytes(raw))
    dataset, report = load_camtrap_dp(z)
    assert dataset is None and any(i.file == "media.csv" for i in report.errors)
    code, out = _cli("validate", str(z))
    fuzz.assert_clean_exit(code, out, allowed=(1,))


@pytest.mark.parametrize("depth", [80, 50_000])
def test_deep_json_descriptor_and_geojson(tmp_path, fuzz, depth):
    pkg = fuzz.toy_folder(tmp_path / "p")
    desc = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    text = json.dumps({**desc, "spatial": "@@"}).replace(
        '"@@"', '{"type": "Polygon", "coordinates": ' + "[" * depth + "]" * depth + "}")
    (pkg / "datapackage.json").write_text(text, encoding="utf-8")
    code, out = _cli("validate", str(pkg))
    fuzz.assert_clean_exit(code, out, allowed=(1,))
    assert "too-deep" in out and "datapackage.json" in out


def test_deep_toml_mapping(tmp_path, fuzz):
    p = fuzz.mapping_folder(tmp_path / "m")
    p.write_text(p.read_text(encoding="utf-8") + "\n[values]\ndeep = " + "[" * 20_000
                 + "]" * 20_000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="ru.mapping.toml"):
        load_mapping(p)
    _, report = import_mapping(p)
    assert not report.valid


@pytest.mark.parametrize("value", ["inf", "nan", "1e308", "123456789012345678901234567890"])
def test_non_finite_or_huge_alleles(tmp_path, fuzz, value):
    p = tmp_path / "lab.csv"
    p.write_text(fuzz.GENOTYPES_WIDE.replace("150,154", f"150,{value}", 1), encoding="utf-8")
    issue = validate_genotypes_file(p).errors[0]
    assert (issue.file, issue.row, issue.field) == (str(p), 2, "L3b")


@pytest.mark.parametrize("encoding", ["no-such-codec", "rot13", "hex"])
def test_unknown_encodings(tmp_path, fuzz, encoding):
    p = fuzz.mapping_folder(tmp_path / "m")
    p.write_text(p.read_text(encoding="utf-8").replace(
        'timezone = "Asia/Vladivostok"', f'timezone = "Asia/Vladivostok"\nencoding = "{encoding}"'),
        encoding="utf-8")
    with pytest.raises(ConfigError, match="source.encoding"):
        load_mapping(p)
    with pytest.raises(DataError, match="unknown text encoding"):
        read_text_table(tmp_path / "m" / "records.csv", encoding=encoding)


def test_x_and_y_on_one_column(tmp_path, fuzz):
    with pytest.raises(ConfigError, match=r"tables\.stations\.columns\.y.*'X'"):
        load_mapping(fuzz.mapping_folder(tmp_path / "m", x="X", y="X"))


def test_truncated_genotype_rows(tmp_path, fuzz):
    p = tmp_path / "lab.csv"
    p.write_text(fuzz.GENOTYPES_WIDE + "S4,scat,100\n", encoding="utf-8")
    issue = validate_genotypes_file(p).errors[0]
    assert (issue.code, issue.row, issue.field) == ("short-row", 5, "L1b")
    q = tmp_path / "long.csv"
    q.write_text(fuzz.GENOTYPES_LONG + "S3,L1\n", encoding="utf-8")
    issue = validate_genotypes_file(q).errors[0]
    assert (issue.code, issue.row, issue.field) == ("short-row", 6, "allele1")


def test_duplicated_locus_column(tmp_path, fuzz):
    p = tmp_path / "lab.csv"
    p.write_text("sampleID,L1a,L1b,L1a,L1b\nS1,100,104,100,104\n", encoding="utf-8")
    issue = validate_genotypes_file(p).errors[0]
    assert (issue.code, issue.row, issue.field) == ("duplicate-locus", 1, "L1a")


def test_huge_png(tmp_path, fuzz):
    with pytest.raises(DataError, match="40000 x 40000"):
        load_image(fuzz.png_claiming(tmp_path / "bomb.png", 40_000, 40_000))


def test_mapping_file_outside_its_folder(tmp_path, fuzz):
    p = fuzz.mapping_folder(tmp_path / "m")
    p.write_text(p.read_text(encoding="utf-8").replace('file = "records.csv"',
                                                       'file = "/etc/hostname"'), encoding="utf-8")
    with pytest.raises(ConfigError, match="inside the mapping's folder"):
        load_mapping(p)


def test_xlsx_mapping_input_bomb(tmp_path):
    import pandas as pd

    p = tmp_path / "stations.xlsx"
    pd.DataFrame({"Station": ["S1"]}).to_excel(p, index=False)
    with zipfile.ZipFile(p) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(
        b"</sheetData>", b'<row r="900000"><c r="ZZ900000"><v>1</v></c></row></sheetData>')
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, b in parts.items():
            zf.writestr(n, b)
    with pytest.raises(DataError, match="stations.xlsx: a sheet spans 900000 rows"):
        read_text_table(p)


def test_unknown_datetime_directive_in_a_mapping(tmp_path, fuzz):
    p = fuzz.mapping_folder(tmp_path / "m")
    p.write_text(p.read_text(encoding="utf-8").replace("%H:%M:%S", "%H:%Q:%S"), encoding="utf-8")
    with pytest.raises(ConfigError, match="tables.records.datetime_format"):
        load_mapping(p)


def test_row_longer_than_the_header_in_a_mapped_table(tmp_path, fuzz):
    p = fuzz.mapping_folder(tmp_path / "m")
    st = p.parent / "stations.csv"
    st.write_text(st.read_text(encoding="utf-8").replace("S1,", "S1,1,2,3,", 1), encoding="utf-8")
    with pytest.raises(DataError, match="stations.csv: row 2 has more values than the header"):
        read_text_table(st)


def test_cli_exits_1_naming_file_row_and_column(tmp_path, fuzz):
    g = tmp_path / "lab.csv"
    g.write_text("sampleID,L1a,L1b\nS1,100,inf\nS2,100\n", encoding="utf-8")
    code, out = _cli("genotypes", "match", str(g))
    fuzz.assert_clean_exit(code, out, allowed=(1,))
    assert "lab.csv:2 [L1b]" in out and "lab.csv:3 [L1b]" in out
    m = fuzz.mapping_folder(tmp_path / "m", x="X", y="X")
    code, out = _cli("init", str(tmp_path / "study"))
    assert code == 0, out
    code, out = _cli("harmonise", str(m), "-c", str(tmp_path / "study" / "amurlink.toml"),
                     "-o", str(tmp_path / "out"))
    fuzz.assert_clean_exit(code, out, allowed=(1,))
    assert "tables.stations.columns.y" in out and not (tmp_path / "out").exists()
