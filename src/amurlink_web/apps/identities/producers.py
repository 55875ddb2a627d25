"""The joint catalogue's data path for the output registry's property test
(``tests/web/test_protection_property.py``; :data:`amurlink.release.OUTPUTS`).

The catalogue, link list, link page and history (pages and API) read the joint package
through :class:`~amurlink_web.apps.identities.selectors.ScopedLinkStore`: its individuals and
link log cut by :func:`amurlink.release.scope_identities` for the reader's agreements, then
the library's joint identities, current links and histories of what is left.
:func:`produce_catalogue` runs the same steps on a drawn case (every catalogue of the drawn
dataset under the case's agreement, its species and embargo as the web applies them), so
what they let out is checked against the rules.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from amurlink.agreement import _as_agreement
from amurlink.dataset import Dataset
from amurlink.identify.links import current_links, joint_identities, link_history
from amurlink.release import scope_identities


def produce_catalogue(case: Any, tmp: Path) -> list[Any]:
    """The cut individuals and link log, and the identities, links and histories shown."""
    from amurlink_web.apps.datasets.selectors import frame_records

    data = case.dataset
    terms: dict[str, tuple[Any, ...]] = {}
    if case.agreement is not None:
        ids = [str(v) for name, col in (("individuals", "individualID"),
                                        ("identityLinks", "subjectA"),
                                        ("identityLinks", "subjectB"))
               if data.get(name) is not None for v in data[name][col].dropna()]
        # as reader_terms: the agreement's species and embargo, not its table list
        terms = {i.split(":", 1)[0]: (replace(_as_agreement(case.agreement), tables=()),)
                 for i in ids if ":" in i}
    cut = scope_identities(data, agreements=terms, today=case.today)
    ind, links = cut.get("individuals"), cut.get("identityLinks")
    core = {k: data[k].iloc[0:0] for k in ("deployments", "media", "observations")}
    shown: list[Any] = [Dataset({**core, **{k: v for k, v in (("individuals", ind),
                                                               ("identityLinks", links))
                                            if v is not None}})]
    if links is None:
        return shown
    subjects = sorted(set(links["subjectA"].dropna().astype(str))
                      | set(links["subjectB"].dropna().astype(str)))
    shown.append(json.dumps({
        "identities": frame_records(joint_identities(links, individuals=ind)),
        "links": frame_records(current_links(links, individuals=ind)),
        "history": {s: frame_records(link_history(links, s, individuals=ind))
                    for s in subjects[:5]}}, default=str))
    return shown
