"""Entering incidents and disease tests (contributors of a park), audited like other data.

Every row is checked by the library's table parser against the same schema as an imported
CSV (:mod:`amurlink.incidents.tables`): a bad value is refused with the field it concerns.
A claimant's name, phone and address go to the owner-only :class:`Claimant` row; the audit
entry says that a claimant was recorded, never who.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest

from amurlink.incidents.tables import DISEASE_TESTS, INCIDENTS
from amurlink.io._parse import TableParser
from amurlink_web.apps.core.audit import owners_text
from amurlink_web.apps.core.services import ApplicationError, audit_record
from amurlink_web.apps.incidents.models import (
    INCIDENT_COLUMNS,
    TEST_COLUMNS,
    Claimant,
    DiseaseTest,
    Incident,
)
from amurlink_web.apps.organisations.models import Organisation, Role
from amurlink_web.apps.organisations.selectors import user_has_role


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):  # a day (compensation paid): midnight UTC
        return f"{value.isoformat()}T00:00:00Z"
    return str(value)


def _check(schema: Any, columns: dict[str, str], values: dict[str, Any], country: str) -> None:
    """Parse the row as the library parses a CSV of the table; ApplicationError naming the
    form fields (``extra["fields"]``) on any error."""
    row = {columns[k]: _cell(v) for k, v in values.items() if k in columns}
    row["countryCode"] = country
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(schema.field_names), lineterminator="\n")
    writer.writeheader()
    writer.writerow({f: row.get(f, "") for f in schema.field_names})
    parsed = TableParser(schema, "form").read(buf.getvalue().encode("utf-8"))
    errors = [i for i in parsed.issues if i.severity == "error"]
    if errors:
        back = {v: k for k, v in columns.items()}
        fields: dict[str, str] = {}
        for issue in errors:
            name = back.get(getattr(issue, "field", None) or "", "")
            fields.setdefault(name, issue.message.replace(" in row 2", ""))
        raise ApplicationError("; ".join(fields.values()), extra={"fields": fields})


def _require_park_contributor(organisation: Organisation, by: Any) -> None:
    if organisation.kind != Organisation.Kind.PARK:
        raise ApplicationError("incident books belong to a national park", status=403)
    if by is not None and not user_has_role(user=by, organisation=organisation,
                                            role=Role.CONTRIBUTOR):
        raise ApplicationError("entering incidents needs the contributor role", status=403)


def _next_id(model: Any, field: str, organisation: Organisation, kind: str) -> str:
    n = model.objects.filter(owner=organisation).count() + 1
    while True:
        candidate = f"{organisation.country}-{kind}-{n:05d}"
        if not model.objects.filter(owner=organisation, **{field: candidate}).exists():
            return candidate
        n += 1


def _write_audit(*, request: HttpRequest | None, by: Any, target: str,
                 organisation: Organisation, detail: dict[str, Any]) -> None:
    audit_record(request=request, user=by, action="create", target=target, detail=detail,
                 owners=owners_text([organisation.pk]), level="", agreement="")


@transaction.atomic
def incident_create(*, organisation: Organisation, values: dict[str, Any],
                    claimant: dict[str, Any] | None = None, by: Any = None,
                    request: HttpRequest | None = None) -> Incident:
    """Add one incident (and its claimant, if any) to the park's books.

    Raises
    ------
    ApplicationError
        403 for a non-park or a reader below contributor; 400 for a value the table's
        schema refuses (``extra["fields"]`` names the form fields); 409 for a taken ID.
    """
    _require_park_contributor(organisation, by)
    values = {k: v for k, v in values.items() if k in INCIDENT_COLUMNS}
    if not values.get("incident_id"):
        values["incident_id"] = _next_id(Incident, "incident_id", organisation, "INC")
    _check(INCIDENTS, INCIDENT_COLUMNS, values, organisation.country)
    if values.get("compensation_amount") is not None and not values.get(
            "compensation_currency"):
        raise ApplicationError("a compensation amount needs its currency (CNY, RUB)",
                               extra={"fields": {"compensation_currency": "required"}})
    name = (claimant or {}).get("name") or ""
    if claimant and not name and any((claimant.get(k) or "") for k in ("phone", "address")):
        raise ApplicationError("a claimant's phone or address needs the claimant's name",
                               extra={"fields": {"claimant_name": "required"}})
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                owner=organisation, created_by=by if getattr(by, "is_authenticated", False)
                else None, **{k: ("" if v is None and k in _TEXT_INCIDENT else v)
                              for k, v in values.items()})
    except IntegrityError:
        raise ApplicationError(f"incident {values['incident_id']} is already in the books",
                               status=409,
                               extra={"fields": {"incident_id": "already used"}}) from None
    if name:
        Claimant.objects.create(incident=incident, claim_id=f"{incident.incident_id}-C",
                                name=name, phone=claimant.get("phone") or "",
                                address=claimant.get("address") or "")
    _write_audit(request=request, by=by, target=f"incident:{organisation.slug}:"
                 f"{incident.incident_id}", organisation=organisation,
                 detail={"incidentID": incident.incident_id, "category": incident.category,
                         "claimant": bool(name)})
    return incident


@transaction.atomic
def disease_test_create(*, organisation: Organisation, values: dict[str, Any], by: Any = None,
                        request: HttpRequest | None = None) -> DiseaseTest:
    """Add one disease test to the park's books (errors as :func:`incident_create`)."""
    _require_park_contributor(organisation, by)
    values = {k: v for k, v in values.items() if k in TEST_COLUMNS}
    if not values.get("test_id"):
        values["test_id"] = _next_id(DiseaseTest, "test_id", organisation, "TEST")
    _check(DISEASE_TESTS, TEST_COLUMNS, values, organisation.country)
    try:
        with transaction.atomic():
            test = DiseaseTest.objects.create(
                owner=organisation, created_by=by if getattr(by, "is_authenticated", False)
                else None, **{k: ("" if v is None and k in _TEXT_TEST else v)
                              for k, v in values.items()})
    except IntegrityError:
        raise ApplicationError(f"test {values['test_id']} is already in the books", status=409,
                               extra={"fields": {"test_id": "already used"}}) from None
    _write_audit(request=request, by=by, target=f"disease-test:{organisation.slug}:"
                 f"{test.test_id}", organisation=organisation,
                 detail={"testID": test.test_id, "pathogen": test.pathogen,
                         "result": test.result})
    return test


_TEXT_INCIDENT = {f.name for f in Incident._meta.get_fields()
                  if getattr(f, "get_internal_type", lambda: "")() in ("CharField", "TextField")}
_TEXT_TEST = {f.name for f in DiseaseTest._meta.get_fields()
              if getattr(f, "get_internal_type", lambda: "")() in ("CharField", "TextField")}
