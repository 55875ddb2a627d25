"""Capture histories from a joint (or national) Camtrap DP dataset.

Detectors are camera *locations* (``locationID``; a Chinese station's photo and video
cameras, and its successive service deployments, form one detector), occasions are periods of
``occasion_days`` (default one day) from ``origin``, usage is the share of each occasion in
which at least one deployment of the location worked (deployment period minus its
``deploymentGaps``), and the counts are independent events of identified animals of one
species (adults by default).

Encounters come from :func:`amurlink.analysis.crossborder.encounters` (species, life stage,
joint identities, national IDs, declared countries), reduced to independent events per
*location* with :func:`amurlink.analysis.events.independent_events` (so one passage seen by
both cameras of a pair counts once).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from amurlink.analysis import _crossborder_core as _core
from amurlink.analysis.crossborder import encounters as _encounters
from amurlink.analysis.events import independent_events
from amurlink.analysis.secr.capthist import CaptureHistory
from amurlink.core.border import Border
from amurlink.dataset import Dataset
from amurlink.exceptions import ConfigError, DataError

__all__ = ["DetectorLayout", "detector_layout", "capthist_from_dataset", "capthist_camera_dna",
           "dna_assignments"]

logger = logging.getLogger(__name__)

_NS_PER_DAY = 86_400 * 10**9


@dataclass(frozen=True)
class DetectorLayout:
    """Detectors (camera locations) of a dataset and their usage per occasion.

    Attributes
    ----------
    detectors : DataFrame
        One row per detector: ``trapID`` (``locationID``, else ``deploymentID``), ``x``, ``y``
        (metres, working CRS; mean over the deployments), ``country`` (declared
        ``deploymentDetails.countryCode``, else the polygon holding the location),
        ``deployments`` (count).
    deployment_detector : Series
        ``deploymentID`` -> ``trapID``.
    usage : ndarray, shape (K, S)
        Share of each occasion in which at least one deployment of the detector worked.
    origin : pandas.Timestamp
        UTC start of the first occasion.
    occasion_days : float
        Occasion length in days.
    """

    detectors: pd.DataFrame
    deployment_detector: pd.Series
    usage: np.ndarray
    origin: pd.Timestamp
    occasion_days: float

    @property
    def n_occasions(self) -> int:
        return int(self.usage.shape[1])

    def occasion_of(self, time: Any) -> np.ndarray:
        """0-based occasion index of UTC times (may fall outside ``0..S-1``)."""
        t = pd.to_datetime(pd.Series(time), utc=True).to_numpy("datetime64[ns]").astype(np.int64)
        step = self.occasion_days * _NS_PER_DAY
        return np.floor((t - self.origin.value) / step).astype(np.int64)


def _utc_ns(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values, utc=True, format="mixed").to_numpy(
        "datetime64[ns]").astype(np.int64)


def _covered(starts: np.ndarray, ends: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Time covered by the union of intervals ``[starts, ends)`` within each pair of bounds."""
    if starts.size == 0:
        return np.zeros(bounds.size - 1)
    order = np.argsort(starts, kind="stable")
    s, e = starts[order].astype(float), ends[order].astype(float)
    # merge overlapping intervals
    run_end = np.maximum.accumulate(e)
    new = np.ones(s.size, dtype=bool)
    new[1:] = s[1:] > run_end[:-1]
    grp = np.cumsum(new) - 1
    ms = s[new]
    me = np.zeros(ms.size)
    np.maximum.at(me, grp, e)
    me = np.maximum(me, ms)
    # cumulative coverage function at the bounds
    cum = np.concatenate([[0.0], np.cumsum(me - ms)])
    b = bounds.astype(float)
    i = np.searchsorted(ms, b, side="right")  # intervals starting at or before b
    before = cum[np.maximum(i - 1, 0)]
    inside = np.where(i > 0, np.clip(b - ms[np.maximum(i - 1, 0)], 0.0,
                                     (me - ms)[np.maximum(i - 1, 0)]), 0.0)
    F = np.where(i > 0, before + inside, 0.0)
    return np.diff(F)


