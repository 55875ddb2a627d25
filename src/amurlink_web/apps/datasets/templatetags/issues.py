"""Validation issues in the reader's language.

``{{ issue|issue_title }}``: what the issue's code means; ``{{ issue.severity|severity }}``;
``{{ issue|issue_message }}``: where the problem is and what was expected against what was
found, built from the issue's parameters (file, row, field, expected, got) with the message
catalogue; ``{{ issue|issue_fix }}``: how to repair it. In English the library's own sentences
are shown; in other languages the library's English sentence stays available under the
message (``{{ issue|issue_original }}``: empty in English).
"""

from __future__ import annotations

import re

from django import template
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

register = template.Library()

TITLES = {
    "type-error": gettext_lazy("A value has the wrong type"),
    "required": gettext_lazy("A required value is missing"),
    "bad-csv": gettext_lazy("A table cannot be read as CSV"),
    "bad-json": gettext_lazy("A file cannot be read as JSON"),
    "unique": gettext_lazy("A key is used twice"),
    "start-after-end": gettext_lazy("A period ends before it starts"),
    "pattern": gettext_lazy("A value does not have the expected form"),
    "foreign-key": gettext_lazy("A row refers to something that is not in the data"),
    "enum": gettext_lazy("A value is not one of the allowed values"),
    "coordinates": gettext_lazy("Coordinates are missing or out of range"),
    "bbox": gettext_lazy("A bounding box is outside the image"),
    "bad-encoding": gettext_lazy("A file is not in the declared text encoding"),
    "unknown-species": gettext_lazy("A species name is not known"),
    "timezone": gettext_lazy("The time zone is not known"),
    "timestamp-missing": gettext_lazy("A record has no time"),
    "problem-incomplete": gettext_lazy("A camera problem period is incomplete"),
    "problem-before-setup": gettext_lazy("A camera problem starts before the set-up"),
    "problem-after-retrieval": gettext_lazy("A camera problem ends after the retrieval"),
    "out-of-range": gettext_lazy("A value is out of range"),
    "missing-field": gettext_lazy("A column is missing"),
    "missing-optional-field": gettext_lazy("An optional column is missing"),
    "extra-field": gettext_lazy("A column is not part of the standard"),
    "field-order": gettext_lazy("The columns are in another order than declared"),
    "duplicate-header": gettext_lazy("A column name appears twice"),
    "empty-file": gettext_lazy("A file is empty"),
    "media-conflict": gettext_lazy("Two records disagree about one image"),
    "image-failed": gettext_lazy("An image could not be processed"),
    "deployment-from-path": gettext_lazy("The deployment cannot be found from an image path"),
    "camera-not-functioning": gettext_lazy("A camera was not working"),
    "bad-descriptor": gettext_lazy("The package description (datapackage.json) is not valid"),
    "catalogue-missing": gettext_lazy("The catalogue of individual IDs is not named"),
    "clock-shift": gettext_lazy("A camera clock shift is given"),
    "clock-shift-applied": gettext_lazy("A camera clock shift was applied"),
    "coordinates-swapped": gettext_lazy("Latitude and longitude look swapped"),
    "datum-shift-unknown": gettext_lazy("The datum shift of the coordinates is not known"),
    "file-too-large": gettext_lazy("A file is too large"),
    "individual-species": gettext_lazy("An individual is recorded as two species"),
    "missing-column": gettext_lazy("A column is missing"),
    "missing-file": gettext_lazy("A file named in the mapping is missing"),
    "missing-resource": gettext_lazy("A table of the package is missing"),
    "over-budget": gettext_lazy("Reading would need more memory than allowed"),
    "species-not-in-table": gettext_lazy("A species is not in the species table"),
    "timestamp-after-deployment": gettext_lazy("A record is after its camera was retrieved"),
    "timestamp-before-deployment": gettext_lazy("A record is before its camera was set up"),
    "timestamp-in-future": gettext_lazy("A record is in the future"),
    "timestamp-outside-deployment": gettext_lazy("A record is outside its camera's deployment"),
    "timezone-rule-change": gettext_lazy("A camera ran across a change of time-zone rules"),
    "too-deep": gettext_lazy("A file is nested too deeply"),
    "unreadable-file": gettext_lazy("A file cannot be read"),
    "utc-suffix-ignored": gettext_lazy("A time's UTC suffix was ignored"),
    "foreign-deployments": gettext_lazy("Deployments of another country"),
    "not-a-zip": gettext_lazy("The file is not a zip archive"),
    "unreadable": gettext_lazy("The file cannot be read"),
    "unsafe-path": gettext_lazy("A file in the archive points outside it"),
    "zip-bomb": gettext_lazy("A file in the archive is compressed suspiciously much"),
    "too-large": gettext_lazy("The upload is too large to read"),
    "too-many-files": gettext_lazy("The archive holds too many files"),
    "zip-size": gettext_lazy("A file in the archive is larger than the archive says"),
    "zip-damaged": gettext_lazy("The archive is damaged"),
    "no-deployments": gettext_lazy("There are no deployments to add these results to"),
    "upload-kind": gettext_lazy("Unknown kind of upload"),
}
SEVERITIES = {"error": gettext_lazy("error"), "warning": gettext_lazy("warning"),
              "info": gettext_lazy("note")}


