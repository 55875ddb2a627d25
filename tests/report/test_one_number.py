"""One number, one source: every figure shown in more than one place is the same everywhere.

The toy package is turned into a study with two transboundary cats (the Russian records of
T-1 and L-7 carry the Chinese IDs) and with doubtful records planted: a camera clock a year
ahead, a record before set-up and a duplicate. Reports are written for the owner, a partner
and the public (English) and for the owner in Chinese and Russian; the tests compare the
figures across sections, CSV, HTML tables, the GeoPackage, the printed PDF (text read back
with pypdf), languages and audiences.
"""

from __future__ import annotations

import re
import sqlite3
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

AUDIENCES = ("owner", "partner", "public")
#: Tables whose every column is a count or a label: identical for every audience.
COUNT_TABLES = ("answer_species", "individuals", "encounters_by_country", "trends",
                "data_quality", "study_period", "coverage_by_year")
#: Tables with distances: identical once the distance columns are left out.
DISTANCE_COLUMNS = {"answer_individuals": ["farthest_km"],
                    "crossborder": ["max_distance_km_CN", "max_distance_km_RU"],
                    "coverage": ["withheld"]}


def _study():
    from amurlink.datasets import load_example

    ds = load_example()
    obs = ds.observations.copy()
    ren = {"RU-LLNP:T-1": "CN-NTLNP:T01", "RU-LLNP:L-7": "CN-NTLNP:L01"}
    obs["individualID"] = obs["individualID"].astype(object).replace(ren)
    ind = ds.get("individuals")
    ind = ind[~ind["individualID"].isin(list(ren))].reset_index(drop=True)
    # planted: a clock one year ahead, a record three days before set-up, a duplicate
    cat = obs.index[obs["individualID"].astype(object) == "CN-NTLNP:T01"][0]
    ahead = obs.loc[[cat]].assign(observationID="planted-clock")
    ahead["eventStart"] = ahead["eventStart"] + pd.DateOffset(years=1)
    ahead["eventEnd"] = ahead["eventEnd"] + pd.DateOffset(years=1)
    dep = ds.deployments.set_index("deploymentID")
    early = obs.loc[[cat]].assign(observationID="planted-early")
    early["eventStart"] = pd.to_datetime(
        dep.loc[early["deploymentID"], "deploymentStart"].to_numpy(), utc=True
    ) - pd.Timedelta(days=3)
    early["eventEnd"] = early["eventStart"]
    dup = obs.loc[[cat]].assign(observationID="planted-duplicate")
    obs = pd.concat([obs, ahead, early, dup], ignore_index=True)
    return ds.replace(observations=obs, individuals=ind,
                      identityLinks=ds.get("identityLinks").iloc[0:0])


@pytest.fixture(scope="module")
def study_inputs():
    from amurlink.config import load_config
    from amurlink.datasets import example_config_path
    from amurlink.report import ReportInputs
    from amurlink.report.demo import camtrap_tables, toy_border
    from amurlink.report.render import prepare_inputs

    ds = _study()
    manifest = {"inputs": [{"source": "/home/ranger/data/cn", "files": {
        "/home/ranger/data/cn/deployments.csv": "ab12"}}], "configFile": {
        "path": "C:\\Users\\ranger\\amurlink.toml"}}
    raw = ReportInputs(dataset=ds, config=load_config(example_config_path()),
                       border=toy_border(), manifest=manifest)
    clean = prepare_inputs(raw)
    import dataclasses

    return dataclasses.replace(raw, camtrap=camtrap_tables(clean.dataset))


@pytest.fixture(scope="module")
def written(study_inputs, tmp_path_factory):
    from amurlink.report import write_report

    root = tmp_path_factory.mktemp("one-number")
    out = {}
    for aud in AUDIENCES:
        out[aud, "en"] = write_report(study_inputs, root / f"{aud}-en", audience=aud)
    for lang in ("zh", "ru"):
        out["owner", lang] = write_report(study_inputs, root / f"owner-{lang}", lang=lang,
                                          view=out["owner", "en"].view)
    return out


def _csv(files, name):
    return pd.read_csv(files.html.parent / "tables" / f"{name}.csv")


