"""ArticleIndex: SQLite, FAISS and BM25 stay in step through add, replace, delete and restarts."""

from pathlib import Path

import numpy as np
import pytest

from index.documents import Article
from index.engine import ArticleIndex
from index.errors import IndexLockedError, IndexMismatchError
from index.records import SearchFilters

ARTICLES = [
    Article(
        id="an-ninh",
        title="Công an tỉnh",
        date="2025-11-27",
        source="nghean.gov.vn",
        text="Bí thư Tỉnh ủy yêu cầu Công an tỉnh chủ động nắm chắc tình hình. "
        "Công an cần đấu tranh làm thất bại mọi âm mưu chống phá trên không gian mạng.",
    ),
    Article(
        id="thoi-tiet",
        title="Thời tiết",
        date="2025-10-01",
        source="kttv.gov.vn",
        text="Miền Bắc đón đợt không khí lạnh mạnh. Nhiệt độ thấp nhất 12 độ C ở vùng núi.",
    ),
    Article(
        id="bong-da",
        title="Bóng đá",
        date="2024-05-02",
        source="thethao.vn",
        text="Đội tuyển Việt Nam thắng 2-0 trên sân Mỹ Đình. Hai bàn thắng đến trong hiệp hai.",
    ),
]


def _consistent(index: ArticleIndex) -> set[int]:
    """Assert the three parts hold the same chunk ids and return them."""
    stored = {c.id for c in index._store.all_chunks()}
    assert set(index._dense.ids().tolist()) == stored
    assert set(index._keywords.ids().tolist()) == stored
    return stored


@pytest.fixture
def index(tmp_path: Path, embedder):
    with ArticleIndex.open(tmp_path / "idx", embedder) as idx:
        idx.add_articles(ARTICLES)
        yield idx


def test_add_then_search_each_mode(index):
    for mode in ("hybrid", "dense", "bm25"):
        hits = index.search("không khí lạnh", top_k=2, mode=mode)
        assert hits[0].article_id == "thoi-tiet", mode
    hit = index.search("Bí thư Tỉnh ủy yêu cầu gì?", top_k=1)[0]
    assert hit.article_id == "an-ninh"
    assert hit.title == "Công an tỉnh" and hit.source == "nghean.gov.vn"
    stored = index.get_article("an-ninh")
    assert stored.text[hit.start : hit.end] == hit.text
    assert _consistent(index)


def test_replace_by_id_leaves_no_duplicates(index):
    old_ids = {c.id for c in index.chunks_of("thoi-tiet")}
    result = index.add_articles(
        [
            Article(
                id="thoi-tiet", title="Thời tiết mới", text="Nắng nóng gay gắt ở Nghệ An, 39 độ C."
            )
        ]
    )
    assert result[0].replaced and result[0].chunks == 1
    after = _consistent(index)
    assert not (after & old_ids)
    assert len(index.chunks_of("thoi-tiet")) == 1
    assert index.stats().articles == 3
    assert index.search("miền bắc đón đợt", top_k=5, mode="bm25") == []
    assert index.search("nắng nóng", top_k=1)[0].article_id == "thoi-tiet"


def test_delete_keeps_all_parts_in_step(index):
    assert index.delete_article("bong-da") is True
    assert index.delete_article("bong-da") is False
    assert index.get_article("bong-da") is None
    assert all(h.article_id != "bong-da" for h in index.search("bóng đá Mỹ Đình", top_k=5))
    _consistent(index)


def test_filters(index):
    q = "tình hình"
    only = index.search(q, top_k=5, filters=SearchFilters(article_ids=["bong-da"]))
    assert {h.article_id for h in only} == {"bong-da"}
    src = index.search(q, top_k=5, filters=SearchFilters(sources=["kttv.gov.vn"]))
    assert {h.article_id for h in src} == {"thoi-tiet"}
    dated = index.search(
        q, top_k=5, filters=SearchFilters(date_from="2025-01-01", date_to="2025-10-31")
    )
    assert {h.article_id for h in dated} == {"thoi-tiet"}
    assert index.search(q, top_k=5, filters=SearchFilters(sources=["none"])) == []


def test_persistence_survives_restart(tmp_path, embedder):
    path = tmp_path / "idx"
    with ArticleIndex.open(path, embedder) as idx:
        idx.add_articles(ARTICLES)
        expected = [(h.chunk_id, h.article_id) for h in idx.search("không khí lạnh", top_k=3)]
        ids = _consistent(idx)
    with ArticleIndex.open(path, embedder) as idx:
        assert _consistent(idx) == ids
        assert [
            (h.chunk_id, h.article_id) for h in idx.search("không khí lạnh", top_k=3)
        ] == expected
        assert idx.stats().articles == 3


def test_restart_repairs_a_stale_vector_file(tmp_path, embedder):
    """A crash after the SQLite commit but before the FAISS save is repaired at open."""
    path = tmp_path / "idx"
    with ArticleIndex.open(path, embedder) as idx:
        idx.add_articles(ARTICLES[:1])
        stale = (path / "dense.faiss").read_bytes()
        idx.add_articles(ARTICLES[1:])
        idx.delete_article("an-ninh")
    (path / "dense.faiss").write_bytes(stale)  # vectors of a deleted article, none of the rest
    with ArticleIndex.open(path, embedder) as idx:
        ids = _consistent(idx)
        assert len(ids) == idx.stats().chunks
        assert idx.search("không khí lạnh", top_k=1, mode="dense")[0].article_id == "thoi-tiet"
    (path / "dense.faiss").write_bytes(b"garbage")
    with ArticleIndex.open(path, embedder) as idx:
        _consistent(idx)


