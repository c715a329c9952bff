"""Helpline console: staff accounts and sessions, the append-only audit log, partner key
rotation (the previous key and when it stops working), partner activity per hour, and the
indexes of the overview's figures (cases per day, partner outcomes per day and per value).

The audit log refuses UPDATE and DELETE on both backends (a trigger raises): entries are only
ever added.

Revision: 0007
Revises: 0008
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

_APPEND_ONLY_POSTGRES: Final = (
    """
    CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_log is append-only';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
    """,
)
_APPEND_ONLY_SQLITE: Final = tuple(
    f"""
    CREATE TRIGGER audit_log_no_{what.lower()} BEFORE {what} ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
    """
    for what in ("UPDATE", "DELETE")
)


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=254), nullable=True),
        sa.Column("network", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"], unique=False)
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("setup_digest", sa.String(length=64), nullable=True),
        sa.Column("setup_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_email")),
        sa.UniqueConstraint("setup_digest", name=op.f("uq_staff_setup_digest")),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_staff_sessions_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_staff_sessions")),
    )
    op.create_index("ix_staff_sessions_staff_id", "staff_sessions", ["staff_id"], unique=False)
    op.create_table(
        "partner_activity",
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.Column("unauthorized", sa.Integer(), nullable=False),
        sa.Column("rate_limited", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_activity_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("partner_id", "hour", name=op.f("pk_partner_activity")),
    )
    op.create_index("ix_partner_activity_hour", "partner_activity", ["hour"], unique=False)
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_key_digest", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("previous_key_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("last_fetch_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_partners_previous_key_digest"), ["previous_key_digest"], unique=False
        )
    op.create_index("ix_cases_created_at", "cases", ["created_at"], unique=False)
    op.create_index("ix_cases_withdrawn_at", "cases", ["withdrawn_at"], unique=False)
    op.create_index("ix_feedback_updated_at", "feedback", ["updated_at", "value"], unique=False)
    op.create_index("ix_feedback_value_hash_id", "feedback", ["value", "hash_id"], unique=False)
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _APPEND_ONLY_POSTGRES if postgres else _APPEND_ONLY_SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_index("ix_feedback_value_hash_id", table_name="feedback")
    op.drop_index("ix_feedback_updated_at", table_name="feedback")
    op.drop_index("ix_cases_withdrawn_at", table_name="cases")
    op.drop_index("ix_cases_created_at", table_name="cases")
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partners_previous_key_digest"))
        batch_op.drop_column("last_fetch_at")
        batch_op.drop_column("previous_key_expires_at")
        batch_op.drop_column("previous_key_digest")
    op.drop_index("ix_partner_activity_hour", table_name="partner_activity")
    op.drop_table("partner_activity")
    op.drop_index("ix_staff_sessions_staff_id", table_name="staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_table("staff")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")  # drops its SQLite triggers too
