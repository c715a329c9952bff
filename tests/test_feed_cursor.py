"""nextSetTimestamp checkpoints: seconds-like, strictly increasing, exact, bounded lead."""

from __future__ import annotations

from typing import Any

import pytest

from openncii.errors import PartnerRequestError
from openncii.feed.cursor import (
    MAX_LEAD_SECONDS,
    Start,
    issue_checkpoint,
    purge_checkpoints,
    resolve_start,
)

NOW = 1_800_000_000


def _issue(sessions: Any, seq: int, base: int, now: int = NOW) -> int:
    with sessions() as session, session.begin():
        return issue_checkpoint(session, seq, base, now)


def _resolve(sessions: Any, start: int, now: int = NOW) -> Start:
    with sessions() as session, session.begin():
        return resolve_start(session, start, now)


def test_checkpoints_are_the_current_second_and_stand_for_exact_positions(
    db_sessions: Any,
) -> None:
    assert _resolve(db_sessions, 10) == Start(10, 0)  # before any checkpoint: from the start
    first = _issue(db_sessions, 5, 10)
    assert first == NOW
    assert _issue(db_sessions, 5, 10) == NOW  # same position, same value
    # A second position in the same second gets the next value (ahead of the clock by 1 s).
    second = _issue(db_sessions, 9, first)
    assert second == NOW + 1
    assert _resolve(db_sessions, first) == Start(first, 5)
    assert _resolve(db_sessions, second) == Start(second, 9)
    # Values we did not issue are rounded down to the checkpoint at or before them.
    assert _resolve(db_sessions, NOW + 30) == Start(second, 9)
    assert _resolve(db_sessions, NOW - 1) == Start(NOW - 1, 0)
    # Later, the clock leads again.
    assert _issue(db_sessions, 12, second, now=NOW + 100) == NOW + 100


def test_the_lead_over_the_clock_is_bounded(db_sessions: Any) -> None:
    base = 10
    for seq in range(1, MAX_LEAD_SECONDS + 2):
        base = _issue(db_sessions, seq, base)
    assert base == NOW + MAX_LEAD_SECONDS
    # No new value beyond the bound: the fetch answers where it started (a safe repeat).
    assert _issue(db_sessions, 1000, base) == base
    assert _resolve(db_sessions, base).seq == MAX_LEAD_SECONDS + 1


def test_an_older_position_never_gets_a_newer_value(db_sessions: Any) -> None:
    assert _issue(db_sessions, 50, 10) == NOW
    assert _issue(db_sessions, 40, 10) == 10  # its own start: repeats, never a gap


def test_future_start_is_refused(db_sessions: Any) -> None:
    with pytest.raises(PartnerRequestError, match="future"):
        _resolve(db_sessions, NOW + 5)
    issued = _issue(db_sessions, 3, 10)
    issued = _issue(db_sessions, 4, issued)  # NOW + 1: ahead of the clock, but ours
    assert _resolve(db_sessions, issued) == Start(issued, 4)


def test_purge_keeps_the_newest_checkpoint(db_sessions: Any) -> None:
    a = _issue(db_sessions, 1, 10, now=NOW)
    b = _issue(db_sessions, 2, a, now=NOW + 10)
    with db_sessions() as session, session.begin():
        assert purge_checkpoints(session, NOW + 1000) == 1
    assert _resolve(db_sessions, b) == Start(b, 2)
    assert _resolve(db_sessions, a) == Start(a, 0)  # forgotten: from the start (repeats only)