class _OtherModel:
    """A different embedding model: same interface, other weights (random projection)."""

    name = "other/model"
    dimension = 8
    fingerprint = "deadbeef"

    def _embed(self, texts):
        rng = np.random.default_rng(0)
        m = rng.normal(size=(len(texts), self.dimension)).astype(np.float32)
        return m / np.linalg.norm(m, axis=1, keepdims=True)

    def embed_queries(self, texts):
        return self._embed(texts)

    def embed_passages(self, texts, *, batch_size=32, show_progress=False):
        return self._embed(texts)


def test_refuses_vectors_from_another_model_and_reindex_fixes_it(tmp_path, embedder):
    path = tmp_path / "idx"
    with ArticleIndex.open(path, embedder) as idx:
        idx.add_articles(ARTICLES)
    with pytest.raises(IndexMismatchError, match="vnqa reindex"):
        ArticleIndex.open(path, _OtherModel())
    with ArticleIndex.open(path, _OtherModel(), allow_model_change=True) as idx:
        assert idx.reindex() == idx.stats().chunks
    with ArticleIndex.open(path, _OtherModel()) as idx:
        _consistent(idx)
        assert idx.stats().embedding_model == "other/model"
    with pytest.raises(IndexMismatchError):
        ArticleIndex.open(path, embedder)


def test_a_second_writer_is_refused_while_the_index_is_open(tmp_path, embedder):
    with ArticleIndex.open(tmp_path / "idx", embedder):
        with pytest.raises(IndexLockedError, match="in use"):
            ArticleIndex.open(tmp_path / "idx", embedder)
    ArticleIndex.open(tmp_path / "idx", embedder).close()


def test_a_failed_embedding_changes_nothing(tmp_path, embedder):
    class Failing:
        name, dimension, fingerprint = embedder.name, embedder.dimension, embedder.fingerprint
        embed_queries = staticmethod(embedder.embed_queries)

        def embed_passages(self, texts, **kw):
            raise RuntimeError("out of memory")

    path = tmp_path / "idx"
    with ArticleIndex.open(path, embedder) as idx:
        idx.add_articles(ARTICLES[:1])
        before = _consistent(idx)
    with ArticleIndex.open(path, Failing()) as idx:
        with pytest.raises(RuntimeError):
            idx.add_articles(ARTICLES[1:])
        assert _consistent(idx) == before
        assert idx.stats().articles == 1


def test_bulk_ingest_grows_its_commit_groups(tmp_path, embedder, monkeypatch):
    """Groups grow with the index, so a bulk ingest commits O(log n) times instead of
    n / group-size times, and the keyword index keeps up with every group."""
    import index.engine as engine

    monkeypatch.setattr(engine, "_COMMIT_EVERY", 4)
    articles = [Article(id=f"a{i}", text=f"Tin số {i}: giá lúa tăng {i} đồng.") for i in range(200)]
    stored = []
    with ArticleIndex.open(tmp_path / "idx", embedder) as idx:
        idx.add_articles(articles, progress=stored.append)
        assert idx.stats().articles == 200 and sum(stored) == 200
        assert len(stored) < 200 // 4 // 2
        assert max(stored) > 4
        _consistent(idx)


def test_a_write_is_found_by_keywords_at_once_without_a_rebuild(tmp_path, embedder):
    """The keyword index adds and deletes in place: one article more is found by BM25 as
    soon as add_articles returns, and the documents already there are not re-indexed."""
    with ArticleIndex.open(tmp_path / "idx", embedder) as idx:
        idx.add_articles(ARTICLES[:1])
        keywords = idx._keywords
        idx.add_articles(ARTICLES[1:2])
        assert idx._keywords is keywords  # updated, not replaced
        assert idx.search("không khí lạnh", top_k=1, mode="bm25")[0].article_id == "thoi-tiet"
        assert idx.delete_article("thoi-tiet")
        assert all(
            h.article_id != "thoi-tiet" for h in idx.search("không khí lạnh", top_k=3, mode="bm25")
        )
        _consistent(idx)


def test_keyword_index_catches_up_after_a_crash_between_the_commits(tmp_path, embedder):
    """A crash after the store's commit but before the keyword commit leaves the keyword
    index a generation behind: the next open adds and removes what differs."""
    from index.keywords import KeywordIndex

    path = tmp_path / "idx"
    with ArticleIndex.open(path, embedder) as idx:
        idx.add_articles(ARTICLES[:2])
    saved = {p.name: p.read_bytes() for p in (path / "keywords").iterdir() if p.is_file()}
    with ArticleIndex.open(path, embedder) as idx:
        idx.add_articles(ARTICLES[2:])
        idx.delete_article("an-ninh")
    for p in (path / "keywords").iterdir():  # the keyword folder as it was two writes ago
        p.unlink()
    for name, data in saved.items():
        (path / "keywords" / name).write_bytes(data)
    assert KeywordIndex(path / "keywords", read_only=True).generation is not None
    with ArticleIndex.open(path, embedder) as idx:
        _consistent(idx)
        assert idx.search("sân Mỹ Đình", top_k=1, mode="bm25")[0].article_id == "bong-da"
        assert all(h.article_id != "an-ninh" for h in idx.search("công an", mode="bm25"))
