"""Habitat masks: the grid of possible activity centres (make_mask, Mask)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from amurlink.exceptions import DataError

__all__ = ["Mask", "make_mask", "infer_spacing"]


def infer_spacing(xy: ArrayLike) -> float:
    """Grid spacing of mask points: the smallest positive step between distinct x or y values."""
    xy = np.asarray(xy, dtype=float)
    steps = []
    for col in (0, 1):
        u = np.unique(xy[:, col])
        if u.size > 1:
            d = np.diff(u)
            d = d[d > 1e-9 * max(1.0, np.abs(u).max())]
            if d.size:
                steps.append(d.min())
    if not steps:
        raise DataError(
            "cannot infer the mask spacing from a single point or a single row; give spacing"
        )
    return float(min(steps))


@dataclass(frozen=True, eq=False)
class Mask:
    """Centres of square habitat cells where activity centres may lie.

    Parameters
    ----------
    xy : ndarray, shape (M, 2)
        Cell centres in metres (projected CRS).
    spacing : float
        Cell side in metres; each point stands for ``spacing**2 / 1e4`` hectares.
    covariates : DataFrame, optional
        Mask covariates, one row per point (for density models ``D ~ cov``).
    crs : str, optional
        Coordinate reference system (informative).

    See Also
    --------
    make_mask : build a mask from a buffer and spacing around detectors.

    References
    ----------
    Efford, M. G. (2004). Density estimation in live-trapping studies. Oikos 106, 598-610.
    """

    xy: np.ndarray
    spacing: float
    covariates: pd.DataFrame | None = None
    crs: str | None = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        xy = np.array(self.xy, dtype=float)
        if xy.ndim != 2 or xy.shape[1] != 2 or xy.shape[0] < 1:
            raise DataError(f"mask points must have shape (M, 2) with M >= 1, got {xy.shape}")
        if not np.all(np.isfinite(xy)):
            raise DataError("mask points contain missing or infinite coordinates")
        spacing = float(self.spacing)
        if not np.isfinite(spacing) or spacing <= 0:
            raise DataError(f"mask spacing must be a positive number of metres, got {spacing}")
        cov = self.covariates
        if cov is not None:
            cov = pd.DataFrame(cov).reset_index(drop=True)
            if len(cov) != xy.shape[0]:
                raise DataError(
                    f"mask covariates must have one row per point ({xy.shape[0]}), got {len(cov)}"
                )
        xy.setflags(write=False)
        object.__setattr__(self, "xy", xy)
        object.__setattr__(self, "spacing", spacing)
        object.__setattr__(self, "covariates", cov)

    @classmethod
    def from_points(
        cls,
        xy: ArrayLike,
        *,
        spacing: float | None = None,
        covariates: pd.DataFrame | None = None,
        crs: str | None = None,
    ) -> Mask:
        """Mask from given cell centres; the spacing is inferred from the grid when not given."""
        xy = np.asarray(xy, dtype=float)
        if spacing is None:
            spacing = infer_spacing(xy)
        return cls(xy=xy, spacing=spacing, covariates=covariates, crs=crs)

    @classmethod
    def from_frame(cls, df: pd.DataFrame, *, spacing: float | None = None) -> Mask:
        """Mask from a frame with columns ``x, y`` (metres) and any covariates."""
        if not {"x", "y"} <= set(df.columns):
            raise DataError("mask table needs columns x and y (metres)")
        cov = df.drop(columns=["x", "y"])
        return cls.from_points(
            df[["x", "y"]].to_numpy(dtype=float),
            spacing=spacing,
            covariates=cov if cov.shape[1] else None,
        )

    @property
    def n_points(self) -> int:
        return self.xy.shape[0]

    @property
    def cell_area_ha(self) -> float:
        """Area of one cell in hectares (``spacing**2 / 1e4``)."""
        return self.spacing**2 / 1e4

    @property
    def area_ha(self) -> float:
        """Total mask area in hectares."""
        return self.n_points * self.cell_area_ha

    def contains(self, region: Any) -> np.ndarray:
        """Boolean per point: is the cell centre inside ``region`` (a shapely geometry)?"""
        import shapely

        return np.asarray(shapely.contains_xy(region, self.xy[:, 0], self.xy[:, 1]), dtype=bool)

    def subset(self, keep: ArrayLike) -> Mask:
        """Mask of the points where ``keep`` is True."""
        keep = np.asarray(keep, dtype=bool)
        cov = None if self.covariates is None else self.covariates.loc[keep]
        return Mask(xy=self.xy[keep], spacing=self.spacing, covariates=cov, crs=self.crs)

    def to_frame(self) -> pd.DataFrame:
        """Points and covariates as a frame with columns ``x, y, ...``."""
        df = pd.DataFrame({"x": self.xy[:, 0], "y": self.xy[:, 1]})
        if self.covariates is not None:
            df = pd.concat([df, self.covariates.reset_index(drop=True)], axis=1)
        return df

    def __repr__(self) -> str:
        return (
            f"Mask(points={self.n_points}, spacing={self.spacing:g} m, "
            f"area={self.area_ha:.6g} ha)"
        )


def _seq(start: float, stop: float, by: float) -> np.ndarray:
    # R's seq(from, to, by): values from + i*by <= to (with R's 1e-10 fuzz)
    n = int(np.floor((stop - start) / by + 1e-10)) + 1
    return start + by * np.arange(max(n, 0))


def make_mask(
    traps: ArrayLike,
    /,
    *,
    buffer: float = 100.0,
    spacing: float | None = None,
    nx: int = 64,
    type: str = "trapbuffer",
    poly: Any = None,
    poly_habitat: bool = True,
    habitat: Any = None,
    covariates: Any = None,
    crs: str | None = None,
) -> Mask:
    """Build a habitat mask around detectors, as secr's ``make.mask``.

    The grid covers the detectors' bounding box widened by ``buffer`` on every side, with
    cell centres at ``xmin + spacing/2, xmin + 3 spacing/2, ...``.

    Parameters
    ----------
    traps : array_like, shape (K, 2)
        Detector coordinates in metres (or a :class:`CaptureHistory`, or a list of them, e.g.
        linked methods; for area and line detectors the box and the buffer are taken around
        their areas and lines).
    buffer : float, default 100
        Buffer width in metres. Choose about 4 sigma for a halfnormal detection function.
    spacing : float, optional
        Cell side in metres; default ``(x extent) / nx``.
    nx : int, default 64
        Number of cells across the x extent when ``spacing`` is not given.
    type : {"trapbuffer", "traprect"}, default "trapbuffer"
        Keep points within ``buffer`` of the nearest detector, or the whole rectangle.
    poly : shapely geometry, optional
        Habitat polygon(s) (e.g. land without lakes and sea); keep the points whose centre
        lies inside (holes excluded), or outside when ``poly_habitat=False``.
    habitat : callable, optional
        A habitat raster or rule: ``habitat(x, y) -> bool array``; keep points where True.
    covariates : DataFrame or callable, optional
        Mask covariates, or a function ``(x, y) -> DataFrame`` evaluated at the kept points.
    crs : str, optional
        Coordinate reference system of the coordinates (informative).

    Returns
    -------
    Mask

    Raises
    ------
    DataError
        If no point remains.

    See Also
    --------
    Mask.from_points : a mask from given cell centres.

    References
    ----------
    Efford, M. G. (2004). Density estimation in live-trapping studies. Oikos 106, 598-610.
    """
    from amurlink.analysis.secr.capthist import CaptureHistory

    searched = None
    if isinstance(traps, CaptureHistory):
        traps = [traps]
    if isinstance(traps, list | tuple) and traps and all(
            isinstance(c, CaptureHistory) for c in traps):
        crs = crs or traps[0].crs
        if any(c.geometry is not None for c in traps):  # area and line detectors (and
            import shapely  # any point detectors beside them): buffer the shapes

            searched = shapely.union_all(
                [g for c in traps if c.geometry is not None for g in c.geometry]
                + [shapely.multipoints(c.traps) for c in traps if c.geometry is None])
            b = searched.bounds
            traps = np.array([[b[0], b[1]], [b[2], b[3]]])
        else:
            traps = np.vstack([c.traps for c in traps])
    traps = np.asarray(traps, dtype=float)
    if traps.ndim != 2 or traps.shape[1] != 2:
        raise DataError(f"traps must have shape (K, 2), got {traps.shape}")
    if buffer < 0:
        raise DataError(f"buffer must be >= 0 metres, got {buffer}")
    if type not in ("trapbuffer", "traprect"):
        raise DataError(f"unknown mask type {type!r}; expected 'trapbuffer' or 'traprect'")
    xl = (traps[:, 0].min() - buffer, traps[:, 0].max() + buffer)
    yl = (traps[:, 1].min() - buffer, traps[:, 1].max() + buffer)
    if spacing is None:
        if xl[1] - xl[0] <= 0:
            raise DataError("cannot derive the spacing from a zero x extent; give spacing")
        spacing = (xl[1] - xl[0]) / nx
    spacing = float(spacing)
    if spacing <= 0:
        raise DataError(f"spacing must be positive, got {spacing}")
    x = _seq(xl[0] + spacing / 2, xl[1], spacing)
    y = _seq(yl[0] + spacing / 2, yl[1], spacing)
    gx, gy = np.meshgrid(x, y)  # x varies fastest
    xy = np.column_stack([gx.ravel(), gy.ravel()])
    keep = np.ones(len(xy), dtype=bool)
    if type == "trapbuffer" and searched is not None:
        import shapely

        keep &= shapely.dwithin(searched, shapely.points(xy), buffer)
    elif type == "trapbuffer":
        from scipy.spatial import cKDTree

        dist, _ = cKDTree(traps).query(xy)
        keep &= dist <= buffer
    if poly is not None:
        import shapely

        inside = np.asarray(shapely.contains_xy(poly, xy[:, 0], xy[:, 1]), dtype=bool)
        keep &= inside if poly_habitat else ~inside
    if habitat is not None:
        keep &= np.asarray(habitat(xy[:, 0], xy[:, 1]), dtype=bool)
    xy = xy[keep]
    if len(xy) == 0:
        raise DataError("no mask point left after buffering and clipping; check buffer and poly")
    cov = covariates(xy[:, 0], xy[:, 1]) if callable(covariates) else covariates
    return Mask(xy=xy, spacing=spacing, covariates=cov, crs=crs)
