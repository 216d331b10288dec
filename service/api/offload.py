"""Worker-thread lanes for blocking model and index calls: bounded, with load shedding.

A route awaits ``offload(func, *args)``; the call runs in a worker thread of its lane
(one per cost class: searches and asks ``VNQA_INFERENCE_WORKERS`` threads each;
writes: one), at most ``VNQA_MAX_QUEUE`` calls wait per lane, and one more is refused
with 503 ``overloaded``. Each lane's calls run as its cost class
(:mod:`models.priority`), so the model batches of asks and ingests take the cores
that searches leave free.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import NamedTuple, ParamSpec, TypeVar

import anyio
import anyio.to_thread

from models.priority import GATE, Priority
from service.api.errors import ApiError
from service.core.config import Settings

P = ParamSpec("P")
T = TypeVar("T")


RETRY_AFTER_S = 2  # what a shed request is told to wait; a search takes well under that


class Offload:
    """Run CPU-bound calls in worker threads, at most ``limiter.total_tokens`` at once.

    At most ``max_queue`` calls may wait for a worker; one more is shed with a 503
    and ``Retry-After`` instead of joining an unbounded queue (``None``: no bound).
    ``observe(name, seconds)``, when given, receives each call's run time in its
    worker (queueing excluded). Calls run as ``priority`` work (:mod:`models.priority`):
    the model batches of heavy and bulk work hold CPU slots that interactive work
    takes first. The
    counters are only touched on the event loop.
    """

    def __init__(
        self,
        limiter: anyio.CapacityLimiter,
        max_queue: int | None = None,
        *,
        lane: str = "inference",
        priority: Priority = "heavy",
        observe: Callable[[str, float], None] | None = None,
    ) -> None:
        self.limiter = limiter
        self.priority = priority
        self.max_queue = max_queue
        self.lane = lane
        self.observe = observe
        self.in_flight = 0  # running plus waiting
        self.shed = 0  # calls refused since start

    @property
    def waiting(self) -> int:
        """Calls queued for a worker."""
        return max(0, self.in_flight - int(self.limiter.borrowed_tokens))

    async def __call__(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``await offload(func, *args, **kwargs)`` off the event loop."""
        if self.max_queue is not None and (
            self.in_flight >= int(self.limiter.total_tokens) + self.max_queue
        ):
            self.shed += 1
            raise ApiError(
                503,
                "overloaded",
                f"The server is busy: {self.in_flight} {self.lane} calls are running or "
                f"queued (VNQA_MAX_QUEUE={self.max_queue} waiting on top of "
                f"{int(self.limiter.total_tokens)} workers). Retry after {RETRY_AFTER_S} s.",
                headers={"Retry-After": str(RETRY_AFTER_S)},
            )
        call: Callable[[], T] = functools.partial(func, *args, **kwargs)
        if self.observe is not None:
            call = _timed(call, getattr(func, "__name__", "call"), self.observe)
        call = _prioritized(call, self.priority)
        self.in_flight += 1
        try:
            return await anyio.to_thread.run_sync(call, limiter=self.limiter)
        finally:
            self.in_flight -= 1

    async def drain(self, poll_s: float = 0.05) -> None:
        """Wait until no call is running or queued (graceful shutdown)."""
        while self.in_flight:
            await anyio.sleep(poll_s)


def _timed(
    call: Callable[[], T], name: str, observe: Callable[[str, float], None]
) -> Callable[[], T]:
    def run() -> T:
        started = time.perf_counter()
        try:
            return call()
        finally:
            observe(name, time.perf_counter() - started)

    return run


def _prioritized(call: Callable[[], T], priority: Priority) -> Callable[[], T]:
    def run() -> T:
        with GATE.running(priority):
            return call()

    return run


class Lanes(NamedTuple):
    """One admission queue per cost class, so a cheap call never queues behind a dear one."""

    search: Offload  # searches: milliseconds, interactive
    inference: Offload  # asks, summaries, chat: model time, heavy
    write: Offload  # ingests and deletes: one at a time, bulk


LANE_ATTRS = {"search": "search_offload", "inference": "offload", "write": "write_offload"}
"""Where each lane lives on ``app.state``."""


def make_offloads(settings: Settings, observe: Callable[[str, float], None] | None = None) -> Lanes:
    """The search lane and the inference lane (``inference_workers`` threads each) and
    the write lane (one thread), each with its own queue bound.

    Searches have their own workers and queue, so they never wait behind asks; they
    run as interactive work, whose CPU slots the model batches of asks (heavy) and
    ingests (bulk) leave to them. Ingests and deletes get a single worker; the index serializes
    writes anyway.
    """
    workers, queue = settings.inference_workers, settings.max_queue
    return Lanes(
        search=Offload(
            anyio.CapacityLimiter(workers),
            queue,
            lane="search",
            priority="interactive",
            observe=observe,
        ),
        inference=Offload(
            anyio.CapacityLimiter(workers),
            queue,
            lane="inference",
            priority="heavy",
            observe=observe,
        ),
        write=Offload(
            anyio.CapacityLimiter(1), queue, lane="write", priority="bulk", observe=observe
        ),
    )


def install_lanes(state: object, lanes: Lanes) -> None:
    """Put ``lanes`` on ``app.state`` under :data:`LANE_ATTRS`."""
    for name, attr in LANE_ATTRS.items():
        setattr(state, attr, getattr(lanes, name))
