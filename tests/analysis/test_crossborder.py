"""Cross-border analysis: each definition of the issue checked to the metre on a hand-made case."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import shapely

from amurlink.analysis.crossborder import (
    CrossBorderResult,
    crossborder,
    distance_bands,
    encounters,
    individual_crossings,
    protect_crossborder,
    species_summary,
    yearly_table,
)
from amurlink.core.border import Border
from amurlink.core.crs import from_metric, to_metric
from amurlink.dataset import Dataset
from amurlink.exceptions import ConfigError, CRSError
from amurlink.testing import make_toy_dataset, typed_frame

X0, Y0 = 650_000.0, 4_760_000.0  # origin of the hand-made landscape, EPSG:32652 metres
TIGER, LEOPARD = "Panthera tigris", "Panthera pardus"
T_CN, T_RU, CUB = "CN-NTLNP:T01", "RU-LLNP:T-1", "CN-NTLNP:T09"
L_RU = "RU-LLNP:L-1"


def hand_border() -> Border:
    """A two-part CN-RU line (x = 0) with a lake between the parts, a coast at y = 0 and a
    CN-KP border at x = -20 km that is not part of the line."""
    def sh(g):
        return shapely.transform(g, lambda c: c + np.array([X0, Y0]))
    lake = shapely.box(-3_000, 10_000, 3_000, 14_000)
    line = shapely.MultiLineString([[(0, 0), (0, 10_000)], [(0, 14_000), (0, 20_000)]])
    cn = shapely.box(-20_000, 0, 0, 20_000).difference(lake)
    ru = shapely.box(0, 0, 20_000, 20_000).difference(lake)
    kp = shapely.box(-30_000, 0, -20_000, 20_000)
    return Border.from_geometries(sh(line), countries={"CN": sh(cn), "RU": sh(ru), "KP": sh(kp)},
                                  extras={"lake": [("lake", sh(lake))]})


# deployment: (x, y) in metres from the origin, declared country
CAMERAS = {
    "C1": (-19_900.0, 5_000.0, "CN"),   # 100 m from the KP border, 19.9 km from the line
    "C2": (-1_000.0, 2_000.0, "CN"),
    "C3": (-200.0, 3_000.0, "CN"),      # at the border (200 m)
    "C4": (1_500.0, 100.0, "RU"),       # 100 m from the coast, 1.5 km from the line
    "C5": (251.0, 4_000.0, "RU"),       # just outside the tolerance
    "C6": (2_000.0, 9_800.0, "RU"),     # 200 m from the lake shore
    "C7": (500.0, 12_000.0, "RU"),      # in the lake gap: distance to the part ends
    "C8": (3_000.0, 16_000.0, "CN"),    # polygon says RU, declared CN: flagged, CN wins
    "C9": (249.0, 4_500.0, "RU"),       # at the border (249 m)
    # leopard range, 5 distinct locations straddling the border
    "L1": (-1_000.0, 5_000.0, "CN"), "L2": (1_000.0, 5_000.0, "RU"),
    "L3": (1_000.0, 7_000.0, "RU"), "L4": (-1_000.0, 7_000.0, "CN"),
    "L5": (9_000.0, 6_000.0, "RU"),
}
# (observationID, deployment, UTC time, individual, species)
RECORDS = [
    ("o01", "C1", "2015-01-01T10:00:00Z", T_CN, TIGER),
    ("o02", "C4", "2015-01-05T10:00:00Z", T_RU, TIGER),   # cross 1
    ("o03", "C3", "2015-01-09T10:00:00Z", T_CN, TIGER),   # at border: left out
    ("o04", "C6", "2015-01-12T10:00:00Z", T_RU, TIGER),
    ("o05", "C2", "2015-02-01T10:00:00Z", T_CN, TIGER),   # cross 2
    # DNA sample S1 (CN) on 2015-02-10
    ("o07", "C7", "2015-03-01T10:00:00Z", T_RU, TIGER),   # cross 3 (lake gap, declared RU)
    ("o08", "C8", "2016-03-05T10:00:00Z", T_RU, TIGER),   # cross 4 (declared CN)
    ("o10", "C5", "2016-04-01T10:00:00Z", T_RU, TIGER),   # tie with o09: ID order -> o09 first
    ("o09", "C2", "2016-04-01T10:00:00Z", T_CN, TIGER),   # CN, CN, RU: cross 5 (not 6)
    ("o11", "C9", "2016-04-02T10:00:00Z", T_RU, TIGER),   # at border
    ("o20", "C2", "2015-01-03T10:00:00Z", CUB, TIGER),
    ("o21", "C4", "2015-01-04T10:00:00Z", CUB, TIGER),
] + [(f"o3{i}", f"L{i}", f"2015-06-0{i}T10:00:00Z", L_RU, LEOPARD) for i in range(1, 6)]


def hand_dataset(records=RECORDS, cameras=CAMERAS, shift=(0.0, 0.0)) -> Dataset:
    ids = list(cameras)
    xy = np.array([cameras[d][:2] for d in ids])
    lon, lat = from_metric(xy[:, 0] + X0, xy[:, 1] + Y0)
    deployments = typed_frame("deployments", [
        {"deploymentID": d, "latitude": la, "longitude": lo,
         "deploymentStart": "2014-12-01T00:00:00Z", "deploymentEnd": "2016-12-01T00:00:00Z"}
        for d, lo, la in zip(ids, lon, lat, strict=True)])
    details = typed_frame("deploymentDetails", [
        {"deploymentID": d, "countryCode": cameras[d][2],
         "timezone": "Asia/Shanghai" if cameras[d][2] == "CN" else "Asia/Vladivostok"}
        for d in ids])
    observations = typed_frame("observations", [
        {"observationID": o, "deploymentID": d, "eventStart": t, "eventEnd": t,
         "observationLevel": "event", "observationType": "animal", "scientificName": sp,
         "individualID": ind, "count": 1}
        for o, d, t, ind, sp in records])
    individuals = typed_frame("individuals", [
        {"individualID": T_CN, "catalogue": "CN-NTLNP", "scientificName": TIGER,
         "lifeStage": "adult", "knownFlanks": "left"},
        {"individualID": T_RU, "catalogue": "RU-LLNP", "scientificName": TIGER,
         "lifeStage": "adult", "knownFlanks": "right"},
        {"individualID": CUB, "catalogue": "CN-NTLNP", "scientificName": TIGER,
         "lifeStage": "juvenile"},
        {"individualID": L_RU, "catalogue": "RU-LLNP", "scientificName": LEOPARD,
         "lifeStage": "adult", "knownFlanks": "left"},
    ])
    links = typed_frame("identityLinks", [
        # a cross-border link is confirmed once a reviewer of each side accepted it
        {"linkEventID": "E1", "subjectA": T_CN, "subjectB": T_RU, "method": "dna",
         "status": "confirmed", "reviewer": "Li [CN]", "timestamp": "2016-06-01T00:00:00Z"},
        {"linkEventID": "E1b", "subjectA": T_CN, "subjectB": T_RU, "method": "dna",
         "status": "confirmed", "reviewer": "Anna [RU]", "timestamp": "2016-06-01T00:00:00Z"},
        {"linkEventID": "E2", "subjectA": "S1", "subjectB": T_RU, "method": "dna",
         "status": "confirmed", "timestamp": "2016-06-01T00:00:00Z"},
        {"linkEventID": "E3", "subjectA": "S2", "subjectB": T_RU, "method": "dna",
         "status": "rejected", "timestamp": "2016-06-01T00:00:00Z"},
    ])
    sx, sy = X0 + shift[0], Y0 + shift[1]
    s_lon, s_lat = from_metric([sx - 4_000.0, sx + 4_000.0], [sy + 18_000.0, sy + 18_000.0])
    samples = typed_frame("samples", [
        {"sampleID": "S1", "sampleType": "scat", "scientificName": TIGER, "lab": "CN-LAB",
         "latitude": s_lat[0], "longitude": s_lon[0], "collectionDate": "2015-02-10T00:00:00Z",
         "countryCode": "CN"},
        {"sampleID": "S2", "sampleType": "scat", "scientificName": TIGER, "lab": "RU-LAB",
         "latitude": s_lat[1], "longitude": s_lon[1], "collectionDate": "2015-02-11T00:00:00Z",
         "countryCode": "RU"},
    ])
    empty_media = typed_frame("media", [])
    return Dataset({"deployments": deployments, "media": empty_media,
                    "observations": observations, "deploymentDetails": details,
                    "individuals": individuals, "identityLinks": links, "samples": samples})


@pytest.fixture(scope="module")
def result() -> CrossBorderResult:
    return crossborder(hand_dataset(), border=hand_border())


def tiger_row(table: pd.DataFrame) -> pd.Series:
    rows = table[table["members"] == f"{T_CN} = {T_RU}"]
    assert len(rows) == 1
    return rows.iloc[0]


def test_joint_individual_is_the_linked_component_adults_only(result):
    ind = result.individuals
    assert sorted(ind["members"]) == [f"{T_CN} = {T_RU}", L_RU]  # the cub is left out
    t = tiger_row(ind)
    assert t["knownFlanks"] == "both" and not t["oneFlank"]
    leopard = ind[ind["members"] == L_RU].iloc[0]
    assert leopard["oneFlank"]  # counted, and marked
    everyone = crossborder(hand_dataset(), border=hand_border(), life_stage=None)
    assert CUB in set(everyone.individuals["members"])


def test_encounters_country_flag_and_border(result):
    enc = result.encounters.set_index("encounterID")
    assert "S2" not in enc.index  # rejected link: not assigned
    assert enc.loc["S1", "source"] == "dna" and enc.loc["S1", "country"] == "CN"
    assert enc.loc["S1", "individualID"] == T_CN  # the CN member
    # declared code wins over the polygon, and the record is flagged
    assert enc.loc["o08", ["polygonCountry", "country", "flagged"]].tolist() == ["RU", "CN", True]
    # in the lake gap there is no polygon: the declared code
    assert pd.isna(enc.loc["o07", "polygonCountry"]) and enc.loc["o07", "country"] == "RU"
    assert not enc.loc["o07", "flagged"]
    assert enc["atBorder"][enc["atBorder"]].index.tolist() == ["o03", "o11"]


def test_distance_is_to_the_line_only_to_the_metre(result):
    km = result.encounters.set_index("encounterID")["distance_km"] * 1_000
    expected = {
        "o01": 19_900.0,              # not 100 m to the KP border
        "o02": 1_500.0,               # not 100 m to the coast
        "o04": 2_000.0,               # not 200 m to the lake shore
        "o07": math.hypot(500.0, 2_000.0),  # nearest end of a part, across the lake gap
        "o08": 3_000.0, "o10": 251.0, "o11": 249.0, "o03": 200.0,
        "S1": 4_000.0,
    }
    for eid, metres in expected.items():
        assert km[eid] == pytest.approx(metres, abs=1e-3), eid


def test_crossings_sequence_ties_by_id(result):
    t = tiger_row(result.individuals)
    assert t["crossings"] == 5
    assert t["transboundary"]
    assert (t["encounters_CN"], t["encounters_RU"], t["encounters_border"]) == (5, 4, 2)
    assert t["encounters"] == 11
    # ties the other way round (o09 renamed to o99) give one more crossing
    recs = [("o99",) + r[1:] if r[0] == "o09" else r for r in RECORDS]
    other = crossborder(hand_dataset(recs), border=hand_border())
    assert tiger_row(other.individuals)["crossings"] == 6


def test_max_distance_per_country(result):
    t = tiger_row(result.individuals)
    assert t["max_distance_km_CN"] * 1_000 == pytest.approx(19_900.0, abs=1e-3)
    assert t["max_distance_km_RU"] * 1_000 == pytest.approx(math.hypot(500, 2_000), abs=1e-3)


def test_first_last_sources(result):
    t = tiger_row(result.individuals)
    assert t["first_seen"] == pd.Timestamp("2015-01-01T10:00:00Z")
    assert t["last_seen"] == pd.Timestamp("2016-04-02T10:00:00Z")
    assert t["sources"] == "both"


def test_mcp95_area_and_shares(result):
    leopard = result.individuals.set_index("members").loc[L_RU]
    # centroid (1800, 6000); the far point L5 is beyond the 95% quantile of distances
    assert leopard["locations"] == 5
    assert leopard["mcp95_km2"] == pytest.approx(4.0, abs=1e-9)
    assert leopard["mcp95_share_CN"] == pytest.approx(0.5, abs=1e-9)
    assert leopard["mcp95_share_RU"] == pytest.approx(0.5, abs=1e-9)


def test_species_summary_double_counting(result):
    s = result.summary.set_index("scientificName")
    assert s.loc[TIGER, ["individuals", "transboundary", "national_CN", "national_RU",
                         "national_sum", "double_counted", "crossings"]].tolist() == \
        [1, 1, 1, 1, 2, 1, 5]
    assert s.loc[LEOPARD, "transboundary"] == 1  # L1/L4 in CN, L2/L3/L5 in RU
    assert s.loc[TIGER, "transboundary_share"] == 1.0


def test_period_species_and_json(result):
    only_2015 = crossborder(hand_dataset(), border=hand_border(), species="Panthera tigris",
                            start="2015-01-01", end="2015-12-31")
    t = tiger_row(only_2015.individuals)
    assert t["crossings"] == 3 and t["last_seen"] == pd.Timestamp("2015-03-01T10:00:00Z")
    assert set(only_2015.summary["scientificName"]) == {TIGER}
    d = result.to_dict()
    assert set(d) >= {"summary", "individuals"}
    assert d["summary"][TIGER]["national_counts"] == {"CN": 1, "RU": 1}
    jid = tiger_row(result.individuals)["jointID"]
    one = d["individuals"][jid]
    assert one["scientificName"] == TIGER and one["crossings"] == 5
    assert one["encounters"] == {"CN": 5, "RU": 4, "border": 2}
    assert one["first_seen"] == "2015-01-01T10:00:00Z"
    assert set(one["max_distance_from_border_km"]) == {"CN", "RU"}


def test_yearly_table_and_bands(result):
    y = result.yearly.set_index(["scientificName", "year"])
    assert y.loc[(TIGER, 2015), "crossings"] == 3
    assert y.loc[(TIGER, 2016), "crossings"] == 1  # CN, CN, RU in 2016
    assert y.loc[(TIGER, 2016), "crossings_change"] == -2
    bands = distance_bands(result.encounters, bands_km=(0, 1, 5))
    tiger_ru = bands[(bands["scientificName"] == TIGER) & (bands["country"] == "RU")]
    assert tiger_ru["encounters"].tolist() == [2, 3, 0]  # o10, o11 | o02, o04, o07


def test_protection_rounds_or_withholds(result):
    one_km = protect_crossborder(result, level="1km")
    t = tiger_row(one_km.individuals)
    assert t["max_distance_km_CN"] == 20.0 and t["max_distance_km_RU"] == 2.0
    assert one_km.encounters["x"].isna().all()
    held = protect_crossborder(one_km, level="withheld")
    assert tiger_row(held.individuals)[["max_distance_km_CN", "mcp95_km2"]].isna().all()
    assert held.to_dict()["level"] == "withheld"
    assert protect_crossborder(held, level="exact").level == "withheld"  # never finer again
    with pytest.raises(ConfigError):
        protect_crossborder(result, level="5km")


def test_functions_compose_and_do_not_mutate():
    ds, b = hand_dataset(), hand_border()
    before = ds.observations.copy()
    enc = encounters(ds, border=b)
    ind = individual_crossings(enc, border=b)
    s = species_summary(ind)
    pd.testing.assert_frame_equal(ds.observations, before)
    assert s["individuals"].sum() == 2
    assert yearly_table(enc)["year"].tolist() == [2015, 2015, 2016]


def test_crs_must_match_the_border():
    with pytest.raises(CRSError):
        encounters(hand_dataset(), border=hand_border(), crs="EPSG:32653")


def test_toy_dataset_one_linked_tiger():
    x, y = to_metric([131.0, 131.0, 130.5, 130.5, 131.5, 131.5],
                     [42.5, 43.7, 42.5, 43.7, 42.5, 43.7])
    line = shapely.LineString([(x[0], y[0]), (x[1], y[1])])
    cn = shapely.Polygon([(x[2], y[2]), (x[3], y[3]), (x[1], y[1]), (x[0], y[0])])
    ru = shapely.Polygon([(x[0], y[0]), (x[1], y[1]), (x[5], y[5]), (x[4], y[4])])
    res = crossborder(make_toy_dataset(), border=Border.from_geometries(
        line, countries={"CN": cn, "RU": ru}))
    s = res.summary.set_index("scientificName")
    assert s.loc[TIGER, ["individuals", "transboundary", "double_counted"]].tolist() == [1, 1, 1]
    assert s.loc[LEOPARD, ["individuals", "transboundary"]].tolist() == [2, 0]
    assert res.individuals["crossings"].sum() == 1
