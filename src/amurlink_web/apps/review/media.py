"""Thumbnails of the joint package's photos: re-encoded on the server, no metadata left.

A thumbnail is made once (at import, :func:`thumbnails_make`, or on first request) and cached
on disk under ``DATA_DIR/thumbs``; it is a fresh JPEG encoded by OpenCV from the decoded
pixels, so no EXIF (GPS, camera serial, timestamps) or other segment of the original
survives. The match picture of a review (two flank photos side by side, the RANSAC inlier
keypoints joined by lines) is made and cached the same way.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

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


def _inside(root: Path, file_path: str) -> Path | None:
    root = root.resolve()
    path = (root / file_path).resolve()
    if root not in path.parents or not path.is_file():
        return None
    return path


def photo_file(package: Path, file_path: str) -> Path | None:
    """The photo ``file_path`` (a media row's ``filePath``) inside ``package``, else in the
    site's :func:`photo_store`; None when it is missing or would leave those folders."""
    if not file_path or "://" in file_path:
        return None
    return _inside(package, file_path) or _inside(photo_store(), file_path)


def thumbnail_make(source: Path, *, side: int = THUMB_SIDE) -> Path:
    """The cached thumbnail of ``source`` (made now when missing or older than the photo).

    Raises
    ------
    AmurlinkError
        If the photo cannot be read (the image reader's size and bomb checks apply).
    """
    from amurlink.identify.photos.features import load_image

    st = source.stat()
    target = _cache_dir("media") / f"{_key(source, st.st_size, st.st_mtime_ns, side)}.jpg"
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
