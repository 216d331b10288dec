"""Learn the answer composer's sentence scorer on ViQuAD dev, reported on held-out articles.

    .venv/bin/python bench/train_answer_scorer.py [--cache-dir /tmp/vnqa-answer-quality]
        [--folds 18] [--l2 0.01] [--print-weights]

Reads the cache of ``bench/answer_quality.py`` (top-5 hits per question and the
sentence vectors; built on first use). For every question, every candidate sentence
of its five passages gets the features of :mod:`service.answer_features` and a label:
1 when it holds a gold answer (NFC, case-folded substring). A linear scorer is fit
with a softmax over each question's candidates (questions with no gold sentence are
left out of training), L2-regularized, by full-batch gradient descent (Adam, numpy).

Evaluation is **k-fold by Wikipedia article** (ViQuAD dev has 18 articles; the
default is leave-one-article-out): each question is scored by weights that never saw
its article. Printed: where the gold answer is lost (not in any candidate sentence;
in one but not ranked first), and top-1 / top-2 accuracy of the hand-tuned scorer
(the composer's previous score) against the learned one on held-out folds. With
``--print-weights`` the weights fit on all questions are printed, ready to paste into
``service/answer_features.py`` (they are what the service ships).
"""

from __future__ import annotations

import argparse
import os
import sys
import unicodedata
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(Path(__file__).resolve().parent)]

from answer_quality import prepare  # noqa: E402
from quality_data import VIQUAD, require_data  # noqa: E402

from models.vietnamese import syllables  # noqa: E402
from service.answer_composer import candidates_of  # noqa: E402
from service.answer_features import FEATURES, features  # noqa: E402


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def article_of(paragraph_id: str) -> int:
    """ViQuAD article index of a paragraph id ``viquad-AA-PPP``."""
    return int(paragraph_id.split("-")[1])


def build(questions, hits_all, embedder):
    """Per question: (article, feature matrix, labels, candidates)."""
    rows = []
    for q, hits in zip(questions, hits_all, strict=True):
        text = unicodedata.normalize("NFC", q.text).strip()
        cands = candidates_of(hits)
        if not cands:
            rows.append(
                (article_of(q.paragraph_id), np.zeros((0, len(FEATURES))), np.zeros(0), cands)
            )
            continue
        query = embedder.embed_queries([text])[0]
        vectors = embedder.embed_passages([c.text for c in cands])
        x = features(text, syllables(text), cands, vectors @ query)
        gold = [_fold(a) for a in q.answers]
        y = np.array([float(any(a in _fold(c.text) for a in gold)) for c in cands])
        rows.append((article_of(q.paragraph_id), x, y, cands))
    return rows


def fit(rows, l2: float, steps: int = 400, lr: float = 0.05) -> np.ndarray:
    """Weights over raw features maximizing the softmax likelihood of gold sentences."""
    usable = [(x, y) for _, x, y, _ in rows if len(y) and y.any()]
    stacked = np.concatenate([x for x, _ in usable])
    mean, std = stacked.mean(axis=0), stacked.std(axis=0)
    std[std == 0] = 1.0
    xs = [(x - mean) / std for x, _ in usable]
    ys = [y / y.sum() for _, y in usable]
    sizes = np.array([len(y) for y in ys])
    x_all = np.concatenate(xs)
    y_all = np.concatenate(ys)
    group = np.repeat(np.arange(len(ys)), sizes)
    w = np.zeros(x_all.shape[1])
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for step in range(1, steps + 1):
        s = x_all @ w
        s_max = np.maximum.reduceat(s, np.r_[0, np.cumsum(sizes)[:-1]])
        e = np.exp(s - s_max[group])
        z = np.add.reduceat(e, np.r_[0, np.cumsum(sizes)[:-1]])
        p = e / z[group]
        grad = x_all.T @ (p - y_all) / len(ys) + l2 * w
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad * grad
        w -= lr * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return w / std  # the mean shift is the same for a question's candidates


def held_out_weights(rows, folds: int = 18, l2: float = 0.1) -> dict[int, np.ndarray]:
    """Per ViQuAD article, weights fit on the questions of the other folds' articles."""
    articles = sorted({a for a, *_ in rows})
    out: dict[int, np.ndarray] = {}
    for k in range(folds):
        fold = articles[k::folds]
        w = fit([r for r in rows if r[0] not in fold], l2)
        out.update((a, w) for a in fold)
    return out


def hand_scores(x: np.ndarray) -> np.ndarray:
    """The previous hand-tuned score, rebuilt from the features (for comparison)."""
    col = {name: i for i, name in enumerate(FEATURES)}
    return (
        0.6 * x[:, col["dense_spread"]]
        + 0.4 * x[:, col["lexical"]]
        + 0.2 * x[:, col["rank_prior"]]
        + 0.1 * x[:, col["number_match"]]
        + 0.1 * x[:, col["time_match"]]
        + 0.2 * x[:, col["fresh"]]
    )


def accuracy(rows, scorer) -> dict[str, float]:
    """Share of all questions whose top-1 / top-2 sentences hold a gold answer."""
    top1 = top2 = 0
    for _, x, y, _ in rows:
        if not len(y):
            continue
        order = np.argsort(-scorer(x), kind="stable")
        top1 += bool(y[order[0]])
        top2 += bool(y[order[:2]].any())
    n = len(rows)
    return {"top1": 100.0 * top1 / n, "top2": 100.0 * top2 / n}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/vnqa-answer-quality"))
    parser.add_argument("--folds", type=int, default=18, help="folds over the 18 articles")
    parser.add_argument("--l2", type=float, default=0.1)
    parser.add_argument("--print-weights", action="store_true")
    args = parser.parse_args(argv)
    require_data(VIQUAD)
    questions, hits_all, embedder = prepare(args.cache_dir)
    rows = build(questions, hits_all, embedder)
    n = len(rows)
    reachable = sum(bool(len(y) and y.any()) for _, _, y, _ in rows)
    print(
        f"{n} questions; gold in some candidate sentence of the top-5 passages: "
        f"{100.0 * reachable / n:.1f}%"
    )

    per_article = held_out_weights(rows, args.folds, args.l2)
    held = [x @ per_article[a] for a, x, _, _ in rows]
    hand = accuracy(rows, hand_scores)
    it = iter(held)
    learned = accuracy(rows, lambda x: next(it))
    print(
        f"hand-tuned scorer: gold in best sentence {hand['top1']:.1f}%, "
        f"in best two {hand['top2']:.1f}%"
    )
    print(
        f"learned scorer, {args.folds}-fold by article (held out): gold in best sentence "
        f"{learned['top1']:.1f}%, in best two {learned['top2']:.1f}%"
    )
    if args.print_weights:
        w = fit(rows, args.l2)
        print("SCORER_WEIGHTS = np.array([")
        for name, value in zip(FEATURES, w, strict=True):
            print(f"    {value:+.4f},  # {name}")
        print("])")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
