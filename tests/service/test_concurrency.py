"""Reads keep being answered during a large ingest; overload is shed with 503 + Retry-After."""

from __future__ import annotations

import threading
import time

from fastapi.testclient import TestClient

from service.api.app import create_app
from tests.service.synthetic import synthetic_articles


def wait_until(condition, what: str, limit_s: float = 60.0) -> None:
    """Poll ``condition`` (a liveness guard, not a timing assertion)."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.005)


def test_searches_and_asks_are_answered_during_a_large_ingest(make_runtime):
    articles = synthetic_articles(129)  # two commit groups, four model batches
    with TestClient(create_app(runtime=make_runtime())) as client:
        app = client.app
        client.post("/v1/articles", json=articles[0]).raise_for_status()
        ingest: dict = {}

        def run_ingest() -> None:
            ingest["response"] = client.post("/v1/articles", json={"articles": articles[1:]})

        writer = threading.Thread(target=run_ingest)
        writer.start()
        wait_until(lambda: app.state.write_offload.in_flight == 1, "the ingest to start")
        during, statuses = 0, []
        while writer.is_alive():
            for path, body in (
                ("/v1/search", {"query": articles[0]["title"], "top_k": 3}),
                ("/v1/ask", {"question": "Ai đã phát biểu tại hội nghị?", "top_k": 2}),
                ("/v1/search", {"query": "hội nghị", "mode": "bm25"}),
            ):
                response = client.post(path, json=body)
                statuses.append(response.status_code)
                # Counted only when the ingest was still running as the answer arrived.
                during += app.state.write_offload.in_flight == 1
        writer.join()
        assert ingest["response"].status_code == 201, ingest["response"].text
        assert set(statuses) == {200}
        # The model is shared one batch at a time, first come first served, so reads
        # get their turn between the ingest's batches instead of after all of them.
        assert during >= 1, "no read was answered while the ingest ran"
        # Every article of the ingest is searchable afterwards.
        assert client.get("/healthz").json()["index"]["articles"] == len(articles)
        tag = articles[-1]["tag"]
        hits = client.post("/v1/search", json={"query": tag, "mode": "bm25", "top_k": 1}).json()
        assert hits["results"][0]["article_id"] == articles[-1]["id"]


def test_overload_is_shed_with_503_and_retry_after(make_runtime):
    runtime = make_runtime(inference_workers=1, max_queue=1)
    with TestClient(create_app(runtime=runtime)) as client:
        app = client.app
        client.post("/v1/articles", json=synthetic_articles(1)[0]).raise_for_status()
        offload = app.state.offload
        # Occupy the only worker and the only queue slot with calls that wait on a gate,
        # through the app's real offloader (what a slow inference would do).
        gate = threading.Event()
        held = [client.portal.start_task_soon(offload, gate.wait) for _ in range(2)]
        wait_until(lambda: offload.in_flight == 2, "the worker and the queue to fill")
        try:
            asked = client.post("/v1/ask", json={"question": "Hội nghị bàn gì?"})
            assert asked.status_code == 503
            assert asked.headers["Retry-After"].isdigit()
            error = asked.json()["error"]
            assert error["code"] == "overloaded" and "VNQA_MAX_QUEUE=1" in error["message"]
            summarized = client.post("/v1/summarize", json={"text": "Hội nghị bàn việc. " * 5})
            assert summarized.status_code == 503
            # Searches have their own lane: never queued behind (nor shed for) asks.
            assert client.post("/v1/search", json={"query": "hội nghị"}).status_code == 200
            # Health and cheap reads are not queued behind inference.
            assert client.get("/healthz").status_code == 200
            assert client.get("/v1/articles").status_code == 200
            # Writes have their own lane and are not shed by read overload.
            created = client.post("/v1/articles", json=synthetic_articles(2)[1])
            assert created.status_code == 201
            metrics = client.get("/metrics").text
            assert 'vnqa_offload_shed{lane="inference"} 2.0' in metrics
            assert 'vnqa_offload_shed{lane="search"} 0.0' in metrics
        finally:
            gate.set()
            for future in held:
                future.result(timeout=30)
        assert offload.in_flight == 0
        assert client.post("/v1/ask", json={"question": "Hội nghị bàn gì?"}).status_code == 200


def test_searches_are_shed_on_their_own_lane(make_runtime):
    runtime = make_runtime(inference_workers=1, max_queue=0)
    with TestClient(create_app(runtime=runtime)) as client:
        lane = client.app.state.search_offload
        gate = threading.Event()
        held = client.portal.start_task_soon(lane, gate.wait)
        wait_until(lambda: lane.in_flight == 1, "the search worker to fill")
        try:
            refused = client.post("/v1/search", json={"query": "hội nghị"})
            assert refused.status_code == 503 and refused.headers["Retry-After"].isdigit()
            assert refused.json()["error"]["code"] == "overloaded"
        finally:
            gate.set()
            held.result(timeout=30)
        assert client.post("/v1/search", json={"query": "hội nghị"}).status_code == 200


def test_a_search_runs_while_asks_and_an_ingest_fill_their_lanes(make_runtime, monkeypatch):
    """Asks saturate the inference lane and an ingest's model batch waits for a CPU
    slot because a search holds the only one: the searches are answered, and the
    ingest resumes only once no search runs (ordering, not timing)."""
    from models.priority import GATE

    monkeypatch.setattr(GATE, "max_wait_s", 600.0)  # the ingest waits for the searches
    monkeypatch.setattr(GATE, "slots", 1)  # one core: a running search fills it
    articles = synthetic_articles(40)
    # Two workers per lane: one search is held, the other answers the searches below.
    with TestClient(create_app(runtime=make_runtime(inference_workers=2))) as client:
        app = client.app
        client.post("/v1/articles", json=articles[0]).raise_for_status()
        inference = app.state.offload
        asks_gate, search_gate = threading.Event(), threading.Event()
        held_asks = [client.portal.start_task_soon(inference, asks_gate.wait) for _ in range(3)]
        # A long search holds the interactive class (through the app's search lane).
        held_search = client.portal.start_task_soon(app.state.search_offload, search_gate.wait)
        wait_until(lambda: inference.in_flight == 3, "the asks to fill the inference lane")
        wait_until(lambda: GATE.running_counts()["interactive"] >= 1, "the search to run")
        yields = GATE.yields
        ingest: dict = {}
        writer = threading.Thread(
            target=lambda: ingest.update(
                response=client.post("/v1/articles", json={"articles": articles[1:]})
            )
        )
        writer.start()
        try:
            wait_until(lambda: GATE.yields > yields, "the ingest to yield to the search")
            # While it waits, more searches are answered; the ingest stays parked.
            for _ in range(3):
                found = client.post("/v1/search", json={"query": articles[0]["title"]})
                assert found.status_code == 200 and found.json()["results"]
            assert app.state.write_offload.in_flight == 1 and "response" not in ingest
        finally:
            search_gate.set()
            held_search.result(timeout=30)
            asks_gate.set()
            for future in held_asks:
                future.result(timeout=30)
        writer.join(timeout=300)
        assert ingest["response"].status_code == 201, ingest["response"].text
        assert client.get("/healthz").json()["index"]["articles"] == len(articles)


def test_readers_never_see_a_half_applied_write(tmp_path, embedder):
    """Searches racing replaces and deletes: no error, and every hit is a chunk of an
    article as stored at that moment (FAISS, BM25 and SQLite changed together)."""
    from index.documents import make_article
    from index.engine import ArticleIndex

    def article(i: int, version: int):
        fields = synthetic_articles(1, start=i)[0]
        fields.pop("tag")
        fields["text"] += f" Phiên bản {version}."
        return make_article(**fields)

    errors: list[BaseException] = []
    searches = 0
    with ArticleIndex.open(tmp_path, embedder) as index:
        index.add_articles([article(i, 0) for i in range(4)])
        stop = threading.Event()

        def reader(mode: str) -> None:
            nonlocal searches
            try:
                while not stop.is_set():
                    for hit in index.search("hội nghị phiên bản", top_k=8, mode=mode):
                        stored = index.get_article(hit.article_id)
                        # A hit may be of a version replaced since; never of a torn write.
                        assert hit.text.startswith("Sáng nay, tại"), hit.text
                        assert stored is None or hit.text.split(" Phiên bản")[0] in stored.text
                    searches += 1
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        readers = [threading.Thread(target=reader, args=(m,)) for m in ("dense", "bm25")]
        for thread in readers:
            thread.start()
        for version in range(1, 4):
            index.add_articles([article(i, version) for i in range(4)])  # replace all
            index.delete_article(f"syn-{version % 4:04d}")
            index.add_articles([article(version % 4, version)])
        stop.set()
        for thread in readers:
            thread.join(timeout=60)
        assert not errors, errors[0]
        assert searches > 0
        assert index.stats().articles == 4
        assert len(index.search("hội nghị", top_k=50, mode="dense")) == 4
        assert len(index.search("hội nghị", top_k=50, mode="bm25")) == 4


def test_the_gil_switch_interval_is_set_while_the_server_runs(make_runtime):
    import sys

    before = sys.getswitchinterval()
    runtime = make_runtime(gil_switch_ms=0.5)
    with TestClient(create_app(runtime=runtime)) as client:
        assert sys.getswitchinterval() == 0.0005  # VNQA_GIL_SWITCH_MS
        assert client.get("/healthz").status_code == 200
    assert sys.getswitchinterval() == before
