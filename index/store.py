"""SQLite store of articles and chunks: the source of truth the other indexes derive from."""

from __future__ import annotations

import errno
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from index.documents import Article
from index.errors import DiskFullError, StoreDamagedError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS articles (
    id         TEXT PRIMARY KEY,
    title      TEXT,
    text       TEXT NOT NULL,
    date       TEXT,
    source     TEXT,
    url        TEXT,
    author     TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_date ON articles(date);
CREATE INDEX IF NOT EXISTS articles_source ON articles(source);
-- AUTOINCREMENT: chunk ids double as FAISS ids and must never be reused.
CREATE TABLE IF NOT EXISTS chunks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    start      INTEGER NOT NULL,
    "end"      INTEGER NOT NULL,
    text       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id, position);
"""


@dataclass(frozen=True, slots=True)
class ArticleRow:
    """An article as stored, with its chunk count."""

    id: str
    title: str | None
    text: str
    date: str | None
    source: str | None
    url: str | None
    author: str | None
    chunks: int
    created_at: str
    updated_at: str

    def to_article(self) -> Article:
        """The stored article as the input it was made from (to re-chunk and re-embed it)."""
        return Article(
            id=self.id,
            text=self.text,
            title=self.title,
            date=self.date,
            source=self.source,
            url=self.url,
            author=self.author,
        )


@dataclass(frozen=True, slots=True)
class ChunkRow:
    """A chunk as stored; ``start``/``end`` are offsets into its article's text."""

    id: int
    article_id: str
    position: int
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class NewChunk:
    """A chunk about to be stored (its id is assigned by the store)."""

    position: int
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class NewArticle:
    """An article and its chunks about to be stored."""

    id: str
    title: str | None
    text: str
    date: str | None
    source: str | None
    url: str | None
    author: str | None
    chunks: Sequence[NewChunk]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


_GENERATION = "generation"  # meta key: write transactions committed so far
# SQLite's primary result codes for a damaged file and a full disk.
_DAMAGED_CODES = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}


def _is_full(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.Error):
        return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_FULL
    return isinstance(exc, OSError) and exc.errno == errno.ENOSPC


