"""Keyword search: bm25s over lower-cased NFC syllables."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import bm25s
import numpy as np

from models.vietnamese import syllables

Tokenizer = Callable[[str], list[str]]


class SparseIndex:
    """BM25 over a snapshot of chunks, rebuilt from the store on every change.

    bm25s has no incremental updates; rebuilding is a sparse-matrix build that
    takes milliseconds for thousands of chunks (see ``bench/``).
    """

    def __init__(self, tokenizer: Tokenizer = syllables) -> None:
        self._tokenize = tokenizer
        self._model: bm25s.BM25 | None = None
        self._ids = np.zeros(0, dtype=np.int64)
        self._position: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def rebuild(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        """Index ``texts`` under chunk ``ids`` (replacing everything)."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            self._model, self._ids, self._position = None, ids, {}
            return
        corpus = [self._tokenize(t) or [""] for t in texts]
        model = bm25s.BM25()
        model.index(corpus, show_progress=False)
        self._model, self._ids = model, ids
        self._position = {int(i): p for p, i in enumerate(ids)}

    def search(
        self, query: str, k: int, *, allowed: Sequence[int] | None = None
    ) -> list[tuple[int, float]]:
        """Top ``k`` (chunk id, BM25 score) with a positive score."""
        if self._model is None or k <= 0:
            return []
        tokens = [t for t in self._tokenize(query) if t in self._model.vocab_dict]
        if not tokens:
            return []
        mask = None
        if allowed is not None:
            mask = np.zeros(len(self._ids), dtype=np.float32)
            positions = [self._position[i] for i in allowed if i in self._position]
            if not positions:
                return []
            mask[positions] = 1.0
        scores = self._model.get_scores(tokens, weight_mask=mask)
        k = min(k, int(np.count_nonzero(scores > 0)))
        if k == 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(self._ids[p]), float(scores[p])) for p in top]
