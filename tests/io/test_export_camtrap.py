"""Exports: Darwin Core vs R camtrapdp's snapshot of the official example, GeoPackage, xlsx."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from amurlink.core.protection import Audience
from amurlink.datasets import load_example
from amurlink.io import read_camtrap_dp
from amurlink.io.export import (
    read_gpkg_point,
    write_camtrapr,
    write_dwc,
    write_geopackage,
    write_xlsx,
)


@pytest.mark.reference
@pytest.mark.parametrize(("level", "suffix"), [("event", ""), ("media", "_media_based")])
def test_dwc_matches_camtrapdp(reference_dir, tmp_path, level, suffix):
    ex = reference_dir / "camtrap-dp-example"
    paths = write_dwc(read_camtrap_dp(ex / "datapackage.json"), tmp_path,
                      observation_level=level)
    for name in ("occurrence", "multimedia"):
        got = pd.read_csv(paths[name], dtype=str, keep_default_na=False)
        exp = pd.read_csv(ex / "dwc-expected" / f"{name}{suffix}.csv", dtype=str,
                          keep_default_na=False)
        pd.testing.assert_frame_equal(got, exp)
    assert paths["meta"].read_text() == (ex / "dwc-expected" / "meta.xml").read_text()


def test_dwc_public_withholds_locations(tmp_path):
    paths = write_dwc(load_example(), tmp_path, audience=Audience.public())
    occ = pd.read_csv(paths["occurrence"])
    assert occ["decimalLatitude"].nunique() <= 1


def test_geopackage_reads_back(tmp_path):
    path = write_geopackage(load_example(), tmp_path / "s.gpkg")
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA application_id").fetchone()[0] == 1196444487
        kinds = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents"))
        assert kinds == {"stations": "features", "records": "attributes"}
        geom = con.execute("SELECT column_name, geometry_type_name, srs_id "
                           "FROM gpkg_geometry_columns").fetchall()
        assert geom == [("geom", "POINT", 4326)]
        rows = con.execute("SELECT geom, latitude, longitude, trapDays FROM stations").fetchall()
    finally:
        con.close()
    assert len(rows) == 6
    for blob, lat, lon, days in rows:
        x, y, srs = read_gpkg_point(blob)
        assert (x, y, srs) == (lon, lat, 4326)
        assert days > 0


def test_camtrapr_tables(tmp_path):
    paths = write_camtrapr(load_example(), tmp_path)
    st = pd.read_csv(paths["stations"])
    rec = pd.read_csv(paths["records"])
    assert {"Station", "Setup_date", "Retrieval_date"} <= set(st.columns)
    assert {"Station", "Species", "DateTimeOriginal"} <= set(rec.columns)


def test_xlsx_needs_openpyxl(tmp_path):
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="openpyxl"):
            write_xlsx(pd.DataFrame({"a": [1]}), tmp_path / "a.xlsx")
    else:
        p = write_xlsx(pd.DataFrame({"a": [1]}), tmp_path / "a.xlsx")
        assert pd.read_excel(p)["a"].tolist() == [1]
