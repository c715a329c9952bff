"""Alembic migrations of the OpenNCII database, shipped inside the package."""
