"""The embedder's lock serves waiters in arrival order."""

from __future__ import annotations

import threading

from models.fairlock import FairLock


def test_waiters_are_served_first_come_first_served():
    lock = FairLock()
    order: list[int] = []
    lock.acquire()
    threads = []
    for i in range(5):
        queued = threading.Event()

        def waiter(i: int = i, queued: threading.Event = queued) -> None:
            queued.set()
            with lock:
                order.append(i)

        thread = threading.Thread(target=waiter)
        thread.start()
        queued.wait()
        # Wait until this waiter holds its ticket before starting the next one.
        while lock._next_ticket != i + 2:
            threading.Event().wait(0.001)
        threads.append(thread)
    lock.release()
    for thread in threads:
        thread.join(timeout=10)
    assert order == [0, 1, 2, 3, 4]


def test_a_releasing_thread_cannot_jump_the_queue():
    lock = FairLock()
    served: list[str] = []
    lock.acquire()
    waiting = threading.Thread(
        target=lambda: (lock.acquire(), served.append("reader"), lock.release())
    )
    waiting.start()
    while lock._next_ticket != 2:
        threading.Event().wait(0.001)
    lock.release()
    lock.acquire()  # the releasing thread asks again at once: it queues behind the reader
    served.append("writer")
    lock.release()
    waiting.join(timeout=10)
    assert served == ["reader", "writer"]
