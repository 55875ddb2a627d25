"""MegaDetector batch output and SpeciesNet predictions read as machine observations.

The hand-made JSON files follow the published formats: the MegaDetector output format
(https://lila.science/megadetector-output-format, agentmorris/MegaDetector
``megadetector-output-format.md``: ``info.format_version``, ``detection_categories``
``{"1": "animal", "2": "person", "3": "vehicle"}``, ``images[].file/detections[]`` with
``category``, ``conf`` and a normalised ``[x_min, y_min, width, height]`` box from the top
left, ``failure`` for unprocessed images, optional ``classification_categories`` and
per-detection ``classifications``) and SpeciesNet's ensemble output (google/cameratrapai
README, "Output format from run_model": ``predictions[].filepath``, ``classifications.classes``
labels ``<uuid>;class;order;family;genus;species;common name``, ``prediction``,
``prediction_score``, ``prediction_source``, ``detections``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from amurlink.exceptions import ConfigError, SchemaError
from amurlink.io import load_camtrap_dp, write_camtrap_dp
from amurlink.io._readers.megadetector import import_megadetector, read_megadetector
from amurlink.io.mapping import import_mapping, load_mapping

NOW = "2026-01-01T00:00:00Z"
STATIONS = ("Station,lon,lat,Setup,Retrieval\n"
            "CAM01,131.50,43.10,2015-03-01 10:00:00,2015-05-01 10:00:00\n"
            "CAM02,131.60,43.20,2015-03-01 10:00:00,2015-05-01 10:00:00\n")
TIGER = "a1b2;mammalia;carnivora;felidae;panthera;tigris;tiger"


def md_output(**over) -> dict:
    data = {
        "info": {"format_version": "1.4", "detector": "md_v5a.0.0.pt"},
        "detection_categories": {"1": "animal", "2": "person", "3": "vehicle"},
        "classification_categories": {"0": "tiger", "1": "wild boar"},
        "images": [
            {"file": "CAM01/2015/IMG_0001.JPG", "datetime": "2015:03:10 22:15:00",
             "max_detection_conf": 0.97,
             "detections": [
                 {"category": "1", "conf": 0.97, "bbox": [0.1, 0.2, 0.3, 0.4],
                  "classifications": [["0", 0.91], ["1", 0.05]]},
                 {"category": "1", "conf": 0.05, "bbox": [0.5, 0.5, 0.1, 0.1]}]},
            {"file": "CAM01/2015/IMG_0002.JPG", "datetime": "2015:03:11 08:00:00",
             "max_detection_conf": 0.0, "detections": []},
            {"file": "CAM02/2015/IMG_0003.JPG", "datetime": "2015:04:01 12:00:00",
             "detections": [{"category": "2", "conf": 0.88, "bbox": [0.0, 0.0, 0.5, 1.0]},
                            {"category": "3", "conf": 0.6, "bbox": [0.5, 0.2, 0.5, 0.5]}]},
            {"file": "CAM02/2015/IMG_0004.JPG", "failure": "Failure image access",
             "detections": None},
        ],
    }
    data.update(over)
    return data


def speciesnet_output() -> dict:
    return {"predictions": [
        {"filepath": "CAM01/IMG_0101.JPG", "country": "RUS",
         "classifications": {"classes": [TIGER, "b2c3;;;;;;blank"], "scores": [0.93, 0.02]},
         "detections": [{"category": "1", "label": "animal", "conf": 0.95,
                         "bbox": [0.2, 0.1, 0.4, 0.5]}],
         "prediction": TIGER, "prediction_score": 0.93,
         "prediction_source": "classifier", "model_version": "4.0.1a"},
        {"filepath": "CAM01/IMG_0102.JPG",
         "classifications": {"classes": ["b2c3;;;;;;blank"], "scores": [0.99]},
         "detections": [], "prediction": "b2c3;;;;;;blank", "prediction_score": 0.99,
         "prediction_source": "classifier", "model_version": "4.0.1a"},
        {"filepath": "CAM02/IMG_0103.JPG",
         "detections": [{"category": "1", "label": "animal", "conf": 0.3,
                         "bbox": [0.2, 0.1, 0.4, 0.5]}],
         "prediction": "c3;mammalia;carnivora;felidae;;;cat family", "prediction_score": 0.1,
         "prediction_source": "classifier+rollup_to_family", "model_version": "4.0.1a"},
        {"filepath": "CAM02/IMG_0104.JPG", "failures": ["CLASSIFIER"],
         "model_version": "4.0.1a"},
    ]}


def write_mapping(tmp_path: Path, data: dict, *, exif: str | None = None,
                  extra: str = "") -> Path:
    (tmp_path / "stations.csv").write_text(STATIONS, encoding="utf-8")
    (tmp_path / "md.json").write_text(json.dumps(data), encoding="utf-8")
    exif_lines = ""
    if exif is not None:
        (tmp_path / "exif.csv").write_text(exif, encoding="utf-8")
        exif_lines = ('exif_file = "exif.csv"\n'
                      'columns = { filePath = "SourceFile", timestamp = "DateTimeOriginal" }\n')
    m = tmp_path / "md.mapping.toml"
    m.write_text(f"""
