"""Summaries on arrival: what they cost the ingest, and how fast the worker goes.

    .venv/bin/python bench/auto_summaries.py [--articles 40] [--rounds 2] [--drain 300]

1. ``POST /v1/articles`` latency with summaries on arrival vs off: a real ``vnqa serve``
   (extractive summarizer) per round, rounds alternating off, on, off, on… over fresh
   data folders; each round posts ``--articles`` VietNews dev articles one at a time,
   a client that sends the next as soon as the last is answered (the worker gets only
   the gaps, or waits ``VNQA_SUMMARY_MAX_DEFER_S``). Printed: mean, p50, p95 per mode,
   and on/off ratios (target: within 10%).
2. Articles summarized per second by the worker's own path (claim a batch, summarize
   with the service's extractive summarizer, store the batch in one transaction), over
   ``--drain`` VietNews dev articles queued in a fresh store (no embedding involved).
3. With ``--searches N``: search latency while the worker works a backlog vs once it
   is done. A server without summaries stores ``--backlog`` articles; a restart with
   summaries on finds them all pending and works them while a client sends ``N``
   searches one after another; then ``N`` more searches with the queue empty.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from load import as_article, percentile, start_server  # noqa: E402
from quality_data import VIETNEWS, load_vietnews, require_data  # noqa: E402


def ingest_round(rows: list[dict], auto: bool, folder: Path, tag: str) -> tuple[list[float], float]:
    """Post ``rows`` one by one to a fresh server; latencies (s) and the wait for summaries."""
    os.environ["VNQA_AUTO_SUMMARIES"] = "true" if auto else "false"
    os.environ["VNQA_SUMMARIZER"] = "extractive"
    process, url = start_server(folder / f"data-{tag}", folder / f"server-{tag}.log")
    latencies: list[float] = []
    try:
        with httpx.Client(timeout=120) as client:
            # one warm-up article: first-request costs are not the ingest's
            client.post(f"{url}/v1/articles", json=as_article(rows[0], f"warm-{tag}"))
            for i, row in enumerate(rows):
                started = time.perf_counter()
                answer = client.post(f"{url}/v1/articles", json=as_article(row, f"{tag}-{i}"))
                latencies.append(time.perf_counter() - started)
                assert answer.status_code == 201, answer.text
            started = time.perf_counter()
            while auto:
                page = client.get(f"{url}/v1/articles", params={"limit": 500}).json()
                if all(a["summary_status"] == "ready" for a in page["articles"]):
                    break
                time.sleep(0.1)
            settle = time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=120)
    return latencies, settle


def searches_during_backlog(
    rows: list[dict], backlog: int, n: int, folder: Path
) -> tuple[list[float], list[float], int]:
    """Search latencies (s) while a backlog is summarized and after; summaries made during."""
    os.environ["VNQA_SUMMARIZER"] = "extractive"
    os.environ["VNQA_AUTO_SUMMARIES"] = "false"
    process, url = start_server(folder / "data-backlog", folder / "server-backlog-1.log")
    try:
        with httpx.Client(timeout=300) as client:
            batch = [as_article(r, f"b-{i}") for i, r in enumerate(rows[:backlog])]
            assert client.post(f"{url}/v1/articles", json={"articles": batch}).status_code == 201
    finally:
        process.terminate()
        process.wait(timeout=120)
    os.environ["VNQA_AUTO_SUMMARIES"] = "true"
    process, url = start_server(folder / "data-backlog", folder / "server-backlog-2.log")
    queries = [r["title"] for r in rows[:n]]
    during: list[float] = []
    after: list[float] = []
    try:
        with httpx.Client(timeout=120) as client:
            for q in queries:
                started = time.perf_counter()
                client.post(f"{url}/v1/search", json={"query": q, "top_k": 5})
                during.append(time.perf_counter() - started)
            page = client.get(f"{url}/v1/articles", params={"limit": 500}).json()["articles"]
            made_during = sum(1 for a in page if a["summary_status"] == "ready")
            while any(a["summary_status"] != "ready" for a in page):
                time.sleep(0.2)
                page = client.get(f"{url}/v1/articles", params={"limit": 500}).json()["articles"]
            for q in queries:
                started = time.perf_counter()
                client.post(f"{url}/v1/search", json={"query": q, "top_k": 5})
                after.append(time.perf_counter() - started)
    finally:
        process.terminate()
        process.wait(timeout=120)
    return during, after, made_during


def drain_rate(rows: list[dict]) -> tuple[int, float]:
    """Articles summarized per second by :meth:`AutoSummaries.drain` (the worker's path)."""
    from index.store import ArticleStore, NewArticle
    from index.summary_store import SqliteSummaryStore
    from service.auto_summaries import AutoSummaries
    from service.core.config import Settings
    from service.runtime import build_summarizer_from

    folder = Path(tempfile.mkdtemp(prefix="vnqa-drain-"))
    try:
        store = ArticleStore(folder / "store.sqlite3")
        queue = SqliteSummaryStore(store)
        store.replace_articles(
            [
                NewArticle(f"a{i}", r["title"], r["body"], None, None, None, None, [])
                for i, r in enumerate(rows)
            ]
        )
        settings = Settings(_env_file=None, summarizer="extractive")
        summarizer = build_summarizer_from(settings).summarizer
        worker = AutoSummaries(
            queue, summarizer, max_words=settings.summary_max_words, batch=settings.summary_batch
        )
        started = time.perf_counter()
        done = worker.drain()
        elapsed = time.perf_counter() - started
        assert queue.status_counts() == {"ready": len(rows)}
        store.close()
        return done, elapsed
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    """Run the ingest rounds and the drain; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2, help="rounds per mode, alternating")
    parser.add_argument("--drain", type=int, default=300)
    parser.add_argument("--searches", type=int, default=0)
    parser.add_argument("--backlog", type=int, default=150)
    parser.add_argument("--skip-ingest", action="store_true")
    args = parser.parse_args()
    require_data(VIETNEWS)
    rows = load_vietnews(None, VIETNEWS)
    print(f"CPU: {os.cpu_count()} cores")
    done, elapsed = drain_rate(rows[: args.drain]) if args.drain else (0, 1.0)
    print(
        f"worker drain: {done} articles in {elapsed:.1f} s = {done / elapsed:.1f} articles/s "
        "(extractive, one thread)"
    )
    folder = Path(tempfile.mkdtemp(prefix="vnqa-auto-bench-"))
    if args.searches:
        try:
            during, after, made = searches_during_backlog(rows, args.backlog, args.searches, folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        print(
            f"searches while {args.backlog} summaries were pending ({made} made meanwhile): "
            f"mean {statistics.mean(during) * 1000:.0f} ms, p50 "
            f"{percentile(during, 0.5) * 1000:.0f} ms, p95 {percentile(during, 0.95) * 1000:.0f}"
            f" ms; with the queue empty: mean {statistics.mean(after) * 1000:.0f} ms, p50 "
            f"{percentile(after, 0.5) * 1000:.0f} ms, p95 {percentile(after, 0.95) * 1000:.0f}"
            f" ms; ratio of means {statistics.mean(during) / statistics.mean(after):.3f}"
        )
    if args.skip_ingest:
        return
    folder = Path(tempfile.mkdtemp(prefix="vnqa-auto-bench-"))
    by_mode: dict[bool, list[float]] = {False: [], True: []}
    try:
        for r in range(args.rounds):
            for auto in (False, True):
                start = (2 * r + auto) * args.articles % max(1, len(rows) - args.articles)
                part = rows[start : start + args.articles]
                latencies, settle = ingest_round(part, auto, folder, f"{r}-{int(auto)}")
                by_mode[auto].extend(latencies)
                print(
                    f"round {r} summaries {'on ' if auto else 'off'}: mean "
                    f"{statistics.mean(latencies) * 1000:.0f} ms, p50 "
                    f"{percentile(latencies, 0.5) * 1000:.0f} ms"
                    + (f"; all summaries ready {settle:.1f} s after the last POST" if auto else "")
                )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print("mode  posts  mean ms  p50 ms  p95 ms")
    figures = {}
    for auto in (False, True):
        values = by_mode[auto]
        figures[auto] = (statistics.mean(values), percentile(values, 0.5), percentile(values, 0.95))
        print(
            f"{'on ' if auto else 'off'}   {len(values):5d}  "
            + "  ".join(f"{v * 1000:7.0f}" for v in figures[auto])
        )
    ratios = [on / off for on, off in zip(figures[True], figures[False], strict=True)]
    print("on/off: mean {:.3f}, p50 {:.3f}, p95 {:.3f} (target ≤ 1.10)".format(*ratios))


if __name__ == "__main__":
    main()
