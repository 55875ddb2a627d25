"""Thumbnails of the joint package's photos: re-encoded on the server, no metadata left.

A thumbnail is made once (at import, :func:`thumbnails_make`, or on first request) and cached
on disk under ``DATA_DIR/thumbs``; it is a fresh JPEG encoded by OpenCV from the decoded
pixels, so no EXIF (GPS, camera serial, timestamps) or other segment of the original
survives. The match picture of a review (two flank photos side by side, the RANSAC inlier
keypoints joined by lines) is made and cached the same way.
"""

from __future__ import annotations

import functools
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
from django.conf import settings
from django.core import signing
from django.http import HttpRequest
from django.urls import reverse

from amurlink.exceptions import AmurlinkError

#: Long side of a thumbnail, pixels.
THUMB_SIDE = 320
#: Long side of each photo in the match picture, pixels.
MATCH_SIDE = 480


def _cache_dir(kind: str) -> Path:
    return Path(settings.DATA_DIR) / "thumbs" / kind


def _key(*parts: object) -> str:
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _resize(image: np.ndarray, side: int) -> np.ndarray:
    import cv2

    h, w = image.shape[:2]
    scale = side / max(h, w)
    if scale >= 1:
        return image
    return cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                      interpolation=cv2.INTER_AREA)


def _encode(image: np.ndarray, quality: int = 82) -> bytes:
    """A bare JPEG (JFIF header only, no EXIF/XMP/ICC/comment segment)."""
    import cv2

    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV cannot fail on a uint8 array
        raise AmurlinkError("the thumbnail could not be encoded")
    return buf.tobytes()


def photo_store() -> Path:
    """The site's photo store (``DATA_DIR/photos``): photos by ``filePath``, kept when a joint
    package is rebuilt from the parks' datasets (which carry no image files)."""
    return Path(settings.DATA_DIR) / "photos"


def _roots(package: Path) -> tuple[str, str]:
    return (os.path.realpath(package), os.path.realpath(photo_store()))


def _photo_stat(roots: tuple[str, ...], file_path: str) -> tuple[str, os.stat_result] | None:
    """The real path and ``stat`` of the photo ``file_path`` in the first of ``roots`` that
    holds it as a regular file; None when missing or when the path (links followed) would
    leave its root. os.path, not pathlib: a page of 100 photos calls this 100 times."""
    if not file_path or "://" in file_path:
        return None
    for root in roots:
        path = os.path.realpath(os.path.join(root, file_path))
        if not path.startswith(root + os.sep):
            continue
        try:
            st = os.stat(path)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            return path, st
    return None


def photo_file(package: Path, file_path: str) -> Path | None:
    """The photo ``file_path`` (a media row's ``filePath``) inside ``package``, else in the
    site's :func:`photo_store`; None when it is missing or would leave those folders."""
    found = _photo_stat(_roots(package), file_path)
    return Path(found[0]) if found else None


def _thumbnail_name(path: str, st: os.stat_result, side: int = THUMB_SIDE) -> str:
    return _key(path, st.st_size, st.st_mtime_ns, side)


def thumbnail_make(source: Path, *, side: int = THUMB_SIDE) -> Path:
    """The cached thumbnail of ``source`` (made now when missing or older than the photo).

    Raises
    ------
    AmurlinkError
        If the photo cannot be read (the image reader's size and bomb checks apply).
    """
    from amurlink.identify.photos.features import load_image

    path = os.path.realpath(source)
    target = _cache_dir("media") / f"{_thumbnail_name(path, os.stat(path), side)}.jpg"
    if target.is_file():
        return target
    _atomic_write(target, _encode(_resize(load_image(source), side)))
    return target


def thumbnails_make(package: Path, file_paths: list[str]) -> int:
    """Make the thumbnails of a package's photos (at import); returns how many exist now."""
    made = 0
    for fp in file_paths:
        src = photo_file(package, fp)
        if src is None:
            continue
        try:
            thumbnail_make(src)
            made += 1
        except (AmurlinkError, OSError, ValueError):
            continue  # an unreadable photo gets no thumbnail; its page says so
    return made


def package_thumbnails_make(package: Path) -> int:
    """Make the thumbnails of every photo a written package holds (the import hook: call it
    after a joint package is written); returns how many exist now."""
    import pandas as pd

    media = Path(package) / "media.csv"
    if not media.is_file():
        return 0
    paths = pd.read_csv(media, usecols=["filePath"], dtype=str)["filePath"].dropna()
    return thumbnails_make(Path(package), paths.tolist())


