"""``amurlink habitat``: resistance surfaces and transboundary corridors on the study grid."""

from __future__ import annotations

from pathlib import Path

import typer

from amurlink.cli import app
from amurlink.cli._common import (
    EXIT_OK,
    FORMAT_OPTION,
    OutputFormat,
    emit_json,
    handle_errors,
    usage_error,
)

habitat_app = typer.Typer(
    help="Habitat layers, resistance surfaces and transboundary corridors.",
    no_args_is_help=True,
)
app.add_typer(habitat_app, name="habitat")


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            raise usage_error(f"{what} {item!r}: expected NAME=VALUE")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


@habitat_app.command("resistance")
def resistance_command(
    layers: list[str] = typer.Option(
        ..., "--layer", help="NAME=RASTER (GeoTIFF or ASCII grid); repeatable."
    ),
    weights: list[str] = typer.Option([], "--weight", help="NAME=WEIGHT (log-linear); repeatable."),
    classes: list[str] = typer.Option(
        [], "--classes", help="NAME=CSV of code,resistance for a categorical layer; repeatable."
    ),
    intercept: float = typer.Option(0.0, "--intercept", help="b0 of exp(b0 + sum w x)."),
    r_min: float = typer.Option(1.0, "--min", help="Lowest resistance."),
    r_max: float = typer.Option(1000.0, "--max", help="Highest resistance."),
    out: Path = typer.Option(..., "--out", "-o", help="Resistance raster to write (.tif or .asc)."),
) -> None:
    """Expert-weight resistance: exp(b0 + sum w_k x_k) x class multipliers, clipped.

    Every layer must share the first layer's grid (align them with the study grid first).
    """
    named = _pairs(layers, "--layer")
    w = {k: float(v) for k, v in _pairs(weights, "--weight").items()}
    tables = _pairs(classes, "--classes")
    with handle_errors():
        import numpy as np
        import pandas as pd

        from amurlink.exceptions import DataError
        from amurlink.landscape.grid import read_grid, write_grid
        from amurlink.landscape.habitat import expert_resistance

        grids = {k: read_grid(v) for k, v in named.items()}
        first = next(iter(grids.values()))
        arrays = {}
        for k, g in grids.items():
            if not g.same_frame(first):
                raise DataError(f"layer {k} ({named[k]}) is not on the grid of the first layer")
            arrays[k] = np.where(g.valid, g.values, np.nan)
        class_tables = {}
        for k, path in tables.items():
            df = pd.read_csv(path)
            if list(df.columns[:2]) != ["code", "resistance"]:
                raise DataError(f"{path}: expected columns code,resistance")
            class_tables[k] = dict(zip(df["code"].astype(int), df["resistance"], strict=True))
        r = expert_resistance(
            arrays, w, intercept=intercept, class_tables=class_tables, r_min=r_min, r_max=r_max
        )
        written = write_grid(first.with_values(np.where(np.isfinite(r), r, first.nodata)), out)
    typer.echo(f"resistance {np.nanmin(r):.3g}-{np.nanmax(r):.3g} written to {written}")
    raise typer.Exit(EXIT_OK)