def _is_damaged(exc: BaseException) -> bool:
    return (
        isinstance(exc, sqlite3.Error)
        and (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in _DAMAGED_CODES
    )


def damaged_message(path: Path, exc: BaseException) -> str:
    """One line naming the damaged file and what to do about it."""
    return (
        f"{path} is damaged ({exc}). Stop vnqa and run `vnqa repair`: it backs the "
        "files up, then rebuilds the index from what can still be read."
    )


def disk_full_message(path: Path) -> str:
    """One line saying the disk is full and that nothing of the write was stored."""
    return (
        f"the disk holding {path.parent} is full; nothing of this write was stored. "
        "Free space on that volume (VNQA_DATA_DIR) and retry."
    )


class ArticleStore:
    """Articles and chunks in one SQLite file (WAL mode, one connection, serialized).

    Raises :class:`StoreDamagedError` when the file is not a readable database and
    :class:`DiskFullError` when a full disk refuses even to open it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._closed = False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            # One process holds the index (flock), so the WAL index can live in this
            # process's memory: no -shm file, which a full disk would refuse to create.
            self._db.execute("PRAGMA locking_mode=EXCLUSIVE")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)
            self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()
        except sqlite3.Error as exc:
            if _is_damaged(exc):
                raise StoreDamagedError(damaged_message(path, exc)) from None
            if _is_full(exc):
                raise DiskFullError(disk_full_message(path)) from None
            raise

    def close(self) -> None:
        """Checkpoint the write-ahead log into the main file and close (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass  # a full disk: the log stays and is replayed at the next open
            finally:
                self._db.close()

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the main file and empty the log."""
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def generation(self) -> int:
        """How many write transactions the store has committed (0 for an old store)."""
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM meta WHERE key = ?", (_GENERATION,)
            ).fetchone()
        return int(row[0]) if row else 0

    def max_chunk_id(self) -> int:
        """The largest chunk id ever assigned (ids are never reused), 0 if none."""
        with self._lock:
            row = self._db.execute(
                "SELECT seq FROM sqlite_sequence WHERE name = 'chunks'"
            ).fetchone()
        return int(row[0]) if row else 0

    def newest_update(self) -> str | None:
        """When the most recently written article was stored (ISO time), or None."""
        with self._lock:
            row = self._db.execute("SELECT MAX(updated_at) FROM articles").fetchone()
        return row[0] if row else None

    def _bump_generation(self) -> None:
        self._db.execute(
            "INSERT INTO meta(key, value) VALUES (?, '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
            (_GENERATION,),
        )

    # -- metadata -----------------------------------------------------------------
    def get_meta(self) -> dict[str, str]:
        """All metadata key/value pairs."""
        with self._lock:
            return dict(self._db.execute("SELECT key, value FROM meta").fetchall())

    def set_meta(self, values: dict[str, str]) -> None:
        """Upsert metadata values in one transaction."""
        with self._lock, self._transaction():
            self._upsert_meta(values)

    def _upsert_meta(self, values: dict[str, str]) -> None:
        self._db.executemany(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            list(values.items()),
        )

    # -- writes -------------------------------------------------------------------
    def _transaction(self):
        return _Transaction(self._db, self.path)

    # -- for companion tables (index.summary_store) ---------------------------------
    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, under the store's lock, for reads of companion tables."""
        with self._lock:
            yield self._db

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """One transaction on companion tables, with the store's lock and durability
        rules (full-disk → :class:`DiskFullError`, nothing stored); it does not count as
        an article write (the generation that FAISS mirrors stays as it is)."""
        with self._lock, self._transaction():
            yield self._db

    def replace_articles(
        self, articles: Sequence[NewArticle], *, meta: dict[str, str] | None = None
    ) -> tuple[list[list[int]], list[int], list[bool]]:
        """Insert or replace articles with their chunks, atomically.

        Returns the new chunk ids per article, the ids of chunks that were removed
        (from replaced articles) and, per article, whether it replaced one.
        """
        new_ids: list[list[int]] = []
        removed: list[int] = []
        replaced: list[bool] = []
        now = _now()
        with self._lock, self._transaction():
            for art in articles:
                old = [
                    r[0]
                    for r in self._db.execute(
                        "SELECT id FROM chunks WHERE article_id = ?", (art.id,)
                    )
                ]
                row = self._db.execute(
                    "SELECT created_at FROM articles WHERE id = ?", (art.id,)
                ).fetchone()
                removed.extend(old)
                replaced.append(row is not None)
                self._db.execute("DELETE FROM chunks WHERE article_id = ?", (art.id,))
                self._db.execute(
                    "INSERT INTO articles(id, title, text, date, source, url, author,"
                    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT(id) DO UPDATE SET title=excluded.title, text=excluded.text,"
                    " date=excluded.date, source=excluded.source, url=excluded.url,"
                    " author=excluded.author, updated_at=excluded.updated_at",
                    (
                        art.id,
                        art.title,
                        art.text,
                        art.date,
                        art.source,
                        art.url,
                        art.author,
                        row[0] if row else now,
                        now,
                    ),
                )
                ids = []
                for ch in art.chunks:
                    cur = self._db.execute(
                        'INSERT INTO chunks(article_id, position, start, "end", text)'
                        " VALUES (?, ?, ?, ?, ?)",
                        (art.id, ch.position, ch.start, ch.end, ch.text),
                    )
                    ids.append(_rowid(cur))
                new_ids.append(ids)
            if meta:
                self._upsert_meta(meta)
            self._bump_generation()
        return new_ids, removed, replaced

    def delete_article(
        self, article_id: str, *, meta: dict[str, str] | None = None
    ) -> list[int] | None:
        """Delete an article; returns its chunk ids, or None if it did not exist."""
        with self._lock, self._transaction():
            ids = [
                r[0]
                for r in self._db.execute(
                    "SELECT id FROM chunks WHERE article_id = ?", (article_id,)
                )
            ]
            cur = self._db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
            if cur.rowcount == 0:
                return None
            self._db.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))
            if meta:
                self._upsert_meta(meta)
            self._bump_generation()
            return ids

    def replace_all_chunks(
        self, chunks_by_article: Mapping[str, Sequence[NewChunk]], *, meta: dict[str, str]
    ) -> dict[str, list[int]]:
        """Swap every article's chunks at once (used by reindex); returns new ids."""
        out: dict[str, list[int]] = {}
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM chunks")
            for article_id, chunks in chunks_by_article.items():
                ids = []
                for ch in chunks:
                    cur = self._db.execute(
                        'INSERT INTO chunks(article_id, position, start, "end", text)'
                        " VALUES (?, ?, ?, ?, ?)",
                        (article_id, ch.position, ch.start, ch.end, ch.text),
                    )
                    ids.append(_rowid(cur))
                out[article_id] = ids
            self._upsert_meta(meta)
            self._bump_generation()
        return out

    # -- reads --------------------------------------------------------------------
    _ARTICLE_COLS = (
        "a.id, a.title, a.text, a.date, a.source, a.url, a.author,"
        " (SELECT COUNT(*) FROM chunks c WHERE c.article_id = a.id), a.created_at, a.updated_at"
    )

    def get_article(self, article_id: str) -> ArticleRow | None:
        """One article by id, or None."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {self._ARTICLE_COLS} FROM articles a WHERE a.id = ?", (article_id,)
            ).fetchone()
        return ArticleRow(*row) if row else None

    def list_articles(self, *, offset: int, limit: int) -> tuple[list[ArticleRow], int]:
        """A page of articles, newest first, and the total count."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {self._ARTICLE_COLS} FROM articles a"
                " ORDER BY a.created_at DESC, a.id LIMIT ? OFFSET ?",
                (limit, offset),
            ).fetchall()
            total = self._db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        return [ArticleRow(*r) for r in rows], int(total)

    def iter_articles(self) -> Iterator[ArticleRow]:
        """Every article (loaded in one query; fine for reindexing)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {self._ARTICLE_COLS} FROM articles a ORDER BY a.id"
            ).fetchall()
        return (ArticleRow(*r) for r in rows)

    def chunks(self, ids: Iterable[int]) -> dict[int, ChunkRow]:
        """Chunks by id."""
        ids = list(ids)
        out: dict[int, ChunkRow] = {}
        with self._lock:
            for i in range(0, len(ids), 500):
                part = ids[i : i + 500]
                marks = ",".join("?" * len(part))
                for row in self._db.execute(
                    f'SELECT id, article_id, position, start, "end", text FROM chunks'
                    f" WHERE id IN ({marks})",
                    part,
                ):
                    out[row[0]] = ChunkRow(*row)
        return out

    def all_chunks(self) -> list[ChunkRow]:
        """Every chunk, ordered by id."""
        with self._lock:
            rows = self._db.execute(
                'SELECT id, article_id, position, start, "end", text FROM chunks ORDER BY id'
            ).fetchall()
        return [ChunkRow(*r) for r in rows]

    def chunk_ids(self) -> list[int]:
        """Every chunk id, ascending."""
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT id FROM chunks ORDER BY id")]

    def iter_chunk_texts(self, page: int = 5000) -> Iterator[tuple[int, str]]:
        """Every (chunk id, text), ascending, read a page at a time."""
        last = -1
        while True:
            with self._lock:
                rows = self._db.execute(
                    "SELECT id, text FROM chunks WHERE id > ? ORDER BY id LIMIT ?", (last, page)
                ).fetchall()
            if not rows:
                return
            yield from rows
            last = rows[-1][0]

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
            where.append(f"a.id IN ({','.join('?' * len(article_ids))})")
            params.extend(article_ids)
        if sources is not None:
            where.append(f"a.source IN ({','.join('?' * len(sources))})")
            params.extend(sources)
        if date_from is not None:
            where.append("a.date >= ?")
            params.append(date_from)
        if date_to is not None:
            where.append("a.date <= ?")
            params.append(date_to)
        sql = "SELECT c.id FROM chunks c JOIN articles a ON a.id = c.article_id"
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._lock:
            return [r[0] for r in self._db.execute(sql, params)]

    def counts(self) -> tuple[int, int]:
        """(articles, chunks)."""
        with self._lock:
            a = self._db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
            c = self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return int(a), int(c)

    def article_meta(self, article_ids: Iterable[str]) -> dict[str, ArticleRow]:
        """Articles by id (with text), for decorating search hits."""
        ids = list(set(article_ids))
        out: dict[str, ArticleRow] = {}
        with self._lock:
            for i in range(0, len(ids), 500):
                part = ids[i : i + 500]
                marks = ",".join("?" * len(part))
                for row in self._db.execute(
                    f"SELECT {self._ARTICLE_COLS} FROM articles a WHERE a.id IN ({marks})", part
                ):
                    out[row[0]] = ArticleRow(*row)
        return out


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any exception (a failed COMMIT too).

    A full disk becomes :class:`DiskFullError`: the transaction is rolled back, so
    nothing of it is stored.
    """

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self._path = path

    def __enter__(self) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self._raise(exc)

    def __exit__(self, exc_type, exc, tb) -> Literal[False]:
        failure = exc
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as commit_exc:
                failure = commit_exc
            else:
                self._checkpoint()
                return False
        if self._db.in_transaction:  # SQLite may have rolled back already
            self._db.execute("ROLLBACK")
        if _is_full(failure):
            raise DiskFullError(disk_full_message(self._path)) from failure
        if exc_type is None:
            raise failure
        return False  # the body's exception goes on

    def _checkpoint(self) -> None:
        """Copy the commit into the main file at once, so the log never holds more than
        the transaction in progress: a damaged log then costs nothing committed."""
        try:
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:  # a full disk: the commit is safe in the log meanwhile
            pass

    def _raise(self, exc: BaseException) -> None:
        if _is_full(exc):
            raise DiskFullError(disk_full_message(self._path)) from exc
        raise exc


def _rowid(cursor: sqlite3.Cursor) -> int:
    """The rowid an INSERT just made (always set after a one-row INSERT)."""
    assert cursor.lastrowid is not None
    return cursor.lastrowid
