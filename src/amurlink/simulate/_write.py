"""Write a simulated study: national data, import mapping, configuration, crosswalk, truth."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyproj

from amurlink.io import write_camtrap_dp
from amurlink.simulate._records import CN_CATALOGUE, RU_AGE, RU_CATALOGUE, RU_SEX, RU_SPECIES
from amurlink.simulate._study import SimulatedStudy

__all__ = ["write_study", "RU_GK_CRS"]

logger = logging.getLogger(__name__)

#: CRS of the Russian national tables (Pulkovo 1942 / Gauss-Krüger zone 23).
RU_GK_CRS = "EPSG:28423"


def _csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a CSV (pyarrow for big frames: several times faster than pandas)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if len(frame) < 20_000:
        frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
        return
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="needed"))


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _config_toml(study: SimulatedStudy) -> str:
    sc = study.scenario
    return f"""# amurlink.toml by `amurlink simulate` (scenario {sc.name}, seed {study.seed})
[study]
name = {_toml_str(f"amurlink simulation: {sc.name}, seed {study.seed}")}

[crs]
working = {_toml_str(study.landscape.crs)}

[border]
file = "border.geojson"

[countries.CN]
organisation = "Northeast China Tiger and Leopard National Park"
catalogue = "{CN_CATALOGUE}"
timezone = "Asia/Shanghai"

[countries.RU]
organisation = "Land of the Leopard National Park"
catalogue = "{RU_CATALOGUE}"
timezone = "Asia/Vladivostok"

[events]
independence_minutes = 30

[occasions]
length_days = 1

[[species]]
scientificName = "Panthera tigris"
names = {{ en = "Amur tiger", zh = "东北虎", ru = "амурский тигр" }}

[[species]]
scientificName = "Panthera pardus"
names = {{ en = "Amur leopard", zh = "东北豹", ru = "дальневосточный леопард" }}
"""


def _inline(pairs: dict[str, str]) -> str:
    """A TOML inline table on one line (TOML 1.0 allows no line breaks inside)."""
    return "{ " + ", ".join(f"{k} = {_toml_str(v)}" for k, v in pairs.items()) + " }"


_STATION_COLUMNS = _inline({
    "deploymentID": "Station", "cameraID": "Camera", "x": "Y", "y": "X",
    "deploymentStart": "Setup_date", "deploymentEnd": "Retrieval_date"})
_RECORD_COLUMNS = _inline({
    "deploymentID": "Station", "timestamp": "DateTimeOriginal", "scientificName": "Species",
    "individualID": "Individual", "count": "Count", "sex": "Sex", "lifeStage": "Age",
    "filePath": "File"})


def _mapping_toml(study: SimulatedStudy, n_problems: int) -> str:
    species = "\n".join(f"{_toml_str(local)} = {_toml_str(sci)}"
                        for sci, local in sorted(RU_SPECIES.items(), key=lambda kv: kv[1]))
    sex = "\n".join(f"{_toml_str(v)} = {_toml_str(k)}" for k, v in RU_SEX.items())
    age = "\n".join(f"{_toml_str(v)} = {_toml_str(k)}" for k, v in RU_AGE.items())
    problems = ('problems = { from = "Problem{n}_from", to = "Problem{n}_to" }\n'
                if n_problems else "")
    return f"""# Import mapping of the Russian national tables (docs/formats.md section 1).
# Inline tables stay on one line so that any TOML 1.0 reader accepts the file.
# Written by `amurlink simulate` (scenario {study.scenario.name}, seed {study.seed}).
[source]
name = "LLNP camera traps (simulated by amurlink)"
country = "RU"
organisation = "LLNP"
catalogue = "{RU_CATALOGUE}"
crs = "{RU_GK_CRS}"
timezone = "Asia/Vladivostok"
encoding = "utf-8"

[tables.stations]
file = "stations.csv"
delimiter = ","
datetime_format = "%d.%m.%Y"
# Russian Gauss-Krueger axes: X is the northing, Y the easting (with the zone prefix 23).
columns = {_STATION_COLUMNS}
{problems}
[tables.records]
file = "records.csv"
delimiter = ","
datetime_format = "%Y-%m-%d %H:%M:%S"
columns = {_RECORD_COLUMNS}

[species]
{species}

[values.sex]
{sex}

