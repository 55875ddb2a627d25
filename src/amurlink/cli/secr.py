"""``amurlink secr``: fit an SECR model to a joint package, or to detector and detection files.

``amurlink secr JOINT_DIR --species NAME [--detectfn HHN] [--buffer 12km] [--spacing 1km]``
fits the joint data and each country alone (``fit_joint_and_national``); ``amurlink secr
--traps F --captures F ...`` fits secr-format files."""

from __future__ import annotations

import enum
import warnings
from pathlib import Path
from typing import Any

import typer

from amurlink.cli import app
from amurlink.cli._common import (
    FORMAT_OPTION,
    OutputFormat,
    emit_json,
    handle_errors,
    usage_error,
)
from amurlink.exceptions import AmurlinkWarning

__all__ = ["secr_command", "fit_files", "fit_joint_dir", "parse_distance"]


class Detector(str, enum.Enum):  # noqa: UP042 - same style as cli._common.OutputFormat
    proximity = "proximity"
    count = "count"
    multi = "multi"
    single = "single"
    signal = "signal"
    polygon = "polygon"
    polygonX = "polygonX"  # noqa: N815 - secr's name
    transect = "transect"
    transectX = "transectX"  # noqa: N815 - secr's name


_FILE = {"exists": False, "dir_okay": False, "resolve_path": True}


def fit_files(
    traps: Path,
    captures: Path,
    *,
    detector: str,
    detectfn: str = "HN",
    mask: Path | list[Path] | None = None,
    spacing: float | None = None,
    buffer: float | None = None,
    n_occasions: int | None = None,
    conditional: bool = False,
    fastproximity: bool = True,
    models: list[str] | None = None,
    animals: Path | None = None,
    hcov: str | None = None,
    link: dict[str, str] | None = None,
    distribution: str = "poisson",
    rasters: dict[str, Path] | None = None,
    timecov: Path | None = None,
    occasion_detectors: list[str] | None = None,
    snap: float = 0.0,
    linked_method: tuple[Path, Path, str] | None = None,
    cutval: float | None = None,
) -> tuple[dict[str, Any], Any]:
    """Read the files, fit, and return the JSON payload of the ``secr`` command and the results.

    The mask is read from ``mask`` (one file, or one per session in the order of the sessions
    of the detector file; spacing from ``spacing`` or the grid), or built around the detectors
    with ``buffer`` (default 100 m, secr's default) and ``spacing`` (default 64 cells across).
    ``models``: formulas such as ``"D~forest"`` or ``"D~forest+country; lambda0~bk"``. One
    model (or none: all ``~1``) gives that fit's results; several give the AICc table with
    weights (``model_table``), the model-averaged real parameters (``model_averaged``) and the
    best model's full results.

    ``linked_method`` (detector file, detections file, detector type): a second method of
    the same animals (e.g. DNA along routes), fitted with the first as linked methods
    (:mod:`amurlink.analysis.secr.linked`): one density, a detection intercept per method
    (``session`` added to the intercept's formula), the mask around both.
    """
    from amurlink.analysis.secr import fit_secr, make_mask, read_capthist, read_mask
    from amurlink.analysis.secr.selection import fit_models, parse_models, with_detection_term

    ch = read_capthist(traps, captures, detector=detector, n_occasions=n_occasions,
                       animals=animals, snap=snap, cutval=cutval)
    if linked_method is not None:
        import dataclasses

        ltraps, lcaps, ldet = linked_method
        other = read_capthist(ltraps, lcaps, detector=ldet, snap=snap)
        if isinstance(ch, list) or isinstance(other, list):
            raise usage_error("--link-traps/--link-captures: each method must be one session")
        names = (detector, ldet) if detector != ldet else ("method1", "method2")
        ch = [dataclasses.replace(ch, session=names[0]),
              dataclasses.replace(other, session=names[1])]
    sessions = ch if isinstance(ch, list) else [ch]
    if occasion_detectors:
        import dataclasses

        S = {c.counts.shape[1] for c in sessions}
        if len(S) != 1 or len(occasion_detectors) != S.pop():
            raise usage_error(f"--occasion-detectors gives {len(occasion_detectors)} types; "
                              "give one per occasion (same for every session)")
        sessions = [dataclasses.replace(c, occasion_detectors=tuple(occasion_detectors))
                    for c in sessions]
        ch = sessions if isinstance(ch, list) else sessions[0]
    tc = None
    if timecov is not None:
        import pandas as pd

        try:
            tc = pd.read_csv(timecov)
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            from amurlink.exceptions import DataError

            raise DataError(f"{timecov}: cannot read the time covariates ({exc})") from None
    masks = [mask] if isinstance(mask, Path) else list(mask or [])
    if masks and linked_method is not None and len(masks) != 1:
        raise usage_error("linked methods share one population: give one --mask")
    if masks:
        if len(masks) not in (1, len(sessions)):
            raise usage_error(f"give one --mask, or one per session ({len(sessions)}: "
                              f"{', '.join(c.session for c in sessions)}), not {len(masks)}")
        ms = [read_mask(p, spacing=spacing) for p in masks]
        m: Any = ms[0] if len(ms) == 1 else ms
    elif linked_method is not None:  # one mask around both methods' detectors
        m = make_mask(sessions, buffer=100.0 if buffer is None else buffer, spacing=spacing)
    elif sessions[0].geometry is not None:  # area and line detectors: around their shapes
        ms = [make_mask(c, buffer=100.0 if buffer is None else buffer, spacing=spacing)
              for c in sessions]
        m = ms[0] if len(ms) == 1 else ms
    else:
        import numpy as np

        xy = np.vstack([c.traps for c in sessions])
        m = make_mask(xy, buffer=100.0 if buffer is None else buffer, spacing=spacing)
    if rasters:
        from amurlink.analysis.secr.surface import add_raster_covariates

        m = ([add_raster_covariates(x, rasters) for x in m] if isinstance(m, list)
             else add_raster_covariates(m, rasters))
    kw = {"detectfn": detectfn, "conditional": conditional, "fastproximity": fastproximity,
          "hcov": hcov, "link": link or None, "distribution": distribution, "timecov": tc}
    specs = list(models or [])
    try:
        parsed = [parse_models(sp) for sp in specs]
        if linked_method is not None:
            kw["linked"] = True
            parsed = [with_detection_term(p, "session", detectfn) for p in parsed or [{}]]
    except ValueError as exc:
        raise usage_error(str(exc)) from None
    table = None
    if len(parsed) > 1:
        table = fit_models(ch, m, parsed, **kw)
        res = table.best_fit
    else:
        res = fit_secr(ch, m, model=parsed[0] if parsed else None, **kw)
    out = res.to_dict()
    out["detector"] = detector
    if cutval is not None:  # signal detectors: the threshold the fit assumed
        out["cutval"] = float(cutval)
    if linked_method is not None:
        out["detector"] = f"{detector}+{linked_method[2]}"
        out["methods"] = [c.session for c in sessions]
    first = m[0] if isinstance(m, list) else m
    out["mask"] = {"points": sum(x.n_points for x in m) if isinstance(m, list) else m.n_points,
                   "spacing_m": first.spacing, "cell_area_ha": first.cell_area_ha,
                   "area_ha": (sum(x.area_ha for x in m) if isinstance(m, list)
                               else m.area_ha)}
    out["units"] = {"D": "animals per hectare", "D_per_100km2": "animals per 100 km2",
                    "sigma": "metres"}
    if table is not None:
        tdict = table.to_dict()
        out["model"] = table.best
        out["model_table"] = tdict["table"]
        out["model_averaged"] = tdict["model_averaged"]
        out["model_errors"] = tdict["errors"]
    return out, (res if table is None else table)


