"""Review with the evidence, individuals and photos: personas, EXIF, keyset pages, decisions."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from unittest import mock

import cv2
import numpy as np
import pandas as pd
import pytest
from django.test import Client, TestCase

from amurlink.datasets import load_example
from amurlink.identify import LinkStore
from amurlink.io import write_camtrap_dp
from amurlink_web.apps.core.demo import toy_border_write
from amurlink_web.apps.core.models import AuditLog
from amurlink_web.apps.identities.selectors import CachedLinkStore, joint_package_path
from amurlink_web.apps.review import selectors as sel
from amurlink_web.apps.review.demo import demo_photos, demo_photos_write
from amurlink_web.apps.sharing.services import agreement_save
from amurlink_web.testing import BaseTestCase

pytestmark = pytest.mark.web

_APP1 = b"\xff\xe1"  # the JPEG segment that carries EXIF (and XMP)


def _jpeg_segments(data: bytes) -> list[bytes]:
    """Marker bytes of every JPEG segment before the image data."""
    assert data[:2] == b"\xff\xd8"
    out, i = [], 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i:i + 2]
        out.append(marker)
        if marker == b"\xff\xda":  # start of scan: image data follows
            break
        i += 2 + int.from_bytes(data[i + 2:i + 4], "big")
    return out


class _JointPhotos(BaseTestCase):
    """The toy joint package with the demo's flank photos and one proposed leopard link."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.template = joint_package_path().with_name("joint-review-template")
        shutil.rmtree(cls.template, ignore_errors=True)
        data, photos = demo_photos(load_example())
        write_camtrap_dp(data, cls.template)
        cls.photo_paths = demo_photos_write(cls.template, photos)
        LinkStore(cls.template).propose(pd.DataFrame({
            "subjectA": ["CN-NTLNP:L01"], "subjectB": ["RU-LLNP:L-7"], "score": [0.81],
            "evidence": ['{"inliers": 23, "flank": "left", "sampleA": "S-CN-1", '
                         '"sampleB": "S-RU-1"}']}), method="photo", by="matcher")

    def setUp(self):
        path = joint_package_path()
        shutil.rmtree(path, ignore_errors=True)
        shutil.copytree(self.template, path)
        toy_border_write(path.parent)
        self.event = CachedLinkStore(path).current(status="proposed")["linkEventID"].iloc[0]


