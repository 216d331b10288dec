"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread
from fastapi import FastAPI

from service.api.deps import Offload
from service.api.errors import BodySizeLimitMiddleware, install_error_handlers
from service.api.routes import articles, ask, health, search, summarize
from service.core.config import Settings, get_settings
from service.runtime import Runtime, build_runtime

logger = logging.getLogger(__name__)

DESCRIPTION = """
Hỏi đáp và tóm tắt tin tức tiếng Việt trên mô hình chạy cục bộ.

* **/v1/articles** — lưu, liệt kê, xem, xoá bài báo.
* **/v1/search** — tìm đoạn văn liên quan (FAISS + BM25, kết hợp bằng RRF).
* **/v1/ask** — trả lời câu hỏi: tóm tắt các đoạn liên quan, đánh dấu câu khớp nhất.
* **/v1/summarize** — tóm tắt một văn bản hoặc một bài đã lưu.

Errors are JSON: `{"error": {"code": "...", "message": "..."}}`.
"""


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """Build the app.

    Without ``runtime`` the lifespan builds one from ``settings`` at start-up and
    closes its index at shutdown. A ``runtime`` passed in (tests, ``vnqa serve``) is
    used as is and left open: whoever built it closes it.
    """
    if settings is None:
        settings = runtime.settings if runtime is not None else get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.offload = Offload(anyio.CapacityLimiter(settings.inference_workers))
        owned: Runtime | None = None
        if app.state.runtime is None:
            logger.info("building runtime (data dir %s)", settings.data_dir)
            owned = await anyio.to_thread.run_sync(build_runtime, settings)
            app.state.runtime = owned
        try:
            yield
        finally:
            if owned is not None:
                await anyio.to_thread.run_sync(owned.close)
                app.state.runtime = None

    app = FastAPI(
        title="vnqa — Vietnamese news Q&A",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.runtime = runtime
    install_error_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    for module in (articles, search, ask, summarize, health):
        app.include_router(module.router)
    return app
