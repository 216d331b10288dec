"""Answer quality and ``/v1/ask`` latency on ViQuAD dev, over HTTP, as a user sees them.

    .venv/bin/python bench/answers.py [--limit N] [--questions N] [--out results.json]

Every ViQuAD dev paragraph is ingested as one article (``make_article`` +
``ArticleIndex.add_articles``, the product's path) into a temporary data folder; then
``vnqa serve`` is started on it as a subprocess (extractive summarizer) and questions
are asked one at a time with ``POST /v1/ask``. Per question: is a gold answer (any
annotation; NFC, case-folded) inside the answer text (``summary.text``), inside its
first sentence (``answer_sentences[0]`` when the response has it, otherwise the first
sentence ``split_sentences`` finds), inside one of the returned passages (answer@5);
the answer's length in syllables; the request's wall-clock time measured by the
client. ``--questions N`` asks N questions spread evenly over the set (default: all).
The first few requests warm the server and are not counted. Articles' summaries
still pending after the ingest are made before the server starts (``settle``), so
the asks do not share the cores with the summary worker's catch-up.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

import httpx
import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Runnable as a plain script from any folder: the repo root and bench/ on the path.
REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(Path(__file__).resolve().parent)]

from load import start_server  # noqa: E402  (vnqa serve on a free port, once healthy)
from quality_data import VIQUAD, Question, load_viquad, require_data  # noqa: E402

from index.documents import make_article  # noqa: E402
from models.vietnamese import count_syllables, split_sentences  # noqa: E402
from service.core.config import Settings  # noqa: E402
from service.runtime import build_runtime, load_embedder_from, open_index  # noqa: E402

WARMUP = 5
TARGETS = {
    "in_answer": (">=", 93.0),
    "in_first": (">=", 80.0),
    "length_mean": ("<=", 50.0),
    "p50_ms": ("<=", 250.0),
    "p95_ms": ("<=", 500.0),
}


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def _contains(text: str, answers: tuple[str, ...]) -> bool:
    folded = _fold(text)
    return any(_fold(a) in folded for a in answers)


def first_sentence(body: dict) -> str:
    """The answer's first sentence: from ``answer_sentences`` when the response has it."""
    sentences = body.get("answer_sentences")
    if sentences:
        return sentences[0]["text"]
    text = body["summary"]["text"]
    spans = split_sentences(text)
    return spans[0].of(text) if spans else text


def build_index(data_dir: Path, limit: int | None) -> list[Question]:
    """Ingest the ViQuAD paragraphs into ``data_dir``; returns the questions."""
    paragraphs, questions = load_viquad(limit)
    settings = Settings(summarizer="extractive", data_dir=data_dir)
    index = open_index(settings, load_embedder_from(settings))
    started = time.perf_counter()
    try:
        index.add_articles(make_article(id=p.id, title=p.title, text=p.text) for p in paragraphs)
        chunks = index.stats().chunks
    finally:
        index.close()
    print(
        f"ViQuAD: {len(paragraphs)} paragraphs -> {chunks} chunks in "
        f"{time.perf_counter() - started:.0f}s; {len(questions)} questions",
        file=sys.stderr,
    )
    return questions


def settle(data_dir: Path) -> int:
    """Summarize every article still waiting for its summary; returns how many.

    An ingest leaves each article's summary to the server's background worker; on a
    freshly built index that is 515 summaries, which the worker would make while the
    questions are being timed. Made here first, the asks are timed as on a server
    that has caught up (``--with-catch-up`` times them during the catch-up instead).
    """
    settings = Settings(summarizer="extractive", data_dir=data_dir)
    runtime = build_runtime(settings)
    try:
        worker = runtime.auto_summaries
        return worker.drain() if worker is not None else 0
    finally:
        runtime.close()


