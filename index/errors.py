"""Failures of the index's storage that callers turn into clear messages.

Each carries a message that says what happened and what to do; the API maps them to
status codes (507, 503) and the CLI prints them as one line.
"""

from __future__ import annotations


class StoreDamagedError(RuntimeError):
    """The SQLite store cannot be read (not a database, malformed, or missing)."""


class DiskFullError(RuntimeError):
    """A write found the disk full; nothing of that write was committed."""


class IndexReadOnlyError(RuntimeError):
    """The index was opened read-only (e.g. the store lost commits); writes are refused."""


class IndexMismatchError(RuntimeError):
    """The stored vectors come from another embedding model than the one loaded."""


class IndexLockedError(RuntimeError):
    """Another process has this index open for writing."""


class BackendUnavailableError(RuntimeError):
    """A shared backend (PostgreSQL, Milvus) did not answer in time; the API answers 503."""
