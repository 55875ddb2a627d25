"""Detection functions of SECR (secr's list, codes 0-8 and 14-19), vectorised."""

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


@dataclass(frozen=True)
class DetectFn:
    """A detection function: its secr name and code, and whether it is a hazard function."""

    name: str
    code: int
    hazard: bool
    shape: str  # halfnormal, exponential, hazardrate, varpower, compound or annular
    extra: str | None = None  # third parameter ("z" shape, "w" annulus radius) or None
    z_start: float = 5.0  # start of the third parameter (times the start sigma if z_distance)
    z_distance: bool = False  # whether the third parameter is a distance (w of ANN, HAN, WEX;
    # z of CLN, the spread of the lognormal)

    @property
    def uses_distance(self) -> bool:
        """Whether the shape needs the distance (not only its square)."""
        return self.shape != "halfnormal"

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
        """Name of the intercept parameter: ``"lambda0"`` for hazard forms, else ``"g0"``."""
        return "lambda0" if self.hazard else "g0"

    @property
    def parameters(self) -> tuple[str, str]:
        return (self.intercept, "sigma")


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
}


def get_detectfn(detectfn: str | int | DetectFn) -> DetectFn:
    """Look up a detection function by name (``"HN"``, ``"hhn"``, ``"halfnormal"``) or secr code.

    Raises
    ------
    ValueError
        If the name or code is not one of HN (0), HR (1), EX (2), CHN (3), UN (4),
        WEX (5), ANN (6), CLN (7), CG (8), HHN (14), HHR (15), HEX (16), HAN (17), HCG (18),
        HVP (19), HPX (20).
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
        "CHN (3), UN (4), WEX (5), ANN (6), CLN (7), CG (8), HHN (14), HHR (15), HEX (16), "
        "HAN (17), HCG (18), HVP (19), HPX (20) (secr's signal-strength functions 9-13 need "
        "signal detectors and are not implemented)"
    )


def detection_arrays(
    d: np.ndarray, detectfn: str | int | DetectFn, intercept: float, sigma: float,
    z: float | None = None,
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
        ``g0`` (probability) or ``lambda0`` (hazard) at distance zero.
    sigma : float
        Spatial scale in metres.
    z : float, optional
        Shape parameter of HR, HHR and HVP.

    Returns
    -------
    g, h : ndarray
        Probability and hazard, same shape as ``d``.
    """
    fn = get_detectfn(detectfn)
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
