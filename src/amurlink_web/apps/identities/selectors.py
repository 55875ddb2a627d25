"""The joint catalogue and its identity links, read from the joint package's LinkStore."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import Http404

from amurlink import Dataset as PackageData
from amurlink.identify import LinkStore
from amurlink.io import read_camtrap_dp
from amurlink_web.apps.datasets.selectors import frame_records
from amurlink_web.apps.organisations.models import Membership, Organisation, role_at_least
from amurlink_web.apps.organisations.selectors import working_group_membership_list


def joint_package_path() -> Path:
    return Path(settings.DATA_DIR) / "joint"


class CachedLinkStore(LinkStore):
    """A LinkStore whose reads are cached until a file of the package changes.

    The key holds (name, size, mtime) of every file and the SHA-256 of the link log, which
    the library rewrites on each change, so a cached read never misses a decision; reads
    inside a change (under the store's lock) see every earlier write too.
    """

    def key(self) -> tuple[Any, ...]:
        """What the cached reads depend on: every file's name, size, mtime (+ the log's hash)."""
        entries = []
        for p in sorted(self.path.iterdir()):
            if not p.is_file() or p.name.startswith("."):
                continue
            st = p.stat()
            digest = hashlib.sha256(p.read_bytes()).hexdigest() \
                if p.name.startswith("identity-links") else ""
            entries.append((p.name, st.st_size, st.st_mtime_ns, digest))
        return tuple(entries)

    def read(self) -> PackageData:
        return _read_package(str(self.path), self.key())


@functools.lru_cache(maxsize=8)
def _read_package(path: str, key: tuple[Any, ...]) -> PackageData:
    return read_camtrap_dp(path)


# The joint identities and the current links are derived from the package alone, so they are
# computed once per package state (not on every page view) and handed out as copies.
@functools.lru_cache(maxsize=8)
def _identity_rows(path: str, key: tuple[Any, ...], two_party: bool
                   ) -> tuple[dict[str, Any], ...]:
    store = CachedLinkStore(Path(path), two_party=two_party)
    return tuple(frame_records(LinkStore.identities(store)))


@functools.lru_cache(maxsize=32)
def _current_rows(path: str, key: tuple[Any, ...], status: str | None, two_party: bool
                  ) -> tuple[dict[str, Any], ...]:
    store = CachedLinkStore(Path(path), two_party=two_party)
    return tuple(frame_records(LinkStore.current(store, status=status)))


def two_party() -> bool:
    """The study's ``[links] two_party`` (default true): each side's reviewer must accept."""
    from amurlink_web.apps.datasets.selectors import study_config

    links = getattr(study_config(), "links", None)
    return True if links is None else bool(links.two_party)


def link_store() -> CachedLinkStore:
    path = joint_package_path()
    if not (path / "datapackage.json").is_file():
        raise Http404("no joint package has been loaded yet")
    return CachedLinkStore(path, two_party=two_party())


def joint_membership(*, fetched_by) -> Membership:
    """The reader's working-group membership (park or secretariat); 404 for everyone else."""
    members = sorted(working_group_membership_list(user=fetched_by),
                     key=lambda m: (not role_at_least(m.role, "reviewer"), m.pk))
    if not members:
        raise Http404("the joint catalogue is shared only inside the working group")
    return members[0]


def review_membership(*, fetched_by) -> Membership | None:
    """A park membership with at least the reviewer role (reviewers of either country); its
    organisation's country is the side the reviewer decides for."""
    for m in working_group_membership_list(user=fetched_by):
        if m.organisation.kind == Organisation.Kind.PARK and role_at_least(m.role, "reviewer"):
            return m
    return None


def identity_list(*, fetched_by) -> list[dict[str, Any]]:
    joint_membership(fetched_by=fetched_by)
    store = link_store()
    return [dict(r) for r in _identity_rows(str(store.path), store.key(), store.two_party)]


def link_list(*, fetched_by, status: str | None = None) -> list[dict[str, Any]]:
    joint_membership(fetched_by=fetched_by)
    store = link_store()
    rows = [dict(r) for r in _current_rows(str(store.path), store.key(), status,
                                            store.two_party)]
    for row in rows:
        row["evidence_text"] = row.get("evidence") or ""
    return rows


def link_get(*, link_event_id: str, fetched_by) -> dict[str, Any]:
    """The current state of the pair that ``link_event_id`` (any of its events) is about."""
    rows = link_list(fetched_by=fetched_by)
    for row in rows:
        if row["linkEventID"] == link_event_id:
            return row
    log = link_store().links
    hit = log[log["linkEventID"].astype(object) == link_event_id]
    if len(hit):
        pair = tuple(sorted((str(hit["subjectA"].iloc[0]), str(hit["subjectB"].iloc[0]))))
        for row in rows:
            if (row["subjectA"], row["subjectB"]) == pair:
                return row
    raise Http404("no such link")


def link_history_list(*, subject: str, fetched_by) -> list[dict[str, Any]]:
    joint_membership(fetched_by=fetched_by)
    try:
        return frame_records(link_store().history(subject))
    except (ValueError, KeyError):
        raise Http404("no such subject") from None
