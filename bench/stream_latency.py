"""Time to first token and total time of streamed answers from /v1/chat/completions.

    .venv/bin/python bench/stream_latency.py                  # seed + VietNews dev, extractive
    .venv/bin/python bench/stream_latency.py --questions 5    # fewer questions
    VNQA_SUMMARIZER=seq2seq VNQA_SUMMARIZER_MODEL=/path/to/vit5 \
        .venv/bin/python bench/stream_latency.py              # abstractive, streamed tokens

Ingests ``seeds/`` and ``../shared/data/vietnews-dev.jsonl`` into a fresh data folder
(``vnqa ingest``), starts ``vnqa serve`` on a free 127.0.0.1 port, then for each
question (the seed question, then VietNews titles) sends one streamed request and one
plain request and prints, per request and as medians: time to the first byte (the
role chunk), time to the first content token, total streamed time, the number of
content chunks, and the plain request's total. Timings are wall clock on this
machine, which other work shares: compare figures within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from load import free_port  # bench/ is the script's folder, first on sys.path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA = REPO_ROOT.parent / "shared" / "data" / "vietnews-dev.jsonl"
SEED_QUESTION = "Bí thư Tỉnh ủy yêu cầu Công an tỉnh làm gì?"


def _questions(n: int) -> list[str]:
    titles = []
    with DATA.open(encoding="utf-8") as lines:
        for line in lines:
            title = json.loads(line).get("title")
            if title:
                titles.append(title)
            if len(titles) >= n - 1:
                break
    return [SEED_QUESTION, *titles]


def _stream(client: httpx.Client, question: str) -> dict[str, float]:
    body = {"model": "vnqa", "stream": True, "messages": [{"role": "user", "content": question}]}
    started = time.perf_counter()
    first_byte = first_token = None
    chunks = 0
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            now = time.perf_counter() - started
            if first_byte is None:
                first_byte = now
            data = line[6:]
            if data == "[DONE]":
                break
            delta = json.loads(data)["choices"]
            if delta and delta[0]["delta"].get("content"):
                chunks += 1
                if first_token is None:
                    first_token = now
    total = time.perf_counter() - started
    return {
        "first_byte": first_byte or total,
        "first_token": first_token or total,
        "total": total,
        "chunks": chunks,
    }


def _plain(client: httpx.Client, question: str) -> float:
    body = {"model": "vnqa", "messages": [{"role": "user", "content": question}]}
    started = time.perf_counter()
    client.post("/v1/chat/completions", json=body).raise_for_status()
    return time.perf_counter() - started


def main() -> int:
    """Run the measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=10)
    args = parser.parse_args()
    if not DATA.exists():
        print(f"skipped: {DATA} is absent (the VietNews dev set lives in ../shared/data)")
        return 0

    vnqa = [sys.executable, "-m", "service.cli"]
    with tempfile.TemporaryDirectory(prefix="vnqa-stream-bench-") as folder:
        env = {
            **os.environ,
            "VNQA_DATA_DIR": folder,
            "HF_HUB_OFFLINE": "1",
            "VNQA_MODELS_DIR": os.environ.get("VNQA_MODELS_DIR", str(REPO_ROOT / ".models")),
        }
        env.setdefault("VNQA_SUMMARIZER", "extractive")
        subprocess.run(
            [*vnqa, "ingest", str(REPO_ROOT / "seeds"), str(DATA)],
            env=env,
            cwd=REPO_ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        port = free_port()
        server = subprocess.Popen(
            [*vnqa, "serve", "--port", str(port)],
            env=env,
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600)
            deadline = time.monotonic() + 180
            while True:
                try:
                    health = client.get("/healthz").json()
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        print("the server did not start")
                        return 1
                    time.sleep(0.5)
            summarizer = health["models"]["summarizer"]
            print(
                f"index: {health['index']['articles']} articles, {health['index']['chunks']} "
                f"chunks; summarizer: {summarizer['method']} ({summarizer['model']}); "
                f"{os.cpu_count()} CPUs"
            )
            _stream(client, SEED_QUESTION)  # warm-up: first-call costs are not latency
            rows = []
            print(
                f"{'first byte':>10} {'1st token':>10} {'streamed':>10} {'chunks':>6} "
                f"{'plain':>8}  question"
            )
            for question in _questions(args.questions):
                row = _stream(client, question)
                row["plain"] = _plain(client, question)
                rows.append(row)
                print(
                    f"{row['first_byte']:10.3f} {row['first_token']:10.3f} "
                    f"{row['total']:10.3f} {row['chunks']:6d} {row['plain']:8.3f}  "
                    f"{question[:50]}"
                )
            med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
            print(
                f"median over {len(rows)}: first byte {med['first_byte']:.3f} s, "
                f"first token {med['first_token']:.3f} s, streamed total {med['total']:.3f} s "
                f"({med['chunks']:.0f} chunks), plain request {med['plain']:.3f} s"
            )
        finally:
            server.terminate()
            server.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
