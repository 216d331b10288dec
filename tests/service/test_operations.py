"""Request ids, JSON access logs, Prometheus metrics and the index's start-up repair."""

from __future__ import annotations

import json
import logging
import re

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.api.observability import JsonFormatter
from tests.service.synthetic import synthetic_articles


@pytest.fixture(scope="module")
def client(make_runtime):
    with TestClient(create_app(runtime=make_runtime())) as client:
        client.post("/v1/articles", json={"articles": synthetic_articles(3)}).raise_for_status()
        yield client


def test_request_id_is_kept_when_sane_and_made_otherwise(client):
    kept = client.get("/healthz", headers={"X-Request-ID": "req-42.abc:7"})
    assert kept.headers["X-Request-ID"] == "req-42.abc:7"
    for bad in ("has spaces in it", "x" * 200, "<script>", ""):
        response = client.get("/healthz", headers={"X-Request-ID": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"]), bad
    first = client.get("/healthz").headers["X-Request-ID"]
    assert first != client.get("/healthz").headers["X-Request-ID"]
    # Errors carry it too.
    assert client.get("/v1/articles/khong-co").headers["X-Request-ID"]


def test_one_json_access_line_per_request(client, caplog):
    caplog.set_level(logging.INFO, logger="vnqa.access")
    client.get("/v1/articles/syn-0001", headers={"X-Request-ID": "trace-me-1"})
    records = [r for r in caplog.records if r.name == "vnqa.access"]
    assert len(records) == 1
    line = JsonFormatter().format(records[0])
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["request_id"] == "trace-me-1"
    assert entry["method"] == "GET" and entry["status"] == 200
    assert entry["route"] == "/v1/articles/{article_id}"  # the template, not the id
    assert isinstance(entry["latency_ms"], float) and entry["level"] == "info"
    assert "text" not in entry and "headers" not in entry  # no bodies, no headers


def test_metrics_cover_requests_index_and_models(client):
    client.post("/v1/search", json={"query": "hội nghị"})
    client.post("/v1/ask", json={"question": "Ai phát biểu tại hội nghị?"})
    # An extractive answer is composed without the summarizer; a summary uses it.
    client.post("/v1/summarize", json={"article_id": "syn-0001"})
    client.get("/v1/articles/khong-co")
    text = client.get("/metrics").text
    samples = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    assert samples['vnqa_http_requests_total{method="POST",route="/v1/search",status="200"}'] >= 1
    assert (
        samples[
            'vnqa_http_requests_total{method="GET",route="/v1/articles/{article_id}",status="404"}'
        ]
        >= 1
    )
    assert samples['vnqa_http_request_duration_seconds_count{method="POST",route="/v1/ask"}'] >= 1
    assert samples["vnqa_index_articles"] == 3
    assert samples["vnqa_index_chunks"] >= 3
    for model, operation in [
        ("embedder", "embed_queries"),
        ("embedder", "embed_passages"),
        ("summarizer", "summarize"),
    ]:
        key = f'vnqa_model_seconds_count{{model="{model}",operation="{operation}"}}'
        assert samples[key] >= 1, key
    for operation in ("search", "answer", "add_articles"):
        assert samples[f'vnqa_inference_seconds_count{{operation="{operation}"}}'] >= 1
    assert samples['vnqa_offload_in_flight{lane="inference"}'] == 0
    # Route templates keep the label set small: ids never become labels.
    assert "khong-co" not in text


def test_startup_repairs_an_index_whose_parts_disagree(tmp_path, embedder):
    """Vectors missing, vectors extra, a half-written temp file and an unreadable FAISS
    file are all repaired from SQLite, the source of truth, when the index opens."""
    from index.documents import make_article
    from index.engine import ArticleIndex

    def article(i: int):
        fields = synthetic_articles(1, start=i)[0]
        fields.pop("tag")
        return make_article(**fields)

    with ArticleIndex.open(tmp_path, embedder) as index:
        index.add_articles([article(1), article(2)])
    stale_faiss = (tmp_path / "dense.faiss").read_bytes()  # holds articles 1 and 2
    with ArticleIndex.open(tmp_path, embedder) as index:
        index.delete_article("syn-0001")
        index.add_articles([article(3)])
    # A crash after SQLite committed but before FAISS was saved: FAISS is stale (an extra
    # vector for the deleted article, none for the new one), and a temp file is left.
    (tmp_path / "dense.faiss").write_bytes(stale_faiss)
    (tmp_path / ".dense.faiss.abc123.tmp").write_bytes(b"half written")
    with ArticleIndex.open(tmp_path, embedder) as index:
        dense_ids = {h.article_id for h in index.search("hội nghị", top_k=50, mode="dense")}
        assert dense_ids == {"syn-0002", "syn-0003"}
    assert not list(tmp_path.glob(".*.tmp"))
    # An unreadable vector file is rebuilt from the store.
    (tmp_path / "dense.faiss").write_bytes(b"not a faiss index")
    with ArticleIndex.open(tmp_path, embedder) as index:
        dense_ids = {h.article_id for h in index.search("hội nghị", top_k=50, mode="dense")}
        assert dense_ids == {"syn-0002", "syn-0003"}
