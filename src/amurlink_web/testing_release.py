"""Web producers of the output registry (:data:`amurlink.release.OUTPUTS`), for the tests.

Each runs the web platform's real data path for a
:class:`amurlink.testing.release_outputs.ReleaseCase`: the reader's
:class:`~amurlink_web.apps.datasets.selectors.Access` (an unsaved agreement row for a
partner), :func:`~amurlink_web.apps.datasets.selectors.released_for` (the selectors' gate),
then the rows, summaries and maps the pages and the API show.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from amurlink.testing.release_outputs import Shown

__all__ = ["access_for", "produce_dataset_summary", "produce_dataset_rows", "produce_map"]


def access_for(case: Any) -> Any:
    """The web Access of ``case`` (None when the web has no such reader)."""
    from amurlink_web.apps.datasets.selectors import Access
    from amurlink_web.apps.organisations.models import Organisation
    from amurlink_web.apps.sharing.models import SharingAgreement

    aud, a = case.audience, case.agreement
    if aud.kind == "owner" and aud.country is None and aud.organisation is None and a is None:
        return Access("owner")
    if aud.kind == "public" and a is None:
        return Access("public")
    if aud.kind == "partner" and a is not None and aud == a.audience \
            and a.embargo_months is None and (a.embargo_date is None
                                              or isinstance(a.embargo_date, date)):
        row = SharingAgreement(provider=Organisation(name=a.provider or "provider"),
                               recipient=Organisation(name=a.recipient or "recipient"),
                               species=list(a.species), tables=list(a.tables), level=a.level,
                               embargo_date=a.embargo_date, active=True)
        return Access("partner", agreement=row)
    return None


def _released(case: Any):
    from amurlink_web.apps.datasets.selectors import released_for

    access = access_for(case)
    if access is None:
        return None
    return released_for(case.dataset, access, case.policy)


def produce_dataset_summary(case: Any, tmp: Path) -> list[Any]:
    released = _released(case)
    return [] if released is None else [json.dumps(released.summary(), default=str)]


def produce_dataset_rows(case: Any, tmp: Path) -> list[Any]:
    from amurlink_web.apps.datasets.selectors import TABLE_FIELDS, released_rows

    released = _released(case)
    if released is None:
        return []
    rows = {t: released_rows(released.dataset, t, f) for t, f in TABLE_FIELDS.items()}
    deps = pd.DataFrame(rows["deployments"], columns=["deploymentID", "latitude", "longitude"])
    return [json.dumps(rows, default=str), Shown(deps)]


def produce_map(case: Any, tmp: Path) -> list[Any]:
    from amurlink_web.apps.jobs.maps import map_features, render_svg

    released = _released(case)
    if released is None:
        return []
    features = map_features(released)
    svg = render_svg(features)
    deps = pd.DataFrame([{"deploymentID": s["id"], "latitude": s["lat"], "longitude": s["lon"]}
                         for s in features["stations"]],
                        columns=["deploymentID", "latitude", "longitude"])
    return [svg, json.dumps(features, default=str), Shown(deps)]