class _Tables(HTMLParser):
    """Cell texts of every ``<table data-name=...>`` of the report."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._name = None
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("data-name"):
            self._name = a["data-name"]
            self.tables[self._name] = []
        elif self._name and tag == "tr":
            self._row = []
        elif self._row is not None and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._name].append(self._row)
            self._row = None
        elif tag == "table":
            self._name = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _html_tables(files):
    p = _Tables()
    p.feed(files.html.read_text(encoding="utf-8"))
    return p.tables


# -- audiences ---------------------------------------------------------------------------------
@pytest.mark.parametrize("audience", ["partner", "public"])
def test_counts_are_the_same_for_every_audience(written, audience):
    """Individuals, transboundary individuals, encounters per country and crossings: the
    same numbers for owner, partner and public (only distances are coarsened)."""
    owner, other = written["owner", "en"], written[audience, "en"]
    for name in COUNT_TABLES:
        pd.testing.assert_frame_equal(_csv(owner, name), _csv(other, name), obj=name)
    for name, dist in DISTANCE_COLUMNS.items():
        a, b = _csv(owner, name), _csv(other, name)
        pd.testing.assert_frame_equal(a.drop(columns=dist, errors="ignore"),
                                      b.drop(columns=dist, errors="ignore"), obj=name)
    # the distances themselves are coarsened (owner exact, partner whole km, public none)
    far_o = _csv(owner, "answer_individuals")["farthest_km"]
    far = _csv(other, "answer_individuals")["farthest_km"]
    assert (far_o != far_o.round()).any()
    if audience == "partner":
        assert (far == far.round()).all() and far.notna().all()
    else:
        assert far.isna().all()


def test_there_is_something_to_compare(written):
    """Precondition: two transboundary cats with crossings, and the planted records found."""
    ans = _csv(written["owner", "en"], "answer_species")
    assert ans["transboundary"].tolist() == [1, 1]
    ind = _csv(written["owner", "en"], "answer_individuals")
    assert (ind["crossings"] > 0).all()
    q = _csv(written["owner", "en"], "data_quality").set_index("kind")["records"]
    assert q["clockYear"] == 1 and q["beforeDeployment"] == 1 and q["duplicate"] == 1


# -- one number, one source ----------------------------------------------------------------------
def test_the_answer_agrees_with_the_detailed_sections(written):
    f = written["owner", "en"]
    ans = _csv(f, "answer_individuals").set_index("jointID")
    cb = _csv(f, "crossborder").set_index("jointID")
    for c in ("encounters_CN", "encounters_RU", "crossings"):
        assert ans[c].equals(cb.loc[ans.index, c]), c
    far = cb[["max_distance_km_CN", "max_distance_km_RU"]].max(axis=1)
    np.testing.assert_allclose(ans["farthest_km"], far.loc[ans.index])
    sp = _csv(f, "answer_species").set_index("scientificName")
    indiv = _csv(f, "individuals").set_index("scientificName")
    assert sp["transboundary"].equals(indiv.loc[sp.index, "transboundary"])
    assert sp["individuals"].equals(indiv.loc[sp.index, "individuals"])
    # encounters by country: the per-individual counts add up to the species table
    enc = _csv(f, "encounters_by_country").set_index("scientificName")
    by_sp = ans.groupby("scientificName")[["encounters_CN", "encounters_RU"]].sum()
    assert (enc.loc[by_sp.index, "CN"] >= by_sp["encounters_CN"]).all()
    assert (enc.loc[by_sp.index, "RU"] >= by_sp["encounters_RU"]).all()


def test_geopackage_encounters_match_the_tables(written):
    for aud in AUDIENCES:
        f = written[aud, "en"]
        con = sqlite3.connect(f.gpkg)
        try:
            rows = con.execute('SELECT "scientificName", "country", COUNT(*) FROM '
                               '"encounters" GROUP BY 1, 2').fetchall()
            routes = dict(con.execute('SELECT "jointID", "encounters" FROM "routes"'))
        finally:
            con.close()
        enc = _csv(f, "encounters_by_country").set_index("scientificName")
        for sp, cc, n in rows:
            assert enc.loc[sp, cc] == n, (aud, sp, cc)
        ans = _csv(f, "answer_individuals").set_index("jointID")
        for jid, n in routes.items():
            assert n == ans.loc[jid, "encounters_CN"] + ans.loc[jid, "encounters_RU"]


def test_effort_is_one_number(written):
    """Trap-days: the coverage table, the years and relative abundance give one figure."""
    f = written["owner", "en"]
    cov = _csv(f, "coverage").set_index("country")
    years = _csv(f, "coverage_by_year")
    for cc in ("CN", "RU"):
        assert years[f"trapDays_{cc}"].sum() == pytest.approx(cov.loc[cc, "trapDays"],
                                                              rel=1e-9)
    rai = _csv(f, "camtrap_relative_abundance").groupby("countryCode")["trapDays"].first()
    for cc in ("CN", "RU"):
        assert rai[cc] == pytest.approx(cov.loc[cc, "trapDays"], rel=1e-12)
    stations = _csv(f, "stations")
    assert stations.groupby("country").size().to_dict() == \
        cov.drop(index="ALL")["deployments"].to_dict()
    cam = stations.groupby("country")["cameraDays"].sum()
    for cc in ("CN", "RU"):
        assert cam[cc] == pytest.approx(cov.loc[cc, "cameraDays"], rel=1e-9)
    con = sqlite3.connect(f.gpkg)
    try:
        gpkg = dict(con.execute('SELECT "country", SUM("cameraDays") FROM "stations" '
                                'GROUP BY 1').fetchall())
    finally:
        con.close()
    for cc in ("CN", "RU"):
        assert gpkg[cc] == pytest.approx(cov.loc[cc, "cameraDays"], rel=1e-9)


def test_languages_give_the_same_tables(written):
    en = written["owner", "en"].html.parent / "tables"
    for lang in ("zh", "ru"):
        other = written["owner", lang].html.parent / "tables"
        names = sorted(p.name for p in en.glob("*.csv"))
        assert names == sorted(p.name for p in other.glob("*.csv"))
        for n in names:
            assert (en / n).read_bytes() == (other / n).read_bytes(), (lang, n)


def _num(text):
    t = text.replace(",", "").replace("\u2009", "")
    return float(t) if re.fullmatch(r"-?\d+(\.\d+)?", t) else None


@pytest.mark.parametrize("lang", ["en", "zh", "ru"])
def test_html_tables_show_the_csv_figures(written, lang):
    f = written["owner", lang]
    html = _html_tables(f)
    for name in ("answer_species", "answer_individuals", "encounters_by_country", "coverage",
                 "coverage_by_year", "data_quality", "trends"):
        rows = html[name][1:]  # header first
        csv = _csv(f, name)
        shown = [[_num(c) for c in r if _num(c) is not None] for r in rows]
        assert len(shown) == len(csv), name
        for r_html, (_, r_csv) in zip(shown, csv.iterrows(), strict=True):
            nums = [float(v) for v in r_csv.to_numpy()
                    if isinstance(v, int | float | np.integer | np.floating)
                    and not isinstance(v, bool) and np.isfinite(v)]
            if name == "data_quality":
                nums = nums[:1]
            for v in nums:
                assert any(abs(h - round(v, 1)) <= 0.05 or abs(h - v) <= 0.05
                           for h in r_html), (name, v, r_html)


def test_no_local_paths_in_shared_reports(written):
    owner = written["owner", "en"].html.read_text(encoding="utf-8")
    assert "/home/ranger" in owner  # the owner sees the manifest as written
    for aud in ("partner", "public"):
        f = written[aud, "en"]
        text = f.html.read_text(encoding="utf-8")
        assert "deployments.csv" in text  # the manifest is shown, by file name
        assert "/home/ranger" not in text and "Users" not in text, aud
        for csv in (f.html.parent / "tables").glob("*.csv"):
            assert "/home/" not in csv.read_text(encoding="utf-8"), csv


def test_the_terminal_gives_the_report_figures(written, tmp_path):
    """``amurlink crossborder`` on the same joint package prints the report's answer."""
    import json

    from typer.testing import CliRunner

    import amurlink.cli.crossborder  # noqa: F401 - registers the command
    from amurlink.cli import app
    from amurlink.io import write_camtrap_dp

    joint = write_camtrap_dp(_study(), tmp_path / "joint")
    border = tmp_path / "border.geojson"
    border.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"kind": "border"},
        "geometry": {"type": "LineString", "coordinates": [[131.0, 42.9], [131.0, 43.3]]}}]}))
    runner = CliRunner()
    res = runner.invoke(app, ["crossborder", str(joint), "--border", str(border), "--format",
                              "json"])
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)
    ans = _csv(written["owner", "en"], "answer_species").set_index("scientificName")
    for sp, row in ans.iterrows():
        assert got["summary"][sp]["individuals"] == row["individuals"]
        assert got["summary"][sp]["transboundary"] == row["transboundary"]
    ind = _csv(written["owner", "en"], "answer_individuals").set_index("jointID")
    for jid, row in ind.iterrows():
        cli = got["individuals"][jid]
        assert cli["encounters"]["CN"] == row["encounters_CN"]
        assert cli["encounters"]["RU"] == row["encounters_RU"]
        assert cli["crossings"] == row["crossings"]
    text = runner.invoke(app, ["crossborder", str(joint), "--border", str(border)],
                         env={"COLUMNS": "100"}).output
    for sp, row in ans.iterrows():
        assert f"{sp}: {row['transboundary']} of {row['individuals']}" in text