def detector_layout(
    dataset: Dataset,
    /,
    *,
    border: Border,
    occasion_days: float = 1.0,
    origin: Any = None,
    end: Any = None,
    countries: Sequence[str] | None = None,
) -> DetectorLayout:
    """Camera locations as detectors, with usage per occasion from deployments and gaps.

    Parameters
    ----------
    dataset : Dataset
        Joint (or national) dataset with ``deployments`` (``deploymentID``, ``latitude``,
        ``longitude``, ``deploymentStart``, ``deploymentEnd``; ``locationID`` when present),
        optionally ``deploymentGaps`` and ``deploymentDetails``.
    border : Border
        Border in the working CRS (coordinates and countries).
    occasion_days : float, default 1
        Occasion length in days.
    origin : datetime-like, optional
        UTC start of occasion 1; default 00:00 UTC of the day of the first deployment start.
    end : datetime-like, optional
        End of the survey; default the last deployment end.
    countries : sequence of str, optional
        Keep only detectors of these countries.

    Returns
    -------
    DetectorLayout
    """
    if not np.isfinite(occasion_days) or occasion_days <= 0:
        raise ConfigError(f"occasion_days must be > 0, got {occasion_days!r}")
    dep = dataset.deployments
    _core._need(dep, "deployments", ["deploymentID", "latitude", "longitude",
                                     "deploymentStart", "deploymentEnd"])
    dep = dep.drop_duplicates("deploymentID").reset_index(drop=True)
    places = _core._deployment_places(dataset, border.crs, border)
    places = places.set_index("deploymentID").reindex(
        _core._obj(dep["deploymentID"]).to_numpy(object))
    dep_id = _core._obj(dep["deploymentID"]).to_numpy(object)
    loc = (_core._obj(dep["locationID"]) if "locationID" in dep else pd.Series([None] * len(dep)))
    trap = np.where(pd.isna(loc.to_numpy(object)), dep_id, loc.to_numpy(object)).astype(object)
    country = places["declaredCountry"].where(places["declaredCountry"].notna(),
                                              places["polygonCountry"]).to_numpy(object)
    start = _utc_ns(dep["deploymentStart"])
    stop = _utc_ns(dep["deploymentEnd"])
    frame = pd.DataFrame({"deploymentID": dep_id, "trapID": trap,
                          "x": places["x"].to_numpy(float), "y": places["y"].to_numpy(float),
                          "country": country, "start": start, "stop": stop})
    if countries is not None:
        frame = frame[frame["country"].isin(list(countries))].reset_index(drop=True)
    if frame.empty:
        raise DataError("no deployment to use as a detector"
                        + (f" in {list(countries)}" if countries is not None else ""))
    bad = ~np.isfinite(frame["x"].to_numpy(float)) | ~np.isfinite(frame["y"].to_numpy(float))
    if bad.any():
        raise DataError(f"deployment {frame['deploymentID'].iloc[int(np.flatnonzero(bad)[0])]!r}"
                        " has no usable coordinates")
    if origin is None:
        o = pd.Timestamp(int(frame["start"].min()), tz="UTC").floor("D")
    else:
        o = pd.Timestamp(origin)
        o = o.tz_localize("UTC") if o.tzinfo is None else o.tz_convert("UTC")
    t_end = int(frame["stop"].max()) if end is None else _utc_ns(pd.Series([end]))[0]
    step = occasion_days * _NS_PER_DAY
    S = max(1, int(np.ceil((t_end - o.value) / step)))
    bounds = o.value + np.arange(S + 1) * step

    # operating intervals: deployment minus its gaps
    gaps = dataset.get("deploymentGaps")
    pieces_s, pieces_e, pieces_t = [], [], []
    gap_by: dict[Any, list[tuple[int, int]]] = {}
    if gaps is not None and len(gaps):
        gs = _utc_ns(gaps["gapStart"])
        ge = _utc_ns(gaps["gapEnd"])
        for d, a, b in zip(_core._obj(gaps["deploymentID"]).to_numpy(object), gs, ge,
                           strict=True):
            gap_by.setdefault(d, []).append((int(a), int(b)))
    for d, t, a, b in frame[["deploymentID", "trapID", "start", "stop"]].itertuples(
            index=False, name=None):
        cur = [(int(a), int(b))]
        for ga, gb in sorted(gap_by.get(d, ())):
            nxt = []
            for ca, cb in cur:
                if gb <= ca or ga >= cb:
                    nxt.append((ca, cb))
                    continue
                if ga > ca:
                    nxt.append((ca, ga))
                if gb < cb:
                    nxt.append((gb, cb))
            cur = nxt
        for ca, cb in cur:
            if cb > ca:
                pieces_s.append(ca)
                pieces_e.append(cb)
                pieces_t.append(t)
    traps = frame.groupby("trapID", sort=True).agg(
        x=("x", "mean"), y=("y", "mean"), country=("country", "first"),
        deployments=("deploymentID", "size")).reset_index()
    t_index = pd.Series(np.arange(len(traps)), index=traps["trapID"].to_numpy(object))
    usage = np.zeros((len(traps), S))
    ps, pe = np.asarray(pieces_s, dtype=np.int64), np.asarray(pieces_e, dtype=np.int64)
    pk = t_index.reindex(np.asarray(pieces_t, dtype=object)).to_numpy()
    for k in range(len(traps)):
        sel = pk == k
        usage[k] = _covered(ps[sel], pe[sel], bounds) / step
    usage = np.clip(usage, 0.0, 1.0)
    return DetectorLayout(
        detectors=traps,
        deployment_detector=pd.Series(frame["trapID"].to_numpy(object),
                                      index=frame["deploymentID"].to_numpy(object)),
        usage=usage, origin=o, occasion_days=float(occasion_days))