_DETECTFN_CODES = {"HN": 0, "HR": 1, "EX": 2, "HHN": 14, "HHR": 15, "HEX": 16, "HVP": 19,
                   "CHN": 3, "ANN": 6, "HAN": 17, "UN": 4, "WEX": 5, "CLN": 7, "CG": 8,
                   "HCG": 18, "HPX": 20, "BSS": 9, "SS": 10, "SSS": 11}
_DETECTFN_ALIASES = {"halfnormal", "exponential", "hazard halfnormal", "hazard exponential",
                     "hazardhalfnormal", "hazardexponential", "hazard rate", "hazardrate",
                     "hazard hazard rate", "hazard variable power", "compound halfnormal",
                     "annular normal", "hazard annular normal", "uniform", "w exponential",
                     "cumulative lognormal", "cumulative gamma", "hazard cumulative gamma",
                     "hazard pixelar", "binary signal strength", "signal strength",
                     "signal strength spherical"}


def _known_detectfn(value: str) -> bool:
    """Whether ``value`` names a detection function of amurlink.analysis.secr.detectfn."""
    v = str(value).strip()
    return (v.upper() in _DETECTFN_CODES or v.lower() in _DETECTFN_ALIASES
            or (v.isdigit() and int(v) in _DETECTFN_CODES.values()))


def _parse_rasters(values: list[str] | None) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for v in values or []:
        name, sep, path = str(v).partition("=")
        if not sep or not name.strip() or not path.strip():
            raise usage_error(f"--covariate {v!r}: write NAME=FILE.tif, e.g. "
                              "--covariate forest=forest.tif")
        p = Path(path.strip())
        if not p.is_file():
            raise usage_error(f"--covariate {name.strip()}: raster {p} not found")
        out[name.strip()] = p
    return out