# -- the printed report ----------------------------------------------------------------------------
#: Tables whose every row is read back from the PDF, cell by cell in order.
PDF_TABLES = ("answer_species", "answer_individuals", "encounters_by_country", "coverage",
              "coverage_by_year", "data_quality", "trends", "crossborder")
PDF_REPORTS = (("owner", "en"), ("owner", "zh"), ("owner", "ru"), ("public", "en"))


@pytest.fixture(scope="module")
def printed(study_inputs, written, chromium, tmp_path_factory):
    """The same reports printed by Chromium (skipped only without chromium and without CI)."""
    from amurlink.report import write_report

    root = tmp_path_factory.mktemp("one-number-pdf")
    out = {}
    for aud, lang in PDF_REPORTS:
        view = written["owner", "en"].view if aud == "owner" else None
        out[aud, lang] = write_report(study_inputs, root / f"{aud}-{lang}", lang=lang,
                                      audience=aud, view=view, pdf=True)
    return out


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _pdf_text(path) -> str:
    from pypdf import PdfReader

    return _squash("\n".join(page.extract_text() or "" for page in PdfReader(path).pages))


@pytest.mark.parametrize(("audience", "lang"), PDF_REPORTS)
def test_the_pdf_shows_the_figures_of_the_html_and_csv(written, printed, audience, lang):
    """Every row of the figure tables is in the PDF's text as in the HTML (whose numbers
    :func:`test_html_tables_show_the_csv_figures` ties to the CSV): the same figures and IDs
    (cells with a digit), in the same order. Wordy cells are left out: Chromium wraps them
    over lines, and pypdf reads CJK text of subset fonts back unreliably."""
    f = printed[audience, lang]
    assert f.pdf is not None and f.pdf.is_file()
    text = _pdf_text(f.pdf)
    html = _html_tables(f)
    same = _html_tables(written[audience, "en"]) if lang == "en" else None
    checked = 0
    for name in PDF_TABLES:
        if name not in html:
            continue
        if same is not None:  # the printed run shows what the HTML-only run showed
            assert html[name] == same[name], name
        for row in html[name][1:]:
            checked += len([c for c in row if re.search(r"\d", c)]) > 0
            cells = [_squash(c) for c in row if re.fullmatch(r"[ -~]*\d[ -~]*", c.strip())]
            pos = 0
            for cell in cells:
                at = text.find(cell, pos)
                assert at >= 0, (audience, lang, name, cell, row)
                pos = at + len(cell)
    assert checked >= 20  # the answer, encounters, coverage, quality, trends rows at least


