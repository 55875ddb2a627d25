"""Printed reports: wide tables are wrapped to the A4 page in every language, never cut off.

Chromium cuts whatever lies beyond the page's right edge out of the PDF, so a clipped table
loses its last columns from the PDF's text. The check reads the text back and requires every
cell of the widest tables (photo links: eight columns of IDs; DNA individuals) in each
language.
"""

from __future__ import annotations

import dataclasses
import re

import pandas as pd
import pytest

LANGS = ("en", "zh", "ru")
pytestmark = pytest.mark.slow  # three Chromium prints: about a minute


@pytest.fixture(scope="module")
def printed(toy_inputs, chromium, tmp_path_factory):
    from amurlink.report import build_view, write_report
    from amurlink.report.render import audience_for

    wide = pd.DataFrame({
        "individual": [f"CN-S{i:04d}" for i in range(6)],
        "representative": [f"CN-S{i:04d}" for i in range(6)],
        "n_samples": [3] * 6,
        "samples": [", ".join(f"RU-LLNP-SCAT-{i:04d}-{k}" for k in range(4)) for i in range(6)],
        "sex": ["female"] * 6, "loci_typed": [12] * 6, "pid": [1.2e-9] * 6,
        "pidsib": [3.4e-4] * 6, "ambiguous": ["CN-S9999-LAST-COLUMN"] * 6,
    })
    inputs = dataclasses.replace(toy_inputs, dna={"Individuals from genotypes": wide})
    view = build_view(inputs, audience=audience_for("owner"))
    root = tmp_path_factory.mktemp("printed")
    return {lang: write_report(inputs, root / lang, lang=lang, view=view, pdf=True)
            for lang in LANGS}


def _pdf_words(path) -> str:
    from pypdf import PdfReader

    text = "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("lang", LANGS)
def test_wide_tables_are_not_clipped(printed, lang):
    from pypdf import PdfReader

    files = printed[lang]
    pages = PdfReader(files.pdf).pages
    assert all(abs(float(p.mediabox.width) - 595.9) < 2 for p in pages)  # A4 portrait
    text = _pdf_words(files.pdf)
    for name in ("photo_links", "dna_individuals_matched"):
        csv = pd.read_csv(files.html.parent / "tables" / f"{name}.csv", dtype=str)
        for col in csv.columns:
            for v in csv[col].dropna():
                if re.fullmatch(r"[A-Z]{2}-[\w:\-, ]+", v):  # IDs: shown as written
                    assert re.sub(r"\s+", "", v) in text, (lang, name, col, v)