def capthist_from_dataset(
    dataset: Dataset,
    /,
    *,
    border: Border,
    species: str,
    country: str | None = None,
    occasion_days: float = 1.0,
    life_stage: str | None = "adult",
    detector: str = "count",
    threshold_min: float = 30.0,
    origin: Any = None,
    end: Any = None,
    encounters: pd.DataFrame | None = None,
    layout: DetectorLayout | None = None,
    two_party: bool = True,
) -> CaptureHistory:
    """Capture history of one species: individuals x occasions x camera locations.

    Parameters
    ----------
    dataset : Dataset
        A joint dataset (``amurlink harmonise``), or a national one.
    border : Border
        China-Russia border in the working CRS (:func:`amurlink.core.border.load_border`).
    species : str
        Scientific name (a species name also matches its subspecies).
    country : str, optional
        ``None``: the joint analysis (animals are joint identities, every detector).
        A country code: that country's survey alone (animals are its national IDs, as it
        catalogued them; detectors are its own cameras).
    occasion_days : float, default 1
        Occasion length in days.
    life_stage : str or None, default "adult"
        As :func:`amurlink.analysis.crossborder.encounters` (``None``: every stage).
    detector : {"count", "proximity"}, default "count"
        ``count``: independent events per occasion; ``proximity``: detected or not.
    threshold_min : float, default 30
        Independence threshold in minutes (events per location, individual and species).
    origin, end : datetime-like, optional
        See :func:`detector_layout`.
    encounters, layout : optional
        Precomputed :func:`~amurlink.analysis.crossborder.encounters` (any species) and
        :func:`detector_layout` (joint; subset to ``country`` here), to share work between
        the joint and national histories.
    two_party : bool, default True
        The study's ``[links] two_party`` rule: whether a link between the two countries'
        catalogues joins two animals only once a reviewer of each side accepted it.

    Returns
    -------
    CaptureHistory
        Detector ``count`` or ``proximity``; ``usage`` from the layout, ``trap_ids`` the
        location IDs, ``animal_ids`` the joint (or national) IDs, ``session`` ``"joint"`` or
        the country code. Detections outside the operating time of their location (usage 0)
        or outside the occasions are dropped and logged.
    """
    if detector not in ("count", "proximity"):
        raise ConfigError(f"detector must be 'count' or 'proximity' for camera data, got "
                          f"{detector!r}")
    if layout is None:
        layout = detector_layout(dataset, border=border, occasion_days=occasion_days,
                                 origin=origin, end=end)
    if country is not None:
        keep = (layout.detectors["country"] == country).to_numpy(bool)
        if not keep.any():
            raise DataError(f"no camera of country {country!r}")
        layout = DetectorLayout(
            detectors=layout.detectors[keep].reset_index(drop=True),
            deployment_detector=layout.deployment_detector[
                layout.deployment_detector.isin(layout.detectors["trapID"][keep])],
            usage=layout.usage[keep], origin=layout.origin,
            occasion_days=layout.occasion_days)
    if encounters is None:
        encounters = _encounters(dataset, border=border, species=species,
                                 life_stage=life_stage, start=None, end=None,
                                 tolerance_m=0.0, threshold_min=threshold_min, crs=None,
                                 two_party=two_party)
    enc = encounters[(encounters["source"] == "camera").to_numpy(bool)]
    enc = enc[_core.species_matches(enc["scientificName"], [species])]
    if life_stage is not None:
        st = enc["lifeStage"]
        enc = enc[(st.isna() | (st == life_stage)).to_numpy(bool)]
    if country is not None:
        enc = enc[(enc["nationalCountry"] == country).to_numpy(bool)]
        animal = _core._obj(enc["nationalID"]).to_numpy(object)
    else:
        animal = _core._obj(enc["jointID"]).to_numpy(object)
    trap = layout.deployment_detector.reindex(
        _core._obj(enc["deploymentID"]).to_numpy(object)).to_numpy(object)
    ev = pd.DataFrame({"observationID": _core._obj(enc["encounterID"]).to_numpy(object),
                       "locationID": trap, "individualID": animal,
                       "scientificName": species, "eventStart": enc["time"].to_numpy()})
    ev = ev[pd.notna(ev["locationID"]).to_numpy(bool)]
    if len(ev):
        ev["eventStart"] = pd.to_datetime(ev["eventStart"], utc=True)
        flags = independent_events(ev, threshold_min=threshold_min, by=("locationID",),
                                   per_individual=True)
        ev = ev[flags["independent"].to_numpy(bool)]
    t_index = pd.Series(np.arange(len(layout.detectors)),
                        index=layout.detectors["trapID"].to_numpy(object))
    k = t_index.reindex(ev["locationID"].to_numpy(object)).to_numpy().astype(np.int64)
    s = layout.occasion_of(ev["eventStart"])
    S = layout.n_occasions
    inside = (s >= 0) & (s < S)
    ok = inside.copy()
    ok[inside] = layout.usage[k[inside], s[inside]] > 0
    n_drop = int((~ok).sum())
    if n_drop:
        logger.info("%d %s event(s) fall outside the operating time of their camera "
                    "location (or the occasions) and are left out", n_drop, species)
    ev, k, s = ev[ok], k[ok], s[ok]
    ids, a = np.unique(ev["individualID"].to_numpy(str), return_inverse=True)
    if detector == "proximity":
        trip = np.unique(np.stack([a, s, k]), axis=1) if a.size else np.zeros((3, 0), int)
        a, s, k = trip
    ch = CaptureHistory.from_arrays(
        layout.detectors[["x", "y"]].to_numpy(float), a, s, k, detector=detector,
        n_occasions=S, usage=layout.usage,
        trap_ids=list(layout.detectors["trapID"].astype(str)), animal_ids=list(ids),
        session="joint" if country is None else country, crs=str(border.crs.to_string()))
    if ch.counts.shape[0] == 0:
        raise DataError(f"no identified {species} ({life_stage or 'any stage'}) detected"
                          + (f" in {country}" if country else ""))
    return ch


