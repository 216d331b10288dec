"""Every article summarized on arrival: stored with the article, stale on a summarizer
change, redone on request, and resumed after a crash (a real SIGKILL)."""

from __future__ import annotations

import time

import httpx
import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from tests.conftest import SEED_ARTICLE
from tests.service.server_process import ServerProcess

LU = {
    "id": "lu-quang-tri",
    "title": "Mưa lũ gây ngập sâu nhiều xã ở Quảng Trị",
    "date": "2025-11-20",
    "source": "tinmientrung.vn",
    "text": "Mưa lớn kéo dài từ đêm 18/11 khiến nước sông Thạch Hãn dâng cao, nhiều xã ven "
    "sông của tỉnh Quảng Trị bị ngập sâu từ một đến hai mét. Theo Ban Chỉ huy phòng chống "
    "thiên tai tỉnh, đến sáng 20/11 đã có hơn 3.200 ngôi nhà bị ngập. Lực lượng quân đội, "
    "công an và dân quân đã sơ tán hơn 1.500 hộ dân ở vùng trũng thấp đến nơi an toàn. "
    "Tỉnh đã xuất kho 50 tấn gạo cứu trợ cho người dân bị cô lập.",
}


def wait_for_status(client, article_id: str, status: str = "ready", limit_s: float = 60.0):
    """Poll GET /v1/articles/{id} until its summary has ``status``; the article."""
    deadline = time.monotonic() + limit_s
    while True:
        article = client.get(f"/v1/articles/{article_id}").json()
        if article["summary_status"] == status:
            return article
        assert time.monotonic() < deadline, f"summary still {article['summary_status']}"
        time.sleep(0.05)


@pytest.fixture
def client(make_runtime):
    with TestClient(create_app(runtime=make_runtime())) as client:
        yield client


def test_an_article_is_summarized_on_arrival_and_stored(client) -> None:
    assert client.post("/v1/articles", json=LU).status_code == 201
    first = client.get("/v1/articles/lu-quang-tri").json()
    assert first["summary_status"] in ("pending", "ready")
    article = wait_for_status(client, "lu-quang-tri")
    summary = article["summary"]
    assert summary["status"] == "ready" and summary["method"] == "extractive"
    assert summary["text"] and summary["text"][:40] in LU["title"] + "\n" + LU["text"]
    assert summary["made_at"] and summary["error"] is None
    listed = client.get("/v1/articles").json()["articles"]
    assert [a["summary_status"] for a in listed if a["id"] == "lu-quang-tri"] == ["ready"]
    # /v1/summarize returns the stored summary (same text), and any other length live.
    again = client.post("/v1/summarize", json={"article_id": "lu-quang-tri"}).json()
    assert again["summary"]["text"] == summary["text"]
    short = client.post("/v1/summarize", json={"article_id": "lu-quang-tri", "max_words": 10})
    assert short.status_code == 200 and len(short.json()["summary"]["text"].split()) <= 12


def test_a_replacement_is_summarized_again_and_the_same_article_is_not(client) -> None:
    client.post("/v1/articles", json=LU)
    made = wait_for_status(client, "lu-quang-tri")["summary"]["made_at"]
    runtime = client.app.state.runtime
    count = runtime.auto_summaries.made
    client.post("/v1/articles", json=LU)  # the same content: the summary stands
    assert client.get("/v1/articles/lu-quang-tri").json()["summary_status"] == "ready"
    changed = {**LU, "text": "Nước sông Thạch Hãn đã rút. " + LU["text"]}
    client.post("/v1/articles", json=changed)
    assert client.get("/v1/articles/lu-quang-tri").json()["summary_status"] in ("pending", "ready")
    wait_for_status(client, "lu-quang-tri")
    deadline = time.monotonic() + 30
    while runtime.auto_summaries.made < count + 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert made is not None


def test_a_summarizer_change_marks_summaries_stale_and_resummarize_redoes_them(
    make_runtime, tiny_seq2seq_dir, tmp_path
) -> None:
    first = make_runtime(data_dir=tmp_path)
    with TestClient(create_app(runtime=first)) as client:
        client.post("/v1/articles", json=LU)
        extractive = wait_for_status(client, "lu-quang-tri")["summary"]
    first.close()

    keys = "reader-key-1:read,writer-key-1:write"
    second = make_runtime(
        data_dir=tmp_path,
        summarizer="seq2seq",
        summarizer_model=str(tiny_seq2seq_dir),
        api_keys=keys,
    )
    with TestClient(create_app(runtime=second)) as client:
        read = {"Authorization": "Bearer reader-key-1"}
        write = {"Authorization": "Bearer writer-key-1"}
        stale = client.get("/v1/articles/lu-quang-tri", headers=read).json()
        assert stale["summary_status"] == "stale"
        assert stale["summary"]["text"] == extractive["text"]  # kept until redone
        live = client.post("/v1/summarize", json={"article_id": "lu-quang-tri"}, headers=read)
        assert live.json()["summary"]["method"] == "abstractive"  # not the stale one
        denied = client.post("/v1/admin/resummarize", json={}, headers=read)
        assert denied.status_code == 403
        done = client.post("/v1/admin/resummarize", json={"which": "stale"}, headers=write)
        assert done.status_code == 200 and done.json() == {"requeued": 1, "which": "stale"}
        deadline = time.monotonic() + 60
        while True:
            article = client.get("/v1/articles/lu-quang-tri", headers=read).json()
            if article["summary_status"] == "ready":
                break
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert article["summary"]["method"] == "abstractive"
        assert article["summary"]["model"] == second.summarizer.model_name


def test_pending_summaries_resume_after_a_crash(tmp_path) -> None:
    articles = [
        {**LU, "id": f"lu-{i}", "text": f"Bản tin số {i}. " + LU["text"]} for i in range(12)
    ]
    server = ServerProcess(
        tmp_path / "data", tmp_path / "first.log", VNQA_AUTO_SUMMARIES="false"
    ).start()
    try:
        answer = httpx.post(f"{server.url}/v1/articles", json={"articles": articles}, timeout=120)
        assert answer.status_code == 201
        pending = httpx.get(f"{server.url}/v1/articles?limit=50").json()["articles"]
        assert {a["summary_status"] for a in pending} == {"pending"}
    finally:
        server.kill()  # SIGKILL: the queue is all that is left of the work
    again = ServerProcess(tmp_path / "data", tmp_path / "second.log").start()
    try:
        deadline = time.monotonic() + 120
        while True:
            listed = httpx.get(f"{again.url}/v1/articles?limit=50").json()["articles"]
            if {a["summary_status"] for a in listed} == {"ready"}:
                break
            assert time.monotonic() < deadline, again.log()
            time.sleep(0.2)
        assert len(listed) == 12
    finally:
        again.terminate()


def test_the_seed_article_title_comes_from_its_lead(client) -> None:
    files = {"file": (SEED_ARTICLE.name, SEED_ARTICLE.read_bytes(), "text/plain")}
    stored = client.post("/v1/articles/upload", files=files).json()["articles"][0]
    title = client.get(f"/v1/articles/{stored['id']}").json()["title"]
    assert title.startswith("Trong 11 tháng đầu năm 2025, Công an tỉnh")
    hits = client.post("/v1/search", json={"query": "Công an tỉnh"}).json()["results"]
    assert hits and hits[0]["title"] == title  # what every citation shows
