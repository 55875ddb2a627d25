"""Write the joint report: one self-contained HTML file, CSV tables, a GeoPackage, a PDF."""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from amurlink._version import __version__
from amurlink.core.protection import Audience, ProtectionPolicy
from amurlink.exceptions import AmurlinkError
from amurlink.report import displays as D
from amurlink.report._i18n import HTML_LANG, N_, check_language, translation
from amurlink.report._sections import Section, build_sections, crossborder_counts
from amurlink.report._view import ReportView, build_view
from amurlink.report.inputs import ReportInputs

__all__ = ["ReportFiles", "write_report", "prepare_inputs", "build_report_view", "render_html",
           "render_pdf", "find_chromium",
           "ChromiumNotFoundError", "audience_for"]

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Where Debian's chromium lives (installed by .ci/run).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-extensions", "--mute-audio",
                  "--no-pdf-header-footer")

_AUDIENCE_LABELS = {"owner": N_("owners of the data (exact locations)"),
                    "partner": N_("partner under a sharing agreement"),
                    "public": N_("public")}
_PRECISION_LABELS = {"exact": N_("exact"), "1km": N_("generalised to 1 km grid cells"),
                     "10km": N_("generalised to 10 km grid cells"),
                     "withheld": N_("withheld (no positions shown)")}
_DEFAULT_STUDY = N_("Amur tiger and leopard transboundary monitoring")
_COORD_KEYS = {"latitude", "longitude", "lat", "lon", "x", "y", "spatial", "bbox",
               "coordinates", "decimalLatitude", "decimalLongitude"}


class ChromiumNotFoundError(AmurlinkError, FileNotFoundError):
    """No headless Chromium to print the PDF with."""


@dataclass
class ReportFiles:
    """Paths of what :func:`write_report` wrote."""

    html: Path
    csv: list[Path] = field(default_factory=list)
    gpkg: Path | None = None
    pdf: Path | None = None
    view: ReportView | None = field(default=None, repr=False)


def audience_for(kind: str, *, policy: ProtectionPolicy | None = None) -> Audience:
    """The audience of ``amurlink report --audience``: owner (everything exact), partner
    (the policy's partner levels) or public."""
    if kind == "owner":
        return Audience.owner()
    if kind == "partner":
        return Audience.partner()
    if kind == "public":
        return Audience.public()
    raise ValueError(f"audience must be one of owner, partner, public; got {kind!r}")


def _species(view: ReportView, lang: str) -> list[dict[str, str]]:
    out = []
    for sp in view.config.species:
        out.append({"name": sp.name(lang), "latin": sp.scientific_name})
    return out


def species_namer(config: Any, lang: str):
    """Scientific name -> common name in ``lang`` (a species matches its subspecies)."""
    def name(sci: str) -> str:
        s = str(sci)
        for sp in config.species:
            a, b = sp.scientific_name.split(), s.split()
            n = min(len(a), len(b))
            if n >= 2 and a[:n] == b[:n]:
                return sp.name(lang)
        return s
    return name


def _strip_coords(obj: Any) -> Any:
    """The manifest for a partner or the public: no coordinates, no local file paths (an
    absolute path keeps only its file name)."""
    if isinstance(obj, Mapping):
        return {_strip_coords(k): _strip_coords(v) for k, v in obj.items()
                if str(k) not in _COORD_KEYS}
    if isinstance(obj, list | tuple):
        return [_strip_coords(v) for v in obj]
    if isinstance(obj, str) and _looks_like_path(obj):
        return Path(obj.replace("\\", "/")).name
    return obj


def _looks_like_path(text: str) -> bool:
    import re

    return bool(re.match(r"^(/|~/|[A-Za-z]:[\\/]|\\\\)", text)) and "\n" not in text


#: Common names of species drawn beside the cats (main prey), when the study settings name
#: only the cats.
_OTHER_SPECIES_NAMES = {"Sus scrofa": N_("wild boar"), "Cervus nippon": N_("sika deer"),
                        "Capreolus pygargus": N_("Siberian roe deer")}

#: Displays whose ``plot`` takes ``names`` (scientific name -> common name in the language).
_NAMED_DISPLAYS = (D.CountryBarDisplay, D.TrendDisplay, D.RelativeAbundanceMapDisplay,
                   D.ActivityDisplay)


