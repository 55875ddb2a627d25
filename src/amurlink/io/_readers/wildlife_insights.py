"""Wildlife Insights project downloads (``deployments.csv``, ``images.csv``, ...) to Camtrap DP.

Format as published by Wildlife Insights (project download / batch-upload templates) and read
by camtrapR's ``readWildlifeInsights`` and camtraptor's ``read_wi``:

- ``deployments.csv``: ``project_id, deployment_id, placename, longitude, latitude,
  start_date, end_date, bait_type, bait_description, feature_type, ..., camera_id,
  quiet_period, camera_functioning, sensor_height, height_other, sensor_orientation,
  orientation_other, recorded_by, ...``; dates ``YYYY-MM-DD HH:MM:SS`` (older exports
  ``YYYY-MM-DDTHH:MM:SS.000Z``), coordinates WGS 84;
- ``images.csv``: ``project_id, deployment_id, image_id, location, is_blank, identified_by,
  wi_taxon_id, class, order, family, genus, species, common_name, uncertainty, timestamp,
  number_of_objects (older: number_of_animals), highlighted, age, sex, animal_recognizable,
  individual_id, individual_animal_notes, markings, ...``; one row per image and taxon,
  ``timestamp`` local camera time;
- ``projects.csv`` and ``cameras.csv`` (``camera_id, make, model, ...``) are optional here.
"""

from __future__ import annotations

import os
import re
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from amurlink.core.species import resolve_species
from amurlink.core.time import implausible_times, local_to_utc
from amurlink.dataset import Dataset
from amurlink.exceptions import DataError
from amurlink.io._parse import dtype_of, empty_frame
from amurlink.io._readers.tabular import read_text_table
from amurlink.io.validation import ValidationReport
from amurlink.schema import INDIVIDUAL_ID_PATTERN, TABLES

__all__ = ["import_wildlife_insights", "read_wildlife_insights", "WI_FORMAT", "RowIssues",
           "parse_local_any"]

WI_FORMAT = "wildlife-insights"
_SOURCE = ("Wildlife Insights project download (wildlifeinsights.org data download; "
           "camtrapR readWildlifeInsights)")
MAX_ROWS_LISTED = 20
_DEP_REQUIRED = ("deployment_id", "longitude", "latitude", "start_date", "end_date")
_IMG_REQUIRED = ("deployment_id", "image_id", "location", "timestamp")
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
                 "%Y-%m-%dT%H:%M", "%Y-%m-%d")
_TRUE = frozenset({"1", "true", "yes", "y", "t"})
_FALSE = frozenset({"0", "false", "no", "n", "f", ""})
#: WI feature_type -> Camtrap DP featureType ("None"/"Other" -> empty).
_FEATURE = {
    "road paved": "roadPaved", "road dirt": "roadDirt", "trail hiking": "trailHiking",
    "trail game": "trailGame", "road underpass": "roadUnderpass", "road overpass": "roadOverpass",
    "road bridge": "roadBridge", "culvert": "culvert", "burrow": "burrow",
    "nest site": "nestSite", "carcass": "carcass", "water source": "waterSource",
    "fruiting tree": "fruitingTree",
}
_TILT = {"parallel": 0, "pointed downward": -90}
#: WI classes that mean "not classified yet" (no computer-vision or human label).
_UNCLASSIFIED = frozenset({"cv needed", "cv failed", "no cv result"})
_LIFE = {"adult": "adult", "juvenile": "juvenile", "subadult": "subadult",
         "sub-adult": "subadult", "immature": "subadult", "young": "juvenile"}


