"""MegaDetector batch output and SpeciesNet predictions JSON to Camtrap DP media and observations.

Formats (as published):

- MegaDetector batch output (lila.science/megadetector-output-format, format_version 1.x):
  ``{"info": {"format_version": ..., "detector": ...}, "detection_categories": {"1": "animal",
  "2": "person", "3": "vehicle"}, "classification_categories"?: {...},
  "classification_category_descriptions"?: {...}, "images": [{"file": "CAM01/IMG_0001.JPG",
  "detections": [{"category": "1", "conf": 0.97, "bbox": [x, y, w, h], "classifications"?:
  [["3", 0.9], ...]}], "failure"?: null, "datetime"?: ...}]}``; boxes normalised, origin at
  the top left; categories not listed mean "no detection"; a failed image has a ``failure``
  string and no detections.
- SpeciesNet ensemble output (google/cameratrapai README, "Output format from run_model"):
  ``{"predictions": [{"filepath": ..., "failures"?: [...], "country"?: "RUS",
  "classifications"?: {"classes": ["<uuid>;mammalia;carnivora;felidae;panthera;tigris;tiger",
  ...], "scores": [...]}, "detections"?: [{"category": "1", "label": "animal", "conf": ...,
  "bbox": [...]}], "prediction"?: "<uuid>;...;tiger", "prediction_score"?: 0.9,
  "prediction_source"?: ..., "model_version": ...}]}``.
"""

from __future__ import annotations

import json
import mimetypes
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from amurlink.core.species import resolve_species
from amurlink.core.time import implausible_times, local_to_utc
from amurlink.dataset import Dataset
from amurlink.io._parse import empty_frame
from amurlink.io._readers.wildlife_insights import parse_local_any
from amurlink.io.validation import ValidationReport
from amurlink.schema import TABLES

__all__ = ["import_megadetector", "read_megadetector", "detections_to_tables", "stack_tables",
           "DEFAULT_DEPLOYMENT_FROM_PATH", "MD_FORMATS"]

MD_FORMATS = ("megadetector", "speciesnet")
DEFAULT_DEPLOYMENT_FROM_PATH = r"^(?P<deploymentID>[^/]+)/"
_EXIF_FORMATS = ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")
_TYPE_OF_CATEGORY = {"animal": "animal", "person": "human", "human": "human",
                     "vehicle": "vehicle"}
_VIDEO = (".mp4", ".avi", ".mov", ".mkv", ".wmv")
MAX_LISTED = 20


class _Issues:
    """Issues of one JSON file, located by record (``images[i]`` / ``predictions[i]``)."""

    def __init__(self, report: ValidationReport, file: str, kind: str) -> None:
        self.report, self.file, self.kind = report, file, kind
        self.count: dict[str, int] = {}

    def add(self, code: str, i: int | None, field: str, what: str, expected: str, got: Any,
            fix: str, *, severity: str = "error") -> None:
        n = self.count.get(code, 0) + 1
        self.count[code] = n
        if n > MAX_LISTED:
            return
        where = f"{self.kind}[{i}]" if i is not None else "top level"
        key = f"{where}.{field}" if field else where
        g = None if got is None else (got if isinstance(got, str) else json.dumps(got)[:200])
        add = self.report.error if severity == "error" else self.report.warning
        add(code, f"{Path(self.file).name} {key}: {what}; expected {expected}"
            + (f", got {g!r}" if g is not None else "") + f". Fix: {fix}", file=self.file,
            table=self.kind, row=i, field=key, expected=expected, got=g, fix=fix)

    def summarise(self) -> None:
        for code, n in self.count.items():
            if n > MAX_LISTED:
                self.report.error(code, f"{Path(self.file).name}: {n - MAX_LISTED} more records "
                                  f"with the same problem ({n} in all)", file=self.file,
                                  table=self.kind)


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v)