class ReviewPagesTest(_JointPhotos):

    def urls(self) -> list[str]:
        return ["/review/", f"/review/{self.event}/", "/individuals/",
                "/individuals/?species=Panthera+pardus&q=L01", "/media/",
                "/media/?station=CN-A3", "/media/m5/thumb.jpg",
                f"/review/{self.event}/match/left/"]

    def test_each_persona_gets_what_they_may(self):
        # CN and RU park members see everything (each park's agreement covers every table);
        # the secretariat has no agreement from the Russian park: the public's view, no photos
        photo = ("/media/", "/media/?station=CN-A3", "/media/m5/thumb.jpg",
                 f"/review/{self.event}/match/left/")
        expected = {"owner": 200, "cn_reviewer": 200, "readonly": 200, "partner": 200,
                    "outsider": 404, "anonymous": 302}
        agreement_save(provider=self.ru, recipient=self.cn, level="1km")
        for persona, status in expected.items():
            client = self.client_for(persona)
            for url in self.urls():
                with self.subTest(persona=persona, url=url):
                    self.assertEqual(client.get(url).status_code, status)
        sec = self.client_for("secretariat")
        for url in self.urls():
            with self.subTest(persona="secretariat", url=url):
                self.assertEqual(sec.get(url).status_code, 403 if url in photo else 200)
        page = sec.get(f"/review/{self.event}/").content.decode()
        self.assertIn("does not include photos", page)
        self.assertNotIn("/thumb.jpg", page)

    def test_photos_need_media_in_the_agreement(self):
        client = self.client_for("partner")
        self.assertEqual(client.get("/media/m5/thumb.jpg").status_code, 200)
        self.agreement.tables = ["deployments", "observations"]  # no media
        self.agreement.save()
        for url in ("/media/", "/media/m5/thumb.jpg", "/media/m7/thumb.jpg",
                    f"/review/{self.event}/match/left/"):
            with self.subTest(url=url):
                self.assertEqual(client.get(url).status_code, 403)
        page = client.get(f"/review/{self.event}/").content.decode()
        self.assertIn("does not include photos", page)
        self.assertNotIn("thumb.jpg", page)
        # the owner of the photos still sees them
        self.assertEqual(self.client_for("owner").get("/media/m5/thumb.jpg").status_code, 200)

    def test_thumbnails_carry_no_exif(self):
        original = (joint_package_path() / self.photo_paths[0]).read_bytes()
        self.assertIn(_APP1, _jpeg_segments(original))  # the camera's EXIF is there
        self.assertIn(b"Exif\x00\x00", original)
        response = self.client_for("owner").get("/media/m1/thumb.jpg")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "image/jpeg")
        thumb = b"".join(response.streaming_content)
        segments = _jpeg_segments(thumb)
        self.assertNotIn(_APP1, segments)
        self.assertNotIn(b"Exif", thumb)
        self.assertNotIn(b"\xff\xfe", segments)  # no comment either
        image = cv2.imdecode(np.frombuffer(thumb, np.uint8), cv2.IMREAD_COLOR)
        self.assertEqual(max(image.shape[:2]), 320)
        try:
            from PIL import Image
        except ImportError:  # pragma: no cover - Pillow is optional
            return
        import io

        with Image.open(io.BytesIO(thumb)) as img:
            self.assertEqual(dict(img.getexif()), {})
            self.assertNotIn("exif", img.info)

    def test_match_picture_draws_the_matcher_inliers(self):
        response = self.client_for("owner").get(f"/review/{self.event}/match/left/")
        self.assertEqual(response.status_code, 200)
        data = b"".join(response.streaming_content)
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        self.assertGreater(image.shape[1], image.shape[0])  # two photos side by side
        self.assertNotIn(_APP1, _jpeg_segments(data))
        from amurlink_web.apps.review.media import match_picture

        root = joint_package_path()
        reader = sel.reader_get(fetched_by=self.users["owner"])
        photos = sel.photos_of(reader).set_index("mediaID")
        same = match_picture(root / photos.loc["m5", "filePath"],
                             root / photos.loc["m7", "filePath"],
                             (photos.loc["m5", "bbox"], photos.loc["m7", "bbox"]))[1]
        other = match_picture(root / photos.loc["m5", "filePath"],
                              root / photos.loc["m1", "filePath"],
                              (photos.loc["m5", "bbox"], photos.loc["m1", "bbox"]))[1]
        self.assertGreaterEqual(same, 12)  # one leopard's left flank in both countries
        self.assertEqual(other, 0)  # a leopard and a tiger

    def test_review_page_shows_the_evidence(self):
        page = self.client_for("cn_reviewer").get(f"/review/{self.event}/").content.decode()
        for text in ("CN-NTLNP:L01", "RU-LLNP:L-7", "0.81", "/media/m5/thumb.jpg",
                     f"/review/{self.event}/match/left/", "FCA01", "S-CN-1", "S-RU-1",
                     "2014-10-01", "RU-B3", "review.js", "You decide for your park"):
            with self.subTest(text=text):
                self.assertIn(text, page)
        self.assertNotIn("<script>", page)  # CSP: scripts from /static/ only
        self.assertNotIn("style=", page)
        # the map holds no coordinates, only the stations' levels
        self.assertNotIn("130.97", page)
        self.assertNotIn("43.15", page)

    def test_keyboard_decisions_follow_the_two_party_rule(self):
        cn = self.client_for("cn_reviewer")
        response = cn.post(f"/review/{self.event}/decide/", {"decision": "accept"})
        self.assertEqual(response.status_code, 302)
        row = CachedLinkStore(joint_package_path()).current().set_index("linkEventID")
        pair = row[row["subjectA"] == "CN-NTLNP:L01"].iloc[0]
        self.assertEqual(pair["status"], "proposed")
        self.assertEqual(pair["awaiting"], "RU")
        # gone from the CN reviewer's queue, waiting in the RU reviewer's
        self.assertNotIn("CN-NTLNP:L01", cn.get("/review/").content.decode())
        self.assertIn("CN-NTLNP:L01", cn.get("/review/?status=awaiting-partner").content
                      .decode())
        ru = self.client_for("partner")
        self.assertIn("CN-NTLNP:L01", ru.get("/review/").content.decode())
        self.assertIn("awaiting the partner", ru.get(f"/review/{self.event}/").content.decode())
        self.assertEqual(ru.post(f"/review/{self.event}/decide/",
                                 {"decision": "accept"}).status_code, 302)
        members = set(LinkStore(joint_package_path()).identities()["members"])
        self.assertIn("CN-NTLNP:L01 = RU-LLNP:L-7", members)
        # viewers and the secretariat do not decide
        for persona in ("readonly", "secretariat"):
            with self.subTest(persona=persona):
                self.assertEqual(self.client_for(persona).post(
                    f"/review/{self.event}/decide/", {"decision": "reject"}).status_code, 403)
        logged = AuditLog.objects.filter(target=f"link:{self.event}", action="review")
        self.assertEqual(logged.count(), 2)
        read = AuditLog.objects.filter(target=f"link:{self.event}", action="read").last()
        self.assertTrue(read.owners and read.level)

    def test_individual_page(self):
        reader = sel.reader_get(fetched_by=self.users["owner"])
        tiger = next(g for g in sel.individual_list(reader) if len(g["members"]) == 2)
        page = self.client_for("owner").get(f"/individuals/{tiger['jointID']}/").content \
            .decode()
        for text in ("CN-NTLNP:T01", "RU-LLNP:T-1", "Crossings", "/media/m1/thumb.jpg",
                     "/media/m3/thumb.jpg", "Right flank", "2014-09"):
            with self.subTest(text=text):
                self.assertIn(text, page)
        ctx = sel.individual_context(reader, tiger["jointID"])
        self.assertTrue(ctx["crossing"]["transboundary"])
        self.assertGreaterEqual(ctx["crossing"]["crossings"], 1)
        listing = self.client_for("owner").get("/individuals/?species=Panthera+tigris") \
            .content.decode()
        self.assertIn(tiger["jointID"], listing)
        self.assertNotIn("CN-NTLNP:L01", listing)
        self.assertEqual(self.client_for("owner").get("/individuals/J-nothing/").status_code,
                         404)
        self.assertTrue(AuditLog.objects.filter(
            target=f"joint-catalogue:individual:{tiger['jointID']}").exists())


