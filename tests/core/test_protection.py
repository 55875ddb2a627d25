"""Tests of amurlink.core.protection: what each audience may see of a location."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from amurlink.core.crs import from_metric, to_metric
from amurlink.core.protection import (
    LOCATION_LEVELS,
    Audience,
    ProtectionPolicy,
    WithheldArea,
    coarsest_level,
    is_sensitive,
    level_to_precision,
    protect_dataset,
    protect_locations,
)
from amurlink.dataset import Dataset
from amurlink.exceptions import ConfigError, CRSError, SchemaError
from amurlink.testing import make_synthetic_records

GEOD = Geod(ellps="WGS84")
UTC = "UTC"
T0 = pd.Timestamp("2024-03-01T00:00:00", tz=UTC)

# Exact positions with digits that are easy to search for in any output.
EXACT = {
    "D1": (43.123457, 130.987653),  # tiger and roe deer (CN)
    "D2": (43.234561, 131.098762),  # roe deer only (CN)
    "D3": (43.345671, 131.209871),  # people (event-level) and roe deer (RU)
    "D4": (43.456781, 131.320981),  # vehicle with a roe deer on the same image (RU)
}
EXIF_GPS = '{"GPSLatitude": 43.123457, "GPSLongitude": 130.987653}'


def toy() -> Dataset:
    """Four deployments, two per country; every media row has GPS in its EXIF."""
    deps = pd.DataFrame({
        "deploymentID": list(EXACT),
        "locationID": ["L1", "L2", "L3", "L4"],
        "locationName": ["tiger trail ridge 7", "creek", "road km 12", "pass"],
        "latitude": [v[0] for v in EXACT.values()],
        "longitude": [v[1] for v in EXACT.values()],
        "coordinateUncertainty": pd.array([15, 30, None, 5], dtype="Int64"),
        "deploymentStart": [T0] * 4,
        "deploymentEnd": [T0 + pd.Timedelta(days=60)] * 4,
        "deploymentComments": ["near the den at 43.1235", None, None, None],
    })
    details = pd.DataFrame({
        "deploymentID": list(EXACT),
        "countryCode": ["CN", "CN", "RU", "RU"],
        "organisation": ["NTLNP", "NTLNP", "LLNP", "LLNP"],
        "timezone": ["Asia/Shanghai"] * 2 + ["Asia/Vladivostok"] * 2,
    })
    h = pd.Timedelta(hours=1)
    media = pd.DataFrame({
        "mediaID": ["M1", "M2", "M3", "M4", "M5", "M6", "M7"],
        "deploymentID": ["D1", "D1", "D2", "D3", "D3", "D3", "D4"],
        "timestamp": [T0 + h, T0 + 2 * h, T0 + h, T0 + 10 * h,
                      T0 + 10 * h + pd.Timedelta(seconds=30), T0 + 20 * h, T0 + h],
        "filePath": [f"media/M{i}.jpg" for i in range(1, 8)],
        "filePublic": [False] * 7,
        "fileMediatype": ["image/jpeg"] * 7,
        "exifData": [EXIF_GPS] * 7,
    })
    obs = pd.DataFrame({
        "observationID": ["O1", "O2", "O3", "O4", "O5", "O6", "O7", "O8"],
        "deploymentID": ["D1", "D1", "D2", "D3", "D3", "D3", "D4", "D4"],
        "mediaID": ["M1", "M2", "M3", None, "M5", "M6", "M7", "M7"],
        "eventID": [None, None, None, "E1", None, None, None, None],
        "eventStart": [T0 + h, T0 + 2 * h, T0 + h, T0 + 10 * h,
                       T0 + 10 * h + pd.Timedelta(seconds=30), T0 + 20 * h, T0 + h, T0 + h],
        "eventEnd": [T0 + h, T0 + 2 * h, T0 + h, T0 + 10 * h + pd.Timedelta(minutes=1),
                     T0 + 10 * h + pd.Timedelta(seconds=30), T0 + 20 * h, T0 + h, T0 + h],
        "observationLevel": ["media"] * 3 + ["event"] + ["media"] * 4,
        "observationType": ["animal", "animal", "animal", "human", "animal", "animal", "vehicle",
                            "animal"],
        "scientificName": ["Panthera tigris altaica", "Capreolus pygargus", "Capreolus pygargus",
                           None, "Capreolus pygargus", "Capreolus pygargus", None,
                           "Capreolus pygargus"],
    })
    metadata = {
        "title": "toy",
        "coordinatePrecision": 0.000001,
        "spatial": {"type": "Polygon", "coordinates": [[[130.987653, 43.123457],
                                                         [131.320981, 43.123457],
                                                         [131.320981, 43.456781],
                                                         [130.987653, 43.456781],
                                                         [130.987653, 43.123457]]]},
    }
    return Dataset({"deployments": deps, "deploymentDetails": details, "media": media,
                    "observations": obs}, metadata)


def deps_frame(lat, lon, unc=None) -> pd.DataFrame:
    n = len(lat)
    return pd.DataFrame({
        "deploymentID": [f"D{i}" for i in range(n)],
        "latitude": np.asarray(lat, dtype=float),
        "longitude": np.asarray(lon, dtype=float),
        "coordinateUncertainty": pd.array(unc if unc is not None else [None] * n, dtype="Int64"),
    })


def distance_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    lat1, lon1, lat2, lon2 = (np.asarray(v, dtype=float) for v in (lat1, lon1, lat2, lon2))
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def row(frame: pd.DataFrame, dep: str) -> pd.Series:
    return frame.set_index("deploymentID").loc[dep]


def exact_digits_in(frame: pd.DataFrame) -> list[str]:
    """Exact coordinates (4 or more decimals) that appear anywhere in the frame's CSV."""
    text = frame.to_csv()
    found = []
    for lat, lon in EXACT.values():
        for value in (lat, lon):
            for decimals in (4, 5, 6):
                if f"{value:.{decimals}f}" in text:
                    found.append(f"{value:.{decimals}f}")
    return found


