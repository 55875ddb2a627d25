"""ONNX embedding plug-in, tested with a tiny model the test builds."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from amurlink.identify.photos.embeddings import OnnxEmbedder, cosine_scores  # noqa: E402


@pytest.fixture
def tiny_model(tmp_path):
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 32, 32])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 12])
    nodes = [
        helper.make_node("AveragePool", ["x"], ["p"], kernel_shape=[16, 16], strides=[16, 16]),
        helper.make_node("Flatten", ["p"], ["y"], axis=1),
    ]
    graph = helper.make_graph(nodes, "tiny", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path = tmp_path / "tiny.onnx"
    onnx.save(model, str(path))
    return path


def test_embed_normalised_and_deterministic(tiny_model):
    emb = OnnxEmbedder(tiny_model, input_size=(32, 32))
    rng = np.random.default_rng(0)
    imgs = [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(3)]
    imgs.append(rng.integers(0, 255, (48, 64), dtype=np.uint8))  # grey (infrared)
    e = emb.embed(imgs)
    assert e.shape == (4, 12)
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(emb.embed(imgs[:1]), e[:1], atol=1e-6)
    s = cosine_scores(e, e)
    np.testing.assert_allclose(np.diag(s), 1.0, atol=1e-5)


def test_local_file_only(tmp_path):
    with pytest.raises(ValueError, match="URL"):
        OnnxEmbedder("https://huggingface.co/some/model.onnx")
    with pytest.raises(FileNotFoundError, match="local file"):
        OnnxEmbedder(tmp_path / "missing.onnx")
