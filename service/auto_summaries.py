"""Every stored article summarized on arrival, off the request path.

The queue is the summary store (:mod:`index.summary_store`): storing an article queues
its summary in the same transaction. :class:`AutoSummaries` works that queue in one
background thread of the server, a bounded batch (``VNQA_SUMMARY_BATCH``) at a time,
and stores each batch's summaries in one transaction. It gives way to requests: before
each article it waits while the server is busy (at most ``VNQA_SUMMARY_MAX_DEFER_S``,
so a never-idle server still makes progress). Its thread keeps the normal OS priority:
a lowered one holds the GIL while the scheduler leaves it waiting, which delays the
request threads instead (priority inversion). ``vnqa ingest`` and ``vnqa resummarize`` run the
same work in-line (:meth:`AutoSummaries.drain`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from index.errors import DiskFullError
from index.summary_store import MadeSummary, StoredSummary, SummaryJob, SummaryStore
from models.summarization.base import Summary, with_headline

logger = logging.getLogger(__name__)

_QUIET_POLL_S = 0.01  # how often a deferred summary looks again for a quiet moment


def summarizer_key(summarizer: Any) -> str:
    """What identifies summaries made by ``summarizer``: ``method:model``."""
    return f"{summarizer.method}:{summarizer.model_name}"


def is_current(stored: StoredSummary | None, key: str, max_words: int) -> bool:
    """Whether ``stored`` is ready, made by the summarizer ``key``, at ``max_words``."""
    return (
        stored is not None
        and stored.status == "ready"
        and stored.summarizer == key
        and stored.max_words == max_words
    )


class AutoSummaries:
    """Works the summary queue: in a background thread (:meth:`start`) or in-line
    (:meth:`drain`)."""

    def __init__(
        self,
        store: SummaryStore,
        summarizer: Any,
        *,
        max_words: int,
        batch: int = 8,
        poll_s: float = 1.0,
        max_defer_s: float = 2.0,
    ) -> None:
        self.store = store
        self.summarizer = summarizer
        self.key = summarizer_key(summarizer)
        self.max_words = max_words
        self.batch = batch
        self.poll_s = poll_s
        self.max_defer_s = max_defer_s
        self.busy: Callable[[], bool] = lambda: False
        self.made = 0  # summaries stored since start (watched by /healthz and tests)
        self.failed = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- background -----------------------------------------------------------------
    def start(self, busy: Callable[[], bool] | None = None) -> None:
        """Mark other summarizers' summaries stale, then work the queue in a thread.

        ``busy`` says whether a request is running; the worker waits while it is.
        Starting a running worker only updates ``busy``.
        """
        if busy is not None:
            self.busy = busy
        if self._thread is not None and self._thread.is_alive():
            return
        try:
            stale = self.store.mark_stale(self.key)
        except DiskFullError as exc:  # serve anyway; the marks wait for space
            logger.warning("could not mark stale summaries: %s", exc)
            stale = 0
        if stale:
            logger.warning(
                "%d stored summaries were made by another summarizer than %s: "
                "marked stale; `vnqa resummarize` redoes them",
                stale,
                self.key,
            )
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="vnqa-summaries", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        """Say that articles were stored: the worker looks at the queue now."""
        self._wake.set()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Finish the summary in progress, store what is done and stop (idempotent)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    @property
    def running(self) -> bool:
        """Whether the background worker is alive."""
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                done = self.run_once()
            except DiskFullError as exc:
                logger.warning("summaries wait for disk space: %s", exc)
                done = 0
            except Exception:  # never let one bad batch end the worker
                logger.exception("summary worker batch failed")
                done = 0
            if done == 0:
                self._wake.wait(self.poll_s)
                self._wake.clear()

    def _wait_for_quiet(self) -> None:
        deadline = time.monotonic() + self.max_defer_s
        while self.busy() and time.monotonic() < deadline and not self._stop.is_set():
            time.sleep(_QUIET_POLL_S)

    # -- the work -------------------------------------------------------------------
    def run_once(self, *, yield_to_requests: bool = True) -> int:
        """Summarize one batch of pending articles; returns how many were handled."""
        jobs = self.store.claim(self.batch)
        made: list[MadeSummary] = []
        handled = 0
        try:
            for n, job in enumerate(jobs):
                if self._stop.is_set() and self._thread is not None:
                    self.store.release(jobs[n:])
                    break
                if yield_to_requests:
                    self._wait_for_quiet()
                result = self._summarize(job)
                handled += 1
                if result is not None:
                    made.append(result)
        except BaseException:
            self.store.release(j for j in jobs if j not in {m.job for m in made})
            raise
        finally:
            stored = self.store.complete(made)
            self.made += stored
        return handled

    def _summarize(self, job: SummaryJob) -> MadeSummary | None:
        try:
            summary = self.summarizer.summarize(
                with_headline(job.title, job.text), max_words=self.max_words
            )
            if not summary.text.strip():
                raise ValueError("the article has no sentence to summarize")
        except Exception as exc:
            self.failed += 1
            logger.warning("summary of %s failed: %s", job.article_id, exc)
            self.store.fail(job, f"{type(exc).__name__}: {exc}")
            return None
        return MadeSummary(
            job, summary.text, summary.method, summary.model, self.key, self.max_words
        )

    def stored_current(self, article_id: str, max_words: int | None = None) -> Summary | None:
        """The article's stored summary if it is current for ``max_words`` (None: the
        default length), else None."""
        stored = self.store.summaries([article_id]).get(article_id)
        if not is_current(stored, self.key, max_words or self.max_words):
            return None
        assert stored is not None and stored.text is not None
        return Summary(text=stored.text, method=stored.method, model=stored.model)  # type: ignore[arg-type]

    def drain(self, progress: Callable[[int], None] | None = None) -> int:
        """Summarize every pending article in-line (the CLI); returns how many."""
        total = 0
        while done := self.run_once(yield_to_requests=False):
            total += done
            if progress:
                progress(done)
        return total

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until nothing is pending (tests, benchmarks); False on timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.store.status_counts().get("pending"):
                return True
            self.notify()
            time.sleep(0.05)
        return False
