"""Stages of ``amurlink run`` for the joint themes: survey design, corridors, incidents, models.

=================  ===========================================================  ==============
stage              reads                                                        gives
=================  ===========================================================  ==============
design             the simulated study's scenario (``summary.json``)           (value)
corridors          ``landscape/resistance.tif`` (or ``covariates/``), parks     ``corridors/``
incidents          ``[inputs.XX] incidents|smart|earthranger`` (else            (value)
                   ``incidents/<cc>/``), settlements, harmonise
secr models        secr (its capture histories and masks)                       (value)
=================  ===========================================================  ==============

Every value here is position free except the proposed design sites (``proposed_xy``, for the
report's protected map only) and the exact incident tables (the report takes them only through
:func:`amurlink.incidents.protect.protect_incident_tables`).

:func:`write_theme_inputs` adds the simulator's incident books, settlements and corridor
resistance to a simulated study folder (``amurlink demo``), without touching its other files.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from amurlink.exceptions import DataError
from amurlink.study._runner import Stage, StageContext, Study, register_stage

__all__ = ["SECR_MODELS", "THEME_STAGES", "design_tables", "incident_inputs",
           "write_theme_inputs"]

logger = logging.getLogger(__name__)

#: The models ``secr models`` fits per species, jointly and per country (``fit_models``).
#: Density models only. ``lambda0~b``/``~bk`` are now comparable with them (``fit_models``
#: fits a list mixing them uncollapsed; their loglik used to fall below the null model's
#: because the null model alone was collapsed over occasions), but on the demo's 105 weekly
#: occasions they are not cheap: neaspec leopards, joint, at load 14, ``~b`` 26 s and ``~bk``
#: 13 s against 3.4 s for ``D~1`` (and the density models then 1.4 times slower each).
SECR_MODELS: tuple[str, ...] = ("D~1", "D~x", "D~y", "D~x+y")
#: Improving swaps of the layout search per scenario (the design stage). The work, not a time
#: budget, stops the search, so a study's proposed sites are the same on every machine (a
#: time budget made the report depend on how fast it ran). About 4 s (small) and 20 s
#: (neaspec) on the 2-core reference machine; large: the greedy start alone (about 2 min).
DESIGN_SWAPS = {"small": 90, "neaspec": 5, "large": 0}
#: Species whose camera detections raise village warnings.
WARNING_SPECIES = ("Panthera tigris", "Panthera pardus")


def _scenario(study: Study) -> dict[str, Any] | None:
    """``{"scenario", "seed"}`` of a simulated study, else None."""
    f = study.folder / "summary.json"
    if not study.is_simulation or not f.is_file():
        return None
    try:
        data = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    sc = data.get("scenario") or data.get("scale")
    seed = data.get("seed")
    if not isinstance(sc, str) or not isinstance(seed, int):
        return None
    return {"scenario": sc, "seed": seed}


# ==============================================================================================
# design
# ==============================================================================================
def design_tables(result: dict[str, Any]) -> dict[str, Any]:
    """The report's design tables (no positions) and the proposed sites (positions).

    ``layouts`` and ``joint_vs_national`` (:func:`amurlink.design.theme_tables`),
    ``costing`` (per country: stations, cameras, camera-days, station visits: set-up,
    a check every 30 days and retrieval) and ``proposed_xy`` (working CRS, to be protected).
    """
    from amurlink.design import theme_tables

    out: dict[str, Any] = dict(theme_tables(result))
    days = int(result["settings"]["noccasions"])
    visits_each = 2 + max(0, math.ceil(days / 30) - 1)
    rows = []
    for label in ("current", "proposed"):
        d = result[label]
        for c in sorted(d["stations"]):
            st, cam = int(d["stations"][c]), float(d["cameras"].get(c, 0.0))
            rows.append({"layout": label, "country": c, "stations": st, "cameras": cam,
                         "camera_days": cam * days, "visits": st * visits_each})
    out["costing"] = pd.DataFrame(rows)
    out["settings"] = {k: v for k, v in result["settings"].items()
                       if isinstance(v, int | float | str) or v is None}
    out["proposed_xy"] = np.asarray(result["proposed_xy"], dtype=float)
    return out


def _design(ctx: StageContext) -> dict[str, Any]:
    from amurlink.design import theme_study_design

    sc = _scenario(ctx.study)
    if sc is None:
        raise DataError("the design stage needs a simulated study (summary.json)")
    res = theme_study_design(sc["scenario"], seed=sc["seed"], time_limit=None,
                             max_swaps=DESIGN_SWAPS.get(sc["scenario"], 5))
    return design_tables(res)


def _design_applies(study: Study) -> str | None:
    return None if _scenario(study) is not None else \
        "no simulated scenario (summary.json): the theme design runs on a simulated study"


def _design_summary(value: dict[str, Any]) -> dict[str, Any]:
    t = value["layouts"].set_index("layout")
    return {k: {"rse": float(t.loc[k, "rse"]),
                "transboundary_detected": float(t.loc[k, "transboundary_detected"])}
            for k in t.index}


# ==============================================================================================
# incidents
# ==============================================================================================
def incident_inputs(study: Study) -> dict[str, dict[str, list[Path]]]:
    """Per country its incident inputs: ``folders``, ``smart`` bundles, ``earthranger`` files.

    From ``[inputs.XX] incidents / smart / earthranger``; a country naming none takes the
    study folder's ``incidents/<cc>/`` when it holds ``incidents.csv``.
    """
    out: dict[str, dict[str, list[Path]]] = {}
    named = {c.code: c for c in study.config.inputs.countries}
    for code in study.config.country_codes:
        c = named.get(code)
        entry = {"folders": [study.path(p) for p in (c.incidents if c else ())],
                 "smart": [study.path(p) for p in (c.smart if c else ())],
                 "earthranger": [study.path(p) for p in (c.earthranger if c else ())]}
        if not any(entry.values()):
            d = study.folder / "incidents" / code.lower()
            if (d / "incidents.csv").is_file():
                entry["folders"] = [d]
        if any(entry.values()):
            out[code] = entry
    return out


def _settlements_file(study: Study) -> Path | None:
    layer = study.config.inputs.layers.get("settlements")
    if layer is not None:
        return study.path(layer)
    f = study.folder / "landscape" / "settlements.csv"
    return f if f.is_file() else None


def _incident_files(study: Study) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for code, entry in incident_inputs(study).items():
        for folder in entry["folders"]:
            for f in sorted(folder.glob("*.csv")) if folder.is_dir() else [folder]:
                files[f"incidents.{code}:{f.name}"] = f
        for b in entry["smart"]:
            for f in sorted(b.glob("*.json")) if b.is_dir() else [b]:
                files[f"smart.{code}:{f.name}"] = f
        for f in entry["earthranger"]:
            files[f"earthranger.{code}:{f.name}"] = f
    s = _settlements_file(study)
    if s is not None:
        files["settlements"] = s
    return files


def _incidents_applies(study: Study) -> str | None:
    return None if incident_inputs(study) else "no incident books in [inputs] or incidents/"


def read_settlements(path: Path) -> pd.DataFrame:
    """Villages (``name``, ``longitude``, ``latitude``) from a CSV, a GeoPackage or a GeoJSON
    of points."""
    if path.suffix.lower() == ".csv":
        frame = pd.read_csv(path)
    elif path.suffix.lower() == ".gpkg":
        frame = _read_gpkg_points(path)
    else:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            rows = []
            for i, f in enumerate(data.get("features", [])):
                g = f.get("geometry") or {}
                if g.get("type") != "Point":
                    continue
                props = f.get("properties") or {}
                rows.append({"name": str(props.get("name", f"village {i + 1}")),
                             "longitude": float(g["coordinates"][0]),
                             "latitude": float(g["coordinates"][1])})
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DataError(f"{path.name}: settlements must be a CSV (name, longitude, "
                            f"latitude) or a GeoJSON of points ({exc})") from None
        frame = pd.DataFrame(rows, columns=["name", "longitude", "latitude"])
    missing = {"name", "longitude", "latitude"} - set(frame.columns)
    if missing:
        raise DataError(f"{path.name}: settlements need columns name, longitude, latitude; "
                        f"missing {sorted(missing)}")
    return frame


def _read_gpkg_points(path: Path) -> pd.DataFrame:
    """The points of a GeoPackage's first feature table, in WGS84, with its ``name``."""
    import sqlite3

    from amurlink.report._gpkg import read_gpkg_geometry

    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            table, col, srs = con.execute(
                "SELECT c.table_name, g.column_name, g.srs_id FROM gpkg_contents c JOIN "
                "gpkg_geometry_columns g ON g.table_name = c.table_name "
                "WHERE c.data_type = 'features' ORDER BY c.table_name LIMIT 1").fetchone()
            cols = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
            name_col = "name" if "name" in cols else None
            sel = f'"{col}"' + (f', "{name_col}"' if name_col else "")
            rows = con.execute(f'SELECT {sel} FROM "{table}"').fetchall()
        finally:
            con.close()
    except (sqlite3.Error, TypeError) as exc:
        raise DataError(f"{path.name}: not a GeoPackage with a table of points ({exc})") from None
    xs, ys, names = [], [], []
    for i, row in enumerate(rows):
        kind, pts = read_gpkg_geometry(row[0])
        if kind != "POINT" or not pts:
            continue
        xs.append(pts[0][0])
        ys.append(pts[0][1])
        names.append(str(row[1]) if name_col and row[1] is not None else f"village {i + 1}")
    lon, lat = np.asarray(xs, float), np.asarray(ys, float)
    if srs not in (4326, None) and len(xs):
        from pyproj import Transformer

        tr = Transformer.from_crs(f"EPSG:{srs}", "EPSG:4326", always_xy=True)
        lon, lat = tr.transform(lon, lat)
    return pd.DataFrame({"name": names, "longitude": lon, "latitude": lat})