[source]
name = "MD run"
country = "RU"
organisation = "LLNP"
catalogue = "RU-LLNP"
crs = "EPSG:4326"
timezone = "Asia/Vladivostok"

[tables.stations]
file = "stations.csv"
columns = {{ deploymentID = "Station", longitude = "lon", latitude = "lat",
            deploymentStart = "Setup", deploymentEnd = "Retrieval" }}

[tables.detections]
file = "md.json"
deployment_from_path = "^(?P<deploymentID>[^/]+)/"
confidence_threshold = 0.2
{exif_lines}{extra}
[species]
"wild boar" = "Sus scrofa"
""", encoding="utf-8")
    return m


def test_megadetector_batch_output_to_machine_observations(tmp_path):
    ds, report = import_mapping(write_mapping(tmp_path, md_output()), now=NOW)
    assert ds is not None, report.to_text()
    obs, media = ds.observations, ds.media
    # The failed image is left out with a warning; the others become media.
    assert len(media) == 3
    assert [i.code for i in report.warnings] == ["image-failed"]
    assert report.warnings[0].field == "images[3].failure"
    assert media["deploymentID"].tolist() == ["CAM01", "CAM01", "CAM02"]
    assert media["timestamp"].iloc[0] == pd.Timestamp("2015-03-10T12:15:00Z")
    # 0.97 tiger (classified) kept, 0.05 dropped (threshold); empty image blank;
    # person and vehicle on one image.
    assert obs["observationType"].tolist() == ["animal", "blank", "human", "vehicle"]
    assert obs["scientificName"].fillna("-").tolist() == ["Panthera tigris", "-",
                                                          "Homo sapiens", "-"]
    assert obs["classificationMethod"].eq("machine").all()
    assert obs["classificationProbability"].iloc[0] == pytest.approx(0.91)
    assert obs["classificationProbability"].iloc[2] == pytest.approx(0.88)
    assert obs[["bboxX", "bboxY", "bboxWidth", "bboxHeight"]].iloc[0].tolist() == \
        pytest.approx([0.1, 0.2, 0.3, 0.4])
    assert obs["mediaID"].iloc[2] == obs["mediaID"].iloc[3]
    assert obs["classifiedBy"].iloc[0] == "md_v5a.0.0.pt"
    out = write_camtrap_dp(ds, tmp_path / "pkg")
    back, rep2 = load_camtrap_dp(out)
    assert rep2.valid, rep2.to_text()


def test_threshold_changes_what_is_kept(tmp_path):
    m = write_mapping(tmp_path, md_output())
    m.write_text(m.read_text().replace("confidence_threshold = 0.2",
                                       "confidence_threshold = 0.01"))
    ds, report = import_mapping(m, now=NOW)
    assert report.valid, report.to_text()
    assert (ds.observations["observationType"] == "animal").sum() == 2


def test_timestamps_from_exif_table(tmp_path):
    data = md_output()
    for img in data["images"]:
        img.pop("datetime", None)
    exif = ("SourceFile,DateTimeOriginal\n"
            "CAM01/2015/IMG_0001.JPG,2015:03:10 22:15:00\n"
            "CAM01/2015/IMG_0002.JPG,2015:03:11 08:00:00\n"
            "CAM02\\2015\\IMG_0003.JPG,2015:04:01 12:00:00\n")
    ds, report = import_mapping(write_mapping(tmp_path, data, exif=exif), now=NOW)
    assert ds is not None, report.to_text()
    assert ds.media["timestamp"].iloc[2] == pd.Timestamp("2015-04-01T02:00:00Z")
    # The EXIF table is among the files the harmonisation manifest hashes.
    files = {t.file.name for t in load_mapping(tmp_path / "md.mapping.toml").tables.values()}
    assert files == {"stations.csv", "md.json", "exif.csv"}


def test_missing_time_is_an_error_never_half_imported(tmp_path):
    data = md_output()
    del data["images"][1]["datetime"]
    ds, report = import_mapping(write_mapping(tmp_path, data), now=NOW)
    assert ds is None
    err = report.errors[0]
    assert err.code == "timestamp-missing" and err.row == 1
    assert err.file.endswith("md.json") and "EXIF" in err.fix


@pytest.mark.parametrize("change, code, field", [
    (lambda d: d["images"][0]["detections"][0].update(bbox=[120, 40, 300, 200]), "bbox",
     "images[0].detections[0].bbox"),
    (lambda d: d["images"][0]["detections"][0].update(conf="high"), "type-error",
     "images[0].detections[0].conf"),
    (lambda d: d["images"][2].update(file="CAM09/2015/IMG_0003.JPG"), "foreign-key",
     "images[2].file"),
    (lambda d: d["images"][2].update(file="/data/CAM02/IMG_0003.JPG"), "pattern",
     "images[2].file"),
    (lambda d: d["images"][1].update(datetime="11/03/2015 8am"), "type-error",
     "images[1].datetime"),
    (lambda d: d["images"][1].pop("file"), "required", "images[1].file"),
    (lambda d: d["images"][1].update(detections="none"), "bad-json", "images[1].detections"),
    (lambda d: d["images"][1].update(file="CAM01/2015/IMG_0001.JPG"), "unique",
     "images[1].file"),
])
def test_malformed_megadetector_records(tmp_path, change, code, field):
    data = md_output()
    change(data)
    ds, report = import_mapping(write_mapping(tmp_path, data), now=NOW)
    assert ds is None
    hit = [i for i in report.errors if i.code == code]
    assert hit, report.to_text()
    assert hit[0].field == field and hit[0].fix and hit[0].expected


def test_unknown_classifier_label_reported(tmp_path):
    data = md_output(classification_categories={"0": "amur wildcat", "1": "wild boar"})
    ds, report = import_mapping(write_mapping(tmp_path, data), now=NOW)
    assert ds is None
    err = [i for i in report.errors if i.code == "unknown-species"]
    assert err and err[0].got == "amur wildcat" and "[species]" in err[0].fix


@pytest.mark.parametrize("text, code", [
    ("{not json", "bad-json"),
    (json.dumps([{"file": "a.jpg"}]), "bad-json"),
    (json.dumps({"images": []}), "bad-json"),  # no detection_categories
])
def test_malformed_files(tmp_path, text, code):
    m = write_mapping(tmp_path, md_output())
    (tmp_path / "md.json").write_text(text, encoding="utf-8")
    ds, report = import_mapping(m, now=NOW)
    assert ds is None and report.errors[0].code == code


def test_bad_mapping_keys(tmp_path):
    m = write_mapping(tmp_path, md_output())
    text = m.read_text()
    m.write_text(text.replace('"^(?P<deploymentID>[^/]+)/"', '"^([^/]+)/"')
                 .replace("confidence_threshold = 0.2", "confidence_threshold = 5"))
    ds, report = import_mapping(m)
    assert ds is None and report.errors[0].code == "mapping"
    assert "deployment_from_path" in report.errors[0].message
    assert "confidence_threshold" in report.errors[0].message
    (tmp_path / "ok").mkdir()
    loaded = load_mapping(write_mapping(tmp_path / "ok", md_output()))
    assert "records" not in loaded.tables
    assert loaded.tables["detections"].options["confidence_threshold"] == 0.2
    assert json.dumps(loaded.to_dict())


SN_EXIF = ("SourceFile,DateTimeOriginal\n"
           "CAM01/IMG_0101.JPG,2015:03:10 22:15:00\n"
           "CAM01/IMG_0102.JPG,2015:03:11 08:00:00\n"
           "CAM02/IMG_0103.JPG,2015:04:01 12:00:00\n")


def test_speciesnet_predictions(tmp_path):
    ds, report = import_mapping(write_mapping(tmp_path, speciesnet_output(), exif=SN_EXIF),
                                now=NOW)
    assert ds is not None, report.to_text()
    obs = ds.observations
    assert len(ds.media) == 3 and "image-failed" in report.counts()
    assert obs["observationType"].tolist() == ["animal", "blank", "unclassified"]
    assert obs["scientificName"].iloc[0] == "Panthera tigris"
    assert obs["classificationProbability"].iloc[0] == pytest.approx(0.93)
    assert obs["bboxWidth"].iloc[0] == pytest.approx(0.4)
    assert obs["classifiedBy"].iloc[0] == "4.0.1a"
    assert "source:classifier+rollup_to_family" in obs["observationTags"].iloc[2]
    # SpeciesNet records carry no time: they come from the EXIF table.
    assert ds.media["timestamp"].iloc[0] == pd.Timestamp("2015-03-10T12:15:00Z")


def test_direct_api_adds_to_a_dataset(tmp_path):
    ds0, rep0 = import_mapping(write_mapping(tmp_path, md_output()), now=NOW)
    assert rep0.valid
    base = ds0.replace(media=ds0.media.iloc[:0], observations=ds0.observations.iloc[:0])
    (tmp_path / "sn.json").write_text(json.dumps(speciesnet_output()), encoding="utf-8")
    ds, report = import_megadetector(tmp_path / "sn.json", dataset=base, id_prefix="RU-LLNP",
                                     confidence_threshold=0.5, now=NOW,
                                     exif_times={"CAM01/IMG_0101.JPG": "2015:03:10 22:15:00",
                                                 "CAM01/IMG_0102.JPG": "2015:03:11 08:00:00",
                                                 "CAM02/IMG_0103.JPG": "2015-04-01 12:00:00"})
    assert ds is not None, report.to_text()
    assert len(ds.observations) == 3
    with pytest.raises(SchemaError):
        read_megadetector(tmp_path / "md.json", dataset=base,
                          deployment_from_path=r"^(?P<deploymentID>NOPE)/")


def test_higher_rank_labels_are_names_to_map(tmp_path):
    """run_md_and_speciesnet writes SpeciesNet labels into classification_category_descriptions."""
    data = md_output(classification_categories={"0": "cat family", "1": "wild boar"},
                     classification_category_descriptions={
                         "0": "c3;mammalia;carnivora;felidae;;;cat family",
                         "1": "d4;mammalia;cetartiodactyla;suidae;sus;scrofa;wild boar"})
    ds, report = import_mapping(write_mapping(tmp_path, data), now=NOW)
    assert ds is None
    assert [i.got for i in report.errors if i.code == "unknown-species"] == ["Felidae"]
    (tmp_path / "b").mkdir()
    m = write_mapping(tmp_path / "b", data)
    m.write_text(m.read_text() + '"Felidae" = "unknown"\n', encoding="utf-8")
    ds, report = import_mapping(m, now=NOW)
    assert ds is not None, report.to_text()
    assert ds.observations["observationType"].iloc[0] == "unknown"
    assert pd.isna(ds.observations["scientificName"].iloc[0])


def test_megadetector_format_needs_a_detections_table(tmp_path):
    m = write_mapping(tmp_path, md_output())
    text = m.read_text().replace('name = "MD run"', 'name = "MD run"\nformat = "megadetector"')
    m.write_text(text.split("[tables.detections]")[0], encoding="utf-8")
    with pytest.raises(ConfigError, match=r"tables\.detections"):
        load_mapping(m)


def test_records_and_detections_together(tmp_path):
    m = write_mapping(tmp_path, md_output())
    (tmp_path / "records.csv").write_text(
        "Station,DateTimeOriginal,Species,File\n"
        "CAM01,2015-03-12 01:00:00,Тигр,CAM01/2015/IMG_0009.JPG\n", encoding="utf-8")
    text = m.read_text().replace("[tables.detections]", """[tables.records]
file = "records.csv"
columns = { deploymentID = "Station", timestamp = "DateTimeOriginal", scientificName = "Species",
            filePath = "File" }

[tables.detections]""")
    m.write_text(text, encoding="utf-8")
    ds, report = import_mapping(m, now=NOW)
    assert ds is not None, report.to_text()
    obs = ds.observations
    assert len(obs) == 5 and obs["observationID"].is_unique and ds.media["mediaID"].is_unique
    assert obs["classificationMethod"].fillna("-").tolist() == ["-"] + ["machine"] * 4
    out = write_camtrap_dp(ds, tmp_path / "pkg")
    assert load_camtrap_dp(out)[1].valid
