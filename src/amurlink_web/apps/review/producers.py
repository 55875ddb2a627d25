"""The review pages' data path for the output registry's property test
(``tests/web/test_protection_property.py``; :data:`amurlink.release.OUTPUTS`).

The review page, the individual page, the photo browser, its thumbnails and the match picture
all read :func:`amurlink.release.release` of the joint package for the reader
(:func:`~amurlink_web.apps.review.selectors.reader_release`) and then this app's own tables
of that release: the photo rows (media + observation, keyset pages) and the identified
detections with the station's protected position. :func:`produce_review` runs exactly those
selectors on a drawn case's release, so what they let out is checked against the rules.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from amurlink.testing.release_outputs import Shown


def produce_review(case: Any, tmp: Path) -> list[Any]:
    """Photo pages, detections (timeline and map), individuals' photos of ``case``'s release."""
    from amurlink_web.apps.datasets.selectors import frame_records
    from amurlink_web.apps.review import selectors as sel

    released = case.release()
    photos = sel._photos_cached(id(released), released)
    first = sel.keyset_page(photos, size=100)
    last = sel.keyset_page(photos, after=str(photos["sortKey"].iloc[-101])
                           if len(photos) > 101 else "", size=100)
    detections = sel._identified_cached(id(released), released)
    subjects = sorted(detections["individualID"].astype(str).unique())
    records = frame_records(detections)
    shown = detections[detections["latitude"].notna() & detections["longitude"].notna()]
    by_individual = {s: list(sel._photos_by_individual(id(released), released).get(
        s, photos.iloc[:0])["mediaID"]) for s in subjects}
    return [
        json.dumps({"first": first.rows, "last": last.rows}, default=str),
        json.dumps(records, default=str),
        json.dumps({"map": sel.map_points(records, subjects),
                    "timeline": sel.timeline(records, subjects),
                    "photos": by_individual,
                    "species": sel._species_cached(id(released), released)}, default=str),
        Shown(pd.DataFrame({"deploymentID": shown["deploymentID"],
                            "latitude": shown["latitude"].astype(float),
                            "longitude": shown["longitude"].astype(float)})),
    ]
