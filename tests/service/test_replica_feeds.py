"""Two ``vnqa serve`` replicas over one PostgreSQL and one Milvus (Lite, gRPC), both given
the same ``VNQA_FEEDS`` of a real news site on 127.0.0.1: every new item is taken in
once and read through either; a replica killed mid-poll leaves the feed to the other
once its lease runs out."""

from __future__ import annotations

import threading
import time

import httpx
import psycopg
import pytest

from service.fetching import url_article_id
from tests.service.news_site import serving_news
from tests.service.server_process import ServerProcess
from tests.shared_servers import running_backends

LEASE_S = 10.0  # above the time one item takes to fetch and store on a loaded machine


@pytest.fixture(scope="module")
def backends(tmp_path_factory):
    with running_backends(tmp_path_factory.mktemp("milvus")) as servers:
        yield servers


@pytest.fixture(scope="module")
def site():
    with serving_news() as served:
        yield served


@pytest.fixture(scope="module")
def replicas(tmp_path_factory, backends, site):
    pg, milvus = backends
    servers = []
    for name in ("a", "b"):
        folder = tmp_path_factory.mktemp(name)
        servers.append(
            ServerProcess(
                folder / "data",
                folder / "log.jsonl",
                VNQA_INDEX_BACKEND="milvus",
                VNQA_MILVUS_URI=milvus.uri,
                VNQA_DATABASE_URL=pg.url,
                VNQA_FEEDS=site.url("feed.rss"),
                VNQA_FEED_INTERVAL_S="1",
                VNQA_FEED_LEASE_S=str(LEASE_S),
                VNQA_FETCH_ALLOW_PRIVATE="true",
            )
        )
    started = threading.Thread(target=servers[1].start)
    started.start()
    servers[0].start()
    started.join()
    yield servers
    for server in servers:
        server.kill()


def _wait(condition, limit_s: float = 120.0, what: str = "condition"):
    deadline = time.monotonic() + limit_s
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return value


def _readable(server: ServerProcess, article_id: str) -> bool:
    return httpx.get(f"{server.url}/v1/articles/{article_id}", timeout=30).status_code == 200


def test_every_new_item_is_taken_in_once_and_read_through_both(site, replicas):
    pages = ["mua-lu-quang-tri.html", "trang-chu.html", "cao-toc-bac-nam.html"]
    site.feed_items = pages[:2]
    first = url_article_id(site.url(f"news/{pages[0]}"))
    _wait(lambda: all(_readable(s, first) for s in replicas), what="the first item")
    site.feed_items.append(pages[2])  # published between two polls
    second = url_article_id(site.url(f"news/{pages[2]}"))
    _wait(lambda: all(_readable(s, second) for s in replicas), what="the new item")
    polls = site.hits.count("/feed.rss")
    _wait(lambda: site.hits.count("/feed.rss") >= polls + 6, what="more polls by both")
    for page in pages:  # the page with no article text is given up once, too
        assert site.hits.count(f"/news/{page}") == 1, (page, site.hits)
    for server in replicas:
        listed = httpx.get(f"{server.url}/v1/articles", timeout=30).json()
        assert sorted(a["id"] for a in listed["articles"]) == sorted([first, second])
    hits = httpx.post(
        f"{replicas[1].url}/v1/search", json={"query": "cao tốc Bắc Nam"}, timeout=60
    ).json()["results"]
    assert hits[0]["article_id"] == second


def test_a_replica_killed_mid_poll_leaves_the_feed_to_the_other(site, replicas, backends):
    pg, _ = backends
    page = "/news/gia-lua-dong-thap.html"
    article_id = url_article_id(site.url(page))
    site.stalls[page] = 60.0  # whoever fetches it first hangs there ...
    site.feed_items.append(page.removeprefix("/news/"))
    _wait(lambda: page in site.hits, what="a replica fetching the new item")
    with psycopg.connect(pg.url) as conn:
        holder, left_s = conn.execute(
            "SELECT claimed_by, claimed_until - EXTRACT(EPOCH FROM clock_timestamp())"
            " FROM vnqa_feed_polls WHERE feed_url = %s",
            (site.url("feed.rss"),),
        ).fetchone()
    looked_at = time.monotonic()
    pid = int(holder.split(":")[1])
    victim = next(s for s in replicas if s.process is not None and s.process.pid == pid)
    survivor = next(s for s in replicas if s is not victim)
    victim.kill()  # ... and is killed there, holding the feed
    assert left_s > 0
    _wait(lambda: site.hits.count(page) >= 2, limit_s=LEASE_S + 60, what="the other replica")
    taken_over_after = time.monotonic() - looked_at
    assert taken_over_after >= left_s - 0.5  # not before the dead replica's lease ran out
    _wait(lambda: _readable(survivor, article_id), what="the item through the survivor")
    assert site.hits.count(page) == 2
    for earlier in site.feed_items[:-1]:  # positions were shared: nothing else redone
        assert site.hits.count(f"/news/{earlier}") == 1
    articles = {url_article_id(site.url(f"news/{p}")) for p in site.feed_items}
    articles.discard(url_article_id(site.url("news/trang-chu.html")))  # no article text
    listed = httpx.get(f"{survivor.url}/v1/articles", timeout=30).json()["articles"]
    assert sorted(a["id"] for a in listed) == sorted(articles)
