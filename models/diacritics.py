"""Put Vietnamese diacritics back on a query typed without them, from corpus statistics.

Users often type "bi thu tinh uy yeu cau gi" for "bí thư tỉnh ủy yêu cầu gì". Keyword
search copes through a diacritics-free field, but embedding models read unaccented
Vietnamese poorly. :class:`DiacriticRestorer` picks, for each unaccented syllable, one
of the accented forms seen in the indexed text, choosing the most likely sequence with
a bigram model (Viterbi) over syllable and syllable-pair document frequencies. A
small built-in list of question phrases, which news text rarely contains, seeds it.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from models.vietnamese import strip_diacritics, syllables

# Question phrases absent from most articles but common in questions; each counts as
# this many extra documents for its syllables and syllable pairs.
QUESTION_PHRASES = (
    "là gì",
    "điều gì",
    "việc gì",
    "cái gì",
    "những gì",
    "có gì",
    "làm gì",
    "vì sao",
    "tại sao",
    "ở đâu",
    "đi đâu",
    "từ đâu",
    "khi nào",
    "lúc nào",
    "năm nào",
    "bao giờ",
    "bao nhiêu",
    "như thế nào",
    "thế nào",
    "ra sao",
    "là ai",
    "của ai",
    "ai là",
    "có phải",
    "hay không",
    "mấy",
    "nào",
    "gì",
    "ai",
    "đâu",
)
_SEED_WEIGHT = 20
_BIGRAM_WEIGHT = 0.5  # Jelinek-Mercer interpolation of the bigram and unigram estimates
_WORD_RE = re.compile(r"\w+", re.UNICODE)


class CorpusCounts(Protocol):
    """Document counts a restorer reads on demand (see :meth:`DiacriticRestorer.over`)."""

    total: int  # the sum of every syllable's document count

    def unigram(self, syllable: str) -> int: ...

    def bigram(self, first: str, second: str) -> int: ...

    def forms(self, folded: str) -> list[str]: ...


class DiacriticRestorer:
    """Restores diacritics on unaccented syllables using syllable and pair counts.

    ``unigrams`` maps lower-cased syllables to counts, ``bigrams`` maps
    ``(previous, next)`` pairs to counts. Only syllables without diacritics are
    changed; a syllable with no accented form in the counts is kept as typed.
    """

    def __init__(
        self,
        unigrams: Mapping[str, int],
        bigrams: Mapping[tuple[str, str], int],
        *,
        bigram_weight: float = _BIGRAM_WEIGHT,
    ) -> None:
        self.bigram_weight = bigram_weight
        uni: dict[str, int] = dict(unigrams)
        bi: dict[tuple[str, str], int] = dict(bigrams)
        for phrase in QUESTION_PHRASES:
            syls = phrase.split()
            for s in syls:
                uni[s] = uni.get(s, 0) + _SEED_WEIGHT
            for pair in zip(syls, syls[1:], strict=False):
                bi[pair] = bi.get(pair, 0) + _SEED_WEIGHT
        forms: dict[str, list[str]] = defaultdict(list)
        for syllable in uni:
            forms[strip_diacritics(syllable)].append(syllable)
        self._unigram: Callable[[str], int] = lambda s: uni.get(s, 0)
        self._bigram: Callable[[str, str], int] = lambda a, b: bi.get((a, b), 0)
        self._forms: Callable[[str], list[str]] = lambda t: forms.get(t, [])
        self._total = sum(uni.values()) + len(uni)

    @classmethod
    def over(
        cls, counts: CorpusCounts, *, bigram_weight: float = _BIGRAM_WEIGHT
    ) -> DiacriticRestorer:
        """A restorer reading ``counts`` on demand (an index too large to copy out).

        The built-in question phrases are added on top, as for the mapping form.
        """
        restorer = cls({}, {}, bigram_weight=bigram_weight)
        seed_uni: dict[str, int] = defaultdict(int)
        seed_bi: dict[tuple[str, str], int] = defaultdict(int)
        for phrase in QUESTION_PHRASES:
            syls = phrase.split()
            for s in syls:
                seed_uni[s] += _SEED_WEIGHT
            for pair in zip(syls, syls[1:], strict=False):
                seed_bi[pair] += _SEED_WEIGHT
        seed_forms: dict[str, list[str]] = defaultdict(list)
        for syllable in seed_uni:
            seed_forms[strip_diacritics(syllable)].append(syllable)
        restorer._unigram = lambda s: counts.unigram(s) + seed_uni.get(s, 0)
        restorer._bigram = lambda a, b: counts.bigram(a, b) + seed_bi.get((a, b), 0)
        restorer._forms = lambda t: list(dict.fromkeys(counts.forms(t) + seed_forms.get(t, [])))
        restorer._total = counts.total + sum(seed_uni.values()) + len(seed_uni)
        return restorer

    def _log_unigram(self, s: str) -> float:
        return math.log((self._unigram(s) + 1.0) / self._total)

    def _log_transition(self, prev: str, s: str) -> float:
        p_uni = (self._unigram(s) + 1.0) / self._total
        p_bi = self._bigram(prev, s) / max(self._unigram(prev), 1)
        return math.log(self.bigram_weight * p_bi + (1.0 - self.bigram_weight) * p_uni)

    def _candidates(self, token: str) -> list[str]:
        if strip_diacritics(token) != token:  # typed with marks: keep it
            return [token]
        return self._forms(token) or [token]

    def restore_syllables(self, tokens: Sequence[str]) -> list[str]:
        """The most likely accented form of each lower-cased syllable in ``tokens``."""
        if not tokens:
            return []
        lattice = [self._candidates(t) for t in tokens]
        best = {c: self._log_unigram(c) for c in lattice[0]}
        back: list[dict[str, str]] = []
        for column in lattice[1:]:
            step: dict[str, float] = {}
            pointers: dict[str, str] = {}
            for c in column:
                prev, score = max(
                    ((p, s + self._log_transition(p, c)) for p, s in best.items()),
                    key=lambda pair: pair[1],
                )
                step[c], pointers[c] = score, prev
            best = step
            back.append(pointers)
        last = max(best, key=best.__getitem__)
        path = [last]
        for pointers in reversed(back):
            last = pointers[last]
            path.append(last)
        return path[::-1]

    def restore(self, text: str) -> str:
        """``text`` with diacritics restored on its syllables; case and punctuation kept."""
        matches = list(_WORD_RE.finditer(text))
        restored = self.restore_syllables([m.group().lower() for m in matches])
        out, cursor = [], 0
        for match, form in zip(matches, restored, strict=True):
            typed = match.group()
            out.append(text[cursor : match.start()])
            out.append(_match_case(typed, form))
            cursor = match.end()
        out.append(text[cursor:])
        return "".join(out)


def _match_case(typed: str, form: str) -> str:
    """``form`` with the capitalization of ``typed`` (all caps, title case or lower)."""
    if len(typed) != len(form):
        return form
    return "".join(f.upper() if t.isupper() else f for t, f in zip(typed, form, strict=True))


def counts_from_texts(texts: Sequence[str]) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Document frequencies of syllables and adjacent syllable pairs in ``texts``."""
    uni: dict[str, int] = defaultdict(int)
    bi: dict[tuple[str, str], int] = defaultdict(int)
    for text in texts:
        syls = syllables(text)
        for s in set(syls):
            uni[s] += 1
        for pair in set(zip(syls, syls[1:], strict=False)):
            bi[pair] += 1
    return dict(uni), dict(bi)
