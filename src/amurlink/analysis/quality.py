"""Which records enter the analyses: harmoniser flags applied, bounded by the study period.

The harmoniser keeps every record and flags the doubtful ones
(:func:`amurlink.harmonise.record_flags`). Analyses (cross-border, SECR, camera-trap, the
report) take their data through :func:`analysis_dataset`, which by default leaves out records

* with a **wrong clock year**: outside their deployment by what a camera clock set a whole
  year wrong explains (moved by that year, the record falls inside its deployment);
* **before set-up** or **after retrieval** of their deployment (any other time outside it);
* of an **unknown deployment**;
* **duplicated** (same deployment, time, species and individual as an earlier record);
* **outside the study period**.

Each record is counted under the first of these kinds that applies (:data:`QUALITY_KINDS`).
The choice is ``[quality] records`` in ``amurlink.toml``: ``exclude`` (default), ``correct``
(a wrong clock year is corrected by that whole year, the other kinds are left out) or ``keep``
(only the study period bounds the data). What was done is recorded in the returned dataset's
metadata (``amurlink:quality``) so that every later step and the report's data-quality
section show the same counts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from amurlink.dataset import Dataset

__all__ = ["QUALITY_KINDS", "QUALITY_MODES", "METADATA_KEY", "record_quality",
           "analysis_dataset", "for_analyses", "quality_counts", "study_period"]

#: Kinds of doubtful record, in the order a record is counted under (the first that applies).
QUALITY_KINDS: tuple[str, ...] = ("clockYear", "beforeDeployment", "afterDeployment",
                                  "unknownDeployment", "duplicate", "outsidePeriod")
#: What :func:`analysis_dataset` does with flagged records.
QUALITY_MODES: tuple[str, ...] = ("exclude", "correct", "keep")
#: Metadata key of the dataset that :func:`analysis_dataset` returns.
METADATA_KEY = "amurlink:quality"


def _utc(values: Any) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(values, utc=True))


def study_period(dataset: Dataset, period: Any = None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The study period: ``period`` (start, end) where given, else the deployments' span.

    A date-only end means the end of that day.
    """
    dep = dataset.deployments
    if period is not None and (period[0] is None or period[1] is None):
        first, last = study_period(dataset)
        period = (first if period[0] is None else period[0],
                  last if period[1] is None else period[1])
    if period is not None:
        start, end = period
        start = pd.Timestamp(start)
        end_ts = pd.Timestamp(end)
        start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
        date_only = isinstance(end, str) and len(end.strip()) <= 10
        end_ts = end_ts.tz_localize("UTC") if end_ts.tzinfo is None else end_ts.tz_convert("UTC")
        if date_only:
            end_ts = end_ts + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")
        if end_ts <= start:
            raise ValueError(f"the study period ends ({end}) before it starts ({period[0]}); "
                             "give the first and the last day of the study, in that order")
        return start, end_ts
    if not len(dep):
        return pd.Timestamp.min.tz_localize("UTC"), pd.Timestamp.max.tz_localize("UTC")
    return _utc(dep["deploymentStart"]).min(), _utc(dep["deploymentEnd"]).max()


