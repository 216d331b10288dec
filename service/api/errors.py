"""One JSON error shape for every failure: ``{"error": {"code": ..., "message": ...}}``.

Messages say what to change in the request. Validation errors also carry
``details``: one ``{"field", "message"}`` entry per problem.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from index.documents import ArticleFormatError
from index.engine import IndexLockedError, IndexMismatchError
from models.errors import ModelNotAvailableError
from service.answering import ArticleNotFoundError

logger = logging.getLogger(__name__)

_STATUS_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    503: "unavailable",
}


class ApiError(Exception):
    """An error with an HTTP status, a stable machine code and a human message."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message


class InvalidRequestError(ApiError):
    """A request that parses but breaks a configured limit or rule (422)."""

    def __init__(self, message: str, code: str = "validation_error") -> None:
        super().__init__(422, code, message)


def error_response(
    status_code: int, code: str, message: str, details: list[dict[str, str]] | None = None
) -> JSONResponse:
    """The JSON response every error handler returns."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return JSONResponse({"error": error}, status_code=status_code)


def _field_path(loc: Sequence[Any]) -> str:
    """``("body", "batch", "articles", 2, "text")`` -> ``"articles[2].text"``."""
    parts: list[str] = []
    items = list(loc)
    if items and items[0] in ("body", "query", "path", "header", "cookie"):
        source, items = items[0], items[1:]
    else:
        source = ""
    # Tags of the single-or-batch body union, and pydantic's "function-after[...]" noise.
    items = [i for i in items if i not in ("single", "batch") and not str(i).startswith("function")]
    for item in items:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    path = "".join(parts)
    if not path:
        return "request body" if source == "body" else source or "request"
    return path


def _clean_message(msg: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix) :]
    return msg


def describe_validation_errors(errors: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """Turn pydantic errors into ``{"field", "message"}`` pairs."""
    described = []
    for err in errors:
        field = _field_path(err.get("loc", ()))
        message = _clean_message(str(err.get("msg", "invalid value")))
        if err.get("type") == "json_invalid":
            field, message = "request body", f"is not valid JSON ({message})"
        elif err.get("type") == "missing" and field == "request body":
            message = "is required: send a JSON object (Content-Type: application/json)"
        described.append({"field": field, "message": message})
    return described


async def _validation_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    details = describe_validation_errors(exc.errors())
    message = "; ".join(f"{d['field']}: {d['message']}" for d in details) or "invalid request"
    return error_response(422, "validation_error", message, details)


async def _api_error_handler(request: Request, exc: ApiError) -> JSONResponse:
    return error_response(exc.status_code, exc.code, exc.message)


async def _not_found_handler(request: Request, exc: ArticleNotFoundError) -> JSONResponse:
    return error_response(404, "article_not_found", str(exc))


async def _article_format_handler(request: Request, exc: ArticleFormatError) -> JSONResponse:
    return error_response(422, "invalid_article", str(exc))


async def _mismatch_handler(request: Request, exc: IndexMismatchError) -> JSONResponse:
    return error_response(409, "index_mismatch", str(exc))


async def _locked_handler(request: Request, exc: IndexLockedError) -> JSONResponse:
    return error_response(409, "index_locked", str(exc))


async def _model_handler(request: Request, exc: ModelNotAvailableError) -> JSONResponse:
    return error_response(503, "model_unavailable", str(exc))


async def _http_handler(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _STATUS_CODES.get(exc.status_code, "http_error")
    message = str(exc.detail)
    if exc.status_code == 404 and message == "Not Found":
        message = f"No route {request.method} {request.url.path}; the API is described at /docs."
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}; see /docs."
    response = error_response(exc.status_code, code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _unhandled_handler(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(
        500, "internal_error", f"Internal error ({type(exc).__name__}); see the server log."
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the JSON error handlers on ``app``."""
    app.add_exception_handler(RequestValidationError, _validation_handler)  # type: ignore[arg-type]
    app.add_exception_handler(ApiError, _api_error_handler)  # type: ignore[arg-type]
    app.add_exception_handler(ArticleNotFoundError, _not_found_handler)  # type: ignore[arg-type]
    app.add_exception_handler(ArticleFormatError, _article_format_handler)  # type: ignore[arg-type]
    app.add_exception_handler(IndexMismatchError, _mismatch_handler)  # type: ignore[arg-type]
    app.add_exception_handler(IndexLockedError, _locked_handler)  # type: ignore[arg-type]
    app.add_exception_handler(ModelNotAvailableError, _model_handler)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_handler)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unhandled_handler)


class BodySizeLimitMiddleware:
    """Reject request bodies over ``max_bytes`` with a JSON 413.

    A declared ``Content-Length`` over the limit is refused before reading; bodies
    without one (chunked uploads) are counted as they stream in and refused as soon
    as they pass the limit. Accepted bodies are buffered and replayed to the app.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self, size: str) -> JSONResponse:
        return error_response(
            413,
            "payload_too_large",
            f"Request body is {size}; the limit is {self.max_bytes} bytes "
            "(VNQA_MAX_BODY_BYTES). Send fewer or shorter articles per request.",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await error_response(
                    400, "bad_request", "Content-Length header is not an integer."
                )(scope, receive, send)
                return
            if length > self.max_bytes:
                await self._too_large(f"{length} bytes")(scope, receive, send)
                return

        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # client went away
                return
            body = message.get("body", b"")
            received += len(body)
            if received > self.max_bytes:
                await self._too_large(f"over {self.max_bytes} bytes")(scope, receive, send)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
