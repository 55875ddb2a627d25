"""The main job behind ``amurlink demo``: simulate, import, harmonise, analyse, report.

:func:`run_demo` simulates a two-country study (``amurlink.simulate``), imports the Chinese
Camtrap DP package and the Russian national tables (through their import mapping), harmonises
both with the expert crosswalk as confirmed links, runs every analysis (cross-border movement,
SECR density per species jointly and per country, DNA genotype matching, camera-trap effort,
relative abundance and activity) and writes the joint report in English, Chinese and Russian
(owner) plus a public English report.

Every stage is timed. A stage that fails is recorded (``DemoResult.stages``) and the demo goes
on: the report says what is missing. Warnings raised while the demo runs are recorded in
``DemoResult.warnings`` rather than left to escape.

Where the platform can fork (Linux), stages that do not feed the next ones (writing the joint
package, DNA matching, camera-trap tables, photo linking) run in a child process while the
main process goes on (forked; photo linking in a spawned interpreter, because OpenCV and
OpenMP are not fork-safe); their timings are their own run times (``DemoResult.background``).
"""

from __future__ import annotations

import functools
import json
import logging
import multiprocessing as mp
import os
import pickle
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_SEED",
    "DemoResult",
    "SECR_OCCASION_DAYS",
    "SECR_SETTINGS",
    "MAIN_PREY",
    "camtrap_tables",
    "run_demo",
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

#: Report languages written for the owner audience (a public English report is added).
LANGUAGES = ("en", "zh", "ru")


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
@dataclass
class DemoResult:
    """What the demo did.

    Attributes
    ----------
    out_dir : Path
    scenario, seed : str, int
        The simulated scenario and its seed.
    timings : dict of str to float
        Seconds per stage, in the order run (background stages: their own run time).
    stages : dict of str to str
        ``ok`` or ``failed: <why>`` (or ``skipped: <why>``) per stage.
    background : list of str
        Stages that ran in a child process, beside the main process.
    summary : DataFrame
        Per species: ``photographed`` (joint adult individuals), ``both_countries``,
        ``crossings``, ``farthest_km`` (farthest encounter from the border), and the
        simulator's truth: ``true_photographed``, ``true_both_countries``, ``true_crossers``.
    links : DataFrame
        Current identity links of the joint dataset (``current_links``).
    link_sources : DataFrame
        ``method``, ``status``, ``links``: where the joint identities came from.
    crosswalk : dict
        ``rows`` of the expert crosswalk, ``stored`` links and ``refused`` (messages).
    secr : dict of str to JointNationalResult
        Per species: the joint fit and one fit per country
        (:func:`amurlink.analysis.secr.fit_joint_and_national`).
    secr_not_fitted : DataFrame or None
        Species without an SECR fit: ``scientificName``, ``animals``, ``recaptures``,
        ``spatial_recaptures``, ``reason`` (``too-few-recaptures``, ``no-detections`` or
        the error).
    dna : dict of str to DataFrame
    camtrap : dict of str to DataFrame
        :func:`camtrap_tables` of the joint dataset.
    photo_links : dict of str to DataFrame
        ``pairs`` and ``species``: automatic photo links against the expert crosswalk
        (``ReportInputs.photo_links``); empty until a stage fills it.
    reports : dict of str to Path
        ``en``, ``zh``, ``ru``, ``public-en``: the report.html files.
    truth : dict
        The simulator's ``summary()``.
    harmonise_issues : dict of str to int
        Issue counts of the harmonisation report, by code.
    warnings : list of str
        Warnings raised while the demo ran (category: message, with a count).
    total_s : float
        Seconds for the whole demo.
    """

    out_dir: Path
    scenario: str = "neaspec"
    seed: int = DEFAULT_SEED
    timings: dict[str, float] = field(default_factory=dict)
    stages: dict[str, str] = field(default_factory=dict)
    background: list[str] = field(default_factory=list)
    summary: pd.DataFrame | None = None
    links: pd.DataFrame | None = None
    link_sources: pd.DataFrame | None = None
    crosswalk: dict[str, Any] = field(default_factory=dict)
    secr: dict[str, Any] = field(default_factory=dict)
    secr_not_fitted: pd.DataFrame | None = None
    dna: dict[str, pd.DataFrame] = field(default_factory=dict)
    camtrap: dict[str, pd.DataFrame] = field(default_factory=dict)
    photo_links: dict[str, pd.DataFrame] = field(default_factory=dict)
    reports: dict[str, Path] = field(default_factory=dict)
    truth: dict[str, Any] = field(default_factory=dict)
    harmonise_issues: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    total_s: float = 0.0

    @property
    def failed(self) -> dict[str, str]:
        """Stages that did not succeed, with why."""
        return {k: v for k, v in self.stages.items() if v != "ok"}

    def timings_dict(self) -> dict[str, Any]:
        """JSON-ready timings (what ``--timings-json`` writes)."""
        return {"scenario": self.scenario, "seed": self.seed,
                "stages": {k: round(v, 3) for k, v in self.timings.items()},
                "background": list(self.background), "status": dict(self.stages),
                "total": round(self.total_s, 3)}