class ReviewProtectionTest(_JointPhotos):
    """The agreement's species limit and embargo hold for photos, individuals and maps."""

    def test_a_species_limit_holds_for_photos_and_individuals(self):
        # the Chinese park shares only tigers with the Russian park
        self.agreement.species = ["Panthera tigris"]
        self.agreement.save()
        ru = self.client_for("partner")
        self.assertEqual(ru.get("/media/m1/thumb.jpg").status_code, 200)  # a Chinese tiger
        self.assertEqual(ru.get("/media/m5/thumb.jpg").status_code, 404)  # a Chinese leopard
        # (the joint view applies the agreement's species to the whole joint package, the
        # reader's own part too: jobs.selectors.joint_access; its own leopard is not asserted)
        media = ru.get("/media/").content.decode()
        self.assertIn("/media/m1/thumb.jpg", media)
        self.assertNotIn("/media/m5/thumb.jpg", media)
        self.assertNotIn("/media/m6/thumb.jpg", media)
        listing = ru.get("/individuals/").content.decode()
        self.assertNotIn("CN-NTLNP:L01", listing)
        self.assertIn("CN-NTLNP:T01", listing)
        page = ru.get(f"/review/{self.event}/").content.decode()
        self.assertNotIn("/media/m5/thumb.jpg", page)
        self.assertNotIn("CN-A3 2014-10", page)  # the leopard's Chinese detections held back
        self.assertEqual(ru.get(f"/review/{self.event}/match/left/").status_code, 404)

    def test_an_embargo_holds_for_photos(self):
        from datetime import date

        self.agreement.embargo_date = date(2014, 9, 10)  # m1 (09-05) shared, m2 (09-12) not
        self.agreement.save()
        ru = self.client_for("partner")
        self.assertEqual(ru.get("/media/m1/thumb.jpg").status_code, 200)
        self.assertEqual(ru.get("/media/m2/thumb.jpg").status_code, 404)
        self.assertNotIn("/media/m2/thumb.jpg", ru.get("/media/").content.decode())

    def test_no_page_shows_a_coordinate(self):
        from amurlink.datasets import load_example

        deps = load_example().deployments
        coords = {f"{v:.2f}" for v in pd.concat([deps["latitude"], deps["longitude"]])}
        reader = sel.reader_get(fetched_by=self.users["partner"])
        joint_ids = [g["jointID"] for g in sel.individual_list(reader)]
        urls = [f"/review/{self.event}/", "/review/", "/individuals/", "/media/",
                *(f"/individuals/{j}/" for j in joint_ids)]
        for persona in ("partner", "owner"):
            client = self.client_for(persona)
            for url in urls:
                page = client.get(url).content.decode()
                for c in coords:
                    with self.subTest(persona=persona, url=url, coordinate=c):
                        self.assertNotIn(c, page)


