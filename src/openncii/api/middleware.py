"""Pure ASGI middleware of the case service: a quiet access log. (What both services share
lives in :mod:`openncii.serving`: the headers of every answer,
:class:`openncii.serving.headers.SecurityHeadersMiddleware`, and the body limit,
:class:`openncii.serving.limits.BodyLimitMiddleware`.)

A plain ASGI callable (not ``BaseHTTPMiddleware``) so that it streams, costs little and also
wraps the static files and the error pages.
"""

from __future__ import annotations

import logging
import time
from typing import Final

from openncii.serving.limits import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ACCESS_LOGGER", "AccessLogMiddleware"]

#: Name of the access logger (method, path, status, duration; no client address by default).
ACCESS_LOGGER: Final = "openncii.access"


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
