"""Tests of amurlink.config: the validated amurlink.toml."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amurlink.config import (
    EXAMPLE_CONFIG,
    CorridorSettings,
    Country,
    StudyConfig,
    load_config,
)
from amurlink.core.protection import ProtectionPolicy, WithheldArea
from amurlink.exceptions import ConfigError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "config.md"


def write(tmp_path: Path, text: str, name: str = "amurlink.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# Defaults and the example
# ---------------------------------------------------------------------------------------------
def test_defaults_are_the_amur_study():
    cfg = StudyConfig()
    assert cfg.crs.working == "EPSG:32652"
    assert cfg.working_crs.to_epsg() == 32652
    assert cfg.country_codes == ("CN", "RU")
    assert cfg.country("ru").catalogue == "RU-LLNP"
    assert cfg.events.independence == timedelta(minutes=30)
    assert cfg.occasions.length == timedelta(days=1)
    assert [s.scientific_name for s in cfg.species] == ["Panthera tigris", "Panthera pardus"]
    assert cfg.species[0].name("zh") == "东北虎"
    assert cfg.species[1].name("fr") == "Amur leopard"
    assert cfg.protection == ProtectionPolicy()
    assert cfg.protection.public_level == "withheld"
    assert cfg.protection.partner_level == "1km"
    assert cfg.border.file is None


def test_empty_file_gives_the_defaults(tmp_path):
    cfg = load_config(write(tmp_path, ""))
    assert cfg == StudyConfig()
    assert cfg.source == tmp_path / "amurlink.toml"


def test_example_config_loads_and_documents_the_defaults():
    cfg = load_config(EXAMPLE_CONFIG)
    assert cfg == StudyConfig()


def test_round_trip_through_dict():
    cfg = load_config(EXAMPLE_CONFIG)
    assert StudyConfig.from_dict(cfg.to_dict()) == cfg


def test_config_is_frozen_and_hashable():
    cfg = StudyConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.events = None  # type: ignore[misc]
    assert hash(cfg) == hash(StudyConfig())


def test_unknown_country_lookup():
    with pytest.raises(KeyError, match="CN"):
        StudyConfig().country("KP")


def test_every_key_is_documented():
    text = DOCS.read_text(encoding="utf-8")
    cfg = StudyConfig(protection=ProtectionPolicy(
        withheld_area=WithheldArea(latitude=43.3, longitude=131.0, radius_m=150_000)))
    data = cfg.to_dict()
    data["border"] = {"file": "border.geojson"}
    keys = []
    for section, body in data.items():
        keys.append(section)
        if isinstance(body, dict):
            keys += [k for k in body if section != "countries"]
    keys += ["organisation", "catalogue", "timezone", "scientificName", "names",
             "latitude", "longitude", "radius_m"]
    missing = [k for k in keys if f"`{k}`" not in text and f"`[{k}]`" not in text]
    assert not missing, f"docs/config.md does not document {missing}"


# ---------------------------------------------------------------------------------------------
# Reading values
# ---------------------------------------------------------------------------------------------
def test_full_config(tmp_path):
    (tmp_path / "geo").mkdir()
    (tmp_path / "geo" / "border.geojson").write_text("{}", encoding="utf-8")
    path = write(tmp_path, """
