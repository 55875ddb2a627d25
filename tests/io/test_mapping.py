"""Imports by TOML mapping: camtrapR's sample tables with camtrapR's semantics, and bad mappings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from amurlink.exceptions import ConfigError, SchemaError
from amurlink.io import load_camtrap_dp, write_camtrap_dp
from amurlink.io.mapping import import_mapping, load_mapping, read_mapped

CAMTRAPR_SPECIES = """
[species]
PBE = "Prionailurus bengalensis"
VTA = "Viverra tangalunga"
MNE = "Macaca nemestrina"
EGY = "Echinosorex gymnura"
TRA = "Tragulus"
"""


def camtrapr_mapping(tmp_path: Path, ref: Path, *, records: str = "recordTableSample.csv",
                     stations: str | None = None, extra_records: str = "",
                     species: str = CAMTRAPR_SPECIES) -> Path:
    # a mapping reads only files in its own folder: copy the reference tables beside it
    import shutil

    st_src = Path(stations) if stations else ref / "camtraps.csv"
    if st_src.is_absolute() and st_src.parent != tmp_path:
        shutil.copy(st_src, tmp_path / st_src.name)
    st = st_src.name if st_src.is_absolute() else str(st_src)
    if (ref / records).is_file() and not (tmp_path / records).exists():
        shutil.copy(ref / records, tmp_path / records)
    text = f"""
[source]
name = "camtrapR sample (Sabah 2009)"
country = "MY"
organisation = "camtrapR"
catalogue = "MY-CTR"
crs = "EPSG:32650"
timezone = "Asia/Kuala_Lumpur"

[tables.stations]
file = "{st}"
datetime_format = "%d/%m/%Y"
columns = {{ deploymentID = "Station", x = "utm_x", y = "utm_y",
            deploymentStart = "Setup_date", deploymentEnd = "Retrieval_date" }}
problems = {{ from = "Problem{{n}}_from", to = "Problem{{n}}_to" }}

