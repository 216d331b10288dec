"""Sentence vectors kept between requests: a passage's sentences are embedded once.

Embedding the sentences of the retrieved passages is nearly all of an answer's cost
(see docs/benchmarks.md); the same passages come back for related questions, so
their sentence vectors are kept: in memory (the newest ``size``) and, with a path, in
a SQLite file beside the index, so they survive restarts. Keys are a hash of the
embedder's fingerprint and the sentence text, so another model never reads them.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


class SentenceVectors:
    """``embed_passages`` for sentences, remembered; a stand-in for the embedder."""

    def __init__(self, inner: Any, path: Path | None = None, size: int = 50_000) -> None:
        self._inner = inner
        self._size = size
        self._memo: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS sentence_vectors (key BLOB PRIMARY KEY, vector BLOB)"
            )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _key(self, text: str) -> bytes:
        fingerprint = str(getattr(self._inner, "fingerprint", ""))
        return hashlib.blake2b(f"{fingerprint}\n{text}".encode(), digest_size=16).digest()

    def embed_passages(self, texts: Sequence[str], **kwargs: Any) -> np.ndarray:
        """Vectors of ``texts`` (passage prefix), from memory, the file, or the model."""
        keys = [self._key(t) for t in texts]
        found: dict[bytes, np.ndarray] = {}
        with self._lock:
            for key in keys:
                vector = self._memo.get(key)
                if vector is not None:
                    self._memo.move_to_end(key)
                    found[key] = vector
            missing = [k for k in dict.fromkeys(keys) if k not in found]
            if missing and self._db is not None:
                marks = ",".join("?" * len(missing))
                rows = self._db.execute(
                    f"SELECT key, vector FROM sentence_vectors WHERE key IN ({marks})", missing
                ).fetchall()
                for key, blob in rows:
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in found}
        if todo:
            vectors = np.asarray(
                self._inner.embed_passages(list(todo.values()), **kwargs), dtype=np.float32
            )
            found.update(zip(todo, vectors, strict=True))
            if self._db is not None:
                with self._lock:
                    self._db.executemany(
                        "INSERT OR IGNORE INTO sentence_vectors VALUES (?, ?)",
                        [(k, v.tobytes()) for k, v in zip(todo, vectors, strict=True)],
                    )
        with self._lock:
            for key in keys:
                self._memo[key] = found[key]
                self._memo.move_to_end(key)
            while len(self._memo) > self._size:
                self._memo.popitem(last=False)
        return np.stack([found[k] for k in keys])

    def close(self) -> None:
        """Close the file."""
        if self._db is not None:
            self._db.close()
            self._db = None
