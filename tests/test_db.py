"""Storage: the shipped migrations build exactly the models' schema on both backends; SQLite
runs in WAL mode; engines refuse unusable URLs."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from openncii.db import current_revision, head_revision, make_engine, migrate
from openncii.db.migrate import downgrade
from openncii.db.models import Base
from openncii.errors import ConfigurationError


def test_migrations_match_the_models(fresh_database_url: str) -> None:
    engine = make_engine(fresh_database_url)
    try:
        assert current_revision(engine) is None
        migrate(engine)
        migrate(engine)  # idempotent
        assert current_revision(engine) == head_revision()
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
            clock = connection.execute(text("SELECT id, value FROM feed_clock")).all()
        assert differences == []
        assert [tuple(row) for row in clock] == [(1, 0)]
    finally:
        engine.dispose()


def test_migrations_go_down_and_up_again(fresh_database_url: str) -> None:
    engine = make_engine(fresh_database_url)
    try:
        migrate(engine)
        downgrade(engine, "base")
        assert current_revision(engine) is None
        migrate(engine)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "db.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert path.parent.is_dir()
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("not a url", "not a valid"),
        ("mysql://root@localhost/x", "unsupported database backend"),
        ("postgresql://postgres@127.0.0.1/test", "psycopg 3"),
        ("postgresql+psycopg2://postgres@127.0.0.1/test", "psycopg 3"),
    ],
)
def test_unusable_urls_are_configuration_errors(url: str, words: str) -> None:
    with pytest.raises(ConfigurationError, match=words):
        make_engine(url)


def test_sql_parameters_never_appear_in_errors(tmp_path: Path) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    try:
        with engine.connect() as connection, pytest.raises(SQLAlchemyError) as raised:
            connection.execute(text("SELECT * FROM missing WHERE pin = :pin"), {"pin": "13572468"})
        assert "13572468" not in str(raised.value)
    finally:
        engine.dispose()
