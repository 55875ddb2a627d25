"""SECR from a joint dataset: capture histories (usage from deployments and gaps), secr text
formats, joint against national fits, the ``amurlink secr JOINT_DIR`` command."""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from amurlink.analysis.secr import (
    CaptureHistory,
    capthist_from_dataset,
    detector_layout,
    fit_joint_and_national,
    read_capthist,
    write_capthist,
)
from amurlink.analysis.secr.from_dataset import _covered
from amurlink.cli import app
from amurlink.core.border import Border, load_border
from amurlink.dataset import Dataset
from amurlink.exceptions import AmurlinkWarning, DataError, FitError, MaskBufferWarning

pytest.importorskip("amurlink.simulate")

runner = CliRunner()
LEOPARD = "Panthera pardus"


@pytest.fixture(scope="module")
def joint(tmp_path_factory):
    """small scenario, seed 7 -> amurlink harmonise -> joint package (with amurlink.toml)."""
    from amurlink.io import read_camtrap_dp

    root = tmp_path_factory.mktemp("secrjoint")
    sim = root / "sim"
    res = runner.invoke(app, ["simulate", "--scenario", "small", "--seed", "7", "-o", str(sim)])
    assert res.exit_code == 0, res.output
    out = root / "joint"
    res = runner.invoke(app, ["harmonise", str(sim / "cn"), str(sim / "ru" / "ru.mapping.toml"),
                              "--config", str(sim / "amurlink.toml"), "--links",
                              str(sim / "crosswalk.csv"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    shutil.copy(sim / "border.geojson", out / "border.geojson")
    shutil.copy(sim / "amurlink.toml", out / "amurlink.toml")
    border = load_border(sim / "border.geojson")
    return {"dir": out, "dataset": read_camtrap_dp(out, strict=False), "border": border}


@pytest.fixture(scope="module")
def fitted(joint):
    with warnings.catch_warnings():
        warnings.simplefilter("error", AmurlinkWarning)
        return fit_joint_and_national(joint["dataset"], border=joint["border"], species=LEOPARD)


# ------------------------------------------------------------------------------ usage
def test_covered_union_of_intervals():
    b = np.array([0, 10, 20, 30])
    got = _covered(np.array([2, 5, 25]), np.array([8, 14, 40]), b)
    np.testing.assert_allclose(got, [8, 4, 5])  # [2,14) and [25,40)
    np.testing.assert_allclose(_covered(np.array([], int), np.array([], int), b), [0, 0, 0])


def _toy_dataset() -> tuple[Dataset, Border]:
    """Two locations: A (paired cameras, one with a gap), B (one camera, starts at noon)."""
    dep = pd.DataFrame({
        "deploymentID": ["A-P", "A-V", "B"],
        "locationID": ["A", "A", "B"],
        "latitude": [43.0, 43.0, 43.05],
        "longitude": [131.0, 131.0, 131.05],
        "deploymentStart": pd.to_datetime(["2020-01-01T00:00Z", "2020-01-01T00:00Z",
                                           "2020-01-01T12:00Z"]),
        "deploymentEnd": pd.to_datetime(["2020-01-05T00:00Z", "2020-01-03T00:00Z",
                                         "2020-01-04T00:00Z"]),
    })
    gaps = pd.DataFrame({"deploymentID": ["A-P", "B"],
                         "gapStart": pd.to_datetime(["2020-01-02T00:00Z", "2020-01-02T00:00Z"]),
                         "gapEnd": pd.to_datetime(["2020-01-04T00:00Z", "2020-01-03T06:00Z"]),
                         "gapReason": ["malfunction", "malfunction"]})
    t = pd.to_datetime
    obs = pd.DataFrame({
        "observationID": ["o1", "o2", "o3", "o4", "o5", "o6"],
        "deploymentID": ["A-P", "A-V", "A-V", "B", "B", "A-P"],
        "eventStart": t(["2020-01-01T03:00Z", "2020-01-01T03:10Z", "2020-01-01T05:00Z",
                         "2020-01-01T13:00Z", "2020-01-02T03:00Z", "2020-01-04T01:00Z"]),
        "observationType": "animal",
        "scientificName": LEOPARD,
        "individualID": ["CN-X:L1", "CN-X:L1", "CN-X:L1", "CN-X:L2", "CN-X:L2", "CN-X:L1"],
        "lifeStage": "adult",
    })
    details = pd.DataFrame({"deploymentID": ["A-P", "A-V", "B"], "countryCode": "CN"})
    media = pd.DataFrame(columns=["mediaID", "deploymentID", "timestamp", "filePath",
                                  "filePublic", "fileMediatype"])
    ds = Dataset({"deployments": dep, "media": media, "deploymentGaps": gaps,
                  "observations": obs, "deploymentDetails": details})
    from amurlink.core.crs import to_metric

    x, y = to_metric(np.array([131.0, 131.05]), np.array([43.0, 43.05]))
    cn = shapely.box(x.min() - 50_000, y.min() - 50_000, x.max() + 50_000, y.max() + 50_000)
    ru = shapely.box(x.max() + 50_000, y.min() - 50_000, x.max() + 100_000, y.max() + 50_000)
    line = shapely.LineString([(x.max() + 50_000, y.min() - 50_000),
                               (x.max() + 50_000, y.max() + 50_000)])
    return ds, Border(line=line, countries={"CN": cn, "RU": ru})


def test_layout_usage_from_deployments_and_gaps():
    ds, border = _toy_dataset()
    lay = detector_layout(ds, border=border)
    assert list(lay.detectors["trapID"]) == ["A", "B"]
    assert list(lay.detectors["deployments"]) == [2, 1]
    # A: A-V covers days 1-2, A-P days 1 and 4 (gap days 2-3) -> 1, 1, 0, 1
    # B: from noon of day 1, gap day 2 to 06:00 of day 3, ends day 4 -> 0.5, 0, 0.75, 0
    np.testing.assert_allclose(lay.usage, [[1, 1, 0, 1], [0.5, 0, 0.75, 0]])
    lay2 = detector_layout(ds, border=border, occasion_days=2)
    np.testing.assert_allclose(lay2.usage, [[1, 0.5], [0.25, 0.375]])


def test_capthist_counts_independent_events_per_location():
    ds, border = _toy_dataset()
    ch = capthist_from_dataset(ds, border=border, species=LEOPARD, country="CN")
    assert ch.detector == "count"
    assert ch.trap_ids == ("A", "B")
    assert ch.animal_ids == ("CN-X:L1", "CN-X:L2")
    # L1 at A: 03:00 (P) and 03:10 (V) are one event at the location, 05:00 another, day 4 one
    np.testing.assert_array_equal(ch.counts[0, :, 0], [2, 0, 0, 1])
    # L2 at B: day 1 counted; day 2 lies in B's gap (usage 0) and is left out
    np.testing.assert_array_equal(ch.counts[1, :, 1], [1, 0, 0, 0])
    assert ch.counts.sum() == 4
    prox = capthist_from_dataset(ds, border=border, species=LEOPARD, detector="proximity")
    assert prox.counts.max() == 1 and prox.counts.sum() == 3
    with pytest.raises(DataError, match="no identified"):
        capthist_from_dataset(ds, border=border, species="Panthera tigris")


# ------------------------------------------------------------------------------ formats
def test_text_and_csv_formats_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    traps = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0]])
    counts = rng.poisson(0.6, size=(4, 5, 3))
    counts[:, 0, 0] += 1
    usage = np.ones((3, 5))
    usage[2, 4] = 0
    counts[:, 4, 2] = 0
    ch = CaptureHistory(traps=traps, counts=counts, detector="count", usage=usage,
                        trap_ids=("T1", "T2", "T3"), animal_ids=("a", "b", "c", "d"))
    write_capthist(ch, tmp_path / "traps.txt", tmp_path / "capt.txt")
    back = read_capthist(tmp_path / "traps.txt", tmp_path / "capt.txt", detector="count")
    np.testing.assert_array_equal(back.counts, ch.counts)
    np.testing.assert_array_equal(back.usage, ch.usage)
    np.testing.assert_array_equal(back.traps, ch.traps)
    assert back.animal_ids == ch.animal_ids and back.trap_ids == ch.trap_ids
    # fractional usage: text refuses, CSV keeps it exactly
    frac = CaptureHistory(traps=traps, counts=counts, detector="count", usage=usage * 0.5,
                          trap_ids=("T1", "T2", "T3"), animal_ids=("a b", "b", "c", "d"))
    with pytest.raises(DataError, match="format='csv'"):
        write_capthist(frac, tmp_path / "t2.txt", tmp_path / "c2.txt")
    write_capthist(frac, tmp_path / "t.csv", tmp_path / "c.csv", format="csv")
    back = read_capthist(tmp_path / "t.csv", tmp_path / "c.csv", detector="count")
    np.testing.assert_array_equal(back.usage, frac.usage)
    np.testing.assert_array_equal(back.counts, frac.counts)
    assert back.animal_ids == frac.animal_ids