[tables.records]
file = "{records}"
datetime_format = "%Y-%m-%d %H:%M:%S"
columns = {{ deploymentID = "Station", timestamp = "DateTimeOriginal", scientificName = "Species",
            filePath = "FileName"{extra_records} }}
{species}
"""
    path = tmp_path / "camtrapr.mapping.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def camtrapr(tmp_path: Path, reference_dir: Path):
    ref = reference_dir / "camtrapr"
    ds, report = import_mapping(camtrapr_mapping(tmp_path, ref), now="2026-01-01T00:00:00Z")
    return ds, report, ref


def _utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC")


def test_camtrapr_station_table_dates_mean_noon(camtrapr):
    ds, report, _ = camtrapr
    assert report.valid, report.to_text()
    dep = ds.deployments.set_index("deploymentID")
    # 02/04/2009 set-up, 14/05/2009 retrieval, no time: 12:00 Kuala Lumpur time (UTC+8).
    assert dep.loc["StationA", "deploymentStart"] == _utc("2009-04-02T12:00:00+08:00")
    assert dep.loc["StationA", "deploymentEnd"] == _utc("2009-05-14T12:00:00+08:00")
    assert dep.loc["StationC", "deploymentEnd"] == _utc("2009-05-17T12:00:00+08:00")
    details = ds["deploymentDetails"].set_index("deploymentID")
    assert set(details["timezone"]) == {"Asia/Kuala_Lumpur"}
    assert set(details["countryCode"]) == {"MY"}


def test_camtrapr_problem_columns_become_deployment_gaps(camtrapr):
    ds, _, _ = camtrapr
    gaps = ds["deploymentGaps"]
    assert gaps["deploymentID"].tolist() == ["StationC"]
    # Problem1 12/05/2009 - 17/05/2009: from the start of the 12th, clipped at retrieval noon.
    assert gaps["gapStart"].iloc[0] == _utc("2009-05-12T00:00:00+08:00")
    assert gaps["gapEnd"].iloc[0] == _utc("2009-05-17T12:00:00+08:00")
    assert gaps["gapReason"].iloc[0] == "malfunction"


def _camera_operation(ds) -> pd.DataFrame:
    """Daily effort in local time from deployments minus gaps (NA: not set up; 0: broken)."""
    zone = "Asia/Kuala_Lumpur"
    dep = ds.deployments.set_index("deploymentID")
    days = pd.date_range("2009-04-02", "2009-05-17", freq="D")
    out = pd.DataFrame(np.nan, index=dep.index, columns=[d.strftime("%Y-%m-%d") for d in days])
    gaps = ds["deploymentGaps"]
    for st, row in dep.iterrows():
        s = row["deploymentStart"].tz_convert(zone).tz_localize(None)
        e = row["deploymentEnd"].tz_convert(zone).tz_localize(None)
        for d in days:
            lo, hi = max(d, s), min(d + pd.Timedelta(days=1), e)
            if hi <= lo:
                continue
            up = (hi - lo) / pd.Timedelta(days=1)
            for _, g in gaps[gaps["deploymentID"] == st].iterrows():
                g0 = max(lo, g["gapStart"].tz_convert(zone).tz_localize(None))
                g1 = min(hi, g["gapEnd"].tz_convert(zone).tz_localize(None))
                if g1 > g0:
                    up -= (g1 - g0) / pd.Timedelta(days=1)
            out.loc[st, d.strftime("%Y-%m-%d")] = up
    return out


def test_camtrapr_camera_operation_matches_reference(camtrapr):
    """Set up vs not set up vs set up but broken: the whole cameraOperation matrix."""
    ds, _, ref = camtrapr
    expected = pd.read_csv(ref / "expected" / "camop_problem.csv", index_col=0)
    got = _camera_operation(ds).loc[expected.index, expected.columns]
    np.testing.assert_allclose(got.to_numpy(float), expected.to_numpy(float), equal_nan=True)


def test_camtrapr_records_local_time_to_utc(camtrapr):
    ds, _, ref = camtrapr
    raw = pd.read_csv(ref / "recordTableSample.csv")
    obs = ds.observations
    assert len(obs) == len(raw) == 39
    expected = (pd.to_datetime(raw["DateTimeOriginal"]).dt.tz_localize("Asia/Kuala_Lumpur")
                .dt.tz_convert("UTC"))
    assert (obs["eventStart"].to_numpy() == expected.to_numpy()).all()
    assert (obs["eventEnd"] == obs["eventStart"]).all()
    counts = obs.groupby("scientificName").size().to_dict()
    assert counts == {"Prionailurus bengalensis": 18, "Tragulus": 8, "Echinosorex gymnura": 6,
                      "Viverra tangalunga": 5, "Macaca nemestrina": 2}
    by_station = obs.groupby("deploymentID").size().to_dict()
    assert by_station == {"StationA": 6, "StationB": 12, "StationC": 21}
    assert set(obs["observationType"]) == {"animal"}
    assert obs["observationTags"].iloc[0] == "sourceName:PBE"


def test_camtrapr_media_from_file_column(camtrapr):
    ds, _, _ = camtrapr
    media = ds.media
    assert len(media) == 39
    assert media["mediaID"].is_unique
    assert (ds.observations["mediaID"].to_numpy() == media["mediaID"].to_numpy()).all()
    assert set(media["fileMediatype"]) == {"image/jpeg"}
    assert not media["filePublic"].any()


def test_camtrapr_import_writes_a_valid_package(camtrapr, tmp_path):
    ds, _, _ = camtrapr
    out = write_camtrap_dp(ds, tmp_path / "pkg")
    back, report = load_camtrap_dp(out)
    assert report.valid, report.to_text()
    assert len(back["deploymentGaps"]) == 1
    pd.testing.assert_series_equal(back.observations["eventStart"], ds.observations["eventStart"])


def test_camtrapr_locations_utm50n_to_wgs84(camtrapr):
    ds, _, _ = camtrapr
    dep = ds.deployments.set_index("deploymentID")
    # UTM 50N easting 526000 / northing 604000: about 117.235 E, 5.464 N (Sabah).
    assert dep.loc["StationA", "longitude"] == pytest.approx(117.2349, abs=1e-3)
    assert dep.loc["StationA", "latitude"] == pytest.approx(5.4644, abs=1e-3)


def test_individual_record_table_namespaces_ids(tmp_path, reference_dir):
    ref = reference_dir / "camtrapr"
    path = camtrapr_mapping(tmp_path, ref, records="recordTableIndividualSample.csv",
                            extra_records=', individualID = "Individual"', species="")
    ds, report = import_mapping(path, now="2026-01-01T00:00:00Z")
    assert report.valid, report.to_text()
    obs = ds.observations
    assert set(obs["individualID"]) == {"MY-CTR:1", "MY-CTR:2", "MY-CTR:3"}
    assert set(obs["scientificName"]) == {"Prionailurus bengalensis"}  # 'LeopardCat' resolved
    ind = ds["individuals"]
    assert ind["individualID"].tolist() == ["MY-CTR:1", "MY-CTR:2", "MY-CTR:3"]
    assert set(ind["catalogue"]) == {"MY-CTR"}


# -- errors -----------------------------------------------------------------------------------
def test_problem_ending_after_retrieval_is_an_error_naming_the_row(tmp_path, reference_dir):
    ref = reference_dir / "camtrapr"
    st = pd.read_csv(ref / "camtraps.csv", dtype=str, keep_default_na=False)
    st.loc[2, "Problem1_to"] = "18/05/2009"
    st_path = tmp_path / "stations.csv"
    st.to_csv(st_path, index=False)
    ds, report = import_mapping(camtrapr_mapping(tmp_path, ref, stations=str(st_path)))
    errs = [i for i in report.errors if i.code == "problem-after-retrieval"]
    assert len(errs) == 1 and errs[0].row == 4 and errs[0].field == "Problem1_to"
    assert "Problem ends after retrieval" in errs[0].message
    with pytest.raises(SchemaError, match="Problem ends after retrieval"):
        read_mapped(camtrapr_mapping(tmp_path, ref, stations=str(st_path)))


def test_unknown_species_is_reported_never_guessed(tmp_path, reference_dir):
    ref = reference_dir / "camtrapr"
    path = camtrapr_mapping(tmp_path, ref, species='[species]\nPBE = "Prionailurus bengalensis"')
    ds, report = import_mapping(path, now="2026-01-01T00:00:00Z")
    unknown = {i.got for i in report.errors if i.code == "unknown-species"}
    assert unknown == {"VTA", "MNE", "EGY", "TRA"}
    assert ds.observations["scientificName"].isna().sum() == 39 - 18
    assert any('add "VTA" = ' in (i.fix or "") for i in report.errors)


def _minimal(tmp_path: Path, body: str) -> Path:
    (tmp_path / "st.csv").write_text("S,X,Y,A,B\nS1,500000,4800000,01.09.2014,01.12.2014\n",
                                     encoding="utf-8")
    (tmp_path / "rec.csv").write_text("S,T,Sp\nS1,2014-09-05 10:00:00,Тигр\n", encoding="utf-8")
    path = tmp_path / "m.mapping.toml"
    path.write_text(body, encoding="utf-8")
    return path


_GOOD = """
[source]
name = "x"
country = "RU"
organisation = "LLNP"
catalogue = "RU-LLNP"
crs = "EPSG:32652"
timezone = "Asia/Vladivostok"

