"""Personas and a toy Chinese package for the web tests (BaseTestCase)."""

from __future__ import annotations

import functools
import io
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase

from amurlink import Dataset as PackageData
from amurlink.datasets import load_example
from amurlink_web.apps.core.demo import national_part, zip_package
from amurlink_web.apps.datasets.services import dataset_import, upload_receive
from amurlink_web.apps.organisations.models import Organisation, Role
from amurlink_web.apps.organisations.services import organisation_create, user_create
from amurlink_web.apps.sharing.services import agreement_save

PASSWORD = "a-long-test-password-2024"
PERSONAS = ("owner", "partner", "secretariat", "readonly", "outsider", "anonymous")


def cn_package(*, coordinates: list[tuple[float, float]] | None = None,
               with_person: bool = True) -> PackageData:
    """The Chinese half of the toy package, with a photo of a person at CN-A1."""
    data = national_part(load_example(), country="CN")
    tables = dict(data.tables)
    if coordinates is not None:
        deps = tables["deployments"].copy()
        deps["latitude"] = [c[0] for c in coordinates]
        deps["longitude"] = [c[1] for c in coordinates]
        tables["deployments"] = deps
    if with_person:
        media, obs = tables["media"], tables["observations"]
        m = media.iloc[[0]].copy()
        m["mediaID"] = "m-person"
        m["filePath"] = "media/CN-A1/person.jpg"
        m["fileName"] = "person.jpg"
        m["timestamp"] = m["timestamp"] + pd.Timedelta(hours=5)
        o = obs.iloc[[0]].copy()
        o["observationID"] = "o-person"
        o["mediaID"] = "m-person"
        o["eventID"] = "e-person"
        o["observationLevel"] = "media"
        o["observationType"] = "human"
        o["scientificName"] = pd.NA
        o["individualID"] = pd.NA
        o["eventStart"] = o["eventEnd"] = m["timestamp"].iloc[0]
        for col in ("lifeStage", "sex"):
            o[col] = pd.NA
        tables["media"] = pd.concat([media, m], ignore_index=True)
        tables["observations"] = pd.concat([obs, o.astype(obs.dtypes.to_dict())], ignore_index=True)
    return PackageData(tables, metadata=dict(data.metadata),
                       extra_resources=list(data.extra_resources))


@functools.lru_cache(maxsize=4)
def cn_zip_bytes(with_person: bool = True) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        return zip_package(cn_package(with_person=with_person), Path(tmp) / "cn.zip").read_bytes()


def zip_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def upload(org: Organisation, data: bytes, name: str = "cn.zip", **kw):
    received = upload_receive(uploaded_file=SimpleUploadedFile(name, data))
    return dataset_import(organisation=org, received=received, **kw)


class BaseTestCase(TestCase):
    """Six personas around one Chinese dataset.

    owner        manager of the Chinese park (owns the dataset)
    partner      reviewer of the Russian park, under a 1 km agreement from the Chinese park
    secretariat  viewer at the secretariat, under a 10 km agreement
    readonly     viewer of the Chinese park (sees everything, changes nothing)
    outsider     manager of an organisation without any agreement
    anonymous    not logged in
    """

    @classmethod
    def setUpTestData(cls):
        cls.cn = organisation_create(name="NTLNP", slug="ntlnp", country="CN",
                                     kind=Organisation.Kind.PARK, catalogue="CN-NTLNP")
        cls.ru = organisation_create(name="LLNP", slug="llnp", country="RU",
                                     kind=Organisation.Kind.PARK, catalogue="RU-LLNP")
        cls.sec = organisation_create(name="Secretariat", slug="secretariat", country="CN",
                                      kind=Organisation.Kind.SECRETARIAT)
        cls.wwf = organisation_create(name="WWF", slug="wwf", country="RU",
                                      kind=Organisation.Kind.PARTNER)
        cls.users = {
            "owner": user_create(username="cn-manager", password=PASSWORD, organisation=cls.cn,
                                 role=Role.MANAGER),
            "contributor": user_create(username="cn-contributor", password=PASSWORD,
                                       organisation=cls.cn, role=Role.CONTRIBUTOR),
            "cn_reviewer": user_create(username="cn-reviewer", password=PASSWORD,
                                       organisation=cls.cn, role=Role.REVIEWER),
            "partner": user_create(username="ru-reviewer", password=PASSWORD,
                                   organisation=cls.ru, role=Role.REVIEWER),
            "secretariat": user_create(username="sec-viewer", password=PASSWORD,
                                       organisation=cls.sec, role=Role.VIEWER),
            "readonly": user_create(username="cn-viewer", password=PASSWORD,
                                    organisation=cls.cn, role=Role.VIEWER),
            "outsider": user_create(username="outsider", password=PASSWORD,
                                    organisation=cls.wwf, role=Role.MANAGER),
        }
        cls.agreement = agreement_save(provider=cls.cn, recipient=cls.ru, level="1km")
        agreement_save(provider=cls.cn, recipient=cls.sec, level="10km")
        cls.upload = upload(cls.cn, cn_zip_bytes())
        assert cls.upload.status == "imported", cls.upload.issues
        cls.dataset = cls.upload.dataset

    def client_for(self, persona: str, **kw) -> Client:
        client = Client(**kw)
        if persona != "anonymous":
            client.force_login(self.users[persona])
        return client

    def user(self, persona: str):
        return AnonymousUser() if persona == "anonymous" else self.users[persona]
