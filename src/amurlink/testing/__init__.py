"""Helpers for tests and examples: a tiny, hand-checkable two-country dataset."""

from __future__ import annotations

import json

import pandas as pd

from amurlink.dataset import Dataset
from amurlink.io._parse import dtype_of
from amurlink.schema import TABLES

__all__ = ["make_toy_dataset", "typed_frame", "assert_datasets_equal", "make_synthetic_records"]

TOY_METADATA = {
    "name": "amurlink-toy",
    "title": "amurlink toy: three Chinese and three Russian cameras on a border",
    "description": (
        "A tiny invented two-country dataset for examples and tests: 3 + 3 deployments, "
        "4 catalogue individuals, one tiger recorded on both sides. No real locations."
    ),
    "created": "2024-01-15T00:00:00Z",
    "licenses": [{"name": "CC0-1.0", "scope": "data"}, {"name": "CC-BY-4.0", "scope": "media"}],
    "contributors": [
        {"title": "Northeast Tiger and Leopard National Park (toy)", "role": "rightsHolder"},
        {"title": "Land of the Leopard National Park (toy)", "role": "rightsHolder"},
    ],
    "project": {
        "title": "amurlink toy transboundary survey",
        "samplingDesign": "systematicRandom",
        "captureMethod": ["activityDetection"],
        "individualAnimals": True,
        "observationLevel": ["event"],
    },
    "spatial": {"type": "Polygon", "coordinates": [[[130.9, 43.0], [131.1, 43.0], [131.1, 43.2],
                                                     [130.9, 43.2], [130.9, 43.0]]]},
    "temporal": {"start": "2014-09-01", "end": "2014-12-01"},
    "taxonomic": [
        {"scientificName": "Panthera tigris", "taxonRank": "species",
         "vernacularNames": {"eng": "tiger", "zho": "虎", "rus": "тигр"}},
        {"scientificName": "Panthera pardus", "taxonRank": "species",
         "vernacularNames": {"eng": "leopard", "zho": "豹", "rus": "леопард"}},
        {"scientificName": "Capreolus pygargus", "taxonRank": "species",
         "vernacularNames": {"eng": "Siberian roe deer", "zho": "狍", "rus": "сибирская косуля"}},
    ],
}


def typed_frame(name: str, rows: list[dict]) -> pd.DataFrame:
    """Frame of table ``name`` from dicts, with every declared column in amurlink's dtype."""
    schema = TABLES[name]
    raw = pd.DataFrame(rows, columns=list(schema.field_names))
    out = {}
    for f in schema.fields:
        col = raw[f.name]
        if f.type == "datetime":
            out[f.name] = pd.to_datetime(col, utc=True).astype(dtype_of(f))
        elif f.type in ("string", "any"):
            out[f.name] = col.astype(object).where(col.notna(), None).astype(dtype_of(f))
        else:
            out[f.name] = col.astype(dtype_of(f))
    return pd.DataFrame(out)


