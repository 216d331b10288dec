"""Access control against raw request paths, sent byte for byte over a real socket.

Every route template of the real app is spelled in many ways (trailing control
characters such as ``%0A``, case, doubled or encoded slashes, dot segments, suffixes)
and sent with no key and with a read key to a live server with keys set. No spelling
may reach a protected handler: no 2xx where a key of that scope is missing, no 5xx,
and nothing stored changes. The random part inserts control and bidi characters at
any position of any route's path.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.api.routing import iter_routes
from service.api.security import OPEN_ROUTES
from tests.service.live import LiveServer, serving

WRITER, READER = "writer-key-0123", "reader-key-4567"
STORED_ID = "access-1"
STORED = {"id": STORED_ID, "text": "Miền Bắc đón đợt không khí lạnh mạnh. Nhiệt độ giảm sâu."}
NEW_BODY = '{"id": "access-1", "text": "Bài bị thay thế trái phép. Nội dung mới."}'.encode()

CONTROL = ["%0A", "%0D", "%0D%0A", "%00", "%09", "%0B", "%0C", "%1F", "%7F", "%C2%85"]
BIDI = ["%E2%80%AE", "%E2%80%8B", "%E2%81%A6"]  # RLO, zero-width space, LRI


def spellings(path: str) -> list[str]:
    """Ways of writing ``path`` that a careless check might tell apart from it."""
    variants = [path, path + "/", path.upper(), "/" + path, path.replace("/", "//")]
    variants += [path.replace("/", "%2F"), path.replace("/", "%2f", 2), path + "%2F"]
    variants += ["/." + path, path.replace("/v1/", "/v1/./"), "/static/.." + path]
    variants += [path + ";x", path + "%20", path + "%23", path + "?x=1", path + "#x"]
    variants += [path + c for c in CONTROL + BIDI] + [path + "%0A%0A", c0_inside(path)]
    return variants


def c0_inside(path: str) -> str:
    head, _, tail = path.rpartition("/")
    return f"{head}/%0A{tail}"


def raw_request(live: LiveServer, method: str, target: str, key: str | None) -> int:
    """Send one request with ``target`` as the exact request-target; the status code."""
    host, port = live.url.removeprefix("http://").split(":")
    body = NEW_BODY if method in ("POST", "PUT", "PATCH") else b""
    head = [f"{method} {target} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    if key:
        head.append(f"Authorization: Bearer {key}")
    if body:
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    request = ("\r\n".join(head) + "\r\n\r\n").encode() + body
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request)
        reply = b""
        while b"\r\n" not in reply:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    status_line = reply.split(b"\r\n", 1)[0].decode("latin-1")
    return int(status_line.split()[1]) if status_line.startswith("HTTP/") else 400


@pytest.fixture(scope="module")
def keyed_live(make_runtime) -> Iterator[LiveServer]:
    from index.documents import Article

    runtime = make_runtime(api_keys=f"{WRITER}:write,{READER}:read")
    runtime.index.add_articles([Article(id=STORED["id"], text=STORED["text"])])
    with serving(runtime) as live:
        yield live


def protected_targets(live: LiveServer) -> list[tuple[str, str, str]]:
    """(template, concrete path, method) for every route that needs a key."""
    from service.api.app import create_app

    app = create_app(runtime=live.runtime)
    out = []
    for route in iter_routes(app.router.routes):
        path = getattr(route, "path", None)
        if not path or path in OPEN_ROUTES:
            continue
        concrete = path.replace("{article_id}", STORED_ID).replace("{model}", "vnqa")
        for method in sorted(
            getattr(route, "methods", None) or {"GET", "POST", "DELETE", "OPTIONS"}
        ):
            if method != "HEAD":
                out.append((path, concrete, method))
    return out


def stored_text(live: LiveServer) -> str | None:
    article = live.runtime.index.get_article(STORED_ID)
    return None if article is None else article.text


def test_no_spelling_of_a_protected_path_gets_through(keyed_live):
    refused = 0
    for template, path, method in protected_targets(keyed_live):
        for target in spellings(path):
            status = raw_request(keyed_live, method, target, key=None)
            assert status < 500, (method, target, status)
            assert not 200 <= status < 300, f"anonymous {method} {target} -> {status}"
            if method in ("POST", "PUT", "PATCH", "DELETE") and (
                template.startswith("/v1/articles") or template == "/mcp"
            ):
                status = raw_request(keyed_live, method, target, key=READER)
                assert status < 500, (method, target, status)
                assert not 200 <= status < 300, f"read key {method} {target} -> {status}"
            refused += 1
    assert refused > 300  # the probe really covered the route table
    assert stored_text(keyed_live) == STORED["text"]
    stored, total = keyed_live.runtime.index.list_articles()
    assert total == 1 and stored[0].id == STORED_ID


def test_control_characters_in_a_path_are_400_before_routing(keyed_live):
    for target in ["/v1/articles%0A", "/mcp%0A", "/metrics%0A", "/healthz%0A", "/%00"]:
        assert raw_request(keyed_live, "POST", target, key=WRITER) == 400, target
        assert raw_request(keyed_live, "GET", target, key=None) == 400, target
    # The exact probes of the report: a read key replacing an article, MCP with no key.
    assert raw_request(keyed_live, "POST", "/v1/articles%0A", key=READER) == 400
    assert stored_text(keyed_live) == STORED["text"]


PATH_CHARS = st.sampled_from(CONTROL + BIDI + ["%0A", "%0A", "%00"])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_control_characters_anywhere_never_pass(keyed_live, data):
    targets = protected_targets(keyed_live)
    template, path, method = data.draw(st.sampled_from(targets))
    where = data.draw(st.integers(min_value=1, max_value=len(path)))
    target = path[:where] + data.draw(PATH_CHARS) + path[where:]
    status = raw_request(keyed_live, method, target, key=READER)
    assert status < 500, (method, target, status)
    needs_write = method != "GET" and (template.startswith("/v1/articles") or template == "/mcp")
    if needs_write or "%0" in target or "%1" in target or "%7F" in target:
        assert not 200 <= status < 300, (method, target, status)
