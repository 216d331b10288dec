"""Summary quality on VietNews dev: ROUGE-1/2/L F1 with a tokenizer that keeps Vietnamese.

    .venv/bin/python bench/summaries.py [--limit N] [--max-words 45] [--out results.json]
    .venv/bin/python bench/summaries.py --data 2k --only "extractive (title + body)"

Each article's ``body`` is summarized by the extractive summarizer (built the way the
service builds it) and scored against the human ``summary``; a second row passes the
title as the first line, as ``/v1/summarize`` does for a stored article. Lead-1/2/3
(the first 1, 2, 3 sentences of the body, split by ``split_sentences``) are the
baselines. ``rouge-score``'s default tokenizer deletes every non-ASCII letter, so
scoring uses :class:`VietnameseTokenizer`: NFC, lower-case, runs of letters and digits
(one token per Vietnamese syllable). Figures are means ×100 with standard errors;
length is the mean number of syllables.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Runnable as a plain script from any folder: the repo root and bench/ on the path.
sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from quality_data import VIETNEWS, VIETNEWS_2K, load_vietnews, require_data  # noqa: E402
from rouge_score import rouge_scorer  # noqa: E402

from models.summarization.factory import build_summarizer  # noqa: E402
from models.vietnamese import count_syllables, normalize, split_sentences  # noqa: E402

_TOKEN_RE = re.compile(r"[^\W_]+", re.UNICODE)
ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")
TARGETS = {"rouge1": 27.5, "rouge2": 15.5}
LENGTH_BAND = (30, 60)


class VietnameseTokenizer:
    """rouge-score tokenizer: NFC, lower-case, runs of letters/digits (Vietnamese kept)."""

    def tokenize(self, text: str) -> list[str]:
        """Tokens of ``text``."""
        return _TOKEN_RE.findall(unicodedata.normalize("NFC", text).lower())


def ngrams(tokens: Sequence[str], n: int) -> Counter:
    """Counts of the ``n``-grams of ``tokens``."""
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def f1(candidate: Counter, reference: Counter) -> float:
    """F1 of two n-gram counts (ROUGE-n F, as rouge-score computes it)."""
    overlap = sum((candidate & reference).values())
    if not overlap:
        return 0.0
    precision = overlap / sum(candidate.values())
    recall = overlap / sum(reference.values())
    return 2 * precision * recall / (precision + recall)


def lead(k: int) -> Callable[[str], str]:
    """The Lead-k baseline: the first ``k`` sentences."""

    def first_sentences(body: str) -> str:
        text = normalize(body)
        return " ".join(span.of(text).strip() for span in split_sentences(text)[:k])

    return first_sentences


def score(systems: dict[str, Callable[[dict], str]], rows: Sequence[dict]) -> dict[str, dict]:
    """ROUGE F1 means, standard errors and mean length of each system over ``rows``."""
    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), tokenizer=VietnameseTokenizer())
    results: dict[str, dict] = {}
    for name, system in systems.items():
        started = time.perf_counter()
        per_type: dict[str, list[float]] = {t: [] for t in ROUGE_TYPES}
        lengths = []
        for row in rows:
            summary = system(row)
            lengths.append(count_syllables(summary))
            scores = scorer.score(row["summary"], summary)
            for t in ROUGE_TYPES:
                per_type[t].append(100.0 * scores[t].fmeasure)
        entry: dict = {}
        for t, values in per_type.items():
            arr = np.asarray(values)
            entry[t] = float(arr.mean())
            entry[f"{t}_se"] = float(arr.std(ddof=1) / np.sqrt(len(arr))) if len(arr) > 1 else 0.0
        entry["length"] = float(np.mean(lengths))
        entry["seconds"] = round(time.perf_counter() - started, 1)
        results[name] = entry
        print(f"  {name}: done", file=sys.stderr)
    return results


def report(results: dict[str, dict], n: int, reference_length: float, max_words: int) -> str:
    """A markdown table plus the target check for the extractive rows."""
    lines = [
        f"VietNews dev: {n} articles; references average {reference_length:.1f} syllables; "
        f"extractive budget max_words={max_words}",
        "",
        "| system | ROUGE-1 | ROUGE-2 | ROUGE-L | length (syllables) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, e in results.items():
        cells = [f"{e[t]:.1f} ± {e[f'{t}_se']:.1f}" for t in ROUGE_TYPES]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {e['length']:.1f} |")
    lines.append("")
    for name in ("extractive (body)", "extractive (title + body)"):
        e = results.get(name)
        if not e:
            continue
        checks = [
            f"{t} {e[t]:.1f} (target >= {v:g}: "
            f"{'met' if e[t] >= v else f'missed by {v - e[t]:.1f}'})"
            for t, v in TARGETS.items()
        ]
        low, high = LENGTH_BAND
        inside = "in" if low <= e["length"] <= high else "OUT OF"
        checks.append(f"length {e['length']:.1f} ({inside} {low}-{high})")
        lines.append(f"Targets, {name}: " + "; ".join(checks))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="first N articles")
    parser.add_argument(
        "--max-words", type=int, default=45, help="extractive budget in syllables (default 45)"
    )
    parser.add_argument("--out", type=Path, default=None, help="also write results as JSON")
    parser.add_argument(
        "--data",
        choices=("300", "2k"),
        default="300",
        help="vietnews-dev.jsonl (300 articles) or vietnews-dev2k.jsonl (2,000)",
    )
    parser.add_argument(
        "--only", action="append", default=None, help="score only this system (repeatable)"
    )
    args = parser.parse_args(argv)
    path = VIETNEWS_2K if args.data == "2k" else VIETNEWS
    require_data(path)

    rows = load_vietnews(args.limit, path)
    summarizer = build_summarizer("extractive", "").summarizer
    budget = args.max_words
    systems: dict[str, Callable[[dict], str]] = {
        "Lead-1": lambda r: lead(1)(r["body"]),
        "Lead-2": lambda r: lead(2)(r["body"]),
        "Lead-3": lambda r: lead(3)(r["body"]),
        "extractive (body)": lambda r: summarizer.summarize(r["body"], max_words=budget).text,
        "extractive (title + body)": lambda r: (
            summarizer.summarize(f"{r['title']}\n{r['body']}", max_words=budget).text
        ),
    }
    if args.only:
        systems = {name: system for name, system in systems.items() if name in args.only}
    results = score(systems, rows)
    reference_length = float(np.mean([count_syllables(r["summary"]) for r in rows]))
    print(report(results, len(rows), reference_length, budget))
    if args.out:
        args.out.write_text(
            json.dumps(
                {
                    "articles": len(rows),
                    "max_words": budget,
                    "reference_length": reference_length,
                    "systems": results,
                },
                indent=2,
            ),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
