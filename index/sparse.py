"""Keyword search: bm25s over lower-cased NFC syllables and syllable pairs.

Most Vietnamese words are two or three syllables ("bí thư", "tỉnh ủy"), so each chunk
is indexed as its syllables plus its adjacent syllable pairs (+1.4 hybrid Hit@1 on
ViQuAD, see docs/benchmarks.md). A second, diacritics-free field (the same terms with
tone and vowel marks stripped) serves questions typed without accents, and the
indexed text's own syllable statistics restore diacritics on such a question for the
dense side (:class:`models.diacritics.DiacriticRestorer`, built on first use).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import bm25s
import numpy as np

from models.diacritics import DiacriticRestorer
from models.vietnamese import strip_diacritics, syllables

Tokenizer = Callable[[str], list[str]]
_PAIR = " "  # joins a syllable pair into one term; no syllable contains a space


def with_bigrams(tokens: list[str]) -> list[str]:
    """``tokens`` followed by each adjacent pair joined by a space."""
    return tokens + [f"{a}{_PAIR}{b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def folded_syllables(text: str) -> list[str]:
    """Lower-cased syllables without diacritics: "Bí thư" -> ["bi", "thu"]."""
    return syllables(strip_diacritics(text))


class _Field:
    """One bm25s model over one analysis of the chunk texts."""

    def __init__(self, analyze: Tokenizer, texts: Sequence[str], k1: float, b: float) -> None:
        self.analyze = analyze
        self.model = bm25s.BM25(k1=k1, b=b)
        self.model.index([analyze(t) or [""] for t in texts], show_progress=False)

    def scores(self, query: str, mask: np.ndarray | None) -> np.ndarray | None:
        tokens = [t for t in self.analyze(query) if t in self.model.vocab_dict]
        return self.model.get_scores(tokens, weight_mask=mask) if tokens else None

    def document_frequencies(self) -> dict[str, int]:
        """Number of chunks holding each term, read from the BM25 matrix."""
        indptr = np.asarray(self.model.scores["indptr"])
        return {
            term: int(indptr[i + 1] - indptr[i])
            for term, i in self.model.vocab_dict.items()
            if term
        }


class SparseIndex:
    """BM25 over a snapshot of chunks, rebuilt from the store on every change.

    bm25s has no incremental updates; rebuilding is a sparse-matrix build that
    takes milliseconds for thousands of chunks (see ``bench/``). ``bigrams`` adds
    syllable pairs to the terms; ``folded`` keeps the diacritics-free field used by
    :meth:`search` with ``folded=True``.
    """

    def __init__(
        self,
        tokenizer: Tokenizer = syllables,
        *,
        bigrams: bool = True,
        folded: bool = True,
        k1: float = 1.5,
        b: float = 0.75,
    ) -> None:
        self._tokenize = tokenizer
        self.bigrams = bigrams
        self.folded = folded
        self._k1, self._b = k1, b
        self._main: _Field | None = None
        self._folded: _Field | None = None
        self._restorer: DiacriticRestorer | None = None
        self._ids = np.zeros(0, dtype=np.int64)
        self._position: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def _analyzer(self, tokenize: Tokenizer) -> Tokenizer:
        return (lambda text: with_bigrams(tokenize(text))) if self.bigrams else tokenize

    def rebuild(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        """Index ``texts`` under chunk ``ids`` (replacing everything)."""
        id_array = np.asarray(ids, dtype=np.int64)
        self._restorer = None
        if len(id_array) == 0:
            self._main = self._folded = None
            self._ids, self._position = id_array, {}
            return
        self._main = _Field(self._analyzer(self._tokenize), texts, self._k1, self._b)
        self._folded = (
            _Field(self._analyzer(folded_syllables), texts, self._k1, self._b)
            if self.folded
            else None
        )
        self._ids = id_array
        self._position = {int(i): p for p, i in enumerate(id_array)}

    def search(
        self,
        query: str,
        k: int,
        *,
        allowed: Sequence[int] | None = None,
        folded: bool = False,
    ) -> list[tuple[int, float]]:
        """Top ``k`` (chunk id, BM25 score) with a positive score.

        ``folded`` matches ``query`` with its diacritics stripped against the
        diacritics-free field (the main field when the index keeps none).
        """
        field = self._folded if folded and self._folded is not None else self._main
        if field is None or k <= 0:
            return []
        mask = None
        if allowed is not None:
            mask = np.zeros(len(self._ids), dtype=np.float32)
            positions = [self._position[i] for i in allowed if i in self._position]
            if not positions:
                return []
            mask[positions] = 1.0
        scores = field.scores(query, mask)
        if scores is None:
            return []
        k = min(k, int(np.count_nonzero(scores > 0)))
        if k == 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(self._ids[p]), float(scores[p])) for p in top]

    def restore_diacritics(self, query: str) -> str:
        """``query`` with diacritics put back from the indexed text's syllable statistics.

        Syllables already carrying marks, and those never seen, are kept as typed.
        Needs ``bigrams`` (the pair statistics come from the BM25 vocabulary).
        """
        if self._main is None or not self.bigrams:
            return query
        if self._restorer is None:  # built on first use after each rebuild
            unigrams: dict[str, int] = {}
            pairs: dict[tuple[str, str], int] = {}
            for term, df in self._main.document_frequencies().items():
                first, sep, second = term.partition(_PAIR)
                if sep:
                    pairs[(first, second)] = df
                else:
                    unigrams[term] = df
            self._restorer = DiacriticRestorer(unigrams, pairs)
        return self._restorer.restore(query)
