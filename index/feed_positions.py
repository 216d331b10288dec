"""Where each watched feed is: the items already taken in (SQLite, one small file).

A feed reader polls the same feed again and again; an item seen once is not fetched
again, across restarts. Items are keyed by the feed's own id for them (``guid`` /
``id``), else their link.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feed_items (
    feed_url   TEXT NOT NULL,
    item_key   TEXT NOT NULL,
    article_id TEXT,
    error      TEXT,
    seen_at    TEXT NOT NULL,
    PRIMARY KEY (feed_url, item_key)
);
"""


class FeedPositions:
    """The items of each feed already taken in (or given up on, with the error)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def unseen(self, feed_url: str, keys: Iterable[str]) -> list[str]:
        """The ``keys`` not taken in yet, in the order given."""
        keys = list(dict.fromkeys(keys))
        with self._lock:
            seen = {
                row[0]
                for row in self._db.execute(
                    "SELECT item_key FROM feed_items WHERE feed_url = ?", (feed_url,)
                )
            }
        return [k for k in keys if k not in seen]

    def mark(
        self, feed_url: str, key: str, *, article_id: str | None = None, error: str | None = None
    ) -> None:
        """Remember ``key`` as taken in (with its article) or given up on (with ``error``)."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO feed_items(feed_url, item_key, article_id, error, seen_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (feed_url, key, article_id, error, datetime.now(UTC).isoformat(timespec="seconds")),
            )

    def count(self, feed_url: str) -> int:
        """How many items of ``feed_url`` were taken in or given up on."""
        with self._lock:
            return int(
                self._db.execute(
                    "SELECT COUNT(*) FROM feed_items WHERE feed_url = ?", (feed_url,)
                ).fetchone()[0]
            )

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._db.close()
