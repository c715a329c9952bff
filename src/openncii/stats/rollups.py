"""Rollups of the console's figures, kept by the database in the transactions that change what
they count (no HTTP, no ORM sessions needed by the triggers).

Triggers (migration 0011, on SQLite and PostgreSQL) add *changes* to ``stats_changes``:
``+1``/``-1`` rows per figure, from the old and the new row of every insert, update and delete
of ``cases``, ``hashes`` and ``feedback``, so a write never updates a shared counter row (no
lock is taken that another writer waits for). :func:`compact` moves the changes into
``stats_counts`` (one row per figure, day and key) when the console reads the overview and with
the feed's hourly purge; a figure is the sum of both tables. The figures:

==================  ============  ==========================  =====================
figure              day           key_a                       key_b
==================  ============  ==========================  =====================
``opened``          created       ``''``                      ``''``
``withdrawn``       withdrawn     ``''``                      ``''``
``hashes``          (none)        signal type                 state
``outcomes``        given         partner id                  feedback value
``blocked``         (none)        ``''``                      ``''``
``with_outcome``    (none)        ``''``                      ``''``
``first_outcome``   created       bucket (see below)          ``''``
``matching``        (none)        partners reporting a match  ``''``
==================  ============  ==========================  =====================

Days are UTC; "(none)" is :data:`NO_DAY`. ``matching`` (migration 0012) counts the hashes by how
many partners report a match (``PendingReview`` or ``Blocked``; a partner keeps one outcome per
hash), held per hash in ``stats_hash_outcomes.matching``: the review queue's median and its
``frequent_match`` hashes (by the index on that column) come from them. ``blocked`` and
``with_outcome`` count hashes with a ``Blocked`` outcome / any outcome of :data:`OUTCOMES`; they
(and ``matching``, and the per-case times) are *recomputed* for the hashes and cases a change
touches: ``stats_hash_outcomes`` holds each hash's flags, ``stats_case_outcomes`` each case's
seconds from creation to its first partner outcome, and the change rows are the difference with
what was held. On PostgreSQL these recomputations are deferred to the commit (constraint
triggers), after the writer has stamped the hashes it changed (a row lock): of two transactions
touching one hash, the later one sees the earlier one's rows, so the figures stay exact under
concurrent writers. SQLite has one writer at a time.

The time to first outcome is a percentile over cases: ``stats_case_outcomes.bucket`` groups
the durations (an hour wide up to 48 hours, a day up to 60 days, 30 days beyond, mirrored for
negative durations: a case can hold a hash that partners had judged before), the
``first_outcome`` counts per day and bucket find the bucket of a rank, and an index on
``(bucket, seconds, day)`` finds the value in it.

:func:`rebuild` recomputes everything from the tables (migration 0011 fills the rollups of an
existing bank with it; ``bench/admin.py`` after a bulk load without triggers).
"""

# SQL text is built here from constants of this module only (no value from outside):
# ruff: noqa: S608

from __future__ import annotations

from typing import Final, Literal

from sqlalchemy import Connection, text

__all__ = [
    "MATCHED",
    "NO_DAY",
    "OUTCOMES",
    "compact",
    "drop_trigger_statements",
    "rebuild",
    "trigger_statements",
]

Dialect = Literal["sqlite", "postgresql"]

#: The partner outcomes the overview counts (StopNCII feedback values).
OUTCOMES: Final = ("PendingReview", "Blocked", "NotBlocked")
_OUTCOME_LIST: Final = ", ".join(f"'{v}'" for v in OUTCOMES)
#: The outcomes that report a match (the review queue's ``frequent_match``).
MATCHED: Final = ("PendingReview", "Blocked")
_MATCHING_SUM: Final = (
    "coalesce(sum(CASE WHEN value IN ("
    + ", ".join(f"'{v}'" for v in MATCHED)
    + ") THEN 1 ELSE 0 END), 0)"
)
#: The ``day`` of figures that have none.
NO_DAY: Final = "1970-01-01"


def _day(dialect: Dialect, column: str) -> str:
    """The UTC date of a timestamp column."""
    if dialect == "postgresql":
        return f"CAST(({column} AT TIME ZONE 'UTC') AS date)"
    return f"date({column})"


def _no_day(dialect: Dialect) -> str:
    return f"DATE '{NO_DAY}'" if dialect == "postgresql" else f"'{NO_DAY}'"


def _seconds(dialect: Dialect, later: str, earlier: str) -> str:
    if dialect == "postgresql":
        return f"CAST(extract(epoch FROM {later} - {earlier}) AS double precision)"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def _hours(dialect: Dialect, seconds: str) -> str:
    """Whole hours of a duration, truncated towards zero."""
    if dialect == "postgresql":
        return f"CAST(trunc({seconds} / 3600) AS bigint)"
    return f"CAST({seconds} / 3600 AS INTEGER)"


