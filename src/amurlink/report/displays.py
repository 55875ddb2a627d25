"""Figures of the joint report: Display objects compute once, ``plot(ax)`` draws (sklearn style).

Every Display is built from the PROTECTED view of the data (see ``amurlink.report._view``), so a
figure can only show what the audience may see. :func:`figure_svg` renders a Display to an
inline SVG whose text stays text.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "StationMapDisplay",
    "TrackMapDisplay",
    "CountryBarDisplay",
    "DistanceDisplay",
    "TrendDisplay",
    "EffortCalendarDisplay",
    "RelativeAbundanceMapDisplay",
    "ActivityDisplay",
    "figure_svg",
    "FONT_FAMILY",
]

Gettext = Callable[[str], str]

#: Fonts figures ask for: Latin and Cyrillic from DejaVu, Chinese from Noto Sans CJK.
FONT_FAMILY = ["DejaVu Sans", "Noto Sans CJK SC", "Noto Sans CJK JP", "sans-serif"]
COUNTRY_STYLE = {"CN": ("#c0392b", "^"), "RU": ("#1f5fa8", "o")}
_OTHER_STYLE = ("#555555", "s")


def _ident(s: str) -> str:
    return s


def _rc() -> dict[str, Any]:
    return {"svg.fonttype": "none", "font.family": FONT_FAMILY, "font.size": 9,
            "axes.spines.top": False, "axes.spines.right": False}


def _border_paths(border: Any, extent: tuple[float, float, float, float]) -> list[np.ndarray]:
    if border is None:
        return []
    import shapely

    clipped = shapely.clip_by_rect(border.line, *extent)
    parts = getattr(clipped, "geoms", [clipped])
    return [np.asarray(p.coords) for p in parts if not p.is_empty]


def _extent(x: np.ndarray, y: np.ndarray, pad_min_m: float = 3_000.0
            ) -> tuple[float, float, float, float]:
    x0, x1, y0, y1 = float(x.min()), float(x.max()), float(y.min()), float(y.max())
    pad = max(pad_min_m, 0.08 * max(x1 - x0, y1 - y0))
    return x0 - pad, y0 - pad, x1 + pad, y1 + pad


def _km_axes(ax: Any, extent: tuple[float, float, float, float], _: Gettext) -> None:
    from matplotlib.ticker import FuncFormatter

    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    ax.set_aspect("equal")
    fmt = FuncFormatter(lambda v, _pos: f"{v / 1000:.0f}")
    ax.xaxis.set_major_formatter(fmt)
    ax.yaxis.set_major_formatter(fmt)
    ax.set_xlabel(_("Easting (km)"))
    ax.set_ylabel(_("Northing (km)"))


# ---------------------------------------------------------------------------------------------
@dataclass
class StationMapDisplay:
    """Camera stations by country on the border, at the positions the audience may see.

    Attributes
    ----------
    stations : DataFrame
        ``deploymentID``, ``country``, ``x``, ``y`` (metres, working CRS) of shown stations.
    border_paths : list of ndarray
        Border line vertices inside the map extent.
    extent : tuple of float or None
        ``(xmin, ymin, xmax, ymax)``; None when no station may be shown.
    withheld : int
        Stations whose position is withheld from this audience.
    """

    stations: pd.DataFrame
    border_paths: list[np.ndarray]
    extent: tuple[float, float, float, float] | None
    withheld: int
    is_map: bool = field(default=True, init=False)

    @classmethod
    def from_stations(cls, stations: pd.DataFrame, *, border: Any = None) -> StationMapDisplay:
        shown = stations[np.isfinite(stations["x"]) & np.isfinite(stations["y"])]
        withheld = int(len(stations) - len(shown))
        if shown.empty:
            return cls(shown, [], None, withheld)
        ext = _extent(shown["x"].to_numpy(), shown["y"].to_numpy())
        return cls(shown[["deploymentID", "country", "x", "y"]].reset_index(drop=True),
                   _border_paths(border, ext), ext, withheld)

    @property
    def empty(self) -> bool:
        return self.extent is None

    def plot(self, ax: Any = None, *, _: Gettext = _ident) -> StationMapDisplay:
        import matplotlib.pyplot as plt

        if ax is None:
            _fig, ax = plt.subplots(figsize=(6.0, 5.0), layout="constrained")
        for path in self.border_paths:
            ax.plot(path[:, 0], path[:, 1], color="#333333", lw=1.4, ls="--", label=_("Border"))
        for cc, g in self.stations.groupby("country", sort=True):
            color, marker = COUNTRY_STYLE.get(cc, _OTHER_STYLE)
            ax.scatter(g["x"], g["y"], s=22, color=color, marker=marker, label=country_name(cc, _),
                       zorder=3)
        if self.extent is not None:
            _km_axes(ax, self.extent, _)
        handles, labels = ax.get_legend_handles_labels()
        uniq = dict(zip(labels, handles, strict=False))
        ax.legend(uniq.values(), uniq.keys(), loc="best", fontsize=8)
        ax.set_title(_("Camera stations"))
        self.ax_, self.figure_ = ax, ax.figure
        return self


@dataclass
class TrackMapDisplay:
    """One transboundary individual's encounters joined in time order (protected positions).

    Attributes
    ----------
    joint_id, label : str
        Joint identity and its caption (members).
    points : DataFrame
        ``x``, ``y``, ``country``, ``time`` of the encounters whose position may be shown,
        in time order.
    hidden : int
        Encounters at stations whose position is withheld (left out of the line).
    """

    joint_id: str
    label: str
    points: pd.DataFrame
    hidden: int
    border_paths: list[np.ndarray]
    extent: tuple[float, float, float, float] | None
    is_map: bool = field(default=True, init=False)

    @classmethod
    def from_encounters(cls, encounters: pd.DataFrame, stations: pd.DataFrame, *,
                        joint_id: str, border: Any = None) -> TrackMapDisplay:
        enc = encounters[encounters["jointID"] == joint_id].sort_values(["time", "encounterID"],
                                                                      kind="stable")
        st = stations.set_index("deploymentID")
        x = enc["deploymentID"].map(st["x"]).to_numpy(float)
        y = enc["deploymentID"].map(st["y"]).to_numpy(float)
        ok = np.isfinite(x) & np.isfinite(y)
        pts = pd.DataFrame({"x": x[ok], "y": y[ok],
                            "country": enc["country"].to_numpy(object)[ok],
                            "time": enc["time"].to_numpy()[ok]})
        label = str(enc["members"].iloc[0]) if len(enc) else joint_id
        if pts.empty:
            return cls(joint_id, label, pts, int((~ok).sum()), [], None)
        ext = _extent(pts["x"].to_numpy(), pts["y"].to_numpy())
        return cls(joint_id, label, pts, int((~ok).sum()), _border_paths(border, ext), ext)

    @property
    def empty(self) -> bool:
        return self.extent is None

    def plot(self, ax: Any = None, *, _: Gettext = _ident) -> TrackMapDisplay:
        import matplotlib.pyplot as plt

        if ax is None:
            # fixed margins, not constrained layout: a report draws one map per
            # transboundary animal and the layout solver would double the drawing time
            fig, ax = plt.subplots(figsize=(4.2, 3.8))
            fig.subplots_adjust(left=0.19, right=0.97, bottom=0.12, top=0.93)
        for path in self.border_paths:
            ax.plot(path[:, 0], path[:, 1], color="#333333", lw=1.2, ls="--", label=_("Border"))
        ax.plot(self.points["x"], self.points["y"], color="#7f7f7f", lw=1.0, zorder=2,
                label=_("Route in time order"))
        for cc, g in self.points.groupby("country", sort=True):
            color, marker = COUNTRY_STYLE.get(cc, _OTHER_STYLE)
            ax.scatter(g["x"], g["y"], s=24, color=color, marker=marker, zorder=3,
                       label=country_name(cc, _))
        if len(self.points):
            ax.scatter(self.points["x"].iloc[:1], self.points["y"].iloc[:1], s=80,
                       facecolors="none", edgecolors="black", zorder=4, label=_("First encounter"))
        if self.extent is not None:
            _km_axes(ax, self.extent, _)
        ax.legend(loc="best", fontsize=7)
        ax.set_title(self.joint_id, fontsize=9)
        self.ax_, self.figure_ = ax, ax.figure
        return self


@dataclass
class CountryBarDisplay:
    """Encounters of identified individuals by species and country.

    Attributes
    ----------
    counts : DataFrame
        Index: scientific name; columns: country codes; values: encounters.
    species_labels : dict
        Scientific name to the label shown (set at plot time through ``names``).
    """

    counts: pd.DataFrame
    is_map: bool = field(default=False, init=False)

    @classmethod
    def from_encounters(cls, encounters: pd.DataFrame,
                        countries: Sequence[str] = ("CN", "RU")) -> CountryBarDisplay:
        if encounters.empty:
            return cls(pd.DataFrame(columns=list(countries)))
        c = (encounters.dropna(subset=["country"])
             .groupby(["scientificName", "country"], observed=True).size().unstack(fill_value=0))
        return cls(c.reindex(columns=list(countries), fill_value=0))

    @property
    def empty(self) -> bool:
        return self.counts.empty

    def plot(self, ax: Any = None, *, _: Gettext = _ident,
             names: Callable[[str], str] = _ident) -> CountryBarDisplay:
        import matplotlib.pyplot as plt

        if ax is None:
            _fig, ax = plt.subplots(figsize=(6.0, 3.2), layout="constrained")
        pos = np.arange(len(self.counts))
        width = 0.8 / max(1, len(self.counts.columns))
        for i, cc in enumerate(self.counts.columns):
            ax.bar(pos + i * width, self.counts[cc].to_numpy(), width,
                   color=COUNTRY_STYLE.get(cc, _OTHER_STYLE)[0], label=country_name(cc, _))
        ax.set_xticks(pos + width * (len(self.counts.columns) - 1) / 2,
                      [names(s) for s in self.counts.index])
        ax.set_ylabel(_("Encounters"))
        ax.legend(fontsize=8)
        ax.set_title(_("Encounters by country"))
        self.ax_, self.figure_ = ax, ax.figure
        return self


@dataclass
class DistanceDisplay:
    """Encounters by distance from the border, per country, at the precision allowed.

    Attributes
    ----------
    distances : DataFrame
        ``country`` and ``distance_km`` (already rounded for the audience) of encounters.
    bin_km : float
        Histogram bin width in km (never finer than the rounding).
    """

    distances: pd.DataFrame
    bin_km: float
    is_map: bool = field(default=False, init=False)

    @classmethod
    def from_encounters(cls, encounters: pd.DataFrame, *, step_km: float | None
                        ) -> DistanceDisplay:
        if step_km is None or encounters.empty or "distance_km" not in encounters:
            return cls(pd.DataFrame(columns=["country", "distance_km"]), 1.0)
        d = encounters[["country", "distance_km"]].dropna()
        top = float(d["distance_km"].max()) if len(d) else 1.0
        bin_km = max(step_km, float(np.ceil(top / 20.0))) if top > 0 else max(step_km, 1.0)
        return cls(d.reset_index(drop=True), bin_km)

    @property
    def empty(self) -> bool:
        return self.distances.empty

    def plot(self, ax: Any = None, *, _: Gettext = _ident) -> DistanceDisplay:
        import matplotlib.pyplot as plt

        if ax is None:
            _fig, ax = plt.subplots(figsize=(6.0, 3.2), layout="constrained")
        top = float(self.distances["distance_km"].max()) if len(self.distances) else 1.0
        bins = np.arange(0.0, top + 2 * self.bin_km, self.bin_km)
        for cc, g in self.distances.groupby("country", sort=True, observed=False):
            ax.hist(g["distance_km"], bins=bins, alpha=0.6, label=country_name(cc, _),
                    color=COUNTRY_STYLE.get(cc, _OTHER_STYLE)[0])
        ax.set_xlabel(_("Distance from the border (km)"))
        ax.set_ylabel(_("Encounters"))
        ax.legend(fontsize=8)
        ax.set_title(_("Distance from the border"))
        self.ax_, self.figure_ = ax, ax.figure
        return self


@dataclass
class TrendDisplay:
    """Individuals (and transboundary individuals) per year and species.

    Attributes
    ----------
    yearly : DataFrame
        ``scientificName``, ``year``, ``individuals``, ``transboundary``.
    """

    yearly: pd.DataFrame
    is_map: bool = field(default=False, init=False)

    @classmethod
    def from_yearly(cls, yearly: pd.DataFrame | None) -> TrendDisplay:
        cols = ["scientificName", "year", "individuals", "transboundary"]
        if yearly is None or yearly.empty:
            return cls(pd.DataFrame(columns=cols))
        return cls(yearly[cols].reset_index(drop=True))

    @property
    def empty(self) -> bool:
        return self.yearly.empty

    def plot(self, ax: Any = None, *, _: Gettext = _ident,
             names: Callable[[str], str] = _ident) -> TrendDisplay:
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        if ax is None:
            _fig, ax = plt.subplots(figsize=(6.0, 3.2), layout="constrained")
        for sp, g in self.yearly.groupby("scientificName", sort=True):
            line, = ax.plot(g["year"], g["individuals"], marker="o",
                            label=f"{names(sp)}: {_('individuals')}")
            ax.plot(g["year"], g["transboundary"], marker="s", ls="--", color=line.get_color(),
                    label=f"{names(sp)}: {_('transboundary')}")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        years = pd.to_numeric(self.yearly["year"], errors="coerce").dropna()
        if len(years) and years.min() == years.max():  # one year: not a century-wide axis
            ax.set_xlim(float(years.min()) - 1, float(years.max()) + 1)
        ax.set_xlabel(_("Year"))
        ax.set_ylabel(_("Individuals"))
        ax.legend(fontsize=7)
        ax.set_title(_("Trends by year"))
        self.ax_, self.figure_ = ax, ax.figure
        return self


# ---------------------------------------------------------------------------------------------
# Camera-trap figures (issue #9 item 6)
# ---------------------------------------------------------------------------------------------
@dataclass
class EffortCalendarDisplay:
    """Camera-trap effort through the study: trap-days per week, one line per country.

    Attributes
    ----------
    effort : DataFrame
        ``week`` (start of the week, a date), ``country`` and ``trapDays`` (camera-days the
        stations of the country worked that week, from the camera operation matrix).
    """

    effort: pd.DataFrame
    is_map: bool = field(default=False, init=False)

    @classmethod
    def from_effort(cls, effort: pd.DataFrame | None) -> EffortCalendarDisplay:
        cols = ["week", "country", "trapDays"]
        if effort is None or effort.empty:
            return cls(pd.DataFrame(columns=cols))
        e = effort.rename(columns={"countryCode": "country"})[cols].copy()
        e["week"] = pd.to_datetime(e["week"])
        return cls(e.sort_values(["country", "week"]).reset_index(drop=True))

    @property
    def empty(self) -> bool:
        return self.effort.empty

    def plot(self, ax: Any = None, *, _: Gettext = _ident) -> EffortCalendarDisplay:
        import matplotlib.dates as mdates
        import matplotlib.pyplot as plt

        if ax is None:
            _fig, ax = plt.subplots(figsize=(6.4, 3.0), layout="constrained")
        for cc, g in self.effort.groupby("country", sort=True):
            color = COUNTRY_STYLE.get(cc, _OTHER_STYLE)[0]
            ax.step(g["week"], g["trapDays"], where="post", color=color, lw=1.3,
                    label=country_name(cc, _))
            ax.fill_between(g["week"], g["trapDays"], step="post", color=color, alpha=0.15)
        # numeric month labels (no month names to translate), one tick per 1-6 months
        if len(self.effort):
            span = (self.effort["week"].max() - self.effort["week"].min()).days
            ax.xaxis.set_major_locator(mdates.MonthLocator(interval=max(1, span // 180)))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
        ax.set_ylim(bottom=0)
        ax.set_xlabel(_("Week"))
        ax.set_ylabel(_("Trap-days per week"))
        ax.legend(fontsize=8)
        ax.set_title(_("Camera-trap effort by week"))
        self.ax_, self.figure_ = ax, ax.figure
        return self


@dataclass
class RelativeAbundanceMapDisplay:
    """One species' relative abundance (independent events per 100 trap-days) by station.

    Positions come ONLY from the protected station table of the report view: a station is
    drawn at the position the audience may see, and left out when any of its cameras is
    withheld.

    Attributes
    ----------
    species : str
    points : DataFrame
        ``station``, ``country``, ``x``, ``y`` (protected, working CRS), ``events``,
        ``trapDays``, ``RAI`` of the stations that may be shown.
    withheld : int
        Stations with a relative abundance whose position is withheld.
    """

    species: str
    points: pd.DataFrame
    border_paths: list[np.ndarray]
    extent: tuple[float, float, float, float] | None
    withheld: int
    is_map: bool = field(default=True, init=False)

    @classmethod
    def from_rai(cls, rai: pd.DataFrame, stations: pd.DataFrame, *, species: str,
                 station_of: pd.Series, border: Any = None) -> RelativeAbundanceMapDisplay:
        """Join per-station relative abundance to the protected station positions.

        Parameters
        ----------
        rai : DataFrame
            ``Station``, ``Species``, ``events``, ``trapDays``, ``RAI`` (no coordinates).
        stations : DataFrame
            The report view's protected stations: ``deploymentID``, ``country``, ``x``, ``y``
            (NaN where withheld).
        species : str
            Scientific name to map.
        station_of : Series
            Station (as in ``rai``) of each deploymentID (index: deploymentID).
        """
        r = rai[rai["Species"].astype(str) == species]
        st = stations.assign(station=stations["deploymentID"].map(station_of).astype(object))
        st = st.dropna(subset=["station"])
        st["station"] = st["station"].astype(str)
        shown_ok = np.isfinite(st["x"]) & np.isfinite(st["y"])
        # a station is shown only when every camera of it may be shown; its position is
        # that of its first camera (a protected position as is, never an average)
        all_ok = shown_ok.groupby(st["station"]).all()
        first = st[shown_ok].drop_duplicates("station").set_index("station")
        keys = r["Station"].astype(str)
        ok = keys.map(all_ok).fillna(False).astype(bool).to_numpy()
        rr = r[ok]
        k = rr["Station"].astype(str)
        pts = pd.DataFrame({
            "station": k.to_numpy(object),
            "country": k.map(first["country"]).to_numpy(object),
            "x": k.map(first["x"]).to_numpy(float), "y": k.map(first["y"]).to_numpy(float),
            "events": rr["events"].to_numpy(float), "trapDays": rr["trapDays"].to_numpy(float),
            "RAI": rr["RAI"].to_numpy(float)})
        withheld = int((~ok).sum())
        if pts.empty:
            return cls(species, pts, [], None, withheld)
        ext = _extent(pts["x"].to_numpy(), pts["y"].to_numpy())
        return cls(species, pts, _border_paths(border, ext), ext, withheld)

    @property
    def empty(self) -> bool:
        return self.extent is None

    def plot(self, ax: Any = None, *, _: Gettext = _ident,
             names: Callable[[str], str] = _ident) -> RelativeAbundanceMapDisplay:
        import matplotlib.pyplot as plt
        from matplotlib.colors import Normalize

        if ax is None:
            _fig, ax = plt.subplots(figsize=(6.0, 5.0), layout="constrained")
        for path in self.border_paths:
            ax.plot(path[:, 0], path[:, 1], color="#333333", lw=1.4, ls="--", label=_("Border"))
        top = float(self.points["RAI"].max()) if len(self.points) else 1.0
        norm = Normalize(vmin=0.0, vmax=top if top > 0 else 1.0)
        sc = None
        for cc, g in self.points.groupby("country", sort=True):
            marker = COUNTRY_STYLE.get(cc, _OTHER_STYLE)[1]
            sc = ax.scatter(g["x"], g["y"], c=g["RAI"], cmap="YlOrRd", norm=norm, s=30,
                            marker=marker, edgecolors="#333333", linewidths=0.4, zorder=3,
                            label=country_name(cc, _))
        if self.extent is not None:
            _km_axes(ax, self.extent, _)
        if sc is not None:
            cb = ax.figure.colorbar(sc, ax=ax, shrink=0.8)
            cb.set_label(_("Independent events per 100 trap-days"))
        handles, labels = ax.get_legend_handles_labels()
        uniq = dict(zip(labels, handles, strict=False))
        ax.legend(uniq.values(), uniq.keys(), loc="best", fontsize=8)
        ax.set_title(f"{names(self.species)}: {_('relative abundance')}", fontsize=9)
        self.ax_, self.figure_ = ax, ax.figure
        return self


@dataclass
class ActivityDisplay:
    """Daily activity: kernel densities of the time of day, one curve per species.

    Attributes
    ----------
    curves : DataFrame
        ``Species``, ``hour`` (0-24) and ``density`` (per hour), as computed by
        :func:`amurlink.analysis.camtrap.density_fit` (von Mises kernel, Ridout & Linkie
        bandwidth).
    events : dict of str to int
        Independent events behind each curve.
    """

    curves: pd.DataFrame
    events: dict[str, int] = field(default_factory=dict)
    is_map: bool = field(default=False, init=False)

    @classmethod
    def from_curves(cls, curves: pd.DataFrame | None) -> ActivityDisplay:
        cols = ["Species", "hour", "density"]
        if curves is None or curves.empty:
            return cls(pd.DataFrame(columns=cols))
        ev = {}
        if "events" in curves:
            ev = {str(k): int(v) for k, v in
                  curves.groupby("Species", sort=False)["events"].first().items()}
        return cls(curves[cols].reset_index(drop=True), ev)

    @property
    def empty(self) -> bool:
        return self.curves.empty

    def plot(self, ax: Any = None, *, _: Gettext = _ident,
             names: Callable[[str], str] = _ident) -> ActivityDisplay:
        import matplotlib.pyplot as plt

        if ax is None:
            _fig, ax = plt.subplots(figsize=(6.4, 3.2), layout="constrained")
        styles = ["-", "--", ":", "-."]
        for i, (sp, g) in enumerate(self.curves.groupby("Species", sort=False)):
            n = self.events.get(str(sp))
            label = names(str(sp)) + (f" ({n})" if n is not None else "")
            ax.plot(g["hour"], g["density"], ls=styles[i % len(styles)], lw=1.4, label=label)
        ax.set_xlim(0, 24)
        ax.set_xticks(range(0, 25, 3))
        ax.set_ylim(bottom=0)
        ax.set_xlabel(_("Time of day (hours)"))
        ax.set_ylabel(_("Activity density"))
        ax.legend(fontsize=7)
        ax.set_title(_("Daily activity"))
        self.ax_, self.figure_ = ax, ax.figure
        return self


def country_name(code: Any, _: Gettext = _ident) -> str:
    from amurlink.report._i18n import N_

    names = {"CN": N_("China"), "RU": N_("Russia"), "KP": N_("North Korea")}
    return _(names[code]) if code in names else str(code)


# ---------------------------------------------------------------------------------------------
_SVG_HEAD = re.compile(r"^.*?(?=<svg)", re.S)
_SVG_META = re.compile(r"<metadata>.*?</metadata>", re.S)


def figure_svg(display: Any, *, _: Gettext = _ident, key: str = "fig", **plot_kw: Any) -> str:
    """Draw ``display`` and return an inline ``<svg>`` element with its text kept as text.

    Map figures carry ``data-amurlink-affine="a c d f"``: the map CRS coordinates of an SVG
    point are ``X = a*x + c``, ``Y = d*y + f`` (used by the protection tests).
    """
    import matplotlib
    import matplotlib.pyplot as plt

    rc = _rc() | {"svg.hashsalt": key}
    with matplotlib.rc_context(rc), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph .* missing from font")
        warnings.filterwarnings("ignore", message=r"findfont")
        display.plot(_=_, **plot_kw)
        fig = display.figure_
        fig.set_dpi(72)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
        attrs = f'class="figure" data-key="{key}"'
        if getattr(display, "is_map", False) and getattr(display, "extent", None):
            ax = display.ax_
            h = fig.get_figheight() * 72.0
            p0 = ax.transData.transform((display.extent[0], display.extent[1]))
            p1 = ax.transData.transform((display.extent[2], display.extent[3]))
            (sx0, sy0), (sx1, sy1) = (p0[0], h - p0[1]), (p1[0], h - p1[1])
            a = float((display.extent[2] - display.extent[0]) / (sx1 - sx0))
            d = float((display.extent[3] - display.extent[1]) / (sy1 - sy0))
            c, f = float(display.extent[0] - a * sx0), float(display.extent[1] - d * sy0)
            attrs += f' data-amurlink-affine="{a!r} {c!r} {d!r} {f!r}"'
        plt.close(fig)
    svg = _SVG_HEAD.sub("", buf.getvalue(), count=1)
    svg = _SVG_META.sub("", svg)
    return svg.replace("<svg ", f"<svg {attrs} ", 1)
