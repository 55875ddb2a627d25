"""``{{ issue|issue_title }}``: what a validation issue's code means, in the reader's language.

The library's messages (with file, row, field, expected and got) stay as written; this adds a
translated headline per code, and translates the severity (``{{ issue.severity|severity }}``).
"""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
