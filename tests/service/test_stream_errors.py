"""A failure after a stream's headers are sent is reported in-band, and the stream ends.

The answer generator is made to fail after its first piece (a fault injected into the
real pipeline: retrieval, the composer and the route all run for real). The client
must see the pieces already sent, then an OpenAI-shaped error event, then ``[DONE]``;
never a ``stop`` chunk that would pass a cut answer off as complete.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.api.errors import ApiError
from service.schemas import SEED_QUESTION
from tests.conftest import SEED_ARTICLE


def events(response) -> list:
    out = []
    for line in response.iter_lines():
        if line.startswith("data: "):
            data = line.removeprefix("data: ")
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


@pytest.fixture(scope="module")
def seeded(make_runtime):
    from index.article_files import load_articles

    runtime = make_runtime()
    runtime.index.add_articles(list(load_articles(SEED_ARTICLE)))
    return runtime


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        (RuntimeError("the model crashed"), "internal_error"),
        (ApiError(503, "overloaded", "Too many requests; retry."), "overloaded"),
    ],
)
def test_a_failure_mid_stream_ends_with_an_error_event(seeded, monkeypatch, failure, code):
    real_stream = seeded.answerer.stream

    def failing_stream(draft):
        pieces = real_stream(draft)
        yield next(pieces)
        raise failure

    monkeypatch.setattr(seeded.answerer, "stream", failing_stream)
    body = {
        "model": "vnqa",
        "stream": True,
        "messages": [{"role": "user", "content": SEED_QUESTION}],
    }
    with TestClient(create_app(runtime=seeded)) as client:
        with client.stream("POST", "/v1/chat/completions", json=body) as response:
            assert response.status_code == 200
            got = events(response)
        assert got[-1] == "[DONE]"
        error = got[-2]["error"]
        assert error["code"] == code and error["type"] == "server_error"
        assert "the model crashed" not in error["message"]  # no internals leak
        content = [e for e in got[:-2] if e["choices"][0]["delta"].get("content")]
        assert len(content) == 1  # what was sent before the failure
        assert all(e["choices"][0]["finish_reason"] is None for e in got[:-2])
        monkeypatch.undo()
        # The server keeps serving on the same app afterwards.
        again = client.post("/v1/chat/completions", json={**body, "stream": False})
        assert again.status_code == 200 and again.json()["choices"][0]["finish_reason"] == "stop"
