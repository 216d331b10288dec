"""The Milvus backend against the embedded one, and 1 against 2 replicas over HTTP.

    .venv/bin/python bench/scaleout.py [--paragraphs N] [--every N] [--seconds S] [--articles N]

1. Retrieval: the first N ViQuAD dev paragraphs ingested into each backend (embedded;
   Milvus Lite in-process with SQLite articles), every question of those paragraphs
   asked in hybrid mode as written and without diacritics: Hit@1, Hit@5, MRR@10 over
   distinct articles, as ``bench/retrieval.py`` counts them.
2. HTTP: PostgreSQL (Debian's package, a temporary cluster) and ``milvus-lite server``
   on loopback, two ``vnqa serve`` replicas over them. Ingest chunks/s of VietNews
   articles through one replica, then through both at once (the articles split between
   them); then /v1/search and /v1/ask requests/s for 4 and 8 clients against one
   replica and spread round-robin over two.

Everything runs on this machine: both replicas and both backends share its cores,
so the HTTP figures show the overhead of the shared backends more than the gain of a
second machine.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import httpx  # noqa: E402
from quality_data import VIETNEWS, VIQUAD, load_viquad, require_data  # noqa: E402
from retrieval import CachedQueryEmbedder, article_ranking, rank_metrics  # noqa: E402

from index.documents import make_article  # noqa: E402
from models.vietnamese import strip_diacritics  # noqa: E402
from service.core.config import Settings  # noqa: E402
from service.runtime import load_embedder_from, open_index  # noqa: E402

QUESTIONS = [
    "Ai là người đứng đầu?",
    "Sự kiện diễn ra ở đâu?",
    "Giá xăng tăng bao nhiêu?",
    "Nguyên nhân của vụ tai nạn là gì?",
    "Đội tuyển thắng với tỷ số nào?",
]


def retrieval(paragraph_limit: int | None, every: int = 1) -> dict:
    """Hybrid Hit@1/Hit@5/MRR@10 for each backend, accented and unaccented, over every
    ``every``-th question of the paragraphs kept (all of them: ``paragraph_limit`` None)."""
    paragraphs, questions = load_viquad(paragraph_limit)
    questions = questions[::every]
    embedder = CachedQueryEmbedder(load_embedder_from(Settings(summarizer="extractive")))
    gold = [q.paragraph_id for q in questions]
    out: dict = {"paragraphs": len(paragraphs), "questions": len(questions)}
    for backend in ("embedded", "milvus"):
        with tempfile.TemporaryDirectory(prefix="vnqa-bench-") as tmp:
            settings = Settings(
                summarizer="extractive",
                data_dir=Path(tmp),
                index_backend=backend,
                milvus_uri=str(Path(tmp) / "milvus.db"),
                backend_timeout_s=120,  # Milvus Lite's Python search over a whole set is slow
            )
            index = open_index(settings, embedder)
            try:
                started = time.perf_counter()
                index.add_articles(
                    make_article(id=p.id, title=p.title, text=p.text) for p in paragraphs
                )
                ingest_s = time.perf_counter() - started
                row: dict = {"ingest_s": round(ingest_s, 1), "chunks": index.stats().chunks}
                for variant, transform in (("accented", str), ("unaccented", strip_diacritics)):
                    texts = [transform(q.text) for q in questions]
                    embedder.prefetch(texts)
                    started = time.perf_counter()
                    hits = []
                    for n, t in enumerate(texts, 1):
                        hits.append(index.search(t, top_k=20, mode="hybrid"))
                        if n % 100 == 0:
                            print(
                                f"{backend} {variant}: {n}/{len(texts)} searched,"
                                f" {time.perf_counter() - started:.0f} s",
                                file=sys.stderr,
                            )
                    row[f"{variant}_search_ms"] = round(
                        1000 * (time.perf_counter() - started) / max(len(texts), 1), 1
                    )
                    row[variant] = rank_metrics([article_ranking(h) for h in hits], gold)
                out[backend] = row
                print(f"retrieval {backend}: {json.dumps(row)}", file=sys.stderr)
            finally:
                index.close()
    return out


def _vietnews(n: int) -> list[dict]:
    rows = []
    with VIETNEWS.open(encoding="utf-8") as f:
        for i, line in enumerate(itertools.islice(f, n)):
            row = json.loads(line)
            rows.append(
                {
                    "id": f"vn-{i}",
                    "title": row["title"],
                    "text": row["body"],
                    "source": "vietnews-dev",
                }
            )
    return rows


def _ingest(urls: list[str], articles: list[dict], batch: int = 8) -> tuple[int, float]:
    """Post ``articles`` in batches, split over ``urls`` (one thread each): chunks, seconds."""
    chunks = [0] * len(urls)

    def run(n: int) -> None:
        mine = articles[n :: len(urls)]
        for i in range(0, len(mine), batch):
            r = httpx.post(
                f"{urls[n]}/v1/articles", json={"articles": mine[i : i + batch]}, timeout=600
            )
            r.raise_for_status()
            chunks[n] += sum(a["chunks"] for a in r.json()["articles"])

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(urls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(chunks), time.perf_counter() - started


def _load(urls: list[str], path: str, body_key: str, clients: int, seconds: float) -> float:
    """Requests/s of ``clients`` closed-loop clients, client ``c`` on ``urls[c % len]``."""
    done = [0] * clients
    failed = [0] * clients
    stop = time.monotonic() + seconds

    def run(c: int) -> None:
        with httpx.Client(base_url=urls[c % len(urls)], timeout=120) as client:
            for q in itertools.cycle(QUESTIONS):
                if time.monotonic() > stop:
                    return
                if client.post(path, json={body_key: q}).status_code == 200:
                    done[c] += 1
                else:
                    failed[c] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if sum(failed):
        print(f"  {sum(failed)} failed requests on {path}", file=sys.stderr)
    return sum(done) / (time.perf_counter() - started)


def replicas(n_articles: int, seconds: float) -> dict:
    """Ingest and search/ask throughput through one and two replicas."""
    from tests.service.server_process import ServerProcess
    from tests.shared_servers import MilvusLiteServer, PostgresServer

    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="vnqa-bench-") as tmp:
        pg = PostgresServer().init()
        milvus = MilvusLiteServer(Path(tmp) / "milvus").start()
        servers = [
            ServerProcess(
                Path(tmp) / f"r{n}",
                Path(tmp) / f"r{n}.log",
                VNQA_INDEX_BACKEND="milvus",
                VNQA_MILVUS_URI=milvus.uri,
                VNQA_DATABASE_URL=pg.url,
                VNQA_LOG_FORMAT="text",
                VNQA_MODELS_DIR=str(Settings().models_dir.resolve()),
            )
            for n in range(2)
        ]
        try:
            for s in servers:
                s.start()
            urls = [s.url for s in servers]
            articles = _vietnews(2 * n_articles)
            for label, targets, part in (
                ("1 replica", urls[:1], articles[:n_articles]),
                ("2 replicas", urls, articles[n_articles:]),
            ):
                chunks, took = _ingest(targets, part)
                out[f"ingest {label}"] = {
                    "chunks": chunks,
                    "seconds": round(took, 1),
                    "chunks_per_s": round(chunks / took, 1),
                }
                print(f"ingest {label}: {out[f'ingest {label}']}", file=sys.stderr)
            for path, key in (("/v1/search", "query"), ("/v1/ask", "question")):
                _load(urls, path, key, 2, 3.0)  # warm both replicas
                for clients in (4, 8):
                    for label, targets in (("1 replica", urls[:1]), ("2 replicas", urls)):
                        rps = _load(targets, path, key, clients, seconds)
                        out[f"{path} {clients} clients {label}"] = round(rps, 1)
                        print(f"{path} {clients} clients {label}: {rps:.1f} req/s", file=sys.stderr)
        finally:
            for s in servers:
                s.kill()
            milvus.stop()
            pg.destroy()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--paragraphs", type=int, default=60, help="ViQuAD dev paragraphs (0: all 515)"
    )
    parser.add_argument(
        "--every", type=int, default=1, help="ask every N-th question of those paragraphs"
    )
    parser.add_argument("--articles", type=int, default=48, help="VietNews articles per ingest run")
    parser.add_argument("--seconds", type=float, default=10.0, help="per throughput cell")
    parser.add_argument("--skip-retrieval", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args(argv)
    require_data(VIQUAD, VIETNEWS)
    results: dict = {}
    if not args.skip_retrieval:
        results["retrieval"] = retrieval(args.paragraphs or None, args.every)
    if not args.skip_http:
        results["http"] = replicas(args.articles, args.seconds)
    print(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
