"""The FastAPI application factory."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread
from fastapi import FastAPI

from service.api.background import install_activity, start_background_work
from service.api.body_limit import BodySizeLimitMiddleware
from service.api.errors import ERROR_RESPONSES, install_error_handlers
from service.api.observability import install_observability
from service.api.offload import install_lanes, make_offloads
from service.api.routes import (
    admin,
    articles,
    ask,
    digest,
    fetch,
    health,
    openai_chat,
    search,
    summarize,
    upload,
    web,
)
from service.api.security import install_security
from service.core.config import Settings, get_settings
from service.mcp_server import mount_mcp
from service.runtime import Runtime, build_runtime

logger = logging.getLogger(__name__)

DESCRIPTION = """
Hỏi đáp và tóm tắt tin tức tiếng Việt trên mô hình chạy cục bộ.

* **/v1/articles** — lưu, liệt kê, xem, xoá bài báo.
* **/v1/search** — tìm đoạn văn liên quan (FAISS + BM25, kết hợp lồi; RRF khi `VNQA_FUSION=rrf`).
* **/v1/ask** — trả lời câu hỏi: tóm tắt các đoạn liên quan, đánh dấu câu khớp nhất.
* **/v1/summarize** — tóm tắt một văn bản hoặc một bài đã lưu.

Errors are JSON: `{"error": {"code": "...", "message": "..."}}`.
"""


def create_app(
    settings: Settings | None = None,
    runtime: Runtime | None = None,
    *,
    close_runtime: bool = False,
) -> FastAPI:
    """Build the app.

    Without ``runtime`` the lifespan builds one from ``settings`` at start-up and
    closes its index at shutdown. A ``runtime`` passed in (tests) is used as is and
    left open, unless ``close_runtime`` (``vnqa serve``): then the lifespan closes it,
    because after a SIGTERM uvicorn re-raises the signal and nothing after
    ``uvicorn.run`` gets to run.
    """
    if settings is None:
        settings = runtime.settings if runtime is not None else get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(settings.gil_switch_ms / 1000)  # VNQA_GIL_SWITCH_MS
        metrics = getattr(app.state, "metrics", None)
        install_lanes(
            app.state,
            make_offloads(settings, metrics.observe_inference if metrics is not None else None),
        )
        owned: Runtime | None = None
        if app.state.runtime is None:
            logger.info("building runtime (data dir %s)", settings.data_dir)
            owned = await anyio.to_thread.run_sync(build_runtime, settings)
            app.state.runtime = owned
        background = start_background_work(app)
        try:
            async with app.state.mcp.running():  # MCP's streamable-HTTP sessions
                yield
        finally:
            try:
                await anyio.to_thread.run_sync(background.stop)
                # Graceful shutdown: let running writes (and reads) finish before closing.
                await app.state.write_offload.drain()
                await app.state.offload.drain()
                await app.state.search_offload.drain()
                # Closing checkpoints the write-ahead log into the main file.
                if owned is not None:
                    await anyio.to_thread.run_sync(owned.close)
                    app.state.runtime = None
                elif close_runtime and app.state.runtime is not None:
                    await anyio.to_thread.run_sync(app.state.runtime.close)
            finally:
                sys.setswitchinterval(switch_interval)

    app = FastAPI(
        title="vnqa — Vietnamese news Q&A",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.state.settings = settings
    app.state.runtime = runtime
    install_error_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    install_security(app, settings)  # API keys (all /v1, /mcp, /metrics), then CORS
    install_activity(app)  # requests in flight: the background work gives way to them
    install_observability(app)  # outermost: request id, JSON access log, /metrics
    for module in (
        fetch,
        articles,
        upload,
        search,
        ask,
        summarize,
        digest,
        admin,
        health,
        openai_chat,
    ):
        app.include_router(module.router)
    app.state.mcp = mount_mcp(app, settings)  # POST/GET/DELETE /mcp
    app.include_router(web.router)  # the page at /
    return app
