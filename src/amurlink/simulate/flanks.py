"""Procedural flank photos of Amur tigers and leopards for the simulator and photo-ID tests.

Each (``pattern_seed``, ``species``, ``side``) gives one fixed coat pattern: tiger stripes or
leopard rosettes, with the left and right flanks of one animal different (as in ATRW, where the
two flanks are separate entities). :func:`render_flank` places that pattern in a 640 x 480
camera-trap frame under random photographic distortions drawn from the caller's generator:

=================  ==========================================================================
``yaw_deg``        out-of-plane rotation of the flank about the vertical axis, -35 to 35 deg
``roll_deg``       in-plane tilt, -8 to 8 deg
``scale``          flank size: 1.0 means a flank 400 px long in the 640 px frame; 0.5 to 1.5
``infrared``       night infrared photo (grey image), probability 0.4
``blur_sigma``     Gaussian blur sigma, 0 to 2 px
``occlusion``      fraction of the flank's bounding box hidden by vegetation, 0 to 0.3
``jpeg_quality``   JPEG quality to write the photo with (:func:`write_jpeg`), 60 to 90
=================  ==========================================================================

The JPEG quality is drawn but not applied by :func:`render_flank`: pass it to
:func:`write_jpeg` (or :func:`jpeg_roundtrip` for in-memory use).
"""

from __future__ import annotations

import functools
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "FLANK_DISTORTIONS",
    "FRAME_SHAPE",
    "flank_pattern",
    "SIDES",
    "SPECIES",
    "exif_segment",
    "jpeg_roundtrip",
    "render_flank",
    "render_pattern",
    "write_jpeg",
]

#: Height and width of every rendered photo, pixels.
FRAME_SHAPE: tuple[int, int] = (480, 640)
#: Species names accepted by :func:`render_flank` (common or scientific name).
SPECIES: dict[str, str] = {
    "tiger": "tiger", "panthera tigris": "tiger", "panthera tigris altaica": "tiger",
    "leopard": "leopard", "panthera pardus": "leopard", "panthera pardus orientalis": "leopard",
}
#: Flank sides accepted by :func:`render_flank`.
SIDES: dict[str, str] = {"left": "left", "l": "left", "right": "right", "r": "right"}

#: Default distortion ranges. A ``(low, high)`` pair is drawn uniformly (integers for
#: ``jpeg_quality``); ``infrared`` is the probability of a night infrared photo.
FLANK_DISTORTIONS: dict[str, Any] = {
    "yaw_deg": (-35.0, 35.0),
    "roll_deg": (-8.0, 8.0),
    "scale": (0.5, 1.5),
    "infrared": 0.4,
    "blur_sigma": (0.0, 2.0),
    "occlusion": (0.0, 0.3),
    "jpeg_quality": (60, 90),
}

# Canonical flank texture (height, width) in pixels; the body is a superellipse inside it.
_CANON = (300, 720)
_BASE_LENGTH_PX = 400.0  # flank length in the frame at scale 1
_FOCAL_PX = 900.0
# Patterns kept by the per-process cache (each 300 x 720 x 3 bytes, about 0.65 MB).
_PATTERN_CACHE = 64


def _cv2():
    try:
        import cv2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "flank rendering needs OpenCV: pip install opencv-python-headless"
        ) from exc
    return cv2


def _norm_species(species: str) -> str:
    key = str(species).strip().lower()
    if key not in SPECIES:
        raise ValueError(f"unknown species {species!r}; expected one of 'tiger', 'leopard'")
    return SPECIES[key]


def _norm_side(side: str) -> str:
    key = str(side).strip().lower()
    if key not in SIDES:
        raise ValueError(f"unknown flank side {side!r}; expected 'left' or 'right'")
    return SIDES[key]


def _pattern_rng(pattern_seed: int, species: str, side: str) -> np.random.Generator:
    tag = zlib.crc32(f"{species}/{side}".encode())
    return np.random.default_rng([int(pattern_seed) & 0xFFFFFFFF, int(pattern_seed) >> 32, tag])


def _body_mask() -> np.ndarray:
    h, w = _CANON
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u = (xx - w / 2) / (w / 2 - 4)
    v = (yy - h / 2) / (h / 2 - 4)
    return (np.abs(u) ** 3.0 + np.abs(v) ** 2.4) <= 1.0


