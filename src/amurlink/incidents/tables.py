"""Conflict, disease and patrol tables: extension tables of the joint package.

Declared with the same :class:`~amurlink.schema.TableSchema` as every other table, so they are
parsed and validated by the same code (file, row, field, expected value and fix in every
issue). Personal data of compensation claimants lives in its own owner-only table,
``claimants``: no other table holds a name, a phone number or an address, so a shared table
can never carry one.
"""

from __future__ import annotations

from types import MappingProxyType

from amurlink.schema import INDIVIDUAL_ID_PATTERN, Field, ForeignKey, TableSchema

__all__ = [
    "INCIDENT_CATEGORIES",
    "FINDING_CATEGORIES",
    "TEST_RESULTS",
    "INCIDENTS",
    "DISEASE_TESTS",
    "NECROPSIES",
    "PATROLS",
    "PATROL_FINDINGS",
    "CLAIMANTS",
    "INCIDENT_TABLES",
    "OWNER_ONLY_TABLES",
    "PERSONAL_FIELDS",
]

#: What happened, in the words of the Amur response teams' books.
INCIDENT_CATEGORIES: tuple[str, ...] = (
    "livestock-killed",
    "dog-killed",
    "attack-on-person",
    "animal-in-village",
    "road-kill",
    "carcass",
    "snare",
    "poaching",
    "other",
)
#: What a patrol found.
FINDING_CATEGORIES: tuple[str, ...] = (
    "snare",
    "trap",
    "poaching-camp",
    "gunshot",
    "carcass",
    "tiger-track",
    "leopard-track",
    "other",
)
TEST_RESULTS: tuple[str, ...] = ("positive", "negative", "inconclusive")

_COUNTRY = r"^[A-Z]{2}$"
_CURRENCY = r"^[A-Z]{3}$"

INCIDENTS = TableSchema(
    name="incidents",
    title="Incidents",
    description=(
        "Human-animal conflict and threat incidents: depredation, attacks, animals in villages, "
        "road kills, carcasses, snares and poaching finds, with response and compensation."
    ),
    primary_key=("incidentID",),
    fields=(
        Field("incidentID", required=True, unique=True),
        Field("countryCode", required=True, pattern=_COUNTRY,
              description="Country whose books hold the incident."),
        Field("eventStart", "datetime", required=True, description="When it happened."),
        Field("latitude", "number", minimum=-90, maximum=90),
        Field("longitude", "number", minimum=-180, maximum=180),
        Field("coordinateUncertainty", "integer", minimum=1, description="In metres."),
        Field("category", required=True, enum=INCIDENT_CATEGORIES),
        Field("scientificName", description="Species held responsible (or found)."),
        Field("individualID", pattern=INDIVIDUAL_ID_PATTERN,
              description="National ID of the animal, where it is known."),
        Field("sampleID", description="DNA sample taken at the incident, if any."),
        Field("victimKind", description="cattle, horse, dog, person, ..."),
        Field("victimCount", "integer", minimum=0),
        Field("outcome", description="What became of the animal and the victims."),
        Field("responseBy", description="Team or agency that responded (not a person's name)."),
        Field("responseHours", "number", minimum=0,
              description="Hours from the report to the team on site."),
        Field("compensationAmount", "number", minimum=0,
              description="Amount paid, in compensationCurrency."),
        Field("compensationCurrency", pattern=_CURRENCY, description="ISO 4217 code: CNY, RUB."),
        Field("compensationDate", "datetime", description="When the compensation was paid."),
        Field("claimID", description="Key into the owner-only claimants table."),
        Field("source", description="smart, earthranger or csv."),
        Field("sourceID", description="ID of the record in its source system."),
        Field("incidentComments"),
    ),
)

