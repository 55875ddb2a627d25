"""The demo site: the two parks, the secretariat, one user per role, the toy data loaded."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
from django.db import transaction

from amurlink import Dataset as PackageData
from amurlink.datasets import load_example
from amurlink.io import write_camtrap_dp
from amurlink_web.apps.datasets.services import dataset_import, file_receive
from amurlink_web.apps.identities.selectors import joint_package_path
from amurlink_web.apps.organisations.models import Organisation, Role
from amurlink_web.apps.organisations.services import organisation_create, user_create
from amurlink_web.apps.sharing.services import agreement_save

#: Password of every demo user (a demo site only: never use it on a server others can reach).
DEMO_PASSWORD = "amurlink-demo-2024"

PARKS = (
    ("ntlnp", "Northeast Tiger and Leopard National Park", "CN", "CN-NTLNP", "cn", "zh-hans"),
    ("llnp", "Land of the Leopard National Park", "RU", "RU-LLNP", "ru", "ru"),
)
#: The organisations' names in Chinese and Russian (as each park and the partners write them).
NAMES = {
    "ntlnp": {"zh-hans": "东北虎豹国家公园",
              "ru": "Национальный парк северо-восточного тигра и леопарда"},
    "llnp": {"zh-hans": "豹之乡国家公园", "ru": "Национальный парк «Земля леопарда»"},
    "secretariat": {"zh-hans": "联合工作组秘书处",
                    "ru": "Секретариат совместной рабочей группы"},
    "wwf": {"zh-hans": "世界自然基金会（无协议）", "ru": "WWF (без соглашения)"},
}


def national_part(data: PackageData, *, country: str) -> PackageData:
    """The deployments (and everything recorded there) of one country of the joint toy."""
    details = data["deploymentDetails"]
    deps = set(details.loc[details["countryCode"].astype(str).eq(country), "deploymentID"])
    tables: dict[str, pd.DataFrame] = {}
    for name, frame in data.tables.items():
        if "deploymentID" in frame:
            tables[name] = frame.loc[frame["deploymentID"].isin(deps)]
        elif name == "individuals":
            tables[name] = frame.loc[frame["individualID"].astype(str).str.startswith(country)]
        elif name == "samples":
            tables[name] = frame.loc[frame["countryCode"].astype(str).eq(country)]
        elif name == "genotypes" and "samples" in data:
            s = data["samples"]
            ids = set(s.loc[s["countryCode"].astype(str).eq(country), "sampleID"])
            tables[name] = frame.loc[frame["sampleID"].isin(ids)]
        elif name == "loci" and "samples" in data and "lab" in data["samples"]:
            # each park sends the loci of its own lab(s): the joint package stacks them
            s = data["samples"]
            labs = set(s.loc[s["countryCode"].astype(str).eq(country), "lab"].astype(str))
            tables[name] = frame.loc[frame["lab"].astype(str).isin(labs)]
        elif name == "identityLinks":
            continue  # links are joint: they live in the joint package
        else:
            tables[name] = frame
    meta = dict(data.metadata)
    meta["title"] = f"{meta.get('title', 'toy')} ({country} part)"
    return PackageData(tables, metadata=meta, extra_resources=list(data.extra_resources))


#: A hand-made border for the toy package (the meridian 131.0 E), in the border.geojson format.
TOY_BORDER = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"kind": "border"},
     "geometry": {"type": "LineString", "coordinates": [[131.0, 42.9], [131.0, 43.3]]}},
    {"type": "Feature", "properties": {"kind": "country", "countryCode": "CN"},
     "geometry": {"type": "Polygon", "coordinates": [[[130.5, 42.9], [131.0, 42.9],
                                                      [131.0, 43.3], [130.5, 43.3],
                                                      [130.5, 42.9]]]}},
    {"type": "Feature", "properties": {"kind": "country", "countryCode": "RU"},
     "geometry": {"type": "Polygon", "coordinates": [[[131.0, 42.9], [131.5, 42.9],
                                                      [131.5, 43.3], [131.0, 43.3],
                                                      [131.0, 42.9]]]}},
]}


def toy_border_write(folder: Path) -> Path:
    """Write the toy border as ``border.geojson`` into ``folder`` (beside the joint package)."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "border.geojson"
    path.write_text(json.dumps(TOY_BORDER, indent=1), encoding="utf-8")
    return path


