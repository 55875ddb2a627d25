"""Border geometry: reading border.geojson, side of and distance to the China-Russia line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely

from amurlink.core.border import Border, distance_to_border_m, load_border, side_of_border
from amurlink.core.crs import from_metric, to_metric
from amurlink.exceptions import CRSError, SchemaError


def square_border() -> Border:
    return Border.from_geometries(
        shapely.LineString([(0, 0), (0, 10_000)]),
        countries={"CN": shapely.box(-5_000, 0, 0, 10_000), "RU": shapely.box(0, 0, 5_000, 10_000)},
        extras={"lake": [("pond", shapely.box(1_000, 1_000, 2_000, 2_000))]},
    )


def test_side_and_distance_are_vectorised_and_exact():
    b = square_border()
    x = np.array([-1_000.0, 2_000.0, 9_000.0, np.nan, 3_000.0])
    y = np.array([5_000.0, 5_000.0, 5_000.0, 1.0, 13_000.0])
    assert side_of_border(x, y, border=b).tolist() == ["CN", "RU", None, None, None]
    d = distance_to_border_m(x, y, border=b)
    np.testing.assert_allclose(d[[0, 1, 2, 4]],
                               [1_000.0, 2_000.0, 9_000.0, np.hypot(3_000.0, 3_000.0)])
    assert np.isnan(d[3])


def test_only_the_line_counts_not_lakes_or_coasts():
    b = square_border()
    # 100 m from the pond shore and 0 m from the southern coast, 1500 m from the line
    assert distance_to_border_m([1_500.0], [900.0], border=b)[0] == pytest.approx(1_500.0)
    assert distance_to_border_m([1_500.0], [0.0], border=b)[0] == pytest.approx(1_500.0)


def test_border_validates():
    with pytest.raises(SchemaError, match="LineString"):
        Border.from_geometries(shapely.box(0, 0, 1, 1))
    with pytest.raises(SchemaError, match="alpha-2"):
        Border.from_geometries(shapely.LineString([(0, 0), (0, 1)]),
                               countries={"CHN": shapely.box(0, 0, 1, 1)})
    with pytest.raises(CRSError):
        Border.from_geometries(shapely.LineString([(0, 0), (0, 1)]), crs="EPSG:4326")


def test_translate_moves_everything():
    b = square_border().translate(100.0, -50.0)
    assert side_of_border([50.0, 150.0], [4_950.0, 4_950.0], border=b).tolist() == ["CN", "RU"]
    assert distance_to_border_m([50.0], [4_950.0], border=b)[0] == pytest.approx(50.0)


def _feature(kind, geom, **props):
    return {"type": "Feature", "properties": {"kind": kind, **props},
            "geometry": shapely.geometry.mapping(geom)}


def _write(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_load_border_projects_into_working_crs(tmp_path):
    # a meridian border at 131E between 43N and 43.5N, countries either side
    line = shapely.LineString([(131.0, 43.0), (131.0, 43.5)])
    cn = shapely.box(130.8, 43.0, 131.0, 43.5)
    ru = shapely.box(131.0, 43.0, 131.2, 43.5)
    path = _write(tmp_path / "border.geojson", [
        _feature("border", line), _feature("country", cn, countryCode="CN"),
        _feature("country", ru, countryCode="ru"), _feature("lake", shapely.box(131.1, 43.1,
                                                                                   131.15, 43.15),
                                                            name="Khanka"),
    ])
    b = load_border(path)
    assert b.crs.to_epsg() == 32652
    assert b.country_codes == ("CN", "RU")
    assert b.extras["lake"][0][0] == "Khanka"
    x, y = to_metric([130.95, 131.05], [43.25, 43.25])
    assert side_of_border(x, y, border=b).tolist() == ["CN", "RU"]
    # distance to the straight segment between the projected end points (grid convergence
    # makes the meridian lean in UTM 52N)
    (ax, bx), (ay, by) = to_metric([131.0, 131.0], [43.0, 43.5])
    px, py = x[1], y[1]
    cross = abs((bx - ax) * (py - ay) - (by - ay) * (px - ax))
    want = cross / np.hypot(bx - ax, by - ay)
    assert distance_to_border_m([px], [py], border=b)[0] == pytest.approx(want, abs=1e-6)


@pytest.mark.parametrize("features, match", [
    ([], "exactly one"),
    ([_feature("border", shapely.box(0, 0, 1, 1))], "LineString"),
    ([_feature("border", shapely.LineString([(131, 43), (131, 44)])),
      _feature("country", shapely.box(130, 43, 131, 44))], "countryCode"),
])
def test_load_border_errors_name_the_problem(tmp_path, features, match):
    with pytest.raises(SchemaError, match=match):
        load_border(_write(tmp_path / "b.geojson", features))
    with pytest.raises(SchemaError, match="no such border file"):
        load_border(tmp_path / "missing.geojson")


@pytest.fixture(scope="module")
def natural_earth(geo_dir, tmp_path_factory):
    line = json.loads((geo_dir / "ne10m_china_russia_border.geojson").read_text())
    countries = json.loads((geo_dir / "ne10m_countries_chn_rus_prk_box.geojson").read_text())
    feats = [dict(f, properties={"kind": "border"}) for f in line["features"]]
    alias = {"CHN": "CN", "RUS": "RU", "PRK": "KP"}
    for f in countries["features"]:
        props = f["properties"]
        code = next(alias[v] for v in props.values() if v in alias)
        feats.append(dict(f, properties={"kind": "country", "countryCode": code}))
    path = tmp_path_factory.mktemp("ne") / "border.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return load_border(path)


def test_natural_earth_border_spot_checks(natural_earth):
    places = {  # lon, lat, expected side
        "Hunchun": (130.366, 42.868, "CN"), "Suifenhe": (131.152, 44.396, "CN"),
        "Kraskino": (130.78, 42.71, "RU"), "Vladivostok": (131.886, 43.115, "RU"),
    }
    lon, lat, want = zip(*places.values(), strict=True)
    x, y = to_metric(lon, lat)
    assert side_of_border(x, y, border=natural_earth).tolist() == list(want)
    d = distance_to_border_m(x, y, border=natural_earth) / 1_000
    # Vladivostok is on the coast but tens of km from the land border
    assert d[3] > 50
    assert (d[:3] < 30).all()


def test_natural_earth_known_tumen_defect(natural_earth, geo_dir):
    """Fangchuan (China) tests as Russia with Natural Earth 1:10m (see data/geo/README.md)."""
    x, y = to_metric([130.615], [42.435])
    assert side_of_border(x, y, border=natural_earth).tolist() == ["RU"]
    # the NE tripoint lies on the line; the real marker No. 423 is ~15 km away from it
    tx, ty = to_metric([130.5308], [42.5305])
    assert distance_to_border_m(tx, ty, border=natural_earth)[0] < 100
    lon, lat = from_metric(tx, ty)
    assert lon[0] == pytest.approx(130.5308)
