"""The chunks' vectors and keywords in one Milvus collection (Milvus Lite or a server).

One row per chunk, keyed by the chunk id the article store assigned: the dense vector
(inner product over normalized vectors, as FAISS), two analyzed text fields with a
BM25 function each (:mod:`index.milvus_terms` does the Vietnamese analysis, so Milvus
only counts opaque tokens), and the fields searches filter on (article id, source,
date). The collection is created with ``Strong`` consistency: a write acknowledged
by any replica is seen by the next search of any replica.

Milvus Lite returns BM25 scores negated (smaller is better) where a server returns
them positive; both sort best first, so :meth:`MilvusChunks.search_bm25` reports
``abs(score)``. Failures to reach Milvus become
:class:`~index.errors.BackendUnavailableError`; the gRPC channel reconnects by itself
once the server is back.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pymilvus import DataType, Function, FunctionType, MilvusClient, MilvusException

from index.errors import BackendUnavailableError
from index.milvus_terms import folded_terms, main_terms
from index.sparse import SparseIndex

logger = logging.getLogger(__name__)

_VARCHAR_MAX = 65_535
_ID_MAX = 1024  # article ids are at most 200 characters (index.documents): 4 bytes each
_FIELD_MAX = 4096
# k1 and b, as the embedded index ranks (SparseIndex's keyword defaults).
_BM25: dict[str, float] = dict(SparseIndex.__init__.__kwdefaults__ or {"k1": 1.5, "b": 0.75})
_NOT_LOADED = 101  # Milvus's error code for a collection that is not loaded


@dataclass(frozen=True, slots=True)
class ChunkEntry:
    """What Milvus keeps of one chunk."""

    id: int
    article_id: str
    source: str | None
    date: str | None
    text: str


@dataclass(frozen=True, slots=True)
class ChunkFilter:
    """Restrict a search to some articles, sources or an inclusive ISO date range."""

    article_ids: Sequence[str] | None = None
    sources: Sequence[str] | None = None
    date_from: str | None = None
    date_to: str | None = None

    def expression(self) -> str:
        """The Milvus boolean expression ('' when nothing is filtered)."""
        parts = []
        if self.article_ids is not None:
            parts.append(f"article_id in {_list(self.article_ids)}")
        if self.sources is not None:
            parts.append(f"source in {_list(self.sources)}")
        if self.date_from is not None:
            parts.append(f"date >= {_literal(self.date_from)}")
        if self.date_to is not None:
            parts.append(f"date <= {_literal(self.date_to)}")
        return " and ".join(parts)


def _literal(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _list(values: Sequence[str]) -> str:
    return "[" + ", ".join(_literal(v) for v in values) + "]"


class MilvusChunks:
    """One collection of chunk rows (see the module doc); thread-safe."""

    def __init__(
        self,
        uri: str,
        collection: str,
        dimension: int,
        *,
        token: str | None = None,
        timeout_s: float = 5.0,
        bigrams: bool = True,
    ) -> None:
        self.uri = uri
        self.collection = collection
        self.dimension = dimension
        self.timeout_s = timeout_s
        self.bigrams = bigrams
        self.where = f"Milvus at {uri}"
        self._token = token
        self._lock = threading.Lock()
        self._broken = False  # the last call could not reach Milvus: reconnect first
        try:
            self._client = self._connect()
            self._ensure_collection()
        except MilvusException as exc:
            raise self._unavailable(exc) from exc
        except Exception as exc:  # grpc's own errors (refused, deadline) are not Milvus's
            raise self._unavailable(exc) from exc

    def _unavailable(self, exc: BaseException) -> BackendUnavailableError:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return BackendUnavailableError(
            f"{self.where} did not answer within {self.timeout_s:g} s ({first[:300]}); "
            "retry when it is back"
        )

    def _connect(self) -> MilvusClient:
        # Dedicated: pymilvus shares one channel per address between clients, and a
        # channel whose recovery failed would stay shared; a fresh one starts clean.
        return MilvusClient(
            uri=self.uri, token=self._token or "", timeout=self.timeout_s, dedicated=True
        )

    def _current(self) -> MilvusClient:
        """The client, replaced by a fresh one after a call found Milvus unreachable.

        pymilvus gives up on a channel whose server went away; a new client
        reconnects once the server is back (until then it fails within the timeout).
        """
        with self._lock:
            if self._broken:
                fresh = self._connect()
                old, self._client, self._broken = self._client, fresh, False
                try:
                    old.close()
                except Exception:  # the old channel is already dead
                    logger.debug("closing the old Milvus client failed", exc_info=True)
                logger.info("reconnected to %s", self.where)
            return self._client

    def _call(self, method: str, *args, **kwargs):
        try:
            try:
                return getattr(self._current(), method)(*args, timeout=self.timeout_s, **kwargs)
            except MilvusException as exc:
                if getattr(exc, "code", None) != _NOT_LOADED:
                    raise
                # A restarted Milvus Lite forgets which collections were loaded.
                logger.info("loading %s again after a restart of %s", self.collection, self.where)
                self._current().load_collection(self.collection, timeout=self.timeout_s)
                return getattr(self._current(), method)(*args, timeout=self.timeout_s, **kwargs)
        except MilvusException as exc:
            if getattr(exc, "code", None) in (1, 2, 100):  # unexpected / connect / not found
                self._broken = True
                raise self._unavailable(exc) from exc
            raise
        except Exception as exc:
            self._broken = True
            raise self._unavailable(exc) from exc

    def _ensure_collection(self) -> None:
        if self._client.has_collection(self.collection, timeout=self.timeout_s):
            self._check_dimension()
        else:
            try:
                self._create()
            except MilvusException as exc:  # another replica created it meanwhile
                if not self._client.has_collection(self.collection, timeout=self.timeout_s):
                    raise
                logger.info("collection %s created by another replica (%s)", self.collection, exc)
            self._check_dimension()
        self._client.load_collection(self.collection, timeout=self.timeout_s)

    def _check_dimension(self) -> None:
        info = self._client.describe_collection(self.collection, timeout=self.timeout_s)
        for field in info.get("fields", []):
            if field.get("name") == "vector":
                dim = int(field.get("params", {}).get("dim", self.dimension))
                if dim != self.dimension:
                    raise ValueError(
                        f"the Milvus collection {self.collection} holds {dim}-dimensional "
                        f"vectors but the embedder makes {self.dimension}: point "
                        "VNQA_MILVUS_COLLECTION at another collection or reindex"
                    )

    def _create(self) -> None:
        schema = self._client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("article_id", DataType.VARCHAR, max_length=_ID_MAX)
        schema.add_field("source", DataType.VARCHAR, max_length=_FIELD_MAX, nullable=True)
        schema.add_field("date", DataType.VARCHAR, max_length=64, nullable=True)
        analyzer = {"tokenizer": "standard"}  # tokens are opaque words: see milvus_terms
        for name in ("terms", "folded"):
            schema.add_field(
                name,
                DataType.VARCHAR,
                max_length=_VARCHAR_MAX,
                enable_analyzer=True,
                analyzer_params=analyzer,
            )
            schema.add_field(f"{name}_bm25", DataType.SPARSE_FLOAT_VECTOR)
            schema.add_function(
                Function(
                    name=f"{name}_bm25_fn",
                    function_type=FunctionType.BM25,
                    input_field_names=[name],
                    output_field_names=[f"{name}_bm25"],
                )
            )
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dimension)
        params = self._client.prepare_index_params()
        params.add_index("vector", index_type="AUTOINDEX", metric_type="IP")
        for name in ("terms", "folded"):
            # The embedded BM25's k1 and b (a server's own default k1 is 1.2).
            params.add_index(
                f"{name}_bm25",
                index_type="SPARSE_INVERTED_INDEX",
                metric_type="BM25",
                params={"bm25_k1": _BM25["k1"], "bm25_b": _BM25["b"]},
            )
        self._client.create_collection(
            self.collection,
            schema=schema,
            index_params=params,
            consistency_level="Strong",
            timeout=self.timeout_s,
        )
        logger.info("created Milvus collection %s (dimension %d)", self.collection, self.dimension)

    # -- writes ---------------------------------------------------------------------
    def upsert(self, entries: Sequence[ChunkEntry], vectors: np.ndarray) -> None:
        """Insert or overwrite rows (by chunk id)."""
        if not entries:
            return
        rows = [
            {
                "id": e.id,
                "article_id": e.article_id,
                "source": e.source,
                "date": e.date,
                "terms": main_terms(e.text, bigrams=self.bigrams)[:_VARCHAR_MAX],
                "folded": folded_terms(e.text, bigrams=self.bigrams)[:_VARCHAR_MAX],
                "vector": np.asarray(v, dtype=np.float32).tolist(),
            }
            for e, v in zip(entries, vectors, strict=True)
        ]
        for i in range(0, len(rows), 512):  # bounded gRPC messages
            self._call("upsert", self.collection, rows[i : i + 512])

    def delete(self, ids: Sequence[int]) -> None:
        """Remove rows by chunk id (missing ids are ignored)."""
        ids = [int(i) for i in ids]
        for i in range(0, len(ids), 1000):
            self._call("delete", self.collection, ids=ids[i : i + 1000])

    def drop(self) -> None:
        """Drop the whole collection (tests, reindex)."""
        self._call("drop_collection", self.collection)

    # -- reads ----------------------------------------------------------------------
    def search_dense(
        self, vector: np.ndarray, k: int, flt: ChunkFilter | None = None
    ) -> list[tuple[int, float]]:
        """Top ``k`` (chunk id, inner product), best first."""
        res = self._call(
            "search",
            self.collection,
            data=[np.asarray(vector, np.float32).tolist()],
            anns_field="vector",
            limit=k,
            filter=flt.expression() if flt else "",
            output_fields=["id"],
            search_params={"metric_type": "IP"},
            consistency_level="Strong",
        )
        return [(int(h["id"]), float(h["distance"])) for h in res[0]]

    def search_bm25(
        self, query: str, k: int, flt: ChunkFilter | None = None, *, folded: bool = False
    ) -> list[tuple[int, float]]:
        """Top ``k`` (chunk id, BM25 score) with a positive score, best first."""
        field = "folded" if folded else "terms"
        terms = (folded_terms if folded else main_terms)(query, bigrams=self.bigrams)
        if not terms:
            return []
        res = self._call(
            "search",
            self.collection,
            data=[terms],
            anns_field=f"{field}_bm25",
            limit=k,
            filter=flt.expression() if flt else "",
            output_fields=["id"],
            search_params={"metric_type": "BM25"},
            consistency_level="Strong",
        )
        # Milvus Lite negates BM25 scores; a server does not. Either way best comes first.
        hits = [(int(h["id"]), abs(float(h["distance"]))) for h in res[0]]
        return [(cid, s) for cid, s in hits if s > 0]

    def all_ids(self) -> list[int]:
        """Every chunk id in the collection (for :meth:`SharedIndex.sweep`)."""
        try:
            it = self._current().query_iterator(
                self.collection,
                batch_size=1000,
                filter="",
                output_fields=["id"],
                timeout=self.timeout_s,
            )
            ids: list[int] = []
            while batch := it.next():
                ids.extend(int(r["id"]) for r in batch)
            it.close()
        except Exception as exc:
            self._broken = True
            raise self._unavailable(exc) from exc
        return ids

    def count(self) -> int:
        """Rows in the collection (exact: a ``count(*)`` query)."""
        res = self._call(
            "query",
            self.collection,
            filter="",
            output_fields=["count(*)"],
            consistency_level="Strong",
        )
        return int(res[0]["count(*)"])

    def ping(self) -> None:
        """Raise :class:`BackendUnavailableError` unless Milvus answers now."""
        self._call("has_collection", self.collection)

    def close(self) -> None:
        """Close the client."""
        try:
            self._client.close()
        except Exception:  # closing a client whose server is gone
            logger.debug("closing the Milvus client failed", exc_info=True)
