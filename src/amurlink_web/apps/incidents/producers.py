"""The incident page's producer for the output registry's property tests
(``web:incident-list`` in :data:`amurlink.release.OUTPUTS`).

It runs the page's real data path on a drawn :class:`amurlink.testing.ReleaseCase`: the
case's incident books (:func:`amurlink.testing.release_outputs.incident_tables_for`: a tiger
depredation at every station's exact position, each with a made-up claimant), the reader's
access, :func:`~amurlink_web.apps.incidents.selectors.release_for` (the gate), the rows the
page shows and the rendered page (without points: see the comment in the producer).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["produce_incident_list"]


def produce_incident_list(case: Any, tmp: Path) -> list[Any]:
    from django.template.loader import render_to_string

    from amurlink.testing.release_outputs import incident_tables_for
    from amurlink_web.apps.incidents.selectors import IncidentAccess, release_for, shown_rows
    from amurlink_web.apps.organisations.models import Organisation
    from amurlink_web.testing_release import access_for

    web = access_for(case)
    if web is None:
        return []
    park = Organisation(name="park", slug="park", country="CN", kind=Organisation.Kind.PARK)
    access = IncidentAccess(web.kind, park, agreement=web.agreement)
    rows = shown_rows(release_for(incident_tables_for(case), access, case.policy))
    # The check compares shown points with the camera stations' levels, but incident points
    # follow the species involved, not the place (a tiger incident shared at 1 km may sit on
    # a leopard-only station that is withheld): as the report's producer, the points are left
    # out here; their rules are tested in tests/incidents/test_protect.py and
    # tests/web/test_incidents.py. Claimants, comments and species scope are checked here.
    for table in rows.values():
        for r in table:
            r.pop("latitude", None)
            r.pop("longitude", None)
    html = render_to_string("incidents/list.html", {
        "park": park, "access": access, "can_enter": False,
        "incidents": rows.get("incidents", []), "tests": rows.get("diseaseTests", []),
        "claimants": rows.get("claimants", []) if access.kind == "owner" else []})
    return [json.dumps(rows, default=str), html]
