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
        store.replace_articles([NewArticle(f"a{i}", r["title"], r["body"], None, None, None,
                                           None, []) for i, r in enumerate(rows)])
        settings = Settings(_env_file=None, summarizer="extractive")
        summarizer = build_summarizer_from(settings).summarizer
        worker = AutoSummaries(queue, summarizer, max_words=settings.summary_max_words,
                               batch=settings.summary_batch)
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
    args = parser.parse_args()
    require_data(VIETNEWS)
    rows = load_vietnews(None, VIETNEWS)
    print(f"CPU: {os.cpu_count()} cores")
    done, elapsed = drain_rate(rows[: args.drain])
    print(f"worker drain: {done} articles in {elapsed:.1f} s = {done / elapsed:.1f} articles/s "
          "(extractive, one thread)")
    folder = Path(tempfile.mkdtemp(prefix="vnqa-auto-bench-"))
    by_mode: dict[bool, list[float]] = {False: [], True: []}
    try:
        for r in range(args.rounds):
            for auto in (False, True):
                start = (2 * r + auto) * args.articles % max(1, len(rows) - args.articles)
                part = rows[start : start + args.articles]
                latencies, settle = ingest_round(part, auto, folder, f"{r}-{int(auto)}")
                by_mode[auto].extend(latencies)
                print(f"round {r} summaries {'on ' if auto else 'off'}: mean "
                      f"{statistics.mean(latencies) * 1000:.0f} ms, p50 "
                      f"{percentile(latencies, 0.5) * 1000:.0f} ms"
                      + (f"; all summaries ready {settle:.1f} s after the last POST"
                         if auto else ""))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print("mode  posts  mean ms  p50 ms  p95 ms")
    figures = {}
    for auto in (False, True):
        values = by_mode[auto]
        figures[auto] = (statistics.mean(values), percentile(values, 0.5),
                         percentile(values, 0.95))
        print(f"{'on ' if auto else 'off'}   {len(values):5d}  "
              + "  ".join(f"{v * 1000:7.0f}" for v in figures[auto]))
    ratios = [on / off for on, off in zip(figures[True], figures[False], strict=True)]
    print("on/off: mean {:.3f}, p50 {:.3f}, p95 {:.3f} (target ≤ 1.10)".format(*ratios))


if __name__ == "__main__":
    main()
