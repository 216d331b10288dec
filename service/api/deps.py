"""FastAPI dependencies: everything a route needs, read from ``request.app.state``.

The app factory stores the :class:`Settings`, the :class:`Runtime` and the two
offload lanes (:mod:`service.api.offload`) on ``app.state``; routes declare what they
use with the ``Annotated`` aliases below, never reaching for globals.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from index.engine import ArticleIndex
from service.answering import Answerer
from service.api.errors import ApiError
from service.api.offload import Offload, make_offloads
from service.core.config import Settings
from service.runtime import Runtime


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


def _lanes(request: Request) -> tuple[Offload, Offload]:
    state = request.app.state
    if getattr(state, "offload", None) is None or getattr(state, "write_offload", None) is None:
        state.offload, state.write_offload = make_offloads(state.settings)
    return state.offload, state.write_offload


def get_offload(request: Request) -> Offload:
    """The app's bounded offloader for inference (created on first use if start-up did not)."""
    return _lanes(request)[0]


def get_write_offload(request: Request) -> Offload:
    """The app's single-worker offloader for index writes."""
    return _lanes(request)[1]


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
IndexDep = Annotated[ArticleIndex, Depends(get_index)]
AnswererDep = Annotated[Answerer, Depends(get_answerer)]
OffloadDep = Annotated[Offload, Depends(get_offload)]
WriteOffloadDep = Annotated[Offload, Depends(get_write_offload)]
