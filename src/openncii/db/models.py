"""SQLAlchemy 2 models of the case service and of the partner feed.

Table and column names, and the strings stored in them, are explicit constants: renaming a Python
attribute never changes the schema. Every schema change goes through an Alembic migration in
``openncii/db/migrations/versions``.

The feed (partner API) reads ``hashes``: one row per distinct (signal type, value), with
``feed_seq``, a number that grows with every change of the row. Writers take the single
``feed_clock`` row lock, bump it and stamp the rows they changed as their last statements, so feed
sequence numbers become visible in increasing order: a reader that has seen ``n`` will never later
find a row stamped below ``n``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

__all__ = [
    "CASE_ACTIVE",
    "CASE_STATUSES",
    "CASE_WITHDRAWN",
    "FEED_CLOCK_ID",
    "HASH_ACTIVE",
    "HASH_DISABLED",
    "HASH_WITHDRAWN",
    "ORGANISATION_ID",
    "STAFF_ADMIN",
    "STAFF_ANALYST",
    "STAFF_ROLES",
    "STATS_CHANGES",
    "AuditEntry",
    "Base",
    "Case",
    "CaseHash",
    "CaseNetwork",
    "DeniedHash",
    "DisabledHash",
    "FeedCheckpoint",
    "FeedClock",
    "FeedRecordCache",
    "Feedback",
    "HashRecord",
    "Helpline",
    "Organisation",
    "Partner",
    "PartnerActivity",
    "RateCounter",
    "ServerSecret",
    "Staff",
    "StaffSession",
    "StatsCaseOutcome",
    "StatsCount",
    "StatsHashOutcome",
    "UTCDateTime",
]

# Stored values. Never derived from class names. (The signal types' storage keys, stored in
# ``hashes.signal_type``, are those of openncii.signals.registry.)
CASE_ACTIVE: Final = "active"
CASE_WITHDRAWN: Final = "withdrawn"
CASE_STATUSES: Final = (CASE_ACTIVE, CASE_WITHDRAWN)

HASH_ACTIVE: Final = "active"
HASH_WITHDRAWN: Final = "withdrawn"
#: Disabled by the helpline after review (table ``disabled_hashes``): the feed sends ``Deleted``.
HASH_DISABLED: Final = "disabled"

#: Roles of helpline staff (console): ``admin`` may do everything, ``analyst`` reads and reviews.
STAFF_ADMIN: Final = "admin"
STAFF_ANALYST: Final = "analyst"
STAFF_ROLES: Final = (STAFF_ADMIN, STAFF_ANALYST)

#: Primary key of the one row of ``feed_clock``.
FEED_CLOCK_ID: Final = 1

_NAMING: Final = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention (stable constraint names in migrations)."""

    metadata = MetaData(naming_convention=_NAMING)


