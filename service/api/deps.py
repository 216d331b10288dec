"""FastAPI dependencies: everything a route needs, read from ``request.app.state``.

The app factory stores the :class:`Settings`, the :class:`Runtime` and a capacity
limiter on ``app.state``; routes declare what they use with the ``Annotated``
aliases below, never reaching for globals.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, ParamSpec, TypeVar

import anyio
import anyio.to_thread
from fastapi import Depends, Request

from index.engine import ArticleIndex
from service.answering import Answerer
from service.api.errors import ApiError
from service.core.config import Settings
from service.runtime import Runtime

P = ParamSpec("P")
T = TypeVar("T")


def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings


def get_runtime(request: Request) -> Runtime:
    """The runtime built at start-up; 503 while it is not ready."""
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None:
        raise ApiError(503, "not_ready", "The service is still starting; retry in a few seconds.")
    return runtime


def get_index(runtime: Annotated[Runtime, Depends(get_runtime)]) -> ArticleIndex:
    """The article index."""
    return runtime.index


def get_answerer(runtime: Annotated[Runtime, Depends(get_runtime)]) -> Answerer:
    """The question answerer."""
    return runtime.answerer


class Offload:
    """Run CPU-bound calls in worker threads, at most ``inference_workers`` at once."""

    def __init__(self, limiter: anyio.CapacityLimiter) -> None:
        self.limiter = limiter

    async def __call__(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``await offload(func, *args, **kwargs)`` off the event loop."""
        return await anyio.to_thread.run_sync(
            functools.partial(func, *args, **kwargs), limiter=self.limiter
        )


def get_offload(request: Request) -> Offload:
    """The app's bounded thread offloader (created on first use if start-up did not)."""
    state = request.app.state
    offload = getattr(state, "offload", None)
    if offload is None:
        offload = Offload(anyio.CapacityLimiter(state.settings.inference_workers))
        state.offload = offload
    return offload


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
IndexDep = Annotated[ArticleIndex, Depends(get_index)]
AnswererDep = Annotated[Answerer, Depends(get_answerer)]
OffloadDep = Annotated[Offload, Depends(get_offload)]