# ==============================================================================================
# Stages: timing, failure capture, background processes
# ==============================================================================================
def _describe(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {msg[0] if msg else ''}"[:300]


class _Stages:
    """Runs stages, times them, records failures and the warnings they raise."""

    def __init__(self, res: DemoResult, say: Callable[[str], None]) -> None:
        self.res = res
        self.say = say
        self.caught: list[warnings.WarningMessage] = []

    @contextmanager
    def stage(self, name: str, *, what: str | None = None) -> Iterator[dict[str, Any]]:
        """Time ``name``; an exception inside marks it failed and is swallowed."""
        self.say(what or name)
        box: dict[str, Any] = {"ok": False}
        t0 = time.perf_counter()
        try:
            yield box
        except Exception as exc:  # noqa: BLE001 - a failed stage is reported, not fatal
            logger.debug("demo stage %s failed", name, exc_info=True)
            self.res.stages[name] = f"failed: {_describe(exc)}"
        else:
            box["ok"] = True
            self.res.stages.setdefault(name, "ok")
        finally:
            self.res.timings[name] = time.perf_counter() - t0


class _Background:
    """``fn()`` in a child process (or inline where fork is unavailable).

    ``start="fork"`` (default) shares the parent's memory; ``start="spawn"`` starts a fresh
    interpreter (``fn`` must then be picklable, e.g. a ``functools.partial`` of a module-level
    function) for work whose native libraries are not fork-safe once the parent has used
    their thread pools (OpenCV, OpenMP in faiss: a forked child can block forever in them).
    """

    def __init__(self, name: str, fn: Callable[[], Any], *, fork: bool,
                 start: str = "fork") -> None:
        self.name = name
        self._value: Any = None
        self._error: str | None = None
        self._seconds = 0.0
        self._warnings: list[str] = []
        self._proc: Any = None
        self._conn: Any = None
        if fork:
            try:
                ctx = mp.get_context(start)
                recv, send = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_child, args=(fn, send), name=f"amurlink-demo-{name}",
                                   daemon=True)
                proc.start()
                send.close()
                self._proc, self._conn = proc, recv
                return
            except (ValueError, OSError) as exc:  # fork unavailable: run inline
                logger.debug("cannot fork for %s (%s); running inline", name, exc)
        self._value, self._error, self._seconds, self._warnings = _call(fn)

    @property
    def forked(self) -> bool:
        return self._proc is not None

    def result(self, timeout: float = 900.0) -> tuple[Any, str | None, float, list[str]]:
        """``(value, error or None, seconds, warnings)``; waits for the child."""
        if self._proc is not None:
            try:
                if self._conn.poll(timeout):
                    payload = self._conn.recv_bytes()
                    self._value, self._error, self._seconds, self._warnings = pickle.loads(
                        payload)
                else:
                    self._error = f"TimeoutError: no result after {timeout:.0f} s"
            except (EOFError, OSError) as exc:
                self._error = f"child process ended without a result ({type(exc).__name__})"
            finally:
                self._proc.join(timeout=10)
                if self._proc.is_alive():
                    self._proc.terminate()
                    self._proc.join(timeout=5)
                elif self._proc.exitcode not in (0, None) and self._error is None \
                        and self._value is None:
                    self._error = f"child process exited with code {self._proc.exitcode}"
                self._conn.close()
                self._proc = None
        return self._value, self._error, self._seconds, self._warnings