def match_picture(source_a: Path, source_b: Path, boxes: tuple[Any, Any] = (None, None)
                  ) -> tuple[Path, int]:
    """Both photos side by side with the matched keypoints (RANSAC inliers) joined.

    Keypoints come from the photo matcher (:func:`amurlink.identify.photos.features.
    extract_features`, :func:`amurlink.identify.photos.ranking.verify_pair`), drawn on the
    flank chips the matcher saw. Returns the cached JPEG and the number of inliers.
    """
    import cv2

    from amurlink.identify.photos.features import extract_features, flank_chip, load_image
    from amurlink.identify.photos.ranking import IndexParams, verify_pair

    stamps = [(p, p.stat().st_size, p.stat().st_mtime_ns) for p in (source_a, source_b)]
    key = _key(*stamps, *boxes, MATCH_SIDE)
    target = _cache_dir("match") / f"{key}.jpg"
    count_file = target.with_suffix(".n")
    if target.is_file() and count_file.is_file():
        return target, int(count_file.read_text() or 0)
    images = [load_image(p) for p in (source_a, source_b)]
    feats = [extract_features(img, box, long_side=MATCH_SIDE)
             for img, box in zip(images, boxes, strict=True)]
    n, inliers = verify_pair(feats[0], feats[1], IndexParams())
    chips = []
    for img, box in zip(images, boxes, strict=True):
        chip, _ = flank_chip(img, box, long_side=MATCH_SIDE)
        chips.append(chip if chip.ndim == 3 else cv2.cvtColor(chip, cv2.COLOR_GRAY2BGR))
    h = max(c.shape[0] for c in chips)
    gap = 8
    canvas = np.full((h, chips[0].shape[1] + gap + chips[1].shape[1], 3), 255, np.uint8)
    canvas[: chips[0].shape[0], : chips[0].shape[1]] = chips[0]
    off = chips[0].shape[1] + gap
    canvas[: chips[1].shape[0], off:] = chips[1]
    rng = np.random.default_rng(0)  # fixed colours
    for ia, ib in inliers:
        colour = tuple(int(v) for v in rng.integers(40, 256, 3))
        pa = (int(feats[0].xy[ia, 0]), int(feats[0].xy[ia, 1]))
        pb = (int(feats[1].xy[ib, 0]) + off, int(feats[1].xy[ib, 1]))
        cv2.circle(canvas, pa, 4, colour, 1, cv2.LINE_AA)
        cv2.circle(canvas, pb, 4, colour, 1, cv2.LINE_AA)
        cv2.line(canvas, pa, pb, colour, 1, cv2.LINE_AA)
    _atomic_write(target, _encode(canvas, 85))
    _atomic_write(count_file, str(int(n)).encode())
    return target, int(n)


# ---------------------------------------------------------------------------------------------
# Thumbnail links: issued by the page that checked the reader, served without a database query
# ---------------------------------------------------------------------------------------------
#: Seconds a page's thumbnail link stays valid (and a browser may keep the image it got).
THUMB_LINK_S = 600
_THUMB_PATH = "thumb.jpg"


def _link_signer(session_key: str, media_id: str) -> signing.TimestampSigner:
    # the session key and the photo are in the salt, so a link opens only that photo and only
    # with the cookie of the session the page was made for
    return signing.TimestampSigner(salt=f"amurlink.thumbnail/{session_key}/{media_id}")


def thumbnail_links(request: HttpRequest, package: Path,
                    photos: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The thumbnail URL of each ``(mediaID, filePath)`` a page shows to this reader.

    The page has checked the reader (agreement with media, the photo in the reader's release)
    and names these photos in its audit row. A photo whose thumbnail was made (at import)
    gets a link signed for this session and photo, valid :data:`THUMB_LINK_S` seconds, that
    :func:`thumbnail_link_file` serves without looking the reader up again; any other photo
    (no session, no thumbnail yet) gets the plain URL, which checks the reader on every
    request and makes the thumbnail.
    """
    key = getattr(getattr(request, "session", None), "session_key", None)
    roots, folder = _roots(package), os.fspath(_cache_dir("media"))
    out: dict[str, str] = {}
    for media_id, file_path in photos:
        media_id = str(media_id)
        url = _thumbnail_url(media_id)
        found = _photo_stat(roots, file_path) if key else None
        if found is not None:
            name = _thumbnail_name(*found)
            if os.path.isfile(os.path.join(folder, name + ".jpg")):
                url += "?t=" + _link_signer(key, media_id).sign(name)
        out[media_id] = url
    return out


def _thumbnail_url(media_id: str) -> str:
    """``reverse("media-thumbnail", args=[media_id])`` without the resolver's cost per photo
    (a page of 100); the ID quoted as the resolver quotes it (test)."""
    prefix, suffix = _thumbnail_url_parts()
    return prefix + quote(media_id, safe="!$&'()*+,;=~:@") + suffix


@functools.cache
def _thumbnail_url_parts() -> tuple[str, str]:
    prefix, _, suffix = reverse("media-thumbnail", args=["MEDIAID"]).partition("MEDIAID")
    return prefix, suffix


def is_thumbnail_link(request: HttpRequest) -> bool:
    """A request for a signed thumbnail link (the user's language is not needed there)."""
    return "t" in request.GET and request.path_info.endswith("/" + _THUMB_PATH) \
        and request.path_info.startswith("/media/")


def thumbnail_link_file(request: HttpRequest, media_id: str) -> Path | None:
    """The thumbnail a valid link names, else None (the caller checks the reader instead).

    Valid: signed for this photo and for the session whose cookie the request carries, at
    most :data:`THUMB_LINK_S` seconds ago, and the thumbnail still on disk. No database query.
    """
    token = request.GET.get("t", "")
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    if not token or not key:
        return None
    try:
        name = _link_signer(key, str(media_id)).unsign(token, max_age=THUMB_LINK_S)
    except signing.BadSignature:  # SignatureExpired included
        return None
    if len(name) != 64 or any(c not in "0123456789abcdef" for c in name):
        return None
    path = _cache_dir("media") / f"{name}.jpg"
    return path if path.is_file() else None
