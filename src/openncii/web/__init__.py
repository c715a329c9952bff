"""The web app for people at risk: static pages and browser-side hashing (plain ES modules).

Nothing here runs on the server but file serving: ``STATIC_DIR`` is mounted at ``/`` by
``openncii.api.create_app``; ``DOCS_DIR`` holds what the API docs page (``/docs``) adds to the
Swagger UI installed from PyPI (its start-up script).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

__all__ = ["DOCS_DIR", "STATIC_DIR"]

#: Folder of the static files (HTML, JS modules, CSS, language catalogues).
STATIC_DIR: Final = Path(__file__).resolve().parent / "static"
#: Our files of the API docs page (served under ``/docs/assets/``).
DOCS_DIR: Final = Path(__file__).resolve().parent / "docs"
