"""Conflict, disease and patrol records of a simulated study, with their truth.

Drawn from a child seed of its own (spawn key :data:`INCIDENTS_SPAWN_KEY`), after and apart
from every other draw of :func:`~amurlink.simulate.simulate_study`, so adding incidents never
changes a figure of an existing scenario.

- **Depredation and animals in villages**: each day an animal whose daily position lies within
  3 km of a village kills livestock or a dog there with a probability that falls with the
  distance (``rates.kill_per_day * exp(-d / 1 km)``); the responsible animal is the truth, and
  the park records its national ID when it has one and the kill was identified (camera at the
  carcass, DNA). Within 500 m it may also be reported as an animal in the village.
- **Compensation** for livestock and dogs, in the country's currency, paid weeks later, claimed
  by made-up people (names, phone numbers, addresses) who exist only to exercise the
  protection of personal data: they go to the owner-only ``claimants`` table.
- **Snares along roads**: monthly patrols drive each road stretch of their country; snares lie
  along roads at a constant density, and each patrol finds a binomial share of them.
- **Disease**: serum samples from some animals, tested for canine distemper virus (CDV), with a
  known true status per animal.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from amurlink.core.crs import from_metric

__all__ = ["IncidentRates", "SimulatedIncidents", "simulate_incidents", "INCIDENTS_SPAWN_KEY",
           "write_simulated_incidents"]

#: Spawn key of the incidents' child seed: beyond the ten children the study itself draws.
INCIDENTS_SPAWN_KEY = 100

_GIVEN = {"CN": ["Wei", "Fang", "Jun", "Li", "Min", "Qiang", "Hua", "Lei", "Yan", "Gang"],
          "RU": ["Ivan", "Olga", "Pavel", "Irina", "Sergei", "Natalia", "Oleg", "Elena",
                 "Dmitri", "Anna"]}
_FAMILY = {"CN": ["Zhang", "Wang", "Liu", "Chen", "Jin", "Piao", "Li", "Zhao", "Sun", "Cui"],
           "RU": ["Ivanov", "Petrova", "Sidorov", "Kuznetsova", "Popov", "Smirnova", "Volkov",
                  "Orlova", "Lebedev", "Morozova"]}
_CURRENCY = {"CN": "CNY", "RU": "RUB"}
#: Compensation per animal killed, in the country's currency (Heilongjiang pays 3,000-6,000
#: yuan an animal; the Russian range is made up).
_PAY = {"CN": (3000.0, 6000.0), "RU": (20000.0, 60000.0)}


@dataclass(frozen=True)
class IncidentRates:
    """Rates of the incident simulation (defaults give tens of incidents on ``neaspec``)."""

    kill_per_day: float = 0.01
    kill_within_km: float = 3.0
    in_village_km: float = 0.5
    in_village_per_day: float = 0.05
    identified: float = 0.6
    dog_share: float = 0.2
    compensated: float = 0.8
    snares_per_km: float = 0.4
    snare_found: float = 0.3
    patrol_every_days: int = 30
    tested_share: float = 0.15
    cdv_prevalence: float = 0.12


@dataclass(frozen=True, eq=False)
class SimulatedIncidents:
    """What each country's incident books hold, and the truth behind them.

    Attributes
    ----------
    settlements : DataFrame
        ``settlementID``, ``name``, ``countryCode``, ``x``, ``y``, ``longitude``,
        ``latitude``.
    tables : dict of str to dict of str to DataFrame
        Per country (``CN``, ``RU``): ``incidents``, ``claimants``, ``diseaseTests``,
        ``patrols``, ``patrolFindings`` with the columns of :mod:`amurlink.incidents.tables`.
    truth : DataFrame
        ``incidentID``, ``animalID`` (the responsible animal), ``countryCode``.
    cdv_status : Series
        True CDV status of every tested animal, by ``animalID``.
    """

    settlements: pd.DataFrame
    tables: dict[str, dict[str, pd.DataFrame]]
    truth: pd.DataFrame
    cdv_status: pd.Series


def _lonlat(x: np.ndarray, y: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = from_metric(np.asarray(x, float), np.asarray(y, float), crs=crs)
    return np.round(lon, 6), np.round(lat, 6)


def _national_ids(links: pd.DataFrame) -> dict[tuple[str, str], str]:
    primary = links.loc[links["kind"] == "primary"] if "kind" in links.columns else links
    return {(a, c): i for a, c, i in zip(primary["animalID"], primary["country"],
                                         primary["individualID"], strict=True)}


def simulate_incidents(study: Any, /, *, rates: IncidentRates = IncidentRates()
                       ) -> SimulatedIncidents:
    """Simulate the conflict, disease and patrol records of ``study`` (a SimulatedStudy)."""
    rng = np.random.default_rng(np.random.SeedSequence(study.seed,
                                                       spawn_key=(INCIDENTS_SPAWN_KEY,)))
    land = study.landscape
    crs = land.crs
    villages = np.asarray(land.villages, dtype=float).reshape(-1, 2)
    v_side = land.side_of_border(villages[:, 0], villages[:, 1]).astype(str) \
        if len(villages) else np.zeros(0, dtype=str)
    vlon, vlat = _lonlat(villages[:, 0], villages[:, 1], crs)
    settlements = pd.DataFrame({
        "settlementID": [f"V{i + 1:02d}" for i in range(len(villages))],
        "name": [f"Village {i + 1}" for i in range(len(villages))],
        "countryCode": v_side, "x": villages[:, 0], "y": villages[:, 1],
        "longitude": vlon, "latitude": vlat,
    })
    dates = study.dates
    ids = _national_ids(study.links)
    countries = [c for c in ("CN", "RU")]

    # -- depredation and animals in villages -----------------------------------------------
    pos = study.positions  # (n, T, 2)
    rows: list[dict[str, Any]] = []
    if len(villages) and pos.size:
        d = np.hypot(pos[:, :, None, 0] - villages[:, 0], pos[:, :, None, 1] - villages[:, 1])
        nearest = d.argmin(axis=2)
        dmin_km = d.min(axis=2) / 1000.0
        p_kill = np.where(dmin_km < rates.kill_within_km,
                          rates.kill_per_day * np.exp(-dmin_km), 0.0)
        kill = rng.random(p_kill.shape) < p_kill
        p_in = np.where(dmin_km < rates.in_village_km, rates.in_village_per_day, 0.0)
        inside = rng.random(p_in.shape) < p_in
        for kind, mask in (("kill", kill), ("in-village", inside)):
            for a, t in zip(*np.nonzero(mask), strict=True):
                rows.append({"kind": kind, "a": int(a), "t": int(t), "v": int(nearest[a, t])})
    rows.sort(key=lambda r: (r["t"], r["a"], r["kind"]))
    animals = study.animals
    per_country: dict[str, dict[str, list[dict[str, Any]]]] = {
        c: {"incidents": [], "claimants": []} for c in countries}
    truth = []
    counters = dict.fromkeys(countries, 0)
    for r in rows:
        cc = str(settlements.loc[r["v"], "countryCode"])
        if cc not in per_country:
            continue  # a village outside the two countries (North Korea): nobody's books
        counters[cc] += 1
        incident_id = f"{cc}-INC-{counters[cc]:04d}"
        animal = animals.iloc[r["a"]]
        when = (dates[r["t"]] + pd.Timedelta(hours=float(rng.uniform(0, 24)))).floor("s")
        jitter = rng.normal(0.0, 300.0, 2)
        lon, lat = _lonlat(villages[r["v"], 0] + jitter[:1], villages[r["v"], 1] + jitter[1:], crs)
        known = ids.get((animal["animalID"], cc))
        identified = known is not None and rng.random() < rates.identified
        row: dict[str, Any] = {
            "incidentID": incident_id, "countryCode": cc,
            "eventStart": when, "latitude": float(lat[0]), "longitude": float(lon[0]),
            "coordinateUncertainty": 300, "scientificName": animal["scientificName"],
            "individualID": known if identified else None,
            "responseBy": "hwc-team-" + cc.lower(),
            "responseHours": round(float(rng.exponential(6.0)), 1), "source": "simulated",
        }
        if r["kind"] == "kill":
            dog = rng.random() < rates.dog_share
            victims = 1 + int(rng.random() < 0.2)
            row |= {"category": "dog-killed" if dog else "livestock-killed",
                    "victimKind": "dog" if dog else str(rng.choice(["cattle", "horse", "goat"])),
                    "victimCount": victims, "outcome": "carcass found"}
            if rng.random() < rates.compensated:
                low, high = _PAY[cc]
                claim = f"{incident_id}-C"
                row |= {"compensationAmount": round(float(rng.uniform(low, high)) * victims, -2),
                        "compensationCurrency": _CURRENCY[cc],
                        "compensationDate": when + pd.Timedelta(days=int(rng.integers(20, 61))),
                        "claimID": claim}
                given = str(rng.choice(_GIVEN[cc]))
                family = str(rng.choice(_FAMILY[cc]))
                phone = (f"+86 13{rng.integers(0, 10)} {rng.integers(1000, 10000)} "
                         f"{rng.integers(1000, 10000)}" if cc == "CN" else
                         f"+7 9{rng.integers(10, 100)} {rng.integers(100, 1000)}-"
                         f"{rng.integers(10, 100)}-{rng.integers(10, 100)}")
                per_country[cc]["claimants"].append({
                    "claimID": claim, "incidentID": incident_id,
                    "claimantName": f"{family} {given}" if cc == "CN" else f"{given} {family}",
                    "phone": phone,
                    "address": f"{int(rng.integers(1, 80))} {settlements.loc[r['v'], 'name']}",
                })
        else:
            row |= {"category": "animal-in-village", "victimCount": 0,
                    "outcome": "animal left on its own"}
        per_country[cc]["incidents"].append(row)
        truth.append({"incidentID": incident_id, "animalID": animal["animalID"],
                      "countryCode": cc})

    # -- patrols and snares along roads ------------------------------------------------------
    patrols: dict[str, list[dict[str, Any]]] = {c: [] for c in countries}
    findings: dict[str, list[dict[str, Any]]] = {c: [] for c in countries}
    for cc in countries:
        area = land.countries.get(cc)
        if area is None:
            continue
        stretches = []
        for road in land.roads:
            part = shapely.intersection(road, area)
            for piece in getattr(part, "geoms", [part]):
                if piece.length > 100:
                    stretches.append(piece)
        snares = [int(rng.poisson(rates.snares_per_km * s.length / 1000.0)) for s in stretches]
        n_trips = max(1, len(dates) // rates.patrol_every_days)
        for trip in range(n_trips):
            start = dates[0] + pd.Timedelta(days=trip * rates.patrol_every_days, hours=8)
            for k, (s, total) in enumerate(zip(stretches, snares, strict=True)):
                pid = f"{cc}-PAT-{trip + 1:03d}-{k + 1}"
                coords = np.asarray(s.coords)
                lon, lat = _lonlat(coords[:, 0], coords[:, 1], crs)
                patrols[cc].append({
                    "patrolID": pid, "countryCode": cc, "start": start,
                    "end": start + pd.Timedelta(hours=8),
                    "lengthKm": round(s.length / 1000.0, 3), "transport": "vehicle",
                    "team": f"patrol-team-{cc.lower()}",
                    "track": "LINESTRING (" + ", ".join(f"{a} {b}" for a, b in
                                                         zip(lon, lat, strict=True)) + ")",
                    "source": "simulated",
                })
                found = int(rng.binomial(total, rates.snare_found)) if total else 0
                if found:
                    where = s.interpolate(float(rng.uniform(0, s.length)))
                    flon, flat = _lonlat(np.array([where.x]), np.array([where.y]), crs)
                    findings[cc].append({
                        "findingID": f"{pid}-F1", "patrolID": pid, "date": start +
                        pd.Timedelta(hours=3), "latitude": float(flat[0]),
                        "longitude": float(flon[0]), "category": "snare", "count": found,
                    })

    # -- CDV serology ----------------------------------------------------------------------------
    tests: dict[str, list[dict[str, Any]]] = {c: [] for c in countries}
    tested = rng.random(len(animals)) < rates.tested_share
    status = rng.random(len(animals)) < rates.cdv_prevalence
    cdv = {}
    home_side = land.side_of_border(animals["x"].to_numpy(float), animals["y"].to_numpy(float))
    for i in np.flatnonzero(tested):
        cc = str(home_side[i])
        if cc not in tests:
            continue
        animal = animals.iloc[i]
        cdv[animal["animalID"]] = bool(status[i])
        when = dates[int(rng.integers(0, len(dates)))]
        tests[cc].append({
            "testID": f"{cc}-CDV-{len(tests[cc]) + 1:03d}", "sampleID": None,
            "individualID": ids.get((animal["animalID"], cc)),
            "scientificName": animal["scientificName"], "countryCode": cc,
            "sampleType": "serum", "sampleDate": when, "lab": f"{cc}-vet-lab",
            "pathogen": "CDV", "assay": "serology (virus neutralisation)",
            "result": "positive" if status[i] else "negative",
        })

    from amurlink.incidents.imports import _frame

    tables = {cc: {
        "incidents": _frame("incidents", per_country[cc]["incidents"]),
        "claimants": _frame("claimants", per_country[cc]["claimants"]),
        "diseaseTests": _frame("diseaseTests", tests[cc]),
        "patrols": _frame("patrols", patrols[cc]),
        "patrolFindings": _frame("patrolFindings", findings[cc]),
    } for cc in countries}
    truth_frame = pd.DataFrame(truth, columns=["incidentID", "animalID", "countryCode"])
    return SimulatedIncidents(settlements=settlements, tables=tables, truth=truth_frame,
                              cdv_status=pd.Series(cdv, name="cdv", dtype=bool))


def write_simulated_incidents(study: Any, folder: str | os.PathLike[str], /, *,
                              rates: IncidentRates = IncidentRates()) -> list[Path]:
    """Write the incident books of ``study`` into a simulated study folder.

    ``incidents/<cc>/`` (each country's tables, the owner-only ``claimants`` included: these
    are the owner's books), ``landscape/settlements.csv`` (the villages, for ``amurlink
    incidents warnings``) and ``truth/incidents.csv`` (the responsible animal of each
    incident). Everything is drawn from the incidents' own child seed
    (:data:`INCIDENTS_SPAWN_KEY`), and no file the study already holds is changed.

    Returns
    -------
    list of Path
        The files written.
    """
    from amurlink.incidents.imports import write_incident_tables

    root = Path(folder)
    sim = simulate_incidents(study, rates=rates)
    written: list[Path] = []
    for code, tables in sim.tables.items():
        written += write_incident_tables(tables, root / "incidents" / code.lower())
    for rel, frame in (("landscape/settlements.csv", sim.settlements[
            ["settlementID", "name", "countryCode", "longitude", "latitude"]]),
            ("truth/incidents.csv", sim.truth)):
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        aside = target.with_name(target.name + ".tmp")
        frame.to_csv(aside, index=False, lineterminator="\n")
        aside.replace(target)
        written.append(target)
    return written
