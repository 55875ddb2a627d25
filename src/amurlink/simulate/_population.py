"""Animals (centres, sex, life stage, cubs, dispersers) and their continuous daily paths."""

from __future__ import annotations

import numpy as np
import pandas as pd

from amurlink.simulate._landscape import CN, RU, Landscape
from amurlink.simulate._scenario import Scenario

__all__ = ["simulate_animals", "simulate_paths", "crossings_from_path"]

_PREFIX = {"Panthera tigris": "tig", "Panthera pardus": "leo"}


def _intensity(land: Landscape, east_preference: float) -> np.ndarray:
    """Relative intensity of home-range centres per cell: habitat times an east-west trend."""
    x0, _, x1, _ = land.extent
    trend = np.exp(east_preference * ((land.x - x0) / (x1 - x0) - 0.5))
    w = land.habitat * trend[None, :]
    w[~np.isin(land.country, (CN, RU))] = 0.0
    return w


def simulate_animals(land: Landscape, scenario: Scenario, *, rng: np.random.Generator
                     ) -> pd.DataFrame:
    """Draw the animals of every big-cat species of ``scenario``.

    Independent animals (adults, subadults) have home-range centres from an inhomogeneous
    Poisson process with intensity proportional to habitat (times a species' east-west trend),
    scaled so the mean density over the land is ``SpeciesParams.density``. Adult females have
    litters with probability ``p_litter``; cubs share their mother's centre. Dispersers are
    subadults from Russia whose centre moves into China on ``disperseDay``.

    Returns
    -------
    DataFrame
        One row per animal: ``animalID, scientificName, sex, lifeStage, motherID, x, y,
        sigma, sigmaDay, lambda0, rho, disperser, x2, y2, disperseDay, patternSeed``
        (metres, days from the survey start).
    """
    rows = []
    land_km2 = land.land_area_km2("CN") + land.land_area_km2("RU")
    for sp, p in scenario.species.items():
        n = int(rng.poisson(p.density * land_km2 / 100.0))
        if n == 0:
            continue
        x, y = land.sample_cells(_intensity(land, p.east_preference), n, rng)
        male = rng.random(n) < p.p_male
        stage = np.where(rng.random(n) < p.p_subadult, "subadult", "adult")
        df = pd.DataFrame({"scientificName": sp, "sex": np.where(male, "male", "female"),
                           "lifeStage": stage, "motherID": None, "x": x, "y": y})
        df["sigma"] = np.where(male, p.sigma_m[1], p.sigma_m[0])
        df["lambda0"] = np.where(male, p.lambda0[1], p.lambda0[0])
        # Cubs with their mothers.
        mothers = np.flatnonzero((~male) & (stage == "adult") & (rng.random(n) < p.p_litter))
        sizes = rng.integers(p.litter[0], p.litter[1] + 1, mothers.size)
        cub_mother = np.repeat(mothers, sizes)
        cubs = pd.DataFrame({
            "scientificName": sp,
            "sex": np.where(rng.random(cub_mother.size) < 0.5, "male", "female"),
            "lifeStage": "juvenile", "x": x[cub_mother], "y": y[cub_mother],
            "sigma": df["sigma"].to_numpy()[cub_mother], "lambda0": 0.0,
        })
        df["_mother"] = -1
        cubs["_mother"] = cub_mother
        both = pd.concat([df, cubs], ignore_index=True)
        both["_sp"] = sp
        both["sigmaDay"] = p.sigma_day_m
        both["rho"] = p.daily_rho
        rows.append((both, p))
    out = []
    counter = 0
    for both, p in rows:
        ids = np.array([f"{_PREFIX.get(both['_sp'].iloc[0], 'ani')}-{k:04d}"
                        for k in range(counter, counter + len(both))], dtype=object)
        counter += len(both)
        both["animalID"] = ids
        m = both["_mother"].to_numpy()
        both["motherID"] = np.where(m >= 0, ids[np.maximum(m, 0)], None)
        both["disperser"] = False
        both["x2"] = both["x"]
        both["y2"] = both["y"]
        both["disperseDay"] = -1
        _dispersers(both, p, land, scenario, rng)
        out.append(both.drop(columns=["_mother", "_sp"]))
    if not out:
        return pd.DataFrame(columns=["animalID", "scientificName", "sex", "lifeStage",
                                     "motherID", "x", "y", "sigma", "sigmaDay", "lambda0",
                                     "rho", "disperser", "x2", "y2", "disperseDay",
                                     "patternSeed"])
    animals = pd.concat(out, ignore_index=True)
    animals["patternSeed"] = rng.integers(0, 2**31 - 1, len(animals))
    cols = ["animalID", "scientificName", "sex", "lifeStage", "motherID", "x", "y", "sigma",
            "sigmaDay", "lambda0", "rho", "disperser", "x2", "y2", "disperseDay", "patternSeed"]
    return animals[cols]


