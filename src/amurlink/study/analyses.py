"""The analyses of a study run: cross-border summary, SECR fits, DNA and camera-trap tables.

Moved here from ``amurlink.report.demo`` (which re-exports them): the report renders what
these functions compute, the pipeline (:mod:`amurlink.study`) calls them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CATS",
    "DEFAULT_SEED",
    "MAIN_PREY",
    "SECR_OCCASION_DAYS",
    "SECR_SETTINGS",
    "camtrap_tables",
    "dna_tables",
    "fit_secr_species",
    "link_sources",
    "secr_fits",
    "species_summary",
    "toy_border",
]

logger = logging.getLogger(__name__)

#: Seed of the demo's simulation (fixed: the demo gives the same data every time).
DEFAULT_SEED = 2015

#: SECR mask settings per species: buffer and spacing, metres. The buffer is at least 3 fitted
#: sigmas of every fit (joint and national; below that ``fit_joint_and_national`` warns) and
#: the spacing about half a sigma: tigers sigma 5.3-6.2 km, leopards 3.1 km on ``neaspec``.
SECR_SETTINGS: Mapping[str, Mapping[str, float]] = {
    "Panthera tigris": {"buffer": 20_000.0, "spacing": 2_500.0},
    "Panthera pardus": {"buffer": 10_000.0, "spacing": 2_000.0},
}
#: SECR occasion length, days. With count detectors, the HHN detection function and no time
#: effect, a week's counts are Poisson with the week's summed usage, so weekly occasions give
#: the same likelihood as daily ones (neaspec leopards: D equal to 5 digits) at a fraction of
#: the cost (730 daily occasions make capture histories of 20 million cells).
SECR_OCCASION_DAYS = 7.0



def toy_border() -> Any:
    """A hand-made border for the bundled toy package: the meridian 131.0°E, 42.9-43.3°N."""
    import shapely

    from amurlink.core.border import Border
    from amurlink.core.crs import to_metric

    x, y = to_metric([131.0, 131.0], [42.9, 43.3])
    return Border.from_geometries(shapely.LineString(list(zip(x, y, strict=True))))


# ==============================================================================================
# Result
# ==============================================================================================

def _describe(exc: BaseException) -> str:
    from amurlink.study._proc import describe

    return describe(exc)



def species_summary(individuals: pd.DataFrame, truth: Mapping[str, Any] | None = None,
                    species: tuple[str, ...] = ("Panthera tigris", "Panthera pardus")
                    ) -> pd.DataFrame:
    """Per species: photographed, recorded in both countries, crossings, farthest distance.

    Parameters
    ----------
    individuals : DataFrame
        ``CrossBorderResult.individuals`` (one row per joint individual).
    truth : mapping, optional
        The simulator's ``summary()``; adds ``true_photographed`` (adults),
        ``true_both_countries`` and ``true_crossers``.
    """
    cols = ["scientificName", "photographed", "both_countries", "crossings", "farthest_km"]
    rows = []
    ind = individuals if individuals is not None else pd.DataFrame()
    names = list(species) + sorted(set(ind.get("scientificName", pd.Series(dtype=object)))
                                   - set(species))
    dist_cols = [c for c in ind.columns if c.startswith("max_distance_km_")]
    for sp in names:
        g = ind[ind["scientificName"] == sp] if len(ind) else ind
        far = g[dist_cols].to_numpy(float) if dist_cols and len(g) else np.array([np.nan])
        rows.append({"scientificName": sp, "photographed": len(g),
                     "both_countries": int(g["transboundary"].astype(bool).sum()) if len(g)
                     else 0,
                     "crossings": int(g["crossings"].sum()) if len(g) else 0,
                     "farthest_km": float(np.nanmax(far)) if np.isfinite(far).any()
                     else np.nan})
    out = pd.DataFrame(rows, columns=cols)
    if truth:
        ph = truth.get("photographed", {})
        tc = truth.get("true_crossers", {})
        out["true_photographed"] = [ph.get(s, {}).get("adults", 0) for s in out.scientificName]
        out["true_both_countries"] = [ph.get(s, {}).get("both_countries", 0)
                                      for s in out.scientificName]
        out["true_crossers"] = [tc.get(s, 0) for s in out.scientificName]
    return out


def fit_secr_species(species: str, *, dataset: Any, border: Any, two_party: bool = True
                     ) -> dict[str, Any]:
    """One species' joint and national SECR fit (one task of :func:`secr_fits`).

    Returns ``{"fit": JointNationalResult}`` or ``{"skipped": row}`` with the row of
    ``secr_not_fitted`` (``reason`` ``no-detections``, ``too-few-recaptures`` or the
    error, then also ``"problem"``). Pure and picklable: it runs on a Dask worker with
    ``--scheduler``. ``two_party``: the study's ``[links] two_party`` rule.
    """
    from amurlink.analysis.secr import fit_joint_and_national
    from amurlink.exceptions import DataError
    from amurlink.report._sections import recapture_counts, too_few_recaptures

    opts = SECR_SETTINGS.get(species, {"buffer": 20_000.0, "spacing": 2_500.0})
    try:
        fit = fit_joint_and_national(dataset, border=border, species=species, detectfn="HHN",
                                     buffer_m=opts["buffer"], spacing_m=opts["spacing"],
                                     occasion_days=SECR_OCCASION_DAYS, life_stage="adult",
                                     two_party=two_party)
    except DataError as exc:  # no identified adult detected: nothing to fit
        logger.info("SECR %s not fitted: %s", species, exc)
        return {"skipped": {"scientificName": species, "animals": 0, "recaptures": 0,
                            "spatial_recaptures": 0, "reason": "no-detections"}}
    except Exception as exc:  # noqa: BLE001 - one species failing leaves the other
        return {"problem": f"{species}: {_describe(exc)}",
                "skipped": {"scientificName": species, "animals": None, "recaptures": None,
                            "spatial_recaptures": None, "reason": _describe(exc)}}
    counts = recapture_counts(fit.capthists["joint"])
    if too_few_recaptures(counts):
        return {"skipped": {"scientificName": species, **counts,
                            "reason": "too-few-recaptures"}}
    return {"fit": fit}


def secr_fits(dataset: Any, border: Any, *, species: Sequence[str] = tuple(SECR_SETTINGS),
              client: Any = None, two_party: bool = True
              ) -> tuple[dict[str, Any], pd.DataFrame, list[str]]:
    """Joint and national SECR fits per species (``fit_joint_and_national``).

    One joint fit (joint identities, every camera) and one per country (its own IDs and
    cameras, mask buffered around its own cameras and not clipped at the border), count
    detectors, weekly occasions, HHN. A species whose joint capture history has too few
    recaptures (:func:`amurlink.report._sections.too_few_recaptures`) or that cannot be
    fitted is left out of the fits and listed, with why, in the second return value; the
    third lists the errors. With ``client`` (a ``dask.distributed.Client``) each species
    is fitted on the cluster (:func:`amurlink.parallel.map_items`). ``two_party`` is the
    study's ``[links] two_party`` rule (which links join two animals).
    """
    if client is not None:
        from amurlink.parallel import map_items

        outs = map_items(fit_secr_species, list(species), client=client, dataset=dataset,
                         border=border, two_party=two_party)
    else:
        outs = [fit_secr_species(sp, dataset=dataset, border=border, two_party=two_party)
                for sp in species]
    fits: dict[str, Any] = {}
    skipped: list[dict[str, Any]] = []
    problems: list[str] = []
    for sp, out in zip(species, outs, strict=True):
        if "fit" in out:
            fits[sp] = out["fit"]
        else:
            skipped.append(out["skipped"])
            if "problem" in out:
                problems.append(out["problem"])
    return fits, pd.DataFrame(skipped, columns=["scientificName", "animals", "recaptures",
                                                "spatial_recaptures", "reason"]), problems


def dna_tables(files: Sequence[str | Path], reference: Sequence[str | Path] = ()
               ) -> dict[str, pd.DataFrame]:
    """Match the labs' genotype files after correcting lab offsets from reference samples.

    Parameters
    ----------
    files : sequence of path
        Each lab's genotype file (read together).
    reference : sequence of path
        Reference samples typed by every lab (``sampleID`` column, ...); lab offsets are
        estimated from them and applied, and they are left out of the field samples.
    """
    from amurlink.identify.genotypes import (
        apply_lab_offsets,
        estimate_lab_offsets,
        match_genotypes,
        read_genotypes,
    )

    tables = read_genotypes([Path(f) for f in files])
    genotypes = tables.genotypes
    out: dict[str, pd.DataFrame] = {}
    refs = [Path(r) for r in reference if Path(r).is_file()]
    ref = pd.concat([pd.read_csv(r, dtype=str) for r in refs], ignore_index=True) \
        if refs else None
    if ref is not None:
        cal = estimate_lab_offsets(genotypes, tables.samples, ref)
        genotypes = apply_lab_offsets(genotypes, tables.samples, cal.loci)
        out["Lab offsets (bp) from reference samples"] = cal.fit.copy()
    # Reference tissue is typed by both labs for calibration: it is not a field sample.
    ref_ids = set(ref["sampleID"]) if ref is not None else set()
    field = genotypes[~genotypes["sampleID"].isin(ref_ids)]
    sex = tables.sex[~tables.sex["sampleID"].isin(ref_ids)] if len(tables.sex) else None
    result = match_genotypes(field, sex=sex)
    s = tables.samples
    lab_of = s.set_index("sampleID")["lab"] if "lab" in s else pd.Series(dtype=object)
    a = result.assignments
    by_lab = a.assign(lab=a["sampleID"].map(lab_of)).groupby("lab", dropna=False).agg(
        samples=("sampleID", "size"), individuals=("individual", "nunique")).reset_index()
    summary = pd.DataFrame([{
        "samples": len(a), "individuals": result.n_individuals,
        "mismatch_allowance": result.mismatch_allowance, "profile": result.profile_shape,
        "PID": result.pid, "PIDsib": result.pidsib,
        "ambiguous_samples": int(a["ambiguous"].sum())}])
    ind = result.individuals.copy()
    for col in ("samples", "ambiguous"):
        if col in ind:
            ind[col] = ind[col].map(lambda v: ", ".join(map(str, v))
                                    if isinstance(v, list | tuple | np.ndarray) else v)
    out = {"Genotype matching": summary, "Samples by lab": by_lab,
           "Individuals from genotypes": ind} | out
    return out


#: The two cats of the report's camera-trap section.
CATS = ("Panthera tigris", "Panthera pardus")
#: Main prey of tiger and leopard whose activity is drawn beside theirs (when recorded).
MAIN_PREY = ("Sus scrofa", "Cervus nippon", "Capreolus pygargus")


def camtrap_tables(dataset: Any, *, prey: tuple[str, ...] = MAIN_PREY,
                   threshold_min: float = 30.0) -> dict[str, pd.DataFrame]:
    """Camera-trap results for the report, from :mod:`amurlink.analysis.camtrap`.

    Stations are camera locations (``locationID``: the two cameras of a Chinese station are
    one station); effort is the camera operation matrix (local days, gaps removed); records
    are independent events (``threshold_min``).

    Parameters
    ----------
    dataset : Dataset
        The joint dataset.
    prey : tuple of str
        Prey species whose activity is drawn and compared with the cats' (those recorded).
    threshold_min : float, default 30
        Independence threshold of events, minutes.

    Returns
    -------
    dict of str to DataFrame
        The keys the report's camera-trap section knows (no table carries coordinates):
        ``relative_abundance`` (``countryCode``, ``Species``, ``events``, ``trapDays``,
        ``RAI``), ``station_rai`` (the same by ``Station``, tiger and leopard),
        ``effort_weekly`` (``week``, ``countryCode``, ``trapDays``, ``stations``: stations
        working at least part of the week), ``activity_curves`` (``Species``, ``events``,
        ``hour``, ``density`` per hour: von Mises kernel density with the Ridout & Linkie
        bandwidth) and ``activity_overlap`` (``speciesA``, ``speciesB``, ``eventsA``,
        ``eventsB``, ``Dhat1``, ``Dhat4``, ``estimator``, ``overlap``: Dhat4 when both
        species have at least 50 events, Dhat1 otherwise).
    """
    from amurlink.analysis.camtrap import (
        bandwidth,
        camera_operation,
        density_fit,
        overlap_estimates,
        record_table,
        relative_abundance,
        station_table,
        to_radians,
    )

    stations = station_table(dataset, station="locationID")
    camop = camera_operation(stations, has_problems=True, station_col="Station",
                             camera_col="Camera", by_camera=False, date_format="ymd HMS")
    records = record_table(dataset, station="locationID", threshold_min=threshold_min)
    st = stations.drop_duplicates("Station")[["Station", "countryCode"]]
    rai = relative_abundance(records, camop, by="countryCode", stations=st)
    rai = rai.sort_values(["Species", "countryCode"]).reset_index(drop=True)
    by_station = relative_abundance(records, camop, by="Station")
    by_station = by_station[by_station["Species"].isin(CATS)].reset_index(drop=True)
    out: dict[str, pd.DataFrame] = {"relative_abundance": rai, "station_rai": by_station}
    # effort calendar: camera-days per country and week (local days of the stations)
    country = st.set_index("Station")["countryCode"].reindex(
        [str(i).split("__")[0] for i in camop.index]).to_numpy(object)
    days = pd.to_datetime(pd.Index(camop.columns).str.slice(0, 10))
    values = camop.to_numpy(dtype=float)
    rows = []
    week = pd.Index(days.to_period("W-SUN").start_time)
    for cc in pd.unique(country[pd.notna(country)]):
        v = np.nan_to_num(values[country == cc])
        wk = pd.DataFrame({
            "trapDays": pd.Series(v.sum(axis=0)).groupby(week).sum(),
            "stations": pd.DataFrame((v > 0).T).groupby(week).any().sum(axis=1)})
        rows.append(wk.rename_axis("week").reset_index().assign(countryCode=cc))
    out["effort_weekly"] = (pd.concat(rows, ignore_index=True)[
        ["week", "countryCode", "trapDays", "stations"]] if rows else
        pd.DataFrame(columns=["week", "countryCode", "trapDays", "stations"]))
    # activity: kernel densities on the clock and overlaps
    shown = [sp for sp in (*CATS, *prey) if (records["Species"] == sp).sum() >= 2]
    times = {sp: to_radians(records.loc[records["Species"] == sp, "DateTimeOriginal"])
             for sp in shown}
    grid = np.linspace(0.0, 2 * np.pi, 97)
    curves = []
    for sp, x in times.items():
        bw = bandwidth(x)
        if not np.isfinite(bw):
            continue
        curves.append(pd.DataFrame({"Species": sp, "events": len(x),
                                    "hour": grid * 24 / (2 * np.pi),
                                    "density": density_fit(x, grid, bw) * 2 * np.pi / 24}))
    out["activity_curves"] = (pd.concat(curves, ignore_index=True) if curves else
                              pd.DataFrame(columns=["Species", "events", "hour", "density"]))
    pairs = [(CATS[0], CATS[1])] + [(c, p) for c in CATS for p in prey]
    ov = []
    for a_sp, b_sp in pairs:
        if a_sp not in times or b_sp not in times:
            continue
        est = overlap_estimates(times[a_sp], times[b_sp])
        n_a, n_b = len(times[a_sp]), len(times[b_sp])
        which = "Dhat4" if min(n_a, n_b) >= 50 else "Dhat1"
        ov.append({"speciesA": a_sp, "speciesB": b_sp, "eventsA": n_a, "eventsB": n_b,
                   "Dhat1": est["Dhat1"], "Dhat4": est["Dhat4"], "estimator": which,
                   "overlap": est[which]})
    out["activity_overlap"] = pd.DataFrame(ov, columns=[
        "speciesA", "speciesB", "eventsA", "eventsB", "Dhat1", "Dhat4", "estimator", "overlap"])
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)


def link_sources(links: pd.DataFrame | None) -> pd.DataFrame:
    cols = ["method", "status", "links"]
    if links is None or not len(links):
        return pd.DataFrame(columns=cols)
    return (links.groupby(["method", "status"]).size().rename("links").reset_index()
            [cols])




def catalogue_photos(catalogues: Sequence[str | Path], base_dir: str | Path, *,
                     photos_per_flank: int = 1) -> pd.DataFrame:
    """Read flank-photo catalogues for linking (the largest flank box per ID and side first).

    Each CSV has ``filePath`` (relative to ``base_dir``, the study folder, or absolute),
    ``catalogue`` (``CN-...``, ``RU-...``), ``individualID`` (namespaced national ID),
    ``species``, ``side`` and the flank box ``bboxX, bboxY, bboxWidth, bboxHeight``; other
    columns are ignored (the simulator's ``truth/photos.csv`` is such a catalogue).
    """
    from amurlink.exceptions import DataError
    from amurlink.identify.photos.crosslink import _scientific

    usecols = ["filePath", "catalogue", "individualID", "species", "side", "bboxX", "bboxY",
               "bboxWidth", "bboxHeight"]
    frames = []
    for cat in catalogues:
        path = Path(cat)
        photos = pd.read_csv(path)
        missing = [c for c in usecols if c not in photos.columns]
        if missing:
            raise DataError(f"{path}: missing column(s) {missing} of a photo catalogue; "
                            f"expected {usecols} (docs/study.md)")
        frames.append(photos[usecols])
    photos = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=usecols)
    photos = photos[photos["individualID"].notna()].copy()
    photos["country"] = photos["catalogue"].astype(str).str.upper().str[:2]
    photos = photos[photos["country"].isin(["CN", "RU"])]
    photos["scientificName"] = photos["species"].map(_scientific)
    photos["area"] = photos["bboxWidth"].fillna(1.0) * photos["bboxHeight"].fillna(1.0)
    photos = photos.sort_values(["area", "filePath"], ascending=[False, True],
                                kind="mergesort")
    photos = photos.groupby(["catalogue", "individualID", "side"], sort=False) \
        .head(int(photos_per_flank))
    base = Path(base_dir)
    photos["absPath"] = [str(Path(p) if Path(p).is_absolute() else base / p)
                         for p in photos["filePath"]]
    return photos.sort_values(["catalogue", "individualID", "side", "filePath"]) \
        .reset_index(drop=True)


def link_photos(catalogues: Sequence[str | Path], base_dir: str | Path) -> pd.DataFrame:
    """Propose cross-border links by flank photos (the demo's fast settings).

    Returns :data:`amurlink.identify.photos.crosslink.LINK_COLUMNS` (``scientificName``,
    ``cn_individualID``, ``ru_individualID``, ``score``), best first. Pure and picklable:
    it runs in a spawned process or on a Dask worker.
    """
    from amurlink.identify.photos.crosslink import (
        DEMO_CALIBRATION,
        DEMO_LONG_SIDE,
        DEMO_MAX_KEYPOINTS,
        DEMO_PARAMS,
        _link_photos,
    )
    from amurlink.identify.photos.ranking import single_threaded

    base = Path(base_dir)
    photos = catalogue_photos(catalogues, base)
    with single_threaded():
        return _link_photos(photos, base, max_keypoints=DEMO_MAX_KEYPOINTS,
                            long_side=DEMO_LONG_SIDE, params=DEMO_PARAMS,
                            calibration=DEMO_CALIBRATION)


def compare_photo_links(proposed: pd.DataFrame, *, crosswalk: str | Path | None = None,
                        individuals: pd.DataFrame | None = None,
                        truth_dir: str | Path | None = None) -> dict[str, pd.DataFrame]:
    """Compare photo proposals with the expert crosswalk (and the simulator's truth).

    Parameters
    ----------
    proposed : DataFrame
        :func:`link_photos`.
    crosswalk : path, optional
        The expert crosswalk CSV (``cn_id``, ``ru_id``, ...).
    individuals : DataFrame, optional
        ``individualID``, ``scientificName`` (the joint individuals): the species of each
        crosswalk pair.
    truth_dir : path, optional
        A simulated study folder (``truth/links.csv``): adds ``in_truth``.

    Returns
    -------
    dict
        ``{"pairs": compare_links(...), "species": summarise_link_comparison(...)}``.
    """
    from amurlink.identify.photos.crosslink import (
        _pair_frame,
        compare_links,
        read_simulated_truth_links,
        summarise_link_comparison,
    )

    species: dict[str, str] = {}
    if individuals is not None and len(individuals):
        species = dict(zip(individuals["individualID"].astype(str),
                           individuals["scientificName"], strict=False))
    species.update(zip(proposed["cn_individualID"], proposed["scientificName"], strict=False))
    if crosswalk is not None and Path(crosswalk).is_file():
        cw = _pair_frame(pd.read_csv(crosswalk), str(crosswalk))
        cw["scientificName"] = cw["cn_individualID"].map(species)
    else:
        cw = pd.DataFrame(columns=["scientificName", "cn_individualID", "ru_individualID"])
    truth = None
    if truth_dir is not None and (Path(truth_dir) / "truth" / "links.csv").is_file():
        truth = read_simulated_truth_links(truth_dir)
    pairs = compare_links(proposed, cw, truth)
    return {"pairs": pairs, "species": summarise_link_comparison(pairs)}
