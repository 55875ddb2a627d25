"""``amurlink photos index`` and ``identify`` with --format json."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from amurlink.cli import app


def test_index_then_identify_json(photo_set, tmp_path):
    folder, truth = photo_set
    runner = CliRunner()
    store = tmp_path / "store"
    res = runner.invoke(app, ["photos", "index", str(folder), "--store", str(store),
                              "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["images"] == len(truth) and out["catalogues"] == ["CN-SIM", "RU-SIM"]
    again = json.loads(runner.invoke(app, ["photos", "index", str(folder), "--store",
                                           str(store), "--format", "json"]).stdout)
    assert again["extracted"] == 0
    row = truth.iloc[0]
    res = runner.invoke(app, ["photos", "identify", str(folder / "images" / row["filePath"]),
                              "--store", str(store), "--side", row["side"], "--format", "json"])
    assert res.exit_code == 0, res.output
    cands = json.loads(res.stdout)
    assert cands[0]["rank"] == 1 and cands[0]["score"] > 0
    assert {"individualID", "probability", "isNew"} <= set(cands[0])
