"""Feeds watched by the server (VNQA_FEEDS) and by `vnqa watch`, and POST /v1/articles/fetch,
against a real news site on 127.0.0.1: new items arrive and their summaries are read
from the API."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from index.feed_state import SqliteFeedState
from service.api.app import create_app
from service.cli import app as cli_app
from service.feeds import FeedWatcher
from service.fetching import FetchLimits, url_article_id
from tests.conftest import MODELS_DIR
from tests.service.news_site import serving_news


@pytest.fixture
def site():
    with serving_news() as served:
        yield served


def _wait(condition, limit_s: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + limit_s
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return value


def test_the_server_watches_a_feed_and_summarizes_new_items(site, make_runtime) -> None:
    site.feed_items = ["mua-lu-quang-tri.html"]
    runtime = make_runtime(feeds=site.url("feed.rss"), feed_interval_s=1, fetch_allow_private=True)
    with TestClient(create_app(runtime=runtime)) as client:
        first = url_article_id(site.url("news/mua-lu-quang-tri.html"))

        def ready(article_id: str):
            answer = client.get(f"/v1/articles/{article_id}")
            body = answer.json() if answer.status_code == 200 else {}
            return body if body.get("summary_status") == "ready" else None

        article = _wait(lambda: ready(first), what="the first item's summary")
        assert article["title"] == "Mưa lũ gây ngập sâu nhiều xã ở Quảng Trị"
        assert article["url"] == site.url("news/mua-lu-quang-tri.html")
        assert "Thạch Hãn" in article["summary"]["text"]
        assert "Bình luận" not in article["text"] and "Quảng cáo" not in article["text"]

        site.feed_items.append("cao-toc-bac-nam.html")  # published between two polls
        second = url_article_id(site.url("news/cao-toc-bac-nam.html"))
        article = _wait(lambda: ready(second), what="the new item's summary")
        assert "Vũng Áng" in article["summary"]["text"]
        hits_before = site.hits.count("/news/mua-lu-quang-tri.html")
        _wait(lambda: site.hits.count("/feed.rss") >= 4, what="two more polls")
        assert site.hits.count("/news/mua-lu-quang-tri.html") == hits_before  # not refetched
        assert client.get("/v1/articles").json()["total"] == 2


def test_the_watcher_keeps_its_place_across_restarts(site, tmp_path) -> None:
    site.feed_items = ["gia-lua-dong-thap.html", "trang-chu.html"]
    stored: list[str] = []
    limits = FetchLimits(allow_private=True, timeout_s=5)

    def watcher() -> FeedWatcher:
        state = SqliteFeedState(tmp_path / "feeds.sqlite3")
        return FeedWatcher(
            [site.url("feed.rss")],
            state,
            lambda articles: stored.extend(a.id for a in articles),
            limits,
        )

    first = watcher()
    report = first.poll_once()
    assert report.added == [url_article_id(site.url("news/gia-lua-dong-thap.html"))]
    assert [link for link, _ in report.skipped] == [site.url("news/trang-chu.html")]
    first.stop()
    again = watcher()  # a restart: nothing is taken in twice
    assert again.poll_once().added == [] and len(stored) == 1
    site.feed_items.append("cao-toc-bac-nam.html")
    assert len(again.poll_once().added) == 1
    again.stop()


def test_fetch_route_stores_replaces_and_refuses(site, make_runtime) -> None:
    url = site.url("news/gia-lua-dong-thap.html")
    allowed = make_runtime(fetch_allow_private=True)
    with TestClient(create_app(runtime=allowed)) as client:
        first = client.post("/v1/articles/fetch", json={"url": url})
        assert first.status_code == 201, first.text
        stored = first.json()["articles"][0]
        assert stored["id"] == url_article_id(url) and not stored["replaced"]
        again = client.post("/v1/articles/fetch", json={"url": url}).json()["articles"][0]
        assert again["id"] == stored["id"] and again["replaced"]  # replaced, not duplicated
        assert client.get("/v1/articles").json()["total"] == 1
        article = client.get(f"/v1/articles/{stored['id']}").json()
        assert article["date"] == "2025-11-22" and article["author"] == "Võ Thị Ngọc"
        assert article["source"] == "Nông Nghiệp Mới" and article["url"] == url
        empty = client.post("/v1/articles/fetch", json={"url": site.url("news/trang-chu.html")})
        assert empty.status_code == 422 and empty.json()["error"]["code"] == "no_article_text"
        gone = client.post("/v1/articles/fetch", json={"url": site.url("news/none.html")})
        assert gone.status_code == 502 and "404" in gone.json()["error"]["message"]
    with TestClient(create_app(runtime=make_runtime())) as client:  # the default: refused
        refused = client.post("/v1/articles/fetch", json={"url": url})
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "url_not_allowed"
        assert client.get("/v1/articles").json()["total"] == 0


def test_vnqa_watch_and_fetch_store_and_summarize(site, tmp_path, embedder) -> None:
    env = {
        "VNQA_DATA_DIR": str(tmp_path),
        "VNQA_MODELS_DIR": str(MODELS_DIR),
        "VNQA_SUMMARIZER": "extractive",
        "VNQA_FETCH_ALLOW_PRIVATE": "true",
    }
    site.feed_items = ["mua-lu-quang-tri.html"]
    runner = CliRunner()
    watched = runner.invoke(cli_app, ["watch", "--once", site.url("feed.rss")], env=env)
    assert watched.exit_code == 0, watched.output
    assert "1 new articles" in watched.output
    fetched = runner.invoke(cli_app, ["fetch", site.url("news/cao-toc-bac-nam.html")], env=env)
    assert fetched.exit_code == 0, fetched.output
    refused = runner.invoke(
        cli_app,
        ["fetch", site.url("news/cao-toc-bac-nam.html")],
        env={**env, "VNQA_FETCH_ALLOW_PRIVATE": "false"},
    )
    assert refused.exit_code != 0 and "VNQA_FETCH_ALLOW_PRIVATE" in refused.output
    again = runner.invoke(cli_app, ["watch", "--once", site.url("feed.rss")], env=env)
    assert "0 new articles" in again.output

    from index.engine import ArticleIndex
    from index.summary_store import SqliteSummaryStore

    with ArticleIndex.open(tmp_path / "index", embedder) as index:
        assert SqliteSummaryStore(index.store).status_counts() == {"ready": 2}