def test_the_pdf_answer_is_the_csv_answer(printed):
    """The opening answer read from the PDF gives the CSV's figures, per species and per
    transboundary individual (straight from the CSV, not through the HTML)."""
    from pypdf import PdfReader

    f = printed["owner", "en"]
    # words kept apart here: squashed, the cells "1" and "1" would read as 11
    text = re.sub(r"\s+", " ", "\n".join(p.extract_text() or ""
                                          for p in PdfReader(f.pdf).pages))

    def shown_after(label: str, values: list[float], width: int, ordered: bool) -> bool:
        """Some place where ``label`` is followed (within ``width`` characters) by all of
        ``values``: next, in any order; or, when ``ordered``, in this order with other
        numbers between (national IDs): a table row of the answer."""
        key = re.sub(r"\s+", " ", label.strip())
        for m in re.finditer(re.escape(key), text):
            nums = [float(x) for x in re.findall(r"\d+(?:\.\d+)?",
                                                 text[m.end(): m.end() + width])]
            if ordered:
                it = iter(nums)
                if all(any(v == n for n in it) for v in values):
                    return True
            elif sorted(nums[:len(values)]) == sorted(values):  # the row's next cells
                return True
        return False

    sp = _csv(f, "answer_species")
    assert len(sp) and sp["transboundary"].sum() > 0
    for _, r in sp.iterrows():
        values = [float(r["transboundary"]), float(r["individuals"])]
        assert shown_after(r["scientificName"], values, 16, ordered=False), r.to_dict()
    for _, r in _csv(f, "answer_individuals").iterrows():
        values = [float(r[c]) for c in ("encounters_CN", "encounters_RU", "crossings")]
        # the row is shown under its national IDs (the joint ID is internal)
        assert shown_after(str(r["members"]), values, 40, ordered=True), r.to_dict()
