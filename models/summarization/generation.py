"""The interface a seq2seq backend implements: token ids in, token ids out.

:class:`~models.summarization.seq2seq.Seq2SeqSummarizer` owns the tokenizer, the prompt,
input fitting and decoding; a :class:`Generator` only runs the network. Two families
implement it: :mod:`models.summarization.torch_backend` (transformers, fp32) and
:mod:`models.summarization.ctranslate2_backend` (CTranslate2, int8 by default).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class DecodeOptions:
    """How one generation decodes; the same meaning on every backend."""

    max_new_tokens: int
    num_beams: int = 1
    # A few tokens at least: an immediate end-of-sequence is never a summary.
    min_new_tokens: int = 4
    no_repeat_ngram_size: int = 3


@runtime_checkable
class Generator(Protocol):
    """Runs an encoder-decoder over token ids (each input ends with its special tokens)."""

    backend: str  # "torch" or "ctranslate2"
    variant: str  # what the outputs depend on besides the weights, e.g. "ctranslate2-int8"

    def generate(self, inputs: Sequence[Sequence[int]], options: DecodeOptions) -> list[list[int]]:
        """The generated ids of each input (special tokens may be included)."""
        ...

    def stream(self, input_ids: Sequence[int], options: DecodeOptions) -> Iterator[int]:
        """Greedy generation of one input, one id at a time; closing the iterator stops it."""
        ...
