"""SQLite store of articles and chunks: the source of truth the other indexes derive from."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

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


class ArticleStore:
    """Articles and chunks in one SQLite file (WAL mode, one connection, serialized)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

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
        return _Transaction(self._db)

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
                old = [r[0] for r in self._db.execute(
                    "SELECT id FROM chunks WHERE article_id = ?", (art.id,))]
                row = self._db.execute(
                    "SELECT created_at FROM articles WHERE id = ?", (art.id,)).fetchone()
                removed.extend(old)
                replaced.append(row is not None)
                self._db.execute("DELETE FROM chunks WHERE article_id = ?", (art.id,))
                self._db.execute(
                    "INSERT INTO articles(id, title, text, date, source, url, author,"
                    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT(id) DO UPDATE SET title=excluded.title, text=excluded.text,"
                    " date=excluded.date, source=excluded.source, url=excluded.url,"
                    " author=excluded.author, updated_at=excluded.updated_at",
                    (art.id, art.title, art.text, art.date, art.source, art.url, art.author,
                     row[0] if row else now, now),
                )
                ids = []
                for ch in art.chunks:
                    cur = self._db.execute(
                        'INSERT INTO chunks(article_id, position, start, "end", text)'
                        " VALUES (?, ?, ?, ?, ?)",
                        (art.id, ch.position, ch.start, ch.end, ch.text),
                    )
                    ids.append(int(cur.lastrowid))
                new_ids.append(ids)
            if meta:
                self._upsert_meta(meta)
        return new_ids, removed, replaced

    def delete_article(
        self, article_id: str, *, meta: dict[str, str] | None = None
    ) -> list[int] | None:
        """Delete an article; returns its chunk ids, or None if it did not exist."""
        with self._lock, self._transaction():
            ids = [r[0] for r in self._db.execute(
                "SELECT id FROM chunks WHERE article_id = ?", (article_id,))]
            cur = self._db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
            if cur.rowcount == 0:
                return None
            self._db.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))
            if meta:
                self._upsert_meta(meta)
            return ids

    def replace_all_chunks(
        self, chunks_by_article: dict[str, Sequence[NewChunk]], *, meta: dict[str, str]
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
                    ids.append(int(cur.lastrowid))
                out[article_id] = ids
            self._upsert_meta(meta)
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
                f"SELECT {self._ARTICLE_COLS} FROM articles a ORDER BY a.id").fetchall()
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
                    f" WHERE id IN ({marks})", part):
                    out[row[0]] = ChunkRow(*row)
        return out

    def all_chunks(self) -> list[ChunkRow]:
        """Every chunk, ordered by id."""
        with self._lock:
            rows = self._db.execute(
                'SELECT id, article_id, position, start, "end", text FROM chunks ORDER BY id'
            ).fetchall()
        return [ChunkRow(*r) for r in rows]

    def chunk_ids_matching(
        self,
        *,
        article_ids: Sequence[str] | None = None,
        sources: Sequence[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> list[int]:
        """Ids of chunks whose article passes every given filter."""
        where, params = [], []
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
                    f"SELECT {self._ARTICLE_COLS} FROM articles a WHERE a.id IN ({marks})", part):
                    out[row[0]] = ArticleRow(*row)
        return out


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")
