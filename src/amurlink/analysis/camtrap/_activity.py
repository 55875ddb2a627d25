"""Activity on the circle: hourly counts, kernel densities, overlap (Dhat1/4/5), sun time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import i0e, ive

__all__ = [
    "OverlapResult", "activity_radial", "bandwidth", "density_fit", "overlap_bootstrap",
    "overlap_estimates", "sun_time", "to_radians",
]

TWO_PI = 2 * np.pi


def to_radians(times: pd.Series) -> np.ndarray:
    """Clock time of day as radians (0 = 2 pi = midnight) from datetimes or ``HH:MM:SS``."""
    s = pd.Series(times)
    if not pd.api.types.is_datetime64_any_dtype(s):
        s = pd.to_datetime(s.astype(str), format="mixed")
    frac = (s.dt.hour * 3600 + s.dt.minute * 60 + s.dt.second) / 86400.0
    return frac.to_numpy(dtype=float) * TWO_PI


def activity_radial(times: pd.Series, /) -> pd.DataFrame:
    """Records per clock hour, as camtrapR's ``activityRadial`` table.

    Returns
    -------
    DataFrame
        ``hour`` (0-23), ``n``, ``perc`` (share of records), ``radial.pos`` (radians) and
        ``length4plot`` (= ``perc``).
    """
    s = pd.Series(times)
    if not pd.api.types.is_datetime64_any_dtype(s):
        s = pd.to_datetime(s.astype(str), format="mixed")
    n = np.bincount(s.dt.hour.to_numpy(), minlength=24)[:24]
    perc = n / n.sum()
    hours = np.arange(24)
    return pd.DataFrame({"hour": hours, "n": n, "perc": perc,
                         "radial.pos": hours * TWO_PI / 24, "length4plot": perc})


def _trig_moment(x: np.ndarray, p: int) -> float:
    mean = np.arctan2(np.sin(x).sum(), np.cos(x).sum())
    return float(np.hypot(np.mean(np.sin(p * (x - mean))), np.mean(np.cos(p * (x - mean)))))


def bandwidth(x: np.ndarray, /, *, kmax: int = 3) -> float:
    """Ridout & Linkie (2009) kernel bandwidth (von Mises concentration), as ``getBandWidth``."""
    x = np.asarray(x, dtype=float)
    est = np.zeros(kmax)
    for k in range(1, kmax + 1):
        tm = _trig_moment(x, k)

        def afun(kappa: float, tm=tm, k=k) -> float:
            return float(ive(k, kappa) / ive(0, kappa) - tm)

        if afun(0.0001) * afun(345) <= 0:
            est[k - 1] = brentq(afun, 0.0001, 345, xtol=1e-12)
    kap = est.max()
    if kap <= 0:
        return float("nan")
    # besselI(2k, 2) / besselI(k, 0)^2 with exponential scaling: e^{2k} / e^{2k} cancels
    ratio = ive(2, 2 * kap) / ive(0, kap) ** 2
    return float((3 * len(x) * kap**2 * ratio / (4 * np.sqrt(np.pi))) ** 0.4)


def density_fit(x: np.ndarray, grid: np.ndarray, bw: float) -> np.ndarray:
    """von Mises kernel density of ``x`` (radians) at ``grid`` with concentration ``bw``."""
    x = np.asarray(x, dtype=float)
    grid = np.asarray(grid, dtype=float)
    dens = np.exp(bw * (np.cos(grid[:, None] - x[None, :]) - 1.0)) / (TWO_PI * i0e(bw))
    return dens.mean(axis=1)


def overlap_estimates(a: np.ndarray, b: np.ndarray, /, *, kmax: int = 3,
                      adjust: tuple[float, float, float] = (0.8, 1.0, 4.0),
                      n_grid: int = 128) -> dict[str, float]:
    """Coefficient of overlap Dhat1, Dhat4 and Dhat5 (Ridout & Linkie 2009), as ``overlapEst``.

    Parameters
    ----------
    a, b : array_like
        Activity times of two species in radians.
    adjust : tuple of float, default (0.8, 1, 4)
        Bandwidth adjustments for Dhat1, Dhat4, Dhat5 (``overlap`` defaults).

    Returns
    -------
    dict
        ``{"Dhat1": ..., "Dhat4": ..., "Dhat5": ...}``. Use Dhat4 when the smaller sample
        has at least 50 records, Dhat1 otherwise; Dhat5 can exceed 1.

    References
    ----------
    Ridout MS, Linkie M (2009) Estimating overlap of daily activity patterns from camera
    trap data. J Agric Biol Environ Stat 14:322-337.
    Meredith M, Ridout M (2024) overlap: Estimates of coefficient of overlapping for
    animal activity patterns. R package 0.3.9.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    grid = np.linspace(0, TWO_PI, n_grid)
    bwa, bwb = bandwidth(a, kmax=kmax), bandwidth(b, kmax=kmax)
    out = {"Dhat1": np.nan, "Dhat4": np.nan, "Dhat5": np.nan}
    if np.isnan(bwa) or np.isnan(bwb):
        return out
    da = density_fit(a, grid, bwa / adjust[0])[1:]
    db = density_fit(b, grid, bwb / adjust[0])[1:]
    out["Dhat1"] = float(np.minimum(da / da.sum(), db / db.sum()).sum())
    n1 = len(a)
    obs = np.concatenate([a, b])
    n = len(obs)

    def at_obs(adj: float) -> tuple[np.ndarray, np.ndarray]:
        if n > n_grid * 1.1:
            ga = density_fit(a, grid, bwa / adj)
            gb = density_fit(b, grid, bwb / adj)
            return np.interp(obs, grid, ga), np.interp(obs, grid, gb)
        return density_fit(a, obs, bwa / adj), density_fit(b, obs, bwb / adj)

    dax, dbx = at_obs(adjust[1])
    out["Dhat4"] = float((np.mean(np.minimum(1, dbx[:n1] / dax[:n1]))
                          + np.mean(np.minimum(1, dax[n1:] / dbx[n1:]))) / 2)
    if adjust[2] != adjust[1]:
        dax, dbx = at_obs(adjust[2])
    out["Dhat5"] = float(np.mean(dbx[:n1] > dax[:n1]) + np.mean(dax[n1:] >= dbx[n1:]))
    return out


