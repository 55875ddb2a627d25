"""Optional deep embeddings: an ONNX model from a local file, run with onnxruntime.

Nothing is downloaded: the user gives the path of a model they are allowed to use (for example
an exported MegaDescriptor or MiewID). The model takes one float32 input of shape
(batch, 3, height, width) (RGB, values scaled to [0, 1] then normalised with ``mean`` and
``std``) and returns one embedding per image; embeddings are L2-normalised.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from amurlink.identify.photos.features import cv2_module, load_image

__all__ = ["OnnxEmbedder", "cosine_scores"]


class OnnxEmbedder:
    """Global flank embeddings from a local ONNX file.

    Parameters
    ----------
    model_path : path_like
        Local ``.onnx`` file. Never a hub name or URL.
    input_size : (height, width)
        Size the flank crop is resized to.
    mean, std : sequence of 3 floats
        Per-channel normalisation (RGB) after scaling to [0, 1].
    """

    def __init__(self, model_path: str | Path, /, *, input_size: tuple[int, int] = (224, 224),
                 mean: tuple[float, float, float] = (0.485, 0.456, 0.406),
                 std: tuple[float, float, float] = (0.229, 0.224, 0.225)) -> None:
        text = str(model_path)
        if "://" in text:
            raise ValueError(f"{text!r} looks like a URL: give the path of a local .onnx file "
                             "(amurlink never downloads models)")
        path = Path(model_path)
        if not path.is_file():
            raise FileNotFoundError(f"ONNX model {path} not found (a local file is required)")
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - environment dependent
            raise ImportError("deep embeddings need onnxruntime: pip install onnxruntime") \
                from exc
        self.model_path = path
        self.input_size = tuple(int(v) for v in input_size)
        self.mean = np.asarray(mean, np.float32).reshape(1, 3, 1, 1)
        self.std = np.asarray(std, np.float32).reshape(1, 3, 1, 1)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        self._session = ort.InferenceSession(str(path), sess_options=opts,
                                             providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name

    def __repr__(self) -> str:
        return f"OnnxEmbedder({str(self.model_path)!r}, input_size={self.input_size})"

    def _prepare(self, image: Any, bbox: Any) -> np.ndarray:
        cv2 = cv2_module()
        img = load_image(image) if not isinstance(image, np.ndarray) else image
        if img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        h, w = img.shape[:2]
        if bbox is not None:
            bx, by, bw, bh = (float(v) for v in bbox)
            if max(bx, by, bw, bh) <= 1.0:
                bx, bw, by, bh = bx * w, bw * w, by * h, bh * h
            img = img[int(by):int(np.ceil(by + bh)), int(bx):int(np.ceil(bx + bw))]
        img = cv2.resize(img, self.input_size[::-1], interpolation=cv2.INTER_AREA)
        rgb = img[:, :, ::-1].astype(np.float32) / 255.0
        return rgb.transpose(2, 0, 1)[None]

    def embed(self, images: list[Any], /, *, bboxes: list[Any] | None = None) -> np.ndarray:
        """L2-normalised embeddings, one row per image (array or path)."""
        boxes = [None] * len(images) if bboxes is None else list(bboxes)
        if not images:
            return np.zeros((0, 0), np.float32)
        batch = np.concatenate([self._prepare(im, b) for im, b in zip(images, boxes,
                                                                      strict=True)])
        batch = (batch - self.mean) / self.std
        out = self._session.run(None, {self._input: batch.astype(np.float32)})[0]
        out = np.asarray(out, np.float32).reshape(len(images), -1)
        return out / (np.linalg.norm(out, axis=1, keepdims=True) + 1e-12)


def cosine_scores(query: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    """Cosine similarity of L2-normalised embeddings: (n_query, n_gallery)."""
    return np.asarray(query, np.float32) @ np.asarray(gallery, np.float32).T