def record_quality(dataset: Dataset, /, *, period: Any = None) -> pd.DataFrame:
    """The quality kind of every observation (``None`` where nothing is wrong).

    Parameters
    ----------
    dataset : Dataset
        Joint or national dataset (UTC times).
    period : (start, end), optional
        The study period (default: from the first set-up to the last retrieval).

    Returns
    -------
    DataFrame
        ``observationID``, ``deploymentID``, ``kind`` (one of :data:`QUALITY_KINDS` or None)
        and ``shiftYears`` (the whole years that move a ``clockYear`` record into its
        deployment, else 0), in the order of ``dataset.observations``.
    """
    from amurlink.harmonise import record_flags

    obs, dep = dataset.observations, dataset.deployments
    flags = record_flags(obs, dep, now=pd.Timestamp.max.tz_localize("UTC"))
    n = len(obs)
    kind = np.full(n, None, dtype=object)
    shift = np.zeros(n, dtype=np.int64)
    first = dep.drop_duplicates("deploymentID")
    starts = pd.Series(_utc(first["deploymentStart"]), index=first["deploymentID"].astype(str))
    ends = pd.Series(_utc(first["deploymentEnd"]), index=first["deploymentID"].astype(str))
    dep_id = obs["deploymentID"].astype(object).astype(str)
    known = dep_id.isin(starts.index).to_numpy(bool) & obs["deploymentID"].notna().to_numpy(bool)
    before = flags["beforeDeployment"].to_numpy(bool)
    after = flags["afterDeployment"].to_numpy(bool)
    outside = np.flatnonzero(before | after)
    if len(outside):
        t = _utc(obs["eventStart"].iloc[outside])
        d0 = _utc(starts.reindex(dep_id.iloc[outside]).to_numpy())
        d1 = _utc(ends.reindex(dep_id.iloc[outside]).to_numpy())
        for k in (1, -1, 2, -2):
            moved = t + pd.DateOffset(years=k)
            fits = np.asarray((moved >= d0) & (moved <= d1), bool) & (shift[outside] == 0)
            shift[outside[fits]] = k
    clock = shift != 0
    kind[clock] = "clockYear"
    kind[(kind == None) & before] = "beforeDeployment"  # noqa: E711 - elementwise
    kind[(kind == None) & after] = "afterDeployment"  # noqa: E711
    kind[(kind == None) & ~known] = "unknownDeployment"  # noqa: E711
    kind[(kind == None) & flags["duplicate"].to_numpy(bool)] = "duplicate"  # noqa: E711
    start, end = study_period(dataset, period)
    t_all = _utc(obs["eventStart"])
    out_period = ~np.asarray((t_all >= start) & (t_all <= end), bool)
    kind[(kind == None) & out_period] = "outsidePeriod"  # noqa: E711
    return pd.DataFrame({"observationID": obs["observationID"].to_numpy(object),
                         "deploymentID": obs["deploymentID"].to_numpy(object),
                         "kind": kind, "shiftYears": shift})


def quality_counts(dataset: Dataset) -> dict[str, Any] | None:
    """What :func:`analysis_dataset` did to ``dataset`` (None if it has not been applied)."""
    info = dataset.metadata.get(METADATA_KEY)
    return dict(info) if info else None


def analysis_dataset(dataset: Dataset, /, *, mode: str = "exclude", period: Any = None
                     ) -> Dataset:
    """The records the analyses use, with what was left out recorded in the metadata.

    Parameters
    ----------
    dataset : Dataset
        The joint dataset as harmonised (every record kept and flagged).
    mode : {"exclude", "correct", "keep"}, default "exclude"
        ``exclude``: leave out every record of :data:`QUALITY_KINDS`. ``correct``: move a
        record with a wrong clock year by that whole year (the record then lies in its
        deployment) and leave out the other kinds. ``keep``: keep them all except those
        outside the study period.
    period : (start, end), optional
        Study period; records outside it are always left out, and deployments are cut to it.
        Default: from the first set-up to the last retrieval.

    Returns
    -------
    Dataset
        With ``metadata["amurlink:quality"]``: ``mode``, ``period`` (ISO start and end),
        ``counts`` (records per kind found), ``excluded`` and ``corrected`` (records). A
        dataset that already carries it is returned unchanged.

    Raises
    ------
    ValueError
        If ``mode`` is not one of :data:`QUALITY_MODES` or the period ends before it starts.
    """
    if mode not in QUALITY_MODES:
        raise ValueError(f"[quality] records must be one of {', '.join(QUALITY_MODES)}, got "
                         f"{mode!r}; set it in amurlink.toml (default exclude)")
    if METADATA_KEY in dataset.metadata:
        return dataset
    start, end = study_period(dataset, period)
    q = record_quality(dataset, period=(start, end))
    kinds = q["kind"].to_numpy(object)
    counts = {k: int((kinds == k).sum()) for k in QUALITY_KINDS}
    obs = dataset.observations
    corrected = 0
    if mode == "keep":
        drop = kinds == "outsidePeriod"
    elif mode == "correct":
        drop = pd.notna(kinds) & (kinds != "clockYear")
        fix = np.flatnonzero(kinds == "clockYear")
        if len(fix):
            obs = obs.copy()
            times = _utc(obs["eventStart"])
            shifted = times.to_numpy().copy()
            for k in np.unique(q["shiftYears"].to_numpy()[fix]):
                rows = fix[q["shiftYears"].to_numpy()[fix] == k]
                shifted[rows] = (times[rows] + pd.DateOffset(years=int(k))).to_numpy()
            obs["eventStart"] = pd.DatetimeIndex(shifted, tz="UTC")
            if "eventEnd" in obs:
                end_t = _utc(obs["eventEnd"])
                delta = pd.DatetimeIndex(shifted, tz="UTC") - times
                obs["eventEnd"] = end_t + delta
            corrected = len(fix)
    else:
        drop = pd.notna(kinds)
    new: dict[str, pd.DataFrame] = {}
    if drop.any():
        new["observations"] = obs.loc[~drop].reset_index(drop=True)
    elif corrected:
        new["observations"] = obs
    if period is not None:
        new.update(_clip_deployments(dataset, start, end))
    metadata = dict(dataset.metadata)
    metadata[METADATA_KEY] = {
        "mode": mode, "period": [start.isoformat(), end.isoformat()],
        "counts": counts, "excluded": int(np.asarray(drop).sum()), "corrected": corrected,
    }
    return dataset.replace(metadata=metadata, **new)


