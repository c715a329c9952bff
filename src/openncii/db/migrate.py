"""Apply the shipped Alembic migrations (``openncii serve`` and the tests call :func:`migrate`)."""

from __future__ import annotations

from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

__all__ = [
    "MIGRATIONS_LOCATION",
    "alembic_config",
    "current_revision",
    "downgrade",
    "head_revision",
    "migrate",
]

#: Where the migration scripts live, as an importable package resource.
MIGRATIONS_LOCATION: Final = "openncii.db:migrations"


def alembic_config() -> Config:
    """An Alembic configuration pointing at the shipped scripts (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS_LOCATION)
    return config


def head_revision() -> str:
    """The newest revision shipped with this version of OpenNCII."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database behind ``engine`` to ``revision`` (idempotent)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Downgrade the database behind ``engine`` to ``revision`` (``base``: drop everything)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
