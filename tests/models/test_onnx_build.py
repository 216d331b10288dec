"""The ONNX builds: the eager-attention export and the build recipes."""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import pytest

from models.onnx_embedder import (
    BUILD_RECIPES,
    _export_fp32,
    _quantize_int8,
    backend_fingerprint,
    onnx_folder,
)

LAYERS = 2


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random 2-layer BERT (width 32, 4 heads) saved like a local checkpoint."""
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=300,
        hidden_size=32,
        num_hidden_layers=LAYERS,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    folder = tmp_path_factory.mktemp("tiny-bert")
    BertModel(config).save_pretrained(folder)
    return folder


def _ops(path: Path) -> collections.Counter:
    import onnx

    return collections.Counter(n.op_type for n in onnx.load(str(path)).graph.node)


def _embed(path: Path, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input_ids": ids, "attention_mask": mask})[0]


def test_eager_export_drops_the_softmax_guard_and_keeps_the_vectors(tiny_bert, tmp_path):
    sdpa, eager = tmp_path / "sdpa.onnx", tmp_path / "eager.onnx"
    _export_fp32(tiny_bert, sdpa)
    _export_fp32(tiny_bert, eager, eager_attention=True)
    # Torch's SDPA export guards each softmax with IsNaN/Where: nodes the eager graph lacks.
    assert _ops(sdpa)["IsNaN"] == LAYERS and _ops(eager)["IsNaN"] == 0
    assert sum(_ops(eager).values()) < sum(_ops(sdpa).values())

    rng = np.random.default_rng(0)
    ids = rng.integers(3, 300, (3, 12)).astype(np.int64)
    mask = np.ones_like(ids)
    mask[1, 7:] = 0  # right padding, as the embedder pads
    mask[2, 3:] = 0
    want = _embed(sdpa, ids, mask)
    np.testing.assert_allclose(_embed(eager, ids, mask), want, atol=1e-5)

    quantized = tmp_path / "eager-int8.onnx"
    _quantize_int8(eager, quantized)
    assert _ops(quantized)["MatMulInteger"] > 0
    assert np.min(np.sum(_embed(quantized, ids, mask) * want, axis=1)) > 0.95


def test_a_changed_recipe_gets_its_own_folder_and_fingerprint(tmp_path):
    import hashlib

    assert BUILD_RECIPES["onnx-int8"] == "eager" and BUILD_RECIPES["onnx"] == ""
    first_int8 = hashlib.sha256(b"abc:onnx-int8").hexdigest()[:16]  # before the recipe
    assert backend_fingerprint("abc", "onnx-int8") != first_int8
    # fp32 kept its first build, so indexes built with it stay valid.
    assert backend_fingerprint("abc", "onnx") == hashlib.sha256(b"abc:onnx").hexdigest()[:16]
    src = Path("m")
    assert onnx_folder(tmp_path, src, "abc", "onnx-int8").name == "m-abc-onnx-int8-eager"
    assert onnx_folder(tmp_path, src, "abc", "onnx").name == "m-abc-onnx"