class ThumbnailLinkTest(_JointPhotos):
    """A page's signed thumbnail links: no query per image, and no wider than the page."""

    def setUp(self):
        super().setUp()
        from amurlink_web.apps.review.media import package_thumbnails_make

        package_thumbnails_make(joint_package_path())  # the import hook

    def link(self, client: Client, media_id: str, page: str = "/media/") -> str:
        html = client.get(page).content.decode()
        found = re.search(rf'src="(/media/{media_id}/thumb\.jpg\?t=[^"]+)"', html)
        self.assertIsNotNone(found, f"no signed link to {media_id} on {page}")
        return found.group(1).replace("&amp;", "&")

    def test_a_page_link_opens_its_photo_without_a_database_query(self):
        owner = self.client_for("owner")
        checked = b"".join(owner.get("/media/m5/thumb.jpg").streaming_content)
        for page in ("/media/", f"/review/{self.event}/"):
            with self.subTest(page=page):
                url = self.link(owner, "m5", page)
                with self.assertNumQueries(0):
                    response = owner.get(url)
                self.assertEqual(response.status_code, 200)
                self.assertEqual(b"".join(response.streaming_content), checked)
                self.assertEqual(response["Cache-Control"], "private, max-age=600")
        # the page that issued the links names them in its audit row
        row = AuditLog.objects.filter(target="media:browser").latest("id")
        self.assertIn("m5", row.detail["thumbnails"])
        individual = [g["jointID"] for g in sel.individual_list(sel.reader_get(
            fetched_by=self.users["owner"])) if "CN-NTLNP:T01" in g["members"]][0]
        url = self.link(owner, "m1", f"/individuals/{individual}/")
        with self.assertNumQueries(0):
            self.assertEqual(owner.get(url).status_code, 200)

    def test_a_link_opens_only_its_photo_for_its_session_and_for_ten_minutes(self):
        from django.core import signing

        url = self.link(self.client_for("owner"), "m5")
        # another session, even of a member who may see the photo, or none at all: the
        # reader is checked as for a plain URL
        self.assertEqual(self.client_for("outsider").get(url).status_code, 404)
        self.assertEqual(self.client_for("anonymous").get(url).status_code, 302)
        self.assertEqual(self.client_for("owner").get(url).status_code, 200)  # checked
        self.assertTrue(AuditLog.objects.filter(target="media:m5").exists())
        # the token of m5 does not open m7, nor does a tampered one
        owner = self.client_for("owner")
        token = self.link(owner, "m5").split("?t=", 1)[1]
        for bad in (f"/media/m7/thumb.jpg?t={token}", f"/media/m5/thumb.jpg?t={token[:-3]}abc"):
            with self.subTest(url=bad):
                before = AuditLog.objects.count()
                self.assertEqual(owner.get(bad).status_code, 200)  # the owner may: checked
                self.assertEqual(AuditLog.objects.count(), before + 1)
        # a partner whose agreement loses the media table: the page issues no link; one
        # issued before opens until it is ten minutes old, then the reader is checked (403)
        partner = self.client_for("partner")
        old = self.link(partner, "m5")
        self.agreement.tables = ["deployments", "observations"]
        self.agreement.save()
        self.assertNotIn("thumb.jpg", partner.get(f"/review/{self.event}/").content.decode())
        self.assertEqual(partner.get(old).status_code, 200)
        later = signing.time.time() + 601
        with mock.patch.object(signing.time, "time", return_value=later):
            self.assertEqual(partner.get(old).status_code, 403)
        # logging out ends the session the links were bound to
        partner.logout()
        self.assertEqual(partner.get(old).status_code, 302)

    def test_a_thumbnail_url_is_the_resolver_s(self):
        from django.urls import reverse

        from amurlink_web.apps.review.media import _thumbnail_url

        for media_id in ("m5", "CN:A-3_0001", "фото 1", "a+b&c=d", "x~y@z!", "100%"):
            with self.subTest(media_id=media_id):
                self.assertEqual(_thumbnail_url(media_id),
                                 reverse("media-thumbnail", args=[media_id]))

    def test_without_a_thumbnail_made_the_page_gives_the_checked_url(self):
        import shutil as _shutil

        from django.conf import settings

        _shutil.rmtree(Path(settings.DATA_DIR) / "thumbs", ignore_errors=True)
        html = self.client_for("owner").get("/media/").content.decode()
        self.assertIn('src="/media/m5/thumb.jpg"', html)
        self.assertNotIn("?t=", html)


