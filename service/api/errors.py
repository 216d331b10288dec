"""One JSON error shape for every failure: ``{"error": {"code": ..., "message": ...}}``.

Messages say what to change in the request. Validation errors also carry
``details``: one ``{"field", "message"}`` entry per problem.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from index.article_files import MAX_JSON_INT_DIGITS
from index.documents import ArticleFormatError
from index.errors import (
    BackendUnavailableError,
    DiskFullError,
    IndexLockedError,
    IndexMismatchError,
    IndexReadOnlyError,
)
from models.errors import ModelNotAvailableError
from service.answering import ArticleNotFoundError
from service.limits import RequestRejected

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
    507: "insufficient_storage",
}


class ErrorDetail(BaseModel):
    """One problem with one field."""

    field: str
    message: str


class ErrorLimit(BaseModel):
    """The configured limit a request broke."""

    setting: str = Field(description="The VNQA_* setting, e.g. VNQA_MAX_TOP_K.")
    value: int = Field(description="Its value on this server.")


class ErrorInfo(BaseModel):
    """What went wrong and what to change."""

    code: str = Field(description="Stable machine code, e.g. validation_error, limit_exceeded.")
    message: str = Field(description="What to change in the request.")
    type: str = Field(description="OpenAI-style category, e.g. invalid_request_error.")
    details: list[ErrorDetail] | None = None
    limit: ErrorLimit | None = None


class ErrorBody(BaseModel):
    """Every error response: ``{"error": {"code", "message", ...}}``."""

    error: ErrorInfo


def _documented(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _documented("Malformed request (e.g. a body that is not UTF-8)."),
    401: _documented("API keys are configured and the request has no valid key."),
    403: _documented("The API key's scope does not allow this request."),
    404: _documented("Unknown article or route."),
    409: _documented("The index was built with another embedding model, or is locked."),
    413: _documented("Request body over VNQA_MAX_BODY_BYTES."),
    422: _documented("Invalid input or a configured limit exceeded (named in `error.limit`)."),
    503: _documented(
        "Starting up, overloaded (see Retry-After), the index is read-only, or a shared "
        "backend (PostgreSQL, Milvus) did not answer."
    ),
    507: _documented("The disk holding the index is full; nothing of the request was stored."),
}
"""Documented on every operation so clients (and schemathesis) know the error shape."""


class ApiError(Exception):
    """An error with an HTTP status, a stable machine code and a human message."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.headers = headers
        self.extra = extra  # more fields of the error object, e.g. ``limit``


class InvalidRequestError(ApiError):
    """A request that parses but breaks a configured limit or rule (422)."""

    def __init__(self, message: str, code: str = "validation_error") -> None:
        super().__init__(422, code, message)


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: list[dict[str, str]] | None = None,
    *,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """The JSON response every error handler returns.

    ``type`` is OpenAI's error category, so every vnqa error is also a valid OpenAI
    error object (chat clients on ``/v1/chat/completions`` parse 401, 413 and 503 too).
    """
    error: dict[str, Any] = {"code": code, "message": message, "type": _error_type(status_code)}
    if details:
        error["details"] = details
    if extra:
        error.update(extra)
    return JSONResponse({"error": error}, status_code=status_code, headers=headers)


def _error_type(status_code: int) -> str:
    return {
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        503: "overloaded_error",
    }.get(status_code, "server_error" if status_code >= 500 else "invalid_request_error")


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
    return error_response(
        exc.status_code, exc.code, exc.message, headers=exc.headers, extra=exc.extra
    )


async def _rejected_handler(request: Request, exc: RequestRejected) -> JSONResponse:
    """A check of :mod:`service.limits` refused the input: 422, ``error.limit`` naming
    the setting when a configured limit was broken."""
    extra = {"limit": exc.limit} if exc.limit is not None else None
    return error_response(422, exc.code, exc.message, extra=extra)


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


async def _disk_full_handler(request: Request, exc: DiskFullError) -> JSONResponse:
    return error_response(507, "insufficient_storage", str(exc))


async def _read_only_handler(request: Request, exc: IndexReadOnlyError) -> JSONResponse:
    return error_response(503, "read_only", str(exc))


async def _backend_handler(request: Request, exc: BackendUnavailableError) -> JSONResponse:
    return error_response(503, "backend_unavailable", str(exc), headers={"Retry-After": "5"})


async def _http_handler(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _STATUS_CODES.get(exc.status_code, "http_error")
    message = str(exc.detail)
    if exc.status_code == 404 and message == "Not Found":
        message = f"No route {request.method} {request.url.path}; the API is described at /docs."
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}; see /docs."
    elif exc.status_code == 400 and (unreadable := _unreadable_json(exc.__cause__)):
        message = unreadable
    response = error_response(exc.status_code, code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def _unreadable_json(cause: BaseException | None) -> str | None:
    """What to fix when FastAPI could not parse a JSON body for a reason other than its
    syntax (its own message is "There was an error parsing the body"), else None."""
    if isinstance(cause, RecursionError):
        return (
            "The request body's JSON is nested too deeply to read; send the documented "
            "objects (see /docs), a few levels deep."
        )
    if isinstance(cause, ValueError) and "digits" in str(cause):  # int(str) over its limit
        return (
            f"The request body holds a number with more than {MAX_JSON_INT_DIGITS} digits; "
            "send numbers of sensible size (long ids as strings)."
        )
    return None


async def _unhandled_handler(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:  # outside the index too
        logger.warning("disk full on %s %s: %s", request.method, request.url.path, exc)
        return error_response(
            507, "insufficient_storage", "The server's disk is full; free space and retry."
        )
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(
        500, "internal_error", f"Internal error ({type(exc).__name__}); see the server log."
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the JSON error handlers on ``app``."""
    # Each handler takes its own exception type; Starlette calls it only for that type.
    handlers: dict[type[Exception], Callable[[Request, Any], Awaitable[Response]]] = {
        RequestValidationError: _validation_handler,
        ApiError: _api_error_handler,
        RequestRejected: _rejected_handler,
        ArticleNotFoundError: _not_found_handler,
        ArticleFormatError: _article_format_handler,
        IndexMismatchError: _mismatch_handler,
        IndexLockedError: _locked_handler,
        ModelNotAvailableError: _model_handler,
        DiskFullError: _disk_full_handler,
        IndexReadOnlyError: _read_only_handler,
        BackendUnavailableError: _backend_handler,
        StarletteHTTPException: _http_handler,
        Exception: _unhandled_handler,
    }
    for exc_type, handler in handlers.items():
        app.add_exception_handler(exc_type, handler)
