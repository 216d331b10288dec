"""The priority gate: model batches share CPU slots, searches first, asks before ingests."""

from __future__ import annotations

import os
import threading

import pytest

from models.priority import PriorityGate


def _until(condition) -> None:
    while not condition():
        threading.Event().wait(0.001)


def test_an_undeclared_thread_is_interactive_and_never_waits():
    gate = PriorityGate(max_wait_s=600, slots=1)
    with gate.running("interactive"):
        assert gate.current() == "interactive"
        with gate.batch() as waited:
            assert waited == 0.0
    assert gate.yields == 0


def test_a_batch_runs_beside_a_search_while_a_core_is_free():
    gate = PriorityGate(max_wait_s=600, slots=2)
    with gate.running("interactive"), gate.running("bulk"), gate.batch() as waited:
        assert waited == 0.0
    assert gate.yields == 0


def test_bulk_batches_wait_while_searches_fill_the_slots():
    gate = PriorityGate(max_wait_s=600, slots=1)
    order: list[str] = []
    release, started = threading.Event(), threading.Event()

    def search() -> None:
        with gate.running("interactive"):
            started.set()
            release.wait()
            order.append("search done")

    def ingest() -> None:
        with gate.running("bulk"), gate.batch():
            order.append("ingest batch")

    searcher = threading.Thread(target=search)
    searcher.start()
    started.wait()
    writer = threading.Thread(target=ingest)
    writer.start()
    _until(lambda: gate.yields == 1)  # the ingest's batch is waiting for a slot
    assert order == []
    release.set()
    searcher.join()
    writer.join()
    assert order == ["search done", "ingest batch"]
    assert gate.running_counts() == {"interactive": 0, "heavy": 0, "bulk": 0}


def test_a_waiting_ask_batch_goes_before_a_waiting_ingest_batch():
    gate = PriorityGate(max_wait_s=600, slots=1)
    order: list[str] = []
    release = threading.Event()
    holding = threading.Event()

    def hold() -> None:  # an ask batch holding the only slot
        with gate.running("heavy"), gate.batch():
            holding.set()
            release.wait()

    def work(name: str, priority: str) -> None:
        with gate.running(priority), gate.batch():  # type: ignore[arg-type]
            order.append(name)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait()
    ingest = threading.Thread(target=work, args=("ingest", "bulk"))
    ingest.start()
    _until(lambda: gate.yields == 1)
    ask = threading.Thread(target=work, args=("ask", "heavy"))
    ask.start()
    _until(lambda: gate.yields == 2)
    release.set()
    for thread in (holder, ingest, ask):
        thread.join(timeout=60)
    assert order == ["ask", "ingest"]


def test_a_batch_waits_at_most_max_wait_s():
    gate = PriorityGate(max_wait_s=0.01, slots=1)
    with gate.running("interactive"):
        done = threading.Event()

        def ingest() -> None:
            with gate.running("bulk"), gate.batch() as waited:
                assert waited > 0
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


def _niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="per-thread priorities: Linux")
def test_ask_and_ingest_batches_run_on_lowered_threads_and_searches_on_their_own():
    from models import priority

    seen: dict[str, list[tuple[int, int]]] = {}
    caller = threading.get_native_id()
    base = _niceness()

    def batches(name: str) -> list:
        seen[name] = []
        return [
            lambda: seen[name].append((threading.get_native_id(), _niceness())) for _ in range(3)
        ]

    priority.run_batches(batches("interactive"), parallel=1)
    with priority.GATE.running("heavy"):
        priority.run_batches(batches("heavy"), parallel=2)
    with priority.GATE.running("bulk"):
        priority.run_batches(batches("bulk"), parallel=2)
    assert seen["interactive"] == [(caller, base)] * 3  # a search never waits for a pool
    assert {n for _, n in seen["heavy"]} == {base + priority.NICENESS["heavy"]}
    assert {n for _, n in seen["bulk"]} == {base + priority.NICENESS["bulk"]}
    assert caller not in {t for t, _ in seen["heavy"] + seen["bulk"]}
    assert _niceness() == base  # the caller's own priority is untouched
    assert priority.GATE.running_counts() == {"interactive": 0, "heavy": 0, "bulk": 0}


def test_a_failing_batch_raises_in_the_caller():
    from models import priority

    def boom() -> None:
        raise RuntimeError("model failed")

    with priority.GATE.running("bulk"), pytest.raises(RuntimeError, match="model failed"):
        priority.run_batches([boom], parallel=2)
