"""Incident books of the demo site: the simulator's incidents, claims and CDV tests.

Entered through the same services as the forms (schema check, audit), so the demo's incident
pages show what a park's contributors would have entered, made-up claimants included (they
exist only to show that no partner or public page receives them).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from amurlink_web.apps.incidents.models import INCIDENT_COLUMNS, TEST_COLUMNS, Incident

__all__ = ["demo_books_create"]

#: The demo books: the simulator's ``small`` scenario with this seed and these rates (its few
#: villages need a higher kill rate: about 20 incidents with 15 claims and 12 CDV tests).
DEMO_SEED = 3
DEMO_RATES = {"kill_per_day": 0.3, "tested_share": 0.3}


def _values(row: pd.Series, columns: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field, column in columns.items():
        value = row.get(column)
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            continue
        if isinstance(value, pd.Timestamp):
            value = value.date() if field == "compensation_date" else value.to_pydatetime()
        elif hasattr(value, "item"):
            value = value.item()
        out[field] = value
    return out


def demo_books_create(parks: dict[str, Any]) -> int:
    """Enter the simulated books into ``parks`` (``{"CN": org, "RU": org}``) once; returns
    the rows entered (0 when the books are there already)."""
    from amurlink.simulate import simulate_study
    from amurlink.simulate._incidents import IncidentRates, simulate_incidents
    from amurlink_web.apps.incidents.services import disease_test_create, incident_create

    if Incident.objects.filter(owner__in=list(parks.values())).exists():
        return 0
    sim = simulate_incidents(simulate_study("small", seed=DEMO_SEED, images="none"),
                             rates=IncidentRates(**DEMO_RATES))
    n = 0
    for cc, org in parks.items():
        tables = sim.tables[cc]
        claims = tables["claimants"].set_index("incidentID")
        for _, row in tables["incidents"].iterrows():
            claimant = None
            if row["incidentID"] in claims.index:
                c = claims.loc[row["incidentID"]]
                claimant = {"name": c["claimantName"], "phone": c["phone"],
                            "address": c["address"]}
            incident_create(organisation=org, values=_values(row, INCIDENT_COLUMNS),
                            claimant=claimant)
            n += 1
        for _, row in tables["diseaseTests"].iterrows():
            disease_test_create(organisation=org, values=_values(row, TEST_COLUMNS))
            n += 1
    return n
