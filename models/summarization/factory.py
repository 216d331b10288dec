"""Pick and build the summarizer: seq2seq when its weights can be had, extractive otherwise.

A seq2seq checkpoint runs on one of two backend families: CTranslate2 (converted once
to int8 under ``models_dir/ct2/``, the default when the checkpoint converts) or
transformers/torch (fp32).

Weights are looked for offline first — a local folder, then the Hugging Face cache —
and only fetched when ``models.hub.hub_reachable`` says the hub answers, so start-up
never waits on ``huggingface_hub``'s minute of retries.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from models.errors import ModelNotAvailableError
from models.model_source import locate_model, looks_like_path
from models.summarization.base import Summarizer
from models.summarization.checkpoint import checkpoint_fingerprint, inspect_checkpoint
from models.summarization.ctranslate2_backend import CTranslate2Generator, convert_checkpoint
from models.summarization.extractive import EmbedFn, ExtractiveSummarizer
from models.summarization.seq2seq import LongInput, Seq2SeqSummarizer

logger = logging.getLogger(__name__)

SummarizerKind = Literal["auto", "seq2seq", "extractive"]
BackendChoice = Literal["auto", "ctranslate2", "torch"]

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
    backend: BackendChoice = "auto",
    models_dir: Path | None = None,
    long_input: LongInput = "select",
    shortlist: bool = False,
) -> SummarizerChoice:
    """Build the summarizer ``kind`` asks for.

    ``seq2seq`` loads ``model_id`` (see :func:`load_seq2seq`) or raises
    ``ModelNotAvailableError``; ``extractive`` needs no weights; ``auto`` tries
    seq2seq and falls back to extractive, logging the reason once at WARNING and
    keeping it in ``fallback_reason``. ``embed_fn`` / ``embed_query_fn`` (an
    embedder's passage and query functions) sharpen extractive question relevance.
    ``shortlist`` lets CTranslate2 decode over a vocabulary shortlist.
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
            backend=backend,
            models_dir=models_dir,
            long_input=long_input,
            shortlist=shortlist,
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
    backend: BackendChoice = "auto",
    models_dir: Path | None = None,
    long_input: LongInput = "select",
    quantization: str = "int8",
    shortlist: bool = False,
) -> Seq2SeqSummarizer:
    """Load a seq2seq summarizer on the backend ``backend`` chooses.

    The checkpoint is found by :func:`resolve_checkpoint`. ``ctranslate2`` converts it
    once (see :func:`prepare_ctranslate2`) and raises ``ModelNotAvailableError`` when it
    cannot; ``torch`` loads it with transformers; ``auto`` is CTranslate2 when the
    checkpoint converts and ``models_dir`` is given, torch otherwise (the reason logged
    once at WARNING). ``shortlist``: CTranslate2 restricts each generation's output layer
    to its input's tokens plus the always-on list (see :mod:`models.summarization.shortlist`).
    """
    if backend not in ("auto", "ctranslate2", "torch"):
        raise ValueError(f"unknown summarizer backend {backend!r}")
    folder = resolve_checkpoint(model_id, models_dir, hub_probe_timeout_s)
    fingerprint = checkpoint_fingerprint(folder)
    # A Hugging Face snapshot folder is named by a commit hash: keep the hub id as the name.
    in_hub_cache = (
        not Path(model_id).expanduser().is_dir() and folder.name != model_id.rsplit("/", 1)[-1]
    )
    options: dict[str, Any] = {
        "name": model_id if in_hub_cache else None,
        "device": device,
        "max_input_tokens": max_input_tokens,
        "num_beams": num_beams,
        "long_input": long_input,
        "checkpoint_fingerprint": fingerprint,
    }
    if backend != "torch":
        try:
            if models_dir is None:
                raise ModelNotAvailableError("no models folder to keep the CTranslate2 copy in")
            converted = prepare_ctranslate2(folder, models_dir, quantization, fingerprint)
            return Seq2SeqSummarizer(
                str(folder),
                generator=_ctranslate2_factory(converted, quantization, device, shortlist),
                **options,
            )
        except ModelNotAvailableError as exc:
            if backend == "ctranslate2":
                raise
            _warn_once(f"seq2seq model {folder.name} runs on torch: {exc}")
    return Seq2SeqSummarizer(str(folder), local_files_only=True, **options)


def prepare_ctranslate2(
    folder: Path, models_dir: Path, quantization: str = "int8", fingerprint: str | None = None
) -> Path:
    """The CTranslate2 copy of the checkpoint ``folder``, converted now if missing.

    Raises ``ModelNotAvailableError`` when the checkpoint is incomplete or does not
    convert.
    """
    inspect_checkpoint(folder)
    fingerprint = fingerprint or checkpoint_fingerprint(folder)
    return convert_checkpoint(
        folder, models_dir, fingerprint=fingerprint, quantization=quantization
    )


def _ctranslate2_factory(
    converted: Path, quantization: str, device: str, shortlist: bool = False
) -> Callable[[Any, Any], CTranslate2Generator]:
    def make(tokenizer: Any, config: Any) -> CTranslate2Generator:
        return CTranslate2Generator(
            converted,
            tokenizer,
            quantization=quantization,
            forced_bos_token_id=getattr(config, "forced_bos_token_id", None),
            device=device,
            shortlist=shortlist,
        )

    return make


def resolve_checkpoint(
    model_id: str, models_dir: Path | None = None, hub_probe_timeout_s: float = 3.0
) -> Path:
    """The local folder of ``model_id``: a folder path; ``models_dir/<name>`` (what
    ``vnqa models import`` installs; for a hub id ``owner/name``, its last part too);
    the Hugging Face cache; the hub, when reachable.

    Raises ``ModelNotAvailableError`` naming what was tried when none works.
    """
    path = Path(model_id).expanduser()
    if path.is_dir():
        return path
    if looks_like_path(model_id):
        raise ModelNotAvailableError(f"seq2seq model folder {model_id!r} does not exist")
    if models_dir is not None:
        for name in dict.fromkeys([model_id, model_id.rsplit("/", 1)[-1]]):
            candidate = Path(models_dir).expanduser() / name
            if (candidate / "config.json").is_file():
                return candidate

    found = locate_model(model_id, hub_probe_timeout_s=hub_probe_timeout_s)
    if found.where == "cache" and found.folder is not None:
        return _checked(found.folder)
    if found.where == "hub":
        from huggingface_hub import snapshot_download

        logger.info("downloading seq2seq model %s from the hub", model_id)
        try:
            return _checked(Path(snapshot_download(model_id)))
        except Exception as exc:
            raise ModelNotAvailableError(
                f"cannot download seq2seq model {model_id}: {exc}"
            ) from exc
    where = f"; not in {models_dir}" if models_dir is not None else ""
    raise ModelNotAvailableError(
        f"seq2seq model {model_id} not available offline ({'; '.join(found.tried)}{where}); "
        "bring one with `vnqa models import PATH`"
    )


def _checked(folder: Path) -> Path:
    inspect_checkpoint(folder)
    return folder


def _extractive(embed_fn: EmbedFn | None, embed_query_fn: EmbedFn | None) -> ExtractiveSummarizer:
    return ExtractiveSummarizer(embed=embed_fn, embed_query=embed_query_fn)


def _warn_once(message: str) -> None:
    with _warned_lock:
        if message in _warned:
            return
        _warned.add(message)
    logger.warning("%s", message)
