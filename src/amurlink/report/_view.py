"""The report's view of the data: released first (amurlink.release), then every table shown.

The view takes its data only from :func:`amurlink.release.release`: station levels are decided
on the complete dataset, the reader's agreement scope applied after, and the cross-border
counts computed on the scoped EXACT data (the same for every audience of that scope) with
only distances and positions coarsened for the audience.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from amurlink.core.crs import to_metric
from amurlink.core.protection import (
    Audience,
    ProtectionPolicy,
    level_to_precision,
    protect_locations,
)
from amurlink.dataset import Dataset
from amurlink.release import Released, release
from amurlink.report.inputs import ReportInputs

logger = logging.getLogger(__name__)

__all__ = ["ReportView", "build_view", "deployment_levels", "band_distance_km"]

_COUNTRIES = ("CN", "RU")


def deployment_levels(exact: pd.DataFrame, shown: pd.DataFrame, *, crs: Any) -> np.ndarray:
    """Protection level of each shown deployment, recovered with the public protection function.

    A row is ``exact`` when its coordinates are unchanged, ``1km`` / ``10km`` when they equal
    :func:`protect_locations` of the exact row at that level, and ``withheld`` otherwise.
    """
    lon0, lat0 = exact["longitude"].to_numpy(float), exact["latitude"].to_numpy(float)
    lon, lat = shown["longitude"].to_numpy(float), shown["latitude"].to_numpy(float)
    levels = np.full(len(exact), "withheld", dtype=object)
    for lvl in ("10km", "1km"):
        cand = protect_locations(exact[["latitude", "longitude"]], level=lvl, crs=crs)
        same = np.isclose(cand["longitude"].to_numpy(float), lon, atol=1e-9, rtol=0) & \
            np.isclose(cand["latitude"].to_numpy(float), lat, atol=1e-9, rtol=0)
        levels[same] = lvl
    levels[(lon0 == lon) & (lat0 == lat)] = "exact"
    return levels


def band_distance_km(distance_km: Any, levels: Any) -> np.ndarray:
    """Distances from the border as the audience may see them (km, NaN where withheld).

    ``exact``: to 0.1 km; ``1km``: whole km; ``10km``: to 10 km; ``withheld``: NaN.
    """
    d = np.asarray(distance_km, dtype=float)
    lv = np.asarray(levels, dtype=object)
    out = np.full(d.shape, np.nan)
    for lvl, step in (("exact", 0.1), ("1km", 1.0), ("10km", 10.0)):
        rows = lv == lvl
        out[rows] = np.round(d[rows] / step) * step
    return np.round(out, 1)


def trap_days(deployments: pd.DataFrame, gaps: pd.DataFrame | None) -> pd.Series:
    """Camera-days per deployment: its span less its recorded gaps (days, float)."""
    start = pd.to_datetime(deployments["deploymentStart"], utc=True)
    end = pd.to_datetime(deployments["deploymentEnd"], utc=True)
    days = (end - start).dt.total_seconds().to_numpy(float) / 86400.0
    out = pd.Series(days, index=deployments["deploymentID"].to_numpy())
    if gaps is not None and len(gaps):
        g = gaps.merge(deployments[["deploymentID", "deploymentStart", "deploymentEnd"]],
                       on="deploymentID", how="inner")
        lo = np.maximum(pd.to_datetime(g["gapStart"], utc=True).astype("int64"),
                        pd.to_datetime(g["deploymentStart"], utc=True).astype("int64"))
        hi = np.minimum(pd.to_datetime(g["gapEnd"], utc=True).astype("int64"),
                        pd.to_datetime(g["deploymentEnd"], utc=True).astype("int64"))
        lost = pd.Series(np.clip(hi - lo, 0, None) / 86400e9, index=g["deploymentID"].to_numpy())
        out = out.sub(lost.groupby(level=0).sum(), fill_value=0.0)
    return out.clip(lower=0.0)


@dataclass
class ReportView:
    """Protected dataset and every table the report shows, computed once."""

    inputs: ReportInputs
    audience: Audience
    dataset: Dataset  # protected
    stations: pd.DataFrame  # deploymentID, country, level, latitude, longitude, x, y, trapDays
    crossborder: Any = None  # CrossBorderResult (protected) or None
    crossborder_note: str | None = None
    distance_level: str = "exact"
    links: pd.DataFrame | None = None
    notes: dict[str, str] = field(default_factory=dict)
    #: Results computed once per view and reused by every language (e.g. SECR tables).
    cache: dict[Any, Any] = field(default_factory=dict)
    #: The release this view was built from (figures on the scoped exact data).
    released: Released | None = None
    #: The day the agreements were applied (expiry, rolling embargo); None: today.
    today: Any = None

    @property
    def config(self):
        return self.inputs.config


def _stations(shown: Dataset, levels: pd.Series, crs: Any) -> pd.DataFrame:
    dep = shown.deployments.reset_index(drop=True)
    levels = levels.reindex(dep["deploymentID"].to_numpy(dtype=object)).fillna("withheld") \
        .to_numpy(dtype=object)
    details = shown.get("deploymentDetails")
    country = pd.Series(None, index=dep.index, dtype=object)
    if details is not None and "countryCode" in details:
        cmap = details.drop_duplicates("deploymentID").set_index("deploymentID")["countryCode"]
        country = dep["deploymentID"].map(cmap).astype(object)
    lon, lat = dep["longitude"].to_numpy(float), dep["latitude"].to_numpy(float)
    held = levels == "withheld"
    if len(dep):
        x, y = to_metric(lon, lat, crs=crs)
    else:
        x, y = np.empty(0), np.empty(0)
    x, y = np.where(held, np.nan, x), np.where(held, np.nan, y)
    td = trap_days(dep, shown.get("deploymentGaps"))
    start = pd.to_datetime(dep["deploymentStart"], utc=True)
    return pd.DataFrame({
        "deploymentID": dep["deploymentID"].astype(object).to_numpy(),
        "country": country.to_numpy(),
        "level": levels,
        "latitude": np.where(held, np.nan, lat),
        "longitude": np.where(held, np.nan, lon),
        "x": x, "y": y,
        "year": start.dt.year.to_numpy(),
        "trapDays": td.reindex(dep["deploymentID"].to_numpy()).to_numpy(float),
    })


def build_view(inputs: ReportInputs, *, audience: Audience,
               policy: ProtectionPolicy | None = None, agreement: Any = None,
               agreements: Any = (), today: Any = None) -> ReportView:
    """Release ``inputs.dataset`` for ``audience`` (and agreements), then the report's tables.

    ``inputs.dataset`` is the COMPLETE dataset (or a :class:`amurlink.release.ScopedDataset`
    that remembers it); ``policy`` defaults to ``inputs.config.protection``.
    """
    policy = policy or inputs.config.protection
    released = release(inputs.dataset, audience=audience, policy=policy, agreement=agreement,
                       agreements=agreements, today=today)
    shown = released.dataset
    crs = inputs.config.crs.working
    stations = _stations(shown, released.levels, crs)
    if released.agreements:
        # sections count on view.inputs.dataset: it becomes the SCOPED exact data, so what an
        # agreement holds back is never counted; the study's species list is cut the same way
        inputs = _scoped_inputs(inputs, released)
    view = ReportView(inputs=inputs, audience=audience, dataset=shown, stations=stations,
                      released=released, today=today)
    view.distance_level = released.distance_level
    links = shown.get("identityLinks")
    if links is not None and len(links):
        from amurlink.identify.links import current_links

        view.links = current_links(links, two_party=inputs.config.links.two_party)
    _run_crossborder(view)
    return view


def _scoped_inputs(inputs: ReportInputs, released: Released) -> ReportInputs:
    from dataclasses import replace

    from amurlink.exchange import within_taxa

    species = [a.species for a in released.agreements if a.species]
    config = inputs.config
    if species:
        keep = [sp for sp in config.species
                if all(within_taxa([sp.scientific_name], s)[0] for s in species)]
        config = replace(config, species=tuple(keep))
    return replace(inputs, dataset=released.exact_for_figures(), config=config)


def _run_crossborder(view: ReportView) -> None:
    border = view.inputs.border
    if border is None:
        view.crossborder_note = view.inputs.missing.get("border", "no border was given")
        return
    from amurlink.exceptions import AmurlinkError

    try:
        # counted on the scoped EXACT data, distances coarsened to view.distance_level
        result = view.released.crossborder(
            border, species=None, two_party=view.inputs.config.links.two_party)
    except AmurlinkError as exc:  # data that cannot give a cross-border table: say why
        view.crossborder_note = str(exc)
        return
    except Exception as exc:  # noqa: BLE001 - a failed analysis must not lose the report
        logger.error("the cross-border analysis failed; its sections say so", exc_info=True)
        from amurlink.study._proc import describe

        view.crossborder_note = f"the cross-border analysis failed: {describe(exc)}"
        return
    view.crossborder = result


def distance_precision(level: str) -> float | None:
    """Grid size in km that shown distances are rounded to (None: not shown)."""
    if level == "withheld":
        return None
    size = level_to_precision(level).cell_size_m
    return 0.1 if size is None else size / 1000.0
