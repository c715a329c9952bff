"""argon2id PIN hashing: the production defaults meet the OWASP minimum, and an unknown case
number costs the same time as a wrong PIN."""

from __future__ import annotations

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
