"""Who may read a park's incident books, and what they see of them.

A member of the park (any role) reads its books as their owner; a member of an organisation
the park shares with (an active sharing agreement) reads them as that agreement's recipient;
anyone else reads them as the public when the park publishes at least one dataset, and not at
all otherwise. What each reader sees comes from
:func:`amurlink.incidents.protect.release_incidents` (the incident tables' protect-then-scope
gate, with the study's ``[protection]``): points generalised like the stations of the species
involved, patrol data and claimants never for partners or the public, free text cleared.
Nothing here protects by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from django.http import Http404

from amurlink.core.protection import Audience, ProtectionPolicy
from amurlink.incidents.protect import incident_levels, release_incidents
from amurlink.incidents.tables import CLAIMANTS, DISEASE_TESTS, INCIDENTS
from amurlink_web.apps.datasets.models import Dataset
from amurlink_web.apps.datasets.selectors import frame_records, study_policy
from amurlink_web.apps.incidents.models import (
    CLAIMANT_COLUMNS,
    INCIDENT_COLUMNS,
    TEST_COLUMNS,
    Claimant,
    DiseaseTest,
    Incident,
)
from amurlink_web.apps.organisations.models import Membership, Organisation
from amurlink_web.apps.organisations.selectors import membership_get, membership_list
from amurlink_web.apps.sharing.models import SharingAgreement
from amurlink_web.apps.sharing.scope import agreement_terms
from amurlink_web.apps.sharing.selectors import _LEVEL_RANK


@dataclass(frozen=True)
class IncidentAccess:
    """How one reader relates to one park's incident books."""

    kind: Literal["owner", "partner", "public"]
    organisation: Organisation
    membership: Membership | None = None
    agreement: SharingAgreement | None = None

    @property
    def audience(self) -> Audience:
        if self.kind == "owner":
            return Audience.owner(country=self.organisation.country)
        if self.kind == "partner":
            assert self.agreement is not None
            return agreement_terms(self.agreement).audience
        return Audience.public()


def incident_access(*, organisation: Organisation, fetched_by) -> IncidentAccess | None:
    """Owner (a member), partner (an active agreement to one of the reader's organisations,
    the most precise one), public (the park publishes a dataset), or None."""
    member = membership_get(user=fetched_by, organisation=organisation)
    if member is not None:
        return IncidentAccess("owner", organisation, membership=member)
    mine = [m.organisation_id for m in membership_list(user=fetched_by)]
    agreements = list(SharingAgreement.objects.filter(
        provider=organisation, recipient_id__in=mine, active=True)
        .select_related("provider", "recipient"))
    if agreements:
        best = min(agreements, key=lambda a: (_LEVEL_RANK[a.level], a.pk))
        return IncidentAccess("partner", organisation, agreement=best)
    if Dataset.objects.filter(owner=organisation, is_public=True).exists():
        return IncidentAccess("public", organisation)
    return None


def park_get(*, slug: str, fetched_by) -> tuple[Organisation, IncidentAccess]:
    """The park and the reader's access to its books; 404 when the reader has none."""
    org = Organisation.objects.filter(slug=slug, kind=Organisation.Kind.PARK).first()
    access = incident_access(organisation=org, fetched_by=fetched_by) if org is not None \
        else None
    if org is None or access is None:
        raise Http404("no such park")
    return org, access


def _frame(rows: list[dict[str, Any]], columns: dict[str, str], schema: Any,
           country: str | None) -> pd.DataFrame:
    data = [{columns[k]: (None if v in ("", None) else v) for k, v in r.items() if k in columns}
            for r in rows]
    frame = pd.DataFrame(data, columns=list(columns.values()))
    if country is not None:
        frame["countryCode"] = country
    frame = frame.reindex(columns=list(schema.field_names))
    for f in schema.fields:
        if f.type == "datetime":
            frame[f.name] = pd.to_datetime(frame[f.name], utc=True)
        elif f.type in ("number", "integer"):
            frame[f.name] = pd.to_numeric(frame[f.name], errors="coerce")
            if f.type == "integer":
                frame[f.name] = frame[f.name].astype("Int64")
        else:
            frame[f.name] = frame[f.name].astype(object)
    return frame


