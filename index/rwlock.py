"""A writer-preferring readers–writer lock: many searches, one writer at a time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ReadWriteLock:
    """Readers share the lock; a writer waits for them and blocks new readers."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    @contextmanager
    def read(self) -> Iterator[None]:
        """Hold the lock for reading."""
        with self._cond:
            # Waiting writers go first, so a stream of searches cannot starve an ingest.
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def read_unless(self, give_up: threading.Event, poll_s: float = 0.02) -> Iterator[bool]:
        """Hold the lock for reading, unless ``give_up`` is set before it is granted.

        Yields True while held, or False (nothing held) once ``give_up`` is set: a
        writer that must wait for this reader's thread sets it rather than deadlock.
        The waiter looks at ``give_up`` every ``poll_s`` seconds.
        """
        with self._cond:
            while not give_up.is_set() and (self._writer or self._writers_waiting):
                self._cond.wait(poll_s)
            granted = not give_up.is_set()
            if granted:
                self._readers += 1
        try:
            yield granted
        finally:
            if granted:
                with self._cond:
                    self._readers -= 1
                    if not self._readers:
                        self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        """Hold the lock exclusively."""
        with self._cond:
            self._writers_waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()