@habitat_app.command("model")
def model_command(
    package: Path = typer.Argument(
        ..., help="Camtrap DP package (folder, datapackage.json or zip)."
    ),
    species: str = typer.Option(..., "--species", help="Scientific name, e.g. 'Panthera pardus'."),
    layers: list[str] = typer.Option(
        ..., "--layer", help="NAME=RASTER covariate on the study grid; repeatable."
    ),
    transform: str = typer.Option(
        "negexp", "--transform", help="Suitability to resistance: negexp, linear or inverse."
    ),
    shape: float = typer.Option(8.0, "--shape", help="Shape c of the negexp transform."),
    r_max: float = typer.Option(1000.0, "--max", help="Highest resistance."),
    out_dir: Path = typer.Option(..., "--out-dir", "-o", help="Folder for the outputs."),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Habitat GLM on the cameras: suitability and resistance rasters.

    Poisson GLM of detections per deployment on the layers (standardised) with log effort
    (deployment days) as offset. Writes glm.csv (coefficients), suitability.tif and
    resistance.tif; no output holds a station position.
    """
    named = _pairs(layers, "--layer")
    if transform not in ("negexp", "linear", "inverse"):
        raise usage_error(f"--transform {transform!r}: expected negexp, linear or inverse")
    with handle_errors():
        import numpy as np

        from amurlink.exceptions import DataError
        from amurlink.io import load_camtrap_dp
        from amurlink.landscape.grid import read_grid, write_grid
        from amurlink.landscape.habitat import (
            habitat_resistance_from_cameras,
            station_detections,
        )

        grids = {k: read_grid(v) for k, v in named.items()}
        first = next(iter(grids.values()))
        if first.crs is None:
            raise DataError(f"{named[next(iter(grids))]}: the layer has no CRS; use a GeoTIFF")
        ds, report = load_camtrap_dp(package)
        if ds is None:
            raise DataError(f"{package}: not a readable Camtrap DP package")
        stations = station_detections(ds, species, first.crs)
        if stations["detections"].sum() == 0:
            raise DataError(f"{package}: no detection of {species!r}")
        model, suit, res = habitat_resistance_from_cameras(
            stations, grids, method=transform, c=shape, r_max=r_max
        )
        out_dir.mkdir(parents=True, exist_ok=True)
        table = model.table()
        table.index.name = "term"
        nod = first.nodata
        write_grid(
            first.with_values(np.where(np.isfinite(suit), suit, nod)), out_dir / "suitability.tif"
        )
        write_grid(
            first.with_values(np.where(np.isfinite(res), res, nod)), out_dir / "resistance.tif"
        )
        tmp = out_dir / ".glm.csv.tmp"
        table.to_csv(tmp)
        tmp.replace(out_dir / "glm.csv")
    summary = {
        "species": species,
        "stations": model.n_stations,
        "aic": model.aic,
        "coefficients": {k: float(v) for k, v in model.params.items()},
        "transform": transform,
        "separation": model.separation,
    }
    if fmt is OutputFormat.json:
        emit_json(summary)
    else:
        coefs = ", ".join(f"{k} {v:+.3f}" for k, v in summary["coefficients"].items())
        typer.echo(
            f"{species}: GLM on {model.n_stations} deployments ({coefs}); "
            f"suitability.tif, resistance.tif, glm.csv in {out_dir}"
        )
    raise typer.Exit(EXIT_OK)


@habitat_app.command("corridors")
def corridors_command(
    resistance: Path = typer.Argument(..., help="Resistance raster in the working CRS."),
    border: Path = typer.Option(..., "--border", help="border.geojson with two park features."),
    out_dir: Path = typer.Option(..., "--out-dir", "-o", help="Folder for the outputs."),
    segment_km: float = typer.Option(10.0, "--segment-km", help="Border segment length, km."),
    percentile: float = typer.Option(5.0, "--percentile", help="Corridor width: cost percentile."),
    crossings: Path | None = typer.Option(
        None, "--crossings", help="CSV segment,crossings of observed crossings per segment."
    ),
    package: Path | None = typer.Option(
        None, "--package", help="Joint Camtrap DP package: observed crossings from the cameras."
    ),
    species: str | None = typer.Option(
        None, "--species", help="With --package: only this species' crossings."
    ),
    barriers: Path | None = typer.Option(
        None, "--barriers", help="GeoJSON (WGS84) of candidate barriers to remove, with 'name'."
    ),
    restore_to: float = typer.Option(
        1.0, "--restore-to", help="Resistance of a barrier's cells once removed or restored."
    ),
    core_setback_km: float = typer.Option(  # default = transboundary.CORE_SETBACK_KM (test)
        5.0, "--core-setback-km", help="Core areas: the parks' cells farther than this from "
        "the border (km), so the current crosses a border zone."
    ),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Least-cost corridor, circuit current, border current, pinch points between two parks.

    Writes corridor_cost.tif, corridor_mask.tif, current.tif, cores.tif, border_segments.csv,
    pinch_points.csv, corridors.gpkg (segments and pinch points) and summary.json
    (all together or none).
    """
    if not 0 < percentile <= 100:
        raise usage_error("--percentile must be in (0, 100]")
    if segment_km <= 0:
        raise usage_error("--segment-km must be > 0")
    if not core_setback_km >= 0:
        raise usage_error("--core-setback-km must be >= 0")
    if crossings is not None and package is not None:
        raise usage_error("give observed crossings as --crossings or --package, not both")
    if species is not None and package is None:
        raise usage_error("--species needs --package")
    with handle_errors():
        summary = _run_corridors(
            resistance,
            border,
            out_dir,
            segment_km,
            percentile,
            crossings,
            barriers,
            restore_to,
            package,
            species,
            core_setback_km=core_setback_km,
        )
    if fmt is OutputFormat.json:
        emit_json(summary)
    else:
        typer.echo(
            f"corridor {summary['cores'][0]}-{summary['cores'][1]}: least cost "
            f"{summary['least_cost']:.4g}, effective resistance "
            f"{summary['effective_resistance']:.4g}; {summary['segments']} border segments"
            + (
                f", Spearman vs crossings {summary['spearman']:.3f}"
                if "spearman" in summary
                else ""
            )
        )
    raise typer.Exit(EXIT_OK)


def _read_barriers(path: Path, crs: str) -> list:
    import json

    import numpy as np
    import pyproj
    import shapely
    from shapely.geometry import shape

    from amurlink.exceptions import DataError

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: cannot read the barriers as GeoJSON ({exc})") from None
    feats = data.get("features") if isinstance(data, dict) else None
    if not feats:
        raise DataError(f"{path}: expected a GeoJSON FeatureCollection with barrier features")
    t = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    out = []
    for k, feat in enumerate(feats, 1):
        try:
            geom = shape(feat["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DataError(f"{path}: feature {k} has no valid geometry ({exc})") from None
        name = (feat.get("properties") or {}).get("name") or f"barrier {k}"
        out.append(
            (
                str(name),
                shapely.transform(geom, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1]))),
            )
        )
    return out


def _run_corridors(
    resistance,
    border_path,
    out_dir,
    segment_km,
    percentile,
    crossings,
    barriers=None,
    restore_to=1.0,
    package=None,
    species=None,
    *,
    core_setback_km,
):
    import pandas as pd

    from amurlink.core.border import load_border
    from amurlink.landscape.grid import read_grid
    from amurlink.landscape.transboundary import border_corridors

    grid = read_grid(resistance)
    border = load_border(border_path, crs=grid.crs or "EPSG:32652")
    obs = pd.read_csv(crossings) if crossings is not None else None
    cands = _read_barriers(barriers, grid.crs or "EPSG:32652") if barriers is not None else ()
    enc = None
    if package is not None:
        from amurlink.analysis.crossborder import encounters
        from amurlink.exceptions import DataError
        from amurlink.io import load_camtrap_dp

        ds, _ = load_camtrap_dp(package)
        if ds is None:
            raise DataError(f"{package}: not a readable Camtrap DP package")
        enc = encounters(ds, border=border, species=species, life_stage=None)
    return border_corridors(
        grid,
        border,
        out_dir,
        segment_km=segment_km,
        percentile=percentile,
        crossings=obs,
        encounters=enc,
        barriers=cands,
        restore_to=restore_to,
        source=str(border_path),
        core_setback_km=core_setback_km,
    )
