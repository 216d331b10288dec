"""Load test: bounded concurrent clients against a real ``vnqa serve`` on 127.0.0.1.

    .venv/bin/python bench/load.py [--concurrency 1,4,16] [--duration 20] [--articles 100]
                                   [--mix search=0.6,ask=0.3,ingest=0.1] [--url URL] [--out F]

Without ``--url`` the script starts ``python -m service.cli serve`` over a temporary data
folder (default settings: ``VNQA_INFERENCE_WORKERS``, ``VNQA_MAX_QUEUE`` and the rest
come from the environment), ingests ``--articles`` VietNews dev articles through the
API, then for each concurrency level runs that many clients in a closed loop for
``--duration`` seconds: each client picks search, ask or ingest (one new article) by
the mix, waits for the answer, and goes again. Queries are VietNews titles and summary
sentences. Reported per level: requests, throughput, p50/p95/p99 latency (overall and
per operation, and per operation again without the first second's burst, when all
clients send at once), status counts, 5xx other than 503 (must be 0) and 503s (deliberate
shedding, with ``Retry-After``). Data come from ``../shared/data`` (``VNQA_BENCH_DATA``);
the script exits with a message when they are absent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from quality_data import VIETNEWS, load_vietnews, require_data  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0–1) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def free_port() -> int:
    """A TCP port nothing listens on right now (the benchmarks' one copy)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(data_dir: Path, log_path: Path) -> tuple[subprocess.Popen, str]:
    """``vnqa serve`` on a free port; returns the process and its URL once healthy."""
    port = free_port()
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "VNQA_DATA_DIR": str(data_dir),
        "VNQA_MODELS_DIR": os.environ.get("VNQA_MODELS_DIR", str(REPO_ROOT / ".models")),
        "VNQA_LOG_FORMAT": "json",
    }
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"server exited ({process.returncode}); see {log_path}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    process.kill()
    sys.exit(f"server did not start; see {log_path}")


def as_article(row: dict, article_id: str) -> dict:
    """A VietNews row as the API's article body."""
    return {"id": article_id, "title": row["title"], "text": row["body"], "source": "vietnews-dev"}


class Workload:
    """Picks operations by the mix and builds their requests."""

    def __init__(self, rows: list[dict], seeded: int, mix: dict[str, float], seed: int) -> None:
        self.rows = rows
        self.queries = [r["title"] for r in rows[:seeded]] + [
            r["summary"].split(". ")[0] for r in rows[:seeded]
        ]
        self.ops = list(mix)
        self.weights = [mix[o] for o in self.ops]
        self.random = random.Random(seed)
        self.next_ingest = 0

    def pick(self) -> tuple[str, str, dict]:
        """``(operation, path, json body)`` for the next request."""
        op = self.random.choices(self.ops, self.weights)[0]
        if op == "search":
            return op, "/v1/search", {"query": self.random.choice(self.queries), "top_k": 5}
        if op == "ask":
            return op, "/v1/ask", {"question": self.random.choice(self.queries), "top_k": 3}
        row = self.rows[self.next_ingest % len(self.rows)]
        self.next_ingest += 1
        return op, "/v1/articles", as_article(row, f"load-{self.next_ingest:05d}")