def _parse_links(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values or []:
        par, sep, lk = str(v).partition("=")
        if not sep or not par.strip() or lk.strip() not in ("log", "logit", "identity",
                                                             "neglog"):
            raise usage_error(f"--link {v!r}: write PARAM=LINK with LINK log, logit, "
                              "identity or neglog, e.g. --link D=identity")
        out[par.strip()] = lk.strip()
    return out


def parse_distance(value: str | float | None, *, name: str) -> float | None:
    """``"12km"``, ``"1500m"``, ``"1500"`` -> metres (a bare number is metres)."""
    if value is None:
        return None
    if isinstance(value, int | float):
        out = float(value)
    else:
        text = str(value).strip().lower().replace(" ", "")
        factor = 1.0
        if text.endswith("km"):
            factor, text = 1000.0, text[:-2]
        elif text.endswith("m"):
            text = text[:-1]
        try:
            out = float(text) * factor
        except ValueError:
            raise usage_error(f"{name} {value!r}: give a distance such as 12km, 800m or 1500 "
                              "(metres)") from None
    if not out > 0 or out == float("inf"):
        raise usage_error(f"{name} must be a positive distance, got {value!r}")
    return out


def fit_joint_dir(
    joint_dir: Path,
    *,
    species: str,
    detectfn: str = "HHN",
    buffer: float = 12_000.0,
    spacing: float = 1_000.0,
    occasion_days: float | None = None,
    life_stage: str | None = "adult",
    border: Path | None = None,
    config: Path | None = None,
    detector: str = "count",
    models: list[str] | None = None,
    rasters: dict[str, Path] | None = None,
    dna: list[Path] | None = None,
    dna_reference: Path | None = None,
    dna_assignments: Path | None = None,
    dna_spacing: float = 2000.0,
    dna_occasions: int = 1,
    dna_search: Path | None = None,
    dna_snap: float = 100.0,
) -> tuple[dict[str, Any], Any]:
    """Read a joint package (with its ``amurlink.toml`` and border), fit the joint data and
    each country alone; return the JSON payload and the ``JointNationalResult``.

    With ``dna`` (the labs' genotype files, matched as ``amurlink run`` does, sample links
    from the package's confirmed identity links) or ``dna_assignments`` (a CSV ``sampleID,
    individualID, x, y`` or ``latitude, longitude``, ``collectionDate``), camera and DNA of
    the same animals are fitted in one model (:func:`fit_camera_dna_models`: the models with
    ``lambda0~dettype``) and the payload is :func:`_dna_payload`'s.

    The payload is the joint fit's ``SECRResults.to_dict()`` (``estimates``: ``D`` in
    animals per hectare, ``g0``/``lambda0``, ``sigma`` in metres, each with ``estimate, se,
    lcl, ucl``; ``loglik``, ``aic``, ``region_N``) plus ``national`` (the same per country),
    ``comparison`` (per-country E.N from the joint and the national fits, and the national
    sum against the joint), ``capture_history``, ``mask`` and ``settings``. ``models``: with
    several, the joint data's AICc table (``model_table``, ``model_averaged``) and the joint
    and national fits of the best model; masks carry ``country`` and the ``rasters``.
    """
    from amurlink.analysis.secr.national import fit_joint_and_national
    from amurlink.cli.crossborder import _find_config
    from amurlink.config import StudyConfig, load_config
    from amurlink.core.border import load_border
    from amurlink.io import read_camtrap_dp

    cfg_path = _find_config(joint_dir, config)
    cfg = load_config(cfg_path) if cfg_path is not None else StudyConfig()
    border_path = border or cfg.border.file
    if border_path is None:
        raise usage_error(
            f"no border file: pass --border FILE or set [border] file in an amurlink.toml "
            f"in {joint_dir} or its parent folder (or pass --config)")
    b = load_border(border_path, crs=cfg.crs.working)
    ds = read_camtrap_dp(joint_dir, strict=False)
    occ = float(cfg.occasions.length_days if occasion_days is None else occasion_days)
    from amurlink.analysis.secr.selection import fit_models, model_label, parse_models

    try:
        parsed = [parse_models(m) for m in (models or [])]
    except ValueError as exc:
        raise usage_error(str(exc)) from None
    if dna or dna_assignments is not None:
        return _fit_dna(ds, b, cfg, species=species, detectfn=detectfn, buffer=buffer,
                        spacing=spacing, occasion_days=occ, life_stage=life_stage,
                        detector=detector, models=parsed or [{}], rasters=rasters, dna=dna,
                        dna_reference=dna_reference, dna_assignments=dna_assignments,
                        dna_spacing=dna_spacing, dna_occasions=dna_occasions,
                        dna_search=dna_search, dna_snap=dna_snap)

    def run(model: dict | None, fast: bool = True):
        opts = ({"model": model} if model else {}) | ({} if fast else {"fastproximity": False})
        return fit_joint_and_national(
            ds, border=b, species=species, detectfn=detectfn, buffer_m=buffer,
            spacing_m=spacing, occasion_days=occ, life_stage=life_stage, detector=detector,
            threshold_min=cfg.events.independence_minutes, fit_options=opts or None,
            rasters=rasters)

    res = run(parsed[0] if parsed else None)
    table = None
    if len(parsed) > 1:
        table = fit_models(res.capthists["joint"], res.masks["joint"], parsed,
                           detectfn=detectfn)
        if model_label(res.joint) != table.best or not table.fastproximity:
            # the best model as the table fitted it (uncollapsed when the list mixed kinds)
            res = run(dict(table.best_fit.settings["model"]), table.fastproximity)
    out = res.joint.to_dict()
    if table is not None:
        tdict = table.to_dict()
        out["model"] = table.best
        out["model_table"] = tdict["table"]
        out["model_averaged"] = tdict["model_averaged"]
        out["model_errors"] = tdict["errors"]
    out["species"] = species
    out["detector"] = detector
    ch = res.capthists["joint"]
    out["capture_history"] = {"animals": int(ch.counts.shape[0]),
                              "occasions": int(ch.counts.shape[1]),
                              "detectors": int(ch.counts.shape[2]),
                              "detections": int(ch.counts.sum())}
    m = res.masks["joint"]
    out["mask"] = {"points": m.n_points, "spacing_m": m.spacing, "cell_area_ha": m.cell_area_ha,
                   "area_ha": m.area_ha, "buffer_m": buffer}
    out["national"] = {c: r.to_dict() for c, r in res.national.items()}
    out["comparison"] = res.table().to_dict(orient="records")
    out["settings"] = dict(res.settings)
    out["units"] = {"D": "animals per hectare", "sigma": "metres"}
    return out, res


def _write_surfaces(fit: Any, density: Path | None, friction: Path | None) -> list[str]:
    """Write the fit's density and friction GeoTIFFs (one per session); their paths.

    Raises DataError when the model has no noneuc or the mask is not a regular grid."""
    from amurlink.analysis.secr.surface import write_density_geotiff, write_friction_geotiff
    from amurlink.exceptions import DataError

    if density is None and friction is None:
        return []
    if isinstance(fit, dict) and "camera_dna" in fit:  # camera + DNA: the best joint model
        fit = fit["camera_dna"]["joint"].best_fit
    sessions = fit.sessions
    out: list[str] = []
    for path, write, kw in ((density, write_density_geotiff, {"per_100km2": True}),
                            (friction, write_friction_geotiff, {})):
        if path is None:
            continue
        for j, name in enumerate(sessions):
            target = (path if len(sessions) == 1
                      else path.with_name(f"{path.stem}_{name}{path.suffix}"))
            try:
                out.append(str(write(fit, target, session=j, **kw)))
            except ValueError as exc:
                raise DataError(f"{path}: {exc}") from None
    return out


def _read_dna_assignments(path: Path) -> Any:
    import pandas as pd

    from amurlink.exceptions import DataError

    try:
        return pd.read_csv(path, dtype={"sampleID": str, "individualID": str})
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"{path}: cannot read the DNA assignments ({exc})") from None


