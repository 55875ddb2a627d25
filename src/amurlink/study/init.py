"""``amurlink init DIR``: a commented study folder to fill in."""

from __future__ import annotations

import os
from pathlib import Path

from amurlink.config import CONFIG_FILENAME, load_config

__all__ = ["STUDY_TEMPLATE", "init_study"]

#: The ``amurlink.toml`` that ``amurlink init`` writes (valid as it is).
STUDY_TEMPLATE = """\
# amurlink.toml: the settings of one study and the files it is built from.
# `amurlink run` reads this file and every file named under [inputs] (docs/study.md);
# paths are relative to this folder. Every section is optional (docs/config.md).

[study]
name = "Amur tiger and leopard transboundary monitoring"

[crs]
working = "EPSG:32652"          # projected, metres (WGS 84 / UTM 52N)

[countries.CN]
organisation = "Northeast China Tiger and Leopard National Park"
catalogue = "CN-NTLNP"          # namespace of China's individual IDs
timezone = "Asia/Shanghai"

[countries.RU]
organisation = "Land of the Leopard National Park"
catalogue = "RU-LLNP"
timezone = "Asia/Vladivostok"

[events]
independence_minutes = 30

[protection]
public = "withheld"             # what the public sees of station locations
partner = "1km"

# [warnings]                    # village warnings from camera detections (km, level 1-3)
# levels_km = [[0, 1], [1, 2], [3, 5]]

# [corridors]                   # the corridors stage (landscape/resistance.tif, or
#                               # landscape/covariates/*.tif: resistance from the cameras)
# core_setback_km = 5           # cores: the parks' cells farther than this from the border
# segment_km = 10
# percentile = 5
# transform = "inverse"         # suitability -> resistance (inverse, negexp, linear)

[inputs]
crosswalk = "crosswalk.csv"     # expert links: cn_id, ru_id, method, reviewer, date
border = "border.geojson"       # the border line (GeoJSON or GeoPackage)
# period = { start = 2013-12-01, end = 2015-11-30 }   # the study period (inclusive)
# photos = ["photos/catalogue.csv"]   # flank photos: filePath, catalogue, individualID,
#                                     # species, side, bboxX, bboxY, bboxWidth, bboxHeight
# dna_reference = ["dna/reference_samples.csv"]       # samples typed by every lab

# Each country's records: any of camtrap_dp (package folder, datapackage.json or .zip),
# mapping (national tables through a *.mapping.toml, or a folder holding one),
# wildlife_insights and megadetector (mappings with that [source] format);
# dna = its lab's genotype files; photos = its photo catalogues.
[inputs.CN]
camtrap_dp = ["cn"]
# dna = ["dna/cn_lab.csv"]
# incidents = ["incidents/cn"]  # incident books (CSV tables); also smart = [SMART bundle
#                               # folders], earthranger = [EarthRanger event exports]

[inputs.RU]
mapping = ["ru"]                # the folder holds ru.mapping.toml and its tables
# dna = ["dna/ru_lab.csv"]

# [inputs.layers]               # map layers (GeoPackage or GeoJSON)
# parks = "layers/parks.gpkg"
# rivers = "layers/rivers.gpkg"
# roads = "layers/roads.gpkg"
# settlements = "layers/settlements.csv"   # villages: name, longitude, latitude (or GeoJSON)

[inputs.reports]                # audience = languages (en, zh, ru)
owner = ["en", "zh", "ru"]
public = ["en"]
"""

_README = """\
# A study folder

Put the files named in amurlink.toml here, then run `amurlink run` in this folder:

- cn/            China's Camtrap DP package (datapackage.json and its CSV files)
- ru/            Russia's national tables and their import mapping ru.mapping.toml
                 (docs/formats.md section 1)
- crosswalk.csv  the expert crosswalk between the two catalogues
- border.geojson the border line
- dna/, photos/, layers/: DNA lab files, photo catalogues, map layers (optional)

`amurlink run` writes output/: joint/ (the joint package and its link log), report/ and
run-record.json. See docs/study.md.
"""


def init_study(folder: str | os.PathLike[str], /, *, overwrite: bool = False) -> Path:
    """Write a commented study folder: ``amurlink.toml`` (with ``[inputs]``) and a README.

    Raises
    ------
    FileExistsError
        If ``folder/amurlink.toml`` exists and ``overwrite`` is False.
    """
    root = Path(folder)
    target = root / CONFIG_FILENAME
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; pass --force to replace it")
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".{CONFIG_FILENAME}.tmp"
    tmp.write_text(STUDY_TEMPLATE, encoding="utf-8")
    load_config(tmp)  # the template is always a valid config
    tmp.replace(target)
    readme = root / "README-study.md"
    if not readme.exists():
        readme.write_text(_README, encoding="utf-8")
    return root
