"""Conflict, disease and patrol tables: extension tables of the joint package.

Declared with the same :class:`~amurlink.schema.TableSchema` as every other table, so they are
parsed and validated by the same code (file, row, field, expected value and fix in every
issue). Personal data of compensation claimants lives in its own owner-only table,
``claimants``: no other table holds a name, a phone number or an address, so a shared table
can never carry one.
"""

from __future__ import annotations

from types import MappingProxyType

from amurlink.schema import (  # declared with the package's tables: they are extension tables
    DISEASE_TESTS,
    FINDING_CATEGORIES,
    INCIDENT_CATEGORIES,
    INCIDENTS,
    NECROPSIES,
    PATROL_FINDINGS,
    PATROLS,
    TEST_RESULTS,
    Field,
    TableSchema,
)

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
