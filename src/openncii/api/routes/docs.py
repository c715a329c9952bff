"""``/docs``: the API docs (Swagger UI), served from this service only.

The Swagger UI files come from the ``swagger-ui-bundle-v2`` package (installed from PyPI with
the service), never from a CDN; the page starts it with a script file of ours (no inline
script). The page's Content Security Policy (:data:`DOCS_CONTENT_SECURITY_POLICY`, set by the
security-headers middleware for ``/docs`` and ``/docs/...``) allows scripts and styles from
this origin only, and each file is pinned by its Subresource Integrity digest.
"""

from __future__ import annotations

import base64
import hashlib
import html
from pathlib import Path
from typing import Final

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from openncii.errors import ConfigurationError
from openncii.web import DOCS_DIR

__all__ = ["DOCS_ASSETS_PATH", "DOCS_CONTENT_SECURITY_POLICY", "DOCS_PATH", "install_docs"]

DOCS_PATH: Final = "/docs"
DOCS_ASSETS_PATH: Final = "/docs/assets"
#: The docs page's policy: its scripts and styles are the files under /docs/assets (this
#: origin); images may be inline SVG (Swagger UI's icons); it fetches the OpenAPI document.
DOCS_CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
)
_SWAGGER_FILES: Final = ("swagger-ui.css", "swagger-ui-bundle.js")
_OUR_FILES: Final = ("openncii-docs.js",)
_MEDIA_TYPES: Final = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


def _swagger_dir() -> Path:
    try:
        import swagger_ui_bundle  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - a dependency of the package
        raise ConfigurationError(
            "The API docs need the swagger-ui-bundle-v2 package: pip install -e ."
        ) from None
    return Path(swagger_ui_bundle.swagger_ui_path)


def _integrity(path: Path) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()


def install_docs(app: FastAPI, openapi_url: str) -> None:
    """Serve the docs page at ``/docs`` and exactly its files under ``/docs/assets/``."""
    swagger = _swagger_dir()
    files = {name: swagger / name for name in _SWAGGER_FILES} | {
        name: DOCS_DIR / name for name in _OUR_FILES
    }
    integrity = {name: _integrity(path) for name, path in files.items()}

    def asset(name: str) -> str:
        return f'{DOCS_ASSETS_PATH}/{name}" integrity="{integrity[name]}" crossorigin="anonymous'

    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(app.title)} API</title>
<link rel="stylesheet" href="{asset("swagger-ui.css")}">
<script src="{asset("swagger-ui-bundle.js")}" defer></script>
<script src="{asset("openncii-docs.js")}" defer></script>
</head>
<body>
<main id="swagger-ui" data-openapi-url="{html.escape(openapi_url)}"></main>
</body>
</html>
"""

    async def docs_page(_request: Request) -> Response:
        return HTMLResponse(page)

    async def docs_asset(request: Request) -> Response:
        name = request.path_params["name"]
        path = files.get(name)
        if path is None:
            raise StarletteHTTPException(404, "No such file.")
        return FileResponse(path, media_type=_MEDIA_TYPES[path.suffix])

    app.add_route(DOCS_PATH, docs_page, methods=["GET"], include_in_schema=False)
    app.add_route(
        DOCS_ASSETS_PATH + "/{name}", docs_asset, methods=["GET"], include_in_schema=False
    )
