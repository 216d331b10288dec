"""SharedIndex over real servers: PostgreSQL for articles, Milvus Lite (gRPC) for chunks."""

from __future__ import annotations

import itertools

import psycopg
import pytest

from index.backends import MilvusConfig, open_embedded, open_milvus
from index.documents import Article
from index.engine import IndexMismatchError, SearchFilters
from index.errors import BackendUnavailableError
from index.milvus_terms import folded_terms, main_terms, term_token
from tests.index.test_engine import ARTICLES

_names = itertools.count()


@pytest.fixture
def config(postgres_server, milvus_server):
    """A fresh database schema and collection per test, on the session's servers."""
    n = next(_names)
    url = postgres_server.new_database(f"t{n}")
    return MilvusConfig(
        uri=milvus_server.uri, collection=f"chunks_{n}", database_url=url, timeout_s=3.0
    )


@pytest.fixture
def shared(tmp_path, embedder, config):
    with open_milvus(tmp_path / "idx", embedder, config) as idx:
        idx.add_articles(ARTICLES)
        yield idx


def test_terms_are_opaque_words_any_analyzer_keeps_whole():
    tokens = main_terms("Bí thư Tỉnh ủy").split()
    assert tokens[0] == term_token("bí") and term_token("bí thư") in tokens
    assert len(tokens) == 4 + 3  # syllables and pairs
    assert all(t.isalnum() and t.islower() for t in tokens)
    assert folded_terms("Đà Nẵng").split() == [
        term_token("da"),
        term_token("nang"),
        term_token("da nang"),
    ]


def test_add_search_each_mode_and_citation_fields(shared):
    for mode in ("hybrid", "dense", "bm25"):
        hits = shared.search("không khí lạnh", top_k=2, mode=mode)
        assert hits[0].article_id == "thoi-tiet", mode
    hit = shared.search("Bí thư Tỉnh ủy yêu cầu gì?", top_k=1)[0]
    assert hit.article_id == "an-ninh" and hit.source == "nghean.gov.vn"
    assert shared.get_article("an-ninh").text[hit.start : hit.end] == hit.text
    assert hit.bm25_rank == 1 and hit.dense_rank is not None
    assert shared.stats().articles == 3


def test_unaccented_question_uses_folded_field_and_restored_dense_query(shared):
    for mode in ("bm25", "dense", "hybrid"):
        assert shared.search("khong khi lanh", top_k=1, mode=mode)[0].article_id == "thoi-tiet"


def test_filters_match_the_embedded_index(shared, tmp_path, embedder):
    with open_embedded(tmp_path / "emb", embedder) as embedded:
        embedded.add_articles(ARTICLES)
        for flt in (
            SearchFilters(article_ids=["bong-da"]),
            SearchFilters(sources=["kttv.gov.vn"]),
            SearchFilters(date_from="2025-01-01", date_to="2025-10-31"),
            SearchFilters(date_to="2024-12-31"),
            SearchFilters(sources=["nowhere"]),
        ):
            want = {
                h.article_id
                for h in embedded.search("công an thời tiết bóng đá", top_k=5, filters=flt)
            }
            got = {
                h.article_id
                for h in shared.search("công an thời tiết bóng đá", top_k=5, filters=flt)
            }
            assert got == want, flt


def test_replace_and_delete_leave_no_stale_rows(shared):
    old = {c.id for c in shared.chunks_of("thoi-tiet")}
    (result,) = shared.add_articles(
        [
            Article(
                id="thoi-tiet", title="Thời tiết mới", text="Nắng nóng gay gắt ở Nghệ An, 39 độ C."
            )
        ]
    )
    assert result.replaced and result.chunks == 1
    new = {c.id for c in shared.chunks_of("thoi-tiet")}
    assert not old & new
    rows = set(shared._chunks.all_ids())
    assert not old & rows and new <= rows
    assert all(
        h.article_id != "thoi-tiet"
        for h in shared.search("Miền Bắc đón đợt lạnh", top_k=3, mode="bm25")
    )
    assert shared.delete_article("thoi-tiet") and not shared.delete_article("thoi-tiet")
    assert not new & set(shared._chunks.all_ids())
    assert shared._chunks.count() == len(shared._store.all_chunks())
    assert shared.sweep() == 0