def evaluate(url: str, questions: list[Question]) -> dict:
    """Ask every question; quality shares ×100, lengths in syllables, latency in ms."""
    in_answer = in_first = in_passages = 0
    lengths: list[int] = []
    latencies: list[float] = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for q in questions[:WARMUP]:
            client.post("/v1/ask", json={"question": q.text}).raise_for_status()
        for q in questions:
            started = time.perf_counter()
            response = client.post("/v1/ask", json={"question": q.text})
            latencies.append(1000.0 * (time.perf_counter() - started))
            response.raise_for_status()
            body = response.json()
            text = body["summary"]["text"]
            in_answer += _contains(text, q.answers)
            in_first += _contains(first_sentence(body), q.answers)
            in_passages += any(_contains(p["text"], q.answers) for p in body["passages"])
            lengths.append(count_syllables(text))
    n = max(len(questions), 1)
    return {
        "questions": len(questions),
        "in_answer": 100.0 * in_answer / n,
        "in_first": 100.0 * in_first / n,
        "answer@5": 100.0 * in_passages / n,
        "length_mean": float(np.mean(lengths)),
        "length_p90": float(np.percentile(lengths, 90)),
        "p50_ms": float(np.percentile(latencies, 50)),
        "p95_ms": float(np.percentile(latencies, 95)),
    }


def report(r: dict) -> str:
    """One markdown row plus the issue's targets."""
    lines = [
        f"ViQuAD dev, {r['questions']} questions over HTTP (`POST /v1/ask`, extractive)",
        "",
        "| gold in answer | in first sentence | in top-5 passages | length mean | length p90 "
        "| p50 ms | p95 ms |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {r['in_answer']:.1f} | {r['in_first']:.1f} | {r['answer@5']:.1f} | "
        f"{r['length_mean']:.1f} | {r['length_p90']:.0f} | {r['p50_ms']:.0f} | "
        f"{r['p95_ms']:.0f} |",
        "",
    ]
    checks = []
    for key, (op, target) in TARGETS.items():
        ok = r[key] >= target if op == ">=" else r[key] <= target
        checks.append(f"{key} {r[key]:.1f} ({op} {target:g}: {'met' if ok else 'missed'})")
    lines.append("Targets: " + "; ".join(checks))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="first N ViQuAD paragraphs")
    parser.add_argument(
        "--questions",
        type=int,
        default=None,
        help="ask N questions spread evenly over the set (default all)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="reuse (or build once into) this folder instead of a temporary one",
    )
    parser.add_argument(
        "--with-catch-up",
        action="store_true",
        help="leave the articles' summaries to the server's worker, made while asks are timed",
    )
    parser.add_argument("--out", type=Path, default=None, help="also write results as JSON")
    args = parser.parse_args(argv)
    require_data(VIQUAD)

    with tempfile.TemporaryDirectory(prefix="vnqa-answers-") as tmp:
        data_dir = args.data_dir or Path(tmp)
        if args.data_dir and (data_dir / "questions.json").is_file():
            questions = [
                Question(q["id"], q["text"], q["paragraph_id"], tuple(q["answers"]))
                for q in json.loads((data_dir / "questions.json").read_text())
            ]
        else:
            questions = build_index(data_dir, args.limit)
            if args.data_dir:
                (data_dir / "questions.json").write_text(
                    json.dumps(
                        [
                            {
                                "id": q.id,
                                "text": q.text,
                                "paragraph_id": q.paragraph_id,
                                "answers": list(q.answers),
                            }
                            for q in questions
                        ],
                        ensure_ascii=False,
                    )
                )
        if args.questions and args.questions < len(questions):
            step = len(questions) / args.questions
            questions = [questions[int(i * step)] for i in range(args.questions)]
        if not args.with_catch_up:
            made = settle(data_dir)
            print(f"summaries made before asking: {made}", file=sys.stderr)
        os.environ["VNQA_SUMMARIZER"] = "extractive"  # the targets are the extractive path's
        proc, url = start_server(data_dir, data_dir / "server.log")
        try:
            results = evaluate(url, questions)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(report(results))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
