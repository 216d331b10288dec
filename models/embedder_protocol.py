"""The interface every text embedder offers (sentence-transformers, ONNX Runtime), and that
the index, the answer composer and the service code against."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class TextEmbedder(Protocol):
    """An e5-style embedding model: L2-normalized float32 rows, one per text, in order.

    ``name`` is the model id, ``source`` where it was loaded from, and ``fingerprint``
    identifies the weights and backend (the index refuses vectors of another one).
    """

    name: str
    source: str
    dimension: int
    fingerprint: str

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries (with the model's query prefix)."""
        ...

    def embed_passages(
        self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False
    ) -> np.ndarray:
        """Embed documents (with the model's passage prefix), ``batch_size`` at a time."""
        ...

    def count_text_tokens(self, text: str) -> int:
        """Tokens of ``text`` alone: no prefix, no special tokens, no truncation."""
        ...
