"""Stored summaries and their work queue in PostgreSQL, shared by every replica.

The same :class:`~index.summary_store.SummaryStore` as the SQLite one, over the
``vnqa_summaries`` table that :data:`index.pg_store.MIGRATIONS` creates: triggers on
``vnqa_articles`` queue a summary (``pending``) in the transaction that stores an article
and queue it again, one ``revision`` up, when a replacement changes its title or text.

A claim is a lease in the row (``claimed_by``, ``claimed_until``), taken with
``SELECT … FOR UPDATE SKIP LOCKED``: two replicas claiming at once never get the same
article, and the articles a replica held when it died are claimed again once their
lease has run out. A summary made from an older revision is discarded on completion.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import psycopg

from index.pg_store import PgArticleStore
from index.store import ArticleRow
from index.summary_store import MadeSummary, Requeue, StoredSummary, SummaryJob

_COLS = ("status", "text", "method", "model", "summarizer", "max_words", "error", "made_at")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class PgSummaryStore:
    """:class:`~index.summary_store.SummaryStore` beside the articles in PostgreSQL."""

    def __init__(self, store: PgArticleStore, *, lease_s: float = 600.0) -> None:
        self._store = store
        self.lease_s = lease_s
        # Who holds a claim: this store in this process on this host.
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    # -- queue ----------------------------------------------------------------------
    def claim(self, limit: int) -> list[SummaryJob]:
        """Up to ``limit`` pending articles, oldest first, that no live lease holds."""
        with self._store.transaction() as cur:
            cur.execute(
                "WITH picked AS ("
                " SELECT article_id FROM vnqa_summaries"
                " WHERE status = 'pending'"
                " AND (claimed_until IS NULL OR claimed_until < clock_timestamp())"
                " ORDER BY queued_at, article_id LIMIT %s FOR UPDATE SKIP LOCKED)"
                " UPDATE vnqa_summaries s SET claimed_by = %s,"
                " claimed_until = clock_timestamp() + make_interval(secs => %s)"
                " FROM picked, vnqa_articles a"
                " WHERE s.article_id = picked.article_id AND a.id = s.article_id"
                " RETURNING s.queued_at, s.article_id, s.revision, a.title, a.text",
                (limit, self.worker, self.lease_s),
            )
            rows = sorted(cur.fetchall())
        return [SummaryJob(*row[1:]) for row in rows]

    def release(self, jobs: Iterable[SummaryJob]) -> None:
        """Give claimed jobs back unfinished (they stay pending)."""
        ids = [job.article_id for job in jobs]
        if not ids:
            return
        with self._store.transaction() as cur:
            self._release(cur, ids)

    def _release(self, cur: psycopg.Cursor, ids: list[str]) -> None:
        cur.execute(
            "UPDATE vnqa_summaries SET claimed_by = NULL, claimed_until = NULL"
            " WHERE article_id = ANY(%s) AND claimed_by = %s",
            (ids, self.worker),
        )

    def complete(self, made: Sequence[MadeSummary]) -> int:
        """Store finished summaries in one transaction; returns how many were current."""
        if not made:
            return 0
        stored = 0
        now = _now()
        with self._store.transaction() as cur:
            for m in made:
                cur.execute(
                    "UPDATE vnqa_summaries SET status = 'ready', text = %s, method = %s,"
                    " model = %s, summarizer = %s, max_words = %s, error = NULL, made_at = %s,"
                    " claimed_by = NULL, claimed_until = NULL"
                    " WHERE article_id = %s AND revision = %s",
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
            self._release(cur, [m.job.article_id for m in made])
        return stored

    def fail(self, job: SummaryJob, reason: str) -> None:
        """Mark a claimed job failed with ``reason`` (unless the article changed since)."""
        with self._store.transaction() as cur:
            cur.execute(
                "UPDATE vnqa_summaries SET status = 'failed', error = %s, made_at = %s,"
                " claimed_by = NULL, claimed_until = NULL"
                " WHERE article_id = %s AND revision = %s",
                (reason[:500], _now(), job.article_id, job.revision),
            )
            self._release(cur, [job.article_id])

    # -- reads ----------------------------------------------------------------------
    def summaries(self, article_ids: Iterable[str]) -> dict[str, StoredSummary]:
        """Summary rows by article id."""
        ids = list(set(article_ids))
        if not ids:
            return {}
        with self._store.transaction() as cur:
            cur.execute(
                f"SELECT article_id, {', '.join(_COLS)} FROM vnqa_summaries"
                " WHERE article_id = ANY(%s)",
                (ids,),
            )
            return {row[0]: StoredSummary(*row[1:]) for row in cur.fetchall()}

    def status_counts(self) -> dict[str, int]:
        """How many articles are in each status."""
        with self._store.transaction() as cur:
            cur.execute("SELECT status, COUNT(*) FROM vnqa_summaries GROUP BY status")
            return {status: int(n) for status, n in cur.fetchall()}

    # -- maintenance ----------------------------------------------------------------
    def mark_stale(self, summarizer: str) -> int:
        """Ready summaries by another summarizer become stale; stale ones made by
        ``summarizer`` are ready again. Returns how many became stale."""
        with self._store.transaction() as cur:
            cur.execute(
                "UPDATE vnqa_summaries SET status = 'ready'"
                " WHERE status = 'stale' AND summarizer = %s",
                (summarizer,),
            )
            cur.execute(
                "UPDATE vnqa_summaries SET status = 'stale'"
                " WHERE status = 'ready' AND summarizer IS DISTINCT FROM %s",
                (summarizer,),
            )
            return cur.rowcount

    def requeue(self, which: Requeue) -> int:
        """Put stale, failed or all summaries back in the queue; returns how many."""
        where = {
            "stale": "status = 'stale'",
            "failed": "status = 'failed'",
            "all": "status != 'pending'",
        }[which]
        with self._store.transaction() as cur:
            cur.execute(
                "UPDATE vnqa_summaries SET status = 'pending', revision = revision + 1,"
                " error = NULL, claimed_by = NULL, claimed_until = NULL,"
                f" queued_at = %s WHERE {where}",
                (_now(),),
            )
            return cur.rowcount

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
        params: list[object] = []
        if date_from is not None:
            where.append(f"{day} >= %s")
            params.append(date_from)
        if date_to is not None:
            where.append(f"substr({day}, 1, 10) <= %s")
            params.append(date_to)
        if sources:
            where.append("a.source = ANY(%s)")
            params.append(list(sources))
        sql = (
            f"SELECT {PgArticleStore._ARTICLE_COLS}, "
            + ", ".join(f"s.{c}" for c in _COLS)
            + " FROM vnqa_articles a LEFT JOIN vnqa_summaries s ON s.article_id = a.id"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {day} DESC, a.created_at DESC, a.id LIMIT %s"
        params.append(limit)
        with self._store.transaction() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
        out = []
        for row in rows:
            article, summary = ArticleRow(*row[:10]), row[10:]
            out.append((article, StoredSummary(*summary) if summary[0] is not None else None))
        return out
