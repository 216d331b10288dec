"""Pick and build the summarizer: seq2seq when its weights can be had, extractive otherwise.

Weights are looked for offline first — a local folder, then the Hugging Face cache —
and only fetched when ``models.hub.hub_reachable`` says the hub answers, so start-up
never waits on ``huggingface_hub``'s minute of retries.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from models.errors import ModelNotAvailableError
from models.model_source import locate_model, looks_like_path
from models.summarization.base import Summarizer
from models.summarization.extractive import EmbedFn, ExtractiveSummarizer
from models.summarization.seq2seq import Seq2SeqSummarizer

logger = logging.getLogger(__name__)

SummarizerKind = Literal["auto", "seq2seq", "extractive"]

_warned: set[str] = set()
_warned_lock = threading.Lock()


@dataclass(frozen=True)
class SummarizerChoice:
    """The summarizer built, what was asked for, and why it differs (if it does)."""

    summarizer: Summarizer
    requested: SummarizerKind
    fallback_reason: str | None = None

    @property
    def method(self) -> str:
        """``"abstractive"`` or ``"extractive"``."""
        return self.summarizer.method

    @property
    def model_name(self) -> str:
        """The checkpoint or scorer behind the summaries."""
        return self.summarizer.model_name


def build_summarizer(
    kind: SummarizerKind,
    model_id: str,
    *,
    device: str = "cpu",
    max_input_tokens: int | None = None,
    num_beams: int = 4,
    hub_probe_timeout_s: float = 3.0,
    embed_fn: EmbedFn | None = None,
    embed_query_fn: EmbedFn | None = None,
) -> SummarizerChoice:
    """Build the summarizer ``kind`` asks for.

    ``seq2seq`` loads ``model_id`` (see :func:`load_seq2seq`) or raises
    ``ModelNotAvailableError``; ``extractive`` needs no weights; ``auto`` tries
    seq2seq and falls back to extractive, logging the reason once at WARNING and
    keeping it in ``fallback_reason``. ``embed_fn`` / ``embed_query_fn`` (an
    embedder's passage and query functions) sharpen extractive question relevance.
    """
    if kind == "extractive":
        return SummarizerChoice(_extractive(embed_fn, embed_query_fn), requested=kind)
    if kind not in ("auto", "seq2seq"):
        raise ValueError(f"unknown summarizer kind {kind!r}")
    try:
        model = load_seq2seq(
            model_id,
            device=device,
            max_input_tokens=max_input_tokens,
            num_beams=num_beams,
            hub_probe_timeout_s=hub_probe_timeout_s,
        )
        return SummarizerChoice(model, requested=kind)
    except Exception as exc:
        if kind == "seq2seq":
            raise
        # auto must always come up: any failure to load means extractive summaries.
        reason = f"{exc}; using extractive summaries"
        _warn_once(reason)
        return SummarizerChoice(
            _extractive(embed_fn, embed_query_fn), requested=kind, fallback_reason=reason
        )


def load_seq2seq(
    model_id: str,
    *,
    device: str = "cpu",
    max_input_tokens: int | None = None,
    num_beams: int = 4,
    hub_probe_timeout_s: float = 3.0,
) -> Seq2SeqSummarizer:
    """Load a seq2seq summarizer: local folder → Hugging Face cache → hub (if reachable).

    Raises ``ModelNotAvailableError`` naming what was tried when none works.
    """
    options: dict[str, Any] = {
        "device": device, "max_input_tokens": max_input_tokens, "num_beams": num_beams,
    }
    path = Path(model_id).expanduser()
    if path.is_dir():
        return Seq2SeqSummarizer(str(path), local_files_only=True, **options)
    if looks_like_path(model_id):
        raise ModelNotAvailableError(f"seq2seq model folder {model_id!r} does not exist")

    found = locate_model(model_id, hub_probe_timeout_s=hub_probe_timeout_s)
    if found.where == "cache":  # loaded by id, so the model keeps its hub name
        return Seq2SeqSummarizer(model_id, local_files_only=True, **options)
    if found.where == "hub":
        logger.info("downloading seq2seq model %s from the hub", model_id)
        return Seq2SeqSummarizer(model_id, local_files_only=False, **options)
    raise ModelNotAvailableError(
        f"seq2seq model {model_id} not available offline ({'; '.join(found.tried)})"
    )


def _extractive(embed_fn: EmbedFn | None, embed_query_fn: EmbedFn | None) -> ExtractiveSummarizer:
    return ExtractiveSummarizer(embed=embed_fn, embed_query=embed_query_fn)


def _warn_once(message: str) -> None:
    with _warned_lock:
        if message in _warned:
            return
        _warned.add(message)
    logger.warning("%s", message)
