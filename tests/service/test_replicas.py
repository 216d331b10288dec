"""Two ``vnqa serve`` processes over the same PostgreSQL and Milvus (Lite, gRPC) servers.

Both backends are this module's own, on loopback, so taking one away and bringing it
back disturbs no other test.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.service.server_process import ServerProcess
from tests.shared_servers import running_backends


@pytest.fixture(scope="module")
def backends(tmp_path_factory):
    with running_backends(tmp_path_factory.mktemp("milvus")) as servers:
        yield servers


def _replica(tmp_path_factory, backends, name: str) -> ServerProcess:
    pg, milvus = backends
    folder = tmp_path_factory.mktemp(name)
    return ServerProcess(
        folder / "data",
        folder / "log.jsonl",
        VNQA_INDEX_BACKEND="milvus",
        VNQA_MILVUS_URI=milvus.uri,
        VNQA_DATABASE_URL=pg.url,
        VNQA_BACKEND_TIMEOUT_S="2",
    )


@pytest.fixture(scope="module")
def replicas(tmp_path_factory, backends):
    a = _replica(tmp_path_factory, backends, "a")
    b = _replica(tmp_path_factory, backends, "b")
    # Started together: both run the migrations and create the collection at once.
    thread = threading.Thread(target=b.start)
    thread.start()
    a.start()
    thread.join()
    assert b.process is not None and b.process.poll() is None, b.log()
    yield a, b
    for server in (a, b):
        server.kill()


def _article(i: int, text: str | None = None) -> dict:
    return {
        "id": f"bai-{i}",
        "title": f"Bài {i}",
        "source": "test.vn",
        "date": "2025-01-02",
        "text": text
        or f"Tin số {i}: Ủy ban nhân dân xã số {i} họp bàn kế hoạch năm mới. "
        f"Mã tin {i} được ghi nhận.",
    }


def test_write_through_one_read_and_delete_through_the_other(replicas):
    a, b = replicas
    text = "Giá xăng RON 95 giảm mạnh từ 15 giờ chiều nay, theo liên Bộ Công Thương."
    assert httpx.post(f"{a.url}/v1/articles", json=_article(1, text), timeout=60).status_code == 201
    hits = httpx.post(f"{b.url}/v1/search", json={"query": "giá xăng giảm"}, timeout=60).json()
    assert hits["results"][0]["article_id"] == "bai-1"
    assert httpx.get(f"{b.url}/v1/articles/bai-1", timeout=10).json()["text"] == text
    answer = httpx.post(
        f"{b.url}/v1/ask", json={"question": "Giá xăng RON 95 thế nào?"}, timeout=60
    )
    assert answer.status_code == 200
    assert httpx.delete(f"{b.url}/v1/articles/bai-1", timeout=30).status_code == 200
    assert httpx.get(f"{a.url}/v1/articles/bai-1", timeout=10).status_code == 404
    after = httpx.post(f"{a.url}/v1/search", json={"query": "giá xăng giảm"}, timeout=60).json()
    assert all(h["article_id"] != "bai-1" for h in after["results"])


def test_an_article_stored_through_one_has_its_summary_read_through_the_other(
    replicas,
):
    a, b = replicas
    assert httpx.post(f"{a.url}/v1/articles", json=_article(2), timeout=60).status_code == 201
    deadline = time.monotonic() + 60
    while (article := httpx.get(f"{b.url}/v1/articles/bai-2", timeout=10).json())[
        "summary_status"
    ] != "ready":
        assert time.monotonic() < deadline, article["summary_status"]
        time.sleep(0.1)
    assert article["summary"]["text"] and article["summary"]["method"] == "extractive"
    stored = httpx.post(f"{a.url}/v1/summarize", json={"article_id": "bai-2"}, timeout=60)
    assert stored.json()["summary"]["text"] == article["summary"]["text"]


def test_healthz_reports_both_backends(replicas):
    for server in replicas:
        body = httpx.get(f"{server.url}/healthz", timeout=10).json()
        assert body["status"] == "ok"
        assert [(b["role"], b["kind"], b["reachable"]) for b in body["backends"]] == [
            ("articles", "postgresql", True),
            ("chunks", "milvus", True),
        ]
        assert "@" not in str(body["backends"])  # no user (or password) in the report


def test_killing_one_mid_ingest_loses_nothing_acknowledged(tmp_path_factory, backends, replicas):
    _, b = replicas
    victim = _replica(tmp_path_factory, backends, "victim").start()
    acknowledged: list[str] = []

    def ingest() -> None:
        for start in range(100, 400, 4):
            batch = [_article(i) for i in range(start, start + 4)]
            try:
                r = httpx.post(f"{victim.url}/v1/articles", json={"articles": batch}, timeout=60)
            except httpx.TransportError:
                return
            if r.status_code == 201:
                acknowledged.extend(x["id"] for x in r.json()["articles"])

    thread = threading.Thread(target=ingest)
    thread.start()
    deadline = time.monotonic() + 120
    while len(acknowledged) < 12 and time.monotonic() < deadline:
        time.sleep(0.1)
    victim.kill()
    thread.join()
    assert len(acknowledged) >= 12
    for article_id in acknowledged:
        assert httpx.get(f"{b.url}/v1/articles/{article_id}", timeout=10).status_code == 200
        number = article_id.removeprefix("bai-")
        hits = httpx.post(
            f"{b.url}/v1/search",
            timeout=60,
            json={
                "query": f"Mã tin {number}",
                "mode": "bm25",
                "top_k": 1,
                "filters": {"article_ids": [article_id]},
            },
        ).json()["results"]
        assert hits and hits[0]["article_id"] == article_id


def test_a_backend_that_goes_away_gives_503_and_service_resumes(backends, replicas):
    pg, milvus = backends
    a, _ = replicas
    milvus.stop()
    try:
        started = time.monotonic()
        r = httpx.post(f"{a.url}/v1/search", json={"query": "ủy ban"}, timeout=60)
        assert r.status_code == 503 and "Milvus" in r.json()["error"]["message"]
        assert time.monotonic() - started < 30  # bounded by VNQA_BACKEND_TIMEOUT_S, no hang
        health = httpx.get(f"{a.url}/healthz", timeout=60)
        assert health.status_code == 503 and health.json()["status"] == "unavailable"
        assert httpx.get(f"{a.url}/v1/articles?limit=1", timeout=30).status_code == 200
    finally:
        milvus.start()
    _eventually(lambda: httpx.post(f"{a.url}/v1/search", json={"query": "ủy ban"}, timeout=60))
    pg.stop("immediate")
    try:
        r = httpx.get(f"{a.url}/v1/articles?limit=1", timeout=60)
        assert r.status_code == 503 and "PostgreSQL" in r.json()["error"]["message"]
        health = httpx.get(f"{a.url}/healthz", timeout=60).json()
        assert [b["reachable"] for b in health["backends"]] == [False, True]
    finally:
        pg.start()
    _eventually(lambda: httpx.get(f"{a.url}/healthz", timeout=60))
    assert httpx.get(f"{a.url}/v1/articles?limit=1", timeout=30).status_code == 200


def _eventually(call, limit_s: float = 60.0) -> None:
    """Repeat ``call`` until it answers 200 (the replica recovered) or time runs out."""
    deadline = time.monotonic() + limit_s
    while (response := call()).status_code != 200:
        assert time.monotonic() < deadline, f"the replica did not recover: {response.text}"
        time.sleep(0.5)
