"""Rollups of the console's figures, kept by triggers in the transactions that change what
they count (see :mod:`openncii.stats.rollups`): ``stats_changes`` (``+1``/``-1`` rows added by
the triggers), ``stats_counts`` (their sums), ``stats_hash_outcomes`` (hashes with a partner
outcome) and ``stats_case_outcomes`` (each case's time to its first partner outcome). The
rollups of an existing bank are computed here.

``partner_activity.rate_limited`` goes: the partner API limits no rate (it never answers 429),
so the column only ever held zeros.

Revision: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from openncii.stats.rollups import drop_trigger_statements, rebuild, trigger_statements

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def _dialect() -> str:
    return "postgresql" if op.get_bind().dialect.name == "postgresql" else "sqlite"


def upgrade() -> None:
    op.create_table(
        "stats_counts",
        sa.Column("figure", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key_a", sa.String(length=64), nullable=False),
        sa.Column("key_b", sa.String(length=64), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("figure", "day", "key_a", "key_b", name=op.f("pk_stats_counts")),
    )
    op.create_table(
        "stats_changes",
        sa.Column("figure", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key_a", sa.String(length=64), nullable=False),
        sa.Column("key_b", sa.String(length=64), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_stats_changes_figure_day", "stats_changes", ["figure", "day"])
    op.create_table(
        "stats_hash_outcomes",
        sa.Column("hash_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("blocked", sa.Integer(), nullable=False),
        sa.Column("with_outcome", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hash_id", name=op.f("pk_stats_hash_outcomes")),
    )
    op.create_table(
        "stats_case_outcomes",
        sa.Column("case_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("seconds", sa.Double(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_stats_case_outcomes")),
    )
    op.create_index(
        "ix_stats_case_outcomes_bucket_seconds",
        "stats_case_outcomes",
        ["bucket", "seconds", "day"],
    )
    with op.batch_alter_table("partner_activity") as batch_op:
        batch_op.drop_column("rate_limited")
    dialect = _dialect()
    for statement in trigger_statements(dialect, matching=False):  # type: ignore[arg-type]
        op.execute(statement)
    rebuild(op.get_bind(), matching=False)


def downgrade() -> None:
    for statement in drop_trigger_statements(_dialect()):  # type: ignore[arg-type]
        op.execute(statement)
    op.drop_index("ix_stats_case_outcomes_bucket_seconds", table_name="stats_case_outcomes")
    op.drop_table("stats_case_outcomes")
    op.drop_table("stats_hash_outcomes")
    op.drop_index("ix_stats_changes_figure_day", table_name="stats_changes")
    op.drop_table("stats_changes")
    op.drop_table("stats_counts")
    with op.batch_alter_table("partner_activity") as batch_op:
        batch_op.add_column(
            sa.Column("rate_limited", sa.Integer(), nullable=False, server_default="0")
        )