def _read_incident_tables(study: Study) -> dict[str, pd.DataFrame]:
    from amurlink.incidents.imports import (
        import_earthranger_events,
        import_smart_bundle,
        read_incident_folder,
    )

    parts: dict[str, list[pd.DataFrame]] = {}
    for code, entry in incident_inputs(study).items():
        found: list[dict[str, pd.DataFrame]] = []
        for folder in entry["folders"]:
            found.append(read_incident_folder(folder, include_personal=True))
        for b in entry["smart"]:
            found.append(dict(import_smart_bundle(b, country=code).tables))
        for f in entry["earthranger"]:
            found.append(dict(import_earthranger_events(f, country=code).tables))
        for tables in found:
            for name, frame in tables.items():
                parts.setdefault(name, []).append(frame)
    return {n: pd.concat(fs, ignore_index=True) for n, fs in parts.items() if fs}


def _camera_detections(dataset: Any) -> pd.DataFrame:
    from amurlink.analysis.events import independent_events

    obs = dataset.observations
    obs = obs.loc[obs["scientificName"].isin(WARNING_SPECIES)]
    if not len(obs):
        return pd.DataFrame(columns=["timestamp", "scientificName", "longitude", "latitude",
                                     "countryCode"])
    ev = independent_events(obs, per_individual=False)
    ev = ev.loc[ev["independent"]]
    dep = dataset.deployments.set_index("deploymentID")
    out = pd.DataFrame({
        "timestamp": ev["eventStart"].to_numpy(),
        "scientificName": ev["scientificName"].astype(object).to_numpy(),
        "longitude": ev["deploymentID"].map(dep["longitude"]).to_numpy(dtype=float),
        "latitude": ev["deploymentID"].map(dep["latitude"]).to_numpy(dtype=float),
    })
    return out.dropna(subset=["longitude", "latitude"]).reset_index(drop=True)


