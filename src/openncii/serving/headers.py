"""The response headers both HTTP services add to every answer, as pure ASGI middleware.

- The security headers of :data:`SECURITY_HEADERS` (a strict Content-Security-Policy, no
  sniffing, no referrer, no framing, a ``Permissions-Policy`` that turns off every device
  feature), on every answer, static files and error pages included. No answer sets a cookie,
  except under ``cookie_prefix`` when one is given (the case service's helpline console,
  ``/admin/``, whose answers are all ``no-store``).
- ``Cache-Control: no-store`` and ``Pragma: no-cache`` on every JSON answer: PINs, case states,
  hash values, partner feeds and errors are all JSON, so none of them is kept by a browser, a
  shared computer's cache or a proxy. Static pages and scripts keep their own caching.
- ``Strict-Transport-Security`` when the operator says the site is served over HTTPS
  (``OPENNCII_SERVED_OVER_HTTPS``; behind a reverse proxy that ends TLS, see
  ``docs/security.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from openncii.serving.limits import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "HSTS",
    "NO_STORE_HEADERS",
    "PERMISSIONS_POLICY",
    "SECURITY_HEADERS",
    "SecurityHeadersMiddleware",
]

#: Only our own origin. ``'wasm-unsafe-eval'`` lets the browser compile WebAssembly (libheif,
#: which reads HEIC photos on the device; served by us); it allows no JavaScript ``eval``.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
#: Every powerful feature off: the pages need none of them (the file picker needs no permission).
PERMISSIONS_POLICY: Final = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
)
#: Two years, the value HSTS preload lists ask for.
HSTS: Final = "max-age=63072000"
#: Headers added to every HTTP answer.
SECURITY_HEADERS: Final[tuple[tuple[bytes, bytes], ...]] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", PERMISSIONS_POLICY.encode()),
)
#: Headers added to every JSON answer (anything that may carry a PIN, a case state or a hash).
NO_STORE_HEADERS: Final[tuple[tuple[bytes, bytes], ...]] = (
    (b"cache-control", b"no-store"),
    (b"pragma", b"no-cache"),
)
_HSTS_HEADER: Final = (b"strict-transport-security", HSTS.encode())
_ALWAYS_REPLACED: Final = frozenset(name for name, _ in SECURITY_HEADERS) | {
    b"set-cookie",
    _HSTS_HEADER[0],
}
_NO_STORE_REPLACED: Final = frozenset(name for name, _ in NO_STORE_HEADERS)


def _is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name.lower() == b"content-type":
            media_type = value.split(b";", 1)[0].strip().lower()
            return media_type == b"application/json" or media_type.endswith(b"+json")
    return False


class SecurityHeadersMiddleware:
    """Add the headers described in the module to every HTTP answer; drop any ``Set-Cookie``
    except on the paths under ``cookie_prefix``.

    ``hsts``: also send ``Strict-Transport-Security`` (only when the site is served over HTTPS).
    ``policies``: a path (and everything under it) with a Content-Security-Policy of its own
    instead of :data:`CONTENT_SECURITY_POLICY` (the API docs page, say).
    """

    def __init__(
        self,
        app: ASGIApp,
        hsts: bool = False,
        policies: Mapping[str, str] | None = None,
        cookie_prefix: str | None = None,
    ) -> None:
        self.app = app
        self.cookie_prefix = cookie_prefix
        self.extra = SECURITY_HEADERS + ((_HSTS_HEADER,) if hsts else ())
        self.policies = {
            path: tuple(
                (name, policy.encode()) if name == b"content-security-policy" else (name, value)
                for name, value in self.extra
            )
            for path, policy in (policies or {}).items()
        }

    def _extra_for(self, path: str) -> tuple[tuple[bytes, bytes], ...]:
        for prefix, headers in self.policies.items():
            if path == prefix or path.startswith(prefix + "/"):
                return headers
        return self.extra

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        extra = self._extra_for(scope.get("path", ""))
        cookies = self.cookie_prefix is not None and f"{scope.get('path', '')}/".startswith(
            self.cookie_prefix
        )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                given = list(message.get("headers", []))
                no_store = cookies or _is_json(given)
                replaced = _ALWAYS_REPLACED | (_NO_STORE_REPLACED if no_store else frozenset())
                if cookies:
                    replaced -= {b"set-cookie"}
                headers = [(k, v) for k, v in given if k.lower() not in replaced]
                headers.extend(extra)
                if no_store:
                    headers.extend(NO_STORE_HEADERS)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
