"""Hostile input on every route that takes ids, dates, batches and files (issue 8,
findings 5, 6 and 8; issue 16): a clear 4xx naming what to fix, never a 500, and a
refused request stores nothing. The upload route's limits and bad files too."""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi.testclient import TestClient

import service.api.routes.upload as upload_route
from service.api.app import create_app
from tests.service.test_api import SEED, error_of
from tests.service.test_limits import assert_limit, snapshot

LIMITS = {"max_body_bytes": 400_000, "max_text_chars": 1500, "max_batch_articles": 100}
S = "\ud800"  # a lone surrogate: valid in JSON ("\\ud800"), not encodable as UTF-8


@pytest.fixture(scope="module")
def client(make_runtime):
    """A client (server errors as responses) over an index holding the seed article."""
    from index.article_files import load_articles

    runtime = make_runtime(**LIMITS)
    with TestClient(create_app(runtime=runtime), raise_server_exceptions=False) as client:
        runtime.index.add_articles(list(load_articles(SEED)))
        yield client


def post_json(client, path: str, body) -> object:
    """POST ``body`` as ASCII JSON, so lone surrogates travel as ``\\ud800`` escapes."""
    return client.post(path, content=json.dumps(body), headers={"Content-Type": "application/json"})


def upload(client, name: str, data: bytes):
    return client.post("/v1/articles/upload", files={"file": (name, data, "text/plain")})


# -- ids, dates and lone surrogates (finding 5) -------------------------------------------


@pytest.mark.parametrize(
    ("article_id", "needle"),
    [
        ("x" + S, "lone surrogate"),
        (".", "reserved"),
        ("..", "reserved"),
        (" .. ", "reserved"),
        ("ab\u202ecd", "U+202E"),  # right-to-left override
        ("ab\u2066cd", "U+2066"),  # left-to-right isolate
        ("ab\u200bcd", "U+200B"),  # zero-width space
        ("ab\u2028cd", "U+2028"),  # line separator
        ("ab\x1bcd", "U+001B"),
        ("a/b", "'/'"),
    ],
)
def test_bad_ids_are_a_422_naming_the_character(client, article_id, needle):
    response = post_json(client, "/v1/articles", {"id": article_id, "text": "Bài viết."})
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["code"] == "invalid_article"
    assert "'id'" in error["message"] and needle in error["message"]


@pytest.mark.parametrize(
    "date",
    [
        "2025-11-27junk",
        "2025-11-27T25:00",
        "2025-11-27 hôm nay",
        "2025-11-27T08:00:00+07:00 x",
        "٢٠٢٥-١١-٢٧",
    ],
)
def test_dates_with_trailing_junk_are_a_422(client, date):
    response = post_json(client, "/v1/articles", {"text": "Bài viết.", "date": date})
    assert response.status_code == 422, response.text
    assert "'date'" in error_of(response)["message"]


def test_iso_dates_with_a_time_are_accepted(client):
    response = post_json(
        client,
        "/v1/articles",
        {"id": "dated", "text": "Bài có giờ.", "date": "2025-11-27T08:30:00Z"},
    )
    assert response.status_code == 201, response.text
    assert client.get("/v1/articles/dated").json()["date"] == "2025-11-27"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/search", {"query": "an ninh", "filters": {"article_ids": [S]}}, "article_ids"),
        ("/v1/ask", {"question": "an ninh", "filters": {"article_ids": ["ok", S]}}, "article_ids"),
        ("/v1/summarize", {"article_id": "x" + S}, "article_id"),
        ("/v1/search", {"query": "an ninh", "filters": {"date_from": "2025-01-01x"}}, "date_from"),
    ],
)
def test_lone_surrogates_in_lookups_are_a_422(client, path, body, field):
    response = post_json(client, path, body)
    assert response.status_code == 422, response.text
    assert field in error_of(response)["message"]


def test_lone_surrogates_in_text_fields_are_cleaned(client):
    sources = post_json(client, "/v1/search", {"query": "an ninh", "filters": {"sources": [S]}})
    assert sources.status_code == 200 and sources.json()["results"] == []
    chat = post_json(
        client,
        "/v1/chat/completions",
        {
            "model": "vnqa" + S,
            "messages": [{"role": "user", "content": "Công an tỉnh " + S + "làm gì?"}],
        },
    )
    assert chat.status_code == 200, chat.text
    body = chat.json()
    assert body["model"] == "vnqa" and S not in body["vnqa"]["retrieval_query"]
    parts = post_json(
        client,
        "/v1/chat/completions",
        {
            "messages": [{"role": "user", "content": [{"type": "text", "text": S + "An ninh?"}]}],
        },
    )
    assert parts.status_code == 200, parts.text


