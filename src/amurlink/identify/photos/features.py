"""Flank chips and RootSIFT keypoints, for still images and frames sampled from videos."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "CHIP_LONG_SIDE",
    "MAX_KEYPOINTS",
    "FLANK_SIDES",
    "Features",
    "extract_features",
    "flank_chip",
    "check_image_size",
    "image_size",
    "load_image",
    "normalise_side",
    "video_frames",
]

#: Long side of every flank chip, pixels (crops are resized to it, up or down).
CHIP_LONG_SIDE = 640
#: Keypoints kept per image (the strongest SIFT responses).
MAX_KEYPOINTS = 300
#: The flank side is part of the identity key.
FLANK_SIDES: tuple[str, ...] = ("left", "right", "unknown")
_VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv"}


def cv2_module():
    """Import OpenCV or explain how to install it."""
    try:
        import cv2
    except ImportError as exc:  # pragma: no cover - environment dependent
        raise ImportError("photo identification needs OpenCV: "
                          "pip install opencv-python-headless") from exc
    return cv2


def normalise_side(side: Any) -> str:
    """``"left"``, ``"right"`` or ``"unknown"`` from common spellings (L, R, None, ...)."""
    if side is None or (isinstance(side, float) and np.isnan(side)):
        return "unknown"
    key = str(side).strip().lower()
    mapping = {"l": "left", "left": "left", "r": "right", "right": "right",
               "": "unknown", "u": "unknown", "unknown": "unknown", "nan": "unknown",
               "none": "unknown"}
    if key not in mapping:
        raise ValueError(f"unknown flank side {side!r}; expected left, right or unknown")
    return mapping[key]


@dataclass(frozen=True)
class Features:
    """RootSIFT keypoints of one flank chip.

    Attributes
    ----------
    xy : ndarray of float32, shape (n, 2)
        Keypoint positions in chip pixels.
    size, angle : ndarray of float32, shape (n,)
        SIFT scale (pixels) and orientation (degrees).
    descriptors : ndarray of float32, shape (n, 128)
        RootSIFT descriptors (L1-normalised SIFT, square-rooted; unit L2 norm).
    chip_shape : tuple of int
        (height, width) of the chip.
    crop : tuple of int
        (x, y, width, height) of the crop in the source image, pixels.
    """

    xy: np.ndarray
    size: np.ndarray
    angle: np.ndarray
    descriptors: np.ndarray
    chip_shape: tuple[int, int]
    crop: tuple[int, int, int, int]
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def __len__(self) -> int:
        return int(self.descriptors.shape[0])

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"xy": self.xy, "size": self.size, "angle": self.angle,
                "descriptors": self.descriptors,
                "chip_shape": np.asarray(self.chip_shape, np.int32),
                "crop": np.asarray(self.crop, np.int32)}

    @classmethod
    def from_arrays(cls, arrays: Any) -> Features:
        return cls(xy=np.asarray(arrays["xy"], np.float32),
                   size=np.asarray(arrays["size"], np.float32),
                   angle=np.asarray(arrays["angle"], np.float32),
                   descriptors=np.asarray(arrays["descriptors"], np.float32),
                   chip_shape=tuple(int(v) for v in arrays["chip_shape"]),
                   crop=tuple(int(v) for v in arrays["crop"]))

    def equals(self, other: Features) -> bool:
        """Same keypoints and descriptors (exact)."""
        a, b = self.to_arrays(), other.to_arrays()
        return all(np.array_equal(a[k], b[k]) for k in a)


#: Largest image decoded, in pixels (camera traps take 3-40 megapixels).
MAX_IMAGE_PIXELS = 100_000_000
#: Largest side of an image decoded, in pixels.
MAX_IMAGE_SIDE = 30_000


def image_size(path: str | Path) -> tuple[int, int] | None:
    """``(width, height)`` from the header of a PNG, JPEG, GIF, BMP or WebP file.

    Reads at most 1 MiB and decodes nothing; None when the format is not recognised.
    """
    import struct

    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    try:
        if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
            return struct.unpack(">II", head[16:24])
        if head[:6] in (b"GIF87a", b"GIF89a"):
            return struct.unpack("<HH", head[6:10])
        if head[:2] == b"BM":
            w, h = struct.unpack("<ii", head[18:26])
            return abs(w), abs(h)
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            kind = head[12:16]
            if kind == b"VP8X":
                w = int.from_bytes(head[24:27], "little") + 1
                h = int.from_bytes(head[27:30], "little") + 1
                return w, h
            if kind == b"VP8 ":
                w, h = struct.unpack("<HH", head[26:30])
                return w & 0x3FFF, h & 0x3FFF
            if kind == b"VP8L":
                b = int.from_bytes(head[21:25], "little")
                return (b & 0x3FFF) + 1, ((b >> 14) & 0x3FFF) + 1
        if head[:2] == b"\xff\xd8":
            i = 2
            while i + 9 < len(head):
                if head[i] != 0xFF:
                    i += 1
                    continue
                marker = head[i + 1]
                if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
                    i += 1 if marker == 0xFF else 2
                    continue
                length = struct.unpack(">H", head[i + 2:i + 4])[0]
                if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD,
                              0xCE, 0xCF):
                    h, w = struct.unpack(">HH", head[i + 5:i + 9])
                    return w, h
                i += 2 + length
    except struct.error:
        return None
    return None


def check_image_size(path: str | Path) -> None:
    """Refuse an image whose header promises more pixels than amurlink decodes.

    Raises
    ------
    DataError
        Naming the file, its size and the limit (a decompression bomb or a scan, not a
        camera-trap photo).
    """
    from amurlink.exceptions import DataError

    size = image_size(path)
    if size is None:
        return
    w, h = size
    if w > MAX_IMAGE_SIDE or h > MAX_IMAGE_SIDE or w * h > MAX_IMAGE_PIXELS:
        raise DataError(
            f"{Path(path).name}: the image is {w} x {h} pixels, more than amurlink decodes "
            f"({MAX_IMAGE_PIXELS // 1_000_000} megapixels, {MAX_IMAGE_SIDE} per side; a "
            "decompression bomb?); resize it or leave it out")


def load_image(path: str | Path, *, frame: int | None = None) -> np.ndarray:
    """Read an image (BGR or grey uint8), or frame ``frame`` of a video file.

    The header's size is checked before decoding (:func:`check_image_size`).

    Raises
    ------
    DataError
        If the header promises more pixels than amurlink decodes.
    OSError
        If the file cannot be read or decoded.
    """
    cv2 = cv2_module()
    path = Path(path)
    if path.suffix.lower() in _VIDEO_SUFFIXES or frame is not None:
        frames = _read_frames(path, [0 if frame is None else int(frame)])
        if not frames:
            raise OSError(f"could not read frame {frame} of {path.name}")
        return frames[0]
    try:
        check_image_size(path)
    except OSError as exc:
        raise OSError(f"could not read image {path.name} ({exc.strerror or exc})") from None
    log = getattr(getattr(cv2, "utils", None), "logging", None)
    level = log.getLogLevel() if log is not None else None
    try:
        if log is not None:  # OpenCV's own log would print the full path of a broken file
            log.setLogLevel(log.LOG_LEVEL_SILENT)
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:  # e.g. a format whose size we could not check beforehand
        raise OSError(f"could not decode image {path.name} "
                      f"({str(exc).strip().splitlines()[-1][:120]})") from None
    finally:
        if log is not None and level is not None:
            log.setLogLevel(level)
    if image is None:
        raise OSError(f"could not read image {path.name}")
    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.dtype != np.uint8:
        image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    return image


def video_frames(path: str | Path, *, n_frames: int = 5) -> list[int]:
    """Indices of ``n_frames`` frames spread evenly over a video (first and last excluded)."""
    cv2 = cv2_module()
    cap = cv2.VideoCapture(str(path))
    try:
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        cap.release()
    if total <= 0:
        raise OSError(f"could not read video {path}")
    n = min(int(n_frames), total)
    return sorted({int(round(v)) for v in np.linspace(0, total - 1, n + 2)[1:-1]}) or [0]


def _read_frames(path: Path, indices: list[int]) -> list[np.ndarray]:
    cv2 = cv2_module()
    cap = cv2.VideoCapture(str(path))
    out = []
    try:
        for idx in indices:
            cap.set(cv2.CAP_PROP_POS_FRAMES, idx)
            ok, frame = cap.read()
            if ok:
                out.append(frame)
    finally:
        cap.release()
    return out


def flank_chip(
    image: np.ndarray,
    bbox: tuple[float, float, float, float] | None = None,
    *,
    long_side: int = CHIP_LONG_SIDE,
    margin: float = 0.05,
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Crop the flank, convert to grey and normalise contrast (CLAHE), resize.

    Parameters
    ----------
    image : ndarray of uint8
        BGR or grey image; night infrared photos are grey already.
    bbox : (x, y, width, height), optional
        Flank box as Camtrap DP fractions of the frame (all values at most 1) or in pixels;
        default the whole image.
    long_side : int
        Long side of the chip.
    margin : float
        Fraction of the box added on every side before cropping.

    Returns
    -------
    chip : ndarray of uint8, 2-D
    crop : (x, y, width, height) in source pixels
    """
    cv2 = cv2_module()
    h, w = image.shape[:2]
    if bbox is None or any(v is None or (isinstance(v, float) and np.isnan(v)) for v in bbox):
        x0, y0, x1, y1 = 0, 0, w, h
    else:
        bx, by, bw, bh = (float(v) for v in bbox)
        if max(bx, by, bw, bh) <= 1.0:
            bx, bw, by, bh = bx * w, bw * w, by * h, bh * h
        mx, my = margin * bw, margin * bh
        x0, y0 = int(max(0, np.floor(bx - mx))), int(max(0, np.floor(by - my)))
        x1, y1 = int(min(w, np.ceil(bx + bw + mx))), int(min(h, np.ceil(by + bh + my)))
        if x1 - x0 < 8 or y1 - y0 < 8:
            x0, y0, x1, y1 = 0, 0, w, h
    crop = image[y0:y1, x0:x1]
    grey = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    # Contrast normalisation: a global stretch (robust percentiles) then CLAHE. It makes
    # colour and night infrared photos of one flank look alike in grey.
    lo, hi = np.percentile(grey, [1, 99])
    if hi - lo > 1:
        grey = np.clip((grey.astype(np.float32) - lo) * (255.0 / (hi - lo)), 0, 255)
        grey = grey.astype(np.uint8)
    factor = long_side / max(grey.shape)
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    chip = cv2.resize(grey, None, fx=factor, fy=factor, interpolation=interp)
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    chip = clahe.apply(chip)
    return chip, (x0, y0, x1 - x0, y1 - y0)


