"""Seq2seq summaries kept between requests: the same input is never generated twice.

A summary is keyed by a hash of (what was summarized: an article's text or the
answer's sentences, the model's fingerprint, ``max_words``, the question), so a
changed checkpoint, backend, beam width or window never reads another's summaries.
Entries live in a SQLite file beside the index and survive restarts; past
``max_entries`` the least recently used go first. This is not the per-article summary
store: it remembers generations by their input, whatever asked for them.

Streamed answers are greedy, beam-searched ones are not: a stream replays a cached
beam-searched summary when there is one, else a cached stream, else it generates and
keeps the result once the stream completes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from models.summarization.base import Summary, join_passages

logger = logging.getLogger(__name__)

_PIECE_RE = re.compile(r"\s*\S+")


class SummaryCache:
    """A bounded, persistent map from summary keys to summaries (thread-safe)."""

    def __init__(self, path: Path, max_entries: int) -> None:
        """Open (or create) the cache file at ``path``, holding at most ``max_entries``."""
        self.max_entries = max(1, max_entries)
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db: sqlite3.Connection | None = sqlite3.connect(
            path, check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS summaries (key TEXT PRIMARY KEY, text TEXT NOT NULL, "
            "method TEXT NOT NULL, model TEXT NOT NULL, used INTEGER NOT NULL)"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS summaries_used ON summaries (used)")
        row = self._db.execute("SELECT COALESCE(MAX(used), 0) FROM summaries").fetchone()
        self._clock = int(row[0])

    @staticmethod
    def key(kind: str, text: str, fingerprint: str, max_words: int, question: str | None) -> str:
        """The key of one summary: a hash of its input, model, length and question."""
        payload = json.dumps([kind, text, fingerprint, max_words, question or ""])
        return hashlib.sha256(payload.encode()).hexdigest()

    def get(self, key: str) -> Summary | None:
        """The summary under ``key``, marked as just used; ``None`` when absent."""
        with self._lock:
            if self._db is None:
                return None
            row = self._db.execute(
                "SELECT text, method, model FROM summaries WHERE key = ?", (key,)
            ).fetchone()
            if row is None:
                self.misses += 1
                return None
            self.hits += 1
            self._clock += 1
            self._db.execute("UPDATE summaries SET used = ? WHERE key = ?", (self._clock, key))
        return Summary(text=row[0], method=row[1], model=row[2])

    def put(self, key: str, summary: Summary) -> None:
        """Keep ``summary`` under ``key``; drop the least recently used past the bound."""
        with self._lock:
            if self._db is None:
                return
            self._clock += 1
            self._db.execute(
                "INSERT OR REPLACE INTO summaries VALUES (?, ?, ?, ?, ?)",
                (key, summary.text, summary.method, summary.model, self._clock),
            )
            self._db.execute(
                "DELETE FROM summaries WHERE key IN (SELECT key FROM summaries "
                "ORDER BY used DESC LIMIT -1 OFFSET ?)",
                (self.max_entries,),
            )

    def __len__(self) -> int:
        with self._lock:
            if self._db is None:
                return 0
            return int(self._db.execute("SELECT COUNT(*) FROM summaries").fetchone()[0])

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


class CachedSummarizer:
    """A stand-in for a seq2seq summarizer that answers repeated inputs from a cache.

    Every attribute not defined here is the wrapped summarizer's.
    """

    def __init__(self, inner: Any, cache: SummaryCache) -> None:
        """Wrap ``inner`` (it needs a ``fingerprint``) with ``cache``."""
        self._inner = inner
        self.cache = cache

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _key(self, kind: str, text: str, max_words: int, question: str | None) -> str:
        return SummaryCache.key(kind, text, self._inner.fingerprint, max_words, question)

    def summarize(self, text: str, *, question: str | None = None, max_words: int = 80) -> Summary:
        """The wrapped ``summarize``, generated at most once per input."""
        key = self._key("text", text, max_words, question)
        found = self.cache.get(key)
        if found is None:
            found = self._inner.summarize(text, question=question, max_words=max_words)
            if found.text:
                self.cache.put(key, found)
        return found

    def summarize_passages(
        self, passages: Sequence[str], *, question: str | None = None, max_words: int = 80
    ) -> Summary:
        """The wrapped ``summarize_passages``, generated at most once per input."""
        key = self._key("passages", join_passages(passages), max_words, question)
        found = self.cache.get(key)
        if found is None:
            found = self._inner.summarize_passages(passages, question=question, max_words=max_words)
            if found.text:
                self.cache.put(key, found)
        return found

    def stream_passages(
        self, passages: Sequence[str], *, question: str | None = None, max_words: int = 80
    ) -> Iterator[str]:
        """The wrapped ``stream_passages``, replayed from the cache when it can be."""
        text = join_passages(passages)
        found = self.cache.get(self._key("passages", text, max_words, question))
        stream_key = self._key("stream", text, max_words, question)
        found = found or self.cache.get(stream_key)
        if found is not None:
            for match in _PIECE_RE.finditer(found.text):
                yield match.group()
            return
        pieces: list[str] = []
        for piece in self._inner.stream_passages(passages, question=question, max_words=max_words):
            pieces.append(piece)
            yield piece
        # Reached only when the stream ran to its end (a closed stream stops above).
        if "".join(pieces).strip():
            self.cache.put(
                stream_key,
                Summary(text="".join(pieces), method="abstractive", model=self._inner.model_name),
            )