@dataclass(frozen=True)
class OverlapResult:
    """Overlap estimates with bootstrap intervals (one row per estimator in ``to_frame``)."""

    estimates: dict[str, float]
    lower: dict[str, float]
    upper: dict[str, float]
    n: tuple[int, int]
    n_boot: int
    conf_level: float

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"estimator": list(self.estimates),
                             "estimate": list(self.estimates.values()),
                             "lcl": [self.lower[k] for k in self.estimates],
                             "ucl": [self.upper[k] for k in self.estimates]})


def overlap_bootstrap(a: np.ndarray, b: np.ndarray, /, *, n_boot: int = 999,
                      conf_level: float = 0.95, rng: int | np.random.Generator | None = None,
                      adjust: tuple[float, float, float] = (0.8, 1.0, 4.0), kmax: int = 3,
                      n_grid: int = 128) -> OverlapResult:
    """Overlap estimates with bias-corrected basic bootstrap intervals.

    Each replicate resamples both species' records with replacement (nonparametric
    bootstrap); the interval is the "basic0" interval of ``overlap::bootCI``
    (``2 * est - quantiles``) clipped to [0, 1].

    Parameters
    ----------
    rng : int or numpy.random.Generator, optional
        Seed or generator; the global numpy state is never used.
    """
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    est = overlap_estimates(a, b, kmax=kmax, adjust=adjust, n_grid=n_grid)
    reps = np.empty((n_boot, 3))
    for i in range(n_boot):
        ra = a[gen.integers(0, len(a), len(a))]
        rb = b[gen.integers(0, len(b), len(b))]
        reps[i] = list(overlap_estimates(ra, rb, kmax=kmax, adjust=adjust,
                                         n_grid=n_grid).values())
    alpha = (1 - conf_level) / 2
    lo, hi = {}, {}
    for j, k in enumerate(est):
        q = np.nanquantile(reps[:, j], [alpha, 1 - alpha])
        lo[k] = float(np.clip(2 * est[k] - q[1], 0, 1))
        hi[k] = float(np.clip(2 * est[k] - q[0], 0, 1))
    return OverlapResult(est, lo, hi, (len(a), len(b)), n_boot, conf_level)