def test_lookups_still_find_stored_ids_written_differently(client):
    assert (
        post_json(client, "/v1/articles", {"id": "Hà-Nội", "text": "Bài Hà Nội."}).status_code
        == 201
    )
    nfd = "Ha\u0300-No\u0323\u0302i"  # the same id in NFD, with spaces around
    response = post_json(client, "/v1/summarize", {"article_id": f" {nfd} "})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "path", ["/v1/articles", "/v1/search", "/v1/summarize", "/v1/chat/completions"]
)
@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"text": "x.", "id": ' + b"9" * 5000 + b"}", "4300 digits"),
    ],
)
def test_json_bodies_python_cannot_read_are_a_400_saying_why(client, path, body, needle):
    response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert needle in error_of(response)["message"]


# -- batches (finding 6) --------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"id": "b80" + S, "text": "Bài lỗi."},
        {"id": "..", "text": "Bài lỗi."},
        {"id": "b80\u202e", "text": "Bài lỗi."},
        {"id": "b80", "text": "Bài lỗi.", "date": "2025-11-27junk"},
        {"id": "b80", "text": "<p>\u200b</p>"},
    ],
)
def test_a_batch_with_one_bad_article_stores_nothing(client, bad):
    before = snapshot(client)
    articles = [{"id": f"batch-{i}", "text": f"Bài số {i} về an ninh trật tự."} for i in range(100)]
    articles[80] = bad
    response = post_json(client, "/v1/articles", {"articles": articles})
    assert response.status_code == 422, response.text
    assert "articles[80]" in error_of(response)["message"]
    assert snapshot(client) == before
    hits = post_json(
        client, "/v1/search", {"query": "Bài số 3 về an ninh trật tự", "mode": "bm25", "top_k": 5}
    ).json()["results"]
    assert not [h for h in hits if h["article_id"].startswith("batch-")]


# -- uploads: limits and bad files (finding 8, issue 16) -------------------------------


def jsonl(n: int, start: int = 0) -> bytes:
    return "".join(
        json.dumps({"id": f"up-{i}", "text": f"Bài tải lên số {i}."}) + "\n"
        for i in range(start, start + n)
    ).encode()


def test_upload_over_the_batch_limit_names_the_limit(client):
    before = snapshot(client)
    for name, data in (
        ("many.jsonl", jsonl(101)),
        ("many.json", json.dumps([{"text": f"Bài {i}."} for i in range(150)]).encode()),
    ):
        response = upload(client, name, data)
        assert_limit(response, 422, "VNQA_MAX_BATCH_ARTICLES", 100)
        assert "more than 100" in error_of(response)["message"]
    assert snapshot(client) == before


def test_upload_count_is_checked_before_the_rest_is_parsed(client):
    # 101 good lines, then lines that are not JSON: the count refuses the file first.
    response = upload(client, "early.jsonl", jsonl(101) + b"{not json\n" * 5000)
    assert_limit(response, 422, "VNQA_MAX_BATCH_ARTICLES", 100)


def test_upload_at_the_batch_limit_is_stored(client):
    response = upload(client, "exact.jsonl", jsonl(100, start=1000))
    assert response.status_code == 201, response.text
    assert len(response.json()["articles"]) == 100


def test_upload_of_a_long_article_names_the_limit(client):
    before = snapshot(client)
    body = json.dumps({"articles": [{"text": "Ngắn."}, {"text": "Rất dài. " * 200}]}).encode()
    response = upload(client, "long.json", body)
    assert_limit(response, 422, "VNQA_MAX_TEXT_CHARS", 1500)
    assert "article 2" in error_of(response)["message"]
    response = upload(client, "long.txt", ("Câu rất dài. " * 200).encode())
    assert_limit(response, 422, "VNQA_MAX_TEXT_CHARS", 1500)
    assert snapshot(client) == before


def test_upload_over_the_body_limit_is_a_413_naming_the_limit(client):
    response = upload(client, "huge.txt", b"a" * 400_001)
    assert_limit(response, 413, "VNQA_MAX_BODY_BYTES", 400_000)


