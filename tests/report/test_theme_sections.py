"""Report sections of the theme stages (survey design, corridors, incidents, SECR models):
rendered in en/zh/ru from a small simulated study's run, positions only through protection,
and no claimant data for partners or the public."""

from __future__ import annotations

import numpy as np
import pytest

TITLES = {  # section key -> title in en, zh, ru
    "design": ("Joint survey design for the theme study", "专题研究的联合调查设计",
               "Совместный дизайн учёта для тематического исследования"),
    "corridors": ("Transboundary corridors", "跨境生态廊道", "Трансграничные коридоры"),
    "incidents": ("Human-animal conflict, disease and patrols", "人兽冲突、疫病与巡护",
                  "Конфликты человека и животных, болезни и патрулирование"),
    "secr_models": ("SECR model selection", "SECR模型选择", "Выбор моделей SECR"),
}


@pytest.fixture(scope="module")
def theme_inputs(tmp_path_factory):
    from amurlink.core.border import load_border
    from amurlink.report import ReportInputs
    from amurlink.simulate import simulate_study, write_study
    from amurlink.study import themes
    from amurlink.study._runner import Study, run_study

    root = tmp_path_factory.mktemp("theme-report")
    st = simulate_study("small", seed=4)  # a seed whose books hold a compensation claim
    write_study(st, root / "sim", overwrite=True)
    themes.write_theme_inputs(st, root / "sim")
    study = Study.open(root / "sim", root / "out")
    res = run_study(study, parallel=False,
                    only=("design", "corridors", "incidents", "secr models"))
    parts = {part: res.values[stage] for part, stage in themes.THEME_PARTS}
    inputs = ReportInputs(dataset=res.values["harmonise"]["dataset"], config=study.config,
                          border=load_border(study.border_file, crs=study.config.crs.working),
                          themes=parts)
    return inputs, root


@pytest.fixture(scope="module")
def views(theme_inputs):
    from amurlink.report import build_view
    from amurlink.report.render import audience_for

    inputs, _ = theme_inputs
    return {a: build_view(inputs, audience=audience_for(a)) for a in ("owner", "partner",
                                                                     "public")}


def _sections(view):
    from amurlink.report._sections_themes import theme_sections

    return {s.key: s for s in theme_sections(view)}


class _Rendered:
    def __init__(self, html, csv):
        self.html, self.csv = html, csv


@pytest.fixture(scope="module")
def html(views):
    """(audience, lang) -> the report's HTML and its tables as CSV text (not written)."""
    from amurlink.report._sections import build_sections
    from amurlink.report.render import render_html

    out = {}
    for aud, lang in (("owner", "en"), ("partner", "zh"), ("public", "ru"), ("partner", "en"),
                      ("public", "en")):
        secs = build_sections(views[aud])
        out[aud, lang] = _Rendered(render_html(views[aud], secs, lang=lang),
                                   [t.frame.to_csv(index=False) for s in secs
                                    for t in s.tables])
    return out


@pytest.mark.parametrize("key", sorted(TITLES))
def test_section_renders_in_three_languages(html, key):
    for (aud, lang), f in html.items():
        text = f.html
        title = TITLES[key][("en", "zh", "ru").index(lang)]
        assert title in text, (key, aud, lang)
        assert "No results" not in text.split(TITLES[key][0])[-1][:200] or lang != "en"


def test_design_section_tables_and_protected_map(views):
    sec = {a: _sections(v)["design"] for a, v in views.items()}
    names = [t.name for t in sec["owner"].tables]
    assert names == ["design_layouts", "design_joint_vs_national", "design_costing"]
    exact = np.asarray(views["owner"].inputs.themes["design"]["proposed_xy"])
    own = sec["owner"].figures[0].points
    assert np.allclose(np.sort(own, axis=0), np.sort(exact, axis=0))
    # partner: 1 km cell centres, never an exact site
    part = sec["partner"].figures[0].points
    d = np.hypot(part[:, None, 0] - exact[None, :, 0], part[:, None, 1] - exact[None, :, 1])
    assert d.min() > 1.0 and d.min(axis=0).max() < 800
    # public: no map at all
    assert not sec["public"].figures and sec["public"].note
    for t in sec["public"].tables:
        assert not {"x", "y", "latitude", "longitude"} & set(t.frame.columns)


def test_corridor_and_model_maps_draw_no_station(views):
    for aud in ("partner", "public"):
        secs = _sections(views[aud])
        for key in ("corridors", "secr_models"):
            assert secs[key].figures, (aud, key)
            for fig in secs[key].figures:
                assert fig.points is None
    seg = next(t for t in _sections(views["public"])["corridors"].tables
               if t.name == "corridors_border_segments")
    assert {"current", "crossings"} <= set(seg.frame.columns)