def _incidents(ctx: StageContext) -> dict[str, Any]:
    """Incident tables (exact, claimants included: the owner's books) and their analyses."""
    from amurlink.incidents import (
        compensation_summary,
        incident_counts,
        parse_warning_levels,
        patrol_effort,
        prevalence,
        problem_animals,
        village_warnings,
        warnings_per_month,
    )

    tables = _read_incident_tables(ctx.study)
    analyses: dict[str, pd.DataFrame] = {}
    inc = tables.get("incidents")
    if inc is not None and len(inc):
        analyses["incidents_by_month"] = incident_counts(
            inc, by=("countryCode", "year", "month"))
        analyses["incidents_by_category"] = incident_counts(
            inc, by=("countryCode", "year", "category"))
        analyses["compensation"] = compensation_summary(inc)
    if "diseaseTests" in tables and len(tables["diseaseTests"]):
        analyses["prevalence"] = prevalence(tables["diseaseTests"])
    if "patrols" in tables and len(tables["patrols"]):
        findings = tables.get("patrolFindings", pd.DataFrame(
            {"findingID": [], "patrolID": [], "category": [], "count": []}))
        known = findings["patrolID"].isin(tables["patrols"]["patrolID"])
        analyses["patrol_effort"] = patrol_effort(tables["patrols"], findings.loc[known])
    joint = ctx.result("harmonise") or {}
    # the records the analyses use (sound, within the study period): a camera whose clock was
    # a year off must not raise a village warning in the wrong month
    dataset = joint.get("analysis", joint.get("dataset"))
    settle = _settlements_file(ctx.study)
    if dataset is not None and settle is not None:
        levels = parse_warning_levels(ctx.config.warnings.levels_km)
        det = _camera_detections(dataset)
        warn = village_warnings(det, read_settlements(settle), levels=levels,
                                crs=ctx.config.crs.working)
        analyses["warnings_by_month"] = warnings_per_month(warn)
    if dataset is not None and inc is not None and "individualID" in inc:
        from amurlink.identify.links import joint_identities

        links = dataset.get("identityLinks")
        if links is not None and len(links):
            ids = joint_identities(links, individuals=dataset.get("individuals"),
                                   two_party=ctx.config.links.two_party)
            analyses["problem_animals"] = problem_animals(inc, ids)
    return {"tables": tables, "analyses": analyses,
            "levels_km": [list(b) for b in ctx.config.warnings.levels_km]}


