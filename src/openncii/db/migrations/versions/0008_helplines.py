"""Helplines: the local helplines shown, per language, to people this service cannot help.

Operators keep the list with ``openncii helplines``; this migration ships public helplines of
the Netherlands, Belgium, France and the United Kingdom (their public web sites, checked when
written; see docs/helplines.md).

Revision: 0008
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

#: (country, language, name, url, phone) of the helplines shipped.
SHIPPED = (
    ("NL", "nl", "Helpwanted", "https://www.helpwanted.nl/", "020 261 52 75"),
    ("BE", "nl", "Instituut voor de gelijkheid van vrouwen en mannen",
     "https://igvm-iefh.belgium.be/nl", None),
    ("BE", "fr", "Institut pour l'égalité des femmes et des hommes",
     "https://igvm-iefh.belgium.be/fr", None),
    ("FR", "fr", "3018 (e-Enfance)", "https://www.3018.fr/", "3018"),
    ("GB", "en", "Revenge Porn Helpline", "https://revengepornhelpline.org.uk/", "0345 6000 459"),
    ("NL", "en", "Helpwanted", "https://www.helpwanted.nl/en", "020 261 52 75"),
)  # fmt: skip


def upgrade() -> None:
    table = op.create_table(
        "helplines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_helplines")),
    )
    op.create_index(op.f("ix_helplines_language"), "helplines", ["language"], unique=False)
    op.bulk_insert(
        table,
        [
            {"country": c, "language": lang, "name": name, "url": url, "phone": phone}
            for c, lang, name, url, phone in SHIPPED
        ],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_helplines_language"), table_name="helplines")
    op.drop_table("helplines")
