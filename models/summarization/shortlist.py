"""A decoding vocabulary shortlist: the source's own tokens plus the K most common pieces.

CTranslate2 can restrict a generation's output layer to a candidate list computed per
input from a vocabulary map (``vmap.txt`` in the converted folder, ``use_vmap=True``):
here every token maps to itself, and a first line with an empty key lists the tokens
always allowed (the tokenizer's top ``K`` pieces by SentencePiece score and its special
tokens). A token outside the list can never be emitted, so ``K`` must cover what a
summary writes that its input does not hold (measured in docs/benchmarks.md, issue 14).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

VMAP_FILE = "vmap.txt"
#: Share of the ranked pieces always allowed: on the bench tokenizer (7,997 pieces learned
#: from the dev articles) the top 88 % keep 99.9 % of the dev summaries' tokens within
#: their article's shortlist (docs/benchmarks.md, issue 14).
ALWAYS_ON_SHARE = 0.88
_SPM_FILES = ("spiece.model", "sentencepiece.bpe.model", "sentencepiece.model")


def ranked_pieces(folder: Path, tokenizer: Any) -> list[str]:
    """The tokenizer's ordinary pieces, most common first.

    With a SentencePiece model in ``folder``: its normal pieces (not control, unknown,
    user-defined, unused or byte pieces) by score, highest first (a unigram model's
    score is the piece's log probability, a BPE model's its merge rank). Otherwise the
    vocabulary in id order, which for BPE and WordPiece vocabularies is roughly
    frequency order.
    """
    for name in _SPM_FILES:
        path = Path(folder) / name
        if path.is_file():
            from sentencepiece import sentencepiece_model_pb2

            proto = sentencepiece_model_pb2.ModelProto()
            proto.ParseFromString(path.read_bytes())
            normal = [
                (i, p.piece, p.score)
                for i, p in enumerate(proto.pieces)
                if p.type == sentencepiece_model_pb2.ModelProto.SentencePiece.NORMAL
            ]
            normal.sort(key=lambda item: (-item[2], item[0]))
            return [piece for _, piece, _ in normal]
    special = set(getattr(tokenizer, "all_special_tokens", []))
    vocab = tokenizer.get_vocab()
    return [
        token
        for token, _ in sorted(vocab.items(), key=lambda item: item[1])
        if token not in special
    ]


def always_on_count(ranked: Sequence[str]) -> int:
    """How many ranked pieces are always allowed (:data:`ALWAYS_ON_SHARE` of them)."""
    return math.ceil(len(ranked) * ALWAYS_ON_SHARE)


def write_vmap(folder: Path, vocabulary: Sequence[str], checkpoint: Path, tokenizer: Any) -> int:
    """Write ``folder/vmap.txt`` for a converted model; returns the always-on count.

    ``vocabulary`` is the converted model's target vocabulary; the always-on list is
    the tokenizer's special tokens (the forced language token of mBART-style models
    among them) and the top :data:`ALWAYS_ON_SHARE` of its ranked pieces.
    """
    ranked = ranked_pieces(checkpoint, tokenizer)
    special = list(getattr(tokenizer, "all_special_tokens", []))
    always = always_on(ranked, special, always_on_count(ranked))
    (Path(folder) / VMAP_FILE).write_text(vmap_text(vocabulary, always), encoding="utf-8")
    return len(always)


def always_on(ranked: Sequence[str], special: Iterable[str], k: int) -> list[str]:
    """The always-allowed tokens: the special tokens, then the first ``k`` ranked pieces."""
    out: dict[str, None] = dict.fromkeys(t for t in special if t)
    out.update(dict.fromkeys(ranked[:k]))
    return list(out)


def vmap_text(vocabulary: Iterable[str], always: Sequence[str]) -> str:
    """A CTranslate2 vocabulary map: ``always`` on an empty key, then each token to itself.

    Tokens holding whitespace cannot be written in the format (its separators) and are
    left out of the map; SentencePiece pieces never hold any.
    """
    usable = [t for t in vocabulary if t and not any(c.isspace() for c in t)]
    lines = ["\t" + " ".join(t for t in always if t and not any(c.isspace() for c in t))]
    lines.extend(f"{t}\t{t}" for t in usable)
    return "\n".join(lines) + "\n"


def shortlist(source_tokens: Iterable[str], always: Iterable[str]) -> set[str]:
    """The candidates one input gets: its own tokens and the always-on list."""
    return set(source_tokens) | set(always)