def make_toy_dataset() -> Dataset:
    """The toy two-country dataset bundled as ``amurlink.datasets.example_path()``.

    Three Chinese cameras (clock in Asia/Shanghai, UTC+8) west of 131.0°E and three Russian
    cameras (Asia/Vladivostok, UTC+10 after 26 October 2014) east of it. Individuals: tiger
    ``CN-NTLNP:T01`` and ``RU-LLNP:T-1`` are the same animal (a confirmed link) and were
    photographed on both sides; leopards ``CN-NTLNP:L01`` and ``RU-LLNP:L-7`` stayed home.
    """
    cams = [
        ("CN-A1", 43.05, 130.93, "CN", "Asia/Shanghai"),
        ("CN-A2", 43.10, 130.95, "CN", "Asia/Shanghai"),
        ("CN-A3", 43.15, 130.97, "CN", "Asia/Shanghai"),
        ("RU-B1", 43.05, 131.03, "RU", "Asia/Vladivostok"),
        ("RU-B2", 43.10, 131.05, "RU", "Asia/Vladivostok"),
        ("RU-B3", 43.15, 131.07, "RU", "Asia/Vladivostok"),
    ]
    deployments = typed_frame("deployments", [
        {"deploymentID": d, "locationID": f"loc-{d}", "locationName": f"station {d}",
         "latitude": lat, "longitude": lon, "coordinateUncertainty": 10,
         "deploymentStart": "2014-09-01T12:00:00Z", "deploymentEnd": "2014-12-01T12:00:00Z",
         "cameraModel": "toy-cam", "cameraHeight": 0.8, "timestampIssues": False,
         "baitUse": False, "featureType": "trailGame"}
        for d, lat, lon, _, _ in cams
    ])
    details = typed_frame("deploymentDetails", [
        {"deploymentID": d, "countryCode": cc,
         "organisation": "NTLNP" if cc == "CN" else "LLNP", "timezone": tz}
        for d, _, _, cc, tz in cams
    ])
    gaps = typed_frame("deploymentGaps", [
        {"deploymentID": "RU-B2", "gapStart": "2014-10-10T00:00:00Z",
         "gapEnd": "2014-10-20T00:00:00Z", "gapReason": "battery"},
    ])
    # (observationID, deployment, time UTC, species, individual, sex)
    events = [
        ("o1", "CN-A1", "2014-09-05T20:00:00Z", "Panthera tigris", "CN-NTLNP:T01", "male"),
        ("o2", "CN-A2", "2014-09-12T21:30:00Z", "Panthera tigris", "CN-NTLNP:T01", "male"),
        ("o3", "RU-B1", "2014-09-20T03:10:00Z", "Panthera tigris", "RU-LLNP:T-1", "male"),
        ("o4", "RU-B2", "2014-11-02T18:45:00Z", "Panthera tigris", "RU-LLNP:T-1", "male"),
        ("o5", "CN-A3", "2014-10-01T22:00:00Z", "Panthera pardus", "CN-NTLNP:L01", "female"),
        ("o6", "CN-A3", "2014-10-15T23:00:00Z", "Panthera pardus", "CN-NTLNP:L01", "female"),
        ("o7", "RU-B3", "2014-10-03T02:00:00Z", "Panthera pardus", "RU-LLNP:L-7", "male"),
        ("o8", "RU-B3", "2014-11-20T01:30:00Z", "Panthera pardus", "RU-LLNP:L-7", "male"),
        ("o9", "CN-A2", "2014-09-30T07:00:00Z", "Capreolus pygargus", None, None),
        ("o10", "RU-B1", "2014-10-05T06:00:00Z", "Capreolus pygargus", None, None),
    ]
    media = typed_frame("media", [
        {"mediaID": f"m{o[1:]}", "deploymentID": d, "captureMethod": "activityDetection",
         "timestamp": t, "filePath": f"media/{d}/{o}.jpg", "filePublic": False,
         "fileName": f"{o}.jpg", "fileMediatype": "image/jpeg"}
        for o, d, t, *_ in events
    ] + [
        {"mediaID": "m-human", "deploymentID": "CN-A1", "captureMethod": "activityDetection",
         "timestamp": "2014-09-15T04:00:00Z", "filePath": "media/CN-A1/h1.jpg",
         "filePublic": False, "fileName": "h1.jpg", "fileMediatype": "image/jpeg"},
    ])
    observations = typed_frame("observations", [
        {"observationID": o, "deploymentID": d, "mediaID": f"m{o[1:]}", "eventID": f"e{o[1:]}",
         "eventStart": t, "eventEnd": t, "observationLevel": "event",
         "observationType": "animal", "scientificName": sp, "count": 1,
         "lifeStage": "adult", "sex": sex, "individualID": ind,
         "classificationMethod": "human", "classifiedBy": "toy"}
        for o, d, t, sp, ind, sex in events
    ] + [
        {"observationID": "o-human", "deploymentID": "CN-A1", "mediaID": "m-human",
         "eventID": "e-human", "eventStart": "2014-09-15T04:00:00Z",
         "eventEnd": "2014-09-15T04:00:00Z", "observationLevel": "event",
         "observationType": "human", "count": 1, "classificationMethod": "human"},
    ])
    individuals = typed_frame("individuals", [
        {"individualID": "CN-NTLNP:T01", "catalogue": "CN-NTLNP",
         "scientificName": "Panthera tigris", "sex": "male", "lifeStage": "adult",
         "knownFlanks": "both"},
        {"individualID": "CN-NTLNP:L01", "catalogue": "CN-NTLNP",
         "scientificName": "Panthera pardus", "sex": "female", "lifeStage": "adult",
         "knownFlanks": "left"},
        {"individualID": "RU-LLNP:T-1", "catalogue": "RU-LLNP", "scientificName": "Panthera tigris",
         "sex": "male", "lifeStage": "adult", "knownFlanks": "both"},
        {"individualID": "RU-LLNP:L-7", "catalogue": "RU-LLNP", "scientificName": "Panthera pardus",
         "sex": "male", "lifeStage": "adult", "knownFlanks": "right"},
    ])
    links = typed_frame("identityLinks", [
        {"linkEventID": "L1", "subjectA": "CN-NTLNP:T01", "subjectB": "RU-LLNP:T-1",
         "method": "photo", "score": 0.93, "status": "proposed", "reviewer": "matcher",
         "timestamp": "2014-12-05T00:00:00Z",
         "evidence": json.dumps({"inliers": 41, "flank": "left"})},
        # a reviewer of each side accepts (the two-party rule: [links] two_party)
        {"linkEventID": "L2", "subjectA": "CN-NTLNP:T01", "subjectB": "RU-LLNP:T-1",
         "method": "photo", "score": 0.93, "status": "confirmed", "reviewer": "joint-review [CN]",
         "timestamp": "2014-12-10T00:00:00Z", "reason": "same stripe pattern on both flanks"},
        {"linkEventID": "L3", "subjectA": "CN-NTLNP:T01", "subjectB": "RU-LLNP:T-1",
         "method": "photo", "score": 0.93, "status": "confirmed", "reviewer": "joint-review [RU]",
         "timestamp": "2014-12-10T00:00:00Z", "reason": "same stripe pattern on both flanks"},
    ])
    samples = typed_frame("samples", [
        {"sampleID": "S-CN-1", "sampleType": "scat", "scientificName": "Panthera pardus",
         "latitude": 43.15, "longitude": 130.97, "coordinateUncertainty": 20,
         "collectionDate": "2014-10-16T02:00:00Z", "countryCode": "CN", "lab": "CN-LAB"},
        {"sampleID": "S-RU-1", "sampleType": "hair", "scientificName": "Panthera pardus",
         "latitude": 43.15, "longitude": 131.07, "coordinateUncertainty": 20,
         "collectionDate": "2014-11-21T02:00:00Z", "countryCode": "RU", "lab": "RU-LAB"},
    ])
    loci = typed_frame("loci", [
        {"lab": lab, "locus": loc, "offset": off, "repeatUnit": 2}
        for lab, off in (("CN-LAB", 0.0), ("RU-LAB", 2.0)) for loc in ("FCA01", "FCA02")
    ])
    genotypes = typed_frame("genotypes", [
        {"sampleID": "S-CN-1", "locus": "FCA01", "allele1": 120, "allele2": 124, "replicate": 1},
        {"sampleID": "S-CN-1", "locus": "FCA02", "allele1": 200, "allele2": 200, "replicate": 1},
        {"sampleID": "S-RU-1", "locus": "FCA01", "allele1": 118, "allele2": 126, "replicate": 1},
        {"sampleID": "S-RU-1", "locus": "FCA02", "allele1": 198, "allele2": 202, "replicate": 1},
    ])
    return Dataset(
        {"deployments": deployments, "media": media, "observations": observations,
         "deploymentDetails": details, "deploymentGaps": gaps, "individuals": individuals,
         "identityLinks": links, "samples": samples, "loci": loci, "genotypes": genotypes},
        metadata=TOY_METADATA,
    )


