"""A learned salience scorer for article sentences: which sentences a news lead would say.

A linear model over two kinds of features of each sentence:

- its words, hashed: lower-cased syllables, syllable pairs and the first three
  syllables marked as openers (``^chiều``), each sentence's set scaled to unit length;
  this is where the style of a news lead is learned (times and places up front,
  officials' actions; not quotes or background);
- seven structural features: TF-IDF centrality to the article, LexRank, the lead
  prior ``exp(-position / 1.5)``, the relative position, first sentence or not, and
  two length terms.

Fit by ridge regression of each sentence's ROUGE-1 + ROUGE-2 F against the human
summary (centred per article) on VietNews dev articles, by
``bench/train_summary_scorer.py``, which also reports the summaries it makes on
held-out folds. The fitted weights ship beside this module
(:data:`SHIPPED_WEIGHTS`); scores only rank sentences within one article.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import lsqr

#: Buckets of the hashed word features (collisions cost ROUGE below 2**17).
HASH_DIM = 2**17
STRUCTURAL = (
    "centrality",
    "lexrank",
    "lead_prior",
    "relative_position",
    "first_sentence",
    "log_length",
    "length_ratio",
)
SHIPPED_WEIGHTS = Path(__file__).with_name("salience_vietnews.npz")
_LEAD_DECAY = 1.5
_LENGTH_UNIT = 45.0  # syllables; the length term saturates at three units
_OPENERS = 3


def _bucket(term: str) -> int:
    return zlib.crc32(term.encode("utf-8")) % HASH_DIM


def word_features(sentences: Sequence[Sequence[str]]) -> sparse.csr_matrix:
    """Hashed syllables, syllable pairs and openers of each sentence, rows of unit length."""
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for i, syls in enumerate(sentences):
        low = [s.lower() for s in syls]
        terms = set(low)
        terms.update(f"{a} {b}" for a, b in zip(low, low[1:], strict=False))
        terms.update(f"^{s}" for s in low[:_OPENERS])
        value = 1.0 / math.sqrt(len(terms) or 1)
        for term in terms:
            rows.append(i)
            cols.append(_bucket(term))
            vals.append(value)
    # Duplicate (row, col) pairs from hash collisions are summed by the constructor.
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(sentences), HASH_DIM))


def structural_features(
    lengths: Sequence[int], centrality: np.ndarray, lexrank: np.ndarray
) -> np.ndarray:
    """The :data:`STRUCTURAL` columns for an article's sentences, in document order."""
    n = len(lengths)
    positions = np.arange(n, dtype=float)
    length = np.asarray(lengths, dtype=float)
    return np.stack(
        [
            np.asarray(centrality, dtype=float),
            np.asarray(lexrank, dtype=float),
            np.exp(-positions / _LEAD_DECAY),
            positions / max(n - 1, 1),
            (positions == 0).astype(float),
            np.log(np.maximum(length, 1.0)),
            np.minimum(length / _LENGTH_UNIT, 3.0),
        ],
        axis=1,
    )


@dataclass(frozen=True)
class SalienceModel:
    """Weights of the linear scorer: hashed words, then standardized structural columns."""

    word_weights: np.ndarray  # (HASH_DIM,)
    structural_weights: np.ndarray  # (len(STRUCTURAL),)
    structural_mean: np.ndarray
    structural_std: np.ndarray

    def score(self, words: sparse.csr_matrix, structural: np.ndarray) -> np.ndarray:
        """Salience of each sentence (higher = more lead-like); comparable within one article."""
        z = (structural - self.structural_mean) / self.structural_std
        return np.asarray(words @ self.word_weights, dtype=float) + z @ self.structural_weights

    def save(self, path: Path) -> None:
        """Write the weights (word weights as float16: the ranking does not need more)."""
        np.savez_compressed(
            path,
            hash_dim=np.array(HASH_DIM),
            structural=np.array(STRUCTURAL),
            word_weights=self.word_weights.astype(np.float16),
            structural_weights=self.structural_weights,
            structural_mean=self.structural_mean,
            structural_std=self.structural_std,
        )

    @classmethod
    def load(cls, path: Path) -> SalienceModel:
        """Read weights written by :meth:`save`; refuses a file of another feature layout."""
        with np.load(path) as data:
            if int(data["hash_dim"]) != HASH_DIM or tuple(data["structural"]) != STRUCTURAL:
                raise ValueError(f"{path}: salience weights of another feature layout")
            return cls(
                word_weights=data["word_weights"].astype(np.float32),
                structural_weights=data["structural_weights"].astype(float),
                structural_mean=data["structural_mean"].astype(float),
                structural_std=data["structural_std"].astype(float),
            )


def fit_salience(
    words: Sequence[sparse.csr_matrix],
    structural: Sequence[np.ndarray],
    targets: Sequence[np.ndarray],
    *,
    alpha: float = 3.0,
) -> SalienceModel:
    """Ridge regression of per-article centred ``targets`` on each article's features."""
    struct = np.concatenate(structural)
    mean = struct.mean(axis=0)
    std = struct.std(axis=0)
    std[std == 0] = 1.0
    design = sparse.hstack(
        [sparse.vstack(words), sparse.csr_matrix((struct - mean) / std)], format="csr"
    )
    y = np.concatenate([t - t.mean() for t in targets if len(t)])
    solution = lsqr(design, y, damp=math.sqrt(alpha), atol=1e-8, btol=1e-8, iter_lim=2000)[0]
    return SalienceModel(
        word_weights=solution[:HASH_DIM].astype(np.float32),
        structural_weights=solution[HASH_DIM:],
        structural_mean=mean,
        structural_std=std,
    )


@lru_cache(maxsize=1)
def shipped_model() -> SalienceModel | None:
    """The weights fit on VietNews dev, or None when the file is absent (a trimmed install)."""
    return SalienceModel.load(SHIPPED_WEIGHTS) if SHIPPED_WEIGHTS.exists() else None
