"""The SummaryStore contract on SQLite and on a real PostgreSQL, and the PostgreSQL
queue's claims: skip-locked between claimers, leases that lapse."""

from __future__ import annotations

import threading
import time

import pytest

from index.sqlite_reserving import ReservingArticleStore
from index.store import NewArticle, NewChunk
from index.summary_store import MadeSummary, summary_store_for


@pytest.fixture(params=["sqlite", "postgresql"])
def stores(request, tmp_path):
    """(article store, its summary store) for each backend."""
    if request.param == "sqlite":
        articles = ReservingArticleStore(tmp_path / "store.sqlite3")
    else:
        from index.pg_store import PgArticleStore

        articles = PgArticleStore(request.getfixturevalue("pg_url"))
    summaries = summary_store_for(articles)
    assert summaries is not None
    yield articles, summaries
    articles.close()


def _put(articles, *items: tuple[str, str], date: str | None = "2025-01-02", source="a.vn"):
    new = [
        NewArticle(
            i, f"Tiêu đề {i}", text, date, source, None, None, [NewChunk(0, 0, len(text), text)]
        )
        for i, text in items
    ]
    ids = [articles.reserve_chunk_ids(1) for _ in new]
    articles.replace_articles(new, chunk_ids=ids)


def _made(job, text: str = "tóm tắt", summarizer: str = "extractive:x") -> MadeSummary:
    return MadeSummary(job, text, "extractive", "x", summarizer, 80)


def test_storing_queues_and_a_change_requeues_at_a_new_revision(stores):
    articles, summaries = stores
    _put(articles, ("a1", "Một."), ("a2", "Hai."))
    assert summaries.status_counts() == {"pending": 2}
    jobs = summaries.claim(10)
    assert sorted(j.article_id for j in jobs) == ["a1", "a2"]
    assert summaries.claim(10) == []  # held
    first = next(j for j in jobs if j.article_id == "a1")
    assert (first.title, first.text, first.revision) == ("Tiêu đề a1", "Một.", 1)
    _put(articles, ("a1", "Một, đã sửa."))  # changed while being summarized
    assert summaries.complete([_made(j) for j in jobs]) == 1  # a1's summary is outdated
    got = summaries.summaries(["a1", "a2", "nope"])
    assert got["a1"].status == "pending" and got["a2"].status == "ready"
    assert got["a2"].text == "tóm tắt" and got["a2"].made_at and set(got) == {"a1", "a2"}
    (again,) = summaries.claim(10)
    assert (again.article_id, again.revision, again.text) == ("a1", 2, "Một, đã sửa.")
    summaries.fail(again, "Boom: it broke")
    assert summaries.summaries(["a1"])["a1"].error == "Boom: it broke"
    assert summaries.status_counts() == {"ready": 1, "failed": 1}
    _put(articles, ("a2", "Hai."))  # the same text again: nothing to redo
    assert summaries.status_counts() == {"ready": 1, "failed": 1}
    articles.delete_article("a2")
    assert summaries.status_counts() == {"failed": 1}


def test_release_stale_requeue_and_window(stores):
    articles, summaries = stores
    _put(articles, ("b1", "Một."), date="2025-01-01", source="a.vn")
    _put(articles, ("b2", "Hai."), date="2025-01-03", source="b.vn")
    _put(articles, ("b3", "Ba."), date=None, source="a.vn")
    jobs = summaries.claim(2)
    assert [j.article_id for j in jobs] == ["b1", "b2"]  # oldest first
    summaries.release(jobs[1:])
    assert [j.article_id for j in summaries.claim(5)] == ["b2", "b3"]
    summaries.complete([_made(jobs[0], summarizer="old")])
    assert summaries.mark_stale("new") == 1
    assert summaries.summaries(["b1"])["b1"].status == "stale"
    assert summaries.mark_stale("old") == 0  # made by the one in use: ready again
    assert summaries.summaries(["b1"])["b1"].status == "ready"
    summaries.mark_stale("new")
    assert summaries.requeue("stale") == 1 and summaries.requeue("failed") == 0
    (job,) = summaries.claim(5)  # the requeued one, its claim cleared
    assert (job.article_id, job.revision) == ("b1", 2)
    window = summaries.window(date_from="2025-01-01", date_to="2025-01-02", sources=None, limit=10)
    assert [(a.id, s.status if s else None) for a, s in window] == [("b1", "pending")]
    everything = summaries.window(date_from=None, date_to=None, sources=["a.vn"], limit=10)
    assert [a.id for a, _ in everything] == ["b3", "b1"]  # undated: the day it was stored
    assert summaries.requeue("all") == 0


def test_two_claimers_never_get_the_same_job(pg_url):
    from index.pg_store import PgArticleStore
    from index.pg_summary_store import PgSummaryStore

    articles = PgArticleStore(pg_url)
    _put(articles, *[(f"c{i:02d}", f"Tin {i}.") for i in range(40)])
    workers = [PgSummaryStore(PgArticleStore(pg_url)) for _ in range(2)]
    taken: list[list[str]] = [[], []]
    start = threading.Barrier(2)

    def work(n: int) -> None:
        start.wait()
        while jobs := workers[n].claim(3):
            taken[n].extend(j.article_id for j in jobs)
            workers[n].complete([_made(j) for j in jobs])

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(taken[0] + taken[1]) == [f"c{i:02d}" for i in range(40)]  # each once
    assert workers[0].status_counts() == {"ready": 40}
    for w in workers:
        w._store.close()
    articles.close()


def test_a_dead_replicas_claims_are_taken_over_after_the_lease(pg_url):
    from index.pg_store import PgArticleStore
    from index.pg_summary_store import PgSummaryStore

    articles = PgArticleStore(pg_url)
    _put(articles, ("d1", "Một."))
    dying = PgSummaryStore(articles, lease_s=0.5)
    other = PgSummaryStore(articles, lease_s=0.5)
    (job,) = dying.claim(5)  # ... and its replica is killed here
    assert other.claim(5) == []
    time.sleep(0.7)
    (taken,) = other.claim(5)
    assert taken.article_id == "d1"
    dying.release([job])  # a late release by the old holder keeps the new claim
    assert dying.claim(5) == []
    assert other.complete([_made(taken)]) == 1
    articles.close()
