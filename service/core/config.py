"""The one place vnqa reads configuration: ``VNQA_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.defaults import (
    DEFAULT_CODEC,
    DEFAULT_LONG_QUERY_MAX_DF,
    DEFAULT_LONG_QUERY_TERMS,
    DEFAULT_MAX_SYLLABLES,
    DEFAULT_NPROBE,
    DEFAULT_OVERLAP_SENTENCES,
)
from models.defaults import DEFAULT_EMBEDDING_MODEL, DEFAULT_SUMMARIZER_MODEL


class Settings(BaseSettings):
    """Runtime configuration; every field maps to ``VNQA_<FIELD>`` (case-insensitive)."""

    # Errors never echo the input: VNQA_API_KEYS holds secrets.
    model_config = SettingsConfigDict(
        env_prefix="VNQA_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    # Storage
    data_dir: Path = Field(Path("./data"), description="Index, SQLite store and metadata.")
    models_dir: Path = Field(
        Path("./.models"), description="Where locally built model copies are kept."
    )

    # Embeddings
    embedding_model: str = Field(DEFAULT_EMBEDDING_MODEL, description="Hub id of the embedder.")
    embedding_model_path: Path | None = Field(
        None, description="A local sentence-transformers folder; wins over the hub id."
    )
    embedding_batch_size: int = Field(32, ge=1, le=1024)
    embedding_backend: Literal["torch", "onnx", "onnx-int8"] = Field(
        "onnx-int8",
        description="torch (fp32 sentence-transformers), onnx (fp32) or onnx-int8 (dynamic "
        "int8, ~3x faster, Hit@1 within a point); changing it needs `vnqa reindex`.",
    )

    # Summaries
    summarizer: Literal["auto", "seq2seq", "extractive"] = "auto"
    summarizer_model: str = Field(
        DEFAULT_SUMMARIZER_MODEL, description="Hub id or local folder of a seq2seq model."
    )
    summarizer_backend: Literal["auto", "ctranslate2", "torch"] = Field(
        "auto",
        description="How a seq2seq model runs: ctranslate2 (converted once to int8 under "
        "VNQA_MODELS_DIR/ct2/), torch (transformers, fp32), or auto (ctranslate2 when the "
        "checkpoint converts, torch otherwise).",
    )
    summarizer_beams: int = Field(
        4, ge=1, le=16, description="Beam width of seq2seq summaries (streamed text is greedy)."
    )
    summarizer_long_input: Literal["select", "split"] = Field(
        "select",
        description="An input over the seq2seq window: select (the lead plus the most central "
        "sentences that fit, one generation) or split (summarize every part, then combine).",
    )
    summarizer_shortlist: bool = Field(
        False,
        description="CTranslate2 decodes over a vocabulary shortlist: the input's own tokens "
        "plus the tokenizer's most common pieces (vmap.txt, written at conversion). Off by "
        "default: a token outside the list can never be written; turn it on once "
        "bench/seq2seq_shortlist.py --coverage has measured the model's tokenizer.",
    )
    summary_cache_entries: int = Field(
        2000,
        ge=0,
        le=1_000_000,
        description="Seq2seq summaries remembered in data_dir/summary_cache.sqlite, keyed by "
        "input, model, length and question; the least recently used go first; 0 turns it off.",
    )
    summary_max_words: int = Field(80, ge=5, le=1000)
    answer_list_max_words: int = Field(
        160,
        ge=5,
        le=1000,
        description="Default length of an answer to a list question ('yêu cầu gì', 'vì sao').",
    )

    # Chunking
    chunk_max_syllables: int = Field(
        DEFAULT_MAX_SYLLABLES,
        ge=10,
        le=400,
        description="Chunk size; e5-small's 512-token limit is far above it.",
    )
    chunk_overlap_sentences: int = Field(DEFAULT_OVERLAP_SENTENCES, ge=0, le=5)

    # Retrieval
    default_top_k: int = Field(5, ge=1, le=100)
    max_top_k: int = Field(50, ge=1, le=1000)
    rrf_k: int = Field(60, ge=1)
    # Retrieval quality levers, measured on ViQuAD dev in docs/benchmarks.md.
    fusion: Literal["convex", "rrf"] = Field(
        "convex", description="Hybrid fusion: weighted min-max normalized scores, or RRF."
    )
    fusion_dense_weight: float = Field(
        0.5, ge=0.0, le=1.0, description="Weight of the dense ranking; BM25 gets the rest."
    )
    bm25_bigrams: bool = Field(True, description="Index syllable pairs beside syllables.")
    bm25_folded: bool = Field(
        True,
        description="Diacritics-free BM25 field and diacritics restoration for "
        "questions typed without accents.",
    )
    bm25_folded_weight: float = Field(
        0.0,
        ge=0.0,
        le=10.0,
        description="Weight of the diacritics-free field when a question "
        "has accents (its main field weighs 1; unaccented questions use the folded field alone).",
    )
    bm25_long_query_terms: int = Field(
        DEFAULT_LONG_QUERY_TERMS,
        ge=0,
        description="A keyword query of more distinct terms (syllables and pairs) than this "
        "leaves out its common terms (see bm25_long_query_max_df); 0: never.",
    )
    bm25_long_query_max_df: float = Field(
        DEFAULT_LONG_QUERY_MAX_DF,
        gt=0.0,
        le=1.0,
        description="In a long keyword query, terms found in more than this share of the "
        "chunks are left out (cheaper at a million chunks; short questions keep every term).",
    )
    exact_search_max: int = Field(
        50_000,
        ge=1,
        description="Exact FAISS search up to this many chunks; an IVF index beyond it.",
    )
    ivf_nprobe: int = Field(
        DEFAULT_NPROBE,
        ge=1,
        le=4096,
        description="IVF lists searched per query (more: slower, better recall).",
    )
    ivf_codec: Literal["fp16", "sq8", "flat"] = Field(
        DEFAULT_CODEC,
        description="How IVF lists store vectors: half precision (half of float32's "
        "memory, its recall), 8-bit codes (a quarter, lower recall) or float32.",
    )
    dense_save_interval_s: float = Field(
        60.0,
        ge=0.0,
        description="Past exact_search_max chunks, save the vector file at most "
        "this often (a crash re-embeds the chunks written since).",
    )

    # Shared backends for several replicas (docs/scaleout.md); unset: everything embedded.
    index_backend: Literal["embedded", "milvus"] = Field(
        "embedded",
        description="embedded: FAISS + BM25 in this process (one process per data folder); "
        "milvus: the chunks' vectors and keywords in Milvus, shared by any number of replicas.",
    )
    milvus_uri: str = Field(
        "./data/milvus.db",
        description="A local path (Milvus Lite, in-process) or http(s)://host:port (a server).",
    )
    milvus_token: str | None = Field(
        None, description="Milvus `user:password` or API key.", repr=False
    )
    milvus_collection: str = Field("vnqa_chunks", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
    database_url: str | None = Field(
        None,
        description="postgresql://user:pass@host/db keeps the articles in PostgreSQL (shared "
        "by replicas); unset: SQLite under VNQA_DATA_DIR.",
        repr=False,
    )
    database_pool_max: int = Field(
        8, ge=1, le=256, description="PostgreSQL connections per process."
    )
    backend_timeout_s: float = Field(
        5.0,
        gt=0,
        le=120,
        description="How long a call to a shared backend may take before the request gets 503.",
    )

    # Network probe to the model hub, bounded so start-up never stalls.
    hub_probe_timeout_s: float = Field(3.0, gt=0, le=30)

    # HTTP
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    max_body_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    max_question_chars: int = Field(2000, ge=10)
    max_text_chars: int = Field(1_000_000, ge=100)
    max_batch_articles: int = Field(1000, ge=1)
    inference_workers: int = Field(2, ge=1, le=64)
    # Load shedding: calls waiting for an inference worker beyond this get 503 + Retry-After.
    max_queue: int = Field(16, ge=0, le=10_000)
    gil_switch_ms: float = Field(
        1.0,
        gt=0,
        le=100,
        description="How long a Python thread may hold the GIL while another waits for it "
        "(sys.setswitchinterval), set while the server runs: short, so a search's thread "
        "is not held back by an ask's or a summary's Python.",
    )
    max_summary_words: int = Field(400, ge=5, le=5000)

    # Summaries on arrival, digests, news from the web (service/auto_summaries.py,
    # service/digest.py, service/fetching.py, service/feeds.py)
    auto_summaries: bool = Field(
        True, description="Summarize every stored article in the background as it arrives."
    )
    summary_batch: int = Field(
        8, ge=1, le=256, description="Articles the summary worker takes from the queue at once."
    )
    summary_max_defer_s: float = Field(
        2.0,
        ge=0,
        le=60,
        description="Longest the summary worker waits for the server to be idle per article.",
    )
    summary_lease_s: float = Field(
        600.0,
        gt=0,
        le=86_400,
        description="With PostgreSQL: how long a replica holds a summary job it claimed; "
        "a replica that dies mid-job leaves its jobs to the others after this.",
    )
    digest_similarity: float = Field(
        0.90,
        ge=0.0,
        le=1.0,
        description="Cosine of title+lead vectors above which two articles tell one story.",
    )
    digest_max_articles: int = Field(
        2000, ge=1, le=100_000, description="Most articles one digest groups."
    )
    fetch_allow_private: bool = Field(
        False, description="Allow fetching from private, loopback and link-local addresses."
    )
    fetch_max_bytes: int = Field(5 * 1024 * 1024, ge=1024, description="Largest page fetched.")
    fetch_timeout_s: float = Field(15.0, gt=0, le=300, description="Time limit per fetch.")
    fetch_max_redirects: int = Field(5, ge=0, le=20)
    feeds: str | None = Field(
        None, description="Comma-separated RSS/Atom feed URLs the server polls."
    )
    feed_interval_s: float = Field(300.0, ge=1, description="Seconds between feed polls.")
    feed_lease_s: float = Field(
        120.0,
        gt=0,
        le=86_400,
        description="How long a replica's claim on a feed it polls lasts without progress "
        "(renewed before each item; keep it above VNQA_FETCH_TIMEOUT_S): a replica that "
        "dies mid-poll leaves the feed to the others after this.",
    )

    # Access and operations (see service/api/security.py, service/api/observability.py)
    api_keys: str | None = Field(
        None,
        description="Comma-separated `key:scope` pairs, scope `read` or `write` "
        "(write implies read); unset = no authentication (bind to 127.0.0.1 then).",
        repr=False,  # never printed with the settings
    )
    metrics_public: bool = Field(
        False, description="Serve /metrics without a key even when API keys are set."
    )
    cors_origins: str | None = Field(
        None, description="Comma-separated origins allowed by CORS; unset = CORS off."
    )
    log_format: Literal["json", "text"] = Field(
        "json", description="`vnqa serve` logs: one JSON object a line, or readable text."
    )

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("VNQA_DATABASE_URL must start with postgresql://")
        return value or None

    @field_validator("api_keys")
    @classmethod
    def _check_api_keys(cls, value: str | None) -> str | None:
        parse_api_keys(value)  # fail at start-up, naming the bad entry (never the key)
        return value

    def api_key_scopes(self) -> dict[str, KeyScope]:
        """``{key: "read" | "write"}`` from ``api_keys``; empty when unset."""
        return parse_api_keys(self.api_keys)

    def cors_origin_list(self) -> list[str]:
        """The configured CORS origins; empty means CORS stays off."""
        return [o.strip() for o in (self.cors_origins or "").split(",") if o.strip()]

    def feed_list(self) -> list[str]:
        """The configured feed URLs; empty means no polling."""
        return [u.strip() for u in (self.feeds or "").split(",") if u.strip()]

    @property
    def index_dir(self) -> Path:
        """Folder holding FAISS, BM25 and the SQLite store."""
        return self.data_dir / "index"


KeyScope = Literal["read", "write"]
_SCOPES: dict[str, KeyScope] = {"read": "read", "write": "write"}


def parse_api_keys(raw: str | None) -> dict[str, KeyScope]:
    """``"k1:write,k2:read"`` -> ``{"k1": "write", "k2": "read"}``.

    Raises ``ValueError`` naming the entry (by position, never the key) that lacks a
    ``read``/``write`` scope or whose key is shorter than 8 characters.
    """
    keys: dict[str, KeyScope] = {}
    for n, entry in enumerate((raw or "").split(","), start=1):
        if not entry.strip():
            continue
        key, sep, scope = entry.strip().rpartition(":")
        checked = _SCOPES.get(scope.strip().lower())
        if not sep or checked is None:
            raise ValueError(f"VNQA_API_KEYS entry {n} must be `key:read` or `key:write`")
        if len(key.strip()) < 8:
            raise ValueError(f"VNQA_API_KEYS entry {n}: keys need at least 8 characters")
        keys[key.strip()] = checked
    return keys


@lru_cache
def get_settings() -> Settings:
    """Settings read once per process from the environment."""
    return Settings()