def _call(fn: Callable[[], Any]) -> tuple[Any, str | None, float, list[str]]:
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value, error = fn(), None
        except Exception as exc:  # noqa: BLE001 - reported by the parent
            logger.debug("background stage failed", exc_info=True)
            value, error = None, _describe(exc)
    return value, error, time.perf_counter() - t0, [_warning_text(w) for w in caught]


def _child(fn: Callable[[], Any], conn: Any) -> None:  # pragma: no cover - runs in a fork
    try:
        out = _call(fn)
        try:
            payload = pickle.dumps(out)
        except Exception as exc:  # noqa: BLE001
            payload = pickle.dumps((None, f"result not picklable: {_describe(exc)}", out[2],
                                    out[3]))
        conn.send_bytes(payload)
    except Exception:  # noqa: BLE001
        traceback.print_exc()
    finally:
        conn.close()
        os._exit(0)


def _warning_text(w: warnings.WarningMessage) -> str:
    first = str(w.message).strip().splitlines()
    return f"{w.category.__name__}: {first[0] if first else ''}"[:240]


def _count_warnings(texts: list[str]) -> list[str]:
    counts: dict[str, int] = {}
    for t in texts:
        counts[t] = counts.get(t, 0) + 1
    return [f"{t} (x{n})" if n > 1 else t for t, n in counts.items()]


# ==============================================================================================
# Analyses
# ==============================================================================================
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


def _secr_fits(dataset: Any, border: Any, res: DemoResult) -> tuple[dict[str, Any],
                                                                    pd.DataFrame]:
    """Joint and national SECR fits per species (``fit_joint_and_national``).

    One joint fit (joint identities, every camera) and one per country (its own IDs and
    cameras, mask buffered around its own cameras and not clipped at the border), count
    detectors, weekly occasions, HHN. A species whose joint capture history has too few
    recaptures (:func:`amurlink.report._sections.too_few_recaptures`) or that cannot be
    fitted is left out of the fits and listed, with why, in the second return value.
    """
    from amurlink.analysis.secr import fit_joint_and_national
    from amurlink.exceptions import DataError
    from amurlink.report._sections import recapture_counts, too_few_recaptures

    fits: dict[str, Any] = {}
    skipped: list[dict[str, Any]] = []
    problems: list[str] = []
    for sp, opts in SECR_SETTINGS.items():
        try:
            fit = fit_joint_and_national(dataset, border=border, species=sp, detectfn="HHN",
                                         buffer_m=opts["buffer"], spacing_m=opts["spacing"],
                                         occasion_days=SECR_OCCASION_DAYS, life_stage="adult")
        except DataError as exc:  # no identified adult detected: nothing to fit
            skipped.append({"scientificName": sp, "animals": 0, "recaptures": 0,
                            "spatial_recaptures": 0, "reason": "no-detections"})
            logger.info("SECR %s not fitted: %s", sp, exc)
            continue
        except Exception as exc:  # noqa: BLE001 - one species failing leaves the other
            problems.append(f"{sp}: {_describe(exc)}")
            skipped.append({"scientificName": sp, "animals": None, "recaptures": None,
                            "spatial_recaptures": None, "reason": _describe(exc)})
            continue
        counts = recapture_counts(fit.capthists["joint"])
        if too_few_recaptures(counts):
            skipped.append({"scientificName": sp, **counts, "reason": "too-few-recaptures"})
            continue
        fits[sp] = fit
    if problems:
        res.stages["secr"] = "failed: " + "; ".join(problems)
    return fits, pd.DataFrame(skipped, columns=["scientificName", "animals", "recaptures",
                                                "spatial_recaptures", "reason"])


