"""Import mappings that used to pass silently, escape their folder or hang (issue 14)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from amurlink.exceptions import ConfigError, DataError
from amurlink.io._readers.tabular import read_text_table
from amurlink.io.mapping import import_mapping, load_mapping

STATIONS = "Station,X,Y,Setup,End\nS1,4815000,23500000,01.01.2014,01.03.2014\n"
RECORDS = "Station,Date,Species\nS1,02.01.2014 10:00:00,Кабан\n"


def mapping(tmp_path: Path, *, stations_file: str = "stations.csv", x: str = "Y", y: str = "X",
            extra_source: str = "", records_encoding: str = "") -> Path:
    dates = 'deploymentStart = "Setup", deploymentEnd = "End"'
    (tmp_path / "stations.csv").write_text(STATIONS, encoding="utf-8")
    (tmp_path / "records.csv").write_text(RECORDS, encoding="utf-8")
    text = f"""
[source]
country = "RU"
catalogue = "RU-LLNP"
crs = "EPSG:28423"
timezone = "Asia/Vladivostok"
{extra_source}

[tables.stations]
file = "{stations_file}"
datetime_format = "%d.%m.%Y"
columns = {{ deploymentID = "Station", x = "{x}", y = "{y}", {dates} }}

[tables.records]
file = "records.csv"
datetime_format = "%d.%m.%Y %H:%M:%S"
{records_encoding}
columns = {{ deploymentID = "Station", timestamp = "Date", scientificName = "Species" }}

[species]
"Кабан" = "Sus scrofa"
"""
    p = tmp_path / "ru.mapping.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_the_fixture_mapping_is_valid(tmp_path):
    ds, report = import_mapping(mapping(tmp_path))
    assert report.valid, report.to_text()
    assert len(ds.deployments) == 1


def test_x_and_y_on_the_same_column_is_an_error(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_mapping(mapping(tmp_path, x="X", y="X"))
    assert "tables.stations.columns.y" in str(err.value)
    assert "x and y name the same column 'X'" in str(err.value)


@pytest.mark.parametrize("target", ["/etc/passwd", "../outside.csv", "sub/../../outside.csv",
                                    "~/stations.csv"])
def test_table_files_are_confined_to_the_mapping_folder(tmp_path, target):
    folder = tmp_path / "m"
    folder.mkdir()
    (tmp_path / "outside.csv").write_text(STATIONS, encoding="utf-8")
    with pytest.raises(ConfigError, match="inside the mapping's folder"):
        load_mapping(mapping(folder, stations_file=target))


def test_symbolic_link_out_of_the_folder_is_refused(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (tmp_path / "outside.csv").write_text(STATIONS, encoding="utf-8")
    (folder / "link.csv").symlink_to(tmp_path / "outside.csv")
    with pytest.raises(ConfigError, match="inside the mapping's folder"):
        load_mapping(mapping(folder, stations_file="link.csv"))
    (folder / "sub").mkdir()
    (folder / "sub" / "st.csv").write_text(STATIONS, encoding="utf-8")
    assert load_mapping(mapping(folder, stations_file="sub/st.csv")).tables["stations"]


@pytest.mark.parametrize("enc", ['encoding = "klingon-8"', 'encoding = "rot13"'])
def test_unknown_encoding_is_a_mapping_error(tmp_path, enc):
    with pytest.raises(ConfigError, match="tables.records.encoding"):
        load_mapping(mapping(tmp_path, records_encoding=enc))
    with pytest.raises(ConfigError, match="source.encoding"):
        load_mapping(mapping(tmp_path, extra_source=enc))


def test_deeply_nested_toml_is_a_config_error(tmp_path):
    p = tmp_path / "deep.mapping.toml"
    p.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="deeply|not valid TOML"):
        load_mapping(p)


def test_messages_name_files_as_the_user_gave_them(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = mapping(tmp_path)
    (tmp_path / "records.csv").write_bytes(b"Station,Date,Species\nS1,\xff\xfe,x\n")
    _, report = import_mapping(Path("ru.mapping.toml"))
    text = report.to_text()
    assert not report.valid
    assert str(tmp_path) not in text, text
    assert "records.csv" in text
    assert p.exists()


def _xlsx_bomb(path: Path, xml_bytes: int) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"<c/>" * (xml_bytes // 4))


def test_xlsx_decompression_bomb_is_refused_before_decoding(tmp_path):
    p = tmp_path / "stations.xlsx"
    _xlsx_bomb(p, 40 * 1024**2)
    with pytest.raises(DataError, match="bomb|inflates"):
        read_text_table(p)


def test_xlsx_with_a_far_away_cell_is_refused(tmp_path):
    import pandas as pd

    p = tmp_path / "stations.xlsx"
    pd.DataFrame({"Station": ["S1"], "X": [1]}).to_excel(p, index=False)
    assert read_text_table(p).shape == (1, 2)
    with zipfile.ZipFile(p) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    sheet = sheet.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576" t="n"><v>1</v>'
                          "</c></row></sheetData>")
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, b in parts.items():
            zf.writestr(n, b)
    with pytest.raises(DataError, match="1048576 rows x 16384 columns"):
        read_text_table(p)


def test_broken_xlsx_is_a_data_error(tmp_path):
    p = tmp_path / "stations.xlsx"
    p.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError, match="stations.xlsx"):
        read_text_table(p)


def test_csv_over_the_read_budget_is_refused_early(tmp_path):
    p = tmp_path / "records.csv"
    p.write_text("a,b,c,d\n" + ",,,\n" * 50_000, encoding="utf-8")
    with pytest.raises(DataError, match="read budget"):
        read_text_table(p, budget=1024**2)
    assert len(read_text_table(p)) == 50_000


def test_deep_detections_json_is_a_report_not_a_crash(tmp_path):
    from amurlink.io._readers.megadetector import _load
    from amurlink.io.validation import ValidationReport

    p = tmp_path / "md.json"
    for depth in (100, 100_000):  # above the limit, and above Python's recursion limit
        p.write_text('{"images": ' + "[" * depth + "]" * depth + "}", encoding="utf-8")
        report = ValidationReport()
        assert _load(p, report) is None
        assert [i.code for i in report.errors] == ["too-deep"]
