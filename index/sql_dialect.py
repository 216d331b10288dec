"""The few ways SQLite and PostgreSQL SQL differ, for the stores that speak both.

The summary stores (:mod:`index.summary_store`, :mod:`index.pg_summary_store`) and the
feed-state stores (:mod:`index.feed_state`) write each query once, as a template with
``?`` parameters and ``{name}`` slots; :meth:`Dialect.sql` turns it into the dialect's
text: table names (``summaries`` / ``vnqa_summaries``), the parameter mark, null-safe
inequality, row locking and the current time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

# Tables whose PostgreSQL names carry the ``vnqa_`` prefix (one database may hold more).
_TABLES = ("articles", "summaries", "feed_items", "feed_polls")


@dataclass(frozen=True, slots=True)
class Dialect:
    """One database's spelling of what the shared queries need."""

    name: str
    param: str  # the parameter mark: "?" or "%s"
    prefix: str  # table-name prefix
    distinct: str  # null-safe "is not equal to"
    skip_locked: str  # row locking for a claim ("" where writes are serialized anyway)
    now: str  # the current time, seconds since the epoch (the server's clock)
    unclaim: str  # SET items clearing a summary's claim lease ("" where claims are in memory)

    def sql(self, template: str) -> str:
        """``template`` in this dialect: ``{summaries}`` etc. named, ``?`` marks replaced."""
        return _render(self, template)


@lru_cache(maxsize=256)
def _render(dialect: Dialect, template: str) -> str:
    names = {t: dialect.prefix + t for t in _TABLES}
    text = template.format(
        **names,
        distinct=dialect.distinct,
        skip_locked=dialect.skip_locked,
        now=dialect.now,
        unclaim=dialect.unclaim,
    )
    return text.replace("?", dialect.param)


SQLITE = Dialect(
    name="sqlite",
    param="?",
    prefix="",
    distinct="IS NOT",
    skip_locked="",
    now="((julianday('now') - 2440587.5) * 86400.0)",
    unclaim="",
)
POSTGRESQL = Dialect(
    name="postgresql",
    param="%s",
    prefix="vnqa_",
    distinct="IS DISTINCT FROM",
    skip_locked="FOR UPDATE SKIP LOCKED",
    now="EXTRACT(EPOCH FROM clock_timestamp())::double precision",
    unclaim=", claimed_by = NULL, claimed_until = NULL",
)
