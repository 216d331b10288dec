"""The HTTP API end to end: real embedder, real index, real summarizers."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from index.article_files import load_articles
from index.documents import Article
from service.answering import NO_ANSWER_TEXT
from service.api.app import create_app

SEED = Path(__file__).resolve().parents[2] / "seeds" / "nghean-cong-an-2025-11-27.txt"
QUESTION = "Bí thư Tỉnh ủy yêu cầu Công an tỉnh làm gì?"
RESULT_KEYS = {"article_id", "chunk_id", "title", "text", "score", "start", "end", "date", "source"}
VIETNAMESE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I)


def as_json(article: Article) -> dict:
    """An article as the API's request body (nulls left out)."""
    return {k: v for k, v in dataclasses.asdict(article).items() if v is not None}


def error_of(response) -> dict:
    """The ``error`` object of a JSON error response."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"])
    return body["error"]


@pytest.fixture(scope="module")
def seed_article() -> Article:
    (article,) = list(load_articles(SEED))
    return article


@pytest.fixture(scope="module")
def seeded(make_runtime, seed_article):
    """A client over an index holding the seed article, ingested through the API."""
    runtime = make_runtime()
    with TestClient(create_app(runtime=runtime)) as client:
        response = client.post("/v1/articles", json=as_json(seed_article))
        assert response.status_code == 201, response.text
        client.ingest_response = response.json()
        yield client


@pytest.fixture
def client(make_runtime):
    """A client over a fresh, empty index."""
    with TestClient(create_app(runtime=make_runtime())) as client:
        yield client


# -- ingest, list, get, delete -----------------------------------------------------------


def test_ingest_seed_reports_id_and_chunks(seeded, seed_article):
    (stored,) = seeded.ingest_response["articles"]
    assert stored["id"] == seed_article.id
    assert stored["chunks"] > 3


def test_list_and_get(seeded, seed_article):
    page = seeded.get("/v1/articles", params={"offset": 0, "limit": 20}).json()
    assert page["total"] == 1 and page["offset"] == 0 and page["limit"] == 20
    (meta,) = page["articles"]
    assert set(meta) == {
        "id",
        "title",
        "date",
        "source",
        "url",
        "author",
        "chunks",
        "created_at",
        "summary_status",
        "summary",
    }
    assert meta["summary_status"] in ("pending", "ready")
    assert meta["date"] == "2025-11-27"
    assert meta["source"] == "nghean.gov.vn"
    assert meta["author"] == "Phan Quỳnh"

    full = seeded.get(f"/v1/articles/{seed_article.id}")
    assert full.status_code == 200
    assert full.json()["text"] == seed_article.text


def test_delete(client):
    client.post("/v1/articles", json={"id": "tam-thoi", "text": "Bài báo sẽ bị xoá ngay."})
    response = client.delete("/v1/articles/tam-thoi")
    assert response.status_code == 200
    assert response.json() == {"deleted": "tam-thoi"}
    assert client.get("/v1/articles/tam-thoi").status_code == 404
    assert error_of(client.delete("/v1/articles/tam-thoi"))["code"] == "article_not_found"
    assert client.get("/v1/articles").json()["total"] == 0


def test_same_id_replaces(client):
    first = client.post(
        "/v1/articles", json={"id": "thoi-tiet", "text": "Hà Nội có mưa rào vào chiều tối."}
    )
    second = client.post(
        "/v1/articles", json={"id": "thoi-tiet", "text": "Hà Nội nắng nóng, nhiệt độ 38 độ C."}
    )
    assert first.json()["articles"][0]["id"] == second.json()["articles"][0]["id"] == "thoi-tiet"
    assert second.json()["articles"][0]["replaced"] is True
    page = client.get("/v1/articles").json()
    assert page["total"] == 1
    results = client.post("/v1/search", json={"query": "thời tiết Hà Nội"}).json()["results"]
    assert results and all("nắng nóng" in r["text"] for r in results)


def test_batch_ingest(client):
    batch = {
        "articles": [
            {"id": "a", "text": "Giá xăng giảm nhẹ từ 15 giờ.", "source": "vnexpress.net"},
            {"id": "b", "text": "Đội tuyển Việt Nam thắng 2-0.", "date": "02/05/2024"},
        ]
    }
    response = client.post("/v1/articles", json=batch)
    assert response.status_code == 201
    assert [a["id"] for a in response.json()["articles"]] == ["a", "b"]
    assert client.get("/v1/articles/b").json()["date"] == "2024-05-02"


def test_bad_batch_stores_nothing(client):
    batch = {
        "articles": [
            {"id": "tot", "text": "Một bài báo hợp lệ."},
            {"id": "xau", "text": "   "},
        ]
    }
    response = client.post("/v1/articles", json=batch)
    assert response.status_code == 422
    assert "articles[1]" in error_of(response)["message"]
    bad_date = {"articles": [{"text": "Hợp lệ."}, {"text": "Hợp lệ.", "date": "hôm qua"}]}
    response = client.post("/v1/articles", json=bad_date)
    assert response.status_code == 422
    error = error_of(response)
    assert "articles[1]" in error["message"] and "date" in error["message"]
    assert client.get("/v1/articles").json()["total"] == 0


def test_article_without_text_is_rejected(client):
    response = client.post("/v1/articles", json={"title": "Không có nội dung"})
    assert response.status_code == 422
    assert "text" in error_of(response)["message"]


# -- ask and search ---------------------------------------------------------------------


def test_ask_cites_the_secretarys_requests(seeded, seed_article):
    response = seeded.post("/v1/ask", json={"question": QUESTION})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"question", "summary", "answer_sentences", "passages"}
    assert body["question"] == QUESTION

    passages = body["passages"]
    assert 1 <= len(passages) <= 5
    top = passages[0]
    assert "Bí thư Tỉnh ủy yêu cầu" in top["text"]
    closing = seed_article.text.index("Lưu ý về một số hạn chế")
    assert top["end"] > closing  # from the part where the Secretary lists his requests

    text = seed_article.text
    for passage in passages:
        assert RESULT_KEYS | {"highlight"} <= set(passage)
        assert passage["article_id"] == seed_article.id
        assert passage["title"] == seed_article.title
        assert passage["date"] == "2025-11-27"
        assert passage["source"] == "nghean.gov.vn"
        assert text[passage["start"] : passage["end"]] == passage["text"]
        lo, hi = passage["highlight"]
        assert passage["start"] <= lo < hi <= passage["end"]
        assert text[lo:hi].strip() and text[lo:hi] in passage["text"]
    lo, hi = top["highlight"]
    assert "yêu cầu" in text[lo:hi]

    summary = body["summary"]
    assert set(summary) == {"text", "method", "model"}
    assert summary["method"] == "extractive" and summary["model"]
    assert VIETNAMESE.search(summary["text"])
    # A list question: several points, within the list cap (VNQA_ANSWER_LIST_MAX_WORDS).
    assert len(summary["text"].split()) <= 160
    sentences = body["answer_sentences"]
    assert len(sentences) >= 4
    assert summary["text"] == " ".join(s["text"] for s in sentences)
    for sentence in sentences:
        passage = passages[sentence["passage"]]
        assert sentence["article_id"] == passage["article_id"]
        assert passage["start"] <= sentence["start"] < sentence["end"] <= passage["end"]
        source = " ".join(text[sentence["start"] : sentence["end"]].split())
        assert source == sentence["text"].removesuffix("…")


def test_ask_with_no_match_says_so(seeded):
    response = seeded.post(
        "/v1/ask", json={"question": QUESTION, "filters": {"article_ids": ["khong-co"]}}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["passages"] == []
    assert body["summary"]["text"] == NO_ANSWER_TEXT
    assert body["summary"]["method"] == "extractive"


def test_search_shape_and_top_k(seeded):
    response = seeded.post("/v1/search", json={"query": "phòng chống ma túy", "top_k": 2})
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 2
    assert RESULT_KEYS <= set(results[0])
    assert "ma túy" in results[0]["text"]
    assert results[0]["score"] >= results[1]["score"]


@pytest.mark.parametrize(
    ("filters", "expect_hits"),
    [
        ({"sources": ["nghean.gov.vn"]}, True),
        ({"sources": ["vnexpress.net"]}, False),
        ({"date_from": "2025-11-27", "date_to": "2025-11-27"}, True),
        ({"date_from": "2025-12-01"}, False),
        ({"date_to": "2025-11-26"}, False),
        ({"article_ids": ["khong-co"]}, False),
    ],
)
def test_search_filters(seeded, filters, expect_hits):
    response = seeded.post("/v1/search", json={"query": "an ninh trật tự", "filters": filters})
    assert response.status_code == 200, response.text
    assert bool(response.json()["results"]) is expect_hits


def test_search_filter_by_article_id(seeded, seed_article):
    response = seeded.post(
        "/v1/search",
        json={"query": "chuyển đổi số", "filters": {"article_ids": [seed_article.id]}},
    )
    assert {r["article_id"] for r in response.json()["results"]} == {seed_article.id}


# -- summarize ----------------------------------------------------------------------


def test_summarize_text_and_article(seeded, seed_article):
    by_text = seeded.post("/v1/summarize", json={"text": seed_article.text, "max_words": 40})
    assert by_text.status_code == 200
    summary = by_text.json()["summary"]
    assert set(summary) == {"text", "method", "model"} and summary["method"] == "extractive"
    assert summary["text"]
    # Whole sentences only; a lone sentence is cut only beyond twice the budget.
    assert len(summary["text"].split()) <= 2 * 40

    by_id = seeded.post("/v1/summarize", json={"article_id": seed_article.id})
    assert by_id.status_code == 200
    assert VIETNAMESE.search(by_id.json()["summary"]["text"])


@pytest.mark.parametrize(
    "body",
    [{}, {"text": "Một đoạn văn.", "article_id": "x"}, {"text": "  "}, {"max_words": 30}],
)
def test_summarize_needs_exactly_one_source(seeded, body):
    response = seeded.post("/v1/summarize", json=body)
    assert response.status_code == 422
    assert error_of(response)["code"] == "validation_error"


def test_summarize_unknown_article(seeded):
    response = seeded.post("/v1/summarize", json={"article_id": "khong-co"})
    assert response.status_code == 404
    assert "khong-co" in error_of(response)["message"]


# -- errors -------------------------------------------------------------------------


@pytest.mark.parametrize("question", ["", "   \n\t "])
def test_empty_question(seeded, question):
    response = seeded.post("/v1/ask", json={"question": question})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert "question" in error["message"] and "empty" in error["message"]


def test_question_too_long(seeded):
    limit = seeded.app.state.settings.max_question_chars
    response = seeded.post("/v1/ask", json={"question": "an ninh " * (limit // 4)})
    assert response.status_code == 422
    assert str(limit) in error_of(response)["message"]


def test_top_k_limits(seeded):
    limit = seeded.app.state.settings.max_top_k
    too_many = seeded.post("/v1/search", json={"query": "an ninh", "top_k": limit + 1})
    assert too_many.status_code == 422 and str(limit) in error_of(too_many)["message"]
    assert seeded.post("/v1/search", json={"query": "an ninh", "top_k": 0}).status_code == 422


def test_bad_date_filter(seeded):
    response = seeded.post(
        "/v1/search", json={"query": "an ninh", "filters": {"date_from": "27/11/2025"}}
    )
    assert response.status_code == 422
    assert "date_from" in error_of(response)["message"]


def test_unknown_article_and_route(seeded):
    response = seeded.get("/v1/articles/khong-co")
    assert response.status_code == 404
    assert error_of(response)["code"] == "article_not_found"
    assert error_of(seeded.get("/v1/khong-co"))["code"] == "not_found"


def test_invalid_json(seeded):
    response = seeded.post(
        "/v1/ask", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert "JSON" in error_of(response)["message"]


def test_oversized_body(make_runtime):
    runtime = make_runtime(max_body_bytes=1024)
    article = {"text": "Tin tức dài. " * 200}
    with TestClient(create_app(runtime=runtime)) as client:
        declared = client.post("/v1/articles", json=article)
        assert declared.status_code == 413
        error = error_of(declared)
        assert error["code"] == "payload_too_large" and "1024" in error["message"]

        def stream():
            yield b'{"text": "'
            for _ in range(100):
                yield "Tin tức dài. ".encode()
            yield b'"}'

        streamed = client.post(
            "/v1/articles", content=stream(), headers={"Content-Type": "application/json"}
        )
        assert streamed.status_code == 413
        assert error_of(streamed)["code"] == "payload_too_large"

        small = client.post("/v1/articles", json={"text": "Tin ngắn."})
        assert small.status_code == 201
        assert client.get("/v1/articles").json()["total"] == 1


# -- health, docs, lifespan -----------------------------------------------------------


def test_healthz(seeded, embedder):
    response = seeded.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["models"]) == {"embedding", "summarizer"}
    assert body["models"]["embedding"] == {
        "name": embedder.name,
        "source": str(embedder.source),
        "dimension": embedder.dimension,
    }
    summarizer = body["models"]["summarizer"]
    assert set(summarizer) == {"method", "model", "requested", "backend", "fallback_reason"}
    assert summarizer["method"] == "extractive" and summarizer["requested"] == "extractive"
    assert summarizer["backend"] is None  # only a seq2seq model has one
    assert body["index"]["articles"] == 1 and body["index"]["chunks"] > 3


def test_openapi_docs(seeded):
    assert seeded.get("/docs").status_code == 200
    schema = seeded.get("/openapi.json").json()
    assert {"/v1/articles", "/v1/search", "/v1/ask", "/v1/summarize", "/healthz"} <= set(
        schema["paths"]
    )


def test_lifespan_builds_and_closes_runtime(monkeypatch, embedder, tmp_path):
    from service.api import app as app_module
    from service.core.config import Settings
    from service.runtime import build_runtime

    built = []

    def build(settings):
        runtime = build_runtime(settings, embedder=embedder)
        built.append(runtime)
        return runtime

    monkeypatch.setattr(app_module, "build_runtime", build)
    settings = Settings(data_dir=tmp_path, summarizer="extractive", _env_file=None)
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/healthz").json()["index"] == {"articles": 0, "chunks": 0}
    assert len(built) == 1
    assert app.state.runtime is None
    # Closed: the index lock is free, so the folder opens again.
    build(settings).close()


# -- the seq2seq path ----------------------------------------------------------------


def test_abstractive_summaries(make_runtime, tiny_seq2seq_dir, seed_article):
    runtime = make_runtime(summarizer="seq2seq", summarizer_model=str(tiny_seq2seq_dir))
    with TestClient(create_app(runtime=runtime)) as client:
        health = client.get("/healthz").json()["models"]["summarizer"]
        assert health["method"] == "abstractive" and health["requested"] == "seq2seq"
        assert health["fallback_reason"] is None
        assert health["backend"] == "ctranslate2-int8"  # converted on first use
        client.post("/v1/articles", json=as_json(seed_article))
        body = client.post("/v1/ask", json={"question": QUESTION, "max_words": 20}).json()
        assert body["summary"]["method"] == "abstractive"
        assert body["summary"]["model"] == health["model"]
        assert "Bí thư Tỉnh ủy yêu cầu" in body["passages"][0]["text"]
        summary = client.post("/v1/summarize", json={"article_id": seed_article.id}).json()
        assert summary["summary"]["method"] == "abstractive"
        hits = runtime.summary_cache.hits
        again = client.post("/v1/summarize", json={"article_id": seed_article.id}).json()
        assert again == summary and runtime.summary_cache.hits == hits + 1


def test_engine_errors_map_to_status_codes(make_runtime):
    from index.documents import ArticleFormatError
    from index.errors import IndexMismatchError

    app = create_app(runtime=make_runtime())

    def mismatch():
        raise IndexMismatchError("stored vectors differ; run `vnqa reindex`")

    def bad_article():
        raise ArticleFormatError("field 'text' is empty", where="x.jsonl:3")

    app.add_api_route("/test/mismatch", mismatch)
    app.add_api_route("/test/bad-article", bad_article)
    with TestClient(app) as client:
        response = client.get("/test/mismatch")
        assert response.status_code == 409
        assert "vnqa reindex" in error_of(response)["message"]
        response = client.get("/test/bad-article")
        assert response.status_code == 422
        assert error_of(response) == {
            "code": "invalid_article",
            "message": "x.jsonl:3: field 'text' is empty",
            "type": "invalid_request_error",
        }
