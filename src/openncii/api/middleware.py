"""Pure ASGI middleware of the case service: security headers on every answer and a quiet
access log (the body limit, shared with the matcher service, is
:class:`openncii.serving.limits.BodyLimitMiddleware`).

They are plain ASGI callables (not ``BaseHTTPMiddleware``) so that they stream, cost little and
also wrap the static files and the error pages.
"""

from __future__ import annotations

import logging
import time
from typing import Final

from openncii.serving.limits import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "ACCESS_LOGGER",
    "SECURITY_HEADERS",
    "AccessLogMiddleware",
    "SecurityHeadersMiddleware",
]

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