def _bucket(hours: str) -> str:
    """The bucket of a duration of ``hours`` whole hours (monotonic in the duration)."""
    h = hours
    return (
        f"CASE WHEN {h} <= -1440 THEN -106 - (-{h} - 1440) / 720 "
        f"WHEN {h} <= -48 THEN -48 - (-{h} - 48) / 24 "
        f"WHEN {h} < 48 THEN {h} "
        f"WHEN {h} < 1440 THEN 48 + ({h} - 48) / 24 "
        f"ELSE 106 + ({h} - 1440) / 720 END"
    )


def _change(figure: str, day: str, key_a: str, key_b: str, count: str, where: str = "") -> str:
    return (
        "INSERT INTO stats_changes (figure, day, key_a, key_b, count) "
        f"SELECT '{figure}', {day}, {key_a}, {key_b}, {count}{where}"
    )


def _first_outcomes(dialect: Dialect, cases: str | None) -> str:
    """``(case_id, day, seconds, bucket)`` of the cases ``cases`` (a subquery; ``None``: all)."""
    seconds = _seconds(dialect, "min(f.updated_at)", "c.created_at")
    only = "" if cases is None else f" AND c.id IN ({cases})"
    return (
        f"SELECT case_id, day, seconds, {_bucket('hours')} FROM ("
        f"SELECT case_id, day, seconds, {_hours(dialect, 'seconds')} AS hours FROM ("
        f"SELECT c.id AS case_id, {_day(dialect, 'c.created_at')} AS day, {seconds} AS seconds "
        "FROM cases c JOIN case_hashes ch ON ch.case_id = c.id "
        "JOIN feedback f ON f.hash_id = ch.hash_id "
        f"WHERE f.value IN ({_OUTCOME_LIST}){only} GROUP BY c.id, c.created_at) x) y"
    )


# --- what each trigger does, for the row ``row`` (NEW or OLD) counted with ``sign`` ----------


def _cases_counts(dialect: Dialect, row: str, sign: str) -> list[str]:
    return [
        _change("opened", _day(dialect, f"{row}.created_at"), "''", "''", sign),
        _change(
            "withdrawn",
            _day(dialect, f"{row}.withdrawn_at"),
            "''",
            "''",
            sign,
            f" WHERE {row}.withdrawn_at IS NOT NULL",
        ),
    ]


def _hashes_counts(dialect: Dialect, row: str, sign: str) -> list[str]:
    return [_change("hashes", _no_day(dialect), f"{row}.signal_type", f"{row}.status", sign)]


def _feedback_counts(dialect: Dialect, row: str, sign: str) -> list[str]:
    return [
        _change(
            "outcomes",
            _day(dialect, f"{row}.updated_at"),
            f"CAST({row}.partner_id AS VARCHAR(64))",
            f"{row}.value",
            sign,
        )
    ]


def _hash_flags(dialect: Dialect, hash_id: str, matching: bool) -> list[str]:
    """Recompute one hash's flags (and, with ``matching``, its partners reporting a match);
    count the difference."""
    flags = (
        "SELECT coalesce(max(CASE WHEN value = 'Blocked' THEN 1 ELSE 0 END), 0) AS blocked, "
        f"coalesce(max(CASE WHEN value IN ({_OUTCOME_LIST}) THEN 1 ELSE 0 END), 0) AS with_outcome"
        + (f", {_MATCHING_SUM} AS matching" if matching else "")
        + f" FROM feedback WHERE hash_id = {hash_id}"
    )
    found = f" FROM ({flags}) n LEFT JOIN stats_hash_outcomes o ON o.hash_id = {hash_id}"
    columns = "blocked, with_outcome" + (", matching" if matching else "")
    changes = [
        _change(
            flag,
            _no_day(dialect),
            "''",
            "''",
            f"n.{flag} - coalesce(o.{flag}, 0)",
            f"{found} WHERE n.{flag} <> coalesce(o.{flag}, 0)",
        )
        for flag in ("blocked", "with_outcome")
    ]
    if matching:
        differs = "n.matching <> coalesce(o.matching, 0)"
        changes += [
            _change(
                "matching",
                _no_day(dialect),
                "CAST(o.matching AS VARCHAR(64))",
                "''",
                "-1",
                f"{found} WHERE {differs} AND coalesce(o.matching, 0) > 0",
            ),
            _change(
                "matching",
                _no_day(dialect),
                "CAST(n.matching AS VARCHAR(64))",
                "''",
                "1",
                f"{found} WHERE {differs} AND n.matching > 0",
            ),
        ]
    return [
        *changes,
        f"DELETE FROM stats_hash_outcomes WHERE hash_id = {hash_id}",
        f"INSERT INTO stats_hash_outcomes (hash_id, {columns}) "
        f"SELECT {hash_id}, {columns} FROM ({flags}) n WHERE with_outcome = 1",
    ]


