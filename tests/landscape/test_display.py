"""Drawing the corridor rasters (report figure and web layer): cores blank, log stretch, PNG,
Web Mercator alignment, and the touching-parks case of the demo (nothing but rounding noise
outside the cores, so the least-cost corridor is drawn instead)."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import shapely

from amurlink.core.border import Border
from amurlink.landscape import display as dsp
from amurlink.landscape import habitat as hb
from amurlink.landscape.grid import Grid, read_grid, write_grid
from amurlink.landscape.transboundary import border_corridors

X0, Y0, CELL, NX, NY = 600_000.0, 4_750_000.0, 1000.0, 30, 24


def _grid(values: np.ndarray) -> Grid:
    return Grid(values, X0, Y0, CELL, -9999.0, "EPSG:32652")


def _border(touching: bool) -> Border:
    """Two parks either side of the border: 8 km apart, or meeting along the whole border
    as the simulator's do (every other cell then touches one park only)."""
    mid = X0 + 15 * CELL
    gap, edge = (0.0, 0.0) if touching else (4 * CELL, 4 * CELL)
    top = Y0 + NY * CELL
    a = shapely.box(X0 + 2 * CELL, Y0 + edge, mid - gap, top - edge)
    b = shapely.box(mid + gap, Y0 + edge, X0 + (NX - 2) * CELL, top - edge)
    return Border.from_geometries(shapely.LineString([(mid, Y0), (mid, top)]),
                                  extras={"park": [("A", a), ("B", b)]})


@pytest.fixture(scope="module", params=[False, True], ids=["apart", "touching"])
def corridors(request, tmp_path_factory):
    rng = np.random.default_rng(3)
    r = np.exp(rng.normal(1.0, 1.0, size=(NY, NX)))
    out = tmp_path_factory.mktemp("corridors")
    border = _border(request.param)
    value = border_corridors(_grid(r), border, out, segment_km=5.0)
    return request.param, border, value, out


def test_png_round_trip():
    cv2 = pytest.importorskip("cv2")
    rgba = np.random.default_rng(0).integers(0, 256, size=(7, 5, 4), dtype=np.uint8)
    png = dsp.png_bytes(rgba)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    back = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    assert back.shape == (7, 5, 4)
    assert np.array_equal(back[..., [2, 1, 0, 3]], rgba)  # OpenCV reads BGRA
    with pytest.raises(ValueError, match="height, width, 4"):
        dsp.png_bytes(rgba[..., :3])


def test_colourise_log_scale_and_transparency():
    lo, hi = 1e-3, 1e-1
    rgba = dsp.colourise(np.array([[np.nan, 1e-5, 1e-3, 1e-2, 1e-1, 5.0]]), lo, hi)
    first, last = dsp.CURRENT_RAMP[0][1], dsp.CURRENT_RAMP[-1][1]
    assert rgba[0, 0, 3] == 0  # no data: transparent
    assert tuple(rgba[0, 1, :3]) == first and tuple(rgba[0, 2, :3]) == first  # at or below lo
    assert tuple(rgba[0, 4, :3]) == last and tuple(rgba[0, 5, :3]) == last  # at or above hi
    mid = dsp.CURRENT_RAMP[4][1]  # 1e-2 is half-way on the log scale
    assert tuple(rgba[0, 3, :3]) == mid
    assert rgba[0, 1, 3] < rgba[0, 3, 3] < rgba[0, 4, 3]  # more current, more opaque


def test_display_range_uses_percentiles_of_positive_cells():
    v = np.concatenate([np.zeros(50), np.logspace(-6, 0, 1001), [np.nan]])
    lo, hi = dsp.display_range(v)
    pos = np.logspace(-6, 0, 1001)
    assert lo == pytest.approx(np.percentile(pos, 2)) and hi == pytest.approx(
        np.percentile(pos, 99.5))
    assert np.isnan(dsp.display_range(np.zeros(4))[0])


def test_raster_display_block_average_and_extent():
    v = np.arange(NY * NX, dtype=float).reshape(NY, NX)
    out, extent = dsp.raster_display(_grid(v), max_cells=7)  # step 5: 4 x 6 blocks
    assert out.shape == (4, 6)
    assert out[0, 0] == pytest.approx(v[:5, :5].mean())
    # the drawn cells are the top 20 rows: the extent says so (not the whole grid)
    assert extent == (X0, Y0 + 4 * CELL, X0 + 30 * CELL, Y0 + NY * CELL)


