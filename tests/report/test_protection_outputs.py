"""Every output of a public and a partner report shows no position finer than allowed."""

from __future__ import annotations

import base64
import csv
import html as htmllib
import io
import json
import re
import sqlite3
import zlib
from dataclasses import replace

import numpy as np
import pytest

from amurlink.core.border import distance_to_border_m
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




# ---------------------------------------------------------------------------------------------
# distances that reveal position
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def exact_km(exact_xy, toy_inputs):
    """Exact distance of each station from the border line, km (what an exact report shows)."""
    exact, _ = exact_xy
    km = distance_to_border_m(exact[:, 0], exact[:, 1], border=toy_inputs.border) / 1000.0
    # precondition: rounding to whole km moves every distance further than the checker's
    # tolerance (else a rounded distance could pass for an exact one, or the reverse)
    assert np.abs(km - np.round(km)).min() > 0.06
    return km


def _numbers(text):
    return [float(v) for v in re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w]|\.\d)", text)]


def _distance_leaks(text, exact_km, tol_km=0.051):
    """Numbers of ``text`` that give a station's distance from the border finer than 1 km
    (a fractional number within ``tol_km`` of an exact distance: "5.7", "4.07")."""
    km = np.asarray(exact_km, dtype=float)
    return [n for n in _numbers(text)
            if n != round(n) and (np.abs(km - n) <= tol_km).any()]


def test_distance_checker_flags_the_owner_report(reports, exact_km):
    """Negative control on real output: the owner report's encounters carry exact distances,
    and the same checker that passes the partner and public reports flags them (the HTML
    shows distances in bands, so the owner's GeoPackage is the control)."""
    con = sqlite3.connect(reports["owner", "en"].gpkg)
    try:
        values = [v for (v,) in con.execute('SELECT distance_km FROM "encounters"')]
    finally:
        con.close()
    text = " ".join(f"{v:.2f}" for v in values if v is not None)
    assert _distance_leaks(text, exact_km)


@pytest.mark.parametrize("audience", ["partner", "public"])
def test_html_distances(reports, exact_km, audience):
    html = reports[audience, "en"].html.read_text(encoding="utf-8")
    text = re.sub(r"<svg.*?</svg>", "", html, flags=re.S)
    assert _distance_leaks(text, exact_km) == []


@pytest.mark.parametrize("audience", ["partner", "public"])
def test_geopackage_distances(reports, exact_km, audience):
    con = sqlite3.connect(reports[audience, "en"].gpkg)
    try:
        seen = 0
        for (layer,) in con.execute("SELECT table_name FROM gpkg_contents"):
            cols = [r[1] for r in con.execute(f'PRAGMA table_info("{layer}")')]
            for col in (c for c in cols if "distance" in c.lower()):
                values = [v for (v,) in con.execute(f'SELECT "{col}" FROM "{layer}"')]
                seen += len(values)
                shown = [float(v) for v in values if v is not None]
                if audience == "public":
                    assert shown == [], (layer, col)
                else:
                    assert all(v == round(v) for v in shown), (layer, col, shown)
        assert seen > 0  # the encounters layer carries distance_km
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------
# PDF (and the manifest of a harmonised dataset)
# ---------------------------------------------------------------------------------------------
NOW = "2026-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def harmonised(toy_inputs, tmp_path_factory):
    """The toy dataset joined by ``harmonise`` and read back as a joint folder with its
    ``manifest.json``: ``(ReportInputs, manifest)``."""
    from amurlink.harmonise import harmonise, write_harmonised
    from amurlink.report.inputs import load_report_inputs

    res = harmonise(toy_inputs.dataset, config=toy_inputs.config, now=NOW)
    assert res.report.valid, res.report
    joint = write_harmonised(res, tmp_path_factory.mktemp("harmonised") / "joint")
    inputs = load_report_inputs(joint, config=toy_inputs.config)
    assert inputs.manifest is not None
    return replace(inputs, border=toy_inputs.border, missing={}), inputs.manifest


@pytest.fixture(scope="module")
def harmonised_reports(harmonised, chromium, tmp_path_factory):
    """Partner and public report (HTML, CSV, GeoPackage and PDF) of the harmonised dataset."""
    from amurlink.report import write_report

    inputs, _ = harmonised
    root = tmp_path_factory.mktemp("harmonised-reports")
    return {aud: write_report(inputs, root / aud, lang="en", audience=aud, pdf=True)
            for aud in ("partner", "public")}


@pytest.fixture(scope="module")
def harmonised_exact(harmonised):
    inputs, _ = harmonised
    dep = inputs.dataset.deployments
    lon, lat = dep["longitude"].to_numpy(float), dep["latitude"].to_numpy(float)
    x, y = to_metric(lon, lat)
    km = distance_to_border_m(x, y, border=inputs.border) / 1000.0
    return {"lat": lat, "lon": lon, "xy": np.column_stack([x, y]), "km": km}


