"""Cost classes for CPU work: cheap interactive calls first, expensive work yields.

Two cores serve searches (milliseconds), asks and summaries (hundreds of
milliseconds of model time) and bulk ingests (seconds to hours). Work declares its
class for the thread it runs on with :meth:`PriorityGate.running`. Every model batch
of heavy or bulk work runs inside :meth:`PriorityGate.batch`, which holds one of
``slots`` CPU slots (one per core): a running search counts as a slot taken, so a
batch starts only while the searches and batches running leave a core free, and the
cores stay busy (an ask's batch runs beside one search instead of waiting for it).
When slots are short, waiting heavy batches go before waiting bulk ones, and no
batch waits more than ``max_wait_s`` (a steady stream of searches delays asks and
ingests, never starves them).

Slots decide when a batch starts; once started, a forward pass holds its core for
hundreds of milliseconds, and a search arriving meanwhile shares that core with it.
So heavy and bulk batches run on threads of their own (:func:`run_batches`) whose OS
scheduling priority is lowered (``nice`` :data:`NICENESS`): the kernel gives a search's
thread the core at once and the batch the time searches leave. A forward pass runs
without the GIL, so a lowered thread holds it only for a moment after each batch.

Classes, highest first: ``interactive`` (search, article reads), ``heavy`` (ask,
summarize, chat) and ``bulk`` (ingest, delete, reindex). A thread that never
declared a class is ``interactive`` and never waits (the CLI, tests).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from typing import Literal

logger = logging.getLogger(__name__)

Priority = Literal["interactive", "heavy", "bulk"]
PRIORITIES: tuple[Priority, ...] = ("interactive", "heavy", "bulk")
_RANK = {name: rank for rank, name in enumerate(PRIORITIES)}  # 0 = highest
DEFAULT_MAX_WAIT_S = 1.0
NICENESS: dict[Priority, int] = {"interactive": 0, "heavy": 5, "bulk": 10}
"""OS niceness of the threads that run each class's model batches (figures:
docs/benchmarks.md, issue 15, third round)."""


class PriorityGate:
    """Counts running work per class and shares ``slots`` CPU slots between model
    batches, interactive work first, then heavy, then bulk."""

    def __init__(self, max_wait_s: float = DEFAULT_MAX_WAIT_S, slots: int | None = None) -> None:
        self.max_wait_s = max_wait_s
        self.slots = max(1, slots or os.cpu_count() or 1)
        self._cond = threading.Condition(threading.Lock())
        self._running = dict.fromkeys(PRIORITIES, 0)
        self._batches = 0  # heavy and bulk batches holding a slot
        self._waiting = dict.fromkeys(PRIORITIES, 0)
        self._local = threading.local()
        self.yields = 0  # batches that waited for a slot (watched by tests and /metrics)

    def current(self) -> Priority:
        """The class of the calling thread (``interactive`` unless declared)."""
        return getattr(self._local, "priority", "interactive")

    @contextmanager
    def running(self, priority: Priority) -> Iterator[None]:
        """Run the block as ``priority`` work on this thread (nests; restores on exit)."""
        if priority not in _RANK:
            raise ValueError(f"unknown priority {priority!r}; expected one of {PRIORITIES}")
        previous = getattr(self._local, "priority", None)
        self._local.priority = priority
        with self._cond:
            self._running[priority] += 1
        try:
            yield
        finally:
            with self._cond:
                self._running[priority] -= 1
                self._cond.notify_all()
            if previous is None:
                del self._local.priority
            else:
                self._local.priority = previous

    def running_counts(self) -> dict[Priority, int]:
        """Work running now, by class (a snapshot)."""
        with self._cond:
            return dict(self._running)

    def _free(self, rank: int) -> bool:
        """Whether a batch of class ``rank`` may take a slot now."""
        if self._running["interactive"] + self._batches >= self.slots:
            return False
        return not any(self._waiting[name] for name in PRIORITIES[1:rank])

    @contextmanager
    def batch(self, priority: Priority | None = None) -> Iterator[float]:
        """Hold a CPU slot for one model batch of ``priority`` work (default: this
        thread's class); yields the seconds waited for it. Interactive work never
        waits and takes no slot (it counts as running already)."""
        rank = _RANK[priority or self.current()]
        if rank == 0:
            yield 0.0
            return
        name = PRIORITIES[rank]
        waited = 0.0
        with self._cond:
            if not self._free(rank):
                self.yields += 1
                self._waiting[name] += 1
                started = time.perf_counter()
                deadline = started + self.max_wait_s
                try:
                    while not self._free(rank):
                        left = deadline - time.perf_counter()
                        if left <= 0:
                            break
                        self._cond.wait(left)
                finally:
                    self._waiting[name] -= 1
                waited = time.perf_counter() - started
            self._batches += 1
        try:
            yield waited
        finally:
            with self._cond:
                self._batches -= 1
                self._cond.notify_all()


GATE = PriorityGate()
"""The process's gate: one CPU, one set of classes."""


def _lower_priority(niceness: int) -> None:
    """Raise the calling thread's niceness by ``niceness`` (Linux: per thread)."""
    if niceness <= 0 or not hasattr(os, "setpriority"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + niceness)
    except OSError as exc:  # a platform without per-thread priorities: run as is
        logger.debug("could not lower a batch thread's priority: %s", exc)


class BatchThreads:
    """Per cost class, a pool of ``workers`` threads at that class's niceness, on
    which :func:`run_batches` runs heavy and bulk model batches."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._pools: dict[Priority, ThreadPoolExecutor] = {}
        self._lock = threading.Lock()

    def pool(self, priority: Priority) -> ThreadPoolExecutor:
        """The pool of ``priority`` (started on first use)."""
        with self._lock:
            pool = self._pools.get(priority)
            if pool is None:
                pool = ThreadPoolExecutor(
                    self.workers,
                    thread_name_prefix=f"vnqa-{priority}-batch",
                    initializer=_lower_priority,
                    initargs=(NICENESS[priority],),
                )
                self._pools[priority] = pool
            return pool


BATCH_THREADS = BatchThreads()
"""The process's batch threads (one pool per class, started on first use)."""


def run_batches(batches: Sequence[Callable[[], None]], parallel: int = 1) -> None:
    """Run ``batches`` (model batches of the calling thread's class), ``parallel`` at
    a time, each holding a CPU slot (:meth:`PriorityGate.batch`).

    Interactive work runs them on the calling thread (and, past one, on helper
    threads): a search never waits for a pool. Heavy and bulk work runs them on its
    class's lowered-priority threads (:data:`BATCH_THREADS`) while the caller waits.
    """
    cost_class = current()
    if not batches:
        return

    def run(batch: Callable[[], None]) -> None:
        with GATE.batch(cost_class):
            batch()

    if NICENESS[cost_class] > 0:
        pool = BATCH_THREADS.pool(cost_class)
        for future in [pool.submit(run, b) for b in batches]:
            future.result()
        return
    if len(batches) == 1 or parallel <= 1:
        for batch in batches:
            run(batch)
        return
    # The calling thread works too: one thread fewer to start per call.
    pending = iter(batches)
    taking = threading.Lock()

    def drain() -> None:
        while True:
            with taking:
                batch = next(pending, None)
            if batch is None:
                return
            run(batch)

    with ThreadPoolExecutor(min(parallel, len(batches)) - 1) as helpers:
        started = [helpers.submit(drain) for _ in range(min(parallel, len(batches)) - 1)]
        drain()
        for helper in started:
            helper.result()


def batch(priority: Priority | None = None) -> AbstractContextManager[float]:
    """:meth:`PriorityGate.batch` on the process's gate."""
    return GATE.batch(priority)


def current() -> Priority:
    """The calling thread's class on the process's gate."""
    return GATE.current()


__all__ = [
    "BATCH_THREADS",
    "GATE",
    "NICENESS",
    "PRIORITIES",
    "BatchThreads",
    "Priority",
    "PriorityGate",
    "batch",
    "current",
    "run_batches",
]
