"""How much of an article a seq2seq summarizer must read: ROUGE proxies per input window.

    .venv/bin/python bench/summary_window.py [--windows 1024,768,640,512] [--articles 400]

No trained Vietnamese seq2seq weights are available here, so the input a summarizer
reads is judged by what can be extracted from it. For the first ``--articles`` dev
articles (``../shared/data/vietnews-dev2k.jsonl``) longer than the smallest window, the
text the model would read at each window (``Seq2SeqSummarizer``'s ``select``: the whole
article when it fits, else the lead plus the most central sentences that do, in the
tokens of the checkpoint ``bench/seq2seq_speed.py`` builds) is scored against the
human summary:

* ``oracle``: ROUGE-1/2/L F1 of the best extract of that input (greedy sentence oracle
  on ROUGE-1 + ROUGE-2): what a model reading it could at best copy;
* ``extractive``: ROUGE F1 of the service's extractive summary of that input
  (``--max-words`` syllables, the ``bench/summaries.py`` setting);
* ``coverage``: the share of the reference's syllables (types) present in the input.

A window measures "no worse" than a longer one when these stay within their standard
errors. Prints a markdown table (means ×100 ± standard error), then each window's
paired difference from the first (the same articles, so a tighter test).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from quality_data import VIETNEWS_2K, load_vietnews, require_data  # noqa: E402
from summaries import VietnameseTokenizer, f1, ngrams  # noqa: E402

from models.summarization.base import split_blocks  # noqa: E402
from models.summarization.extractive import ExtractiveSummarizer  # noqa: E402
from models.summarization.seq2seq import Seq2SeqSummarizer  # noqa: E402
from models.vietnamese import normalize, split_sentences  # noqa: E402

CHECKPOINT = Path("/tmp/vnqa-seq2seq-bench/models/vit5-base-shape-vietnews-summarization")
_TOKENS = VietnameseTokenizer()


class _NoGenerator:
    """Stands in for a backend: only the tokenizer and input fitting are used here."""

    backend = "none"
    variant = "none"

    def generate(self, inputs, options):  # noqa: ANN001, ANN201
        raise NotImplementedError

    def stream(self, input_ids, options):  # noqa: ANN001, ANN201
        raise NotImplementedError


def _lcs(a: list[str], b: list[str]) -> int:
    row = [0] * (len(b) + 1)
    for x in a:
        previous = 0
        for j, y in enumerate(b, 1):
            current = row[j]
            row[j] = previous + 1 if x == y else max(row[j], row[j - 1])
            previous = current
    return row[-1]


def rouge(candidate: str, reference: str) -> tuple[float, float, float]:
    """ROUGE-1, -2, -L F1 (×100) with the Vietnamese tokenizer."""
    c, r = _TOKENS.tokenize(candidate), _TOKENS.tokenize(reference)
    lcs = _lcs(c, r)
    rl = 0.0 if not lcs else 2 * lcs / (len(c) + len(r))
    return (
        100 * f1(ngrams(c, 1), ngrams(r, 1)),
        100 * f1(ngrams(c, 2), ngrams(r, 2)),
        100 * rl,
    )


def oracle(text: str, reference: str) -> str:
    """The greedy extractive oracle: sentences added while ROUGE-1 + ROUGE-2 F1 rises."""
    sentences = [span.of(text).strip() for span in split_sentences(text)]
    tokens = [_TOKENS.tokenize(s) for s in sentences]
    ref1, ref2 = ngrams(_TOKENS.tokenize(reference), 1), ngrams(_TOKENS.tokenize(reference), 2)
    chosen: list[int] = []
    best = 0.0
    while True:
        pick, pick_score = -1, best
        for i in range(len(sentences)):
            if i in chosen:
                continue
            joined = [t for k in sorted([*chosen, i]) for t in tokens[k]]
            score = f1(ngrams(joined, 1), ref1) + f1(ngrams(joined, 2), ref2)
            if score > pick_score:
                pick, pick_score = i, score
        if pick < 0:
            return " ".join(sentences[k] for k in sorted(chosen))
        chosen.append(pick)
        best = pick_score


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--windows", default="1024,768,640,512")
    parser.add_argument("--articles", type=int, default=400)
    parser.add_argument("--max-words", type=int, default=45)
    parser.add_argument("--checkpoint", type=Path, default=CHECKPOINT)
    args = parser.parse_args()
    require_data(VIETNEWS_2K)
    if not (args.checkpoint / "config.json").is_file():
        sys.exit(f"{args.checkpoint} is missing: run bench/seq2seq_speed.py once to build it")
    windows = [int(w) for w in args.windows.split(",")]
    models = {
        w: Seq2SeqSummarizer(str(args.checkpoint), max_input_tokens=w, generator=_NoGenerator())
        for w in windows
    }
    shortest = models[min(windows)]
    extractive = ExtractiveSummarizer()
    scores: dict[int, dict[str, list]] = {
        w: {"oracle": [], "extractive": [], "coverage": []} for w in windows
    }
    considered = 0
    for row in load_vietnews(None, VIETNEWS_2K):
        text = normalize(f"{row['title']}\n{row['body']}")
        if shortest._count(text) <= shortest._room():
            continue
        considered += 1
        reference = row["summary"]
        ref_types = set(_TOKENS.tokenize(reference))
        for w, model in models.items():
            read = model._final_input(split_blocks(text), 128, None)
            scores[w]["oracle"].append(rouge(oracle(read, reference), reference))
            summary = extractive.summarize(read, max_words=args.max_words).text
            scores[w]["extractive"].append(rouge(summary, reference))
            types = set(_TOKENS.tokenize(read))
            scores[w]["coverage"].append(100 * len(ref_types & types) / max(1, len(ref_types)))
        if considered >= args.articles:
            break

    def cell(values: list) -> str:
        arr = np.asarray(values, dtype=float)
        se = arr.std(ddof=1, axis=0) / np.sqrt(len(arr))
        mean = arr.mean(axis=0)
        if arr.ndim == 1:
            return f"{mean:.1f} ± {se:.1f}"
        return " / ".join(f"{m:.1f} ± {s:.1f}" for m, s in zip(mean, se, strict=True))

    print(
        f"\n{considered} dev articles longer than the {min(windows)}-token window "
        f"(tokenizer of {args.checkpoint.name}); extractive summaries of {args.max_words} "
        "syllables; ROUGE F1 ×100 (1 / 2 / L)"
    )
    print("| window (tokens) | oracle extract R1 / R2 / RL | extractive R1 / R2 / RL | coverage |")
    print("| ---: | --- | --- | ---: |")
    for w in windows:
        s = scores[w]
        print(f"| {w} | {cell(s['oracle'])} | {cell(s['extractive'])} | {cell(s['coverage'])} |")
    base = scores[windows[0]]
    print(f"\npaired differences against the {windows[0]}-token window (mean ± standard error)")
    for w in windows[1:]:
        delta = {
            k: np.asarray(scores[w][k], dtype=float) - np.asarray(base[k], dtype=float)
            for k in base
        }
        print(
            f"| {w} - {windows[0]} | {cell(list(delta['oracle']))} "
            f"| {cell(list(delta['extractive']))} | {cell(list(delta['coverage']))} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