def test_joint_capthist_writes_and_reads_back(joint, tmp_path):
    ch = capthist_from_dataset(joint["dataset"], border=joint["border"], species=LEOPARD)
    write_capthist(ch, tmp_path / "t.csv", tmp_path / "c.csv", format="csv")
    back = read_capthist(tmp_path / "t.csv", tmp_path / "c.csv", detector="count")
    np.testing.assert_array_equal(back.counts, ch.counts)
    np.testing.assert_allclose(back.usage, ch.usage, rtol=0, atol=0)


# ------------------------------------------------------------------------------ joint data
def test_joint_and_national_capture_histories(joint):
    ds, border = joint["dataset"], joint["border"]
    lay = detector_layout(ds, border=border)
    ch = capthist_from_dataset(ds, border=border, species=LEOPARD, layout=lay)
    assert ch.counts.shape[1:] == (lay.n_occasions, len(lay.detectors))
    assert all(a.startswith("J-") for a in ch.animal_ids)
    assert 0 <= ch.usage.min() and ch.usage.max() <= 1
    # Chinese paired stations are one detector each
    assert lay.detectors["trapID"].is_unique
    for cc, prefix in (("CN", "CN-NTLNP:"), ("RU", "RU-LLNP:")):
        nat = capthist_from_dataset(ds, border=border, species=LEOPARD, country=cc, layout=lay)
        assert all(a.startswith(prefix) for a in nat.animal_ids)
        assert set(nat.trap_ids) == set(lay.detectors.loc[lay.detectors["country"] == cc,
                                                          "trapID"])
        # the national detections are the joint ones at that country's cameras
        cols = [ch.trap_ids.index(t) for t in nat.trap_ids]
        assert nat.counts.sum() == ch.counts[:, :, cols].sum()


