"""API keys, scopes, open paths and CORS, against the real app."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from service.api.app import create_app
from service.api.observability import JsonFormatter
from service.api.security import required_scope
from service.core.config import Settings, parse_api_keys

WRITER, READER = "writer-key-0123", "reader-key-4567"
ARTICLE = {"id": "auth-1", "text": "Miền Bắc đón đợt không khí lạnh mạnh. Nhiệt độ giảm sâu."}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def keyed(make_runtime):
    """A client over an app with one write key and one read key."""
    runtime = make_runtime(api_keys=f"{WRITER}:write,{READER}:read")
    with TestClient(create_app(runtime=runtime)) as client:
        yield client


def test_v1_needs_a_key(keyed):
    for method, path, body in [
        ("GET", "/v1/articles", None),
        ("POST", "/v1/search", {"query": "không khí lạnh"}),
        ("POST", "/v1/ask", {"question": "Thời tiết thế nào?"}),
        ("POST", "/v1/articles", ARTICLE),
        ("GET", "/v1/not-a-route-yet", None),  # future routes are covered too
    ]:
        response = keyed.request(method, path, json=body)
        assert response.status_code == 401, (path, response.text)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.json()["error"]["code"] == "unauthorized"


def test_invalid_key_is_401_and_wrong_scheme_too(keyed):
    assert keyed.get("/v1/articles", headers=bearer("not-a-real-key")).status_code == 401
    basic = {"Authorization": f"Basic {READER}"}
    assert keyed.get("/v1/articles", headers=basic).status_code == 401


def test_read_key_reads_but_cannot_write(keyed):
    assert keyed.get("/v1/articles", headers=bearer(READER)).status_code == 200
    search = keyed.post("/v1/search", json={"query": "lạnh"}, headers=bearer(READER))
    assert search.status_code == 200
    for method, path in [
        ("POST", "/v1/articles"),
        ("DELETE", "/v1/articles/auth-1"),
        ("POST", "/v1/articles/upload"),
    ]:
        response = keyed.request(method, path, json=ARTICLE, headers=bearer(READER))
        assert response.status_code == 403, (method, path)
        error = response.json()["error"]
        assert error["code"] == "forbidden" and "`write`" in error["message"]


def test_write_key_writes_and_reads(keyed):
    response = keyed.post("/v1/articles", json=ARTICLE, headers=bearer(WRITER))
    assert response.status_code == 201, response.text
    assert keyed.get("/v1/articles/auth-1", headers=bearer(WRITER)).status_code == 200
    assert keyed.delete("/v1/articles/auth-1", headers=bearer(WRITER)).status_code == 200


def test_open_paths_stay_open_and_healthz_reveals_no_text(keyed):
    health = keyed.get("/healthz")
    assert health.status_code == 200
    assert "text" not in health.text  # counts and model names only, no article content
    assert keyed.get("/openapi.json").status_code == 200
    assert keyed.get("/docs").status_code == 200


def test_metrics_need_a_read_key_when_keys_are_set(keyed, make_runtime):
    assert keyed.get("/metrics").status_code == 401
    assert keyed.get("/metrics", headers=bearer(READER)).status_code == 200
    runtime = make_runtime(api_keys=f"{WRITER}:write", metrics_public=True)
    with TestClient(create_app(runtime=runtime)) as public:
        assert public.get("/metrics").status_code == 200
        assert public.get("/v1/articles").status_code == 401


def test_scopes_are_decided_by_route_template_and_deny_by_default():
    # MCP's tools include add_article, so a read key must not reach it.
    assert required_scope("POST", "/mcp", metrics_public=False) == "write"
    assert required_scope("POST", "/v1/articles/upload", metrics_public=False) == "write"
    assert required_scope("DELETE", "/v1/articles/{article_id}", metrics_public=False) == "write"
    assert required_scope("GET", "/v1/articles/{article_id}", metrics_public=False) == "read"
    assert required_scope("POST", "/v1/chat/completions", metrics_public=False) == "read"
    assert required_scope("GET", "/", metrics_public=False) is None
    assert required_scope("GET", "/static/{name}", metrics_public=False) is None
    # A path that reaches no route, or a route nobody listed as open, needs a key.
    assert required_scope("GET", None, metrics_public=False) == "read"
    assert required_scope("GET", "/some/new/route", metrics_public=False) == "read"


def test_every_route_not_listed_as_open_refuses_an_anonymous_request(keyed):
    """Deny by default, checked against the app's real route table."""
    from service.api.routing import iter_routes
    from service.api.security import OPEN_ROUTES

    for route in iter_routes(keyed.app.router.routes):
        path = getattr(route, "path", None)
        if path is None or path in OPEN_ROUTES:
            continue
        concrete = path.replace("{article_id}", "auth-1").replace("{model}", "vnqa")
        method = sorted(getattr(route, "methods", None) or {"POST"})[0]
        response = keyed.request(method, concrete)
        assert response.status_code == 401, (method, path, response.status_code)


