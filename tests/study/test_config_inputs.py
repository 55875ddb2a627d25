"""``[inputs]`` of amurlink.toml: the files a study is built from."""

from __future__ import annotations

import datetime as dt

import pytest

from amurlink.config import InputSettings, StudyConfig, load_config
from amurlink.exceptions import ConfigError

TOML = """
[inputs]
crosswalk = "crosswalk.csv"
border = "border.geojson"
period = { start = 2013-12-01, end = "2015-11-30" }
photos = ["truth/photos.csv"]
dna_reference = "dna/reference_samples.csv"

[inputs.CN]
camtrap_dp = ["cn"]
dna = ["dna/cn_lab.csv"]

[inputs.RU]
mapping = "ru"
dna = ["dna/ru_lab.csv"]

[inputs.layers]
parks = "layers/parks.gpkg"

[inputs.reports]
owner = ["en", "zh"]
public = ["en"]
"""


def test_inputs_are_read_resolved_and_round_trip(tmp_path):
    (tmp_path / "amurlink.toml").write_text(TOML, encoding="utf-8")
    (tmp_path / "cn").mkdir()
    cfg = load_config(tmp_path / "amurlink.toml")
    inp = cfg.inputs
    assert inp.country("CN").camtrap_dp == ("cn",)
    assert inp.country("RU").sources == (("mapping", "ru"),)
    assert inp.period_start == dt.date(2013, 12, 1) and inp.period_end == dt.date(2015, 11, 30)
    assert inp.all_dna == ("dna/cn_lab.csv", "dna/ru_lab.csv")
    assert inp.dna_reference == ("dna/reference_samples.csv",)
    assert inp.report_list == (("owner", "en"), ("owner", "zh"), ("public", "en"))
    assert inp.layers == {"parks": "layers/parks.gpkg"}
    assert inp.path("cn") == tmp_path / "cn"
    missing = inp.missing()
    assert not any("inputs.CN.camtrap_dp" in m for m in missing)  # cn exists
    assert any("`inputs.crosswalk`" in m and "does not exist" in m for m in missing)
    assert StudyConfig.from_dict(cfg.to_dict()) == cfg


def test_no_inputs_keeps_the_defaults_and_to_dict_unchanged():
    cfg = StudyConfig()
    assert cfg.inputs.empty and "inputs" not in cfg.to_dict()
    assert cfg.inputs.report_list == (("owner", "en"), ("owner", "zh"), ("owner", "ru"),
                                      ("public", "en"))
    assert InputSettings().missing() == []


@pytest.mark.parametrize(("data", "words"), [
    ({"KP": {}}, "`inputs.KP`: expected a country of the study"),
    ({"crosswalks": "x"}, "did you mean `crosswalk`?"),
    ({"CN": {"mapings": []}}, "`inputs.CN.mapings`: unknown key; did you mean `mapping`?"),
    ({"CN": {"mapping": [3]}}, "`inputs.CN.mapping`: expected a path or an array of paths"),
    ({"reports": {"owner": ["fr"]}}, "`inputs.reports.owner`: expected an array of languages"),
    ({"reports": {"press": ["en"]}}, "`inputs.reports.press`: unknown key"),
    ({"period": {"start": "2015-01-01", "end": "2014-01-01"}}, "`inputs.period.end`"),
    ({"period": {"start": "first of May"}}, "expected a date YYYY-MM-DD"),
    ({"layers": {"lakes": "x.gpkg"}}, "`inputs.layers.lakes`: unknown key"),
])
def test_bad_inputs_are_named(data, words):
    with pytest.raises(ConfigError) as err:
        StudyConfig.from_dict({"inputs": data})
    assert words in str(err.value)