def _dna_table(dataset: Dataset, dna: pd.DataFrame, border: Border) -> pd.DataFrame:
    """``sampleID, individualID, x, y, time`` of assigned DNA samples (coordinates and dates
    from the assignments, else from the dataset's ``samples`` table)."""
    if not isinstance(dna, pd.DataFrame):
        raise ConfigError("dna_assignments must be a table (DataFrame) with columns sampleID "
                          "and individualID")
    for col in ("sampleID", "individualID"):
        if col not in dna.columns:
            raise DataError(f"DNA assignments: column {col!r} is missing; expected sampleID, "
                            "individualID and the sample's x, y (or latitude, longitude) and "
                            "collectionDate (or a samples table in the dataset)")
    d = dna.copy()
    d["sampleID"] = _core._obj(d["sampleID"])
    need = [c for c in ("collectionDate", "latitude", "longitude")
            if c not in d.columns and not (c != "collectionDate" and {"x", "y"} <= set(d))]
    if need:
        samples = dataset.get("samples")
        if samples is None or "sampleID" not in samples:
            raise DataError(f"DNA assignments lack {', '.join(need)} and the dataset has no "
                            "samples table to take them from; add the columns")
        s = samples.assign(sampleID=_core._obj(samples["sampleID"])).drop_duplicates(
            "sampleID").set_index("sampleID")
        for c in need:
            if c not in s.columns:
                raise DataError(f"DNA samples: column {c!r} is missing from the assignments "
                                "and from the dataset's samples table")
            d[c] = s[c].reindex(d["sampleID"].to_numpy(object)).to_numpy()
    if {"x", "y"} <= set(d.columns):
        x = pd.to_numeric(d["x"], errors="coerce").to_numpy(float)
        y = pd.to_numeric(d["y"], errors="coerce").to_numpy(float)
    else:
        from amurlink.core.crs import to_metric

        lon = pd.to_numeric(d["longitude"], errors="coerce").to_numpy(float)
        lat = pd.to_numeric(d["latitude"], errors="coerce").to_numpy(float)
        x, y = to_metric(lon, lat, crs=border.crs)
    t = pd.to_datetime(d["collectionDate"], utc=True, errors="coerce", format="mixed")
    out = pd.DataFrame({"sampleID": d["sampleID"].to_numpy(object),
                        "individualID": _core._obj(d["individualID"]).to_numpy(object),
                        "x": np.asarray(x, float), "y": np.asarray(y, float),
                        "time": t.to_numpy("datetime64[ns]").astype(np.int64)})
    bad = (~np.isfinite(out["x"]) | ~np.isfinite(out["y"]) | t.isna().to_numpy()
           | pd.isna(out["individualID"]).to_numpy())
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(f"DNA assignments, sample {out['sampleID'].iloc[i]!r} (row {i + 1}): "
                        "needs an individualID, coordinates and a collectionDate")
    return out


