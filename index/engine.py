"""``ArticleIndex``: SQLite, FAISS and keyword BM25 kept in step, with filtered hybrid search.

SQLite is the source of truth. FAISS vectors are saved atomically after every write
while the index is exact (past it, at most every ``dense_save_interval_s``), with the
store generation (commit count) they mirror, and reconciled against
SQLite when the index opens (a crash between the two is repaired by re-embedding or
dropping the chunks that differ). Vectors the store cannot account for — chunk ids it
never assigned, or a vector file ahead of the store's generation — mean the store lost
commits: the index then opens read-only and changes nothing on disk until
``vnqa repair`` (:mod:`index.repair`) has backed the files up. The keyword index
(:mod:`index.keywords`, tantivy) is updated in place after FAISS, in the same write,
and records the store generation it mirrors; a crash between the two is repaired at
open by adding and removing the chunks that differ. One writer at a time; many
concurrent searches, which never see a half-applied write: a new article is found by
both searches as soon as its write returns.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np

from index.beside import Beside
from index.chunking import chunk_article
from index.dense import REFIT_BATCH, DenseIndex, ivf_lists
from index.documents import Article
from index.errors import DiskFullError, IndexMismatchError, IndexReadOnlyError
from index.fusion import fuse_hybrid
from index.keywords import KeywordIndex
from index.pipeline import prefetch
from index.process_lock import acquire_lock, release_lock
from index.records import (
    DB_FILE,
    DENSE_FILE,
    KEYWORDS_DIR,
    BackendStatus,
    IndexOptions,
    IndexStats,
    IngestResult,
    LostCommits,
    ReconcileOutcome,
    SearchFilters,
    SearchHit,
    SearchMode,
)
from index.rwlock import ReadWriteLock
from index.store import ArticleRow, ArticleStore, ChunkRow, NewArticle, NewChunk
from models.embedder_protocol import TextEmbedder
from models.vietnamese import has_diacritics, normalize

logger = logging.getLogger(__name__)

StoredArticle = ArticleRow

_DB_FILE = DB_FILE
_DENSE_FILE = DENSE_FILE
_COMMIT_EVERY = 64  # smallest group of articles per transaction during a bulk ingest
_COMMIT_MAX = 2048  # largest group: bounds the vectors held in memory before a commit
# Growing the group with the index (a quarter of its articles) keeps the number of
# commits (FAISS saves, keyword segments) logarithmic in a bulk ingest.
_GROWTH_DIVISOR = 4


# What the index needs from an embedding model (the one protocol, in models/).
EmbedderLike = TextEmbedder


class ArticleIndex:
    """Articles, chunks, vectors and keywords under one folder."""

    def __init__(
        self,
        directory: Path,
        embedder: EmbedderLike,
        store: ArticleStore,
        lock_handle: IO[str],
        options: IndexOptions,
    ) -> None:
        self.directory = directory
        self.embedder = embedder
        self.options = options
        self._store = store
        self._lock_handle: IO[str] | None = lock_handle
        self._chunk_max = options.chunk_max_syllables
        self._overlap = options.chunk_overlap_sentences
        self._rrf_k = options.rrf_k
        self._batch_size = options.embed_batch_size
        self._rw = ReadWriteLock()
        self._dense_opts: dict[str, Any] = {
            "exact_max": options.dense_exact_max,
            "nprobe": options.dense_nprobe,
            "codec": options.dense_codec,
            "auto_fit": False,
        }
        self._refit_thread: threading.Thread | None = None
        self._saver: threading.Thread | None = None  # a vector-file save in the background
        self._save_step_aside = threading.Event()  # set: a save not yet copying gives up
        self._refit_lock = threading.Lock()  # one refit at a time
        self._closing = False
        self._closed = False
        self._last_save = time.monotonic()  # of the last vector-file save (or the load)
        self._dense = DenseIndex(embedder.dimension, **self._dense_opts)
        self._fusion = options.fusion
        self._dense_weight = options.dense_weight
        self._keywords: KeywordIndex | None = None  # opened by :meth:`_open_keywords`
        self._keywords_behind: str | None = None  # why the keyword index lags, when it does
        self.read_only: str | None = None  # why writes are refused, when they are
        self._unsaved: str | None = None  # why FAISS on disk lags the store, when it does
        self._disk_full = False  # the last write failed for lack of space
        self.last_reconcile = ReconcileOutcome()

    # -- opening ------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        directory: Path,
        embedder: EmbedderLike,
        *,
        allow_model_change: bool = False,
        accept_loss: bool = False,
        held_lock: IO[str] | None = None,
        **options: Any,
    ) -> ArticleIndex:
        """Open (or create) the index in ``directory`` for ``embedder``.

        Raises :class:`IndexMismatchError` when the stored vectors were made by a
        different model, unless ``allow_model_change`` (for ``vnqa reindex``),
        :class:`IndexLockedError` when another process holds the index and
        :class:`~index.errors.StoreDamagedError` when the store cannot be read.
        When the store lost commits the index opens read-only (``read_only`` says
        why) unless ``accept_loss``, which drops the vectors nobody can account for
        (``vnqa repair``, after a backup). ``held_lock`` is a lock taken with
        :func:`acquire_lock` by a caller that had to hold it first (the repair).
        ``options`` are :class:`IndexOptions` fields.
        """
        opts = IndexOptions(**options)  # unknown names: TypeError
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        lock_handle = held_lock if held_lock is not None else acquire_lock(directory)
        # A log left by a crash is the only copy of commits a damaged frame would cut
        # off, and opening the store may write over it: keep a copy until the check.
        log_copy = None if accept_loss else _copy_log(directory)
        try:
            store = ArticleStore(directory / _DB_FILE)
        except BaseException:
            if held_lock is None:
                release_lock(lock_handle)
            _discard(log_copy)
            raise
        index = cls(directory, embedder, store, lock_handle, opts)
        try:
            index._check_model(allow_model_change)
            if not allow_model_change:
                index._load_and_reconcile(accept_loss=accept_loss, log_copy=log_copy)
            else:  # ``vnqa reindex`` rebuilds the vectors; keyword search goes on meanwhile
                index._open_keywords(index._store.chunk_ids())
            index._schedule_refit()
        except BaseException:
            index.close()
            raise
        finally:
            _discard(log_copy)  # moved into the evidence folder when it was needed
        return index

    def _model_meta(self) -> dict[str, str]:
        return {
            "embedding_model": self.embedder.name,
            "embedding_dimension": str(self.embedder.dimension),
            "embedding_fingerprint": self.embedder.fingerprint,
        }

    def _check_model(self, allow_change: bool) -> None:
        meta = self._store.get_meta()
        _, n_chunks = self._store.counts()
        if "embedding_model" not in meta or n_chunks == 0:
            try:
                self._store.set_meta(self._model_meta())
            except DiskFullError:  # written with the first article instead
                logger.warning("disk full: the model metadata waits for the first write")
            return
        wanted = self._model_meta()
        differs = {k for k, v in wanted.items() if meta.get(k) != v}
        if differs and not allow_change:
            raise IndexMismatchError(
                f"the index in {self.directory} holds vectors from "
                f"{meta.get('embedding_model')} (dimension {meta.get('embedding_dimension')}, "
                f"fingerprint {meta.get('embedding_fingerprint')}), but the loaded model is "
                f"{wanted['embedding_model']} (dimension {wanted['embedding_dimension']}, "
                f"fingerprint {wanted['embedding_fingerprint']}). Mixing them would give "
                "meaningless scores. Run `vnqa reindex` to re-embed every article with the "
                "loaded model, or configure the model the index was built with."
            )

    def _load_and_reconcile(
        self, *, accept_loss: bool = False, log_copy: Path | None = None
    ) -> ReconcileOutcome:
        """Bring FAISS and BM25 in line with the store, the source of truth.

        Stale vectors (of chunks a committed delete or replace removed) are dropped
        and missing ones re-embedded. Vectors the store cannot account for are
        evidence of lost commits: unless ``accept_loss``, the index turns read-only,
        the evidence (``log_copy``, the store, the vectors) is kept in an
        ``evidence-<time>`` folder and the vector file is left as it is.
        """
        self._wait_for_save()  # its temp file is not a crash's leftover
        path = self.directory / _DENSE_FILE
        if path.exists():
            try:
                self._dense = DenseIndex.load(path, self.embedder.dimension, **self._dense_opts)
            except Exception as exc:  # unreadable file: rebuild from the store
                logger.warning("could not read %s (%s); re-embedding every chunk", path, exc)
                self._dense = DenseIndex(self.embedder.dimension, **self._dense_opts)
        stored_ids = self._store.chunk_ids()
        stored = set(stored_ids)
        held = set(self._dense.ids().tolist())
        extra = sorted(held - stored)
        lost = self._lost_commits(extra)
        if lost is not None and not accept_loss:
            kept = _keep_evidence(self.directory, log_copy)
            self.read_only = lost.describe(self.directory, kept)
            logger.error("%s", self.read_only)
            self._dense.remove(extra)  # in memory only: searches skip the lost chunks
        else:
            # Temp files of a save interrupted by a crash (atomic_write_bytes names them).
            for stale in self.directory.glob(f".{_DENSE_FILE}.*.tmp"):
                logger.warning("removing %s left by an interrupted save", stale.name)
                stale.unlink(missing_ok=True)
            if lost is not None:
                logger.warning("accepting the loss: %s", lost.describe(self.directory))
            if extra:
                logger.warning("removing %d vectors whose chunks are gone", len(extra))
                self._dense.remove(extra)
        missing_ids = [i for i in stored_ids if i not in held]
        if missing_ids:
            logger.warning("embedding %d chunks missing from the vector index", len(missing_ids))
            found = self._store.chunks(missing_ids)
            missing = [found[i] for i in missing_ids]
            vectors = self.embedder.embed_passages(
                [c.text for c in missing], batch_size=self._batch_size
            )
            self._dense.add([c.id for c in missing], vectors)
        behind = self._dense.saved_generation != self._store.generation()
        saved = True
        if self.read_only is None and (extra or missing_ids or behind):
            saved = self._save_dense()
        self._open_keywords(stored_ids)
        self.last_reconcile = ReconcileOutcome(len(extra), len(missing_ids), lost, saved)
        return self.last_reconcile

    def _open_keywords(self, stored_ids: Sequence[int]) -> None:
        """Open the keyword index and bring it to the store's generation.

        A new folder, or one analysed with other settings, is built from the store; one
        at another generation (a crash between the two commits) gets the chunks that
        differ added or removed. A read-only index changes nothing on disk: its keyword
        hits of lost chunks are dropped at lookup, like any deleted chunk.
        """
        if self._keywords is not None:
            self._keywords.close()
        o = self.options
        self._keywords = KeywordIndex(
            self.directory / KEYWORDS_DIR,
            bigrams=o.bm25_bigrams,
            folded=o.bm25_folded,
            folded_weight=o.bm25_folded_weight,
            long_query_terms=o.bm25_long_query_terms,
            long_query_max_df=o.bm25_long_query_max_df,
            read_only=self.read_only is not None,
        )
        if self.read_only is not None:
            return
        try:
            generation = self._store.generation()
            if self._keywords.generation is None:
                if stored_ids or len(self._keywords):
                    logger.warning(
                        "building the keyword index from %d stored chunks", len(stored_ids)
                    )
                self._keywords.rebuild(self._store.iter_chunk_texts(), generation)
            elif self._keywords.generation != generation:
                removed, added = self._keywords.sync(stored_ids, self._chunk_texts, generation)
                logger.warning(
                    "keyword index caught up with the store: %d chunks removed, %d added",
                    removed,
                    added,
                )
        except Exception as exc:  # a full disk: served as it is, caught up at the next write
            self._keywords_behind = (
                f"the keyword index lags the store ({exc}); it catches up at the next write or open"
            )
            logger.warning("%s", self._keywords_behind)
        else:
            self._keywords_behind = None

    def _lost_commits(self, extra: Sequence[int]) -> LostCommits | None:
        """Evidence that the store lost commits FAISS had mirrored, or None.

        Chunk ids are never reused, so a vector above the highest id the store ever
        assigned belongs to a commit the store no longer has; so does a vector file
        saved at a later generation than the store's.
        """
        high = self._store.max_chunk_id()
        unaccounted = [i for i in extra if i > high]
        generation = self._store.generation()
        saved = self._dense.saved_generation
        if not unaccounted and (saved is None or saved <= generation):
            return None
        return LostCommits(
            vectors=len(unaccounted),
            first_id=min(unaccounted) if unaccounted else None,
            last_id=max(unaccounted) if unaccounted else None,
            store_generation=generation,
            vectors_generation=saved,
            newest_article=self._store.newest_update(),
        )

    def _save_due(self) -> bool:
        """Save the vectors after every write while the file is small (the exact regime);
        beyond, at most every ``dense_save_interval_s`` (see :class:`IndexOptions`)."""
        if len(self._dense) <= self.options.dense_exact_max:
            return True
        return time.monotonic() - self._last_save >= self.options.dense_save_interval_s

    def _save_dense(self) -> bool:
        """Save FAISS with the store generation it mirrors; False when the disk refused.

        The store already holds the commit, so a failed save loses nothing: the file
        catches up at the next save, and the next open re-embeds what it lacks.
        """
        self._wait_for_save()  # one writer of the file at a time, the newest last
        path = self.directory / _DENSE_FILE
        try:
            self._dense.save(path, self._store.generation())
        except OSError as exc:
            self._note_unsaved(path, exc)
            return False
        self._unsaved = None
        self._last_save = time.monotonic()
        return True

    def _save_dense_beside(self) -> None:
        """The periodic save past the exact regime, off the write that finds it due.

        A background thread waits for this write to end, takes a read hold (searches go
        on; a write arriving meanwhile waits for the copy), copies the FAISS index and
        notes the store generation it mirrors, releases the hold and then serializes,
        writes and fsyncs the copy with no lock held. The write itself only starts the
        thread. The file on disk stays the previous save until the new one is renamed
        over it: a crash meanwhile loses nothing (the next open re-embeds the chunks the
        file lacks). One save at a time: while one is in flight, a due save waits for
        the next write. A caller holding the write lock that needs the saver finished
        (:meth:`_save_dense`, a reconcile) makes a save that has not yet taken its copy
        step aside (:meth:`_wait_for_save`); that caller saves the newer state itself.
        """
        if self._saver is not None and self._saver.is_alive():
            return
        self._last_save = time.monotonic()
        path = self.directory / _DENSE_FILE
        step_aside = threading.Event()

        def save() -> None:
            with self._rw.read_unless(step_aside) as held:
                if not held:
                    return
                dense = self._dense
                generation = self._store.generation()
                image = dense.copy_for_save()
            try:
                dense.write(path, image, generation)
            except OSError as exc:
                self._note_unsaved(path, exc)
                return
            self._unsaved = None

        self._save_step_aside = step_aside
        self._saver = threading.Thread(target=save, name="vnqa-dense-save", daemon=True)
        self._saver.start()

    def _wait_for_save(self, *, step_aside: bool = True) -> None:
        """Wait for a vector-file save running in the background, if one is.

        With ``step_aside`` (the caller may hold the write lock) a save still waiting
        for its copy gives up instead; one that has its copy is waited for.
        """
        saver = self._saver
        if saver is None:
            return
        if step_aside:
            self._save_step_aside.set()
        saver.join()

    def _note_unsaved(self, path: Path, exc: OSError) -> None:
        self._unsaved = (
            f"{path.name} could not be saved ({exc.strerror or exc}); the "
            "store holds every commit and the vectors are rebuilt from it"
        )
        logger.warning("%s", self._unsaved)

    def _require_writable(self) -> None:
        if self.read_only is not None:
            raise IndexReadOnlyError(self.read_only)

    def problems(self) -> list[str]:
        """What keeps the index from full service right now (empty when healthy)."""
        found = []
        if self.read_only is not None:
            found.append(self.read_only)
        if self._disk_full:
            found.append(
                f"the disk holding {self.directory} is full: writes are refused "
                "(507) until space is freed; reads go on"
            )
        if self._keywords_behind is not None:
            found.append(self._keywords_behind)
        if self._unsaved is not None:
            found.append(self._unsaved)
        elif not self._disk_full and self.read_only is None:
            dense = self.directory / _DENSE_FILE
            need = dense.stat().st_size if dense.exists() else 0
            free = shutil.disk_usage(self.directory).free
            if free <= need:  # the next write rewrites the vector file beside the old one
                found.append(
                    f"{free} bytes free beside {self.directory}, less than the "
                    f"{need} the next save of {dense.name} needs: free space"
                )
        return found

    def close(self) -> None:
        """Save what is unsaved, checkpoint and close the store, release the lock.

        Waits for any write in progress; calling it twice is harmless.
        """
        if self._closed:
            return
        self._closing = True
        self.settle()
        with self._rw.write():
            behind = self._dense.saved_generation != self._store.generation()
            if (self._unsaved is not None or behind) and self.read_only is None:
                self._save_dense()  # a deferred save, or space may have come back since
            if self._keywords is not None:
                self._keywords.close()
            self._store.close()
            self._closed = True
        if self._lock_handle is not None:
            release_lock(self._lock_handle)
            self._lock_handle = None

    def __enter__(self) -> ArticleIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writes -------------------------------------------------------------------
    def _chunk(self, article: Article) -> list[NewChunk]:
        return [
            NewChunk(c.position, c.start, c.end, c.text)
            for c in chunk_article(
                article, max_syllables=self._chunk_max, overlap_sentences=self._overlap
            )
        ]

    def add_articles(
        self,
        articles: Iterable[Article],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> list[IngestResult]:
        """Add or replace articles (by id). Each group of articles commits atomically.

        ``progress`` is called with the number of articles just stored. Raises
        :class:`IndexReadOnlyError` on a read-only index and
        :class:`~index.errors.DiskFullError` (the group not stored) on a full disk.
        """
        self._require_writable()
        results: list[IngestResult] = []
        group: dict[str, tuple[Article, list[NewChunk]]] = {}
        limit = self._group_limit()
        # Chunking runs in a thread ahead of the embedding (index/pipeline.py): the
        # sentence splitter holds the GIL while the model releases it.
        for article, chunks in prefetch(articles, lambda a: (a, self._chunk(a))):
            group.pop(article.id, None)  # a repeated id within a batch: the last one wins
            group[article.id] = (article, chunks)
            if len(group) >= limit:
                results.extend(self._add_group(list(group.values())))
                if progress:
                    progress(len(group))
                group = {}
                limit = self._group_limit()
        if group:
            results.extend(self._add_group(list(group.values())))
            if progress:
                progress(len(group))
        # Results of replaced-in-batch duplicates: keep the last per id.
        final: dict[str, IngestResult] = {}
        for r in results:
            final.pop(r.id, None)
            final[r.id] = r
        return list(final.values())

    def _group_limit(self) -> int:
        """Articles per commit: at least 64, a quarter of the index, at most 2048."""
        articles, _ = self._store.counts()
        return max(_COMMIT_EVERY, min(_COMMIT_MAX, articles // _GROWTH_DIVISOR))

    def _add_group(self, chunked: list[tuple[Article, list[NewChunk]]]) -> list[IngestResult]:
        texts = [c.text for _, chunks in chunked for c in chunks]
        # Embedding is the slow part and happens outside the lock: searches go on. The
        # whole group in one call lets the embedder batch by length and run batches in
        # parallel (figures: docs/benchmarks.md, "Speed and memory"); the torch
        # embedder takes its model lock per batch, so queries still get their turn.
        vectors = self.embedder.embed_passages(texts, batch_size=self._batch_size)
        new = [
            NewArticle(a.id, a.title, a.text, a.date, a.source, a.url, a.author, chunks)
            for a, chunks in chunked
        ]
        with self._rw.write(), self._space_watch():
            new_ids, removed, replaced = self._store.replace_articles(new, meta=self._model_meta())
            self._apply(removed, [i for ids in new_ids for i in ids], vectors, texts)
        self._schedule_refit()
        return [
            IngestResult(a.id, len(chunks), was)
            for (a, chunks), was in zip(chunked, replaced, strict=True)
        ]

    @contextmanager
    def _space_watch(self) -> Iterator[None]:
        """Note a write refused for lack of space (for :meth:`problems`) and its end."""
        try:
            yield
        except DiskFullError:
            self._disk_full = True
            raise
        self._disk_full = False

    def _apply(
        self,
        removed: Sequence[int],
        added: Sequence[int],
        vectors: np.ndarray,
        texts: Sequence[str] = (),
    ) -> None:
        """Mirror a committed store change in FAISS and the keyword index (caller holds
        the write lock); ``texts`` are the texts of ``added``.

        The commit stands whatever happens here: a failed in-memory update is
        repaired from the store, a failed save (a full disk) leaves the file to catch
        up later, a failed keyword commit is caught up at the next open.
        """
        try:
            self._dense.remove(list(removed))
            self._dense.add(list(added), vectors)
        except Exception:
            logger.exception("vector update failed after the commit; rebuilding from the store")
            self._load_and_reconcile()
            return
        save_due = self._save_due()
        beside = save_due and len(self._dense) > self.options.dense_exact_max
        if save_due and not beside:
            self._save_dense()  # a small file: saved within the write
        self._write_keywords(removed, list(zip(added, texts, strict=True)))
        if beside:  # after the keyword commit, whose fsync it would slow down
            self._save_dense_beside()

    def _write_keywords(self, removed: Sequence[int], added: list[tuple[int, str]]) -> None:
        """Mirror the commit in the keyword index; after a failed write (a full disk)
        the next write catches up with the store instead (so does the next open)."""
        if self._keywords_behind is not None:  # reopened: a writer that failed is dead
            self._open_keywords(self._store.chunk_ids())  # notes or clears the lag itself
            return
        try:
            self._keyword_index().write(removed, added, self._store.generation())
        except Exception as exc:
            self._keywords_behind = (
                f"the keyword index lags the store ({exc}); it catches up at the next write or open"
            )
            logger.warning("%s", self._keywords_behind)

    def _keyword_index(self) -> KeywordIndex:
        if self._keywords is None:
            raise RuntimeError("the keyword index is not open")
        return self._keywords

    def _chunk_texts(self, ids: list[int]) -> dict[int, str]:
        return {i: c.text for i, c in self._store.chunks(ids).items()}

    # -- vector structure maintenance ---------------------------------------------
    def _schedule_refit(self) -> None:
        """Start a background refit of the vectors when their structure calls for one."""
        if self._closing or self.read_only is not None or not self._dense.needs_refit():
            return
        if self._refit_thread is not None and self._refit_thread.is_alive():
            return
        self._refit_thread = threading.Thread(
            target=self._refit, name="vnqa-dense-refit", daemon=True
        )
        self._refit_thread.start()

    def settle(self) -> None:
        """Wait for background maintenance (a vector refit, a vector-file save) to finish."""
        thread = self._refit_thread
        if thread is not None:
            thread.join()
        self._wait_for_save(step_aside=False)

    def _refit(self) -> None:
        """Move the vectors into the structure their count calls for, beside the searches.

        A snapshot is copied out under the read lock (a batch at a time, so writers get
        their turn), the new structure is trained and filled with no lock held, and the
        writes made meanwhile are replayed into it under the write lock before the swap.
        """
        if not self._refit_lock.acquire(blocking=False):
            return
        dense = self._dense
        try:
            with self._rw.read():
                if self._dense is not dense or not dense.needs_refit():
                    return
                ids = dense.start_refit()
            started = time.perf_counter()
            nlist_total = len(ids)
            with self._rw.read():
                sample_ids = np.sort(
                    np.random.default_rng(0).choice(
                        ids, min(len(ids), ivf_lists(nlist_total) * 64), replace=False
                    )
                )
                _, sample = dense.snapshot(sample_ids)
            fresh = dense.empty_structure(nlist_total, sample)
            del sample
            for at in range(0, len(ids), REFIT_BATCH):
                with self._rw.read():
                    keys, vectors = dense.snapshot(ids[at : at + REFIT_BATCH])
                fresh.add_with_ids(vectors, keys)
            with self._rw.write():
                if self._dense is not dense:  # replaced by a reconcile meanwhile
                    return
                dense.finish_refit(fresh)
                self._save_dense()
            logger.info(
                "vectors refitted (%d of them, %s) in %.1f s",
                len(dense),
                "exact" if dense.is_exact else f"IVF{fresh.nlist}",
                time.perf_counter() - started,
            )
        except Exception:
            logger.exception("the vector refit failed; the current structure stays")
        finally:
            dense.abort_refit()
            self._refit_lock.release()

    def delete_article(self, article_id: str) -> bool:
        """Delete an article and its chunks; False if it was not there."""
        self._require_writable()
        with self._rw.write(), self._space_watch():
            removed = self._store.delete_article(article_id)
            if removed is None:
                return False
            self._apply(removed, [], np.zeros((0, self.embedder.dimension), np.float32))
        self._schedule_refit()
        return True

    def reindex(self, *, progress: Callable[[int], None] | None = None) -> int:
        """Re-chunk and re-embed every article with the current model and settings."""
        self._require_writable()
        chunks_by_article: dict[str, list[NewChunk]] = {}
        vectors: list[np.ndarray] = []
        for row in self._store.iter_articles():
            article = row.to_article()
            chunks = self._chunk(article)
            chunks_by_article[row.id] = chunks
            vectors.append(
                self.embedder.embed_passages([c.text for c in chunks], batch_size=self._batch_size)
            )
            if progress:
                progress(1)
        matrix = (
            np.concatenate(vectors)
            if vectors
            else np.zeros((0, self.embedder.dimension), np.float32)
        )
        with self._rw.write(), self._space_watch():
            new_ids = self._store.replace_all_chunks(chunks_by_article, meta=self._model_meta())
            self._dense = DenseIndex(self.embedder.dimension, **self._dense_opts)
            old_keywords: list[int] = self._keyword_index().ids().tolist()
            self._apply(
                old_keywords,
                [i for ids in new_ids.values() for i in ids],
                matrix,
                [c.text for chunks in chunks_by_article.values() for c in chunks],
            )
        self._schedule_refit()
        return len(matrix)

    # -- reads --------------------------------------------------------------------
    def search(
        self,
        query: str,
        *,
        top_k: int = 5,
        filters: SearchFilters | None = None,
        mode: SearchMode = "hybrid",
        candidates: int | None = None,
    ) -> list[SearchHit]:
        """Best ``top_k`` chunks for ``query``; hybrid fuses the dense and BM25 rankings.

        Fusion is a weighted sum of min-max normalized scores (``convex``, the
        default) or reciprocal rank fusion (``rrf``). A query typed without any
        diacritics is matched against the diacritics-free BM25 field, and embedded
        after its diacritics are restored from the index's own text.
        """
        query = normalize(query)  # NFD and NFC spellings of a question search the same
        if top_k <= 0 or not query.strip():
            return []
        depth = candidates or max(4 * top_k, 40)
        allowed = None
        if filters is not None and not filters.is_empty():
            allowed = self._store.chunk_ids_matching(
                article_ids=filters.article_ids,
                sources=filters.sources,
                date_from=filters.date_from,
                date_to=filters.date_to,
            )
            if not allowed:
                return []
        keywords = self._keyword_index()
        unaccented = keywords.folded and not has_diacritics(query)

        def keyword_search() -> list[tuple[int, float]]:
            return keywords.search(query, depth, allowed=allowed, folded=unaccented)

        def dense_search() -> list[tuple[int, float]]:
            dense_query = query
            if unaccented:  # e5 reads unaccented Vietnamese poorly: restore the marks first
                dense_query = keywords.restore_diacritics(query)
            query_vector = self.embedder.embed_queries([dense_query])[0]
            return self._dense.search(query_vector, depth, allowed=allowed)

        dense: list[tuple[int, float]] = []
        sparse: list[tuple[int, float]] = []
        # One read hold for the whole ranking: both searches see the same commits. In a
        # hybrid search the keyword search runs on a second core (under this hold; it
        # takes no lock) while this thread embeds the query and searches the vectors.
        with self._rw.read():
            if mode == "hybrid":
                beside = Beside(keyword_search, name="vnqa-keyword-search")
                dense = dense_search()
                sparse = beside.result()
            elif mode == "dense":
                dense = dense_search()
            else:
                sparse = keyword_search()
            dense_rank = {cid: r for r, (cid, _) in enumerate(dense, start=1)}
            sparse_rank = {cid: r for r, (cid, _) in enumerate(sparse, start=1)}
            ranked = fuse_hybrid(
                dense,
                sparse,
                mode=mode,
                fusion=self._fusion,
                dense_weight=self._dense_weight,
                rrf_k=self._rrf_k,
                top_k=top_k,
            )
            chunks = self._store.chunks(cid for cid, _ in ranked)
        articles = self._store.article_meta(c.article_id for c in chunks.values())
        hits = []
        for cid, score in ranked:
            chunk = chunks.get(cid)
            if chunk is None:  # deleted between the ranking and the lookup
                continue
            hits.append(
                SearchHit.of(
                    chunk,
                    articles.get(chunk.article_id),
                    score,
                    dense_rank.get(cid),
                    sparse_rank.get(cid),
                )
            )
        return hits

    @property
    def store(self) -> ArticleStore:
        """The SQLite store (companion tables such as summaries live beside the articles)."""
        return self._store

    def get_article(self, article_id: str) -> StoredArticle | None:
        """A stored article with its text and chunk count."""
        return self._store.get_article(article_id)

    def list_articles(self, *, offset: int = 0, limit: int = 50) -> tuple[list[StoredArticle], int]:
        """A page of articles (newest first) and the total."""
        # SQLite integers are 64-bit; past the end is past the end however far.
        offset, limit = min(offset, 2**62), min(limit, 2**62)
        return self._store.list_articles(offset=offset, limit=limit)

    def chunks_of(self, article_id: str) -> list[ChunkRow]:
        """An article's chunks in order."""
        ids = self._store.chunk_ids_matching(article_ids=[article_id])
        return sorted(self._store.chunks(ids).values(), key=lambda c: c.position)

    def stats(self) -> IndexStats:
        """Counts and the embedding model in use."""
        articles, chunks = self._store.counts()
        return IndexStats(
            articles, chunks, self.embedder.name, self.embedder.dimension, self.embedder.fingerprint
        )

    def backends(self) -> list[BackendStatus]:
        """Where articles and chunks live: both in this process, reachable while open."""
        where = str(self.directory)
        return [
            BackendStatus("articles", "sqlite", where, True),
            BackendStatus("chunks", "embedded", where, True),
        ]