@pytest.mark.parametrize(
    ("name", "data", "code", "needle"),
    [
        ("bai.pdf", b"%PDF-1.4", "unsupported_file_type", "bai.pdf"),
        ("noext", b"Bai.", "unsupported_file_type", "noext"),
        ("latin.txt", "Hà Nội".encode("cp1258", errors="replace"), "invalid_article", "UTF-8"),
        ("bad.json", b'{"text": "thi', "invalid_article", "line 1, column"),
        ("bad.jsonl", jsonl(2) + b"{oops}\n", "invalid_article", "bad.jsonl:3"),
        ("deep.json", b"[" * 100_000 + b"]" * 100_000, "invalid_article", "nested too deeply"),
        ("deep.jsonl", b"[" * 100_000 + b"]" * 100_000 + b"\n", "invalid_article", "deep.jsonl:1"),
        (
            "bigint.json",
            b'{"id": ' + b"9" * 5000 + b', "text": "x."}',
            "invalid_article",
            "5000 digits",
        ),
        (
            "bigint.jsonl",
            b'{"text": "x.", "n": -' + b"9" * 5000 + b"}\n",
            "invalid_article",
            "5000 digits",
        ),
        ("empty.txt", b"", "invalid_article", "empty"),
        ("blank.jsonl", b"\n\n  \n", "invalid_article", "no article"),
        ("scalar.json", b"42", "invalid_article", "expected an object"),
        ("notext.json", b'{"title": "x"}', "invalid_article", "'text'"),
        (
            "badid.jsonl",
            jsonl(1) + json.dumps({"id": "..", "text": "x."}).encode() + b"\n",
            "invalid_article",
            "badid.jsonl:2",
        ),
        (
            "surrogate.json",
            b'{"id": "a\\ud800", "text": "x."}',
            "invalid_article",
            "lone surrogate",
        ),
        ("date.json", b'{"text": "x.", "date": "2025-11-27zz"}', "invalid_article", "'date'"),
    ],
)
def test_bad_upload_files_are_a_422_that_stores_nothing(client, name, data, code, needle):
    before = snapshot(client)
    response = upload(client, name, data)
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["code"] == code and needle in error["message"], error
    assert snapshot(client) == before


def test_upload_is_parsed_off_the_event_loop(client, monkeypatch):
    """Parsing runs in a worker thread: no event loop is running where it runs."""
    seen: list[bool] = []
    parse = upload_route.parse_file

    def watched(data: bytes, name: str):
        try:
            asyncio.get_running_loop()
            seen.append(True)
        except RuntimeError:
            seen.append(False)
        return parse(data, name)

    monkeypatch.setattr(upload_route, "parse_file", watched)
    response = upload(client, "thread.jsonl", jsonl(2, start=5000))
    assert response.status_code == 201, response.text
    assert seen == [False]


# -- the same rules over MCP ------------------------------------------------------------


def test_mcp_tools_apply_the_same_id_and_text_rules(make_runtime):
    """``add_article``, ``summarize`` and ``search`` refuse what the HTTP API refuses, as
    tool errors whose text says what to fix, and store nothing."""
    import anyio
    from mcp.server.mcpserver.exceptions import ToolError

    from service.core.config import Settings
    from service.mcp_server import build_mcp_server

    runtime = make_runtime(**LIMITS)
    server = build_mcp_server(lambda: runtime, Settings(_env_file=None, **LIMITS))

    async def call(tool: str, arguments: dict) -> tuple[bool, str]:
        """(refused, message or result)."""
        try:
            return False, str(await server.call_tool(tool, arguments))
        except ToolError as exc:
            return True, str(exc)

    async def calls() -> None:
        for article_id, needle in (
            ("..", "reserved"),
            ("a\u202eb", "U+202E"),
            ("x" + S, "surrogate"),
        ):
            refused, text = await call("add_article", {"text": "Bài.", "id": article_id})
            assert refused and needle in text, text
        refused, text = await call("add_article", {"text": "Bài.", "date": "2025-11-27xx"})
        assert refused and "'date'" in text, text
        refused, text = await call("summarize", {"article_id": "x" + S})
        assert refused and "lone surrogate" in text, text
        refused, text = await call("search", {"query": "an ninh", "date_from": "2025-01-01x"})
        assert refused and "date_from" in text, text
        refused, text = await call("search", {"query": "an ninh" + S, "sources": [S]})
        assert not refused, text
        assert runtime.index.stats().articles == 0

    anyio.run(calls)