def test_photo_files_stay_inside_the_package(tmp_path):
    from amurlink_web.apps.review.media import package_thumbnails_make, photo_file

    package = tmp_path / "joint"
    (package / "media").mkdir(parents=True)
    (package / "media" / "a.jpg").write_bytes(b"x")
    (tmp_path / "secret.jpg").write_bytes(b"x")
    assert photo_file(package, "media/a.jpg") == (package / "media" / "a.jpg").resolve()
    for bad in ("../secret.jpg", str(tmp_path / "secret.jpg"), "media/../../secret.jpg",
                "https://example.org/a.jpg", "", "media/missing.jpg"):
        assert photo_file(package, bad) is None, bad
    (package / "media.csv").write_text("mediaID,filePath\nm1,media/a.jpg\nm2,../secret.jpg\n")
    assert package_thumbnails_make(package) == 0  # a.jpg is no image: no thumbnail, no error


def _frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    # many photos share a timestamp (bursts): the key must still order them uniquely
    ts = pd.Timestamp("2020-01-01", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 2_000, n) * 60, unit="s")
    frame = pd.DataFrame({
        "mediaID": [f"m{i:06d}" for i in range(n)], "timestamp": ts,
        "deploymentID": rng.choice(["A", "B", "C"], n), "filePath": "x.jpg",
        "scientificName": rng.choice(["Panthera tigris", "Panthera pardus"], n),
        "individualID": None, "flank": "left", "countryCode": "CN", "bbox": None})
    frame["sortKey"] = frame["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S") + "|" \
        + frame["mediaID"]
    return frame.sort_values("sortKey").reset_index(drop=True)


@pytest.mark.parametrize("station", ["", "B"])
def test_keyset_pages_cover_every_photo_once_in_order(station):
    frame = _frame(20_000)
    expected = frame if not station else frame[frame["deploymentID"] == station]
    seen, after, pages = [], "", 0
    while True:
        page = sel.keyset_page(frame, station=station, after=after, size=100)
        seen += [r["mediaID"] for r in page.rows]
        pages += 1
        if page.next_cursor is None:
            break
        assert len(page.rows) == 100
        after = page.next_cursor
    assert seen == list(expected["mediaID"])
    assert pages == -(-len(expected) // 100)


def test_keyset_page_after_a_cursor_and_a_new_photo():
    frame = _frame(1_000, seed=3)
    first = sel.keyset_page(frame, size=10)
    second = sel.keyset_page(frame, size=10, after=first.next_cursor)
    assert [r["mediaID"] for r in second.rows] == list(frame["mediaID"].iloc[10:20])
    # a photo added before the cursor does not shift the next page (an offset would)
    early = frame.iloc[[0]].copy()
    early["mediaID"] = "m-new"
    early["sortKey"] = "0000-new"
    grown = pd.concat([early, frame]).sort_values("sortKey").reset_index(drop=True)
    again = sel.keyset_page(grown, size=10, after=first.next_cursor)
    assert again.rows == second.rows
    days = sel.keyset_page(frame, date_from="2020-01-01T10", date_to="2020-01-01T12",
                           size=5000)
    assert days.rows and all("2020-01-01T10" <= r["timestamp"][:13] <= "2020-01-01T12"
                             for r in days.rows)


class DemoSiteReviewTest(TestCase):
    """The demo site (``amurlink serve``) opens on a real review: photos and the match."""

    def test_the_demo_site_holds_photo_proposals_with_their_images(self):
        from django.contrib.auth.models import User

        from amurlink_web.apps.core.demo import demo_site_create
        from amurlink_web.apps.review.media import photo_store

        shutil.rmtree(joint_package_path(), ignore_errors=True)
        demo_site_create()
        client = Client()
        client.force_login(User.objects.get(username="cn-reviewer"))
        queue = client.get("/review/").content.decode()
        self.assertIn("CN-NTLNP:L01 = RU-LLNP:L-7", queue)
        event = CachedLinkStore(joint_package_path()).current(status="proposed") \
            .set_index("subjectA").loc["CN-NTLNP:L01", "linkEventID"]
        page = client.get(f"/review/{event}/").content.decode()
        for text in (f"/review/{event}/match/left/", "/media/m5/thumb.jpg", "S-CN-1", "FCA01"):
            self.assertIn(text, page)
        # the photos live in the site's photo store, not in the joint package (a rebuild of
        # the joint package from the parks' datasets keeps them)
        self.assertFalse((joint_package_path() / "media").exists())
        self.assertTrue(any(photo_store().rglob("*.jpg")))
        for url in ("/media/m5/thumb.jpg", f"/review/{event}/match/left/"):
            response = client.get(url)
            self.assertEqual(response.status_code, 200)
            self.assertNotIn(b"Exif", b"".join(response.streaming_content))
