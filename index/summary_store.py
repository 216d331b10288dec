"""Stored article summaries and the queue of articles waiting for one.

:class:`SummaryStore` is the interface the service codes against; :class:`SqliteSummaryStore`
keeps it in the article store's SQLite file; :class:`index.pg_summary_store.PgSummaryStore`
in PostgreSQL (``claim`` with ``SELECT … FOR UPDATE SKIP LOCKED`` and a lease).
:func:`summary_store_for` picks the one that fits an article store. The queries both share
(everything but the claims) are written once, in :class:`SqlSummaryQueries`, over the
dialects of :mod:`index.sql_dialect`.

Every article has one summary row. SQLite triggers add it (``pending``) in the same
transaction that stores the article, and reset it to ``pending`` when a replacement
changes the title or text, so no article is ever stored without its queued summary,
and a crash loses no queued work: pending rows are simply found again. Claims live in
the process's memory (one process holds the index), so nothing is left "running"
after a crash. A row's ``revision`` grows with each reset; a summary made from an
older revision is discarded when it is completed.

Statuses: ``pending`` (waiting), ``ready``, ``failed`` (``error`` says why) and
``stale`` (made by another summarizer than the one in use).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from index.sql_dialect import SQLITE, Dialect
from index.store import ArticleRow, ArticleStore

SummaryStatus = Literal["pending", "ready", "failed", "stale"]
Requeue = Literal["stale", "failed", "all"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS summaries (
    article_id TEXT PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
    status     TEXT NOT NULL,
    revision   INTEGER NOT NULL DEFAULT 1,
    text       TEXT,
    method     TEXT,
    model      TEXT,
    summarizer TEXT,
    max_words  INTEGER,
    error      TEXT,
    queued_at  TEXT NOT NULL,
    made_at    TEXT
);
CREATE INDEX IF NOT EXISTS summaries_status ON summaries(status, queued_at);
CREATE TRIGGER IF NOT EXISTS summaries_article_added AFTER INSERT ON articles BEGIN
    INSERT OR REPLACE INTO summaries(article_id, status, queued_at)
    VALUES (NEW.id, 'pending', NEW.updated_at);
END;
CREATE TRIGGER IF NOT EXISTS summaries_article_changed AFTER UPDATE OF title, text ON articles
WHEN OLD.text IS NOT NEW.text OR OLD.title IS NOT NEW.title BEGIN
    UPDATE summaries SET status = 'pending', revision = revision + 1, error = NULL,
           queued_at = NEW.updated_at
     WHERE article_id = NEW.id;
END;
"""
# Articles stored before the summaries table existed get a pending row once.
_BACKFILL = (
    "INSERT OR IGNORE INTO summaries(article_id, status, queued_at)"
    " SELECT id, 'pending', updated_at FROM articles"
)


@dataclass(frozen=True, slots=True)
class SummaryJob:
    """An article claimed for summarizing, at the revision that was claimed."""

    article_id: str
    revision: int
    title: str | None
    text: str


@dataclass(frozen=True, slots=True)
class StoredSummary:
    """An article's summary row."""

    status: SummaryStatus
    text: str | None = None
    method: str | None = None
    model: str | None = None
    summarizer: str | None = None  # the summarizer's key ("method:model") that made it
    max_words: int | None = None
    error: str | None = None
    made_at: str | None = None


@dataclass(frozen=True, slots=True)
class MadeSummary:
    """A finished summary for one claimed job."""

    job: SummaryJob
    text: str
    method: str
    model: str
    summarizer: str
    max_words: int


class SummaryStore(Protocol):
    """Summary storage and its work queue (SQLite here; PostgreSQL in index/pg_summary_store)."""

    def claim(self, limit: int) -> list[SummaryJob]:
        """Up to ``limit`` pending articles, oldest first, that no worker holds."""
        ...

    def release(self, jobs: Iterable[SummaryJob]) -> None:
        """Give claimed jobs back unfinished (they stay pending)."""
        ...

    def complete(self, made: Sequence[MadeSummary]) -> int:
        """Store finished summaries (one transaction); returns how many were current."""
        ...

    def fail(self, job: SummaryJob, reason: str) -> None:
        """Mark a claimed job failed with ``reason``."""
        ...

    def summaries(self, article_ids: Iterable[str]) -> dict[str, StoredSummary]:
        """Summary rows by article id."""
        ...

    def status_counts(self) -> dict[str, int]:
        """How many articles are in each status."""
        ...

    def mark_stale(self, summarizer: str) -> int:
        """Ready summaries made by another summarizer become stale (and stale ones made by
        ``summarizer`` ready again); returns how many became stale."""
        ...

    def requeue(self, which: Requeue) -> int:
        """Put stale, failed or all summaries back in the queue; returns how many."""
        ...

    def window(
        self,
        *,
        date_from: str | None,
        date_to: str | None,
        sources: Sequence[str] | None,
        limit: int,
    ) -> list[tuple[ArticleRow, StoredSummary | None]]:
        """Articles dated in the inclusive range (the day stored when undated), newest
        first, with their summaries."""
        ...


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