def _incidents_summary(value: dict[str, Any]) -> dict[str, Any]:
    inc = value["tables"].get("incidents")
    out: dict[str, Any] = {}
    if inc is not None:
        out["incidents"] = {str(k): int(v) for k, v in inc["countryCode"].value_counts()
                            .sort_index().items()}
    w = value["analyses"].get("warnings_by_month")
    if w is not None and len(w):
        col = "warnings" if "warnings" in w else w.columns[-1]
        out["warnings"] = int(w[col].sum())
    pa = value["analyses"].get("problem_animals")
    if pa is not None and "both" in pa:
        out["problem_animals_both_countries"] = int(pa["both"].astype(bool).sum())
    return out


# ==============================================================================================
# SECR models
# ==============================================================================================
def _model_task(item: tuple[str, str, Any, Any, tuple[str, ...]]) -> dict[str, Any]:
    from amurlink.analysis.secr import fit_models

    species, fit_name, ch, mask, models = item
    try:
        table = fit_models(ch, mask, list(models), detectfn="HHN")
    except Exception as exc:  # noqa: BLE001 - one fit failing leaves the others
        from amurlink.study._proc import describe

        return {"species": species, "fit": fit_name, "error": describe(exc)}
    return {"species": species, "fit": fit_name, "table": table}


def _camera_dna_task(item: tuple[str, Any, Any, Any, dict[str, Any]]) -> dict[str, Any]:
    """One species' camera + DNA tables (``fit_camera_dna_models``), fits named ``joint+DNA``,
    ``CN+DNA``..."""
    from amurlink.analysis.secr.national import fit_camera_dna_models
    from amurlink.study._proc import describe
    from amurlink.study.analyses import SECR_OCCASION_DAYS, SECR_SETTINGS

    species, dataset, border, dna, opts = item
    mask = SECR_SETTINGS.get(species, {"buffer": 20_000.0, "spacing": 2_500.0})
    try:
        res = fit_camera_dna_models(dataset, dna, border=border, species=species,
                                    models=list(SECR_MODELS), detectfn="HHN",
                                    buffer_m=mask["buffer"], spacing_m=mask["spacing"],
                                    occasion_days=SECR_OCCASION_DAYS, **opts)
    except Exception as exc:  # noqa: BLE001 - the camera-only tables stand
        return {"species": species, "error": describe(exc)}
    return {"species": species,
            "tables": {f"{k}+DNA": v for k, v in res.items() if k not in ("capthists",
                                                                          "masks")}}