DISEASE_TESTS = TableSchema(
    name="diseaseTests",
    title="Disease tests",
    description="Pathogen tests of samples from tigers, leopards and their contacts.",
    primary_key=("testID",),
    fields=(
        Field("testID", required=True, unique=True),
        Field("sampleID"),
        Field("individualID", pattern=INDIVIDUAL_ID_PATTERN),
        Field("scientificName", required=True),
        Field("countryCode", required=True, pattern=_COUNTRY),
        Field("sampleType", required=True,
              enum=("blood", "serum", "tissue", "swab", "scat", "brain", "other")),
        Field("sampleDate", "datetime", required=True),
        Field("latitude", "number", minimum=-90, maximum=90),
        Field("longitude", "number", minimum=-180, maximum=180),
        Field("coordinateUncertainty", "integer", minimum=1, description="In metres."),
        Field("lab", required=True),
        Field("pathogen", required=True, description="e.g. CDV (canine distemper virus)."),
        Field("assay", required=True, description="e.g. serology (virus neutralisation), PCR."),
        Field("result", required=True, enum=TEST_RESULTS),
        Field("necropsyID"),
        Field("testComments"),
    ),
)

NECROPSIES = TableSchema(
    name="necropsies",
    title="Necropsies",
    description="Post-mortem examinations of dead tigers and leopards.",
    primary_key=("necropsyID",),
    fields=(
        Field("necropsyID", required=True, unique=True),
        Field("individualID", pattern=INDIVIDUAL_ID_PATTERN),
        Field("scientificName", required=True),
        Field("countryCode", required=True, pattern=_COUNTRY),
        Field("date", "datetime", required=True),
        Field("latitude", "number", minimum=-90, maximum=90),
        Field("longitude", "number", minimum=-180, maximum=180),
        Field("coordinateUncertainty", "integer", minimum=1, description="In metres."),
        Field("causeOfDeath"),
        Field("findings"),
    ),
)

PATROLS = TableSchema(
    name="patrols",
    title="Patrols",
    description="Ranger patrols with their effort; tracks are owner-only unless agreed.",
    primary_key=("patrolID",),
    fields=(
        Field("patrolID", required=True, unique=True),
        Field("countryCode", required=True, pattern=_COUNTRY),
        Field("start", "datetime", required=True),
        Field("end", "datetime", required=True),
        Field("lengthKm", "number", required=True, minimum=0,
              description="Distance patrolled, in km."),
        Field("transport", description="foot, vehicle, boat, ..."),
        Field("team", description="Team name (not a person's name)."),
        Field("track", description="Route as WKT LINESTRING in WGS 84 (owner-only)."),
        Field("source"),
        Field("sourceID"),
    ),
)

PATROL_FINDINGS = TableSchema(
    name="patrolFindings",
    title="Patrol findings",
    description="What patrols found: snares, camps, carcasses, tracks.",
    primary_key=("findingID",),
    foreign_keys=(ForeignKey(("patrolID",), "patrols", ("patrolID",)),),
    fields=(
        Field("findingID", required=True, unique=True),
        Field("patrolID", required=True),
        Field("date", "datetime", required=True),
        Field("latitude", "number", minimum=-90, maximum=90),
        Field("longitude", "number", minimum=-180, maximum=180),
        Field("coordinateUncertainty", "integer", minimum=1, description="In metres."),
        Field("category", required=True, enum=FINDING_CATEGORIES),
        Field("count", "integer", required=True, minimum=1),
        Field("scientificName"),
        Field("findingComments"),
    ),
)

CLAIMANTS = TableSchema(
    name="claimants",
    title="Claimants (owner-only personal data)",
    description=(
        "Who claimed compensation. Personal data: kept by the owning park only; never in an "
        "exchange package, a partner or public report, a Darwin Core export or the API."
    ),
    primary_key=("claimID",),
    fields=(
        Field("claimID", required=True, unique=True),
        Field("incidentID", required=True),
        Field("claimantName", required=True),
        Field("phone"),
        Field("address"),
        Field("claimComments"),
    ),
)

INCIDENT_TABLES: MappingProxyType[str, TableSchema] = MappingProxyType({
    t.name: t for t in (INCIDENTS, DISEASE_TESTS, NECROPSIES, PATROLS, PATROL_FINDINGS, CLAIMANTS)
})
#: Tables that never leave their owner, whatever an agreement says.
OWNER_ONLY_TABLES: tuple[str, ...] = ("claimants",)
#: Columns that hold personal data (all in ``claimants``).
PERSONAL_FIELDS: tuple[str, ...] = ("claimantName", "phone", "address", "claimComments")
