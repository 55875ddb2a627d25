"""``amurlink simulate`` writes the simulator's incident books beside the study, unchanged."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
from typer.testing import CliRunner

from amurlink.cli import app
from amurlink.incidents.imports import read_incident_folder
from amurlink.simulate import simulate_study, write_study
from amurlink.simulate._incidents import simulate_incidents

SEED = 5


def _digest(root, skip=("incidents", "landscape", "truth/incidents.csv")):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()
            and not str(p.relative_to(root)).startswith(skip)}


def test_simulate_writes_the_books_and_leaves_every_study_file_as_it_was(tmp_path):
    out = tmp_path / "sim"
    res = CliRunner().invoke(app, ["simulate", "--scenario", "small", "--seed", str(SEED), "-o",
                                   str(out), "--images", "none", "--format", "json"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    study = simulate_study("small", seed=SEED, images="none")
    sim = simulate_incidents(study)
    # the study's files are byte-identical to those written without the incidents
    alone = write_study(study, tmp_path / "alone")
    assert _digest(out) == _digest(alone)
    assert not any(p.is_relative_to(alone / "incidents") for p in alone.rglob("*"))
    for cc in ("CN", "RU"):
        books = read_incident_folder(out / "incidents" / cc.lower(), include_personal=True)
        expected = sim.tables[cc]["incidents"]
        assert list(books["incidents"]["incidentID"]) == list(expected["incidentID"])
        assert payload["incidents"][cc] == len(expected)
        claims = books["claimants"]
        assert list(claims["claimantName"]) == list(sim.tables[cc]["claimants"]["claimantName"])
    truth = pd.read_csv(out / "truth" / "incidents.csv")
    assert list(truth["animalID"]) == list(sim.truth["animalID"])
    villages = pd.read_csv(out / "landscape" / "settlements.csv")
    assert len(villages) == len(sim.settlements) > 0
