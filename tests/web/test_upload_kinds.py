"""Data in: national tables with their mapping (zip or several files), Wildlife Insights
downloads, hostile archives (400 with the report, never 500), the row-by-row report."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from amurlink_web.apps.datasets.models import Dataset, Upload
from amurlink_web.testing import BaseTestCase

pytestmark = pytest.mark.web

STATIONS = "S,X,Y,A,B\nS1,500000,4800000,01.09.2014,01.12.2014\n" \
           "S2,501000,4801000,01.09.2014,01.12.2014\n"
RECORDS = "S,T,Sp\nS1,2014-09-05 10:00:00,Тигр\nS2,2014-09-07 04:00:00,Тигр\n"
MAPPING = """
[source]
name = "LLNP national tables"
country = "RU"
organisation = "LLNP"
catalogue = "RU-LLNP"
crs = "EPSG:32652"
timezone = "Asia/Vladivostok"

[tables.stations]
file = "st.csv"
datetime_format = "%d.%m.%Y"
columns = { deploymentID = "S", x = "X", y = "Y", deploymentStart = "A", deploymentEnd = "B" }

[tables.records]
file = "rec.csv"
columns = { deploymentID = "S", timestamp = "T", scientificName = "Sp" }
"""
WI_DEPLOYMENTS = (
    "project_id,deployment_id,placename,longitude,latitude,start_date,end_date,"
    "camera_functioning\n"
    "1,D1,Kedrovaya-1,131.52,43.10,2015-03-01 10:00:00,2015-05-01 10:00:00,Camera Functioning\n")
WI_IMAGES = (
    "project_id,deployment_id,image_id,filename,location,is_blank,identified_by,wi_taxon_id,"
    "class,order,family,genus,species,common_name,uncertainty,timestamp,number_of_objects,"
    "highlighted,age,sex,animal_recognizable,individual_id,individual_animal_notes,markings,"
    "cv_confidence,license\n"
    "1,D1,img-1,IMG_0001.JPG,gs://b/D1/IMG_0001.JPG,0,Anna,uuid-t,Mammalia,Carnivora,Felidae,"
    "Panthera,tigris,Tiger,,2015-03-10 22:15:00,1,1,Adult,Male,Yes,T-23,,,,CC-BY\n")


def zipped(files: dict[str, str | bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, body in files.items():
            zf.writestr(name, body)
    return buf.getvalue()


class UploadKindsTest(BaseTestCase):
    def post(self, persona, org, kind, *, package=None, files=(), **extra):
        data = {"kind": kind, **extra}
        if package is not None:
            data["package"] = SimpleUploadedFile(package[0], package[1])
        if files:
            data["files"] = [SimpleUploadedFile(n, b) for n, b in files]
        return self.client_for(persona).post(f"/orgs/{org}/upload/", data)

    def test_national_tables_with_mapping_as_a_zip_become_the_parks_dataset(self):
        r = self.post("partner", "llnp", "mapping", package=("ru-tables.zip", zipped(
            {"ru/m.mapping.toml": MAPPING, "ru/st.csv": STATIONS, "ru/rec.csv": RECORDS})))
        self.assertEqual(r.status_code, 302, r.content.decode()[:2000])
        up = Upload.objects.latest("id")
        self.assertEqual(up.status, "imported", up.issues)
        ds = up.dataset
        self.assertEqual((ds.owner, ds.n_deployments, ds.n_observations), (self.ru, 2, 2))
        self.assertEqual(ds.species, ["Panthera tigris"])
        page = self.client_for("partner").get(f"/uploads/{up.pk}/").content.decode()
        self.assertIn("ru-tables.zip", page)

    def test_the_same_tables_as_several_files(self):
        files = [("m.mapping.toml", MAPPING.encode()), ("st.csv", STATIONS.encode()),
                 ("rec.csv", RECORDS.encode())]
        r = self.post("partner", "llnp", "mapping", files=files)
        self.assertEqual(r.status_code, 302)
        self.assertEqual(Upload.objects.latest("id").status, "imported")
        # the same files again (any order) are the same upload: nothing is added
        n = Dataset.objects.count()
        self.post("partner", "llnp", "mapping", files=list(reversed(files)))
        self.assertEqual((Dataset.objects.count(), Upload.objects.latest("id").status),
                         (n, "duplicate"))

    def test_a_bad_mapping_is_a_400_with_the_row_by_row_report_and_no_server_path(self):
        bad = MAPPING.replace('scientificName = "Sp"', 'scientificName = "Species"')
        r = self.post("partner", "llnp", "mapping", package=("bad.zip", zipped(
            {"m.mapping.toml": bad, "st.csv": STATIONS, "rec.csv": RECORDS})))
        self.assertEqual(r.status_code, 400)
        html = r.content.decode()
        self.assertIn("Species", html)  # names the missing column / mapping key
        self.assertIn("tables.records", html)
        self.assertNotRegex(html, r"/tmp/|incoming|amurlink-web-tests")
        self.assertEqual(Upload.objects.latest("id").status, "rejected")

    def test_tables_of_the_other_country_are_refused(self):
        r = self.post("owner", "ntlnp", "mapping", package=("ru.zip", zipped(
            {"m.mapping.toml": MAPPING, "st.csv": STATIONS, "rec.csv": RECORDS})))
        self.assertEqual(r.status_code, 400)
        self.assertIn("foreign-deployments", str(Upload.objects.latest("id").issues))

    def test_wildlife_insights_download(self):
        r = self.post("partner", "llnp", "wildlife-insights", package=("wi.zip", zipped(
            {"download/deployments.csv": WI_DEPLOYMENTS, "download/images.csv": WI_IMAGES})),
            timezone="Asia/Vladivostok")
        self.assertEqual(r.status_code, 302, r.content.decode()[:3000])
        ds = Upload.objects.latest("id").dataset
        self.assertEqual((ds.n_deployments, ds.species), (1, ["Panthera tigris"]))

    def test_hostile_archives_get_a_report_never_a_500(self):
        cases = {
            "escape": zipped({"../../etc/m.mapping.toml": MAPPING}),
            "bomb": zipped({"m.mapping.toml": MAPPING, "st.csv": "0" * 5_000_000}),
            "not a zip": b"PK\x03\x04 this is not really a zip",
            "two mappings": zipped({"a.toml": MAPPING, "b.toml": MAPPING}),
        }
        codes = {"escape": "unsafe-path", "bomb": "zip-bomb", "not a zip": "not-a-zip",
                 "two mappings": "several-mapping-TOML"}
        for name, body in cases.items():
            with self.subTest(name):
                r = self.post("partner", "llnp", "mapping", package=("x.zip", body))
                self.assertEqual(r.status_code, 400)
                up = Upload.objects.latest("id")
                self.assertEqual(up.status, "rejected")
                self.assertEqual(up.issues[0]["code"], codes[name])
                self.assertNotRegex(r.content.decode(), r"Traceback|/tmp/")

    def test_megadetector_without_a_current_dataset_says_what_to_do_first(self):
        r = self.post("partner", "llnp", "megadetector",
                      package=("md.json", b'{"images": [], "info": {}}'))
        self.assertEqual(r.status_code, 400)
        self.assertEqual(Upload.objects.latest("id").issues[0]["code"], "no-deployments")

    def test_viewers_may_not_upload_and_the_form_offers_every_kind(self):
        self.assertEqual(self.client_for("readonly").get("/orgs/ntlnp/upload/").status_code, 403)
        html = self.client_for("owner").get("/orgs/ntlnp/upload/").content.decode()
        for kind in ("camtrap-dp", "mapping", "wildlife-insights", "megadetector"):
            self.assertRegex(html, re.escape(f'value="{kind}"'))


class MegaDetectorUploadTest(BaseTestCase):
    def test_results_are_added_to_the_current_dataset_which_they_replace(self):
        import json

        before = Dataset.objects.filter(owner=self.cn).latest("id")
        result = {
            "info": {"format_version": "1.4", "detector": "md_v5a.0.0.pt"},
            "detection_categories": {"1": "animal", "2": "person", "3": "vehicle"},
            "images": [
                {"file": "CN-A1/IMG_9001.JPG", "datetime": "2014:10:01 22:15:00",
                 "detections": [{"category": "1", "conf": 0.95, "bbox": [0.1, 0.2, 0.3, 0.4]}]},
                {"file": "CN-A2/IMG_9002.JPG", "datetime": "2014:10:02 08:00:00",
                 "detections": []}]}
        r = self.client_for("owner").post("/orgs/ntlnp/upload/", {
            "kind": "megadetector", "timezone": "Asia/Shanghai",
            "package": SimpleUploadedFile("md.json", json.dumps(result).encode())})
        self.assertEqual(r.status_code, 302, r.content.decode()[:3000])
        up = Upload.objects.latest("id")
        self.assertEqual(up.status, "imported", up.issues)
        new = up.dataset
        self.assertEqual(new.n_deployments, before.n_deployments)
        self.assertEqual(new.n_media, before.n_media + 2)
        from amurlink_web.apps.jobs.study import current_datasets

        self.assertEqual(current_datasets()["CN"].pk, new.pk)


class ReportLanguageTest(BaseTestCase):
    def test_the_report_says_what_each_issue_means_in_the_readers_language(self):
        from amurlink_web.apps.organisations.services import profile_set_language

        bomb = zipped({"m.mapping.toml": MAPPING, "st.csv": "0" * 5_000_000})
        client = self.client_for("partner")
        r = client.post("/orgs/llnp/upload/", {
            "kind": "mapping", "package": SimpleUploadedFile("x.zip", bomb)})
        self.assertEqual(r.status_code, 400)
        up = Upload.objects.latest("id")
        for lang, words in (("ru", ("ошибка", "Файл в архиве подозрительно сильно сжат")),
                            ("zh-hans", ("错误", "压缩包中的文件压缩比异常高")),
                            ("en", ("error", "compressed suspiciously much"))):
            profile_set_language(user=self.users["partner"], language=lang)
            html = client.get(f"/uploads/{up.pk}/").content.decode()
            for word in words:
                self.assertIn(word, html, lang)


class ApiUploadKindTest(BaseTestCase):
    def test_the_api_takes_the_kind_too(self):
        r = self.client_for("partner").post("/api/datasets/?organisation=llnp", {
            "kind": "mapping", "package": SimpleUploadedFile("t.zip", zipped(
                {"m.mapping.toml": MAPPING, "st.csv": STATIONS, "rec.csv": RECORDS}))})
        self.assertEqual(r.status_code, 201, r.content)
        self.assertEqual(r.json()["status"], "imported")
        r = self.client_for("partner").post("/api/datasets/?organisation=llnp", {
            "kind": "mapping", "package": SimpleUploadedFile("x.zip", zipped({"a.csv": "x"}))})
        self.assertEqual((r.status_code, r.json()["issues"][0]["code"]),
                         (400, "no-mapping-TOML"))
