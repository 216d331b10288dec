"""Dense vectors in FAISS: inner product over L2-normalized vectors, keyed by chunk id.

Up to ``exact_max`` vectors the index is exact (``IndexIDMap2(IndexFlatIP)``). Past it,
the vectors move into an inverted-file index (~4·√n lists, searching ``nprobe`` of
them) that scans a few percent of the vectors per query. Its lists hold the vectors in
half precision (``codec="fp16"``, the default: 1M 384-d vectors in ~0.8 GB, recall equal
to float32's), as 8-bit scalar-quantized codes (``"sq8"``, ~0.4 GB, lower recall) or as
float32 (``"flat"``, ~1.5 GB); recall and latency against exact search are measured by
``bench/dense_recall.py`` (real e5 vectors) and ``bench/scaling.py`` (docs/benchmarks.md).

Moving to IVF, or retraining it as it grows, can run beside the searches
(:meth:`DenseIndex.start_refit` … :meth:`DenseIndex.finish_refit`): the new structure is
trained and filled from a snapshot while writes go on and are logged, then the log is
replayed into it and it is swapped in.

IVF rather than HNSW because articles get replaced and deleted: FAISS's HNSW cannot
remove vectors (``remove_ids`` is unsupported), so every delete would mean a rebuild,
while IVF removes in place (a hash direct map makes it cheap and lets vectors be read
back by id). A filtered search (a few articles, a source, a date range) is answered exactly
from the stored vectors (decoded from half precision or 8 bits).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

import faiss as _faiss
import numpy as np

from index.atomic import atomic_write
from index.defaults import DEFAULT_CODEC, DEFAULT_NPROBE

DEFAULT_EXACT_MAX = 50_000
# A filtered search over at most this many vectors is computed exactly, even on IVF.
_EXACT_FILTER_MAX = 50_000
_TRAIN_PER_LIST = 64  # training sample size per inverted list (FAISS wants >= 39)
# 8-bit codes learn each dimension's range from the training sample; a small sample
# would clip the vectors added later, so below this many the lists keep float32.
_SQ8_MIN_TRAIN = 10_000
REFIT_BATCH = 100_000  # vectors copied into a refitted structure per read-locked step
Codec = str  # "fp16", "sq8" or "flat": how IVF lists store the vectors
CODECS = ("fp16", "sq8", "flat")
# Saved files start with this and the store generation they mirror (8 bytes, little
# endian), then FAISS's own serialization; files without it (older saves) load too.
_MAGIC = b"VNQAGEN1"
_WRITE_BLOCK = 4 << 20  # bytes per block when the index is streamed to its file

# faiss ships stubs that describe its SWIG classes only in part (no ``DirectMap``, no
# keyword arguments, base-class attributes only), so the module is used untyped here.
faiss: Any = _faiss
FaissIndex = Any

# Searches are one query each: OpenMP's fan-out over cores costs more than it saves and
# makes concurrent requests contend; only IVF training (``_ivf``) uses every core.
faiss.omp_set_num_threads(1)


def ivf_lists(n: int) -> int:
    """Inverted lists for ``n`` vectors: about 4·√n, at least 1 and at most ``n``."""
    return max(1, min(n, int(4 * math.sqrt(max(n, 1)))))


class DenseIndex:
    """Chunk-id-keyed vectors; exact up to ``exact_max`` of them, IVF beyond (see module doc)."""

    def __init__(
        self,
        dimension: int,
        index: FaissIndex | None = None,
        *,
        exact_max: int = DEFAULT_EXACT_MAX,
        nprobe: int = DEFAULT_NPROBE,
        codec: Codec = DEFAULT_CODEC,
        auto_fit: bool = True,
    ) -> None:
        if codec not in CODECS:
            raise ValueError(f"codec must be one of {CODECS}, not {codec!r}")
        self.dimension = dimension
        self.exact_max = exact_max
        self.nprobe = nprobe
        self.codec = codec
        self.auto_fit = auto_fit  # convert inline on add; False: the owner calls the refit
        self._index = index if index is not None else _flat(dimension)
        self.saved_generation: int | None = None  # the store generation the file mirrored
        self._log: list[tuple[str, np.ndarray, np.ndarray | None]] | None = None
        self._log_removed: set[int] = set()
        if auto_fit:
            self._fit()
        elif not self.is_exact:
            self._index.nprobe = nprobe

    @classmethod
    def load(
        cls,
        path: Path,
        dimension: int,
        *,
        exact_max: int = DEFAULT_EXACT_MAX,
        nprobe: int = DEFAULT_NPROBE,
        codec: Codec = DEFAULT_CODEC,
        auto_fit: bool = True,
    ) -> DenseIndex:
        """Read an index saved by :meth:`save`; converts it if ``exact_max`` now says so.

        ``saved_generation`` is the store generation recorded with it (None for a
        file saved before generations were recorded).
        """
        raw = path.read_bytes()
        generation = None
        if raw.startswith(_MAGIC):
            head = len(_MAGIC) + 8
            generation = int.from_bytes(raw[len(_MAGIC) : head], "little")
            raw = raw[head:]
        index = faiss.deserialize_index(np.frombuffer(raw, dtype=np.uint8))
        if index.d != dimension:
            raise ValueError(f"{path} holds {index.d}-d vectors, expected {dimension}")
        dense = cls(
            dimension, index, exact_max=exact_max, nprobe=nprobe, codec=codec, auto_fit=auto_fit
        )
        dense.saved_generation = generation
        return dense

    def save(self, path: Path, generation: int = 0) -> None:
        """Write the index atomically, recording the store ``generation`` it mirrors."""
        self.write(path, self._index, generation)

    def copy_for_save(self) -> Any:
        """A copy of the FAISS index (its own clone: a memory copy, several times faster
        than serializing), for :meth:`write` on another thread while this one changes."""
        return faiss.clone_index(self._index)

    def write(self, path: Path, image: Any, generation: int) -> None:
        """Write ``image`` (this index, or a :meth:`copy_for_save` of it) atomically
        (temp file, fsync, rename) with ``generation``, and note that generation as
        the one on disk."""
        header = _MAGIC + int(generation).to_bytes(8, "little")

        def fill(handle: BinaryIO) -> None:
            handle.write(header)
            # Streamed to the file a block at a time: no in-memory copy of the index
            # (0.8 GB at 1M chunks), and FAISS runs without the GIL between blocks.
            faiss.write_index(image, faiss.PyCallbackIOWriter(handle.write, _WRITE_BLOCK))

        atomic_write(path, fill)
        self.saved_generation = generation

    def __len__(self) -> int:
        return int(self._index.ntotal)

    @property
    def is_exact(self) -> bool:
        """True while searches scan every vector (the flat index)."""
        return not isinstance(self._index, faiss.IndexIVF)

    def ids(self) -> np.ndarray:
        """All chunk ids held, as int64."""
        if self.is_exact:
            return faiss.vector_to_array(self._index.id_map).astype(np.int64)
        invlists = self._index.invlists
        parts = [
            faiss.rev_swig_ptr(invlists.get_ids(i), invlists.list_size(i)).copy()
            for i in range(invlists.nlist)
            if invlists.list_size(i)
        ]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

    def vectors(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """The stored vectors of ``ids`` (each must be held), as float32 rows."""
        keys = np.asarray(ids, dtype=np.int64)
        if len(keys) == 0:
            return np.zeros((0, self.dimension), np.float32)
        return self._index.reconstruct_batch(keys)

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Add vectors under the given chunk ids."""
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(ids), self.dimension):
            raise ValueError(f"expected {(len(ids), self.dimension)} vectors, got {vectors.shape}")
        keys = np.asarray(ids, dtype=np.int64)
        self._index.add_with_ids(vectors, keys)
        if self._log is not None:
            self._log.append(("add", keys, vectors.copy()))
        if self.auto_fit and self.is_exact and len(self) > self.exact_max:
            self._fit()

    def remove(self, ids: Sequence[int] | np.ndarray) -> int:
        """Remove vectors by chunk id; returns how many were removed."""
        if len(ids) == 0:
            return 0
        keys = np.asarray(ids, dtype=np.int64)
        if self._log is not None:
            self._log.append(("remove", keys, None))
            self._log_removed.update(keys.tolist())
        return int(self._index.remove_ids(keys))

    def search(
        self, query: np.ndarray, k: int, *, allowed: Sequence[int] | None = None
    ) -> list[tuple[int, float]]:
        """Top ``k`` (chunk id, cosine) for one normalized query vector."""
        if len(self) == 0 or k <= 0:
            return []
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        params = None
        if allowed is not None:
            if len(allowed) == 0:
                return []
            if not self.is_exact and len(allowed) <= _EXACT_FILTER_MAX:
                return self._search_subset(q[0], k, allowed)
            selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            params = (
                faiss.SearchParameters(sel=selector)
                if self.is_exact
                else faiss.SearchParametersIVF(sel=selector, nprobe=self.nprobe)
            )
        scores, ids = self._index.search(q, min(k, len(self)), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def _search_subset(
        self, q: np.ndarray, k: int, allowed: Sequence[int]
    ) -> list[tuple[int, float]]:
        """Exact top ``k`` among ``allowed`` ids (the ones held), from the stored vectors."""
        keys = np.asarray(allowed, dtype=np.int64)
        keys = keys[np.isin(keys, self.ids())]
        if len(keys) == 0:
            return []
        scores = self.vectors(keys) @ q
        top = np.argsort(-scores, kind="stable")[:k]
        return [(int(keys[i]), float(scores[i])) for i in top]

    # -- exact <-> approximate --------------------------------------------------------
    def needs_refit(self) -> bool:
        """True when ``exact_max`` calls for the other structure, or IVF has grown far
        past the data it was trained on."""
        n = len(self)
        if self.is_exact:
            return n > self.exact_max
        return n <= self.exact_max or self._index.nlist < ivf_lists(n) // 4

    def start_refit(self) -> np.ndarray:
        """Start logging writes for a refit; returns the ids held now (the snapshot).

        The caller keeps writers out during this call and :meth:`snapshot`.
        """
        self._log, self._log_removed = [], set()
        return self.ids()

    def snapshot(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The vectors of snapshot ``ids`` not removed since :meth:`start_refit`."""
        if self._log_removed:
            ids = ids[~np.isin(ids, np.fromiter(self._log_removed, np.int64))]
        return ids, self.vectors(ids)

    def empty_structure(self, total: int, sample: np.ndarray) -> FaissIndex:
        """The structure ``total`` vectors call for, trained on ``sample``, still empty.

        Needs no lock: it touches nothing of this index.
        """
        if total <= self.exact_max:
            return _flat(self.dimension)
        return _ivf(self.dimension, sample, self.nprobe, self.codec, ivf_lists(total))

    def finish_refit(self, fresh: FaissIndex) -> None:
        """Replay the writes logged since :meth:`start_refit` into ``fresh`` (filled from
        the snapshot) and swap it in. The caller holds the write lock."""
        for op, keys, vectors in self._log or []:
            if op == "add":
                fresh.add_with_ids(vectors, keys)
            else:
                fresh.remove_ids(keys)
        self._index = fresh
        self.abort_refit()

    def abort_refit(self) -> None:
        """Stop logging writes (a refit that failed or was overtaken)."""
        self._log, self._log_removed = None, set()

    def _fit(self) -> None:
        """Pick the structure ``exact_max`` calls for, moving the vectors if needed."""
        n = len(self)
        if self.is_exact:
            if n > self.exact_max:
                self._index = _filled_ivf(self, self.ids(), self._all_vectors())
            return
        self._index.nprobe = self.nprobe
        if n <= self.exact_max:
            ids, vectors = self.ids(), self._all_vectors()
            self._index = _flat(self.dimension)
            self._index.add_with_ids(vectors, ids)
        elif self._index.nlist < ivf_lists(n) // 4:  # grown far past its training: retrain
            self._index = _filled_ivf(self, self.ids(), self._all_vectors())

    def _all_vectors(self) -> np.ndarray:
        if self.is_exact:
            flat = faiss.downcast_index(self._index.index)
            return flat.reconstruct_n(0, len(self))  # same order as id_map
        return self.vectors(self.ids())


def _flat(dimension: int) -> FaissIndex:
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))


def training_sample(vectors: np.ndarray, nlist: int) -> np.ndarray:
    """The rows IVF training uses: ``nlist`` × 64 of them, picked reproducibly."""
    rng = np.random.default_rng(0)
    sample = min(len(vectors), nlist * _TRAIN_PER_LIST)
    return vectors[np.sort(rng.choice(len(vectors), sample, replace=False))]


def _ivf(dimension: int, sample: np.ndarray, nprobe: int, codec: Codec, nlist: int) -> FaissIndex:
    """An empty IVF index (inner product, hash direct map, ``codec`` lists) trained on
    ``sample``."""
    quantizer = faiss.IndexFlatIP(dimension)
    if codec == "fp16":  # half precision needs no range learnt from the sample
        index = faiss.IndexIVFScalarQuantizer(
            quantizer, dimension, nlist, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
        )
    elif codec == "sq8" and len(sample) >= _SQ8_MIN_TRAIN:
        index = faiss.IndexIVFScalarQuantizer(
            quantizer, dimension, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
    else:
        index = faiss.IndexIVFFlat(quantizer, dimension, nlist, faiss.METRIC_INNER_PRODUCT)
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        index.train(np.ascontiguousarray(sample, dtype=np.float32))
    finally:
        faiss.omp_set_num_threads(1)
    index.set_direct_map_type(faiss.DirectMap.Hashtable)
    index.nprobe = nprobe
    return index


def _filled_ivf(dense: DenseIndex, ids: np.ndarray, vectors: np.ndarray) -> FaissIndex:
    """An IVF index for ``dense``'s settings, trained on and holding ``vectors``."""
    nlist = ivf_lists(len(vectors))
    index = _ivf(dense.dimension, training_sample(vectors, nlist), dense.nprobe, dense.codec, nlist)
    index.add_with_ids(
        np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64)
    )
    return index