def render_pattern(pattern_seed: int, species: str, side: str) -> tuple[np.ndarray, np.ndarray]:
    """The canonical (undistorted) flank of one animal side.

    Parameters
    ----------
    pattern_seed : int
        Identity of the animal's coat; the same seed and side always give the same pattern.
    species : {"tiger", "leopard"}
    side : {"left", "right"}

    Returns
    -------
    texture : ndarray of uint8, shape (300, 720, 3)
        BGR coat texture.
    mask : ndarray of bool, shape (300, 720)
        True on the body.
    """
    pattern_seed, species, side = _pattern_key(pattern_seed, species, side)
    return _cached_pattern(pattern_seed, species, side).copy(), _body_mask()


def _render_pattern(pattern_seed: int, species: str, side: str) -> tuple[np.ndarray, np.ndarray]:
    cv2 = _cv2()
    rng = _pattern_rng(pattern_seed, species, side)
    h, w = _CANON
    yy = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    if species == "tiger":
        back = np.array([30, 105, 215], np.float32) + rng.normal(0, 8, 3)
        belly = np.array([200, 215, 225], np.float32)
    else:
        back = np.array([70, 165, 215], np.float32) + rng.normal(0, 8, 3)
        belly = np.array([185, 215, 230], np.float32)
    t = np.clip((yy - 0.62) / 0.3, 0.0, 1.0)
    tex = (1 - t) * back + t * belly
    tex = np.broadcast_to(tex, (h, w, 3)).copy()
    if species == "tiger":
        _draw_stripes(cv2, tex, rng)
    else:
        _draw_rosettes(cv2, tex, rng)
    tex = np.clip(tex, 0, 255).astype(np.uint8)
    return tex, _body_mask()


def _polyline(cv2, tex: np.ndarray, x: np.ndarray, y: np.ndarray, widths: np.ndarray,
              colour: tuple[float, float, float]) -> None:
    """Segments of varying width (integer pixel ends, widths rounded half to even, >= 1)."""
    pts = list(zip(x.astype(np.int64).tolist(), y.astype(np.int64).tolist(), strict=True))
    ws = np.maximum(1, np.round(widths[:-1]).astype(np.int64)).tolist()
    line, aa = cv2.line, cv2.LINE_AA
    for i, wd in enumerate(ws):
        line(tex, pts[i], pts[i + 1], colour, wd, aa)