[study]
name = "Joint survey 2024"
[crs]
working = "EPSG:32653"
[border]
file = "geo/border.geojson"
[countries.RU]
organisation = "LLNP"
catalogue = "RU-LLNP"
timezone = "Asia/Vladivostok"
[events]
independence_minutes = 60
[occasions]
length_days = 5
[[species]]
scientificName = "Panthera   pardus orientalis"
names = { en = "Amur leopard", ru = "дальневосточный леопард" }
[protection]
sensitive_species = ["Panthera pardus", "Ursus thibetanus"]
partner = "10km"
partner_sensitive = "withheld"
public = "10km"
withheld_area = { latitude = 43.3, longitude = 131, radius_m = 150000 }
""")
    cfg = load_config(path)
    assert cfg.study.name == "Joint survey 2024"
    assert cfg.crs.working == "EPSG:32653"
    assert cfg.border.file == tmp_path / "geo" / "border.geojson"
    assert cfg.countries == (Country("RU", "LLNP", "RU-LLNP", "Asia/Vladivostok"),)
    assert cfg.events.independence_minutes == 60.0
    assert cfg.occasions.length_days == 5
    assert cfg.species[0].scientific_name == "Panthera pardus orientalis"
    assert cfg.species[0].name("zh") == "Amur leopard"
    assert cfg.protection == ProtectionPolicy(
        sensitive_species=("Panthera pardus", "Ursus thibetanus"), partner_level="10km",
        partner_sensitive_level="withheld", public_level="10km", crs="EPSG:32653",
        withheld_area=WithheldArea(43.3, 131.0, 150_000.0))
    assert StudyConfig.from_dict(cfg.to_dict()) == cfg


def test_countries_as_a_plain_list_keep_known_details():
    cfg = StudyConfig.from_dict({"countries": ["RU", "KP"]})
    assert cfg.country_codes == ("RU", "KP")
    assert cfg.country("RU").organisation == "Land of the Leopard National Park"
    assert cfg.country("KP") == Country("KP")


def test_epsg_integer_is_accepted():
    assert StudyConfig.from_dict({"crs": {"working": 32652}}).crs.working == "EPSG:32652"


@settings(max_examples=50, deadline=None)
@given(minutes=st.floats(0.01, 10_080), days=st.integers(1, 365),
       public=st.sampled_from(["exact", "1km", "10km", "withheld"]),
       partner=st.sampled_from(["exact", "1km", "10km", "withheld"]))
def test_valid_values_round_trip(minutes, days, public, partner):
    data = {"events": {"independence_minutes": minutes}, "occasions": {"length_days": days},
            "protection": {"public": public, "partner": partner}}
    cfg = StudyConfig.from_dict(data)
    assert cfg.events.independence_minutes == minutes
    assert cfg.protection.public_level == public
    assert StudyConfig.from_dict(cfg.to_dict()) == cfg


# ---------------------------------------------------------------------------------------------
# Errors: file, dotted key, expected vs got, fix
# ---------------------------------------------------------------------------------------------
def error_of(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message
    return message


def test_wrong_type_names_file_key_expected_got_and_fix(tmp_path):
    msg = error_of(tmp_path, '[events]\nindependence_minutes = "30"\n')
    assert "`events.independence_minutes`" in msg
    assert "expected a number of minutes" in msg
    assert "got '30' (string)" in msg
    assert "without quotes" in msg


@pytest.mark.parametrize(("text", "key", "suggestion"), [
    ("[events]\nindependence_minuts = 30\n", "events.independence_minuts", "independence_minutes"),
    ("[occasion]\nlength_days = 1\n", "occasion", "occasions"),
    ("[protection]\npublik = 'withheld'\n", "protection.publik", "public"),
    ("[[species]]\nscientificname = 'Panthera tigris'\n", "species[0].scientificname",
     "scientificName"),
])
def test_unknown_keys_suggest_the_closest_known_key(tmp_path, text, key, suggestion):
    msg = error_of(tmp_path, text)
    assert f"`{key}`: unknown key" in msg
    assert f"did you mean `{suggestion}`?" in msg


def test_key_in_the_wrong_section_points_to_its_home(tmp_path):
    msg = error_of(tmp_path, "[events]\nlength_days = 2\n")
    assert "`length_days` belongs in [occasions]" in msg


def test_geographic_working_crs_explains_the_fix(tmp_path):
    msg = error_of(tmp_path, '[crs]\nworking = "EPSG:4326"\n')
    assert "`crs.working`" in msg and "geographic" in msg and "EPSG:32652" in msg


@pytest.mark.parametrize(("text", "key"), [
    ('[study]\nname = ""\n', "study.name"),
    ("[crs]\nworking = true\n", "crs.working"),
    ('[crs]\nworking = "EPSG:999999"\n', "crs.working"),
    ("[events]\nindependence_minutes = 0\n", "events.independence_minutes"),
    ("[events]\nindependence_minutes = true\n", "events.independence_minutes"),
    ("[occasions]\nlength_days = 1.5\n", "occasions.length_days"),
    ("[occasions]\nlength_days = 0\n", "occasions.length_days"),
    ('countries = ["cn"]\n', "countries[0]"),
    ('countries = "CN"\n', "countries"),
    ("countries = []\n", "countries"),
    ('countries = ["CN", "CN"]\n', "countries"),
    ('[countries.China]\norganisation = "x"\n', "countries.China"),
    ('[countries.CN]\ncatalogue = "RU-LLNP"\n', "countries.CN.catalogue"),
    ('[countries.CN]\ntimezone = "Asia/Shanghia"\n', "countries.CN.timezone"),
    ('[countries.CN]\nnote = "x"\n', "countries.CN.note"),
    ('species = "tiger"\n', "species"),
    ('[[species]]\nnames = { en = "Amur tiger" }\n', "species[0].scientificName"),
    ('[[species]]\nscientificName = "Panthera tigris"\nnames = { de = "Tiger" }\n',
     "species[0].names.de"),
    ('[[species]]\nscientificName = "A b"\n[[species]]\nscientificName = "A b"\n', "species"),
    ("[protection]\nsensitive_species = []\n", "protection.sensitive_species"),
    ('[protection]\npublic = "hidden"\n', "protection.public"),
    ('[protection]\npartner = 1\n', "protection.partner"),
    ('[protection]\nwithheld_area = { latitude = 43.0, longitude = 131.0 }\n',
     "protection.withheld_area.radius_m"),
    ('[protection]\nwithheld_area = "centre"\n', "protection.withheld_area"),
    ('border = "border.geojson"\n', "border"),
    ('[border]\nfile = "missing.geojson"\n', "border.file"),
])
def test_invalid_values_name_their_dotted_key(tmp_path, text, key):
    msg = error_of(tmp_path, text)
    assert f"`{key}`" in msg


def test_timezone_typo_gets_a_suggestion(tmp_path):
    msg = error_of(tmp_path, '[countries.CN]\ntimezone = "Asia/Shanghia"\n')
    assert "did you mean `Asia/Shanghai`?" in msg


def test_level_typo_gets_a_suggestion(tmp_path):
    msg = error_of(tmp_path, '[protection]\npartner = "1 km"\n')
    assert "did you mean `1km`?" in msg


def test_missing_border_file_says_where_it_looked(tmp_path):
    msg = error_of(tmp_path, '[border]\nfile = "geo/border.geojson"\n')
    assert str(tmp_path / "geo" / "border.geojson") in msg


def test_every_problem_is_reported_at_once(tmp_path):
    msg = error_of(tmp_path, '[events]\nindependence_minutes = -1\n[occasions]\nlength_days = "x"\n'
                             '[crs]\nworking = "EPSG:4326"\n')
    assert "3 problems" in msg
    for key in ("events.independence_minutes", "occasions.length_days", "crs.working"):
        assert f"`{key}`" in msg


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=re.escape(str(tmp_path / "nope.toml")) + ".*example"):
        load_config(tmp_path / "nope.toml")


def test_invalid_toml_names_the_line(tmp_path):
    msg = error_of(tmp_path, "[events]\nindependence_minutes = = 30\n")
    assert "not valid TOML" in msg and "line 2" in msg


def test_not_utf8(tmp_path):
    path = tmp_path / "amurlink.toml"
    path.write_bytes("[study]\nname = 'é'\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config(path)


def test_from_dict_names_the_given_source():
    with pytest.raises(ConfigError, match=r"^web form: `occasions.length_days`"):
        StudyConfig.from_dict({"occasions": {"length_days": -1}}, source="web form")


def test_config_error_is_a_value_error():
    with pytest.raises(ValueError):
        StudyConfig.from_dict({"events": {"independence_minutes": "x"}})


def test_protection_crs_must_be_the_working_crs():
    with pytest.raises(ConfigError, match="crs.working"):
        StudyConfig(protection=ProtectionPolicy(crs="EPSG:32653"))


def test_library_does_not_read_environment_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("AMURLINK_CRS", "EPSG:4326")
    monkeypatch.setenv("AMURLINK_CONFIG", str(tmp_path / "other.toml"))
    assert load_config(EXAMPLE_CONFIG) == StudyConfig()
    source = (Path(__file__).resolve().parents[1] / "src" / "amurlink" / "config.py").read_text(
        encoding="utf-8")
    assert "os.environ" not in source and "getenv(" not in source and "import os" not in source


def test_corridor_settings(tmp_path):
    from amurlink.landscape.transboundary import CORE_SETBACK_KM

    assert CorridorSettings().core_setback_km == CORE_SETBACK_KM  # one default
    cfg = load_config(write(tmp_path, "[corridors]\ncore_setback_km = 2\nsegment_km = 5\n"
                                      "percentile = 10\n"))
    assert cfg.corridors == CorridorSettings(core_setback_km=2.0, segment_km=5.0,
                                             percentile=10.0)
    assert StudyConfig.from_dict(cfg.to_dict()) == cfg
    assert load_config(write(tmp_path, "[corridors]\ncore_setback_km = 0\n")) \
        .corridors.core_setback_km == 0.0
    for bad, key in (("core_setback_km = -1", "corridors.core_setback_km"),
                     ('core_setback_km = "far"', "corridors.core_setback_km"),
                     ("segment_km = 0", "corridors.segment_km"),
                     ("percentile = 150", "corridors.percentile"),
                     ("width = 3", "corridors.width")):
        with pytest.raises(ConfigError, match=re.escape(key)):
            load_config(write(tmp_path, f"[corridors]\n{bad}\n"))