def _pdf_text(path):
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def _jpeg_gps(data):
    """GPS tags of an image's EXIF ({} when none)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return dict(im.getexif().get_ifd(0x8825))


def _pdf_images_gps(path):
    """(name, GPS tags) of every embedded image that carries GPS EXIF; and the image count."""
    from pypdf import PdfReader

    found, count = [], 0
    for page in PdfReader(path).pages:
        for img in page.images:
            count += 1
            gps = _jpeg_gps(img.data)
            if gps:
                found.append((img.name, gps))
    return found, count


def _position_leaks(text, exact):
    """Everything in ``text`` that gives a station's position finer than 1 km: a decimal
    degree within 1e-4 of a station's latitude or longitude, a pair of numbers within 60 m of
    a station in the working CRS (metres, or km with decimals), or a distance from the border
    within 50 m of a station's."""
    nums = _numbers(text)
    deg = np.concatenate([exact["lat"], exact["lon"]])
    out = [("degrees", n) for n in nums if n != round(n) and np.isclose(n, deg, atol=1e-4).any()]
    for a, b in zip(nums[:-1], nums[1:], strict=True):
        for scale in (1.0, 1000.0):
            if scale == 1000.0 and (a == round(a) or b == round(b)):
                continue  # whole km: axis ticks
            if _near_exact([a * scale, b * scale], exact["xy"]).any():
                out.append(("projected", (a, b)))
    out += [("distance", n) for n in _distance_leaks(text, exact["km"])]
    return out


@pytest.mark.parametrize("audience", ["partner", "public"])
def test_pdf(harmonised_reports, harmonised_exact, audience):
    files = harmonised_reports[audience]
    data = files.pdf.read_bytes()
    assert data.startswith(b"%PDF") and files.pdf.name.startswith("report-")
    text = _pdf_text(files.pdf)
    assert "Cross-border individuals" in text and "Harmonisation manifest" in text
    assert _position_leaks(text, harmonised_exact) == []
    streams = _pdf_text_streams(data)
    assert b"/GPS" not in streams and b"exif:GPS" not in streams
    found, _ = _pdf_images_gps(files.pdf)
    assert found == []
    if audience == "public":
        assert "the locations are withheld from this audience" in text


def test_pdf_checks_flag_a_planted_position(harmonised_reports, harmonised_exact, tmp_path):
    """The PDF checks fail when a position leaks: the partner report printed again with one
    station's exact degrees, metres and border distance planted in its text, and an image
    with GPS EXIF."""
    from PIL import Image

    from amurlink.report.render import render_pdf

    e = harmonised_exact
    image = Image.new("RGB", (32, 24), (120, 80, 40))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (43.0, 7.0, 12.5), 3: "E", 4: (131.0, 3.0, 1.25)}
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif.tobytes())
    jpeg = buf.getvalue()
    assert _jpeg_gps(jpeg)  # the image check sees GPS where there is some
    planted = (f"<p>Station at {e['lat'][0]:.5f} N {e['lon'][0]:.5f} E; "
               f"E {e['xy'][0, 0]:.1f} N {e['xy'][0, 1]:.1f}; {e['km'][0]:.2f} km from the "
               f"border</p><img alt='' src='data:image/jpeg;base64,"
               f"{base64.b64encode(jpeg).decode()}'>")
    html = harmonised_reports["partner"].html.read_text(encoding="utf-8")
    src = tmp_path / "report.html"
    src.write_text(html.replace("</body>", planted + "</body>"), encoding="utf-8")
    pdf = render_pdf(src, tmp_path / "planted.pdf")
    kinds = {k for k, _ in _position_leaks(_pdf_text(pdf), e)}
    assert kinds == {"degrees", "projected", "distance"}
    found, count = _pdf_images_gps(pdf)
    assert count >= 1  # the planted image is in the PDF and was examined
    # Chromium re-encodes embedded JPEGs without their EXIF: no GPS reaches a printed PDF
    assert found == []


def _manifest_block(html):
    m = re.search(r'<pre class="manifest"><code>(.*?)</code></pre>', html, re.S)
    assert m, "no manifest block in the report"
    return json.loads(htmllib.unescape(m.group(1)))


def _keys(obj):
    if isinstance(obj, dict):
        return set(obj) | set().union(*(_keys(v) for v in obj.values()))
    if isinstance(obj, list):
        return set().union(*(_keys(v) for v in obj)) if obj else set()
    return set()


@pytest.mark.parametrize("audience", ["partner", "public"])
def test_manifest_of_a_harmonised_dataset_is_printed(harmonised, harmonised_reports, audience):
    """Foundation II: the harmonisation manifest is printed in the report (HTML and PDF), with
    no coordinate keys for a partner or the public."""
    _, manifest = harmonised
    files = harmonised_reports[audience]
    printed = _manifest_block(files.html.read_text(encoding="utf-8"))
    for key in ("created", "software", "config", "inputs", "linkSet", "rows",
                "independentEvents"):
        assert printed[key] == manifest[key], key
    assert not _keys(printed) & {"latitude", "longitude", "x", "y", "bbox", "coordinates"}
    text = "".join(_pdf_text(files.pdf).split())
    obs_sha = manifest["inputs"][0]["tables"]["observations"]
    assert obs_sha in text and manifest["linkSet"]["sha256"] in text
    assert '"independence_minutes":30.0' in text
