"""``prefetch``: the ingest pipeline's stage runner keeps order, errors and early stops."""

from __future__ import annotations

import threading

import pytest

from index.pipeline import prefetch


def test_results_come_in_order_from_another_thread():
    threads: set[str] = set()

    def work(n: int) -> int:
        threads.add(threading.current_thread().name)
        return n * n

    assert list(prefetch(range(200), work, depth=3)) == [n * n for n in range(200)]
    assert threads == {"vnqa-prefetch"}


def test_an_error_reaches_the_consumer_after_the_items_before_it():
    def work(n: int) -> int:
        if n == 5:
            raise ValueError("article 5 is bad")
        return n

    seen = []
    with pytest.raises(ValueError, match="article 5"):
        for value in prefetch(range(10), work, depth=2):
            seen.append(value)
    assert seen == [0, 1, 2, 3, 4]


def test_stopping_early_stops_the_producer():
    produced: list[int] = []

    def work(n: int) -> int:
        produced.append(n)
        return n

    results = prefetch(range(10_000), work, depth=2)
    assert next(results) == 0
    results.close()  # joins the producer
    assert len(produced) <= 5