def _sun_events(day_of_year: np.ndarray, lat: np.ndarray, lon: np.ndarray,
                utc_offset_h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sunrise and sunset as local clock fractions of the day (NOAA approximation)."""
    g = TWO_PI / 365.0 * (day_of_year - 1)
    eqt = 229.18 * (0.000075 + 0.001868 * np.cos(g) - 0.032077 * np.sin(g)
                    - 0.014615 * np.cos(2 * g) - 0.040849 * np.sin(2 * g))
    decl = (0.006918 - 0.399912 * np.cos(g) + 0.070257 * np.sin(g) - 0.006758 * np.cos(2 * g)
            + 0.000907 * np.sin(2 * g) - 0.002697 * np.cos(3 * g) + 0.00148 * np.sin(3 * g))
    phi = np.radians(lat)
    cos_ha = (np.cos(np.radians(90.833)) / (np.cos(phi) * np.cos(decl))
              - np.tan(phi) * np.tan(decl))
    ha = np.degrees(np.arccos(np.clip(cos_ha, -1, 1)))
    noon = 720 - 4 * lon - eqt + utc_offset_h * 60
    return (noon - 4 * ha) / 1440.0, (noon + 4 * ha) / 1440.0


def sun_time(timestamps: pd.Series, /, *, latitude: np.ndarray | float,
             longitude: np.ndarray | float, time_zone: str | pd.Series) -> np.ndarray:
    """Sun time in radians (sunrise = pi/2, sunset = 3 pi/2) as ``overlap::sunTime``.

    Parameters
    ----------
    timestamps : Series of datetime
        tz-aware instants (UTC internally).
    latitude, longitude : float or array_like
        Location of each record in WGS84 degrees (a deployment's position).
    time_zone : str or Series of str
        IANA zone of each record's deployment (``deploymentDetails.timezone``): clock time
        and the sunrise/sunset dates are taken in that zone.

    References
    ----------
    Nouvellet P et al. (2012) Noisy clocks and silent sunrises: measurement methods of
    daily activity pattern. J Zool 286:179-184.
    """
    ts = pd.Series(timestamps)
    if getattr(ts.dt, "tz", None) is None:
        raise ValueError("timestamps must be tz-aware; localise them with the camera's zone")
    zones = pd.Series(time_zone, index=ts.index) if isinstance(time_zone, str) \
        else pd.Series(time_zone).set_axis(ts.index)
    clock = np.empty(len(ts))
    doy = np.empty(len(ts))
    offset = np.empty(len(ts))
    for z in zones.unique():
        m = (zones == z).to_numpy()
        loc = ts[m].dt.tz_convert(z)
        clock[m] = to_radians(loc.dt.tz_localize(None))
        doy[m] = loc.dt.dayofyear.to_numpy()
        offset[m] = np.array([t.utcoffset().total_seconds() / 3600 for t in loc])
    lat = np.broadcast_to(np.asarray(latitude, dtype=float), clock.shape)
    lon = np.broadcast_to(np.asarray(longitude, dtype=float), clock.shape)
    sr, ss = _sun_events(doy, lat, lon, offset)
    sr, ss = sr * TWO_PI, ss * TWO_PI
    day = (clock > sr) & (clock < ss)
    start = np.where(day, sr, ss)
    span = np.where(day, ss - sr, TWO_PI - (ss - sr))
    start_sun = np.where(day, np.pi / 2, 3 * np.pi / 2)
    since = np.mod(clock - start + TWO_PI, TWO_PI)
    return np.mod(start_sun + since / span * np.pi, TWO_PI)
