"""The embedder on ONNX Runtime, optionally int8: same vectors as the torch model, ~2-3x faster.

:func:`build_onnx_model` exports a sentence-transformers folder (BERT-like encoder, mean
pooling, L2 normalization) to one ONNX graph whose output is the sentence embedding,
then applies ONNX Runtime's dynamic int8 quantization (weights int8 per channel,
activations quantized on the fly). The export needs torch and ``onnx`` once; serving
with :class:`OnnxEmbedder` needs only ``onnxruntime``, ``tokenizers`` and numpy, so a
process that embeds with it never imports torch (about 0.5 GB less resident memory).

Built files live in ``models_dir/<name>-<source fingerprint>-<variant>[-<recipe>]/``
and are reused; a different source model gets a different folder. The embedder's
fingerprint mixes the source weights' fingerprint with the variant and its build
recipe (:data:`BUILD_RECIPES`), so an index built with one backend, or with an earlier
build of the same backend, refuses vectors from another (``IndexMismatchError`` →
``vnqa reindex``), and a changed recipe is built into a new folder beside the old one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from models import priority
from models.errors import ModelNotAvailableError

logger = logging.getLogger(__name__)

OnnxVariant = Literal["onnx", "onnx-int8"]
ONNX_VARIANTS: tuple[str, ...] = ("onnx", "onnx-int8")
_MODEL_FILE = "model.onnx"
_BUILD_FILE = "vnqa_onnx_build.json"
_BUILD_VERSION = 1
# What a variant's build does beyond the first one (""), e.g. "eager": the attention
# traced as matmuls + softmax. Part of the folder name and of the fingerprint, so
# vectors of two builds never share an index. Figures: docs/benchmarks.md, issue 15.
BUILD_RECIPES: dict[str, str] = {"onnx": "", "onnx-int8": "eager"}
_OPSET = 17
# Tokens per batch: long chunks go in small batches, short queries in large ones.
_TOKENS_PER_BATCH = 4096
_BATCH_OVERHEAD_TOKENS = 8  # a forward pass's fixed cost, in tokens' worth of model time


def length_batches(
    lengths: Sequence[int],
    max_batch: int,
    token_budget: int = _TOKENS_PER_BATCH,
    overhead: int = _BATCH_OVERHEAD_TOKENS,
) -> list[list[int]]:
    """Split texts of ``lengths`` (tokens) into batches that waste the least padding.

    Texts are sorted longest first and cut where the padded tokens plus ``overhead``
    per batch are fewest (dynamic programming over the cut points), each batch at most
    ``max_batch`` texts and ``token_budget`` padded tokens. Returns the indices of each
    batch, longest batch first.
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    sizes = [max(1, lengths[i]) for i in order]
    n = len(order)
    cost = [0.0] + [float("inf")] * n  # cost[j]: best for the first j texts
    cut = [0] * (n + 1)
    for i in range(n):  # a batch starting at i (its longest text) ...
        if cost[i] == float("inf"):
            continue
        longest = sizes[i]
        most = max(1, min(max_batch, token_budget // longest, n - i))
        for size in range(1, most + 1):  # ... holding `size` texts
            total = cost[i] + longest * size + overhead
            if total < cost[i + size]:
                cost[i + size], cut[i + size] = total, i
    batches: list[list[int]] = []
    end = n
    while end > 0:
        batches.append(order[cut[end] : end])
        end = cut[end]
    return batches[::-1]


def _variant_id(variant: str) -> str:
    recipe = BUILD_RECIPES.get(variant, "")
    return f"{variant}-{recipe}" if recipe else variant


def backend_fingerprint(source_fingerprint: str, variant: str) -> str:
    """Fingerprint of vectors made by ``variant``'s build from weights with ``source_fingerprint``.

    A variant whose build recipe is the first one keeps the fingerprint it always had.
    """
    recipe = BUILD_RECIPES.get(variant, "")
    key = f"{source_fingerprint}:{variant}" + (f":{recipe}" if recipe else "")
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def onnx_folder(models_dir: Path, source: Path, source_fingerprint: str, variant: str) -> Path:
    """Where the ONNX build of ``source`` for ``variant`` (and its recipe) is kept."""
    return Path(models_dir) / f"{Path(source).name}-{source_fingerprint}-{_variant_id(variant)}"


def _export_fp32(source: Path, dest: Path, *, eager_attention: bool = False) -> None:
    """Trace encoder + mean pooling + L2 normalization into one ONNX graph (needs torch).

    ``eager_attention`` traces the attention as its matmuls and softmax (transformers'
    "eager" implementation) instead of torch's fused SDPA, whose exported pattern
    (softmax, then ``IsNaN``/``Where``) ONNX Runtime's transformer optimizer does not
    recognise; same numbers, but only the eager graph's attention can be fused.
    """
    import torch
    from transformers import AutoModel

    class _Pooled(torch.nn.Module):
        def __init__(self, encoder: torch.nn.Module) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask)[0]
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    extra = {"attn_implementation": "eager"} if eager_attention else {}
    encoder = AutoModel.from_pretrained(str(source), local_files_only=True, **extra)
    encoder.eval()
    # Padded dummy batch, so the traced graph keeps the attention-mask path.
    ids = torch.ones((2, 8), dtype=torch.long)
    mask = torch.ones((2, 8), dtype=torch.long)
    mask[1, 5:] = 0
    with torch.no_grad():
        torch.onnx.export(
            _Pooled(encoder),
            (ids, mask),
            str(dest),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "embedding": {0: "batch"},
            },
            opset_version=_OPSET,
            dynamo=False,
        )