def _fit_dna(ds: Any, border: Any, cfg: Any, *, species: str, detectfn: str, buffer: float,
             spacing: float, occasion_days: float, life_stage: str | None, detector: str,
             models: list, rasters: dict[str, Path] | None, dna: list[Path] | None,
             dna_reference: Path | None, dna_assignments: Path | None, dna_spacing: float,
             dna_occasions: int, dna_search: Path | None = None,
             dna_snap: float = 100.0) -> tuple[dict[str, Any], Any]:
    """Camera + DNA models of a joint package: the payload and the tables (with
    ``dna_search``, a GeoJSON of the routes or areas searched, as linked methods)."""
    from amurlink.analysis.secr.from_dataset import dna_assignments as assign
    from amurlink.analysis.secr.from_dataset import read_dna_search
    from amurlink.analysis.secr.national import fit_camera_dna_models

    if dna_assignments is not None:
        table = _read_dna_assignments(dna_assignments)
    else:
        table = assign(list(dna or []), reference=dna_reference,
                       links=ds.get("identityLinks"))
    shapes = read_dna_search(dna_search, border) if dna_search is not None else None
    res = fit_camera_dna_models(
        ds, table, border=border, species=species, models=models, detectfn=detectfn,
        buffer_m=buffer, spacing_m=spacing, occasion_days=occasion_days,
        life_stage=life_stage, detector=detector,
        threshold_min=cfg.events.independence_minutes, dna_spacing=dna_spacing,
        dna_occasions=dna_occasions, rasters=rasters, dna_search=shapes, dna_snap=dna_snap)
    joint = res["joint"]
    out = joint.best_fit.to_dict()
    out["model"] = joint.best
    tdict = joint.to_dict()
    out["model_table"] = tdict["table"]
    out["model_averaged"] = tdict["model_averaged"]
    out["model_errors"] = tdict["errors"]
    out["species"] = species
    out["detector"] = detector
    out["methods"] = ["camera", "dna"]
    ch = res["capthists"]["joint"]
    if isinstance(ch, list):  # linked methods: [camera, dna search]
        cam_ch, dna_ch = ch
        out["capture_history"] = {
            "animals": len(set(cam_ch.animal_ids) | set(dna_ch.animal_ids)),
            "animals_camera": cam_ch.n, "animals_dna": dna_ch.n,
            "occasions_camera": cam_ch.n_occasions, "occasions_dna": dna_ch.n_occasions,
            "detectors_camera": cam_ch.n_detectors, "detectors_dna": dna_ch.n_detectors,
            "detections": cam_ch.n_detections + dna_ch.n_detections,
            "dna_detector": dna_ch.detector}
    else:
        cam = [d == detector for d in ch.occasion_detectors]
        n_cam = int(ch.counts[:, cam].reshape(ch.n, -1).sum(1).astype(bool).sum())
        n_dna = int(ch.counts[:, [not c for c in cam]].reshape(ch.n, -1).sum(1).astype(bool)
                    .sum())
        out["capture_history"] = {
            "animals": int(ch.n), "animals_camera": n_cam, "animals_dna": n_dna,
            "occasions_camera": int(sum(cam)), "occasions_dna": int(len(cam) - sum(cam)),
            "detectors_camera": int((ch.trap_covariates["method"] == "camera").sum()),
            "detectors_dna": int((ch.trap_covariates["method"] == "dna").sum()),
            "detections": int(ch.counts.sum())}
    m = res["masks"]["joint"]
    out["mask"] = {"points": m.n_points, "spacing_m": m.spacing, "cell_area_ha": m.cell_area_ha,
                   "area_ha": m.area_ha, "buffer_m": buffer}
    out["dna"] = {"samples": len(table),
                  "individuals": int(table["dnaIndividual"].nunique()
                                     if "dnaIndividual" in table else
                                     table["individualID"].nunique()),
                  "dna_occasions": dna_occasions,
                  **({"search": str(dna_search), "snap_m": dna_snap} if dna_search
                     else {"dna_spacing_m": dna_spacing})}
    out["national"] = {c: {**t.best_fit.to_dict(), "model": t.best,
                           "model_table": t.to_dict()["table"]}
                       for c, t in res.items() if c not in ("joint", "capthists", "masks")}
    out["units"] = {"D": "animals per hectare", "D_per_100km2": "animals per 100 km2",
                    "sigma": "metres"}
    return out, {"camera_dna": res, "species": species}


