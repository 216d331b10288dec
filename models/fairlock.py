"""A first-come, first-served mutex.

``threading.Lock`` makes no promise of order: a thread that releases it and takes
it again at once (an ingest embedding batch after batch) can keep a waiting thread
(a search) out indefinitely. With this lock waiters are served in arrival order, so
a search waits for at most the batch in progress.
"""

from __future__ import annotations

import threading


class FairLock:
    """A non-reentrant FIFO lock, usable as a context manager."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._next_ticket = 0
        self._serving = 0

    def acquire(self) -> None:
        """Block until every earlier caller has had its turn and released."""
        with self._cond:
            ticket = self._next_ticket
            self._next_ticket += 1
            while ticket != self._serving:
                self._cond.wait()

    def release(self) -> None:
        """Hand the lock to the next caller in line."""
        with self._cond:
            self._serving += 1
            self._cond.notify_all()

    def __enter__(self) -> FairLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