def assert_datasets_equal(a: Dataset, b: Dataset, *, check_metadata: bool = False) -> None:
    """Assert two datasets hold the same tables with equal values (and dtypes)."""
    assert sorted(a.table_names) == sorted(b.table_names), (a.table_names, b.table_names)
    for name in a.table_names:
        pd.testing.assert_frame_equal(
            a[name].reset_index(drop=True), b[name].reset_index(drop=True), obj=name)
    if check_metadata:
        assert dict(a.metadata) == dict(b.metadata)


def make_synthetic_records(
    *, n_deployments: int, n_records: int, rng: int | None = None,
) -> tuple[Dataset, object]:
    """A large random dataset for scale tests and benchmarks (not valid Camtrap DP in full).

    One media row and one media-level observation per record; 90% animals (1% tigers, 1%
    leopards), 4% humans, 1% vehicles, 5% blanks, over ``n_deployments`` stations in the Amur
    border region. Returns the dataset and the array of observation types.
    """
    import numpy as np

    gen = np.random.default_rng(rng)
    t0 = pd.Timestamp("2014-01-01T00:00:00Z")
    dep_ids = np.array([f"D{i:05d}" for i in range(n_deployments)], dtype=object)
    deps = pd.DataFrame({
        "deploymentID": dep_ids,
        "latitude": gen.uniform(42.5, 44.0, n_deployments),
        "longitude": gen.uniform(130.0, 131.8, n_deployments),
        "coordinateUncertainty": pd.array(np.full(n_deployments, 10), dtype="Int64"),
    })
    media_dep = dep_ids[gen.integers(0, n_deployments, n_records)]
    stamps = t0 + pd.to_timedelta(gen.integers(0, 60 * 86_400, n_records), unit="s")
    media = pd.DataFrame({"mediaID": [f"M{i}" for i in range(n_records)],
                          "deploymentID": media_dep, "timestamp": stamps, "exifData": "{}"})
    kinds = gen.choice(np.array(["animal", "human", "vehicle", "blank"], dtype=object),
                       n_records, p=[0.9, 0.04, 0.01, 0.05])
    names = gen.choice(np.array(["Capreolus pygargus", "Sus scrofa", "Panthera tigris altaica",
                                 "Panthera pardus orientalis"], dtype=object), n_records,
                       p=[0.6, 0.38, 0.01, 0.01])
    obs = pd.DataFrame({
        "observationID": media["mediaID"].str.replace("M", "O", regex=False),
        "deploymentID": media_dep, "mediaID": media["mediaID"],
        "eventStart": stamps, "eventEnd": stamps,
        "observationLevel": "media", "observationType": kinds,
        "scientificName": np.where(kinds == "animal", names, None),
    })
    return Dataset({"deployments": deps, "media": media, "observations": obs}), kinds
