"""Worker-thread lanes for blocking model and index calls: bounded, with load shedding.

A route awaits ``offload(func, *args)``; the call runs in a worker thread of its lane
(inference: ``VNQA_INFERENCE_WORKERS`` threads; writes: one), at most
``VNQA_MAX_QUEUE`` calls wait, and one more is refused with 503 ``overloaded``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread

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
    worker (queueing excluded). The counters are only touched on the event loop.
    """

    def __init__(
        self,
        limiter: anyio.CapacityLimiter,
        max_queue: int | None = None,
        *,
        lane: str = "inference",
        observe: Callable[[str, float], None] | None = None,
    ) -> None:
        self.limiter = limiter
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


def make_offloads(
    settings: Settings, observe: Callable[[str, float], None] | None = None
) -> tuple[Offload, Offload]:
    """The read lane (``inference_workers`` threads) and the write lane (one thread).

    Ingests and deletes get their own single worker so a long ingest never takes a
    worker that searches and asks need; the index serializes writes anyway.
    """
    read = Offload(
        anyio.CapacityLimiter(settings.inference_workers),
        settings.max_queue,
        lane="inference",
        observe=observe,
    )
    write = Offload(anyio.CapacityLimiter(1), settings.max_queue, lane="write", observe=observe)
    return read, write
