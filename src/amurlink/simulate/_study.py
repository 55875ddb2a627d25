"""Run the whole two-country simulation and keep national data and truth apart."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from amurlink.dataset import Dataset
from amurlink.simulate._dna import simulate_dna
from amurlink.simulate._landscape import Landscape, make_landscape
from amurlink.simulate._population import crossings_from_path, simulate_animals, simulate_paths
from amurlink.simulate._records import (
    Records,
    assign_catalogues,
    build_records,
    chinese_dataset,
    expert_crosswalk,
    iso_utc,
    russian_tables,
)
from amurlink.simulate._scenario import Scenario, get_scenario
from amurlink.simulate._survey import DAY, Survey, cat_events, design_survey, other_events

if TYPE_CHECKING:
    from amurlink.simulate.corridors import ResistanceTruth

__all__ = ["SimulatedStudy", "simulate_study", "STEPS"]

logger = logging.getLogger(__name__)

#: Steps reported to a ``progress`` hook, in order.
STEPS: tuple[str, ...] = ("landscape", "animals and daily paths", "cameras", "detections",
                          "records and catalogues", "national tables", "DNA")


@dataclass(frozen=True, eq=False)
class SimulatedStudy:
    """One simulated two-country study: what each country would hold, and the truth.

    Attributes
    ----------
    scenario : Scenario
    seed : int
    landscape : Landscape
    animals : DataFrame
        Truth, one row per animal (see :func:`amurlink.simulate.simulate_animals`) plus
        ``cn_ids``, ``ru_ids`` (national IDs, ``;``-separated), ``crossings``.
    positions : ndarray, shape (n_animals, n_days, 2)
        Daily positions, metres.
    sides : ndarray of str, shape (n_animals, n_days)
        Side of the border (``CN``/``RU``) of every daily position.
    survey : Survey
    records : Records
    cn : Dataset
        The Chinese Camtrap DP dataset.
    ru : dict of DataFrame
        Russian national tables: ``stations``, ``records``, ``catalogue``.
    links : DataFrame
        Truth: every national ID and its animal.
    crosswalk : DataFrame
        Expert links ``cn_id, ru_id, method, reviewer, date`` (+ truth column ``correct``).
    dna : dict
        Samples, lab calls, truth genotypes, lab offsets, reference samples.
    truth_detections : DataFrame
        One row per Chinese observation and per Russian record row, with its true animal.
    resistance : ResistanceTruth or None
        The known resistance the animals moved by (scenario ``movement="resistance"``), else
        None.
    """

    scenario: Scenario
    seed: int
    landscape: Landscape
    animals: pd.DataFrame
    positions: np.ndarray
    sides: np.ndarray
    survey: Survey
    records: Records
    cn: Dataset
    ru: dict[str, pd.DataFrame]
    links: pd.DataFrame
    crosswalk: pd.DataFrame
    dna: dict[str, Any]
    truth_detections: pd.DataFrame
    cn_media_truth: pd.DataFrame = field(repr=False, default=None)
    resistance: ResistanceTruth | None = field(repr=False, default=None)

    @property
    def dates(self) -> pd.DatetimeIndex:
        """UTC midnight of every survey day."""
        return pd.date_range(self.survey.t0, periods=self.survey.n_days, freq="D")

    def positions_frame(self) -> pd.DataFrame:
        """Daily positions as a table: ``animalID, date, x, y, country, side``."""
        n, T, _ = self.positions.shape
        x = self.positions[:, :, 0].ravel()
        y = self.positions[:, :, 1].ravel()
        return pd.DataFrame({
            "animalID": np.repeat(self.animals["animalID"].to_numpy(), T),
            "date": np.tile(self.dates.strftime("%Y-%m-%d"), n),
            "x": np.round(x, 1), "y": np.round(y, 1),
            "country": self.landscape.country_of(x, y), "side": self.sides.ravel(),
        })

    def crossings(self) -> pd.DataFrame:
        """Per animal: border crossings of the daily path and days on each side."""
        a = self.animals
        return pd.DataFrame({
            "animalID": a["animalID"], "scientificName": a["scientificName"],
            "sex": a["sex"], "lifeStage": a["lifeStage"],
            "crossings": crossings_from_path(self.sides),
            "daysCN": (self.sides == "CN").sum(axis=1),
            "daysRU": (self.sides == "RU").sum(axis=1),
        })

    def summary(self) -> dict[str, Any]:
        """Counts for the README: animals, cameras, trap-days, detections, images, samples."""
        a = self.animals
        rec = self.records.records
        sv = self.survey
        cam_days = {}
        for c in ("CN", "RU"):
            sel = (sv.stations["country"] == c).to_numpy()
            cam_days[c] = {
                "stations": int(sel.sum()),
                "cameras": int((sv.cameras["country"] == c).sum()),
                "deployments": int((sv.deployments["timezone"] == (
                    "Asia/Shanghai" if c == "CN" else "Asia/Vladivostok")).sum()),
                "station_days": round(float(sv.usage[sel].sum()), 1),
            }
        # trap-days = working camera-days
        iv = sv.intervals
        work = (np.minimum(iv["end"], sv.n_days * DAY) - np.maximum(iv["start"], 0)).clip(0)
        country = sv.cameras["country"].to_numpy()[iv["cameraIdx"].to_numpy()]
        for c in ("CN", "RU"):
            cam_days[c]["trap_days"] = round(float(work[country == c].sum() / DAY), 1)
        animals = (a.groupby(["scientificName", "sex", "lifeStage"]).size()
                   .rename("n").reset_index().to_dict(orient="records"))
        det = rec[~rec["isCub"]].groupby(["scientificName", "country"]).size()
        detections = {f"{sp} | {c}": int(v) for (sp, c), v in det.items()}
        cats = rec[(rec["kind"] == "cat") & rec["identifiable"]]
        photographed = {}
        for sp, g in cats.groupby("scientificName"):
            ai = g["animalIdx"].unique()
            adult = a["lifeStage"].to_numpy()[ai] == "adult"
            by_c = g.groupby("animalIdx")["country"].nunique()
            photographed[sp] = {"individuals": int(ai.size), "adults": int(adult.sum()),
                                "both_countries": int((by_c == 2).sum())}
        cr = self.crossings()
        crossers = cr[cr["crossings"] > 0].groupby("scientificName").size().to_dict()
        images = {"cn_media": int(len(self.cn.media)), "ru_images": int(len(self.ru["records"]))}
        s = self.dna["samples"]
        samples = {c: int(((s["country"] == c) & s["reference"].isna()).sum())
                   for c in ("CN", "RU")}
        samples["reference"] = int(s["reference"].notna().sum())
        movement = ({"movement": self.scenario.movement}
                    if self.scenario.movement != "home-range" else {})
        return {
            "scenario": self.scenario.name, "seed": self.seed, "mode": self.scenario.mode,
            **movement,
            "period": [str(self.dates[0].date()), str(self.dates[-1].date())],
            "land_km2": {c: self.landscape.land_area_km2(c) for c in ("CN", "RU")},
            "animals": animals, "cameras": cam_days, "detections": detections,
            "photographed": photographed, "true_crossers": {k: int(v) for k, v in
                                                            crossers.items()},
            "observations": {"cn": int(len(self.cn.observations)),
                             "ru": int(len(self.ru["records"]))},
            "images": images, "samples": samples,
            "catalogue_ids": {c: int((self.links["country"] == c).sum()) for c in ("CN", "RU")},
            "crosswalk": {"links": int(len(self.crosswalk)),
                          "false": int((~self.crosswalk["correct"]).sum())},
        }


def simulate_study(
    scenario: str | Scenario = "small",
    /,
    *,
    seed: int = 0,
    border_file: str | os.PathLike[str] | None = None,
    border_line_file: str | os.PathLike[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    **changes: Any,
) -> SimulatedStudy:
    """Simulate a two-country camera-trap and DNA study of Amur tigers and leopards.

    Parameters
    ----------
    scenario : str or Scenario, default "small"
        Preset name (``small``, ``neaspec``, ``large``) or a :class:`Scenario`.
    seed : int
        Seed of every random draw; the same seed gives the same study.
    border_file, border_line_file : path_like, optional
        Real geometry instead of the synthetic landscape (see :func:`make_landscape`).
    progress : callable, optional
        Called as ``progress(done, total)`` after each of :data:`STEPS`.
    **changes
        Scenario fields to change (``mode="secr-exact"``, ``n_days=30``, ...).

    Returns
    -------
    SimulatedStudy

    See Also
    --------
    write_study : write the national data, the configuration and the truth to a folder.

    Examples
    --------
    >>> study = simulate_study("small", seed=1)
    >>> study.summary()["scenario"]
    'small'
    """
    sc = get_scenario(scenario, **changes)
    ss = np.random.SeedSequence(int(seed))
    g_land, g_anim, g_path, g_cam, g_det, g_oth, g_rec, g_cat, g_cw, g_dna = (
        np.random.default_rng(s) for s in ss.spawn(10))
    total = len(STEPS)

    def step(k: int) -> None:
        logger.info("simulate %s: %s done", sc.name, STEPS[k])
        if progress is not None:
            progress(k + 1, total)

    land = make_landscape(bbox=sc.bbox, cell_m=sc.cell_m, border_file=border_file,
                          border_line_file=border_line_file, rng=g_land)
    step(0)
    animals = simulate_animals(land, sc, rng=g_anim)
    truth_resistance = None
    if sc.movement == "resistance":
        from amurlink.simulate.corridors import (
            MOVEMENT_SPAWN_KEY,
            resistance_paths,
            true_resistance,
        )

        truth_resistance = true_resistance(land)
        g_move = np.random.default_rng(np.random.SeedSequence(
            int(seed), spawn_key=(MOVEMENT_SPAWN_KEY,)))
        positions = resistance_paths(animals, sc.n_days, truth_resistance, rng=g_move)
    else:
        positions = simulate_paths(animals, sc.n_days, rng=g_path)
    n, T = positions.shape[:2]
    sides = land.side_of_border(positions[:, :, 0].ravel(),
                                positions[:, :, 1].ravel()).reshape(n, T).astype(str) \
        if n else np.zeros((0, T), dtype=str)
    step(1)
    survey = design_survey(land, sc, rng=g_cam)
    step(2)
    cats = cat_events(animals, positions, survey, sc, rng=g_det)
    others = other_events(survey, sc, rng=g_oth)
    step(3)
    records = build_records(animals, survey, cats, others, sc, rng=g_rec)
    ids, links = assign_catalogues(records, animals, sc, rng=g_cat)
    crosswalk = expert_crosswalk(links, animals, sc, rng=g_cw,
                                 date=survey.t0 + pd.Timedelta(days=sc.n_days + 60))
    step(4)
    cn, cn_media, cn_obs = chinese_dataset(records, ids, animals, survey, links, land.crs)
    ru = russian_tables(records, ids, animals, survey, links, land.crs)
    truth_det = _truth_detections(records, ids, animals, survey, cn_obs, cn_media, ru)
    step(5)
    dna = simulate_dna(animals, positions, land, survey.stations, survey.t0, sc, rng=g_dna)
    step(6)
    by_animal = links.groupby(["animalID", "country"])["individualID"].agg(";".join)
    animals = animals.copy()
    animals["cn_ids"] = animals["animalID"].map(
        by_animal.xs("CN", level="country") if "CN" in links["country"].values else {})
    animals["ru_ids"] = animals["animalID"].map(
        by_animal.xs("RU", level="country") if "RU" in links["country"].values else {})
    animals["crossings"] = crossings_from_path(sides)
    return SimulatedStudy(scenario=sc, seed=int(seed), landscape=land, animals=animals,
                          positions=positions, sides=sides, survey=survey, records=records,
                          cn=cn, ru=ru, links=links, crosswalk=crosswalk, dna=dna,
                          truth_detections=truth_det, cn_media_truth=cn_media,
                          resistance=truth_resistance)


def _truth_detections(records: Records, ids: np.ndarray, animals: pd.DataFrame, survey: Survey,
                      cn_obs: pd.DataFrame, cn_media: pd.DataFrame,
                      ru: dict[str, pd.DataFrame]) -> pd.DataFrame:
    rec = records.records
    aid = np.append(animals["animalID"].to_numpy(), None)  # index -1 -> None
    dep = survey.deployments

    def rows(recidx: np.ndarray) -> dict[str, Any]:
        r = rec.iloc[recidx]
        return {
            "recordID": r["recordIdx"].to_numpy(), "eventIdx": r["eventIdx"].to_numpy(),
            "deploymentID": dep["deploymentID"].to_numpy()[r["deploymentIdx"].to_numpy()],
            "animalID": aid[r["animalIdx"].to_numpy()],
            "scientificName": r["scientificName"].to_numpy(),
            "individualID": ids[recidx], "flank": r["flank"].to_numpy(),
            "isCub": r["isCub"].to_numpy(),
            "trueTime": iso_utc(survey.t0, r["t"].to_numpy()),
            "clockHours": dep["clockHours"].to_numpy()[r["deploymentIdx"].to_numpy()],
            "clockYears": dep["clockYears"].to_numpy()[r["deploymentIdx"].to_numpy()],
        }

    first_file = cn_media[cn_media["k"] == 0].drop_duplicates("recordIdx").set_index(
        "recordIdx")["filePath"]
    cn_rec = cn_obs["recordIdx"].to_numpy()
    cn = pd.DataFrame({"country": "CN", "observationID": cn_obs["observationID"].to_numpy(),
                       "file": first_file.reindex(cn_rec).to_numpy(), **rows(cn_rec)})
    tm = ru["truth_media"]
    ru_rec = tm["recordIdx"].to_numpy()
    ru_df = pd.DataFrame({"country": "RU", "observationID": None, "file": tm["File"].to_numpy(),
                          **rows(ru_rec)})
    return pd.concat([cn, ru_df], ignore_index=True)