def _clip_deployments(dataset: Dataset, start: pd.Timestamp, end: pd.Timestamp
                      ) -> dict[str, pd.DataFrame]:
    """Deployments cut to the study period (those wholly outside it dropped)."""
    dep = dataset.deployments
    d0, d1 = _utc(dep["deploymentStart"]), _utc(dep["deploymentEnd"])
    inside = np.asarray((d1 > start) & (d0 < end), bool)
    out = dep.loc[inside].copy()
    out["deploymentStart"] = d0[inside].where(d0[inside] >= start, start)
    out["deploymentEnd"] = d1[inside].where(d1[inside] <= end, end)
    new = {"deployments": out.reset_index(drop=True)}
    keep_ids = set(out["deploymentID"].astype(str))
    details = dataset.get("deploymentDetails")
    if details is not None and len(details):
        new["deploymentDetails"] = details.loc[
            details["deploymentID"].astype(str).isin(keep_ids)].reset_index(drop=True)
    gaps = dataset.get("deploymentGaps")
    if gaps is not None and len(gaps):
        g0, g1 = _utc(gaps["gapStart"]), _utc(gaps["gapEnd"])
        g0, g1 = g0.where(g0 >= start, start), g1.where(g1 <= end, end)
        ok = np.asarray(g1 > g0, bool) & gaps["deploymentID"].astype(str).isin(keep_ids
                                                                              ).to_numpy(bool)
        g = gaps.copy()
        g["gapStart"], g["gapEnd"] = g0, g1
        new["deploymentGaps"] = g.loc[ok].reset_index(drop=True)
    return new


def for_analyses(dataset: Dataset, config: Any, /) -> Dataset:
    """The dataset every analysis of a study uses: :func:`analysis_dataset` with the study's
    ``[quality] records`` and ``[inputs] period``.

    Applied through :func:`amurlink.release.scope` (``rows=``): the result remembers the
    complete dataset, so any later protection still decides which stations are sensitive on
    every record, those left out included. Call it once on the complete joint dataset and
    hand the result to every analysis and to the report (a dataset already filtered is
    returned unchanged).

    Parameters
    ----------
    dataset : Dataset
        The complete joint dataset.
    config : StudyConfig
    """
    import functools

    from amurlink.release import scope

    if METADATA_KEY in dataset.metadata:
        return dataset
    quality = getattr(config, "quality", None)
    mode = getattr(quality, "records", "exclude")
    settings = getattr(config, "inputs", None)
    start = getattr(settings, "period_start", None)
    end = getattr(settings, "period_end", None)
    period = None if start is None and end is None else (
        None if start is None else start.isoformat(), None if end is None else end.isoformat())
    return scope(dataset, rows=functools.partial(analysis_dataset, mode=mode, period=period))