async def run_level(
    url: str, clients: int, duration: float, workload: Workload, headers: dict[str, str]
) -> dict:
    """``clients`` closed-loop clients for ``duration`` seconds; the level's figures."""
    records: list[tuple[str, int, float, bool]] = []  # op, status, seconds, retry-after
    began: list[float] = []  # when each record's request was sent, from the level's start
    level_start = time.perf_counter()
    deadline = level_start + duration
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits, headers=headers) as http:

        async def client() -> None:
            while time.perf_counter() < deadline:
                op, path, body = workload.pick()
                started = time.perf_counter()
                try:
                    response = await http.post(path, json=body)
                    status = response.status_code
                    retry = "retry-after" in response.headers
                except httpx.TransportError:
                    status, retry = 599, False
                records.append((op, status, time.perf_counter() - started, retry))
                began.append(started - level_start)
                if status == 503:  # do as told: wait, then retry
                    await asyncio.sleep(float(response.headers.get("retry-after", 1)))

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - started

    def summary(rows: list[tuple[str, int, float, bool]]) -> dict:
        ok = [s for _, status, s, _ in rows if status < 400]
        return {
            "requests": len(rows),
            "ok": len(ok),
            "p50_ms": round(percentile(ok, 0.50) * 1000, 1),
            "p95_ms": round(percentile(ok, 0.95) * 1000, 1),
            "p99_ms": round(percentile(ok, 0.99) * 1000, 1),
            "mean_ms": round(statistics.fmean(ok) * 1000, 1) if ok else None,
        }

    statuses: dict[int, int] = {}
    for _, status, _, _ in records:
        statuses[status] = statuses.get(status, 0) + 1
    shed = [r for r in records if r[1] == 503]
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "throughput_rps": round(sum(1 for r in records if r[1] < 400) / elapsed, 2),
        **summary(records),
        "by_operation": {op: summary([r for r in records if r[0] == op]) for op in workload.ops},
        # The same, without the requests sent in the first second, when every client
        # sends its first request at once (a burst a real client population staggers).
        "by_operation_after_1s": {
            op: summary([r for r, t in zip(records, began, strict=True) if r[0] == op and t >= 1])
            for op in workload.ops
        },
        "statuses": dict(sorted(statuses.items())),
        "server_errors_5xx_not_503": sum(1 for r in records if r[1] >= 500 and r[1] != 503),
        "shed_503": len(shed),
        "shed_with_retry_after": sum(1 for r in shed if r[3]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--articles", type=int, default=100, help="VietNews articles seeded")
    parser.add_argument("--mix", default="search=0.6,ask=0.3,ingest=0.1")
    parser.add_argument("--url", help="an already running server (not started here)")
    parser.add_argument("--api-key", default=os.environ.get("VNQA_BENCH_API_KEY"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args()
    require_data(VIETNEWS)
    rows = load_vietnews()
    mix = {k: float(v) for k, v in (p.split("=") for p in args.mix.split(","))}
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}

    tmp = Path(tempfile.mkdtemp(prefix="vnqa-load-"))
    process = None
    if args.url:
        url = args.url.rstrip("/")
    else:
        process, url = start_server(tmp / "data", tmp / "server.log")
        print(f"server {url} (log {tmp / 'server.log'})", file=sys.stderr)
    try:
        seeded = min(args.articles, len(rows))
        started = time.perf_counter()
        with httpx.Client(base_url=url, timeout=600, headers=headers) as http:
            for i in range(0, seeded, 10):
                batch = [
                    as_article(r, f"vietnews-{i + j:04d}")
                    for j, r in enumerate(rows[i : min(i + 10, seeded)])
                ]
                http.post("/v1/articles", json={"articles": batch}).raise_for_status()
            health = http.get("/healthz").json()
        seed_s = time.perf_counter() - started
        print(
            f"seeded {health['index']['articles']} articles, {health['index']['chunks']} "
            f"chunks in {seed_s:.1f}s",
            file=sys.stderr,
        )
        workload = Workload(rows, seeded, mix, args.seed)
        levels = []
        for clients in (int(c) for c in args.concurrency.split(",")):
            level = asyncio.run(run_level(url, clients, args.duration, workload, headers))
            levels.append(level)
            ops = "  ".join(
                f"{op} p50 {v['p50_ms']} p95 {v['p95_ms']} ms (n={v['requests']})"
                for op, v in level["by_operation"].items()
            )
            print(
                f"clients {clients:3d}: {level['throughput_rps']:6.2f} req/s  "
                f"p50 {level['p50_ms']} p95 {level['p95_ms']} p99 {level['p99_ms']} ms  "
                f"5xx(not 503) {level['server_errors_5xx_not_503']}  503 {level['shed_503']}"
                f"  statuses {level['statuses']}\n             {ops}"
            )
            later = level["by_operation_after_1s"]
            print(
                "             sent after the first second: "
                + "  ".join(
                    f"{op} p50 {v['p50_ms']} p95 {v['p95_ms']} ms" for op, v in later.items()
                )
            )
        result = {
            "seeded_articles": health["index"]["articles"],
            "seeded_chunks": health["index"]["chunks"],
            "seed_seconds": round(seed_s, 1),
            "duration_s": args.duration,
            "mix": mix,
            "cpu_count": os.cpu_count(),
            "levels": levels,
        }
        if args.out:
            args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
        print(json.dumps(result, ensure_ascii=False))
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=120)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
