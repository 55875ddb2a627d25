"""Detection functions of SECR (secr's list, codes 0-11 and 14-20), vectorised."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "DETECTFN",
    "DetectFn",
    "get_detectfn",
    "halfnormal",
    "exponential",
    "hazard_halfnormal",
    "hazard_exponential",
    "hazard_rate",
    "hazard_hazard_rate",
    "hazard_variable_power",
    "detection_arrays",
    "signal_mean",
]


def halfnormal(d: ArrayLike, g0: ArrayLike, sigma: ArrayLike) -> np.ndarray:
    """Halfnormal detection probability ``g0 * exp(-d**2 / (2 sigma**2))`` (secr code 0, HN).

    Parameters
    ----------
    d : array_like
        Distance between activity centre and detector, in metres.
    g0 : array_like
        Detection probability at distance zero (per occasion), in [0, 1].
    sigma : array_like
        Spatial scale in metres.

    Returns
    -------
    ndarray
        Probability of detection per occasion, broadcast over the inputs.

    References
    ----------
    Efford, M. G. (2004). Density estimation in live-trapping studies. Oikos 106, 598-610.
    """
    d = np.asarray(d, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    return np.asarray(g0, dtype=float) * np.exp(-(d * d) / (2.0 * sigma * sigma))


def exponential(d: ArrayLike, g0: ArrayLike, sigma: ArrayLike) -> np.ndarray:
    """Negative exponential detection probability ``g0 * exp(-d / sigma)`` (secr code 2, EX).

    Parameters
    ----------
    d : array_like
        Distance in metres.
    g0 : array_like
        Detection probability at distance zero, in [0, 1].
    sigma : array_like
        Spatial scale in metres.

    Returns
    -------
    ndarray
        Probability of detection per occasion.
    """
    d = np.asarray(d, dtype=float)
    return np.asarray(g0, dtype=float) * np.exp(-d / np.asarray(sigma, dtype=float))


def hazard_halfnormal(d: ArrayLike, lambda0: ArrayLike, sigma: ArrayLike) -> np.ndarray:
    """Hazard halfnormal ``lambda0 * exp(-d**2 / (2 sigma**2))`` (secr code 14, HHN).

    Returns the cumulative hazard of detection per occasion; the probability is
    ``1 - exp(-hazard)``.

    Parameters
    ----------
    d : array_like
        Distance in metres.
    lambda0 : array_like
        Hazard at distance zero (expected detections per occasion), >= 0.
    sigma : array_like
        Spatial scale in metres.

    Returns
    -------
    ndarray
        Hazard per occasion.
    """
    return halfnormal(d, lambda0, sigma)


def hazard_exponential(d: ArrayLike, lambda0: ArrayLike, sigma: ArrayLike) -> np.ndarray:
    """Hazard exponential ``lambda0 * exp(-d / sigma)`` (secr code 16, HEX).

    Parameters
    ----------
    d : array_like
        Distance in metres.
    lambda0 : array_like
        Hazard at distance zero, >= 0.
    sigma : array_like
        Spatial scale in metres.

    Returns
    -------
    ndarray
        Hazard per occasion.
    """
    return exponential(d, lambda0, sigma)


def _hr_core(d: np.ndarray, sigma: ArrayLike, z: ArrayLike) -> np.ndarray:
    d = np.asarray(d, dtype=float)
    with np.errstate(divide="ignore", over="ignore"):
        return -np.expm1(-np.power(d / np.asarray(sigma, dtype=float), -np.asarray(z, float)))


def hazard_rate(d: ArrayLike, g0: ArrayLike, sigma: ArrayLike, z: ArrayLike) -> np.ndarray:
    """Hazard-rate detection probability ``g0 (1 - exp(-(d/sigma)**-z))`` (secr code 1, HR).

    References
    ----------
    Hayes, R. J. & Buckland, S. T. (1983). Radial-distance models for the line-transect
    method. Biometrics 39, 29-42.
    """
    return np.asarray(g0, dtype=float) * _hr_core(np.asarray(d, dtype=float), sigma, z)


def hazard_hazard_rate(d: ArrayLike, lambda0: ArrayLike, sigma: ArrayLike,
                       z: ArrayLike) -> np.ndarray:
    """Hazard-rate hazard ``lambda0 (1 - exp(-(d/sigma)**-z))`` (secr code 15, HHR)."""
    return np.asarray(lambda0, dtype=float) * _hr_core(np.asarray(d, dtype=float), sigma, z)


def hazard_variable_power(d: ArrayLike, lambda0: ArrayLike, sigma: ArrayLike,
                          z: ArrayLike) -> np.ndarray:
    """Hazard variable power ``lambda0 exp(-(d/sigma)**z)`` (secr code 19, HVP)."""
    d = np.asarray(d, dtype=float)
    return np.asarray(lambda0, dtype=float) * np.exp(
        -np.power(d / np.asarray(sigma, dtype=float), np.asarray(z, dtype=float)))


def signal_mean(d: ArrayLike, beta0: ArrayLike, beta1: ArrayLike, *,
                spherical: bool = False, clamp: bool = True) -> np.ndarray:
    """Expected received signal strength (dB) at distance ``d`` from the source (secr's
    ``mufnL``): ``beta0 + beta1 d`` (SS, code 10) or, with spherical spreading (SSS, code
    11), ``beta0 + beta1 (d - 1) - 10 log10(d^2)``.

    ``clamp`` holds the spherical form at ``beta0`` within 1 m of the source, as secr does for
    the density of a measured signal; secr's detection probability (``zLcpp``) uses the
    formula unclamped (``clamp=False``), and so does amurlink there.

    References
    ----------
    Efford, M. G., Dawson, D. K. & Borchers, D. L. (2009). Population density estimated from
    locations of individuals on a passive detector array. Ecology 90, 2676-2682.
    """
    d = np.asarray(d, dtype=float)
    beta0 = np.asarray(beta0, dtype=float)
    beta1 = np.asarray(beta1, dtype=float)
    if not spherical:
        return beta0 + beta1 * d
    with np.errstate(divide="ignore"):
        mu = beta0 + beta1 * (d - 1.0) - 10.0 * np.log10(d * d)
    if clamp:
        mu = np.where(d * d > 1.0, mu, beta0 + 0.0 * d)
    return mu


@dataclass(frozen=True)
class DetectFn:
    """A detection function: its secr name and code, and whether it is a hazard function."""

    name: str
    code: int
    hazard: bool
    shape: str  # halfnormal, exponential, hazardrate, varpower, compound, annular, ...,
    # bss (binary signal strength) or signal / signalsph (signal strength, spherical)
    extra: str | None = None  # third parameter ("z" shape, "w" annulus radius) or None
    z_start: float = 5.0  # start of the third parameter (times the start sigma if z_distance)
    z_distance: bool = False  # whether the third parameter is a distance (w of ANN, HAN, WEX;
    # z of CLN, the spread of the lognormal)
    names: tuple[str, str] | None = None  # the first two real parameters when they are not
    # (g0 | lambda0, sigma): ("b0", "b1") of BSS, ("beta0", "beta1") of SS and SSS

    @property
    def uses_distance(self) -> bool:
        """Whether the shape needs the distance (not only its square)."""
        return self.shape != "halfnormal"

    @property
    def signal(self) -> bool:
        """Whether this is one of secr's signal-strength functions (9-11): detection is the
        upper tail of a normal signal above a threshold, not an intercept times a shape."""
        return self.shape in ("bss", "signal", "signalsph")

    @property
    def scale(self) -> str:
        """Name of the second parameter: ``"sigma"``, or ``"b1"`` / ``"beta1"``."""
        return self.names[1] if self.names else "sigma"

    def valid(self, a: ArrayLike, b: ArrayLike, c: ArrayLike | None = None) -> bool:
        """Whether real parameter values are in the function's domain (finite; probability
        intercept in [0, 1), hazard intercept >= 0, scale and third parameter > 0; the
        signal-strength parameters b0, b1, beta0, beta1 any finite value, sdS > 0)."""
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
            return False
        if c is not None:
            c = np.asarray(c, dtype=float)
            if not (np.all(np.isfinite(c)) and np.all(c > 0)):
                return False
        if self.signal:
            return True
        if not np.all(b > 0):
            return False
        return bool(np.all(a >= 0) if self.hazard else np.all((a >= 0) & (a < 1)))

    def signal_g(self, d: np.ndarray, a: ArrayLike, b: ArrayLike, c: ArrayLike | None = None,
                 cutval: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Probability and hazard ``-log(1 - g)`` of the signal-strength functions (secr's
        ``zLcpp``): BSS ``g = Phi(b0 + b1 d)``; SS and SSS ``g = Phi((mu(d) - cutval) / sdS)``
        with ``mu`` from :func:`signal_mean` (unclamped). The hazard is ``-log Phi(-arg)``,
        exact where ``g`` rounds to 1, and held at 700 (``1 - g = 1e-304``) where it is
        infinite (SSS at a detector): a finite hazard keeps the likelihood's sums exact and
        gives secr's zero probability of not being detected there."""
        from scipy.special import log_ndtr, ndtr

        if self.shape == "bss":
            arg = np.asarray(a, dtype=float) + np.asarray(b, dtype=float) * d
        else:
            mu = signal_mean(d, a, b, spherical=self.shape == "signalsph", clamp=False)
            arg = (mu - cutval) / np.asarray(c, dtype=float)
        return ndtr(arg), np.minimum(-log_ndtr(-arg), 700.0)

    def core(self, d: np.ndarray | None, d2: np.ndarray | None, sigma: float,
             z: float | None = None) -> np.ndarray:
        """Shape of the function (value at distance zero 1), from ``d`` or ``d2``."""
        if self.shape == "halfnormal":
            return np.exp(np.maximum(d2 * (-0.5 / (sigma * sigma)), -700.0))
        if self.shape == "exponential":
            return np.exp(np.maximum(d * (-1.0 / sigma), -700.0))
        if self.shape == "hazardrate":
            return _hr_core(d, sigma, z)
        if self.shape == "compound":  # 1 - (1 - exp(-d^2 / 2 sigma^2))^z
            d2 = d * d if d2 is None else d2
            return -np.expm1(z * np.log1p(-np.exp(np.maximum(d2 * (-0.5 / (sigma * sigma)),
                                                            -700.0))))
        if self.shape == "annular":  # exp(-(d - w)^2 / 2 sigma^2), w = z
            return np.exp(np.maximum(-((d - z) ** 2) * (0.5 / (sigma * sigma)), -700.0))
        if self.shape == "uniform":  # 1 within sigma (secr: d < sigma), else 0 (UN, HPX)
            return np.where(d < sigma, 1.0, 0.0)
        if self.shape == "wexponential":  # 1 within w, then exp(-(d - w) / sigma)
            return np.where(d < z, 1.0, np.exp(np.maximum(-(d - z) / sigma, -700.0)))
        if self.shape == "cumlognormal":  # upper tail of a lognormal of mean sigma, sd z
            from scipy.special import ndtr

            cv2 = (z / sigma) ** 2
            sdlog = np.sqrt(np.log1p(cv2))
            meanlog = np.log(sigma) - 0.5 * np.log1p(cv2)
            with np.errstate(divide="ignore"):
                return ndtr(-(np.log(d) - meanlog) / sdlog)
        if self.shape == "cumgamma":  # upper tail of a gamma of shape z and mean sigma
            from scipy.special import gammaincc

            return gammaincc(z, d * (z / sigma))
        with np.errstate(over="ignore"):
            return np.exp(-np.minimum(np.power(d / sigma, z), 700.0))

    @property
    def intercept(self) -> str:
        """Name of the first parameter: ``"lambda0"`` for hazard forms, ``"g0"`` for the
        other shapes, ``"b0"`` / ``"beta0"`` for the signal-strength functions."""
        if self.names:
            return self.names[0]
        return "lambda0" if self.hazard else "g0"

    @property
    def parameters(self) -> tuple[str, str]:
        return (self.intercept, self.scale)