def _camera_dna_items(ctx: StageContext, species: list[str]) -> tuple[list, list[str]]:
    """``[secr] dna = true``: the DNA assignments (lab files, confirmed links) and one task
    per species; or the reason there is none."""
    cfg = ctx.config
    if not cfg.secr.dna or not species:
        return [], []
    if not cfg.inputs.all_dna:
        return [], ["camera + DNA: [secr] dna = true but [inputs] names no DNA lab file"]
    from amurlink.analysis.secr.from_dataset import dna_assignments
    from amurlink.study._proc import describe
    from amurlink.study.stages import _analysis

    joint = ctx.result("harmonise")
    ds = _analysis(joint)
    try:
        refs = [ctx.study.path(p) for p in cfg.inputs.dna_reference]
        dna = dna_assignments([ctx.study.path(p) for p in cfg.inputs.all_dna],
                              reference=refs[0] if refs else None,
                              links=joint["dataset"].get("identityLinks"))
    except Exception as exc:  # noqa: BLE001 - the camera-only tables stand
        return [], [f"camera + DNA: {describe(exc)}"]
    opts = {"dna_spacing": cfg.secr.dna_spacing_m, "dna_occasions": cfg.secr.dna_occasions,
            "threshold_min": cfg.events.independence_minutes,
            "two_party": cfg.links.two_party}
    if cfg.secr.dna_search is not None:  # the DNA as the transect or polygon search it was
        from amurlink.analysis.secr.from_dataset import read_dna_search

        try:
            opts["dna_search"] = read_dna_search(ctx.study.path(cfg.secr.dna_search),
                                                 joint["border"])
        except Exception as exc:  # noqa: BLE001 - the camera-only tables stand
            return [], [f"camera + DNA: {describe(exc)}"]
        opts["dna_snap"] = cfg.secr.dna_snap_m
    return [(sp, ds, joint["border"], dna, opts) for sp in species], []


def _secr_models(ctx: StageContext) -> dict[str, Any]:
    from amurlink.report._sections import recapture_counts, too_few_recaptures

    fits = (ctx.result("secr") or {}).get("fits") or {}
    items = []
    for species, jn in fits.items():
        for name, ch in jn.capthists.items():
            if too_few_recaptures(recapture_counts(ch)):
                continue
            items.append((species, name, ch, jn.masks[name], SECR_MODELS))
    dna_items, errors = _camera_dna_items(ctx, list(fits))
    if ctx.client is not None and items:
        from amurlink.parallel import map_items

        outs = map_items(_model_task, items, client=ctx.client)
        dna_outs = (map_items(_camera_dna_task, dna_items, client=ctx.client) if dna_items
                    else [])
    else:
        outs = [_model_task(i) for i in items]
        dna_outs = [_camera_dna_task(i) for i in dna_items]
    tables: dict[str, dict[str, Any]] = {}
    for o in outs:
        if "table" in o:
            tables.setdefault(o["species"], {})[o["fit"]] = o["table"]
        else:
            errors.append(f"{o['species']} {o['fit']}: {o['error']}")
    for o in dna_outs:
        if "tables" in o:
            tables.setdefault(o["species"], {}).update(o["tables"])
        else:
            errors.append(f"{o['species']} camera + DNA: {o['error']}")
    files = density_surfaces(tables, ctx.study.out_dir / "secr_models", errors)
    return {"models": list(SECR_MODELS), "tables": tables, "errors": errors, "files": files}


def density_surfaces(tables: dict[str, dict[str, Any]], folder: Path,
                     errors: list[str]) -> list[str]:
    """Write each species' best joint model's density surface as a GeoTIFF.

    ``FOLDER/density_<Genus_species>.tif`` (bands D, se, lcl, ucl in animals per 100 km²,
    over the model's mask; no detection-probability band, which would show the detectors).
    Surfaces of species no longer fitted are removed, so the folder is this run's. A surface
    that cannot be written (an irregular mask) is named in ``errors``.
    """
    from amurlink.analysis.secr.surface import write_density_geotiff

    folder.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    for species, per in sorted(tables.items()):
        table = per.get("joint")
        if table is None:
            continue
        path = folder / f"density_{'_'.join(species.split())}.tif"
        try:
            written.append(str(write_density_geotiff(table.best_fit, path, per_100km2=True)))
        except ValueError as exc:
            errors.append(f"{species} density surface: {exc}")
    for old in folder.glob("density_*.tif"):
        if str(old) not in written:
            old.unlink()
    return written


def _secr_dna_files(study: Study) -> dict[str, Path]:
    """The DNA lab files, when ``[secr] dna`` makes the stage read them."""
    if not study.config.secr.dna:
        return {}
    from amurlink.study.stages import _dna_files

    files = _dna_files(study)
    if study.config.secr.dna_search is not None:  # the routes or areas searched
        files["secr_dna_search"] = study.path(study.config.secr.dna_search)
    return files


def _secr_models_summary(value: dict[str, Any]) -> dict[str, Any]:
    return {"best": {sp: {fit: t.best for fit, t in per.items()}
                     for sp, per in value["tables"].items()},
            "errors": value["errors"]}


