"""Procedural flank renderer: the contract the simulator relies on."""

from __future__ import annotations

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from amurlink.simulate.flanks import (  # noqa: E402
    FLANK_DISTORTIONS,
    FRAME_SHAPE,
    jpeg_roundtrip,
    render_flank,
    render_pattern,
    write_jpeg,
)


def test_stated_ranges():
    assert FLANK_DISTORTIONS["yaw_deg"] == (-35.0, 35.0)
    assert FLANK_DISTORTIONS["scale"] == (0.5, 1.5)
    assert FLANK_DISTORTIONS["infrared"] == 0.4
    assert FLANK_DISTORTIONS["blur_sigma"] == (0.0, 2.0)
    assert FLANK_DISTORTIONS["occlusion"] == (0.0, 0.3)
    assert FLANK_DISTORTIONS["jpeg_quality"] == (60, 90)


@pytest.mark.parametrize("species", ["tiger", "leopard", "Panthera pardus orientalis"])
def test_shape_dtype_and_drawn_values(species):
    rng = np.random.default_rng(0)
    for _ in range(12):
        image, info = render_flank(3, species, "left", rng=rng)
        assert image.dtype == np.uint8
        if info["infrared"]:
            assert image.shape == FRAME_SHAPE
        else:
            assert image.shape == (*FRAME_SHAPE, 3)
        assert -35 <= info["yaw_deg"] <= 35
        assert 0.5 <= info["scale"] <= 1.5
        assert 0 <= info["blur_sigma"] <= 2
        assert 0 <= info["occlusion"] <= 0.3
        assert 60 <= info["jpeg_quality"] <= 90
        x, y, w, h = info["bbox"]
        assert 0 <= x and 0 <= y and x + w <= FRAME_SHAPE[1] and y + h <= FRAME_SHAPE[0]
        assert 0 < info["bboxWidth"] <= 1


def test_infrared_share_is_about_40_percent():
    rng = np.random.default_rng(1)
    n = 60
    ir = [render_flank(1, "tiger", "right", rng=rng)[1]["infrared"] for _ in range(n)]
    assert 0.2 < np.mean(ir) < 0.6


def test_pattern_deterministic_and_unique():
    a, mask = render_pattern(11, "tiger", "left")
    b, _ = render_pattern(11, "tiger", "left")
    np.testing.assert_array_equal(a, b)
    right, _ = render_pattern(11, "tiger", "right")
    other, _ = render_pattern(12, "tiger", "left")
    leopard, _ = render_pattern(11, "leopard", "left")
    for different in (right, other, leopard):
        assert np.abs(a[mask].astype(int) - different[mask].astype(int)).mean() > 10


def test_same_rng_state_same_photo_and_fixed_values():
    img1, info1 = render_flank(5, "leopard", "right", rng=np.random.default_rng(9))
    img2, info2 = render_flank(5, "leopard", "right", rng=np.random.default_rng(9))
    np.testing.assert_array_equal(img1, img2)
    assert info1 == info2
    fixed = {"yaw_deg": 0.0, "infrared": True, "blur_sigma": 0.0, "occlusion": 0.0,
             "scale": (1.0, 1.0)}
    img, info = render_flank(5, "leopard", "right", rng=np.random.default_rng(2),
                             distortions=fixed)
    assert img.ndim == 2 and info["infrared"] is True
    assert info["yaw_deg"] == 0.0 and info["scale"] == 1.0 and info["occlusion"] == 0.0


def test_bad_inputs():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="species"):
        render_flank(1, "lynx", "left", rng=rng)
    with pytest.raises(ValueError, match="side"):
        render_flank(1, "tiger", "front", rng=rng)
    with pytest.raises(ValueError, match="unknown distortion"):
        render_flank(1, "tiger", "left", rng=rng, distortions={"fog": 1})
    with pytest.raises(TypeError, match="Generator"):
        render_flank(1, "tiger", "left", rng=3)


def test_write_jpeg(tmp_path):
    image, info = render_flank(2, "tiger", "left", rng=np.random.default_rng(4))
    path = write_jpeg(tmp_path / "a" / "x.jpg", image, info["jpeg_quality"])
    back = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert back.shape == image.shape
    np.testing.assert_array_equal(back, jpeg_roundtrip(image, info["jpeg_quality"]))


def test_pattern_is_cached_and_read_only():
    from amurlink.simulate import flanks

    tex = flanks.flank_pattern(21, "Panthera tigris", "L")
    assert not tex.flags.writeable
    assert flanks.flank_pattern(21, "tiger", "left") is tex  # drawn once
    np.testing.assert_array_equal(render_pattern(21, "tiger", "left")[0], tex)
    # a cold cache gives the same photo as a warm one
    img1, info1 = render_flank(21, "tiger", "left", rng=np.random.default_rng(3))
    flanks._cached_pattern.cache_clear()
    img2, info2 = render_flank(21, "tiger", "left", rng=np.random.default_rng(3))
    np.testing.assert_array_equal(img1, img2)
    assert info1 == info2


def test_photo_noise_and_brightness_statistics():
    """Per-photo distortions stay random: two photos of one flank differ, noise is there."""
    rng = np.random.default_rng(8)
    fixed = {"blur_sigma": 0.0, "infrared": False, "occlusion": 0.0}
    a, _ = render_flank(4, "leopard", "left", rng=rng, distortions=fixed)
    b, _ = render_flank(4, "leopard", "left", rng=rng, distortions=fixed)
    assert not np.array_equal(a, b)
    # pixel noise sigma 3: neighbouring-pixel differences of a smooth frame are about 3 sqrt 2
    d = np.diff(a[:40, :40, 1].astype(float), axis=1)
    assert 2.0 < np.median(np.abs(d)) * 1.4826 < 12.0


def test_write_jpeg_with_exif_time(tmp_path):
    from amurlink.simulate.flanks import exif_segment

    image, info = render_flank(2, "tiger", "left", rng=np.random.default_rng(4))
    plain = write_jpeg(tmp_path / "plain.jpg", image, 75)
    tagged = write_jpeg(tmp_path / "tagged.jpg", image, 75,
                        datetime_original="2014-10-26 01:02:03")
    assert tagged.read_bytes().count(b"Exif\x00\x00") == 1
    np.testing.assert_array_equal(cv2.imread(str(plain), cv2.IMREAD_UNCHANGED),
                                  cv2.imread(str(tagged), cv2.IMREAD_UNCHANGED))
    pil = pytest.importorskip("PIL.Image")
    exif = pil.open(tagged).getexif().get_ifd(0x8769)
    assert exif[0x9003] == "2014:10:26 01:02:03"
    with pytest.raises(ValueError, match="DateTimeOriginal"):
        exif_segment("2014-10-26")
