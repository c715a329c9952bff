"""Alembic environment: runs on the connection that :func:`openncii.db.migrate` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from openncii.db.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through openncii.db.migrate(), not the alembic CLI")
    _run(connection)


_main()