[tables.stations]
file = "st.csv"
datetime_format = "%d.%m.%Y"
columns = { deploymentID = "S", x = "X", y = "Y", deploymentStart = "A", deploymentEnd = "B" }

[tables.records]
file = "rec.csv"
columns = { deploymentID = "S", timestamp = "T", scientificName = "Sp" }
"""


def test_minimal_mapping_reads(tmp_path):
    ds = read_mapped(_minimal(tmp_path, _GOOD), now="2026-01-01T00:00:00Z")
    assert ds.observations["scientificName"].tolist() == ["Panthera tigris"]
    # Vladivostok was UTC+11 in September 2014.
    assert ds.observations["eventStart"].iloc[0] == pd.Timestamp("2014-09-04T23:00:00Z")


@pytest.mark.parametrize("edit, key", [
    (("crs = \"EPSG:32652\"", "crs = \"EPSG:32652\"\ndatum = 1"), "source.datum"),
    (("deploymentID = \"S\", x", "deploymentId = \"S\", x"),
     "tables.stations.columns.deploymentId"),
    (("file = \"rec.csv\"", "file = \"nothere.csv\""), "tables.records.file"),
    (("timezone = \"Asia/Vladivostok\"", "timezone = \"Vladivostok\""), "source.timezone"),
    (("crs = \"EPSG:32652\"", "crs = \"MSK-25\""), "source.crs"),
    (("crs = \"EPSG:32652\"", "crs = \"BD-09\""), "source.crs"),
])
def test_bad_mapping_names_file_key_and_fix(tmp_path, edit, key):
    path = _minimal(tmp_path, _GOOD.replace(*edit))
    with pytest.raises(ConfigError) as info:
        load_mapping(path)
    msg = str(info.value)
    assert str(path) in msg and f"`{key}`" in msg
    ds, report = import_mapping(path)
    assert ds is None and not report.valid


def test_missing_column_is_an_error_naming_mapping_key(tmp_path):
    path = _minimal(tmp_path, _GOOD.replace('scientificName = "Sp"', 'scientificName = "Art"'))
    ds, report = import_mapping(path)
    assert ds is None
    (err,) = report.errors
    assert err.code == "missing-column" and err.field == "tables.records.columns.scientificName"
    assert "'Art'" in err.message and "Sp" in err.message


def test_bd09_refusal_says_what_to_supply(tmp_path):
    path = _minimal(tmp_path, _GOOD.replace('crs = "EPSG:32652"', 'crs = "BD-09"'))
    with pytest.raises(ConfigError, match="supply the original GPS readings"):
        load_mapping(path)


def test_records_outside_deployment_and_in_future_are_flagged_and_kept(tmp_path):
    path = _minimal(tmp_path, _GOOD)
    (tmp_path / "rec.csv").write_text(
        "S,T,Sp\nS1,2014-09-05 10:00:00,Тигр\nS1,2014-08-01 10:00:00,Тигр\n"
        "S1,2031-01-01 10:00:00,Тигр\n", encoding="utf-8")
    ds, report = import_mapping(path, now="2026-01-01T00:00:00Z")
    assert report.valid
    codes = {i.code: i.row for i in report.warnings}
    assert codes["timestamp-before-deployment"] == 3
    assert codes["timestamp-in-future"] == 4
    assert codes["timestamp-after-deployment"] == 4
    assert len(ds.observations) == 3


def test_xlsx_without_openpyxl_names_the_package(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "openpyxl", None)  # as if it were not installed
    (tmp_path / "st.xlsx").write_bytes(b"PK\x03\x04")
    path = _minimal(tmp_path, _GOOD.replace('file = "st.csv"', 'file = "st.xlsx"'))
    ds, report = import_mapping(path)
    assert ds is None
    assert "openpyxl" in report.errors[0].message


def test_excel_station_sheet_imports_like_the_csv(tmp_path):
    """An Excel station sheet (dates typed as text, as field teams keep them) reads as the CSV."""
    import openpyxl

    csv_path = _minimal(tmp_path, _GOOD)
    from_csv, report = import_mapping(csv_path)
    assert report.valid, report.to_text()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "stations"
    for row in (["S", "X", "Y", "A", "B"], ["S1", 500000, 4800000, "01.09.2014", "01.12.2014"]):
        sheet.append(row)
    book.save(tmp_path / "st.xlsx")
    xlsx_path = tmp_path / "x.mapping.toml"
    xlsx_path.write_text(_GOOD.replace('file = "st.csv"', 'file = "st.xlsx"\nsheet = "stations"'),
                         encoding="utf-8")
    from_xlsx, report = import_mapping(xlsx_path)
    assert report.valid, report.to_text()
    for table in ("deployments", "deploymentGaps", "observations"):
        pd.testing.assert_frame_equal(from_xlsx[table], from_csv[table])
