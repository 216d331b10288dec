"""Fusion of several rankings of the same ids: convex (weighted min-max normalized scores,
the default, ``VNQA_FUSION=convex``) or reciprocal rank fusion (Cormack et al., 2009)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

Id = TypeVar("Id", bound=Hashable)


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[Id]],
    *,
    k: int = 60,
    weights: Sequence[float] | None = None,
) -> list[tuple[Id, float]]:
    """Fuse rankings: each id scores ``sum(w / (k + rank))`` over the lists it is in.

    Ranks start at 1. Ties keep the order in which ids were first seen, so the
    result is deterministic. Returns ``(id, score)`` pairs, best first.
    """
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking is required")
    scores: dict[Id, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    order = {item: i for i, item in enumerate(scores)}
    return sorted(scores.items(), key=lambda pair: (-pair[1], order[pair[0]]))


def convex_fusion(
    scored: Sequence[Sequence[tuple[Id, float]]],
    *,
    weights: Sequence[float] | None = None,
) -> list[tuple[Id, float]]:
    """Fuse scored lists by a weighted sum of min-max normalized scores.

    Each list's scores are rescaled to [0, 1] over its own candidates (best 1, worst 0;
    all 1 when they are equal); an id missing from a list gets 0 there. Unlike rank
    fusion this keeps how far ahead a candidate is, which helps when one retriever is
    confident (Bruch et al., 2023). Ties keep first-seen order. Returns ``(id, score)``
    pairs, best first.
    """
    if weights is None:
        weights = [1.0] * len(scored)
    if len(weights) != len(scored):
        raise ValueError("one weight per list is required")
    fused: dict[Id, float] = {}
    for items, weight in zip(scored, weights, strict=True):
        if not items:
            continue
        values = [s for _, s in items]
        low, high = min(values), max(values)
        span = high - low
        for item, s in items:
            norm = (s - low) / span if span > 0 else 1.0
            fused[item] = fused.get(item, 0.0) + weight * norm
    order = {item: i for i, item in enumerate(fused)}
    return sorted(fused.items(), key=lambda pair: (-pair[1], order[pair[0]]))


def fuse_hybrid(
    dense: Sequence[tuple[Id, float]],
    sparse: Sequence[tuple[Id, float]],
    *,
    mode: str,
    fusion: str,
    dense_weight: float,
    rrf_k: int,
    top_k: int,
) -> list[tuple[Id, float]]:
    """The best ``top_k`` of a search: both rankings fused (``hybrid``) or one of them.

    ``fusion`` is ``convex`` (:func:`convex_fusion`) or ``rrf``
    (:func:`reciprocal_rank_fusion`); the dense ranking weighs ``dense_weight``, BM25
    the rest. Every index backend ranks through here, so they fuse alike.
    """
    weights = [dense_weight, 1.0 - dense_weight]
    if mode == "hybrid" and fusion == "convex":
        return convex_fusion([dense, sparse], weights=weights)[:top_k]
    if mode == "hybrid":
        return reciprocal_rank_fusion(
            [[c for c, _ in dense], [c for c, _ in sparse]], k=rrf_k, weights=weights
        )[:top_k]
    return list(dense if mode == "dense" else sparse)[:top_k]
