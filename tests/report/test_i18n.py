"""Catalogs: complete, not fuzzy, compiled; reports in Chinese and Russian are in those scripts."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from amurlink.report._i18n import LOCALE_DIR
from amurlink.report._msgfmt import compile_mo, extract_msgids, parse_po

LANGS = ("zh", "ru")


def _po(lang):
    return LOCALE_DIR / lang / "LC_MESSAGES" / "amurlink.po"


@pytest.mark.parametrize("lang", LANGS)
def test_catalog_has_no_untranslated_or_fuzzy_entries(lang):
    entries = parse_po(_po(lang))
    assert entries[0].msgid == "" and "charset=UTF-8" in entries[0].msgstr
    untranslated = [e.msgid for e in entries[1:] if not e.msgstr.strip()]
    fuzzy = [e.msgid for e in entries if e.fuzzy]
    assert not untranslated, f"untranslated in {lang}: {untranslated}"
    assert not fuzzy, f"fuzzy in {lang}: {fuzzy}"


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_used_is_in_the_catalog(lang):
    used = extract_msgids()
    assert len(used) > 50
    have = {e.msgid for e in parse_po(_po(lang))}
    missing = {m: where for m, where in used.items() if m not in have}
    assert not missing, f"add to {_po(lang)}: {missing}"


@pytest.mark.parametrize("lang", LANGS)
def test_compiled_catalog_matches_its_source(lang):
    mo = _po(lang).with_suffix(".mo")
    assert mo.read_bytes() == compile_mo(parse_po(_po(lang))), (
        "stale .mo: run `python -m amurlink.report._msgfmt`")


def test_fuzzy_entries_are_detected(tmp_path):
    po = tmp_path / "x.po"
    po.write_text('msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
                  '#, fuzzy\nmsgid "Border"\nmsgstr "Граница"\n\nmsgid "Year"\nmsgstr ""\n',
                  encoding="utf-8")
    entries = parse_po(po)
    assert [e.fuzzy for e in entries] == [False, True, False]
    assert entries[2].msgstr == ""


# -- the rendered reports ----------------------------------------------------------------------
class _Text(HTMLParser):
    """Visible text, leaving out data values (IDs, Latin names, code), styles and scripts."""

    SKIP_CLASSES = {"id", "latin"}

    def __init__(self):
        super().__init__()
        self.stack: list[bool] = []
        self.chunks: list[str] = []

    def handle_starttag(self, tag, attrs):
        classes = set((dict(attrs).get("class") or "").split())
        skip = tag in ("style", "script", "code", "title", "time") or bool(
            classes & self.SKIP_CLASSES)
        if tag in ("meta", "br", "hr", "img", "input", "link", "use", "path", "stop"):
            return
        self.stack.append(skip or (bool(self.stack) and self.stack[-1]))

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if tag in ("meta", "br", "hr", "img", "input", "link", "use", "path", "stop"):
            return
        if self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]) and data.strip():
            self.chunks.append(data.strip())


# Words that may stay in Latin letters: units, acronyms, file formats, the program's name,
# and the scientific names and IDs shown in data cells.
_ALLOWED = {"km", "km²", "m", "SECR", "DNA", "CSV", "GeoPackage", "Noto", "Sans", "CJK",
            "amurlink", "D", "sigma", "CN", "RU", "Panthera", "tigris", "pardus", "altaica",
            "orientalis", "Capreolus", "pygargus"}
#: Joint IDs (J-0123456789), namespaced national IDs (CN-NTLNP:T01), deployment IDs (CN-A1).
_IDS = re.compile(r"J-[0-9a-f]{10}|[A-Z]{2}-[A-Za-z0-9_]+:\S+|[A-Z]{2}-[A-Z0-9]+")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z\-²]*")
_SCRIPT = {"zh": re.compile(r"[\u4e00-\u9fff]"), "ru": re.compile(r"[\u0400-\u04ff]")}


def _visible_text(html: str) -> list[str]:
    p = _Text()
    p.feed(html)
    return p.chunks


@pytest.mark.parametrize("lang", LANGS)
def test_report_text_is_in_the_language_outside_ids_names_and_units(reports, lang):
    html = reports["partner", lang].html.read_text(encoding="utf-8")
    chunks = _visible_text(html)
    assert chunks
    stray = sorted({w for c in chunks for w in _LATIN_WORD.findall(_IDS.sub(" ", c))
                    if w not in _ALLOWED})
    assert not stray, f"untranslated words in the {lang} report: {stray}"
    script = _SCRIPT[lang]
    wordy = [c for c in chunks if re.search(r"[^\W\d_]", _IDS.sub(" ", c))]
    in_script = [c for c in wordy if script.search(c)]
    assert len(in_script) / len(wordy) > 0.9
    # SVG figures carry translated text as text
    svg_text = re.findall(r"<text[^>]*>([^<]+)</text>", html)
    assert any(script.search(t) for t in svg_text)
    assert f'lang="{"zh-Hans" if lang == "zh" else "ru"}"' in html


def test_english_report_has_no_cjk_or_cyrillic(reports):
    html = reports["partner", "en"].html.read_text(encoding="utf-8")
    text = " ".join(_visible_text(html))
    assert not _SCRIPT["ru"].search(text)
    # species common names in the header list come from amurlink.toml per language
    assert not _SCRIPT["zh"].search(text.replace("\u864e", ""))


# -- DNA and photo sections, as amurlink run fills them ---------------------------------------
def _dna_frames():
    import pandas as pd

    return {
        "Genotype matching": pd.DataFrame([{
            "samples": 250, "individuals": 165, "mismatch_allowance": 4, "profile": "no-dip",
            "PID": 9.4e-13, "PIDsib": 1.7e-05, "ambiguous_samples": 1}]),
        "Samples by lab": pd.DataFrame({"lab": ["cn_lab", "ru_lab"], "samples": [80, 170],
                                        "individuals": [67, 101]}),
        "Individuals from genotypes": pd.DataFrame({
            "individual": ["CN-S0001"], "representative": ["CN-S0001"], "n_samples": [2],
            "samples": ["CN-S0001, RU-S0004"], "sex": ["male"], "loci_typed": [9],
            "pid": [5.9e-05], "pidsib": [0.023], "ambiguous": [None]}),
        "Lab offsets (bp) from reference samples": pd.DataFrame({
            "lab": ["cn_lab"], "locus": ["FCA005"], "n_pairs": [42], "n_alleles": [84],
            "offset": [-2.0], "max_abs_residual": [0.0], "share_within_tolerance": [1.0],
            "consistent": [True]}),
    }


@pytest.fixture(scope="module")
def dna_reports(toy_inputs, tmp_path_factory):
    import dataclasses

    from amurlink.report import build_view, write_report
    from amurlink.report.render import audience_for

    inputs = dataclasses.replace(toy_inputs, dna=_dna_frames())
    root = tmp_path_factory.mktemp("dna-reports")
    view = build_view(inputs, audience=audience_for("owner"))
    return {lang: write_report(inputs, root / lang, lang=lang, view=view) for lang in LANGS}


@pytest.mark.parametrize("lang", LANGS)
def test_dna_and_photo_sections_are_translated(dna_reports, lang):
    html = dna_reports[lang].html.read_text(encoding="utf-8")
    for name in ("dna_matching", "dna_by_lab", "dna_individuals_matched", "dna_lab_offsets",
                 "photo_links", "photo_links_by_species"):
        m = re.search(rf'<table class="data" data-name="{name}">.*?</table>', html, re.S)
        assert m, name
        # numbers in scientific notation (9.39e-13) are numbers, not words
        chunks = [re.sub(r"\d(?:\.\d+)?e[-+]?\d+", " ", c)
                  for c in _visible_text(m.group(0))]
        stray = sorted({w for c in chunks for w in _LATIN_WORD.findall(_IDS.sub(" ", c))
                        if w not in _ALLOWED | {"PID", "PIDsib", "bp"}})
        assert not stray, f"untranslated words in {name} ({lang}): {stray}"


@pytest.mark.parametrize("lang", LANGS)
def test_missing_border_is_said_in_the_language(toy_inputs, tmp_path, lang):
    import dataclasses

    from amurlink.report import write_report

    inputs = dataclasses.replace(toy_inputs, border=None, camtrap=None, missing={
        "border": "no border file next to /data/joint",
        "camtrap": "camera-trap analyses failed: /data/joint/deployments.csv row 3"})
    html = write_report(inputs, tmp_path / lang, lang=lang).html.read_text(encoding="utf-8")
    notes = re.findall(r'<p class="missing">(.*?)</p>', html, re.S)
    assert notes and all(_SCRIPT[lang].search(n) for n in notes)
    assert "/data/joint" not in html
