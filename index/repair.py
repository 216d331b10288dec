"""``repair_index``: back the index's files up, then make the index consistent again.

For the two ways a store can be damaged: it lost commits (the vector file holds
vectors of chunks the store never recorded), or it cannot be read at all. Nothing is
changed before every file is copied into ``backup-<time>/`` beside it.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index.documents import Article
from index.engine import ArticleIndex, EmbedderLike
from index.errors import StoreDamagedError
from index.process_lock import acquire_lock
from index.records import DB_FILE, DENSE_FILE, KEYWORDS_DIR, LostCommits

logger = logging.getLogger(__name__)

_FILES = (DB_FILE, f"{DB_FILE}-wal", f"{DB_FILE}-shm", DENSE_FILE)


@dataclass(frozen=True, slots=True)
class RepairReport:
    """What the repair found, kept and rebuilt."""

    backup: Path  # the untouched copies of the damaged files
    articles: int  # articles in the repaired index
    chunks: int
    vectors_dropped: int  # vectors no stored chunk accounts for (their articles are lost)
    chunks_embedded: int  # chunks re-embedded because the vector file lacked them
    lost: LostCommits | None  # the evidence of lost commits, if there was any
    store_rebuilt: bool  # the store was unreadable and was rebuilt from what could be read
    articles_salvaged: int  # articles read back from an unreadable store


def backup_files(directory: Path) -> Path:
    """Copy the store, its log and the vector file into a new ``backup-<time>`` folder."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    backup = directory / f"backup-{stamp}"
    backup.mkdir()
    for name in _FILES:
        if (directory / name).exists():
            shutil.copy2(directory / name, backup / name)
    return backup


def salvage_articles(db_path: Path) -> list[Article]:
    """Every article row that can still be read from a damaged store, in file order."""
    if not db_path.exists():
        return []
    found: list[Article] = []
    try:
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    except sqlite3.Error:
        return found
    try:
        db.execute("PRAGMA locking_mode=EXCLUSIVE")  # no -shm beside the copy
        cursor = db.execute("SELECT id, title, text, date, source, url, author FROM articles")
        while True:
            row = cursor.fetchone()  # stops at the first unreadable page
            if row is None:
                break
            found.append(
                Article(
                    id=row[0],
                    title=row[1],
                    text=row[2],
                    date=row[3],
                    source=row[4],
                    url=row[5],
                    author=row[6],
                )
            )
    except sqlite3.Error as exc:
        logger.warning("stopped reading %s after %d articles: %s", db_path, len(found), exc)
    finally:
        db.close()
    return found


def repair_index(directory: Path, embedder: EmbedderLike, **options: Any) -> RepairReport:
    """Back up, then keep what the store holds and rebuild the rest from it.

    A store that lost commits is kept as it is; the vectors nobody can account for
    are dropped and missing ones re-embedded. An unreadable store is replaced by a
    new one holding the articles that could still be read, all re-embedded.
    ``options`` are :class:`~index.engine.IndexOptions` fields.
    """
    directory = Path(directory)
    lock = acquire_lock(directory)
    try:
        backup = backup_files(directory)
    except BaseException:
        lock.close()  # closing the file releases the flock
        raise
    logger.info("backed up %s into %s", directory, backup)
    try:
        index = ArticleIndex.open(directory, embedder, accept_loss=True, held_lock=lock, **options)
    except StoreDamagedError as exc:
        logger.warning("%s; rebuilding it from what can be read", exc)
        salvaged = salvage_articles(backup / DB_FILE)
        for name in _FILES:  # copies are in the backup; the vectors' ids die with the store
            (directory / name).unlink(missing_ok=True)
        shutil.rmtree(directory / KEYWORDS_DIR, ignore_errors=True)  # rebuilt from the store
        with ArticleIndex.open(
            directory, embedder, accept_loss=True, held_lock=lock, **options
        ) as index:
            index.add_articles(salvaged)
            stats = index.stats()
        return RepairReport(
            backup, stats.articles, stats.chunks, 0, stats.chunks, None, True, len(salvaged)
        )
    with index:
        outcome = index.last_reconcile
        stats = index.stats()
    return RepairReport(
        backup,
        stats.articles,
        stats.chunks,
        outcome.vectors_dropped,
        outcome.chunks_embedded,
        outcome.lost,
        False,
        0,
    )