_COLS = ("status", "text", "method", "model", "summarizer", "max_words", "error", "made_at")
_IN_BATCH = 500  # ids per IN (...) list


class SqlSummaryQueries:
    """The :class:`SummaryStore` queries both databases share, written once.

    A subclass names its :class:`~index.sql_dialect.Dialect` and article store, opens
    transactions (:meth:`_reading`, :meth:`_writing`: something whose ``execute``
    returns a cursor) and implements the claims (``claim``, ``release``, ``_forget``),
    the one part that differs in kind: in memory for SQLite, leases in PostgreSQL.
    """

    dialect: Dialect
    _article_cols: str  # the article store's ``_ARTICLE_COLS``

    def _reading(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _writing(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _forget(self, jobs: Sequence[SummaryJob]) -> None:
        """Drop the claims on ``jobs`` that completing or failing them did not clear."""
        raise NotImplementedError

    def complete(self, made: Sequence[MadeSummary]) -> int:
        """Store finished summaries in one transaction; returns how many were current."""
        if not made:
            return 0
        sql = self.dialect.sql(
            "UPDATE {summaries} SET status = 'ready', text = ?, method = ?, model = ?,"
            " summarizer = ?, max_words = ?, error = NULL, made_at = ?{unclaim}"
            " WHERE article_id = ? AND revision = ?"
        )
        stored = 0
        now = _now()
        try:
            with self._writing() as db:
                for m in made:
                    cur = db.execute(
                        sql,
                        (
                            m.text,
                            m.method,
                            m.model,
                            m.summarizer,
                            m.max_words,
                            now,
                            m.job.article_id,
                            m.job.revision,
                        ),
                    )
                    stored += cur.rowcount
        finally:
            self._forget([m.job for m in made])
        return stored

    def fail(self, job: SummaryJob, reason: str) -> None:
        """Mark a claimed job failed with ``reason`` (unless the article changed since)."""
        try:
            with self._writing() as db:
                db.execute(
                    self.dialect.sql(
                        "UPDATE {summaries} SET status = 'failed', error = ?, made_at = ?"
                        "{unclaim} WHERE article_id = ? AND revision = ?"
                    ),
                    (reason[:500], _now(), job.article_id, job.revision),
                )
        finally:
            self._forget([job])

    # -- reads ----------------------------------------------------------------------
    def summaries(self, article_ids: Iterable[str]) -> dict[str, StoredSummary]:
        """Summary rows by article id."""
        ids = list(set(article_ids))
        out: dict[str, StoredSummary] = {}
        with self._reading() as db:
            for i in range(0, len(ids), _IN_BATCH):
                part = ids[i : i + _IN_BATCH]
                sql = self.dialect.sql(
                    f"SELECT article_id, {', '.join(_COLS)} FROM {{summaries}}"
                    f" WHERE article_id IN ({','.join('?' * len(part))})"
                )
                for row in db.execute(sql, part).fetchall():
                    out[row[0]] = StoredSummary(*row[1:])
        return out

    def status_counts(self) -> dict[str, int]:
        """How many articles are in each status."""
        with self._reading() as db:
            rows = db.execute(
                self.dialect.sql("SELECT status, COUNT(*) FROM {summaries} GROUP BY status")
            ).fetchall()
            return {status: int(n) for status, n in rows}

    # -- maintenance ----------------------------------------------------------------
    def mark_stale(self, summarizer: str) -> int:
        """Ready summaries by another summarizer become stale; stale ones made by
        ``summarizer`` are ready again. Returns how many became stale."""
        with self._writing() as db:
            db.execute(
                self.dialect.sql(
                    "UPDATE {summaries} SET status = 'ready'"
                    " WHERE status = 'stale' AND summarizer = ?"
                ),
                (summarizer,),
            )
            cur = db.execute(
                self.dialect.sql(
                    "UPDATE {summaries} SET status = 'stale'"
                    " WHERE status = 'ready' AND summarizer {distinct} ?"
                ),
                (summarizer,),
            )
            return int(cur.rowcount)

    def requeue(self, which: Requeue) -> int:
        """Put stale, failed or all summaries back in the queue; returns how many."""
        where = {
            "stale": "status = 'stale'",
            "failed": "status = 'failed'",
            "all": "status != 'pending'",
        }[which]
        with self._writing() as db:
            cur = db.execute(
                self.dialect.sql(
                    "UPDATE {summaries} SET status = 'pending', revision = revision + 1,"
                    f" error = NULL{{unclaim}}, queued_at = ? WHERE {where}"
                ),
                (_now(),),
            )
            return int(cur.rowcount)

    def window(
        self,
        *,
        date_from: str | None,
        date_to: str | None,
        sources: Sequence[str] | None,
        limit: int,
    ) -> list[tuple[ArticleRow, StoredSummary | None]]:
        """Articles dated in the inclusive range (the day stored when undated), newest
        first, with their summaries."""
        day = "COALESCE(a.date, substr(a.created_at, 1, 10))"
        where: list[str] = []
        params: list[str | int] = []
        if date_from is not None:
            where.append(f"{day} >= ?")
            params.append(date_from)
        if date_to is not None:
            where.append(f"substr({day}, 1, 10) <= ?")
            params.append(date_to)
        if sources:
            where.append(f"a.source IN ({','.join('?' * len(sources))})")
            params.extend(sources)
        sql = (
            f"SELECT {self._article_cols}, "
            + ", ".join(f"s.{c}" for c in _COLS)
            + " FROM {articles} a LEFT JOIN {summaries} s ON s.article_id = a.id"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {day} DESC, a.created_at DESC, a.id LIMIT ?"
        params.append(limit)
        with self._reading() as db:
            rows = db.execute(self.dialect.sql(sql), params).fetchall()
        out = []
        for row in rows:
            article, summary = ArticleRow(*row[:10]), row[10:]
            out.append((article, StoredSummary(*summary) if summary[0] is not None else None))
        return out


class SqliteSummaryStore(SqlSummaryQueries):
    """:class:`SummaryStore` in the tables beside the articles in :class:`ArticleStore`."""

    dialect = SQLITE

    def __init__(self, store: ArticleStore) -> None:
        self._store = store
        self._article_cols = store._ARTICLE_COLS
        self._claimed: set[str] = set()
        self._claims_lock = threading.Lock()
        with store.reading() as db:
            existed = (
                db.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'summaries'"
                ).fetchone()
                is not None
            )
        if not existed:
            with store.writing() as db:  # executescript would commit: statement by statement
                _create(db)
                db.execute(_BACKFILL)

    def _reading(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._store.reading()

    def _writing(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._store.writing()

    # -- queue ----------------------------------------------------------------------
    def claim(self, limit: int) -> list[SummaryJob]:
        """Up to ``limit`` pending articles, oldest first, that no worker holds."""
        with self._claims_lock, self._store.reading() as db:
            held = list(self._claimed)
            marks = ",".join("?" * len(held))
            skip = f" AND s.article_id NOT IN ({marks})" if held else ""
            rows = db.execute(
                "SELECT s.article_id, s.revision, a.title, a.text FROM summaries s"
                " JOIN articles a ON a.id = s.article_id"
                f" WHERE s.status = 'pending'{skip} ORDER BY s.queued_at, s.article_id LIMIT ?",
                [*held, limit],
            ).fetchall()
            jobs = [SummaryJob(*row) for row in rows]
            self._claimed.update(job.article_id for job in jobs)
        return jobs

    def release(self, jobs: Iterable[SummaryJob]) -> None:
        """Give claimed jobs back unfinished (they stay pending)."""
        with self._claims_lock:
            self._claimed.difference_update(job.article_id for job in jobs)

    def _forget(self, jobs: Sequence[SummaryJob]) -> None:
        self.release(jobs)


def summary_store_for(store: object, *, lease_s: float = 600.0) -> SummaryStore | None:
    """The summary store beside ``store``'s articles (SQLite or PostgreSQL), or None when
    that article store keeps no summaries. ``lease_s``: how long a PostgreSQL claim lasts
    before another replica may take the job over."""
    if isinstance(store, ArticleStore):
        return SqliteSummaryStore(store)
    if type(store).__module__ == "index.pg_store":  # psycopg is an optional extra
        from index.pg_store import PgArticleStore
        from index.pg_summary_store import PgSummaryStore

        if isinstance(store, PgArticleStore):
            return PgSummaryStore(store, lease_s=lease_s)
    return None


def _create(db: sqlite3.Connection) -> None:
    """Run :data:`_SCHEMA` statement by statement inside the caller's transaction."""
    buffer = ""
    for line in _SCHEMA.strip().splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            db.execute(buffer)
            buffer = ""
