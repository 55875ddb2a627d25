"""``amurlink crossborder``: JSON equals the library call; exit codes."""

from __future__ import annotations

import json

import numpy as np
import shapely
from typer.testing import CliRunner

from amurlink.analysis.crossborder import crossborder
from amurlink.cli import app
from amurlink.core.border import load_border
from amurlink.core.crs import from_metric
from amurlink.io import read_camtrap_dp, write_camtrap_dp

from .test_crossborder import hand_border, hand_dataset

runner = CliRunner()


def _to_wgs84(geom):
    return shapely.transform(geom, lambda c: np.column_stack(from_metric(c[:, 0], c[:, 1])))


def _package(tmp_path):
    b = hand_border()
    feats = [{"type": "Feature", "properties": {"kind": "border"},
              "geometry": shapely.geometry.mapping(_to_wgs84(b.line))}]
    for code, poly in b.countries.items():
        feats.append({"type": "Feature", "properties": {"kind": "country", "countryCode": code},
                      "geometry": shapely.geometry.mapping(_to_wgs84(poly))})
    border = tmp_path / "border.geojson"
    border.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    (tmp_path / "amurlink.toml").write_text('[border]\nfile = "border.geojson"\n')
    joint = write_camtrap_dp(hand_dataset(), tmp_path / "joint")
    return joint, border


def test_json_equals_library(tmp_path):
    joint, border = _package(tmp_path)
    res = runner.invoke(app, ["crossborder", str(joint), "--format", "json",
                              "--species", "Panthera tigris"])
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)
    lib = crossborder(read_camtrap_dp(joint, strict=False), border=load_border(border),
                      species=["Panthera tigris"]).to_dict()
    assert got["summary"] == json.loads(json.dumps(lib["summary"]))
    assert got["individuals"] == json.loads(json.dumps(lib["individuals"]))
    (one,) = got["individuals"].values()
    assert one["crossings"] == 5
    assert set(got["summary"]["Panthera tigris"]["national_counts"]) == {"CN", "RU"}


def test_period_text_and_errors(tmp_path):
    joint, border = _package(tmp_path)
    res = runner.invoke(app, ["crossborder", str(joint), "--from", "2015-01-01",
                              "--to", "2015-12-31", "--border", str(border)])
    assert res.exit_code == 0, res.output
    assert "Per species" in res.output
    (tmp_path / "amurlink.toml").unlink()
    res = runner.invoke(app, ["crossborder", str(joint)])
    assert res.exit_code == 2  # no border: usage error
    res = runner.invoke(app, ["crossborder", str(joint), "--border", str(border),
                              "--from", "not-a-date"])
    assert res.exit_code == 1


def test_text_opens_with_the_answer_and_fits_the_terminal(tmp_path):
    joint, border = _package(tmp_path)
    res = runner.invoke(app, ["crossborder", str(joint), "--border", str(border)],
                        env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.output
    out = res.output
    assert out.index("Recorded in both countries") < out.index("Per species")
    assert max(len(line) for line in out.splitlines()) <= 80
    wide = runner.invoke(app, ["crossborder", str(joint), "--border", str(border)],
                         env={"COLUMNS": "250"})
    assert max(len(line) for line in wide.output.splitlines()) > 80  # the control
