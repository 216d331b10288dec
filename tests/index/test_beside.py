"""``Beside``: a call on its own thread, in the caller's cost class, its result or error."""

from __future__ import annotations

import threading

import pytest

from index.beside import Beside
from models import priority


def test_returns_the_value_and_runs_on_another_thread():
    caller = threading.get_ident()
    assert Beside(threading.get_ident).result() != caller
    assert Beside(lambda: [1, 2]).result() == [1, 2]


def test_raises_what_the_call_raised():
    def fail() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        Beside(fail).result()


def test_runs_as_the_callers_cost_class_and_counts_as_running_work():
    started, release = threading.Event(), threading.Event()

    def call() -> str:
        started.set()
        assert release.wait(30)
        return priority.current()

    with priority.GATE.running("heavy"):
        beside = Beside(call)
        assert started.wait(30)
        assert priority.GATE.running_counts()["heavy"] == 2  # the caller and its helper
        release.set()
        assert beside.result() == "heavy"
    assert priority.GATE.running_counts()["heavy"] == 0
    assert Beside(priority.current).result() == "interactive"  # an undeclared caller
