"""Dense vectors in FAISS: inner product over L2-normalized vectors, keyed by chunk id."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np

from index.atomic import atomic_write_bytes


class DenseIndex:
    """An exact ``IndexIDMap2(IndexFlatIP)``; ids are the store's chunk ids."""

    def __init__(self, dimension: int, index: faiss.Index | None = None) -> None:
        self.dimension = dimension
        self._index = index if index is not None else faiss.IndexIDMap2(
            faiss.IndexFlatIP(dimension))

    @classmethod
    def load(cls, path: Path, dimension: int) -> DenseIndex:
        """Read an index saved by :meth:`save`."""
        data = np.frombuffer(path.read_bytes(), dtype=np.uint8)
        index = faiss.deserialize_index(data)
        if index.d != dimension:
            raise ValueError(f"{path} holds {index.d}-d vectors, expected {dimension}")
        return cls(dimension, index)

    def save(self, path: Path) -> None:
        """Write the index atomically."""
        atomic_write_bytes(path, faiss.serialize_index(self._index).tobytes())

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> np.ndarray:
        """All chunk ids held, as int64."""
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Add vectors under the given chunk ids."""
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(ids), self.dimension):
            raise ValueError(f"expected {(len(ids), self.dimension)} vectors, got {vectors.shape}")
        self._index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))

    def remove(self, ids: Sequence[int]) -> int:
        """Remove vectors by chunk id; returns how many were removed."""
        if len(ids) == 0:
            return 0
        return int(self._index.remove_ids(np.asarray(ids, dtype=np.int64)))

    def search(
        self, query: np.ndarray, k: int, *, allowed: Sequence[int] | None = None
    ) -> list[tuple[int, float]]:
        """Top ``k`` (chunk id, cosine) for one normalized query vector."""
        if len(self) == 0 or k <= 0:
            return []
        params = None
        if allowed is not None:
            if len(allowed) == 0:
                return []
            selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            params = faiss.SearchParameters(sel=selector)
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, ids = self._index.search(q, min(k, len(self)), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