def _dna_tables(sim_dir: Path) -> dict[str, pd.DataFrame]:
    """Match both labs' genotype files after correcting lab offsets from reference samples."""
    from amurlink.identify.genotypes import (
        apply_lab_offsets,
        estimate_lab_offsets,
        match_genotypes,
        read_genotypes,
    )

    dna = sim_dir / "dna"
    files = sorted(p for p in dna.glob("*_lab.csv"))
    tables = read_genotypes(files)
    genotypes = tables.genotypes
    ref_file = dna / "reference_samples.csv"
    out: dict[str, pd.DataFrame] = {}
    if ref_file.is_file():
        ref = pd.read_csv(ref_file, dtype=str)
        cal = estimate_lab_offsets(genotypes, tables.samples, ref)
        genotypes = apply_lab_offsets(genotypes, tables.samples, cal.loci)
        fit = cal.fit.copy()
        out["Lab offsets (bp) from reference samples"] = fit
    # Reference tissue is typed by both labs for calibration: it is not a field sample.
    ref_ids = set(pd.read_csv(ref_file, dtype=str)["sampleID"]) if ref_file.is_file() else set()
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


def _link_sources(links: pd.DataFrame | None) -> pd.DataFrame:
    cols = ["method", "status", "links"]
    if links is None or not len(links):
        return pd.DataFrame(columns=cols)
    return (links.groupby(["method", "status"]).size().rename("links").reset_index()
            [cols])


