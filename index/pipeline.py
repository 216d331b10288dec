"""Overlap the stages of a bulk ingest: prepare the next items while the model runs.

Chunking (sentence splitting in Python, holding the GIL) and embedding (ONNX Runtime
or torch, which release it) use different resources, so a bulk ingest runs them as a
pipeline: :func:`prefetch` runs a producer in a background thread, at most ``depth``
items ahead of the consumer, while the consumer embeds and commits what is ready.
Errors in the producer reach the consumer at the item where they happened.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
U = TypeVar("U")

_DONE = object()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def prefetch(items: Iterable[T], work: Callable[[T], U], *, depth: int = 64) -> Iterator[U]:
    """``work(item)`` for each item, in order, computed in a background thread up to
    ``depth`` items ahead of the caller. Stopping early (``close``, an exception in the
    caller) stops the producer after the item it is working on."""
    ready: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(value: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set() or not put(work(item)):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            put(_Failure(exc))
            return
        put(_DONE)

    producer = threading.Thread(target=produce, name="vnqa-prefetch", daemon=True)
    producer.start()
    try:
        while True:
            value = ready.get()
            if value is _DONE:
                return
            if isinstance(value, _Failure):
                raise value.exc
            yield value
    finally:
        stop.set()
        producer.join()


__all__ = ["prefetch"]