class Case(Base):
    """A person's case: hashes submitted together, reachable with the case number and PIN."""

    __tablename__ = "cases"
    __table_args__ = (
        # The console's overview counts cases per day (migration 0007).
        Index("ix_cases_created_at", "created_at"),
        Index("ix_cases_withdrawn_at", "withdrawn_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The 12 symbols of the case number, without separators (unique, random).
    number: Mapped[str] = mapped_column(String(32), unique=True)
    #: argon2id hash of the PIN (PHC string). The PIN itself is never stored.
    pin_hash: Mapped[str] = mapped_column(String(255))
    #: Opaque reference shown to partners instead of the case number (unique, random).
    partner_ref: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=CASE_ACTIVE)
    language: Mapped[str | None] = mapped_column(String(35), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    hashes: Mapped[list[CaseHash]] = relationship(
        back_populates="case", order_by="CaseHash.position"
    )


class HashRecord(Base):
    """One distinct hash as the partner feed carries it, shared by every case that holds it."""

    __tablename__ = "hashes"
    __table_args__ = (
        UniqueConstraint("signal_type", "value", name="uq_hashes_signal_value"),
        # Keyset pagination of the partner feed: ORDER BY feed_seq, id (migration 0002).
        Index("ix_hashes_feed_position", "feed_seq", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The storage key of the signal type (:mod:`openncii.signals.registry`).
    signal_type: Mapped[str] = mapped_column(String(16))
    #: Lowercase hex: the PDQ or MD5 value; for vPDQ the SHA-256 of the canonical signature.
    value: Mapped[str] = mapped_column(String(64))
    #: vPDQ only: the canonical signature (one ``frame,quality,pdq,timestamp`` line per frame).
    payload: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(String(16), default=HASH_ACTIVE)
    #: Position of the row's last change in the feed (see the module docstring).
    feed_seq: Mapped[int] = mapped_column(BigInteger, index=True, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class CaseHash(Base):
    """Membership of a hash in a case, with the quality the person's device reported."""

    __tablename__ = "case_hashes"
    __table_args__ = (Index("ix_case_hashes_hash_id", "hash_id"),)

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    hash_id: Mapped[int] = mapped_column(
        ForeignKey("hashes.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer)
    quality: Mapped[int | None] = mapped_column(Integer, default=None)
    #: The photo a hash came from (robust matching enrols several per photo): the position of
    #: its entry in the submission; ``None`` for a video's hashes and cases older than 0006.
    photo: Mapped[int | None] = mapped_column(Integer, default=None)

    case: Mapped[Case] = relationship(back_populates="hashes")
    hash: Mapped[HashRecord] = relationship()


class FeedClock(Base):
    """A single row whose lock orders every change of the feed (see the module docstring)."""

    __tablename__ = "feed_clock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class FeedCheckpoint(Base):
    """A ``nextSetTimestamp`` handed to partners and the feed position it stands for.

    ``ts`` looks like Unix seconds (clients show it as a time) and grows with ``seq``; resuming
    from ``ts`` returns exactly the rows stamped after ``seq`` (see :mod:`openncii.feed.cursor`).
    """

    __tablename__ = "feed_checkpoints"

    ts: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)


class FeedRecordCache(Base):
    """A hash's feed record as partners receive it (JSON), valid while ``feed_seq`` matches.

    Every change of a record restamps ``hashes.feed_seq``, so the record is a function of
    (``hash_id``, ``feed_seq``). PostgreSQL only: rebuilt by a trigger when a transaction that
    changed the hash commits (migration 0004); read by :mod:`openncii.feed.pages`.
    """

    __tablename__ = "feed_record_cache"

    #: ``hashes.id`` without a foreign key: the per-row check would double the cost of filling
    #: the cache; the retention purge deletes a hash's entry with the hash.
    hash_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    feed_seq: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[str] = mapped_column(Text)


class Partner(Base):
    """A participating company. Its API key is stored only as a SHA-256 digest."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Public name (shown to people and, as the feedback source, to other partners).
    name: Mapped[str] = mapped_column(String(100), unique=True)
    key_digest: Mapped[str] = mapped_column(String(64), unique=True)
    #: Whether the helpline allowed this partner to contribute hashes (partner API).
    can_submit: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: The key replaced by the last rotation, accepted until ``previous_key_expires_at``.
    previous_key_digest: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    previous_key_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: The last page of the feed served to the partner.
    last_fetch_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class Helpline(Base):
    """A local helpline shown to people this service cannot help, in their language.

    The helpline running the service keeps this list (``openncii helplines``); migration 0008
    ships public helplines of the Netherlands, Belgium, France and the United Kingdom.
    """

    __tablename__ = "helplines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: ISO 3166-1 alpha-2 code of the country it serves (``NL``, ``GB``).
    country: Mapped[str] = mapped_column(String(2))
    #: Language code of the page version it is shown in (``nl``, ``fr``, ``en``).
    language: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(500))
    phone: Mapped[str | None] = mapped_column(String(40), default=None)


#: The id of the one row of ``organisation`` (migration 0010 makes it).
ORGANISATION_ID: Final = 1


class Organisation(Base):
    """The organisation running the service, as the pages for people name it: one row
    (:data:`ORGANISATION_ID`), kept in the console's Settings. A column left empty (NULL) is
    not shown anywhere."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200), default=None)
    #: The helpline's contact for people: phone (as written), e-mail, web address (https).
    phone: Mapped[str | None] = mapped_column(String(40), default=None)
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    url: Mapped[str | None] = mapped_column(String(500), default=None)
    #: Its privacy policy (https).
    privacy_url: Mapped[str | None] = mapped_column(String(500), default=None)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: The e-mail of the staff member who changed it last (``None``: never changed).
    updated_by: Mapped[str | None] = mapped_column(String(254), default=None)


class Feedback(Base):
    """A partner's latest outcome for one hash (``PendingReview``, ``Blocked``, ...)."""

    __tablename__ = "feedback"
    __table_args__ = (
        # The console's overview: outcomes per day, hashes per outcome (migration 0007).
        Index("ix_feedback_updated_at", "updated_at", "value"),
        Index("ix_feedback_value_hash_id", "value", "hash_id"),
    )

    hash_id: Mapped[int] = mapped_column(
        ForeignKey("hashes.id", ondelete="CASCADE"), primary_key=True
    )
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[str] = mapped_column(String(32))
    #: JSON list of the partner's tags.
    tags: Mapped[str] = mapped_column(Text, default="[]")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    partner: Mapped[Partner] = relationship()


class RateCounter(Base):
    """Counts in fixed windows: requests per client (an HMAC of its address, never the
    address) and PIN tries per client and case number or per case number (HMACs too)."""

    __tablename__ = "rate_counters"
    __table_args__ = (Index("ix_rate_counters_window_start", "window_start"),)

    bucket: Mapped[str] = mapped_column(String(32), primary_key=True)
    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class ServerSecret(Base):
    """Random secrets made once per installation and shared by every worker."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PartnerActivity(Base):
    """What one partner did in one hour: feed pages and records fetched, requests refused 401."""

    __tablename__ = "partner_activity"
    __table_args__ = (Index("ix_partner_activity_hour", "hour"),)

    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True
    )
    #: Start of the hour, Unix seconds.
    hour: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    records: Mapped[int] = mapped_column(BigInteger, default=0)
    unauthorized: Mapped[int] = mapped_column(Integer, default=0)


class Staff(Base):
    """A helpline staff member who signs in to the console (password + TOTP)."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Lowercased e-mail address (the sign-in name).
    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    #: argon2id PHC string; ``None`` until the set-up link was used.
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    #: TOTP secret (base32). Written with the set-up link, confirmed by the first valid code.
    totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    #: The last TOTP time step accepted (a code is never accepted twice).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, default=None)
    #: SHA-256 of the one-time set-up token, while a set-up is pending.
    setup_digest: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    setup_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class StaffSession(Base):
    """A signed-in console session. The cookie holds a random token; only its digest is here."""

    __tablename__ = "staff_sessions"
    __table_args__ = (Index("ix_staff_sessions_staff_id", "staff_id"),)

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    #: The CSRF token every state-changing request of this session must carry.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """One staff action or sign-in attempt. Append-only: rows are never updated or deleted."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The staff member's e-mail as it was then (``None``: nobody signed in, e.g. the shell).
    actor: Mapped[str | None] = mapped_column(String(254), default=None)
    action: Mapped[str] = mapped_column(String(64))
    #: What the action was about (a partner's name, a staff e-mail, a hash's first 8 hex digits).
    target: Mapped[str | None] = mapped_column(String(254), default=None)
    #: The client's network (IPv4 /24, IPv6 /48), or ``shell``.
    network: Mapped[str | None] = mapped_column(String(64), default=None)
    #: Free text for people (a reason, a grace period); never a PIN, image or full hash.
    detail: Mapped[str | None] = mapped_column(Text, default=None)


class CaseNetwork(Base):
    """The client network a case was opened from, for the console's hash review (bursts of
    cases from one network): an HMAC of the network (IPv4 /24, IPv6 /48) with the installation
    secret, never the address. Kept for a limited time (:mod:`openncii.review`)."""

    __tablename__ = "case_networks"
    __table_args__ = (
        Index("ix_case_networks_network", "network", "created_at"),
        Index("ix_case_networks_created_at", "created_at"),
        # The bursts only (few rows): where the review queue starts (migration 0013).
        Index(
            "ix_case_networks_burst",
            "network",
            "created_at",
            sqlite_where=text("burst = 1"),
            postgresql_where=text("burst"),
        ),
    )

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    network: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: One of a burst of cases from this network (:mod:`openncii.cases.bursts`), flagged when a
    #: case is stored (migration 0013).
    burst: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class DeniedHash(Base):
    """A hash the helpline's staff put on the deny-list: no case may hold it (a PDQ hash: nor
    anything within the match threshold of it), beside the shipped list and its extra file."""

    __tablename__ = "denied_hashes"
    __table_args__ = (UniqueConstraint("signal_type", "value", name="uq_denied_hashes_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: ``pdq`` for every PDQ hash (of any kind: matched by distance), else the storage key.
    signal_type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    #: The staff member's e-mail as it was then.
    added_by: Mapped[str | None] = mapped_column(String(254), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DisabledHash(Base):
    """A hash the helpline disabled after review (``hashes.status`` is ``disabled`` while the
    row exists). The hashes of one photo are disabled together: ``chosen_hash_id`` is the one
    the reviewer chose, and re-enabling it re-enables them all."""

    __tablename__ = "disabled_hashes"
    __table_args__ = (Index("ix_disabled_hashes_chosen_hash_id", "chosen_hash_id"),)

    hash_id: Mapped[int] = mapped_column(
        ForeignKey("hashes.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    chosen_hash_id: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    disabled_by: Mapped[str | None] = mapped_column(String(254), default=None)
    disabled_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StatsCount(Base):
    """A rollup of the console's figures (:mod:`openncii.stats.rollups`): one figure's count on
    one day (or :data:`~openncii.stats.rollups.NO_DAY`) for one key (migration 0011)."""

    __tablename__ = "stats_counts"

    figure: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    key_a: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_b: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)


#: Changes of the rollups, added by triggers (``+1``/``-1`` rows; no key: rows are only ever
#: inserted by writers, and moved into ``stats_counts`` by :func:`openncii.stats.rollups.compact`).
STATS_CHANGES: Final = Table(
    "stats_changes",
    Base.metadata,
    Column("figure", String(16), nullable=False),
    Column("day", Date, nullable=False),
    Column("key_a", String(64), nullable=False),
    Column("key_b", String(64), nullable=False),
    Column("count", BigInteger, nullable=False),
    Index("ix_stats_changes_figure_day", "figure", "day"),
)


class StatsHashOutcome(Base):
    """A hash that has a partner outcome (``PendingReview``, ``Blocked``, ``NotBlocked``), kept
    by triggers for the removal rate (migration 0011)."""

    __tablename__ = "stats_hash_outcomes"
    __table_args__ = (Index("ix_stats_hash_outcomes_matching", "matching"),)

    hash_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    blocked: Mapped[int] = mapped_column(Integer)
    with_outcome: Mapped[int] = mapped_column(Integer)
    #: Partners reporting a match (``PendingReview``, ``Blocked``) for the hash (migration
    #: 0012: the review queue's ``frequent_match``).
    matching: Mapped[int] = mapped_column(Integer, server_default="0")


class StatsCaseOutcome(Base):
    """Seconds from a case's creation to the first partner outcome on any of its hashes, kept by
    triggers for the overview's percentiles (migration 0011)."""

    __tablename__ = "stats_case_outcomes"
    __table_args__ = (Index("ix_stats_case_outcomes_bucket_seconds", "bucket", "seconds", "day"),)

    case_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: The UTC day the case was created.
    day: Mapped[date] = mapped_column(Date)
    seconds: Mapped[float] = mapped_column(Double)
    #: The duration's bucket (:mod:`openncii.stats.rollups`).
    bucket: Mapped[int] = mapped_column(Integer)


class ReviewNearDenied(Base):
    """A PDQ hash (of any kind) within the match threshold of a deny-list entry: the review
    queue's ``near_denied`` reason, stored when the entry is added (:mod:`openncii.review.near`,
    migration 0012). ``source`` is ``shipped`` (the shipped list and its extra file) or
    ``helpline`` (``denied_hashes``); ``entry`` the entry's hex value."""

    __tablename__ = "review_near_denied"
    __table_args__ = (Index("ix_review_near_denied_hash_id", "hash_id"),)

    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    entry: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: (The flags of a hash go with it: the retention purge.)
    hash_id: Mapped[int] = mapped_column(
        ForeignKey("hashes.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    distance: Mapped[int] = mapped_column(Integer)


class ReviewScan(Base):
    """The fingerprint of what a set of stored review flags was computed with (``name``:
    ``shipped``, the shipped deny-list of the ``review_near_denied`` rows; ``bursts``, the rule
    of ``case_networks.burst``): the flags are computed again when it changes
    (:mod:`openncii.review.scans`)."""

    __tablename__ = "review_scans"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