def _taxon_label(label: str) -> tuple[str, str]:
    """SpeciesNet label ``uuid;class;order;family;genus;species;common`` -> (kind, name).

    kind is ``blank``, ``human``, ``vehicle``, ``animal`` (name: the binomial or lowest rank,
    possibly empty for the bare ``animal`` label), ``unknown`` or ``unclassified``.
    """
    parts = [p.strip() for p in str(label).split(";")]
    if len(parts) < 7:
        parts = ["", "", "", "", "", "", parts[-1] if parts else ""]
    cls, order, family, genus, sp, common = parts[1:7]
    low = common.lower()
    if genus.lower() == "homo" and sp.lower() == "sapiens" or low == "human":
        return "human", "Homo sapiens"
    if low in ("blank", "empty"):
        return "blank", ""
    if low == "vehicle":
        return "vehicle", ""
    if low in ("no cv result", "cv failed"):
        return "unclassified", ""
    if low == "unknown":
        return "unknown", ""
    if genus and sp:
        return "animal", f"{genus.capitalize()} {sp.lower()}"
    for rank in (genus, family, order, cls):
        if rank:
            return "animal", rank.capitalize()
    return "animal", ""


#: Memory charged per byte of a detections JSON file (Python objects are bulky).
_JSON_COST = 12


def _load(path: Path, report: ValidationReport) -> tuple[str, dict[str, Any]] | None:
    from amurlink.io._source import _human, default_budget
    from amurlink.io.camtrap_dp import MAX_JSON_DEPTH, json_depth

    try:
        size = path.stat().st_size
        if size * _JSON_COST > default_budget():
            report.error("over-budget", f"{path.name}: {_human(size)} of JSON would need about "
                         f"{_human(size * _JSON_COST)} of memory, above the read budget",
                         file=str(path), fix="split the detections file by folder, or raise "
                         "AMURLINK_READ_BUDGET")
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        report.error("unreadable-file", f"{path.name}: no such file", file=str(path),
                     fix="check the detections file named in the mapping")
        return None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        report.error("bad-json", f"{path.name}: is not valid JSON ({exc})", file=str(path),
                     expected="MegaDetector batch output or SpeciesNet predictions JSON",
                     fix="use the file written by run_detector_batch / run_model, unedited")
        return None
    except RecursionError:
        data = None
    if data is None or json_depth(data) > MAX_JSON_DEPTH:
        report.error("too-deep", f"{path.name}: nests objects or lists more than "
                     f"{MAX_JSON_DEPTH} levels deep", file=str(path),
                     expected="MegaDetector batch output or SpeciesNet predictions JSON",
                     fix="use the file written by run_detector_batch / run_model, unedited")
        return None
    if isinstance(data, dict) and isinstance(data.get("images"), list):
        if not isinstance(data.get("detection_categories"), dict):
            report.error("bad-json", f"{path.name}: MegaDetector output without "
                         "'detection_categories'", file=str(path), field="detection_categories",
                         expected='{"1": "animal", "2": "person", "3": "vehicle"}',
                         fix="use a complete MegaDetector results file (format 1.1 or later)")
            return None
        return "megadetector", data
    if isinstance(data, dict) and isinstance(data.get("predictions"), list):
        return "speciesnet", data
    report.error("bad-json", f"{path.name}: neither MegaDetector output (an 'images' list) nor "
                 "SpeciesNet output (a 'predictions' list)", file=str(path),
                 expected="a JSON object with 'images' or 'predictions'",
                 got=type(data).__name__ if not isinstance(data, dict) else ", ".join(data)[:200],
                 fix="pass the JSON written by MegaDetector or SpeciesNet")
    return None


def _bbox(iss: _Issues, i: int, field: str, box: Any) -> tuple[float, ...] | None:
    if box is None:
        return None
    vals = [_num(v) for v in box] if isinstance(box, list) else []
    if len(vals) != 4 or any(v is None for v in vals):
        iss.add("bbox", i, field, "bounding box is not four numbers", "[x, y, width, height]",
                box, "use the file as MegaDetector wrote it")
        return None
    x, y, w, h = (float(v) for v in vals)  # type: ignore[arg-type]
    if min(x, y) < 0 or max(x, y) > 1 or not (0 < w <= 1 and 0 < h <= 1) or x + w > 1.001 \
            or y + h > 1.001:
        iss.add("bbox", i, field, "bounding box is not normalised to the image",
                "x, y, width, height in [0, 1], origin top left", box,
                "MegaDetector writes relative boxes; divide pixel boxes by the image size")
        return None
    return x, y, min(w, 1 - x), min(h, 1 - y)


