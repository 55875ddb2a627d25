"""Warm the per-reader caches of the joint package once, before gunicorn forks its workers.

Every page of the joint package reads one release per (state of the package, reader's terms)
(:func:`~amurlink_web.apps.jobs.selectors.joint_release`) and tables computed once per
release (the photo table, the detections of individuals, the home page's cross-border answer,
the map's features, the link store's current links). Made cold, that costs 1.5-3.4 s of CPU
per reader kind on a 50,000-photo package, in EVERY worker. :func:`warm_caches` makes them
once in the gunicorn master (``config/gunicorn.py``: ``preload_app`` and its ``when_ready``
hook), so the workers inherit them copy-on-write.

Nothing here is a new way to the data: it calls the same selectors the pages call, for each
distinct reader (deduplicated by their terms), and writes no audit row (no one read
anything). The caches stay keyed by the file stamps and the reader's terms, so a worker
recomputes them after the data change, exactly as without the warm-up.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.http import Http404

logger = logging.getLogger(__name__)


def _readers() -> list[Any]:
    """One active working-group user per distinct (joint access, link-store terms)."""
    from django.contrib.auth import get_user_model

    from amurlink_web.apps.identities.selectors import reader_terms, review_membership
    from amurlink_web.apps.jobs.selectors import joint_reader

    seen: set[Any] = set()
    out = []
    for user in get_user_model().objects.filter(is_active=True).order_by("pk"):
        try:
            _member, access = joint_reader(fetched_by=user)
        except Http404:
            continue  # outside the working group: reads no joint page

        key = (access.key, reader_terms(fetched_by=user),
               review_membership(fetched_by=user) is not None)
        if key not in seen:
            seen.add(key)
            out.append(user)
    return out


def warm_reader(user: Any) -> None:
    """Fill the caches the home, map, review, photo and individual pages read for ``user``."""
    from django.test import RequestFactory

    from amurlink_web.apps.core.home import home_answer
    from amurlink_web.apps.datasets.selectors import dataset_list
    from amurlink_web.apps.identities.selectors import identity_list, link_list, reader_link_store
    from amurlink_web.apps.jobs import views as job_views
    from amurlink_web.apps.jobs.selectors import joint_inputs, joint_records
    from amurlink_web.apps.review import selectors as sel

    reader = sel.reader_get(fetched_by=user)
    access, released = reader.access, reader.released
    home_answer(fetched_by=user)
    inputs = joint_inputs()
    data = joint_records(access=access)
    job_views._drawn_map(data, inputs, joint=True)
    job_views._map_json(RequestFactory().get("/map/data.json"), data, inputs, joint=True,
                        level=access.label, corridors=True)
    for status in (None, "proposed", "confirmed", "rejected"):
        link_list(fetched_by=user, status=status)
    identity_list(fetched_by=user)
    store = reader_link_store(fetched_by=user)
    sel._conflicts_cached(str(store.path), store.key(), store.two_party, store.terms)
    dataset_list(fetched_by=user)  # the home page's list: each dataset's own release
    rid = id(released)
    sel._species_cached(rid, released)
    sel._identified_cached(rid, released)
    if sel.media_allowed(access):
        sel._photos_by_individual(rid, released)
        sel._photo_positions(rid, released)
        sel._sort_keys(rid, released)
        sel._media_filters(rid, released)
    sel._crossings_cached(rid, released)


def warm_caches() -> int:
    """Warm the caches for every distinct reader; the number of readers warmed.

    A failure is logged and leaves the rest to the first request (the site still serves).
    """
    from django.db import connections

    t0, c0 = time.perf_counter(), time.process_time()
    done = 0
    try:
        for user in _readers():
            try:
                warm_reader(user)
                done += 1
            except Http404:
                return done  # no joint package yet: nothing to warm
            except Exception:  # noqa: BLE001 - the first request computes it instead
                logger.exception("warm-up for %s failed", user)
    finally:
        # the master must not hand its database connections to the forked workers; one
        # inside a transaction (a test case's) is its caller's to close
        for conn in connections.all(initialized_only=True):
            if not conn.in_atomic_block:
                conn.close()
    logger.info("warmed the joint package's caches for %d readers in %.1f s (%.1f s CPU)",
                done, time.perf_counter() - t0, time.process_time() - c0)
    return done