def _case_times(dialect: Dialect, cases: str) -> list[str]:
    """Recompute the first outcome of the cases ``cases`` (a subquery); count the difference."""
    held = f"FROM stats_case_outcomes WHERE case_id IN ({cases})"
    return [
        _change("first_outcome", "day", "CAST(bucket AS VARCHAR(64))", "''", "-1", f" {held}"),
        f"DELETE {held}",
        "INSERT INTO stats_case_outcomes (case_id, day, seconds, bucket) "
        + _first_outcomes(dialect, cases),
        _change("first_outcome", "day", "CAST(bucket AS VARCHAR(64))", "''", "1", f" {held}"),
    ]


def _feedback_recompute(dialect: Dialect, row: str, matching: bool) -> list[str]:
    return _hash_flags(dialect, f"{row}.hash_id", matching) + _case_times(
        dialect, f"SELECT case_id FROM case_hashes WHERE hash_id = {row}.hash_id"
    )


def _links_recompute(dialect: Dialect, row: str) -> list[str]:
    return _case_times(dialect, f"SELECT {row}.case_id")


# (name, table, UPDATE OF columns or None for any, statements of a row, deferred on PostgreSQL)
_TRIGGERS: Final = (
    ("stats_cases", "cases", "created_at, withdrawn_at", _cases_counts, False),
    ("stats_hashes", "hashes", "signal_type, status", _hashes_counts, False),
    ("stats_feedback", "feedback", None, _feedback_counts, False),
    ("stats_feedback_outcomes", "feedback", None, None, True),
    ("stats_case_hashes", "case_hashes", None, None, True),
)


def _row_statements(name: str, dialect: Dialect, row: str, sign: str, matching: bool) -> list[str]:
    if name == "stats_feedback_outcomes":
        return _feedback_recompute(dialect, row, matching)
    if name == "stats_case_hashes":
        return _links_recompute(dialect, row)
    for trigger, _table, _columns, counts, _deferred in _TRIGGERS:
        if trigger == name and counts is not None:
            return counts(dialect, row, sign)
    raise KeyError(name)


def trigger_statements(dialect: Dialect, *, matching: bool = True) -> list[str]:
    """The DDL of every rollup trigger (and, on PostgreSQL, their functions); without
    ``matching``, as migration 0011 made them (no ``stats_hash_outcomes.matching``)."""
    statements = []
    for name, table, columns, _counts, deferred in _TRIGGERS:
        update = "UPDATE" if columns is None else f"UPDATE OF {columns}"
        old = _row_statements(name, dialect, "OLD", "-1", matching)
        new = _row_statements(name, dialect, "NEW", "1", matching)
        if dialect == "postgresql":
            body = "\n".join(
                [
                    "BEGIN",
                    "IF TG_OP IN ('UPDATE', 'DELETE') THEN",
                    *(f"  {s};" for s in old),
                    "END IF;",
                    "IF TG_OP IN ('INSERT', 'UPDATE') THEN",
                    *(f"  {s};" for s in new),
                    "END IF;",
                    "RETURN NULL;",
                    "END",
                ]
            )
            statements.append(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n{body}\n$$"
            )
            kind = "CONSTRAINT TRIGGER" if deferred else "TRIGGER"
            timing = " DEFERRABLE INITIALLY DEFERRED" if deferred else ""
            statements.append(
                f"CREATE {kind} {name} AFTER INSERT OR DELETE OR {update} ON {table}{timing} "
                f"FOR EACH ROW EXECUTE FUNCTION {name}()"
            )
            continue
        for event, parts in (("insert", new), ("delete", old), ("update", old + new)):
            when = update if event == "update" else event.upper()
            body = " ".join(f"{s};" for s in parts)
            statements.append(
                f"CREATE TRIGGER {name}_{event} AFTER {when} ON {table} "
                f"FOR EACH ROW BEGIN {body} END"
            )
    return statements


def drop_trigger_statements(dialect: Dialect) -> list[str]:
    statements = []
    for name, table, _columns, _counts, _deferred in _TRIGGERS:
        if dialect == "postgresql":
            statements += [f"DROP TRIGGER {name} ON {table}", f"DROP FUNCTION {name}()"]
        else:
            statements += [f"DROP TRIGGER {name}_{e}" for e in ("insert", "delete", "update")]
    return statements


