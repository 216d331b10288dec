"""The one place vnqa reads configuration: ``VNQA_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_EMBEDDING_MODEL = "intfloat/multilingual-e5-small"
DEFAULT_SUMMARIZER_MODEL = "VietAI/vit5-base-vietnews-summarization"


class Settings(BaseSettings):
    """Runtime configuration; every field maps to ``VNQA_<FIELD>`` (case-insensitive)."""

    model_config = SettingsConfigDict(env_prefix="VNQA_", env_file=".env", extra="ignore")

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

    # Summaries
    summarizer: Literal["auto", "seq2seq", "extractive"] = "auto"
    summarizer_model: str = Field(
        DEFAULT_SUMMARIZER_MODEL, description="Hub id or local folder of a seq2seq model."
    )
    summary_max_words: int = Field(80, ge=5, le=1000)

    # Chunking
    chunk_max_syllables: int = Field(
        120, ge=10, le=400, description="Chunk size; e5-small's 512-token limit is far above it."
    )
    chunk_overlap_sentences: int = Field(1, ge=0, le=5)

    # Retrieval
    default_top_k: int = Field(5, ge=1, le=100)
    max_top_k: int = Field(50, ge=1, le=1000)
    rrf_k: int = Field(60, ge=1)

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

    @property
    def index_dir(self) -> Path:
        """Folder holding FAISS, BM25 and the SQLite store."""
        return self.data_dir / "index"


@lru_cache
def get_settings() -> Settings:
    """Settings read once per process from the environment."""
    return Settings()
