"""Pure ASGI middleware: security headers on every answer, a body limit and a quiet access log.

They are plain ASGI callables (not ``BaseHTTPMiddleware``) so that they stream, cost little and
also wrap the static files and the error pages.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

__all__ = [
    "ACCESS_LOGGER",
    "SECURITY_HEADERS",
    "AccessLogMiddleware",
    "BodyLimitMiddleware",
    "SecurityHeadersMiddleware",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Name of the access logger (method, path, status, duration; no client address by default).
ACCESS_LOGGER: Final = "openncii.access"

CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
#: Headers added to every HTTP answer. No answer ever sets a cookie.
SECURITY_HEADERS: Final[tuple[tuple[bytes, bytes], ...]] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
_REPLACED: Final = frozenset(name for name, _ in SECURITY_HEADERS) | {b"set-cookie"}


class SecurityHeadersMiddleware:
    """Add :data:`SECURITY_HEADERS` to every HTTP answer and drop any ``Set-Cookie``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() not in _REPLACED
                ]
                headers.extend(SECURITY_HEADERS)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimitMiddleware:
    """Refuse request bodies larger than ``max_bytes`` with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _too_large(send, "The Content-Length header is not a number.", 400)
                    return
                if declared > self.max_bytes:
                    await _too_large(send, self._message(), 413)
                    return
        received = 0
        started = False
        refused = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:  # we already answered 413: drop what the app says after the cut
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Answer now: the app may turn the exception below into its own error.
                    if not started and not refused:
                        refused = True
                        await _too_large(send, self._message(), 413)
                    raise _BodyTooLargeError
            return message

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _BodyTooLargeError:
            if not started and not refused:
                await _too_large(send, self._message(), 413)

    def _message(self) -> str:
        return f"The request body is larger than {self.max_bytes // 1024} KB."


class _BodyTooLargeError(Exception):
    pass


async def _too_large(send: Send, detail: str, status: int) -> None:
    code = "body_too_large" if status == 413 else "bad_request"
    body = json.dumps({"detail": detail, "code": code}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class AccessLogMiddleware:
    """One line per request: method, path (no query string), status, milliseconds.

    The client address is added only when ``log_client_ips`` is true. Bodies (PINs, hashes) and
    query strings are never logged.
    """

    def __init__(self, app: ASGIApp, log_client_ips: bool = False) -> None:
        self.app = app
        self.log_client_ips = log_client_ips
        self.logger = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            if self.logger.isEnabledFor(logging.INFO):
                elapsed_ms = (time.perf_counter() - start) * 1000
                path = scope.get("path", "")
                if self.log_client_ips and scope.get("client"):
                    self.logger.info(
                        "%s %s %s %d %.1fms",
                        scope["client"][0],
                        scope.get("method", ""),
                        path,
                        status,
                        elapsed_ms,
                    )
                else:
                    self.logger.info(
                        "%s %s %d %.1fms", scope.get("method", ""), path, status, elapsed_ms
                    )