def dna_assignments(
    lab_files: str | Path | Sequence[str | Path],
    /,
    *,
    reference: str | Path | pd.DataFrame | None = None,
    links: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """DNA samples assigned to individuals from the labs' genotype files, as a study run does.

    The labs' files are read and matched together (:func:`amurlink.identify.genotypes.
    dna_results`: lab offsets corrected from the ``reference`` samples typed by every lab,
    then one genotype per DNA individual). A DNA individual becomes a catalogue individual
    through the *confirmed* links of the joint link log between one of its samples (or its
    representative) and a catalogue ID (``amurlink genotypes link`` proposes them, a reviewer
    confirms); a sample confirmed to an ID keeps that ID. A DNA individual with no confirmed
    link is a DNA-only animal ``DNA:<representative sample>``: if it was in fact
    photographed, the model counts it twice, so confirm the links first.

    Parameters
    ----------
    lab_files : path or paths
        The labs' genotype files (``[inputs] dna``).
    reference : path or DataFrame, optional
        ``referenceID, sampleID`` of the samples typed by several labs (``dna_reference``).
    links : DataFrame, optional
        The joint package's identity-link log (``identityLinks``).

    Returns
    -------
    DataFrame
        One row per field sample assigned to an individual: ``sampleID, individualID,
        dnaIndividual, latitude, longitude, collectionDate, countryCode, scientificName``
        (the file's species, else empty: :func:`capthist_camera_dna` then keeps the sample
        only when its individual is a catalogue animal of the species fitted). The input of
        :func:`capthist_camera_dna`.
    """
    from amurlink.identify.genotypes import dna_results, read_genotypes
    from amurlink.identify.genotypes._link import _confirmed_catalogue_samples

    files = [Path(lab_files)] if isinstance(lab_files, str | Path) else [Path(f) for f in
                                                                           lab_files]
    if not files:
        raise ConfigError("no DNA lab file given")
    tables = read_genotypes(files)
    res = dna_results(tables, reference=reference)
    smp = res.samples
    smp = smp[~smp["reference"].astype(bool) & smp["individual"].notna()]
    conf = (_confirmed_catalogue_samples(links) if links is not None and len(links)
            else pd.DataFrame(columns=["individualID", "sampleID"]))
    by_sample = dict(zip(conf["sampleID"].astype(str), conf["individualID"].astype(str),
                         strict=True))
    ind_cat: dict[str, set[str]] = {}
    for sid, ind in zip(smp["sampleID"].astype(str), smp["individual"].astype(str),
                        strict=True):
        for key in (sid, ind):
            if key in by_sample:
                ind_cat.setdefault(ind, set()).add(by_sample[key])
    ids = [by_sample.get(sid) or (min(ind_cat[ind]) if ind in ind_cat else f"DNA:{ind}")
           for sid, ind in zip(smp["sampleID"].astype(str), smp["individual"].astype(str),
                               strict=True)]
    species = tables.samples.drop_duplicates("sampleID").set_index("sampleID")
    sci = (species["scientificName"].reindex(smp["sampleID"]).to_numpy(object)
           if "scientificName" in species else np.full(len(smp), None, object))
    out = pd.DataFrame({
        "sampleID": smp["sampleID"].astype(str).to_numpy(object),
        "individualID": np.asarray(ids, dtype=object),
        "dnaIndividual": smp["individual"].astype(str).to_numpy(object),
        "latitude": smp["latitude"].to_numpy(float),
        "longitude": smp["longitude"].to_numpy(float),
        "collectionDate": smp["collectionDate"].to_numpy(object),
        "countryCode": smp["countryCode"].to_numpy(object),
        "scientificName": sci})
    logger.info("DNA: %d field samples of %d individuals, %d of them linked to a catalogue "
                "individual", len(out), out["dnaIndividual"].nunique(), len(ind_cat))
    return out.reset_index(drop=True)


def _dna_occasion(d: pd.DataFrame, dna_occasions: int) -> np.ndarray:
    """0-based DNA search occasion of each sample: equal time bins from the first to the
    last sample."""
    t = d["time"].to_numpy(np.int64)
    t0, t1 = int(t.min()), int(t.max())
    width = max(t1 - t0, 1) / dna_occasions
    return np.minimum(((t - t0) / width).astype(np.int64), dna_occasions - 1)


def _camera_and_dna_samples(
    dataset: Dataset, dna_assignments: pd.DataFrame, *, border: Border, species: str,
    country: str | None, occasion_days: float, camera_detector: str, life_stage: str | None,
    threshold_min: float, origin: Any, end: Any, dna_occasions: int,
    encounters: pd.DataFrame | None, layout: DetectorLayout | None, two_party: bool,
) -> tuple[CaptureHistory, pd.DataFrame, int]:
    """The camera history and the DNA samples of its animals (``x``, ``y``, ``time``,
    ``animal`` labelled as the camera history's animals): the shared first half of
    :func:`capthist_camera_dna` and :func:`capthists_camera_dna_search`."""
    if camera_detector not in ("count", "proximity"):
        raise ConfigError(f"camera_detector must be 'count' or 'proximity', got "
                          f"{camera_detector!r}")
    if int(dna_occasions) != dna_occasions or dna_occasions < 1:
        raise ConfigError(f"dna_occasions must be a whole number >= 1, got {dna_occasions!r}")
    dna_occasions = int(dna_occasions)
    if encounters is None:
        encounters = _encounters(dataset, border=border, species=species, life_stage=None,
                                 start=None, end=None, tolerance_m=0.0,
                                 threshold_min=threshold_min, crs=None,
                                 two_party=two_party)
    if layout is None:
        layout = detector_layout(dataset, border=border, occasion_days=occasion_days,
                                 origin=origin, end=end)
    cam = capthist_from_dataset(dataset, border=border, species=species, country=country,
                                life_stage=life_stage, detector=camera_detector,
                                threshold_min=threshold_min, encounters=encounters,
                                layout=layout)
    # individual IDs of the camera history: joint IDs (or national IDs with a country)
    enc = encounters[_core.species_matches(encounters["scientificName"], [species])]
    if country is not None:
        enc = enc[(enc["nationalCountry"] == country).to_numpy(bool)]
    to_animal: dict[str, str] = {}
    stage: dict[str, Any] = {}
    for row in enc[["jointID", "members", "individualID", "nationalID", "lifeStage"]
                   ].itertuples(index=False):
        target = row.jointID if country is None else row.nationalID
        if pd.isna(target):
            continue
        names = [row.jointID, row.individualID, row.nationalID]
        names += str(row.members).split(" = ") if pd.notna(row.members) else []
        for nm in names:
            if pd.notna(nm) and (country is None or str(nm) == str(target)
                                 or str(nm) == str(row.jointID)):
                to_animal.setdefault(str(nm), str(target))
        stage[str(target)] = row.lifeStage
    dna = dna_assignments
    if "scientificName" in dna.columns:
        # a sample without species counts when its individual is an animal of this species
        known = dna["scientificName"].notna().to_numpy(bool)
        keep = np.zeros(len(dna), bool)
        keep[known] = _core.species_matches(dna["scientificName"][known], [species])
        if "individualID" in dna.columns:
            ours = dna["individualID"].astype(str).isin(list(to_animal)).to_numpy(bool)
            keep |= ~known & ours
            if int((~known & ~ours).sum()):
                logger.info("%d DNA sample(s) without species and not linked to a %s "
                            "photographed here are left out", int((~known & ~ours).sum()),
                            species)
        dna = dna[keep]
    d = _dna_table(dataset, dna, border)
    if not len(d):
        raise DataError(f"no DNA sample of {species} in the assignments")
    d["animal"] = [to_animal.get(str(v), str(v)) for v in d["individualID"]]
    if "dnaIndividual" in dna.columns:  # one DNA individual must be one animal
        d["dnaIndividual"] = dna["dnaIndividual"].astype(str).to_numpy(object)
        split = d.groupby("dnaIndividual")["animal"].nunique()
        if (split > 1).any():
            ind = split.index[split.to_numpy() > 1][0]
            names = sorted(set(d.loc[d["dnaIndividual"] == ind, "animal"]))
            raise DataError(f"DNA individual {ind!r} is linked to different animals "
                            f"({', '.join(names)}); fix the confirmed links")
    if life_stage is not None:
        st = d["animal"].map(stage)
        other = (st.notna() & (st != life_stage)).to_numpy(bool)
        if other.any():
            logger.info("%d DNA sample(s) of %s individuals (not %s) are left out",
                        int(other.sum()), "other-stage", life_stage)
            d = d[~other]
    return cam, d, dna_occasions


def capthist_camera_dna(
    dataset: Dataset,
    dna_assignments: pd.DataFrame,
    /,
    *,
    border: Border,
    species: str,
    country: str | None = None,
    occasion_days: float = 1.0,
    camera_detector: str = "count",
    life_stage: str | None = "adult",
    threshold_min: float = 30.0,
    origin: Any = None,
    end: Any = None,
    dna_spacing: float = 2000.0,
    dna_area: Any = None,
    dna_occasions: int = 1,
    encounters: pd.DataFrame | None = None,
    layout: DetectorLayout | None = None,
    two_party: bool = True,
) -> CaptureHistory:
    """Camera and DNA detections of the same animals in one capture history.

    Camera occasions come first (as :func:`capthist_from_dataset`: camera locations,
    ``camera_detector`` ``count`` or ``proximity``, usage from the deployments), then
    ``dna_occasions`` DNA search occasions of ``proximity`` detectors: the searched area as a
    square grid of spacing ``dna_spacing`` (a proximity-grid approximation of secr's polygon
    search, which amurlink does not fit), each DNA sample assigned to its nearest grid
    point. Camera detectors have usage 0 on DNA occasions and grid detectors usage 0 on
    camera occasions, so the history is secr's mixed-detector session
    (``occasion_detectors``): fit it with ``model={"lambda0": "~dettype"}`` for one density
    and one movement scale shared by both methods and a detection intercept per method.

    Parameters
    ----------
    dataset : Dataset
        The joint package (or a national one); see :func:`capthist_from_dataset`.
    dna_assignments : DataFrame
        DNA samples of ``species`` assigned to individuals (e.g. from
        :mod:`amurlink.identify.genotypes`): ``sampleID``, ``individualID`` and the sample's
        ``x``, ``y`` (metres, ``border.crs``) or ``latitude``, ``longitude``, and
        ``collectionDate``; missing coordinates or dates are taken from the dataset's
        ``samples`` table. ``individualID`` is a joint ID, a national ID of the camera
        catalogue (``catalogue:ID`` as in the dataset) or, for an animal never photographed,
        any other label (a DNA-only animal). A ``scientificName`` column, when present, keeps
        the rows of ``species``.
    border, species, country, occasion_days, life_stage, threshold_min, origin, end
        As :func:`capthist_from_dataset`. With ``country`` the animals are that country's
        national IDs (DNA IDs are mapped to them; give that country's DNA assignments).
    camera_detector : {"count", "proximity"}, default "count"
        Detector type of the camera occasions.
    dna_spacing : float, default 2000
        Spacing of the search grid, metres (about sigma / 2 or finer).
    dna_area : shapely geometry, optional
        The searched area in ``border.crs``. Default: the convex hull of the DNA samples
        buffered by ``dna_spacing`` (give the real search area when it is known: the default
        cannot know where searches found nothing).
    dna_occasions : int, default 1
        Number of equal-length DNA search occasions from the first to the last sample.
    encounters, layout : optional
        As :func:`capthist_from_dataset` (``encounters`` of every life stage).
    two_party : bool, default True
        As :func:`capthist_from_dataset`.

    Returns
    -------
    CaptureHistory
        Detector ``count`` (or ``proximity``) with ``occasion_detectors`` = the camera type on
        the camera occasions and ``"proximity"`` on the DNA occasions; traps = camera
        locations then grid points (``trap_ids`` ``DNA-0001``...); ``trap_covariates``
        column ``method`` (``camera``/``dna``). Animals detected only by DNA have camera rows
        of zeros.

    Raises
    ------
    DataError
        A sample without individual, coordinates or date, or no animal at all.
    ConfigError
        Bad options.
    """
    if not (np.isfinite(dna_spacing) and dna_spacing > 0):
        raise ConfigError(f"dna_spacing must be > 0 metres, got {dna_spacing!r}")
    cam, d, dna_occasions = _camera_and_dna_samples(
        dataset, dna_assignments, border=border, species=species, country=country,
        occasion_days=occasion_days, camera_detector=camera_detector, life_stage=life_stage,
        threshold_min=threshold_min, origin=origin, end=end, dna_occasions=dna_occasions,
        encounters=encounters, layout=layout, two_party=two_party)
    # search grid
    import shapely
    from scipy.spatial import cKDTree

    if dna_area is None:
        pts = shapely.multipoints(np.column_stack([d["x"], d["y"]]))
        dna_area = shapely.buffer(shapely.convex_hull(pts), dna_spacing)
    x0, y0, x1, y1 = shapely.bounds(dna_area)
    gx = np.arange(x0 + dna_spacing / 2, x1, dna_spacing)
    gy = np.arange(y0 + dna_spacing / 2, y1, dna_spacing)
    grid = np.column_stack([a.ravel() for a in np.meshgrid(gx, gy)])
    grid = grid[shapely.contains_xy(dna_area, grid[:, 0], grid[:, 1])] if len(grid) else grid
    if not len(grid):
        raise DataError(f"the DNA search area holds no grid point at spacing {dna_spacing} m; "
                        "use a smaller dna_spacing")
    _, gk = cKDTree(grid).query(np.column_stack([d["x"], d["y"]]))
    gs = _dna_occasion(d, dna_occasions)
    # combined history
    ids = list(cam.animal_ids) + sorted(set(d["animal"]) - set(cam.animal_ids))
    a_index = {a: i for i, a in enumerate(ids)}
    Sc, Kc, Kd = cam.n_occasions, cam.n_detectors, len(grid)
    counts = np.zeros((len(ids), Sc + dna_occasions, Kc + Kd), np.int64)
    counts[:cam.n, :Sc, :Kc] = cam.counts
    ai = np.array([a_index[a] for a in d["animal"]], dtype=np.int64)
    counts[ai, Sc + gs, Kc + gk] = 1  # proximity: one per animal, occasion and detector
    usage = np.zeros((Kc + Kd, Sc + dna_occasions))
    usage[:Kc, :Sc] = cam.usage_or_ones
    usage[Kc:, Sc:] = 1.0
    return CaptureHistory(
        traps=np.vstack([cam.traps, grid]), counts=counts, detector=camera_detector,
        usage=usage, trap_ids=tuple(cam.trap_ids) + tuple(f"DNA-{i + 1:04d}"
                                                         for i in range(Kd)),
        animal_ids=tuple(ids), session=cam.session, crs=cam.crs,
        trap_covariates=pd.DataFrame({"method": ["camera"] * Kc + ["dna"] * Kd}),
        occasion_detectors=(camera_detector,) * Sc + ("proximity",) * dna_occasions)


def capthists_camera_dna_search(
    dataset: Dataset,
    dna_assignments: pd.DataFrame,
    /,
    *,
    border: Border,
    species: str,
    search: Any,
    snap: float = 100.0,
    country: str | None = None,
    occasion_days: float = 1.0,
    camera_detector: str = "count",
    life_stage: str | None = "adult",
    threshold_min: float = 30.0,
    origin: Any = None,
    end: Any = None,
    dna_occasions: int = 1,
    encounters: pd.DataFrame | None = None,
    layout: DetectorLayout | None = None,
    two_party: bool = True,
) -> list[CaptureHistory]:
    """Camera and DNA detections of the same animals as two linked methods, the DNA search
    as what it was: routes walked (``transect``) or areas searched (``polygon``).

    Fit the pair with ``SECR(..., linked=True, model={"lambda0": "~session"})``: one density
    and one movement scale, a detection intercept per method (sessions ``camera`` and
    ``dna``). Unlike :func:`capthist_camera_dna` (a grid of proximity detectors over an area
    guessed from the samples), the searched routes or areas are given, so the model also
    knows where searches found nothing.

    Parameters
    ----------
    dataset, dna_assignments, border, species, country, occasion_days, camera_detector,
    life_stage, threshold_min, origin, end, dna_occasions, encounters, layout, two_party
        As :func:`capthist_camera_dna`.
    search : sequence of shapely geometries
        The routes (LineString/MultiLineString) or the areas (Polygon/MultiPolygon) searched
        for DNA, in ``border.crs`` (metres), one detector each; all of one kind.
    snap : float, default 100
        A sample farther than 1 cm but at most this many metres from the nearest searched
        route or area is moved onto it (GPS positions beside the route, with a warning);
        farther ones are refused, named.

    Returns
    -------
    list of CaptureHistory
        ``[camera, dna]``: the camera history (session ``camera``) and the DNA history
        (``transect`` or ``polygon``, session ``dna``; one detector per searched shape,
        ``dna_occasions`` equal-length occasions from the first to the last sample), animals
        labelled alike.

    Raises
    ------
    DataError
        A sample without individual, coordinates or date, a sample off every searched route
        or area, or no animal at all.
    ConfigError
        Bad options.
    """
    import dataclasses

    import shapely

    shapes = list(search) if not isinstance(search, shapely.Geometry) else [search]
    kinds = {g.geom_type if isinstance(g, shapely.Geometry) else type(g).__name__
             for g in shapes}
    areas, lines = {"Polygon", "MultiPolygon"}, {"LineString", "MultiLineString"}
    if not shapes or not (kinds <= areas or kinds <= lines):
        raise ConfigError("search must be one or more routes (LineString) or areas "
                          f"(Polygon), all of one kind; got {sorted(kinds)}")
    detector = "polygon" if kinds <= areas else "transect"
    if not (np.isfinite(snap) and snap >= 0):
        raise ConfigError(f"snap must be >= 0 metres, got {snap!r}")
    cam, d, dna_occasions = _camera_and_dna_samples(
        dataset, dna_assignments, border=border, species=species, country=country,
        occasion_days=occasion_days, camera_detector=camera_detector, life_stage=life_stage,
        threshold_min=threshold_min, origin=origin, end=end, dna_occasions=dna_occasions,
        encounters=encounters, layout=layout, two_party=two_party)
    xy = np.column_stack([d["x"], d["y"]]).astype(float)
    dist = np.stack([shapely.distance(g, shapely.points(xy)) for g in shapes], axis=1)
    k = dist.argmin(axis=1)
    far = dist[np.arange(len(k)), k] > max(snap, 0.01)
    if far.any():
        j = int(np.flatnonzero(far)[0])
        sid = d["sampleID"].iloc[j] if "sampleID" in d.columns else str(j + 1)
        raise DataError(f"DNA sample {sid} is {dist[j, k[j]]:.0f} m from the nearest searched "
                        f"{'route' if detector == 'transect' else 'area'} (snap {snap:g} m); "
                        f"{int(far.sum())} sample(s) so: give the routes or areas searched, "
                        "or a larger snap")
    occ = _dna_occasion(d, dna_occasions)
    animals = list(dict.fromkeys(d["animal"]))
    index = {a: i for i, a in enumerate(animals)}
    dna = CaptureHistory.from_locations(
        shapes, np.array([index[a] for a in d["animal"]]), occ, k, xy, detector=detector,
        n_occasions=dna_occasions, animal_ids=animals, session="dna", crs=cam.crs,
        trap_ids=[f"DNA-{i + 1:03d}" for i in range(len(shapes))], snap=snap)
    return [dataclasses.replace(cam, session="camera"), dna]


def read_dna_search(path: Any, border: Border) -> list:
    """The routes walked or areas searched for DNA, from a GeoJSON FeatureCollection in WGS84
    (GPS tracks; one feature per route or area, LineString/MultiLineString or
    Polygon/MultiPolygon, all of one kind), projected to ``border.crs``.

    Raises
    ------
    DataError
        Naming the file and the feature when it is missing, not GeoJSON, empty, or holds a
        geometry of another kind.
    """
    import json
    from pathlib import Path

    import shapely
    from shapely.geometry import shape

    from amurlink.core.crs import to_metric

    f = Path(path)
    if not f.is_file():
        raise DataError(f"{f}: file not found; give a GeoJSON of the routes or areas searched")
    try:
        doc = json.loads(f.read_text(encoding="utf-8"))
        feats = doc["features"] if doc.get("type") == "FeatureCollection" else [doc]
    except (ValueError, KeyError, AttributeError, TypeError) as exc:
        raise DataError(f"{f}: not a GeoJSON FeatureCollection ({exc})") from None
    kinds = {"LineString": "line", "MultiLineString": "line", "Polygon": "area",
             "MultiPolygon": "area"}
    out, seen = [], set()
    for i, ft in enumerate(feats):
        geom = ft.get("geometry") if isinstance(ft, dict) else None
        gtype = geom.get("type") if isinstance(geom, dict) else None
        if gtype not in kinds:
            raise DataError(f"{f}, feature {i + 1}: a route (LineString) or an area (Polygon) "
                            f"in longitude/latitude is needed, got {gtype!r}")
        seen.add(kinds[gtype])
        try:
            g = shape(geom)
        except (ValueError, TypeError, AttributeError) as exc:
            raise DataError(f"{f}, feature {i + 1}: invalid geometry ({exc})") from None

        def project(c: np.ndarray) -> np.ndarray:
            x, y = to_metric(c[:, 0], c[:, 1], crs=border.crs)
            return np.column_stack([x, y])

        out.append(shapely.transform(g, project))
    if not out:
        raise DataError(f"{f}: no feature; give the routes or areas searched for DNA")
    if len(seen) > 1:
        raise DataError(f"{f}: routes and areas mixed; give one kind per file")
    return out

