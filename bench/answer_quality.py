"""Answer quality of the composer on ViQuAD dev, in process and fast (for tuning).

    .venv/bin/python bench/answer_quality.py [--cache-dir /tmp/vnqa-answer-quality]
        [--set dense=0.4 --set rank_prior=0.2 ...] [--variant "dense=0.4,rank_prior=0.2" ...]

The first run ingests the 515 ViQuAD dev paragraphs into ``<cache-dir>/data`` (one
article each, the product's path, as ``bench/answers.py`` does), searches the top 5
passages for every question once and embeds every distinct candidate sentence once;
hits and vectors are pickled to ``<cache-dir>/hits.pkl``. Later runs read them back
and only call :func:`service.answer_composer.compose`, so a composer variant over
all 2,285 questions takes seconds, not the half hour of the HTTP benchmark.

The composer's sentence scorer is learned on ViQuAD dev (``bench/train_answer_scorer.py``),
so by default each question is answered with scorer weights fit **without its
Wikipedia article** (leave-one-article-out over the 18 articles; ``--folds``), never
with the shipped ones; ``--shipped`` uses the shipped weights (in-sample: not a figure
to report). Questions are also split by article: even index = **tune** half, odd =
**held-out** half (for the selection thresholds); every variant is reported on both
and on all.
Per question: is a gold answer (any annotation; NFC, case-folded) inside the answer
(the chosen sentences joined), inside its first sentence; the answer's length in
syllables. Budgets as served: 80 syllables for a factoid, 160 for a list question.

``--set NAME=VALUE`` overrides a :class:`~service.answer_composer.Weights` field for
the baseline; each ``--variant`` is one more comma-separated set of overrides on top.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pickle
import sys
import time
import unicodedata
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(Path(__file__).resolve().parent)]

from quality_data import VIQUAD, Question, load_viquad, require_data  # noqa: E402

from models.vietnamese import count_syllables  # noqa: E402
from service.answer_composer import (  # noqa: E402
    DEFAULT_WEIGHTS,
    Weights,
    candidates_of,
    compose,
    is_list_question,
)

FACTOID_WORDS = 80
LIST_WORDS = 160


class CachedEmbedder:
    """An embedder whose query and passage vectors are memoized by text."""

    def __init__(self, inner=None, load=None) -> None:
        self.inner = inner
        self._load = load  # builds ``inner`` on the first cache miss
        self.queries: dict[str, np.ndarray] = {}
        self.passages: dict[str, np.ndarray] = {}

    def __getattr__(self, name: str):
        # Everything else (``dimension``, fingerprints, …) is the real embedder's.
        if name.startswith("_") or name in ("inner", "queries", "passages"):
            raise AttributeError(name)
        if self.inner is None:
            self.inner = self._load()
        return getattr(self.inner, name)

    def _get(self, memo: dict, texts, embed) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in memo]
        if todo:
            if self.inner is None:
                self.inner = self._load()
            memo.update(zip(todo, embed(todo), strict=True))
        return np.stack([np.asarray(memo[t], dtype=np.float32) for t in texts])

    def embed_queries(self, texts):
        return self._get(self.queries, texts, lambda t: self.inner.embed_queries(t))

    def embed_passages(self, texts, **kw):
        return self._get(self.passages, texts, lambda t: self.inner.embed_passages(t, **kw))


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def _question_text(q: Question) -> str:
    return unicodedata.normalize("NFC", q.text).strip()


def prepare(
    cache_dir: Path,
    limit: int | None = None,
) -> tuple[list[Question], list, CachedEmbedder]:
    """Questions, their top-5 hits and a cached embedder: built once, then read back.

    ``limit`` keeps the first N paragraphs (a smoke run; cached apart from the full set).
    """
    from index.documents import make_article
    from service.core.config import Settings
    from service.runtime import load_embedder_from, open_index

    suffix = "" if limit is None else f"-limit{limit}"
    pickled = cache_dir / f"hits{suffix}.pkl"
    data_dir = cache_dir / f"data{suffix}"
    paragraphs, questions = load_viquad(limit)
    if pickled.is_file():
        hits_all, queries, passages = pickle.loads(pickled.read_bytes())
        if len(hits_all) == len(questions):
            embedder = CachedEmbedder(
                load=lambda: load_embedder_from(
                    Settings(summarizer="extractive", data_dir=data_dir)
                )
            )
            embedder.queries, embedder.passages = queries, passages
            return questions, hits_all, embedder
        print("cache does not match the question set; rebuilding", file=sys.stderr)

    settings = Settings(summarizer="extractive", data_dir=data_dir)
    embedder = CachedEmbedder(load_embedder_from(settings))
    started = time.perf_counter()
    index = open_index(settings, embedder)
    try:
        if index.stats().chunks == 0:
            index.add_articles(
                make_article(id=p.id, title=p.title, text=p.text) for p in paragraphs
            )
            print(
                f"ingested {len(paragraphs)} paragraphs in {time.perf_counter() - started:.0f}s",
                file=sys.stderr,
            )
        texts = [_question_text(q) for q in questions]
        embedder.embed_queries(texts)
        hits_all = [index.search(t, top_k=5) for t in texts]
    finally:
        index.close()
    embedder.embed_passages([c.text for hits in hits_all for c in candidates_of(hits)])
    print(
        f"searched and embedded {len(embedder.passages)} sentences in "
        f"{time.perf_counter() - started:.0f}s",
        file=sys.stderr,
    )
    cache_dir.mkdir(parents=True, exist_ok=True)
    pickled.write_bytes(pickle.dumps((hits_all, embedder.queries, embedder.passages)))
    return questions, hits_all, embedder


def is_tune(q: Question) -> bool:
    """Tune half: questions of ViQuAD articles with an even index (``viquad-AA-PPP``)."""
    return article_of(q) % 2 == 0


def article_of(q: Question) -> int:
    """ViQuAD article index of a question (``viquad-AA-PPP``)."""
    return int(q.paragraph_id.split("-")[1])


def evaluate(
    questions,
    hits_all,
    embedder,
    weights: Weights,
    scorers: dict[int, tuple[float, ...]] | None = None,
) -> dict[str, dict]:
    """Scores on the tune half, the held-out half and all questions.

    ``scorers`` maps a ViQuAD article to the scorer weights its questions are answered
    with (fit without that article); ``None`` keeps ``weights.scorer``.
    """
    rows = []
    for q, hits in zip(questions, hits_all, strict=True):
        text = _question_text(q)
        words = LIST_WORDS if is_list_question(text) else FACTOID_WORDS
        if hits:
            w = weights
            if scorers is not None:
                w = dataclasses.replace(weights, scorer=scorers[article_of(q)])
            c = compose(text, hits, embedder, max_words=words, weights=w)
            sentences = [c.candidates[i].text for i in c.sentences]
        else:
            sentences = []
        answer = " ".join(sentences)
        gold = [_fold(a) for a in q.answers]
        rows.append(
            (
                is_tune(q),
                any(a in _fold(answer) for a in gold),
                bool(sentences) and any(a in _fold(sentences[0]) for a in gold),
                count_syllables(answer),
            )
        )
    out = {}
    for name, keep in (
        ("tune", lambda r: r[0]),
        ("held-out", lambda r: not r[0]),
        ("all", lambda r: True),
    ):
        part = [r for r in rows if keep(r)]
        n = max(len(part), 1)
        lengths = [r[3] for r in part] or [0]
        out[name] = {
            "questions": len(part),
            "in_answer": 100.0 * sum(r[1] for r in part) / n,
            "in_first": 100.0 * sum(r[2] for r in part) / n,
            "length_mean": float(np.mean(lengths)),
            "length_p90": float(np.percentile(lengths, 90)),
        }
    return out


def _overrides(spec: str) -> dict:
    fields = {f.name: f.type for f in dataclasses.fields(Weights)}
    out = {}
    for item in filter(None, (s.strip() for s in spec.split(","))):
        name, _, value = item.partition("=")
        if name not in fields:
            raise SystemExit(f"unknown Weights field: {name}")
        default = getattr(DEFAULT_WEIGHTS, name)
        kind = int if default is None else type(default)  # an optional field is a count
        if name == "scorer":
            raise SystemExit("the scorer is learned: see bench/train_answer_scorer.py")
        out[name] = kind(float(value)) if kind is not bool else value.lower() in ("1", "true")
    return out


def _row(label: str, r: dict[str, dict]) -> str:
    cells = [
        f"{r[h]['in_answer']:.1f} / {r[h]['in_first']:.1f} / {r[h]['length_mean']:.1f}"
        f" / {r[h]['length_p90']:.0f}"
        for h in ("tune", "held-out", "all")
    ]
    return f"| {label} | " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/vnqa-answer-quality"))
    parser.add_argument(
        "--limit", type=int, default=None, help="first N ViQuAD paragraphs only (a smoke run)"
    )
    parser.add_argument("--set", action="append", default=[], help="baseline override NAME=V")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        help="comma-separated overrides on top of the baseline",
    )
    parser.add_argument("--out", type=Path, default=None, help="also write results as JSON")
    parser.add_argument(
        "--folds",
        type=int,
        default=18,
        help="scorer fit without each question's article: folds over articles",
    )
    parser.add_argument(
        "--shipped",
        action="store_true",
        help="use the shipped scorer weights (in-sample on ViQuAD dev)",
    )
    args = parser.parse_args(argv)
    require_data(VIQUAD)

    questions, hits_all, embedder = prepare(args.cache_dir, args.limit)
    scorers = None
    if not args.shipped:
        from train_answer_scorer import build, held_out_weights

        per_article = held_out_weights(build(questions, hits_all, embedder), args.folds)
        scorers = {a: tuple(w) for a, w in per_article.items()}
    base = dataclasses.replace(DEFAULT_WEIGHTS, **_overrides(",".join(args.set)))
    print("| variant | tune: in answer / first / mean / p90 | held-out | all |")
    print("| --- | --- | --- | --- |")
    results = {}
    for spec in ["", *args.variant]:
        started = time.perf_counter()
        r = evaluate(
            questions, hits_all, embedder, dataclasses.replace(base, **_overrides(spec)), scorers
        )
        results[spec or "baseline"] = r
        print(
            _row(spec or "baseline", r),
            f"({time.perf_counter() - started:.0f}s)"
            if os.environ.get("VNQA_BENCH_TIMING")
            else "",
            flush=True,
        )
    if args.out:
        args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