@register.filter
def issue_title(issue) -> str:
    code = str((issue or {}).get("code", ""))
    if code in TITLES:
        return str(TITLES[code])
    if code.startswith("no-") or code.startswith("several-"):
        return _("The upload does not hold exactly one file of the kind needed")
    return ""


@register.filter
def severity(value) -> str:
    return str(SEVERITIES.get(str(value), value))


#: What a value should be, as the library words it (``Issue.expected``), in the catalogue.
EXPECTED = {
    "a date": gettext_lazy("a date"),
    "a date-time": gettext_lazy("a date and time"),
    "an ID": gettext_lazy("an ID"),
    "a number": gettext_lazy("a number"),
    "true or false": gettext_lazy("true or false"),
    "both dates": gettext_lazy("both dates"),
    "a count >= 0": gettext_lazy("a count of 0 or more"),
    "one row per deployment": gettext_lazy("one row per deployment"),
    "one row per station (deployment)": gettext_lazy("one row per station (deployment)"),
    "one deployment per image": gettext_lazy("one deployment per image"),
    "a time inside the deployment": gettext_lazy("a time inside the camera's deployment"),
    "a date on or after set-up": gettext_lazy("a date on or after the set-up"),
    "a date on or before retrieval": gettext_lazy("a date on or before the retrieval"),
    "set-up < retrieval": gettext_lazy("set-up before retrieval"),
    "from < to": gettext_lazy("start before end"),
    "start_date < end_date": gettext_lazy("start date before end date"),
    "a position inside the CRS's area": gettext_lazy(
        "a position inside the area of the coordinate system"),
    "e.g. Asia/Vladivostok": gettext_lazy("a time zone such as Asia/Vladivostok"),
    "an IANA name such as Asia/Shanghai or Asia/Vladivostok": gettext_lazy(
        "a time zone such as Asia/Shanghai or Asia/Vladivostok"),
    "e.g. RU or CN": gettext_lazy("a country code such as RU or CN"),
    "Male, Female or Unknown": gettext_lazy("Male, Female or Unknown"),
    "Adult, Juvenile or Unknown": gettext_lazy("Adult, Juvenile or Unknown"),
    "F, M or the missing code": gettext_lazy("F, M or the missing code"),
    "'YYYY-MM-DD HH:MM:SS' (local time)": gettext_lazy(
        "'YYYY-MM-DD HH:MM:SS' (local time)"),
    "'YYYY-MM-DD HH:MM:SS' (local camera time)": gettext_lazy(
        "'YYYY-MM-DD HH:MM:SS' (local camera time)"),
    "a deployment_id listed in deployments.csv": gettext_lazy(
        "a deployment_id listed in deployments.csv"),
    "1/0, Yes/No or TRUE/FALSE": gettext_lazy("1/0, Yes/No or TRUE/FALSE"),
}
#: Worded with a value of the file in it: (pattern, catalogue entry with %(x)s).
EXPECTED_PATTERNS = (
    (re.compile(r"an existing (?P<x>\S+)"), gettext_lazy("an existing %(x)s")),
    (re.compile(r"a station listed in (?P<x>.+)"), gettext_lazy("a station listed in %(x)s")),
    (re.compile(r"one of (?P<x>.+)"), gettext_lazy("one of %(x)s")),
    (re.compile(r"a value in (?P<x>\[.+\])"), gettext_lazy("a value in %(x)s")),
    (re.compile(r"a decimal degree in (?P<x>\[.+\])"),
     gettext_lazy("decimal degrees in %(x)s")),
    (re.compile(r"text in the format (?P<x>.+)"), gettext_lazy("text in the format %(x)s")),
    (re.compile(r"(?P<x>\d+) cells"), gettext_lazy("%(x)s cells")),
    (re.compile(r"a known (?P<x>.+)"), gettext_lazy("a known %(x)s")),
    (re.compile(r"at most (?P<x>\d+) levels"), gettext_lazy("at most %(x)s levels")),
    (re.compile(r"an? (?P<x>string|integer|number|boolean|date|datetime|time|year)"),
     gettext_lazy("a value of type %(x)s")),
)
#: How to repair an issue of each code (the library's advice names the exact column or
#: setting; it stays in the English original below the message).
FIXES = {
    "foreign-key": gettext_lazy(
        "Use an ID that is listed in the table named, or add the missing row there."),
    "type-error": gettext_lazy("Write the value in the form expected."),
    "pattern": gettext_lazy("Write the value in the form expected."),
    "required": gettext_lazy("Fill in the missing value."),
    "missing-field": gettext_lazy("Add the column to the table."),
    "missing-column": gettext_lazy("Add the column to the table, or map it in the mapping."),
    "enum": gettext_lazy("Use one of the allowed values, or map your values in the mapping."),
    "unique": gettext_lazy("Give each row its own ID, or remove the duplicate row."),
    "start-after-end": gettext_lazy("Swap or correct the two dates."),
    "coordinates": gettext_lazy("Correct the coordinates."),
    "coordinates-swapped": gettext_lazy("Check the order of the coordinate columns."),
    "out-of-range": gettext_lazy("Correct the value."),
    "timezone": gettext_lazy("Use a time-zone name such as Asia/Vladivostok."),
    "timestamp-missing": gettext_lazy("Fill in the date and time of the record."),
    "timestamp-after-deployment": gettext_lazy(
        "Check the camera clock and the deployment dates; a clock-shift table corrects it."),
    "timestamp-before-deployment": gettext_lazy(
        "Check the camera clock and the deployment dates; a clock-shift table corrects it."),
    "timestamp-outside-deployment": gettext_lazy(
        "Check the camera clock and the deployment dates; a clock-shift table corrects it."),
    "timestamp-in-future": gettext_lazy(
        "Check the camera clock; a clock-shift table corrects it."),
    "unknown-species": gettext_lazy(
        "Check the spelling of the species name, or map it under [species] in the mapping."),
    "species-not-in-table": gettext_lazy("Add the species to the species table."),
    "bad-csv": gettext_lazy("Save the table as a CSV file (UTF-8) and upload it again."),
    "bad-encoding": gettext_lazy("Save the file as UTF-8 and upload it again."),
    "empty-file": gettext_lazy("Upload the file with its rows."),
    "duplicate-header": gettext_lazy("Rename or remove the repeated column."),
    "missing-file": gettext_lazy("Upload the file named in the mapping with the others."),
    "missing-resource": gettext_lazy("Add the missing table to the package."),
    "unreadable-file": gettext_lazy("Check that the file is a table and upload it again."),
    "problem-incomplete": gettext_lazy("Give the problem period both its dates."),
    "timezone-rule-change": gettext_lazy(
        "Nothing, if the camera clock was not reset; otherwise give a clock shift."),
    "clock-shift-applied": gettext_lazy("Nothing: check that the shift is right."),
    "utc-suffix-ignored": gettext_lazy("Nothing, if the times are the camera's local times."),
    "missing-optional-field": gettext_lazy("Nothing; add the column if you have its values."),
    "extra-field": gettext_lazy("Nothing, if the column is meant to be there."),
}
GENERIC_FIX = gettext_lazy("Correct the file named here and upload it again.")
GENERIC_CHECK = gettext_lazy("Check the value named here; the original message says more.")


