"""Every output of a public and a partner report shows no position finer than allowed."""

from __future__ import annotations

import csv
import re
import sqlite3
import zlib

import numpy as np
import pytest

from amurlink.core.crs import to_metric
from amurlink.report._gpkg import read_gpkg_geometry

CELL_M = {"partner": 1_000.0}  # default policy: partners see 1 km cells; public: withheld


@pytest.fixture(scope="module")
def exact_xy(toy_inputs):
    dep = toy_inputs.dataset.deployments
    x, y = to_metric(dep["longitude"].to_numpy(float), dep["latitude"].to_numpy(float))
    # precondition: every exact station lies well inside its 1 km cell (else the checks are void)
    off = np.hypot(x % 1000 - 500, y % 1000 - 500)
    assert off.min() > 100
    return np.column_stack([x, y]), dep


def _near_exact(points, exact, tol_m=60.0):
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    if not len(pts):
        return np.zeros(0, dtype=bool)
    d = np.hypot(pts[:, None, 0] - exact[None, :, 0], pts[:, None, 1] - exact[None, :, 1])
    return d.min(axis=1) < tol_m


def _on_grid(x, y, cell):
    return np.allclose(np.asarray(x) % cell, cell / 2, atol=1.0) and \
        np.allclose(np.asarray(y) % cell, cell / 2, atol=1.0)


def _svg_points(html):
    """Map-CRS coordinates of every marker and path vertex in the map figures."""
    pts = []
    for m in re.finditer(r'<svg [^>]*data-amurlink-affine="([^"]+)"(.*?)</svg>', html, re.S):
        a, c, d, f = (float(v) for v in m.group(1).split())
        body = m.group(2)
        for x, y in re.findall(r'<use [^>]*x="([-\d.]+)" y="([-\d.]+)"', body):
            pts.append((a * float(x) + c, d * float(y) + f))
        for path in re.findall(r' d="([^"]+)"', body):
            nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", path)]
            for x, y in zip(nums[0::2], nums[1::2], strict=False):
                pts.append((a * x + c, d * y + f))
    return pts


@pytest.mark.parametrize("audience", ["partner", "public"])
def test_html_and_svg(reports, exact_xy, audience):
    exact, dep = exact_xy
    html = reports[audience, "en"].html.read_text(encoding="utf-8")
    text = re.sub(r"<svg.*?</svg>", "", html, flags=re.S)
    numbers = [float(v) for v in re.findall(r"\d+\.\d+", text)]
    coords = np.concatenate([dep["latitude"].to_numpy(float), dep["longitude"].to_numpy(float)])
    assert not any(np.isclose(n, coords, atol=1e-4).any() for n in numbers)
    for loc in dep["locationName"].dropna():
        assert str(loc) not in html
    pts = _svg_points(html)
    if audience == "public":
        assert pts == [], "the public must get no map of withheld stations"
        assert "the locations are withheld from this audience" in html
    else:
        assert len(pts) > 20
        assert not _near_exact(pts, exact).any()


@pytest.mark.parametrize("audience", ["partner", "public"])
def test_csv(reports, exact_xy, audience):
    exact, dep = exact_xy
    files = reports[audience, "en"].csv
    with open(next(p for p in files if p.name == "stations.csv"), encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    lat = np.array([float(r["latitude"]) if r["latitude"] else np.nan for r in rows])
    lon = np.array([float(r["longitude"]) if r["longitude"] else np.nan for r in rows])
    if audience == "public":
        assert np.isnan(lat).all() and np.isnan(lon).all()
        assert {r["level"] for r in rows} == {"withheld"}
    else:
        x, y = to_metric(lon, lat)
        assert _on_grid(x, y, CELL_M["partner"])
        assert not _near_exact(np.column_stack([x, y]), exact).any()
    for p in files:
        body = p.read_text(encoding="utf-8")
        for num in re.findall(r"\d+\.\d{3,}", body):
            assert not np.isclose(float(num), np.concatenate(
                [dep["latitude"], dep["longitude"]]).astype(float), atol=1e-5).any(), p.name
        with open(p, encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                for k, v in r.items():
                    if k.startswith(("max_distance_km", "distance_km", "lower_km")) and v:
                        if audience == "public":
                            pytest.fail(f"{p.name}: distance {k}={v} shown to the public")
                        assert float(v) == round(float(v)), (p.name, k, v)


@pytest.mark.parametrize("audience", ["partner", "public"])
def test_geopackage(reports, exact_xy, audience):
    exact, _ = exact_xy
    con = sqlite3.connect(reports[audience, "en"].gpkg)
    try:
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        layers = [r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")]
        assert {"stations", "encounters", "routes"} <= set(layers)
        for layer in layers:
            if layer == "border":  # public geography, not a record
                continue
            geoms = [read_gpkg_geometry(b) for (b,) in
                     con.execute(f'SELECT geom FROM "{layer}"') if b is not None]
            pts = [p for _kind, ps in geoms for p in ps]
            if audience == "public":
                assert pts == [], layer
            elif pts:
                xs, ys = zip(*pts, strict=True)
                assert _on_grid(xs, ys, CELL_M["partner"]), layer
                assert not _near_exact(pts, exact).any(), layer
    finally:
        con.close()


def test_owner_report_is_exact(reports, exact_xy):
    exact, _ = exact_xy
    html = reports["owner", "en"].html.read_text(encoding="utf-8")
    assert _near_exact(_svg_points(html), exact, tol_m=60).sum() >= 6


def _pdf_text_streams(data: bytes) -> bytes:
    out = [data]
    for m in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            out.append(zlib.decompress(m.group(1)))
        except zlib.error:
            pass
    return b"\n".join(out)


@pytest.mark.parametrize("audience", ["partner", "public"])
def test_pdf(toy_inputs, tmp_path, chromium, audience, exact_xy):
    from amurlink.report import write_report

    _, dep = exact_xy
    files = write_report(toy_inputs, tmp_path, lang="en", audience=audience, pdf=True)
    data = files.pdf.read_bytes()
    assert data.startswith(b"%PDF") and files.pdf.name.startswith("report-")
    streams = _pdf_text_streams(data)
    assert b"/GPS" not in streams and b"exif:GPS" not in streams
    # the PDF is printed from report.html, whose text and SVG the tests above check; here
    # only that no raw coordinate text slipped into its uncompressed streams
    for v in np.concatenate([dep["latitude"], dep["longitude"]]).astype(float):
        assert f"{v:.6f}".encode() not in streams