DETECTFN: dict[str, DetectFn] = {
    "HN": DetectFn("HN", 0, False, "halfnormal"),
    "EX": DetectFn("EX", 2, False, "exponential"),
    "HHN": DetectFn("HHN", 14, True, "halfnormal"),
    "HEX": DetectFn("HEX", 16, True, "exponential"),
    "HR": DetectFn("HR", 1, False, "hazardrate", "z", 5.0),
    "HHR": DetectFn("HHR", 15, True, "hazardrate", "z", 5.0),
    "HVP": DetectFn("HVP", 19, True, "varpower", "z", 2.0),
    "CHN": DetectFn("CHN", 3, False, "compound", "z", 1.0),
    "ANN": DetectFn("ANN", 6, False, "annular", "w", 0.5, True),
    "HAN": DetectFn("HAN", 17, True, "annular", "w", 0.5, True),
    "UN": DetectFn("UN", 4, False, "uniform"),
    "WEX": DetectFn("WEX", 5, False, "wexponential", "w", 0.5, True),
    "CLN": DetectFn("CLN", 7, False, "cumlognormal", "z", 0.5, True),
    "CG": DetectFn("CG", 8, False, "cumgamma", "z", 5.0),
    "HCG": DetectFn("HCG", 18, True, "cumgamma", "z", 5.0),
    "HPX": DetectFn("HPX", 20, True, "uniform"),
    # signal strength (secr 9-11): BSS for any binary detector, SS and SSS for signal detectors
    "BSS": DetectFn("BSS", 9, False, "bss", names=("b0", "b1")),
    "SS": DetectFn("SS", 10, False, "signal", "sdS", names=("beta0", "beta1")),
    "SSS": DetectFn("SSS", 11, False, "signalsph", "sdS", names=("beta0", "beta1")),
}
_BY_CODE = {fn.code: fn for fn in DETECTFN.values()}
_ALIASES = {
    "halfnormal": "HN",
    "exponential": "EX",
    "hazard halfnormal": "HHN",
    "hazard exponential": "HEX",
    "hazardhalfnormal": "HHN",
    "hazardexponential": "HEX",
    "hazard rate": "HR",
    "hazardrate": "HR",
    "hazard hazard rate": "HHR",
    "hazard variable power": "HVP",
    "compound halfnormal": "CHN",
    "annular normal": "ANN",
    "hazard annular normal": "HAN",
    "uniform": "UN",
    "w exponential": "WEX",
    "cumulative lognormal": "CLN",
    "cumulative gamma": "CG",
    "hazard cumulative gamma": "HCG",
    "hazard pixelar": "HPX",
    "binary signal strength": "BSS",
    "signal strength": "SS",
    "signal strength spherical": "SSS",
}


