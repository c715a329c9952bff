"""The review queue's ``near_denied`` flags, stored (:mod:`openncii.review.near`):
``review_near_denied`` (hashes near a deny-list entry) and ``review_scans`` (the fingerprint of
the shipped list they were computed for: empty here, so the first queue read scans the bank
against the server's list once). The flags of the helpline's entries are computed here.

``stats_hash_outcomes.matching`` (partners reporting a match for the hash) and the ``matching``
figure join the rollups of migration 0011 (:mod:`openncii.stats.rollups`): the triggers are
made again with them and the rollups of an existing bank recomputed.

Revision: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from openncii.review.near import flag_helpline
from openncii.stats.rollups import drop_trigger_statements, rebuild, trigger_statements

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def _dialect() -> str:
    return "postgresql" if op.get_bind().dialect.name == "postgresql" else "sqlite"


def _drop_triggers() -> None:
    for statement in drop_trigger_statements(_dialect()):  # type: ignore[arg-type]
        op.execute(statement)


def _create_triggers(matching: bool) -> None:
    for statement in trigger_statements(_dialect(), matching=matching):  # type: ignore[arg-type]
        op.execute(statement)


def upgrade() -> None:
    _drop_triggers()  # (SQLite may copy the table)
    with op.batch_alter_table("stats_hash_outcomes") as batch_op:
        batch_op.add_column(sa.Column("matching", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_stats_hash_outcomes_matching", "stats_hash_outcomes", ["matching"])
    _create_triggers(matching=True)
    rebuild(op.get_bind())
    op.create_table(
        "review_near_denied",
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("entry", sa.String(length=64), nullable=False),
        sa.Column("hash_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("distance", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hash_id"],
            ["hashes.id"],
            name=op.f("fk_review_near_denied_hash_id_hashes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source", "entry", "hash_id", name=op.f("pk_review_near_denied")),
    )
    op.create_index("ix_review_near_denied_hash_id", "review_near_denied", ["hash_id"])
    op.create_table(
        "review_scans",
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_review_scans")),
    )
    op.execute("INSERT INTO review_scans (name, fingerprint) VALUES ('shipped', '')")
    flag_helpline(op.get_bind())


def downgrade() -> None:
    op.drop_table("review_scans")
    op.drop_index("ix_review_near_denied_hash_id", table_name="review_near_denied")
    op.drop_table("review_near_denied")
    _drop_triggers()  # (SQLite copies the table)
    op.execute("DELETE FROM stats_changes WHERE figure = 'matching'")
    op.execute("DELETE FROM stats_counts WHERE figure = 'matching'")
    op.drop_index("ix_stats_hash_outcomes_matching", table_name="stats_hash_outcomes")
    with op.batch_alter_table("stats_hash_outcomes") as batch_op:
        batch_op.drop_column("matching")
    _create_triggers(matching=False)
