"""Darwin Core Archive (Occurrence core + Audubon media) from a Camtrap DP dataset."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from amurlink.core.protection import Audience, ProtectionPolicy
from amurlink.dataset import Dataset
from amurlink.io.export._cells import escape_formulas

__all__ = ["dwc_tables", "write_dwc"]

_FEATURE = {
    "roadPaved": "paved road", "roadDirt": "dirt road", "trailHiking": "hiking trail",
    "trailGame": "game trail", "roadUnderpass": "road underpass", "roadOverpass": "road overpass",
    "roadBridge": "road bridge", "culvert": "culvert", "burrow": "burrow",
    "nestSite": "nest site", "carcass": "carcass", "waterSource": "water source",
    "fruitingTree": "fruiting tree",
}
OCCURRENCE_COLUMNS = (
    "type", "license", "rightsHolder", "datasetID", "collectionCode", "datasetName",
    "basisOfRecord", "dataGeneralizations", "occurrenceID", "individualCount", "sex",
    "lifeStage", "behavior", "occurrenceStatus", "occurrenceRemarks", "organismID", "eventID",
    "parentEventID", "eventDate", "habitat", "samplingProtocol", "samplingEffort",
    "eventRemarks", "locationID", "locality", "minimumDepthInMeters", "maximumDepthInMeters",
    "minimumDistanceAboveSurfaceInMeters", "maximumDistanceAboveSurfaceInMeters",
    "decimalLatitude", "decimalLongitude", "geodeticDatum", "coordinateUncertaintyInMeters",
    "coordinatePrecision", "identifiedBy", "dateIdentified", "identificationVerificationStatus",
    "identificationRemarks", "taxonID", "scientificName", "kingdom",
)
MULTIMEDIA_COLUMNS = (
    "occurrenceID", "identifier", "dc:type", "comments", "dcterms:rights", "CreateDate",
    "captureDevice", "resourceCreationTechnique", "accessURI", "dc:format",
    "serviceExpectation",
)
_TERMS_OCC = {
    "type": "http://purl.org/dc/terms/type", "license": "http://purl.org/dc/terms/license",
    "rightsHolder": "http://purl.org/dc/terms/rightsHolder",
}
_TERMS_MM = {
    "occurrenceID": "http://rs.tdwg.org/dwc/terms/occurrenceID",
    "identifier": "http://purl.org/dc/terms/identifier",
    "dc:type": "http://purl.org/dc/elements/1.1/type",
    "comments": "http://rs.tdwg.org/ac/terms/comments",
    "dcterms:rights": "http://purl.org/dc/terms/rights",
    "CreateDate": "http://ns.adobe.com/xap/1.0/CreateDate",
    "captureDevice": "http://rs.tdwg.org/ac/terms/captureDevice",
    "resourceCreationTechnique": "http://rs.tdwg.org/ac/terms/resourceCreationTechnique",
    "accessURI": "http://rs.tdwg.org/ac/terms/accessURI",
    "dc:format": "http://purl.org/dc/terms/format",
    "serviceExpectation": "http://rs.tdwg.org/ac/terms/serviceExpectation",
}


def _iso(s: pd.Series) -> pd.Series:
    t = pd.to_datetime(s, utc=True)
    return t.dt.strftime("%Y-%m-%dT%H:%M:%SZ").where(t.notna(), None)


def _txt(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), None)


def _num(s: pd.Series) -> pd.Series:
    def f(v):
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            return None
        v = float(v)
        return str(int(v)) if v.is_integer() else repr(v)
    return s.astype(object).map(f)


def _first(items, key, value, field):
    for it in items or []:
        if isinstance(it, dict) and it.get(key) == value:
            return it.get(field)
    return None


def dwc_tables(dataset: Dataset, /, *, observation_level: str = "event"
               ) -> dict[str, pd.DataFrame]:
    """Darwin Core Occurrence and Audubon Media tables as R ``camtrapdp::write_dwc``.

    Parameters
    ----------
    dataset : Dataset
        A (protected) Camtrap DP dataset.
    observation_level : {"event", "media"}, default "event"
        Observations to publish: event-level (GBIF's recommendation) or media-level.

    Returns
    -------
    dict
        ``occurrence`` and ``multimedia`` frames of text (missing = ``None``).

    References
    ----------
    Reyserhove L et al. (2023) Best practices for publishing camera trap data to GBIF.
    doi:10.35035/doc-0qzp-2x37
    """
    if observation_level not in ("event", "media"):
        raise ValueError("observation_level must be 'event' or 'media'")
    md = dataset.metadata
    license_ = _first(md.get("licenses"), "scope", "data", "name")
    media_license = _first(md.get("licenses"), "scope", "media", "name")
    holder = _first(md.get("contributors"), "role", "rightsHolder", "title")
    sources = md.get("sources") or []
    code = sources[0].get("title") if sources else None
    precision = md.get("coordinatePrecision")
    taxa = {t.get("scientificName"): t.get("taxonID") for t in md.get("taxonomic") or []
            if isinstance(t, dict)}
    obs = dataset.observations
    obs = obs.loc[(obs["observationLevel"] == observation_level)
                  & (obs["observationType"] == "animal")].copy()
    dep = dataset.deployments
    occ = obs.merge(dep, on="deploymentID", how="left", suffixes=("", "_dep"))
    occ = occ.sort_values(["deploymentID", "eventStart"], kind="stable").reset_index(drop=True)
    n = len(occ)

    def const(v):
        return pd.Series([v] * n, dtype=object)

    start, end = _iso(occ["eventStart"]), _iso(occ["eventEnd"])
    same = pd.to_datetime(occ["eventStart"], utc=True) == pd.to_datetime(occ["eventEnd"],
                                                                            utc=True)
    bait = occ["baitUse"].astype("boolean") if "baitUse" in occ else pd.Series([pd.NA] * n)
    feat = _txt(occ.get("featureType", pd.Series([None] * n)))
    part1 = np.where(bait.fillna(False).to_numpy(dtype=bool), "camera trap with bait",
                     np.where((~bait.fillna(True)).to_numpy(dtype=bool),
                              "camera trap without bait",
                              np.where(feat.notna().to_numpy(), "camera trap", "")))
    part2 = feat.map(lambda v: "" if v is None else f" near {_FEATURE.get(v, v)}")
    tags = _txt(occ.get("observationTags", pd.Series([None] * n)))
    comm = _txt(occ.get("deploymentComments", pd.Series([None] * n)))
    remarks = (pd.Series(part1, dtype=object) + part2.astype(str)
               + tags.map(lambda v: "" if v is None else f" | tags: {v}")
               + comm.map(lambda v: "" if v is None else f" | {v}"))
    method = _txt(occ["classificationMethod"])
    prob = pd.to_numeric(occ["classificationProbability"], errors="coerce")
    verified = np.where((method == "human").to_numpy(dtype=bool) & (prob == 1).to_numpy(),
                        "verified using recorded media", "")
    ident = method.map(lambda v: "classified" if v is None else f"classified by a {v}") + \
        prob.map(lambda p: "" if pd.isna(p) else f" with {_fmt_pct(p * 100)}% certainty")
    out = pd.DataFrame({
        "type": const("Image"), "license": const(license_), "rightsHolder": const(holder),
        "datasetID": const(md.get("id")), "collectionCode": const(code),
        "datasetName": const(md.get("title")), "basisOfRecord": const("MachineObservation"),
        "dataGeneralizations": const(None if precision is None
                                     else f"coordinates rounded to {_fmt_pct(precision)} degree"),
        "occurrenceID": _txt(occ["observationID"]), "individualCount": _num(occ["count"]),
        "sex": _txt(occ["sex"]), "lifeStage": _txt(occ["lifeStage"]),
        "behavior": _txt(occ["behavior"]), "occurrenceStatus": const("present"),
        "occurrenceRemarks": _txt(occ["observationComments"]),
        "organismID": _txt(occ["individualID"]), "eventID": _txt(occ["eventID"]),
        "parentEventID": _txt(occ["deploymentID"]),
        "eventDate": pd.Series(np.where(same, start, start + "/" + end), dtype=object),
        "habitat": _txt(occ["habitat"]), "samplingProtocol": const("camera trap"),
        "samplingEffort": _iso(occ["deploymentStart"]) + "/" + _iso(occ["deploymentEnd"]),
        "eventRemarks": remarks, "locationID": _txt(occ["locationID"]),
        "locality": _txt(occ["locationName"]),
        "minimumDepthInMeters": _num(occ["cameraDepth"]),
        "maximumDepthInMeters": _num(occ["cameraDepth"]),
        "minimumDistanceAboveSurfaceInMeters": _num(occ["cameraHeight"]),
        "maximumDistanceAboveSurfaceInMeters": _num(occ["cameraHeight"]),
        "decimalLatitude": _num(occ["latitude"]), "decimalLongitude": _num(occ["longitude"]),
        "geodeticDatum": const("EPSG:4326"),
        "coordinateUncertaintyInMeters": _num(occ["coordinateUncertainty"]),
        "coordinatePrecision": const(None if precision is None else _fmt_pct(precision)),
        "identifiedBy": _txt(occ["classifiedBy"]),
        "dateIdentified": _iso(occ["classificationTimestamp"]),
        "identificationVerificationStatus": pd.Series(verified, dtype=object),
        "identificationRemarks": ident, "taxonID": _txt(occ["scientificName"]).map(taxa.get),
        "scientificName": _txt(occ["scientificName"]), "kingdom": const("Animalia"),
    })[list(OCCURRENCE_COLUMNS)]

    media = dataset.media
    if observation_level == "event":
        mlev = dataset.observations.loc[dataset.observations["observationLevel"] == "media",
                                        ["mediaID", "eventID"]].dropna().drop_duplicates("mediaID")
        media_ev = media.merge(mlev, on="mediaID", how="inner")
        mm = obs.drop(columns=["mediaID"]).merge(media_ev, on=["deploymentID", "eventID"],
                                                 how="left", suffixes=("", "_m"))
    else:
        mm = obs.merge(media, on=["mediaID", "deploymentID"], how="left", suffixes=("", "_m"))
    mm = mm.merge(dep[["deploymentID", "cameraModel"]], on="deploymentID", how="left")
    mm = mm.sort_values(["deploymentID", "timestamp", "fileName"], kind="stable")
    fav = mm["favorite"].astype("boolean") if "favorite" in mm else pd.Series([pd.NA] * len(mm))
    mcom = _txt(mm["mediaComments"])
    comments = [
        (f"marked as favorite | {c}" if c is not None else "marked as favorite")
        if not pd.isna(f) else c for f, c in zip(fav, mcom, strict=True)]
    public = mm["filePublic"].astype("boolean")
    multimedia = pd.DataFrame({
        "occurrenceID": _txt(mm["observationID"]), "identifier": _txt(mm["mediaID"]),
        "dc:type": _txt(mm["fileMediatype"]).map(
            lambda v: "MovingImage" if v is not None and "video" in v else "StillImage"),
        "comments": pd.Series(comments, dtype=object, index=mm.index),
        "dcterms:rights": pd.Series([media_license] * len(mm), dtype=object, index=mm.index),
        "CreateDate": _iso(mm["timestamp"]), "captureDevice": _txt(mm["cameraModel"]),
        "resourceCreationTechnique": _txt(mm["captureMethod"]).map(
            {"activityDetection": "activity detection", "timeLapse": "time lapse"}.get),
        "accessURI": _txt(mm["filePath"]), "dc:format": _txt(mm["fileMediatype"]),
        "serviceExpectation": pd.Series([
            "local" if not _is_url(u) else ("authenticate" if v is False else "online")
            for u, v in zip(_txt(mm["filePath"]), public.astype(object), strict=True)],
            dtype=object, index=mm.index),
    })[list(MULTIMEDIA_COLUMNS)].reset_index(drop=True)
    return {"occurrence": out, "multimedia": multimedia}


def _is_url(path: object) -> bool:
    return isinstance(path, str) and path.lower().startswith(("http://", "https://"))


def _fmt_pct(v: float) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() else repr(v)


def _meta_xml() -> str:
    dwc = "http://rs.tdwg.org/dwc/terms/"
    lines = ['<archive xmlns="http://rs.tdwg.org/dwc/text/">',
             '  <core encoding="UTF-8" fieldsTerminatedBy="," linesTerminatedBy="\\n" '
             'fieldsEnclosedBy="&quot;" ignoreHeaderLines="1" '
             'rowType="http://rs.tdwg.org/dwc/terms/Occurrence">',
             "    <files>", "      <location>occurrence.csv</location>", "    </files>",
             '    <id index="8"/>']
    for i, c in enumerate(OCCURRENCE_COLUMNS):
        lines.append(f'    <field index="{i}" term="{_TERMS_OCC.get(c, dwc + c)}"/>')
    lines += ["  </core>",
              '  <extension encoding="UTF-8" fieldsTerminatedBy="," linesTerminatedBy="\\n" '
              'fieldsEnclosedBy="&quot;" ignoreHeaderLines="1" '
              'rowType="http://rs.tdwg.org/ac/terms/Multimedia">',
              "    <files>", "      <location>multimedia.csv</location>", "    </files>",
              '    <coreid index="0"/>']
    for i, c in enumerate(MULTIMEDIA_COLUMNS):
        lines.append(f'    <field index="{i}" term="{_TERMS_MM[c]}"/>')
    lines += ["  </extension>", "</archive>"]
    return "\n".join(lines) + "\n"


def write_dwc(dataset: Dataset, directory: str | os.PathLike[str], /, *,
              audience: Audience | None = None, policy: ProtectionPolicy | None = None,
              observation_level: str = "event", incidents: Any = None,
              agreement: Any = None, today: date | None = None) -> dict[str, Path]:
    """Write a Darwin Core Archive (``occurrence.csv``, ``multimedia.csv``, ``meta.xml``).

    The dataset first passes through :func:`amurlink.release.release`, the one output gate:
    protected for ``audience`` (default: ``agreement``'s recipient, else the owner) on the
    complete dataset, then cut to ``agreement`` if one is given. For GBIF use
    ``Audience.public()``.

    ``incidents`` (incident tables, :mod:`amurlink.incidents`) adds one occurrence per
    incident with a species, through
    :func:`amurlink.incidents.protect.incident_dwc_occurrences` for the same audience:
    points generalised like the stations of the species involved; no claimant, claim key or
    comment ever.

    Returns
    -------
    dict of str to Path
        The files written.
    """
    from amurlink.io.export._tables import _protected

    safe = _protected(dataset, audience, policy, agreement, today)
    tabs = dwc_tables(safe, observation_level=observation_level)
    if incidents is not None:
        from amurlink.incidents.protect import incident_dwc_occurrences

        occ = tabs["occurrence"]
        extra = incident_dwc_occurrences(
            incidents, audience=audience or (None if agreement is not None
                                             else Audience.owner()),
            policy=policy, agreement=agreement, today=today)
        extra = extra.reindex(columns=list(OCCURRENCE_COLUMNS)).astype(object)
        for col in ("license", "rightsHolder", "datasetID", "collectionCode", "datasetName"):
            extra[col] = occ[col].iloc[0] if len(occ) else None  # the dataset's own terms
        extra["type"] = "Event"
        extra["kingdom"] = "Animalia"
        extra["samplingProtocol"] = "incident report"
        tabs["occurrence"] = pd.concat([occ.astype(object), extra], ignore_index=True) \
            if len(extra) else occ
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame in tabs.items():
        p = out / f"{name}.csv"
        escape_formulas(frame).to_csv(p, index=False, na_rep="", lineterminator="\n")
        paths[name] = p
    meta = out / "meta.xml"
    meta.write_text(_meta_xml(), encoding="utf-8")
    paths["meta"] = meta
    return paths