_LOG_COPY = f".{DB_FILE}-wal.copy"


def _copy_log(directory: Path) -> Path | None:
    """Copy a non-empty write-ahead log aside (a clean close leaves none); None if not."""
    log = directory / f"{DB_FILE}-wal"
    if not log.exists() or log.stat().st_size == 0:
        return None
    copy = directory / _LOG_COPY
    try:
        shutil.copyfile(log, copy)
    except OSError as exc:  # a full disk: go on without the copy, and say so
        logger.warning("could not copy %s aside before opening (%s)", log.name, exc)
        copy.unlink(missing_ok=True)
        return None
    return copy


def _discard(path: Path | None) -> None:
    if path is not None:
        path.unlink(missing_ok=True)


def _keep_evidence(directory: Path, log_copy: Path | None) -> Path | None:
    """Move ``log_copy`` and copies of the store and vector file into ``evidence-<time>``.

    Returns the folder, or None when even that failed (the originals are untouched).
    """
    folder = directory / f"evidence-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}"
    try:
        folder.mkdir()
        if log_copy is not None and log_copy.exists():
            log_copy.rename(folder / f"{DB_FILE}-wal")
        for name in (DB_FILE, DENSE_FILE):
            if (directory / name).exists():
                _copy_or_link(directory / name, folder / name)
    except OSError as exc:
        logger.error("could not keep the evidence in %s (%s)", folder, exc)
        return None
    return folder


def _copy_or_link(source: Path, target: Path) -> None:
    """A copy, or a hard link (no space needed) when the disk is too full to copy."""
    try:
        shutil.copy2(source, target)
    except OSError:
        target.unlink(missing_ok=True)
        os.link(source, target)
