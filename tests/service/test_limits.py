"""Configured limits, and bad input handled on purpose: encodings, HTML, empty text,
Unicode normalization forms and control characters. Rejected requests store nothing."""

from __future__ import annotations

import json
import unicodedata

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from tests.service.test_api import QUESTION, SEED, error_of

LIMITS = {
    "max_body_bytes": 4096,
    "max_text_chars": 1500,
    "max_batch_articles": 3,
    "max_question_chars": 80,
    "max_top_k": 4,
    "max_summary_words": 40,
}


@pytest.fixture(scope="module")
def limited(make_runtime):
    """A client with small limits over an index holding the seed article."""
    from index.article_files import load_articles

    (seed,) = list(load_articles(SEED))
    runtime = make_runtime(**LIMITS)
    with TestClient(create_app(runtime=runtime)) as client:
        # The seed is longer than max_text_chars here: store it below the API.
        runtime.index.add_articles([seed])
        client.seed = seed
        yield client


def snapshot(client) -> dict:
    """Everything stored: counts, every article's metadata and text.

    Summary fields are left out: the background worker moves them from pending to ready
    on its own schedule, whatever the request under test did.
    """
    listing = client.get("/v1/articles", params={"limit": 500}).json()
    texts = {
        a["id"]: _without_summary(client.get(f"/v1/articles/{a['id']}").json())
        for a in listing["articles"]
    }
    return {"health": client.get("/healthz").json()["index"], "articles": texts}


def _without_summary(article: dict) -> dict:
    return {k: v for k, v in article.items() if k not in ("summary_status", "summary")}


def assert_limit(response, status: int, setting: str, value: int) -> None:
    assert response.status_code == status, response.text
    error = error_of(response)
    assert error["code"] in ("limit_exceeded", "payload_too_large")
    assert setting in error["message"] and str(value) in error["message"]
    assert error["limit"] == {"setting": setting, "value": value}


def test_every_limit_is_named_with_its_value(limited):
    long_text = "Hà Nội mùa thu. " * 120  # 1920 characters
    assert_limit(
        limited.post(
            "/v1/articles", content=b"x" * 5000, headers={"Content-Type": "application/json"}
        ),
        413,
        "VNQA_MAX_BODY_BYTES",
        4096,
    )
    assert_limit(
        limited.post("/v1/articles", json={"text": long_text}), 422, "VNQA_MAX_TEXT_CHARS", 1500
    )
    batch = {"articles": [{"text": f"Bài số {i}."} for i in range(4)]}
    assert_limit(limited.post("/v1/articles", json=batch), 422, "VNQA_MAX_BATCH_ARTICLES", 3)
    assert_limit(
        limited.post("/v1/ask", json={"question": "Câu hỏi " * 20}),
        422,
        "VNQA_MAX_QUESTION_CHARS",
        80,
    )
    assert_limit(
        limited.post("/v1/search", json={"query": "tìm " * 30}), 422, "VNQA_MAX_QUESTION_CHARS", 80
    )
    assert_limit(
        limited.post("/v1/search", json={"query": "ma túy", "top_k": 5}), 422, "VNQA_MAX_TOP_K", 4
    )
    assert_limit(
        limited.post("/v1/ask", json={"question": QUESTION, "max_words": 41}),
        422,
        "VNQA_MAX_SUMMARY_WORDS",
        40,
    )
    assert_limit(
        limited.post("/v1/summarize", json={"text": "Một câu. Hai câu.", "max_words": 41}),
        422,
        "VNQA_MAX_SUMMARY_WORDS",
        40,
    )
    assert_limit(
        limited.post("/v1/summarize", json={"text": long_text}), 422, "VNQA_MAX_TEXT_CHARS", 1500
    )


def test_limits_at_the_boundary_are_accepted(limited):
    assert limited.post("/v1/search", json={"query": "ma túy", "top_k": 4}).status_code == 200
    answer = limited.post("/v1/ask", json={"question": QUESTION, "max_words": 40})
    assert answer.status_code == 200  # (extractive summaries keep whole sentences)


def test_body_that_is_not_utf8_is_a_400_that_says_so(limited):
    article = {"id": "cp1258", "text": "Hà Nội mùa thu."}
    latin = json.dumps(article, ensure_ascii=False).encode("cp1258", errors="replace")
    response = limited.post(
        "/v1/articles", content=latin, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_encoding" and "UTF-8" in error["message"]
    raw = b'{"question": "H\xe0 N\xf4\xef"}'
    response = limited.post("/v1/ask", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "UTF-8" in error_of(response)["message"]


def test_html_articles_keep_their_text(limited):
    html = (
        "<!DOCTYPE html><html><head><title>x</title><style>p{color:red}</style></head><body>"
        "<h1>Không khí lạnh</h1><p>Miền Bắc đón <b>đợt không khí lạnh</b> mạnh &amp; rét "
        "đậm.</p><script>alert('x')</script><p>Nhiệt độ thấp nhất 12&nbsp;độ C.</p></body></html>"
    )
    response = limited.post(
        "/v1/articles", json={"id": "html-1", "text": html, "title": "<i>Rét đậm</i>"}
    )
    assert response.status_code == 201, response.text
    stored = limited.get("/v1/articles/html-1").json()
    assert "<" not in stored["text"] and "alert" not in stored["text"]
    assert "color:red" not in stored["text"]
    assert "Miền Bắc đón đợt không khí lạnh mạnh & rét đậm." in stored["text"]
    assert "Không khí lạnh\n\nMiền Bắc" in stored["text"]  # blocks become paragraphs
    assert stored["title"] == "Rét đậm"
    hits = limited.post(
        "/v1/search",
        json={"query": "không khí lạnh rét đậm", "filters": {"article_ids": ["html-1"]}},
    ).json()
    assert hits["results"] and "<" not in hits["results"][0]["text"]
    # Prose with angle brackets is not HTML.
    plain = limited.post("/v1/articles", json={"id": "lt-1", "text": "Nếu x < 5 và y > 3 thì."})
    assert plain.status_code == 201
    assert limited.get("/v1/articles/lt-1").json()["text"] == "Nếu x < 5 và y > 3 thì."


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"text": "<div><script>var a = 1;</script><p> </p></div>"}, "HTML"),
        ({"text": "\x00\x01\u200b\x7f"}, "empty"),
        ({"articles": [{"text": "Bài tốt."}, {"text": "<br/><br/>"}]}, "articles[1]"),
    ],
)
def test_empty_after_cleaning_is_a_422(limited, body, needle):
    response = limited.post("/v1/articles", json=body)
    assert response.status_code == 422, response.text
    assert needle in error_of(response)["message"]