# ==============================================================================================
# The main job
# ==============================================================================================
def run_demo(out_dir: str | os.PathLike[str], /, *, scenario: str = "neaspec",
             seed: int = DEFAULT_SEED, languages: tuple[str, ...] = LANGUAGES,
             public: bool = True, parallel: bool = True,
             progress: Callable[[str], None] | None = None) -> DemoResult:
    """Simulate, import, harmonise, analyse and report; never raises for a failed stage.

    Parameters
    ----------
    out_dir : path_like
        Receives ``sim/`` (the simulated study), ``joint/`` (the harmonised package with
        ``manifest.json``, ``record-flags.csv``, ``border.geojson`` and ``amurlink.toml``)
        and ``report/<lang>/`` plus ``report/public-en/``. Existing outputs are replaced.
    scenario : str, default "neaspec"
        Simulator scenario (``small`` for quick runs).
    seed : int
        Simulation seed (fixed by default, so the demo is reproducible).
    languages : tuple of str
        Owner report languages.
    public : bool, default True
        Also write the public English report.
    parallel : bool, default True
        Run the joint-package write, DNA matching, camera-trap tables and photo linking in
        child processes where the platform can fork.
    progress : callable, optional
        Called with a short message at the start of each stage.

    Returns
    -------
    DemoResult
        Timings, stage status, the species summary, link sources, report paths, warnings.
    """
    say = progress or (lambda _msg: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    res = DemoResult(out_dir=out, scenario=str(scenario), seed=int(seed))
    t_all = time.perf_counter()
    fork = bool(parallel) and "fork" in mp.get_all_start_methods()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            _pipeline(res, out, say, fork=fork, languages=languages, public=public)
        finally:
            texts = [_warning_text(w) for w in caught] + res.warnings
            res.warnings = _count_warnings(texts)
            res.total_s = time.perf_counter() - t_all
    return res


def _pipeline(res: DemoResult, out: Path, say: Callable[[str], None], *, fork: bool,
              languages: tuple[str, ...], public: bool) -> None:
    st = _Stages(res, say)
    sim_dir, joint_dir, report_dir = out / "sim", out / "joint", out / "report"

    # -- simulate and write the two countries' files --------------------------------------
    with st.stage("simulate", what=f"simulating scenario {res.scenario} (seed {res.seed})") as b:
        from amurlink.simulate import simulate_study, write_study

        study = simulate_study(res.scenario, seed=res.seed)
        res.truth = study.summary()
    if not b["ok"]:
        return
    with st.stage("write simulation", what=f"writing the simulated study to {sim_dir}") as b:
        write_study(study, sim_dir, overwrite=True)
    if not b["ok"]:
        return
    del study

    # DNA needs only the labs' files and photo linking only the catalogues' photos: both run
    # in the background while harmonising.
    dna_job = _Background("dna", lambda: _dna_tables(sim_dir), fork=fork)
    photo_job = _Background("photo links", functools.partial(_photo_link_tables, sim_dir),
                            fork=fork, start="spawn")

    # -- import and harmonise ---------------------------------------------------------------
    with st.stage("import + harmonise",
                  what="importing China (Camtrap DP) and Russia (national tables) and "
                       "harmonising with the expert crosswalk") as b:
        from amurlink.config import load_config
        from amurlink.harmonise import harmonise

        config = load_config(sim_dir / "amurlink.toml")
        hres = harmonise(sim_dir / "cn", sim_dir / "ru" / "ru.mapping.toml", config=config,
                         links=sim_dir / "crosswalk.csv")
        res.harmonise_issues = dict(hres.report.counts())
        refused = [i for i in hres.report.issues
                   if i.code in ("crosswalk-link", "crosswalk-conflict")]
        other = [i for i in hres.report.errors if i.code != "crosswalk-link"]
        res.crosswalk = {"rows": _crosswalk_rows(sim_dir / "crosswalk.csv"),
                         "refused": [i.message.splitlines()[0] for i in refused]}
        if other:
            hres.report.raise_for_errors()
    if not b["ok"]:
        _finish_background(res, dna_job, "dna")
        _finish_background(res, photo_job, "photo links")
        return
    dataset = hres.dataset
    links = dataset.get("identityLinks")
    if links is not None and len(links):
        from amurlink.identify.links import current_links

        res.links = current_links(links)
    res.link_sources = _link_sources(res.links)
    res.crosswalk["stored"] = int(((res.links["method"] == "expert")
                                   & (res.links["status"] == "confirmed")).sum()
                                  if res.links is not None else 0)

    border = None
    with st.stage("border", what="reading the border") as b:
        from amurlink.core.border import load_border

        border = load_border(sim_dir / "border.geojson", crs=config.crs.working)

    # -- write the joint package and the camera-trap tables in the background --------------
    def write_joint() -> str:
        import shutil

        from amurlink.harmonise import write_harmonised

        # Crosswalk links the link store refused are errors of the report; they are
        # recorded in the manifest and the demo summary, and the rest is written.
        path = write_harmonised(hres, joint_dir, overwrite=True, allow_errors=True)
        for name in ("amurlink.toml", "border.geojson"):
            shutil.copy2(sim_dir / name, path / name)
        return str(path)

    joint_job = _Background("write joint package", write_joint, fork=fork)
    cam_job = _Background("camtrap", lambda: camtrap_tables(dataset), fork=fork)

    # -- cross-border and SECR in the main process -------------------------------------------
    with st.stage("cross-border", what="cross-border analysis") as b:
        if border is None:
            raise RuntimeError("no border (see the border stage)")
        from amurlink.analysis import crossborder as cb

        cbres = cb.crossborder(dataset, border=border, species=None)
        res.summary = species_summary(cbres.individuals, res.truth)
    if res.summary is None:
        res.summary = species_summary(pd.DataFrame(columns=[
            "scientificName", "transboundary", "crossings"]), res.truth)
    with st.stage("secr", what="SECR density per species, joint and national"):
        if border is None:
            raise RuntimeError("no border (see the border stage)")
        res.secr, res.secr_not_fitted = _secr_fits(dataset, border, res)

    res.dna = _finish_background(res, dna_job, "dna") or {}
    res.camtrap = _finish_background(res, cam_job, "camtrap") or {}
    res.photo_links = _finish_background(res, photo_job, "photo links") or {}

    # -- reports ------------------------------------------------------------------------------
    from amurlink.core.protection import Audience
    from amurlink.report import ReportInputs, build_view, write_report
    from amurlink.report._sections import MISSING_REASONS

    missing: dict[str, str] = {}
    for part, key in (("secr", "secr"), ("dna", "dna"), ("camtrap", "camtrap"),
                      ("photo_links", "photo links")):
        if not getattr(res, part) and res.stages.get(key, "ok") != "ok":
            missing[part] = res.stages[key]
    if "secr" not in missing and not res.secr and (res.secr_not_fitted is None
                                                   or res.secr_not_fitted.empty):
        missing["secr"] = MISSING_REASONS["secr"]
    inputs = ReportInputs(dataset=dataset, config=config, border=border,
                          secr=res.secr or None, secr_not_fitted=res.secr_not_fitted,
                          dna=res.dna or None, photo_links=res.photo_links or None,
                          camtrap=res.camtrap or None, manifest=hres.manifest, missing=missing)
    view = None
    with st.stage("report view", what="protecting the data and building the report view"):
        view = build_view(inputs, audience=Audience.owner())
    for lang in languages:
        name = f"report {lang}"
        with st.stage(name, what=f"report ({lang})"):
            res.reports[lang] = write_report(inputs, report_dir / lang, lang=lang,
                                             audience="owner", view=view).html
    if public:
        with st.stage("report en (public)", what="public report (en)"):
            res.reports["public-en"] = write_report(inputs, report_dir / "public-en",
                                                    lang="en", audience="public").html
    _finish_background(res, joint_job, "write joint package")
    if res.stages.get("write joint package") == "ok" and res.photo_links:
        with st.stage("propose photo links", what="storing the photo links as proposals"):
            _propose_photo_links(joint_dir, res.photo_links["pairs"])


def _photo_link_tables(sim_dir: Path) -> dict[str, pd.DataFrame]:
    """Link the two simulated catalogues by flank photos; compare with crosswalk and truth.

    Returns ``{"pairs": compare_links(...), "species": summarise_link_comparison(...)}``
    (:mod:`amurlink.identify.photos.crosslink`); the truth is the simulator's, which only a
    simulation has.
    """
    from amurlink.identify.photos.crosslink import (
        compare_links,
        link_simulated_catalogues,
        read_simulated_crosswalk,
        read_simulated_truth_links,
        summarise_link_comparison,
    )

    proposed = link_simulated_catalogues(sim_dir)
    pairs = compare_links(proposed, read_simulated_crosswalk(sim_dir),
                          read_simulated_truth_links(sim_dir))
    return {"pairs": pairs, "species": summarise_link_comparison(pairs)}


def _propose_photo_links(joint_dir: Path, pairs: pd.DataFrame) -> int:
    """Store the photo proposals in the joint package's link store (method ``photo``).

    Pairs the expert already confirmed, or a reviewer rejected, are skipped by the store;
    the rest wait for a reviewer (``amurlink links list``, or the platform's review page).
    Returns the number of proposals appended.
    """
    from amurlink.identify.links import LinkStore

    photo = pairs[pairs["in_photo"].fillna(False).astype(bool)]
    if photo.empty:
        return 0
    proposals = pd.DataFrame({"subjectA": photo["cn_individualID"].to_numpy(),
                              "subjectB": photo["ru_individualID"].to_numpy(),
                              "score": photo["score"].to_numpy(float)})
    result = LinkStore(joint_dir).propose(proposals, method="photo",
                                          by="amurlink demo (flank photos)")
    return len(result.proposed)


def _finish_background(res: DemoResult, job: _Background, name: str) -> Any:
    forked = job.forked
    value, error, seconds, caught = job.result()
    res.timings[name] = seconds
    if forked:
        res.background.append(name)
    if error is not None:
        res.stages[name] = f"failed: {error}"
    else:
        res.stages.setdefault(name, "ok")
    res.warnings.extend(caught)
    return value


def _crosswalk_rows(path: Path) -> int:
    try:
        return int(len(pd.read_csv(path, dtype=str)))
    except (OSError, ValueError):
        return 0


def write_timings(res: DemoResult, path: str | os.PathLike[str]) -> Path:
    """Write :meth:`DemoResult.timings_dict` as JSON to ``path``."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(res.timings_dict(), indent=2) + "\n", encoding="utf-8")
    return p
