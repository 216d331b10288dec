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

Classes, highest first: ``interactive`` (search, article reads), ``heavy`` (ask,
summarize, chat) and ``bulk`` (ingest, delete, reindex). A thread that never
declared a class is ``interactive`` and never waits (the CLI, tests).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Literal

Priority = Literal["interactive", "heavy", "bulk"]
PRIORITIES: tuple[Priority, ...] = ("interactive", "heavy", "bulk")
_RANK = {name: rank for rank, name in enumerate(PRIORITIES)}  # 0 = highest
DEFAULT_MAX_WAIT_S = 1.0


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


def batch(priority: Priority | None = None) -> AbstractContextManager[float]:
    """:meth:`PriorityGate.batch` on the process's gate."""
    return GATE.batch(priority)


def current() -> Priority:
    """The calling thread's class on the process's gate."""
    return GATE.current()


__all__ = ["GATE", "PRIORITIES", "Priority", "PriorityGate", "batch", "current"]