def render_html(view: ReportView, sections: list[Section], *, lang: str = "en",
                date: _dt.date | None = None) -> str:
    """The report as one self-contained HTML document in ``lang``."""
    import jinja2

    check_language(lang)
    tr = translation(lang)
    _ = tr.gettext
    config_names = species_namer(view.config, lang)

    def names(sci: str) -> str:
        shown = config_names(sci)
        if shown == str(sci) and sci in _OTHER_SPECIES_NAMES:
            return _(_OTHER_SPECIES_NAMES[sci])
        return shown

    svgs: dict[str, list[str]] = {}
    for s in sections:
        out = []
        for i, fig in enumerate(s.figures):
            kw = {"names": names} if isinstance(fig, _NAMED_DISPLAYS) else {}
            out.append(D.figure_svg(fig, _=_, key=f"{lang}-{s.key}-{i}", **kw))
        svgs[s.key] = out
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=True, extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(tr, newstyle=True)
    manifest = None
    for s in sections:
        if s.manifest:
            data = s.manifest if view.audience.kind == "owner" else _strip_coords(s.manifest)
            manifest = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    levels = set(view.stations["level"])
    precision = view.distance_level if len(levels) else "exact"
    date = date or _dt.date.today()
    return env.get_template("report.html.j2").render(
        lang=lang, html_lang=HTML_LANG[lang], version=__version__,
        study_name=view.config.study.name, date_iso=date.isoformat(),
        audience=view.audience.kind, audience_label=_AUDIENCE_LABELS[view.audience.kind],
        precision_label=_PRECISION_LABELS[precision], species=_species(view, lang),
        sections=sections, svgs=svgs, manifest_json=manifest, gettext_plain=_,
    )


def find_chromium() -> str:
    """Path of a headless-capable Chromium (``/usr/bin/chromium`` first).

    Raises
    ------
    ChromiumNotFoundError
        If none is installed, saying how to install it.
    """
    for cand in (os.environ.get("AMURLINK_CHROMIUM"), CHROMIUM, shutil.which("chromium"),
                 shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    raise ChromiumNotFoundError(
        f"--pdf needs a headless Chromium at {CHROMIUM}, and none was found; install it "
        "(Debian: `apt-get install chromium fonts-noto-cjk`) or leave out --pdf")


def render_pdf(html_path: str | Path, pdf_path: str | Path, *, timeout_s: float = 120.0) -> Path:
    """Print an HTML file to an A4 PDF with headless Chromium.

    Raises
    ------
    ChromiumNotFoundError
        If Chromium is not installed.
    AmurlinkError
        If Chromium fails or writes no PDF.
    """
    exe = find_chromium()
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path).resolve()
    with tempfile.TemporaryDirectory(prefix="amurlink-chromium-") as profile:
        cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
               f"--print-to-pdf={pdf_path}", html_path.as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise AmurlinkError(f"chromium did not finish printing {html_path} within "
                                f"{timeout_s:g} s") from None
    if proc.returncode != 0 or not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        raise AmurlinkError(f"chromium failed to print {html_path} to PDF (exit "
                            f"{proc.returncode}): {proc.stderr.strip()[-500:]}")
    return pdf_path


def prepare_inputs(inputs: ReportInputs) -> ReportInputs:
    """The inputs with the records the analyses use.

    :func:`amurlink.analysis.quality.analysis_dataset` with the study's ``[quality] records``
    (default ``exclude``) and study period: flagged records (wrong clock year, outside the
    deployment, duplicated, outside the study period) are left out and counted for the
    report's data-quality section. A dataset already prepared is returned unchanged.
    """
    import dataclasses

    from amurlink.analysis.quality import for_analyses

    ds = for_analyses(inputs.dataset, inputs.config)
    return inputs if ds is inputs.dataset else dataclasses.replace(inputs, dataset=ds)


def build_report_view(inputs: ReportInputs, *, audience: Audience,
                      policy: ProtectionPolicy | None = None, **release: Any) -> ReportView:
    """:func:`prepare_inputs`, then the protected view (``amurlink.report._view.build_view``;
    ``release``: its ``agreement``, ``agreements``, ``today``)."""
    return build_view(prepare_inputs(inputs), audience=audience, policy=policy, **release)


