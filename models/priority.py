"""Cost classes for CPU work: cheap interactive calls first, expensive work yields.

Two cores serve searches (milliseconds), asks and summaries (hundreds of
milliseconds of model time) and bulk ingests (seconds to hours). Work declares its
class for the thread it runs on with :meth:`PriorityGate.running`; long work calls
:meth:`PriorityGate.checkpoint` between model batches, where it waits until the work
of a higher class that was running at that moment has finished, so a search shares
the cores with at most the batches already in progress. Work of a higher class that
starts later does not extend the wait (a steady stream of searches delays each batch
by about one search, instead of starving asks and ingests), and a checkpoint waits at
most ``max_wait_s`` whatever happens.

Classes, highest first: ``interactive`` (search, article reads), ``heavy`` (ask,
summarize, chat) and ``bulk`` (ingest, delete, reindex). A thread that never
declared a class is ``interactive`` and never waits (the CLI, tests).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

Priority = Literal["interactive", "heavy", "bulk"]
PRIORITIES: tuple[Priority, ...] = ("interactive", "heavy", "bulk")
_RANK = {name: rank for rank, name in enumerate(PRIORITIES)}  # 0 = highest
DEFAULT_MAX_WAIT_S = 1.0


class PriorityGate:
    """Counts running work per class; lower classes wait at checkpoints while higher run."""

    def __init__(self, max_wait_s: float = DEFAULT_MAX_WAIT_S) -> None:
        self.max_wait_s = max_wait_s
        self._cond = threading.Condition(threading.Lock())
        self._running = dict.fromkeys(PRIORITIES, 0)
        self._tickets: dict[int, int] = {}  # running work: ticket -> rank
        self._next_ticket = 0
        self._local = threading.local()
        self.yields = 0  # checkpoints that waited (watched by tests and /metrics)

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
            ticket = self._next_ticket
            self._next_ticket += 1
            self._tickets[ticket] = _RANK[priority]
        try:
            yield
        finally:
            with self._cond:
                self._running[priority] -= 1
                del self._tickets[ticket]
                self._cond.notify_all()
            if previous is None:
                del self._local.priority
            else:
                self._local.priority = previous

    def running_counts(self) -> dict[Priority, int]:
        """Work running now, by class (a snapshot)."""
        with self._cond:
            return dict(self._running)

    def _higher(self, rank: int) -> set[int]:
        return {t for t, r in self._tickets.items() if r < rank}

    def checkpoint(self, priority: Priority | None = None) -> float:
        """Wait until the work of a higher class than ``priority`` (default: this
        thread's) running now has finished, at most ``max_wait_s``; returns the seconds
        waited."""
        rank = _RANK[priority or self.current()]
        if rank == 0:
            return 0.0
        with self._cond:
            ahead = self._higher(rank)
            if not ahead:
                return 0.0
            self.yields += 1
            started = time.perf_counter()
            deadline = started + self.max_wait_s
            while ahead & self._tickets.keys():
                left = deadline - time.perf_counter()
                if left <= 0:
                    break
                self._cond.wait(left)
            return time.perf_counter() - started


GATE = PriorityGate()
"""The process's gate: one CPU, one set of classes."""


def checkpoint(priority: Priority | None = None) -> float:
    """:meth:`PriorityGate.checkpoint` on the process's gate."""
    return GATE.checkpoint(priority)


def current() -> Priority:
    """The calling thread's class on the process's gate."""
    return GATE.current()


__all__ = ["GATE", "PRIORITIES", "Priority", "PriorityGate", "checkpoint", "current"]
