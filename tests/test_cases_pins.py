"""argon2id PIN hashing: the production defaults meet the OWASP minimum, and an unknown case
number costs the same time as a wrong PIN."""

from __future__ import annotations

import os
import statistics
import time

import pytest

from openncii.cases.pins import Argon2Parameters, PinHasher
from openncii.settings import ARGON2_OWASP_MIN_MEMORY_KIB, Settings


def test_production_defaults_meet_the_owasp_minimum(tmp_path: object) -> None:
    params = Argon2Parameters.from_settings(Settings(database_url="sqlite:///x.sqlite3"))
    assert params == Argon2Parameters(time_cost=2, memory_kib=19 * 1024, parallelism=1)
    assert ARGON2_OWASP_MIN_MEMORY_KIB == 19456
    assert params.meets_owasp_minimum
    assert "m=19456 KiB (19 MiB), t=2, p=1" in params.describe()


def test_stored_hash_is_argon2id_with_the_configured_cost() -> None:
    hasher = PinHasher(Argon2Parameters(time_cost=2, memory_kib=19456, parallelism=1))
    stored = hasher.hash("12345678")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert "12345678" not in stored
    assert hasher.verify(stored, "12345678")
    assert not hasher.verify(stored, "12345679")
    assert not hasher.verify("not a hash", "12345678")
    assert hasher.hash("12345678") != stored  # salted
    assert not hasher.needs_rehash(stored)
    cheaper = PinHasher(Argon2Parameters(time_cost=1, memory_kib=64, parallelism=1))
    assert hasher.needs_rehash(cheaper.hash("12345678"))


def test_lower_costs_are_below_the_minimum() -> None:
    assert not Argon2Parameters(time_cost=1, memory_kib=19456, parallelism=1).meets_owasp_minimum
    assert not Argon2Parameters(time_cost=2, memory_kib=19455, parallelism=1).meets_owasp_minimum


@pytest.mark.slow
def test_unknown_case_costs_the_same_time_as_a_wrong_pin() -> None:
    """With production parameters, verifying against the dummy hash takes as long as a real
    verification (medians within 20 %), so response times do not reveal unknown cases.

    Timed in CPU time of this process, which other processes' load on a shared machine does not
    move (wall-clock medians did)."""
    hasher = PinHasher(Argon2Parameters(time_cost=2, memory_kib=19456, parallelism=1))
    stored = hasher.hash("12345678")
    real: list[float] = []
    dummy: list[float] = []
    for _ in range(15):
        start = time.process_time()
        hasher.verify(stored, "87654321")
        real.append(time.process_time() - start)
        start = time.process_time()
        hasher.verify_nothing("87654321")
        dummy.append(time.process_time() - start)
    ratio = statistics.median(dummy) / statistics.median(real)
    assert 0.8 < ratio < 1.25, (statistics.median(real), statistics.median(dummy))
    assert statistics.median(real) > 0.005  # it is real work, not a shortcut


def test_pin_slots_queue_a_bounded_number_and_refuse_the_rest_at_once() -> None:
    import threading

    from openncii.cases.pins import BUSY_RETRY_AFTER, PinSlots
    from openncii.errors import ServiceBusyError

    slots = PinSlots(workers=1, queue=1)
    computing = threading.Event()
    release = threading.Event()
    waited: list[bool] = []

    def first() -> None:
        with slots.admitted(), slots.running():
            computing.set()
            release.wait(10)

    def second() -> None:
        with slots.admitted(), slots.running():
            waited.append(release.is_set())  # got its turn only after the first finished

    threads = [threading.Thread(target=first)]
    threads[0].start()
    assert computing.wait(10)
    threads.append(threading.Thread(target=second))
    threads[1].start()
    deadline = time.monotonic() + 10
    while True:  # the second is admitted (queued) as soon as the third is refused
        try:
            with slots.admitted():
                pass
        except ServiceBusyError as refused:
            assert refused.retry_after == BUSY_RETRY_AFTER == 1
            break
        assert time.monotonic() < deadline
    release.set()
    for thread in threads:
        thread.join(10)
    assert waited == [True]
    with slots.admitted(), slots.running():  # everything was given back
        pass


def test_pin_slots_default_to_one_worker_per_core_and_four_waiting_each() -> None:
    import os

    from openncii.cases.pins import PinSlots

    slots = PinSlots()
    assert slots.workers == (os.cpu_count() or 1)
    assert slots.queue == 4 * slots.workers
    assert PinSlots(3, 0).queue == 0


#: A large server giving every core to PIN hashing (the default pool has one worker per core).
GENEROUS_CORES = 64
YEAR_SECONDS = 365.25 * 24 * 3600


def test_guessing_a_pin_takes_over_a_century_at_full_argon2_capacity() -> None:
    """The lockout design's arithmetic (docs/security.md), from the real parameters.

    16-digit PINs: no shared budget, so nothing limits a guesser with many addresses but the
    server's argon2 capacity. That capacity is measured here: one verification with the
    production parameters, in CPU time (the fastest of 5), on GENEROUS_CORES cores at once.
    8-digit PINs of older cases: the shared budget per case number is the limit, whatever
    the capacity. Expected work = half the PINs."""
    from openncii.cases.numbers import LEGACY_PIN_DIGITS, PIN_DIGITS

    settings = Settings(database_url="sqlite:///x.sqlite3")
    hasher = PinHasher(Argon2Parameters.from_settings(settings))
    stored = hasher.hash("1234567812345678")
    costs = []
    for _ in range(5):
        start = time.process_time()
        hasher.verify(stored, "8765432187654321")
        costs.append(time.process_time() - start)
    seconds_per_guess = min(costs)
    assert seconds_per_guess > 0.002  # real argon2id work (19 MiB, t=2), not a shortcut
    capacity = max(GENEROUS_CORES, os.cpu_count() or 1) / seconds_per_guess  # guesses/s
    new_years = 10**PIN_DIGITS / 2 / capacity / YEAR_SECONDS
    assert new_years >= 100, (seconds_per_guess, capacity, new_years)

    legacy_rate = settings.legacy_pin_tries / settings.legacy_pin_window_seconds  # guesses/s
    legacy_years = 10**LEGACY_PIN_DIGITS / 2 / legacy_rate / YEAR_SECONDS
    assert legacy_years >= 100, legacy_years
    assert round(legacy_years) == 190  # 5e7 guesses at 5 per 10 minutes
    # Independent of this machine: even at 1 ms per argon2id verification on 64 cores
    # (far faster than any CPU computes 19 MiB, t=2), 16 digits hold for over 2,000 years.
    assert 10**PIN_DIGITS / 2 / (GENEROUS_CORES / 0.001) / YEAR_SECONDS > 2000
