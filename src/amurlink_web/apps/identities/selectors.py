"""The joint catalogue and its identity links, read from the joint package's LinkStore.

Every read is cut for the reader (:func:`reader_terms`, :class:`ScopedLinkStore`): a park's
individuals and the links that touch them are shown as the agreement that park gives the
reader allows (species, tables, embargo), by :func:`amurlink.release.scope_identities`, the
rule every output takes; identities, current links and histories are derived from what is
left, so their rows and counts reveal nothing held back. A park that gives the reader no
agreement is shown whole to the working group (the catalogue's own rule); writes (reviews)
go to the whole log, after a scoped read found the link.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import Http404

from amurlink import Dataset as PackageData
from amurlink.identify import LinkStore
from amurlink.io import read_camtrap_dp
from amurlink.release import scope_identities
from amurlink_web.apps.datasets.selectors import frame_records
from amurlink_web.apps.organisations.models import Membership, Organisation, role_at_least
from amurlink_web.apps.organisations.selectors import (
    organisation_list,
    working_group_membership_list,
)
from amurlink_web.apps.sharing.scope import agreement_terms
from amurlink_web.apps.sharing.selectors import agreement_for_reader, agreement_revoked

#: ``((catalogue, (Agreement, ...) | None), ...)``: what each other park gives one reader
#: (``None``: the park revoked what it gave, nothing of its catalogue is shown).
Terms = tuple[tuple[str, tuple[Any, ...] | None], ...]


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


class ScopedLinkStore(CachedLinkStore):
    """The link store as one reader may read it: the package's individuals and link log cut
    by ``terms`` (:func:`reader_terms`) with :func:`amurlink.release.scope_identities`, so
    the library's identities, current links and histories describe only what is shared.
    Read-only: decisions go to :func:`link_store`."""

    def __init__(self, path: Path, *, two_party: bool, terms: Terms) -> None:
        super().__init__(path, two_party=two_party)
        self.terms = terms

    def read(self) -> PackageData:
        return _scoped_package(str(self.path), self.key(), self.terms, date.today())


@functools.lru_cache(maxsize=16)
def _scoped_package(path: str, key: tuple[Any, ...], terms: Terms, today: date
                    ) -> PackageData:
    data = _read_package(path, key)
    return scope_identities(data, agreements=dict(terms), today=today) if terms else data


# The joint identities and the current links are derived from the package alone, so they are
# computed once per package state and reader's terms (not on every page view) and handed out
# as copies.
@functools.lru_cache(maxsize=16)
def _identity_rows(path: str, key: tuple[Any, ...], two_party: bool, terms: Terms
                   ) -> tuple[dict[str, Any], ...]:
    store = ScopedLinkStore(Path(path), two_party=two_party, terms=terms)
    return tuple(frame_records(LinkStore.identities(store)))


@functools.lru_cache(maxsize=64)
def _current_rows(path: str, key: tuple[Any, ...], status: str | None, two_party: bool,
                  terms: Terms) -> tuple[dict[str, Any], ...]:
    store = ScopedLinkStore(Path(path), two_party=two_party, terms=terms)
    return tuple(frame_records(LinkStore.current(store, status=status)))


def reader_terms(*, fetched_by) -> Terms:
    """For each other park's catalogue, the agreement that park gives the reader (the most
    precise of those to the reader's organisations, as for its datasets), as library terms.
    The reader's own parks and parks that never gave the reader an agreement are not listed
    (not cut: the catalogue is the working group's review record). A park whose agreements
    with the reader are all deactivated is listed with ``None`` (withheld whole), so revoking
    an agreement never shows more than it did.

    Its species and embargo cut the catalogue; its table list does not: the catalogue and
    the link log are the working group's review record (a partner who reviews links but
    receives only deployments and observations still sees the IDs and links of the agreed
    species before the embargo, never photos or records it was not given)."""
    own = set(organisation_list(user=fetched_by).values_list("pk", flat=True))
    out: list[tuple[str, tuple[Any, ...] | None]] = []
    for park in Organisation.objects.filter(kind=Organisation.Kind.PARK) \
            .exclude(pk__in=own).exclude(catalogue="").order_by("catalogue", "pk"):
        agreement = agreement_for_reader(provider=park, fetched_by=fetched_by)
        if agreement is not None:
            out.append((park.catalogue, (replace(agreement_terms(agreement), tables=()),)))
        elif agreement_revoked(provider=park, fetched_by=fetched_by):
            out.append((park.catalogue, None))
    return tuple(out)


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


def reader_link_store(*, fetched_by) -> ScopedLinkStore:
    """The link store cut for the reader (404 outside the working group)."""
    joint_membership(fetched_by=fetched_by)
    store = link_store()
    return ScopedLinkStore(store.path, two_party=store.two_party,
                           terms=reader_terms(fetched_by=fetched_by))


def identity_list(*, fetched_by) -> list[dict[str, Any]]:
    store = reader_link_store(fetched_by=fetched_by)
    return [dict(r) for r in _identity_rows(str(store.path), store.key(), store.two_party,
                                            store.terms)]


def link_list(*, fetched_by, status: str | None = None) -> list[dict[str, Any]]:
    store = reader_link_store(fetched_by=fetched_by)
    rows = [dict(r) for r in _current_rows(str(store.path), store.key(), status,
                                            store.two_party, store.terms)]
    for row in rows:
        row["evidence_text"] = row.get("evidence") or ""
    return rows


def link_get(*, link_event_id: str, fetched_by) -> dict[str, Any]:
    """The current state of the pair that ``link_event_id`` (any of its events) is about."""
    rows = link_list(fetched_by=fetched_by)
    for row in rows:
        if row["linkEventID"] == link_event_id:
            return row
    log = reader_link_store(fetched_by=fetched_by).links
    hit = log[log["linkEventID"].astype(object) == link_event_id]
    if len(hit):
        pair = tuple(sorted((str(hit["subjectA"].iloc[0]), str(hit["subjectB"].iloc[0]))))
        for row in rows:
            if (row["subjectA"], row["subjectB"]) == pair:
                return row
    raise Http404("no such link")


def link_history_list(*, subject: str, fetched_by) -> list[dict[str, Any]]:
    store = reader_link_store(fetched_by=fetched_by)
    try:
        return frame_records(store.history(subject))
    except (ValueError, KeyError):
        raise Http404("no such subject") from None