def incident_tables(*, organisation: Organisation) -> dict[str, pd.DataFrame]:
    """The park's complete, exact books as the library's tables (claimants included).

    Only for :func:`incident_release`: never shown as they are.
    """
    cc = organisation.country
    incidents = list(Incident.objects.filter(owner=organisation).values(*INCIDENT_COLUMNS))
    tests = list(DiseaseTest.objects.filter(owner=organisation).values(*TEST_COLUMNS))
    claims = list(Claimant.objects.filter(incident__owner=organisation).values(
        "incident__incident_id", *CLAIMANT_COLUMNS))
    inc = _frame(incidents, INCIDENT_COLUMNS, INCIDENTS, cc)
    by_incident = {c["incident__incident_id"]: c["claim_id"] for c in claims}
    inc["claimID"] = inc["incidentID"].map(by_incident).astype(object)
    claimants = _frame(claims, {**CLAIMANT_COLUMNS, "incident__incident_id": "incidentID"},
                       CLAIMANTS, None)
    return {"incidents": inc, "diseaseTests": _frame(tests, TEST_COLUMNS, DISEASE_TESTS, cc),
            "claimants": claimants}


def release_for(tables: dict[str, pd.DataFrame], access: IncidentAccess,
                policy: ProtectionPolicy) -> dict[str, pd.DataFrame]:
    """``tables`` as ``access`` may see them: the library's incident gate, nothing else."""
    if access.kind == "partner":
        assert access.agreement is not None
        return release_incidents(tables, policy=policy,
                                 agreement=agreement_terms(access.agreement))
    return release_incidents(tables, audience=access.audience, policy=policy)


def incident_release(*, organisation: Organisation, access: IncidentAccess
                     ) -> dict[str, pd.DataFrame]:
    """The park's books as this reader may see them (study's ``[protection]``)."""
    return release_for(incident_tables(organisation=organisation), access, study_policy())


#: Columns each table shows on the page (the claimant's only to the owner).
INCIDENT_FIELDS = ("incidentID", "eventStart", "category", "scientificName", "individualID",
                   "latitude", "longitude", "coordinateUncertainty", "victimKind",
                   "victimCount", "outcome", "responseBy", "responseHours",
                   "compensationAmount", "compensationCurrency", "compensationDate",
                   "claimID", "incidentComments")
TEST_FIELDS = ("testID", "sampleDate", "scientificName", "individualID", "sampleType", "lab",
               "pathogen", "assay", "result", "latitude", "longitude", "coordinateUncertainty",
               "testComments")
CLAIMANT_FIELDS = ("claimID", "incidentID", "claimantName", "phone", "address")


def shown_rows(released: dict[str, pd.DataFrame]) -> dict[str, list[dict[str, Any]]]:
    """JSON-ready rows of the released tables (``claimants`` only where the release kept it)."""
    out = {}
    for name, fields in (("incidents", INCIDENT_FIELDS), ("diseaseTests", TEST_FIELDS),
                         ("claimants", CLAIMANT_FIELDS)):
        frame = released.get(name)
        if frame is not None:
            out[name] = frame_records(frame[[f for f in fields if f in frame]])
    return out


def shown_levels(*, tables: dict[str, pd.DataFrame], access: IncidentAccess,
                 policy: ProtectionPolicy) -> list[str]:
    """The location level of every shown point (for the audit entry)."""
    out: list[str] = []
    shared = tuple(access.agreement.tables or ()) if access.agreement is not None else ()
    for name in ("incidents", "diseaseTests"):
        frame = tables.get(name)
        if frame is not None and len(frame):
            out += list(incident_levels(frame, audience=access.audience, policy=policy,
                                        agreement_tables=shared))
    return out