def get_detectfn(detectfn: str | int | DetectFn) -> DetectFn:
    """Look up a detection function by name (``"HN"``, ``"hhn"``, ``"halfnormal"``) or secr code.

    Raises
    ------
    ValueError
        If the name or code is not one of HN (0), HR (1), EX (2), CHN (3), UN (4),
        WEX (5), ANN (6), CLN (7), CG (8), BSS (9), SS (10), SSS (11), HHN (14), HHR (15),
        HEX (16), HAN (17), HCG (18), HVP (19), HPX (20).
    """
    if isinstance(detectfn, DetectFn):
        return detectfn
    if isinstance(detectfn, int | np.integer) and not isinstance(detectfn, bool):
        if int(detectfn) in _BY_CODE:
            return _BY_CODE[int(detectfn)]
    elif isinstance(detectfn, str):
        key = detectfn.strip()
        if key.isdigit() and int(key) in _BY_CODE:
            return _BY_CODE[int(key)]
        key = _ALIASES.get(key.lower(), key.upper())
        if key in DETECTFN:
            return DETECTFN[key]
    raise ValueError(
        f"unknown detection function {detectfn!r}; expected one of HN (0), HR (1), EX (2), "
        "CHN (3), UN (4), WEX (5), ANN (6), CLN (7), CG (8), BSS (9), SS (10), SSS (11), "
        "HHN (14), HHR (15), HEX (16), HAN (17), HCG (18), HVP (19), HPX (20) (secr's "
        "signal-noise functions 12 and 13 are not fitted by secr.fit either)"
    )


