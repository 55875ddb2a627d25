"""Wildlife Insights project downloads read into Camtrap DP.

The hand-made files follow the published Wildlife Insights download / batch-upload layout:
column names as in Wildlife Insights' data-download files and its batch-upload templates
(ConservationInternational/Wildlife-Insights----Data-Migration), as read by camtrapR's
``readWildlifeInsights`` and camtraptor's ``read_wi``: ``images.csv`` has one row per image
and taxon, local ``timestamp`` 'YYYY-MM-DD HH:MM:SS', ``is_blank`` 1/0 (older exports Yes/No);
``deployments.csv`` has ``start_date``/``end_date``, WGS 84 ``longitude``/``latitude`` and
``camera_functioning`` ("Camera Functioning", "Camera Hardware Failure", "Theft", ...).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from amurlink.exceptions import ConfigError, SchemaError
from amurlink.io import load_camtrap_dp, write_camtrap_dp
from amurlink.io._readers.wildlife_insights import (
    import_wildlife_insights,
    read_wildlife_insights,
)
from amurlink.io.mapping import import_mapping, load_mapping

NOW = "2026-01-01T00:00:00Z"
PROJECTS = "project_id,project_name,project_short_name\n2001234,Amur border cameras,ABC\n"
CAMERAS = "project_id,camera_id,make,model,serial_number\n2001234,C-01,Reconyx,HF2X,S1\n" \
          "2001234,C-02,Bushnell,Core,S2\n"
DEPLOYMENTS = (
    "project_id,deployment_id,placename,longitude,latitude,start_date,end_date,bait_type,"
    "bait_description,feature_type,quiet_period,camera_id,camera_functioning,sensor_height,"
    "height_other,sensor_orientation,orientation_other,recorded_by\n"
    "2001234,D1,Kedrovaya-1,131.52,43.10,2015-03-01 10:00:00,2015-05-01 10:00:00,None,,"
    "Trail game,0,C-01,Camera Functioning,Knee height,,Parallel,,A. Petrov\n"
    "2001234,D2,Kedrovaya-2,131.60,43.12,2015-03-02 11:00:00,2015-05-02 11:00:00,Scent,urine,"
    "Road dirt,30,C-02,Camera Hardware Failure,Chest height,,Pointed Downward,,A. Petrov\n"
)
IMG_HEADER = (
    "project_id,deployment_id,image_id,filename,location,is_blank,identified_by,wi_taxon_id,"
    "class,order,family,genus,species,common_name,uncertainty,timestamp,number_of_objects,"
    "highlighted,age,sex,animal_recognizable,individual_id,individual_animal_notes,markings,"
    "cv_confidence,license\n"
)
IMAGES = IMG_HEADER + (
    # tiger, identified individual
    "2001234,D1,img-1,IMG_0001.JPG,gs://bucket/D1/IMG_0001.JPG,0,Anna Ivanova,uuid-t,Mammalia,"
    "Carnivora,Felidae,Panthera,tigris,Tiger,,2015-03-10 22:15:00,1,1,Adult,Male,Yes,T-23,"
    "left flank,,,CC-BY\n"
    # blank
    "2001234,D1,img-2,IMG_0002.JPG,gs://bucket/D1/IMG_0002.JPG,1,Anna Ivanova,uuid-b,,,,,,"
    "Blank,,2015-03-11 08:00:00,,0,,,,,,,,CC-BY\n"
    # one image, two taxa (two rows, one media)
    "2001234,D2,img-3,IMG_0003.JPG,gs://bucket/D2/IMG_0003.JPG,0,Anna Ivanova,uuid-s,Mammalia,"
    "Cetartiodactyla,Suidae,Sus,scrofa,Wild Boar,,2015-04-01 03:00:00,3,0,Juvenile,Unknown,No,,"
    ",,,CC-BY\n"
    "2001234,D2,img-3,IMG_0003.JPG,gs://bucket/D2/IMG_0003.JPG,0,Anna Ivanova,uuid-c,Mammalia,"
    "Cetartiodactyla,Cervidae,Capreolus,pygargus,Siberian Roe Deer,,2015-04-01 03:00:00,1,0,,,"
    "No,,,,,CC-BY\n"
    # human
    "2001234,D2,img-4,IMG_0004.JPG,gs://bucket/D2/IMG_0004.JPG,0,Anna Ivanova,uuid-h,Mammalia,"
    "Primates,Hominidae,Homo,sapiens,Human,,2015-04-02 12:00:00,1,0,,,No,,,,,CC-BY\n"
    # not yet classified (computer vision pending)
    "2001234,D2,img-5,IMG_0005.JPG,gs://bucket/D2/IMG_0005.JPG,0,Computer vision,uuid-x,"
    "No CV Result,No CV Result,No CV Result,No CV Result,No CV Result,No CV Result,,"
    "2015-04-03 12:00:00,,0,,,,,,,0.4,CC-BY\n"
)


def wi_folder(tmp_path: Path, *, deployments: str = DEPLOYMENTS, images: str = IMAGES,
              extra: bool = True) -> Path:
    d = tmp_path / "wi"
    d.mkdir(parents=True)
    (d / "deployments.csv").write_text(deployments, encoding="utf-8")
    (d / "images.csv").write_text(images, encoding="utf-8")
    if extra:
        (d / "projects.csv").write_text(PROJECTS, encoding="utf-8")
        (d / "cameras.csv").write_text(CAMERAS, encoding="utf-8")
    return d


def run(folder: Path, **kw):
    args = {"country": "RU", "organisation": "LLNP", "catalogue": "RU-LLNP",
            "timezone": "Asia/Vladivostok", "now": NOW, **kw}
    return import_wildlife_insights(folder, **args)


def test_wi_download_to_camtrap_dp(tmp_path):
    ds, report = run(wi_folder(tmp_path))
    assert ds is not None, report.to_text()
    assert report.valid
    dep = ds.deployments.set_index("deploymentID")
    # Asia/Vladivostok is UTC+10 since 26 October 2014.
    assert dep.loc["D1", "deploymentStart"] == pd.Timestamp("2015-03-01T00:00:00Z")
    assert dep.loc["D1", "cameraModel"] == "Reconyx HF2X"
    assert dep.loc["D1", "featureType"] == "trailGame"
    assert dep.loc["D2", "featureType"] == "roadDirt"
    assert not dep.loc["D1", "baitUse"] and dep.loc["D2", "baitUse"]
    assert dep.loc["D2", "cameraTilt"] == -90 and dep.loc["D2", "cameraDelay"] == 30
    assert dep.loc["D1", "locationName"] == "Kedrovaya-1"
    assert ds["deploymentDetails"]["timezone"].eq("Asia/Vladivostok").all()
    obs = ds.observations
    assert len(obs) == 6 and len(ds.media) == 5
    assert obs["observationType"].tolist() == ["animal", "blank", "animal", "animal", "human",
                                               "unclassified"]
    assert obs["scientificName"].fillna("-").tolist() == [
        "Panthera tigris", "-", "Sus scrofa", "Capreolus pygargus", "Homo sapiens", "-"]
    assert obs["scientificName"].iloc[4] == "Homo sapiens"
    assert obs["eventStart"].iloc[0] == pd.Timestamp("2015-03-10T12:15:00Z")
    assert obs["count"].fillna(0).tolist() == [1, 0, 3, 1, 0, 0]
    # Two taxa on one image share one media row.
    assert obs["mediaID"].iloc[2] == obs["mediaID"].iloc[3]
    assert obs["individualID"].iloc[0] == "RU-LLNP:T-23"
    assert ds["individuals"]["individualID"].tolist() == ["RU-LLNP:T-23"]
    assert obs["sex"].iloc[0] == "male" and obs["lifeStage"].iloc[2] == "juvenile"
    assert obs["classificationMethod"].iloc[5] == "machine"
    assert obs["classificationProbability"].iloc[5] == pytest.approx(0.4)
    assert "wi_taxon_id:uuid-t" in obs["observationTags"].iloc[0]
    assert ds.media["favorite"].iloc[0]
    assert ds.metadata["title"] == "Amur border cameras"
    # camera_functioning other than "Camera Functioning": a warning, kept in the tags.
    w = [i for i in report.warnings if i.code == "camera-not-functioning"]
    assert len(w) == 1 and w[0].row == 3 and w[0].got == "Camera Hardware Failure"
    assert "camera_functioning:Camera Hardware Failure" in dep.loc["D2", "deploymentTags"]


def test_wi_result_writes_a_valid_package(tmp_path):
    ds, report = run(wi_folder(tmp_path))
    assert ds is not None, report.to_text()
    out = write_camtrap_dp(ds, tmp_path / "pkg")
    back, rep2 = load_camtrap_dp(out)
    assert rep2.valid, rep2.to_text()
    assert len(back.observations) == 6


def test_wi_older_export_yes_no_and_z_dates(tmp_path):
    """Older downloads (2019-2020, e.g. London HogWatch) write Yes/No and ...T00:00:00.000Z."""
    deps = DEPLOYMENTS.replace("2015-03-01 10:00:00", "2015-03-01T00:00:00.000Z")
    imgs = IMAGES.replace(",0,Anna", ",No,Anna").replace(",1,Anna", ",Yes,Anna")
    ds, report = run(wi_folder(tmp_path, deployments=deps, images=imgs, extra=False))
    assert ds is not None, report.to_text()
    assert "utc-suffix-ignored" in report.counts()
    assert ds.deployments["deploymentStart"].iloc[0] == pd.Timestamp("2015-02-28T14:00:00Z")
    assert ds.observations["observationType"].iloc[1] == "blank"


def test_wi_unknown_species_reported_not_guessed(tmp_path):
    imgs = IMAGES.replace("Capreolus,pygargus", "Cervus,nipponicus")
    ds, report = run(wi_folder(tmp_path, images=imgs))
    assert ds is None
    err = [i for i in report.errors if i.code == "unknown-species"]
    assert len(err) == 1 and err[0].got == "Cervus nipponicus" and err[0].row == 5
    assert "[species]" in err[0].fix
    ds, report = run(wi_folder(tmp_path / "b", images=imgs),
                     species={"Cervus nipponicus": "Cervus nippon"})
    assert report.valid, report.to_text()
    assert ds.observations["scientificName"].iloc[3] == "Cervus nippon"


@pytest.mark.parametrize("change, code, field, row", [
    (("2015-03-10 22:15:00", "10/03/2015 22:15"), "type-error", "timestamp", 2),
    ((",D1,img-2,", ",D9,img-2,"), "foreign-key", "deployment_id", 3),
    ((",3,0,Juvenile", ",three,0,Juvenile"), "type-error", "number_of_objects", 4),
    ((",0,Anna Ivanova,uuid-t", ",maybe,Anna Ivanova,uuid-t"), "type-error", "is_blank", 2),
])
def test_wi_malformed_images_are_errors_with_row_and_fix(tmp_path, change, code, field, row):
    ds, report = run(wi_folder(tmp_path, images=IMAGES.replace(*change)))
    assert ds is None  # never half-imported
    hit = [i for i in report.errors if i.code == code]
    assert hit, report.to_text()
    assert hit[0].field == field and hit[0].row == row and hit[0].fix
    assert hit[0].file.endswith("images.csv")


@pytest.mark.parametrize("change, code, field", [
    (("2015-05-01 10:00:00", "2015-02-01 10:00:00"), "start-after-end", "start_date"),
    (("131.52,43.10", "131.52,93.10"), "coordinates", "latitude"),
    ((",D2,Kedrovaya-2", ",D1,Kedrovaya-2"), "unique", "deployment_id"),
])
def test_wi_malformed_deployments(tmp_path, change, code, field):
    ds, report = run(wi_folder(tmp_path, deployments=DEPLOYMENTS.replace(*change)))
    assert ds is None
    hit = [i for i in report.errors if i.code == code]
    assert hit and hit[0].field == field and hit[0].file.endswith("deployments.csv")


def test_wi_missing_file_and_column(tmp_path):
    d = wi_folder(tmp_path)
    (d / "images.csv").write_text(IMAGES.replace("timestamp", "time_stamp"), encoding="utf-8")
    ds, report = run(d)
    assert ds is None
    assert report.errors[0].code == "missing-column" and report.errors[0].field == "timestamp"
    (d / "deployments.csv").unlink()
    ds, report = run(d)
    assert ds is None and report.errors[0].code == "unreadable-file"
    with pytest.raises(SchemaError):
        read_wildlife_insights(d, country="RU", timezone="Asia/Vladivostok")
    ds, report = run(tmp_path / "nowhere")
    assert ds is None and report.errors[0].code == "unreadable-file"
    ds, report = run(wi_folder(tmp_path / "c"), timezone="Vladivostok")
    assert ds is None and report.errors[0].code == "timezone"


def test_wi_by_mapping_preset(tmp_path):
    folder = wi_folder(tmp_path)
    m = tmp_path / "wi.mapping.toml"
    m.write_text(f"""
