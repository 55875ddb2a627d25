"""Joint against national SECR: one fit of the joint data, one per country alone."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy.stats import norm

from amurlink.analysis.crossborder import encounters as _encounters
from amurlink.analysis.secr.capthist import CaptureHistory
from amurlink.analysis.secr.from_dataset import (
    capthist_camera_dna,
    capthist_from_dataset,
    detector_layout,
)
from amurlink.analysis.secr.mask import Mask, make_mask
from amurlink.analysis.secr.model import fit_secr
from amurlink.analysis.secr.results import SECRResults
from amurlink.core.border import Border
from amurlink.dataset import Dataset
from amurlink.exceptions import ConfigError, DataError, FitError, MaskBufferWarning

__all__ = ["JointNationalResult", "fit_joint_and_national", "fit_models_joint_and_national",
           "fit_camera_dna_models", "with_dettype", "secr_mask", "check_buffer"]

logger = logging.getLogger(__name__)

#: Buffer below which a :class:`MaskBufferWarning` is given, in fitted sigmas.
MIN_BUFFER_SIGMAS: float = 3.0


def secr_mask(traps: np.ndarray, *, border: Border | None, buffer_m: float, spacing_m: float,
              clip: str = "land") -> Mask:
    """Mask around ``traps``: a ``buffer_m`` box-buffer (secr ``trapbuffer``), ``spacing_m``.

    ``clip="land"`` keeps points on the union of the border file's countries (so a national
    mask reaches across the border into the neighbour, but not into the sea); ``"none"``
    keeps every point.
    """
    if clip not in ("land", "none"):
        raise ConfigError(f"clip must be 'land' or 'none', got {clip!r}")
    poly = None
    if clip == "land" and border is not None and border.countries:
        poly = shapely.union_all(list(border.countries.values()))
    return make_mask(np.asarray(traps, float), buffer=float(buffer_m), spacing=float(spacing_m),
                     poly=poly, crs=None if border is None else border.crs.to_string())


def _with_covariates(mask: Mask, border: Border, rasters: Mapping[str, Any] | None) -> Mask:
    """Mask covariates for density models: ``country`` (the border file's polygon holding
    each point; ``none`` outside them) and any rasters (``{"forest": "forest.tif"}``)."""
    from amurlink.analysis.secr.surface import add_raster_covariates, add_region_covariate

    if border is not None and border.countries:
        mask = add_region_covariate(mask, border.countries, name="country")
    if rasters:
        mask = add_raster_covariates(mask, dict(rasters))
    return mask


def check_buffer(res: SECRResults, buffer_m: float, *, label: str = "") -> None:
    """Warn (:class:`MaskBufferWarning`) when ``buffer_m`` < 3 fitted sigmas."""
    pred = res.predict()
    if "sigma" not in pred.index:
        return
    sigma = float(pred.loc["sigma", "estimate"])
    if np.isfinite(sigma) and buffer_m < MIN_BUFFER_SIGMAS * sigma:
        warnings.warn(
            f"{label + ': ' if label else ''}mask buffer {buffer_m / 1000:.1f} km is less than "
            f"{MIN_BUFFER_SIGMAS:g} x the fitted sigma ({sigma / 1000:.2f} km); density may be "
            "overestimated: widen the buffer", MaskBufferWarning, stacklevel=3)


def _n_row(res: SECRResults, region: Any, kind: str, alpha: float = 0.05) -> dict[str, float]:
    t = res.region_N(region, alpha=alpha)
    r = t.loc[kind]
    return {"estimate": float(r["estimate"]), "se": float(r["se"]), "lcl": float(r["lcl"]),
            "ucl": float(r["ucl"])}


@dataclass
class JointNationalResult:
    """Fits of the joint data and of each country alone, with per-country abundance.

    Attributes
    ----------
    species, detectfn : str
    joint : SECRResults
        Fit of the joint capture history (joint identities, every camera).
    national : dict of str to SECRResults
        Per country code: the fit of that country's data alone (its own IDs and cameras;
        mask buffered around its own cameras, not clipped at the border).
    capthists : dict of str to CaptureHistory
        ``"joint"`` and each country code.
    masks : dict of str to Mask
        Same keys.
    border : Border
    settings : dict
        ``buffer_m``, ``spacing_m``, ``occasion_days``, ``life_stage``, ``detector``.
    """

    species: str
    detectfn: str
    joint: SECRResults
    national: dict[str, SECRResults]
    capthists: dict[str, CaptureHistory]
    masks: dict[str, Mask]
    border: Border
    settings: dict[str, Any] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def countries(self) -> tuple[str, ...]:
        return tuple(self.national)

    def table(self, kind: str = "E.N", alpha: float = 0.05) -> pd.DataFrame:
        """Per-country N from the joint fit and from each national fit, side by side.

        Parameters
        ----------
        kind : {"E.N", "R.N"}, default "E.N"
            Expected or realised number of animals in the country (secr ``region.N``).

        Returns
        -------
        DataFrame
            One row per country plus ``national sum`` (joint N over all the countries,
            against the sum of the national N; SE of the sum assumes independent national
            fits, its interval is the normal one): ``region``, ``joint_N``, ``joint_se``,
            ``joint_lcl``, ``joint_ucl``, ``national_N``, ``national_se``, ``national_lcl``,
            ``national_ucl``, ``difference`` (national - joint), ``ratio`` (national / joint),
            ``joint_n`` and ``national_n`` (animals detected). A country whose national fit
            failed (listed in ``failed``) has no row, and then there is no ``national sum``
            row either: a sum over some of the countries would understate the national total.
        """
        if kind not in ("E.N", "R.N"):
            raise ConfigError(f"kind must be 'E.N' or 'R.N', got {kind!r}")
        def cols(prefix: str, n: dict[str, float]) -> dict[str, float]:
            return {f"{prefix}_N": n["estimate"], f"{prefix}_se": n["se"],
                    f"{prefix}_lcl": n["lcl"], f"{prefix}_ucl": n["ucl"]}

        n_joint = int(self.capthists["joint"].counts.shape[0])
        rows = []
        for c, res in self.national.items():
            region = self.border.countries[c]
            rows.append({"region": c, **cols("joint", _n_row(self.joint, region, kind, alpha)),
                         **cols("national", _n_row(res, region, kind, alpha)),
                         "joint_n": n_joint,
                         "national_n": int(self.capthists[c].counts.shape[0])})
        if rows and not self.failed:
            union = shapely.union_all([self.border.countries[c] for c in self.national])
            z = float(norm.ppf(1 - alpha / 2))
            est = float(sum(r["national_N"] for r in rows))
            se = float(np.sqrt(sum(r["national_se"] ** 2 for r in rows)))
            rows.append({"region": "national sum",
                         **cols("joint", _n_row(self.joint, union, kind, alpha)),
                         **cols("national", {"estimate": est, "se": se,
                                             "lcl": max(est - z * se, 0.0),
                                             "ucl": est + z * se}),
                         "joint_n": n_joint,
                         "national_n": int(sum(r["national_n"] for r in rows))})
        out = pd.DataFrame(rows)
        if len(out):
            out["difference"] = out["national_N"] - out["joint_N"]
            out["ratio"] = out["national_N"] / out["joint_N"]
        return out

    def to_dict(self, kind: str = "E.N") -> dict[str, Any]:
        """JSON-ready: ``joint`` and ``national`` fits (``SECRResults.to_dict``) and ``table``."""
        tab = self.table(kind)
        return {
            "species": self.species, "detectfn": self.detectfn, "settings": dict(self.settings),
            "joint": self.joint.to_dict(),
            "national": {c: r.to_dict() for c, r in self.national.items()},
            "table": {"kind": kind, "rows": tab.to_dict(orient="records")},
            "failed": dict(self.failed),
        }


def fit_joint_and_national(
    dataset: Dataset,
    /,
    *,
    border: Border,
    species: str,
    detectfn: str = "HHN",
    buffer_m: float = 12_000.0,
    spacing_m: float = 1_000.0,
    occasion_days: float = 1.0,
    countries: Sequence[str] | None = None,
    life_stage: str | None = "adult",
    detector: str = "count",
    threshold_min: float = 30.0,
    clip: str = "land",
    fit_options: Mapping[str, Any] | None = None,
    rasters: Mapping[str, Any] | None = None,
    two_party: bool = True,
) -> JointNationalResult:
    """Fit SECR to the joint data and to each country's data alone; compare abundance.

    Parameters
    ----------
    dataset : Dataset
        The joint dataset (``amurlink harmonise`` output, read with
        ``amurlink.io.read_camtrap_dp``).
    border : Border
        Border and country polygons in the working CRS (``amurlink.core.border.load_border``).
    species : str
        Scientific name, e.g. ``"Panthera pardus"``.
    detectfn : {"HHN", "HN", "HEX", "EX"}, default "HHN"
    buffer_m : float, default 12000
        Mask buffer around the cameras, in metres (each national mask around its own cameras).
    spacing_m : float, default 1000
        Mask spacing in metres.
    occasion_days : float, default 1
        Occasion length in days.
    countries : sequence of str, optional
        Countries to fit alone (default: the countries of the cameras that are also in the
        border file, e.g. ``CN``, ``RU``). A country with no detected animal is left out of
        ``national`` (logged).
    life_stage : str or None, default "adult"
    detector : {"count", "proximity"}, default "count"
    threshold_min : float, default 30
        Independence threshold in minutes.
    clip : {"land", "none"}, default "land"
        Masks keep points on the land of the border file (every country: not clipped at the
        China-Russia border), or everything.
    fit_options : dict, optional
        Extra :class:`~amurlink.analysis.secr.SECR` parameters (e.g. ``{"model": {"D":
        "~country"}}``). Every mask carries the covariate ``country`` (the border file's
        country holding the point).
    rasters : dict, optional
        Mask covariates from rasters, ``{"forest": "forest.tif"}`` (sampled at the mask
        points; reprojected when the raster's CRS differs).
    two_party : bool, default True
        The study's ``[links] two_party`` rule, as
        :func:`amurlink.analysis.crossborder.encounters` applies it: with ``False`` a link
        between the catalogues that one side accepted joins the two animals.

    Returns
    -------
    JointNationalResult
        ``.joint`` (SECRResults), ``.national`` (dict code -> SECRResults), ``.table()``
        (per-country N from the joint and the national fits side by side, plus the national
        sum against the joint), ``.capthists``, ``.masks``.

    Warns
    -----
    MaskBufferWarning
        A fit's sigma exceeds a third of ``buffer_m``.
    ConvergenceWarning
        From the optimiser.
    """
    layout = detector_layout(dataset, border=border, occasion_days=occasion_days)
    enc = _encounters(dataset, border=border, species=species, life_stage=life_stage,
                      start=None, end=None, tolerance_m=0.0, threshold_min=threshold_min,
                      crs=None, two_party=two_party)
    if countries is None:
        present = set(layout.detectors["country"].dropna())
        countries = [c for c in border.country_codes if c in present]
    opts = {"detectfn": detectfn, **dict(fit_options or {})}
    common = {"border": border, "species": species, "life_stage": life_stage,
              "detector": detector, "threshold_min": threshold_min, "encounters": enc,
              "layout": layout}
    chs: dict[str, CaptureHistory] = {}
    masks: dict[str, Mask] = {}
    chs["joint"] = capthist_from_dataset(dataset, **common)
    masks["joint"] = _with_covariates(
        secr_mask(chs["joint"].traps, border=border, buffer_m=buffer_m, spacing_m=spacing_m,
                  clip=clip), border, rasters)
    joint = fit_secr(chs["joint"], masks["joint"], **opts)
    check_buffer(joint, buffer_m, label=f"{species} joint")
    national: dict[str, SECRResults] = {}
    failed: dict[str, str] = {}
    for c in countries:
        try:
            ch = capthist_from_dataset(dataset, country=c, **common)
        except DataError as exc:  # no camera or no animal of the country
            logger.info("%s: no national fit for %s (%s)", species, c, exc)
            continue
        chs[c] = ch
        masks[c] = _with_covariates(
            secr_mask(ch.traps, border=border, buffer_m=buffer_m, spacing_m=spacing_m,
                      clip=clip), border, rasters)
        try:
            national[c] = fit_secr(ch, masks[c], **opts)
        except FitError as exc:  # one country's failure must not lose the joint fit
            logger.warning("%s: the national fit for %s failed: %s", species, c, exc)
            failed[c] = str(exc)
            continue
        check_buffer(national[c], buffer_m, label=f"{species} {c}")
    return JointNationalResult(
        species=species, detectfn=detectfn, joint=joint, national=national, capthists=chs,
        masks=masks, border=border, failed=failed,
        settings={"buffer_m": float(buffer_m), "spacing_m": float(spacing_m),
                  "occasion_days": float(occasion_days), "life_stage": life_stage,
                  "detector": detector, "threshold_min": float(threshold_min), "clip": clip})


def fit_models_joint_and_national(
    dataset: Dataset,
    /,
    *,
    border: Border,
    species: str,
    models: Sequence[str | Mapping[str, str]],
    detectfn: str = "HHN",
    criterion: str = "AICc",
    rasters: Mapping[str, Any] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """The study's list of models for one species, on the joint data and on each country's
    data alone: one :class:`~amurlink.analysis.secr.selection.ModelTable` each.

    Capture histories and masks are those of :func:`fit_joint_and_national` (same options:
    ``buffer_m``, ``spacing_m``, ``occasion_days``, ``life_stage``, ``detector``, ...); the
    masks carry ``country`` and the ``rasters``, so models such as ``"D~country"`` or
    ``"D~forest"`` (with ``rasters={"forest": "forest.tif"}``) can be compared.

    Returns
    -------
    dict
        ``"joint"`` and each fitted country code -> ModelTable (a country whose models all
        fail is left out and logged); ``"base"`` -> the JointNationalResult of the ``~1``
        model (its capture histories, masks and the joint-vs-national table).
    """
    from amurlink.analysis.secr.selection import fit_models

    base = fit_joint_and_national(dataset, border=border, species=species, detectfn=detectfn,
                                  rasters=rasters, **options)
    out: dict[str, Any] = {"base": base}
    for key, ch in base.capthists.items():
        try:
            out[key] = fit_models(ch, base.masks[key], models, detectfn=detectfn,
                                  criterion=criterion)
        except ValueError as exc:
            logger.warning("%s %s: no model could be fitted: %s", species, key, exc)
    return out


def with_dettype(model: str | Mapping[str, str], detectfn: str = "HHN") -> dict[str, str]:
    """``model`` with a detection intercept per detector type (camera, DNA): ``dettype``
    added to the ``lambda0`` (hazard detection functions) or ``g0`` formula
    (``"lambda0~b"`` -> ``"~b+dettype"``) unless it holds it already."""
    from amurlink.analysis.secr.selection import with_detection_term

    return with_detection_term(model, "dettype", detectfn)


def _sample_country(dna: pd.DataFrame, border: Border) -> np.ndarray:
    """Country of each DNA sample: its ``countryCode``, else the border file's country
    polygon holding it (``x, y`` in the working CRS, or ``latitude, longitude``)."""
    n = len(dna)
    cc = (dna["countryCode"].astype(object).to_numpy() if "countryCode" in dna.columns
          else np.full(n, None, object))
    need = np.asarray(pd.isna(cc), bool)
    if need.any() and border.countries:
        if {"x", "y"} <= set(dna.columns):
            x = pd.to_numeric(dna["x"], errors="coerce").to_numpy(float)
            y = pd.to_numeric(dna["y"], errors="coerce").to_numpy(float)
        elif {"latitude", "longitude"} <= set(dna.columns):
            from amurlink.core.crs import to_metric

            x, y = to_metric(pd.to_numeric(dna["longitude"], errors="coerce").to_numpy(float),
                             pd.to_numeric(dna["latitude"], errors="coerce").to_numpy(float),
                             crs=border.crs)
            x, y = np.asarray(x, float), np.asarray(y, float)
        else:
            return cc
        ok = need & np.isfinite(x) & np.isfinite(y)
        for code, poly in border.countries.items():
            inside = np.zeros(n, bool)
            inside[ok] = shapely.contains_xy(poly, x[ok], y[ok])
            cc[inside & need] = code
            need &= ~inside
    return cc


def fit_camera_dna_models(
    dataset: Dataset,
    dna_assignments: pd.DataFrame,
    /,
    *,
    border: Border,
    species: str,
    models: Sequence[str | Mapping[str, str]],
    detectfn: str = "HHN",
    buffer_m: float = 12_000.0,
    spacing_m: float = 1_000.0,
    occasion_days: float = 1.0,
    countries: Sequence[str] | None = None,
    life_stage: str | None = "adult",
    detector: str = "count",
    threshold_min: float = 30.0,
    clip: str = "land",
    dna_spacing: float = 2000.0,
    dna_occasions: int = 1,
    rasters: Mapping[str, Any] | None = None,
    criterion: str = "AICc",
    two_party: bool = True,
    dna_search: Sequence[Any] | None = None,
    dna_snap: float = 100.0,
) -> dict[str, Any]:
    """Camera + DNA models of one species, on the joint data and on each country's alone.

    Each capture history is :func:`capthist_camera_dna` (the camera occasions of
    :func:`fit_joint_and_national`'s history, then ``dna_occasions`` DNA search occasions on
    a ``dna_spacing`` proximity grid); per country, that country's cameras and national IDs
    and the DNA samples collected there (``countryCode``). The mask is buffered by
    ``buffer_m`` around cameras and grid points together (clipped as
    :func:`secr_mask`), with ``country`` and ``rasters``. Each model of ``models`` is fitted
    with a detection intercept per method (:func:`with_dettype`), so the tables compare
    density models of the same camera + DNA data; their AICc is not comparable with the
    camera-only tables (other data). ``two_party`` is the study's ``[links] two_party`` rule
    (see :func:`fit_joint_and_national`).

    With ``dna_search`` (the routes or areas searched, shapely geometries in ``border.crs``,
    e.g. from :func:`read_dna_search`) the DNA is what it was, a transect or polygon search,
    and each table fits the cameras and the search as linked methods
    (:func:`capthists_camera_dna_search`, ``SECR(linked=True)``, a detection intercept per
    method through ``session``); per country the shapes are clipped to the country and
    ``dna_snap`` is the tolerance for samples beside a route. ``"capthists"`` then holds the
    ``[camera, dna]`` pairs.

    Returns
    -------
    dict
        ``"joint"`` and each fitted country code -> ModelTable; ``"capthists"`` and
        ``"masks"`` (same keys). A country without cameras, animals or DNA samples is left
        out (logged).

    Raises
    ------
    DataError
        No identified animal or no DNA sample of ``species`` in the joint data.
    """
    from amurlink.analysis.secr.selection import fit_models

    layout = detector_layout(dataset, border=border, occasion_days=occasion_days)
    enc = _encounters(dataset, border=border, species=species, life_stage=None, start=None,
                      end=None, tolerance_m=0.0, threshold_min=threshold_min, crs=None,
                      two_party=two_party)
    if countries is None:
        present = set(layout.detectors["country"].dropna())
        countries = [c for c in border.country_codes if c in present]
    from amurlink.analysis.secr.from_dataset import capthists_camera_dna_search
    from amurlink.analysis.secr.selection import with_detection_term

    search = list(dna_search) if dna_search is not None else None
    specs = ([with_detection_term(m, "session", detectfn) for m in models] if search
             else [with_dettype(m, detectfn) for m in models])
    opts = {"border": border, "species": species, "occasion_days": occasion_days,
            "camera_detector": detector, "life_stage": life_stage,
            "threshold_min": threshold_min, "dna_occasions": dna_occasions,
            "encounters": enc, "layout": layout}
    out: dict[str, Any] = {"capthists": {}, "masks": {}}
    cc = _sample_country(dna_assignments, border)
    for key in ["joint", *countries]:
        dna = dna_assignments if key == "joint" else dna_assignments[(cc == key)]
        country = None if key == "joint" else key
        try:
            if search:
                shapes = search
                if country is not None and country in border.countries:
                    shapes = [g for g in (s.intersection(border.countries[country])
                                          for s in search) if not g.is_empty]
                    if not shapes:
                        raise DataError(f"no DNA search in {country}")
                ch = capthists_camera_dna_search(dataset, dna, country=country, search=shapes,
                                                 snap=dna_snap, **opts)
                pts = np.vstack([ch[0].traps, shapely.get_coordinates(
                    shapely.segmentize(shapely.union_all(shapes), spacing_m / 2))])
            else:
                ch = capthist_camera_dna(dataset, dna, country=country,
                                         dna_spacing=dna_spacing, **opts)
                pts = ch.traps
        except DataError as exc:
            if key == "joint":
                raise
            logger.info("%s: no camera + DNA fit for %s (%s)", species, key, exc)
            continue
        mask = _with_covariates(secr_mask(pts, border=border, buffer_m=buffer_m,
                                          spacing_m=spacing_m, clip=clip), border, rasters)
        out["capthists"][key], out["masks"][key] = ch, mask
        try:
            out[key] = fit_models(ch, mask, specs, detectfn=detectfn, criterion=criterion,
                                  **({"linked": True} if search else {}))
        except ValueError as exc:
            if key == "joint":
                raise FitError(f"{species}: no camera + DNA model could be fitted: "
                               f"{exc}") from None
            logger.warning("%s %s: no camera + DNA model could be fitted: %s", species, key,
                           exc)
    return out