def _english() -> bool:
    return (get_language() or "en").split("-")[0] == "en"


def _expected(text: str) -> str:
    text = str(text).strip()
    if text in EXPECTED:
        return str(EXPECTED[text])
    for pattern, wording in EXPECTED_PATTERNS:
        m = pattern.fullmatch(text)
        if m:
            return str(wording) % {"x": m.group("x")}
    return text  # a value of the file (a column name, a code list): the same in every language


@register.filter
def issue_message(issue) -> str:
    """Where the problem is and what was expected, in the reader's language."""
    issue = issue or {}
    if _english():
        return str(issue.get("message") or "")
    where = []
    if issue.get("file"):
        where.append(_("file %(file)s") % {"file": issue["file"]})
    if issue.get("row") not in (None, ""):
        where.append(_("row %(row)s") % {"row": issue["row"]})
    if issue.get("field"):
        where.append(_("column %(field)s") % {"field": issue["field"]})
    expected, got = issue.get("expected"), issue.get("got")
    if expected and got not in (None, ""):
        what = _("expected %(expected)s, found “%(got)s”") % {
            "expected": _expected(expected), "got": got}
    elif expected:
        what = _("expected %(expected)s") % {"expected": _expected(expected)}
    elif got not in (None, ""):
        what = _("found “%(got)s”") % {"got": got}
    else:
        what = issue_title(issue)
    return _("%(where)s: %(what)s") % {"where": _(", ").join(where), "what": what} \
        if where else what


@register.filter
def issue_fix(issue) -> str:
    """How to repair the issue, in the reader's language."""
    issue = issue or {}
    if _english():
        return str(issue.get("fix") or "")
    fix = FIXES.get(str(issue.get("code", "")))
    if fix is not None:
        return str(fix)
    if issue.get("severity") == "error":
        return str(GENERIC_FIX)
    return str(GENERIC_CHECK) if issue.get("fix") else ""


@register.filter
def issue_original(issue) -> str:
    """The library's English sentence, shown under the translated one (empty in English)."""
    return "" if _english() else str((issue or {}).get("message") or "")
