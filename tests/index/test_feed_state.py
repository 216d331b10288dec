"""The FeedState contract on SQLite and on a real PostgreSQL: positions, claims that one
holder has at a time, polls that are due once an interval, leases that lapse."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import pytest

from index.feed_state import SqliteFeedState, feed_state_for

FEED = "http://tin.example/feed.rss"


@pytest.fixture(params=["sqlite", "postgresql"])
def make_state(request, tmp_path):
    """Opens a feed state (over a file, or a database), with its ``lease_s``."""
    opened: list = []
    if request.param == "sqlite":

        def make(lease_s: float = 60.0):
            opened.append(state := SqliteFeedState(tmp_path / "feeds.sqlite3", lease_s=lease_s))
            return state
    else:
        from index.pg_store import PgArticleStore

        url = request.getfixturevalue("pg_url")

        def make(lease_s: float = 60.0):
            store = PgArticleStore(url)
            opened.append(store)
            state = feed_state_for(store, tmp_path / "unused.sqlite3", lease_s=lease_s)
            assert type(state).__name__ == "PgFeedState"
            return state

    yield make
    for item in opened:
        item.close()
    assert not (tmp_path / "unused.sqlite3").exists()


def test_positions_are_remembered_and_counted(make_state):
    state = make_state()
    assert state.unseen(FEED, ["a", "b", "a", "c"]) == ["a", "b", "c"]
    state.mark(FEED, "a", article_id="art-a")
    state.mark(FEED, "b", error="no article text")
    state.mark(FEED, "a", article_id="art-a")  # again: one row
    assert state.unseen(FEED, ["c", "b", "a"]) == ["c"]
    assert state.count(FEED) == 2 and state.count("http://other/feed") == 0
    assert state.unseen("http://other/feed", ["a"]) == ["a"]  # positions are per feed


def test_one_holder_at_a_time_and_a_poll_is_due_once_an_interval(make_state):
    state = make_state()
    assert state.claim(FEED)
    assert not state.claim(FEED)  # held, even by the same store
    assert state.renew(FEED)
    state.release(FEED)
    assert not state.claim(FEED, due_after_s=30)  # polled a moment ago
    assert state.claim(FEED, due_after_s=0)
    state.release(FEED)
    time.sleep(0.3)
    assert state.claim(FEED, due_after_s=0.2)  # due again
    assert state.claim("http://other/feed")  # feeds are claimed one by one


def _pg_states(url: str, n: int, lease_s: float = 60.0) -> list:
    """``n`` feed states over one database, each with its own pool, as replicas have."""
    from index.pg_store import PgArticleStore

    return [feed_state_for(PgArticleStore(url), Path("unused"), lease_s=lease_s) for _ in range(n)]


def _close(states: list) -> None:
    for state in states:
        state._store.close()


def test_two_replicas_claiming_at_once_never_both_hold_a_feed(pg_url):
    states = _pg_states(pg_url, 4)
    feeds = [f"http://tin.example/{i}.rss" for i in range(10)]
    won: list[list[str]] = [[] for _ in states]
    start = threading.Barrier(len(states))

    def run(n: int) -> None:
        start.wait()
        won[n].extend(f for f in feeds if states[n].claim(f))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(states))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(itertools.chain(*won)) == sorted(feeds)  # each feed once
    _close(states)


def test_a_dead_replicas_lease_lapses_and_its_late_calls_change_nothing(pg_url):
    dying, other = _pg_states(pg_url, 2, lease_s=0.5)
    assert dying.claim(FEED)  # ... and its replica is killed here
    assert not other.claim(FEED)
    time.sleep(0.7)
    assert other.claim(FEED)  # the lease ran out
    assert not dying.renew(FEED)  # the old holder learns it lost the feed
    dying.release(FEED)  # and its late release keeps the new claim
    assert not dying.claim(FEED)
    assert other.renew(FEED)
    _close([dying, other])


def test_a_reopened_sqlite_state_clears_old_claims(tmp_path):
    first = SqliteFeedState(tmp_path / "feeds.sqlite3", lease_s=600)
    assert first.claim(FEED)
    first.close()  # the process died holding the feed; the next one holds the folder
    again = SqliteFeedState(tmp_path / "feeds.sqlite3", lease_s=600)
    assert again.claim(FEED)
    again.close()