def test_no_keys_means_open(make_runtime):
    with TestClient(create_app(runtime=make_runtime())) as client:
        assert client.get("/v1/articles").status_code == 200
        assert client.get("/metrics").status_code == 200


def test_key_configuration_is_checked_without_echoing_keys():
    assert parse_api_keys("abcdefgh:write, ijklmnop:READ") == {
        "abcdefgh": "write",
        "ijklmnop": "read",
    }
    assert parse_api_keys(None) == {}
    for bad in ("abcdefgh", "abcdefgh:admin", "short:read"):
        with pytest.raises(ValidationError) as info:
            Settings(_env_file=None, api_keys=bad)
        assert "VNQA_API_KEYS entry 1" in str(info.value)
    assert "secretkey123" not in repr(Settings(_env_file=None, api_keys="secretkey123:read"))
    with pytest.raises(ValidationError) as info:
        Settings(_env_file=None, api_keys="good-key-1:read,secret-key-2:admin")
    assert "secret-key-2" not in str(info.value) and "good-key-1" not in str(info.value)


def test_keys_never_reach_the_logs(keyed, caplog):
    caplog.set_level(logging.DEBUG)
    keyed.get("/v1/articles", headers=bearer(READER))
    keyed.get("/v1/articles", headers=bearer("wrong-key-value-999"))
    keyed.post("/v1/articles", json=ARTICLE, headers=bearer(READER))
    lines = [JsonFormatter().format(record) for record in caplog.records]
    assert any('"route": "/v1/articles"' in line for line in lines)
    for line in lines:
        assert READER not in line and "wrong-key-value-999" not in line


def test_cors_is_off_unless_origins_are_set(make_runtime):
    preflight = {
        "Origin": "https://toasoan.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    with TestClient(create_app(runtime=make_runtime())) as client:
        response = client.options("/v1/search", headers=preflight)
        assert "access-control-allow-origin" not in response.headers
        plain = client.get("/healthz", headers={"Origin": "https://toasoan.example"})
        assert "access-control-allow-origin" not in plain.headers

    runtime = make_runtime(cors_origins="https://toasoan.example", api_keys=f"{READER}:read")
    with TestClient(create_app(runtime=runtime)) as client:
        response = client.options("/v1/search", headers=preflight)
        assert response.status_code == 200  # a preflight carries no key
        assert response.headers["access-control-allow-origin"] == "https://toasoan.example"
        # Errors carry CORS headers too, so a browser page can read the 401.
        refused = client.get("/v1/articles", headers={"Origin": "https://toasoan.example"})
        assert refused.status_code == 401
        assert refused.headers["access-control-allow-origin"] == "https://toasoan.example"
        other = client.options(
            "/v1/search", headers={**preflight, "Origin": "https://evil.example"}
        )
        assert other.headers.get("access-control-allow-origin") != "https://evil.example"


def test_a_root_path_prefix_does_not_open_a_hole(make_runtime):
    """Behind a proxy that mounts the app under /api, /api/v1/... is still protected."""
    runtime = make_runtime(api_keys=f"{READER}:read")
    with TestClient(create_app(runtime=runtime), root_path="/api") as client:
        assert client.get("/api/v1/articles").status_code == 401
        assert client.get("/api/v1/articles", headers=bearer(READER)).status_code == 200
        assert (
            client.post("/api/v1/articles", json=ARTICLE, headers=bearer(READER)).status_code == 403
        )
