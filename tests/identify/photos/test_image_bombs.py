"""Images are checked by their header before decoding (issue 14: a 40k x 40k PNG)."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from amurlink.exceptions import DataError
from amurlink.identify.photos.features import image_size, load_image

cv2 = pytest.importorskip("cv2")


def _png_claiming(path, width: int, height: int) -> None:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
                     + chunk(b"IEND", b""))


def test_huge_png_refused_before_decoding(tmp_path):
    p = tmp_path / "bomb.png"
    _png_claiming(p, 40_000, 40_000)
    assert image_size(p) == (40_000, 40_000)
    with pytest.raises(DataError, match="40000 x 40000 pixels") as err:
        load_image(p)
    assert str(tmp_path) not in str(err.value)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp", ".webp", ".tif"])
def test_header_sizes_match_the_decoded_image(tmp_path, ext):
    img = np.random.default_rng(0).integers(0, 255, (37, 53, 3), dtype=np.uint8)
    p = tmp_path / f"x{ext}"
    ok, buf = cv2.imencode(ext, img)
    assert ok
    p.write_bytes(buf.tobytes())
    size = image_size(p)
    assert size in (None, (53, 37))  # TIFF headers are not parsed: OpenCV's own limit applies
    if ext != ".tif":
        assert size == (53, 37)
    assert load_image(p).shape[:2] == (37, 53)


def test_truncated_or_garbage_images_are_os_errors(tmp_path):
    p = tmp_path / "cut.jpg"
    ok, buf = cv2.imencode(".jpg", np.zeros((20, 20, 3), np.uint8))
    p.write_bytes(buf.tobytes()[:10])
    with pytest.raises(OSError, match="cut.jpg"):
        load_image(p)
    q = tmp_path / "text.png"
    q.write_bytes(b"not an image at all")
    with pytest.raises(OSError, match="text.png"):
        load_image(q)
