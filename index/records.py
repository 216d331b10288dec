"""The values an :class:`~index.engine.ArticleIndex` takes and returns: its options,
search filters and hits, ingest results, sizes, and what a reconcile found."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from index.defaults import (
    DEFAULT_CODEC,
    DEFAULT_LONG_QUERY_MAX_DF,
    DEFAULT_LONG_QUERY_TERMS,
    DEFAULT_MAX_SYLLABLES,
    DEFAULT_NPROBE,
    DEFAULT_OVERLAP_SENTENCES,
)
from index.dense import DEFAULT_EXACT_MAX

if TYPE_CHECKING:
    from index.store import ArticleRow, ChunkRow

SearchMode = Literal["hybrid", "dense", "bm25"]
Fusion = Literal["convex", "rrf"]

# The files of an index folder.
DB_FILE = "store.sqlite3"
DENSE_FILE = "dense.faiss"
KEYWORDS_DIR = "keywords"  # the keyword index (tantivy), see index/keywords.py


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Restrict a search to some articles, sources or an inclusive ISO date range."""

    article_ids: list[str] | None = None
    sources: list[str] | None = None
    date_from: str | None = None
    date_to: str | None = None

    def is_empty(self) -> bool:
        """True when no filter is set."""
        return all(
            v is None for v in (self.article_ids, self.sources, self.date_from, self.date_to)
        )


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One retrieved chunk with its article's citation fields."""

    chunk_id: int
    article_id: str
    position: int
    title: str | None
    text: str
    score: float
    start: int
    end: int
    date: str | None
    source: str | None
    url: str | None
    dense_rank: int | None = None
    bm25_rank: int | None = None

    @classmethod
    def of(
        cls,
        chunk: ChunkRow,
        article: ArticleRow | None,
        score: float,
        dense_rank: int | None,
        bm25_rank: int | None,
    ) -> SearchHit:
        """The hit for a stored ``chunk`` of ``article`` (None: deleted meanwhile)."""
        return cls(
            chunk_id=chunk.id,
            article_id=chunk.article_id,
            position=chunk.position,
            title=article.title if article else None,
            text=chunk.text,
            score=float(score),
            start=chunk.start,
            end=chunk.end,
            date=article.date if article else None,
            source=article.source if article else None,
            url=article.url if article else None,
            dense_rank=dense_rank,
            bm25_rank=bm25_rank,
        )


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What happened to one ingested article."""

    id: str
    chunks: int
    replaced: bool


@dataclass(frozen=True, slots=True)
class IndexStats:
    """Sizes and the embedding model the vectors belong to."""

    articles: int
    chunks: int
    embedding_model: str
    dimension: int
    fingerprint: str


@dataclass(frozen=True, slots=True)
class BackendStatus:
    """One backend an index uses, and whether it answered just now."""

    role: Literal["articles", "chunks"]
    kind: str  # sqlite, postgresql, embedded, milvus
    where: str  # a folder or a host, never a password
    reachable: bool
    error: str | None = None


@dataclass(frozen=True, slots=True)
class LostCommits:
    """Evidence that the store lost commits which the vector file had mirrored."""

    vectors: int  # vectors whose chunk ids the store never assigned
    first_id: int | None
    last_id: int | None
    store_generation: int
    vectors_generation: int | None
    newest_article: str | None  # when the newest article the store kept was written

    def describe(self, directory: Path, kept: Path | None = None) -> str:
        """One line: what happened, where the evidence is kept, and what to run."""
        ids = f" (chunk ids {self.first_id}-{self.last_id})" if self.vectors else ""
        after = (
            f"; articles stored after {self.newest_article} are likely among them"
            if self.newest_article
            else ""
        )
        generations = (
            f", and mirrors store generation {self.vectors_generation} while the store is "
            f"at {self.store_generation}"
            if self.vectors_generation is not None
            else ""
        )
        return (
            f"{directory / DB_FILE} lost commits: {DENSE_FILE} holds {self.vectors} vectors"
            f"{ids} for chunks the store never recorded{generations}{after}. Serving "
            f"read-only; the evidence is kept in {kept or directory}. Stop the server and "
            "run `vnqa repair` (it backs the files up first)."
        )


@dataclass(frozen=True, slots=True)
class ReconcileOutcome:
    """What the last reconcile found and did."""

    vectors_dropped: int = 0  # vectors of chunks the store no longer (or never) held
    chunks_embedded: int = 0  # chunks re-embedded because FAISS lacked them
    lost: LostCommits | None = None
    saved: bool = True


@dataclass(frozen=True, slots=True)
class IndexOptions:
    """How an :class:`ArticleIndex` chunks, embeds, stores and ranks."""

    chunk_max_syllables: int = DEFAULT_MAX_SYLLABLES
    chunk_overlap_sentences: int = DEFAULT_OVERLAP_SENTENCES
    rrf_k: int = 60
    embed_batch_size: int = 32
    dense_exact_max: int = DEFAULT_EXACT_MAX  # exact FAISS up to this many vectors, IVF beyond
    dense_nprobe: int = DEFAULT_NPROBE
    dense_codec: str = DEFAULT_CODEC  # how IVF stores vectors: "fp16", "sq8" or "flat"
    # Past dense_exact_max vectors the vector file (hundreds of MB at 1M chunks) is saved at
    # most this often instead of after every write; a crash re-embeds the chunks since.
    dense_save_interval_s: float = 60.0
    fusion: Fusion = "convex"
    dense_weight: float = 0.5
    bm25_bigrams: bool = True
    bm25_folded: bool = True
    bm25_folded_weight: float = 0.0  # the diacritics-free field's weight on accented questions
    # Past this many distinct terms a keyword query leaves out terms in more than
    # bm25_long_query_max_df of the chunks (0: never); see index/keywords.py.
    bm25_long_query_terms: int = DEFAULT_LONG_QUERY_TERMS
    bm25_long_query_max_df: float = DEFAULT_LONG_QUERY_MAX_DF