# ==============================================================================================
# the demo's inputs
# ==============================================================================================
#: Covariates a simulated study with resistance movement gives its habitat model: forest
#: quality and being within 1 km of a road or village (the layers the true classes come from).
COVARIATE_LAYERS = ("forest", "near_people")


def write_theme_inputs(study: Any, folder: str | Path, *, incidents: bool = True,
                       corridors: bool = True) -> list[Path]:
    """Add incident books, settlements and the corridor inputs to a simulated study folder.

    ``incidents/<cc>/`` (the simulator's incident tables per country, claimants included:
    the owner's books) and ``landscape/settlements.csv`` (unless ``incidents`` is false).
    Unless ``corridors`` is false: for a study whose animals moved by resistance
    (``movement="resistance"``), the covariate rasters of :data:`COVARIATE_LAYERS` in
    ``landscape/covariates/`` (the corridors stage then estimates the resistance from the
    cameras; the true one is in ``truth/``); for any other study,
    ``landscape/resistance.tif`` (the true resistance of the corridor scenario on the same
    scenario's landscape, given to the stage as an expert surface). Each draws from its own
    child seed, and no file the study already holds is changed.
    """
    from amurlink.incidents.imports import write_incident_tables
    from amurlink.simulate._incidents import simulate_incidents

    root = Path(folder)
    written: list[Path] = []
    land = root / "landscape"
    if incidents:
        sim = simulate_incidents(study)
        for code, tables in sim.tables.items():
            written += write_incident_tables(tables, root / "incidents" / code.lower())
        land.mkdir(parents=True, exist_ok=True)
        s = land / "settlements.csv"
        sim.settlements[["settlementID", "name", "countryCode", "longitude",
                         "latitude"]].to_csv(s.with_suffix(".csv.tmp"), index=False)
        s.with_suffix(".csv.tmp").replace(s)
        written.append(s)
    if not corridors:
        return written
    land.mkdir(parents=True, exist_ok=True)
    from amurlink.landscape.grid import write_grid

    truth_r = getattr(study, "resistance", None)
    if truth_r is not None:
        # animals that moved by resistance: the covariates a habitat model sees, so the
        # corridors stage estimates resistance from the cameras (truth/ keeps the true one)
        cov = land / "covariates"
        cov.mkdir(parents=True, exist_ok=True)
        for name in COVARIATE_LAYERS:
            arr = truth_r.layers[name]
            vals = np.where(np.isfinite(arr), arr, truth_r.grid.nodata)
            written.append(write_grid(truth_r.grid.with_values(vals), cov / f"{name}.tif"))
        return written
    scenario = getattr(study, "scenario", None)
    name = getattr(scenario, "name", scenario) if scenario is not None else "small"
    try:
        from amurlink.simulate.corridors import simulate_corridors

        truth = simulate_corridors(int(study.seed), scenario=str(name), walkers=20,
                                   max_steps=200)
        vals = np.where(np.isfinite(truth.resistance), truth.resistance, truth.grid.nodata)
        written.append(write_grid(truth.grid.with_values(vals), land / "resistance.tif"))
    except Exception as exc:  # noqa: BLE001 - the corridors stage then says it has no raster
        logger.warning("no corridor resistance written: %s", exc)
    return written


# ==============================================================================================
# registration
# ==============================================================================================
def _stages() -> list[Stage]:
    from amurlink.landscape.stage import CORRIDOR_STAGE

    return [
        Stage("design", _design, what="proposing a joint camera layout for the theme study",
              applies=_design_applies, where="fork", summarise=_design_summary),
        CORRIDOR_STAGE,
        Stage("incidents", _incidents,
              what="incidents, village warnings, compensation, disease and patrols",
              needs=("harmonise",), links=True, files=_incident_files,
              applies=_incidents_applies, summarise=_incidents_summary),
        Stage("secr models", _secr_models,
              what="SECR model selection (AICc) per species, jointly and per country",
              needs=("secr", "harmonise"), links=True, heavy=True, files=_secr_dna_files,
              summarise=_secr_models_summary),
    ]


THEME_STAGES: tuple[Stage, ...] = tuple(_stages())
#: Report part -> the stage giving it.
THEME_PARTS: tuple[tuple[str, str], ...] = (("design", "design"), ("corridors", "corridors"),
                                            ("incidents", "incidents"),
                                            ("secr_models", "secr models"))

for _s in THEME_STAGES:
    register_stage(_s)