# ---------------------------------------------------------------------------------------------
# Levels
# ---------------------------------------------------------------------------------------------
def test_level_to_precision_maps_to_camtrap_dp_terms():
    assert level_to_precision("exact").coordinate_precision is None
    assert level_to_precision("exact").uncertainty_m == 0
    assert level_to_precision("1km").coordinate_precision == 0.01
    assert level_to_precision("1km").uncertainty_m == 708  # ceil(500 * sqrt 2)
    assert level_to_precision("10km").coordinate_precision == 0.1
    assert level_to_precision("10km").uncertainty_m == 7072
    assert level_to_precision("withheld").uncertainty_m is None
    assert [level_to_precision(lv).level for lv in LOCATION_LEVELS] == list(LOCATION_LEVELS)


def test_unknown_level_names_the_vocabulary():
    with pytest.raises(ConfigError, match="'1km'"):
        level_to_precision("1 km")


def test_coarsest_level():
    assert coarsest_level(["exact", "10km", "1km"]) == "10km"
    assert coarsest_level([]) == "exact"


@pytest.mark.parametrize(("name", "expected"), [
    ("Panthera tigris", True),
    ("Panthera tigris altaica", True),
    ("panthera  PARDUS orientalis", True),
    ("Panthera", True),
    ("Panthera sp.", True),
    ("Panthera leo", False),
    ("Capreolus pygargus", False),
    ("Homo sapiens", False),
    (None, False),
    ("", False),
])
def test_is_sensitive(name, expected):
    assert is_sensitive([name]).tolist() == [expected]


# ---------------------------------------------------------------------------------------------
# Audience and policy
# ---------------------------------------------------------------------------------------------
def test_audience_validation():
    with pytest.raises(ConfigError, match="kind"):
        Audience("everyone")
    with pytest.raises(ConfigError, match="public_level"):
        Audience("public", level="1km")
    with pytest.raises(ConfigError, match="alpha-2"):
        Audience.partner(country="China")
    with pytest.raises(ConfigError, match="species_levels"):
        Audience.partner(species_levels={"Panthera tigris": "5km"})
    assert Audience.owner(country="cn").country == "CN"


def test_audience_is_hashable_and_frozen():
    a = Audience.partner(organisation="WWF", species_levels={"Panthera tigris": "10km"})
    b = Audience.partner(organisation="WWF", species_levels={"Panthera tigris": "10km"})
    assert a == b and hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.level = "exact"  # type: ignore[misc]
    with pytest.raises(TypeError):
        a.species_levels["Panthera pardus"] = "exact"  # type: ignore[index]


def test_policy_validation():
    with pytest.raises(ConfigError, match="public_level"):
        ProtectionPolicy(public_level="hidden")
    with pytest.raises(CRSError, match="EPSG:32652"):
        ProtectionPolicy(crs="EPSG:4326")
    with pytest.raises(ConfigError, match="sensitive_species"):
        ProtectionPolicy(sensitive_species=("",))
    assert ProtectionPolicy(sensitive_species=["Panthera tigris"]).sensitive_species == (
        "Panthera tigris",)


