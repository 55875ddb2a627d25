"""Density surfaces as GeoTIFF; mask checks."""

from __future__ import annotations

import numpy as np
import pytest

from amurlink.analysis.secr import fit_secr, read_capthist, read_mask
from amurlink.analysis.secr.surface import mask_check, suggest_buffer, write_density_geotiff

pytestmark = pytest.mark.reference


@pytest.fixture(scope="module")
def hab(reference_dir):
    d = reference_dir / "secrdesign" / "fits" / "HAB"
    ch = read_capthist(d / "traps.csv", d / "captures.csv", detector="proximity",
                       n_occasions=30)
    mask = read_mask(d / "mask.csv", spacing=1000)
    return ch, mask, fit_secr(ch, mask, detectfn="HHN", model={"D": "~forest"})


def test_geotiff_holds_the_density_surface(hab, tmp_path):
    import rasterio

    _, mask, res = hab
    out = write_density_geotiff(res, tmp_path / "d.tif", crs="EPSG:32652")
    surf = res.density_map(se=True)
    with rasterio.open(out) as src:
        assert src.count == 4 and src.descriptions == ("D", "se", "lcl", "ucl")
        assert src.res == (1000.0, 1000.0)
        assert src.crs.to_epsg() == 32652
        data = src.read()
        rows, cols = rasterio.transform.rowcol(src.transform, mask.xy[:, 0], mask.xy[:, 1])
        np.testing.assert_allclose(data[0][rows, cols], surf.D, rtol=1e-6)
        np.testing.assert_allclose(data[1][rows, cols], surf.se, rtol=1e-6)
        assert (data[0] != src.nodata).sum() == mask.n_points
    # per 100 km2, and no temporary file left behind
    out2 = write_density_geotiff(res, tmp_path / "d100.tif", se=False, per_100km2=True)
    with rasterio.open(out2) as src:
        assert src.count == 1
        rows, cols = rasterio.transform.rowcol(src.transform, mask.xy[:, 0], mask.xy[:, 1])
        np.testing.assert_allclose(src.read(1)[rows, cols], surf.D * 1e4, rtol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.tif", "d100.tif"]


def test_suggest_buffer_and_mask_check(hab):
    ch, _, res = hab
    sigma = res.predict().loc["sigma", "estimate"]
    b = suggest_buffer(res)
    # halfnormal-type hazard: a few sigma (secr's rule of thumb is about 4 sigma)
    assert 2.5 * sigma < b < 6 * sigma
    assert suggest_buffer(res, RBtarget=1e-6) > b
    tab = mask_check(ch, buffers=[b / 3, b, 1.5 * b], spacing=1000,
                     fit_kwargs={"detectfn": "HHN"}, beta=res.params.to_numpy()[[0, 2, 3]])
    assert list(tab.points) == sorted(tab.points)
    ll = tab.loglik.to_numpy()
    # the likelihood at fixed parameters settles once the buffer is wide enough
    assert abs(ll[2] - ll[1]) < abs(ll[1] - ll[0])
    assert abs(ll[2] - ll[1]) < 1.0


def test_raster_covariate_gives_the_reference_forest_fit(reference_dir, tmp_path):
    # a GeoTIFF holding HAB's forest on the mask grid: sampled at the mask points it is the
    # mask covariate, so the command fits secr's b1 (D ~ forest)
    import json

    import rasterio
    from rasterio.transform import from_origin
    from typer.testing import CliRunner

    from amurlink.cli import app

    d = reference_dir / "secrdesign" / "fits" / "HAB"
    mask = read_mask(d / "mask.csv", spacing=1000)
    x0, y1 = mask.xy[:, 0].min() - 500, mask.xy[:, 1].max() + 500
    ncol = int(round((mask.xy[:, 0].max() + 500 - x0) / 1000))
    nrow = int(round((y1 - mask.xy[:, 1].min() + 500) / 1000))
    grid = np.full((nrow, ncol), -1.0)
    col = np.rint((mask.xy[:, 0] - x0) / 1000 - 0.5).astype(int)
    row = np.rint((y1 - mask.xy[:, 1]) / 1000 - 0.5).astype(int)
    grid[row, col] = mask.covariates["forest"].to_numpy()
    tif = tmp_path / "forest.tif"
    with rasterio.open(tif, "w", driver="GTiff", height=nrow, width=ncol, count=1,
                       dtype="float64", transform=from_origin(x0, y1, 1000, 1000),
                       nodata=-1.0) as dst:
        dst.write(grid, 1)
    plain = tmp_path / "mask.csv"
    plain.write_text("x,y\n" + "\n".join(f"{x:.0f},{y:.0f}" for x, y in mask.xy) + "\n")
    args = ["secr", "--traps", str(d / "traps.csv"), "--captures", str(d / "captures.csv"),
            "--mask", str(plain), "--covariate", f"forest={tif}", "--detector", "proximity",
            "--detectfn", "HHN", "--noccasions", "30", "--model", "D~forest", "--format",
            "json"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    ref = json.loads((reference_dir / "secrdesign" / "fits.json").read_text())
    b1 = {b["name"]: b for b in ref["fits"]["b1_D_forest"]["beta"]}
    for k, v in out["beta"].items():
        assert v == pytest.approx(b1[k]["beta"], rel=1e-4)
    # a raster that does not cover the mask is an error naming it
    small = tmp_path / "small.tif"
    with rasterio.open(small, "w", driver="GTiff", height=2, width=2, count=1,
                       dtype="float64", transform=from_origin(0, 2000, 1000, 1000)) as dst:
        dst.write(np.ones((2, 2)), 1)
    args[args.index(f"forest={tif}")] = f"forest={small}"
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 1 and "small.tif" in res.output and "missing" in res.output


def test_cli_writes_the_noneuc_friction_and_density_surfaces(reference_dir, tmp_path):
    """`amurlink secr --friction-tif`: the fitted noneuc surface (a resistance surface
    estimated from the detections) equals exp(beta * res) at secr 5.5.0's beta within the
    reference tolerance; `--density-tif` writes D per 100 km2; a model without noneuc is
    refused with a message and no file."""
    import json

    import rasterio
    from typer.testing import CliRunner

    from amurlink.cli import app

    ref = json.loads((reference_dir / "secrdesign" / "fits.json").read_text())["fits"][
        "d1_noneuc_res"]
    b_ref = {b["name"]: b["beta"] for b in ref["beta"]}["noneuc.res"]
    d = reference_dir / "secrdesign" / "fits" / "NE"
    base = ["secr", "--traps", str(d / "traps.csv"), "--captures", str(d / "captures.csv"),
            "--detector", "proximity", "--mask", str(d / "mask.csv"), "--spacing", "1000",
            "--noccasions", "20", "--detectfn", "HHN", "--format", "json"]
    runner = CliRunner()
    r = runner.invoke(app, [*base, "--model", "noneuc~res-1", "--friction-tif",
                            str(tmp_path / "friction.tif"), "--density-tif",
                            str(tmp_path / "density.tif")])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["files"] == [str(tmp_path / "density.tif"), str(tmp_path / "friction.tif")]
    assert out["loglik"] >= ref["logLik"] - 1e-6
    assert out["beta"]["noneuc.res"] == pytest.approx(b_ref, rel=1e-4)
    mask = read_mask(d / "mask.csv", spacing=1000)
    res_cov = np.asarray(mask.covariates["res"], dtype=float)
    with rasterio.open(tmp_path / "friction.tif") as src:
        assert src.descriptions == ("friction",)
        rows, cols = rasterio.transform.rowcol(src.transform, mask.xy[:, 0], mask.xy[:, 1])
        friction = src.read(1)[rows, cols]
        assert (src.read(1) != src.nodata).sum() == mask.n_points
    np.testing.assert_allclose(friction, np.exp(b_ref * res_cov), rtol=2e-4)
    # more resistance wherever `res` is higher (secr's positive coefficient)
    assert np.all(np.diff(friction[np.argsort(res_cov, kind="stable")]) >= -1e-6)
    with rasterio.open(tmp_path / "density.tif") as src:
        assert src.descriptions == ("D", "se", "lcl", "ucl")
        rows, cols = rasterio.transform.rowcol(src.transform, mask.xy[:, 0], mask.xy[:, 1])
        d_ref = np.exp({b["name"]: b["beta"] for b in ref["beta"]}["D"]) * 1e4  # D ~ 1
        np.testing.assert_allclose(src.read(1)[rows, cols], d_ref, rtol=1e-4)
    r = runner.invoke(app, [*base, "--friction-tif", str(tmp_path / "none.tif")])
    assert r.exit_code == 1 and "no noneuc" in r.output
    assert not (tmp_path / "none.tif").exists()