def _draw_stripes(cv2, tex: np.ndarray, rng: np.random.Generator) -> None:
    h, w = _CANON
    dark = (18.0, 18.0, 28.0)
    n = int(rng.integers(20, 30))
    xs = np.sort(rng.uniform(0.04 * w, 0.96 * w, n))
    for x0 in xs:
        top = rng.uniform(-0.05, 0.25) * h
        length = rng.uniform(0.3, 0.85) * h
        n_pts = 24
        s = np.linspace(0.0, 1.0, n_pts)
        amp = rng.uniform(3, 12)
        freq = rng.uniform(0.4, 1.4)
        phase = rng.uniform(0, 2 * np.pi)
        slant = rng.uniform(-40, 40)
        px = x0 + slant * s + amp * np.sin(2 * np.pi * freq * s + phase)
        py = top + length * s
        width0 = rng.uniform(6, 16)
        widths = width0 * (1 - 0.85 * s**1.5)
        _polyline(cv2, tex, px, py, widths, dark)
        if rng.random() < 0.5:  # a fork
            k = int(rng.integers(4, n_pts // 2))
            ang = rng.uniform(-1.0, 1.0)
            blen = rng.uniform(0.15, 0.35) * h
            bx = px[k] + np.sin(ang) * blen * s
            by = py[k] + np.cos(ang) * blen * s
            bw = widths[k] * 0.7 * (1 - 0.9 * s)
            _polyline(cv2, tex, bx, by, bw, dark)
    # short dashes and double stripes near the belly
    for _ in range(int(rng.integers(10, 20))):
        cx, cy = rng.uniform(0, w), rng.uniform(0.5, 0.9) * h
        axes = (int(rng.uniform(3, 8)), int(rng.uniform(10, 25)))
        cv2.ellipse(tex, (int(cx), int(cy)), axes, rng.uniform(-30, 30), 0, 360, dark, -1,
                    cv2.LINE_AA)


def _draw_rosettes(cv2, tex: np.ndarray, rng: np.random.Generator) -> None:
    h, w = _CANON
    dark = (25.0, 25.0, 30.0)
    centre_tone = np.array([35, 115, 175], np.float64)
    # jittered grid of rosette centres
    step = 44.0
    gy, gx = np.mgrid[step / 2:h:step * 0.87, step / 2:w:step]
    gx = gx + (np.arange(gx.shape[0])[:, None] % 2) * step / 2
    centres = np.c_[gx.ravel(), gy.ravel()] + rng.uniform(-14, 14, (gx.size, 2))
    keep = rng.random(len(centres)) < 0.85
    for cx, cy in centres[keep]:
        if cy > 0.75 * h:  # belly: solid spots
            r = rng.uniform(4, 9)
            cv2.ellipse(tex, (int(cx), int(cy)), (int(r), int(r * rng.uniform(0.6, 1.0))),
                        rng.uniform(0, 180), 0, 360, dark, -1, cv2.LINE_AA)
            continue
        radius = rng.uniform(9, 17)
        inner = centre_tone + rng.normal(0, 10, 3)
        cv2.ellipse(tex, (int(cx), int(cy)), (int(radius), int(radius * rng.uniform(0.7, 1.0))),
                    rng.uniform(0, 180), 0, 360, tuple(float(v) for v in inner), -1, cv2.LINE_AA)
        n_blobs = int(rng.integers(3, 7))
        start = rng.uniform(0, 2 * np.pi)
        gaps = rng.dirichlet(np.ones(n_blobs)) * 2 * np.pi
        ang = start + np.cumsum(gaps)
        for a in ang:
            bx, by = cx + radius * np.cos(a), cy + radius * np.sin(a)
            axes = (int(rng.uniform(3, 8)), int(rng.uniform(2, 5)))
            cv2.ellipse(tex, (int(bx), int(by)), axes, float(np.degrees(a) + 90), 0, 360, dark,
                        -1, cv2.LINE_AA)
        if rng.random() < 0.3:
            cv2.circle(tex, (int(cx), int(cy)), int(rng.uniform(2, 4)), dark, -1, cv2.LINE_AA)
    for _ in range(int(rng.integers(30, 60))):  # small solid spots between rosettes
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        cv2.circle(tex, (int(cx), int(cy)), int(rng.uniform(2, 5)), dark, -1, cv2.LINE_AA)


def _draw(spec: Any, rng: np.random.Generator, *, integer: bool = False) -> float:
    if isinstance(spec, tuple | list) and len(spec) == 2:
        lo, hi = spec
        if integer:
            return int(rng.integers(int(lo), int(hi) + 1))
        return float(rng.uniform(float(lo), float(hi)))
    return int(spec) if integer else float(spec)


def _draw_distortions(rng: np.random.Generator, distortions: dict | None) -> dict[str, Any]:
    spec = dict(FLANK_DISTORTIONS)
    if distortions:
        unknown = set(distortions) - set(spec)
        if unknown:
            raise ValueError(f"unknown distortion(s) {sorted(unknown)}; known: {sorted(spec)}")
        spec.update(distortions)
    ir = spec["infrared"]
    ir_u = float(rng.random())  # always drawn, so fixing one value keeps the others' stream
    infrared = bool(ir) if isinstance(ir, bool | np.bool_) else bool(ir_u < float(ir))
    return {
        "yaw_deg": _draw(spec["yaw_deg"], rng),
        "roll_deg": _draw(spec["roll_deg"], rng),
        "scale": _draw(spec["scale"], rng),
        "infrared": infrared,
        "blur_sigma": _draw(spec["blur_sigma"], rng),
        "occlusion": _draw(spec["occlusion"], rng),
        "jpeg_quality": _draw(spec["jpeg_quality"], rng, integer=True),
    }


def _homography(values: dict[str, Any], rng: np.random.Generator) -> np.ndarray:
    """Canonical texture pixels -> frame pixels for a planar flank seen by a pinhole camera."""
    h, w = _CANON
    k = _BASE_LENGTH_PX * values["scale"] / w
    yaw, roll = np.radians(values["yaw_deg"]), np.radians(values["roll_deg"])
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    plane = np.c_[(corners - [w / 2, h / 2]) * k, np.zeros(4)]
    ry = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    rz = np.array([[np.cos(roll), -np.sin(roll), 0], [np.sin(roll), np.cos(roll), 0], [0, 0, 1]])
    pts = plane @ (rz @ ry).T
    z = pts[:, 2] + _FOCAL_PX
    proj = _FOCAL_PX * pts[:, :2] / z[:, None]
    lo, hi = proj.min(0), proj.max(0)
    fh, fw = FRAME_SHAPE
    size = hi - lo
    margin = np.maximum(np.array([fw, fh]) - size, 0)
    offset = -lo + rng.uniform(0.1, 0.9, 2) * margin + np.minimum(np.array([fw, fh]) - size, 0) / 2
    dst = (proj + offset).astype(np.float32)
    cv2 = _cv2()
    return cv2.getPerspectiveTransform(corners.astype(np.float32), dst)


def _background(cv2, rng: np.random.Generator) -> np.ndarray:
    fh, fw = FRAME_SHAPE
    low = rng.uniform(0, 1, (6, 8, 1)) * np.array([60, 90, 70]) + np.array([30, 50, 40])
    # the smooth cubic field at a quarter of the size, then linear (same field, 4x cheaper)
    bg = cv2.resize(low.astype(np.float32), (fw // 4, fh // 4), interpolation=cv2.INTER_CUBIC)
    bg = cv2.resize(bg, (fw, fh), interpolation=cv2.INTER_LINEAR)
    mid = cv2.resize(rng.normal(0, 18, (48, 64)).astype(np.float32), (fw, fh),
                     interpolation=cv2.INTER_LINEAR)
    bg = bg + mid[:, :, None]
    n = int(rng.integers(30, 80))  # grass blades and twigs (drawn together, same laws)
    x0, y0 = rng.uniform(0, fw, n), rng.uniform(0, fh, n)
    ang, ln = rng.uniform(-2.6, -0.5, n), rng.uniform(20, 120, n)
    x1, y1 = x0 + ln * np.cos(ang), y0 + ln * np.sin(ang)
    tones = (rng.uniform(20, 150, (n, 3)) * [0.7, 1.0, 0.8]).tolist()
    thick = rng.integers(1, 4, n).tolist()
    p0 = np.c_[x0, y0].astype(np.int64).tolist()
    p1 = np.c_[x1, y1].astype(np.int64).tolist()
    line, aa = cv2.line, cv2.LINE_AA
    for i in range(n):
        line(bg, p0[i], p1[i], tones[i], thick[i], aa)
    return bg


def _occlude(cv2, frame: np.ndarray, bbox: tuple[int, int, int, int], fraction: float,
             rng: np.random.Generator) -> None:
    if fraction <= 0:
        return
    x, y, bw, bh = bbox
    tone = np.array(rng.uniform(25, 90, 3) * [0.6, 1.0, 0.7], np.float32)
    if rng.random() < 0.5:  # a tree trunk: vertical band
        width = max(1, int(round(fraction * bw)))
        x0 = x + int(rng.uniform(0, max(1, bw - width)))
        region = (slice(max(y - 20, 0), frame.shape[0]), slice(x0, x0 + width))
    else:  # tall grass from below: horizontal band
        height = max(1, int(round(fraction * bh)))
        region = (slice(y + bh - height, y + bh), slice(max(x - 20, 0), x + bw + 20))
    patch = frame[region]
    noise = rng.normal(0, 12, patch.shape[:2]).astype(np.float32)[:, :, None]
    patch[...] = tone + noise
    frame[region] = patch


def _gauss(cv2, rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    """Gaussian pixel noise N(0, sigma^2), float32, seeded from ``rng``.

    OpenCV's generator (per thread) is reseeded from ``rng`` on every call, so the noise
    depends only on ``rng`` (serial and threaded runs agree); it is about 3x faster than
    numpy for a 640 x 480 x 3 frame.
    """
    out = np.empty(shape, np.float32)
    cv2.setRNGSeed(int(rng.integers(0, 2**31 - 1)))
    flat = out.reshape(shape[0], -1)
    cv2.randn(flat, 0.0, float(sigma))
    return out


def _pattern_key(pattern_seed: int, species: str, side: str) -> tuple[int, str, str]:
    return int(pattern_seed), _norm_species(species), _norm_side(side)


@functools.lru_cache(maxsize=1)
def _mask_constants() -> tuple[np.ndarray, np.ndarray]:
    mask = _body_mask()
    mask.setflags(write=False)
    maskf = mask.astype(np.float32)
    maskf.setflags(write=False)
    return mask, maskf


@functools.lru_cache(maxsize=1)
def _vignette() -> np.ndarray:
    fh, fw = FRAME_SHAPE
    yy, xx = np.mgrid[0:fh, 0:fw].astype(np.float32)
    v = 1.0 - 0.45 * (((xx - fw / 2) / fw) ** 2 + ((yy - fh / 2) / fh) ** 2) * 2
    v = v.astype(np.float32)
    v.setflags(write=False)
    return v


@functools.lru_cache(maxsize=_PATTERN_CACHE)
def _cached_pattern(pattern_seed: int, species: str, side: str) -> np.ndarray:
    tex, _ = _render_pattern(pattern_seed, species, side)
    tex.setflags(write=False)
    return tex


def flank_pattern(pattern_seed: int, species: str, side: str) -> np.ndarray:
    """The canonical BGR texture of one animal side, computed once and cached (read-only).

    The cache keeps the :data:`_PATTERN_CACHE` most recent (seed, species, side) patterns;
    the simulator renders all photos of one animal-flank together, so each pattern is drawn
    once per study.
    """
    return _cached_pattern(*_pattern_key(pattern_seed, species, side))


def render_flank(
    pattern_seed: int,
    species: str,
    side: str,
    *,
    rng: np.random.Generator,
    distortions: dict | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Render one camera-trap photo of an animal's flank.

    Parameters
    ----------
    pattern_seed : int
        The animal's coat; with ``side`` it fixes the pattern (deterministic). The pattern is
        drawn once per (seed, species, side) and cached (:func:`flank_pattern`); only the
        photographic distortions are drawn per photo.
    species : {"tiger", "leopard"}
        Common or scientific name.
    side : {"left", "right"}
        The two flanks of one animal carry different patterns.
    rng : numpy.random.Generator
        Source of every random photographic choice (distortions, background, position).
    distortions : dict, optional
        Overrides of :data:`FLANK_DISTORTIONS` by key: a ``(low, high)`` pair changes the range,
        a scalar fixes the value (``infrared``: a bool fixes it, a float is the probability).

    Returns
    -------
    image : ndarray of uint8
        Shape (480, 640, 3) BGR, or (480, 640) grey for a night infrared photo.
    info : dict
        The values drawn (``yaw_deg``, ``roll_deg``, ``scale``, ``infrared``, ``blur_sigma``,
        ``occlusion``, ``jpeg_quality``), the inputs (``pattern_seed``, ``species``, ``side``)
        and the flank's bounding box: ``bbox`` (x, y, width, height in pixels) and the Camtrap DP
        ``bboxX``, ``bboxY``, ``bboxWidth``, ``bboxHeight`` (fractions of the frame).
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator (never the global random state)")
    cv2 = _cv2()
    pattern_seed, species, side = _pattern_key(pattern_seed, species, side)
    values = _draw_distortions(rng, distortions)
    texture = _cached_pattern(pattern_seed, species, side)
    _, maskf = _mask_constants()
    fh, fw = FRAME_SHAPE
    f32 = np.float32

    # per-photo lighting and fur noise on the coat
    gain = rng.uniform(0.75, 1.2)
    bias = rng.uniform(-15, 15)
    ch, cw = texture.shape[:2]
    coat = np.empty((ch, cw, 4), f32)  # coat and body mask, warped together in one pass
    np.multiply(texture, f32(gain), out=coat[:, :, :3], dtype=f32)
    coat[:, :, :3] += (_gauss(cv2, rng, (ch, cw), 5.0) + f32(bias))[:, :, None]
    coat[:, :, 3] = maskf
    H = _homography(values, rng)
    both = cv2.warpPerspective(coat, H, (fw, fh), flags=cv2.INTER_LINEAR)
    warped, alpha = both[:, :, :3], np.ascontiguousarray(both[:, :, 3])
    frame = _background(cv2, rng).astype(f32, copy=False)
    # blend only inside the flank's bounding rectangle (alpha is 0 elsewhere)
    bx, by, bw_, bh_ = cv2.boundingRect((alpha > 0).astype(np.uint8))
    if bw_ and bh_:
        sl = (slice(by, by + bh_), slice(bx, bx + bw_))
        a = alpha[sl][:, :, None]
        frame[sl] += (warped[sl] - frame[sl]) * a

    x0, y0, w0, h0 = cv2.boundingRect((alpha > 0.5).astype(np.uint8))
    if w0 and h0:
        bbox = (int(x0), int(y0), int(w0), int(h0))
    else:  # pragma: no cover - the flank is always placed inside the frame
        bbox = (0, 0, fw, fh)
    _occlude(cv2, frame, bbox, values["occlusion"], rng)

    if values["infrared"]:
        grey = cv2.transform(frame, np.array([[0.15, 0.25, 0.6]], f32))
        gain_ir = f32(rng.uniform(0.7, 1.1))
        frame = (grey * f32(0.8) + f32(60.0)) * (_vignette() * gain_ir)
        frame += _gauss(cv2, rng, frame.shape, 6.0)
    else:
        frame += _gauss(cv2, rng, frame.shape, 3.0)
    if values["blur_sigma"] > 0.05:
        frame = cv2.GaussianBlur(frame, (0, 0), values["blur_sigma"])
    image = np.clip(frame, 0, 255, out=frame).astype(np.uint8)

    info: dict[str, Any] = {
        "pattern_seed": int(pattern_seed), "species": species, "side": side, **values,
        "bbox": bbox,
        "bboxX": bbox[0] / fw, "bboxY": bbox[1] / fh,
        "bboxWidth": bbox[2] / fw, "bboxHeight": bbox[3] / fh,
    }
    return image, info


def exif_segment(datetime_original: str) -> bytes:
    """A minimal JPEG APP1 Exif segment holding only ``DateTimeOriginal`` (tag 0x9003).

    ``datetime_original`` is the camera clock's text, ``YYYY:MM:DD HH:MM:SS`` (a ``-`` date
    separator is accepted and converted).
    """
    text = str(datetime_original).strip()
    if len(text) != 19:
        raise ValueError(f"DateTimeOriginal must be 'YYYY:MM:DD HH:MM:SS', got {text!r}")
    value = (text[:10].replace("-", ":") + text[10:]).encode("ascii") + b"\0"  # 20 bytes
    # TIFF header (little endian) at 0, IFD0 at 8: one entry (ExifIFD pointer) -> Exif IFD
    # at 26: one entry (DateTimeOriginal, ASCII, 20 bytes at offset 44).
    tiff = b"II*\x00" + struct.pack("<I", 8)
    tiff += struct.pack("<H", 1) + struct.pack("<HHII", 0x8769, 4, 1, 26) + struct.pack("<I", 0)
    tiff += struct.pack("<H", 1) + struct.pack("<HHII", 0x9003, 2, 20, 44) + struct.pack("<I", 0)
    tiff += value
    payload = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def write_jpeg(path: str | Path, image: np.ndarray, quality: int, *,
               datetime_original: str | None = None) -> Path:
    """Write ``image`` (BGR or grey uint8) as a JPEG of the given quality (1-100).

    With ``datetime_original`` (the camera clock's ``YYYY:MM:DD HH:MM:SS``) an Exif APP1
    segment with that ``DateTimeOriginal`` is inserted after the JFIF header; the pixels are
    the same either way.
    """
    cv2 = _cv2()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover
        raise OSError(f"could not encode {path} as JPEG")
    data = buf.tobytes()
    if datetime_original is not None:
        # after SOI and, when present, the APP0 (JFIF) segment
        pos = 2
        if data[2:4] == b"\xff\xe0":
            pos = 4 + struct.unpack(">H", data[4:6])[0]
        data = data[:pos] + exif_segment(datetime_original) + data[pos:]
    path.write_bytes(data)
    return path


def jpeg_roundtrip(image: np.ndarray, quality: int) -> np.ndarray:
    """``image`` after JPEG compression at ``quality`` (what :func:`write_jpeg` stores)."""
    cv2 = _cv2()
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover
        raise OSError("could not encode image as JPEG")
    flag = cv2.IMREAD_GRAYSCALE if image.ndim == 2 else cv2.IMREAD_COLOR
    return cv2.imdecode(buf, flag)
