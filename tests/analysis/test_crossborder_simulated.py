"""On simulated data, per-individual encounters, crossings and distances equal an independent,
deliberately simple implementation computed from ``truth/`` (docs/formats.md, section 4).

The library pipeline is fed the true detections (one observation per detection, the true
animal as ``individualID``), so this compares two implementations of the issue's definitions
on the simulator's realistic geometry, not the identification step.
"""

from __future__ import annotations

import pandas as pd
import pytest
import shapely

from amurlink.analysis.crossborder import crossborder
from amurlink.core.border import load_border
from amurlink.core.crs import to_metric
from amurlink.dataset import Dataset

pytest.importorskip("amurlink.simulate")

TOL_M = 250.0


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory):
    from typer.testing import CliRunner

    from amurlink.cli import app

    out = tmp_path_factory.mktemp("sim")
    res = CliRunner().invoke(app, ["simulate", "--scenario", "small", "--seed", "7", "-o",
                                   str(out)])
    assert res.exit_code == 0, res.output
    return out


def simple_stats(det: pd.DataFrame, border) -> dict:
    """Loops and shapely scalars only: per animal encounters per country, crossings, max km."""
    out = {}
    for animal, rows in det.groupby("animal"):
        rows = rows.sort_values(["time", "eid"])
        seq, enc, far = [], {"CN": 0, "RU": 0}, {"CN": None, "RU": None}
        for r in rows.itertuples():
            p = shapely.Point(r.x, r.y)
            side = next((c for c, g in border.countries.items() if g.intersects(p)), None)
            country = r.cc if isinstance(r.cc, str) else side
            d = p.distance(border.line)
            if d <= TOL_M or country is None:
                continue
            seq.append(country)
            if country in enc:
                enc[country] += 1
                far[country] = d / 1000 if far[country] is None else max(far[country], d / 1000)
        crossings = sum(a != b for a, b in zip(seq, seq[1:], strict=False))
        out[animal] = (enc, crossings, far)
    return out


def _camera_places(sim_dir) -> pd.DataFrame:
    """deploymentID -> WGS84 lon/lat: cn/deployments.csv and ru/stations.csv (EPSG:28423,
    easting in column Y, northing in column X, as ru.mapping.toml says)."""
    import pyproj

    cn = pd.read_csv(sim_dir / "cn" / "deployments.csv")
    ru = pd.read_csv(sim_dir / "ru" / "stations.csv")
    lon, lat = pyproj.Transformer.from_crs("EPSG:28423", "EPSG:4326", always_xy=True).transform(
        ru["Y"].to_numpy(float), ru["X"].to_numpy(float))
    return pd.concat([cn[["deploymentID", "longitude", "latitude"]],
                      pd.DataFrame({"deploymentID": ru["Station"], "longitude": lon,
                                    "latitude": lat})], ignore_index=True)


def test_matches_simple_implementation_on_truth(sim_dir):
    raw = pd.read_csv(sim_dir / "truth" / "detections.csv")
    raw = raw[raw["animalID"].notna()].drop_duplicates(["deploymentID", "animalID", "trueTime"])
    places = _camera_places(sim_dir).drop_duplicates("deploymentID")
    raw = raw.merge(places, on="deploymentID", how="inner", validate="many_to_one")
    border = load_border(sim_dir / "border.geojson")
    x, y = to_metric(raw["longitude"].to_numpy(float), raw["latitude"].to_numpy(float))
    det = pd.DataFrame({"animal": raw["animalID"].astype(str).to_numpy(),
                        "time": pd.to_datetime(raw["trueTime"], utc=True).to_numpy(),
                        "eid": [f"d{i:08d}" for i in range(len(raw))], "x": x, "y": y,
                        "cc": raw["country"].astype(object).to_numpy(),
                        "sp": raw["scientificName"].astype(str).to_numpy(),
                        "lon": raw["longitude"].to_numpy(), "lat": raw["latitude"].to_numpy()})
    det["time"] = pd.to_datetime(det["time"], utc=True)
    assert len(det) > 50 and det["animal"].nunique() > 5
    # the library sees each true detection as an observation at its own "camera"
    deployments = pd.DataFrame({"deploymentID": det["eid"], "latitude": det["lat"],
                                "longitude": det["lon"]})
    details = pd.DataFrame({"deploymentID": det["eid"], "countryCode": det["cc"]})
    obs = pd.DataFrame({"observationID": det["eid"], "deploymentID": det["eid"],
                        "eventStart": det["time"], "scientificName": det["sp"],
                        "individualID": det["animal"], "observationType": "animal"})
    ds = Dataset({"deployments": deployments, "media": pd.DataFrame({"mediaID": []}),
                  "observations": obs, "deploymentDetails": details})
    res = crossborder(ds, border=border, life_stage=None, threshold_min=0.0)
    got = res.individuals.set_index("members")
    want = simple_stats(det, border)
    assert set(got.index) == set(want)
    assert sum(c for _, c, _ in want.values()) > 0  # the scenario has crossings
    for animal, (enc, crossings, far) in want.items():
        row = got.loc[animal]
        assert (row["encounters_CN"], row["encounters_RU"]) == (enc["CN"], enc["RU"]), animal
        assert row["crossings"] == crossings, animal
        for c in ("CN", "RU"):
            if far[c] is None:
                assert pd.isna(row[f"max_distance_km_{c}"])
            else:
                assert row[f"max_distance_km_{c}"] == pytest.approx(far[c], abs=1e-6)