def write_report(
    inputs: ReportInputs,
    out_dir: str | Path,
    /,
    *,
    lang: str = "en",
    audience: Audience | str = "owner",
    policy: ProtectionPolicy | None = None,
    pdf: bool = False,
    date: _dt.date | None = None,
    view: ReportView | None = None,
    agreement: Any = None,
) -> ReportFiles:
    """Write the joint report for one audience and language.

    Parameters
    ----------
    inputs : ReportInputs
        The joint dataset (exact locations) and whatever results exist.
    out_dir : str or Path
        Folder to write into (created): ``report.html``, ``tables/*.csv``, ``report.gpkg``
        and, with ``pdf``, ``report-<date>.pdf``.
    lang : {"en", "zh", "ru"}, default "en"
    audience : Audience or {"owner", "partner", "public"}, default "owner"
        Who will read it; every location in every output is protected for it first.
    policy : ProtectionPolicy, optional
        Protection rules (``inputs.config.protection`` if None).
    pdf : bool, default False
        Also print a dated A4 PDF with headless Chromium.
    date : datetime.date, optional
        Date printed in the report and the PDF name (today if None).
    view : ReportView, optional
        A view already built for this audience (reused across languages).
    agreement : Agreement or mapping, optional
        The sharing agreement the report is written under (a partner's report): its species,
        tables and embargo cut what the report shows, after station levels were decided on
        the complete data (:func:`amurlink.release.release`).

    Returns
    -------
    ReportFiles

    Raises
    ------
    ChromiumNotFoundError
        With ``pdf=True`` when no Chromium is installed (checked before anything is written).

    Notes
    -----
    Everything is written into a hidden folder beside ``out_dir`` first and moved into place
    only when all of it (the PDF included) succeeded: a failure leaves the previous report
    as it was.
    """
    check_language(lang)
    if pdf:
        find_chromium()
    if isinstance(audience, str):
        audience = audience_for(audience)
    if view is None:
        view = build_report_view(inputs, audience=audience, policy=policy,
                                 **({"agreement": agreement} if agreement is not None else {}))
    sections = build_sections(view)
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    date = date or _dt.date.today()
    html = render_html(view, sections, lang=lang, date=date)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        (stage / "report.html").write_text(html, encoding="utf-8")
        tables_dir = stage / "tables"
        tables_dir.mkdir()
        names = []
        for s in sections:
            for t in s.tables:
                t.to_csv(tables_dir / f"{t.name}.csv")
                names.append(f"{t.name}.csv")
        _stations_out(view).drop(columns=["x", "y"]).to_csv(tables_dir / "stations.csv",
                                                            index=False)
        names.append("stations.csv")
        write_results_gpkg(view, stage / "report.gpkg")
        pdf_name = f"report-{date.isoformat()}.pdf"
        if pdf:
            render_pdf(stage / "report.html", stage / pdf_name)
        out.mkdir(exist_ok=True)
        from amurlink.io.camtrap_dp import _move_into_place

        for name in ("tables", "report.gpkg", *((pdf_name,) if pdf else ()), "report.html"):
            _move_into_place(stage / name, out / name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    files = ReportFiles(html=out / "report.html", csv=[out / "tables" / n for n in names],
                        gpkg=out / "report.gpkg", view=view)
    if pdf:
        files.pdf = out / pdf_name
    return files


def _stations_out(view: ReportView) -> pd.DataFrame:
    """The view's deployments as written to ``stations.csv`` and the GeoPackage: their days
    are the coverage table's camera-days (one computation, ``effort_summary``), named so."""
    from amurlink.report._sections import effort

    per = effort(view)["by_deployment"].set_index("deploymentID")["cameraDays"]
    st = view.stations.drop(columns=["trapDays", "year"], errors="ignore")
    return st.assign(cameraDays=st["deploymentID"].astype(str).map(per).to_numpy(float))


def write_results_gpkg(view: ReportView, path: Path) -> Path:
    """Stations, encounters and transboundary routes, at the audience's precision."""
    from amurlink.report._gpkg import write_gpkg

    crs = view.config.crs.working
    st = _stations_out(view)
    layers: dict[str, tuple[pd.DataFrame, list[Any], str]] = {}
    st_geoms = [None if not np.isfinite(x) else ("POINT", [(x, y)])
                for x, y in zip(st["x"], st["y"], strict=True)]
    layers["stations"] = (st[["deploymentID", "country", "level", "cameraDays"]], st_geoms,
                          "POINT")
    cb = crossborder_counts(view)
    if cb is not None and len(cb.encounters):
        enc = cb.encounters
        xy = st.set_index("deploymentID")[["x", "y"]]
        ex = enc["deploymentID"].map(xy["x"]).to_numpy(float)
        ey = enc["deploymentID"].map(xy["y"]).to_numpy(float)
        cols = [c for c in ("encounterID", "jointID", "scientificName", "country", "time",
                            "distance_km") if c in enc]
        attrs = enc[cols].copy()
        attrs["time"] = pd.to_datetime(attrs["time"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        geoms = [None if not np.isfinite(x) else ("POINT", [(x, y)])
                 for x, y in zip(ex, ey, strict=True)]
        layers["encounters"] = (attrs, geoms, "POINT")
        trans = cb.individuals[cb.individuals["transboundary"].astype(bool)]
        rows, lines = [], []
        for jid in trans["jointID"]:
            g = enc[enc["jointID"] == jid].sort_values(["time", "encounterID"], kind="stable")
            gx = g["deploymentID"].map(xy["x"]).to_numpy(float)
            gy = g["deploymentID"].map(xy["y"]).to_numpy(float)
            ok = np.isfinite(gx) & np.isfinite(gy)
            pts = list(zip(gx[ok], gy[ok], strict=True))
            rows.append({"jointID": jid, "encounters": len(g), "shown": int(ok.sum())})
            lines.append(("LINESTRING", pts) if len(pts) >= 2 else None)
        layers["routes"] = (pd.DataFrame(rows, columns=["jointID", "encounters", "shown"]),
                            lines, "LINESTRING")
    if view.inputs.border is not None:
        line = view.inputs.border.line
        parts = getattr(line, "geoms", [line])
        layers["border"] = (pd.DataFrame({"part": range(len(parts))}),
                            [("LINESTRING", list(p.coords)) for p in parts], "LINESTRING")
    write_gpkg(path, layers, crs=crs)
    return path
