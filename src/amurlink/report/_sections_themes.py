"""Shared parts of the theme sections (survey design, corridors, incidents, SECR models).

:func:`theme_sections` is the hook :func:`amurlink.report._sections.build_sections` calls;
each section lives in its own module. :class:`GridMapDisplay` draws a landscape or mask
raster (never a station).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from amurlink.config import SKIPPED_BY_CONFIG
from amurlink.report._i18n import N_
from amurlink.report.displays import Gettext, _ident

__all__ = ["GridMapDisplay", "theme_sections", "theme_missing"]

#: Why a theme part is missing (msgids, translated at render).
THEME_MISSING = {
    "design": N_("no survey design was computed for this study (the design stage runs on a "
                 "simulated study)"),
    "corridors": N_("no corridor analysis was run (the study folder holds neither "
                    "landscape/resistance.tif nor covariate rasters in landscape/covariates/)"),
    "incidents": N_("no incident books were given (incident tables, SMART or EarthRanger "
                    "exports in [inputs])"),
    "secr_models": N_("no SECR model selection was run (it needs SECR fits)"),
    "failed": N_("the stage did not give results; the run's summary says why"),
    "left out": N_("this stage was left out of the run (run.skip in the study's "
                   "amurlink.toml)"),
}


def theme_missing(view: Any, part: str) -> str:
    """Why ``part`` is missing, as a msgid (a stage's own reason stays in the run summary)."""
    status = view.inputs.missing.get(part)
    if not status:
        return THEME_MISSING[part]
    return THEME_MISSING["left out" if str(status).startswith(SKIPPED_BY_CONFIG) else "failed"]


def theme_part(view: Any, part: str) -> Any:
    return (getattr(view.inputs, "themes", None) or {}).get(part)


@dataclass
class GridMapDisplay:
    """A raster map (landscape product or SECR mask surface); ``points`` only protected."""

    values: np.ndarray | None
    extent: tuple[float, float, float, float]
    title: str
    label: str
    line: np.ndarray | None = None
    points: np.ndarray | None = None
    points_label: str | None = None
    cmap: str = "magma"
    is_map: bool = True
    #: logarithmic colour scale between ``vmin`` and ``vmax`` (the corridor maps)
    log: bool = False
    vmin: float | None = None
    vmax: float | None = None
    #: outlines drawn over the raster (the parks of the corridor maps), working CRS
    outlines: list[np.ndarray] | None = None
    outlines_label: str | None = None
    figure_: Any = field(default=None, repr=False)
    ax_: Any = field(default=None, repr=False)

    def plot(self, ax: Any = None, *, _: Gettext = _ident) -> GridMapDisplay:
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(5.6, 4.6))
        else:
            fig = ax.figure
        x0, y0, x1, y1 = self.extent
        if self.values is not None:
            v = np.ma.masked_invalid(np.asarray(self.values, dtype=float))
            norm = None
            if self.log and self.vmin is not None and self.vmax is not None \
                    and 0 < self.vmin < self.vmax:
                from matplotlib.colors import LogNorm

                norm = LogNorm(vmin=self.vmin, vmax=self.vmax, clip=True)
                v = np.ma.masked_invalid(np.maximum(np.ma.filled(v, np.nan), self.vmin))
            im = ax.imshow(v, extent=(x0, x1, y0, y1), origin="upper", cmap=self.cmap,
                           interpolation="nearest", norm=norm)
            fig.colorbar(im, ax=ax, shrink=0.8, label=_(self.label))
        for k, ring in enumerate(self.outlines or ()):
            ax.plot(ring[:, 0], ring[:, 1], color="#333333", lw=0.8,
                    label=_(self.outlines_label or "") if k == 0 and self.outlines_label
                    else None)
        if self.line is not None and len(self.line):
            ax.plot(self.line[:, 0], self.line[:, 1], color="#1f77b4", lw=1.2,
                    label=_("Border"))
        if self.points is not None and len(self.points):
            ax.scatter(self.points[:, 0], self.points[:, 1], s=10, marker="s",
                       facecolor="none", edgecolor="#2ca02c", lw=0.8,
                       label=_(self.points_label or ""))
        if (self.line is not None and len(self.line)) or (
                self.points is not None and len(self.points)) or (
                self.outlines and self.outlines_label):
            ax.legend(loc="lower right", fontsize=7)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(_(self.title), fontsize=9)
        self.figure_, self.ax_ = fig, ax
        return self


def border_xy(view: Any) -> np.ndarray | None:
    """The border line's vertices in the working CRS (or None)."""
    b = view.inputs.border
    line = getattr(b, "line", None)
    if line is None:
        return None
    import shapely

    coords = shapely.get_coordinates(line)
    return coords if len(coords) else None


def theme_sections(view: Any) -> list[Any]:
    """The theme sections, in order: survey design, corridors, SECR models, incidents."""
    from amurlink.report._sections_corridors import corridors_section
    from amurlink.report._sections_design import design_section
    from amurlink.report._sections_incidents import incidents_section
    from amurlink.report._sections_models import models_section

    return [models_section(view), design_section(view), corridors_section(view),
            incidents_section(view)]
