"""A real HTTP server on 127.0.0.1 serving saved Vietnamese news pages and an RSS feed.

Pages come from ``tests/fixtures/news``; the feed lists whatever items the test puts
in :attr:`NewsSite.feed_items`, so a test can publish a new item between polls.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "news"
ARTICLE_PAGES = ("mua-lu-quang-tri.html", "cao-toc-bac-nam.html", "gia-lua-dong-thap.html")


@dataclass
class NewsSite:
    """What the server serves; change it while the server runs."""

    base_url: str = ""
    feed_items: list[str] = field(default_factory=list)  # page names, newest last
    redirects: dict[str, str] = field(default_factory=dict)  # path -> Location
    hits: list[str] = field(default_factory=list)
    # path -> seconds: the next request for it waits that long first (once)
    stalls: dict[str, float] = field(default_factory=dict)

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this server."""
        return f"{self.base_url}/{path.lstrip('/')}"

    def feed(self) -> bytes:
        """RSS 2.0 over :attr:`feed_items`, newest first as news sites list them."""
        now = format_datetime(datetime.now(UTC))
        items = "".join(
            f"<item><title>{escape(name)}</title><link>{escape(self.url('news/' + name))}</link>"
            f"<guid>{escape(self.url('news/' + name))}</guid><pubDate>{now}</pubDate></item>"
            for name in reversed(self.feed_items)
        )
        return (
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Tin mới</title><link>{self.base_url}</link>"
            f"<description>Tin mới nhất</description>{items}</channel></rss>"
        ).encode()


def _handler(site: NewsSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet test output
            pass

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - the http.server spelling
            site.hits.append(self.path)
            stall = site.stalls.pop(self.path, 0.0)
            if stall:
                time.sleep(stall)
            if self.path in site.redirects:
                self.send_response(302)
                self.send_header("Location", site.redirects[self.path])
                self.end_headers()
            elif self.path == "/feed.rss":
                self._send(200, site.feed(), "application/rss+xml; charset=utf-8")
            elif self.path.startswith("/news/") and (FIXTURES / self.path[6:]).is_file():
                self._send(200, (FIXTURES / self.path[6:]).read_bytes(), "text/html; charset=utf-8")
            elif self.path == "/big":
                self._send(200, b"<html><body>" + b"x" * 200_000 + b"</body></html>", "text/html")
            elif self.path == "/slow":
                time.sleep(3)
                self._send(200, b"<html></html>", "text/html")
            else:
                self._send(404, b"not found", "text/plain")

    return Handler


@contextmanager
def serving_news() -> Iterator[NewsSite]:
    """Serve a :class:`NewsSite` on a free 127.0.0.1 port for the ``with`` block."""
    site = NewsSite()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    site.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