[source]
name = "Amur WI"
format = "wildlife-insights"
folder = "{folder.name}"
country = "RU"
organisation = "LLNP"
catalogue = "RU-LLNP"
timezone = "Asia/Vladivostok"

[species]
"Capreolus pygargus" = "Capreolus pygargus"
""", encoding="utf-8")
    ds, report = import_mapping(m, now=NOW)
    assert ds is not None, report.to_text()
    assert len(ds.observations) == 6
    assert ds.metadata["title"] == "Amur WI"
    # The manifest hashes the download's files and records the preset.
    info = load_mapping(m).to_dict()
    json.dumps(info)
    assert info["source"]["format"] == "wildlife-insights"
    assert {Path(t["file"]).name for t in info["tables"].values()} == {
        "projects.csv", "cameras.csv", "deployments.csv", "images.csv"}


@pytest.mark.parametrize("line, key", [
    ('format = "wildlife-insight"', "source.format"),
    ('folder = "missing"', "source.folder"),
])
def test_wi_bad_preset_mapping(tmp_path, line, key):
    wi_folder(tmp_path)
    m = tmp_path / "wi.mapping.toml"
    text = ('[source]\nformat = "wildlife-insights"\nfolder = "wi"\ncountry = "RU"\n'
            'timezone = "Asia/Vladivostok"\n')
    field = line.split(" = ")[0]
    text = "\n".join(line if ln.startswith(field) else ln for ln in text.splitlines())
    m.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_mapping(m)
