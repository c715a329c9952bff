"""Storage: SQLAlchemy models, engines and sessions, and the shipped Alembic migrations.

::

    engine = make_engine(settings.database_url)
    migrate(engine)
    sessions = make_session_factory(engine)
"""

from __future__ import annotations

from openncii.db.engine import is_sqlite, make_engine, make_session_factory
from openncii.db.migrate import current_revision, head_revision, migrate

__all__ = [
    "current_revision",
    "head_revision",
    "is_sqlite",
    "make_engine",
    "make_session_factory",
    "migrate",
]