def test_fit_joint_and_national_table(fitted):
    res = fitted
    assert set(res.national) == {"CN", "RU"}
    tab = res.table()
    assert list(tab["region"]) == ["CN", "RU", "national sum"]
    per = tab.iloc[:2]
    total = tab.iloc[2]
    assert total["national_N"] == pytest.approx(per["national_N"].sum())
    assert total["national_se"] == pytest.approx(np.sqrt((per["national_se"] ** 2).sum()))
    # the joint mask lies on CN, RU and KP land: the two countries hold at most its E.N
    en = res.joint.region_N().loc["E.N", "estimate"]
    assert total["joint_N"] == pytest.approx(per["joint_N"].sum(), rel=1e-9)
    assert total["joint_N"] <= en * (1 + 1e-12)
    for c, r in res.national.items():
        assert tab.set_index("region").loc[c, "national_N"] == pytest.approx(
            r.region_N(res.border.countries[c]).loc["E.N", "estimate"])
        # national masks are buffered around their own cameras and cross the border
        m = res.masks[c]
        other = "RU" if c == "CN" else "CN"
        assert m.contains(res.border.countries[other]).any()
    assert res.joint.predict().loc["sigma", "estimate"] > 1000
    d = res.to_dict()
    assert set(d) >= {"joint", "national", "table"}
    assert json.loads(json.dumps(d, default=float))["table"]["rows"][2]["region"] == \
        "national sum"


def test_a_failed_national_fit_keeps_the_joint_fit_and_drops_the_sum(joint, fitted,
                                                                      monkeypatch):
    import amurlink.analysis.secr.national as national

    real = national.fit_secr
    calls = []

    def failing_for_russia(ch, mask, **opts):
        calls.append(ch)
        if len(calls) == 3:  # joint, CN, then RU
            raise FitError("the optimiser ended where the log-likelihood is not finite")
        return real(ch, mask, **opts)

    monkeypatch.setattr(national, "fit_secr", failing_for_russia)
    res = fit_joint_and_national(joint["dataset"], border=joint["border"], species=LEOPARD)
    assert set(res.national) == {"CN"} and "not finite" in res.failed["RU"]
    assert res.joint.loglik == pytest.approx(fitted.joint.loglik)
    tab = res.table()
    assert list(tab["region"]) == ["CN"]  # a sum over CN alone would understate the total
    assert res.to_dict()["failed"] == {"RU": res.failed["RU"]}


