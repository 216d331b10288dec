"""The SQLite store with chunk ids reserved before a write (for the Milvus backend).

:class:`index.shared_index.SharedIndex` puts a chunk's vector into Milvus under its id
before the article store commits the chunk, so the id must be known first.
:class:`index.pg_store.PgArticleStore` reserves ids from a sequence; this subclass of
the SQLite store does the same with the ``chunks`` table's AUTOINCREMENT counter.
"""

from __future__ import annotations

from collections.abc import Sequence

from index.store import ArticleStore, NewArticle, _now


class ReservingArticleStore(ArticleStore):
    """:class:`ArticleStore` plus :meth:`reserve_chunk_ids` and explicit chunk ids."""

    where = "SQLite"

    def reserve_chunk_ids(self, n: int) -> list[int]:
        """``n`` fresh chunk ids, never handed out before or after."""
        if n <= 0:
            return []
        with self._lock, self._transaction():
            self._db.execute(
                "INSERT INTO sqlite_sequence(name, seq) SELECT 'chunks', 0 WHERE NOT EXISTS"
                " (SELECT 1 FROM sqlite_sequence WHERE name = 'chunks')"
            )
            (last,) = self._db.execute(
                "UPDATE sqlite_sequence SET seq = seq + ? WHERE name = 'chunks' RETURNING seq", (n,)
            ).fetchone()
        return list(range(int(last) - n + 1, int(last) + 1))

    def replace_articles(  # type: ignore[override]
        self,
        articles: Sequence[NewArticle],
        *,
        chunk_ids: Sequence[Sequence[int]],
        meta: dict[str, str] | None = None,
    ) -> tuple[list[list[int]], list[int], list[bool]]:
        """Insert or replace articles with their chunks under ``chunk_ids``, atomically."""
        removed: list[int] = []
        replaced: list[bool] = []
        now = _now()
        with self._lock, self._transaction():
            for art, ids in zip(articles, chunk_ids, strict=True):
                removed.extend(
                    r[0]
                    for r in self._db.execute(
                        "SELECT id FROM chunks WHERE article_id = ?", (art.id,)
                    )
                )
                row = self._db.execute(
                    "SELECT created_at FROM articles WHERE id = ?", (art.id,)
                ).fetchone()
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
                self._db.executemany(
                    'INSERT INTO chunks(id, article_id, position, start, "end", text)'
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (cid, art.id, ch.position, ch.start, ch.end, ch.text)
                        for cid, ch in zip(ids, art.chunks, strict=True)
                    ],
                )
            if meta:
                self._upsert_meta(meta)
            self._bump_generation()
        return [list(ids) for ids in chunk_ids], removed, replaced

    def ping(self) -> None:
        """The file is in this process: always reachable while open."""
