"""Attack and bad-day probe of a real ``vnqa serve``: what issue 8's review tried, again.

    .venv/bin/python bench/probe.py [--out probe.json]

Starts ``python -m service.cli serve`` over a temporary data folder with one write key
and one read key, then sends, as an attacker or an unlucky client would:

* every route of the app in some 30 spellings (trailing ``%0A``, ``%0D``, ``%00`` and
  other control or bidi characters, case, doubled and encoded slashes, dot segments,
  suffixes), raw over a socket, with no key and with the read key;
* lone surrogates in an article id, in ``filters.article_ids``, in a summarize
  ``article_id``, in a question and in chat content; ids ``.``, ``..`` and with bidi
  controls; dates with trailing junk;
* uploads of JSON nested 100,000 deep, an integer of 5,000 digits, 200,000 JSONL lines;
* a batch of 100 articles whose 81st is invalid; an article of 40,000 short lines.

Every article acknowledged with 201 is remembered; at the end the server is stopped
with SIGTERM, started again, and each must be there with its text. Printed: requests
tried, 5xx seen, unauthorized writes (a 2xx to a write without the ``write`` scope),
acknowledged articles lost, and the seconds the 40,000-line article took. Needs no
data from ``../shared``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from load import start_server  # noqa: E402

WRITER, READER = "probe-writer-key-0001", "probe-reader-key-0002"
WRITE_TEMPLATES = ("/v1/articles", "/mcp")
CONTROL = ["%0A", "%0D", "%0D%0A", "%00", "%09", "%0B", "%1F", "%7F", "%C2%85", "%0A%0A"]
BIDI = ["%E2%80%AE", "%E2%80%8B", "%E2%81%A6"]
TEXT = "Miền Bắc đón đợt không khí lạnh mạnh. Nhiệt độ thấp nhất 12 độ C ở vùng núi."


class Probe:
    """Sends requests and keeps the counts."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.host, port = url.removeprefix("http://").split(":")
        self.port = int(port)
        self.http = httpx.Client(base_url=url, timeout=600)
        self.tried = 0
        self.statuses: Counter[int] = Counter()
        self.five_xx: list[str] = []
        self.unauthorized_writes: list[str] = []
        self.acked: dict[str, str] = {}  # id -> text of every article answered 201

    def note(self, what: str, status: int) -> int:
        self.tried += 1
        self.statuses[status] += 1
        if (status >= 500 and status != 503) or status == 0:  # 0: the connection was dropped
            self.five_xx.append(f"{what} -> {status or 'connection dropped'}")
        return status

    def raw(self, method: str, target: str, key: str | None, body: bytes = b"") -> int:
        head = [
            f"{method} {target} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Connection: close",
        ]
        if key:
            head.append(f"Authorization: Bearer {key}")
        if body:
            head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        with socket.create_connection((self.host, self.port), timeout=60) as sock:
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
            reply = b""
            while b"\r\n" not in reply and (chunk := sock.recv(4096)):
                reply += chunk
        line = reply.split(b"\r\n", 1)[0].decode("latin-1")
        status = int(line.split()[1]) if line.startswith("HTTP/") else 0
        return self.note(f"{method} {target}", status)

    def json(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        key: str = WRITER,
        raw: bytes | None = None,
        files: dict | None = None,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"}
        if raw is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = self.http.request(
                method, path, content=raw, json=body, files=files, headers=headers
            )
        except httpx.TransportError as exc:  # a 500 that also dropped the connection
            response = httpx.Response(0, json={"error": {"message": repr(exc)}})
        self.note(f"{method} {path}", response.status_code)
        return response

    def store(self, articles: list[dict]) -> httpx.Response:
        response = self.json("POST", "/v1/articles", {"articles": articles})
        if response.status_code == 201:  # acknowledged: it must survive
            for article in articles:
                self.acked[article["id"]] = article["text"]
        return response


def spellings(path: str) -> list[str]:
    variants = [
        path,
        path + "/",
        path.upper(),
        "/" + path,
        path.replace("/", "//"),
        path.replace("/", "%2F"),
        path + "%2F",
        "/." + path,
        "/static/.." + path,
        path + ";x",
        path + "%20",
        path + "%23",
        path + "?x=1",
    ]
    variants += [path + c for c in CONTROL + BIDI]
    head, _, tail = path.rpartition("/")
    return variants + [f"{head}/%0A{tail}"]


def probe_paths(p: Probe, routes: list[tuple[str, str]]) -> None:
    body = json.dumps({"id": "stored-1", "text": "Bài bị thay thế trái phép."}).encode()
    for template, method in routes:
        concrete = template.replace("{article_id}", "stored-1").replace("{model}", "vnqa")
        concrete = concrete.replace("{name}", "app.js")
        is_write = method in ("POST", "PUT", "PATCH", "DELETE") and template.startswith(
            WRITE_TEMPLATES
        )
        for target in spellings(concrete):
            for key in (None, READER):
                status = p.raw(method, target, key, body if method == "POST" else b"")
                if (
                    200 <= status < 300
                    and (is_write or key is None)
                    and not template.startswith(
                        ("/healthz", "/static", "/docs", "/openapi", "/redoc")
                    )
                    and template != "/"
                ):
                    p.unauthorized_writes.append(f"{method} {target} key={key} -> {status}")


def probe_bad_input(p: Probe) -> None:
    lone = "\ud800"
    raw = lambda obj: json.dumps(obj).encode()  # noqa: E731  (\ud800 stays an escape)
    p.json("POST", "/v1/articles", raw=raw({"id": f"x{lone}", "text": TEXT}))
    p.json("POST", "/v1/search", raw=raw({"query": "lạnh", "filters": {"article_ids": [lone]}}))
    p.json("POST", "/v1/ask", raw=raw({"question": f"Thời tiết {lone}?"}))
    p.json("POST", "/v1/summarize", raw=raw({"article_id": lone}))
    p.json(
        "POST",
        "/v1/chat/completions",
        raw=raw({"model": "vnqa", "messages": [{"role": "user", "content": f"lạnh {lone}"}]}),
    )
    for bad_id in (".", "..", "a\u202eb", "\u2066x\u2069", "a/b", " "):
        p.json("POST", "/v1/articles", {"id": bad_id, "text": TEXT})
    for bad_date in ("2025-11-27x", "2025-11-27T00:00:00junk", "2025-02-30", "27/11/2025"):
        p.json("POST", "/v1/articles", {"id": "dated", "text": TEXT, "date": bad_date})
        p.json("POST", "/v1/search", {"query": "lạnh", "filters": {"date_from": bad_date}})
    deep = ("[" * 100_000 + "]" * 100_000).encode()
    p.json("POST", "/v1/articles/upload", files={"file": ("deep.json", deep)})
    p.json(
        "POST",
        "/v1/articles/upload",
        files={"file": ("big.json", b'{"id": "n", "text": ' + b"9" * 5000 + b"}")},
    )
    lines = b"\n".join(json.dumps({"id": f"l{i}", "text": "Câu."}).encode() for i in range(200_000))
    p.json("POST", "/v1/articles/upload", files={"file": ("many.jsonl", lines)})


def probe_batches(p: Probe) -> dict:
    before = p.json("GET", "/healthz").json()["index"]["articles"]
    batch = [{"id": f"batch-{i}", "text": f"Bài số {i}. {TEXT}"} for i in range(100)]
    batch[80] = {"id": "batch-80", "text": "   "}
    refused = p.store(batch)
    after = p.json("GET", "/healthz").json()["index"]["articles"]
    lines = "\n".join(f"Dòng {i}." for i in range(40_000))
    started = time.perf_counter()
    long = p.store([{"id": "long-lines", "text": lines}])
    took = time.perf_counter() - started
    good = [{"id": f"good-{i}", "text": f"Tin số {i}. {TEXT}"} for i in range(50)]
    p.store(good)
    return {
        "partial_batch_status": refused.status_code,
        "articles_stored_by_the_failed_batch": after - before,
        "long_article_status": long.status_code,
        "long_article_s": round(took, 2),
    }


def lost_after_restart(p: Probe, process, data_dir: Path, log_path: Path) -> list[str]:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=300)
    process, url = start_server(data_dir, log_path)
    try:
        with httpx.Client(
            base_url=url, timeout=60, headers={"Authorization": f"Bearer {READER}"}
        ) as http:
            lost = []
            for article_id, text in p.acked.items():
                response = http.get(f"/v1/articles/{article_id}")
                p.note("GET after restart", response.status_code)
                if response.status_code != 200 or response.json().get("text") != text:
                    lost.append(article_id)
            return lost
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=300)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="vnqa-probe-"))
    os.environ.update(
        {"VNQA_API_KEYS": f"{WRITER}:write,{READER}:read", "VNQA_SUMMARIZER": "extractive"}
    )
    log_path = folder / "server.log"
    process, url = start_server(folder / "data", log_path)
    try:
        p = Probe(url)
        p.store([{"id": "stored-1", "text": TEXT}])
        spec = p.json("GET", "/openapi.json").json()
        routes = [(path, method.upper()) for path, ops in spec["paths"].items() for method in ops]
        routes += [("/mcp", "POST"), ("/mcp", "GET"), ("/metrics", "GET"), ("/", "GET")]
        probe_paths(p, routes)
        probe_bad_input(p)
        batches = probe_batches(p)
        stored = p.json("GET", "/v1/articles/stored-1", key=READER).json().get("text")
        replaced = stored != TEXT
        lost = lost_after_restart(p, process, folder / "data", log_path)
    finally:
        if process.poll() is None:
            process.kill()
    result = {
        "requests_tried": p.tried,
        "five_xx": len(p.five_xx),
        "unauthorized_writes": len(p.unauthorized_writes) + int(replaced),
        "acknowledged_articles": len(p.acked),
        "acknowledged_lost": len(lost),
        **batches,
        "statuses": dict(sorted(p.statuses.items())),
        "examples_5xx": p.five_xx[:10],
        "examples_unauthorized": p.unauthorized_writes[:10],
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
