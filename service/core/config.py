"""The one place vnqa reads configuration: ``VNQA_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.defaults import DEFAULT_MAX_SYLLABLES, DEFAULT_OVERLAP_SENTENCES
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
        True, description="Diacritics-free BM25 field and diacritics restoration for "
        "questions typed without accents."
    )
    bm25_folded_weight: float = Field(
        0.0, ge=0.0, le=10.0, description="Weight of the diacritics-free field when a question "
        "has accents (its main field weighs 1; unaccented questions use the folded field alone)."
    )
    exact_search_max: int = Field(
        50_000, ge=1,
        description="Exact FAISS search up to this many chunks; an IVF index beyond it.",
    )
    ivf_nprobe: int = Field(
        64, ge=1, le=4096, description="IVF lists searched per query (more: slower, better recall)."
    )
    ivf_codec: Literal["sq8", "flat"] = Field(
        "sq8", description="How IVF lists store vectors: 8-bit codes (a quarter of the memory) "
        "or float32."
    )
    dense_save_interval_s: float = Field(
        60.0, ge=0.0, description="Past exact_search_max chunks, save the vector file at most "
        "this often (a crash re-embeds the chunks written since)."
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
    max_summary_words: int = Field(400, ge=5, le=5000)

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