[values.lifeStage]
{age}
"""


def _dna_files(study: SimulatedStudy, root: Path) -> None:
    dna = study.dna
    s = dna["samples"].set_index("sampleID")
    tr = pyproj.Transformer.from_crs(study.landscape.crs, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(s["x"].to_numpy(float), s["y"].to_numpy(float))
    date = (study.survey.t0 + pd.to_timedelta(s["day"].clip(lower=0).to_numpy(), unit="D"))
    meta = pd.DataFrame({
        "sampleType": s["sampleType"].to_numpy(),
        "collectionDate": np.where(s["day"].to_numpy() >= 0, date.strftime("%Y-%m-%d"), None),
        "latitude": np.round(lat, 5), "longitude": np.round(lon, 5),
        "countryCode": s["country"].to_numpy(),
    }, index=s.index)
    calls = dna["calls"]
    sex = dna["sex"]
    lab = s["lab"].reindex(calls["sampleID"]).to_numpy()
    # China: long form, one row per sample, locus and replicate; sex as locus "sex".
    cn = calls[lab == "CN-lab"]
    cn_sex = sex[s["lab"].reindex(sex["sampleID"]).to_numpy() == "CN-lab"]
    long = pd.concat([
        cn.assign(allele1=cn["allele1"].astype(object), allele2=cn["allele2"].astype(object)),
        pd.DataFrame({"sampleID": cn_sex["sampleID"], "locus": "sex",
                      "allele1": cn_sex["sex"], "allele2": None,
                      "replicate": cn_sex["replicate"]}),
    ], ignore_index=True).sort_values(["sampleID", "replicate"], kind="stable")
    long = meta.reindex(long["sampleID"]).reset_index().join(
        long.reset_index(drop=True).drop(columns=["sampleID"]))
    long = long[["sampleID", "sampleType", "collectionDate", "latitude", "longitude",
                 "countryCode", "locus", "allele1", "allele2", "replicate"]]
    _csv(long, root / "dna" / "cn_lab.csv")
    # Russia: wide (allelematch style), one row per PCR replicate, -99 for missing.
    ru = calls[lab == "RU-lab"]
    wide_rows = []
    if len(ru):
        a1 = ru.pivot_table(index=["sampleID", "replicate"], columns="locus", values="allele1",
                            aggfunc="first", dropna=False)
        a2 = ru.pivot_table(index=["sampleID", "replicate"], columns="locus", values="allele2",
                            aggfunc="first", dropna=False)
        keys = ru[["sampleID", "replicate"]].drop_duplicates()
        a1 = a1.reindex(pd.MultiIndex.from_frame(keys))
        a2 = a2.reindex(pd.MultiIndex.from_frame(keys))
        wide = meta.reindex(keys["sampleID"]).reset_index()
        sx = sex.set_index(["sampleID", "replicate"])["sex"].reindex(
            pd.MultiIndex.from_frame(keys))
        wide["sex"] = sx.fillna("-99").to_numpy()
        for locus in dna["loci"]:
            for suffix, table in (("a", a1), ("b", a2)):
                v = table[locus].astype("Int64")
                wide[f"{locus}{suffix}"] = np.where(v.isna(), -99,
                                                    v.fillna(0).astype(int)).astype(int)
        wide = wide.drop(columns=["countryCode"])
        wide_rows.append(wide)
    _csv(wide_rows[0] if wide_rows else pd.DataFrame(columns=["sampleID"]),
         root / "dna" / "ru_lab.csv")
    _csv(dna["reference"], root / "dna" / "reference_samples.csv")


def _images(study: SimulatedStudy, root: Path) -> pd.DataFrame:
    """Render flank photos of identifiable cat records; the truth of each image."""
    mode = study.scenario.images
    cols = ["file", "country", "animalID", "flank", "species", "pattern_seed", "yaw_deg",
            "roll_deg", "scale", "infrared", "blur_sigma", "occlusion", "jpeg_quality",
            "bboxX", "bboxY", "bboxWidth", "bboxHeight"]
    if mode == "none":
        return pd.DataFrame(columns=cols)
    try:
        from amurlink.simulate.flanks import render_flank, write_jpeg
    except ImportError as exc:
        logger.warning("flank photos skipped: amurlink.simulate.flanks is not available (%s)",
                       exc)
        return pd.DataFrame(columns=cols)
    try:
        import cv2  # noqa: F401
    except ImportError:
        logger.warning("flank photos skipped: OpenCV (cv2) is not installed")
        return pd.DataFrame(columns=cols)
    rec = study.records.records
    a = study.animals
    cam_kind = study.survey.cameras["kind"].to_numpy()
    cat = rec[(rec["kind"] == "cat").to_numpy() & rec["identifiable"].to_numpy()
              & (cam_kind[rec["cameraIdx"].to_numpy()] != "video")
              & ~rec["isCub"].to_numpy()]
    cat_idx = pd.Index(cat["recordIdx"])
    jobs = []
    cm = study.cn_media_truth
    sel = cat_idx.get_indexer(cm["recordIdx"]) >= 0
    for rid, k, path in cm.loc[sel, ["recordIdx", "k", "filePath"]].itertuples(index=False):
        if mode == "all" or k == 0:
            jobs.append(("CN", int(rid), root / "cn" / path))
    rm = study.ru["truth_media"]
    sel = cat_idx.get_indexer(rm["recordIdx"]) >= 0
    for rid, k, path in rm.loc[sel, ["recordIdx", "k", "File"]].itertuples(index=False):
        if mode == "all" or k == 0:
            jobs.append(("RU", int(rid), root / "ru" / path))
    gen = np.random.default_rng(np.random.SeedSequence([study.seed, 7919]))
    cap = study.scenario.max_images
    if cap is not None and len(jobs) > cap:
        # spread the photos over animals: each animal's first photos first
        animal = rec.set_index("recordIdx")["animalIdx"].reindex([j[1] for j in jobs]).to_numpy()
        rank = pd.Series(animal).groupby(animal).cumcount().to_numpy()
        order = np.lexsort((gen.random(len(jobs)), rank))[:cap]
        jobs = [jobs[i] for i in np.sort(order)]
        logger.info("rendering %d of the eligible flank photos (max_images=%d)", cap, cap)
    rows = []
    by_rec = rec.set_index("recordIdx")
    for country, rid, path in jobs:
        r = by_rec.loc[rid]
        ai = int(r["animalIdx"])
        image, info = render_flank(int(a["patternSeed"].iat[ai]), r["scientificName"],
                                   r["flank"], rng=gen)
        write_jpeg(path, image, int(info["jpeg_quality"]))
        rows.append({"file": str(path.relative_to(root)), "country": country,
                     "animalID": a["animalID"].iat[ai], "flank": r["flank"],
                     **{c: info.get(c) for c in cols[4:]}})
    return pd.DataFrame(rows, columns=cols)


def write_study(study: SimulatedStudy, path: str | os.PathLike[str], /, *,
                overwrite: bool = False) -> Path:
    """Write ``study`` in the layout of ``docs/formats.md`` §4.

    ``cn/`` (Camtrap DP package), ``ru/`` (national CSV tables + ``ru.mapping.toml``),
    ``dna/`` (each lab's genotype file and the reference samples), ``border.geojson``,
    ``amurlink.toml``, ``crosswalk.csv``, ``truth/`` and ``summary.json``. Flank photos go
    inside each country's folder (``cn/media/...``, ``ru/media/...``), where the media paths
    point.

    Parameters
    ----------
    study : SimulatedStudy
    path : path_like
        Output folder; written into a temporary folder and moved into place at the end.
    overwrite : bool, default False
        Replace an existing folder.

    Returns
    -------
    Path
        The output folder.

    Raises
    ------
    FileExistsError
        If ``path`` exists (and is not empty) and ``overwrite`` is False.
    """
    target = Path(path)
    if target.exists() and any(target.iterdir()) and not overwrite:
        raise FileExistsError(f"{target} exists and is not empty; pass overwrite=True "
                              "(--overwrite) to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        _write_into(study, tmp)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _write_into(study: SimulatedStudy, root: Path) -> None:
    (root / "amurlink.toml").write_text(_config_toml(study), encoding="utf-8")
    (root / "border.geojson").write_text(
        json.dumps(study.landscape.to_geojson(), ensure_ascii=False) + "\n", encoding="utf-8")
    write_camtrap_dp(study.cn, root / "cn")
    ru = root / "ru"
    stations = study.ru["stations"]
    n_problems = sum(c.startswith("Problem") for c in stations.columns) // 2
    _csv(stations, ru / "stations.csv")
    _csv(study.ru["records"], ru / "records.csv")
    _csv(study.ru["catalogue"], ru / "catalogue.csv")
    (ru / "ru.mapping.toml").write_text(_mapping_toml(study, n_problems), encoding="utf-8")
    _dna_files(study, root)
    _csv(study.crosswalk.drop(columns=["correct"]), root / "crosswalk.csv")
    images = _images(study, root)
    truth = root / "truth"
    a = study.animals.copy()
    a["x"] = a["x"].round(1)
    a["y"] = a["y"].round(1)
    _csv(a, truth / "animals.csv")
    _csv(study.positions_frame(), truth / "positions.csv")
    _csv(study.truth_detections, truth / "detections.csv")
    _csv(study.crossings(), truth / "crossings.csv")
    _csv(study.links, truth / "links.csv")
    _csv(study.crosswalk, truth / "crosswalk_checked.csv")
    dep = study.survey.deployments
    _csv(dep.assign(start=(study.survey.t0 + pd.to_timedelta(dep["start"], unit="s")),
                    end=(study.survey.t0 + pd.to_timedelta(dep["end"], unit="s"))),
         truth / "deployments.csv")
    _csv(study.dna["samples"], truth / "samples.csv")
    _csv(study.dna["genotypes"], truth / "genotypes.csv")
    _csv(study.dna["offsets"], truth / "lab_offsets.csv")
    _csv(images, truth / "images.csv")
    summary: dict[str, Any] = study.summary()
    summary["images"]["files"] = int(len(images))
    (root / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False,
                                                  default=str) + "\n", encoding="utf-8")
