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

import contextlib
import os
import socket
import uuid
from collections.abc import Iterable, Sequence

import psycopg

from index.pg_store import PgArticleStore
from index.sql_dialect import POSTGRESQL
from index.summary_store import SqlSummaryQueries, SummaryJob


class PgSummaryStore(SqlSummaryQueries):
    """:class:`~index.summary_store.SummaryStore` beside the articles in PostgreSQL.

    Completing, failing and requeueing share their queries with the SQLite store
    (:class:`~index.summary_store.SqlSummaryQueries`); here they also clear the lease.
    """

    dialect = POSTGRESQL

    def __init__(self, store: PgArticleStore, *, lease_s: float = 600.0) -> None:
        self._store = store
        self._article_cols = store._ARTICLE_COLS
        self.lease_s = lease_s
        # Who holds a claim: this store in this process on this host.
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def _reading(self) -> contextlib.AbstractContextManager[psycopg.Cursor]:
        return self._store.transaction()

    _writing = _reading

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
        """Give claimed jobs back unfinished (they stay pending); a claim another
        replica has taken over since (after this one's lease ran out) stays its own."""
        ids = [job.article_id for job in jobs]
        if not ids:
            return
        with self._store.transaction() as cur:
            cur.execute(
                "UPDATE vnqa_summaries SET claimed_by = NULL, claimed_until = NULL"
                " WHERE article_id = ANY(%s) AND claimed_by = %s",
                (ids, self.worker),
            )

    def _forget(self, jobs: Sequence[SummaryJob]) -> None:
        """Nothing: completing or failing cleared the lease in the same statement, and a
        changed article's trigger cleared it when the revision moved on."""
