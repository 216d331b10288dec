"""The server's background work: the summary worker and the feed watcher.

Started by the app's lifespan once the runtime is ready and stopped before it closes.
Both give way to requests: they wait while the read or write lane is busy.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from service.feeds import FeedWatcher

logger = logging.getLogger(__name__)


@dataclass
class BackgroundWork:
    """What :func:`start_background_work` started, to stop at shutdown."""

    stoppers: list = field(default_factory=list)

    def stop(self) -> None:
        """Stop everything started (summaries last: feeds may still queue some)."""
        for stop in reversed(self.stoppers):
            try:
                stop()
            except Exception:  # shutting down: log and go on with the rest
                logger.exception("stopping background work failed")


#: How long after the last request the server counts as busy: a client that sends its
#: next request as soon as the last is answered must not find a summary in its way.
QUIET_AFTER_S = 0.25


class RequestActivity:
    """Pure-ASGI middleware counting HTTP requests in flight and when the last ended."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.in_flight = 0
        self.last_end = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            self.last_end = time.monotonic()

    def busy(self) -> bool:
        """A request is in flight, or one ended less than :data:`QUIET_AFTER_S` ago."""
        return self.in_flight > 0 or time.monotonic() - self.last_end < QUIET_AFTER_S


def install_activity(app: FastAPI) -> None:
    """Count the app's requests (read by :func:`requests_running`)."""

    def build(inner: ASGIApp) -> RequestActivity:
        app.state.activity = RequestActivity(inner)
        return app.state.activity

    app.add_middleware(build)


def requests_running(app: FastAPI) -> bool:
    """Whether a request is in flight (or just ended), or calls wait in the read or
    write lane."""
    state = app.state
    activity = getattr(state, "activity", None)
    if activity is not None and activity.busy():
        return True
    lanes = (getattr(state, "offload", None), getattr(state, "write_offload", None))
    return any(lane is not None and lane.in_flight > 0 for lane in lanes)


def start_background_work(app: FastAPI) -> BackgroundWork:
    """Start the summary worker (``VNQA_AUTO_SUMMARIES``) and the feed watcher
    (``VNQA_FEEDS``) for the app's runtime; nothing on a read-only index."""
    work = BackgroundWork()
    runtime = app.state.runtime
    settings = app.state.settings
    if runtime is None or runtime.index.read_only is not None:
        return work
    worker = runtime.auto_summaries
    if settings.auto_summaries and worker is not None:
        worker.start(busy=lambda: requests_running(app))
        work.stoppers.append(worker.stop)
    if settings.feed_list():
        watcher = FeedWatcher.from_settings(settings, runtime)
        watcher.start(busy=lambda: requests_running(app))
        app.state.feed_watcher = watcher
        work.stoppers.append(watcher.stop)
    return work
