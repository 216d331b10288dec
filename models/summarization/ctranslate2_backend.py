"""The CTranslate2 backend: a checkpoint converted once (int8 by default), then served.

``convert_checkpoint`` writes ``models_dir/ct2/<name>-<checkpoint fingerprint>-<quantization>/``
beside a scratch folder and renames it into place, so an interrupted conversion leaves
nothing half-made; a complete folder for the same fingerprint is reused, and a changed
checkpoint (another fingerprint) converts again. The tokenizer stays the checkpoint's own.
Each conversion also gets a decoding shortlist (``vmap.txt``,
:mod:`models.summarization.shortlist`), which the generator uses when told to.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from models.errors import ModelNotAvailableError
from models.summarization.generation import DecodeOptions
from models.summarization.shortlist import VMAP_FILE, write_vmap

logger = logging.getLogger(__name__)

_BUILD_FILE = "vnqa_build.json"
_BUILD_VERSION = 2  # 2: with the decoding shortlist (vmap.txt)
QUANTIZATIONS = ("int8", "int8_float32", "float32")


def ctranslate2_available() -> bool:
    """Whether the ``ctranslate2`` package can be imported."""
    try:
        import ctranslate2  # noqa: F401
    except ImportError:
        return False
    return True


def converted_folder(
    models_dir: Path, checkpoint: Path, fingerprint: str, quantization: str
) -> Path:
    """Where the conversion of ``checkpoint`` (with ``fingerprint``) lives."""
    return Path(models_dir) / "ct2" / f"{Path(checkpoint).name}-{fingerprint}-{quantization}"


def is_converted(folder: Path, fingerprint: str, quantization: str) -> bool:
    """Whether ``folder`` holds a complete conversion of that fingerprint."""
    try:
        build = json.loads((Path(folder) / _BUILD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        build.get("version") == _BUILD_VERSION
        and build.get("fingerprint") == fingerprint
        and build.get("quantization") == quantization
        and (Path(folder) / "model.bin").is_file()
    )


def convert_checkpoint(
    checkpoint: Path,
    models_dir: Path,
    *,
    fingerprint: str,
    quantization: str = "int8",
) -> Path:
    """Convert ``checkpoint`` to CTranslate2 (once per fingerprint) and return the folder.

    Raises ``ModelNotAvailableError`` when ctranslate2 is missing or the conversion
    fails (an architecture it does not support, a damaged checkpoint).
    """
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"unknown quantization {quantization!r}; expected one of {QUANTIZATIONS}")
    dest = converted_folder(models_dir, checkpoint, fingerprint, quantization)
    if is_converted(dest, fingerprint, quantization):
        return dest
    if not ctranslate2_available():
        raise ModelNotAvailableError("ctranslate2 is not installed")
    from ctranslate2.converters import TransformersConverter

    started = time.perf_counter()
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    try:
        out = work / "model"
        try:
            TransformersConverter(str(checkpoint)).convert(
                str(out), quantization=None if quantization == "float32" else quantization
            )
        except Exception as exc:  # the converter raises bare ValueError/KeyError/OSError
            raise ModelNotAvailableError(
                f"cannot convert {checkpoint} to CTranslate2: {exc}"
            ) from exc
        try:
            always_on = _write_shortlist(out, checkpoint)
        except (ModelNotAvailableError, OSError, ValueError) as exc:  # opt-in: never fatal
            logger.warning("no decoding shortlist for %s: %s", checkpoint, exc)
            always_on = 0
        (out / _BUILD_FILE).write_text(
            json.dumps(
                {
                    "version": _BUILD_VERSION,
                    "fingerprint": fingerprint,
                    "quantization": quantization,
                    "source": str(checkpoint),
                    "shortlist_always_on": always_on,
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        if dest.exists():
            shutil.rmtree(dest)
        out.rename(dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    logger.info(
        "converted %s to CTranslate2 %s at %s (%.1fs)",
        checkpoint,
        quantization,
        dest,
        time.perf_counter() - started,
    )
    return dest


def _write_shortlist(folder: Path, checkpoint: Path) -> int:
    """``vmap.txt`` over the converted vocabulary; returns the always-on count."""
    from transformers import AutoTokenizer

    names = ("shared_vocabulary.json", "target_vocabulary.json")
    path = next((folder / n for n in names if (folder / n).is_file()), None)
    if path is None:
        raise ModelNotAvailableError(f"no target vocabulary in the conversion of {checkpoint}")
    vocabulary = json.loads(path.read_text(encoding="utf-8"))
    tokenizer = AutoTokenizer.from_pretrained(str(checkpoint), local_files_only=True)
    return write_vmap(folder, vocabulary, checkpoint, tokenizer)


def _cpu_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class CTranslate2Generator:
    """Generation with a ``ctranslate2.Translator`` over a converted folder."""

    backend = "ctranslate2"

    def __init__(
        self,
        folder: Path,
        tokenizer: Any,
        *,
        quantization: str = "int8",
        forced_bos_token_id: int | None = None,
        device: str = "cpu",
        threads: int | None = None,
        shortlist: bool = False,
    ) -> None:
        """Load the converted model; ``tokenizer`` maps ids to the tokens it reads.

        With ``shortlist`` (and a ``vmap.txt`` in ``folder``), each beam-searched
        generation's output layer is restricted to its input's tokens plus the always-on
        list; streams decode over the whole vocabulary.
        """
        import ctranslate2

        compute_type = "float32" if quantization == "float32" else "int8"
        try:
            self.translator = ctranslate2.Translator(
                str(folder),
                device=device,
                compute_type=compute_type,
                inter_threads=1,
                intra_threads=threads or _cpu_threads(),
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelNotAvailableError(f"cannot load CTranslate2 model {folder}: {exc}") from exc
        self.tokenizer = tokenizer
        self.folder = Path(folder)
        self.use_vmap = shortlist and (self.folder / VMAP_FILE).is_file()
        self.variant = f"ctranslate2-{quantization}" + ("-shortlist" if self.use_vmap else "")
        # mBART-style checkpoints start their output with a forced language token.
        self._prefix = (
            [tokenizer.convert_ids_to_tokens(forced_bos_token_id)]
            if forced_bos_token_id is not None
            else None
        )

    def generate(self, inputs: Sequence[Sequence[int]], options: DecodeOptions) -> list[list[int]]:
        """Beam search over the batch; returns the ids of each best hypothesis."""
        source = [self.tokenizer.convert_ids_to_tokens(list(row)) for row in inputs]
        results = self.translator.translate_batch(
            source,
            target_prefix=[self._prefix] * len(source) if self._prefix else None,
            beam_size=options.num_beams,
            max_decoding_length=options.max_new_tokens + (1 if self._prefix else 0),
            min_decoding_length=min(options.min_new_tokens, options.max_new_tokens),
            no_repeat_ngram_size=options.no_repeat_ngram_size,
            max_input_length=0,  # inputs arrive already fitted to the model's window
            use_vmap=self.use_vmap,
        )
        return [self.tokenizer.convert_tokens_to_ids(r.hypotheses[0]) for r in results]

    def stream(self, input_ids: Sequence[int], options: DecodeOptions) -> Iterator[int]:
        """Greedy ``generate_tokens``; closing the iterator stops the generation."""
        steps = self.translator.generate_tokens(
            self.tokenizer.convert_ids_to_tokens(list(input_ids)),
            target_prefix=self._prefix,
            max_decoding_length=options.max_new_tokens + (1 if self._prefix else 0),
            min_decoding_length=min(options.min_new_tokens, options.max_new_tokens),
            no_repeat_ngram_size=options.no_repeat_ngram_size,
            max_input_length=0,
            # Not use_vmap: CTranslate2 4.8's generate_tokens then reports each step's
            # index in the shortlist instead of the token (docs/benchmarks.md, issue 14).
        )
        try:
            for step in steps:
                yield step.token_id
        finally:
            close = getattr(steps, "close", None)
            if close is not None:
                close()
