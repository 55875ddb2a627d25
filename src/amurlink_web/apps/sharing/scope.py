"""What an agreement covers: species, tables and embargo (pure pandas, no Django).

Applied before :func:`amurlink.core.protection.protect_dataset`, which then decides the
location level. Kept free of Django so the library (``amurlink exchange``) can adopt it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from amurlink import Dataset
from amurlink.core.protection import is_sensitive
from amurlink.schema import STANDARD_TABLES

#: Tables a sharing agreement may name (the Camtrap DP core and amurlink's extensions).
SHAREABLE_TABLES: tuple[str, ...] = (
    "deployments", "media", "observations", "deploymentDetails", "deploymentGaps",
    "individuals", "samples", "genotypes", "loci", "identityLinks",
)
#: Timestamp column of each table that an embargo date applies to.
_DATED = {"observations": "eventStart", "media": "timestamp", "samples": "collectionDate"}


def _matches(names: pd.Series, species: Iterable[str]) -> np.ndarray:
    # the taxon-aware match of the protection module: subspecies and genus-only names count
    return is_sensitive(names, sensitive_species=tuple(species))


def _before(values: pd.Series, embargo: date) -> np.ndarray:
    stamps = pd.to_datetime(values, utc=True, errors="coerce")
    cutoff = pd.Timestamp(embargo, tz="UTC")
    # undated records are held back too: nobody can tell they are older than the embargo
    return (stamps < cutoff).fillna(False).to_numpy(dtype=bool)


def apply_scope(dataset: Dataset, /, *, species: Iterable[str] = (),
                tables: Iterable[str] = (), embargo_date: date | None = None) -> Dataset:
    """Return the part of ``dataset`` an agreement shares (locations still exact).

    Parameters
    ----------
    dataset : Dataset
    species : iterable of str, optional
        Scientific names shared (taxon-aware: ``Panthera tigris`` covers its subspecies);
        empty shares every species. Observations, individuals and samples of other species
        are dropped, and media kept only when a kept observation points to them.
    tables : iterable of str, optional
        Tables shared; empty shares all. Core tables not named are shared empty (Camtrap DP
        requires them); other tables not named are dropped.
    embargo_date : date, optional
        Records made on or after this date (observations, media, samples) are held back.
    """
    species = tuple(s for s in species if s)
    wanted = set(tables) or set(SHAREABLE_TABLES)
    out: dict[str, pd.DataFrame] = {}
    for name, frame in dataset.tables.items():
        if name not in wanted:
            if name in STANDARD_TABLES:
                out[name] = frame.iloc[0:0].copy()
            continue
        keep = np.ones(len(frame), dtype=bool)
        if species and name in ("observations", "individuals", "samples") \
                and "scientificName" in frame:
            keep &= _matches(frame["scientificName"], species)
        if embargo_date is not None and name in _DATED and _DATED[name] in frame:
            keep &= _before(frame[_DATED[name]], embargo_date)
        out[name] = frame.loc[keep].copy()
    obs = out["observations"]
    if (species or embargo_date is not None) and len(out["media"]) and "mediaID" in obs:
        referenced = set(obs["mediaID"].dropna())
        media = out["media"]
        keep = media["mediaID"].isin(referenced).to_numpy()
        if embargo_date is not None and "timestamp" in media:
            keep &= _before(media["timestamp"], embargo_date)
        out["media"] = media.loc[keep].copy()
    if "individuals" in out:
        known = set(out["individuals"]["individualID"].dropna())
        if "identityLinks" in out:
            links = out["identityLinks"]
            ok = links["subjectA"].isin(known) | ~links["subjectA"].astype(str).str.contains(":")
            ok &= links["subjectB"].isin(known) | ~links["subjectB"].astype(str).str.contains(":")
            out["identityLinks"] = links.loc[ok.to_numpy(dtype=bool)].copy()
    if "samples" in out and "genotypes" in out:
        g = out["genotypes"]
        out["genotypes"] = g.loc[g["sampleID"].isin(out["samples"]["sampleID"])].copy()
    elif "genotypes" in out and "samples" not in out:
        out["genotypes"] = out["genotypes"].iloc[0:0].copy()
    metadata: dict[str, Any] = dict(dataset.metadata)
    return Dataset(out, metadata=metadata, extra_resources=list(dataset.extra_resources))