def test_questions_of_control_characters_only_are_a_422(limited):
    for path, field in (("/v1/ask", "question"), ("/v1/search", "query")):
        response = limited.post(path, json={field: "\x00\x07\u200b"})
        assert response.status_code == 422, response.text
        assert field in error_of(response)["message"]


def test_control_characters_are_stripped(limited):
    text = "Hà\x00 Nội\x1b đón\u200b khách\x85 quốc tế.\u202e"
    response = limited.post("/v1/articles", json={"id": "ctl-1", "text": text})
    assert response.status_code == 201
    assert limited.get("/v1/articles/ctl-1").json()["text"] == "Hà Nội đón khách quốc tế."
    # A lone surrogate (valid JSON, not encodable as UTF-8) is dropped, not a 500.
    raw = b'{"id": "ctl-2", "text": "H\\u00e0 N\\u1ed9i \\ud800m\\u00f9a thu."}'
    response = limited.post(
        "/v1/articles", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text
    assert limited.get("/v1/articles/ctl-2").json()["text"] == "Hà Nội mùa thu."


def test_nfd_and_nfc_search_the_same(limited):
    nfd = unicodedata.normalize("NFD", QUESTION)
    assert nfd != QUESTION
    for path, field in (("/v1/search", "query"), ("/v1/ask", "question")):
        for mode in ("hybrid", "bm25", "dense") if path == "/v1/search" else ("hybrid",):
            extra = {"mode": mode} if path == "/v1/search" else {}
            a = limited.post(path, json={field: QUESTION, "top_k": 4, **extra}).json()
            b = limited.post(path, json={field: nfd, "top_k": 4, **extra}).json()
            key = "results" if path == "/v1/search" else "passages"
            assert a[key], (path, mode)
            assert [(p["chunk_id"], round(p["score"], 5)) for p in a[key]] == [
                (p["chunk_id"], round(p["score"], 5)) for p in b[key]
            ], (path, mode)
    # NFD article text is stored as NFC, so offsets and search agree with NFC input.
    text_nfd = unicodedata.normalize("NFD", "Tuyển Việt Nam thắng đậm ở vòng loại.")
    assert limited.post("/v1/articles", json={"id": "nfd-1", "text": text_nfd}).status_code == 201
    stored = limited.get("/v1/articles/nfd-1").json()["text"]
    assert stored == unicodedata.normalize("NFC", text_nfd)
    hits = limited.post(
        "/v1/search", json={"query": "tuyển việt nam thắng", "mode": "bm25", "top_k": 1}
    ).json()["results"]
    assert hits[0]["article_id"] == "nfd-1"


def test_rejected_requests_change_nothing(limited):
    before = snapshot(limited)
    assert before["articles"]
    rejected = [
        limited.post(
            "/v1/articles",
            json={
                "articles": [
                    {"id": "ok-1", "text": "Bài hợp lệ thứ nhất."},
                    {"id": "bad-date", "text": "Bài có ngày sai.", "date": "31/02/2025"},
                ]
            },
        ),
        limited.post(
            "/v1/articles", json={"articles": [{"id": f"b{i}", "text": "Bài."} for i in range(4)]}
        ),
        limited.post("/v1/articles", json={"id": "too-long", "text": "Rất dài. " * 300}),
        limited.post("/v1/articles", json={"id": "empty-html", "text": "<p>\u200b</p>"}),
        limited.post(
            "/v1/articles",
            content=b'{"id": "enc", "text": "\xff\xfe"}',
            headers={"Content-Type": "application/json"},
        ),
        limited.post(
            "/v1/articles",
            content=b"{" + b" " * 5000 + b"}",
            headers={"Content-Type": "application/json"},
        ),
        limited.post("/v1/articles", json={"id": "a/b", "text": "Mã có gạch chéo."}),
        limited.post(
            "/v1/articles",
            content=b'{"id": "trunc", "text": "thi',
            headers={"Content-Type": "application/json"},
        ),
        limited.delete("/v1/articles/khong-co-bai-nay"),
    ]
    assert [r.status_code for r in rejected] == [422, 422, 422, 422, 400, 413, 422, 422, 404]
    assert snapshot(limited) == before


def test_huge_paging_offsets_are_refused_or_empty(limited, make_runtime):
    # Found by schemathesis: an offset past SQLite's 64-bit integers was a 500.
    response = limited.get("/v1/articles", params={"offset": 10**30})
    assert response.status_code == 422
    runtime = make_runtime()
    assert runtime.index.list_articles(offset=10**30, limit=10**30) == ([], 0)
