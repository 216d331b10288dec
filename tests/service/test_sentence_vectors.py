"""Sentence vectors and question vectors kept between calls, with the real embedder."""

from __future__ import annotations

import sqlite3

import numpy as np

from service.query_memo import QueryMemo
from service.sentence_vectors import SentenceVectors

SENTENCES = [
    "Bí thư Tỉnh ủy cũng lưu ý trong thực hiện nhiệm vụ, Công an phải hỗ trợ doanh nghiệp.",
    "Công tác an ninh ở cơ sở cần phải làm tốt hơn.",
    "Bí thư Tỉnh ủy cũng lưu ý trong thực hiện nhiệm vụ, Công an phải hỗ trợ doanh nghiệp.",
]


def test_sentence_vectors_are_the_models_and_survive_a_restart(embedder, tmp_path) -> None:
    path = tmp_path / "sentence_vectors.sqlite"
    expected = embedder.embed_passages(SENTENCES)
    store = SentenceVectors(embedder, path)
    np.testing.assert_allclose(store.embed_passages(SENTENCES), expected, atol=1e-6)
    store.close()
    with sqlite3.connect(path) as db:  # the repeated sentence is stored once
        assert db.execute("SELECT COUNT(*) FROM sentence_vectors").fetchone()[0] == 2
    reopened = SentenceVectors(embedder, path)
    np.testing.assert_allclose(reopened.embed_passages(SENTENCES[::-1]), expected[::-1], atol=1e-6)
    assert reopened.dimension == embedder.dimension  # everything else is the embedder's
    reopened.close()


def test_query_memo_returns_the_same_vector_and_passes_batches_through(embedder) -> None:
    memo = QueryMemo(embedder, size=1)
    question = "Bí thư Tỉnh ủy yêu cầu Công an tỉnh làm gì?"
    first = memo.embed_queries([question])
    again = memo.embed_queries([question])
    np.testing.assert_array_equal(first, again)
    again[0, 0] += 1.0  # a caller changing its copy does not change the memo
    np.testing.assert_array_equal(memo.embed_queries([question]), first)
    both = memo.embed_queries([question, "An ninh mạng"])
    np.testing.assert_allclose(both, embedder.embed_queries([question, "An ninh mạng"]), atol=1e-6)
