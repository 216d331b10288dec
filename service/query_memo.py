"""Remember the vectors of the last few single questions, so one request embeds its
question once: the index's search and the answer composer both ask for it."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np


class QueryMemo:
    """An embedder stand-in whose one-text ``embed_queries`` calls are remembered.

    Only single-question calls are kept (what a request makes), the newest ``size``
    of them; batches and ``embed_passages`` go straight to ``inner``. Every other
    attribute is ``inner``'s.
    """

    def __init__(self, inner: Any, size: int = 64) -> None:
        self._inner = inner
        self._size = size
        self._memo: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """``inner.embed_queries(texts)``, from memory for a question seen recently."""
        if len(texts) != 1:
            return self._inner.embed_queries(texts)
        text = texts[0]
        with self._lock:
            vector = self._memo.get(text)
            if vector is not None:
                self._memo.move_to_end(text)
                return vector[None, :].copy()
        vectors = self._inner.embed_queries(texts)
        with self._lock:
            self._memo[text] = np.asarray(vectors[0]).copy()
            while len(self._memo) > self._size:
                self._memo.popitem(last=False)
        return vectors
