"""Where each watched feed is, and who is polling it: SQLite, or PostgreSQL for replicas.

A feed reader polls the same feed again and again; an item seen once is not fetched
again, across restarts and across replicas. Items are keyed by the feed's own id for
them (``guid`` / ``id``), else their link.

A poll of a feed is a job that runs once even when every replica is given the same
feeds: a replica :meth:`~FeedState.claim`\\ s the feed (a lease in its row, taken with
``SELECT … FOR UPDATE SKIP LOCKED`` in PostgreSQL), :meth:`~FeedState.renew`\\ s the lease
before each item, and :meth:`~FeedState.release`\\ s it when done. A claim also requires
the feed to be due (not polled in the last ``due_after_s``), so N replicas do not poll a
feed N times an interval. A replica that dies mid-poll holds the feed until its lease
runs out; then another claims it and goes on from the items already marked.

:class:`SqliteFeedState` keeps this in its own file (one process uses it, the one
holding the data folder); :class:`PgFeedState` in the ``vnqa_feed_*`` tables that
:data:`index.pg_store.MIGRATIONS` creates. Both run the same queries
(:class:`SqlFeedQueries`, in the dialects of :mod:`index.sql_dialect`).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from index.sql_dialect import POSTGRESQL, SQLITE, Dialect

if TYPE_CHECKING:  # psycopg is an optional extra
    from index.pg_store import PgArticleStore


class FeedState(Protocol):
    """Feed positions and poll leases (SQLite here, or PostgreSQL shared by replicas)."""

    worker: str  # who holds this store's claims

    def claim(self, feed_url: str, *, due_after_s: float = 0.0) -> bool:
        """Take the feed's poll if no live lease holds it and it was not polled in the
        last ``due_after_s`` seconds; True when this store now holds it."""
        ...

    def renew(self, feed_url: str) -> bool:
        """Extend this store's lease on the feed; False if another holds it now."""
        ...

    def release(self, feed_url: str) -> None:
        """End this store's claim on the feed (another's claim is left alone)."""
        ...

    def unseen(self, feed_url: str, keys: Iterable[str]) -> list[str]:
        """The ``keys`` not taken in yet, in the order given."""
        ...

    def mark(
        self, feed_url: str, key: str, *, article_id: str | None = None, error: str | None = None
    ) -> None:
        """Remember ``key`` as taken in (with its article) or given up on (with ``error``)."""
        ...

    def count(self, feed_url: str) -> int:
        """How many items of ``feed_url`` were taken in or given up on."""
        ...

    def close(self) -> None:
        """Let go of what this store opened."""
        ...


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SqlFeedQueries:
    """:class:`FeedState`'s queries, written once for both dialects; a subclass names
    its dialect and opens transactions (:meth:`_tx`)."""

    dialect: Dialect
    worker: str
    lease_s: float

    def _tx(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def claim(self, feed_url: str, *, due_after_s: float = 0.0) -> bool:
        """Take the feed's poll if no live lease holds it and it is due (see the module)."""
        d = self.dialect
        with self._tx() as db:
            db.execute(
                d.sql("INSERT INTO {feed_polls}(feed_url) VALUES (?) ON CONFLICT DO NOTHING"),
                (feed_url,),
            )
            cur = db.execute(
                d.sql(
                    "UPDATE {feed_polls} SET claimed_by = ?, claimed_until = {now} + ?,"
                    " polled_at = {now} WHERE feed_url IN ("
                    "SELECT feed_url FROM {feed_polls} WHERE feed_url = ?"
                    " AND (claimed_until IS NULL OR claimed_until < {now})"
                    " AND (polled_at IS NULL OR polled_at <= {now} - ?) {skip_locked})"
                ),
                (self.worker, self.lease_s, feed_url, due_after_s),
            )
            return int(cur.rowcount) == 1

    def renew(self, feed_url: str) -> bool:
        """Extend this store's lease on the feed; False if another holds it now."""
        with self._tx() as db:
            cur = db.execute(
                self.dialect.sql(
                    "UPDATE {feed_polls} SET claimed_until = {now} + ?"
                    " WHERE feed_url = ? AND claimed_by = ?"
                ),
                (self.lease_s, feed_url, self.worker),
            )
            return int(cur.rowcount) == 1

    def release(self, feed_url: str) -> None:
        """End this store's claim on the feed (another's claim is left alone)."""
        with self._tx() as db:
            db.execute(
                self.dialect.sql(
                    "UPDATE {feed_polls} SET claimed_by = NULL, claimed_until = NULL"
                    " WHERE feed_url = ? AND claimed_by = ?"
                ),
                (feed_url, self.worker),
            )

    def unseen(self, feed_url: str, keys: Iterable[str]) -> list[str]:
        """The ``keys`` not taken in yet, in the order given."""
        keys = list(dict.fromkeys(keys))
        with self._tx() as db:
            rows = db.execute(
                self.dialect.sql("SELECT item_key FROM {feed_items} WHERE feed_url = ?"),
                (feed_url,),
            ).fetchall()
        seen = {row[0] for row in rows}
        return [k for k in keys if k not in seen]

    def mark(
        self, feed_url: str, key: str, *, article_id: str | None = None, error: str | None = None
    ) -> None:
        """Remember ``key`` as taken in (with its article) or given up on (with ``error``)."""
        with self._tx() as db:
            db.execute(
                self.dialect.sql(
                    "INSERT INTO {feed_items}(feed_url, item_key, article_id, error, seen_at)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (feed_url, item_key) DO UPDATE SET"
                    " article_id = excluded.article_id, error = excluded.error,"
                    " seen_at = excluded.seen_at"
                ),
                (feed_url, key, article_id, error, datetime.now(UTC).isoformat(timespec="seconds")),
            )

    def count(self, feed_url: str) -> int:
        """How many items of ``feed_url`` were taken in or given up on."""
        with self._tx() as db:
            row = db.execute(
                self.dialect.sql("SELECT COUNT(*) FROM {feed_items} WHERE feed_url = ?"),
                (feed_url,),
            ).fetchone()
        return int(row[0])


_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS feed_items (
    feed_url   TEXT NOT NULL,
    item_key   TEXT NOT NULL,
    article_id TEXT,
    error      TEXT,
    seen_at    TEXT NOT NULL,
    PRIMARY KEY (feed_url, item_key)
);
CREATE TABLE IF NOT EXISTS feed_polls (
    feed_url      TEXT PRIMARY KEY,
    claimed_by    TEXT,
    claimed_until REAL,
    polled_at     REAL
);
"""


class SqliteFeedState(SqlFeedQueries):
    """:class:`FeedState` in one SQLite file, used by one process at a time (the one
    holding the data folder): claims an earlier process left are cleared on open."""

    dialect = SQLITE

    def __init__(self, path: Path, *, lease_s: float = 120.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.worker = _worker_id()
        self.lease_s = lease_s
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SQLITE_SCHEMA)
        self._db.execute("UPDATE feed_polls SET claimed_by = NULL, claimed_until = NULL")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._db.close()


class PgFeedState(SqlFeedQueries):
    """:class:`FeedState` in PostgreSQL beside the articles, shared by every replica."""

    dialect = POSTGRESQL

    def __init__(self, store: PgArticleStore, *, lease_s: float = 120.0) -> None:
        self._store = store
        self.worker = _worker_id()
        self.lease_s = lease_s

    def _tx(self) -> AbstractContextManager[Any]:
        return self._store.transaction()

    def close(self) -> None:
        """Nothing: the connection pool belongs to the article store."""


def feed_state_for(store: object, path: Path, *, lease_s: float = 120.0) -> FeedState:
    """PostgreSQL's feed state when ``store`` keeps the articles there (replicas share
    it); otherwise a SQLite file at ``path``. ``lease_s``: how long a claim on a feed
    lasts without a renewal before another replica may take the feed over."""
    if type(store).__module__ == "index.pg_store":  # psycopg is an optional extra
        from index.pg_store import PgArticleStore

        if isinstance(store, PgArticleStore):
            return PgFeedState(store, lease_s=lease_s)
    return SqliteFeedState(path, lease_s=lease_s)