def _text(payload: dict[str, Any], res: Any) -> str:
    if isinstance(res, dict) and "camera_dna" in res:
        import pandas as pd

        cols = ["model", "npar", "logLik", "AICc", "dAICc", "AICcwt"]
        parts = []
        for key, t in res["camera_dna"].items():
            if key in ("capthists", "masks"):
                continue
            name = "joint data" if key == "joint" else f"{key} alone"
            with pd.option_context("display.width", 200, "display.max_columns", 20):
                parts += [f"{res['species']}, camera + DNA, {name} (AICc):",
                          t.table[cols].to_string(index=False,
                                                  float_format=lambda v: f"{v:.4f}"),
                          f"Best model: {t.best}", t.best_fit.summary().to_text()]
        return "\n\n".join(parts)
    if hasattr(res, "table") and hasattr(res, "fits"):  # ModelTable
        import pandas as pd

        cols = ["model", "npar", "logLik", "AIC", "AICc", "dAICc", "AICcwt"]
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            parts = ["Model selection (AICc; weights 0 beyond dAICc 10, as secr):",
                     res.table[cols].to_string(index=False,
                                               float_format=lambda v: f"{v:.4f}")]
            if res.averaged is not None:
                av = res.averaged.drop(columns=["x", "y"], errors="ignore")
                parts += ["Model-averaged real parameters (D in animals/ha):",
                          av.to_string(index=False, float_format=lambda v: f"{v:.6g}")]
        for k, v in res.errors.items():
            parts.append(f"not fitted: {k}: {v}")
        parts += [f"Best model: {res.best}", res.best_fit.summary().to_text()]
        return "\n\n".join(parts)
    if hasattr(res, "national"):
        import pandas as pd

        parts = [f"{payload['species']}: joint data", res.joint.summary().to_text()]
        for c, r in res.national.items():
            parts += [f"{payload['species']}: {c} alone", r.summary().to_text()]
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            cols = ["region", "joint_N", "joint_se", "national_N", "national_se", "ratio"]
            parts += ["Animals per country (E.N): joint fit against each country alone",
                      res.table()[cols].round(2).to_string(index=False)]
        return "\n\n".join(parts)
    return res.summary().to_text()


_JOINT_ARG = typer.Argument(None, help="Joint Camtrap DP package (amurlink harmonise output); "
                            "or give --traps and --captures.", show_default=False)
_TRAPS_OPT = typer.Option(None, "--traps", help="Detector file: CSV trap_id,x,y[,occ1..] "
                               "or secr text 'trapID x y [usage]'.", **_FILE)
_CAPTURES_OPT = typer.Option(None, "--captures", help="Detections: CSV session,animal_id,"
                                  "occasion,trap_id or secr text 'Session ID Occasion Detector'.",
                                  **_FILE)
_MASK_OPT = typer.Option(None, "--mask", help="Mask points (x,y[,covariates]); repeat "
                         "for one mask per session (in session order). Default: a buffer "
                         "around the detectors.", **_FILE)
_SPACING_OPT = typer.Option(None, "--spacing", help="Mask spacing (12km, 800m; a bare "
                            "number is metres). Default: JOINT_DIR 1km; files: from the mask "
                            "grid, or 64 cells.")
_BUFFER_OPT = typer.Option(None, "--buffer", help="Mask buffer when no --mask is given "
                           "(12km, 800m; a bare number is metres). Default: JOINT_DIR 12km; "
                           "files 100 m.")
_DETECTOR_OPT = typer.Option(None, "--detector", help="Detector type (files: required; "
                             "polygon, polygonX, transect, transectX: searched areas and "
                             "routes, detector file trap_id,x,y per vertex or trap_id,wkt, "
                             "detections with x,y; signal: detections with a signal column, "
                             "with --cutval; JOINT_DIR: count, or proximity).")
_DETECTFN_OPT = typer.Option(None, "--detectfn", help="Detection function: secr's name or "
                             "code, e.g. HN, HHN, EX, HEX, HHR, HCG, SS (default: HHN for "
                             "JOINT_DIR and area/line detectors, SS for signal detectors, "
                             "HN for other files).")
_SPECIES_OPT = typer.Option(None, "--species", help="JOINT_DIR: scientific name, e.g. "
                            "'Panthera pardus'.")
_OCCASION_OPT = typer.Option(None, "--occasion-days", min=0.0, help="JOINT_DIR: occasion "
                             "length in days (default: occasions.length_days of "
                             "amurlink.toml, else 1).")