def detection_arrays(
    d: np.ndarray, detectfn: str | int | DetectFn, intercept: float, sigma: float,
    z: float | None = None, *, cutval: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Probability ``g`` and hazard ``h`` per occasion for distances ``d`` (any shape).

    For g-type functions (HN, EX) ``h = -log(1 - g)``; for hazard functions (HHN, HEX)
    ``g = 1 - exp(-h)``, as in secr's ``makegk``.

    Parameters
    ----------
    d : ndarray
        Distances in metres.
    detectfn : str, int or DetectFn
        Detection function.
    intercept : float
        ``g0`` (probability) or ``lambda0`` (hazard) at distance zero (``b0`` or ``beta0``
        for the signal-strength functions).
    sigma : float
        Spatial scale in metres (``b1`` or ``beta1``, per metre, for the signal-strength
        functions).
    z : float, optional
        Third parameter (``z``, ``w``; ``sdS`` of SS and SSS).
    cutval : float, default 0
        Detection threshold of the signal (SS, SSS), in the signal's unit.

    Returns
    -------
    g, h : ndarray
        Probability and hazard, same shape as ``d``.
    """
    fn = get_detectfn(detectfn)
    d = np.asarray(d, dtype=float)
    if fn.signal:
        if fn.extra is not None and z is None:
            raise ValueError(f"detection function {fn.name} needs its third parameter "
                             f"{fn.extra}")
        return fn.signal_g(d, intercept, sigma, z, cutval)
    if fn.shape == "halfnormal":
        core = np.exp(-(d * d) * (0.5 / (sigma * sigma)))
    elif fn.shape == "exponential":
        core = np.exp(-d * (1.0 / sigma))
    else:
        if z is None and fn.extra is not None:
            raise ValueError(f"detection function {fn.name} needs its third parameter "
                             f"{fn.extra}")
        core = fn.core(np.asarray(d, dtype=float), None, sigma, z)
    if fn.hazard:
        h = intercept * core
        g = -np.expm1(-h)
    else:
        g = intercept * core
        h = -np.log1p(-g)
    return g, h