def _dispersers(df: pd.DataFrame, p, land: Landscape, scenario: Scenario,
                rng: np.random.Generator) -> None:
    """Move ``n_dispersers`` Russian subadults' centres into China (in place)."""
    if p.n_dispersers <= 0:
        return
    ind = (df["lifeStage"] != "juvenile").to_numpy()
    side = land.side_of_border(df["x"].to_numpy(), df["y"].to_numpy())
    dist = land.distance_to_border(df["x"].to_numpy(), df["y"].to_numpy())
    cand = np.flatnonzero(ind & (side == "RU") & (df["lifeStage"] == "subadult").to_numpy())
    if cand.size < p.n_dispersers:  # not enough subadults: young adults near the border
        extra = np.flatnonzero(ind & (side == "RU") & (df["lifeStage"] == "adult").to_numpy())
        cand = np.concatenate([cand, extra[np.argsort(dist[extra])]])
    if cand.size == 0:
        return
    chosen = cand[np.argsort(dist[cand], kind="stable")][: p.n_dispersers]
    # Destination cells: Chinese habitat at the requested distance from the border.
    cells = np.flatnonzero((land.country == CN).ravel() & (land.habitat.ravel() > 0.3))
    if cells.size == 0:
        return
    iy, ix = np.unravel_index(cells, land.habitat.shape)
    cx, cy = land.x[ix], land.y[iy]
    d = land.distance_to_border(cx, cy) / 1000.0
    lo, hi = p.disperse_km
    ok = (d >= lo) & (d <= hi)
    if not ok.any():
        ok = np.abs(d - (lo + hi) / 2) <= np.min(np.abs(d - (lo + hi) / 2)) + 1.0
    pick = rng.choice(np.flatnonzero(ok), size=chosen.size, replace=ok.sum() < chosen.size)
    n_days = scenario.n_days
    day = rng.integers(max(1, n_days // 4), max(2, 3 * n_days // 4), chosen.size)
    idx = df.index[chosen]
    df.loc[idx, "x2"] = cx[pick]
    df.loc[idx, "y2"] = cy[pick]
    df.loc[idx, "disperseDay"] = day
    df.loc[idx, "disperser"] = True
    df.loc[idx, "lifeStage"] = "subadult"
    # A disperser's cubs would not follow; dispersers are never mothers here.


def simulate_paths(animals: pd.DataFrame, n_days: int, *, rng: np.random.Generator
                   ) -> np.ndarray:
    """Daily positions of every animal: an Ornstein-Uhlenbeck walk around its centre.

    Day-to-day autocorrelation ``rho``; the stationary spread around the centre is
    ``sqrt(sigma**2 - sigmaDay**2)`` per axis, so that daily positions plus the movement within
    a day (scale ``sigmaDay``) have the utilisation distribution of the SECR half-normal with
    scale ``sigma``. A disperser's centre switches on ``disperseDay`` and the walk carries it
    there over the following days. Cubs stay within a few hundred metres of their mother.

    Returns
    -------
    ndarray, shape (n_animals, n_days, 2)
        Positions in metres.
    """
    n = len(animals)
    pos = np.empty((n, n_days, 2))
    if n == 0:
        return pos
    sigma = animals["sigma"].to_numpy(float)
    sday = animals["sigmaDay"].to_numpy(float)
    spread = np.sqrt(np.maximum(sigma**2 - sday**2, (0.2 * sigma) ** 2))
    rho = animals["rho"].to_numpy(float)
    c1 = animals[["x", "y"]].to_numpy(float)
    c2 = animals[["x2", "y2"]].to_numpy(float)
    dday = animals["disperseDay"].to_numpy(int)
    noise = rng.standard_normal((n_days, n, 2))
    off = noise[0] * spread[:, None]
    k = np.sqrt(1 - rho**2)[:, None] * spread[:, None]
    for t in range(n_days):
        centre = np.where(((dday >= 0) & (t >= dday))[:, None], c2, c1)
        if t > 0:
            prev_centre = np.where(((dday >= 0) & (t - 1 >= dday))[:, None], c2, c1)
            off = rho[:, None] * (pos[:, t - 1] - prev_centre) + k * noise[t]
            # A disperser travels: its offset from the new centre shrinks by rho per day.
        pos[:, t] = centre + off
    # Cubs follow their mothers.
    ids = pd.Index(animals["animalID"])
    mother = animals["motherID"]
    has = mother.notna().to_numpy()
    if has.any():
        mi = ids.get_indexer(mother[has])
        pos[has] = pos[mi] + rng.normal(0, 300.0, (has.sum(), n_days, 2))
    return pos


def crossings_from_path(sides: np.ndarray) -> np.ndarray:
    """Number of day-to-day changes of border side per animal (``sides``: (n, T) of CN/RU)."""
    if sides.shape[1] < 2:
        return np.zeros(sides.shape[0], dtype=int)
    return (sides[:, 1:] != sides[:, :-1]).sum(axis=1)