def test_warp_puts_each_cell_where_it_is():
    """A pixel of the Web Mercator image, taken back to the grid's CRS, falls in the cell
    whose value it shows."""
    from pyproj import Transformer

    v = np.arange(NY * NX, dtype=float).reshape(NY, NX)
    extent = (X0, Y0, X0 + NX * CELL, Y0 + NY * CELL)
    warped, (w, s, e, n) = dsp.warp_to_lonlat(v, extent, "EPSG:32652", width=200)
    h = warped.shape[0]
    tr = Transformer.from_crs("EPSG:4326", "EPSG:32652", always_xy=True)
    merc = lambda lat: np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))  # noqa: E731
    rng = np.random.default_rng(1)
    checked = 0
    for i, j in zip(rng.integers(0, h, 300), rng.integers(0, 200, 300), strict=True):
        if not np.isfinite(warped[i, j]):
            continue
        lon = w + (j + 0.5) * (e - w) / 200
        my = merc(n) - (i + 0.5) * (merc(n) - merc(s)) / h
        lat = np.degrees(2 * np.arctan(np.exp(my)) - np.pi / 2)
        x, y = tr.transform(lon, lat)
        row, col = int((extent[3] - y) // CELL), int((x - X0) // CELL)
        assert warped[i, j] == v[row, col]
        checked += 1
    assert checked > 150


def test_touching_parks_carry_current_through_the_border_zone(corridors):
    """The run's cores (``cores.tif``: the parks beyond the core setback) leave a border
    zone, so touching parks' current crosses landscape cells too; with the whole parks as
    cores (an output written before the setback) touching parks leave only noise."""
    touching, border, value, out = corridors
    g = read_grid(out / "current.tif")
    cores = dsp.core_cells(g, dsp.border_parks(border), beside=out / "current.tif")
    parks = dsp.core_cells(g, dsp.border_parks(border))
    assert cores is not None and cores.sum() > 100 and not (cores & ~parks).any()
    assert dsp.landscape_carries_current(g, cores=cores)
    shown, _ = dsp.current_display(g, cores=cores)
    carries = g.valid & (g.values >= dsp.NOISE_REL * np.nanmax(g.values[g.valid]))
    assert np.isnan(shown[cores]).all() and np.isfinite(shown[~cores & carries]).all()
    assert np.isnan(shown[~carries]).all()  # dead ends (rounding noise) are not drawn
    if touching:  # the border zone inside the parks is where the current crosses
        zone = parks & ~cores & g.valid
        assert zone.any() and np.nanmax(g.values[zone]) > 1e-3 * np.nanmax(g.values)


def test_report_corridor_maps(corridors):
    """The report draws the current (log scale from the landscape's cells) and the least-cost
    corridor, the parks apart or touching (the core setback leaves a border zone); for an
    output without ``cores.tif`` whose parks touch it says why there is no current map; no
    map carries a point (no station)."""
    import shutil

    from amurlink.report._sections_corridors import corridor_maps

    touching, border, value, out = corridors
    view = SimpleNamespace(inputs=SimpleNamespace(border=border))
    figures, note = corridor_maps(value, view)
    titles = [f.title for f in figures]
    assert titles == ["Cumulative current", "Least-cost corridor"] and note is None
    cur = figures[0]
    assert cur.log and 0 < cur.vmin < cur.vmax
    v = cur.values[np.isfinite(cur.values)]
    assert cur.vmax <= v.max() and cur.vmin >= v[v > 0].min()
    if touching:  # an older output: whole parks as cores, touching at the line
        old = out.parent / (out.name + "-old")
        shutil.copytree(out, old, dirs_exist_ok=True)
        (old / "cores.tif").unlink()
        from amurlink.landscape.costdist import rasterize_polygons

        g = read_grid(old / "current.tif")
        _, cur = hb.effective_resistance(
            np.where(g.valid, 1.0, np.nan),
            *[rasterize_polygons([p], g) > 0 for p in dsp.border_parks(border)])
        write_grid(g.with_values(cur), old / "current.tif")
        legacy = {**value, "files": [str(old / Path(f).name) for f in value["files"]]}
        old_figures, old_note = corridor_maps(legacy, view)
        assert [f.title for f in old_figures] == ["Least-cost corridor"]
        assert "touch" in old_note and "pinch" in old_note
    for f in figures:
        assert f.points is None and len(f.outlines) == 2
        pytest.importorskip("matplotlib")
        f.plot()
        buf = io.BytesIO()
        f.figure_.savefig(buf, format="png")
        assert buf.tell() > 1000


def test_report_section_shows_pinch_points_whether_the_parks_touch_or_not(corridors):
    # with the core setback the current crosses a border zone even where the parks touch,
    # so its pinch points are real (before, touching parks left rounding noise: no table)
    from amurlink.report._sections_corridors import corridors_section

    touching, border, value, out = corridors
    view = SimpleNamespace(inputs=SimpleNamespace(border=border, themes={"corridors": value},
                                                  missing={}))
    sec = corridors_section(view)
    names = [t.name for t in sec.tables]
    assert names[:2] == ["corridors_summary", "corridors_border_segments"]
    assert "corridors_pinch_points" in names and sec.note is None
