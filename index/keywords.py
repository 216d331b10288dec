"""Keyword search that grows in place: BM25 in tantivy over syllables and syllable pairs.

Each chunk is indexed as its lower-cased NFC syllables plus its adjacent syllable pairs
(field ``m``), the same terms with diacritics stripped (field ``f``, for questions typed
without accents) and, per accented syllable, a ``folded>accented`` term (field
``forms``) from which :meth:`KeywordIndex.restore_diacritics` learns which accented
syllables an unaccented one may stand for. Writes add and delete documents and commit
(tens of milliseconds); nothing is ever rebuilt on a write. Why tantivy rather than
SQLite FTS5, and what its fixed BM25 parameters (k1 = 1.2, b = 0.75) cost, is measured in
docs/benchmarks.md ("Keyword index").

Crash safety: SQLite is the source of truth. After each tantivy commit the store
generation it mirrors is written atomically to ``state.json``; at open a differing
generation means a crash came between the store's commit and this one, and
:meth:`KeywordIndex.sync` adds and removes the chunks that differ.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import tantivy

from index.atomic import atomic_write_text
from index.defaults import DEFAULT_LONG_QUERY_MAX_DF, DEFAULT_LONG_QUERY_TERMS
from models.diacritics import DiacriticRestorer
from models.vietnamese import strip_diacritics, syllables

logger = logging.getLogger(__name__)

_PAIR = "\u00b7"  # joins a syllable pair into one term; no syllable holds it or a space
_FORM = ">"  # folded>accented in the forms field
_STATE = "state.json"
# What the terms are made of; a stored index analysed otherwise is rebuilt at open.
_ANALYSIS_VERSION = 1
_WRITER_HEAP = 64_000_000  # bytes tantivy buffers before it writes a segment
# A rebuild buffers more: fewer, larger segments to write and merge (docs/benchmarks.md).
_BULK_WRITER_HEAP = 512_000_000


@lru_cache(maxsize=200_000)
def fold(syllable: str) -> str:
    """A syllable without diacritics ("bí" -> "bi"), memoized: the vocabulary is small."""
    return strip_diacritics(syllable)


def terms(tokens: list[str], bigrams: bool) -> list[str]:
    """``tokens`` followed, when ``bigrams``, by each adjacent pair as one term."""
    if not bigrams:
        return tokens
    return tokens + [f"{a}{_PAIR}{b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", stored=False, indexed=True, fast=True)
    builder.add_integer_field("syllables", stored=False, indexed=False, fast=True)
    for field in ("m", "f", "forms"):
        builder.add_text_field(
            field, stored=False, tokenizer_name="whitespace", index_option="freq"
        )
    return builder.build()


class KeywordIndex:
    """BM25 over chunk texts in a tantivy folder, kept in step with the store by id.

    ``bigrams`` adds syllable pairs to the terms; ``folded`` keeps the diacritics-free
    field that :meth:`search` uses with ``folded=True``. ``folded_weight`` mixes that
    field into searches of accented questions too (0: the main field alone). A query of
    more than ``long_query_terms`` distinct terms leaves out those found in more than
    ``long_query_max_df`` of the chunks (see :meth:`_terms_query`; 0: never).
    """

    def __init__(
        self,
        path: Path,
        *,
        bigrams: bool = True,
        folded: bool = True,
        folded_weight: float = 0.0,
        long_query_terms: int = DEFAULT_LONG_QUERY_TERMS,
        long_query_max_df: float = DEFAULT_LONG_QUERY_MAX_DF,
        read_only: bool = False,
    ) -> None:
        self.path = Path(path)
        self.bigrams = bigrams
        self.folded = folded
        self.folded_weight = folded_weight
        self.long_query_terms = long_query_terms
        self.long_query_max_df = long_query_max_df
        self._schema = _schema()
        self._analysis = {"version": _ANALYSIS_VERSION, "bigrams": bigrams, "folded": folded}
        self._lock = threading.Lock()  # one writer at a time
        self.path.mkdir(parents=True, exist_ok=True)
        state = self._read_state()
        if state.get("analysis") not in (None, self._analysis):
            self.generation: int | None = None  # analysed otherwise: caller rebuilds
        else:
            self.generation = state.get("generation")
        self._index = tantivy.Index(self._schema, path=str(self.path))
        self._writer = None if read_only else self._index.writer(_WRITER_HEAP, 1)
        self._searcher = self._index.searcher()
        self._restorer: tuple[object, DiacriticRestorer] | None = None

    def _read_state(self) -> dict:
        try:
            return json.loads((self.path / _STATE).read_text("utf-8"))
        except (OSError, ValueError):
            return {}

    def __len__(self) -> int:
        return int(self._searcher.num_docs)

    # -- analysis -----------------------------------------------------------------
    def _document(self, chunk_id: int, text: str) -> tantivy.Document:
        syls = syllables(text)
        folded = [fold(s) for s in syls]
        forms = {f"{f}{_FORM}{s}" for s, f in zip(syls, folded, strict=True) if s != f}
        return tantivy.Document(
            id=int(chunk_id),
            syllables=len(set(syls)),
            m=" ".join(terms(syls, self.bigrams)),
            f=" ".join(terms(folded, self.bigrams)) if self.folded else "",
            forms=" ".join(forms),
        )

    # -- writes -------------------------------------------------------------------
    def write(
        self, removed: Iterable[int], added: Sequence[tuple[int, str]], generation: int
    ) -> None:
        """Delete ``removed`` chunk ids, add ``(id, text)`` pairs, commit, then record
        the store ``generation`` this mirrors. Searches see the change on return."""
        if self._writer is None:
            raise RuntimeError("the keyword index is open read-only")
        with self._lock:
            try:
                for chunk_id in removed:
                    self._writer.delete_documents_by_term("id", int(chunk_id))
                for chunk_id, text in added:
                    self._writer.add_document(self._document(chunk_id, text))
                self._commit(generation)
            except BaseException:
                self._rollback()
                raise

    def _rollback(self) -> None:
        """Drop what a failed write staged, so a later commit cannot publish half of it."""
        try:
            if self._writer is not None:
                self._writer.rollback()
        except Exception:  # the writer is unusable: a fresh one starts from the last commit
            self._writer = None  # dropping it releases the folder's writer lock
            self._writer = self._index.writer(_WRITER_HEAP, 1)

    def rebuild(self, chunks: Iterable[tuple[int, str]], generation: int) -> None:
        """Replace everything with ``chunks`` (a changed analysis, a lost folder)."""
        if self._writer is None:
            raise RuntimeError("the keyword index is open read-only")
        with self._lock:
            self._writer = None  # one writer per folder: the small one goes first
            bulk = self._index.writer(_BULK_WRITER_HEAP, 1)
            self._writer = bulk
            try:
                bulk.delete_all_documents()
                for chunk_id, text in chunks:
                    bulk.add_document(self._document(chunk_id, text))
                self._commit(generation)
            except BaseException:
                try:
                    bulk.rollback()
                except Exception as exc:  # dropped below all the same
                    logger.warning("keyword index rollback: %s", exc)
                raise
            finally:
                self._writer = None
                try:
                    bulk.wait_merging_threads()  # releases the folder for the small writer
                except Exception as exc:  # a merge failed; the commit stands
                    logger.warning("keyword index writer: %s", exc)
                del bulk
                self._writer = self._index.writer(_WRITER_HEAP, 1)

    def _commit(self, generation: int) -> None:
        if self._writer is None:
            raise RuntimeError("the keyword index is open read-only")
        self._writer.commit()
        self._index.reload()
        self._searcher = self._index.searcher()
        self._restorer = None
        atomic_write_text(
            self.path / _STATE,
            json.dumps({"generation": int(generation), "analysis": self._analysis}),
        )
        self.generation = int(generation)

    def sync(
        self,
        stored_ids: Sequence[int],
        texts: Callable[[list[int]], dict[int, str]],
        generation: int,
    ) -> tuple[int, int]:
        """Make the index hold exactly ``stored_ids`` (texts fetched by ``texts``).

        Returns (removed, added). Cheap when nothing differs: one pass over the ids.
        """
        held = set(self.ids().tolist())
        stored = set(int(i) for i in stored_ids)
        extra = sorted(held - stored)
        missing = sorted(stored - held)
        for start in range(0, max(len(missing), 1), 5000):
            part = missing[start : start + 5000]
            found = texts(part) if part else {}
            self.write(extra if start == 0 else [], sorted(found.items()), generation)
        return len(extra), len(missing)

    def close(self) -> None:
        """Let background merges finish and release the writer's lock."""
        with self._lock:
            writer, self._writer = self._writer, None
            if writer is not None:
                try:
                    writer.wait_merging_threads()
                except Exception as exc:  # a writer killed by a full disk; its commits stand
                    logger.warning("keyword index writer: %s", exc)

    # -- reads --------------------------------------------------------------------
    def ids(self) -> np.ndarray:
        """Every chunk id held, as int64."""
        searcher = self._searcher
        n = int(searcher.num_docs)
        if n == 0:
            return np.zeros(0, np.int64)
        hits = searcher.search(tantivy.Query.all_query(), limit=n, count=False).hits
        values = searcher.fast_field_values("id", [address for _, address in hits])
        return np.asarray(values, dtype=np.int64)

    def search(
        self,
        query: str,
        k: int,
        *,
        allowed: Sequence[int] | None = None,
        folded: bool = False,
    ) -> list[tuple[int, float]]:
        """Top ``k`` (chunk id, BM25 score), best first.

        ``folded`` matches ``query`` with its diacritics stripped against the
        diacritics-free field (the main field when the index keeps none).
        """
        if k <= 0 or (allowed is not None and len(allowed) == 0):
            return []
        searcher = self._searcher
        syls = syllables(query)
        if folded or not self.folded:
            use_folded = folded and self.folded
            field = "f" if use_folded else "m"
            tokens = [fold(s) for s in syls] if use_folded else syls
            query_obj = self._terms_query(searcher, field, terms(tokens, self.bigrams))
        else:
            query_obj = self._terms_query(searcher, "m", terms(syls, self.bigrams))
            other = (
                self._terms_query(searcher, "f", terms([fold(s) for s in syls], self.bigrams))
                if self.folded_weight > 0
                else None
            )
            if query_obj is not None and other is not None:
                query_obj = tantivy.Query.boolean_query(
                    [
                        (tantivy.Occur.Should, query_obj),
                        (
                            tantivy.Occur.Should,
                            tantivy.Query.boost_query(other, self.folded_weight),
                        ),
                    ]
                )
        if query_obj is None:
            return []
        if allowed is not None:
            members = tantivy.Query.term_set_query(self._schema, "id", [int(i) for i in allowed])
            query_obj = tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, query_obj),
                    (tantivy.Occur.Must, tantivy.Query.const_score_query(members, 0.0)),
                ]
            )
        hits = searcher.search(query_obj, limit=k, count=False).hits
        if not hits:
            return []
        ids = searcher.fast_field_values("id", [address for _, address in hits])
        return [
            (int(i), float(score))
            for (score, _), i in zip(hits, ids, strict=True)
            if score > 0 and i is not None
        ]

    def _terms_query(
        self, searcher: tantivy.Searcher, field: str, words: list[str]
    ) -> tantivy.Query | None:
        """One OR query of the distinct ``words`` in ``field``, BM25-scored.

        A long query (more than ``long_query_terms`` distinct terms: a pasted paragraph,
        not a question) leaves out its terms found in more than ``long_query_max_df`` of
        the chunks, unless that would leave none. Such a term weighs little in BM25 (its
        idf is at most ln 10, a rare term's several times that) and its posting list is
        among the longest: at a million chunks these terms make most of a long query's
        time (docs/benchmarks.md). Questions keep every term.
        """
        unique = list(dict.fromkeys(words))
        if not unique:
            return None
        if 0 < self.long_query_terms < len(unique):
            most = self.long_query_max_df * int(searcher.num_docs)
            selective = [w for w in unique if searcher.doc_freq(field, w) <= most]
            unique = selective or unique
        return tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Should, tantivy.Query.term_query(self._schema, field, w))
                for w in unique
            ]
        )

    def restore_diacritics(self, query: str) -> str:
        """``query`` with diacritics put back from the indexed text's syllable statistics.

        Syllables already carrying marks, and those never seen, are kept as typed.
        Needs ``bigrams`` (the pair statistics are the pair terms' document counts).
        """
        searcher = self._searcher
        if not self.bigrams or int(searcher.num_docs) == 0:
            return query
        cached = self._restorer
        if cached is None or cached[0] is not searcher:
            cached = (searcher, DiacriticRestorer.over(_Counts(searcher)))
            self._restorer = cached
        return cached[1].restore(query)


