"""A real vnqa HTTP server on 127.0.0.1, for tests that drive it with real clients
(the ``openai`` client, the MCP SDK over HTTP, a headless browser)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.conftest import SEED_ARTICLE
from tests.service.server_process import free_port


@dataclass
class LiveServer:
    """Where the server listens and the runtime behind it."""

    url: str
    runtime: object


@contextlib.contextmanager
def serving(runtime) -> Iterator[LiveServer]:
    """uvicorn in a thread on a free 127.0.0.1 port, serving ``runtime``."""
    import uvicorn

    from service.api.app import create_app

    port = free_port()
    config = uvicorn.Config(
        create_app(runtime=runtime), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="vnqa-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live vnqa server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", runtime=runtime)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="session")
def live_server(make_runtime) -> Iterator[LiveServer]:
    """A live server over a fresh data folder holding the seed article."""
    from index.article_files import load_articles

    runtime = make_runtime()
    runtime.index.add_articles(list(load_articles(SEED_ARTICLE)))
    with serving(runtime) as live:
        yield live
