"""A request-body size limit for both HTTP services, as pure ASGI middleware.

A body larger than the limit is refused with 413 and the error body of
:mod:`openncii.serving.errors`, whether its size is declared (``Content-Length``) or only
found while it streams in: reading stops at the limit, so memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

from openncii.serving.errors import error_body

__all__ = [
    "ASGIApp",
    "BodyLimitMiddleware",
    "BodyTooLargeError",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "describe_size",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_KIB: Final = 1024
_MIB: Final = 1024**2
_GIB: Final = 1024**3


def describe_size(size: int) -> str:
    """A byte count for people: ``256 KB``, ``8 MB``, ``2 GB`` (binary units)."""
    if size < _MIB:
        return f"{size // _KIB} KB"
    if size < _GIB:
        return f"{size / _MIB:.4g} MB"
    return f"{size / _GIB:.4g} GB"


class BodyTooLargeError(Exception):
    """Raised into the application when its request body streams past the limit (the 413 has
    been sent by then: whatever the application answers afterwards is dropped)."""


class BodyLimitMiddleware:
    """Refuse request bodies larger than ``max_bytes`` with 413, declared or streamed.

    ``max_bytes`` is a number, or a function of the request's ASGI scope (a service may allow
    uploads more than JSON). ``on_refused(scope)``, if given, is called for each refusal (the
    application never sees a body refused by its declared size).
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int | Callable[[Scope], int],
        on_refused: Callable[[Scope], None] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.on_refused = on_refused

    def limit(self, scope: Scope) -> int:
        """The largest body allowed for this request."""
        return self.max_bytes(scope) if callable(self.max_bytes) else self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope)
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await self._refuse(
                        scope, send, 400, "The Content-Length header is not a number."
                    )
                    return
                if declared > limit:
                    await self._refuse(scope, send, 413, _message(limit))
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
                if received > limit:
                    # Answer now: the app may turn the exception below into its own error.
                    if not started and not refused:
                        refused = True
                        await self._refuse(scope, send, 413, _message(limit))
                    raise BodyTooLargeError
            return message

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLargeError:
            if not started and not refused:
                await self._refuse(scope, send, 413, _message(limit))

    async def _refuse(self, scope: Scope, send: Send, status: int, detail: str) -> None:
        if self.on_refused is not None:
            self.on_refused(scope)
        code = "body_too_large" if status == 413 else "bad_request"
        body = error_body(detail, code)
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


def _message(limit: int) -> str:
    return f"The request body is larger than {describe_size(limit)}."