# ---------------------------------------------------------------------------------------------
# protect_locations: examples
# ---------------------------------------------------------------------------------------------
def test_exact_leaves_the_frame_as_is():
    deps = deps_frame([43.123457], [130.987653], [12])
    pd.testing.assert_frame_equal(protect_locations(deps, level="exact"), deps)


def test_1km_snaps_to_the_cell_centre_of_the_working_grid():
    deps = deps_frame([43.123457], [130.987653], [12])
    out = protect_locations(deps, level="1km")
    x, y = to_metric(deps["longitude"], deps["latitude"])
    cx, cy = (np.floor(x / 1000) + 0.5) * 1000, (np.floor(y / 1000) + 0.5) * 1000
    lon, lat = from_metric(cx, cy)
    assert out["latitude"].iloc[0] == pytest.approx(lat[0], abs=1e-6)
    assert out["longitude"].iloc[0] == pytest.approx(lon[0], abs=1e-6)
    assert out["coordinateUncertainty"].dtype == "Int64"
    assert 708 + 12 <= out["coordinateUncertainty"].iloc[0] <= 708 + 12 + 5


def test_per_row_levels_and_text_fields():
    deps = deps_frame([43.1, 43.2, 43.3], [130.9, 131.0, 131.1], [10, 10, 10])
    deps["locationID"] = ["a", "b", "c"]
    deps["locationName"] = ["den", "creek", "ridge"]
    out = protect_locations(deps, level=["exact", "10km", "withheld"])
    assert out.loc[0, ["latitude", "longitude"]].tolist() == [43.1, 130.9]
    assert out["locationName"].tolist() == ["den", None, None]
    assert out["locationID"].tolist() == ["a", "b", None]
    assert out["coordinateUncertainty"].iloc[0] == 10


def test_level_list_length_must_match():
    with pytest.raises(ConfigError, match="one per row"):
        protect_locations(deps_frame([43.1], [130.9]), level=["1km", "1km"])


def test_missing_columns_raise_schema_error():
    with pytest.raises(SchemaError, match="latitude"):
        protect_locations(pd.DataFrame({"longitude": [1.0]}), level="1km")


def test_missing_coordinates_stay_missing():
    out = protect_locations(deps_frame([np.nan, 43.1], [np.nan, 130.9]), level="10km")
    assert np.isnan(out["latitude"].iloc[0]) and pd.isna(out["coordinateUncertainty"].iloc[0])
    assert not np.isnan(out["latitude"].iloc[1])


def test_withheld_rows_share_one_point_that_covers_them():
    lat, lon = [43.123457, 43.9, 42.6], [130.987653, 131.5, 130.6]
    deps = deps_frame(lat, lon, [20, 5, None])
    out = protect_locations(deps, level="withheld")
    assert out["latitude"].nunique() == 1 and out["longitude"].nunique() == 1
    assert out["coordinateUncertainty"].nunique() == 1
    unc = out["coordinateUncertainty"].iloc[0]
    d = distance_m(lat, lon, out["latitude"], out["longitude"])
    assert (d + 20 <= unc).all()
    assert unc % 1000 == 20  # whole kilometres plus the largest own uncertainty
    assert unc >= 70_000  # never less than half the diagonal of a 100 km block


def test_configured_withheld_area_is_used_and_checked():
    area = WithheldArea(latitude=43.3, longitude=131.0, radius_m=150_000)
    deps = deps_frame([43.123457, 43.4], [130.987653, 131.2], [10, 10])
    out = protect_locations(deps, level="withheld", withheld_area=area)
    assert out["latitude"].tolist() == [43.3, 43.3]
    assert out["longitude"].tolist() == [131.0, 131.0]
    assert out["coordinateUncertainty"].tolist() == [150_010, 150_010]
    with pytest.raises(ConfigError, match="radius_m to at least"):
        protect_locations(deps_frame([45.9], [134.9]), level="withheld", withheld_area=area)


def test_withheld_area_validation():
    with pytest.raises(ConfigError, match="latitude"):
        WithheldArea(latitude=95.0, longitude=131.0, radius_m=1000)
    with pytest.raises(ConfigError, match="radius_m"):
        WithheldArea(latitude=43.0, longitude=131.0, radius_m=0)


def test_protect_locations_does_not_mutate():
    deps = deps_frame([43.123457, 43.2], [130.987653, 131.0], [10, None])
    deps["locationName"] = ["den", "creek"]
    before = deps.copy(deep=True)
    for level in LOCATION_LEVELS:
        protect_locations(deps, level=level)
    pd.testing.assert_frame_equal(deps, before)