def _dialect(connection: Connection) -> Dialect:
    name = connection.dialect.name
    assert name in ("sqlite", "postgresql"), name
    return "postgresql" if name == "postgresql" else "sqlite"


def rebuild(connection: Connection, *, matching: bool = True) -> None:
    """Recompute every rollup from the tables, in the caller's transaction (run it while
    nothing else writes: the migration, or after a bulk load); without ``matching``, those of
    migration 0011."""
    dialect = _dialect(connection)
    no_day = _no_day(dialect)
    extra = ", matching" if matching else ""
    counts = "INSERT INTO stats_counts (figure, day, key_a, key_b, count) "
    opened, withdrawn, given = (
        _day(dialect, c) for c in ("created_at", "withdrawn_at", "updated_at")
    )
    for statement in (
        "DELETE FROM stats_changes",
        "DELETE FROM stats_counts",
        "DELETE FROM stats_hash_outcomes",
        "DELETE FROM stats_case_outcomes",
        f"{counts}SELECT 'opened', {opened}, '', '', count(*) FROM cases GROUP BY {opened}",
        f"{counts}SELECT 'withdrawn', {withdrawn}, '', '', count(*) FROM cases "
        f"WHERE withdrawn_at IS NOT NULL GROUP BY {withdrawn}",
        f"{counts}SELECT 'hashes', {no_day}, signal_type, status, count(*) FROM hashes "
        "GROUP BY signal_type, status",
        f"{counts}SELECT 'outcomes', {given}, CAST(partner_id AS VARCHAR(64)), value, count(*) "
        f"FROM feedback GROUP BY {given}, partner_id, value",
        f"INSERT INTO stats_hash_outcomes (hash_id, blocked, with_outcome{extra}) "
        "SELECT hash_id, max(CASE WHEN value = 'Blocked' THEN 1 ELSE 0 END), 1"
        f"{extra and ', ' + _MATCHING_SUM} FROM feedback "
        f"WHERE value IN ({_OUTCOME_LIST}) GROUP BY hash_id",
        f"{counts}SELECT 'blocked', {no_day}, '', '', count(*) FROM stats_hash_outcomes "
        "WHERE blocked = 1",
        f"{counts}SELECT 'with_outcome', {no_day}, '', '', count(*) FROM stats_hash_outcomes",
        "INSERT INTO stats_case_outcomes (case_id, day, seconds, bucket) "
        + _first_outcomes(dialect, None),
        f"{counts}SELECT 'first_outcome', day, CAST(bucket AS VARCHAR(64)), '', count(*) "
        "FROM stats_case_outcomes GROUP BY day, bucket",
        *(
            [
                f"{counts}SELECT 'matching', {no_day}, CAST(matching AS VARCHAR(64)), '', "
                "count(*) FROM stats_hash_outcomes WHERE matching > 0 GROUP BY matching"
            ]
            if matching
            else []
        ),
        "DELETE FROM stats_counts WHERE count = 0",
    ):
        connection.execute(text(statement))


_COMPACT_POSTGRES: Final = """
    WITH gone AS (DELETE FROM stats_changes RETURNING figure, day, key_a, key_b, count)
    INSERT INTO stats_counts (figure, day, key_a, key_b, count)
    SELECT figure, day, key_a, key_b, sum(count) FROM gone
    GROUP BY figure, day, key_a, key_b ORDER BY figure, day, key_a, key_b
    ON CONFLICT (figure, day, key_a, key_b)
    DO UPDATE SET count = stats_counts.count + excluded.count
"""
_COMPACT_SQLITE: Final = (
    # The INSERT takes SQLite's write lock: no change can come between the two statements.
    """
    INSERT INTO stats_counts (figure, day, key_a, key_b, count)
    SELECT figure, day, key_a, key_b, sum(count) FROM stats_changes WHERE true
    GROUP BY figure, day, key_a, key_b
    ON CONFLICT (figure, day, key_a, key_b)
    DO UPDATE SET count = stats_counts.count + excluded.count
    """,
    "DELETE FROM stats_changes",
)


def compact(connection: Connection) -> None:
    """Move the changes into the counts, in the caller's transaction (exact with concurrent
    writers: on PostgreSQL exactly the rows deleted are added; SQLite has one writer)."""
    if _dialect(connection) == "postgresql":
        connection.execute(text(_COMPACT_POSTGRES))
    else:
        for statement in _COMPACT_SQLITE:
            connection.execute(text(statement))
