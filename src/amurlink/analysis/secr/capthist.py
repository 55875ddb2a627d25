"""CaptureHistory: the detections of one session (animals x occasions x detectors), validated."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from amurlink.analysis.secr._geometry import AREA_DETECTORS
from amurlink.exceptions import DataError

__all__ = ["AREA_DETECTORS", "DETECTORS", "CaptureHistory"]

#: Detector types: secr's names. "single" is fitted with the multi-catch likelihood, as secr.
DETECTORS = ("multi", "single", "proximity", "count", "signal", *AREA_DETECTORS)


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class CaptureHistory:
    """Detections of one session: who was detected, when (occasion) and where (detector).

    Build it with :meth:`from_arrays` or :meth:`from_frames`; the constructor validates.

    Parameters
    ----------
    traps : ndarray, shape (K, 2)
        Detector coordinates ``x, y`` in metres (projected CRS).
    counts : ndarray of int, shape (n, S, K)
        Number of detections of animal ``i`` on occasion ``s`` at detector ``k``. Binary for
        ``proximity``; at most one detection per animal and occasion for ``multi``/``single``.
    detector : {"multi", "single", "proximity", "count"}
        Detector type. ``single`` is fitted with the multi-catch likelihood, as secr does.
    usage : ndarray, shape (K, S), optional
        Effort of detector ``k`` on occasion ``s`` (0 = not operating). Default: all 1.
    trap_ids, animal_ids : sequence of str, optional
        Labels (default ``"1".."K"`` and ``"1".."n"``).
    dead : ndarray of int, shape (n,), optional
        0-based occasion on which the animal was removed (died), or -1 (default).
    covariates : DataFrame, optional
        Individual covariates, one row per animal in ``animal_ids`` order.
    session : str, default "1"
        Session label.
    crs : str, optional
        Coordinate reference system of ``traps`` (informative only).
    trap_covariates : DataFrame, optional
        Detector covariates (e.g. ``trail``), one row per detector, for detection models such
        as ``lambda0 ~ trail``.
    occasion_detectors : tuple of str, optional
        Detector type of each occasion when it varies, as secr allows (``"count"`` for
        camera occasions, ``"proximity"`` for DNA searches, ``"multi"`` for live-trap
        occasions): one model of all with shared density and movement; ``lambda0 ~
        dettype`` gives each type its own detection.
    geometry : tuple of shapely geometries, optional
        For area and line detectors (``polygon``, ``polygonX``, ``transect``,
        ``transectX``): each detector's searched area (Polygon/MultiPolygon) or route
        (LineString/MultiLineString); ``traps`` then holds a point on each.
    detection_xy : ndarray, shape (detections, 2), optional
        For area and line detectors: where each detection was made, in the order of
        ``np.nonzero(counts)`` with each (animal, occasion, detector) repeated by its count
        (build with :meth:`from_locations`).
    signal : ndarray, shape (n, S, K), optional
        For ``signal`` detectors (binary, as proximity, with a measured signal strength, e.g.
        dB of a call at a microphone): the signal of each detection, NaN where there is no
        detection or the signal was not measured.
    cutval : float, optional
        For ``signal`` detectors: the detection threshold; every measured signal is at least
        this (secr's ``cutval``).

    References
    ----------
    Efford, M. G. (2004). Density estimation in live-trapping studies. Oikos 106, 598-610.
    """

    traps: np.ndarray
    counts: np.ndarray
    detector: str = "multi"
    usage: np.ndarray | None = None
    trap_ids: tuple[str, ...] = ()
    animal_ids: tuple[str, ...] = ()
    dead: np.ndarray | None = None
    covariates: pd.DataFrame | None = None
    session: str = "1"
    crs: str | None = None
    trap_covariates: pd.DataFrame | None = None
    occasion_detectors: tuple[str, ...] | None = None
    geometry: tuple | None = None
    detection_xy: np.ndarray | None = None
    signal: np.ndarray | None = None
    cutval: float | None = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        traps = np.array(self.traps, dtype=float)
        if traps.ndim != 2 or traps.shape[1] != 2 or traps.shape[0] < 1:
            raise DataError(
                f"traps must have shape (K, 2) with K >= 1 detector coordinates, got {traps.shape}"
            )
        if not np.all(np.isfinite(traps)):
            raise DataError("traps contain missing or infinite coordinates; give x, y in metres")
        counts = np.array(self.counts)
        if counts.ndim != 3:
            raise DataError(f"counts must have shape (n, S, K), got {counts.shape}")
        n, S, K = counts.shape
        if K != traps.shape[0]:
            raise DataError(
                f"counts has {K} detectors but traps has {traps.shape[0]}; they must match"
            )
        if S < 1:
            raise DataError("a capture history needs at least one occasion")
        if counts.size and (not np.all(np.isfinite(counts)) or np.any(counts < 0)):
            raise DataError("counts must be non-negative integers")
        if counts.size and np.any(counts != np.round(counts)):
            raise DataError("counts must be whole numbers of detections")
        counts = counts.astype(np.int64)
        if self.detector not in DETECTORS:
            raise DataError(
                f"unknown detector type {self.detector!r}; expected one of {', '.join(DETECTORS)}"
            )
        if self.detector in ("proximity", "signal") and counts.size and counts.max() > 1:
            raise DataError(
                f"{self.detector} detectors record at most one detection per animal, occasion "
                "and detector; use detector='count' for repeated detections"
            )
        if self.detector in ("multi", "single") and n and self.occasion_detectors is None:
            per_occ = counts.sum(axis=2)
            if per_occ.max() > 1:
                i, s = np.argwhere(per_occ > 1)[0]
                raise DataError(
                    f"{self.detector}-catch traps hold an animal at most once per occasion, but "
                    f"animal {i + 1} has {per_occ[i, s]} detections on occasion {s + 1}; use "
                    "detector='proximity' or 'count'"
                )
        self._check_area(counts)
        self._check_signal(counts)
        if n and np.any(counts.reshape(n, -1).sum(axis=1) == 0):
            i = int(np.flatnonzero(counts.reshape(n, -1).sum(axis=1) == 0)[0])
            raise DataError(f"animal {i + 1} has no detection; every animal needs at least one")
        usage = None
        if self.usage is not None:
            usage = np.array(self.usage, dtype=float)
            if usage.shape != (K, S):
                raise DataError(
                    f"usage must have shape (detectors, occasions) = ({K}, {S}), got {usage.shape}"
                )
            if not np.all(np.isfinite(usage)) or np.any(usage < 0):
                raise DataError("usage must be finite and non-negative (0 = detector not set)")
            if n:
                bad = (counts > 0) & (usage.T[None, :, :] == 0)
                if bad.any():
                    i, s, k = np.argwhere(bad)[0]
                    raise DataError(
                        f"animal {i + 1} was detected on occasion {s + 1} at detector {k + 1} "
                        "whose usage is 0 (not operating); fix the usage or the detection"
                    )
            if self.detector == "signal" and np.any((usage != 0) & (usage != 1)):
                raise DataError("signal detectors take usage 0 (not operating) or 1, as "
                                "secr's signal likelihood; got other values")
            if np.all(usage == 1):
                usage = None
        trap_ids = tuple(str(t) for t in self.trap_ids) or tuple(str(k + 1) for k in range(K))
        if len(trap_ids) != K or len(set(trap_ids)) != K:
            raise DataError(f"trap_ids must be {K} unique labels")
        animal_ids = tuple(str(a) for a in self.animal_ids) or tuple(str(i + 1) for i in range(n))
        if len(animal_ids) != n or len(set(animal_ids)) != n:
            raise DataError(f"animal_ids must be {n} unique labels")
        dead = (
            np.full(n, -1, dtype=np.int64)
            if self.dead is None
            else np.array(self.dead, dtype=np.int64).reshape(-1)
        )
        if dead.shape != (n,) or np.any(dead >= S) or np.any(dead < -1):
            raise DataError("dead must hold, per animal, the 0-based removal occasion or -1")
        if n and np.any(dead >= 0):
            occ = np.arange(S)
            after = (occ[None, :] > dead[:, None]) & (dead[:, None] >= 0)
            if np.any(counts.sum(axis=2)[after] > 0):
                raise DataError("an animal is detected after the occasion of its removal")
        cov = self.covariates
        if cov is not None:
            cov = pd.DataFrame(cov).reset_index(drop=True)
            if len(cov) != n:
                raise DataError(f"covariates must have one row per animal ({n}), got {len(cov)}")
        object.__setattr__(self, "traps", _frozen(traps))
        object.__setattr__(self, "counts", _frozen(counts))
        object.__setattr__(self, "usage", None if usage is None else _frozen(usage))
        object.__setattr__(self, "trap_ids", trap_ids)
        object.__setattr__(self, "animal_ids", animal_ids)
        object.__setattr__(self, "dead", _frozen(dead))
        object.__setattr__(self, "covariates", cov)
        tcov = self.trap_covariates
        if tcov is not None:
            tcov = pd.DataFrame(tcov).reset_index(drop=True)
            if len(tcov) != traps.shape[0]:
                raise DataError(f"trap covariates must have one row per detector "
                                f"({traps.shape[0]}), got {len(tcov)}")
            object.__setattr__(self, "trap_covariates", tcov)
        od = self.occasion_detectors
        if od is not None:
            od = tuple(str(v) for v in od)
            if len(od) != S:
                raise DataError(f"occasion_detectors must give one detector type per occasion "
                                f"({S}), got {len(od)}")
            bad = sorted(set(od) - {"proximity", "count", "multi", "single"})
            if bad:
                raise DataError(f"occasion_detectors: proximity, count and multi (single) "
                                f"occasions can be mixed, as in secr; got {bad}")
            if self.detector not in ("proximity", "count", "multi", "single"):
                raise DataError(f"occasion_detectors go with point detectors (proximity, "
                                f"count, multi, single), not {self.detector!r}")
            if np.any(counts[:, [i for i, v in enumerate(od) if v == "proximity"], :] > 1):
                raise DataError("a proximity occasion has a count above 1; proximity "
                                "detections are 0/1")
            multi = [i for i, v in enumerate(od) if v in ("multi", "single")]
            if n and multi and counts[:, multi, :].sum(axis=2).max() > 1:
                i, s_ = np.argwhere(counts[:, multi, :].sum(axis=2) > 1)[0]
                raise DataError(f"animal {i + 1} has more than one detection on multi-catch "
                                f"occasion {multi[s_] + 1}; a multi-catch trap holds an "
                                "animal once per occasion")
            object.__setattr__(self, "occasion_detectors", od)
        object.__setattr__(self, "session", str(self.session))

    def _check_signal(self, counts: np.ndarray) -> None:
        """Validate (and freeze) the signal strengths and threshold of signal detectors."""
        if self.detector != "signal":
            if self.signal is not None or self.cutval is not None:
                raise DataError(f"signal and cutval belong to signal detectors, not "
                                f"{self.detector!r}")
            return
        if self.cutval is None or not np.isfinite(float(self.cutval)):
            raise DataError("signal detectors need cutval, the detection threshold of the "
                            "signal (every measured signal is at least cutval)")
        cut = float(self.cutval)
        sig = (np.full(counts.shape, np.nan) if self.signal is None
               else np.array(self.signal, dtype=float))
        if sig.shape != counts.shape:
            raise DataError(f"signal must have the shape of counts (animals, occasions, "
                            f"detectors) = {counts.shape}, got {sig.shape}")
        if np.any(np.isinf(sig)):
            raise DataError("signal holds an infinite value; give the measured signal or NaN "
                            "where it was not measured")
        stray = ~np.isnan(sig) & (counts == 0)
        if stray.any():
            i, s_, k = np.argwhere(stray)[0]
            raise DataError(f"animal {i + 1} has a signal on occasion {s_ + 1} at detector "
                            f"{k + 1} but no detection there; a signal belongs to a detection")
        low = ~np.isnan(sig) & (sig < cut)
        if low.any():
            i, s_, k = np.argwhere(low)[0]
            raise DataError(f"animal {i + 1}, occasion {s_ + 1}, detector {k + 1}: signal "
                            f"{sig[i, s_, k]:g} is below cutval {cut:g}; a detection is a "
                            "signal at or above the threshold (drop it or lower cutval)")
        object.__setattr__(self, "signal", _frozen(sig))
        object.__setattr__(self, "cutval", cut)

    def _check_area(self, counts: np.ndarray) -> None:
        """Validate (and freeze) the geometry and detection locations of area and line
        detectors; refuse them for point detectors."""
        if self.detector not in AREA_DETECTORS:
            if self.geometry is not None or self.detection_xy is not None:
                raise DataError(f"geometry and detection_xy belong to area and line detectors "
                                f"({', '.join(AREA_DETECTORS)}), not {self.detector!r}")
            return
        import shapely

        from amurlink.analysis.secr._geometry import detector_geometry

        n, S, K = counts.shape
        geoms = tuple(self.geometry) if self.geometry is not None else ()
        if len(geoms) != K:
            raise DataError(f"{self.detector} detectors need one geometry per detector ({K}), "
                            f"got {len(geoms)}")
        geoms = tuple(detector_geometry(g, self.detector, str(k + 1))
                      for k, g in enumerate(geoms))
        xy = np.zeros((0, 2)) if self.detection_xy is None else np.array(self.detection_xy,
                                                                        dtype=float)
        total = int(counts.sum())
        if xy.shape != (total, 2):
            raise DataError(f"{self.detector} detectors need the location of every detection: "
                            f"detection_xy must have shape ({total}, 2), got {xy.shape}")
        if not np.all(np.isfinite(xy)):
            raise DataError("detection_xy has missing or infinite coordinates")
        if total:
            i, s, k = np.nonzero(counts)
            reps = counts[i, s, k]
            i, s, k = np.repeat(i, reps), np.repeat(s, reps), np.repeat(k, reps)
            dist = shapely.distance(np.asarray(geoms, dtype=object)[k], shapely.points(xy))
            bad = np.flatnonzero(dist > 0.01)
            if bad.size:
                j = int(bad[0])
                raise DataError(
                    f"detection {j + 1} (animal {i[j] + 1}, occasion {s[j] + 1}) at "
                    f"({xy[j, 0]:.1f}, {xy[j, 1]:.1f}) is {dist[j]:.1f} m from detector "
                    f"{k[j] + 1}: a {self.detector} detection must lie on its detector; "
                    "fix the location or the detector, or give a tolerance (snap=, "
                    "--snap) for GPS positions beside a route")
        if self.detector.endswith("X") and n and counts.sum(axis=2).max() > 1:
            i, s = np.argwhere(counts.sum(axis=2) > 1)[0]
            raise DataError(f"{self.detector} detectors record an animal at most once per "
                            f"occasion, but animal {i + 1} has {counts[i, s].sum()} detections "
                            f"on occasion {s + 1}; use {self.detector[:-1]!r}")
        if self.occasion_detectors is not None:
            raise DataError("area and line detectors cannot be mixed with others by occasion")
        object.__setattr__(self, "geometry", geoms)
        object.__setattr__(self, "detection_xy", _frozen(xy))

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_locations(
        cls,
        geometry: Sequence,
        animal: ArrayLike,
        occasion: ArrayLike,
        detector_index: ArrayLike,
        xy: ArrayLike,
        *,
        detector: str = "polygon",
        n_occasions: int | None = None,
        usage: ArrayLike | None = None,
        trap_ids: Sequence[str] | None = None,
        animal_ids: Sequence[str] | None = None,
        covariates: pd.DataFrame | None = None,
        session: str = "1",
        crs: str | None = None,
        trap_covariates: pd.DataFrame | None = None,
        snap: float = 0.0,
    ) -> CaptureHistory:
        """Build a capture history of area or line detectors from one entry per detection:
        0-based ``animal``, ``occasion``, ``detector_index`` and its location ``xy``.

        Parameters
        ----------
        geometry : sequence of shapely geometries
            One per detector: Polygon/MultiPolygon for ``polygon``/``polygonX``,
            LineString/MultiLineString for ``transect``/``transectX`` (metres).
        xy : array_like, shape (detections, 2)
            Where each detection was made (on its detector).
        detector : {"polygon", "polygonX", "transect", "transectX"}
            ``...X``: exclusive (at most one detection per animal and occasion).
        snap : float, default 0
            Tolerance in metres: a location up to this far from its detector (a GPS position
            beside the route) is moved to the nearest point of the detector, with a
            :class:`~amurlink.exceptions.DataQualityWarning` saying how many and how far;
            farther ones are refused. 0: locations must lie on their detector (1 cm).

        Returns
        -------
        CaptureHistory
        """
        import shapely

        if detector not in AREA_DETECTORS:
            raise DataError(f"from_locations builds area or line detectors "
                            f"({', '.join(AREA_DETECTORS)}), got {detector!r}")
        geometry = list(geometry)
        animal = np.asarray(animal, dtype=np.int64).reshape(-1)
        occasion = np.asarray(occasion, dtype=np.int64).reshape(-1)
        kidx = np.asarray(detector_index, dtype=np.int64).reshape(-1)
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        if not (animal.size == occasion.size == kidx.size == len(xy)):
            raise DataError("animal, occasion, detector_index and xy need one entry per "
                            "detection each")
        if kidx.size and (kidx.min() < 0 or kidx.max() >= len(geometry)):
            raise DataError(f"detector_index out of range 0..{len(geometry) - 1}")
        n = len(animal_ids) if animal_ids is not None else (
            int(animal.max()) + 1 if animal.size else 0)
        if n_occasions is None:
            n_occasions = (np.asarray(usage).shape[1] if usage is not None
                           else int(occasion.max()) + 1 if occasion.size else 1)
        if occasion.size and (occasion.min() < 0 or occasion.max() >= n_occasions):
            raise DataError(f"occasion out of range 1..{n_occasions}")
        counts = np.zeros((n, int(n_occasions), len(geometry)), dtype=np.int64)
        np.add.at(counts, (animal, occasion, kidx), 1)
        if snap > 0 and len(xy):
            xy = _snapped(geometry, kidx, xy, float(snap))
        order = np.lexsort((kidx, occasion, animal))  # np.nonzero order of the counts
        pts = [(g.representative_point() if g.geom_type.endswith("Polygon")
                else g.interpolate(0.5, normalized=True)) if isinstance(g, shapely.Geometry)
               else None for g in geometry]
        traps = np.array([[p.x, p.y] if p is not None else [np.nan, np.nan] for p in pts])
        if not np.all(np.isfinite(traps)):
            k = int(np.flatnonzero(~np.isfinite(traps[:, 0]))[0])
            raise DataError(f"detector {k + 1}: {detector} detectors need a shapely geometry, "
                            f"got {geometry[k]!r}")
        return cls(
            traps=traps, counts=counts, detector=detector,
            usage=None if usage is None else np.asarray(usage, dtype=float),
            trap_ids=tuple(trap_ids) if trap_ids is not None else (),
            animal_ids=tuple(animal_ids) if animal_ids is not None else (),
            covariates=covariates, session=session, crs=crs,
            trap_covariates=trap_covariates, geometry=tuple(geometry),
            detection_xy=xy[order],
        )

    @classmethod
    def from_arrays(
        cls,
        traps: ArrayLike,
        animal: ArrayLike,
        occasion: ArrayLike,
        trap: ArrayLike,
        *,
        detector: str,
        n_occasions: int | None = None,
        usage: ArrayLike | None = None,
        trap_ids: Sequence[str] | None = None,
        animal_ids: Sequence[str] | None = None,
        dead: ArrayLike | None = None,
        covariates: pd.DataFrame | None = None,
        session: str = "1",
        crs: str | None = None,
        trap_covariates: pd.DataFrame | None = None,
        signal: ArrayLike | None = None,
        cutval: float | None = None,
    ) -> CaptureHistory:
        """Build from one entry per detection: 0-based ``animal``, ``occasion``, ``trap`` indices.

        Parameters
        ----------
        traps : array_like, shape (K, 2)
            Detector coordinates in metres.
        animal, occasion, trap : array_like of int
            0-based indices of each detection (repeat an entry to count it twice).
        detector : {"multi", "single", "proximity", "count"}
            Detector type.
        n_occasions : int, optional
            Number of occasions S; default from ``usage`` or the last occasion with a detection.
        usage : array_like, shape (K, S), optional
            Detector effort per occasion.
        dead : array_like of bool, optional
            Per detection, True if the animal was removed at that detection.
        signal : array_like of float, optional
            ``signal`` detectors: per detection, the measured signal (NaN if not measured).
        cutval : float, optional
            ``signal`` detectors: the detection threshold.

        Returns
        -------
        CaptureHistory
        """
        traps = np.asarray(traps, dtype=float)
        animal = np.asarray(animal, dtype=np.int64)
        occasion = np.asarray(occasion, dtype=np.int64)
        trap = np.asarray(trap, dtype=np.int64)
        n = int(animal.max()) + 1 if animal.size else 0
        if animal_ids is not None:
            n = len(animal_ids)
        if n_occasions is None:
            if usage is not None:
                n_occasions = np.asarray(usage).shape[1]
            else:
                n_occasions = int(occasion.max()) + 1 if occasion.size else 1
        counts = np.zeros((n, int(n_occasions), traps.shape[0]), dtype=np.int64)
        if occasion.size and (occasion.min() < 0 or occasion.max() >= n_occasions):
            raise DataError(
                f"occasion out of range 1..{n_occasions}: got {occasion.min() + 1}.."
                f"{occasion.max() + 1}"
            )
        np.add.at(counts, (animal, occasion, trap), 1)
        dead_occ = None
        if dead is not None:
            dmask = np.asarray(dead, dtype=bool)
            dead_occ = np.full(n, -1, dtype=np.int64)
            dead_occ[animal[dmask]] = occasion[dmask]
        sig = None
        if signal is not None:
            sval = np.asarray(signal, dtype=float).reshape(-1)
            if sval.shape != animal.shape:
                raise DataError(f"signal needs one value per detection ({animal.size}), got "
                                f"{sval.size}")
            sig = np.full(counts.shape, np.nan)
            sig[animal, occasion, trap] = sval
        return cls(
            traps=traps,
            counts=counts,
            detector=detector,
            usage=None if usage is None else np.asarray(usage, dtype=float),
            trap_ids=tuple(trap_ids) if trap_ids is not None else (),
            animal_ids=tuple(animal_ids) if animal_ids is not None else (),
            dead=dead_occ,
            covariates=covariates,
            session=session,
            crs=crs,
            trap_covariates=trap_covariates,
            signal=sig,
            cutval=cutval,
        )

    @classmethod
    def from_frames(
        cls,
        captures: pd.DataFrame,
        traps: pd.DataFrame,
        *,
        detector: str,
        n_occasions: int | None = None,
        animals: pd.DataFrame | None = None,
        session: str = "1",
        crs: str | None = None,
        cutval: float | None = None,
    ) -> CaptureHistory:
        """Build from a detections table and a detector table (the secr reference CSV layout).

        Parameters
        ----------
        captures : DataFrame
            One row per detection with columns ``animal_id``, ``occasion`` (1-based),
            ``trap_id`` and optionally ``dead`` (1 = removed at this detection).
        traps : DataFrame
            Columns ``trap_id``, ``x``, ``y`` (metres) and optional usage columns
            ``usage_1..usage_S`` or ``occ1..occS``; other columns are trap covariates.
        detector : {"multi", "single", "proximity", "count", "signal"}
            Detector type.
        n_occasions : int, optional
            Number of occasions; default from the usage columns, else the last occasion seen.
        animals : DataFrame, optional
            Individual covariates with column ``animal_id``.
        session : str, default "1"
            Session label.
        cutval : float, optional
            ``signal`` detectors: the detection threshold; the detections table then has a
            ``signal`` column (empty where the signal was not measured).

        Returns
        -------
        CaptureHistory

        Raises
        ------
        DataError
            If a detection refers to an unknown detector or a column is missing.
        """
        for col in ("trap_id", "x", "y"):
            if col not in traps.columns:
                raise DataError(f"detector table lacks column {col!r}; expected trap_id, x, y")
        for col in ("animal_id", "occasion", "trap_id"):
            if col not in captures.columns:
                raise DataError(
                    f"detections table lacks column {col!r}; expected animal_id, occasion, trap_id"
                )
        trap_ids = [str(t) for t in traps["trap_id"]]
        ucols = usage_columns(traps.columns)
        usage = traps[ucols].to_numpy(dtype=float) if ucols else None
        index = {t: k for k, t in enumerate(trap_ids)}
        tid = captures["trap_id"].astype(str)
        unknown = ~tid.isin(index)
        if unknown.any():
            row = int(np.flatnonzero(unknown.to_numpy())[0])
            raise DataError(
                f"detection row {row + 1} refers to detector {tid.iloc[row]!r}, which is not in "
                "the detector table; add it there or fix the trap_id"
            )
        aid = captures["animal_id"].astype(str)
        animal_ids = list(dict.fromkeys(aid))
        if animals is not None and "animal_id" in animals.columns:
            cov = animals.assign(animal_id=animals["animal_id"].astype(str)).set_index("animal_id")
            missing = [a for a in animal_ids if a not in cov.index]
            if missing:
                raise DataError(f"animal {missing[0]!r} has detections but no covariate row")
            covariates = cov.loc[animal_ids].reset_index(drop=True)
        else:
            covariates = None
        amap = {a: i for i, a in enumerate(animal_ids)}
        occ = captures["occasion"].to_numpy()
        occ = pd.to_numeric(pd.Series(occ), errors="coerce").to_numpy()
        if np.any(~np.isfinite(occ)) or np.any(occ < 1) or np.any(occ != np.round(occ)):
            row = int(np.flatnonzero(~(np.isfinite(occ) & (occ >= 1) & (occ == np.round(occ))))[0])
            raise DataError(
                f"detection row {row + 1}: occasion must be a whole number >= 1 "
                f"(got {captures['occasion'].iloc[row]!r})"
            )
        dead = captures["dead"].to_numpy().astype(bool) if "dead" in captures.columns else None
        signal = None
        if detector == "signal":
            if "signal" not in captures.columns:
                raise DataError("signal detectors need a 'signal' column in the detections "
                                "table (the measured signal strength; empty if not measured)")
            signal, row = signal_values(captures["signal"])
            if row is not None:
                raise DataError(f"detection row {row + 1}: signal must be a number (got "
                                f"{captures['signal'].iloc[row]!r}); leave it empty if the "
                                "signal was not measured")
        tcols = [c for c in traps.columns if c not in ("trap_id", "x", "y", "session")
                 and c not in ucols]
        tcov = traps[tcols].reset_index(drop=True) if tcols else None
        return cls.from_arrays(
            traps[["x", "y"]].to_numpy(dtype=float),
            aid.map(amap).to_numpy(),
            occ.astype(np.int64) - 1,
            tid.map(index).to_numpy(),
            detector=detector,
            n_occasions=n_occasions,
            usage=usage,
            trap_ids=trap_ids,
            animal_ids=animal_ids,
            dead=dead,
            covariates=covariates,
            session=session,
            crs=crs,
            trap_covariates=tcov,
            signal=signal,
            cutval=cutval,
        )

    # ------------------------------------------------------------------ properties
    @property
    def n(self) -> int:
        """Number of detected animals."""
        return self.counts.shape[0]

    @property
    def n_occasions(self) -> int:
        return self.counts.shape[1]

    @property
    def n_detectors(self) -> int:
        return self.counts.shape[2]

    @property
    def n_detections(self) -> int:
        return int(self.counts.sum())

    @property
    def usage_or_ones(self) -> np.ndarray:
        """Usage (K, S), with 1 where none was given."""
        if self.usage is None:
            return np.ones((self.n_detectors, self.n_occasions))
        return self.usage

    def __repr__(self) -> str:
        return (
            f"CaptureHistory(session={self.session!r}, detector={self.detector!r}, n={self.n}, "
            f"occasions={self.n_occasions}, detectors={self.n_detectors}, "
            f"detections={self.n_detections})"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per detection: ``session, animal_id, occasion (1-based), trap_id``."""
        i, s, k = np.nonzero(self.counts)
        reps = self.counts[i, s, k]
        i, s, k = np.repeat(i, reps), np.repeat(s, reps), np.repeat(k, reps)
        out = pd.DataFrame(
            {
                "session": self.session,
                "animal_id": np.asarray(self.animal_ids, dtype=object)[i],
                "occasion": s + 1,
                "trap_id": np.asarray(self.trap_ids, dtype=object)[k],
            }
        )
        if self.detection_xy is not None:  # area and line detectors: where
            out["x"] = self.detection_xy[:, 0]
            out["y"] = self.detection_xy[:, 1]
        return out


def signal_values(column: pd.Series) -> tuple[np.ndarray, int | None]:
    """Measured signals of a detections column (empty or NaN: not measured), and the first
    row (0-based) that holds something other than a number, or None."""
    raw = column.astype(object).where(column.notna(), "").astype(str).str.strip()
    val = pd.to_numeric(raw.where(raw != ""), errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(np.isnan(val) & (raw != "").to_numpy())
    return val, (int(bad[0]) if bad.size else None)


def _snapped(geometry: Sequence, kidx: np.ndarray, xy: np.ndarray, snap: float) -> np.ndarray:
    """Locations within ``snap`` metres of their detector moved onto it (see
    :meth:`CaptureHistory.from_locations`); the others are left for validation to refuse."""
    import warnings

    import shapely

    from amurlink.exceptions import DataQualityWarning

    geoms = np.asarray(geometry, dtype=object)[kidx]
    if not all(isinstance(g, shapely.Geometry) for g in geoms):
        return xy
    pts = shapely.points(xy)
    dist = shapely.distance(geoms, pts)
    move = (dist > 0.01) & (dist <= snap)
    if not move.any():
        return xy
    out = xy.copy()
    inside = shapely.contains_xy(geoms[move], xy[move, 0], xy[move, 1])  # polygons: kept
    lines = shapely.shortest_line(geoms[move], pts[move])
    near = shapely.get_coordinates(shapely.get_point(lines, 0))
    out[np.flatnonzero(move)[~inside]] = near[~inside]
    warnings.warn(f"{int(move.sum())} detection location(s) up to {dist[move].max():.1f} m "
                  f"from their detector were moved onto it (snap = {snap:g} m)",
                  DataQualityWarning, stacklevel=3)
    return out


def usage_columns(columns: Sequence[str]) -> list[str]:
    """Usage columns of a detector table: ``usage_1..usage_S`` or ``occ1..occS``, in order."""
    import re

    out = []
    for pat in (r"^usage_?(\d+)$", r"^occ_?(\d+)$"):
        found = [(int(m.group(1)), c) for c in columns if (m := re.match(pat, str(c)))]
        if found:
            out = [c for _, c in sorted(found)]
            break
    return out