def test_rows_the_store_never_committed_are_never_returned(shared, embedder):
    """A crash between the Milvus upsert and the store commit leaves orphan rows."""
    from index.milvus_chunks import ChunkEntry

    (cid,) = shared._store.reserve_chunk_ids(1)
    text = "Không khí lạnh tăng cường mạnh, trời rét đậm rét hại."
    shared._chunks.upsert(
        [ChunkEntry(cid, "ghost", None, None, text)], embedder.embed_passages([text])
    )
    assert all(h.article_id != "ghost" for h in shared.search("không khí lạnh rét đậm", top_k=5))
    assert shared.sweep() == 1 and cid not in shared._chunks.all_ids()


def test_a_second_open_shares_everything(shared, tmp_path, embedder, config):
    with open_milvus(tmp_path / "other", embedder, config) as other:
        other.add_articles([Article(id="moi", text="Giá xăng giảm mạnh từ chiều nay.")])
        assert shared.search("giá xăng", top_k=1)[0].article_id == "moi"
        assert shared.delete_article("moi")
        assert other.get_article("moi") is None
        assert all(h.article_id != "moi" for h in other.search("giá xăng", top_k=3))


def test_another_model_is_refused(shared, tmp_path, config):
    class Other:
        name, dimension, fingerprint = "other", 384, "x"

    with pytest.raises(IndexMismatchError, match="reindex"):
        open_milvus(tmp_path / "x", Other(), config)


def test_unreachable_backends_raise_promptly(tmp_path, embedder, config):
    from tests.service.server_process import free_port

    gone = MilvusConfig(
        uri=f"http://127.0.0.1:{free_port()}",
        collection="c",
        database_url=config.database_url,
        timeout_s=1.0,
    )
    with pytest.raises(BackendUnavailableError, match="Milvus"):
        open_milvus(tmp_path / "a", embedder, gone)
    gone_pg = MilvusConfig(
        uri=config.uri,
        collection="c",
        database_url=f"postgresql://vnqa@127.0.0.1:{free_port()}/vnqa",
        timeout_s=1.0,
    )
    with pytest.raises(BackendUnavailableError, match="PostgreSQL"):
        open_milvus(tmp_path / "b", embedder, gone_pg)


def test_sqlite_articles_with_milvus_chunks(tmp_path, embedder, milvus_server):
    config = MilvusConfig(uri=milvus_server.uri, collection=f"sqlite_{next(_names)}")
    with open_milvus(tmp_path / "idx", embedder, config) as idx:
        idx.add_articles(ARTICLES)
        assert idx.search("không khí lạnh", top_k=1)[0].article_id == "thoi-tiet"
        assert [b.kind for b in idx.backends()] == ["sqlite", "milvus"]


def test_settings_refuse_a_database_url_that_is_not_postgresql():
    from pydantic import ValidationError

    from service.core.config import Settings

    with pytest.raises(ValidationError, match="postgresql://"):
        Settings(_env_file=None, database_url="mysql://x@y/z")
    settings = Settings(_env_file=None, database_url="postgresql://u:secret@h/db")
    assert "secret" not in repr(settings)


def test_a_database_url_needs_the_milvus_backend(tmp_path, embedder):
    from service.core.config import Settings
    from service.runtime import open_index

    settings = Settings(
        _env_file=None, data_dir=tmp_path, database_url="postgresql://u@127.0.0.1:1/db"
    )
    with pytest.raises(ValueError, match="VNQA_INDEX_BACKEND=milvus"):
        open_index(settings, embedder)


def test_postgres_migrations_run_once(config):
    from index.pg_store import MIGRATIONS, PgArticleStore

    first = PgArticleStore(config.database_url)
    second = PgArticleStore(config.database_url)
    try:
        assert first.migrate() == second.migrate() == 0
        with psycopg.connect(config.database_url) as conn:
            versions = conn.execute("SELECT version FROM vnqa_migrations").fetchall()
        assert [v for (v,) in versions] == list(range(1, len(MIGRATIONS) + 1))
    finally:
        first.close()
        second.close()