# ---------------------------------------------------------------------------------------------
# protect_locations: invariants
# ---------------------------------------------------------------------------------------------
lats = st.floats(42.0, 46.0, allow_nan=False)
lons = st.floats(128.0, 135.0, allow_nan=False)
uncs = st.one_of(st.none(), st.integers(1, 500))
points = st.lists(st.tuples(lats, lons, uncs), min_size=1, max_size=30)
grid_levels = st.sampled_from(["1km", "10km"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(points=points, level=grid_levels)
def test_generalised_points_stay_in_their_cell_and_within_uncertainty(points, level):
    lat, lon, unc = zip(*points, strict=True)
    deps = deps_frame(lat, lon, list(unc))
    out = protect_locations(deps, level=level)
    size = level_to_precision(level).cell_size_m
    # never leaves its cell: the shown point is the centre of the true point's cell
    x, y = to_metric(deps["longitude"], deps["latitude"])
    sx, sy = to_metric(out["longitude"], out["latitude"])
    np.testing.assert_array_equal(np.floor(sx / size), np.floor(x / size))
    np.testing.assert_array_equal(np.floor(sy / size), np.floor(y / size))
    np.testing.assert_allclose(sx, (np.floor(x / size) + 0.5) * size, atol=0.5)
    np.testing.assert_allclose(sy, (np.floor(y / size) + 0.5) * size, atol=0.5)
    # the stated uncertainty covers the true point (plus its own uncertainty)
    own = deps["coordinateUncertainty"].fillna(0).to_numpy(dtype=float)
    d = distance_m(deps["latitude"], deps["longitude"], out["latitude"], out["longitude"])
    stated = out["coordinateUncertainty"].to_numpy(dtype=float)
    assert (d + own <= stated).all()
    # and is not wildly larger than the cell's half-diagonal
    assert (stated - own <= level_to_precision(level).uncertainty_m * 1.01 + 2).all()


@settings(max_examples=60, deadline=None)
@given(lat=lats, lon=lons, level=grid_levels,
       fx=st.tuples(st.floats(0.001, 0.999), st.floats(0.001, 0.999)),
       fy=st.tuples(st.floats(0.001, 0.999), st.floats(0.001, 0.999)))
def test_stations_in_one_cell_are_shown_at_one_point(lat, lon, level, fx, fy):
    size = level_to_precision(level).cell_size_m
    x, y = to_metric([lon], [lat])
    x0, y0 = np.floor(x / size) * size, np.floor(y / size) * size
    lon2, lat2 = from_metric(x0 + np.array(fx) * size, y0 + np.array(fy) * size)
    out = protect_locations(deps_frame(lat2, lon2), level=level)
    assert out["latitude"].nunique() == 1 and out["longitude"].nunique() == 1


@settings(max_examples=40, deadline=None)
@given(points=points, level=grid_levels)
def test_generalisation_is_deterministic_and_row_independent(points, level):
    lat, lon, unc = zip(*points, strict=True)
    deps = deps_frame(lat, lon, list(unc))
    whole = protect_locations(deps, level=level)
    pd.testing.assert_frame_equal(whole, protect_locations(deps, level=level))
    alone = protect_locations(deps.iloc[[0]], level=level)
    pd.testing.assert_frame_equal(alone, whole.iloc[[0]])


@settings(max_examples=60, deadline=None)
@given(points=points, data=st.data())
def test_withheld_output_does_not_depend_on_where_a_station_is(points, data):
    """Moving a withheld station within its 100 km block changes nothing in the output."""
    lat, lon, unc = zip(*points, strict=True)
    deps = deps_frame(lat, lon, list(unc))
    out = protect_locations(deps, level="withheld")
    i = data.draw(st.integers(0, len(deps) - 1))
    x, y = to_metric(deps["longitude"], deps["latitude"])
    fx, fy = data.draw(st.floats(0.0001, 0.9999)), data.draw(st.floats(0.0001, 0.9999))
    bx, by = np.floor(x[i] / 100_000) * 100_000, np.floor(y[i] / 100_000) * 100_000
    new_lon, new_lat = from_metric([bx + fx * 100_000], [by + fy * 100_000])
    moved = deps.copy()
    moved.loc[i, "longitude"], moved.loc[i, "latitude"] = new_lon[0], new_lat[0]
    out_moved = protect_locations(moved, level="withheld")
    pd.testing.assert_frame_equal(out, out_moved)
    # and the single shown point still covers every station
    d = distance_m(deps["latitude"], deps["longitude"], out["latitude"], out["longitude"])
    assert (d <= out["coordinateUncertainty"].to_numpy(dtype=float)).all()


@settings(max_examples=40, deadline=None)
@given(points=points, area=st.tuples(st.floats(42.0, 46.0), st.floats(128.0, 135.0)))
def test_withheld_with_a_fixed_area_shows_only_the_area(points, area):
    lat, lon, unc = zip(*points, strict=True)
    policy_area = WithheldArea(latitude=area[0], longitude=area[1], radius_m=1_000_000)
    out = protect_locations(deps_frame(lat, lon, list(unc)), level="withheld",
                            withheld_area=policy_area)
    assert set(out["latitude"]) == {area[0]} and set(out["longitude"]) == {area[1]}
    assert out["coordinateUncertainty"].nunique() == 1


# ---------------------------------------------------------------------------------------------
# protect_dataset
# ---------------------------------------------------------------------------------------------
AUDIENCES = [
    Audience.owner(),
    Audience.owner(country="CN"),
    Audience.partner(organisation="WWF Russia"),
    Audience.partner(level="exact"),
    Audience.public(),
]


def test_owner_sees_everything_unchanged():
    ds = toy()
    out = protect_dataset(ds, audience=Audience.owner())
    assert out is not ds
    for name in ds.table_names:
        pd.testing.assert_frame_equal(out[name], ds[name])
    assert dict(out.metadata) == dict(ds.metadata)


def test_public_withholds_every_record_at_a_tiger_station():
    ds = toy()
    out = protect_dataset(ds, audience=Audience.public(),
                          policy=ProtectionPolicy(public_level="10km"))
    deps = out.deployments
    d1 = row(deps, "D1")
    # the station's roe deer record is still there, but its station shows no location
    assert "O2" in set(out.observations["observationID"])
    assert pd.isna(d1["locationID"]) and pd.isna(d1["locationName"])
    assert pd.isna(d1["deploymentComments"])
    assert d1["coordinateUncertainty"] >= 70_000
    assert distance_m(d1["latitude"], d1["longitude"], *EXACT["D1"]) > 1_000
    # a roe-deer-only station is generalised to the public level, not withheld
    d2 = row(deps, "D2")
    assert d2["locationID"] == "L2"
    assert 7_072 <= d2["coordinateUncertainty"] - 30 <= 7_200
    assert not exact_digits_in(deps)


def test_public_default_withholds_everything_and_leaks_no_digits():
    ds = toy()
    out = protect_dataset(ds, audience=Audience.public())
    deps = out.deployments
    assert deps["latitude"].nunique() == 1 and deps["longitude"].nunique() == 1
    assert deps["locationID"].isna().all()
    assert not exact_digits_in(deps)
    assert not exact_digits_in(out.media)
    assert str(ds.metadata["spatial"]) != str(out.metadata["spatial"])
    assert "43.123457" not in str(dict(out.metadata))
    assert out.metadata["coordinatePrecision"] == 1.0


def test_partner_sees_agreed_level_and_coarser_where_the_agreement_says():
    ds = toy()
    out = protect_dataset(ds, audience=Audience.partner(organisation="WWF Russia"))
    unc = out.deployments.set_index("deploymentID")["coordinateUncertainty"]
    assert (unc.between(708, 708 + 40)).all()  # 1km everywhere by default
    assert out.metadata["coordinatePrecision"] == 0.01
    strict = Audience.partner(organisation="WWF Russia", level="1km",
                              species_levels={"Panthera tigris": "10km"})
    out = protect_dataset(ds, audience=strict)
    unc = out.deployments.set_index("deploymentID")["coordinateUncertainty"]
    assert unc["D1"] >= 7_072 and unc["D2"] < 1_000
    assert out.metadata["coordinatePrecision"] == 0.1


def test_partner_sensitive_level_applies_where_no_species_level_is_agreed():
    policy = ProtectionPolicy(partner_sensitive_level="withheld")
    out = protect_dataset(toy(), audience=Audience.partner(), policy=policy)
    unc = out.deployments.set_index("deploymentID")["coordinateUncertainty"]
    assert unc["D1"] >= 70_000 and unc["D2"] < 1_000
    agreed = Audience.partner(species_levels={"Panthera tigris": "exact"})
    out = protect_dataset(toy(), audience=agreed, policy=policy)
    assert row(out.deployments, "D1")["coordinateUncertainty"] < 1_000


@pytest.mark.parametrize("audience", [Audience.partner(level="exact"), Audience.public()],
                         ids=["partner", "public"])
def test_people_and_vehicles_never_reach_beyond_the_owner(audience):
    ds = toy()
    out = protect_dataset(ds, audience=audience)
    media = set(out.media["mediaID"])
    # M4 and M5 fall in the people event E1, M7 shows a vehicle
    assert media == {"M1", "M2", "M3", "M6"}
    kept = out.observations
    assert set(kept["observationID"]) == {"O1", "O2", "O3", "O4", "O6"}
    # every kept observation points to kept media (or to none: the event-level record)
    assert kept["mediaID"].dropna().isin(media).all()
    assert kept.loc[kept["observationID"] == "O4", "mediaID"].isna().all()


def test_people_events_only_remove_media_of_their_own_station_and_span():
    ds = toy()
    media = ds.media.copy()
    # same moment as the people event E1 at D3, but at D2: kept
    media.loc[media["mediaID"] == "M3", "timestamp"] = T0 + pd.Timedelta(hours=10)
    # the exact end of the event (inclusive) at D3, and a second-resolution dtype: removed
    media.loc[media["mediaID"] == "M6", "timestamp"] = T0 + pd.Timedelta(hours=10, minutes=1)
    media["timestamp"] = media["timestamp"].astype("datetime64[s, UTC]")
    out = protect_dataset(ds.replace(media=media), audience=Audience.public())
    assert set(out.media["mediaID"]) == {"M1", "M2", "M3"}


def test_media_without_a_time_at_a_station_with_people_is_removed():
    ds = toy()
    media = ds.media.copy()
    media.loc[media["mediaID"] == "M6", "timestamp"] = pd.NaT
    out = protect_dataset(ds.replace(media=media), audience=Audience.partner())
    assert "M6" not in set(out.media["mediaID"])
    assert "O6" not in set(out.observations["observationID"])


@pytest.mark.parametrize("audience", AUDIENCES[2:], ids=["partner", "partner-exact", "public"])
def test_exif_is_stripped_for_everyone_but_the_owner(audience):
    out = protect_dataset(toy(), audience=audience)
    assert out.media["exifData"].isna().all()
    assert not exact_digits_in(out.media)


def test_owner_of_one_country_sees_the_other_as_a_partner():
    ds = toy()
    out = protect_dataset(ds, audience=Audience.owner(country="CN", organisation="ntlnp"))
    deps = out.deployments.set_index("deploymentID")
    assert deps.loc["D1", "latitude"] == EXACT["D1"][0]
    assert deps.loc["D2", "longitude"] == EXACT["D2"][1]
    assert deps.loc["D3", "latitude"] != EXACT["D3"][0]
    assert deps.loc["D4", "coordinateUncertainty"] >= 708
    media = out.media.set_index("mediaID")
    assert media.loc["M1", "exifData"] == EXIF_GPS
    assert pd.isna(media.loc["M6", "exifData"])
    assert set(media.index) == {"M1", "M2", "M3", "M6"}
    # the Russian owner sees its own people and vehicles
    ru = protect_dataset(ds, audience=Audience.owner(country="RU"))
    assert {"M4", "M5", "M7"} <= set(ru.media["mediaID"])
    assert row(ru.deployments, "D1")["latitude"] != EXACT["D1"][0]


def test_owner_with_a_name_needs_deployment_details():
    ds = toy().replace(deploymentDetails=None)
    with pytest.raises(SchemaError, match="deploymentDetails"):
        protect_dataset(ds, audience=Audience.owner(country="CN"))


@pytest.mark.parametrize("audience", AUDIENCES, ids=lambda a: f"{a.kind}-{a.country}-{a.level}")
def test_protect_dataset_never_mutates_its_input(audience):
    ds = toy()
    before = {name: ds[name].copy(deep=True) for name in ds.table_names}
    meta = str(dict(ds.metadata))
    protect_dataset(ds, audience=audience)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(ds[name], frame)
    assert str(dict(ds.metadata)) == meta


def test_protect_dataset_checks_its_arguments():
    with pytest.raises(TypeError, match="Audience.public"):
        protect_dataset(toy(), audience="public")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Dataset"):
        protect_dataset(toy().deployments, audience=Audience.public())  # type: ignore[arg-type]


def test_configured_withheld_area_must_cover_the_stations():
    far = ProtectionPolicy(withheld_area=WithheldArea(latitude=50.0, longitude=120.0,
                                                      radius_m=10_000))
    with pytest.raises(ConfigError, match="withheld_area"):
        protect_dataset(toy(), audience=Audience.public(), policy=far)
    near = ProtectionPolicy(withheld_area=WithheldArea(latitude=43.3, longitude=131.1,
                                                       radius_m=200_000))
    out = protect_dataset(toy(), audience=Audience.public(), policy=near)
    assert set(out.deployments["latitude"]) == {43.3}


def test_samples_are_protected_by_their_own_species():
    samples = pd.DataFrame({
        "sampleID": ["S1", "S2"],
        "sampleType": ["scat", "hair"],
        "scientificName": ["Panthera pardus orientalis", "Capreolus pygargus"],
        "latitude": [43.123457, 43.234561],
        "longitude": [130.987653, 131.098762],
        "coordinateUncertainty": pd.array([5, 5], dtype="Int64"),
        "countryCode": ["RU", "CN"],
        "lab": ["IBSS", "FRC"],
    })
    ds = toy().replace(samples=samples)
    out = protect_dataset(ds, audience=Audience.public(),
                          policy=ProtectionPolicy(public_level="10km"))
    s = out["samples"].set_index("sampleID")
    assert s.loc["S1", ["latitude", "longitude"]].isna().all()
    assert pd.isna(s.loc["S1", "coordinateUncertainty"])
    assert s.loc["S2", "coordinateUncertainty"] >= 7_072
    assert not exact_digits_in(out["samples"])
    owner_cn = protect_dataset(ds, audience=Audience.owner(country="CN")).get("samples")
    s = owner_cn.set_index("sampleID")
    assert s.loc["S2", "latitude"] == 43.234561
    assert s.loc["S1", "latitude"] != 43.123457


@pytest.mark.parametrize("audience", AUDIENCES, ids=lambda a: f"{a.kind}-{a.country}-{a.level}")
def test_protected_example_package_stays_valid_camtrap_dp(tmp_path, audience):
    from amurlink import read_camtrap_dp, validate_camtrap_dp, write_camtrap_dp
    from amurlink.datasets import load_example

    ds = load_example()
    out = protect_dataset(ds, audience=audience)
    path = write_camtrap_dp(out, tmp_path / "package")
    report = validate_camtrap_dp(path)
    assert not [i for i in report.issues if i.severity == "error"], report.issues
    back = read_camtrap_dp(path)
    assert len(back.deployments) == len(ds.deployments)
    if audience.kind == "public":  # tigers or leopards at every toy station
        exact = set(ds.deployments["latitude"]) | set(ds.deployments["longitude"])
        shown = set(back.deployments["latitude"]) | set(back.deployments["longitude"])
        assert not exact & shown
        assert back.deployments["latitude"].nunique() == 1


# ---------------------------------------------------------------------------------------------
# protect_dataset: invariants on random datasets
# ---------------------------------------------------------------------------------------------
SPECIES = ["Panthera tigris altaica", "Panthera pardus orientalis", "Panthera",
           "Capreolus pygargus", "Sus scrofa", None]
TYPES = ["animal", "animal", "animal", "human", "vehicle", "blank"]


@st.composite
def datasets(draw):
    n_dep = draw(st.integers(1, 6))
    dep_ids = [f"D{i}" for i in range(n_dep)]
    coords = draw(st.lists(st.tuples(lats, lons), min_size=n_dep, max_size=n_dep))
    deps = pd.DataFrame({
        "deploymentID": dep_ids,
        "latitude": [c[0] for c in coords],
        "longitude": [c[1] for c in coords],
        "coordinateUncertainty": pd.array([10] * n_dep, dtype="Int64"),
        "deploymentStart": [T0] * n_dep,
        "deploymentEnd": [T0 + pd.Timedelta(days=30)] * n_dep,
    })
    n_media = draw(st.integers(0, 15))
    m_dep = draw(st.lists(st.sampled_from(dep_ids), min_size=n_media, max_size=n_media))
    m_min = draw(st.lists(st.integers(0, 600), min_size=n_media, max_size=n_media))
    media = pd.DataFrame({
        "mediaID": [f"M{i}" for i in range(n_media)],
        "deploymentID": pd.Series(m_dep, dtype=object),
        "timestamp": pd.Series([T0 + pd.Timedelta(minutes=m) for m in m_min],
                               dtype="datetime64[ns, UTC]"),
        "exifData": ['{"GPSLatitude": 43.1}'] * n_media,
    })
    obs_rows = []
    for i in range(n_media):
        for _ in range(draw(st.integers(0, 2))):
            obs_rows.append(dict(deploymentID=m_dep[i], mediaID=f"M{i}", observationLevel="media",
                                 eventStart=T0 + pd.Timedelta(minutes=m_min[i]),
                                 eventEnd=T0 + pd.Timedelta(minutes=m_min[i]),
                                 observationType=draw(st.sampled_from(TYPES)),
                                 scientificName=draw(st.sampled_from(SPECIES))))
    for _ in range(draw(st.integers(0, 3))):
        start = draw(st.integers(0, 600))
        obs_rows.append(dict(deploymentID=draw(st.sampled_from(dep_ids)), mediaID=None,
                             observationLevel="event",
                             eventStart=T0 + pd.Timedelta(minutes=start),
                             eventEnd=T0 + pd.Timedelta(minutes=start + draw(st.integers(0, 60))),
                             observationType=draw(st.sampled_from(TYPES)),
                             scientificName=draw(st.sampled_from(SPECIES))))
    obs = pd.DataFrame(obs_rows, columns=["deploymentID", "mediaID", "observationLevel",
                                          "eventStart", "eventEnd", "observationType",
                                          "scientificName"])
    obs.insert(0, "observationID", [f"O{i}" for i in range(len(obs))])
    for col in ("eventStart", "eventEnd"):
        obs[col] = pd.to_datetime(obs[col], utc=True)
    return Dataset({"deployments": deps, "media": media, "observations": obs})


def _private_media_ids(ds: Dataset) -> set[str]:
    """Reference (row by row) implementation: media showing people or vehicles."""
    private = ds.observations[ds.observations["observationType"].isin(["human", "vehicle"])]
    ids = set(private["mediaID"].dropna())
    for ev in private[private["mediaID"].isna()].itertuples():
        for m in ds.media.itertuples():
            if m.deploymentID == ev.deploymentID and ev.eventStart <= m.timestamp <= ev.eventEnd:
                ids.add(m.mediaID)
    return ids


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ds=datasets(), audience=st.sampled_from(AUDIENCES[2:]))
def test_non_owners_never_see_private_media_exif_or_sensitive_stations(ds, audience):
    out = protect_dataset(ds, audience=audience)
    private = _private_media_ids(ds)
    assert not (set(out.media["mediaID"]) & private)
    assert set(out.media["mediaID"]) == set(ds.media["mediaID"]) - private
    assert out.media["exifData"].isna().all()
    assert out.observations["mediaID"].dropna().isin(out.media["mediaID"]).all()
    assert len(out.deployments) == len(ds.deployments)
    if audience.kind == "public":
        sensitive = ds.observations.loc[is_sensitive(ds.observations["scientificName"]),
                                        "deploymentID"]
        held = out.deployments[out.deployments["deploymentID"].isin(sensitive)]
        assert held["latitude"].nunique() <= 1
        exact = ds.deployments.set_index("deploymentID")
        for dep in held.itertuples():
            assert dep.latitude != exact.loc[dep.deploymentID, "latitude"]
            assert dep.coordinateUncertainty >= 70_000


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ds=datasets())
def test_public_output_of_a_sensitive_station_ignores_where_it_is(ds):
    """Moving a tiger station within its 100 km block leaves the public output as it was."""
    tiger = ds.observations.loc[is_sensitive(ds.observations["scientificName"]), "deploymentID"]
    if tiger.empty:
        return
    dep = tiger.iloc[0]
    deps = ds.deployments.copy()
    i = deps.index[deps["deploymentID"] == dep][0]
    x, y = to_metric(deps.loc[[i], "longitude"], deps.loc[[i], "latitude"])
    bx, by = np.floor(x / 100_000) * 100_000, np.floor(y / 100_000) * 100_000
    lon, lat = from_metric(bx + 12_345.0, by + 67_890.0)
    deps.loc[i, "longitude"], deps.loc[i, "latitude"] = lon[0], lat[0]
    public = Audience.public()
    a = protect_dataset(ds, audience=public, policy=ProtectionPolicy(public_level="10km"))
    b = protect_dataset(ds.replace(deployments=deps), audience=public,
                        policy=ProtectionPolicy(public_level="10km"))
    pd.testing.assert_frame_equal(a.deployments.set_index("deploymentID").loc[[dep]],
                                  b.deployments.set_index("deploymentID").loc[[dep]])


# ---------------------------------------------------------------------------------------------
# Scale
# ---------------------------------------------------------------------------------------------
def test_many_records_keep_only_animal_and_blank_media_for_partners():
    """Correctness at scale (20,000 records); speed is in benchmarks/bench_protection.py."""
    ds, kinds = make_synthetic_records(n_deployments=200, n_records=20_000, rng=20240301)
    out = protect_dataset(ds, audience=Audience.partner(), policy=ProtectionPolicy())
    assert len(out.media) == int((kinds == "animal").sum() + (kinds == "blank").sum())
