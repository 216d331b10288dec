"""Open the index on the backends the caller chose: one factory per backend family.

``embedded`` is :class:`index.engine.ArticleIndex` (SQLite, FAISS and BM25 in one
folder, one process at a time). ``milvus`` is :class:`index.shared_index.SharedIndex`:
the chunks' vectors and keywords in Milvus (Milvus Lite for a local path, a server for
``http(s)://``) and the articles in PostgreSQL when a database URL is given (any
number of replicas, no process lock) or in SQLite under the folder otherwise (one
process, which holds the folder's lock).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from index.documents import Article
from index.engine import ArticleIndex
from index.process_lock import acquire_lock, release_lock
from index.records import (
    DB_FILE,
    BackendStatus,
    IndexStats,
    IngestResult,
    SearchFilters,
    SearchHit,
    SearchMode,
)
from index.store import ArticleRow, ChunkRow
from models.embedder_protocol import TextEmbedder as EmbedderLike


class SearchIndex(Protocol):
    """What the service needs from an index, whichever backends hold it."""

    embedder: EmbedderLike
    read_only: str | None

    def search(
        self,
        query: str,
        *,
        top_k: int = 5,
        filters: SearchFilters | None = None,
        mode: SearchMode = "hybrid",
        candidates: int | None = None,
    ) -> list[SearchHit]: ...
    def add_articles(
        self, articles: Iterable[Article], *, progress: Callable[[int], None] | None = None
    ) -> list[IngestResult]: ...
    def delete_article(self, article_id: str) -> bool: ...
    def get_article(self, article_id: str) -> ArticleRow | None: ...
    def list_articles(
        self, *, offset: int = 0, limit: int = 50
    ) -> tuple[list[ArticleRow], int]: ...
    def chunks_of(self, article_id: str) -> list[ChunkRow]: ...
    def reindex(self, *, progress: Callable[[int], None] | None = None) -> int: ...
    def stats(self) -> IndexStats: ...
    def backends(self) -> list[BackendStatus]: ...
    def problems(self) -> list[str]: ...
    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class MilvusConfig:
    """Where the Milvus backend keeps chunks and articles."""

    uri: str
    collection: str = "vnqa_chunks"
    token: str | None = None
    database_url: str | None = None  # postgresql://…; None: SQLite in the index folder
    pool_max: int = 8
    timeout_s: float = 5.0


def open_embedded(
    directory: Path, embedder: EmbedderLike, *, allow_model_change: bool = False, **options: Any
) -> ArticleIndex:
    """Today's index: everything under ``directory``, one process at a time."""
    return ArticleIndex.open(directory, embedder, allow_model_change=allow_model_change, **options)


def open_milvus(
    directory: Path,
    embedder: EmbedderLike,
    config: MilvusConfig,
    *,
    allow_model_change: bool = False,
    **options: object,
):
    """Chunks in Milvus, articles in PostgreSQL (or SQLite under ``directory``)."""
    from index.milvus_chunks import MilvusChunks
    from index.shared_index import SharedIndex

    release: Callable[[], None] | None = None
    if config.database_url:
        from index.pg_store import PgArticleStore

        store: Any = PgArticleStore(
            config.database_url, max_size=config.pool_max, timeout_s=config.timeout_s
        )
        kind = "postgresql"
    else:
        from index.sqlite_reserving import ReservingArticleStore

        directory.mkdir(parents=True, exist_ok=True)
        handle = acquire_lock(directory)  # SQLite: one process, as the embedded index
        release = lambda: release_lock(handle)  # noqa: E731
        try:
            store = ReservingArticleStore(directory / DB_FILE)
        except BaseException:
            release()
            raise
        store.where = str(directory / DB_FILE)
        kind = "sqlite"
    try:
        chunks = MilvusChunks(
            config.uri,
            config.collection,
            embedder.dimension,
            token=config.token,
            timeout_s=config.timeout_s,
            bigrams=bool(options.get("bm25_bigrams", True)),
        )
    except BaseException:
        store.close()
        if release:
            release()
        raise
    return SharedIndex.open(
        store,
        chunks,
        embedder,
        store_kind=kind,
        release=release,
        allow_model_change=allow_model_change,
        **options,
    )
