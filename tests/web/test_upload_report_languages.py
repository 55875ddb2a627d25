"""An upload report's validation issues in the reader's language: in zh and ru, where the
problem is (file, row, column), what was expected against what was found and how to fix it
come from the message catalogue; the library's English sentence is folded under them. In
English the library's sentences are shown as they are."""

from __future__ import annotations

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from amurlink_web.apps.datasets.models import Upload
from amurlink_web.apps.datasets.templatetags.issues import issue_fix, issue_message
from amurlink_web.apps.organisations.services import profile_set_language
from amurlink_web.testing import BaseTestCase

from .test_browser import untranslated
from .test_upload_kinds import MAPPING, RECORDS, STATIONS

pytestmark = pytest.mark.web

FAULTY = RECORDS + "S9,2014-09-08 05:00:00,Тигр\nS1,yesterday,Тигр\nS2,,Тигр\n"


def cells(page: str, cls: str) -> list[str]:
    found = re.findall(rf'<td class="{cls}">(.*?)</td>', page, flags=re.S)
    # the visible text: the English original under <details> is folded away
    return [html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<details.*?</details>", "", c,
                                                          flags=re.S))).strip() for c in found]


class UploadReportLanguagesTest(BaseTestCase):
    def setUp(self):
        files = [SimpleUploadedFile(n, b.encode()) for n, b in (
            ("ru.mapping.toml", MAPPING), ("st.csv", STATIONS), ("rec.csv", FAULTY))]
        self.client_for("partner").post("/orgs/llnp/upload/", {"kind": "mapping",
                                                               "files": files})
        self.upload = Upload.objects.latest("id")
        self.assertEqual(self.upload.status, "rejected")
        self.errors = [i for i in self.upload.issues if i["severity"] == "error"]
        self.assertEqual({i["code"] for i in self.errors},
                         {"foreign-key", "type-error", "required"})

    def page(self, lang: str) -> str:
        profile_set_language(user=self.users["partner"], language=lang)
        return self.client_for("partner").get(f"/uploads/{self.upload.pk}/").content.decode()

    def test_english_shows_the_librarys_sentences(self):
        page = self.page("en")
        shown = cells(page, "issue-message")
        self.assertEqual(shown, [i["message"] for i in self.upload.issues])
        self.assertNotIn("Original message (English)", page)

    def test_chinese_and_russian_say_where_and_what_in_their_language(self):
        words = {"zh-hans": ("第 4 行", "列 S", "st.csv 中列出的站点", "“S9”", "应为日期和时间"),
                 "ru": ("строка 4", "столбец S", "станция из st.csv", "«S9»",
                        "ожидалось: дата и время")}
        for lang, expected in words.items():
            with self.subTest(lang=lang):
                page = self.page(lang)
                shown = cells(page, "issue-message")
                self.assertEqual(len(shown), len(self.upload.issues))
                for issue, text in zip(self.upload.issues, shown, strict=True):
                    self.assertNotIn(issue["message"], text)
                    self.assertIn(issue["file"], text)
                    self.assertIn(str(issue["row"]), text)
                joined = "\n".join(shown)
                for w in expected:
                    self.assertIn(w, joined)
                fixes = cells(page, "issue-fix")
                self.assertTrue(all(fixes), fixes)
                self.assertTrue(all(not re.search(r"[A-Za-z]{4,}", f) for f in fixes), fixes)
                # the English original is still there for whoever needs it
                self.assertIn(html.escape(self.errors[0]["message"], quote=True), page)
                text = re.sub(r"<details.*?</details>", " ", page, flags=re.S)
                text = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(
                    r"<(script|style)\b.*?</\1>", " ", text, flags=re.S)))
                self.assertEqual(untranslated(text, lang), [])

    def test_an_unknown_expected_wording_and_code_still_read_in_the_language(self):
        from django.utils import translation

        issue = {"code": "no-such-code", "severity": "error", "message": "m", "file": "a.csv",
                 "row": 7, "field": "Q", "expected": "something the catalogue lacks",
                 "got": "x", "fix": "do this"}
        with translation.override("ru"):
            self.assertEqual(issue_message(issue), "файл a.csv, строка 7, столбец Q: "
                             "ожидалось: something the catalogue lacks, найдено: «x»")
            self.assertEqual(issue_fix(issue),
                             "Исправьте названный здесь файл и загрузите его снова.")
        with translation.override("en"):
            self.assertEqual((issue_message(issue), issue_fix(issue)), ("m", "do this"))