class _Counts:
    """Syllable and pair document counts read from tantivy's term dictionary on demand."""

    def __init__(self, searcher: tantivy.Searcher) -> None:
        self._searcher = searcher
        result = searcher.aggregate(
            tantivy.Query.all_query(), {"total": {"sum": {"field": "syllables"}}}
        )
        value = result["total"]["value"]
        self.total = int(value) if value else 0

    @lru_cache(maxsize=4096)  # noqa: B019 - one instance per searcher, dropped with it
    def unigram(self, syllable: str) -> int:
        """Chunks holding ``syllable``."""
        return int(self._searcher.doc_freq("m", syllable))

    @lru_cache(maxsize=4096)  # noqa: B019
    def bigram(self, first: str, second: str) -> int:
        """Chunks holding the pair ``first second``."""
        return int(self._searcher.doc_freq("m", f"{first}{_PAIR}{second}"))

    @lru_cache(maxsize=1024)  # noqa: B019
    def forms(self, folded: str) -> list[str]:
        """Syllables seen in the text that fold to ``folded`` (it included, if seen)."""
        prefix = f"{folded}{_FORM}"
        found = [
            term[len(prefix) :] for term, _ in self._searcher.terms_with_prefix("forms", prefix)
        ]
        if self.unigram(folded):
            found.append(folded)
        return found