def test_narrow_buffer_warns(joint):
    with pytest.warns(MaskBufferWarning, match="buffer"):
        fit_joint_and_national(joint["dataset"], border=joint["border"], species=LEOPARD,
                               buffer_m=3000, spacing_m=1000, countries=["RU"])


# ------------------------------------------------------------------------------ CLI
def test_cli_joint_dir_json_equals_library(joint, fitted):
    res = runner.invoke(app, ["secr", str(joint["dir"]), "--species", LEOPARD, "--detectfn",
                              "HHN", "--buffer", "12km", "--spacing", "1km", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    pred = fitted.joint.predict()
    assert set(out["estimates"]) == {"D", "lambda0", "sigma"}
    for par, row in out["estimates"].items():
        for key in ("estimate", "se", "lcl", "ucl"):
            assert row[key] == pytest.approx(pred.loc[par, key], rel=1e-9)
    assert out["loglik"] == pytest.approx(fitted.joint.loglik, rel=1e-12)
    assert out["aic"] == pytest.approx(fitted.joint.aic, rel=1e-12)
    assert out["region_N"]["E.N"]["estimate"] == pytest.approx(
        fitted.joint.region_N().loc["E.N", "estimate"])
    assert set(out["national"]) == {"CN", "RU"}
    assert [r["region"] for r in out["comparison"]] == ["CN", "RU", "national sum"]
    assert out["mask"]["spacing_m"] == 1000.0 and out["mask"]["buffer_m"] == 12000.0
    text = runner.invoke(app, ["secr", str(joint["dir"]), "--species", LEOPARD])
    assert text.exit_code == 0, text.output
    assert "national sum" in text.stdout


def test_cli_usage_errors(joint, tmp_path):
    r = runner.invoke(app, ["secr", str(joint["dir"])])
    assert r.exit_code == 2 and "--species" in r.output
    r = runner.invoke(app, ["secr", str(joint["dir"]), "--species", LEOPARD, "--buffer",
                            "12 furlongs"])
    assert r.exit_code == 2 and "distance" in r.output
    r = runner.invoke(app, ["secr"])
    assert r.exit_code == 2
    r = runner.invoke(app, ["secr", str(tmp_path / "nope"), "--species", LEOPARD])
    assert r.exit_code == 2 and "not found" in r.output


def test_cli_joint_dir_model_table_with_country(joint, fitted, tmp_path):
    # masks carry the country of each point; several models give the AICc table of the
    # joint data and the joint and national fits of the best model
    res = runner.invoke(app, ["secr", str(joint["dir"]), "--species", LEOPARD, "--detectfn",
                              "HHN", "--model", "D~1", "--model", "D~country", "--format",
                              "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    labels = [r["model"] for r in out["model_table"]]
    assert sorted(labels) == ["D~1 lambda0~1 sigma~1", "D~country lambda0~1 sigma~1"]
    assert out["model"] == labels[0]
    w = [r["AICcwt"] for r in out["model_table"]]
    assert sum(w) == pytest.approx(1.0) and w[0] >= w[1]
    d1 = next(r for r in out["model_table"] if r["model"].startswith("D~1 "))
    assert d1["logLik"] == pytest.approx(fitted.joint.loglik, abs=1e-6)
    assert out["loglik"] == pytest.approx(out["model_table"][0]["logLik"], abs=1e-6)
    assert set(out["national"]) == {"CN", "RU"}
    assert set(out["D_per_100km2"]) == {k for k in out["estimates"] if k.startswith("D")}


def test_models_jointly_and_per_country(joint, fitted):
    from amurlink.analysis.secr.national import fit_models_joint_and_national

    out = fit_models_joint_and_national(joint["dataset"], border=joint["border"],
                                        species=LEOPARD, models=["D~1", "D~country"])
    assert set(out) == {"base", "joint", "CN", "RU"}
    tab = out["joint"].table
    assert set(tab.model) == {"D~1 lambda0~1 sigma~1", "D~country lambda0~1 sigma~1"}
    d1 = tab[tab.model.str.startswith("D~1 ")].iloc[0]
    assert d1.logLik == pytest.approx(fitted.joint.loglik, abs=1e-6)
    # a national mask reaches into the neighbour, so both levels of country are present
    assert out["CN"].table.AICcwt.sum() == pytest.approx(1.0)
