"""The HTTP layer: FastAPI routers, dependencies and the mapping of domain errors to HTTP.

Only this package knows about HTTP; the domain services below it raise
:class:`openncii.errors.OpenNCIIError` subclasses.
"""

from __future__ import annotations

from openncii.api.app import create_app

__all__ = ["create_app"]
