"""``amurlink habitat resistance`` and ``amurlink habitat corridors`` end to end."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
from typer.testing import CliRunner

from amurlink.cli import app
from amurlink.landscape.grid import Grid, read_grid, write_grid
from amurlink.report._gpkg import read_gpkg_geometry

runner = CliRunner()
CRS = "EPSG:32652"
X0, Y0, CELL = 600_000.0, 4_700_000.0, 1_000.0


def _lonlat(x, y):
    t = pyproj.Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    lon, lat = t.transform(x, y)
    return [float(lon), float(lat)]


def _border_file(path: Path) -> Path:
    """A north-south border at x = X0 + 20 km, a park on each side."""
    bx = X0 + 20_000

    def ring(x0, y0, x1, y1):
        return [
            [_lonlat(x0, y0), _lonlat(x1, y0), _lonlat(x1, y1), _lonlat(x0, y1), _lonlat(x0, y0)]
        ]

    feats = [
        {
            "type": "Feature",
            "properties": {"kind": "border"},
            "geometry": {
                "type": "LineString",
                "coordinates": [_lonlat(bx, Y0), _lonlat(bx, Y0 + 30_000)],
            },
        },
        {
            "type": "Feature",
            "properties": {"kind": "park", "name": "West"},
            "geometry": {
                "type": "Polygon",
                "coordinates": ring(X0 + 2e3, Y0 + 10e3, X0 + 6e3, Y0 + 20e3),
            },
        },
        {
            "type": "Feature",
            "properties": {"kind": "park", "name": "East"},
            "geometry": {
                "type": "Polygon",
                "coordinates": ring(X0 + 34e3, Y0 + 10e3, X0 + 38e3, Y0 + 20e3),
            },
        },
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def test_resistance_then_corridors(tmp_path: Path) -> None:
    forest = np.ones((30, 40))
    forest[:, 19:21] = 0.0  # open farmland along the border ...
    forest[20:24, 19:21] = 1.0  # ... except a forested crossing in the south
    write_grid(Grid(forest, X0, Y0, CELL, -9999.0, CRS), tmp_path / "forest.tif")
    res = runner.invoke(
        app,
        [
            "habitat",
            "resistance",
            "--layer",
            f"forest={tmp_path / 'forest.tif'}",
            "--weight",
            "forest=-4.6",
            "--intercept",
            "4.6",
            "--out",
            str(tmp_path / "res.tif"),
        ],
    )
    assert res.exit_code == 0, res.output
    r = read_grid(tmp_path / "res.tif").values
    assert r.max() == np.exp(4.6).clip(1, 1000) and r.min() == 1.0
    crossings = tmp_path / "crossings.csv"
    pd.DataFrame({"segment": [1, 2, 3], "crossings": [6, 0, 1]}).to_csv(crossings, index=False)
    out = tmp_path / "out"
    barriers = tmp_path / "barriers.geojson"
    y_north = Y0 + 24_500  # row 5: farmland on the border, far from the forested gap
    barriers.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"name": "west forest track"},
                        "geometry": {
                            "type": "LineString",
                            "coordinates": [
                                _lonlat(X0 + 2_500, y_north),
                                _lonlat(X0 + 4_500, y_north),
                            ],
                        },
                    },
                    {
                        "type": "Feature",
                        "properties": {"name": "north farmland"},
                        "geometry": {
                            "type": "LineString",
                            "coordinates": [
                                _lonlat(X0 + 18_600, y_north),
                                _lonlat(X0 + 21_400, y_north),
                            ],
                        },
                    },
                ],
            }
        )
    )
    res = runner.invoke(
        app,
        [
            "habitat",
            "corridors",
            "--barriers",
            str(barriers),
            str(tmp_path / "res.tif"),
            "--border",
            str(_border_file(tmp_path / "border.geojson")),
            "-o",
            str(out),
            "--segment-km",
            "10",
            "--crossings",
            str(crossings),
            "--format",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["cores"] == ["West", "East"] and summary["segments"] == 3
    seg = pd.read_csv(out / "border_segments.csv")
    # segment 1 (y 0-10 km, south) holds the forested crossing (rows 20-23): most current
    assert seg["current"].idxmax() == seg["crossings"].idxmax()
    assert summary["spearman"] > 0.9
    mask = read_grid(out / "corridor_mask.tif").values
    # the 5% corridor crosses the farmland only through the forested gap
    assert mask[20:24, 19:21].any()
    assert not mask[:20, 19:21].any() and not mask[24:, 19:21].any()
    assert not any(p.name.startswith(".") for p in out.iterdir())
    rank = pd.read_csv(out / "barrier_ranking.csv")
    assert list(rank["candidate"]) == ["north farmland", "west forest track"]
    assert rank.loc[0, "improvement_pct"] > 1 and abs(rank.loc[1, "improvement_pct"]) < 1e-6
    assert summary["best_barrier"] == "north farmland"
    con = sqlite3.connect(out / "corridors.gpkg")
    try:
        n_seg = con.execute("SELECT COUNT(*) FROM border_segments").fetchone()[0]
        blob = con.execute("SELECT geom FROM border_segments LIMIT 1").fetchone()[0]
    finally:
        con.close()
    assert n_seg == 3
    kind, pts = read_gpkg_geometry(blob)
    assert kind == "LINESTRING" and len(pts) >= 2


def test_corridors_refuses_border_without_parks(tmp_path: Path) -> None:
    write_grid(Grid(np.ones((5, 5)), X0, Y0, CELL, -9999.0, CRS), tmp_path / "r.tif")
    border = tmp_path / "b.geojson"
    border.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"kind": "border"},
                        "geometry": {
                            "type": "LineString",
                            "coordinates": [_lonlat(X0, Y0), _lonlat(X0, Y0 + 5e3)],
                        },
                    }
                ],
            }
        )
    )
    res = runner.invoke(
        app,
        [
            "habitat",
            "corridors",
            str(tmp_path / "r.tif"),
            "--border",
            str(border),
            "-o",
            str(tmp_path / "o"),
        ],
    )
    assert res.exit_code == 1 and "park" in res.output


def test_model_from_camera_package(tmp_path: Path) -> None:
    """The toy package's cameras: leopards at the northern stations, forest there."""
    from amurlink.io import load_camtrap_dp
    from amurlink.landscape.habitat import station_detections

    pkg = Path(__file__).resolve().parents[2] / "src" / "amurlink" / "datasets" / "toy"
    ds, _ = load_camtrap_dp(pkg)
    st = station_detections(ds, "Panthera pardus", CRS)
    x0, y0 = st["x"].min() - 5000, st["y"].min() - 5000
    ys = y0 + (np.arange(40)[::-1] + 0.5) * 500.0
    forest = np.repeat(((ys - st["y"].mean()) / 5000.0)[:, None], 40, axis=1)  # rises north
    write_grid(Grid(forest, x0, y0, 500.0, -9999.0, CRS), tmp_path / "forest.tif")
    out = tmp_path / "model"
    res = runner.invoke(
        app,
        [
            "habitat",
            "model",
            str(pkg),
            "--species",
            "Panthera pardus",
            "--layer",
            f"forest={tmp_path / 'forest.tif'}",
            "-o",
            str(out),
            "--format",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["stations"] == len(st) and summary["coefficients"]["forest"] > 0
    assert summary["separation"] is True  # six stations, zeros only in the south
    r = read_grid(out / "resistance.tif").values
    assert r[0].mean() < r[-1].mean()  # the forested north is cheaper to cross
    glm = pd.read_csv(out / "glm.csv")
    assert list(glm["term"]) == ["const", "forest"]
    assert not {"x", "y", "latitude", "longitude"} & set(glm.columns)
    res = runner.invoke(
        app,
        [
            "habitat",
            "model",
            str(pkg),
            "--species",
            "Felis catus",
            "--layer",
            f"forest={tmp_path / 'forest.tif'}",
            "-o",
            str(out),
        ],
    )
    assert res.exit_code == 1 and "no detection" in res.output


def test_corridors_with_crossings_seen_by_the_cameras(tmp_path: Path) -> None:
    """The toy package: one leopard crosses near y = 4,770 km; border at x = 663 km."""
    pkg = Path(__file__).resolve().parents[2] / "src" / "amurlink" / "datasets" / "toy"
    bx, y0 = 663_000.0, 4_760_000.0

    def ring(x0, ya, x1, yb):
        return [
            [_lonlat(x0, ya), _lonlat(x1, ya), _lonlat(x1, yb), _lonlat(x0, yb), _lonlat(x0, ya)]
        ]

    feats = [
        {
            "type": "Feature",
            "properties": {"kind": "border"},
            "geometry": {
                "type": "LineString",
                "coordinates": [_lonlat(bx, y0), _lonlat(bx, y0 + 30_000)],
            },
        },
        {
            "type": "Feature",
            "properties": {"kind": "country", "countryCode": "CN"},
            "geometry": {"type": "Polygon", "coordinates": ring(640e3, y0, bx, y0 + 30e3)},
        },
        {
            "type": "Feature",
            "properties": {"kind": "country", "countryCode": "RU"},
            "geometry": {"type": "Polygon", "coordinates": ring(bx, y0, 690e3, y0 + 30e3)},
        },
        {
            "type": "Feature",
            "properties": {"kind": "park", "name": "CN park"},
            "geometry": {"type": "Polygon", "coordinates": ring(645e3, y0 + 8e3, 650e3, y0 + 22e3)},
        },
        {
            "type": "Feature",
            "properties": {"kind": "park", "name": "RU park"},
            "geometry": {"type": "Polygon", "coordinates": ring(676e3, y0 + 8e3, 681e3, y0 + 22e3)},
        },
    ]
    border = tmp_path / "border.geojson"
    border.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    write_grid(Grid(np.ones((30, 40)), 643e3, y0, 1000.0, -9999.0, CRS), tmp_path / "r.tif")
    out = tmp_path / "out"
    res = runner.invoke(
        app,
        [
            "habitat",
            "corridors",
            str(tmp_path / "r.tif"),
            "--border",
            str(border),
            "-o",
            str(out),
            "--package",
            str(pkg),
        ],
    )
    assert res.exit_code == 0, res.output
    seg = pd.read_csv(out / "border_segments.csv")
    assert seg["crossings"].tolist() == [0, 1, 0]
    res = runner.invoke(
        app,
        [
            "habitat",
            "corridors",
            str(tmp_path / "r.tif"),
            "--border",
            str(border),
            "-o",
            str(out),
            "--species",
            "Panthera pardus",
        ],
    )
    assert res.exit_code == 2
