"""Write a simulated study: national data, import mapping, configuration, crosswalk, truth."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from datetime import timedelta
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


def _last_day(start: Any, n_days: int) -> str:
    return (start + timedelta(days=n_days - 1)).isoformat()


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

# The files of the study: `amurlink run` reads them (docs/study.md).
[inputs]
crosswalk = "crosswalk.csv"
border = "border.geojson"
period = {{ start = {sc.start.isoformat()}, end = {_last_day(sc.start, sc.n_days)} }}
photos = ["truth/photos.csv"]      # flank-photo catalogue of both countries
dna_reference = ["dna/reference_samples.csv"]

[inputs.CN]
camtrap_dp = ["cn"]
dna = ["dna/cn_lab.csv"]

[inputs.RU]
mapping = ["ru/ru.mapping.toml"]
dna = ["dna/ru_lab.csv"]

[inputs.reports]
owner = ["en", "zh", "ru"]
public = ["en"]
"""


_AGREEMENT_TOML = """# An example sharing agreement by `amurlink simulate` (docs/exchange.md):
# China's park shares tiger and leopard records with Russia's at 1 km.
[agreement]
provider = "Northeast China Tiger and Leopard National Park"
recipient = "Land of the Leopard National Park"
species = ["Panthera tigris", "Panthera pardus"]
tables = ["deployments", "media", "observations", "individuals"]
level = "1km"
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


_IMAGE_COLUMNS = ["file", "country", "animalID", "flank", "species", "pattern_seed", "yaw_deg",
                  "roll_deg", "scale", "infrared", "blur_sigma", "occlusion", "jpeg_quality",
                  "bboxX", "bboxY", "bboxWidth", "bboxHeight"]
_PHOTO_COLUMNS = ["filePath", "mediaID", "catalogue", "individualID", "trueID", "species",
                  "side", "country", "observationID", "dateTimeOriginal", "bboxX", "bboxY",
                  "bboxWidth", "bboxHeight", "yaw_deg", "roll_deg", "scale", "infrared",
                  "blur_sigma", "occlusion", "jpeg_quality", "pattern_seed"]
_SPECIES_WORD = {"Panthera tigris": "tiger", "Panthera pardus": "leopard"}


def _render_group(task: dict[str, Any]) -> list[dict[str, Any]]:
    """Render every photo of one animal-flank (its pattern is drawn once, then cached)."""
    from amurlink.simulate.flanks import render_flank, write_jpeg

    out = []
    for photo in task["photos"]:
        rng = np.random.default_rng(photo["seed"])
        image, info = render_flank(task["pattern_seed"], task["species"], task["side"], rng=rng)
        write_jpeg(photo["path"], image, int(info["jpeg_quality"]),
                   datetime_original=photo["exif"])
        out.append({k: v for k, v in info.items() if k != "bbox"})
    return out


def _photo_jobs(study: SimulatedStudy) -> pd.DataFrame:
    """Eligible photos: the first frame (or every frame) of identifiable non-cub cat records of
    photo and trail cameras, with their country, record, media path and camera-clock time."""
    mode = study.scenario.images
    rec = study.records.records
    cam_kind = study.survey.cameras["kind"].to_numpy()
    cat = rec[(rec["kind"] == "cat").to_numpy() & rec["identifiable"].to_numpy()
              & (cam_kind[rec["cameraIdx"].to_numpy()] != "video")
              & ~rec["isCub"].to_numpy()]
    cat_idx = pd.Index(cat["recordIdx"])
    # China: media rows in the order of cn_media_truth; Russia: records.csv rows are the media
    # (the order of truth_media). ``row``: the media row, for the clock time (_clock_text).
    cm = study.cn_media_truth
    cn = pd.DataFrame({"country": "CN", "recordIdx": cm["recordIdx"].to_numpy(),
                       "k": cm["k"].to_numpy(), "mediaID": cm["mediaID"].to_numpy(),
                       "file": "cn/" + cm["filePath"].astype(str).to_numpy(),
                       "row": np.arange(len(cm))})
    rm = study.ru["truth_media"]
    ru = pd.DataFrame({"country": "RU", "recordIdx": rm["recordIdx"].to_numpy(),
                       "k": rm["k"].to_numpy(), "mediaID": None,
                       "file": "ru/" + rm["File"].astype(str).to_numpy(),
                       "row": np.arange(len(rm))})
    jobs = pd.concat([cn, ru], ignore_index=True)
    jobs = jobs[cat_idx.get_indexer(jobs["recordIdx"]) >= 0]
    if mode == "first":
        jobs = jobs[jobs["k"].to_numpy() == 0]
    by_rec = rec.set_index("recordIdx")
    jobs = jobs.assign(animalIdx=by_rec["animalIdx"].reindex(jobs["recordIdx"]).to_numpy(),
                       flank=by_rec["flank"].reindex(jobs["recordIdx"]).to_numpy(),
                       scientificName=by_rec["scientificName"].reindex(jobs["recordIdx"])
                       .to_numpy())
    return jobs.reset_index(drop=True)


def _clock_text(study: SimulatedStudy, jobs: pd.DataFrame) -> np.ndarray:
    """EXIF ``DateTimeOriginal`` of each photo: the time its camera's clock showed.

    China: the media timestamp (UTC, clock errors included) plus the deployment's set-up
    offset; Russia: the ``DateTimeOriginal`` text of records.csv (Vladivostok clock time)."""
    out = np.empty(len(jobs), dtype=object)
    is_cn = (jobs["country"] == "CN").to_numpy()
    if is_cn.any():
        media = study.cn.media.iloc[jobs["row"].to_numpy()[is_cn]]
        dep = study.survey.deployments
        offset = pd.Series(dep["setupOffset"].to_numpy(), index=dep["deploymentID"].to_numpy())
        shown = (pd.DatetimeIndex(media["timestamp"]).tz_convert(None)
                 + pd.to_timedelta(offset.reindex(media["deploymentID"]).to_numpy(), unit="s"))
        out[is_cn] = shown.strftime("%Y:%m:%d %H:%M:%S")
    if (~is_cn).any():
        text = study.ru["records"]["DateTimeOriginal"].to_numpy()[jobs["row"].to_numpy()[~is_cn]]
        shown = pd.to_datetime(pd.Series(text), format="%Y-%m-%d %H:%M:%S")
        out[~is_cn] = shown.dt.strftime("%Y:%m:%d %H:%M:%S").to_numpy()
    return out


def _select_photos(study: SimulatedStudy, jobs: pd.DataFrame,
                   gen: np.random.Generator) -> pd.DataFrame:
    """Apply ``photos_per_flank`` (random photos per animal, flank and country) and
    ``max_images`` (each animal-flank's first photos first)."""
    sc = study.scenario
    jobs = jobs.assign(_u=gen.random(len(jobs)))
    jobs = jobs.sort_values(["country", "animalIdx", "flank", "_u"], kind="stable")
    rank = jobs.groupby(["country", "animalIdx", "flank"], sort=False).cumcount().to_numpy()
    jobs = jobs.assign(_rank=rank)
    if sc.photos_per_flank is not None:
        jobs = jobs[jobs["_rank"] < int(sc.photos_per_flank)]
    if sc.max_images is not None and len(jobs) > sc.max_images:
        jobs = jobs.sort_values(["_rank", "_u"], kind="stable").head(int(sc.max_images))
    # file order: deterministic, independent of the selection's sort
    return jobs.sort_values(["country", "file"], kind="stable").drop(
        columns=["_u", "_rank"]).reset_index(drop=True)


def _images(study: SimulatedStudy, staging: Path, *, client: Any = None,
            scheduler: str | None = None) -> pd.DataFrame:
    """Render flank photos of identifiable cat records into ``staging`` (``cn/media/...``,
    ``ru/media/...``); one row per photo with its truth (``_PHOTO_COLUMNS`` plus ``file``).

    One task per animal-flank (its pattern drawn once) through
    :func:`amurlink.parallel.map_items` (dask threads when dask is installed, else a loop);
    each photo has its own child seed (``SeedSequence.spawn``, in file order), so the files
    do not depend on the scheduler."""
    empty = pd.DataFrame(columns=["file", *_PHOTO_COLUMNS])
    if study.scenario.images == "none":
        return empty
    try:
        from amurlink.simulate.flanks import render_flank  # noqa: F401
    except ImportError as exc:
        logger.warning("flank photos skipped: amurlink.simulate.flanks is not available (%s)",
                       exc)
        return empty
    try:
        import cv2  # noqa: F401
    except ImportError:
        logger.warning("flank photos skipped: OpenCV (cv2) is not installed")
        return empty
    from amurlink.parallel import map_items

    seq = np.random.SeedSequence([study.seed, 7919])
    gen = np.random.default_rng(seq.spawn(1)[0])
    jobs = _select_photos(study, _photo_jobs(study), gen)
    if jobs.empty:
        return empty
    jobs["exif"] = _clock_text(study, jobs)
    is_ru = (jobs["country"] == "RU").to_numpy()
    jobs.loc[is_ru, "mediaID"] = (jobs.loc[is_ru, "file"].str.slice(3).str.replace("/", "_")
                                  .str.replace(".JPG", "", regex=False))
    logger.info("rendering %d flank photos", len(jobs))
    a = study.animals
    jobs["seed"] = seq.spawn(len(jobs) + 1)[1:]  # one child per photo (file order)
    tasks, order = [], []
    for (ai, flank), grp in jobs.groupby(["animalIdx", "flank"], sort=True):
        tasks.append({"pattern_seed": int(a["patternSeed"].iat[int(ai)]),
                      "species": grp["scientificName"].iat[0], "side": flank,
                      "photos": [{"seed": sd, "path": str(staging / f), "exif": ex}
                                 for sd, f, ex in zip(grp["seed"], grp["file"], grp["exif"],
                                                      strict=True)]})
        order.extend(grp.index.tolist())
    infos = [i for group in map_items(_render_group, tasks, client=client, scheduler=scheduler)
             for i in group]
    info = pd.DataFrame(infos, index=order).sort_index()
    ids = study.truth_detections
    cn_ids = ids[ids["country"] == "CN"].drop_duplicates("recordID").set_index("recordID")
    ru_ids = ids[ids["country"] == "RU"].drop_duplicates("recordID").set_index("recordID")
    is_cn = (jobs["country"] == "CN").to_numpy()
    rid = jobs["recordIdx"].to_numpy()
    individual = np.where(is_cn, cn_ids["individualID"].reindex(rid).to_numpy(),
                          ru_ids["individualID"].reindex(rid).to_numpy())
    obs_id = np.where(is_cn, cn_ids["observationID"].reindex(rid).to_numpy(), None)
    out = pd.DataFrame({
        "file": jobs["file"].to_numpy(), "filePath": jobs["file"].to_numpy(),
        "mediaID": jobs["mediaID"].to_numpy(),
        "catalogue": np.where(is_cn, CN_CATALOGUE, RU_CATALOGUE),
        "individualID": individual,
        "trueID": a["animalID"].to_numpy()[jobs["animalIdx"].to_numpy(int)],
        "species": [_SPECIES_WORD.get(s, s) for s in jobs["scientificName"]],
        "side": jobs["flank"].to_numpy(), "country": jobs["country"].to_numpy(),
        "observationID": obs_id,
        "dateTimeOriginal": jobs["exif"].to_numpy(),
    })
    for c in _PHOTO_COLUMNS[10:]:
        out[c] = info[c].to_numpy()
    return out


def _tag_observations(cn, photos: pd.DataFrame):
    """The CN dataset with each photographed observation's media, box and side tag."""
    sel = photos[photos["country"] == "CN"].drop_duplicates("observationID")
    if sel.empty:
        return cn
    obs = cn.observations.copy()
    pos = pd.Index(obs["observationID"]).get_indexer(sel["observationID"])
    if "mediaID" not in obs:
        obs["mediaID"] = None
    for c in ("bboxX", "bboxY", "bboxWidth", "bboxHeight"):
        obs[c] = np.nan
        obs.loc[obs.index[pos], c] = np.round(sel[c].to_numpy(float), 4)
    obs["mediaID"] = obs["mediaID"].astype(object)
    obs.loc[obs.index[pos], "mediaID"] = sel["mediaID"].to_numpy()
    tags = obs["observationTags"].astype(object) if "observationTags" in obs else pd.Series(
        None, index=obs.index, dtype=object)
    tags.iloc[pos] = ["side:" + s for s in sel["side"]]
    obs["observationTags"] = tags
    return cn.replace(observations=obs)


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
    (root / "agreement.toml").write_text(_AGREEMENT_TOML, encoding="utf-8")
    (root / "border.geojson").write_text(
        json.dumps(study.landscape.to_geojson(), ensure_ascii=False) + "\n", encoding="utf-8")
    staging = root / ".photos"
    photos = _images(study, staging)
    write_camtrap_dp(_tag_observations(study.cn, photos), root / "cn")
    for country in ("cn", "ru"):
        if (staging / country / "media").is_dir():
            (root / country).mkdir(parents=True, exist_ok=True)
            os.replace(staging / country / "media", root / country / "media")
    shutil.rmtree(staging, ignore_errors=True)
    ru = root / "ru"
    stations = study.ru["stations"]
    n_problems = sum(c.startswith("Problem") for c in stations.columns) // 2
    _csv(stations, ru / "stations.csv")
    _csv(study.ru["records"], ru / "records.csv")
    _csv(study.ru["catalogue"], ru / "catalogue.csv")
    (ru / "ru.mapping.toml").write_text(_mapping_toml(study, n_problems), encoding="utf-8")
    _dna_files(study, root)
    _csv(study.crosswalk.drop(columns=["correct"]), root / "crosswalk.csv")
    images = pd.DataFrame({
        "file": photos["file"], "country": photos["country"], "animalID": photos["trueID"],
        "flank": photos["side"], "species": photos["species"],
        **{c: photos[c] for c in _IMAGE_COLUMNS[5:]}}, columns=_IMAGE_COLUMNS)
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
    _csv(photos.drop(columns=["file"]), truth / "photos.csv")
    if study.resistance is not None:  # the resistance the animals moved by
        from amurlink.landscape.grid import write_grid

        tr = study.resistance
        for name, arr in (("resistance_true", tr.resistance),
                          ("resistance_class", tr.resistance_class.astype(float))):
            vals = np.where(np.isfinite(arr) & tr.land, arr, tr.grid.nodata)
            write_grid(tr.grid.with_values(vals), truth / f"{name}.tif")
    summary: dict[str, Any] = study.summary()
    summary["images"]["files"] = int(len(images))
    (root / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False,
                                                  default=str) + "\n", encoding="utf-8")