def zip_package(data: PackageData, target: Path) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_camtrap_dp(data, Path(tmp) / "package")
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for f in sorted(folder.rglob("*")):
                if f.is_file():
                    zf.write(f, f.relative_to(folder).as_posix())
    return target


@transaction.atomic
def demo_site_create() -> list[str]:
    """Create (or complete) the demo site; returns the user names. Safe to run again."""
    orgs = {}
    users = []
    for slug, name, country, catalogue, prefix, language in PARKS:
        org = organisation_create(name=name, slug=slug, country=country,
                                  kind=Organisation.Kind.PARK, catalogue=catalogue,
                                  names=NAMES[slug])
        orgs[slug] = org
        for role in Role.values:
            users.append(f"{prefix}-{role}")
            user_create(username=f"{prefix}-{role}", password=DEMO_PASSWORD, organisation=org,
                        role=role, language=language)
    sec = organisation_create(name="Joint working group secretariat", slug="secretariat",
                              country="CN", kind=Organisation.Kind.SECRETARIAT,
                              names=NAMES["secretariat"])
    for role in (Role.VIEWER, Role.MANAGER):
        users.append(f"secretariat-{role}")
        user_create(username=f"secretariat-{role}", password=DEMO_PASSWORD, organisation=sec,
                    role=role)
    wwf = organisation_create(name="WWF (no agreement)", slug="wwf", country="RU",
                              kind=Organisation.Kind.PARTNER, names=NAMES["wwf"])
    users.append("outsider")
    user_create(username="outsider", password=DEMO_PASSWORD, organisation=wwf, role=Role.MANAGER)
    agreement_save(provider=orgs["ntlnp"], recipient=orgs["llnp"], level="1km")
    agreement_save(provider=orgs["llnp"], recipient=orgs["ntlnp"], level="1km")
    agreement_save(provider=orgs["ntlnp"], recipient=sec, level="10km")
    agreement_save(provider=orgs["llnp"], recipient=sec, level="10km")

    # the toy package with the flank and box of each identified photo; the photos themselves
    # go to the site's photo store, where every rebuild of the joint package finds them
    from amurlink_web.apps.review.demo import (
        DEMO_REVIEW_PAIRS,
        demo_photos,
        demo_photos_write,
        with_review_pairs,
    )
    from amurlink_web.apps.review.media import photo_store, thumbnails_make

    # and more leopards photographed in both parks, so that a new user has a queue to review
    toy, review_pairs, coats = with_review_pairs(load_example(), DEMO_REVIEW_PAIRS)
    toy, photos = demo_photos(toy, animals=coats)
    thumbnails_make(photo_store(), demo_photos_write(photo_store(), photos))
    with tempfile.TemporaryDirectory() as tmp:
        for slug, country in (("ntlnp", "CN"), ("llnp", "RU")):
            from amurlink_web.apps.datasets.models import Dataset

            if Dataset.objects.filter(owner=orgs[slug],
                                      title=f"Toy survey 2014 ({country})").exists():
                continue  # a restart adds no copy (nor an upload row) of the demo data
            archive = zip_package(national_part(toy, country=country),
                                  Path(tmp) / f"toy-{country}.zip")
            upload = dataset_import(organisation=orgs[slug], received=file_receive(path=archive),
                                    title=f"Toy survey 2014 ({country})")
            if upload.status == "rejected":
                raise RuntimeError(f"demo package {country} did not validate: {upload.issues}")
    joint = joint_package_path()
    if not (joint / "datapackage.json").is_file():
        write_camtrap_dp(toy, joint)
        from amurlink.identify import LinkStore

        LinkStore(joint).propose(pd.DataFrame({
            "subjectA": ["CN-NTLNP:L01"], "subjectB": ["RU-LLNP:L-7"], "score": [0.81],
            "evidence": ['{"inliers": 23, "flank": "left", "sampleA": "S-CN-1", '
                         '"sampleB": "S-RU-1"}']}),
            method="photo", by="matcher")
        LinkStore(joint).propose(review_pairs, method="photo", by="matcher")
    if not (joint.parent / "border.geojson").is_file():
        toy_border_write(joint.parent)
    from amurlink_web.apps.incidents.demo import demo_books_create

    demo_books_create({"CN": orgs["ntlnp"], "RU": orgs["llnp"]})  # the parks' incident books
    return users


def demo_site_reset_joint() -> None:
    shutil.rmtree(joint_package_path(), ignore_errors=True)