_STAGE_OPT = typer.Option("adult", "--life-stage", help="JOINT_DIR: adult, subadult, "
                          "juvenile or all.")
_JBORDER_OPT = typer.Option(None, "--border", help="JOINT_DIR: border.geojson (default: "
                            "from amurlink.toml).", **_FILE)
_CONFIG_OPT = typer.Option(None, "--config", help="JOINT_DIR: amurlink.toml (default: in "
                           "JOINT_DIR or its parent).", **_FILE)
_NOCCASIONS_OPT = typer.Option(None, "--noccasions", min=1, help="Number of "
                                          "occasions (default: usage columns, else the last "
                                          "occasion with a detection).")
_CL_OPT = typer.Option(False, "--cl", help="Conditional likelihood.")
_MODEL_OPT = typer.Option(None, "--model", help="Model formulas, e.g. 'D~forest', "
                          "'D~forest+country; lambda0~bk', 'sigma~h2', 'noneuc~res-1'. "
                          "Repeat for several models: AICc table, weights and "
                          "model-averaged density.")
_COVARIATE_OPT = typer.Option(None, "--covariate", help="Mask covariate from a raster, "
                              "NAME=FILE.tif (sampled at the mask points); repeatable, e.g. "
                              "--covariate forest=forest.tif for --model 'D~forest'.")
_TIMECOV_OPT = typer.Option(None, "--timecov", help="Time covariates: CSV with one row per "
                            "occasion (e.g. effort) for models such as 'lambda0~effort'.",
                            **_FILE)
_LINK_TRAPS_OPT = typer.Option(None, "--link-traps", help="A second method of the same "
                               "animals (e.g. DNA routes): its detector file; with "
                               "--link-captures and --link-detector. Both methods are fitted "
                               "as linked methods: one density, lambda0 per method.", **_FILE)
_LINK_CAPS_OPT = typer.Option(None, "--link-captures", help="The second method's detections "
                              "(animals labelled as in --captures).", **_FILE)
_LINK_DET_OPT = typer.Option(None, "--link-detector", help="The second method's detector "
                             "type (e.g. transect).")
_SNAP_OPT = typer.Option(None, "--snap", help="Area and line detectors: move detection "
                         "locations up to this far from their detector onto it (GPS "
                         "positions beside a route), e.g. 25m; default 0 (on the detector).")
_OCCDET_OPT = typer.Option(None, "--occasion-detectors", help="Detector type per occasion, "
                           "comma-separated (count,count,...,proximity; also multi): "
                           "camera, DNA (and live-trap) occasions in one model; use with "
                           "--detector count and 'lambda0~dettype' for separate detection.")
_DNA_OPT = typer.Option(None, "--dna", help="JOINT_DIR: a lab's DNA genotype file "
                       "(repeat per lab; matched as amurlink run does, samples linked to "
                       "animals by the package's confirmed links): camera and DNA of the same "
                       "animals in one model (lambda0~dettype).", **_FILE)
_DNA_REF_OPT = typer.Option(None, "--dna-reference", help="JOINT_DIR: reference samples "
                            "typed by every lab (referenceID,sampleID), with --dna.", **_FILE)
_DNA_ASSIGN_OPT = typer.Option(None, "--dna-assignments", help="JOINT_DIR: DNA samples "
                               "already assigned: CSV sampleID,individualID,x,y (or latitude,"
                               "longitude),collectionDate; instead of --dna.", **_FILE)
_DNA_SPACING_OPT = typer.Option(None, "--dna-spacing", help="JOINT_DIR with DNA: spacing of "
                                "the proximity grid standing for the searched area (default "
                                "2km).")
_DNA_SEARCH_OPT = typer.Option(None, "--dna-search", help="JOINT_DIR with DNA: the routes "
                               "walked or areas searched (GeoJSON in longitude/latitude, one "
                               "feature each): the DNA as a transect or polygon search, fitted "
                               "with the cameras as linked methods instead of the proximity "
                               "grid; --snap is the tolerance for samples beside a route "
                               "(default 100m).", **_FILE)
_DNA_OCC_OPT = typer.Option(1, "--dna-occasions", min=1, help="JOINT_DIR with DNA: DNA "
                            "search occasions (equal time bins).")
_ANIMALS_OPT = typer.Option(None, "--animals", help="Individual covariates: CSV "
                            "[session,]animal_id,covariates (e.g. sex for --hcov).", **_FILE)
_HCOV_OPT = typer.Option(None, "--hcov", help="Individual covariate with the known class "
                         "of a 2-class mixture (e.g. sex).")
_LINK_OPT = typer.Option(None, "--link", help="Link of a parameter, PARAM=LINK "
                         "(log, logit, identity); repeatable, e.g. --link D=identity.")
_DIST_OPT = typer.Option("poisson", "--distribution", help="Distribution of N in the "
                         "mask: poisson or binomial.")
_DENSITY_TIF_OPT = typer.Option(None, "--density-tif", help="Write the density surface of "
                                "the fitted (or best) model as a GeoTIFF: bands D, se, lcl, ucl "
                                "in animals per 100 km² (one file per session: _SESSION is "
                                "added to the name when there are several).")
