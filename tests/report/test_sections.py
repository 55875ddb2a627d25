"""Report sections: joint-vs-national SECR, camera-trap figures, photo links."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from amurlink.analysis.secr import CaptureHistory
from amurlink.core.protection import Audience
from amurlink.report import build_sections, build_view, render_html
from amurlink.report import displays as D
from amurlink.report._sections import (
    MIN_RECAPTURES,
    recapture_counts,
    too_few_recaptures,
)

from .conftest import photo_link_frames


def _section(sections, key):
    return next(s for s in sections if s.key == key)


def _view(inputs, audience="owner"):
    return build_view(inputs, audience={"owner": Audience.owner(),
                                        "partner": Audience.partner(),
                                        "public": Audience.public()}[audience])


# -- SECR: joint against national ------------------------------------------------------------
def _capthist(animals, traps):
    """One detection per (animal, trap) pair, each on its own occasion."""
    xy = np.column_stack([np.arange(4) * 1000.0, np.zeros(4)])
    return CaptureHistory.from_arrays(xy, animals, np.arange(len(animals)), traps,
                                      detector="count", n_occasions=max(len(animals), 1))


def test_recapture_counts_and_threshold():
    # animal 0: 4 detections at 2 traps; animal 1: 3 detections at 1 trap
    ch = _capthist([0, 0, 0, 0, 1, 1, 1], [0, 1, 1, 0, 2, 2, 2])
    c = recapture_counts(ch)
    assert c == {"animals": 2, "recaptures": 5, "spatial_recaptures": 1}
    assert MIN_RECAPTURES == 5 and not too_few_recaptures(c)
    assert too_few_recaptures(c | {"recaptures": 4})
    assert too_few_recaptures(c | {"spatial_recaptures": 0})
    assert too_few_recaptures({"animals": 1, "recaptures": 9, "spatial_recaptures": 1})


class _Fit:
    """A fitted SECR result as the report reads it (predict(), D per hectare, sigma in m)."""

    def __init__(self, d_per_ha, sigma_m):
        self._p = pd.DataFrame({"estimate": [d_per_ha, sigma_m],
                                "se": [d_per_ha / 5, sigma_m / 20],
                                "lcl": [d_per_ha * 0.6, sigma_m * 0.9],
                                "ucl": [d_per_ha * 1.6, sigma_m * 1.1]},
                               index=pd.Index(["D", "sigma"], name="parameter"))

    def predict(self):
        return self._p


@dataclass
class _JointNational:
    """Stand-in of ``JointNationalResult`` with the attributes the report uses."""

    joint: Any
    national: dict
    capthists: dict
    rows: list = field(default_factory=list)

    def table(self, kind="E.N"):
        assert kind == "E.N"
        return pd.DataFrame(self.rows)


def _jn(weak_country=None):
    good = _capthist([0, 0, 0, 0, 1, 1, 1], [0, 1, 1, 0, 2, 2, 2])
    weak = _capthist([0, 1], [0, 1])  # no recapture at all
    chs = {"joint": good, "CN": good, "RU": good}
    if weak_country:
        chs[weak_country] = weak
    rows = [
        {"region": "CN", "joint_N": 12.0, "joint_lcl": 8.0, "joint_ucl": 18.0,
         "national_N": 10.0, "national_lcl": 6.0, "national_ucl": 16.0, "difference": -2.0},
        {"region": "RU", "joint_N": 13.0, "joint_lcl": 9.0, "joint_ucl": 19.0,
         "national_N": 15.0, "national_lcl": 10.0, "national_ucl": 22.0, "difference": 2.0},
        {"region": "national sum", "joint_N": 25.0, "joint_lcl": 18.0, "joint_ucl": 34.0,
         "national_N": 25.0, "national_lcl": 16.0, "national_ucl": 34.0, "difference": 0.0},
    ]
    return _JointNational(joint=_Fit(3e-5, 5000.0),
                          national={"CN": _Fit(2e-5, 4000.0), "RU": _Fit(4e-5, 6000.0)},
                          capthists=chs, rows=rows)


def test_secr_section_shows_joint_and_national_side_by_side(toy_inputs):
    inputs = replace(toy_inputs, secr={"Panthera pardus": _jn()})
    sec = _section(build_sections(_view(inputs)), "secr")
    assert sec.missing is None
    dens = next(t for t in sec.tables if t.name == "secr_density").frame
    assert list(dens["fit"]) == ["joint", "CN", "RU"]
    # density per 100 km2 from per-hectare estimates; limits kept
    assert dens["D"].tolist() == pytest.approx([0.3, 0.2, 0.4])
    assert dens["D_lcl"].tolist() == pytest.approx([0.18, 0.12, 0.24])
    assert dens["sigma_km"].tolist() == pytest.approx([5.0, 4.0, 6.0])
    ab = next(t for t in sec.tables if t.name == "secr_abundance").frame
    assert list(ab["region"]) == ["CN", "RU", "national sum"]
    assert ab["national_N"].tolist() == [10.0, 15.0, 25.0]
    html = render_html(_view(inputs), build_sections(_view(inputs)), lang="en")
    for words in ("Joint (both countries)", "China alone", "Russia alone",
                  "Both countries (sum of the national fits)", "Animals, joint fit",
                  "Animals, national fit", "Density per 100 km²"):
        assert words in html


def test_a_national_fit_with_too_few_recaptures_is_shown_without_estimates(toy_inputs):
    inputs = replace(toy_inputs, secr={"Panthera pardus": _jn(weak_country="CN")})
    sec = _section(build_sections(_view(inputs)), "secr")
    dens = next(t for t in sec.tables if t.name == "secr_density").frame.set_index("fit")
    assert np.isnan(dens.loc["CN", "D"]) and np.isfinite(dens.loc["RU", "D"])
    ab = next(t for t in sec.tables if t.name == "secr_abundance").frame.set_index("region")
    assert np.isnan(ab.loc["CN", "national_N"]) and np.isnan(ab.loc["national sum",
                                                                    "national_N"])
    assert ab.loc["RU", "national_N"] == 15.0 and ab.loc["CN", "joint_N"] == 12.0
    assert "Too few recaptures" in sec.note


@pytest.mark.parametrize("lang, words", [("en", "too few recaptures to fit"),
                                         ("zh", "重捕获次数过少"), ("ru", "слишком мало")])
def test_a_species_with_too_few_recaptures_is_stated_plainly(toy_inputs, lang, words):
    skipped = pd.DataFrame([{"scientificName": "Panthera tigris", "animals": 2,
                             "recaptures": 1, "spatial_recaptures": 0,
                             "reason": "too-few-recaptures"}])
    inputs = replace(toy_inputs, secr={"Panthera pardus": _jn()}, secr_not_fitted=skipped)
    view = _view(inputs)
    html = render_html(view, build_sections(view), lang=lang)
    body = html[html.index('<section id="secr">'):]
    body = body[:body.index("</section>")]
    assert words in body
    assert 'data-name="secr_not_fitted"' in body
    assert "Panthera tigris" in body


def test_secr_missing_without_fits(toy_inputs):
    sec = _section(build_sections(_view(toy_inputs)), "secr")
    assert sec.missing and not sec.tables


# -- camera-trap section -----------------------------------------------------------------------
def test_camtrap_section_has_the_three_figures_and_overlap(toy_inputs):
    sec = _section(build_sections(_view(toy_inputs)), "camtrap")
    kinds = [type(f).__name__ for f in sec.figures]
    assert kinds == ["EffortCalendarDisplay", "RelativeAbundanceMapDisplay",
                     "RelativeAbundanceMapDisplay", "ActivityDisplay"]
    ov = next(t for t in sec.tables if t.name == "camtrap_activity_overlap").frame
    assert set(ov["speciesB"]) == {"Panthera pardus", "Capreolus pygargus"}
    assert ((ov["overlap"] > 0) & (ov["overlap"] <= 1)).all()
    # the toy has 4 tiger and 4 leopard events: Dhat1 (fewer than 50) is the one shown
    assert (ov["estimator"] == "Dhat1").all() and (ov["overlap"] == ov["Dhat1"]).all()
    eff = sec.figures[0].effort
    assert set(eff["country"]) == {"CN", "RU"}
    camop_days = toy_inputs.camtrap["effort_weekly"].groupby("countryCode")["trapDays"].sum()
    assert (camop_days > 0).all()


@pytest.mark.parametrize("audience", ["owner", "partner"])
def test_relative_abundance_maps_use_only_protected_positions(toy_inputs, audience):
    view = _view(toy_inputs, audience)
    sec = _section(build_sections(view), "camtrap")
    maps = [f for f in sec.figures if isinstance(f, D.RelativeAbundanceMapDisplay)]
    assert {m.species for m in maps} == {"Panthera tigris", "Panthera pardus"}
    st = view.stations.set_index("deploymentID")
    shown = {(round(x, 3), round(y, 3)) for x, y in zip(st["x"], st["y"], strict=True)}
    rai = toy_inputs.camtrap["station_rai"]
    for m in maps:
        assert len(m.points) == (rai["Species"] == m.species).sum()
        assert {(round(x, 3), round(y, 3)) for x, y in
                zip(m.points["x"], m.points["y"], strict=True)} <= shown
    if audience == "partner":  # generalised: no exact position reaches the figure
        exact = _view(toy_inputs, "owner").stations
        ex = set(zip(exact["x"].round(3), exact["y"].round(3), strict=True))
        for m in maps:
            assert not ex & set(zip(m.points["x"].round(3), m.points["y"].round(3),
                                    strict=True))


def test_public_gets_no_relative_abundance_map(toy_inputs):
    view = _view(toy_inputs, "public")
    sec = _section(build_sections(view), "camtrap")
    assert not any(isinstance(f, D.RelativeAbundanceMapDisplay) for f in sec.figures)
    assert any(isinstance(f, D.ActivityDisplay) for f in sec.figures)
    assert sec.note == ("Stations whose location is withheld from this audience are left "
                        "out of the relative abundance maps.")


def test_camtrap_tables_with_coordinates_are_refused(toy_inputs):
    cam = dict(toy_inputs.camtrap)
    cam["station_rai"] = cam["station_rai"].assign(latitude=43.0, longitude=131.0)
    view = _view(replace(toy_inputs, camtrap=cam))
    with pytest.raises(ValueError, match="coordinate columns"):
        build_sections(view)


@pytest.mark.parametrize("lang, title", [("en", "Camera-trap effort by week"),
                                         ("zh", "每周红外相机调查努力量"),
                                         ("ru", "Усилие фотоловушек по неделям")])
def test_camtrap_figures_are_svg_with_translated_text(reports, lang, title):
    html = reports["owner", lang].html.read_text(encoding="utf-8")
    body = html[html.index('<section id="camtrap">'):]
    body = body[:body.index("</section>")]
    assert body.count("<svg ") == 4
    texts = re.findall(r"<text[^>]*>([^<]+)</text>", body)
    assert title in " ".join(texts)
    assert re.search(r'data-name="camtrap_activity_overlap"', body)


# -- photo links against the expert crosswalk --------------------------------------------------
def test_photo_link_section_renders_both_tables(toy_inputs):
    view = _view(toy_inputs)
    sec = _section(build_sections(view), "photo_links")
    assert sec.missing is None
    assert [t.name for t in sec.tables] == ["photo_links", "photo_links_by_species"]
    html = render_html(view, [sec], lang="en")
    assert "Automatic photo links against the expert crosswalk" in html
    for outcome in ("agreement", "miss", "false proposal"):
        assert f"<td>{outcome}</td>" in html
    assert "CN-NTLNP:L07" in html and "RU-LLNP:T-2" in html
    zh = render_html(view, [sec], lang="zh")
    assert "<td>错误提议</td>" in zh and "<td>一致</td>" in zh


def test_photo_link_truth_unknown_is_shown_as_a_dash(toy_inputs):
    sec = _section(build_sections(_view(toy_inputs)), "photo_links")
    rows = sec.tables[0].to_html(lambda s: s).split("<tr>")[2:]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in rows]
    # columns: species, China ID, Russia ID, score, photo, crosswalk, truth, outcome
    assert [c[4:] for c in cells] == [["yes", "yes", "yes", "agreement"],
                                      ["no", "yes", "yes", "miss"],
                                      ["no", "no", "yes", "found by neither"],
                                      ["yes", "no", "–", "false proposal"]]
    by_species = sec.tables[1].frame
    assert list(by_species["scientificName"]) == ["Panthera tigris", "Panthera pardus"]


def test_photo_link_section_says_when_there_are_none(toy_inputs):
    empty = {k: v.iloc[0:0] for k, v in photo_link_frames().items()}
    sec = _section(build_sections(_view(replace(toy_inputs, photo_links=empty))),
                   "photo_links")
    assert sec.missing == ("there are no automatic photo links and no crosswalk links to "
                           "compare")
    sec = _section(build_sections(_view(replace(toy_inputs, photo_links=None))),
                   "photo_links")
    assert sec.missing == "no comparison of automatic photo links was given to the report"


def test_photo_link_section_without_photo_proposals_says_so(toy_inputs):
    frames = photo_link_frames()
    frames["pairs"] = frames["pairs"].assign(in_photo=False, outcome="miss")
    sec = _section(build_sections(_view(replace(toy_inputs, photo_links=frames))),
                   "photo_links")
    assert sec.note == "Automatic photo re-identification proposed no cross-border link."


def test_camtrap_tables_agree_with_each_other(toy_inputs):
    cam = toy_inputs.camtrap
    by_country = cam["relative_abundance"]
    by_station = cam["station_rai"]
    for sp in ("Panthera tigris", "Panthera pardus"):
        assert by_station.loc[by_station["Species"] == sp, "events"].sum() == \
            by_country.loc[by_country["Species"] == sp, "events"].sum()
    # the weekly calendar holds every trap-day of the camera operation matrix
    weekly = cam["effort_weekly"].groupby("countryCode")["trapDays"].sum()
    td = by_country.drop_duplicates("countryCode").set_index("countryCode")["trapDays"]
    assert weekly.sort_index().to_numpy() == pytest.approx(td.sort_index().to_numpy())
    # activity densities are per hour over the 24 h clock: each integrates to 1
    for _sp, g in cam["activity_curves"].groupby("Species"):
        assert np.trapezoid(g["density"], g["hour"]) == pytest.approx(1.0, abs=1e-3)


def test_a_link_refused_for_a_conflict_is_listed_with_its_records(toy_inputs):
    import dataclasses

    import pandas as pd

    from amurlink.report import build_sections, build_view
    from amurlink.report.render import audience_for

    ds = toy_inputs.dataset
    log = ds.get("identityLinks")
    row = log.iloc[[0]].copy()
    row["linkEventID"] = "L9"
    row["subjectA"], row["subjectB"] = "CN-NTLNP:L01", "RU-LLNP:L-7"
    row["method"], row["status"] = "expert", "proposed"
    row["reason"] = ("expert crosswalk; not confirmed: cannot confirm CN-NTLNP:L01 = RU-LLNP:L-7 "
                     "(1 conflict(s)): seen 8.3 km apart within 6 min (record o1: ..., "
                     "record o2: ...)")
    row["timestamp"] = pd.Timestamp("2015-01-01T00:00:00Z")
    inputs = dataclasses.replace(
        toy_inputs, dataset=ds.replace(identityLinks=pd.concat([log, row], ignore_index=True)))
    tables = {}
    for aud in ("owner", "partner"):
        secs = build_sections(build_view(inputs, audience=audience_for(aud)))
        tables[aud] = {t.name: t for s in secs for t in s.tables}
    t = tables["owner"]["links_not_confirmed"].frame
    hit = t[t["subjectA"] == "CN-NTLNP:L01"].iloc[0]
    assert hit["why"] == "conflict" and "record o1" in hit["detail"]
    assert "detail" not in tables["partner"]["links_not_confirmed"].frame