def test_model_section_table_is_ranked_by_aicc(views):
    sec = _sections(views["owner"])["secr_models"]
    t = sec.tables[0].frame
    for _, g in t.groupby(["scientificName", "fit"]):
        assert g["D_best"].notna().sum() == 1  # the best model's mean density
        assert (g["D_best"].dropna() > 0).all()
        g = g[np.isfinite(g["AICc"])]  # AICc needs more animals than parameters + 1
        if len(g):
            assert g["dAICc"].iloc[0] == 0 and (np.diff(g["AICc"].to_numpy()) >= 0).all()
            assert abs(g["weight"].sum() - 1) < 1e-9


def test_no_claimant_data_for_partner_or_public(theme_inputs, html):
    """No claimant name or phone number in partner or public reports (HTML or CSV)."""
    inputs, _ = theme_inputs
    claimants = inputs.themes["incidents"]["tables"]["claimants"]
    assert len(claimants)
    secret = [str(v) for v in claimants["claimantName"]] + [str(v) for v in claimants["phone"]]
    for (aud, lang), f in html.items():
        if aud == "owner":
            continue
        texts = [f.html, *f.csv]
        for s in secret:
            assert not any(s in t for t in texts), (aud, lang, s)


def test_incident_tables_go_through_protection(views, monkeypatch):
    import amurlink.incidents.protect as protect
    from amurlink.report import _sections_incidents as si

    calls = []
    real = protect.protect_incident_tables

    def spy(tables, **kw):
        calls.append(kw["audience"].kind)
        return real(tables, **kw)

    monkeypatch.setattr(protect, "protect_incident_tables", spy)
    v = views["partner"]
    v.cache.pop("incidents", None)
    v.cache.pop("incident_tables", None)
    sec = si.incidents_section(v)
    assert calls == ["partner"]
    assert sec.tables and all(not {"latitude", "longitude"} & set(t.frame.columns)
                              for t in sec.tables)



from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=15, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
@given(data=st.data())
def test_incidents_section_property(data, tmp_path_factory):
    """On drawn cases (audiences, policies, agreements): the incidents section and the
    protected tables it reads never show a claimant to anyone but the owner, a species
    outside the agreement, or a station's exact position."""
    from amurlink.testing.release_outputs import (
        check_artifacts,
        draw_case,
        produce_report_incidents,
    )

    case = draw_case(data.draw)
    check_artifacts("report:incidents", case,
                    produce_report_incidents(case, tmp_path_factory.mktemp("inc")))


@pytest.mark.slow
def test_demo_partner_and_public_reports_hold_no_claimant(tmp_path):
    """``amurlink demo`` (small, a seed whose books hold claims): its public report, and a
    partner report of its joint folder (``amurlink report``'s path), show the four theme
    sections and no claimant name or phone number."""
    import pandas as pd

    from amurlink.report import load_report_inputs, write_report
    from amurlink.study.demo import run_demo

    res = run_demo(tmp_path, scenario="small", seed=4, languages=("en",), public=True,
                   parallel=False)
    assert not res.failed, res.failed
    claimants = pd.concat([pd.read_csv(f, dtype=str) for f in
                           sorted((tmp_path / "sim" / "incidents").glob("*/claimants.csv"))])
    secret = [*claimants["claimantName"], *claimants["phone"]]
    assert secret
    inputs = load_report_inputs(tmp_path / "joint")
    assert set(inputs.themes) == {"design", "corridors", "incidents", "secr_models"}
    partner = write_report(inputs, tmp_path / "partner-zh", lang="zh", audience="partner")
    for folder in (tmp_path / "report" / "public-en", partner.html.parent):
        texts = [p.read_text(encoding="utf-8") for p in
                 [folder / "report.html", *sorted((folder / "tables").glob("*.csv"))]]
        for s in secret:
            assert not any(s in t for t in texts), (folder.name, s)
    public = (tmp_path / "report" / "public-en" / "report.html").read_text(encoding="utf-8")
    for en, _zh, _ru in TITLES.values():
        assert en in public


def test_a_theme_left_out_by_run_skip_says_so_not_that_it_failed():
    from types import SimpleNamespace

    from amurlink.config import SKIPPED_BY_CONFIG
    from amurlink.report._i18n import translation
    from amurlink.report._sections_themes import THEME_MISSING, theme_missing

    def view(status):
        return SimpleNamespace(inputs=SimpleNamespace(missing={"design": status}
                                                      if status else {}))

    assert theme_missing(view(SKIPPED_BY_CONFIG), "design") == THEME_MISSING["left out"]
    assert theme_missing(view(SKIPPED_BY_CONFIG + " (needs secr)"), "secr_models") \
        == THEME_MISSING["secr_models"]  # another part's status says nothing of this one
    assert theme_missing(view("failed: unexpected error (x)"), "design") \
        == THEME_MISSING["failed"]
    assert theme_missing(view(None), "design") == THEME_MISSING["design"]
    for lang in ("zh", "ru"):  # translated
        _ = translation(lang).gettext
        assert _(THEME_MISSING["left out"]) != THEME_MISSING["left out"], lang
