"""One canonical scientific name per taxon, with Chinese, Russian and English vernacular names."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "SPECIES_COLUMNS",
    "SpeciesResolution",
    "species_table",
    "species_lookup",
    "resolve_species",
    "observation_type_of",
]

#: Columns of :func:`species_table`.
SPECIES_COLUMNS: tuple[str, ...] = (
    "scientificName", "rank", "order", "en", "zh", "ru", "synonyms", "source",
)
#: Names (normalised) that mean "no animal" or "not identified", and the observationType they give.
_SPECIAL_TYPES = {
    **dict.fromkeys(("blank", "empty", "none", "nothing", "no animal", "пусто", "пустой", "нет",
                     "空", "空拍", "无动物"), "blank"),
    **dict.fromkeys(("unknown", "unidentified", "unid", "неизвестно", "не определено", "未知",
                     "未识别"), "unknown"),
    **dict.fromkeys(("vehicle", "car", "машина", "автомобиль", "车", "车辆"), "vehicle"),
}


def _norm(text: Any) -> str:
    """Case-, width- and whitespace-insensitive key (``ё`` folded to ``е``)."""
    s = unicodedata.normalize("NFKC", str(text)).casefold().replace("ё", "е")
    return " ".join(s.replace("_", " ").split())


@functools.lru_cache(maxsize=1)
def _table() -> pd.DataFrame:
    with resources.files("amurlink.core").joinpath("species.csv").open("r", encoding="utf-8") as fh:
        frame = pd.read_csv(fh, dtype=str, keep_default_na=False)
    return frame[list(SPECIES_COLUMNS)]


def species_table() -> pd.DataFrame:
    """The bundled species table: one row per taxon of the region (a copy).

    Returns
    -------
    DataFrame
        ``scientificName`` (canonical, unique), ``rank``, ``order``, ``en``, ``zh``, ``ru``
        (vernacular names), ``synonyms`` (``|``-separated other names, scientific or vernacular,
        any language) and ``source`` (where the names come from).

    Notes
    -----
    Tiger and leopard are kept at species level (``Panthera tigris``, ``Panthera pardus``):
    only the Amur subspecies occur in the region, so their subspecies names are listed as
    synonyms and lumped to the species.
    """
    return _table().copy()


@functools.lru_cache(maxsize=1)
def _builtin_lookup() -> dict[str, str]:
    out: dict[str, str] = {}
    t = _table()
    for row in t.itertuples(index=False):
        names = [row.scientificName, row.en, row.zh, row.ru, *row.synonyms.split("|")]
        for n in names:
            if n.strip():
                out.setdefault(_norm(n), row.scientificName)
    return out


def species_lookup() -> dict[str, str]:
    """Normalised name (any language or synonym) to canonical scientific name."""
    return dict(_builtin_lookup())


@dataclass(frozen=True)
class SpeciesResolution:
    """Result of :func:`resolve_species`.

    Attributes
    ----------
    scientific_name : Series
        Canonical name of each input (NA where unknown or not an animal).
    observation_type : Series
        ``animal``, ``human``, ``vehicle``, ``blank`` or ``unknown`` per input (NA where unknown).
    unknown : dict of str to int
        Names found nowhere, with their row counts (reported, never guessed).
    not_in_table : dict of str to str
        Targets of the caller's ``extra`` map that the bundled table does not list (kept as given).
    """

    scientific_name: pd.Series
    observation_type: pd.Series
    unknown: dict[str, int]
    not_in_table: dict[str, str]


def observation_type_of(scientific_name: str) -> str:
    """``human`` for Homo sapiens, else ``animal``."""
    return "human" if scientific_name == "Homo sapiens" else "animal"


def resolve_species(
    names: Any, /, *, extra: Mapping[str, str] | None = None,
) -> SpeciesResolution:
    """Map names as written (local codes, vernacular names, synonyms) to canonical names.

    Parameters
    ----------
    names : array_like of str
        Names as written in a source table; missing values stay missing.
    extra : mapping of str to str, optional
        A source's own vocabulary (the ``[species]`` table of an import mapping): local name
        to scientific name. Checked first (exact text, then normalised); its targets are
        themselves resolved through the table, so ``"Panthera tigris altaica"`` becomes
        ``"Panthera tigris"``. The value ``"blank"``, ``"unknown"`` or ``"vehicle"`` marks a
        non-animal record.

    Returns
    -------
    SpeciesResolution

    Notes
    -----
    Matching ignores case, Unicode width, ``ё``/``е`` and repeated blanks; nothing else is
    fuzzy. A name that matches nothing is reported in ``unknown`` and left missing: a
    misspelt species is never silently turned into a different one.

    Examples
    --------
    >>> r = resolve_species(["Тигр", "东北豹", "Leopard Cat", "PBE?"])
    >>> r.scientific_name.tolist()
    ['Panthera tigris', 'Panthera pardus', 'Prionailurus bengalensis', <NA>]
    >>> r.unknown
    {'PBE?': 1}
    """
    s = pd.Series(names, copy=False).reset_index(drop=True)
    lookup = _builtin_lookup()
    extra = dict(extra or {})
    extra_norm = {_norm(k): v for k, v in extra.items()}
    not_in_table: dict[str, str] = {}

    def one(raw: str) -> tuple[Any, Any]:
        target = extra.get(raw)
        if target is None:
            target = extra_norm.get(_norm(raw))
        if target is not None:
            key = _norm(target)
            if key in _SPECIAL_TYPES:
                return pd.NA, _SPECIAL_TYPES[key]
            canon = lookup.get(key)
            if canon is None:
                not_in_table[raw] = target
                canon = " ".join(str(target).split())
            return canon, observation_type_of(canon)
        key = _norm(raw)
        if key in _SPECIAL_TYPES:
            return pd.NA, _SPECIAL_TYPES[key]
        canon = lookup.get(key)
        if canon is None:
            return pd.NA, pd.NA
        return canon, observation_type_of(canon)

    codes, uniques = pd.factorize(s.astype(object), use_na_sentinel=True)
    resolved = {}
    for u in uniques:
        u = str(u)
        resolved[u] = one(u) if u.strip() else (pd.NA, pd.NA)
    sci_u = np.array([resolved[str(u)][0] for u in uniques] + [pd.NA], dtype=object)
    typ_u = np.array([resolved[str(u)][1] for u in uniques] + [pd.NA], dtype=object)
    sci = pd.Series(sci_u[codes], dtype="string")
    otype = pd.Series(typ_u[codes], dtype="string")
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    unknown = {str(u): int(counts[i]) for i, u in enumerate(uniques)
               if str(u).strip() and resolved[str(u)][0] is pd.NA
               and resolved[str(u)][1] is pd.NA}
    return SpeciesResolution(sci, otype, unknown, not_in_table)
