"""Vietnamese keyword analysis done by vnqa before text reaches Milvus.

Milvus Lite and a Milvus server tokenize differently (Lite knows only ``standard`` and
``jieba`` and splits on ``\\w+``; the server's analyzers have their own rules), so
vnqa analyzes the text itself exactly as the embedded BM25 does (:mod:`index.sparse`:
NFC, lower-cased syllables, syllable pairs, and a diacritics-free field with đ → d)
and hands Milvus one opaque token per term: ``t`` and 16 hex digits of the term's
BLAKE2b hash. Such a token is one lower-case alphanumeric word to every analyzer, so
Milvus's BM25 counts exactly vnqa's terms whatever analyzer settings it honours.
"""

from __future__ import annotations

from hashlib import blake2b

from index.sparse import folded_syllables, with_bigrams
from models.vietnamese import syllables


def term_token(term: str) -> str:
    """The opaque token standing for ``term`` (64-bit hash: collisions are negligible)."""
    return "t" + blake2b(term.encode("utf-8"), digest_size=8).hexdigest()


def _encode(terms: list[str]) -> str:
    return " ".join(term_token(t) for t in terms)


def main_terms(text: str, *, bigrams: bool = True) -> str:
    """Tokens of ``text``'s syllables (and syllable pairs) for the accented field."""
    tokens = syllables(text)
    return _encode(with_bigrams(tokens) if bigrams else tokens)


def folded_terms(text: str, *, bigrams: bool = True) -> str:
    """Tokens of ``text``'s diacritics-free syllables (and pairs) for the folded field."""
    tokens = folded_syllables(text)
    return _encode(with_bigrams(tokens) if bigrams else tokens)
