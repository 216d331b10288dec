"""Model latency histograms: every embedder and summarizer call, timed.

:func:`timed_embedder` and :func:`timed_summarizer` wrap the runtime's models in
thin proxies that time each call into a :class:`ModelMetrics` collector (Prometheus histograms kept
in no registry of their own; the app's ``/metrics`` collects them). Everything else
is forwarded untouched, so the proxies stand in wherever the real objects do.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import Histogram
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class ModelMetrics(Collector):
    """``vnqa_model_seconds{model, operation}``: time spent inside model calls."""

    def __init__(self) -> None:
        self.seconds = Histogram(
            "vnqa_model_seconds",
            "Time inside model calls: embedder (embed_queries, embed_passages) and "
            "summarizer (summarize, summarize_passages).",
            ["model", "operation"],
            buckets=_BUCKETS,
            registry=None,
        )

    def collect(self) -> Iterable[Metric]:
        """The histogram's samples (for a registry that registers this collector)."""
        return self.seconds.collect()

    def timed(self, model: str, operation: str, func: Callable[..., Any]) -> Callable[..., Any]:
        """``func`` that records its run time under ``model`` and ``operation``."""
        child = self.seconds.labels(model=model, operation=operation)

        def call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                child.observe(time.perf_counter() - started)

        return call


class _TimedProxy:
    """Forwards every attribute to ``target``; the named methods are timed."""

    def __init__(self, target: Any, metrics: ModelMetrics, model: str, methods: tuple[str, ...]):
        self._target = target
        for name in methods:
            if hasattr(target, name):
                setattr(self, name, metrics.timed(model, name, getattr(target, name)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


def timed_embedder(embedder: Any, metrics: ModelMetrics) -> Any:
    """A stand-in for ``embedder`` whose ``embed_queries``/``embed_passages`` are timed."""
    return _TimedProxy(embedder, metrics, "embedder", ("embed_queries", "embed_passages"))


def timed_summarizer(summarizer: Any, metrics: ModelMetrics) -> Any:
    """A stand-in for ``summarizer`` whose ``summarize``/``summarize_passages`` are timed."""
    return _TimedProxy(summarizer, metrics, "summarizer", ("summarize", "summarize_passages"))