def detections_to_tables(
    path: str | os.PathLike[str], /, *, deployments: pd.DataFrame, zones: Mapping[str, str],
    report: ValidationReport, id_prefix: str,
    deployment_from_path: str = DEFAULT_DEPLOYMENT_FROM_PATH,
    confidence_threshold: float = 0.2, datetime_format: str | None = None,
    exif_times: Mapping[str, str] | None = None, species: Mapping[str, str] | None = None,
    now: Any = None,
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """MegaDetector / SpeciesNet JSON to ``(observations, media)`` for known deployments.

    ``zones`` maps each deploymentID to its IANA zone; camera times are converted with the
    zone's offset at set-up. Returns ``None`` where the file cannot be read at all; other
    problems are added to ``report``.
    """
    file = Path(path)
    loaded = _load(file, report)
    if loaded is None:
        return None
    fmt, data = loaded
    kind = "images" if fmt == "megadetector" else "predictions"
    iss = _Issues(report, str(file), kind)
    try:
        rx = re.compile(deployment_from_path)
    except re.error as exc:
        report.error("config", f"deployment_from_path {deployment_from_path!r} is not a regular "
                     f"expression ({exc})", field="deployment_from_path",
                     fix='write e.g. "^(?P<deploymentID>[^/]+)/"')
        return None
    if "deploymentID" not in rx.groupindex:
        report.error("config", "deployment_from_path has no (?P<deploymentID>...) group",
                     field="deployment_from_path", got=deployment_from_path,
                     fix='write e.g. "^(?P<deploymentID>[^/]+)/"')
        return None
    thr = float(confidence_threshold)
    info = data.get("info") if isinstance(data.get("info"), dict) else {}
    model = ", ".join(str(info[k]) for k in ("detector", "classifier") if info.get(k)) or (
        "MegaDetector" if fmt == "megadetector" else "SpeciesNet")
    cats = {str(k): str(v).strip().lower() for k, v in (data.get("detection_categories")
                                                          or {"1": "animal", "2": "human",
                                                              "3": "vehicle"}).items()}
    ccats = {str(k): str(v) for k, v in (data.get("classification_categories") or {}).items()}
    cdesc = {str(k): str(v) for k, v in
             (data.get("classification_category_descriptions") or {}).items()}
    known_dep = set(deployments["deploymentID"].astype(str))
    exif = {str(k).replace("\\", "/"): v for k, v in (exif_times or {}).items()}

    seen: dict[str, int] = {}
    media_rows: list[dict[str, Any]] = []
    obs_rows: list[dict[str, Any]] = []
    for i, entry in enumerate(data[kind]):
        if not isinstance(entry, dict):
            iss.add("bad-json", i, "", "record is not an object", "{...}", entry,
                    "use the file as written")
            continue
        fkey = "file" if fmt == "megadetector" else "filepath"
        fpath = entry.get(fkey)
        if not isinstance(fpath, str) or not fpath.strip():
            iss.add("required", i, fkey, "no file path", "the image's path", fpath,
                    "use the file as written")
            continue
        fpath = fpath.strip().replace("\\", "/")
        failed = entry.get("failure") if fmt == "megadetector" else entry.get("failures")
        if failed:
            iss.add("image-failed", i, "failure" if fmt == "megadetector" else "failures",
                    "the model could not process this image; it is left out", "no failure",
                    failed, "re-run the model on the image", severity="warning")
            continue
        if fpath.startswith(("/", "~", ".")) or re.match(r"^[A-Za-z]:/", fpath) or ".." in fpath:
            iss.add("pattern", i, fkey, "path is absolute or leaves the image folder",
                    "a path relative to the image folder (Camtrap DP)", fpath,
                    "run the detector with relative output paths, or strip the folder prefix")
            continue
        if fpath in seen:
            iss.add("unique", i, fkey, f"image listed twice (first: {kind}[{seen[fpath]}])",
                    "one record per image", fpath, "remove the repeated record (merged runs?)")
            continue
        seen[fpath] = i
        m = rx.search(fpath)
        dep = m.group("deploymentID") if m else None
        if not dep:
            iss.add("deployment-from-path", i, fkey, "deployment_from_path does not match",
                    f"a path matching {deployment_from_path!r}", fpath,
                    "correct deployment_from_path in the mapping")
            continue
        if dep not in known_dep:
            iss.add("foreign-key", i, fkey, f"deployment {dep!r} (from the path) is not in the "
                    "station table", "a known deploymentID", dep,
                    "add the station or correct deployment_from_path")
            continue
        raw_time = entry.get("datetime")
        if raw_time is None:
            raw_time = exif.get(fpath)
        if raw_time is None or str(raw_time).strip() == "":
            iss.add("timestamp-missing", i, "datetime", "no time for the image (no 'datetime' "
                    "field and no EXIF time given for this file)", "a camera time", None,
                    "give an EXIF table (filePath, timestamp) or run the detector with "
                    "image timestamps")
            continue
        media_rows.append({"i": i, "path": fpath, "dep": dep, "time": str(raw_time),
                           "video": "frame_rate" in entry or fpath.lower().endswith(_VIDEO)})
        mi = len(media_rows) - 1
        base = {"m": mi, "method": "machine", "by": model}
        if fmt == "megadetector":
            dets = entry.get("detections")
            if not isinstance(dets, list):
                iss.add("bad-json", i, "detections", "no detections list", "a list (empty when "
                        "nothing was found)", dets, "use the file as written")
                media_rows.pop()
                continue
            kept = 0
            for j, d in enumerate(dets):
                if not isinstance(d, dict):
                    iss.add("bad-json", i, f"detections[{j}]", "not an object", "{...}", d,
                            "use the file as written")
                    continue
                conf = _num(d.get("conf"))
                if conf is None or not 0 <= conf <= 1:
                    iss.add("type-error", i, f"detections[{j}].conf", "confidence is not a "
                            "number in [0, 1]", "a number in [0, 1]", d.get("conf"),
                            "use the file as written")
                    continue
                cname = cats.get(str(d.get("category")))
                otype = _TYPE_OF_CATEGORY.get(cname or "")
                if otype is None or conf < thr:
                    continue  # unlisted categories mean "no detection" (format spec)
                box = _bbox(iss, i, f"detections[{j}].bbox", d.get("bbox"))
                row = {**base, "type": otype, "prob": conf, "box": box, "name": None,
                       "tag": f"detection:{cname} conf:{conf:g}"}
                cls = d.get("classifications")
                if otype == "animal" and isinstance(cls, list) and cls:
                    top = cls[0]
                    if isinstance(top, list) and len(top) == 2 and _num(top[1]) is not None:
                        cid = str(top[0])
                        label = cdesc.get(cid, "")
                        k, nm = _taxon_label(label) if label.count(";") >= 6 else \
                            ("animal", ccats.get(cid, ""))
                        row.update(type=k, name=nm or None, prob=float(top[1]),
                                   tag=row["tag"] + f" | classification:{ccats.get(cid, cid)}")
                    else:
                        iss.add("bad-json", i, f"detections[{j}].classifications",
                                "not [[category, confidence], ...]", '[["3", 0.9]]', cls,
                                "use the file as written")
                obs_rows.append(row)
                kept += 1
            if kept == 0:
                obs_rows.append({**base, "type": "blank", "prob": None, "box": None,
                                 "name": None, "tag": f"below threshold {thr:g}"})
        else:
            pred = entry.get("prediction")
            score = _num(entry.get("prediction_score"))
            dets = entry.get("detections") if isinstance(entry.get("detections"), list) else []
            top = max((d for d in dets if isinstance(d, dict) and _num(d.get("conf")) is not None),
                      key=lambda d: d["conf"], default=None)
            if not isinstance(pred, str):
                iss.add("required", i, "prediction", "no ensemble prediction",
                        "a label '<uuid>;class;order;family;genus;species;common name'", pred,
                        "run the full ensemble (detector and classifier)")
                media_rows.pop()
                continue
            k, nm = _taxon_label(pred)
            box = None
            if top is not None and k in ("animal", "human", "vehicle") and top["conf"] >= thr:
                box = _bbox(iss, i, "detections[0].bbox", top.get("bbox"))
            tag = f"prediction:{pred.split(';')[-1]}"
            if entry.get("prediction_source"):
                tag += f" | source:{entry['prediction_source']}"
            if k not in ("blank",) and (score is None or score < thr):
                k, nm = "unclassified", ""
            obs_rows.append({**base, "type": k, "name": nm or None, "prob": score, "box": box,
                             "tag": tag, "by": entry.get("model_version") or model})
    iss.summarise()

    # Media
    nm_ = len(media_rows)
    media = empty_frame(TABLES["media"]).reindex(range(nm_))
    obs = empty_frame(TABLES["observations"]).reindex(range(len(obs_rows)))
    if nm_ == 0:
        return obs.iloc[:0], media.iloc[:0]
    mf = pd.DataFrame(media_rows)
    fmts = (datetime_format,) + _EXIF_FORMATS if datetime_format else _EXIF_FORMATS
    local, bad, _ = parse_local_any(mf["time"], fmts)
    for b in np.flatnonzero(bad)[:MAX_LISTED]:
        iss.add("type-error", int(mf["i"].iloc[b]), "datetime", "time not understood",
                f"text in the format {fmts[0]!r}", mf["time"].iloc[b],
                "set datetime_format in the mapping")
    dep_s = mf["dep"]
    zone = dep_s.map(dict(zones))
    d = deployments.set_index(deployments["deploymentID"].astype(str))
    start = dep_s.map(d["deploymentStart"])
    ref = pd.Series([s.tz_convert(z).tz_localize(None) if pd.notna(s) and isinstance(z, str)
                     else pd.NaT for s, z in zip(start, zone, strict=True)],
                    dtype="datetime64[ns]")
    utc = local_to_utc(local, zones=zone, reference=ref)
    flags = implausible_times(utc, start.reset_index(drop=True),
                              dep_s.map(d["deploymentEnd"]).reset_index(drop=True), now=now)
    for code, col, what in (("timestamp-before-deployment", "beforeDeployment", "before set-up"),
                            ("timestamp-after-deployment", "afterDeployment", "after retrieval"),
                            ("timestamp-in-future", "future", "in the future")):
        for b in np.flatnonzero(flags[col].to_numpy(bool))[:MAX_LISTED]:
            iss.add(code, int(mf["i"].iloc[b]), "datetime", f"image lies {what} (kept)",
                    "a time inside the deployment", mf["time"].iloc[b],
                    "check the camera clock", severity="warning")
    media["mediaID"] = pd.Series([f"{id_prefix}:md-m{i}" for i in mf["i"]], dtype="string")
    media["deploymentID"] = dep_s.astype("string")
    media["captureMethod"] = pd.Series("activityDetection", index=media.index, dtype="string")
    media["timestamp"] = utc
    media["filePath"] = mf["path"].astype("string")
    media["filePublic"] = pd.array([False] * nm_, dtype="boolean")
    media["fileName"] = mf["path"].str.rsplit("/", n=1).str[-1].astype("string")
    media["fileMediatype"] = pd.Series(
        [mimetypes.guess_type(p)[0] or ("video/mp4" if v else "image/jpeg")
         for p, v in zip(mf["path"], mf["video"], strict=True)], dtype="string")

    # Observations
    of = pd.DataFrame(obs_rows)
    mi = of["m"].to_numpy(int)
    names = of["name"].where(of["type"] == "animal")
    res = resolve_species(names, extra=dict(species or {}))
    for nm, count in res.unknown.items():
        first = int(mf["i"].iloc[mi[np.flatnonzero((names == nm).to_numpy(bool))[0]]])
        iss.add("unknown-species", first, "classification", f"taxon {nm!r} ({count} "
                "observations) is not in amurlink's species table", "a known taxon", nm,
                f'add "{nm}" = "<Scientific name>" (or "unknown") under [species] of the mapping')
    for nm, target in res.not_in_table.items():
        report.warning("species-not-in-table", f"[species] maps {nm!r} to {target!r}, which "
                       "amurlink's species table does not list; kept as given",
                       field=f"species.{nm}", got=target, fix="check the spelling")
    otype = of["type"].astype("string")
    rtype = res.observation_type
    named = (otype == "animal").to_numpy(bool) & rtype.notna().to_numpy(bool)
    otype = otype.where(~named, rtype)
    sci = res.scientific_name.where(otype == "animal")
    sci = sci.where(otype != "human", "Homo sapiens")
    obs["observationID"] = pd.Series([f"{id_prefix}:md-o{k}" for k in range(len(of))],
                                     dtype="string")
    obs["deploymentID"] = media["deploymentID"].iloc[mi].reset_index(drop=True)
    obs["mediaID"] = media["mediaID"].iloc[mi].reset_index(drop=True)
    obs["eventStart"] = utc.iloc[mi].reset_index(drop=True)
    obs["eventEnd"] = obs["eventStart"]
    obs["observationLevel"] = pd.Series("media", index=obs.index, dtype="string")
    obs["observationType"] = otype.astype("string")
    obs["scientificName"] = sci.astype("string")
    boxes = of["box"].tolist()
    for k, col in enumerate(("bboxX", "bboxY", "bboxWidth", "bboxHeight")):
        obs[col] = [b[k] if b is not None else np.nan for b in boxes]
    obs["classificationMethod"] = pd.Series("machine", index=obs.index, dtype="string")
    obs["classifiedBy"] = of["by"].astype("string")
    obs["classificationProbability"] = pd.to_numeric(of["prob"], errors="coerce").to_numpy(float)
    obs["observationTags"] = of["tag"].astype("string")
    return obs, media


def stack_tables(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``first`` then ``second`` (same columns), keeping ``first``'s dtypes."""
    if not len(first):
        return second.reset_index(drop=True)
    if not len(second):
        return first.reset_index(drop=True)
    return pd.DataFrame({c: pd.concat([first[c], second[c]], ignore_index=True).astype(
        first[c].dtype) for c in first.columns})


def import_megadetector(
    path: str | os.PathLike[str], /, *, dataset: Dataset,
    deployment_from_path: str = DEFAULT_DEPLOYMENT_FROM_PATH, confidence_threshold: float = 0.2,
    timezone: str | None = None, datetime_format: str | None = None,
    exif_times: Mapping[str, str] | None = None, species: Mapping[str, str] | None = None,
    id_prefix: str | None = None, now: Any = None,
) -> tuple[Dataset | None, ValidationReport]:
    """Add MegaDetector / SpeciesNet results to a dataset's deployments as machine observations.

    Parameters
    ----------
    path : path_like
        MegaDetector batch output JSON (``images``) or SpeciesNet predictions (``predictions``);
        the kind is recognised from the content.
    dataset : Dataset
        Supplies ``deployments`` (and ``deploymentDetails.timezone``); its media and
        observations are kept and the new rows appended.
    deployment_from_path : str
        Regular expression with a ``(?P<deploymentID>...)`` group, searched in each image path.
    confidence_threshold : float
        Detections (MegaDetector) or ensemble predictions (SpeciesNet) below it are dropped;
        an image left with none is one ``blank`` observation (SpeciesNet: ``unclassified``).
    timezone : str, optional
        Camera zone where ``deploymentDetails`` gives none.
    datetime_format : str, optional
        Format of the image times (the records' ``datetime`` field or ``exif_times``); EXIF's
        ``%Y:%m:%d %H:%M:%S`` and ISO forms are always tried.
    exif_times : mapping of str to str, optional
        Image path (as in the JSON) -> camera time, for files without a ``datetime`` field.
    species : mapping of str to str, optional
        Extra names for classifier labels (``"Felidae" = "unknown"`` marks a rank to leave
        unnamed).

    Returns
    -------
    dataset : Dataset or None
        ``None`` whenever the report holds an error (never half-imported).
    report : ValidationReport
        Issues locate the record (``images[12].detections[0].bbox``), with expected, got, fix.
    """
    report = ValidationReport(source=str(path))
    deps = dataset.deployments
    det = dataset.get("deploymentDetails")
    zmap: dict[str, str] = {}
    if det is not None and len(det):
        zmap = dict(zip(det["deploymentID"].astype(str), det["timezone"].astype(str),
                        strict=True))
    for dep_id in deps["deploymentID"].astype(str):
        if dep_id not in zmap:
            if timezone is None:
                report.error("timezone", f"deployment {dep_id!r} has no time zone",
                             field="timezone", fix='pass timezone="Asia/Vladivostok"')
                return None, report
            zmap[dep_id] = timezone
    prefix = id_prefix or "MD"
    out = detections_to_tables(path, deployments=deps, zones=zmap, report=report,
                               id_prefix=prefix, deployment_from_path=deployment_from_path,
                               confidence_threshold=confidence_threshold,
                               datetime_format=datetime_format, exif_times=exif_times,
                               species=species, now=now)
    if out is None or not report.valid:
        return None, report
    obs, media = out
    report.row_counts.update({"media": len(media), "observations": len(obs)})
    media = stack_tables(dataset.media, media)
    obs = stack_tables(dataset.observations, obs)
    return dataset.replace(media=media, observations=obs), report


def read_megadetector(path: str | os.PathLike[str], /, **kwargs: Any) -> Dataset:
    """Like :func:`import_megadetector`, but raise ``SchemaError`` on errors."""
    ds, report = import_megadetector(path, **kwargs)
    report.raise_for_errors()
    assert ds is not None
    return ds
