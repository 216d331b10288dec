"""Articles and chunks in PostgreSQL, shared by any number of vnqa replicas.

The same reads and writes as :class:`index.store.ArticleStore` (the SQLite store), over
a psycopg 3 connection pool. Migrations run at start-up under an advisory lock, so
replicas starting together apply each one once. Chunk ids come from a sequence and are
reserved before a write (:meth:`PgArticleStore.reserve_chunk_ids`): the caller puts the
vectors under those ids in the chunk index first, then commits here, so a commit is
never visible without its vectors. A replace takes a per-article advisory lock, so two
replicas replacing the same article one after the other never mix their chunks.

Every failure to reach the server (refused, timed out, dropped) becomes
:class:`~index.errors.BackendUnavailableError`; the pool checks a connection before
lending it, so the store recovers by itself once the server is back.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from index.errors import BackendUnavailableError
from index.store import ArticleRow, ChunkRow, NewArticle

logger = logging.getLogger(__name__)

# Applied in order, each once; the version is its position (1-based). Never edit one
# that has shipped: append a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE vnqa_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE vnqa_articles (
        id TEXT PRIMARY KEY, title TEXT, text TEXT NOT NULL, date TEXT, source TEXT,
        url TEXT, author TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
    );
    CREATE INDEX vnqa_articles_date ON vnqa_articles(date);
    CREATE INDEX vnqa_articles_source ON vnqa_articles(source);
    CREATE INDEX vnqa_articles_created ON vnqa_articles(created_at DESC, id);
    CREATE SEQUENCE vnqa_chunk_ids;
    CREATE TABLE vnqa_chunks (
        id BIGINT PRIMARY KEY,
        article_id TEXT NOT NULL REFERENCES vnqa_articles(id) ON DELETE CASCADE,
        position INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
        text TEXT NOT NULL
    );
    CREATE INDEX vnqa_chunks_article ON vnqa_chunks(article_id, position);
    """,
    # 2: stored summaries and their work queue (index/pg_summary_store.py). Triggers
    # queue a summary in the transaction that stores or changes an article; a claim is
    # a lease (claimed_by, claimed_until) that lapses if its replica dies.
    """
    CREATE TABLE vnqa_summaries (
        article_id TEXT PRIMARY KEY REFERENCES vnqa_articles(id) ON DELETE CASCADE,
        status TEXT NOT NULL, revision INTEGER NOT NULL DEFAULT 1, text TEXT,
        method TEXT, model TEXT, summarizer TEXT, max_words INTEGER, error TEXT,
        queued_at TEXT NOT NULL, made_at TEXT,
        claimed_by TEXT, claimed_until TIMESTAMPTZ
    );
    CREATE INDEX vnqa_summaries_status ON vnqa_summaries(status, queued_at, article_id);
    CREATE FUNCTION vnqa_summary_queue() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO vnqa_summaries(article_id, status, queued_at)
        VALUES (NEW.id, 'pending', NEW.updated_at)
        ON CONFLICT (article_id) DO UPDATE SET status = 'pending',
            revision = vnqa_summaries.revision + 1, error = NULL,
            queued_at = excluded.queued_at, claimed_by = NULL, claimed_until = NULL;
        RETURN NULL;
    END $$;
    CREATE TRIGGER vnqa_summaries_article_added AFTER INSERT ON vnqa_articles
        FOR EACH ROW EXECUTE FUNCTION vnqa_summary_queue();
    CREATE TRIGGER vnqa_summaries_article_changed AFTER UPDATE OF title, text ON vnqa_articles
        FOR EACH ROW WHEN (OLD.text IS DISTINCT FROM NEW.text
                           OR OLD.title IS DISTINCT FROM NEW.title)
        EXECUTE FUNCTION vnqa_summary_queue();
    INSERT INTO vnqa_summaries(article_id, status, queued_at)
        SELECT id, 'pending', updated_at FROM vnqa_articles;
    """,
    # 3: feed positions and poll leases (index/feed_state.py): the items of each feed
    # taken in, and which replica polls a feed (claimed_by, claimed_until) and when it
    # was last polled; times are seconds since the epoch on the server's clock.
    """
    CREATE TABLE vnqa_feed_items (
        feed_url TEXT NOT NULL, item_key TEXT NOT NULL, article_id TEXT, error TEXT,
        seen_at TEXT NOT NULL, PRIMARY KEY (feed_url, item_key)
    );
    CREATE TABLE vnqa_feed_polls (
        feed_url TEXT PRIMARY KEY, claimed_by TEXT,
        claimed_until DOUBLE PRECISION, polled_at DOUBLE PRECISION
    );
    """,
)
_MIGRATION_LOCK = 0x766E7161  # "vnqa": one replica migrates at a time
_GENERATION = "generation"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _where(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "the configured PostgreSQL"
    return f"PostgreSQL at {info.get('host', 'localhost')}:{info.get('port', 5432)}"


class PgArticleStore:
    """Articles and chunks in PostgreSQL (see the module doc); thread-safe."""

    def __init__(self, url: str, *, max_size: int = 8, timeout_s: float = 5.0) -> None:
        self.url = url
        self.where = _where(url)
        self.timeout_s = timeout_s
        statement_ms = int(timeout_s * 1000)
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            timeout=timeout_s,
            open=False,
            check=ConnectionPool.check_connection,
            kwargs={
                "autocommit": False,
                "connect_timeout": max(1, int(timeout_s)),
                "options": f"-c statement_timeout={statement_ms}",
            },
            name="vnqa-pg",
        )
        self._pool.open(wait=False)
        try:
            self.migrate()
        except BaseException:
            self._pool.close()
            raise

    # -- plumbing -------------------------------------------------------------------
    @contextmanager
    def _tx(self) -> Iterator[psycopg.Cursor]:
        """A cursor in one transaction; unreachable servers become BackendUnavailableError."""
        try:
            with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                yield cur
        except (PoolTimeout, psycopg.OperationalError) as exc:
            raise BackendUnavailableError(
                f"{self.where} did not answer within {self.timeout_s:g} s ({_first_line(exc)}); "
                "retry when it is back"
            ) from exc

    def transaction(self) -> contextlib.AbstractContextManager[psycopg.Cursor]:
        """A cursor in one transaction (for the summary store sharing this pool)."""
        return self._tx()

    def migrate(self) -> int:
        """Apply the migrations this database lacks; returns how many ran."""
        with self._tx() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            cur.execute(
                "CREATE TABLE IF NOT EXISTS vnqa_migrations ("
                " version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            cur.execute("SELECT COALESCE(MAX(version), 0) FROM vnqa_migrations")
            done = int(_one(cur)[0])
            for version, sql in enumerate(MIGRATIONS[done:], start=done + 1):
                logger.info("applying PostgreSQL migration %d", version)
                cur.execute(sql)
                cur.execute("INSERT INTO vnqa_migrations VALUES (%s, %s)", (version, _now()))
        return len(MIGRATIONS) - done

    def ping(self) -> None:
        """Raise :class:`BackendUnavailableError` unless the server answers now."""
        with self._tx() as cur:
            cur.execute("SELECT 1")

    def close(self) -> None:
        """Close the pool (idempotent)."""
        self._pool.close()

    def checkpoint(self) -> None:
        """Nothing to do: PostgreSQL checkpoints by itself."""

    # -- metadata -------------------------------------------------------------------
    def get_meta(self) -> dict[str, str]:
        """All metadata key/value pairs."""
        with self._tx() as cur:
            cur.execute("SELECT key, value FROM vnqa_meta")
            return dict(cur.fetchall())

    def set_meta(self, values: dict[str, str]) -> None:
        """Upsert metadata values in one transaction."""
        with self._tx() as cur:
            self._upsert_meta(cur, values)

    @staticmethod
    def _upsert_meta(cur: psycopg.Cursor, values: dict[str, str]) -> None:
        cur.executemany(
            "INSERT INTO vnqa_meta(key, value) VALUES (%s, %s)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            list(values.items()),
        )

    @staticmethod
    def _bump_generation(cur: psycopg.Cursor) -> None:
        cur.execute(
            "INSERT INTO vnqa_meta(key, value) VALUES (%s, '1') ON CONFLICT(key)"
            " DO UPDATE SET value = (vnqa_meta.value::bigint + 1)::text",
            (_GENERATION,),
        )

    def generation(self) -> int:
        """How many write transactions the store has committed."""
        with self._tx() as cur:
            cur.execute("SELECT value FROM vnqa_meta WHERE key = %s", (_GENERATION,))
            row = cur.fetchone()
        return int(row[0]) if row else 0

    # -- writes ---------------------------------------------------------------------
    def reserve_chunk_ids(self, n: int) -> list[int]:
        """``n`` fresh chunk ids, never handed out before (nor after) to anyone."""
        if n <= 0:
            return []
        with self._tx() as cur:
            cur.execute("SELECT nextval('vnqa_chunk_ids') FROM generate_series(1, %s)", (n,))
            return [int(r[0]) for r in cur.fetchall()]

    def replace_articles(
        self,
        articles: Sequence[NewArticle],
        *,
        chunk_ids: Sequence[Sequence[int]],
        meta: dict[str, str] | None = None,
    ) -> tuple[list[list[int]], list[int], list[bool]]:
        """Insert or replace articles with their chunks under ``chunk_ids``, atomically.

        Returns the chunk ids per article, the ids of chunks removed (from replaced
        articles) and, per article, whether it replaced one.
        """
        removed: list[int] = []
        replaced: list[bool] = []
        now = _now()
        with self._tx() as cur:
            # Per-article locks in one order: concurrent replaces of one id serialize.
            for article_id in sorted({a.id for a in articles}):
                cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (article_id,))
            for art, ids in zip(articles, chunk_ids, strict=True):
                cur.execute("DELETE FROM vnqa_chunks WHERE article_id = %s RETURNING id", (art.id,))
                removed.extend(int(r[0]) for r in cur.fetchall())
                cur.execute(
                    "INSERT INTO vnqa_articles(id, title, text, date, source, url, author,"
                    " created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT(id) DO UPDATE SET title=excluded.title, text=excluded.text,"
                    " date=excluded.date, source=excluded.source, url=excluded.url,"
                    " author=excluded.author, updated_at=excluded.updated_at"
                    " RETURNING (xmax <> 0)",
                    (
                        art.id,
                        art.title,
                        art.text,
                        art.date,
                        art.source,
                        art.url,
                        art.author,
                        now,
                        now,
                    ),
                )
                replaced.append(bool(_one(cur)[0]))
                cur.executemany(
                    'INSERT INTO vnqa_chunks(id, article_id, position, start, "end", text)'
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    [
                        (cid, art.id, ch.position, ch.start, ch.end, ch.text)
                        for cid, ch in zip(ids, art.chunks, strict=True)
                    ],
                )
            if meta:
                self._upsert_meta(cur, meta)
            self._bump_generation(cur)
        return [list(ids) for ids in chunk_ids], removed, replaced

    def delete_article(
        self, article_id: str, *, meta: dict[str, str] | None = None
    ) -> list[int] | None:
        """Delete an article; returns its chunk ids, or None if it did not exist."""
        with self._tx() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (article_id,))
            cur.execute("DELETE FROM vnqa_chunks WHERE article_id = %s RETURNING id", (article_id,))
            ids = [int(r[0]) for r in cur.fetchall()]
            cur.execute("DELETE FROM vnqa_articles WHERE id = %s", (article_id,))
            if cur.rowcount == 0:
                return None
            if meta:
                self._upsert_meta(cur, meta)
            self._bump_generation(cur)
            return ids

    # -- reads ----------------------------------------------------------------------
    _ARTICLE_COLS = (
        "a.id, a.title, a.text, a.date, a.source, a.url, a.author,"
        " (SELECT COUNT(*) FROM vnqa_chunks c WHERE c.article_id = a.id),"
        " a.created_at, a.updated_at"
    )
    _CHUNK_COLS = 'id, article_id, position, start, "end", text'

    def get_article(self, article_id: str) -> ArticleRow | None:
        """One article by id, or None."""
        with self._tx() as cur:
            cur.execute(
                f"SELECT {self._ARTICLE_COLS} FROM vnqa_articles a WHERE a.id = %s", (article_id,)
            )
            row = cur.fetchone()
        return ArticleRow(*row) if row else None

    def list_articles(self, *, offset: int, limit: int) -> tuple[list[ArticleRow], int]:
        """A page of articles, newest first, and the total count."""
        with self._tx() as cur:
            cur.execute(
                f"SELECT {self._ARTICLE_COLS} FROM vnqa_articles a"
                " ORDER BY a.created_at DESC, a.id LIMIT %s OFFSET %s",
                (limit, offset),
            )
            rows = cur.fetchall()
            cur.execute("SELECT COUNT(*) FROM vnqa_articles")
            total = _one(cur)[0]
        return [ArticleRow(*r) for r in rows], int(total)

    def iter_articles(self) -> Iterator[ArticleRow]:
        """Every article (loaded in one query; fine for reindexing)."""
        with self._tx() as cur:
            cur.execute(f"SELECT {self._ARTICLE_COLS} FROM vnqa_articles a ORDER BY a.id")
            rows = cur.fetchall()
        return (ArticleRow(*r) for r in rows)

    def chunks(self, ids: Iterable[int]) -> dict[int, ChunkRow]:
        """Chunks by id."""
        ids = list(ids)
        if not ids:
            return {}
        with self._tx() as cur:
            cur.execute(f"SELECT {self._CHUNK_COLS} FROM vnqa_chunks WHERE id = ANY(%s)", (ids,))
            return {r[0]: ChunkRow(*r) for r in cur.fetchall()}

    def all_chunks(self) -> list[ChunkRow]:
        """Every chunk, ordered by id."""
        with self._tx() as cur:
            cur.execute(f"SELECT {self._CHUNK_COLS} FROM vnqa_chunks ORDER BY id")
            return [ChunkRow(*r) for r in cur.fetchall()]

    def chunk_ids_matching(
        self,
        *,
        article_ids: Sequence[str] | None = None,
        sources: Sequence[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> list[int]:
        """Ids of chunks whose article passes every given filter."""
        where: list[str] = []
        params: list[object] = []
        if article_ids is not None:
            where.append("a.id = ANY(%s)")
            params.append(list(article_ids))
        if sources is not None:
            where.append("a.source = ANY(%s)")
            params.append(list(sources))
        if date_from is not None:
            where.append("a.date >= %s")
            params.append(date_from)
        if date_to is not None:
            where.append("a.date <= %s")
            params.append(date_to)
        sql = "SELECT c.id FROM vnqa_chunks c JOIN vnqa_articles a ON a.id = c.article_id"
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._tx() as cur:
            cur.execute(sql, params)
            return [int(r[0]) for r in cur.fetchall()]

    def counts(self) -> tuple[int, int]:
        """(articles, chunks)."""
        with self._tx() as cur:
            cur.execute(
                "SELECT (SELECT COUNT(*) FROM vnqa_articles), (SELECT COUNT(*) FROM vnqa_chunks)"
            )
            a, c = _one(cur)
        return int(a), int(c)

    def article_meta(self, article_ids: Iterable[str]) -> dict[str, ArticleRow]:
        """Articles by id (with text), for decorating search hits."""
        ids = list(set(article_ids))
        if not ids:
            return {}
        with self._tx() as cur:
            cur.execute(
                f"SELECT {self._ARTICLE_COLS} FROM vnqa_articles a WHERE a.id = ANY(%s)", (ids,)
            )
            return {r[0]: ArticleRow(*r) for r in cur.fetchall()}


def _one(cur: psycopg.Cursor) -> tuple:
    """The row a query that always returns one row returned."""
    row = cur.fetchone()
    assert row is not None, "the query returns exactly one row"
    return row


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
