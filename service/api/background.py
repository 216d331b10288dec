"""The server's background work: the summary worker and the feed watcher.

Started by the app's lifespan once the runtime is ready and stopped before it closes.
Both give way to requests: they wait while the read or write lane is busy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from fastapi import FastAPI

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


def requests_running(app: FastAPI) -> bool:
    """Whether a request is running or queued in the read or write lane."""
    state = app.state
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