_FRICTION_TIF_OPT = typer.Option(None, "--friction-tif", help="With a noneuc model (e.g. "
                                 "--model 'noneuc~res-1'): write its fitted friction surface "
                                 "as a GeoTIFF, a resistance surface estimated from the "
                                 "detections (e.g. landscape/resistance.tif for the corridors "
                                 "stage).")
_CUTVAL_OPT = typer.Option(None, "--cutval", help="Signal detectors (--detector signal, "
                           "detections with a signal column): the detection threshold of "
                           "the signal, e.g. 52.5 (dB).")
_FASTPROXIMITY_OPT = typer.Option(True, "--fastproximity/--no-fastproximity",
                                       help="Collapse proximity/count data over occasions "
                                       "(secr's default).")


@app.command("secr")
def secr_command(
    joint_dir: Path | None = _JOINT_ARG,
    species: str | None = _SPECIES_OPT,
    traps: Path | None = _TRAPS_OPT,
    captures: Path | None = _CAPTURES_OPT,
    mask: list[Path] | None = _MASK_OPT,
    spacing: str | None = _SPACING_OPT,
    buffer: str | None = _BUFFER_OPT,
    detector: Detector | None = _DETECTOR_OPT,
    detectfn: str | None = _DETECTFN_OPT,
    occasion_days: float | None = _OCCASION_OPT,
    life_stage: str = _STAGE_OPT,
    border: Path | None = _JBORDER_OPT,
    config: Path | None = _CONFIG_OPT,
    noccasions: int | None = _NOCCASIONS_OPT,
    cl: bool = _CL_OPT,
    fastproximity: bool = _FASTPROXIMITY_OPT,
    model: list[str] | None = _MODEL_OPT,
    animals: Path | None = _ANIMALS_OPT,
    hcov: str | None = _HCOV_OPT,
    link: list[str] | None = _LINK_OPT,
    distribution: str = _DIST_OPT,
    covariate: list[str] | None = _COVARIATE_OPT,
    timecov: Path | None = _TIMECOV_OPT,
    occasion_detectors: str | None = _OCCDET_OPT,
    snap: str | None = _SNAP_OPT,
    cutval: float | None = _CUTVAL_OPT,
    link_traps: Path | None = _LINK_TRAPS_OPT,
    link_captures: Path | None = _LINK_CAPS_OPT,
    link_detector: Detector | None = _LINK_DET_OPT,
    dna: list[Path] | None = _DNA_OPT,
    dna_reference: Path | None = _DNA_REF_OPT,
    dna_assignments: Path | None = _DNA_ASSIGN_OPT,
    dna_spacing: str | None = _DNA_SPACING_OPT,
    dna_occasions: int = _DNA_OCC_OPT,
    dna_search: Path | None = _DNA_SEARCH_OPT,
    density_tif: Path | None = _DENSITY_TIF_OPT,
    friction_tif: Path | None = _FRICTION_TIF_OPT,
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Fit an SECR model (secr 5.5.0 likelihood) to a joint package or to secr files.

    JOINT_DIR: the joint data and each country alone, per-country abundance side by side.
    """
    if detectfn is None:  # secr: area and line detectors need a hazard function
        area = any(d is not None and d.value.startswith(("polygon", "transect"))
                   for d in (detector, link_detector))
        signal = detector is not None and detector.value == "signal"
        detectfn = ("HHN" if joint_dir is not None or area else "SS" if signal else "HN")
    if not _known_detectfn(detectfn):
        # checked without importing numpy (the start-up of the command stays small)
        raise usage_error(f"unknown detection function {detectfn!r}; expected one of "
                          + ", ".join(f"{k} ({v})" for k, v in _DETECTFN_CODES.items()))
    buffer_m = parse_distance(buffer, name="--buffer")
    spacing_m = parse_distance(spacing, name="--spacing")
    links = _parse_links(link)
    rasters = _parse_rasters(covariate)
    if distribution not in ("poisson", "binomial"):
        raise usage_error(f"--distribution must be poisson or binomial, got {distribution!r}")
    dna_spacing_m = parse_distance(dna_spacing, name="--dna-spacing")
    with_dna = bool(dna) or dna_assignments is not None
    if joint_dir is None and (with_dna or dna_reference is not None or dna_spacing
                              or dna_occasions != 1):
        raise usage_error("--dna, --dna-reference, --dna-assignments, --dna-spacing and "
                          "--dna-occasions go with JOINT_DIR (files: --occasion-detectors)")
    if dna and dna_assignments is not None:
        raise usage_error("give either --dna (lab files) or --dna-assignments, not both")
    if not with_dna and (dna_reference is not None or dna_spacing or dna_occasions != 1
                         or dna_search is not None):
        raise usage_error("--dna-reference, --dna-spacing, --dna-occasions and --dna-search "
                          "need --dna or --dna-assignments")
    if dna_search is not None and dna_spacing:
        raise usage_error("--dna-spacing is the proximity grid's; with --dna-search the "
                          "routes or areas searched stand for themselves")
    for label, path in (*(("--dna", p) for p in (dna or [])),
                        ("--dna-reference", dna_reference),
                        ("--dna-assignments", dna_assignments),
                        ("--dna-search", dna_search)):
        if path is not None and not path.is_file():
            raise usage_error(f"{label} {path}: file not found")
    if joint_dir is not None:
        if (animals is not None or hcov or links or distribution != "poisson"
                or timecov is not None or occasion_detectors or cutval is not None
                or any(x is not None for x in (link_traps, link_captures, link_detector))):
            raise usage_error("--animals, --hcov, --link, --distribution, --timecov, "
                              "--occasion-detectors, --cutval and --link-traps/"
                              "--link-captures/--link-detector go with --traps/--captures")
        if snap is not None and dna_search is None:
            raise usage_error("with JOINT_DIR, --snap is the tolerance of --dna-search")
        if traps is not None or captures is not None or mask:
            raise usage_error("give either JOINT_DIR or --traps/--captures, not both")
        if not species:
            raise usage_error("JOINT_DIR needs --species, e.g. --species 'Panthera pardus'")
        if not joint_dir.is_dir():
            raise usage_error(f"JOINT_DIR {joint_dir}: folder not found")
        det = "count" if detector is None else detector.value
        if det not in ("count", "proximity"):
            raise usage_error("camera data are fitted with --detector count or proximity")
        stages = ("adult", "subadult", "juvenile", "all")
        if life_stage not in stages:
            raise usage_error(f"--life-stage must be one of {', '.join(stages)}")
        with handle_errors():
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", AmurlinkWarning)
                payload, res = fit_joint_dir(
                    joint_dir, species=species, detectfn=detectfn,
                    buffer=12_000.0 if buffer_m is None else buffer_m,
                    spacing=1_000.0 if spacing_m is None else spacing_m,
                    occasion_days=occasion_days,
                    life_stage=None if life_stage == "all" else life_stage,
                    border=border, config=config, detector=det, models=model,
                    rasters=rasters, dna=dna, dna_reference=dna_reference,
                    dna_assignments=dna_assignments,
                    dna_spacing=2000.0 if dna_spacing_m is None else dna_spacing_m,
                    dna_occasions=dna_occasions, dna_search=dna_search,
                    dna_snap=100.0 if snap is None else parse_distance(snap, name="--snap"))
            for w in caught:
                typer.secho(f"warning: {w.message}", err=True, fg=typer.colors.YELLOW)
            payload["warnings"] = [str(w.message) for w in caught]
            payload["files"] = _write_surfaces(getattr(res, "joint", res), density_tif,
                                               friction_tif)
            if output_format == OutputFormat.json:
                emit_json(payload)
            else:
                typer.echo(_text(payload, res))
                for f in payload["files"]:
                    typer.echo(f"wrote {f}")
        return
    if traps is None or captures is None:
        raise usage_error("give JOINT_DIR (with --species) or both --traps and --captures")
    if detector is None:
        raise usage_error("--detector is required with --traps/--captures")
    if species is not None or border is not None or config is not None:
        raise usage_error("--species, --border and --config go with JOINT_DIR")
    if mask and buffer is not None:
        raise usage_error("give either --mask or --buffer, not both")
    snap_m = parse_distance(snap, name="--snap") if snap is not None else 0.0
    if (detector.value == "signal") != (cutval is not None):
        raise usage_error("--detector signal needs --cutval (the detection threshold of the "
                          "signal), and --cutval goes only with it")
    linked_method = None
    given = [x is not None for x in (link_traps, link_captures, link_detector)]
    if any(given) and not all(given):
        raise usage_error("a linked method needs --link-traps, --link-captures and "
                          "--link-detector together")
    if all(given):
        for label, path in (("--link-traps", link_traps), ("--link-captures", link_captures)):
            if not path.is_file():
                raise usage_error(f"{label} {path}: file not found")
        linked_method = (link_traps, link_captures, link_detector.value)
    area_types = ("polygon", "transect")
    if snap is not None and not (detector.value.startswith(area_types) or (
            link_detector is not None and link_detector.value.startswith(area_types))):
        raise usage_error("--snap goes with area and line detectors (--detector polygon, "
                          "polygonX, transect, transectX)")
    occdet = None
    if occasion_detectors:
        occdet = [v.strip() for v in occasion_detectors.split(",")]
        if not set(occdet) <= {"count", "proximity", "multi", "single"}:
            raise usage_error("--occasion-detectors: give count, proximity or multi per "
                              "occasion, comma-separated")
    for label, path in (("--traps", traps), ("--captures", captures), ("--animals", animals),
                        ("--timecov", timecov), *(("--mask", p) for p in (mask or []))):
        if path is not None and not path.is_file():
            raise usage_error(f"{label} {path}: file not found")
    with handle_errors():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AmurlinkWarning)
            payload, res = fit_files(
                traps, captures, detector=detector.value, detectfn=detectfn, mask=mask,
                spacing=spacing_m, buffer=buffer_m, n_occasions=noccasions, conditional=cl,
                fastproximity=fastproximity, models=model, animals=animals, hcov=hcov,
                link=links, distribution=distribution, rasters=rasters, timecov=timecov,
                occasion_detectors=occdet, snap=snap_m, linked_method=linked_method,
                cutval=cutval,
            )
        for w in caught:
            typer.secho(f"warning: {w.message}", err=True, fg=typer.colors.YELLOW)
        payload["files"] = _write_surfaces(getattr(res, "best_fit", res), density_tif,
                                           friction_tif)
        if output_format == OutputFormat.json:
            emit_json(payload)
        else:
            typer.echo(_text(payload, res))
            for f in payload["files"]:
                typer.echo(f"wrote {f}")
