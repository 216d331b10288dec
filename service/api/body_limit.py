"""Request bodies: the size limit (``VNQA_MAX_BODY_BYTES``, a JSON 413) and the UTF-8
check of JSON bodies (a JSON 400), both before the app reads the body."""

from __future__ import annotations

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.errors import error_response


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
            extra={"limit": {"setting": "VNQA_MAX_BODY_BYTES", "value": self.max_bytes}},
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

        body = b"".join(chunks)
        if _is_json(headers.get(b"content-type")) and (bad := _utf8_error(body)) is not None:
            await error_response(400, "invalid_encoding", bad)(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _is_json(content_type: bytes | None) -> bool:
    """True for ``application/json`` and ``application/*+json`` (and a missing type,
    which FastAPI also parses as JSON)."""
    if content_type is None:
        return True
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (
        media.startswith(b"application/") and media.endswith(b"+json")
    )


def _utf8_error(body: bytes) -> str | None:
    """A message naming the first invalid byte when ``body`` is not UTF-8, else None."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return (
            f"The request body is not valid UTF-8 (byte offset {exc.start}: {exc.reason}). "
            "Send JSON encoded as UTF-8 (Content-Type: application/json; charset=utf-8); "
            "re-save files exported in Windows-1258 or VNI as UTF-8 first."
        )
    return None
