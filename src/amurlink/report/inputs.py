"""What a report is built from: a joint dataset and whatever analysis results exist."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from amurlink.config import CONFIG_FILENAME, StudyConfig, load_config
from amurlink.dataset import Dataset

__all__ = ["ReportInputs", "load_report_inputs", "MANIFEST_FILENAME", "BORDER_FILENAME"]

logger = logging.getLogger(__name__)

#: File name of the harmonisation manifest inside a joint folder.
MANIFEST_FILENAME = "manifest.json"
#: File name of the border beside a joint package (docs/formats.md, section 2).
BORDER_FILENAME = "border.geojson"


@dataclass(frozen=True)
class ReportInputs:
    """Everything a joint report may show; every part but ``dataset`` is optional.

    Parameters
    ----------
    dataset : Dataset
        The joint dataset with EXACT locations (the report protects it for its audience).
    config : StudyConfig, optional
        Study settings (working CRS, species names, protection policy); defaults if None.
    border : amurlink.core.border.Border, optional
        The China-Russia border in the working CRS. Without it, distances from the border
        and the cross-border tables say why they are missing.
    secr : mapping of str to JointNationalResult or SECRResults, optional
        SECR fits by label (usually the species). A
        :class:`~amurlink.analysis.secr.JointNationalResult`
        (``fit_joint_and_national``) is shown as density of the joint fit and of each
        national fit, and abundance per country from both side by side; a plain
        ``SECRResults`` as its parameters. Density is shown in animals per 100 km².
    secr_not_fitted : DataFrame, optional
        Species without an SECR fit and why: ``scientificName``, ``animals``,
        ``recaptures``, ``spatial_recaptures`` and ``reason`` (``too-few-recaptures``,
        ``no-detections`` or a message).
    dna : mapping of str to DataFrame, optional
        DNA identification tables by title (e.g. genotype groups, sample counts).
    camtrap : mapping of str to DataFrame, optional
        Camera-trap analysis tables by title (e.g. detection rates, activity overlap).
    photo_links : mapping of str to DataFrame, optional
        Automatic photo links against the expert crosswalk: ``pairs`` (one row per pair:
        ``scientificName``, ``cn_individualID``, ``ru_individualID``, ``score``,
        ``in_photo``, ``in_crosswalk``, ``in_truth``, ``outcome``) and ``species`` (per
        species: ``agreements``, ``misses``, ``false_proposals``,
        ``photo_precision_truth``, ``photo_recall_truth``, ``crosswalk_precision_truth``,
        ``crosswalk_recall_truth``), as ``amurlink.identify.photos.compare_links`` and
        ``summarise_link_comparison`` give them.
    manifest : mapping, optional
        The harmonisation manifest (sources, files, checksums, crosswalk), printed as is.
    missing : mapping of str to str, optional
        Why a part is missing, by part name (``crossborder``, ``secr``, ``dna``,
        ``camtrap``, ``manifest``, ``border``); shown instead of the default reason.
    themes : mapping, optional
        Results of the theme stages of ``amurlink run`` by part: ``design``
        (``amurlink.study.themes.design_tables``), ``corridors`` (``border_corridors``'
        summary, its files in ``OUT/corridors/``), ``incidents`` (exact incident tables and
        analyses; shown only through ``release_incidents``) and ``secr_models``
        (``ModelTable`` per species and fit). Each part has its own report section.
    """

    dataset: Dataset
    config: StudyConfig = field(default_factory=StudyConfig)
    border: Any = None
    secr: Mapping[str, Any] | None = None
    secr_not_fitted: pd.DataFrame | None = None
    dna: Mapping[str, pd.DataFrame] | None = None
    camtrap: Mapping[str, pd.DataFrame] | None = None
    photo_links: Mapping[str, pd.DataFrame] | None = None
    manifest: Mapping[str, Any] | None = None
    missing: Mapping[str, str] = field(default_factory=dict)
    themes: Mapping[str, Any] = field(default_factory=dict)


def _find_config(folder: Path) -> Path | None:
    for cand in (folder / CONFIG_FILENAME, folder.parent / CONFIG_FILENAME):
        if cand.is_file():
            return cand
    return None


def _run_results(folder: Path) -> dict[str, Any]:
    """Results of ``amurlink run`` kept beside a joint package it wrote (``OUT/joint``).

    Only stages the run record marks ``ok`` or ``cached`` whose run used the link log as it
    is now (same confirmed links) are taken; anything else is left for the report to say
    missing.
    """
    import pickle

    out_dir = folder.parent
    record_file = out_dir / "run-record.json"
    cache = out_dir / ".amurlink-run"
    if folder.name != "joint" or not record_file.is_file() or not cache.is_dir():
        return {}
    try:
        record = json.loads(record_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    links = record.get("links") or {}
    log = folder / "identity-links.csv"
    if links.get("file"):
        import hashlib

        sha = hashlib.sha256(log.read_bytes()).hexdigest() if log.is_file() else "missing"
        if sha != links["file"]:
            return {}  # links were reviewed since the run: rerun `amurlink run`
    found: dict[str, Any] = {}
    for stage, key in (("secr", "secr"), ("dna", "dna"), ("photo comparison", "photo_links"),
                       ("design", "design"), ("corridors", "corridors"),
                       ("incidents", "incidents"), ("secr models", "secr_models")):
        entry = (record.get("stages") or {}).get(stage) or {}
        pkl = cache / f"{stage.replace(' ', '_')}.pkl"
        if entry.get("status") in ("ok", "cached") and pkl.is_file():
            try:
                with open(pkl, "rb") as fh:
                    found[key] = pickle.load(fh)  # noqa: S301 - the run's own output folder
            except Exception as exc:  # noqa: BLE001 - a result that cannot be read is missing
                logger.warning("result of %s in %s not read: %s", stage, cache, exc)
    return found


def load_report_inputs(joint_dir: str | Path, /, *, config: StudyConfig | None = None,
                       run_results: bool = True) -> ReportInputs:
    """Read a joint folder: a Camtrap DP package plus optional border and manifest.

    Parameters
    ----------
    joint_dir : str or Path
        Folder with ``datapackage.json`` (the joint dataset). Optional beside it (or in its
        parent folder): ``amurlink.toml`` (study settings; its ``[border] file`` names the
        border), ``border.geojson`` and ``manifest.json``.
    config : StudyConfig, optional
        Settings to use instead of an ``amurlink.toml`` found there.
    run_results : bool, default True
        Where the folder is the joint package of ``amurlink run`` (``OUT/joint``), also take
        the run's SECR, DNA, photo-comparison and theme results (kept in
        ``OUT/.amurlink-run``),
        as long as the link log has not changed since that run.

    Returns
    -------
    ReportInputs

    Raises
    ------
    SchemaError, ConfigError
        If the package, the settings or the border cannot be read.
    """
    from amurlink.io import read_camtrap_dp

    folder = Path(joint_dir)
    dataset = read_camtrap_dp(folder)
    missing: dict[str, str] = {}
    if config is None:
        found = _find_config(folder)
        config = load_config(found) if found is not None else StudyConfig()
    border = None
    border_file = config.border.file
    if border_file is None:
        for cand in (folder / BORDER_FILENAME, folder.parent / BORDER_FILENAME):
            if cand.is_file():
                border_file = cand
                break
    if border_file is not None:
        from amurlink.core.border import load_border

        border = load_border(border_file, crs=config.crs.working)
    else:
        missing["border"] = (f"no border file: put a {BORDER_FILENAME} beside the joint "
                             f"package or set [border] file in {CONFIG_FILENAME}")
    manifest = None
    for cand in (folder / MANIFEST_FILENAME, folder.parent / MANIFEST_FILENAME):
        if cand.is_file():
            manifest = json.loads(cand.read_text(encoding="utf-8"))
            break
    extra: dict[str, Any] = {}
    if run_results:
        found = _run_results(folder)
        secr = found.get("secr") or {}
        if secr.get("fits") or secr.get("not_fitted") is not None:
            extra["secr"] = secr.get("fits") or None
            extra["secr_not_fitted"] = secr.get("not_fitted")
        for key in ("dna", "photo_links"):
            if found.get(key):
                extra[key] = found[key]
        themes = {k: found[k] for k in ("design", "corridors", "incidents", "secr_models")
                  if found.get(k)}
        if themes:  # the theme stages' results (docs/report.md, "Theme sections")
            extra["themes"] = themes
    return ReportInputs(dataset=dataset, config=config, border=border, manifest=manifest,
                        missing=missing, **extra)
