"""One call run on a thread of its own beside the caller's work, in the caller's cost class.

A hybrid search runs its keyword search this way while the calling thread embeds the
query and searches the vectors: tantivy, FAISS and ONNX Runtime release the GIL, so the
two halves take two cores and the search costs the longer of them, not their sum.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from models import priority

T = TypeVar("T")


class Beside(Generic[T]):
    """Start ``call`` on a new thread now; :meth:`result` waits for what it returned.

    The thread runs as the caller's cost class (:func:`models.priority.current`), and
    counts as running work of that class while it runs (it holds a core, as the
    caller does). A caller must not hold a lock ``call`` needs while it waits in
    :meth:`result`.
    """

    def __init__(self, call: Callable[[], T], *, name: str = "vnqa-beside") -> None:
        cost_class = priority.current()
        self._value: T | None = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                with priority.GATE.running(cost_class):
                    self._value = call()
            except BaseException as exc:  # handed to the caller by result()
                self._error = exc

        self._thread = threading.Thread(target=run, name=name, daemon=True)
        self._thread.start()

    def result(self) -> T:
        """Wait for the call; return its value or raise what it raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]
