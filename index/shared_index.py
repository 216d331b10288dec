"""``SharedIndex``: articles in an article store, chunks' vectors and keywords in Milvus.

The same reads and writes as :class:`index.engine.ArticleIndex`, with nothing kept in
the process that another replica would miss: the article store (PostgreSQL, or SQLite
for one process) is the source of truth for articles and chunk texts, and Milvus holds
each chunk's vector and BM25 terms under the chunk's id.

A write reserves chunk ids in the store, puts the new chunks into Milvus, commits the
articles and chunks in the store, then removes the replaced chunks from Milvus. A
search only returns chunks the store holds, so whatever a crash interrupts, no search
sees half a write, and a write acknowledged by one replica is found by the next search
on any other (Milvus reads are ``Strong``). A crash can leave rows in Milvus that the
store never committed (or already dropped); they are never returned, and
:meth:`SharedIndex.sweep` removes them.

Questions typed without diacritics are matched against the diacritics-free BM25 field
and embedded after their marks are restored from the stored chunks' syllable
statistics, as the embedded index does; the statistics are rebuilt at most every
``restorer_refresh_s`` seconds, when the store changed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Literal

from index.beside import Beside
from index.chunking import chunk_article
from index.documents import Article
from index.engine import StoredArticle
from index.errors import BackendUnavailableError, IndexMismatchError
from index.fusion import fuse_hybrid
from index.milvus_chunks import ChunkEntry, ChunkFilter, MilvusChunks
from index.records import (
    BackendStatus,
    IndexOptions,
    IndexStats,
    IngestResult,
    SearchFilters,
    SearchHit,
    SearchMode,
)
from index.store import ChunkRow, NewArticle, NewChunk
from models.diacritics import DiacriticRestorer, counts_from_texts
from models.embedder_protocol import TextEmbedder
from models.vietnamese import has_diacritics, normalize

logger = logging.getLogger(__name__)

_GROUP = 64  # articles per store transaction during a bulk ingest


class SharedIndex:
    """Articles in ``store``, chunk vectors and keywords in ``chunks`` (see module doc)."""

    def __init__(
        self,
        store: Any,  # PgArticleStore or ReservingArticleStore
        chunks: MilvusChunks,
        embedder: TextEmbedder,
        options: IndexOptions,
        *,
        store_kind: str,
        release: Callable[[], None] | None = None,
        restorer_refresh_s: float = 60.0,
    ) -> None:
        self.embedder = embedder
        self.options = options
        self.directory = None
        self.read_only: str | None = None  # never: there is no local state to lose
        self._store = store
        self._chunks = chunks
        self._store_kind = store_kind
        self._release = release
        self._restorer: DiacriticRestorer | None = None
        self._restorer_key: tuple[int, float] | None = None
        self._restorer_lock = threading.Lock()
        self._restorer_refresh_s = restorer_refresh_s

    @classmethod
    def open(
        cls,
        store: Any,
        chunks: MilvusChunks,
        embedder: TextEmbedder,
        *,
        store_kind: str,
        allow_model_change: bool = False,
        release: Callable[[], None] | None = None,
        **options: object,
    ) -> SharedIndex:
        """Check the stored model metadata against ``embedder`` and return the index.

        Raises :class:`IndexMismatchError` when the store's chunks were embedded by
        another model, unless ``allow_model_change`` (for ``vnqa reindex``).
        """
        index = cls(
            store,
            chunks,
            embedder,
            IndexOptions(**options),  # type: ignore[arg-type]
            store_kind=store_kind,
            release=release,
        )
        try:
            index._check_model(allow_model_change)
        except BaseException:
            index.close()
            raise
        return index

    @property
    def store(self) -> Any:
        """The article store (its summary store lives beside it: index.summary_store)."""
        return self._store

    def _model_meta(self) -> dict[str, str]:
        return {
            "embedding_model": self.embedder.name,
            "embedding_dimension": str(self.embedder.dimension),
            "embedding_fingerprint": self.embedder.fingerprint,
        }

    def _check_model(self, allow_change: bool) -> None:
        meta = self._store.get_meta()
        wanted = self._model_meta()
        if "embedding_model" not in meta or self._store.counts()[1] == 0:
            self._store.set_meta(wanted)
            return
        differs = {k for k, v in wanted.items() if meta.get(k) != v}
        if differs and not allow_change:
            raise IndexMismatchError(
                f"the articles in {self._store.where} were embedded with "
                f"{meta.get('embedding_model')} (fingerprint "
                f"{meta.get('embedding_fingerprint')}), but the loaded model is "
                f"{wanted['embedding_model']} (fingerprint {wanted['embedding_fingerprint']}). "
                "Run `vnqa reindex`, or configure the model the index was built with."
            )

    # -- writes ---------------------------------------------------------------------
    def _chunk(self, article: Article) -> list[NewChunk]:
        return [
            NewChunk(c.position, c.start, c.end, c.text)
            for c in chunk_article(
                article,
                max_syllables=self.options.chunk_max_syllables,
                overlap_sentences=self.options.chunk_overlap_sentences,
            )
        ]

    def add_articles(
        self, articles: Iterable[Article], *, progress: Callable[[int], None] | None = None
    ) -> list[IngestResult]:
        """Add or replace articles (by id); each group of 64 commits atomically.

        Raises :class:`BackendUnavailableError` when a backend does not answer: the
        group in progress is then not stored (nothing acknowledged is lost).
        """
        group: dict[str, Article] = {}
        final: dict[str, IngestResult] = {}
        for article in articles:
            group.pop(article.id, None)  # a repeated id within a batch: the last one wins
            group[article.id] = article
            if len(group) >= _GROUP:
                for r in self._add_group(list(group.values())):
                    final.pop(r.id, None)
                    final[r.id] = r
                if progress:
                    progress(len(group))
                group = {}
        if group:
            for r in self._add_group(list(group.values())):
                final.pop(r.id, None)
                final[r.id] = r
            if progress:
                progress(len(group))
        return list(final.values())

    def _add_group(self, articles: list[Article]) -> list[IngestResult]:
        chunked = [(a, self._chunk(a)) for a in articles]
        texts = [c.text for _, chunks in chunked for c in chunks]
        vectors = self.embedder.embed_passages(texts, batch_size=self.options.embed_batch_size)
        reserved = iter(self._store.reserve_chunk_ids(len(texts)))
        ids = [[next(reserved) for _ in chunks] for _, chunks in chunked]
        entries = [
            ChunkEntry(cid, a.id, a.source, a.date, ch.text)
            for (a, chunks), chunk_ids in zip(chunked, ids, strict=True)
            for cid, ch in zip(chunk_ids, chunks, strict=True)
        ]
        self._chunks.upsert(entries, vectors)  # 1. vectors first, under reserved ids
        new = [
            NewArticle(a.id, a.title, a.text, a.date, a.source, a.url, a.author, chunks)
            for a, chunks in chunked
        ]
        _, removed, replaced = self._store.replace_articles(  # 2. the commit
            new, chunk_ids=ids, meta=self._model_meta()
        )
        self._drop_quietly(removed)  # 3. the replaced chunks' rows
        return [
            IngestResult(a.id, len(chunks), was)
            for (a, chunks), was in zip(chunked, replaced, strict=True)
        ]

    def _drop_quietly(self, ids: list[int]) -> None:
        """Remove rows the store no longer holds; a failure only leaves them for sweep()."""
        try:
            self._chunks.delete(ids)
        except BackendUnavailableError as exc:
            logger.warning("%d stale chunk rows stay in Milvus until `sweep` (%s)", len(ids), exc)

    def delete_article(self, article_id: str) -> bool:
        """Delete an article and its chunks; False if it was not there."""
        removed = self._store.delete_article(article_id)
        if removed is None:
            return False
        self._drop_quietly(removed)
        return True

    def reindex(self, *, progress: Callable[[int], None] | None = None) -> int:
        """Re-chunk and re-embed every article with the current model and settings."""
        rows = list(self._store.iter_articles())
        results = self.add_articles(
            (r.to_article() for r in rows),
            progress=progress,
        )
        return sum(r.chunks for r in results)

    def sweep(self) -> int:
        """Remove Milvus rows whose chunks the store does not hold; returns how many."""
        held = {c.id for c in self._store.all_chunks()}
        rows = self._chunks.all_ids()
        extra = sorted(set(rows) - held)
        self._chunks.delete(extra)
        return len(extra)

    # -- reads ----------------------------------------------------------------------
    def _restore(self, query: str) -> str:
        """``query`` with diacritics restored from the stored chunks' statistics."""
        if not self.options.bm25_bigrams:
            return query
        now = time.monotonic()
        with self._restorer_lock:
            key = self._restorer_key
            stale = key is None or now - key[1] > self._restorer_refresh_s
            if stale:
                generation = self._store.generation()
                if key is None or generation != key[0] or self._restorer is None:
                    unigrams, pairs = counts_from_texts([c.text for c in self._store.all_chunks()])
                    self._restorer = DiacriticRestorer(unigrams, pairs)
                self._restorer_key = (generation, now)
            restorer = self._restorer
        return restorer.restore(query) if restorer is not None else query

    def search(
        self,
        query: str,
        *,
        top_k: int = 5,
        filters: SearchFilters | None = None,
        mode: SearchMode = "hybrid",
        candidates: int | None = None,
    ) -> list[SearchHit]:
        """Best ``top_k`` chunks for ``query``, ranked and fused as the embedded index does."""
        query = normalize(query)
        if top_k <= 0 or not query.strip():
            return []
        depth = candidates or max(4 * top_k, 40)
        flt = None
        if filters is not None and not filters.is_empty():
            flt = ChunkFilter(
                filters.article_ids, filters.sources, filters.date_from, filters.date_to
            )
        unaccented = self.options.bm25_folded and not has_diacritics(query)
        dense: list[tuple[int, float]] = []
        sparse: list[tuple[int, float]] = []

        def keyword_search() -> list[tuple[int, float]]:
            return self._chunks.search_bm25(query, depth, flt, folded=unaccented)

        # Hybrid: the keyword search runs beside the query embedding, as in ArticleIndex.
        sparse_search = Beside(keyword_search) if mode == "hybrid" else None
        if mode in ("hybrid", "dense"):
            dense_query = self._restore(query) if unaccented else query
            vector = self.embedder.embed_queries([dense_query])[0]
            dense = self._chunks.search_dense(vector, depth, flt)
        if sparse_search is not None:
            sparse = sparse_search.result()
        elif mode == "bm25":
            sparse = keyword_search()
        dense_rank = {cid: r for r, (cid, _) in enumerate(dense, start=1)}
        sparse_rank = {cid: r for r, (cid, _) in enumerate(sparse, start=1)}
        # Rows the store does not hold (a crash mid-write) are dropped before fusing.
        found = self._store.chunks({cid for cid, _ in dense} | {cid for cid, _ in sparse})
        dense = [(c, s) for c, s in dense if c in found]
        sparse = [(c, s) for c, s in sparse if c in found]
        ranked = fuse_hybrid(
            dense,
            sparse,
            mode=mode,
            fusion=self.options.fusion,
            dense_weight=self.options.dense_weight,
            rrf_k=self.options.rrf_k,
            top_k=top_k,
        )
        articles = self._store.article_meta(found[cid].article_id for cid, _ in ranked)
        return [
            SearchHit.of(
                found[cid],
                articles.get(found[cid].article_id),
                score,
                dense_rank.get(cid),
                sparse_rank.get(cid),
            )
            for cid, score in ranked
        ]

    def get_article(self, article_id: str) -> StoredArticle | None:
        """A stored article with its text and chunk count."""
        return self._store.get_article(article_id)

    def list_articles(self, *, offset: int = 0, limit: int = 50) -> tuple[list[StoredArticle], int]:
        """A page of articles (newest first) and the total."""
        offset, limit = min(offset, 2**62), min(limit, 2**62)
        return self._store.list_articles(offset=offset, limit=limit)

    def chunks_of(self, article_id: str) -> list[ChunkRow]:
        """An article's chunks in order."""
        ids = self._store.chunk_ids_matching(article_ids=[article_id])
        return sorted(self._store.chunks(ids).values(), key=lambda c: c.position)

    def stats(self) -> IndexStats:
        """Counts (from the store, the source of truth) and the embedding model in use."""
        articles, chunks = self._store.counts()
        return IndexStats(
            articles, chunks, self.embedder.name, self.embedder.dimension, self.embedder.fingerprint
        )

    def backends(self) -> list[BackendStatus]:
        """Both backends, each pinged now (bounded by its timeout)."""
        out = []
        both: tuple[tuple[Literal["articles", "chunks"], str, Any], ...] = (
            ("articles", self._store_kind, self._store),
            ("chunks", "milvus", self._chunks),
        )
        for role, kind, backend in both:
            try:
                backend.ping()
            except BackendUnavailableError as exc:
                out.append(BackendStatus(role, kind, backend.where, False, str(exc)))
            else:
                out.append(BackendStatus(role, kind, backend.where, True))
        return out

    def problems(self) -> list[str]:
        """The backends that do not answer (empty when both do)."""
        return [b.error or f"{b.where} is unreachable" for b in self.backends() if not b.reachable]

    def close(self) -> None:
        """Close both clients (and release the process lock of a SQLite store)."""
        self._chunks.close()
        self._store.close()
        if self._release is not None:
            self._release()
            self._release = None

    def __enter__(self) -> SharedIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