class RowIssues:
    """Row-level issues of one file: file, row (header = 1), field, expected, got, fix."""

    def __init__(self, report: ValidationReport, file: Path | str, table: str) -> None:
        self.report = report
        self.file = str(file)
        self.name = Path(file).name
        self.table = table

    def rows(self, code: str, mask: Any, *, field: str, what: str, expected: str,
             got: pd.Series | None, fix: str, severity: str = "error", first_row: int = 2
             ) -> None:
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        if idx.size == 0:
            return
        add = self.report.error if severity == "error" else self.report.warning
        for i in idx[:MAX_ROWS_LISTED]:
            g = None if got is None else str(got.iloc[i])
            add(code, f"{self.name} row {i + first_row}, column {field!r}: {what}; expected "
                f"{expected}" + (f", got {g!r}" if g is not None else "") + f". Fix: {fix}",
                file=self.file, table=self.table, row=int(i + first_row), field=field,
                expected=expected, got=g, fix=fix)
        if idx.size > MAX_ROWS_LISTED:
            add(code, f"{self.name}, column {field!r}: {idx.size - MAX_ROWS_LISTED} more rows "
                f"with the same problem ({idx.size} in all)", file=self.file, table=self.table,
                field=field, expected=expected, fix=fix)


def parse_local_any(text: pd.Series, formats: tuple[str, ...] = _TIME_FORMATS, *,
                    date_only: str = "noon") -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Parse local date-times trying ``formats`` in turn.

    A trailing ``Z`` or ``.000Z`` (older WI exports write local dates that way) is dropped:
    the values are read as local camera time. Returns ``(parsed, bad, had_utc_suffix)``;
    date-only values get 12:00 (``date_only="noon"``) as camtrapR's set-up dates do.
    """
    s = pd.Series(text, copy=False).astype("string").fillna("").str.strip().reset_index(drop=True)
    suffix = s.str.contains(r"(?:\.\d+)?Z$", regex=True).fillna(False).to_numpy(bool)
    s = s.str.replace(r"(?:\.\d+)?Z$", "", regex=True)
    present = (s != "").to_numpy(bool)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    for fmt in formats:
        todo = present & out.isna().to_numpy(bool)
        if not todo.any():
            break
        got = pd.to_datetime(s[todo], format=fmt, errors="coerce")
        if fmt == "%Y-%m-%d" and date_only == "noon":
            got = got + pd.Timedelta(hours=12)
        out[todo] = got.astype("datetime64[ns]")
    bad = present & out.isna().to_numpy(bool)
    return out, bad, suffix & present


def _read(path: Path, report: ValidationReport, required: tuple[str, ...],
          table: str) -> pd.DataFrame | None:
    try:
        raw = read_text_table(path)
    except DataError as exc:
        report.error("unreadable-file", str(exc), file=str(path), table=table,
                     fix="re-download the project from Wildlife Insights or correct the file")
        return None
    raw.columns = [c.strip().lower() for c in raw.columns]
    missing = [c for c in required if c not in raw.columns]
    for c in missing:
        report.error("missing-column", f"{path.name} lacks the Wildlife Insights column {c!r} "
                     f"(its columns: {', '.join(raw.columns)})", file=str(path), table=table,
                     row=1, field=c, expected=c, got=", ".join(raw.columns),
                     fix=f"use an unmodified Wildlife Insights download; the column {c!r} "
                     "must be present")
    return None if missing else raw


def _col(raw: pd.DataFrame, name: str) -> pd.Series:
    return raw[name] if name in raw.columns else pd.Series("", index=raw.index, dtype=object)


def _prefix(country: str, organisation: str | None, catalogue: str | None) -> str:
    if catalogue:
        return catalogue
    org = re.sub(r"[^A-Za-z0-9_]+", "_", organisation or "WI")
    return f"{country}-{org}"


def import_wildlife_insights(
    folder: str | os.PathLike[str], /, *, country: str, timezone: str,
    organisation: str | None = None, catalogue: str | None = None,
    species: Mapping[str, str] | None = None, now: Any = None,
    report: ValidationReport | None = None,
) -> tuple[Dataset | None, ValidationReport]:
    """Read an unzipped Wildlife Insights project download into a Camtrap DP :class:`Dataset`.

    Parameters
    ----------
    folder : path_like
        Folder holding ``deployments.csv`` and ``images.csv`` (``projects.csv`` and
        ``cameras.csv`` are used when present).
    country : str
        ISO 3166-1 alpha-2 code of the country the cameras stand in (``deploymentDetails``).
    timezone : str
        IANA zone of the camera clocks; WI timestamps are local camera time. UTC = local time
        minus the zone's offset at each deployment's set-up (as for mapped imports).
    organisation, catalogue : str, optional
        Owner, and the namespace of individual IDs (``RU-LLNP`` makes ``T-23`` ``RU-LLNP:T-23``)
        and of observation/media IDs.
    species : mapping of str to str, optional
        Extra names (as in ``[species]`` of an import mapping): the WI ``"Genus species"``
        (or the lowest rank given) to the canonical scientific name, or to ``"unknown"``.
    now : datetime-like, optional
        The present, for flagging records in the future.

    Returns
    -------
    dataset : Dataset or None
        ``None`` whenever the report holds an error: nothing is half-imported.
    report : ValidationReport
        Issues naming file, row, column, expected, got and fix.

    Notes
    -----
    One observation per ``images.csv`` row (WI writes one row per image and taxon) and one
    media row per image; ``is_blank`` images are ``blank``, WI's ``CV Needed``/``CV Failed``/
    ``No CV Result`` classes ``unclassified``, *Homo sapiens* ``human``. ``genus species``
    (or the lowest rank given) is resolved with :func:`amurlink.core.species.resolve_species`;
    unknown names are errors, never guessed. ``camera_functioning`` other than
    ``Camera Functioning`` is a warning (WI gives no dates for the failure, so no gap is made)
    and kept in ``deploymentTags``.
    """
    base = Path(folder)
    report = report if report is not None else ValidationReport(source=str(base))
    if country is None or not re.fullmatch(r"[A-Z]{2}", str(country)):
        report.error("config", f"country must be an ISO 3166-1 alpha-2 code, got {country!r}",
                     field="country", expected="e.g. RU or CN", got=str(country),
                     fix='pass country="RU" (or set [source].country in the mapping)')
    if timezone not in zoneinfo.available_timezones():
        report.error("timezone", f"{timezone!r} is not an IANA time zone", field="timezone",
                     expected="e.g. Asia/Vladivostok", got=str(timezone),
                     fix='pass timezone="Asia/Vladivostok" or "Asia/Shanghai"')
    if not base.is_dir():
        report.error("unreadable-file", f"{base}: no such folder (expected an unzipped Wildlife "
                     "Insights download)", file=str(base), fix="unzip the download and pass "
                     "the folder that holds deployments.csv and images.csv")
        return None, report
    if not report.valid:
        return None, report
    dep_raw = _read(base / "deployments.csv", report, _DEP_REQUIRED, "deployments")
    img_raw = _read(base / "images.csv", report, _IMG_REQUIRED, "images")
    cam_raw = None
    if (base / "cameras.csv").is_file():
        cam_raw = _read(base / "cameras.csv", report, ("camera_id",), "cameras")
    if dep_raw is None or img_raw is None:
        return None, report
    prefix = _prefix(country, organisation, catalogue)
    deps, details, local_start = _deployments(base / "deployments.csv", dep_raw, cam_raw,
                                              report, country, organisation, timezone)
    obs, media, ind = _images(base / "images.csv", img_raw, deps, local_start, report,
                              timezone, prefix, catalogue, species, now)
    report.row_counts.update({"deployments": len(deps), "media": len(media),
                              "observations": len(obs)})
    if not report.valid:
        return None, report
    tables = {"deployments": deps, "media": media, "observations": obs,
              "deploymentDetails": details,
              "deploymentGaps": empty_frame(TABLES["deploymentGaps"])}
    if len(ind):
        tables["individuals"] = ind
    title = "Wildlife Insights project"
    if (base / "projects.csv").is_file():
        try:
            proj = read_text_table(base / "projects.csv")
            name_col = next((c for c in ("project_name", "project_short_name", "project_id")
                             if c in proj.columns), None)
            if name_col is not None and len(proj):
                title = proj[name_col].iloc[0] or title
        except DataError as exc:
            report.warning("unreadable-file", str(exc), file=str(base / "projects.csv"),
                           fix="only the project title is taken from projects.csv")
    metadata = {"title": title, "amurlink:source": {
        "format": WI_FORMAT, "folder": str(base), "country": country,
        "organisation": organisation, "catalogue": catalogue, "crs": "EPSG:4326",
        "timezone": timezone}}
    return Dataset(tables, metadata=metadata), report


def read_wildlife_insights(folder: str | os.PathLike[str], /, **kwargs: Any) -> Dataset:
    """Like :func:`import_wildlife_insights`, but raise ``SchemaError`` on errors."""
    ds, report = import_wildlife_insights(folder, **kwargs)
    report.raise_for_errors()
    assert ds is not None
    return ds


def _deployments(path: Path, raw: pd.DataFrame, cams: pd.DataFrame | None,
                 report: ValidationReport, country: str, organisation: str | None,
                 timezone: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    iss = RowIssues(report, path, "deployments")
    n = len(raw)
    dep_id = raw["deployment_id"]
    empty = (dep_id == "").to_numpy(bool)
    iss.rows("required", empty, field="deployment_id", what="deployment ID missing",
             expected="an ID", got=dep_id, fix="fill in every deployment's ID")
    dup = dep_id.duplicated(keep="first").to_numpy(bool) & ~empty
    iss.rows("unique", dup, field="deployment_id", what="deployment listed twice",
             expected="one row per deployment", got=dep_id,
             fix="remove the duplicate row (camtrapR refuses duplicated deployment_id too)")
    start_l, bad_s, z1 = parse_local_any(raw["start_date"])
    end_l, bad_e, z2 = parse_local_any(raw["end_date"])
    for col, bad, src in (("start_date", bad_s, raw["start_date"]),
                          ("end_date", bad_e, raw["end_date"])):
        iss.rows("type-error", bad, field=col, what="not a date-time",
                 expected="'YYYY-MM-DD HH:MM:SS' (local time)", got=src,
                 fix="write the date as Wildlife Insights exports it (not re-saved by Excel)")
        iss.rows("required", (src == "").to_numpy(bool), field=col, what="date missing",
                 expected="a date", got=None, fix=f"fill in {col}")
    if (z1 | z2).any():
        report.warning("utc-suffix-ignored", f"{path.name}: {int((z1 | z2).sum())} dates end in "
                       "'Z'; Wildlife Insights writes local dates that way, so they are read "
                       f"as local time in {timezone}", file=str(path), table="deployments",
                       field="start_date", fix="nothing, if the dates are camera (local) dates")
    order = (start_l >= end_l).fillna(False).to_numpy(bool)
    iss.rows("start-after-end", order, field="start_date", what="start is not before end",
             expected="start_date < end_date", got=raw["start_date"] + " / " + raw["end_date"],
             fix="correct the dates (camtrapR drops deployments whose start equals their end)")
    zone = pd.Series(timezone, index=range(n))
    start = local_to_utc(start_l, zones=zone, reference=start_l)
    end = local_to_utc(end_l, zones=zone, reference=start_l)
    lon = pd.to_numeric(raw["longitude"].str.replace(",", ".", regex=False), errors="coerce")
    lat = pd.to_numeric(raw["latitude"].str.replace(",", ".", regex=False), errors="coerce")
    for col, v, lim in (("longitude", lon, 180), ("latitude", lat, 90)):
        bad = v.isna().to_numpy(bool) | (v.abs() > lim).fillna(False).to_numpy(bool)
        iss.rows("coordinates", bad, field=col, what="not a WGS 84 coordinate",
                 expected=f"a decimal degree in [-{lim}, {lim}]", got=raw[col],
                 fix="write decimal degrees (WGS 84) as Wildlife Insights requires")
    dep = empty_frame(TABLES["deployments"]).reindex(range(n))
    dep["deploymentID"] = dep_id.astype(dtype_of(TABLES["deployments"]["deploymentID"]))
    place = _col(raw, "placename")
    dep["locationID"] = place.where(place != "", dep_id).astype("string")
    dep["locationName"] = place.where(place != "").astype("string")
    dep["latitude"], dep["longitude"] = lat.to_numpy(float), lon.to_numpy(float)
    dep["deploymentStart"], dep["deploymentEnd"] = start, end
    dep["setupBy"] = _col(raw, "recorded_by").replace("", pd.NA).astype("string")
    cam_id = _col(raw, "camera_id")
    dep["cameraID"] = cam_id.replace("", pd.NA).astype("string")
    if cams is not None and len(cams):
        make = _col(cams, "make").str.strip()
        model = _col(cams, "model").str.strip()
        label = (make + " " + model).str.strip().replace("", pd.NA)
        by_cam = pd.Series(label.to_numpy(), index=cams["camera_id"].to_numpy())
        by_cam = by_cam[~by_cam.index.duplicated()]
        dep["cameraModel"] = cam_id.map(by_cam).astype("string")
    quiet = pd.to_numeric(_col(raw, "quiet_period"), errors="coerce")
    q_ok = quiet.notna() & (quiet >= 0) & (quiet % 1 == 0)
    dep["cameraDelay"] = pd.array(quiet.where(q_ok).to_numpy(), dtype="Float64").astype("Int64")
    orient = _col(raw, "sensor_orientation").str.lower().map(_TILT)
    dep["cameraTilt"] = pd.array(orient.to_numpy(dtype=object), dtype="Int64")
    bait = _col(raw, "bait_type").str.strip()
    dep["baitUse"] = pd.array([None if b in ("", "Unknown") else b.lower() != "none"
                               for b in bait], dtype="boolean")
    feat = _col(raw, "feature_type").str.strip()
    dep["featureType"] = feat.str.lower().map(_FEATURE).astype("string")
    tags = []
    func = _col(raw, "camera_functioning").str.strip()
    for i in range(n):
        parts = [f"{k}:{raw[k].iloc[i]}" for k in ("camera_functioning", "sensor_height",
                                                   "feature_type", "bait_type")
                 if k in raw.columns and raw[k].iloc[i] not in ("", "None", "Unknown")]
        tags.append(" | ".join(parts) or None)
    dep["deploymentTags"] = pd.Series(tags, dtype="string")
    broken = ((func != "") & (func.str.lower() != "camera functioning")).to_numpy(bool)
    iss.rows("camera-not-functioning", broken, field="camera_functioning",
             what="the camera did not work for all of the deployment (no dates given, so no "
             "deploymentGaps row is made; effort may be overstated)",
             expected="Camera Functioning", got=func, severity="warning",
             fix="set end_date to the last working day, or add the gap to deploymentGaps")
    details = pd.DataFrame({
        "deploymentID": dep["deploymentID"],
        "countryCode": pd.Series(country, index=dep.index).astype("string"),
        "organisation": pd.Series(organisation, index=dep.index, dtype=object).astype("string"),
        "timezone": zone.astype("string"),
    })
    keep = ~empty & ~dup
    local_start = pd.Series(start_l.to_numpy(), index=dep_id.to_numpy())[keep]
    return (dep[keep].reset_index(drop=True), details[keep].reset_index(drop=True),
            local_start)


def _truthy(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    low = col.str.strip().str.lower()
    t = low.isin(_TRUE).to_numpy(bool)
    bad = ~(t | low.isin(_FALSE).to_numpy(bool))
    return t, bad


def _images(path: Path, raw: pd.DataFrame, deps: pd.DataFrame, local_start: pd.Series,
            report: ValidationReport, timezone: str, prefix: str, catalogue: str | None,
            species: Mapping[str, str] | None, now: Any
            ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    iss = RowIssues(report, path, "images")
    n = len(raw)
    dep_id = raw["deployment_id"]
    known = dep_id.isin(deps["deploymentID"].astype(object)).to_numpy(bool)
    iss.rows("foreign-key", ~known, field="deployment_id", what="deployment not in "
             "deployments.csv", expected="a deployment_id listed in deployments.csv",
             got=dep_id, fix="download the project again (both files) or correct the ID")
    local, bad_t, zsuf = parse_local_any(raw["timestamp"], _TIME_FORMATS[:4])
    iss.rows("type-error", bad_t, field="timestamp", what="not a date-time",
             expected="'YYYY-MM-DD HH:MM:SS' (local camera time)", got=raw["timestamp"],
             fix="write the time as Wildlife Insights exports it")
    iss.rows("required", (raw["timestamp"] == "").to_numpy(bool), field="timestamp",
             what="time missing", expected="a date-time", got=None,
             fix="fill in the image's time (EXIF DateTimeOriginal)")
    if zsuf.any():
        report.warning("utc-suffix-ignored", f"{path.name}: {int(zsuf.sum())} timestamps end "
                       f"in 'Z'; read as local camera time in {timezone}", file=str(path),
                       table="images", field="timestamp", fix="nothing, if they are camera times")
    zone = pd.Series(timezone, index=range(n))
    ref = dep_id.map(local_start)
    utc = local_to_utc(local, zones=zone, reference=ref)
    d = deps.set_index(deps["deploymentID"].astype(object))
    flags = implausible_times(utc, dep_id.map(d["deploymentStart"]).reset_index(drop=True),
                              dep_id.map(d["deploymentEnd"]).reset_index(drop=True), now=now)
    for code, col, what in (("timestamp-before-deployment", "beforeDeployment", "before set-up"),
                            ("timestamp-after-deployment", "afterDeployment", "after retrieval"),
                            ("timestamp-in-future", "future", "in the future")):
        iss.rows(code, flags[col].to_numpy(bool) & known, field="timestamp",
                 what=f"image lies {what} (kept as recorded)", expected="a time inside the "
                 "deployment", got=raw["timestamp"], severity="warning",
                 fix="check the camera clock and the deployment dates")

    # What was seen
    blank, bad_b = _truthy(_col(raw, "is_blank"))
    iss.rows("type-error", bad_b, field="is_blank", what="not a boolean",
             expected="1/0, Yes/No or TRUE/FALSE", got=_col(raw, "is_blank"),
             fix="write is_blank as Wildlife Insights exports it")
    cls = _col(raw, "class").str.strip()
    genus, sp = _col(raw, "genus").str.strip(), _col(raw, "species").str.strip()
    common = _col(raw, "common_name").str.strip()
    low_common = common.str.lower()
    blank |= (low_common == "blank").to_numpy(bool)
    unclassified = cls.str.lower().isin(_UNCLASSIFIED).to_numpy(bool) & ~blank
    human = ((genus.str.lower() == "homo") & (sp.str.lower() == "sapiens")).to_numpy(bool) \
        | (low_common == "human").to_numpy(bool)
    vehicle = (low_common == "vehicle").to_numpy(bool)
    name = pd.Series(np.where((genus != "") & (sp != ""), genus + " " + sp, ""), dtype=object)
    for lower in (genus, _col(raw, "family"), _col(raw, "order"), cls):
        name = name.where(name != "", lower.str.strip())
    animal = ~blank & ~unclassified & ~human & ~vehicle & (name != "").to_numpy(bool)
    names = name.where(animal)
    res = resolve_species(names, extra=dict(species or {}))
    for nm, count in res.unknown.items():
        first = int(np.flatnonzero((names == nm).to_numpy(bool))[0]) + 2
        report.error("unknown-species", f"{path.name}: taxon {nm!r} ({count} rows, first: row "
                     f"{first}) is not in amurlink's species table", file=str(path),
                     table="images", row=first, field="genus species", expected="a known "
                     "taxon", got=nm, fix=f'add "{nm}" = "<Scientific name>" under [species] '
                     "of the mapping (or pass species={...})")
    for nm, target in res.not_in_table.items():
        report.warning("species-not-in-table", f"species maps {nm!r} to {target!r}, which "
                       "amurlink's species table does not list; kept as given",
                       field=f"species.{nm}", got=target,
                       fix="check the spelling of the scientific name")
    otype = pd.Series(np.select([blank, unclassified, human, vehicle, animal],
                                ["blank", "unclassified", "human", "vehicle", "animal"],
                                "unknown"), dtype="string")
    rtype = res.observation_type
    otype = otype.where(~(animal & rtype.notna().to_numpy(bool)), rtype)
    sci = res.scientific_name.where(otype == "animal")
    sci = sci.where(otype != "human", "Homo sapiens")

    obs_t = TABLES["observations"]
    obs = empty_frame(obs_t).reindex(range(n))
    rows = np.arange(n) + 2
    obs["observationID"] = pd.Series([f"{prefix}:wi-o{r}" for r in rows], dtype="string")
    obs["deploymentID"] = dep_id.astype("string")
    obs["eventStart"] = utc
    obs["eventEnd"] = utc
    obs["observationLevel"] = pd.Series("media", index=obs.index, dtype="string")
    obs["observationType"] = otype.astype("string")
    obs["scientificName"] = sci.astype("string")
    count_col = "number_of_objects" if "number_of_objects" in raw.columns else "number_of_animals"
    cnt_raw = _col(raw, count_col)
    cnt = pd.to_numeric(cnt_raw, errors="coerce")
    bad_c = ((cnt_raw != "") & (cnt.isna() | (cnt < 0) | (cnt % 1 != 0))).to_numpy(bool)
    iss.rows("type-error", bad_c, field=count_col, what="not a whole number",
             expected="a count >= 0", got=cnt_raw, fix="write the number of animals")
    cnt = cnt.where(~bad_c & (cnt >= 1) & (otype == "animal").to_numpy(bool))
    obs["count"] = pd.array(cnt.to_numpy(), dtype="Float64").astype("Int64")
    obs.loc[(otype == "animal") & obs["count"].isna(), "count"] = 1
    sex = _col(raw, "sex").str.strip().str.lower()
    sex_ok = sex.isin(["male", "female"])
    iss.rows("enum", ~(sex_ok | sex.isin(["", "unknown"])).to_numpy(bool), field="sex",
             what="sex not understood (left empty)", expected="Male, Female or Unknown",
             got=_col(raw, "sex"), severity="warning", fix="use WI's values")
    obs["sex"] = sex.where(sex_ok).astype("string")
    age = _col(raw, "age").str.strip().str.lower()
    life = age.map(_LIFE)
    iss.rows("enum", (life.isna() & ~age.isin(["", "unknown"])).to_numpy(bool), field="age",
             what="age not understood (left empty)", expected="Adult, Juvenile or Unknown",
             got=_col(raw, "age"), severity="warning", fix="use WI's values")
    obs["lifeStage"] = life.astype("string")
    who = _col(raw, "identified_by").str.strip()
    machine = who.str.lower().str.contains("computer vision|^cv$|^ai$", regex=True).fillna(False)
    conf = pd.to_numeric(_col(raw, "cv_confidence"), errors="coerce")
    conf = conf.where(conf <= 1, conf / 100)
    obs["classificationMethod"] = pd.Series(
        np.where(machine, "machine", np.where(who != "", "human", None)), dtype="string")
    obs["classifiedBy"] = who.replace("", pd.NA).astype("string")
    obs["classificationProbability"] = conf.where((conf >= 0) & (conf <= 1)).to_numpy(float)
    tags = ("sourceName:" + common.str.replace("|", "/", regex=False)).where(common != "")
    taxon = _col(raw, "wi_taxon_id")
    tags = tags.where(taxon == "", tags.fillna("") + np.where(tags.notna(), " | ", "")
                      + "wi_taxon_id:" + taxon)
    obs["observationTags"] = tags.replace("", pd.NA).astype("string")
    notes = [" | ".join(p for p in ps if p) or None for ps in zip(
        _col(raw, "individual_animal_notes"), _col(raw, "markings"),
        ("uncertainty:" + _col(raw, "uncertainty")).where(_col(raw, "uncertainty") != "", ""),
        strict=True)]
    obs["observationComments"] = pd.Series(notes, dtype="string")
    ind = empty_frame(TABLES["individuals"])
    raw_id = _col(raw, "individual_id").str.strip()
    raw_id = raw_id.where(~raw_id.str.lower().isin(["", "na", "unknown"]), "")
    present = (raw_id != "").to_numpy(bool)
    if present.any():
        cat = catalogue
        if cat is None:
            report.error("catalogue-missing", f"{path.name}: images carry individual IDs but no "
                         "catalogue was given to namespace them", file=str(path),
                         field="individual_id", fix='pass catalogue="RU-PARK" (or set '
                         "[source].catalogue in the mapping)")
            cat = "XX-UNKNOWN"
        spaced = raw_id.str.match(INDIVIDUAL_ID_PATTERN).to_numpy(bool)
        obs["individualID"] = raw_id.where(spaced, f"{cat}:" + raw_id).where(present).astype(
            "string")
        from amurlink.io.mapping import individuals_from_observations

        ind = individuals_from_observations(obs, report=report, file=str(path))

    # Media: one row per image (WI repeats an image once per taxon)
    key = raw["image_id"].where(raw["image_id"] != "", raw["location"])
    iss.rows("required", ((raw["location"] == "") & (raw["image_id"] == "")).to_numpy(bool),
             field="location", what="image without ID or location", expected="image_id and "
             "location", got=None, fix="download the project again")
    codes, uniq = pd.factorize(key)
    first = pd.Series(np.arange(n)).groupby(codes).min().to_numpy()
    mids = pd.Series([f"{prefix}:wi-m{r}" for r in first + 2], dtype="string")
    obs["mediaID"] = mids.iloc[codes].reset_index(drop=True)
    conflict = pd.Series(dep_id.to_numpy()).groupby(codes).nunique().to_numpy() > 1
    if conflict.any():
        bad = np.isin(codes, np.flatnonzero(conflict))
        iss.rows("media-conflict", bad, field="image_id", what="the same image is listed under "
                 "two deployments", expected="one deployment per image", got=key,
                 fix="correct deployment_id of the image's rows")
    m = empty_frame(TABLES["media"]).reindex(range(len(uniq)))
    loc = raw["location"].iloc[first].reset_index(drop=True)
    m["mediaID"] = mids
    m["deploymentID"] = dep_id.iloc[first].reset_index(drop=True).astype("string")
    m["captureMethod"] = pd.Series("activityDetection", index=m.index, dtype="string")
    m["timestamp"] = utc.iloc[first].reset_index(drop=True)
    path_s = loc.where(loc != "", raw["image_id"].iloc[first].reset_index(drop=True))
    m["filePath"] = path_s.astype("string")
    m["filePublic"] = pd.array(path_s.str.match(r"^https?://").to_numpy(bool), dtype="boolean")
    fname = _col(raw, "filename").iloc[first].reset_index(drop=True)
    m["fileName"] = fname.where(fname != "", path_s.str.rsplit("/", n=1).str[-1]).astype("string")
    ext = path_s.str.rsplit(".", n=1).str[-1].str.lower()
    m["fileMediatype"] = ext.map(lambda e: "video/" + e if e in ("mp4", "avi", "mov")
                                 else "image/jpeg" if e in ("jpg", "jpeg") else "image/" + e
                                 if e in ("png", "tif", "tiff") else "image/jpeg").astype("string")
    hl, _ = _truthy(_col(raw, "highlighted").iloc[first].reset_index(drop=True))
    m["favorite"] = pd.array(hl, dtype="boolean")
    bad_path = ~m["filePath"].str.match(r"^[^./~]").fillna(False).to_numpy(bool) | \
        m["filePath"].str.contains("..", regex=False).fillna(True).to_numpy(bool)
    full = np.zeros(n, bool)
    full[first[bad_path]] = True
    iss.rows("pattern", full, field="location", what="file location is not a URL or relative "
             "path", expected="e.g. gs://bucket/deployment/IMG_0001.JPG", got=raw["location"],
             fix="use the location Wildlife Insights exports")
    return obs, m, ind
