"""Request ids, one JSON log line per request, and Prometheus metrics at ``/metrics``.

* ``X-Request-ID``: a sane incoming value (1–128 of ``A-Za-z0-9._:-``) is kept,
  anything else is replaced by a fresh id; the response always carries it and routes
  find it in ``request.state.request_id``.
* Access log: logger ``vnqa.access``, one record per request with the id, method,
  route template, status and latency in ms. Never headers, bodies or query strings,
  so keys and article text stay out of logs.
* Metrics: a registry per app (several apps can live in one test process) with
  request counts and latencies per route template, requests in flight, index size,
  inference run time per operation, queue depth and shed calls, and the runtime's
  model latency histograms (:mod:`service.instrumentation`).

The middleware is pure ASGI, so streamed (SSE) responses pass through unbuffered;
for those the latency is measured to the last byte.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.routing import match_route

access_logger = logging.getLogger("vnqa.access")

_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
UNMATCHED_ROUTE = "<unmatched>"


class HttpMetrics:
    """The app's Prometheus registry and its HTTP and inference instruments."""

    def __init__(self, app: FastAPI) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "vnqa_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "vnqa_http_request_duration_seconds",
            "HTTP request latency (to the last byte) by method and route template.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_progress = Gauge(
            "vnqa_http_requests_in_progress", "Requests being served.", registry=self.registry
        )
        self.inference = Histogram(
            "vnqa_inference_seconds",
            "Run time of offloaded calls in their worker thread (queueing excluded), "
            "by operation: search, answer, summarize_text, add_articles…",
            ["operation"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_AppStateCollector(app))

    def observe_inference(self, operation: str, seconds: float) -> None:
        """Record one offloaded call (thread-safe; called from worker threads)."""
        self.inference.labels(operation=operation).observe(seconds)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)


class _AppStateCollector(Collector):
    """Values read at scrape time from ``app.state``: index size, lanes, model latency."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterable[Metric]:
        state = self.app.state
        runtime = getattr(state, "runtime", None)
        articles = GaugeMetricFamily("vnqa_index_articles", "Articles stored.")
        chunks = GaugeMetricFamily("vnqa_index_chunks", "Chunks (passages) indexed.")
        if runtime is not None:
            try:
                stats = runtime.index.stats()
            except Exception:  # closed during shutdown: report nothing rather than fail
                stats = None
            if stats is not None:
                articles.add_metric([], stats.articles)
                chunks.add_metric([], stats.chunks)
        yield articles
        yield chunks
        in_flight = GaugeMetricFamily(
            "vnqa_offload_in_flight", "Offloaded calls running or queued, by lane.", labels=["lane"]
        )
        waiting = GaugeMetricFamily(
            "vnqa_offload_waiting", "Offloaded calls queued for a worker, by lane.", labels=["lane"]
        )
        shed = GaugeMetricFamily(
            "vnqa_offload_shed", "Calls refused with 503 since start, by lane.", labels=["lane"]
        )
        for name in ("search_offload", "offload", "write_offload"):
            lane = getattr(state, name, None)
            if lane is not None:
                in_flight.add_metric([lane.lane], lane.in_flight)
                waiting.add_metric([lane.lane], lane.waiting)
                shed.add_metric([lane.lane], lane.shed)
        yield in_flight
        yield waiting
        yield shed
        model_metrics = getattr(runtime, "model_metrics", None)
        if model_metrics is not None:
            yield from model_metrics.collect()


def route_template(app: FastAPI, scope: Scope) -> str:
    """The matched route's path template (``/v1/articles/{article_id}``), bounded in number."""
    route = scope.get("route")
    if route is not None and getattr(route, "path", None):
        return route.path
    # Not routed (refused by a middleware): find the route it would have reached.
    return match_route(app.router.routes, scope) or UNMATCHED_ROUTE


class RequestContextMiddleware:
    """Request id, access log line and HTTP metrics for every request."""

    def __init__(self, app: ASGIApp, fastapi_app: FastAPI, metrics: HttpMetrics) -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = _header(scope, b"x-request-id")
        request_id = (
            incoming if incoming and _REQUEST_ID_RE.fullmatch(incoming) else uuid.uuid4().hex
        )
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        finished = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, finished
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                finished = True
            await send(message)

        self.metrics.in_progress.inc()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.metrics.in_progress.dec()
            elapsed = time.perf_counter() - started
            method = scope.get("method", "GET")
            route = route_template(self.fastapi_app, scope)
            self.metrics.requests.labels(method=method, route=route, status=str(status)).inc()
            self.metrics.latency.labels(method=method, route=route).observe(elapsed)
            access_logger.info(
                "%s %s %d %.1fms",
                method,
                route,
                status,
                elapsed * 1000,
                extra={
                    "fields": {
                        "event": "request",
                        "request_id": request_id,
                        "method": method,
                        "route": route,
                        "path": scope.get("path", ""),
                        "status": status,
                        "latency_ms": round(elapsed * 1000, 1),
                        "completed": finished,
                    }
                },
            )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key == name:
            return value.decode("latin-1")
    return None


def install_observability(app: FastAPI) -> HttpMetrics:
    """Add the request-context middleware (call it last: it must be outermost) and
    the ``/metrics`` route; the metrics object is kept on ``app.state.metrics``."""
    metrics = HttpMetrics(app)
    app.state.metrics = metrics

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics(request: Request) -> Response:
        return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(RequestContextMiddleware, fastapi_app=app, metrics=metrics)
    return metrics


# -- logging ------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_json_logging(level: int = logging.INFO) -> None:
    """Send every log record (ours, uvicorn's, libraries') to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(level)  # also for libraries that lower their own loggers' level
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
