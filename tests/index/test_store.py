import sqlite3

import pytest

from index.store import ArticleStore, NewArticle, NewChunk


def _article(aid: str, n: int, source: str = "s", date: str = "2025-01-01") -> NewArticle:
    text = " ".join(f"câu {i}." for i in range(n))
    chunks = [NewChunk(i, 0, 5, text[:5]) for i in range(n)]
    return NewArticle(aid, f"T {aid}", text, date, source, None, None, chunks)


def test_replace_reports_removed_ids_and_never_reuses_ids(tmp_path):
    store = ArticleStore(tmp_path / "s.db")
    ids, removed, replaced = store.replace_articles([_article("a", 2), _article("b", 1)])
    assert removed == [] and replaced == [False, False]
    first = ids[0]
    ids2, removed2, replaced2 = store.replace_articles([_article("a", 3)])
    assert sorted(removed2) == sorted(first) and replaced2 == [True]
    assert not set(ids2[0]) & set(first)
    assert store.counts() == (2, 4)
    assert store.delete_article("b") is not None
    assert store.delete_article("b") is None
    store.replace_articles([_article("c", 1)])
    assert max(c.id for c in store.all_chunks()) > max(ids2[0])
    store.close()


def test_failed_transaction_rolls_back(tmp_path):
    store = ArticleStore(tmp_path / "s.db")
    store.replace_articles([_article("a", 1)])
    bad = NewArticle("b", None, None, None, None, None, None, [])  # text NOT NULL
    with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
        store.replace_articles([_article("c", 1), bad])
    assert store.counts() == (1, 1)
    assert store.get_article("c") is None
    store.close()


def test_filters_and_paging(tmp_path):
    store = ArticleStore(tmp_path / "s.db")
    store.replace_articles(
        [
            _article("a", 1, "x", "2025-01-01"),
            _article("b", 2, "y", "2025-06-01"),
            _article("c", 1, "x", "2024-01-01"),
        ]
    )
    assert len(store.chunk_ids_matching(sources=["x"])) == 2
    assert len(store.chunk_ids_matching(date_from="2025-01-01")) == 3
    assert len(store.chunk_ids_matching(article_ids=["b"], date_to="2025-12-31")) == 2
    page, total = store.list_articles(offset=1, limit=1)
    assert total == 3 and len(page) == 1
    store.close()


def test_meta_roundtrip_and_persistence(tmp_path):
    store = ArticleStore(tmp_path / "s.db")
    store.set_meta({"embedding_model": "m", "embedding_dimension": "384"})
    store.close()
    again = ArticleStore(tmp_path / "s.db")
    assert again.get_meta()["embedding_dimension"] == "384"
    again.close()
