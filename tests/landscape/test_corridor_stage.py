"""The ``corridors`` stage of ``amurlink run``, driven with a hand-made context."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import shapely

from amurlink.config import StudyConfig
from amurlink.core.border import Border
from amurlink.landscape.grid import Grid, read_grid, write_grid
from amurlink.landscape.stage import CORRIDOR_STAGE
from amurlink.study._runner import StageContext, Study

X0, Y0 = 600_000.0, 4_700_000.0


def _border() -> Border:
    line = shapely.LineString([(X0 + 20e3, Y0), (X0 + 20e3, Y0 + 30e3)])
    return Border.from_geometries(
        line,
        countries={
            "CN": shapely.box(X0, Y0, X0 + 20e3, Y0 + 30e3),
            "RU": shapely.box(X0 + 20e3, Y0, X0 + 40e3, Y0 + 30e3),
        },
        extras={
            "park": (
                ("NTLNP", shapely.box(X0 + 2e3, Y0 + 10e3, X0 + 6e3, Y0 + 20e3)),
                ("LLNP", shapely.box(X0 + 34e3, Y0 + 10e3, X0 + 38e3, Y0 + 20e3)),
            )
        },
    )


def test_stage_applies_only_with_a_resistance_raster_and_writes_outputs(tmp_path):
    study = Study(tmp_path, StudyConfig(), tmp_path / "output")
    assert "resistance" in CORRIDOR_STAGE.applies(study)
    (tmp_path / "landscape").mkdir()
    r = np.full((30, 40), 20.0)
    r[20:24, :] = 1.0  # a cheap band across the border in the south
    write_grid(
        Grid(r, X0, Y0, 1000.0, -9999.0, "EPSG:32652"), tmp_path / "landscape" / "resistance.tif"
    )
    (tmp_path / "landscape" / "crossings.csv").write_text("segment,crossings\n1,5\n2,0\n3,1\n")
    assert CORRIDOR_STAGE.applies(study) is None
    assert set(CORRIDOR_STAGE.files(study)) == {"landscape.resistance", "landscape.crossings"}
    ctx = StageContext(study, results={"harmonise": {"border": _border()}})
    value = CORRIDOR_STAGE.fn(ctx)
    assert value["core_setback_km"] == 5.0  # [corridors] default
    for rel in CORRIDOR_STAGE.outputs:
        assert (study.out_dir / rel).is_file(), rel
    summary = CORRIDOR_STAGE.summarise(value)
    assert summary["cores"] == ["NTLNP", "LLNP"] and summary["segments"] == 3
    seg = pd.read_csv(study.out_dir / "corridors" / "border_segments.csv")
    assert seg["current"].idxmax() == 0  # segment 1 (south) holds the cheap band
    assert -1 <= summary["spearman"] <= 1 and list(seg["crossings"]) == [5, 0, 1]
    json.dumps(summary)


def test_observed_crossings_per_segment():
    from amurlink.landscape.habitat import border_segments
    from amurlink.landscape.transboundary import observed_crossings

    line = shapely.LineString([(0, 0), (0, 30_000)])
    border = Border.from_geometries(
        line, countries={"CN": shapely.box(-9e3, 0, 0, 30e3), "RU": shapely.box(0, 0, 9e3, 30e3)}
    )
    segs = border_segments(line, 10_000)
    t = pd.to_datetime(["2024-01-01", "2024-01-05", "2024-02-01"], utc=True)
    enc = pd.DataFrame(
        {
            "jointID": ["A", "A", "A", "B", "B", "C", "C", "C"],
            "time": [*t, t[0], t[1], *t],
            "x": [-1000, 1000, -1000, -500, -800, -500, 0, 500],
            "y": [5000, 5000, 25000, 1000, 2000, 28000, 28000, 28000],
            "country": ["CN", "RU", "CN", "CN", "CN", "CN", "", "RU"],
        }
    )
    out = observed_crossings(enc, border, segs)
    # A crosses at y=5 km and y=15 km; C at 28 km (the encounter on the line is skipped)
    assert out["crossings"].tolist() == [1, 1, 1]
    assert out["segment"].tolist() == [1, 2, 3]


def test_observed_crossings_use_the_analysis_records_and_the_two_party_rule(tmp_path, monkeypatch):
    """Without a crossings file, the stage counts the cameras' own crossings from the records
    the analyses use (not the flagged ones of the whole joint package) under the study's
    ``[links] two_party`` rule."""
    import amurlink.analysis.crossborder as cb
    from amurlink.exceptions import DataError

    seen: dict = {}

    def spy(dataset, **kw):
        seen.update(kw, dataset=dataset)
        raise DataError("no identified individual")  # the stage goes on without crossings

    monkeypatch.setattr(cb, "encounters", spy)
    study = Study(tmp_path, StudyConfig.from_dict({"links": {"two_party": False}}),
                  tmp_path / "output")
    (tmp_path / "landscape").mkdir()
    write_grid(Grid(np.full((30, 40), 5.0), X0, Y0, 1000.0, -9999.0, "EPSG:32652"),
               tmp_path / "landscape" / "resistance.tif")
    whole, analysis = object(), object()
    ctx = StageContext(study, results={"harmonise": {"border": _border(), "dataset": whole,
                                                     "analysis": analysis}})
    CORRIDOR_STAGE.fn(ctx)
    assert seen["dataset"] is analysis and seen["two_party"] is False


def _touching_parks() -> Border:
    """Both parks reach the border along its whole length (as the simulator's do)."""
    line = shapely.LineString([(X0 + 20e3, Y0), (X0 + 20e3, Y0 + 30e3)])
    cn, ru = shapely.box(X0, Y0, X0 + 20e3, Y0 + 30e3), shapely.box(X0 + 20e3, Y0,
                                                                   X0 + 40e3, Y0 + 30e3)
    return Border.from_geometries(line, countries={"CN": cn, "RU": ru},
                                  extras={"park": (("NTLNP", cn), ("LLNP", ru))})


def test_touching_parks_send_their_current_through_a_border_zone(tmp_path):
    from amurlink.exceptions import DataError
    from amurlink.landscape.transboundary import border_corridors

    r = np.full((30, 40), 50.0)
    r[20:30, 10:30] = 1.0  # a cheap crossing in the south (row 0 is north), 10 km each side
    grid = Grid(r, X0, Y0, 1000.0, -9999.0, "EPSG:32652")
    border = _touching_parks()
    out = border_corridors(grid, border, tmp_path / "a", segment_km=10.0)
    seg = pd.read_csv(tmp_path / "a" / "border_segments.csv")
    assert out["core_setback_km"] == 5.0
    # the current crosses where the landscape lets it: the southern segment carries most,
    # not a share set by how many cells each segment has (the cores used to touch)
    south = int(seg.loc[seg["mid_y"].idxmin(), "segment"])
    assert int(seg.loc[seg["current"].idxmax(), "segment"]) == south
    assert seg["current"].max() > 3 * seg["current"].min()
    # a uniform landscape gives the segments the same current, however wide the setback
    for km in (0.0, 5.0):
        flat = border_corridors(grid.with_values(np.full((30, 40), 50.0)), border,
                                tmp_path / f"u{km}", segment_km=10.0, core_setback_km=km)
        cur = pd.read_csv(tmp_path / f"u{km}" / "border_segments.csv")["current"]
        assert flat["effective_resistance"] > 0 and cur.max() < 1.6 * cur.min()
    with pytest.raises(DataError, match="no cell more than 25 km from the border"):
        border_corridors(grid, border, tmp_path / "b", core_setback_km=25.0)


def test_one_default_core_setback():
    import inspect

    from amurlink.cli.habitat import corridors_command
    from amurlink.config import CorridorSettings
    from amurlink.landscape.transboundary import CORE_SETBACK_KM, border_corridors

    option = inspect.signature(corridors_command).parameters["core_setback_km"].default
    assert option.default == CorridorSettings().core_setback_km == CORE_SETBACK_KM
    assert inspect.signature(border_corridors).parameters["core_setback_km"].default \
        == CORE_SETBACK_KM


def test_the_stage_takes_its_settings_from_the_study_config(tmp_path):
    from amurlink.config import CorridorSettings

    (tmp_path / "landscape").mkdir()
    write_grid(Grid(np.full((30, 40), 20.0), X0, Y0, 1000.0, -9999.0, "EPSG:32652"),
               tmp_path / "landscape" / "resistance.tif")
    cfg = StudyConfig(corridors=CorridorSettings(core_setback_km=1.0, segment_km=15.0,
                                                 percentile=10.0))
    study = Study(tmp_path, cfg, tmp_path / "output")
    value = CORRIDOR_STAGE.fn(StageContext(study, results={"harmonise": {"border": _border()}}))
    assert (value["core_setback_km"], value["segment_km"], value["percentile"]) == (1.0, 15.0,
                                                                                  10.0)
    assert value["segments"] == 2  # a 30 km border in 15 km segments


def test_without_a_resistance_raster_the_stage_estimates_one_from_the_cameras(tmp_path,
                                                                            monkeypatch):
    """Covariate rasters only: a habitat GLM on the records the analyses use (the study's
    species pooled) gives the resistance; a resistance raster given later takes over and the
    estimate of the earlier run is removed."""
    import amurlink.landscape.habitat as hb
    from amurlink.config import CorridorSettings

    cov = tmp_path / "landscape" / "covariates"
    cov.mkdir(parents=True)
    forest = np.tile(np.linspace(0.1, 1.0, 40), (30, 1))  # forest grows eastwards
    write_grid(Grid(forest, X0, Y0, 1000.0, -9999.0, "EPSG:32652"), cov / "forest.tif")
    cfg = StudyConfig(corridors=CorridorSettings(transform="linear"))
    study = Study(tmp_path, cfg, tmp_path / "output")
    assert CORRIDOR_STAGE.applies(study) is None
    assert set(CORRIDOR_STAGE.files(study)) == {"landscape.covariates.forest"}
    rng = np.random.default_rng(5)
    x = X0 + 500.0 + 1000.0 * rng.integers(0, 40, 60)
    days = np.full(60, 100.0)
    seen = []

    def fake_stations(dataset, species, crs):
        seen.append(species)
        lam = days * 0.02 * np.exp(2.0 * (x - X0) / 40e3)
        return pd.DataFrame({"deploymentID": [f"d{i}" for i in range(60)], "x": x,
                             "y": np.full(60, Y0 + 15e3), "days": days,
                             "detections": rng.poisson(lam).astype(float)})

    monkeypatch.setattr(hb, "station_detections", fake_stations)
    analysis = object()
    ctx = StageContext(study, results={"harmonise": {"border": _border(), "analysis": analysis}})
    value = CORRIDOR_STAGE.fn(ctx)
    assert seen == [s.scientific_name for s in cfg.species]  # every species, pooled
    assert value["resistance"] == "cameras" and "recovery" not in value
    model = value["habitat_model"]
    assert model["transform"] == "linear" and model["coefficients"]["forest"] > 0
    out = study.out_dir / "corridors"
    est = read_grid(out / "resistance_estimated.tif").values
    assert est[:, 0].mean() > est[:, -1].mean()  # less forest, more resistance
    assert json.loads((out / "summary.json").read_text())["habitat_model"] == model
    # a given raster wins, and the estimate of the earlier run goes
    write_grid(Grid(np.full((30, 40), 5.0), X0, Y0, 1000.0, -9999.0, "EPSG:32652"),
               tmp_path / "landscape" / "resistance.tif")
    value = CORRIDOR_STAGE.fn(ctx)
    assert value["resistance"] == "file" and "habitat_model" not in value
    assert not (out / "resistance_estimated.tif").exists()
    assert not (out / "habitat_glm.csv").exists()


def test_a_true_resistance_beside_the_study_is_compared(tmp_path):
    """truth/resistance_true.tif (a simulated study): the summary says how well the current
    matches the true current, beside a uniform resistance, and ranks the true classes."""
    (tmp_path / "landscape").mkdir()
    (tmp_path / "truth").mkdir()
    r = np.full((30, 40), 20.0)
    r[20:24, :] = 1.0
    write_grid(Grid(r, X0, Y0, 1000.0, -9999.0, "EPSG:32652"), tmp_path / "truth" /
               "resistance_true.tif")
    write_grid(Grid(r, X0, Y0, 1000.0, -9999.0, "EPSG:32652"), tmp_path / "landscape" /
               "resistance.tif")  # the truth given as the surface: a perfect recovery
    study = Study(tmp_path, StudyConfig(), tmp_path / "output")
    assert "truth.resistance" in CORRIDOR_STAGE.files(study)
    value = CORRIDOR_STAGE.fn(StageContext(study, results={"harmonise": {"border": _border()}}))
    rec = value["recovery"]
    assert rec["spearman_estimated"] == pytest.approx(1.0)
    assert rec["spearman_uniform"] < 0.9
    assert rec["class_means"] == {"1": 1.0, "20": 20.0} and rec["classes_in_order"]
    # a truth on another frame is no reason to lose the corridors: no recovery figures
    write_grid(Grid(r[:, :30], X0, Y0, 1000.0, -9999.0, "EPSG:32652"), tmp_path / "truth" /
               "resistance_true.tif")
    value = CORRIDOR_STAGE.fn(StageContext(study, results={"harmonise": {"border": _border()}}))
    assert "recovery" not in value and value["segments"] == 3


def test_the_transform_setting_is_checked():
    from amurlink.exceptions import ConfigError

    assert StudyConfig.from_dict({"corridors": {"transform": "negexp"}}).corridors.transform \
        == "negexp"
    with pytest.raises(ConfigError, match="corridors.transform"):
        StudyConfig.from_dict({"corridors": {"transform": "sqrt"}})
