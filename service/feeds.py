"""RSS/Atom feeds watched on an interval: new items fetched, stored and summarized.

``vnqa watch FEED_URL...`` and the server (``VNQA_FEEDS``, every
``VNQA_FEED_INTERVAL_S``) run a :class:`FeedWatcher`. Feeds are downloaded with the
same guards as pages (:mod:`service.fetching`) and parsed by ``feedparser``; each new
item's link is fetched, extracted and stored (its id comes from the URL, so an item
seen again replaces, never duplicates), and the item is remembered in the feed state
(:mod:`index.feed_state`: ``data_dir/feeds.sqlite3``, or PostgreSQL beside the articles
when ``VNQA_DATABASE_URL`` is set), so a restart goes on where the watcher stopped. A
transient failure (network, timeout) is retried at the next poll; a page with no
article text is remembered as given up.

Every replica may be given the same ``VNQA_FEEDS``: a poll of a feed first claims it
(a lease, ``VNQA_FEED_LEASE_S``, renewed before each item), so one replica polls a feed
at a time and at most once an interval, and an item is taken in once. A replica that
dies mid-poll leaves the feed to the others when its lease runs out; one that finds
its lease taken over stops polling that feed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from index.documents import Article
from index.feed_state import FeedState, feed_state_for
from service.fetching import FetchError, FetchLimits, download, fetch_article

logger = logging.getLogger(__name__)

FEED_STATE_FILE = "feeds.sqlite3"  # under the data folder, when the articles are in SQLite
_TRANSIENT = ("fetch_failed", "fetch_timeout")


@dataclass
class PollReport:
    """What one poll of the feeds did."""

    added: list[str] = field(default_factory=list)  # article ids stored
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (link, why) given up
    errors: list[tuple[str, str]] = field(default_factory=list)  # (url, why) to retry
    passed: list[str] = field(default_factory=list)  # feeds another replica polls or polled


def feed_items(content: bytes) -> list[tuple[str, str]]:
    """``(key, link)`` of a feed's items, oldest first (feeds list the newest first)."""
    import feedparser  # type: ignore[import-untyped]  # no type hints shipped

    parsed = feedparser.parse(content)
    if parsed.bozo and not parsed.entries:
        raise FetchError(422, "invalid_feed", f"not an RSS or Atom feed ({parsed.bozo_exception})")
    items = []
    for entry in parsed.entries:
        link = entry.get("link")
        if link:
            items.append((entry.get("id") or link, link))
    return list(reversed(items))


class FeedWatcher:
    """Polls feeds; ``ingest`` stores a list of articles (and queues their summaries);
    ``state`` remembers the items taken in and holds the claims on the feeds."""

    def __init__(
        self,
        feeds: Sequence[str],
        state: FeedState,
        ingest: Callable[[list[Article]], Any],
        limits: FetchLimits,
        *,
        interval_s: float = 300.0,
    ) -> None:
        self.feeds = list(feeds)
        self.state = state
        self.ingest = ingest
        self.limits = limits
        self.interval_s = interval_s
        self.busy: Callable[[], bool] = lambda: False
        self.max_defer_s = 2.0  # longest wait per item for the server to be quiet
        self.polls = 0
        self.last_report: PollReport | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(cls, settings: Any, runtime: Any) -> FeedWatcher:
        """The server's watcher over ``VNQA_FEEDS``, storing into the runtime's index."""

        def ingest(articles: list[Article]) -> None:
            runtime.index.add_articles(articles)
            if runtime.auto_summaries is not None:
                runtime.auto_summaries.notify()

        return cls(
            settings.feed_list(),
            feed_state_for(
                getattr(runtime.index, "store", None),
                settings.data_dir / FEED_STATE_FILE,
                lease_s=settings.feed_lease_s,
            ),
            ingest,
            FetchLimits.from_settings(settings),
            interval_s=settings.feed_interval_s,
        )

    def poll_once(self, *, due_after_s: float = 0.0) -> PollReport:
        """Poll every feed that no other replica is polling and none polled in the last
        ``due_after_s`` seconds; store the new items' articles."""
        report = PollReport()
        for feed in self.feeds:
            if self._stop.is_set():
                break
            if not self.state.claim(feed, due_after_s=due_after_s):
                report.passed.append(feed)
                continue
            try:
                self._poll_feed(feed, report)
            finally:
                self.state.release(feed)
        self.polls += 1
        self.last_report = report
        return report

    def _poll_feed(self, feed: str, report: PollReport) -> None:
        try:
            items = feed_items(download(feed, self.limits).content)
        except FetchError as exc:
            logger.warning("feed %s: %s", feed, exc)
            report.errors.append((feed, str(exc)))
            return
        links = dict(items)
        for key in self.state.unseen(feed, links):
            if self._stop.is_set():
                return
            deadline = time.monotonic() + self.max_defer_s
            while self.busy() and not self._stop.is_set() and time.monotonic() < deadline:
                time.sleep(0.05)
            if not self._still_mine(feed, report):
                return
            link = links[key]
            try:
                article = fetch_article(link, self.limits)
            except FetchError as exc:
                if exc.code in _TRANSIENT:
                    report.errors.append((link, str(exc)))
                else:
                    report.skipped.append((link, str(exc)))
                    self.state.mark(feed, key, error=str(exc))
                logger.warning("feed item %s: %s", link, exc)
                continue
            if not self._still_mine(feed, report):  # the fetch outlasted the lease
                return
            self.ingest([article])
            self.state.mark(feed, key, article_id=article.id)
            report.added.append(article.id)

    def _still_mine(self, feed: str, report: PollReport) -> bool:
        """Renew the lease on ``feed``; False (and the poll ends) if another replica
        took the feed over after this one's lease ran out."""
        if self.state.renew(feed):
            return True
        logger.warning("feed %s: another replica took the poll over; stopping here", feed)
        report.errors.append((feed, "poll taken over by another replica"))
        return False

    # -- background -----------------------------------------------------------------
    def start(self, busy: Callable[[], bool] | None = None) -> None:
        """Poll in a background thread every ``interval_s`` (the first poll at once)."""
        if busy is not None:
            self.busy = busy
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="vnqa-feeds", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        # The first poll at once; later ones skip a feed another replica polled within
        # the interval (90% of it, so this replica's own timer jitter never skips one).
        due_after_s = 0.0
        while not self._stop.is_set():
            try:
                self.poll_once(due_after_s=due_after_s)
            except Exception:  # a bad poll (or an unreachable database) must not end it
                logger.exception("feed poll failed")
            due_after_s = 0.9 * self.interval_s
            self._stop.wait(self.interval_s)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop polling (the item in progress is finished) and close the feed state."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        self.state.close()