def _quantize_int8(src: Path, dest: Path) -> None:
    """Dynamic int8 quantization of every MatMul and Gather (the 250k-word embedding table)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(src),
        str(dest),
        weight_type=QuantType.QInt8,
        per_channel=True,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def build_onnx_model(source: Path, dest: Path, *, variant: str, source_fingerprint: str) -> Path:
    """Build ``dest/model.onnx`` (and the tokenizer) from the model folder ``source``.

    A complete ``dest`` is reused. The folder is written beside ``dest`` and renamed
    into place, so an interrupted build leaves nothing half-made.
    """
    if variant not in ONNX_VARIANTS:
        raise ValueError(f"unknown ONNX variant {variant!r}; expected one of {ONNX_VARIANTS}")
    dest = Path(dest)
    if _complete(dest, source_fingerprint, variant):
        return dest
    source = Path(source)
    if not (source / "tokenizer.json").is_file():
        raise ModelNotAvailableError(
            f"{source} has no tokenizer.json (a fast tokenizer); the ONNX backend needs one. "
            "Use VNQA_EMBEDDING_BACKEND=torch for this model."
        )
    started = time.perf_counter()
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    try:
        fp32 = work / ("model-fp32.onnx" if variant == "onnx-int8" else _MODEL_FILE)
        _export_fp32(source, fp32, eager_attention=BUILD_RECIPES[variant] == "eager")
        if variant == "onnx-int8":
            _quantize_int8(fp32, work / _MODEL_FILE)
            fp32.unlink()
        for name in ("tokenizer.json", "sentence_bert_config.json"):
            if (source / name).is_file():
                shutil.copy2(source / name, work / name)
        (work / _BUILD_FILE).write_text(
            json.dumps(
                {
                    "version": _BUILD_VERSION,
                    "variant": variant,
                    "recipe": BUILD_RECIPES[variant],
                    "source": str(source),
                    "source_fingerprint": source_fingerprint,
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        if dest.exists():
            shutil.rmtree(dest)
        work.rename(dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    logger.info("built %s ONNX model at %s (%.1fs)", variant, dest, time.perf_counter() - started)
    return dest


def _complete(folder: Path, source_fingerprint: str, variant: str) -> bool:
    try:
        build = json.loads((folder / _BUILD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        build.get("version") == _BUILD_VERSION
        and build.get("variant") == variant
        and build.get("recipe", "") == BUILD_RECIPES[variant]
        and build.get("source_fingerprint") == source_fingerprint
        and (folder / _MODEL_FILE).is_file()
        and (folder / "tokenizer.json").is_file()
    )


def _max_seq_length(folder: Path) -> int:
    try:
        config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        return int(config.get("max_seq_length", 512))
    except (OSError, ValueError, TypeError):
        return 512


def token_batches(lengths: Sequence[int], max_batch: int, parallel: int = 1) -> list[list[int]]:
    """Indices of texts with token counts ``lengths``, grouped into forward passes.

    The batches of :func:`length_batches` (least padding); but a request that fits in
    fewer than ``parallel`` batches (a question's few dozen sentences) is cut into
    ``parallel`` batches of about equal padded tokens instead, so that each core runs
    one of them.
    """
    batches = length_batches(lengths, max_batch)
    ways = min(parallel, len(lengths))
    if len(batches) >= ways:
        return batches
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    total = sum(max(lengths[i], 1) for i in order)
    batches, current, spent = [], [], 0
    for i in order:
        current.append(i)
        spent += max(lengths[i], 1)
        if len(batches) < ways - 1 and spent >= total * (len(batches) + 1) / ways:
            batches.append(current)
            current = []
    if current:
        batches.append(current)
    return batches


class OnnxEmbedder:
    """An ONNX Runtime sentence embedder with the :class:`models.embeddings.Embedder` interface.

    ``embed_queries`` and ``embed_passages`` return float32 ``(n, dimension)`` L2-normalized
    rows in input order. Texts are sorted by length and cut into batches where padding
    is least (:func:`length_batches`, within a token budget). Inputs are truncated to
    ``max_seq_length`` tokens.

    Each forward pass runs on one thread and batches run ``parallel`` at a time (ONNX
    Runtime releases the GIL): a query never waits on a thread pool's wake-up, and
    concurrent requests each get a core instead of contending for all of them.
    """

    def __init__(
        self,
        folder: Path,
        *,
        name: str,
        source: str,
        fingerprint: str,
        query_prefix: str,
        passage_prefix: str,
        parallel: int | None = None,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = Path(folder)
        self.name = name
        self.source = source
        self.fingerprint = fingerprint
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.max_seq_length = _max_seq_length(folder)
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(self.max_seq_length)
        self._tokenize_lock = threading.Lock()
        self.parallel = max(1, parallel or os.cpu_count() or 1)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(
            str(folder / _MODEL_FILE), options, providers=["CPUExecutionProvider"]
        )
        self.dimension = int(self._run([self._tokenizer.encode("x")]).shape[1])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries (with the query prefix) as L2-normalized float32 rows."""
        return self._encode(texts, self.query_prefix)

    def embed_passages(
        self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False
    ) -> np.ndarray:
        """Embed documents (with the passage prefix) as L2-normalized float32 rows.

        ``batch_size`` caps the texts per forward pass; ``show_progress`` is accepted for
        interface compatibility and ignored.
        """
        return self._encode(texts, self.passage_prefix, max_batch=batch_size)

    def count_tokens(self, text: str) -> int:
        """Tokens the model reads for ``text`` as a passage, before truncation."""
        with self._tokenize_lock:
            self._tokenizer.no_truncation()
            try:
                return len(self._tokenizer.encode(self.passage_prefix + text).ids)
            finally:
                self._tokenizer.enable_truncation(self.max_seq_length)

    def count_text_tokens(self, text: str) -> int:
        """Tokens of ``text`` alone: no prefix, no ``<s>``/``</s>``, no truncation."""
        with self._tokenize_lock:
            self._tokenizer.no_truncation()
            try:
                return len(self._tokenizer.encode(text, add_special_tokens=False).ids)
            finally:
                self._tokenizer.enable_truncation(self.max_seq_length)

    def _encode(self, texts: Sequence[str], prefix: str, max_batch: int = 64) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("expected a sequence of texts, got a single string")
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._tokenize_lock:
            encodings = self._tokenizer.encode_batch([prefix + t for t in texts])
        batches = token_batches([len(e.ids) for e in encodings], max_batch, self.parallel)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)

        def job(batch: list[int]) -> Callable[[], None]:
            def run() -> None:
                out[batch] = self._run([encodings[i] for i in batch])

            return run

        # Searches run their batch here; asks' and ingests' batches run on threads of
        # lowered priority, each holding a CPU slot (models/priority.py).
        priority.run_batches([job(b) for b in batches], self.parallel)
        return out

    def _run(self, encodings: list) -> np.ndarray:
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), length), dtype=np.int64)
        mask = np.zeros((len(encodings), length), dtype=np.int64)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        (vectors,) = self._session.run(None, {"input_ids": ids, "attention_mask": mask})
        return np.asarray(vectors, dtype=np.float32)

    def __repr__(self) -> str:
        return (
            f"OnnxEmbedder(name={self.name!r}, dimension={self.dimension}, "
            f"fingerprint={self.fingerprint!r}, source={self.source!r})"
        )


__all__ = [
    "BUILD_RECIPES",
    "ONNX_VARIANTS",
    "length_batches",
    "OnnxEmbedder",
    "backend_fingerprint",
    "build_onnx_model",
    "onnx_folder",
    "token_batches",
]
