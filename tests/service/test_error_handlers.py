"""The error handlers and the body guard: each failure class gets its status and shape.

Routes that raise each exception the handlers map are added to the real app, so the
whole middleware stack (request ids, body guard, handlers) answers them.
"""

from __future__ import annotations

import logging

import anyio
import pytest
from fastapi.testclient import TestClient

from index.errors import IndexLockedError, IndexMismatchError
from models.embeddings import ModelNotAvailableError
from service.api.app import create_app

RAISED = {
    "/v1/_raise/mismatch": IndexMismatchError("built with another model; run `vnqa reindex`"),
    "/v1/_raise/locked": IndexLockedError("another process holds the index"),
    "/v1/_raise/model": ModelNotAvailableError("embedding model 'x' is not available"),
    "/v1/_raise/bug": KeyError("secret-internal-detail"),
}


def raiser(exc: Exception):
    async def raise_it() -> None:
        raise exc

    return raise_it


@pytest.fixture(scope="module")
def client(make_runtime):
    app = create_app(runtime=make_runtime())
    for path, exc in RAISED.items():
        app.add_api_route(path, raiser(exc), methods=["GET"])
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("path", "status", "code", "kind"),
    [
        ("/v1/_raise/mismatch", 409, "index_mismatch", "invalid_request_error"),
        ("/v1/_raise/locked", 409, "index_locked", "invalid_request_error"),
        ("/v1/_raise/model", 503, "model_unavailable", "overloaded_error"),
    ],
)
def test_known_failures_get_their_status_code_and_message(client, path, status, code, kind):
    response = client.get(path)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert (error["code"], error["type"]) == (code, kind)
    assert error["message"] == str(RAISED[path])
    assert response.headers["x-request-id"]


def test_a_bug_is_a_500_that_names_the_class_and_leaks_nothing(client, caplog):
    caplog.set_level(logging.ERROR)
    response = client.get("/v1/_raise/bug")
    assert response.status_code == 500
    error = response.json()["error"]
    assert (error["code"], error["type"]) == ("internal_error", "server_error")
    assert "KeyError" in error["message"] and "secret-internal-detail" not in error["message"]
    assert any("unhandled error" in r.getMessage() for r in caplog.records)  # logged for ops


@pytest.mark.parametrize("declared", [b"abc", b"12x", b""])
def test_a_content_length_that_is_not_an_integer_is_400(client, declared):
    from service.api.body_limit import BodySizeLimitMiddleware

    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    async def app(scope, receive, send) -> None:  # never reached
        raise AssertionError("the body guard let a bad Content-Length through")

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/search",
        "headers": [(b"content-length", declared), (b"content-type", b"application/json")],
    }
    anyio.run(BodySizeLimitMiddleware(app, max_bytes=1000), scope, receive, send)
    assert sent[0]["status"] == 400
    assert b"Content-Length header is not an integer" in sent[1]["body"]


def test_a_declared_length_over_the_limit_is_refused_before_reading(make_runtime):
    app = create_app(runtime=make_runtime(max_body_bytes=2048))
    with TestClient(app) as small:
        response = small.post(
            "/v1/search",
            content=b'{"query": "' + b"x" * 4096 + b'"}',
            headers={"content-type": "application/json"},
        )
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["limit"] == {"setting": "VNQA_MAX_BODY_BYTES", "value": 2048}
