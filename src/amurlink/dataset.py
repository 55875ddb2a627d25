"""The ``Dataset``: every table of one Camtrap DP package (core and extensions) and metadata."""

from __future__ import annotations

import copy as _copy
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

import pandas as pd

from amurlink.exceptions import SchemaError
from amurlink.schema import STANDARD_TABLES, TABLES

__all__ = ["Dataset"]


class Dataset:
    """Tables of one camera-trap data package, keyed by resource name, plus package metadata.

    A ``Dataset`` never changes after construction: :meth:`replace` returns a new one. Frames
    are copied on the way in (unless ``copy=False``) and handed out as they are, so treat them
    as read-only; datasets derived by :meth:`replace` share the frames they did not replace.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Table name (``deployments``, ``media``, ``observations`` or an amurlink extension such
        as ``deploymentDetails``) to its frame. Column names are the declared field names;
        datetime columns are tz-aware UTC.
    metadata : mapping, optional
        The package descriptor without ``resources`` (title, project, contributors, ...).
    extra_resources : sequence of dict, optional
        Descriptors of resources amurlink does not model (kept verbatim so nothing is lost).
    copy : bool, default True
        Copy the frames. ``False`` adopts them as they are (no copy of a million-row table);
        for frames the caller has just built and will not change afterwards.

    Examples
    --------
    >>> from amurlink.datasets import load_example
    >>> ds = load_example()
    >>> ds.table_names[:4]
    ('deployments', 'media', 'observations', 'deploymentDetails')
    >>> len(ds.observations)
    11
    """

    __slots__ = ("_tables", "_metadata", "_extra_resources")

    def __init__(
        self,
        tables: Mapping[str, pd.DataFrame],
        metadata: Mapping[str, Any] | None = None,
        extra_resources: list[dict[str, Any]] | None = None,
        *,
        copy: bool = True,
    ) -> None:
        unknown = sorted(set(tables) - set(TABLES))
        if unknown:
            raise SchemaError(
                f"Dataset got unknown table(s) {unknown}; known tables are {list(TABLES)}. "
                "Keep other resources in `extra_resources`."
            )
        missing = [t for t in STANDARD_TABLES if t not in tables]
        if missing:
            raise SchemaError(
                f"Dataset lacks the Camtrap DP core table(s) {missing}; pass an empty frame "
                "with the declared columns where a table has no rows."
            )
        self._tables = MappingProxyType({k: v.copy() if copy else v for k, v in tables.items()})
        self._metadata = MappingProxyType(_copy.deepcopy(dict(metadata or {})))
        self._extra_resources = tuple(_copy.deepcopy(list(extra_resources or [])))

    # -- access ------------------------------------------------------------------------------
    @property
    def tables(self) -> Mapping[str, pd.DataFrame]:
        """Read-only mapping of table name to frame."""
        return self._tables

    @property
    def metadata(self) -> Mapping[str, Any]:
        """Package descriptor without ``resources``."""
        return self._metadata

    @property
    def extra_resources(self) -> tuple[dict[str, Any], ...]:
        """Resource descriptors amurlink does not model, kept as read."""
        return self._extra_resources

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(self._tables)

    def __getitem__(self, name: str) -> pd.DataFrame:
        try:
            return self._tables[name]
        except KeyError:
            raise KeyError(
                f"this dataset has no {name!r} table; it has {list(self._tables)}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._tables

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def get(self, name: str, default: pd.DataFrame | None = None) -> pd.DataFrame | None:
        return self._tables.get(name, default)

    @property
    def deployments(self) -> pd.DataFrame:
        return self._tables["deployments"]

    @property
    def media(self) -> pd.DataFrame:
        return self._tables["media"]

    @property
    def observations(self) -> pd.DataFrame:
        return self._tables["observations"]

    # -- derivation ---------------------------------------------------------------------------
    def replace(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        **tables: pd.DataFrame | None,
    ) -> Dataset:
        """Return a new Dataset with some tables (or the metadata) replaced.

        A table given as ``None`` is dropped (extension tables only).
        """
        new = dict(self._tables)  # this dataset's frames are shared (read-only), not copied
        for name, frame in tables.items():
            if frame is None:
                new.pop(name, None)
            else:
                new[name] = frame.copy()
        return Dataset(
            new,
            metadata=self._metadata if metadata is None else metadata,
            extra_resources=list(self._extra_resources),
            copy=False,
        )

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v)}" for k, v in self._tables.items())
        title = self._metadata.get("title") or self._metadata.get("name") or "untitled"
        return f"<Dataset {title!r}: {sizes}>"