def rootsift(descriptors: np.ndarray) -> np.ndarray:
    """RootSIFT: L1-normalise each SIFT vector, then take the square root."""
    d = np.asarray(descriptors, np.float32)
    d = d / (np.abs(d).sum(axis=1, keepdims=True) + 1e-7)
    return np.sqrt(d).astype(np.float32)


def extract_features(
    image: np.ndarray | str | Path,
    bbox: tuple[float, float, float, float] | None = None,
    *,
    max_keypoints: int = MAX_KEYPOINTS,
    frame: int | None = None,
    long_side: int = CHIP_LONG_SIDE,
) -> Features:
    """RootSIFT keypoints of one flank (the strongest ``max_keypoints``).

    Parameters
    ----------
    image : ndarray or path
        The photo (BGR or grey) or its file; for a video, ``frame`` picks the frame.
    bbox : (x, y, width, height), optional
        The observation's bounding box (Camtrap DP fractions or pixels); default whole image.
    max_keypoints : int
        Cap on keypoints per image.
    frame : int, optional
        Frame index of a video file.
    long_side : int
        Long side of the flank chip, pixels (:data:`CHIP_LONG_SIDE` for every store and
        accuracy figure; the demo's fast catalogue linking uses a smaller chip).

    Returns
    -------
    Features
    """
    cv2 = cv2_module()
    if not isinstance(image, np.ndarray):
        image = load_image(image, frame=frame)
    chip, crop = flank_chip(image, bbox, long_side=int(long_side))
    sift = cv2.SIFT_create(nfeatures=int(max_keypoints))
    kps, desc = sift.detectAndCompute(chip, None)
    if desc is None or not kps:
        desc = np.zeros((0, 128), np.float32)
        kps = []
    if len(kps) > max_keypoints:  # SIFT may return a few more (ties, orientations)
        order = np.argsort([-k.response for k in kps], kind="stable")[:max_keypoints]
        kps = [kps[i] for i in order]
        desc = desc[order]
    return Features(
        xy=np.array([k.pt for k in kps], np.float32).reshape(-1, 2),
        size=np.array([k.size for k in kps], np.float32),
        angle=np.array([k.angle for k in kps], np.float32),
        descriptors=rootsift(desc).reshape(-1, 128),
        chip_shape=(int(chip.shape[0]), int(chip.shape[1])),
        crop=crop,
    )
