"""Descriptor index (faiss), LNBNN candidate scoring, RANSAC verification and calibration.

Index: one faiss index per flank side over the gallery's RootSIFT descriptors.
``faiss.IndexIVFFlat`` with ``nlist = 1024`` inverted lists (coarse k-means quantizer,
trained once on up to 100,000 gallery descriptors, fixed seed) searched with ``nprobe = 8``.
Galleries with fewer than ``39 * nlist`` descriptors (too few to train the quantizer) use the
exact ``faiss.IndexFlatL2``; every accuracy and speed figure in ``docs/photos.md`` comes from
the IVF index.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from amurlink.identify.photos.features import Features, cv2_module

__all__ = [
    "Calibration",
    "DEFAULT_CALIBRATION",
    "IndexParams",
    "DescriptorIndex",
    "lnbnn_scores",
    "single_threaded",
    "verify_pair",
]


def faiss_module():
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - environment dependent
        raise ImportError("photo identification needs faiss: pip install faiss-cpu") from exc
    return faiss


@dataclass(frozen=True)
class IndexParams:
    """Parameters of the descriptor index and of the ranking (stated for every figure)."""

    nlist: int = 1024
    nprobe: int = 8
    train_size: int = 100_000
    knn: int = 5  # K neighbours vote; neighbour K+1 normalises (LNBNN)
    shortlist: int = 20  # images re-ranked by RANSAC
    ratio: float = 0.8  # Lowe ratio test before RANSAC
    ransac_px: float = 8.0  # USAC_MAGSAC reprojection threshold, chip pixels (640 long side)
    min_inliers: int = 4
    max_scale: float = 2.0  # plausible linear scale change between two chips
    max_rotation_deg: float = 30.0  # plausible in-plane rotation between two chips

    @property
    def min_train(self) -> int:
        return 39 * self.nlist


class DescriptorIndex:
    """faiss index over many images' descriptors, with the descriptor -> image map.

    Built with :meth:`build` (trains the IVF quantizer when there are enough descriptors),
    extended with :meth:`add` (no retraining), saved with :meth:`to_bytes`.
    """

    def __init__(self, index: Any, image_of: np.ndarray, keys: list[str],
                 params: IndexParams) -> None:
        self.index = index
        self.image_of = np.asarray(image_of, np.int64)
        self.keys = list(keys)
        self.params = params

    @property
    def kind(self) -> str:
        return "IVFFlat" if "IVF" in type(self.index).__name__ else "FlatL2"

    @classmethod
    def empty_trained(cls, sample: np.ndarray, params: IndexParams) -> Any:
        """An empty index: IVF-Flat trained on ``sample`` when large enough, else flat L2."""
        faiss = faiss_module()
        d = 128
        if len(sample) >= params.min_train:
            quantizer = faiss.IndexFlatL2(d)
            index = faiss.IndexIVFFlat(quantizer, d, params.nlist, faiss.METRIC_L2)
            index.cp.seed = 1234
            index.train(np.ascontiguousarray(sample, np.float32))
            index.nprobe = params.nprobe
            return index
        return faiss.IndexFlatL2(d)

    @classmethod
    def build(cls, features: list[Features], keys: list[str], params: IndexParams,
              *, template: Any = None) -> DescriptorIndex:
        """Index every image's descriptors (``template``: an empty trained index to copy)."""
        faiss = faiss_module()
        if template is None:
            sample = sample_descriptors(features, params.train_size)
            template = cls.empty_trained(sample, params)
        index = faiss.clone_index(template)
        if hasattr(index, "nprobe"):
            index.nprobe = params.nprobe
        out = cls(index, np.zeros(0, np.int64), [], params)
        out.add(features, keys)
        return out

    def add(self, features: list[Features], keys: list[str]) -> None:
        """Append images (their descriptors) to the index; the quantizer is not retrained."""
        if not features:
            return
        start = len(self.keys)
        owners = np.concatenate([np.full(len(f), start + i, np.int64)
                                 for i, f in enumerate(features)])
        desc = np.concatenate([f.descriptors for f in features]).astype(np.float32)
        if len(desc):
            self.index.add(np.ascontiguousarray(desc))
        self.image_of = np.concatenate([self.image_of, owners])
        self.keys.extend(keys)

    def search(self, descriptors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Squared L2 distances and image positions of the ``k`` nearest descriptors."""
        if self.index.ntotal == 0 or len(descriptors) == 0:
            return (np.zeros((len(descriptors), 0), np.float32),
                    np.zeros((len(descriptors), 0), np.int64))
        dist, ids = self.index.search(np.ascontiguousarray(descriptors, np.float32), int(k))
        img = np.where(ids >= 0, self.image_of[np.clip(ids, 0, None)], -1)
        return dist, img

    def to_bytes(self) -> dict[str, np.ndarray]:
        faiss = faiss_module()
        return {"index": faiss.serialize_index(self.index),
                "image_of": self.image_of, "keys": np.asarray(self.keys, dtype=object)}

    @classmethod
    def from_bytes(cls, data: Any, params: IndexParams) -> DescriptorIndex:
        faiss = faiss_module()
        index = faiss.deserialize_index(np.asarray(data["index"], np.uint8))
        if hasattr(index, "nprobe"):
            index.nprobe = params.nprobe
        return cls(index, data["image_of"], [str(k) for k in data["keys"]], params)


def sample_descriptors(features: list[Features], n: int, *, seed: int = 0) -> np.ndarray:
    """Up to ``n`` descriptors drawn evenly (fixed seed) from all images, for training."""
    desc = [f.descriptors for f in features if len(f)]
    if not desc:
        return np.zeros((0, 128), np.float32)
    allx = np.concatenate(desc)
    if len(allx) <= n:
        return allx
    pick = np.random.default_rng(seed).choice(len(allx), size=n, replace=False)
    return allx[np.sort(pick)]


def lnbnn_scores(dist2: np.ndarray, img: np.ndarray, n_images: int, k: int) -> np.ndarray:
    """HotSpotter's LNBNN vote of every gallery image.

    Each query descriptor's ``k`` nearest neighbours vote for their image with weight
    ``d_norm - d_i`` (distances, not squared), where ``d_norm`` is the distance to neighbour
    ``k + 1``; an image gets at most one vote (the largest) per query descriptor.
    """
    scores = np.zeros(n_images, np.float64)
    if dist2.size == 0 or dist2.shape[1] < 2:
        return scores
    d = np.sqrt(np.maximum(dist2, 0))
    kk = min(k, d.shape[1] - 1)
    norm = d[:, kk][:, None]
    w = np.maximum(norm - d[:, :kk], 0.0)
    owner = img[:, :kk]
    q = np.repeat(np.arange(len(d)), kk)
    owner, w = owner.ravel(), w.ravel()
    ok = owner >= 0
    q, owner, w = q[ok], owner[ok], w[ok]
    order = np.lexsort((-w, owner, q))  # per (query, image): the largest vote first
    q, owner, w = q[order], owner[order], w[order]
    first = np.ones(len(q), bool)
    first[1:] = (q[1:] != q[:-1]) | (owner[1:] != owner[:-1])
    np.add.at(scores, owner[first], w[first])
    return scores


def match_pair(a: Features, b: Features, *, ratio: float) -> np.ndarray:
    """Ratio-test matches ``(i_a, i_b)`` between two descriptor sets (Lowe's test, L2)."""
    if len(a) < 2 or len(b) < 2:
        return np.zeros((0, 2), np.int64)
    # RootSIFT vectors have unit L2 norm: squared distance = 2 - 2 cos.
    sim = a.descriptors @ b.descriptors.T
    two = np.argpartition(-sim, 1, axis=1)[:, :2]
    s2 = np.take_along_axis(sim, two, axis=1)
    order = np.argsort(-s2, axis=1)
    two = np.take_along_axis(two, order, axis=1)
    s2 = np.take_along_axis(s2, order, axis=1)
    d = np.sqrt(np.maximum(2.0 - 2.0 * s2, 0.0))
    ok = d[:, 0] < ratio * d[:, 1]
    return np.c_[np.nonzero(ok)[0], two[ok, 0]].astype(np.int64).reshape(-1, 2)


def verify_pair(a: Features, b: Features, params: IndexParams) -> tuple[int, np.ndarray]:
    """RANSAC (USAC_MAGSAC homography) inliers between two flanks.

    Returns
    -------
    n_inliers : int
    inlier_pairs : ndarray of int, shape (n_inliers, 2)
        Keypoint indices ``(i_a, i_b)`` of the inlier matches.
    """
    pairs = match_pair(a, b, ratio=params.ratio)
    if len(pairs) < max(params.min_inliers, 4):
        return 0, np.zeros((0, 2), np.int64)
    cv2 = cv2_module()
    src = a.xy[pairs[:, 0]].reshape(-1, 1, 2)
    dst = b.xy[pairs[:, 1]].reshape(-1, 1, 2)
    try:
        hom, mask = cv2.findHomography(src, dst, cv2.USAC_MAGSAC, params.ransac_px,
                                     maxIters=2000, confidence=0.999)
    except cv2.error:  # pragma: no cover - degenerate configurations
        mask = None
    if mask is None or hom is None or not plausible_homography(hom, params):
        return 0, np.zeros((0, 2), np.int64)
    keep = mask.ravel().astype(bool)
    n = int(keep.sum())
    if n < params.min_inliers:
        return 0, np.zeros((0, 2), np.int64)
    return n, pairs[keep]


def plausible_homography(hom: np.ndarray, params: IndexParams) -> bool:
    """Reject warps no camera-trap pair of flank chips can have.

    Both chips are scaled to the same long side, so the area ratio stays near 1 (within
    ``max_scale`` squared) and the in-plane rotation is small (``max_rotation_deg``); a
    mirror (negative determinant) is never a match, since the two flanks differ.
    """
    h = np.asarray(hom, np.float64)
    if not np.all(np.isfinite(h)) or abs(h[2, 2]) < 1e-12:
        return False
    h = h / h[2, 2]
    det = float(np.linalg.det(h[:2, :2]))
    if det <= 0:
        return False
    s = params.max_scale
    if not (1.0 / s**2 <= det <= s**2):
        return False
    angle = np.degrees(np.arctan2(h[1, 0] - h[0, 1], h[0, 0] + h[1, 1]))
    return bool(abs(angle) <= params.max_rotation_deg)


@dataclass(frozen=True)
class Calibration:
    """Logistic map from RANSAC inliers to P(same flank): ``1 / (1 + exp(-(a + b log1p(n))))``.

    ``new_threshold``: a query whose best candidate has a probability below it is a new
    individual. ``link_threshold``: the least probability of a proposed link.
    """

    a: float = -9.0
    b: float = 3.0
    new_threshold: float = 0.5
    link_threshold: float = 0.5

    def probability(self, inliers: Any) -> np.ndarray:
        x = np.log1p(np.asarray(inliers, np.float64))
        return 1.0 / (1.0 + np.exp(-(self.a + self.b * x)))

    def to_dict(self) -> dict[str, float]:
        return {"a": self.a, "b": self.b, "new_threshold": self.new_threshold,
                "link_threshold": self.link_threshold}

    @classmethod
    def fit(cls, inliers: np.ndarray, same: np.ndarray, **thresholds: float) -> Calibration:
        """Fit ``a`` and ``b`` by logistic regression (Newton, light ridge) on labelled pairs."""
        x = np.log1p(np.asarray(inliers, np.float64))
        y = np.asarray(same, np.float64)
        X = np.c_[np.ones_like(x), x]
        beta = np.zeros(2)
        for _ in range(50):
            p = 1 / (1 + np.exp(-(X @ beta)))
            grad = X.T @ (p - y) + 1e-3 * beta
            hess = (X * (p * (1 - p))[:, None]).T @ X + 1e-3 * np.eye(2)
            step = np.linalg.solve(hess, grad)
            beta -= step
            if np.abs(step).max() < 1e-8:
                break
        return cls(a=float(beta[0]), b=float(beta[1]), **thresholds)


#: Calibration fitted on the tuning seed (``neaspec`` seed 1, 300 keypoints, docs/photos.md):
#: P = 0.5 at about 11.4 inliers.
DEFAULT_CALIBRATION = Calibration(a=-9.631, b=3.821)


def auroc(scores_pos: np.ndarray, scores_neg: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half)."""
    pos, neg = np.asarray(scores_pos, float), np.asarray(scores_neg, float)
    if len(pos) == 0 or len(neg) == 0:
        return math.nan
    allv = np.r_[pos, neg]
    order = allv.argsort(kind="mergesort")
    ranks = np.empty(len(allv))
    sorted_v = allv[order]
    i = 0
    while i < len(allv):
        j = i
        while j + 1 < len(allv) and sorted_v[j + 1] == sorted_v[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    r_pos = ranks[: len(pos)].sum()
    return float((r_pos - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def _openblas_handles() -> list[tuple[Any, Any]]:
    """(set, get) thread-count functions of every OpenBLAS loaded in this process."""
    import ctypes

    try:
        with open("/proc/self/maps", encoding="utf-8") as fh:
            paths = sorted({line.split()[-1] for line in fh if "openblas" in line.lower()
                            and line.split()[-1].startswith("/")})
    except OSError:  # not Linux: leave the libraries' own settings
        return []
    out = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("openblas", "scipy_openblas"):
            for suffix in ("", "64_"):
                setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                getter = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                if setter is not None and getter is not None:
                    out.append((setter, getter))
                    break
            else:
                continue
            break
    return out


@contextmanager
def single_threaded() -> Iterator[None]:
    """Run OpenCV, faiss (OpenMP) and every loaded OpenBLAS on one thread, then restore.

    On a small shared machine the libraries' default thread pools spin against each other
    and against other processes: a 150 x 150 descriptor product took 15 ms with two BLAS
    threads under load and 0.1 ms on one. Every speed figure of ``docs/photos.md`` is
    measured inside this context.
    """
    cv2 = cv2_module()
    faiss = faiss_module()
    cv2_before = cv2.getNumThreads()
    omp_before = faiss.omp_get_max_threads()
    blas = _openblas_handles()
    blas_before = [int(get()) for _, get in blas]
    cv2.setNumThreads(1)
    faiss.omp_set_num_threads(1)
    for setter, _ in blas:
        setter(1)
    try:
        yield
    finally:
        cv2.setNumThreads(cv2_before)
        faiss.omp_set_num_threads(omp_before)
        for (setter, _), n in zip(blas, blas_before, strict=True):
            setter(max(1, n))
