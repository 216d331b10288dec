"""The priority gate: lower cost classes wait at checkpoints while higher ones run."""

from __future__ import annotations

import threading

import pytest

from models.priority import PriorityGate


def test_an_undeclared_thread_is_interactive_and_never_waits():
    gate = PriorityGate(max_wait_s=600)
    with gate.running("interactive"):
        assert gate.current() == "interactive"
        assert gate.checkpoint() == 0.0
    assert gate.yields == 0


def test_bulk_work_waits_while_interactive_work_runs():
    gate = PriorityGate(max_wait_s=600)
    order: list[str] = []
    release, started = threading.Event(), threading.Event()

    def search() -> None:
        with gate.running("interactive"):
            started.set()
            release.wait()
            order.append("search done")

    def ingest() -> None:
        with gate.running("bulk"):
            gate.checkpoint()
            order.append("ingest batch")

    searcher = threading.Thread(target=search)
    searcher.start()
    started.wait()
    writer = threading.Thread(target=ingest)
    writer.start()
    while gate.yields == 0:  # the ingest reached its checkpoint and is waiting
        threading.Event().wait(0.001)
    assert order == []
    release.set()
    searcher.join()
    writer.join()
    assert order == ["search done", "ingest batch"]
    assert gate.running_counts() == {"interactive": 0, "heavy": 0, "bulk": 0}


def test_classes_rank_interactive_then_heavy_then_bulk():
    gate = PriorityGate(max_wait_s=0.0)  # never waits: only whether it would
    with gate.running("heavy"):
        gate.checkpoint("bulk")
        assert gate.yields == 1  # bulk yields to heavy
        gate.checkpoint("heavy")
        assert gate.yields == 1  # not to its own class
        gate.checkpoint("interactive")
        assert gate.yields == 1


def test_a_checkpoint_waits_at_most_max_wait_s():
    gate = PriorityGate(max_wait_s=0.01)
    with gate.running("interactive"):
        done = threading.Event()

        def ingest() -> None:
            with gate.running("bulk"):
                gate.checkpoint()
            done.set()

        thread = threading.Thread(target=ingest)
        thread.start()
        thread.join(timeout=60)  # returns although the interactive work never ended
        assert done.is_set()


def test_running_nests_and_restores_the_class():
    gate = PriorityGate()
    with gate.running("bulk"):
        with gate.running("heavy"):
            assert gate.current() == "heavy"
        assert gate.current() == "bulk"
    assert gate.current() == "interactive"
    with pytest.raises(ValueError):
        with gate.running("urgent"):  # type: ignore[arg-type]
            pass


def test_work_that_starts_later_does_not_extend_the_wait():
    """A steady stream of searches delays a batch by about one search, no more."""
    gate = PriorityGate(max_wait_s=600)
    first_done, second_done = threading.Event(), threading.Event()
    second_started = threading.Event()
    order: list[str] = []

    def search(done: threading.Event, started: threading.Event | None = None) -> None:
        with gate.running("interactive"):
            if started is not None:
                started.set()
            done.wait()

    first = threading.Thread(target=search, args=(first_done,))
    first.start()
    while gate.running_counts()["interactive"] == 0:
        threading.Event().wait(0.001)

    def ingest() -> None:
        with gate.running("bulk"):
            gate.checkpoint()
            order.append("batch")

    writer = threading.Thread(target=ingest)
    writer.start()
    while gate.yields == 0:
        threading.Event().wait(0.001)
    second = threading.Thread(target=search, args=(second_done, second_started))
    second.start()
    second_started.wait()
    first_done.set()  # the search running at the checkpoint ends; the second still runs
    writer.join(timeout=60)
    assert order == ["batch"] and gate.running_counts()["interactive"] == 1
    second_done.set()
    first.join()
    second.join()
